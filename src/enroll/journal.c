/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The enrollment journal on SQLite (see journal.h).  One connection
 * behind one mutex: each public call is one BEGIN IMMEDIATE ... COMMIT,
 * so a transition is durable (synchronous=FULL) before the call
 * returns, and a writer never has to upgrade a read lock (which is what
 * deadlocks two processes in WAL mode).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common.h"
#include "journal.h"

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
};

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
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " started TEXT NOT NULL,"
    " finished TEXT,"
    " summary TEXT NOT NULL,"
    " source TEXT,"
    " status TEXT NOT NULL DEFAULT 'running');"
    "CREATE TABLE users ("
    " id INTEGER PRIMARY KEY,"
    " upn TEXT,"
    " upn_lower TEXT UNIQUE,"
    " object_id TEXT UNIQUE,"
    " created TEXT NOT NULL,"
    " updated TEXT NOT NULL,"
    " CHECK (upn_lower IS NOT NULL OR object_id IS NOT NULL));"
    "CREATE TABLE enrollments ("
    " user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,"
    " run_id INTEGER REFERENCES runs(id),"
    " state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " created TEXT NOT NULL,"
    " updated TEXT NOT NULL,"
    " credential_id TEXT, device TEXT, aaguid TEXT, method_id TEXT,"
    " model TEXT, display_name TEXT, attestation TEXT,"
    " stage TEXT, error_code TEXT, message TEXT, request_id TEXT,"
    " reason TEXT);"
    "CREATE INDEX enrollments_run ON enrollments(run_id, state);"
    "CREATE INDEX enrollments_state ON enrollments(state);"
    "CREATE TABLE transitions ("
    " id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL,"
    " run_id INTEGER,"
    " at TEXT NOT NULL,"
    " from_state TEXT,"
    " to_state TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX transitions_user ON transitions(user_id);";

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

static int
is_guid(const char *s)
{
	size_t	i;
	char	c;

	if (strlen(s) != 36)
		return (0);
	for (i = 0; i < 36; i++) {
		c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return (0);
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return (0);
	}

	return (1);
}

static void
ascii_lower(const char *s, char *out, size_t len)
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
	ascii_lower(s, buf, len);

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

static int
fail_sql(journal_t *j, int rc, const char *what)
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
		return (fail_sql(j, rc, sql));

	return (JOURNAL_OK);
}

static int
prepare(journal_t *j, const char *sql, sqlite3_stmt **st)
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
		return (fail_sql(j, rc, "prepare"));
	if (j->ncache < STMT_CACHE) {
		j->cache[j->ncache].sql = sql;
		j->cache[j->ncache].st = *st;
		j->ncache++;
	}

	return (JOURNAL_OK);
}

/* done with a statement: cached ones are reset, the rest finalized */
static void
release(journal_t *j, sqlite3_stmt *st)
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
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return (sqlite3_bind_null(st, i));

	return (sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT));
}

/* run a statement that returns no rows (or whose rows we ignore) */
static int
step_done(journal_t *j, sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		return (fail_sql(j, rc, "step"));

	return (JOURNAL_OK);
}

static int
begin(journal_t *j)
{
	return (exec(j, "BEGIN IMMEDIATE"));
}

static int
commit(journal_t *j)
{
	return (exec(j, "COMMIT"));
}

static void
rollback(journal_t *j)
{
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
pragma_int(journal_t *j, const char *sql, long long *v)
{
	sqlite3_stmt	*st = NULL;
	int		 r, rc;

	if ((r = prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = fail_sql(j, rc, sql);
		goto fail;
	}
	*v = sqlite3_column_int64(st, 0);
	r = JOURNAL_OK;
fail:
	release(j, st);

	return (r);
}

static int
schema_ensure(journal_t *j)
{
	long long	ver = 0, n = 0;
	char		sql[64];
	int		r;

	if ((r = begin(j)) != JOURNAL_OK)
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
	}
	r = commit(j);
fail:
	if (r != JOURNAL_OK)
		rollback(j);

	return (r);
}

int
journal_open(const char *path, journal_t **jp)
{
	journal_t	*j = NULL;
	sqlite3_stmt	*st = NULL;
	const char	*mode;
	int		 fd, rc, r;

	if (path == NULL || jp == NULL)
		return (JOURNAL_ERR_ARG);
	*jp = NULL;
	/* create it 0600 ourselves: SQLite would use 0644 & ~umask */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		log_debug("journal: open %s: %s", path, strerror(errno));
		return (JOURNAL_ERR_IO);
	}
	close(fd);
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (JOURNAL_ERR_INTERNAL);
	if (pthread_mutex_init(&j->lock, NULL) != 0) {
		free(j);
		return (JOURNAL_ERR_INTERNAL);
	}
	if ((rc = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_FULLMUTEX, NULL)) != SQLITE_OK) {
		r = j->db != NULL ? fail_sql(j, rc, "open") : JOURNAL_ERR_IO;
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, JOURNAL_BUSY_MS);
	if ((r = prepare(j, "PRAGMA journal_mode = WAL", &st)) != JOURNAL_OK)
		goto fail;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = fail_sql(j, rc, "journal_mode");
		goto fail;
	}
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0)
		log_warn("journal %s: WAL not available on this file system "
		    "(mode %s); still durable, but slower", path,
		    mode != NULL ? mode : "?");
	release(j, st);
	st = NULL;
	if ((r = exec(j, "PRAGMA synchronous = FULL")) != JOURNAL_OK ||
	    (r = exec(j, "PRAGMA foreign_keys = ON")) != JOURNAL_OK ||
	    (r = schema_ensure(j)) != JOURNAL_OK)
		goto fail;
	*jp = j;
	j = NULL;
	r = JOURNAL_OK;
fail:
	release(j, st);
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
	pthread_mutex_destroy(&j->lock);
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
	int		 r;

	if (j == NULL || summary == NULL || run_id == NULL)
		return (JOURNAL_ERR_ARG);
	*run_id = 0;
	pthread_mutex_lock(&j->lock);
	if ((r = begin(j)) != JOURNAL_OK)
		goto fail;
	if ((r = prepare(j, "INSERT INTO runs (started, summary, source) "
	    "VALUES (" NOW ", ?, ?)", &st)) != JOURNAL_OK)
		goto fail;
	bind_text(st, 1, summary);
	bind_text(st, 2, source);
	if ((r = step_done(j, st)) != JOURNAL_OK ||
	    (r = commit(j)) != JOURNAL_OK)
		goto fail;
	*run_id = j->run_id = sqlite3_last_insert_rowid(j->db);
	r = JOURNAL_OK;
fail:
	release(j, st);
	if (r != JOURNAL_OK)
		rollback(j);
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
	if ((r = begin(j)) != JOURNAL_OK)
		goto fail;
	if ((r = prepare(j, "UPDATE runs SET finished = " NOW ", status = ? "
	    "WHERE id = ?", &st)) != JOURNAL_OK)
		goto fail;
	bind_text(st, 1, run_names[status]);
	sqlite3_bind_int64(st, 2, run_id);
	if ((r = step_done(j, st)) != JOURNAL_OK)
		goto fail;
	if (sqlite3_changes(j->db) != 1) {
		r = JOURNAL_ERR_NOT_FOUND;
		goto fail;
	}
	if ((r = commit(j)) != JOURNAL_OK)
		goto fail;
	if (j->run_id == run_id)
		j->run_id = 0;
	r = JOURNAL_OK;
fail:
	release(j, st);
	if (r != JOURNAL_OK)
		rollback(j);
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
	if ((r = prepare(j, run_id != 0 ?
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
		r = fail_sql(j, rc, "counts");
		goto fail;
	}
	r = JOURNAL_OK;
fail:
	release(j, st);
	pthread_mutex_unlock(&j->lock);

	return (r);
}

/* users.id for a key (object id if a GUID, else UPN), 0 if none */
static int
find_user(journal_t *j, const char *key, long long *id)
{
	sqlite3_stmt	*st = NULL;
	char		 low[JOURNAL_KEY_LEN];
	int		 r, rc;

	*id = 0;
	ascii_lower(key, low, sizeof(low));
	if ((r = prepare(j, is_guid(low) ?
	    "SELECT id FROM users WHERE object_id = ?" :
	    "SELECT id FROM users WHERE upn_lower = ?", &st)) != JOURNAL_OK)
		return (r);
	bind_text(st, 1, low);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE) {
		r = fail_sql(j, rc, "find user");
		goto fail;
	}
	r = JOURNAL_OK;
fail:
	release(j, st);

	return (r);
}

static void
copy_col(sqlite3_stmt *st, int i, char *dst, size_t len)
{
	const char *s = (const char *)sqlite3_column_text(st, i);

	snprintf(dst, len, "%s", s != NULL ? s : "");
}

static void
entry_from_row(sqlite3_stmt *st, journal_entry_t *e)
{
	memset(e, 0, sizeof(*e));
	copy_col(st, 0, e->upn, sizeof(e->upn));
	copy_col(st, 2, e->object_id, sizeof(e->object_id));
	if (e->object_id[0] != '\0')
		copy_col(st, 2, e->user_key, sizeof(e->user_key));
	else
		copy_col(st, 1, e->user_key, sizeof(e->user_key));
	e->state = sqlite3_column_type(st, 3) == SQLITE_NULL ?
	    JOURNAL_ST_NONE : journal_state_from_name((const char *)
	    sqlite3_column_text(st, 3));
	e->attempts = sqlite3_column_int(st, 4);
	e->run_id = sqlite3_column_int64(st, 5);
	copy_col(st, 6, e->created, sizeof(e->created));
	copy_col(st, 7, e->updated, sizeof(e->updated));
	copy_col(st, 8, e->credential_id, sizeof(e->credential_id));
	copy_col(st, 9, e->device, sizeof(e->device));
	copy_col(st, 10, e->aaguid, sizeof(e->aaguid));
	copy_col(st, 11, e->method_id, sizeof(e->method_id));
	copy_col(st, 12, e->stage, sizeof(e->stage));
	copy_col(st, 13, e->error_code, sizeof(e->error_code));
	copy_col(st, 14, e->message, sizeof(e->message));
	copy_col(st, 15, e->request_id, sizeof(e->request_id));
	copy_col(st, 16, e->reason, sizeof(e->reason));
	copy_col(st, 17, e->model, sizeof(e->model));
	copy_col(st, 18, e->display_name, sizeof(e->display_name));
	copy_col(st, 19, e->attestation, sizeof(e->attestation));
}

#define ENTRY_COLS							\
    "u.upn, u.upn_lower, u.object_id, e.state, e.attempts, e.run_id,"	\
    " e.created, e.updated, e.credential_id, e.device, e.aaguid,"	\
    " e.method_id, e.stage, e.error_code, e.message, e.request_id,"	\
    " e.reason, e.model, e.display_name, e.attestation"			\
    " FROM users u LEFT JOIN enrollments e ON e.user_id = u.id"

static int
load_entry(journal_t *j, long long id, journal_entry_t *e)
{
	sqlite3_stmt	*st = NULL;
	int		 r, rc;

	if ((r = prepare(j, "SELECT " ENTRY_COLS " WHERE u.id = ?",
	    &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? JOURNAL_ERR_NOT_FOUND :
		    fail_sql(j, rc, "load");
		goto fail;
	}
	entry_from_row(st, e);
	r = JOURNAL_OK;
fail:
	release(j, st);

	return (r);
}

static int
check_key(const char *key)
{
	return (key != NULL && *key != '\0' &&
	    strlen(key) < JOURNAL_KEY_LEN ? 0 : -1);
}

int
journal_user_get(journal_t *j, const char *key, journal_entry_t *e)
{
	long long	id;
	int		r;

	if (j == NULL || e == NULL || check_key(key) < 0)
		return (JOURNAL_ERR_ARG);
	memset(e, 0, sizeof(*e));
	pthread_mutex_lock(&j->lock);
	if ((r = find_user(j, key, &id)) != JOURNAL_OK)
		goto fail;
	if (id == 0) {
		r = JOURNAL_ERR_NOT_FOUND;
		goto fail;
	}
	r = load_entry(j, id, e);
fail:
	pthread_mutex_unlock(&j->lock);

	return (r);
}

int
journal_is_done(journal_t *j, const char *key)
{
	journal_entry_t	*e;
	int		 r;

	if ((e = malloc(sizeof(*e))) == NULL)
		return (JOURNAL_ERR_INTERNAL);
	if ((r = journal_user_get(j, key, e)) == JOURNAL_OK)
		r = e->state == JOURNAL_ST_DONE;
	else if (r == JOURNAL_ERR_NOT_FOUND)
		r = 0;
	free(e);

	return (r);
}

/* may `to` follow `from`?  (the table in journal.h) */
static int
allowed(enum journal_state from, enum journal_state to,
    const journal_entry_t *cur)
{
	switch (to) {
	case JOURNAL_ST_PENDING:
	case JOURNAL_ST_FAILED:
	case JOURNAL_ST_SKIPPED:
		return (from != JOURNAL_ST_DONE);
	case JOURNAL_ST_RESOLVED:
		return (from == JOURNAL_ST_NONE || from == JOURNAL_ST_PENDING ||
		    from == JOURNAL_ST_RESOLVED);
	case JOURNAL_ST_OPTIONS_FETCHED:
		return (from == JOURNAL_ST_RESOLVED ||
		    from == JOURNAL_ST_OPTIONS_FETCHED);
	case JOURNAL_ST_KEY_TOUCHED:
		return (from == JOURNAL_ST_OPTIONS_FETCHED);
	case JOURNAL_ST_REGISTERED:
		return (from == JOURNAL_ST_KEY_TOUCHED);
	case JOURNAL_ST_VERIFIED:
		return (from == JOURNAL_ST_REGISTERED);
	case JOURNAL_ST_DONE:
		return (from == JOURNAL_ST_KEY_TOUCHED ||
		    from == JOURNAL_ST_REGISTERED ||
		    from == JOURNAL_ST_VERIFIED ||
		    (from == JOURNAL_ST_FAILED &&
		    cur->credential_id[0] != '\0'));
	default:
		return (0);
	}
}

static int
check_fields(const struct journal_fields *f)
{
	if (f == NULL)
		return (0);
	if ((f->upn != NULL && strlen(f->upn) >= JOURNAL_KEY_LEN) ||
	    (f->object_id != NULL && (strlen(f->object_id) >=
	    JOURNAL_KEY_LEN || !is_guid(f->object_id))) ||
	    (f->credential_id != NULL && strlen(f->credential_id) >=
	    JOURNAL_CREDID_LEN))
		return (-1);
#define SHORT(x) ((x) != NULL && strlen(x) >= JOURNAL_SHORT_LEN)
	if (SHORT(f->device) || SHORT(f->aaguid) || SHORT(f->method_id) ||
	    SHORT(f->model) || SHORT(f->display_name) ||
	    SHORT(f->attestation) ||
	    SHORT(f->stage) || SHORT(f->error_code) ||
	    SHORT(f->request_id) || SHORT(f->reason))
		return (-1);
#undef SHORT

	return (0);
}

/* a copy of s cut to len - 1 bytes at a UTF-8 boundary */
static void
cut_utf8(const char *s, char *out, size_t len)
{
	size_t n = strlen(s);

	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static int
user_insert(journal_t *j, const char *upn, const char *oid, long long *id)
{
	sqlite3_stmt	*st = NULL;
	char		 low[JOURNAL_KEY_LEN];
	int		 r;

	if ((r = prepare(j, "INSERT INTO users (upn, upn_lower, object_id, "
	    "created, updated) VALUES (?, ?, ?, " NOW ", " NOW ")",
	    &st)) != JOURNAL_OK)
		return (r);
	bind_text(st, 1, upn);
	if (upn != NULL) {
		ascii_lower(upn, low, sizeof(low));
		bind_text(st, 2, low);
	}
	bind_text(st, 3, oid);
	if ((r = step_done(j, st)) == JOURNAL_OK)
		*id = sqlite3_last_insert_rowid(j->db);
	release(j, st);

	return (r);
}

static int
stmt_id_text(journal_t *j, const char *sql, long long id, const char *s)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		bind_text(st, 2, s);
	r = step_done(j, st);
	release(j, st);

	return (r);
}

static int
stmt_id_id(journal_t *j, const char *sql, long long a, long long b)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	r = step_done(j, st);
	release(j, st);

	return (r);
}

/* an enrollment that holds a credential or is finished: never replaced */
static int
busy(const journal_entry_t *e)
{
	return (e->state == JOURNAL_ST_KEY_TOUCHED ||
	    e->state == JOURNAL_ST_REGISTERED ||
	    e->state == JOURNAL_ST_VERIFIED || e->state == JOURNAL_ST_DONE ||
	    (e->state == JOURNAL_ST_FAILED && e->credential_id[0] != '\0'));
}

/*
 * Move the enrollment of user row `from` (the attempt running now) to
 * row `into`, unless `into` holds one that must not be lost.
 */
static int
enrollment_move(journal_t *j, long long from, long long into)
{
	journal_entry_t	*fe = NULL, *ie = NULL;
	char		 sql[160];
	int		 r;

	if ((fe = malloc(sizeof(*fe))) == NULL ||
	    (ie = malloc(sizeof(*ie))) == NULL) {
		r = JOURNAL_ERR_INTERNAL;
		goto fail;
	}
	if ((r = load_entry(j, from, fe)) != JOURNAL_OK ||
	    (r = load_entry(j, into, ie)) != JOURNAL_OK)
		goto fail;
	if (fe->state == JOURNAL_ST_NONE || busy(ie)) {
		r = JOURNAL_OK;
		goto fail;
	}
	snprintf(sql, sizeof(sql), "UPDATE enrollments SET user_id = ?2, "
	    "attempts = attempts + %d WHERE user_id = ?1", ie->attempts);
	if ((r = stmt_id_text(j, "DELETE FROM enrollments WHERE user_id = ?1",
	    into, NULL)) != JOURNAL_OK)
		goto fail;
	r = stmt_id_id(j, sql, from, into);
fail:
	free(fe);
	free(ie);

	return (r);
}

/* fold user row `from` (known by UPN only) into `into` */
static int
user_merge(journal_t *j, long long from, long long into)
{
	int r;

	if ((r = enrollment_move(j, from, into)) != JOURNAL_OK ||
	    (r = stmt_id_id(j, "UPDATE transitions SET user_id = ?2 "
	    "WHERE user_id = ?1", from, into)) != JOURNAL_OK)
		return (r);

	return (stmt_id_text(j, "DELETE FROM users WHERE id = ?1", from,
	    NULL));
}

/*
 * Record what we learnt about the user's identity.  An object id held
 * by another row makes that row the user (a UPN-only row is folded
 * into it).  A row that already has a different object id is another
 * person whose UPN has moved: the user gets a row of its own and takes
 * the attempt along.  A UPN moves to this row from any other.
 */
static int
identity_update(journal_t *j, long long *id, const char *upn,
    const char *oid)
{
	journal_entry_t	*cur = NULL;
	char		 low[JOURNAL_KEY_LEN];
	long long	 other = 0;
	int		 r;

	if ((cur = malloc(sizeof(*cur))) == NULL)
		return (JOURNAL_ERR_INTERNAL);
	if (oid != NULL) {
		ascii_lower(oid, low, sizeof(low));
		if ((r = find_user(j, low, &other)) != JOURNAL_OK ||
		    (r = load_entry(j, *id, cur)) != JOURNAL_OK)
			goto fail;
		if (other == *id)
			;	/* known already */
		else if (cur->object_id[0] == '\0' && other != 0) {
			if ((r = user_merge(j, *id, other)) != JOURNAL_OK)
				goto fail;
			*id = other;
		} else if (cur->object_id[0] == '\0') {
			if ((r = stmt_id_text(j, "UPDATE users SET object_id "
			    "= ?2, updated = " NOW " WHERE id = ?1", *id,
			    low)) != JOURNAL_OK)
				goto fail;
		} else {
			if (other == 0 && (r = user_insert(j, NULL, low,
			    &other)) != JOURNAL_OK)
				goto fail;
			if ((cur->state == JOURNAL_ST_PENDING ||
			    cur->state == JOURNAL_ST_RESOLVED) &&
			    (r = enrollment_move(j, *id, other)) != JOURNAL_OK)
				goto fail;
			*id = other;
		}
	}
	if (upn != NULL) {
		ascii_lower(upn, low, sizeof(low));
		if ((r = find_user(j, low, &other)) != JOURNAL_OK)
			goto fail;
		if (other != 0 && other != *id) {
			if ((r = load_entry(j, other, cur)) != JOURNAL_OK)
				goto fail;
			if (cur->object_id[0] == '\0')
				r = user_merge(j, other, *id);
			else
				r = stmt_id_text(j, "UPDATE users SET upn = "
				    "NULL, upn_lower = NULL, updated = " NOW
				    " WHERE id = ?1", other, NULL);
			if (r != JOURNAL_OK)
				goto fail;
		}
		if ((r = stmt_id_text(j, "UPDATE users SET upn = ?2, "
		    "updated = " NOW " WHERE id = ?1", *id,
		    upn)) != JOURNAL_OK ||
		    (r = stmt_id_text(j, "UPDATE users SET upn_lower = ?2 "
		    "WHERE id = ?1", *id, low)) != JOURNAL_OK)
			goto fail;
	}
	r = JOURNAL_OK;
fail:
	free(cur);

	return (r);
}

/* bind s to ?i if the statement has that parameter */
static void
bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (i <= sqlite3_bind_parameter_count(st))
		bind_text(st, i, s);
}

static int
write_enrollment(journal_t *j, long long id, enum journal_state from,
    enum journal_state to, const struct journal_fields *f)
{
	static const struct journal_fields none;
	sqlite3_stmt	*st = NULL;
	char		 msg[JOURNAL_MSG_LEN];
	char		 detail[JOURNAL_CREDID_LEN + 3 * JOURNAL_SHORT_LEN];
	const char	*sql;
	int		 r;

	if (f == NULL)
		f = &none;
	msg[0] = '\0';
	if (f->message != NULL)
		cut_utf8(f->message, msg, sizeof(msg));
	if (from == JOURNAL_ST_NONE && to != JOURNAL_ST_NONE) {
		if ((r = stmt_id_text(j, "INSERT OR IGNORE INTO enrollments "
		    "(user_id, state, created, updated) VALUES (?, ?, " NOW
		    ", " NOW ")", id, "none")) != JOURNAL_OK)
			return (r);
	}
	if (to == JOURNAL_ST_PENDING)
		sql = "UPDATE enrollments SET state = ?2, run_id = ?3, "
		    "attempts = attempts + 1, updated = " NOW ", "
		    "credential_id = NULL, device = NULL, aaguid = NULL, "
		    "method_id = NULL, model = NULL, display_name = NULL, "
		    "attestation = NULL, stage = NULL, error_code = NULL, "
		    "message = NULL, request_id = NULL, reason = NULL "
		    "WHERE user_id = ?1";
	else if (to == JOURNAL_ST_FAILED)
		sql = "UPDATE enrollments SET state = ?2, run_id = ?3, "
		    "updated = " NOW ", stage = ?9, error_code = ?10, "
		    "message = ?11, request_id = ?12 WHERE user_id = ?1";
	else if (to == JOURNAL_ST_SKIPPED)
		sql = "UPDATE enrollments SET state = ?2, run_id = ?3, "
		    "updated = " NOW ", reason = ?13, message = ?11 "
		    "WHERE user_id = ?1";
	else
		sql = "UPDATE enrollments SET state = ?2, run_id = ?3, "
		    "updated = " NOW ", "
		    "credential_id = coalesce(?5, credential_id), "
		    "device = coalesce(?6, device), "
		    "aaguid = coalesce(?7, aaguid), "
		    "method_id = coalesce(?8, method_id), "
		    "model = coalesce(?14, model), "
		    "display_name = coalesce(?15, display_name), "
		    "attestation = coalesce(?16, attestation) "
		    "WHERE user_id = ?1";
	if ((r = prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, journal_state_name(to));
	if (j->run_id != 0)
		sqlite3_bind_int64(st, 3, j->run_id);
	else
		sqlite3_bind_null(st, 3);
	bind_opt(st, 5, f->credential_id);
	bind_opt(st, 6, f->device);
	bind_opt(st, 7, f->aaguid);
	bind_opt(st, 8, f->method_id);
	bind_opt(st, 9, f->stage);
	bind_opt(st, 10, f->error_code);
	bind_opt(st, 11, f->message != NULL ? msg : NULL);
	bind_opt(st, 12, f->request_id);
	bind_opt(st, 13, f->reason);
	bind_opt(st, 14, f->model);
	bind_opt(st, 15, f->display_name);
	bind_opt(st, 16, f->attestation);
	r = step_done(j, st);
	release(j, st);
	st = NULL;
	if (r != JOURNAL_OK)
		return (r);
	/* history: what changed, never anything secret */
	snprintf(detail, sizeof(detail), "%s%s%s%s%s%s%s%s",
	    f->credential_id != NULL ? "credential " : "",
	    f->credential_id != NULL ? f->credential_id : "",
	    f->method_id != NULL ? " method " : "",
	    f->method_id != NULL ? f->method_id : "",
	    f->error_code != NULL ? " error " : "",
	    f->error_code != NULL ? f->error_code : "",
	    f->reason != NULL ? " reason " : "",
	    f->reason != NULL ? f->reason : "");
	if ((r = prepare(j, "INSERT INTO transitions (user_id, run_id, at, "
	    "from_state, to_state, detail) VALUES (?, ?, " NOW ", ?, ?, ?)",
	    &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	if (j->run_id != 0)
		sqlite3_bind_int64(st, 2, j->run_id);
	bind_text(st, 3, journal_state_name(from));
	bind_text(st, 4, journal_state_name(to));
	bind_text(st, 5, detail[0] == ' ' ? detail + 1 : detail);
	r = step_done(j, st);
	release(j, st);

	return (r);
}

int
journal_user_set_state(journal_t *j, const char *key,
    enum journal_state to, const struct journal_fields *f)
{
	journal_entry_t	*cur = NULL;
	long long	 id = 0;
	const char	*upn = NULL, *oid = NULL;
	char		 low[JOURNAL_KEY_LEN];
	int		 r;

	if (j == NULL || check_key(key) < 0 || check_fields(f) < 0 ||
	    to <= JOURNAL_ST_NONE || to > JOURNAL_ST_SKIPPED)
		return (JOURNAL_ERR_ARG);
	if (to == JOURNAL_ST_KEY_TOUCHED && (f == NULL ||
	    f->credential_id == NULL || *f->credential_id == '\0'))
		return (JOURNAL_ERR_ARG);
	if (to == JOURNAL_ST_REGISTERED && (f == NULL ||
	    f->method_id == NULL || *f->method_id == '\0'))
		return (JOURNAL_ERR_ARG);
	if ((cur = calloc(1, sizeof(*cur))) == NULL)
		return (JOURNAL_ERR_INTERNAL);
	if (f != NULL) {
		upn = f->upn;
		oid = f->object_id;
	}
	pthread_mutex_lock(&j->lock);
	if ((r = begin(j)) != JOURNAL_OK)
		goto fail;
	if ((r = find_user(j, key, &id)) != JOURNAL_OK)
		goto fail;
	if (id == 0) {
		if (to != JOURNAL_ST_PENDING && to != JOURNAL_ST_RESOLVED &&
		    to != JOURNAL_ST_FAILED && to != JOURNAL_ST_SKIPPED) {
			r = JOURNAL_ERR_NOT_FOUND;
			goto fail;
		}
		ascii_lower(key, low, sizeof(low));
		if (is_guid(low) && oid != NULL && strcasecmp(oid, low) != 0) {
			r = JOURNAL_ERR_ARG;
			goto fail;
		}
		/* created from the key; identity_update() adds the rest */
		if ((r = user_insert(j, is_guid(low) ? NULL : key,
		    is_guid(low) ? low : NULL, &id)) != JOURNAL_OK)
			goto fail;
	}
	if ((r = identity_update(j, &id, upn, oid)) != JOURNAL_OK ||
	    (r = load_entry(j, id, cur)) != JOURNAL_OK)
		goto fail;
	/* resolving a user found done under another key: stays done */
	if (to == JOURNAL_ST_RESOLVED && cur->state == JOURNAL_ST_DONE) {
		r = commit(j);
		goto fail;
	}
	if (!allowed(cur->state, to, cur)) {
		snprintf(j->errmsg, sizeof(j->errmsg), "%s -> %s",
		    journal_state_name(cur->state), journal_state_name(to));
		r = JOURNAL_ERR_STATE;
		goto fail;
	}
	if (to == JOURNAL_ST_RESOLVED && cur->object_id[0] == '\0') {
		r = JOURNAL_ERR_ARG;
		goto fail;
	}
	if (to == JOURNAL_ST_DONE && cur->method_id[0] == '\0' &&
	    (f == NULL || f->method_id == NULL || *f->method_id == '\0')) {
		r = JOURNAL_ERR_ARG;
		goto fail;
	}
	if ((r = write_enrollment(j, id, cur->state, to, f)) != JOURNAL_OK ||
	    (r = commit(j)) != JOURNAL_OK)
		goto fail;
	r = JOURNAL_OK;
fail:
	if (r != JOURNAL_OK)
		rollback(j);
	pthread_mutex_unlock(&j->lock);
	free(cur);

	return (r);
}

int
journal_user_forget(journal_t *j, const char *key)
{
	long long	id;
	int		r;

	if (j == NULL || check_key(key) < 0)
		return (JOURNAL_ERR_ARG);
	pthread_mutex_lock(&j->lock);
	if ((r = begin(j)) != JOURNAL_OK ||
	    (r = find_user(j, key, &id)) != JOURNAL_OK)
		goto fail;
	if (id == 0) {
		r = JOURNAL_ERR_NOT_FOUND;
		goto fail;
	}
	if ((r = stmt_id_id(j, "INSERT INTO transitions (user_id, run_id, "
	    "at, from_state, to_state, detail) SELECT ?1, nullif(?2, 0), "
	    NOW ", state, 'none', 'forgotten' FROM enrollments "
	    "WHERE user_id = ?1", id, j->run_id)) != JOURNAL_OK)
		goto fail;
	if ((r = stmt_id_text(j, "DELETE FROM enrollments WHERE user_id = ?1",
	    id, NULL)) != JOURNAL_OK ||
	    (r = commit(j)) != JOURNAL_OK)
		goto fail;
	r = JOURNAL_OK;
fail:
	if (r != JOURNAL_OK)
		rollback(j);
	pthread_mutex_unlock(&j->lock);

	return (r);
}

int
journal_pending_reconcile(journal_t *j, journal_reconcile_fn *fn,
    void *arg)
{
	sqlite3_stmt	*st = NULL;
	journal_entry_t	*v = NULL, *nv;
	size_t		 n = 0, cap = 0, i;
	int		 r, rc;

	if (j == NULL || fn == NULL)
		return (JOURNAL_ERR_ARG);
	pthread_mutex_lock(&j->lock);
	if ((r = prepare(j, "SELECT " ENTRY_COLS " WHERE e.state IN "
	    "('options_fetched', 'key_touched', 'registered', 'verified') "
	    "OR (e.state = 'failed' AND e.credential_id IS NOT NULL) "
	    "ORDER BY e.updated, u.id", &st)) != JOURNAL_OK) {
		pthread_mutex_unlock(&j->lock);
		return (r);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				r = JOURNAL_ERR_INTERNAL;
				break;
			}
			v = nv;
		}
		entry_from_row(st, &v[n++]);
	}
	if (r == JOURNAL_OK && rc != SQLITE_DONE)
		r = fail_sql(j, rc, "reconcile");
	release(j, st);
	/* the callback may call back into the journal */
	pthread_mutex_unlock(&j->lock);
	for (i = 0; r == JOURNAL_OK && i < n; i++)
		r = fn(&v[i], arg);
	free(v);

	return (r);
}
