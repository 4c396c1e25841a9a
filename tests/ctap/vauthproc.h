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
	char	dir[256];
	char	sock[300];	/* "unix:<dir>/key" */
};

/* extra: NULL-terminated vauth arguments after --socket */
int	vauthproc_start(struct vauthproc *, const char *const *extra);
void	vauthproc_stop(struct vauthproc *);

#endif
