/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The run lock: one run at a time per state directory.  flock(2) on
 * STATE/run.lock, held as long as the descriptor is open (the kernel
 * drops it when the process dies, even by SIGKILL), with the holder's
 * pid inside for the message of the run that is turned away.
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

/* the holder writes its pid just after locking: wait that long for it */
static long
read_holder(int fd)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	char		 buf[32];
	long long	 pid;
	ssize_t		 n;
	int		 i;

	for (i = 0; i < 50; i++) {
		if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (parse_ll(buf, 1, 0x7fffffff, &pid) == 0)
				return ((long)pid);
		}
		nanosleep(&ts, NULL);
	}

	return (0);
}

int
lock_run(const char *path, int *fdp, long *holder)
{
	struct stat	st;
	char		buf[32];
	int		fd, n;

	*fdp = -1;
	*holder = 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY, 0600)) < 0)
		return (-1);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return (-1);
	}
	/* the state directory is checked as ours: so must this be */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return (-1);
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			*holder = read_holder(fd);
			close(fd);
			return (1);
		}
		close(fd);
		return (-1);
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return (-1);
	}
	*fdp = fd;

	return (0);
}

void
lock_release(int *fdp)
{
	if (*fdp < 0)
		return;
	/* empty first: a reader never sees a pid that is gone */
	if (ftruncate(*fdp, 0) < 0)
		log_debug("run lock: truncate: %s", strerror(errno));
	flock(*fdp, LOCK_UN);
	close(*fdp);
	*fdp = -1;
}
