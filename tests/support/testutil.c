/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#ifndef BINDIR
#error BINDIR must be the build tree
#endif

#define TMPDIR_MAX	64	/* longer $TMPDIR: sockets would not fit */
#define START_MS	10000	/* ASan builds start slowly */
#define STOP_MS		10000
#define MAX_LIVE	32

/*
 * Every daemon started and not yet cleaned up, by value: the struct the
 * test holds may be on a stack that a failed assertion has left.
 */
static struct {
	pid_t	pid;
	char	dir[sizeof(((struct tu_vauth *)0)->dir)];
} live[MAX_LIVE];

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
tu_tmpdir(char *buf, size_t len, const char *tag)
{
	const char	*tmp = getenv("TMPDIR");
	int		 n;

	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > TMPDIR_MAX)
		tmp = "/tmp";
	n = snprintf(buf, len, "%s/%s.XXXXXX", tmp, tag);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	if (mkdtemp(buf) == NULL)
		return (-1);

	return (0);
}

/* remove NAME in the directory DFD; a directory is emptied first */
static int
rm_at(int dfd, const char *name)
{
	struct dirent	*de;
	DIR		*d;
	int		 fd, r = 0;

	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return (0);
	/* Linux says EISDIR for a directory, POSIX allows EPERM */
	if (errno != EISDIR && errno != EPERM)
		return (-1);
	/* O_NOFOLLOW: a link swapped in meanwhile is not walked into */
	if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return (-1);
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (rm_at(dirfd(d), de->d_name) < 0)
			r = -1;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -1;

	return (r);
}

int
tu_rmtree(const char *path)
{
	if (path == NULL || *path == '\0' || strcmp(path, "/") == 0)
		return (-1);

	return (rm_at(AT_FDCWD, path));
}

static int
can_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, ok;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (0);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (0);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);

	return (ok);
}

/* a slot for DIR, taken before the fork so that it cannot run out after */
static int
remember(const char *dir)
{
	int i;

	for (i = 0; i < MAX_LIVE; i++)
		if (live[i].dir[0] == '\0') {
			live[i].pid = 0;
			snprintf(live[i].dir, sizeof(live[i].dir), "%s", dir);
			return (i);
		}

	return (-1);
}

static void
mark_stopped(pid_t pid)
{
	size_t i;

	for (i = 0; i < MAX_LIVE; i++)
		if (live[i].pid == pid)
			live[i].pid = 0;
}

static void
forget(const char *dir)
{
	size_t i;

	for (i = 0; i < MAX_LIVE; i++)
		if (strcmp(live[i].dir, dir) == 0) {
			live[i].pid = 0;
			live[i].dir[0] = '\0';
		}
}

static pid_t
spawn(const char *bin, const char *const *argv)
{
	pid_t parent = getpid(), pid;

	if ((pid = fork()) != 0)
		return (pid);
	/* never outlive the test, even one that dies before the prctl */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	execv(bin, (char *const *)(uintptr_t)argv);
	_exit(127);
}

int
tu_vauth_start(struct tu_vauth *v, const char *bin,
    const char *const *extra)
{
	const char	*argv[64];
	size_t		 n = 0, i;
	long long	 deadline;
	int		 len, slot;

	memset(v, 0, sizeof(*v));
	if (bin == NULL && (bin = getenv("VAUTH")) == NULL)
		bin = BINDIR "/vauth/vauth";
	if (tu_tmpdir(v->dir, sizeof(v->dir), "prov-vauth") < 0)
		return (-1);
	len = snprintf(v->path, sizeof(v->path), "%s/key", v->dir);
	if (len < 0 || (size_t)len >= sizeof(v->path) ||
	    snprintf(v->sock, sizeof(v->sock), "unix:%s", v->path) < 0)
		goto fail;
	argv[n++] = bin;
	argv[n++] = "--socket";
	argv[n++] = v->path;
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (n == sizeof(argv) / sizeof(argv[0]) - 1)
			goto fail;
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	if ((slot = remember(v->dir)) < 0)
		goto fail;
	if ((v->pid = spawn(bin, argv)) < 0) {
		v->pid = 0;
		goto fail;
	}
	live[slot].pid = v->pid;
	/* a probe takes one accept; vauth then serves the next client */
	deadline = now_ms() + START_MS;
	while (now_ms() < deadline) {
		if (can_connect(v->path))
			return (0);
		if (waitpid(v->pid, NULL, WNOHANG) == v->pid) {
			v->pid = 0;
			goto fail;
		}
		sleep_ms(10);
	}
fail:
	tu_vauth_cleanup(v);

	return (-1);
}

int
tu_vauth_alive(const struct tu_vauth *v)
{
	siginfo_t si;

	if (v->pid <= 0)
		return (0);
	/* WNOWAIT: look without reaping, tu_vauth_stop wants the status */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)v->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return (0);

	return (si.si_pid == 0);
}

int
tu_vauth_stop(struct tu_vauth *v)
{
	long long	deadline;
	int		status = -1;
	pid_t		r;

	if (v->pid <= 0)
		return (-1);
	(void)kill(v->pid, SIGTERM);
	deadline = now_ms() + STOP_MS;
	for (;;) {
		if ((r = waitpid(v->pid, &status, WNOHANG)) == v->pid)
			break;
		if (r < 0 && errno != EINTR) {
			status = -1;
			break;
		}
		if (now_ms() >= deadline) {
			(void)kill(v->pid, SIGKILL);
			(void)waitpid(v->pid, NULL, 0);
			status = -1;
			break;
		}
		sleep_ms(10);
	}
	mark_stopped(v->pid);
	v->pid = 0;

	return (status);
}

void
tu_vauth_cleanup(struct tu_vauth *v)
{
	(void)tu_vauth_stop(v);
	if (v->dir[0] == '\0')
		return;
	(void)tu_rmtree(v->dir);
	forget(v->dir);
	v->dir[0] = '\0';
}

void
tu_vauth_cleanup_all(void)
{
	size_t i;

	for (i = 0; i < MAX_LIVE; i++) {
		if (live[i].pid > 0) {
			(void)kill(live[i].pid, SIGKILL);
			(void)waitpid(live[i].pid, NULL, 0);
		}
		if (live[i].dir[0] != '\0')
			(void)tu_rmtree(live[i].dir);
		live[i].pid = 0;
		live[i].dir[0] = '\0';
	}
}
