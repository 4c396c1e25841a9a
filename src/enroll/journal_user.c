/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The journal's per-user half (see journal.h): finding a user by
 * object id or UPN, the state machine of their enrollment, merging the
 * rows of one person reached by two names, and the hand-over of
 * interrupted enrollments to the resume.
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
#include "journal_int.h"

/* a key that is a GUID is an object id; anything else a UPN */
static bool
is_guid(const char *s)
{
	return (guid_valid(s, strlen(s)));
}

/* users.id for a key (object id if a GUID, else UPN), 0 if none */
static int
find_user(journal_t *j, const char *key, long long *id)
{
	sqlite3_stmt	*st = NULL;
	char		 low[JOURNAL_KEY_LEN];
	int		 r, rc;

	*id = 0;
	journal_ascii_lower(key, low, sizeof(low));
	if ((r = journal_db_prepare(j, is_guid(low) ?
	    "SELECT id FROM users WHERE object_id = ?" :
	    "SELECT id FROM users WHERE upn_lower = ?", &st)) != JOURNAL_OK)
		return (r);
	journal_db_bind(st, 1, low);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE) {
		r = journal_db_fail(j, rc, "find user");
		goto fail;
	}
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);

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
	copy_col(st, 20, e->passkey_type, sizeof(e->passkey_type));
	copy_col(st, 21, e->warning, sizeof(e->warning));
}

#define ENTRY_COLS							\
    "u.upn, u.upn_lower, u.object_id, e.state, e.attempts, e.run_id,"	\
    " e.created, e.updated, e.credential_id, e.device, e.aaguid,"	\
    " e.method_id, e.stage, e.error_code, e.message, e.request_id,"	\
    " e.reason, e.model, e.display_name, e.attestation,"		\
    " e.passkey_type, e.warning"					\
    " FROM users u LEFT JOIN enrollments e ON e.user_id = u.id"

static int
load_entry(journal_t *j, long long id, journal_entry_t *e)
{
	sqlite3_stmt	*st = NULL;
	int		 r, rc;

	if ((r = journal_db_prepare(j, "SELECT " ENTRY_COLS " WHERE u.id = ?",
	    &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? JOURNAL_ERR_NOT_FOUND :
		    journal_db_fail(j, rc, "load");
		goto fail;
	}
	entry_from_row(st, e);
	r = JOURNAL_OK;
fail:
	journal_db_release(j, st);

	return (r);
}

static int
check_key(const char *key)
{
	return (key != NULL && *key != '\0' &&
	    strlen(key) < JOURNAL_KEY_LEN ? 0 : -1);
}

/* find_user(), JOURNAL_ERR_NOT_FOUND for a user never recorded */
static int
find_known(journal_t *j, const char *key, long long *id)
{
	int r;

	if ((r = find_user(j, key, id)) == JOURNAL_OK && *id == 0)
		r = JOURNAL_ERR_NOT_FOUND;

	return (r);
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
	if ((r = find_known(j, key, &id)) == JOURNAL_OK)
		r = load_entry(j, id, e);
	pthread_mutex_unlock(&j->lock);

	return (r);
}

int
journal_user_body(journal_t *j, const char *key, char **body,
    double *age_s)
{
	sqlite3_stmt	*st = NULL;
	const char	*t;
	long long	 id;
	int		 r, rc;

	if (body != NULL)
		*body = NULL;
	if (age_s != NULL)
		*age_s = 0;
	if (j == NULL || body == NULL || age_s == NULL || check_key(key) < 0)
		return (JOURNAL_ERR_ARG);
	pthread_mutex_lock(&j->lock);
	if ((r = find_known(j, key, &id)) != JOURNAL_OK)
		goto fail;
	if ((r = journal_db_prepare(j, "SELECT body, (julianday('now') - "
	    "julianday(updated)) * 86400 FROM enrollments WHERE user_id = ?",
	    &st)) != JOURNAL_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*age_s = sqlite3_column_double(st, 1);
		if ((t = (const char *)sqlite3_column_text(st, 0)) != NULL &&
		    (*body = strdup(t)) == NULL)
			r = JOURNAL_ERR_INTERNAL;
	} else if (rc != SQLITE_DONE)
		r = journal_db_fail(j, rc, "body");
fail:
	journal_db_release(j, st);
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
	    SHORT(f->attestation) || SHORT(f->passkey_type) ||
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

	if ((r = journal_db_prepare(j,
		 "INSERT INTO users (upn, upn_lower, object_id, "
		 "created, updated) VALUES (?, ?, ?, " NOW ", " NOW ")",
		 &st)) != JOURNAL_OK)
		return (r);
	journal_db_bind(st, 1, upn);
	if (upn != NULL) {
		journal_ascii_lower(upn, low, sizeof(low));
		journal_db_bind(st, 2, low);
	}
	journal_db_bind(st, 3, oid);
	if ((r = journal_db_step(j, st)) == JOURNAL_OK)
		*id = sqlite3_last_insert_rowid(j->db);
	journal_db_release(j, st);

	return (r);
}

static int
stmt_id_text(journal_t *j, const char *sql, long long id, const char *s)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = journal_db_prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_bind_parameter_count(st) >= 2)
		journal_db_bind(st, 2, s);
	r = journal_db_step(j, st);
	journal_db_release(j, st);

	return (r);
}

static int
stmt_id_id(journal_t *j, const char *sql, long long a, long long b)
{
	sqlite3_stmt	*st = NULL;
	int		 r;

	if ((r = journal_db_prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	r = journal_db_step(j, st);
	journal_db_release(j, st);

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
		journal_ascii_lower(oid, low, sizeof(low));
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
		journal_ascii_lower(upn, low, sizeof(low));
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
		journal_db_bind(st, i, s);
}

static int
write_enrollment(journal_t *j, long long id, enum journal_state from,
    enum journal_state to, const struct journal_fields *f)
{
	static const struct journal_fields none;
	sqlite3_stmt	*st = NULL;
	char		 msg[JOURNAL_MSG_LEN], warn[JOURNAL_MSG_LEN];
	char		 detail[JOURNAL_CREDID_LEN + 3 * JOURNAL_SHORT_LEN];
	const char	*sql;
	int		 r;

	if (f == NULL)
		f = &none;
	msg[0] = '\0';
	if (f->message != NULL)
		cut_utf8(f->message, msg, sizeof(msg));
	warn[0] = '\0';
	if (f->warning != NULL)
		cut_utf8(f->warning, warn, sizeof(warn));
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
		    "message = NULL, request_id = NULL, reason = NULL, "
		    "passkey_type = NULL, warning = NULL, body = NULL "
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
		    "attestation = coalesce(?16, attestation), "
		    "passkey_type = coalesce(?17, passkey_type), "
		    "warning = coalesce(?18, warning), "
		    "body = CASE ?2 WHEN 'done' THEN NULL "
		    "ELSE coalesce(?19, body) END "
		    "WHERE user_id = ?1";
	if ((r = journal_db_prepare(j, sql, &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	journal_db_bind(st, 2, journal_state_name(to));
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
	bind_opt(st, 17, f->passkey_type);
	bind_opt(st, 18, f->warning != NULL ? warn : NULL);
	bind_opt(st, 19, f->body);
	r = journal_db_step(j, st);
	journal_db_release(j, st);
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
	if ((r = journal_db_prepare(j,
		 "INSERT INTO transitions (user_id, run_id, at, "
		 "from_state, to_state, detail) VALUES (?, ?, " NOW
		 ", ?, ?, ?)",
		 &st)) != JOURNAL_OK)
		return (r);
	sqlite3_bind_int64(st, 1, id);
	if (j->run_id != 0)
		sqlite3_bind_int64(st, 2, j->run_id);
	journal_db_bind(st, 3, journal_state_name(from));
	journal_db_bind(st, 4, journal_state_name(to));
	journal_db_bind(st, 5, detail[0] == ' ' ? detail + 1 : detail);
	r = journal_db_step(j, st);
	journal_db_release(j, st);

	return (r);
}

/*
 * Must the commit of this transition reach the disk before the call
 * returns?  Every commit is written to the WAL (synchronous=NORMAL) and
 * the ones that must be durable are followed by an fdatasync() of it
 * (journal_sync()), which covers every commit before it.  A transition
 * followed by an action others see (a TAP issued after resolved, a
 * credential made on the key after options_fetched, the POST after
 * key_touched) is durable before that action: at once here, or marked
 * (journal_user_mark_state()) and synced by the caller just before it,
 * by which time another commit's sync has usually covered it.  The
 * others (pending, then a GET; done, failed, skipped, then a report or
 * failures row) are never waited for.  Against SIGKILL or a crash of
 * the process every commit holds either way (the WAL is in the kernel's
 * cache once written); against a power loss one not waited for holds
 * once a later sync or a checkpoint has synced the WAL, and may
 * otherwise be lost.  Losing one is safe: the
 * user is seen at the step before (key_touched for a lost done, whose
 * registration the resume finds among the user's methods; nothing
 * before a lost pending), never past an action that was not recorded.
 */
static bool
must_sync(enum journal_state to)
{
	switch (to) {
	case JOURNAL_ST_PENDING:
	case JOURNAL_ST_DONE:
	case JOURNAL_ST_FAILED:
	case JOURNAL_ST_SKIPPED:
		return (false);
	default:
		return (true);
	}
}

static int
check_transition(const char *key, enum journal_state to,
    const struct journal_fields *f)
{
	if (check_key(key) < 0 || check_fields(f) < 0 ||
	    to <= JOURNAL_ST_NONE || to > JOURNAL_ST_SKIPPED)
		return (JOURNAL_ERR_ARG);
	if (to == JOURNAL_ST_KEY_TOUCHED && (f == NULL ||
	    f->credential_id == NULL || *f->credential_id == '\0'))
		return (JOURNAL_ERR_ARG);
	if (to == JOURNAL_ST_REGISTERED && (f == NULL ||
	    f->method_id == NULL || *f->method_id == '\0'))
		return (JOURNAL_ERR_ARG);

	return (JOURNAL_OK);
}

/* one user's transition, inside the caller's transaction and lock */
static int
transition(journal_t *j, const char *key, enum journal_state to,
    const struct journal_fields *f, journal_entry_t *cur)
{
	long long	 id = 0;
	const char	*upn = NULL, *oid = NULL;
	char		 low[JOURNAL_KEY_LEN];
	int		 r;

	if (f != NULL) {
		upn = f->upn;
		oid = f->object_id;
	}
	if ((r = find_user(j, key, &id)) != JOURNAL_OK)
		return (r);
	if (id == 0) {
		if (to != JOURNAL_ST_PENDING && to != JOURNAL_ST_RESOLVED &&
		    to != JOURNAL_ST_FAILED && to != JOURNAL_ST_SKIPPED)
			return (JOURNAL_ERR_NOT_FOUND);
		journal_ascii_lower(key, low, sizeof(low));
		if (is_guid(low) && oid != NULL && strcasecmp(oid, low) != 0)
			return (JOURNAL_ERR_ARG);
		/* created from the key; identity_update() adds the rest */
		if ((r = user_insert(j, is_guid(low) ? NULL : key,
		    is_guid(low) ? low : NULL, &id)) != JOURNAL_OK)
			return (r);
	}
	if ((r = identity_update(j, &id, upn, oid)) != JOURNAL_OK ||
	    (r = load_entry(j, id, cur)) != JOURNAL_OK)
		return (r);
	/* resolving a user found done under another key: stays done */
	if (to == JOURNAL_ST_RESOLVED && cur->state == JOURNAL_ST_DONE)
		return (JOURNAL_OK);
	if (!allowed(cur->state, to, cur)) {
		snprintf(j->errmsg, sizeof(j->errmsg), "%s -> %s",
		    journal_state_name(cur->state), journal_state_name(to));
		return (JOURNAL_ERR_STATE);
	}
	if (to == JOURNAL_ST_RESOLVED && cur->object_id[0] == '\0')
		return (JOURNAL_ERR_ARG);
	if (to == JOURNAL_ST_DONE && cur->method_id[0] == '\0' &&
	    (f == NULL || f->method_id == NULL || *f->method_id == '\0'))
		return (JOURNAL_ERR_ARG);

	return (write_enrollment(j, id, cur->state, to, f));
}

/*
 * Users' transitions to `to` in one commit: all of them, or none (and
 * the error).  `f` is NULL or an array of n.
 */
static int
set_states(journal_t *j, const char *const *keys,
    const struct journal_fields *f, size_t n, enum journal_state to,
    bool durable, long long *seq)
{
	journal_entry_t	*cur = NULL;
	size_t		 i;
	int		 r;

	if (j == NULL || keys == NULL)
		return (JOURNAL_ERR_ARG);
	for (i = 0; i < n; i++)
		if ((r = check_transition(keys[i], to, f != NULL ? &f[i] :
		    NULL)) != JOURNAL_OK)
			return (r);
	if ((cur = calloc(1, sizeof(*cur))) == NULL)
		return (JOURNAL_ERR_INTERNAL);
	pthread_mutex_lock(&j->lock);
	if ((r = journal_db_begin(j)) != JOURNAL_OK)
		goto fail;
	for (i = 0; i < n; i++) {
		memset(cur, 0, sizeof(*cur));
		if ((r = transition(j, keys[i], to, f != NULL ? &f[i] : NULL,
		    cur)) != JOURNAL_OK)
			goto fail;
	}
	r = journal_db_commit_nowait(j, seq);
fail:
	if (r != JOURNAL_OK)
		journal_db_rollback(j);
	pthread_mutex_unlock(&j->lock);
	free(cur);
	if (r == JOURNAL_OK && durable)
		r = journal_sync(j, *seq);

	return (r);
}

static int
set_state(journal_t *j, const char *key, enum journal_state to,
    const struct journal_fields *f, bool durable, long long *seq)
{
	return (set_states(j, &key, f, 1, to, durable, seq));
}

int
journal_user_set_state(journal_t *j, const char *key,
    enum journal_state to, const struct journal_fields *f)
{
	long long seq = 0;

	return (set_state(j, key, to, f, must_sync(to), &seq));
}

int
journal_user_mark_state(journal_t *j, const char *key,
    enum journal_state to, const struct journal_fields *f, long long *seq)
{
	*seq = 0;

	return (set_state(j, key, to, f, false, seq));
}

int
journal_users_mark_state(journal_t *j, const char *const *keys,
    const struct journal_fields *f, size_t n, enum journal_state to,
    long long *seq)
{
	*seq = 0;

	return (set_states(j, keys, f, n, to, false, seq));
}

int
journal_user_forget(journal_t *j, const char *key)
{
	long long	id;
	int		r;

	if (j == NULL || check_key(key) < 0)
		return (JOURNAL_ERR_ARG);
	pthread_mutex_lock(&j->lock);
	if ((r = journal_db_begin(j)) != JOURNAL_OK ||
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
	    (r = journal_db_commit(j)) != JOURNAL_OK)
		goto fail;
	r = JOURNAL_OK;
fail:
	if (r != JOURNAL_OK)
		journal_db_rollback(j);
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
	if ((r = journal_db_prepare(j, "SELECT " ENTRY_COLS " WHERE e.state IN "
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
		r = journal_db_fail(j, rc, "reconcile");
	journal_db_release(j, st);
	/* the callback may call back into the journal */
	pthread_mutex_unlock(&j->lock);
	for (i = 0; r == JOURNAL_OK && i < n; i++)
		r = fn(&v[i], arg);
	free(v);

	return (r);
}
