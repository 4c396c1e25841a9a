/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Test helper: run a vauth daemon on a private socket.
 */

#ifndef VAUTHPROC_H
#define VAUTHPROC_H

#include <sys/types.h>

struct vauthproc {
	pid_t	pid;
	char	dir[200];
	char	sock[320];	/* "unix:<dir>/key" */
};

/* extra: NULL-terminated vauth arguments after --socket */
int	vauthproc_start(struct vauthproc *, const char *const *extra);
void	vauthproc_stop(struct vauthproc *);
/* stop every daemon still running (a failed assertion skips stop) */
void	vauthproc_stop_all(void);

#endif
