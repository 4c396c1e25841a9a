/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared by the journal's two halves only: journal.c (the connection,
 * schema and runs) and journal_user.c (each user's enrollment).
 */

#ifndef PROV_JOURNAL_INT_H
#define PROV_JOURNAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>

#define NOW	"strftime('%Y-%m-%dT%H:%M:%fZ','now')"

#define STMT_CACHE	32

struct journal {
	sqlite3		*db;
	pthread_mutex_t	 lock;
	long long	 run_id;	/* current run, 0 if none */
	char		 errmsg[256];
	/* prepared once, reused: parsing SQL was 14% of a bulk run */
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	}		 cache[STMT_CACHE];
	size_t		 ncache;
	bool		 wal;		/* else a rollback journal */
	char		*path;
	/* group commit: commits are numbered, synced is the last durable */
	pthread_mutex_t	 sync_lock;
	pthread_cond_t	 sync_cond;
	long long	 seq;
	long long	 synced;
	bool		 syncing;	/* a thread is in fdatasync() */
	int		 sync_fd;	/* the WAL (or the database), or -1 */
};

int	journal_db_fail(journal_t *, int, const char *);
int	journal_db_prepare(journal_t *, const char *, sqlite3_stmt **);
void	journal_db_release(journal_t *, sqlite3_stmt *);
int	journal_db_bind(sqlite3_stmt *, int, const char *);
int	journal_db_step(journal_t *, sqlite3_stmt *);
int	journal_db_begin(journal_t *);
int	journal_db_commit(journal_t *);
int	journal_db_commit_nowait(journal_t *, long long *);
void	journal_db_rollback(journal_t *);
void	journal_ascii_lower(const char *, char *, size_t);

#endif /* PROV_JOURNAL_INT_H */
