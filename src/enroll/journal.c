/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The enrollment journal on SQLite (see journal.h).  One connection
 * behind one mutex: each public call is one BEGIN IMMEDIATE ... COMMIT,
 * durable before the call returns (journal_db_commit(): the WAL synced
 * after the commit; see must_sync() in journal_user.c for the few that
 * are not waited for), and a writer never has to upgrade a read lock
 * (which is what deadlocks two processes in WAL mode).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "journal.h"
#include "journal_int.h"

/*
 * SQLite's page cache (KiB): a run reads back only the rows it is
 * writing, and the file is in the kernel's cache; SQLite's default of
 * 2 MiB grew with the journal.
 */
#define JOURNAL_CACHE_KB	"256"

static const char *const state_names[] = {
	[JOURNAL_ST_NONE] = "none",
	[JOURNAL_ST_PENDING] = "pending",
	[JOURNAL_ST_RESOLVED] = "resolved",
	[JOURNAL_ST_OPTIONS_FETCHED] = "options_fetched",
	[JOURNAL_ST_KEY_TOUCHED] = "key_touched",
	[JOURNAL_ST_REGISTERED] = "registered",
	[JOURNAL_ST_VERIFIED] = "verified",
	[JOURNAL_ST_DONE] = "done",
	[JOURNAL_ST_FAILED] = "failed",
	[JOURNAL_ST_SKIPPED] = "skipped",
};

static const char *const run_names[] = {
	[JOURNAL_RUN_RUNNING] = "running",
	[JOURNAL_RUN_DONE] = "done",
	[JOURNAL_RUN_PARTIAL] = "partial",
	[JOURNAL_RUN_FAILED] = "failed",
	[JOURNAL_RUN_INTERRUPTED] = "interrupted",
};

static const char schema[] =
    "CREATE TABLE runs ( id INTEGER PRIMARY KEY,"
    " started TEXT NOT NULL, finished TEXT, summary TEXT NOT NULL, source TEXT,"
    " status TEXT NOT NULL DEFAULT 'running');CREATE TABLE users ("
    " id INTEGER PRIMARY KEY, upn TEXT,"
    " upn_lower TEXT UNIQUE, object_id TEXT UNIQUE,"
    " created TEXT NOT NULL, updated TEXT NOT NULL,"
    " CHECK (upn_lower IS NOT NULL OR object_id IS NOT NULL));"
    "CREATE TABLE enrollments ("
    " user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    " run_id INTEGER REFERENCES runs(id), state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL,"
    " updated TEXT NOT NULL,"
    " credential_id TEXT, device TEXT, aaguid TEXT, method_id TEXT,"
    " model TEXT, display_name TEXT, attestation TEXT,"
    " stage TEXT, error_code TEXT, message TEXT, request_id TEXT, reason TEXT,"
    " passkey_type TEXT, warning TEXT, body TEXT);"
    "CREATE INDEX enrollments_run ON enrollments(run_id, state);"
    "CREATE INDEX enrollments_state ON enrollments(state);"
    "CREATE TABLE transitions ( id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL, run_id INTEGER,"
    " at TEXT NOT NULL, from_state TEXT, to_state TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX transitions_user ON transitions(user_id);";

/* schema 1 to 2: what Entra recorded, for the report */
static const char migrate_2[] =
    "ALTER TABLE enrollments ADD COLUMN passkey_type TEXT;"
    "ALTER TABLE enrollments ADD COLUMN warning TEXT;"
    "PRAGMA user_version = 2;";

/* schema 2 to 3: the registration as sent, replayed on resume */
static const char migrate_3[] =
    "ALTER TABLE enrollments ADD COLUMN body TEXT;"
    "PRAGMA user_version = 3;";

const char *
journal_strerr(int r)
{
	switch (r) {
	case JOURNAL_OK:
		return ("success");
	case JOURNAL_ERR_INTERNAL:
		return ("internal journal error");
	case JOURNAL_ERR_ARG:
		return ("invalid argument");
	case JOURNAL_ERR_IO:
		return ("cannot open or write the journal");
	case JOURNAL_ERR_BUSY:
		return ("journal locked by another process");
	case JOURNAL_ERR_CORRUPT:
		return ("journal damaged or not a journal");
	case JOURNAL_ERR_VERSION:
		return ("journal written by a newer version");
	case JOURNAL_ERR_NOT_FOUND:
		return ("no such user in the journal");
	case JOURNAL_ERR_STATE:
		return ("state transition not allowed");
	case JOURNAL_ERR_PERM:
		return ("journal not owned by you, or writable by others");
	default:
		return ("unknown journal error");
	}
}

const char *
journal_state_name(enum journal_state st)
{
	if ((int)st < 0 || (size_t)st >= sizeof(state_names) /
	    sizeof(state_names[0]))
		return ("unknown");

	return (state_names[st]);
}

enum journal_state
journal_state_from_name(const char *s)
{
	size_t i;

	if (s == NULL)
		return (JOURNAL_ST_NONE);
	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(s, state_names[i]) == 0)
			return ((enum journal_state)i);

	return (JOURNAL_ST_NONE);
}

void
journal_ascii_lower(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ?
		    (char)(s[i] - 'A' + 'a') : s[i];
	out[i] = '\0';
}

int
journal_user_key(const char *upn, const char *object_id, char *buf,
    size_t len)
{
	const char *s;

	if (buf == NULL || len == 0)
		return (JOURNAL_ERR_ARG);
	buf[0] = '\0';
	if (object_id != NULL && *object_id != '\0')
		s = object_id;
	else if (upn != NULL && *upn != '\0')
		s = upn;
	else
		return (JOURNAL_ERR_ARG);
	if (strlen(s) >= len || strlen(s) >= JOURNAL_KEY_LEN)
		return (JOURNAL_ERR_ARG);
	journal_ascii_lower(s, buf, len);

	return (JOURNAL_OK);
}

static int
map_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return (JOURNAL_OK);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return (JOURNAL_ERR_BUSY);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return (JOURNAL_ERR_CORRUPT);
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return (JOURNAL_ERR_IO);
	default:
		return (JOURNAL_ERR_INTERNAL);
	}
}

int
journal_db_fail(journal_t *j, int rc, const char *what)
{
	snprintf(j->errmsg, sizeof(j->errmsg), "%s: %s", what,
	    sqlite3_errmsg(j->db));
	log_debug("journal: %s", j->errmsg);

	return (map_sqlite(rc));
}

static int
exec(journal_t *j, const char *sql)
{
	int rc;

	if ((rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		return (journal_db_fail(j, rc, sql));

	return (JOURNAL_OK);
}

int
journal_db_prepare(journal_t *j, const char *sql, sqlite3_stmt **st)
{
	size_t	i;
	int	rc;

	*st = NULL;
	for (i = 0; i < j->ncache; i++)
		if (strcmp(j->cache[i].sql, sql) == 0) {
			/* callers never nest the same statement */
			*st = j->cache[i].st;
			return (JOURNAL_OK);
		}
	if ((rc = sqlite3_prepare_v3(j->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, st, NULL)) != SQLITE_OK)
		return (journal_db_fail(j, rc, "prepare"));
	if (j->ncache < STMT_CACHE) {
		j->cache[j->ncache].sql = sql;
		j->cache[j->ncache].st = *st;
		j->ncache++;
	}

	return (JOURNAL_OK);
}

/* done with a statement: cached ones are reset, the rest finalized */
void
journal_db_release(journal_t *j, sqlite3_stmt *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < j->ncache; i++)
		if (j->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

/* bind NULL for NULL */
int
journal_db_bind(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return (sqlite3_bind_null(st, i));

	return (sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT));
}

/* run a statement that returns no rows (or whose rows we ignore) */
int
journal_db_step(journal_t *j, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		return (journal_db_fail(j, rc, "step"));

	return (JOURNAL_OK);
}

/* a statement of the cache, run once: no SQL parsed per transition */
static int
exec_cached(journal_t *j, const char *sql)
{
	sqlite3_stmt	*st;
	int		 r;

	if ((r = journal_db_prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	r = journal_db_step(j, st);
	journal_db_release(j, st);

	return (r);
}

int
journal_db_begin(journal_t *j)
{
	return (exec_cached(j, "BEGIN IMMEDIATE"));
}

/*
 * Commits run with synchronous=NORMAL: written to the WAL, not synced.
 * A commit's number says where it is in the WAL (commits are made under
 * j->lock, one at a time); journal_sync() makes it durable, outside that
 * lock, so other threads go on committing during the fsync.
 */
int
journal_db_commit_nowait(journal_t *j, long long *seq)
{
	int r;

	if ((r = exec_cached(j, "COMMIT")) != JOURNAL_OK)
		return (r);
	pthread_mutex_lock(&j->sync_lock);
	*seq = ++j->seq;
	pthread_mutex_unlock(&j->sync_lock);

	return (JOURNAL_OK);
}

/* a commit on disk before the call returns */
int
journal_db_commit(journal_t *j)
{
	long long	seq;
	int		r;

	if ((r = journal_db_commit_nowait(j, &seq)) != JOURNAL_OK)
		return (r);

	return (journal_sync(j, seq));
}

/*
 * The WAL holds every commit not yet checkpointed, and a checkpoint
 * syncs the database before the WAL is written over: fdatasync() of the
 * WAL (of the database without one) makes every commit so far durable.
 * Only the thread that set j->syncing gets here.
 */
static int
sync_file(journal_t *j)
{
	char wal[PATH_MAX];

	if (j->sync_fd < 0) {
		snprintf(wal, sizeof(wal), "%s-wal", j->path);
		if ((j->sync_fd = open(j->wal ? wal : j->path, O_RDONLY |
		    O_CLOEXEC | O_NOFOLLOW)) < 0) {
			snprintf(j->errmsg, sizeof(j->errmsg), "open %.200s: "
			    "%s", j->wal ? wal : j->path, strerror(errno));
			return (JOURNAL_ERR_IO);
		}
	}
	if (fdatasync(j->sync_fd) < 0) {
		snprintf(j->errmsg, sizeof(j->errmsg), "fdatasync: %s",
		    strerror(errno));
		return (JOURNAL_ERR_IO);
	}

	return (JOURNAL_OK);
}

int
journal_sync(journal_t *j, long long seq)
{
	long long	target;
	int		r = JOURNAL_OK;

	if (j == NULL)
		return (JOURNAL_ERR_ARG);
	pthread_mutex_lock(&j->sync_lock);
	while (j->synced < seq && r == JOURNAL_OK) {
		/* one fsync at a time; the others wait for what it covers */
		if (j->syncing) {
			pthread_cond_wait(&j->sync_cond, &j->sync_lock);
			continue;
		}
		j->syncing = true;
		target = j->seq;
		pthread_mutex_unlock(&j->sync_lock);
		r = sync_file(j);
		pthread_mutex_lock(&j->sync_lock);
		j->syncing = false;
		if (r == JOURNAL_OK && target > j->synced)
			j->synced = target;
		pthread_cond_broadcast(&j->sync_cond);
	}
	pthread_mutex_unlock(&j->sync_lock);

	return (r);
}

void
journal_db_rollback(journal_t *j)
{
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
pragma_int(journal_t *j, const char *sql, long long *v)
{
	sqlite3_stmt	*st = NULL;
	int		 r, rc;

	if ((r = journal_db_prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = journal_db_fail(j, rc, sql);
		goto fail;
	}
	*v = sqlite3_column_int64(st, 0);
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);

	return (r);
}

static int
schema_ensure(journal_t *j)
{
	long long	ver = 0, n = 0, seq;
	char		sql[64];
	bool		changed = false;
	int		r;

	if ((r = journal_db_begin(j)) != JOURNAL_OK)
		return (r);
	if ((r = pragma_int(j, "PRAGMA user_version", &ver)) != JOURNAL_OK)
		goto fail;
	if (ver > JOURNAL_SCHEMA) {
		snprintf(j->errmsg, sizeof(j->errmsg), "schema version %lld, "
		    "this program knows %d", ver, JOURNAL_SCHEMA);
		r = JOURNAL_ERR_VERSION;
		goto fail;
	}
	if (ver == 0) {
		/* a fresh file, or someone else's database */
		if ((r = pragma_int(j, "SELECT count(*) FROM sqlite_master",
		    &n)) != JOURNAL_OK)
			goto fail;
		if (n != 0) {
			snprintf(j->errmsg, sizeof(j->errmsg), "an SQLite "
			    "database, but not a journal");
			r = JOURNAL_ERR_CORRUPT;
			goto fail;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		    JOURNAL_SCHEMA);
		if ((r = exec(j, schema)) != JOURNAL_OK ||
		    (r = exec(j, sql)) != JOURNAL_OK)
			goto fail;
		changed = true;
	} else {
		if ((r = pragma_int(j, "SELECT count(*) FROM sqlite_master "
		    "WHERE type = 'table' AND name IN ('runs', 'users', "
		    "'enrollments', 'transitions')", &n)) != JOURNAL_OK)
			goto fail;
		if (n != 4) {
			snprintf(j->errmsg, sizeof(j->errmsg),
			    "tables missing");
			r = JOURNAL_ERR_CORRUPT;
			goto fail;
		}
		if (ver == 1 && (r = exec(j, migrate_2)) != JOURNAL_OK)
			goto fail;
		if (ver <= 2 && (r = exec(j, migrate_3)) != JOURNAL_OK)
			goto fail;
		changed = ver < JOURNAL_SCHEMA;
	}
	/* a journal opened as it was wrote nothing: nothing to sync */
	r = changed ? journal_db_commit(j) : journal_db_commit_nowait(j, &seq);
fail:
	if (r != JOURNAL_OK)
		journal_db_rollback(j);

	return (r);
}

int
journal_open(const char *path, journal_t **jp)
{
	journal_t	*j = NULL;
	sqlite3_stmt	*st = NULL;
	struct stat	 sb;
	const char	*mode;
	char		 why[PATH_MAX + 256], side[PATH_MAX];
	int		 fd, rc, r, i, persist = 1;

	if (path == NULL || jp == NULL)
		return (JOURNAL_ERR_ARG);
	*jp = NULL;
	/* create it 0600 ourselves: SQLite would use 0644 & ~umask */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		log_debug("journal: open %s: %s", path, strerror(errno));
		return (JOURNAL_ERR_IO);
	}
	/*
	 * Whoever owns the journal decides what we believe is done: one
	 * another user owns or can write is refused, as are its -wal and
	 * -shm, which SQLite would read as part of it.
	 */
	why[0] = '\0';
	r = fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    file_owner_why(&sb, why, sizeof(why)) < 0 ? JOURNAL_ERR_PERM :
	    JOURNAL_OK;
	close(fd);
	if (r != JOURNAL_OK) {
		log_warn("journal %s %s", path, why[0] ? why :
		    "is not a regular file");
		return (r);
	}
	for (i = 0; i < 2; i++) {
		snprintf(side, sizeof(side), "%s-%s", path, i ? "shm" : "wal");
		if (file_check_owned(side, false, why, sizeof(why)) < 0) {
			log_warn("journal: %s", why);
			return (JOURNAL_ERR_PERM);
		}
	}
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (JOURNAL_ERR_INTERNAL);
	j->sync_fd = -1;
	if ((j->path = strdup(path)) == NULL ||
	    pthread_mutex_init(&j->lock, NULL) != 0) {
		free(j->path);
		free(j);
		return (JOURNAL_ERR_INTERNAL);
	}
	if (pthread_mutex_init(&j->sync_lock, NULL) != 0 ||
	    pthread_cond_init(&j->sync_cond, NULL) != 0) {
		r = JOURNAL_ERR_INTERNAL;
		goto fail;
	}
	if ((rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_FULLMUTEX, NULL)) != SQLITE_OK) {
		r = j->db != NULL ? journal_db_fail(j, rc, "open") :
				    JOURNAL_ERR_IO;
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, JOURNAL_BUSY_MS);
	/*
	 * The WAL kept at close, checkpointed, at the size it grew to (about
	 * 4 MB at most, SQLite's automatic checkpoint): the next open need
	 * not create it and sync it and the directory.  A size limit would
	 * empty it at close, and its first frame would then sync again.
	 */
	(void)sqlite3_file_control(j->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &persist);
	if ((r = journal_db_prepare(j, "PRAGMA journal_mode = WAL", &st)) !=
	    JOURNAL_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = journal_db_fail(j, rc, "journal_mode");
		goto fail;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	j->wal = mode != NULL && strcmp(mode, "wal") == 0;
	if (!j->wal)
		log_warn("journal %s: WAL not available on this file system "
		    "(mode %s); still durable, but slower", path,
		    mode != NULL ? mode : "?");
	journal_db_release(j, st);
	st = NULL;
	/*
	 * WAL: commits unsynced, journal_sync() makes them durable.  A
	 * rollback journal could be torn by a power cut without FULL.
	 */
	if ((r = exec(j, j->wal ? "PRAGMA synchronous = NORMAL" :
	    "PRAGMA synchronous = FULL")) != JOURNAL_OK ||
	    (r = exec(j, "PRAGMA foreign_keys = ON")) != JOURNAL_OK ||
	    (r = exec(j, "PRAGMA cache_size = -" JOURNAL_CACHE_KB)) !=
	    JOURNAL_OK ||
	    (r = schema_ensure(j)) != JOURNAL_OK)
		goto fail;
	*jp = j;
	j = NULL;
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);
	if (j != NULL && r != JOURNAL_OK && j->errmsg[0] != '\0')
		log_debug("journal %s: %s", path, j->errmsg);
	journal_free(&j);

	return (r);
}

void
journal_free(journal_t **jp)
{
	journal_t *j;

	if (jp == NULL || (j = *jp) == NULL)
		return;
	while (j->ncache > 0)
		sqlite3_finalize(j->cache[--j->ncache].st);
	if (j->db != NULL)
		sqlite3_close_v2(j->db);
	if (j->sync_fd >= 0)
		close(j->sync_fd);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->sync_lock);
	pthread_cond_destroy(&j->sync_cond);
	free(j->path);
	free(j);
	*jp = NULL;
}

const char *
journal_errmsg(const journal_t *j)
{
	return (j != NULL ? j->errmsg : "");
}

int
journal_run_begin(journal_t *j, const char *summary, const char *source,
    long long *run_id)
{
	sqlite3_stmt	*st = NULL;
	long long	 seq;
	int		 r;

	if (j == NULL || summary == NULL || run_id == NULL)
		return (JOURNAL_ERR_ARG);
	*run_id = 0;
	pthread_mutex_lock(&j->lock);
	if ((r = journal_db_begin(j)) != JOURNAL_OK)
		goto fail;
	if ((r = journal_db_prepare(j,
		 "INSERT INTO runs (started, summary, source) "
		 "VALUES (" NOW ", ?, ?)",
		 &st)) != JOURNAL_OK)
		goto fail;
	journal_db_bind(st, 1, summary);
	journal_db_bind(st, 2, source);
	/*
	 * Not waited for: the WAL is in commit order, so the run's row is
	 * on disk with the first sync after it, before anything others see.
	 */
	if ((r = journal_db_step(j, st)) != JOURNAL_OK ||
	    (r = journal_db_commit_nowait(j, &seq)) != JOURNAL_OK)
		goto fail;
	*run_id = j->run_id = sqlite3_last_insert_rowid(j->db);
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);
	if (r != JOURNAL_OK)
		journal_db_rollback(j);
	pthread_mutex_unlock(&j->lock);

	return (r);
}

int
journal_run_end(journal_t *j, long long run_id,
    enum journal_run_status status)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if (j == NULL || (int)status < 0 || (size_t)status >=
	    sizeof(run_names) / sizeof(run_names[0]))
		return (JOURNAL_ERR_ARG);
	pthread_mutex_lock(&j->lock);
	if ((r = journal_db_begin(j)) != JOURNAL_OK)
		goto fail;
	if ((r = journal_db_prepare(j,
		 "UPDATE runs SET finished = " NOW ", status = ? WHERE id = ?",
		 &st)) != JOURNAL_OK)
		goto fail;
	journal_db_bind(st, 1, run_names[status]);
	sqlite3_bind_int64(st, 2, run_id);
	if ((r = journal_db_step(j, st)) != JOURNAL_OK)
		goto fail;
	if (sqlite3_changes(j->db) != 1) {
		r = JOURNAL_ERR_NOT_FOUND;
		goto fail;
	}
	if ((r = journal_db_commit(j)) != JOURNAL_OK)
		goto fail;
	if (j->run_id == run_id)
		j->run_id = 0;
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);
	if (r != JOURNAL_OK)
		journal_db_rollback(j);
	pthread_mutex_unlock(&j->lock);

	return (r);
}

int
journal_counts(journal_t *j, long long run_id, struct journal_counts *c)
{
	sqlite3_stmt		*st = NULL;
	enum journal_state	 s;
	size_t			 n;
	int			 r, rc;

	if (j == NULL || c == NULL)
		return (JOURNAL_ERR_ARG);
	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&j->lock);
	if ((r = journal_db_prepare(j, run_id != 0 ?
	    "SELECT state, count(*) FROM enrollments WHERE run_id = ? "
	    "GROUP BY state" :
	    "SELECT state, count(*) FROM enrollments GROUP BY state",
	    &st)) != JOURNAL_OK)
		goto fail;
	if (run_id != 0)
		sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		s = journal_state_from_name((const char *)
		    sqlite3_column_text(st, 0));
		n = (size_t)sqlite3_column_int64(st, 1);
		c->total += n;
		if (s == JOURNAL_ST_DONE)
			c->done += n;
		else if (s == JOURNAL_ST_FAILED)
			c->failed += n;
		else if (s == JOURNAL_ST_SKIPPED)
			c->skipped += n;
		else
			c->remaining += n;
	}
	if (rc != SQLITE_DONE) {
		r = journal_db_fail(j, rc, "counts");
		goto fail;
	}
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);
	pthread_mutex_unlock(&j->lock);

	return (r);
}
