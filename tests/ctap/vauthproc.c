/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vauthproc.h"

static int
can_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return (0);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);

	return (ok);
}

int
vauthproc_start(struct vauthproc *v, const char *const *extra)
{
	const char	*bin = getenv("VAUTH");
	const char	*argv[64];
	char		 path[300];
	int		 n = 0, i;
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };

	memset(v, 0, sizeof(*v));
	if (bin == NULL)
		bin = BINDIR "/ctap/vauth/vauth";
	snprintf(v->dir, sizeof(v->dir), "/tmp/prov-ctap-XXXXXX");
	if (mkdtemp(v->dir) == NULL)
		return (-1);
	snprintf(path, sizeof(path), "%s/key", v->dir);
	snprintf(v->sock, sizeof(v->sock), "unix:%s", path);
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = path;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	if ((v->pid = fork()) < 0)
		return (-1);
	if (v->pid == 0) {
		execv(bin, (char *const *)(void *)argv);
		_exit(127);
	}
	/* connecting consumes one accept; vauth serves the next one */
	for (i = 0; i < 500; i++) {
		if (can_connect(path))
			return (0);
		if (waitpid(v->pid, NULL, WNOHANG) == v->pid) {
			v->pid = 0;
			return (-1);
		}
		nanosleep(&ts, NULL);
	}

	return (-1);
}

void
vauthproc_stop(struct vauthproc *v)
{
	char cmd[300];

	if (v->pid > 0) {
		kill(v->pid, SIGTERM);
		waitpid(v->pid, NULL, 0);
		v->pid = 0;
	}
	if (v->dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir);
		(void)!system(cmd);
		v->dir[0] = '\0';
	}
}
