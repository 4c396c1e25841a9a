/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Test support (provtestsupport): private temporary directories and a
 * vauth daemon per test, for the C tests.  Not part of any product
 * library; nothing here is linked outside tests/.
 */

#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Make a private (0700) directory $TMPDIR/TAG.XXXXXX, or under /tmp when
 * TMPDIR is unset or too long to leave room for a socket path.
 */
int	tu_tmpdir(char *, size_t, const char *);

/*
 * Remove a file or a directory tree.  Symbolic links are removed, never
 * followed.  A missing path is not an error.
 */
int	tu_rmtree(const char *);

/* sizes: the socket path must fit a sockaddr_un (108 on Linux) */
struct tu_vauth {
	pid_t	pid;		/* 0 when not running */
	char	dir[104];	/* its private directory */
	char	path[108];	/* the socket: <dir>/key */
	char	sock[116];	/* "unix:<path>", as ctap_dev_open takes it */
};

/*
 * Start BIN --socket <dir>/key EXTRA... in a new private directory and
 * return once the socket accepts a connection.  BIN NULL means $VAUTH,
 * or the one in the build tree.  EXTRA is NULL-terminated (or NULL).
 * On failure nothing is left running or on disk.
 */
int	tu_vauth_start(struct tu_vauth *, const char *, const char *const *);
int	tu_vauth_alive(const struct tu_vauth *);
/*
 * SIGTERM, then SIGKILL after 10 s.  Returns the wait status (-1 if it
 * was not running or had to be killed).  The directory is kept, so that
 * a test can look at what the daemon left there.
 */
int	tu_vauth_stop(struct tu_vauth *);
/* stop if running and remove its directory */
void	tu_vauth_cleanup(struct tu_vauth *);
/*
 * Kill every daemon still running and remove every directory not yet
 * cleaned up: for a teardown, since a failed assertion jumps over the
 * cleanup at the end of a test.
 */
void	tu_vauth_cleanup_all(void);

#endif /* !TESTUTIL_H */
