/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * src/enroll/journal*.c: the state machine, durability across close/reopen,
 * reconcile after a crash, identity merging, schema checks, and
 * concurrent writers (threads sharing a handle, and two handles as
 * two processes would).
 */

#include <sys/stat.h>

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common.h"
#include "journal.h"
#include "testutil.h"

#define OID_A	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define OID_B	"7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define CRED	"Qk3Gx1s-AmxBzT0_8v3YrTq9UgBvV4qA1jWwqS-0dZE"

struct tmp {
	char	dir[256];
	char	path[300];
};

static int
setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-1);
	if (tu_tmpdir(t->dir, sizeof(t->dir), "test_journal") < 0)
		return (-1);
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, JOURNAL_FILE);
	*state = t;

	return (0);
}

static int
teardown(void **state)
{
	struct tmp	*t = *state;

	if (tu_rmtree(t->dir) < 0)
		return (-1);
	free(t);

	return (0);
}

static journal_t *
jopen(const struct tmp *t)
{
	journal_t	*j = NULL;
	int		 r;

	if ((r = journal_open(t->path, &j)) != JOURNAL_OK)
		fail_msg("journal_open: %s", journal_strerr(r));

	return (j);
}

static void
set(journal_t *j, const char *key, enum journal_state st,
    const struct journal_fields *f)
{
	int r;

	if ((r = journal_user_set_state(j, key, st, f)) != JOURNAL_OK)
		fail_msg("%s -> %s: %s (%s)", key, journal_state_name(st),
		    journal_strerr(r), journal_errmsg(j));
}

/* drive a user from nothing to done, as the pipeline does */
static void
full_run(journal_t *j, const char *upn, const char *oid)
{
	struct journal_fields f;

	memset(&f, 0, sizeof(f));
	f.upn = upn;
	set(j, upn, JOURNAL_ST_PENDING, &f);
	memset(&f, 0, sizeof(f));
	f.object_id = oid;
	f.upn = upn;
	set(j, upn, JOURNAL_ST_RESOLVED, &f);
	set(j, oid, JOURNAL_ST_OPTIONS_FETCHED, NULL);
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	f.device = "unix:/tmp/k1";
	f.aaguid = "ee882879-721c-4913-9775-3dfcce97072a";
	f.model = "YubiKey 5";
	f.display_name = "YubiKey 5 (2025-11-26)";
	set(j, oid, JOURNAL_ST_KEY_TOUCHED, &f);
	memset(&f, 0, sizeof(f));
	f.method_id = "method-1";
	f.attestation = "attested";
	set(j, oid, JOURNAL_ST_REGISTERED, &f);
	set(j, oid, JOURNAL_ST_VERIFIED, NULL);
	set(j, oid, JOURNAL_ST_DONE, NULL);
}

/*
 * Every fdatasync() of the process, SQLite's and the journal's own:
 * which transitions wait for the disk.
 */
static int nsync;

int
fdatasync(int fd)
{
	static int	(*real)(int);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
	__atomic_fetch_add(&nsync, 1, __ATOMIC_RELAXED);

	return (real(fd));
}

/* the disk syncs a transition waited for */
static int
syncs(journal_t *j, const char *key, enum journal_state st,
    const struct journal_fields *f)
{
	int before = nsync;

	set(j, key, st, f);
	return (nsync - before);
}

/*
 * Only a transition followed by something others see waits for the
 * disk: key_touched (the POST comes next) at once; resolved and
 * options_fetched are marked and synced before their action, which one
 * fsync does for every commit before it.  pending and done never wait.
 */
static void
test_durable_steps(void **state)
{
	struct tmp		*t = *state;
	struct journal_fields	 f;
	journal_t		*j;
	long long		 s1, s2, s3;
	int			 before;

	j = jopen(t);
	memset(&f, 0, sizeof(f));
	f.upn = "a@example.com";
	assert_int_equal(syncs(j, "a@example.com", JOURNAL_ST_PENDING, &f), 0);
	f.object_id = OID_A;
	before = nsync;
	assert_int_equal(journal_user_mark_state(j, "a@example.com",
	    JOURNAL_ST_RESOLVED, &f, &s1), JOURNAL_OK);
	assert_int_equal(journal_user_mark_state(j, OID_A,
	    JOURNAL_ST_OPTIONS_FETCHED, NULL, &s2), JOURNAL_OK);
	assert_int_equal(nsync, before);
	assert_true(s2 > s1);
	/* one fsync for both */
	assert_int_equal(journal_sync(j, s2), JOURNAL_OK);
	assert_int_equal(nsync, before + 1);
	assert_int_equal(journal_sync(j, s1), JOURNAL_OK);
	assert_int_equal(nsync, before + 1);
	/* b's options, then a's key_touched: its fsync covers b's too */
	memset(&f, 0, sizeof(f));
	f.upn = "b@example.com";
	f.object_id = OID_B;
	assert_int_equal(journal_user_mark_state(j, "b@example.com",
	    JOURNAL_ST_RESOLVED, &f, &s3), JOURNAL_OK);
	assert_int_equal(journal_user_mark_state(j, OID_B,
	    JOURNAL_ST_OPTIONS_FETCHED, NULL, &s3), JOURNAL_OK);
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	assert_true(syncs(j, OID_A, JOURNAL_ST_KEY_TOUCHED, &f) > 0);
	before = nsync;
	assert_int_equal(journal_sync(j, s3), JOURNAL_OK);
	assert_int_equal(nsync, before);
	memset(&f, 0, sizeof(f));
	f.method_id = "method-1";
	assert_int_equal(syncs(j, OID_A, JOURNAL_ST_DONE, &f), 0);
	journal_free(&j);
	/* all of it there after a close */
	j = jopen(t);
	assert_int_equal(journal_is_done(j, OID_A), 1);
	journal_free(&j);
}

/* the single integer a query gives: a count, a pragma */
static long long
db_count(const struct tmp *t, const char *sql)
{
	sqlite3		*db = NULL;
	sqlite3_stmt	*st = NULL;
	long long	 n;

	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);

	return (n);
}

/*
 * Users taken together are journalled in one commit, each with its own
 * fields, and not at all when one of them cannot move: the commit is
 * all of them or none, with no fsync.
 */
static void
test_many(void **state)
{
	struct tmp		*t = *state;
	struct journal_fields	 f[3];
	const char		*keys[3] = { "a@example.com", "b@example.com",
				    "c@example.com" };
	const char		*oids[2] = { OID_A, OID_B };
	journal_entry_t		 e;
	journal_t		*j;
	long long		 seq = 0, s2 = 0;
	int			 before;

	j = jopen(t);
	memset(f, 0, sizeof(f));
	f[0].upn = keys[0];
	f[1].upn = keys[1];
	f[2].upn = keys[2];
	before = nsync;
	assert_int_equal(journal_users_mark_state(j, keys, f, 3,
	    JOURNAL_ST_PENDING, &seq), JOURNAL_OK);
	assert_int_equal(nsync, before);
	assert_true(seq > 0);
	assert_int_equal(journal_user_get(j, keys[2], &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_PENDING);
	/* each its own object id */
	memset(f, 0, sizeof(f));
	f[0].upn = keys[0];
	f[0].object_id = OID_A;
	f[1].upn = keys[1];
	f[1].object_id = OID_B;
	assert_int_equal(journal_users_mark_state(j, keys, f, 2,
	    JOURNAL_ST_RESOLVED, &s2), JOURNAL_OK);
	assert_true(s2 > seq);
	assert_int_equal(journal_user_get(j, OID_B, &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_RESOLVED);
	assert_string_equal(e.upn, "b@example.com");
	assert_int_equal(journal_user_get(j, OID_A, &e), JOURNAL_OK);
	assert_string_equal(e.upn, "a@example.com");
	/* b may not skip to key_touched: neither moves */
	set(j, OID_A, JOURNAL_ST_OPTIONS_FETCHED, NULL);
	memset(f, 0, sizeof(f));
	f[0].credential_id = CRED;
	f[1].credential_id = CRED;
	assert_int_equal(journal_users_mark_state(j, oids, f, 2,
	    JOURNAL_ST_KEY_TOUCHED, &seq), JOURNAL_ERR_STATE);
	assert_int_equal(journal_user_get(j, OID_A, &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_OPTIONS_FETCHED);
	assert_string_equal(e.credential_id, "");
	/* an argument wrong for one: refused before anything is written */
	assert_int_equal(journal_users_mark_state(j, oids, NULL, 2,
	    JOURNAL_ST_KEY_TOUCHED, &seq), JOURNAL_ERR_ARG);
	journal_free(&j);
	/* a: pending, resolved, options_fetched; b: pending, resolved;
	 * c: pending */
	assert_int_equal(db_count(t, "SELECT count(*) FROM transitions"), 6);
}

/*
 * Opening a journal as it is, and beginning a run, wait for no disk
 * sync; the run's row is on disk with the next synced commit.  A fresh
 * journal's schema is synced.
 */
static void
test_open_and_run_unsynced(void **state)
{
	struct tmp		*t = *state;
	struct journal_fields	 f;
	journal_t		*j;
	long long		 run, seq;
	int			 before;

	before = nsync;
	j = jopen(t);
	assert_true(nsync > before);
	journal_free(&j);
	before = nsync;
	j = jopen(t);
	assert_int_equal(journal_run_begin(j, "enroll a@example.com", NULL,
	    &run), JOURNAL_OK);
	assert_int_equal(nsync, before);
	memset(&f, 0, sizeof(f));
	f.upn = "a@example.com";
	assert_int_equal(journal_user_set_state(j, "a@example.com",
	    JOURNAL_ST_PENDING, &f), JOURNAL_OK);
	f.object_id = OID_A;
	assert_int_equal(journal_user_mark_state(j, "a@example.com",
	    JOURNAL_ST_RESOLVED, &f, &seq), JOURNAL_OK);
	assert_int_equal(nsync, before);
	assert_int_equal(journal_sync(j, seq), JOURNAL_OK);
	assert_int_equal(nsync, before + 1);
	journal_free(&j);
	assert_int_equal(db_count(t, "SELECT count(*) FROM runs"), 1);
	assert_int_equal(db_count(t, "SELECT count(*) FROM transitions "
	    "WHERE run_id IS NOT NULL"), 2);
}

/* SQL run on the journal file behind the journal's back */
static void
db_exec(const struct tmp *t, const char *sql)
{
	sqlite3	*db = NULL;

	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void
test_open_schema(void **state)
{
	struct tmp	*t = *state;
	journal_t	*j = jopen(t);
	struct stat	 st;
	sqlite3		*db = NULL;
	sqlite3_stmt	*s = NULL;

	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	journal_free(&j);
	assert_null(j);
	journal_free(&j);
	/* versioned schema, WAL */
	assert_int_equal(db_count(t, "PRAGMA user_version"), JOURNAL_SCHEMA);
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	/* a newer schema is refused, not rewritten */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_VERSION);
	assert_null(j);
}

/* a schema 1 journal gains passkey_type and warning, rows kept */
static void
test_migrate_1(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	struct journal_fields	 f;
	journal_entry_t		 e;

	full_run(j, "Bob@Contoso.com", OID_A);
	journal_free(&j);
	/* back to what version 1 wrote */
	db_exec(t, "ALTER TABLE enrollments DROP COLUMN passkey_type; "
	    "ALTER TABLE enrollments DROP COLUMN warning; "
	    "ALTER TABLE enrollments DROP COLUMN body; "
	    "PRAGMA user_version = 1");
	j = jopen(t);
	assert_int_equal(journal_user_get(j, OID_A, &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_DONE);
	assert_string_equal(e.method_id, "method-1");
	assert_string_equal(e.passkey_type, "");
	assert_string_equal(e.warning, "");
	/* a new attempt records them, and clears them on the next */
	assert_int_equal(journal_user_forget(j, OID_A), JOURNAL_OK);
	memset(&f, 0, sizeof(f));
	f.upn = "Bob@Contoso.com";
	set(j, OID_A, JOURNAL_ST_PENDING, &f);
	memset(&f, 0, sizeof(f));
	f.object_id = OID_A;
	set(j, OID_A, JOURNAL_ST_RESOLVED, &f);
	set(j, OID_A, JOURNAL_ST_OPTIONS_FETCHED, NULL);
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	set(j, OID_A, JOURNAL_ST_KEY_TOUCHED, &f);
	memset(&f, 0, sizeof(f));
	f.method_id = "method-2";
	f.attestation = "attested";
	f.passkey_type = "deviceBound";
	f.warning = "AAGUID 00000000-0000-0000-0000-000000000000, not the "
	    "key's ee882879-721c-4913-9775-3dfcce97072a";
	set(j, OID_A, JOURNAL_ST_DONE, &f);
	journal_free(&j);
	j = jopen(t);
	assert_int_equal(journal_user_get(j, OID_A, &e), JOURNAL_OK);
	assert_string_equal(e.passkey_type, "deviceBound");
	assert_non_null(strstr(e.warning, "not the key's ee882879"));
	journal_free(&j);
	assert_int_equal(db_count(t, "PRAGMA user_version"), JOURNAL_SCHEMA);
}

/*
 * The registration body: recorded with the credential, kept through a
 * failure (the resume sends it again), gone once done or started over;
 * a schema 2 journal gains the column, its users have none.
 */
static void	make_user(journal_t *, const char *, const char *,
		    enum journal_state, int);

static void
test_body(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	struct journal_fields	 f;
	char			*b = NULL;
	double			 age = -1;
	static const char	 body[] = "{\"publicKeyCredential\":{}}";

	make_user(j, "u1@x", OID_A, JOURNAL_ST_OPTIONS_FETCHED, 0);
	assert_int_equal(journal_user_body(j, OID_A, &b, &age), JOURNAL_OK);
	assert_null(b);
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	f.body = body;
	set(j, OID_A, JOURNAL_ST_KEY_TOUCHED, &f);
	journal_free(&j);
	j = jopen(t);
	assert_int_equal(journal_user_body(j, OID_A, &b, &age), JOURNAL_OK);
	assert_string_equal(b, body);
	free(b);
	/* recorded just now; an hour later, an hour old */
	assert_true(age >= 0 && age < 60);
	journal_free(&j);
	db_exec(t, "UPDATE enrollments SET updated = "
	    "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-3600 seconds')");
	j = jopen(t);
	assert_int_equal(journal_user_body(j, OID_A, &b, &age), JOURNAL_OK);
	assert_string_equal(b, body);
	free(b);
	assert_true(age >= 3600 && age < 3660);
	memset(&f, 0, sizeof(f));
	f.stage = "register";
	f.error_code = "network";
	set(j, OID_A, JOURNAL_ST_FAILED, &f);
	assert_int_equal(journal_user_body(j, OID_A, &b, &age), JOURNAL_OK);
	assert_string_equal(b, body);
	free(b);
	set(j, OID_A, JOURNAL_ST_PENDING, NULL);
	assert_int_equal(journal_user_body(j, OID_A, &b, &age), JOURNAL_OK);
	assert_null(b);
	/* done drops it */
	memset(&f, 0, sizeof(f));
	f.object_id = OID_A;
	set(j, OID_A, JOURNAL_ST_RESOLVED, &f);
	set(j, OID_A, JOURNAL_ST_OPTIONS_FETCHED, NULL);
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	f.body = body;
	set(j, OID_A, JOURNAL_ST_KEY_TOUCHED, &f);
	memset(&f, 0, sizeof(f));
	f.method_id = "m-1";
	set(j, OID_A, JOURNAL_ST_DONE, &f);
	assert_int_equal(journal_user_body(j, OID_A, &b, &age), JOURNAL_OK);
	assert_null(b);
	assert_int_equal(journal_user_body(j, "nobody@x", &b, &age),
	    JOURNAL_ERR_NOT_FOUND);
	assert_null(b);
	make_user(j, "u2@x", OID_B, JOURNAL_ST_KEY_TOUCHED, 0);
	journal_free(&j);
	/* back to schema 2 */
	db_exec(t, "ALTER TABLE enrollments DROP COLUMN body; "
	    "PRAGMA user_version = 2");
	j = jopen(t);
	assert_int_equal(journal_user_body(j, OID_B, &b, &age), JOURNAL_OK);
	assert_null(b);
	journal_free(&j);
}

static void
test_not_a_journal(void **state)
{
	struct tmp	*t = *state;
	journal_t	*j = NULL;
	sqlite3		*db = NULL;
	FILE		*f;

	assert_non_null(f = fopen(t->path, "w"));
	fputs("this is not a database, just a text file of some length "
	    "that SQLite will reject as such ..........................\n", f);
	fclose(f);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_CORRUPT);
	assert_null(j);
	unlink(t->path);
	/* someone else's database */
	assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE x (y)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_CORRUPT);
	assert_int_equal(journal_open("/nonexistent/dir/j.sqlite", &j),
	    JOURNAL_ERR_IO);
	assert_int_equal(journal_open(NULL, &j), JOURNAL_ERR_ARG);
}

static void
test_transitions_persist(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	journal_entry_t		 e;
	struct journal_counts	 c;
	long long		 run = 0;

	assert_int_equal(journal_run_begin(j, "enroll --csv users.csv",
	    "csv:users.csv", &run), JOURNAL_OK);
	assert_true(run > 0);
	full_run(j, "Alice@Contoso.com", OID_A);
	assert_int_equal(journal_run_end(j, run, JOURNAL_RUN_DONE),
	    JOURNAL_OK);
	assert_int_equal(journal_run_end(j, 999, JOURNAL_RUN_DONE),
	    JOURNAL_ERR_NOT_FOUND);
	journal_free(&j);

	/* everything is there after a reopen, by either key */
	j = jopen(t);
	assert_int_equal(journal_user_get(j, OID_A, &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_DONE);
	assert_string_equal(e.user_key, OID_A);
	assert_string_equal(e.upn, "Alice@Contoso.com");
	assert_string_equal(e.object_id, OID_A);
	assert_string_equal(e.credential_id, CRED);
	assert_string_equal(e.device, "unix:/tmp/k1");
	assert_string_equal(e.aaguid, "ee882879-721c-4913-9775-3dfcce97072a");
	assert_string_equal(e.method_id, "method-1");
	assert_string_equal(e.model, "YubiKey 5");
	assert_string_equal(e.display_name, "YubiKey 5 (2025-11-26)");
	assert_string_equal(e.attestation, "attested");
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.run_id, run);
	assert_true(strlen(e.created) > 0 && strlen(e.updated) > 0);
	assert_int_equal(journal_user_get(j, "alice@contoso.com", &e),
	    JOURNAL_OK);
	assert_string_equal(e.object_id, OID_A);
	assert_int_equal(journal_user_get(j, "ALICE@CONTOSO.COM", &e),
	    JOURNAL_OK);
	assert_int_equal(journal_user_get(j, "0F8FAD5B-D9CB-469F-A165-"
	    "70867728950E", &e), JOURNAL_OK);
	assert_int_equal(journal_is_done(j, "alice@contoso.com"), 1);
	assert_int_equal(journal_is_done(j, "nobody@contoso.com"), 0);
	assert_int_equal(journal_user_get(j, "nobody@contoso.com", &e),
	    JOURNAL_ERR_NOT_FOUND);
	assert_int_equal(journal_counts(j, run, &c), JOURNAL_OK);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.total, 1);
	journal_free(&j);
}

static void
test_invalid_transitions(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	struct journal_fields	 f;
	journal_entry_t		 e;

	/* unknown users can only start */
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_KEY_TOUCHED, NULL), JOURNAL_ERR_ARG);
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_OPTIONS_FETCHED, NULL), JOURNAL_ERR_NOT_FOUND);
	set(j, "x@y", JOURNAL_ST_PENDING, NULL);
	/* skipping stages */
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_OPTIONS_FETCHED, NULL), JOURNAL_ERR_STATE);
	assert_int_equal(journal_user_set_state(j, "x@y", JOURNAL_ST_DONE,
	    NULL), JOURNAL_ERR_STATE);
	/* resolved needs an object id */
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_RESOLVED, NULL), JOURNAL_ERR_ARG);
	memset(&f, 0, sizeof(f));
	f.object_id = "not-a-guid";
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_RESOLVED, &f), JOURNAL_ERR_ARG);
	f.object_id = OID_B;
	set(j, "x@y", JOURNAL_ST_RESOLVED, &f);
	set(j, "x@y", JOURNAL_ST_OPTIONS_FETCHED, NULL);
	set(j, "x@y", JOURNAL_ST_OPTIONS_FETCHED, NULL);	/* re-fetch */
	/* key_touched needs the credential id, registered the method */
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_KEY_TOUCHED, NULL), JOURNAL_ERR_ARG);
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	set(j, "x@y", JOURNAL_ST_KEY_TOUCHED, &f);
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_REGISTERED, NULL), JOURNAL_ERR_ARG);
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_VERIFIED, NULL), JOURNAL_ERR_STATE);
	/* found registered on resume: straight to done, with the id */
	assert_int_equal(journal_user_set_state(j, "x@y", JOURNAL_ST_DONE,
	    NULL), JOURNAL_ERR_ARG);
	memset(&f, 0, sizeof(f));
	f.method_id = "m-2";
	set(j, "x@y", JOURNAL_ST_DONE, &f);
	/* done stays done */
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_PENDING, NULL), JOURNAL_ERR_STATE);
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_FAILED, NULL), JOURNAL_ERR_STATE);
	assert_int_equal(journal_user_set_state(j, "x@y",
	    JOURNAL_ST_SKIPPED, NULL), JOURNAL_ERR_STATE);
	/* unless forgotten (e.g. --replace) */
	assert_int_equal(journal_user_forget(j, "x@y"), JOURNAL_OK);
	assert_int_equal(journal_user_get(j, "x@y", &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_NONE);
	assert_string_equal(e.object_id, OID_B);
	set(j, "x@y", JOURNAL_ST_PENDING, NULL);
	assert_int_equal(journal_user_get(j, OID_B, &e), JOURNAL_OK);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(journal_user_forget(j, "nobody@x"),
	    JOURNAL_ERR_NOT_FOUND);
	/* bad arguments */
	assert_int_equal(journal_user_set_state(j, "", JOURNAL_ST_PENDING,
	    NULL), JOURNAL_ERR_ARG);
	assert_int_equal(journal_user_set_state(j, "x@y", JOURNAL_ST_NONE,
	    NULL), JOURNAL_ERR_ARG);
	assert_int_equal(journal_user_set_state(j, "x@y",
	    (enum journal_state)42, NULL), JOURNAL_ERR_ARG);
	journal_free(&j);
}

static void
test_retry_and_failure(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	struct journal_fields	 f;
	journal_entry_t		 e;
	char			 msg[2000];

	set(j, "bob@contoso.com", JOURNAL_ST_PENDING, NULL);
	memset(&f, 0, sizeof(f));
	f.object_id = OID_B;
	set(j, "bob@contoso.com", JOURNAL_ST_RESOLVED, &f);
	set(j, OID_B, JOURNAL_ST_OPTIONS_FETCHED, NULL);
	/* a long message is cut at a character boundary */
	memset(msg, 'x', sizeof(msg));
	memcpy(msg + 510, "\xc3\xa9", 2);	/* straddles byte 511 */
	msg[sizeof(msg) - 1] = '\0';
	memset(&f, 0, sizeof(f));
	f.stage = "key";
	f.error_code = "ctap_timeout";
	f.message = msg;
	f.request_id = "req-123";
	set(j, OID_B, JOURNAL_ST_FAILED, &f);
	assert_int_equal(journal_user_get(j, OID_B, &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_FAILED);
	assert_string_equal(e.stage, "key");
	assert_string_equal(e.error_code, "ctap_timeout");
	assert_string_equal(e.request_id, "req-123");
	assert_int_equal(strlen(e.message), 510);
	/* a new attempt clears the failure and counts */
	set(j, OID_B, JOURNAL_ST_PENDING, NULL);
	assert_int_equal(journal_user_get(j, OID_B, &e), JOURNAL_OK);
	assert_int_equal(e.attempts, 2);
	assert_string_equal(e.stage, "");
	assert_string_equal(e.error_code, "");
	memset(&f, 0, sizeof(f));
	f.reason = "already has a passkey";
	set(j, OID_B, JOURNAL_ST_SKIPPED, &f);
	assert_int_equal(journal_user_get(j, "bob@contoso.com", &e),
	    JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_SKIPPED);
	assert_string_equal(e.reason, "already has a passkey");
	/* failed / skipped users can be created outright */
	memset(&f, 0, sizeof(f));
	f.stage = "resolve";
	f.error_code = "Request_ResourceNotFound";
	set(j, "ghost@contoso.com", JOURNAL_ST_FAILED, &f);
	memset(&f, 0, sizeof(f));
	f.reason = "duplicate of row 3";
	set(j, "dup@contoso.com", JOURNAL_ST_SKIPPED, &f);
	assert_int_equal(journal_is_done(j, "ghost@contoso.com"), 0);
	journal_free(&j);
}

struct seen {
	char	keys[16][JOURNAL_KEY_LEN];
	int	states[16];
	size_t	n;
	size_t	stop_after;
	journal_t *j;
};

static int
collect(const journal_entry_t *e, void *arg)
{
	struct seen		*s = arg;
	struct journal_fields	 f;

	assert_true(s->n < 16);
	snprintf(s->keys[s->n], JOURNAL_KEY_LEN, "%s", e->user_key);
	s->states[s->n] = e->state;
	s->n++;
	if (s->j != NULL) {
		/* the callback may call back in: no deadlock */
		memset(&f, 0, sizeof(f));
		if (e->credential_id[0] != '\0') {
			f.method_id = "found-on-resume";
			if (journal_user_set_state(s->j, e->user_key,
			    JOURNAL_ST_DONE, &f) != JOURNAL_OK)
				return (-100);
		} else if (journal_user_set_state(s->j, e->user_key,
		    JOURNAL_ST_PENDING, &f) != JOURNAL_OK)
			return (-100);
	}
	if (s->stop_after != 0 && s->n == s->stop_after)
		return (7);

	return (0);
}

static void
make_user(journal_t *j, const char *upn, const char *oid,
    enum journal_state upto, int with_cred)
{
	struct journal_fields f;

	set(j, upn, JOURNAL_ST_PENDING, NULL);
	if (upto == JOURNAL_ST_PENDING)
		return;
	memset(&f, 0, sizeof(f));
	f.object_id = oid;
	set(j, upn, JOURNAL_ST_RESOLVED, &f);
	if (upto == JOURNAL_ST_RESOLVED)
		return;
	set(j, oid, JOURNAL_ST_OPTIONS_FETCHED, NULL);
	if (upto == JOURNAL_ST_OPTIONS_FETCHED)
		return;
	if (upto == JOURNAL_ST_FAILED) {
		if (with_cred) {
			memset(&f, 0, sizeof(f));
			f.credential_id = CRED;
			set(j, oid, JOURNAL_ST_KEY_TOUCHED, &f);
		}
		memset(&f, 0, sizeof(f));
		f.stage = "register";
		f.error_code = "timeout";
		set(j, oid, JOURNAL_ST_FAILED, &f);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	set(j, oid, JOURNAL_ST_KEY_TOUCHED, &f);
	if (upto == JOURNAL_ST_KEY_TOUCHED)
		return;
	memset(&f, 0, sizeof(f));
	f.method_id = "m";
	set(j, oid, JOURNAL_ST_REGISTERED, &f);
	if (upto == JOURNAL_ST_REGISTERED)
		return;
	set(j, oid, JOURNAL_ST_VERIFIED, NULL);
	if (upto == JOURNAL_ST_VERIFIED)
		return;
	set(j, oid, JOURNAL_ST_DONE, NULL);
}

static void
test_reconcile(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	struct seen		 s;
	struct journal_counts	 c;
	size_t			 i;
	static const char *const want[] = {
		"00000000-0000-4000-8000-000000000003",	/* options */
		"00000000-0000-4000-8000-000000000004",	/* key_touched */
		"00000000-0000-4000-8000-000000000005",	/* registered */
		"00000000-0000-4000-8000-000000000006",	/* verified */
		"00000000-0000-4000-8000-000000000009",	/* failed, cred */
	};

	make_user(j, "u1@x", "00000000-0000-4000-8000-000000000001",
	    JOURNAL_ST_PENDING, 0);
	make_user(j, "u2@x", "00000000-0000-4000-8000-000000000002",
	    JOURNAL_ST_RESOLVED, 0);
	make_user(j, "u3@x", "00000000-0000-4000-8000-000000000003",
	    JOURNAL_ST_OPTIONS_FETCHED, 0);
	make_user(j, "u4@x", "00000000-0000-4000-8000-000000000004",
	    JOURNAL_ST_KEY_TOUCHED, 0);
	make_user(j, "u5@x", "00000000-0000-4000-8000-000000000005",
	    JOURNAL_ST_REGISTERED, 0);
	make_user(j, "u6@x", "00000000-0000-4000-8000-000000000006",
	    JOURNAL_ST_VERIFIED, 0);
	make_user(j, "u7@x", "00000000-0000-4000-8000-000000000007",
	    JOURNAL_ST_DONE, 0);
	make_user(j, "u8@x", "00000000-0000-4000-8000-000000000008",
	    JOURNAL_ST_FAILED, 0);
	make_user(j, "u9@x", "00000000-0000-4000-8000-000000000009",
	    JOURNAL_ST_FAILED, 1);
	journal_free(&j);

	/* a "crash" later: reopen, list the intermediate ones */
	j = jopen(t);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_pending_reconcile(j, collect, &s),
	    JOURNAL_OK);
	assert_int_equal(s.n, 5);
	for (i = 0; i < 5; i++)
		assert_string_equal(s.keys[i], want[i]);
	assert_int_equal(s.states[1], JOURNAL_ST_KEY_TOUCHED);
	assert_int_equal(s.states[4], JOURNAL_ST_FAILED);
	/* the callback's return value stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(journal_pending_reconcile(j, collect, &s), 7);
	assert_int_equal(s.n, 2);
	/* resolving them from inside the callback */
	memset(&s, 0, sizeof(s));
	s.j = j;
	assert_int_equal(journal_pending_reconcile(j, collect, &s),
	    JOURNAL_OK);
	assert_int_equal(s.n, 5);
	memset(&s, 0, sizeof(s));
	assert_int_equal(journal_pending_reconcile(j, collect, &s),
	    JOURNAL_OK);
	assert_int_equal(s.n, 0);
	assert_int_equal(journal_counts(j, 0, &c), JOURNAL_OK);
	/* u4, u5, u6, u7, u9 done; u3 pending again; u8 failed */
	assert_int_equal(c.done, 5);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.remaining, 3);
	assert_int_equal(c.total, 9);
	journal_free(&j);
}

static void
test_identity(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t);
	struct journal_fields	 f;
	journal_entry_t		 e;
	char			 key[JOURNAL_KEY_LEN];

	assert_int_equal(journal_user_key("Alice@Contoso.COM", NULL, key,
	    sizeof(key)), JOURNAL_OK);
	assert_string_equal(key, "alice@contoso.com");
	assert_int_equal(journal_user_key("Alice@Contoso.COM",
	    "0F8FAD5B-D9CB-469F-A165-70867728950E", key, sizeof(key)),
	    JOURNAL_OK);
	assert_string_equal(key, OID_A);
	assert_int_equal(journal_user_key(NULL, "", key, sizeof(key)),
	    JOURNAL_ERR_ARG);

	/* run 1 reached the user by object id and failed */
	memset(&f, 0, sizeof(f));
	f.upn = "carol@contoso.com";
	set(j, OID_A, JOURNAL_ST_PENDING, &f);
	memset(&f, 0, sizeof(f));
	f.stage = "key";
	set(j, OID_A, JOURNAL_ST_FAILED, &f);
	/* run 2 by a new UPN (renamed): a separate row until resolved */
	set(j, "carol.new@contoso.com", JOURNAL_ST_PENDING, NULL);
	memset(&f, 0, sizeof(f));
	f.object_id = OID_A;
	f.upn = "carol.new@contoso.com";
	set(j, "carol.new@contoso.com", JOURNAL_ST_RESOLVED, &f);
	/* one user now, with the new UPN and both attempts */
	assert_int_equal(journal_user_get(j, OID_A, &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_RESOLVED);
	assert_string_equal(e.upn, "carol.new@contoso.com");
	assert_int_equal(e.attempts, 2);
	assert_string_equal(e.stage, "");
	assert_int_equal(journal_user_get(j, "carol.new@contoso.com", &e),
	    JOURNAL_OK);
	assert_string_equal(e.object_id, OID_A);
	assert_int_equal(journal_user_get(j, "carol@contoso.com", &e),
	    JOURNAL_ERR_NOT_FOUND);

	/* a UPN that now belongs to someone else moves to them */
	set(j, "shared@contoso.com", JOURNAL_ST_PENDING, NULL);
	memset(&f, 0, sizeof(f));
	f.object_id = "11111111-1111-4111-8111-111111111111";
	set(j, "shared@contoso.com", JOURNAL_ST_RESOLVED, &f);
	set(j, "shared@contoso.com", JOURNAL_ST_PENDING, NULL);
	memset(&f, 0, sizeof(f));
	f.object_id = "22222222-2222-4222-8222-222222222222";
	f.upn = "shared@contoso.com";
	set(j, "shared@contoso.com", JOURNAL_ST_RESOLVED, &f);
	assert_int_equal(journal_user_get(j, "shared@contoso.com", &e),
	    JOURNAL_OK);
	assert_string_equal(e.object_id,
	    "22222222-2222-4222-8222-222222222222");
	assert_int_equal(journal_user_get(j,
	    "11111111-1111-4111-8111-111111111111", &e), JOURNAL_OK);
	assert_string_equal(e.upn, "");
	assert_int_equal(e.state, JOURNAL_ST_NONE);	/* attempt moved */
	assert_int_equal(journal_user_get(j,
	    "22222222-2222-4222-8222-222222222222", &e), JOURNAL_OK);
	assert_int_equal(e.state, JOURNAL_ST_RESOLVED);

	/* reached under a new UPN after being enrolled: stays done */
	full_run(j, "dora@contoso.com", OID_B);
	set(j, "dora.renamed@contoso.com", JOURNAL_ST_PENDING, NULL);
	memset(&f, 0, sizeof(f));
	f.object_id = OID_B;
	f.upn = "dora.renamed@contoso.com";
	set(j, "dora.renamed@contoso.com", JOURNAL_ST_RESOLVED, &f);
	assert_int_equal(journal_is_done(j, OID_B), 1);
	assert_int_equal(journal_user_get(j, OID_B, &e), JOURNAL_OK);
	assert_string_equal(e.upn, "dora.renamed@contoso.com");
	assert_string_equal(e.credential_id, CRED);
	/* a GUID key with a different object id is a caller bug */
	memset(&f, 0, sizeof(f));
	f.object_id = OID_B;
	assert_int_equal(journal_user_set_state(j,
	    "33333333-3333-4333-8333-333333333333", JOURNAL_ST_PENDING, &f),
	    JOURNAL_ERR_ARG);
	journal_free(&j);
}

#define NTHREADS	4
#define NUSERS		40

struct worker {
	journal_t	*j;
	int		 id;
	int		 errors;
};

static void *
worker(void *arg)
{
	struct worker		*w = arg;
	struct journal_fields	 f;
	char			 upn[64], oid[64], mid[32];
	int			 i, r;

	for (i = 0; i < NUSERS; i++) {
		snprintf(upn, sizeof(upn), "t%d-u%d@contoso.com", w->id, i);
		snprintf(oid, sizeof(oid), "%08x-0000-4000-8000-%012x",
		    w->id, i);
		snprintf(mid, sizeof(mid), "m-%d-%d", w->id, i);
		memset(&f, 0, sizeof(f));
		f.upn = upn;
		r = journal_user_set_state(w->j, upn, JOURNAL_ST_PENDING, &f);
		f.object_id = oid;
		r |= journal_user_set_state(w->j, upn, JOURNAL_ST_RESOLVED, &f);
		r |= journal_user_set_state(w->j, oid,
		    JOURNAL_ST_OPTIONS_FETCHED, NULL);
		memset(&f, 0, sizeof(f));
		f.credential_id = CRED;
		f.device = upn;
		r |= journal_user_set_state(w->j, oid, JOURNAL_ST_KEY_TOUCHED,
		    &f);
		memset(&f, 0, sizeof(f));
		f.method_id = mid;
		r |= journal_user_set_state(w->j, oid, JOURNAL_ST_REGISTERED,
		    &f);
		if (i % 5 == 0) {
			memset(&f, 0, sizeof(f));
			f.stage = "verify";
			r |= journal_user_set_state(w->j, oid,
			    JOURNAL_ST_FAILED, &f);
		} else
			r |= journal_user_set_state(w->j, oid, JOURNAL_ST_DONE,
			    NULL);
		if (r != JOURNAL_OK)
			w->errors++;
	}

	return (NULL);
}

static void
test_concurrent(void **state)
{
	struct tmp		*t = *state;
	journal_t		*j = jopen(t), *j2 = jopen(t);
	pthread_t		 tid[NTHREADS];
	struct worker		 w[NTHREADS];
	struct journal_counts	 c;
	journal_entry_t		 e;
	long long		 run;
	int			 i;

	assert_int_equal(journal_run_begin(j, "enroll (threads)", NULL,
	    &run), JOURNAL_OK);
	/* two threads on each of two handles: threads and processes */
	for (i = 0; i < NTHREADS; i++) {
		w[i].j = i % 2 ? j2 : j;
		w[i].id = i;
		w[i].errors = 0;
		assert_int_equal(pthread_create(&tid[i], NULL, worker, &w[i]),
		    0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(w[i].errors, 0);
	}
	journal_free(&j2);
	journal_free(&j);
	j = jopen(t);
	assert_int_equal(journal_counts(j, 0, &c), JOURNAL_OK);
	assert_int_equal(c.total, NTHREADS * NUSERS);
	assert_int_equal(c.failed, NTHREADS * (NUSERS / 5));
	assert_int_equal(c.done, NTHREADS * NUSERS - c.failed);
	assert_int_equal(c.remaining, 0);
	/* the handle that began the run tagged its users with it */
	assert_int_equal(journal_counts(j, run, &c), JOURNAL_OK);
	assert_int_equal(c.total, 2 * NUSERS);
	assert_int_equal(journal_user_get(j, "t3-u7@contoso.com", &e),
	    JOURNAL_OK);
	assert_string_equal(e.method_id, "m-3-7");
	assert_string_equal(e.device, "t3-u7@contoso.com");
	journal_free(&j);
}

/*
 * A journal (or its -wal, -shm) another user owns or can write is
 * refused: its owner could make us believe anyone is enrolled.  Needs
 * root to give a file away; skipped otherwise.
 */
static void
test_foreign_owner(void **state)
{
	struct tmp	*t = *state;
	journal_t	*j = NULL;
	char		 side[320];
	FILE		*f;

	if (geteuid() != 0)
		skip();
	j = jopen(t);
	journal_free(&j);
	assert_int_equal(chown(t->path, 65534, 65534), 0);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_PERM);
	assert_null(j);
	assert_string_equal(journal_strerr(JOURNAL_ERR_PERM),
	    "journal not owned by you, or writable by others");
	/* ours again, but writable by everyone */
	assert_int_equal(chown(t->path, 0, 0), 0);
	assert_int_equal(chmod(t->path, 0666), 0);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_PERM);
	assert_int_equal(chmod(t->path, 0600), 0);
	j = jopen(t);
	journal_free(&j);
	/* a -wal planted by someone else */
	snprintf(side, sizeof(side), "%s-wal", t->path);
	(void)unlink(side);
	assert_non_null(f = fopen(side, "w"));
	fclose(f);
	assert_int_equal(chown(side, 65534, 65534), 0);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_PERM);
	assert_int_equal(unlink(side), 0);
	/* a -shm that is a symbolic link */
	snprintf(side, sizeof(side), "%s-shm", t->path);
	(void)unlink(side);
	assert_int_equal(symlink("/etc/passwd", side), 0);
	assert_int_equal(journal_open(t->path, &j), JOURNAL_ERR_PERM);
	assert_int_equal(unlink(side), 0);
	j = jopen(t);
	journal_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_1, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_and_run_unsynced,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_schema, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_a_journal, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transitions_persist,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_transitions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_and_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconcile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_durable_steps, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_owner, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
