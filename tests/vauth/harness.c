/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int
vproc_init(struct vproc *vp)
{
	const char *tmp = getenv("TMPDIR");

	memset(vp, 0, sizeof(*vp));
	vp->pid = -1;
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 100)
		tmp = "/tmp";
	snprintf(vp->dir, sizeof(vp->dir), "%s/vauth-test.XXXXXX", tmp);
	if (mkdtemp(vp->dir) == NULL)
		return (-1);
	snprintf(vp->sock, sizeof(vp->sock), "%s/vauth.sock", vp->dir);

	return (0);
}

int
vproc_path(const struct vproc *vp, const char *name, char *out, size_t len)
{
	int n;

	n = snprintf(out, len, "%s/%s", vp->dir, name);

	return (n < 0 || (size_t)n >= len ? -1 : 0);
}

static int
can_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (0);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		return (0);
	r = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);

	return (r == 0);
}

/*
 * Start bin --socket DIR/vauth.sock extra... and wait (5 s) until the
 * socket accepts connections.
 */
int
vproc_start(struct vproc *vp, const char *bin, const char *const *extra)
{
	const char *argv[64];
	size_t n = 0, i;
	int tries, status;

	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = vp->sock;
	for (i = 0; extra != NULL && extra[i] != NULL && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;

	if ((vp->pid = fork()) < 0)
		return (-1);
	if (vp->pid == 0) {
		/* do not outlive a test that dies */
		(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getenv("VAUTH_TEST_VERBOSE") == NULL) {
			if (freopen("/dev/null", "w", stdout) == NULL)
				_exit(127);
		}
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	for (tries = 0; tries < 500; tries++) {
		if (can_connect(vp->sock))
			return (0);
		if (waitpid(vp->pid, &status, WNOHANG) == vp->pid) {
			vp->pid = -1;
			return (-1);
		}
		sleep_ms(10);
	}

	return (-1);
}

int
vproc_alive(const struct vproc *vp)
{
	return (vp->pid > 0 && kill(vp->pid, 0) == 0 &&
	    waitpid(vp->pid, NULL, WNOHANG) == 0);
}

/* SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit status. */
int
vproc_stop(struct vproc *vp)
{
	int status = -1, i;

	if (vp->pid <= 0)
		return (-1);
	(void)kill(vp->pid, SIGTERM);
	for (i = 0; i < 500; i++) {
		if (waitpid(vp->pid, &status, WNOHANG) == vp->pid)
			break;
		sleep_ms(10);
	}
	if (i == 500) {
		(void)kill(vp->pid, SIGKILL);
		(void)waitpid(vp->pid, &status, 0);
		status = -1;
	}
	vp->pid = -1;

	return (status);
}

/* stop the daemon and remove its directory */
void
vproc_cleanup(struct vproc *vp)
{
	struct dirent *de;
	DIR *d;
	char path[600];

	(void)vproc_stop(vp);
	if (vp->dir[0] == '\0' || (d = opendir(vp->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", vp->dir, de->d_name);
		(void)unlink(path);
	}
	closedir(d);
	(void)rmdir(vp->dir);
	vp->dir[0] = '\0';
}
