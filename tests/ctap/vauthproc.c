/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/prctl.h>
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

#define MAX_PROCS	16

static pid_t	live[MAX_PROCS];
static char	dirs[MAX_PROCS][200];

static int
can_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int)sizeof(sun.sun_path))
		return (0);
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
	char		 path[256];
	int		 n = 0, i;
	struct timespec	 ts = { 0, 20 * 1000 * 1000 };

	memset(v, 0, sizeof(*v));
	if (bin == NULL)
		bin = BINDIR "/vauth/vauth";
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
		/* never outlive the test */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(bin, (char *const *)(void *)argv);
		_exit(127);
	}
	for (i = 0; i < MAX_PROCS; i++)
		if (live[i] == 0) {
			live[i] = v->pid;
			snprintf(dirs[i], sizeof(dirs[i]), "%s", v->dir);
			break;
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

static void
forget(pid_t pid)
{
	int i;

	for (i = 0; i < MAX_PROCS; i++)
		if (live[i] == pid)
			live[i] = 0;
}

void
vauthproc_stop_all(void)
{
	char	cmd[300];
	int	i;

	for (i = 0; i < MAX_PROCS; i++) {
		if (live[i] == 0)
			continue;
		kill(live[i], SIGKILL);
		waitpid(live[i], NULL, 0);
		live[i] = 0;
		if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dirs[i]) <
		    (int)sizeof(cmd))
			(void)!system(cmd);
	}
}

void
vauthproc_stop(struct vauthproc *v)
{
	char cmd[300];

	forget(v->pid);
	if (v->pid > 0) {
		kill(v->pid, SIGTERM);
		waitpid(v->pid, NULL, 0);
		v->pid = 0;
	}
	if (v->dir[0] != '\0') {
		if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", v->dir) <
		    (int)sizeof(cmd))
			(void)!system(cmd);
		v->dir[0] = '\0';
	}
}
