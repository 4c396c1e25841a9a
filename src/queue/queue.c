/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The fleet queue on PostgreSQL (see queue.h).  Every query is
 * parameterised (PQexecParams); libpq's messages are cut to one line
 * and never carry a password (a conninfo with one is refused).
 */

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "common.h"
#include "queue.h"

#define LOCK_KEY	"7070726f76"	/* advisory lock: "pprov" */
#define ADD_BATCH	1000
#define INFLIGHT	"('claimed','reconcile','resolved','options_fetched'," \
			"'key_touched')"
#define TS(x)		"to_char((" x ") AT TIME ZONE 'UTC', " \
			"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

struct queue {
	PGconn		*conn;
	char		*station;
	char		 host[256];
	int		 schema;
	char		 err[QUEUE_MSG_LEN];
	pthread_mutex_t	 lock;
	/* queue_stats(): calls and the time the connection was ours */
	unsigned long long calls;
	long long	 busy_us;
	long long	 t0_us;
};

static const char *const state_names[QUEUE_ST_COUNT] = {
	"none", "queued", "claimed", "reconcile", "resolved",
	"options_fetched", "key_touched", "done", "failed", "skipped",
};

/* migration N is migrations[N - 1]; never edit one that shipped */
static const char *const migrations[QUEUE_SCHEMA] = {
	"CREATE TABLE provisioning_users ("
	" id bigserial PRIMARY KEY,"
	" user_key text NOT NULL UNIQUE,"
	" upn text, object_id text,"
	" state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued',"
	"  'claimed','reconcile','resolved','options_fetched','key_touched',"
	"  'done','failed','skipped')),"
	" station text, lease_until timestamptz,"
	" lease_gen bigint NOT NULL DEFAULT 0,"
	" attempts integer NOT NULL DEFAULT 0,"
	" credential_id text, method_id text, device text, aaguid text,"
	" model text, display_name text, attestation text,"
	" stage text, error_code text, last_error text, request_id text,"
	" created timestamptz NOT NULL DEFAULT now(),"
	" updated timestamptz NOT NULL DEFAULT now());"
	"CREATE INDEX provisioning_users_state ON provisioning_users"
	" (state, lease_until);"
	"CREATE TABLE provisioning_events ("
	" id bigserial PRIMARY KEY,"
	" at timestamptz NOT NULL DEFAULT now(),"
	" user_id bigint REFERENCES provisioning_users (id) ON DELETE CASCADE,"
	" station text NOT NULL, state text NOT NULL, detail text);"
	"CREATE INDEX provisioning_events_user ON provisioning_events"
	" (user_id);"
	"CREATE TABLE provisioning_stations ("
	" name text PRIMARY KEY,"
	" first_seen timestamptz NOT NULL DEFAULT now(),"
	" last_seen timestamptz NOT NULL DEFAULT now(),"
	" draining boolean NOT NULL DEFAULT false);"
	"CREATE TABLE provisioning_fleet ("
	" id integer PRIMARY KEY CHECK (id = 1),"
	" draining boolean NOT NULL DEFAULT false);"
	"INSERT INTO provisioning_fleet (id) VALUES (1);",
	/* 2: a user is one row whether added by UPN or by object id */
	"CREATE INDEX provisioning_users_upn ON provisioning_users"
	" (lower(upn));"
	"CREATE INDEX provisioning_users_oid ON provisioning_users"
	" (lower(object_id));",
	/* 3: the registration as sent, sent again by the next claim */
	"ALTER TABLE provisioning_users ADD COLUMN body text;",
};

const char *
queue_strerr(int r)
{
	switch (r) {
	case QUEUE_OK:
		return ("success");
	case QUEUE_ERR_INTERNAL:
		return ("internal error");
	case QUEUE_ERR_ARG:
		return ("invalid argument");
	case QUEUE_ERR_CONNECT:
		return ("cannot reach the queue database");
	case QUEUE_ERR_PASSWORD:
		return ("a password in the queue address");
	case QUEUE_ERR_SCHEMA:
		return ("the queue database is not initialised");
	case QUEUE_ERR_VERSION:
		return ("the queue database is newer than this tool");
	case QUEUE_ERR_LOST:
		return ("the user's lease is held by another station");
	case QUEUE_ERR_EMPTY:
		return ("nothing to claim");
	case QUEUE_ERR_DRAINING:
		return ("draining: no new work");
	case QUEUE_ERR_STATE:
		return ("another queue row is the same user");
	case QUEUE_ERR_DB:
		return ("the queue database refused a query");
	default:
		return ("unknown queue error");
	}
}

const char *
queue_state_name(enum queue_state s)
{
	if ((int)s < 0 || s >= QUEUE_ST_COUNT)
		return (NULL);
	return (state_names[s]);
}

enum queue_state
queue_state_from_name(const char *n)
{
	int i;

	for (i = 1; n != NULL && i < QUEUE_ST_COUNT; i++)
		if (strcmp(state_names[i], n) == 0)
			return ((enum queue_state)i);
	return (QUEUE_ST_NONE);
}

/*
 * libpq's text on one line; a "password=..." is masked should a
 * message ever quote a conninfo.
 */
static void
scrub(char *dst, size_t len, const char *src)
{
	size_t	 i = 0;
	char	*p;

	for (; src != NULL && *src != '\0' && i + 1 < len; src++) {
		if (*src == '\n' || *src == '\t' || *src == '\r') {
			if (i > 0 && dst[i - 1] != ' ')
				dst[i++] = ' ';
			continue;
		}
		dst[i++] = *src;
	}
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
	while ((p = strstr(dst, "password=")) != NULL)
		for (p += 9; *p != '\0' && *p != ' '; p++)
			*p = '*';
}

static void
noticer(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;		/* "already exists, skipping" and such */
}

/* SQLSTATE and connection state -> QUEUE_ERR_*, with q->err set */
static int
q_fail(queue_t *q, PGresult *res, const char *what)
{
	const char	*st = res != NULL ?
			    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char		 msg[QUEUE_MSG_LEN];

	scrub(msg, sizeof(msg), res != NULL && *PQresultErrorMessage(res) ?
	    PQresultErrorMessage(res) : PQerrorMessage(q->conn));
	if (PQstatus(q->conn) != CONNECTION_OK || (st != NULL &&
	    (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0))) {
		errf(q->err, sizeof(q->err), "lost the queue database at %s "
		    "(%s): %s; the next call reconnects", q->host, what, msg);
		return (QUEUE_ERR_CONNECT);
	}
	if (st != NULL && strcmp(st, "42P01") == 0) {
		errf(q->err, sizeof(q->err), "the queue database at %s has "
		    "no queue tables: run 'provisioning queue init'", q->host);
		return (QUEUE_ERR_SCHEMA);
	}
	errf(q->err, sizeof(q->err), "the queue database refused %s: %s",
	    what, msg);
	return (QUEUE_ERR_DB);
}

/* one statement; *out (if wanted) holds the result on QUEUE_OK */
static int
q_exec(queue_t *q, const char *what, const char *sql, int n,
    const char *const *vals, PGresult **out)
{
	PGresult	*res;
	int		 r, st;

	if (out != NULL)
		*out = NULL;
	res = n > 0 ? PQexecParams(q->conn, sql, n, NULL, vals, NULL, NULL,
	    0) : PQexec(q->conn, sql);
	if (res == NULL) {
		r = q_fail(q, NULL, what);
		return (r);
	}
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = q_fail(q, res, what);
		PQclear(res);
		return (r);
	}
	if (out != NULL)
		*out = res;
	else
		PQclear(res);
	return (QUEUE_OK);
}

static void
q_rollback(queue_t *q)
{
	PGresult *res;

	if (PQtransactionStatus(q->conn) != PQTRANS_IDLE &&
	    (res = PQexec(q->conn, "ROLLBACK")) != NULL)
		PQclear(res);
}

static int
q_read_schema(queue_t *q)
{
	PGresult	*res = NULL;
	int		 r;

	if ((r = q_exec(q, "the schema check", "SELECT to_regclass("
	    "'provisioning_schema') IS NOT NULL", 0, NULL, &res)) != QUEUE_OK)
		return (r);
	q->schema = 0;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0) {
		PQclear(res);
		if ((r = q_exec(q, "the schema check", "SELECT coalesce("
		    "max(version), 0) FROM provisioning_schema", 0, NULL,
		    &res)) != QUEUE_OK)
			return (r);
		q->schema = atoi(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	if (q->schema > QUEUE_SCHEMA) {
		errf(q->err, sizeof(q->err), "the queue database at %s has "
		    "schema version %d, newer than this tool knows (%d): "
		    "upgrade provisioning on this station", q->host,
		    q->schema, QUEUE_SCHEMA);
		return (QUEUE_ERR_VERSION);
	}
	return (QUEUE_OK);
}

/* the session's settings, again after every reconnect */
static void
q_session(queue_t *q)
{
	PGresult *res;

	PQsetNoticeProcessor(q->conn, noticer, NULL);
	/* a step is told done only once it is on the server's disk */
	if ((res = PQexec(q->conn, "SET synchronous_commit TO on")) != NULL)
		PQclear(res);
}

static int
q_connect(queue_t *q, const char *conninfo)
{
	/*
	 * A server that stops answering over TCP is noticed in about 30 s,
	 * not the kernel's quarter of an hour, so the heartbeat fails and
	 * the station stops taking work; the conninfo may say otherwise.
	 */
	const char *const kw[] = { "connect_timeout",
	    "fallback_application_name", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	    "dbname", NULL };
	const char *const val[] = { "10", "provisioning", "15", "5", "3",
	    "30000", conninfo, NULL };
	char		 msg[QUEUE_MSG_LEN];

	q->conn = PQconnectdbParams(kw, val, 1);
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
		scrub(msg, sizeof(msg), q->conn != NULL ?
		    PQerrorMessage(q->conn) : "out of memory");
		errf(q->err, sizeof(q->err), "cannot connect to the queue "
		    "database at %s: %s; check --queue / PROVISIONING_QUEUE "
		    "and ~/.pgpass", q->host, msg);
		return (QUEUE_ERR_CONNECT);
	}
	q_session(q);
	return (QUEUE_OK);
}

int
queue_open(const char *conninfo, const char *station, queue_t **qp,
    char *err, size_t errlen)
{
	PQconninfoOption	*opts = NULL, *o;
	queue_t			*q = NULL;
	char			*perr = NULL;
	const char		*host = NULL, *port = NULL, *db = NULL;
	int			 r;

	errf(err, errlen, "%s", "");
	if (qp == NULL)
		return (QUEUE_ERR_ARG);
	*qp = NULL;
	if (conninfo == NULL || *conninfo == '\0') {
		errf(err, errlen, "no queue database: give --queue URL or "
		    "set PROVISIONING_QUEUE");
		return (QUEUE_ERR_ARG);
	}
	if (station == NULL || *station == '\0' ||
	    strlen(station) >= QUEUE_NAME_LEN ||
	    !utf8_valid(station, strlen(station))) {
		errf(err, errlen, "the station name must be 1 to %d bytes of "
		    "UTF-8", QUEUE_NAME_LEN - 1);
		return (QUEUE_ERR_ARG);
	}
	/* libpq's parse error quotes the input: not repeated here */
	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		PQfreemem(perr);
		errf(err, errlen, "the queue address is neither a "
		    "postgresql:// URL nor a libpq keyword string (host=... "
		    "dbname=...); check --queue / PROVISIONING_QUEUE");
		return (QUEUE_ERR_ARG);
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (o->val == NULL || *o->val == '\0')
			continue;
		if (strcmp(o->keyword, "password") == 0) {
			errf(err, errlen, "the queue address holds a password, "
			    "which would show on the command line or in the "
			    "environment: remove it, and put it in ~/.pgpass "
			    "(or PGPASSWORD)");
			r = QUEUE_ERR_PASSWORD;
			goto fail;
		}
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	r = QUEUE_ERR_INTERNAL;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->station = strdup(station)) == NULL)
		goto fail;
	if (pthread_mutex_init(&q->lock, NULL) != 0) {
		free(q->station);
		free(q);
		q = NULL;
		goto fail;
	}
	snprintf(q->host, sizeof(q->host), "%s%s%s%s%s",
	    host != NULL ? host : "the default socket",
	    port != NULL ? ":" : "", port != NULL ? port : "",
	    db != NULL ? "/" : "", db != NULL ? db : "");
	if ((r = q_connect(q, conninfo)) != QUEUE_OK ||
	    (r = q_read_schema(q)) != QUEUE_OK) {
		errf(err, errlen, "%s", q->err);
		goto fail;
	}
	*qp = q;
	q = NULL;
	r = QUEUE_OK;
fail:
	PQconninfoFree(opts);
	queue_free(&q);

	return (r);
}

void
queue_free(queue_t **qp)
{
	queue_t *q;

	if (qp == NULL || (q = *qp) == NULL)
		return;
	if (q->conn != NULL)
		PQfinish(q->conn);
	pthread_mutex_destroy(&q->lock);
	free(q->station);
	free(q);
	*qp = NULL;
}

const char *
queue_errmsg(const queue_t *q)
{
	return (q != NULL ? q->err : "");
}

int
queue_schema(const queue_t *q)
{
	return (q != NULL ? q->schema : 0);
}

/*
 * Under the lock: a broken connection is reset first (every call is a
 * whole transaction, so nothing is half done); need_schema refuses an
 * uninitialised or older database.
 */
static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static int
q_begin(queue_t *q, bool need_schema)
{
	pthread_mutex_lock(&q->lock);
	q->t0_us = mono_us();
	q->calls++;
	q->err[0] = '\0';
	if (PQstatus(q->conn) != CONNECTION_OK) {
		PQreset(q->conn);
		if (PQstatus(q->conn) != CONNECTION_OK) {
			(void)q_fail(q, NULL, "reconnecting");
			q->busy_us += mono_us() - q->t0_us;
			pthread_mutex_unlock(&q->lock);
			return (QUEUE_ERR_CONNECT);
		}
		q_session(q);
	}
	if (need_schema && q->schema < QUEUE_SCHEMA) {
		errf(q->err, sizeof(q->err), "the queue database at %s is "
		    "%s: run 'provisioning queue init'", q->host,
		    q->schema == 0 ? "not initialised" : "of an older schema");
		q->busy_us += mono_us() - q->t0_us;
		pthread_mutex_unlock(&q->lock);
		return (QUEUE_ERR_SCHEMA);
	}
	return (QUEUE_OK);
}

static int
q_end(queue_t *q, int r)
{
	if (r != QUEUE_OK)
		q_rollback(q);
	q->busy_us += mono_us() - q->t0_us;
	pthread_mutex_unlock(&q->lock);
	return (r);
}

void
queue_stats(queue_t *q, unsigned long long *calls, long long *busy_ms)
{
	unsigned long long	c = 0;
	long long		b = 0;

	if (q != NULL) {
		pthread_mutex_lock(&q->lock);
		c = q->calls;
		b = q->busy_us / 1000;
		pthread_mutex_unlock(&q->lock);
	}
	if (calls != NULL)
		*calls = c;
	if (busy_ms != NULL)
		*busy_ms = b;
}

int
queue_init(queue_t *q, int *from)
{
	PGresult	*res = NULL;
	char		 num[16];
	const char	*vals[1];
	int		 r, m, cur;

	if (q == NULL)
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, false)) != QUEUE_OK)
		return (r);
	if (from != NULL)
		*from = q->schema;
	for (m = 1; m <= QUEUE_SCHEMA; m++) {
		/* one transaction per migration, serialised across stations */
		if ((r = q_exec(q, "the migration", "BEGIN", 0, NULL,
		    NULL)) != QUEUE_OK ||
		    (r = q_exec(q, "the migration", "SELECT "
		    "pg_advisory_xact_lock(x'" LOCK_KEY "'::bigint)", 0, NULL,
		    NULL)) != QUEUE_OK ||
		    (r = q_exec(q, "the migration", "CREATE TABLE IF NOT "
		    "EXISTS provisioning_schema (version integer PRIMARY KEY, "
		    "applied timestamptz NOT NULL DEFAULT now())", 0, NULL,
		    NULL)) != QUEUE_OK ||
		    (r = q_exec(q, "the migration", "SELECT coalesce("
		    "max(version), 0) FROM provisioning_schema", 0, NULL,
		    &res)) != QUEUE_OK)
			goto fail;
		cur = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
		if (cur > QUEUE_SCHEMA) {
			q->schema = cur;
			errf(q->err, sizeof(q->err), "the queue database at "
			    "%s has schema version %d, newer than this tool "
			    "knows (%d): upgrade provisioning", q->host, cur,
			    QUEUE_SCHEMA);
			r = QUEUE_ERR_VERSION;
			goto fail;
		}
		if (cur < m) {
			snprintf(num, sizeof(num), "%d", m);
			vals[0] = num;
			if ((r = q_exec(q, "the migration", migrations[m - 1],
			    0, NULL, NULL)) != QUEUE_OK ||
			    (r = q_exec(q, "the migration", "INSERT INTO "
			    "provisioning_schema (version) VALUES ($1::int)",
			    1, vals, NULL)) != QUEUE_OK)
				goto fail;
			log_info("queue: schema migrated to version %d", m);
		}
		if ((r = q_exec(q, "the migration", "COMMIT", 0, NULL,
		    NULL)) != QUEUE_OK)
			goto fail;
		q->schema = m > cur ? m : cur;
	}
	r = QUEUE_OK;
fail:
	PQclear(res);

	return (q_end(q, r));
}

/* lower-case object id for a GUID, else the ASCII-lower-case UPN */
static int
user_key(const char *ref, char *key, size_t len)
{
	size_t	n = ref != NULL ? strlen(ref) : 0, i;

	if (n == 0 || n >= len || n >= QUEUE_KEY_LEN || !utf8_valid(ref, n))
		return (-1);
	for (i = 0; i < n; i++) {
		if ((unsigned char)ref[i] < 0x20 || ref[i] == 0x7f)
			return (-1);
		key[i] = (char)tolower((unsigned char)ref[i]);
	}
	key[n] = '\0';
	return (0);
}

static int
add_batch(queue_t *q, const char *const *users, size_t n, size_t *added)
{
	struct buf	 k, u, o;
	PGresult	*res = NULL;
	const char	*vals[4];
	char		 key[QUEUE_KEY_LEN];
	size_t		 i;
	bool		 guid;
	int		 r;

	buf_init(&k, 16 * 1024 * 1024);
	buf_init(&u, 16 * 1024 * 1024);
	buf_init(&o, 16 * 1024 * 1024);
	for (i = 0; i < n; i++) {
		if (user_key(users[i], key, sizeof(key)) < 0) {
			errf(q->err, sizeof(q->err), "not a user reference "
			    "(UPN or object id): '%.60s'", users[i] != NULL ?
			    users[i] : "");
			r = QUEUE_ERR_ARG;
			goto fail;
		}
		guid = guid_valid(key, strlen(key));
		if (i > 0) {
			buf_append(&k, "\n", 1);
			buf_append(&u, "\n", 1);
			buf_append(&o, "\n", 1);
		}
		buf_puts(&k, key);
		buf_puts(guid ? &o : &u, users[i]);
	}
	if (k.err || u.err || o.err) {
		r = QUEUE_ERR_INTERNAL;
		goto fail;
	}
	/* the lists travel as parameters, split by the server */
	vals[0] = buf_str(&k) != NULL ? buf_str(&k) : "";
	vals[1] = buf_str(&u) != NULL ? buf_str(&u) : "";
	vals[2] = buf_str(&o) != NULL ? buf_str(&o) : "";
	vals[3] = q->station;
	if ((r = q_exec(q, "adding users",
	    "WITH v AS (SELECT k, NULLIF(u, '') AS upn, NULLIF(o, '') AS oid"
	    " FROM unnest(string_to_array($1::text, E'\\n'),"
	    " string_to_array($2::text, E'\\n'),"
	    " string_to_array($3::text, E'\\n')) AS t(k, u, o)"
	    " WHERE k IS NOT NULL),"
	    " ins AS (INSERT INTO provisioning_users (user_key, upn,"
	    " object_id) SELECT k, upn, oid FROM v"
	    /* the UPN or object id a station resolved for another row */
	    " WHERE NOT EXISTS (SELECT 1 FROM provisioning_users e WHERE"
	    " lower(e.upn) = v.k OR lower(e.object_id) = v.k)"
	    " ON CONFLICT (user_key) DO NOTHING RETURNING id)"
	    " INSERT INTO provisioning_events (user_id, station, state)"
	    " SELECT id, $4::text, 'queued' FROM ins", 4, vals, &res)) !=
	    QUEUE_OK)
		goto fail;
	*added += strtoul(PQcmdTuples(res), NULL, 10);
	r = QUEUE_OK;
fail:
	PQclear(res);
	buf_reset(&k);
	buf_reset(&u);
	buf_reset(&o);

	return (r);
}

int
queue_add(queue_t *q, const char *const *users, size_t n, size_t *added)
{
	size_t	i, got = 0;
	int	r;

	if (q == NULL || (users == NULL && n > 0))
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	if ((r = q_exec(q, "adding users", "BEGIN", 0, NULL, NULL)) !=
	    QUEUE_OK)
		goto fail;
	for (i = 0; i < n; i += ADD_BATCH)
		if ((r = add_batch(q, users + i, n - i < ADD_BATCH ? n - i :
		    ADD_BATCH, &got)) != QUEUE_OK)
			goto fail;
	if ((r = q_exec(q, "adding users", "COMMIT", 0, NULL, NULL)) !=
	    QUEUE_OK)
		goto fail;
	if (added != NULL)
		*added = got;
	r = QUEUE_OK;
fail:
	return (q_end(q, r));
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* this station's row, seen now; 1 if it or the fleet is draining */
static int
station_seen(queue_t *q)
{
	PGresult	*res = NULL;
	const char	*vals[1] = { q->station };
	int		 r;

	if ((r = q_exec(q, "registering the station", "INSERT INTO "
	    "provisioning_stations (name) VALUES ($1::text) ON CONFLICT "
	    "(name) DO UPDATE SET last_seen = now() RETURNING draining OR "
	    "(SELECT draining FROM provisioning_fleet WHERE id = 1)", 1,
	    vals, &res)) != QUEUE_OK)
		return (r);
	r = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return (r);
}

static int
event(queue_t *q, long long id, const char *state, const char *detail)
{
	char		 num[24];
	const char	*vals[4];

	snprintf(num, sizeof(num), "%lld", id);
	vals[0] = num;
	vals[1] = q->station;
	vals[2] = state;
	vals[3] = detail;
	return (q_exec(q, "recording the step", "INSERT INTO "
	    "provisioning_events (user_id, station, state, detail) VALUES "
	    "($1::bigint, $2::text, $3::text, $4::text)", 4, vals, NULL));
}

int
queue_claim(queue_t *q, int lease_seconds, struct queue_item *it)
{
	PGresult	*res = NULL;
	char		 secs[16], detail[QUEUE_NAME_LEN + 32];
	const char	*vals[2];
	int		 r;

	if (q == NULL || it == NULL || lease_seconds < 1 ||
	    lease_seconds > 86400)
		return (QUEUE_ERR_ARG);
	memset(it, 0, sizeof(*it));
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	if ((r = q_exec(q, "claiming", "BEGIN", 0, NULL, NULL)) != QUEUE_OK)
		goto fail;
	if ((r = station_seen(q)) < 0)
		goto fail;
	if (r == 1) {
		r = q_exec(q, "claiming", "COMMIT", 0, NULL, NULL);
		if (r == QUEUE_OK)
			r = QUEUE_ERR_DRAINING;
		goto fail;
	}
	snprintf(secs, sizeof(secs), "%d", lease_seconds);
	vals[0] = q->station;
	vals[1] = secs;
	/*
	 * SKIP LOCKED: two stations never wait on, nor take, the same row;
	 * expired leases first, so a dead station's users finish first.
	 */
	if ((r = q_exec(q, "claiming",
	    "WITH c AS (SELECT id, station AS prev FROM provisioning_users"
	    " WHERE state = 'queued' OR (state IN " INFLIGHT
	    " AND lease_until < now())"
	    " ORDER BY state = 'queued', id LIMIT 1 FOR UPDATE SKIP LOCKED)"
	    " UPDATE provisioning_users u SET state = CASE WHEN"
	    " u.credential_id IS NULL THEN 'claimed' ELSE 'reconcile' END,"
	    " station = $1::text,"
	    " lease_until = now() + make_interval(secs => $2::int),"
	    " lease_gen = u.lease_gen + 1, attempts = u.attempts + 1,"
	    " updated = now() FROM c WHERE u.id = c.id"
	    " RETURNING u.id, u.lease_gen, u.state, u.attempts, u.user_key,"
	    " coalesce(u.upn, ''), coalesce(u.object_id, ''),"
	    " coalesce(u.credential_id, ''), coalesce(c.prev, '')",
	    2, vals, &res)) != QUEUE_OK)
		goto fail;
	if (PQntuples(res) == 0) {
		r = q_exec(q, "claiming", "COMMIT", 0, NULL, NULL);
		if (r == QUEUE_OK)
			r = QUEUE_ERR_EMPTY;
		goto fail;
	}
	it->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	it->lease_gen = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	it->state = queue_state_from_name(PQgetvalue(res, 0, 2));
	it->reconcile = it->state == QUEUE_ST_RECONCILE;
	it->attempts = atoi(PQgetvalue(res, 0, 3));
	it->lease_seconds = lease_seconds;
	copy(it->user_key, sizeof(it->user_key), PQgetvalue(res, 0, 4));
	copy(it->upn, sizeof(it->upn), PQgetvalue(res, 0, 5));
	copy(it->object_id, sizeof(it->object_id), PQgetvalue(res, 0, 6));
	copy(it->credential_id, sizeof(it->credential_id),
	    PQgetvalue(res, 0, 7));
	copy(it->prev_station, sizeof(it->prev_station),
	    PQgetvalue(res, 0, 8));
	if (it->prev_station[0] != '\0')
		snprintf(detail, sizeof(detail), "lease of %s expired",
		    it->prev_station);
	if ((r = event(q, it->id, PQgetvalue(res, 0, 2),
	    it->prev_station[0] != '\0' ? detail : NULL)) != QUEUE_OK ||
	    (r = q_exec(q, "claiming", "COMMIT", 0, NULL, NULL)) != QUEUE_OK)
		goto fail;
	r = QUEUE_OK;
fail:
	PQclear(res);
	if (r != QUEUE_OK)
		memset(it, 0, sizeof(*it));

	return (q_end(q, r));
}

int
queue_heartbeat(queue_t *q, int lease_seconds, size_t *n)
{
	PGresult	*res = NULL;
	char		 secs[16];
	const char	*vals[2];
	int		 r;

	if (q == NULL || lease_seconds < 1 || lease_seconds > 86400)
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	snprintf(secs, sizeof(secs), "%d", lease_seconds);
	vals[0] = q->station;
	vals[1] = secs;
	if ((r = q_exec(q, "the heartbeat", "BEGIN", 0, NULL, NULL)) !=
	    QUEUE_OK || (r = station_seen(q)) < 0 ||
	    (r = q_exec(q, "the heartbeat", "UPDATE provisioning_users SET"
	    " lease_until = now() + make_interval(secs => $2::int)"
	    " WHERE station = $1::text AND state IN " INFLIGHT, 2, vals,
	    &res)) != QUEUE_OK ||
	    (r = q_exec(q, "the heartbeat", "COMMIT", 0, NULL, NULL)) !=
	    QUEUE_OK)
		goto fail;
	if (n != NULL)
		*n = strtoul(PQcmdTuples(res), NULL, 10);
	r = QUEUE_OK;
fail:
	PQclear(res);

	return (q_end(q, r));
}

/* lock the item's row; QUEUE_ERR_LOST unless this claim still holds it */
static int
q_hold(queue_t *q, const struct queue_item *it, const char *what)
{
	PGresult	*res = NULL;
	char		 id[24], gen[24];
	const char	*vals[3];
	int		 r;

	snprintf(id, sizeof(id), "%lld", it->id);
	snprintf(gen, sizeof(gen), "%lld", it->lease_gen);
	vals[0] = id;
	vals[1] = gen;
	vals[2] = q->station;
	if ((r = q_exec(q, what, "SELECT state IN " INFLIGHT " FROM "
	    "provisioning_users WHERE id = $1::bigint AND lease_gen = "
	    "$2::bigint AND station = $3::text FOR UPDATE", 3, vals,
	    &res)) != QUEUE_OK)
		return (r);
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 0), "t")) {
		errf(q->err, sizeof(q->err), "%s: another station claimed "
		    "%s after this station's lease ran out; abandon it",
		    what, it->user_key);
		r = QUEUE_ERR_LOST;
	}
	PQclear(res);
	return (r);
}

int
queue_renew(queue_t *q, struct queue_item *it)
{
	char		 id[24], secs[16];
	const char	*vals[2];
	int		 r;

	if (q == NULL || it == NULL || it->id <= 0)
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	snprintf(id, sizeof(id), "%lld", it->id);
	snprintf(secs, sizeof(secs), "%d", it->lease_seconds > 0 ?
	    it->lease_seconds : QUEUE_LEASE_DEFAULT);
	vals[0] = id;
	vals[1] = secs;
	if ((r = q_exec(q, "renewing the lease", "BEGIN", 0, NULL, NULL)) !=
	    QUEUE_OK || (r = station_seen(q)) < 0 ||
	    (r = q_hold(q, it, "renewing the lease")) != QUEUE_OK ||
	    (r = q_exec(q, "renewing the lease", "UPDATE provisioning_users"
	    " SET lease_until = now() + make_interval(secs => $2::int)"
	    " WHERE id = $1::bigint", 2, vals, NULL)) != QUEUE_OK ||
	    (r = q_exec(q, "renewing the lease", "COMMIT", 0, NULL, NULL)) !=
	    QUEUE_OK)
		goto fail;
	r = QUEUE_OK;
fail:
	return (q_end(q, r));
}

static bool
fits(const char *s, size_t len)
{
	return (s == NULL || (strlen(s) < len && utf8_valid(s, strlen(s))));
}

/*
 * A user added once by UPN and once by object id is two rows until a
 * station resolves one.  A row is refused (QUEUE_ERR_STATE) while
 * another row of the same user is there and not skipped; the station
 * skips it, so of the two rows the one resolved first is skipped and
 * the other goes on.  Under a lock on the user (object id), two
 * stations resolving both rows at once cannot both go on.
 */
static int
same_user(queue_t *q, const struct queue_item *it,
    const struct queue_fields *f)
{
	PGresult	*res = NULL;
	char		 id[24];
	const char	*vals[3];
	int		 r;

	if (f->object_id == NULL && f->upn == NULL)
		return (QUEUE_OK);
	snprintf(id, sizeof(id), "%lld", it->id);
	vals[0] = id;
	vals[1] = f->object_id;
	vals[2] = f->upn;
	if ((r = q_exec(q, "recording the step", "SELECT "
	    "pg_advisory_xact_lock(x'7072'::int, hashtext(lower(coalesce("
	    "$1::text, $2::text))))", 2, vals + 1, NULL)) != QUEUE_OK ||
	    (r = q_exec(q, "recording the step", "SELECT user_key FROM"
	    " provisioning_users WHERE id <> $1::bigint AND state <> "
	    "'skipped' AND (lower(object_id) = lower($2::text) OR"
	    " lower(upn) = lower($3::text)) ORDER BY id LIMIT 1", 3, vals,
	    &res)) != QUEUE_OK)
		return (r);
	if (PQntuples(res) > 0) {
		errf(q->err, sizeof(q->err), "the same user as the queue's "
		    "'%s' (added once by UPN and once by object id)",
		    PQgetvalue(res, 0, 0));
		r = QUEUE_ERR_STATE;
	}
	PQclear(res);
	return (r);
}

int
queue_step(queue_t *q, struct queue_item *it, enum queue_state st,
    const struct queue_fields *f)
{
	static const struct queue_fields none;
	char		 id[24], secs[16], msg[QUEUE_MSG_LEN];
	const char	*vals[17], *detail = NULL;
	int		 r;

	if (f == NULL)
		f = &none;
	if (q == NULL || it == NULL || it->id <= 0 ||
	    (st != QUEUE_ST_CLAIMED && st < QUEUE_ST_RESOLVED) ||
	    st >= QUEUE_ST_COUNT ||
	    (st == QUEUE_ST_KEY_TOUCHED && f->credential_id == NULL) ||
	    (st == QUEUE_ST_DONE && f->method_id == NULL) ||
	    (st == QUEUE_ST_FAILED && f->message == NULL) ||
	    !fits(f->upn, QUEUE_KEY_LEN) || !fits(f->object_id,
	    QUEUE_KEY_LEN) || !fits(f->credential_id, QUEUE_CREDID_LEN) ||
	    !fits(f->device, QUEUE_SHORT_LEN) || !fits(f->aaguid,
	    QUEUE_SHORT_LEN) || !fits(f->model, QUEUE_SHORT_LEN) ||
	    !fits(f->display_name, QUEUE_SHORT_LEN) || !fits(f->method_id,
	    QUEUE_SHORT_LEN) || !fits(f->attestation, QUEUE_SHORT_LEN) ||
	    !fits(f->stage, QUEUE_SHORT_LEN) || !fits(f->error_code,
	    QUEUE_SHORT_LEN) || !fits(f->request_id, QUEUE_SHORT_LEN))
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	/* cut, not refused: the reason of a failure must be recorded */
	copy(msg, sizeof(msg), f->message);
	snprintf(id, sizeof(id), "%lld", it->id);
	snprintf(secs, sizeof(secs), "%d", it->lease_seconds > 0 ?
	    it->lease_seconds : QUEUE_LEASE_DEFAULT);
	vals[0] = id;
	vals[1] = state_names[st];
	vals[2] = f->upn;
	vals[3] = f->object_id;
	vals[4] = f->credential_id;
	vals[5] = f->device;
	vals[6] = f->aaguid;
	vals[7] = f->model;
	vals[8] = f->display_name;
	vals[9] = f->method_id;
	vals[10] = f->attestation;
	vals[11] = f->stage;
	vals[12] = f->error_code;
	vals[13] = f->message != NULL ? msg : NULL;
	vals[14] = f->request_id;
	vals[15] = secs;
	vals[16] = f->body;
	if (st == QUEUE_ST_KEY_TOUCHED)
		detail = f->credential_id;
	else if (st == QUEUE_ST_DONE)
		detail = f->method_id;
	else if (st == QUEUE_ST_FAILED || st == QUEUE_ST_SKIPPED)
		detail = f->message != NULL ? msg : NULL;
	if ((r = q_exec(q, "recording the step", "BEGIN", 0, NULL, NULL)) !=
	    QUEUE_OK || (r = q_hold(q, it, "recording the step")) !=
	    QUEUE_OK ||
	    (st == QUEUE_ST_RESOLVED && (r = same_user(q, it, f)) !=
	    QUEUE_OK) ||
	    (r = q_exec(q, "recording the step", "UPDATE provisioning_users"
	    " SET state = $2::text,"
	    " upn = coalesce($3::text, upn),"
	    " object_id = coalesce($4::text, object_id),"
	    " credential_id = CASE WHEN $2::text = 'claimed' THEN NULL"
	    "  ELSE coalesce($5::text, credential_id) END,"
	    " device = coalesce($6::text, device),"
	    " aaguid = coalesce($7::text, aaguid),"
	    " model = coalesce($8::text, model),"
	    " display_name = coalesce($9::text, display_name),"
	    " method_id = coalesce($10::text, method_id),"
	    " attestation = coalesce($11::text, attestation),"
	    " stage = coalesce($12::text, stage),"
	    " error_code = coalesce($13::text, error_code),"
	    " last_error = coalesce($14::text, last_error),"
	    " request_id = coalesce($15::text, request_id),"
	    " lease_until = CASE WHEN $2::text IN ('done','failed','skipped')"
	    "  THEN NULL ELSE now() + make_interval(secs => $16::int) END,"
	    " body = CASE WHEN $2::text IN ('claimed','done') THEN NULL"
	    "  ELSE coalesce($17::text, body) END,"
	    " updated = now() WHERE id = $1::bigint", 17, vals, NULL)) !=
	    QUEUE_OK || (r = event(q, it->id, state_names[st], detail)) !=
	    QUEUE_OK ||
	    (r = q_exec(q, "recording the step", "COMMIT", 0, NULL, NULL)) !=
	    QUEUE_OK)
		goto fail;
	it->state = st;
	if (st == QUEUE_ST_CLAIMED) {
		it->credential_id[0] = '\0';
		it->reconcile = false;
	}
	r = QUEUE_OK;
fail:
	return (q_end(q, r));
}

int
queue_body(queue_t *q, const struct queue_item *it, char **body,
    double *age_s)
{
	PGresult	*res = NULL;
	char		 id[24];
	const char	*vals[1];
	int		 r;

	if (body != NULL)
		*body = NULL;
	if (age_s != NULL)
		*age_s = 0;
	if (q == NULL || it == NULL || it->id <= 0 || body == NULL ||
	    age_s == NULL)
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	snprintf(id, sizeof(id), "%lld", it->id);
	vals[0] = id;
	/* the step that recorded it, not the claim (which sets updated) */
	if ((r = q_exec(q, "reading the registration", "SELECT u.body,"
	    " extract(epoch FROM now() - (SELECT max(e.at) FROM"
	    " provisioning_events e WHERE e.user_id = u.id AND e.state IN"
	    " ('key_touched', 'failed'))) FROM provisioning_users u"
	    " WHERE u.id = $1::bigint AND u.body IS NOT NULL", 1, vals,
	    &res)) != QUEUE_OK)
		goto fail;
	if (PQntuples(res) == 1) {
		if ((*body = strdup(PQgetvalue(res, 0, 0))) == NULL) {
			r = QUEUE_ERR_INTERNAL;
			goto fail;
		}
		*age_s = PQgetisnull(res, 0, 1) ? 0 :
		    strtod(PQgetvalue(res, 0, 1), NULL);
	}
	r = QUEUE_OK;
fail:
	PQclear(res);

	return (q_end(q, r));
}

int
queue_release(queue_t *q, struct queue_item *it)
{
	char		 id[24];
	const char	*vals[1];
	int		 r;

	if (q == NULL || it == NULL || it->id <= 0)
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	snprintf(id, sizeof(id), "%lld", it->id);
	vals[0] = id;
	/* back to queued; a recorded credential makes the next claim reconcile */
	if ((r = q_exec(q, "releasing", "BEGIN", 0, NULL, NULL)) !=
	    QUEUE_OK || (r = q_hold(q, it, "releasing")) != QUEUE_OK ||
	    (r = q_exec(q, "releasing", "UPDATE provisioning_users SET"
	    " state = 'queued', station = NULL, lease_until = NULL,"
	    " updated = now() WHERE id = $1::bigint", 1, vals, NULL)) !=
	    QUEUE_OK || (r = event(q, it->id, "queued", "released")) !=
	    QUEUE_OK ||
	    (r = q_exec(q, "releasing", "COMMIT", 0, NULL, NULL)) != QUEUE_OK)
		goto fail;
	it->state = QUEUE_ST_QUEUED;
	r = QUEUE_OK;
fail:
	return (q_end(q, r));
}

int
queue_retry(queue_t *q, const char *user, size_t *n)
{
	PGresult	*res = NULL;
	char		 key[QUEUE_KEY_LEN];
	const char	*vals[2];
	int		 r;

	if (q == NULL || (user != NULL && user_key(user, key,
	    sizeof(key)) < 0))
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	vals[0] = user != NULL ? key : NULL;
	vals[1] = q->station;
	if ((r = q_exec(q, "retrying", "WITH r AS (UPDATE provisioning_users"
	    " SET state = 'queued', station = NULL, lease_until = NULL,"
	    " updated = now() WHERE state = 'failed' AND ($1::text IS NULL"
	    " OR user_key = $1::text OR lower(upn) = $1::text"
	    " OR lower(object_id) = $1::text) RETURNING id)"
	    " INSERT INTO provisioning_events (user_id, station, state,"
	    " detail) SELECT id, $2::text, 'queued', 'retry' FROM r", 2,
	    vals, &res)) != QUEUE_OK)
		goto fail;
	if (n != NULL)
		*n = strtoul(PQcmdTuples(res), NULL, 10);
	r = QUEUE_OK;
fail:
	PQclear(res);

	return (q_end(q, r));
}

int
queue_drain(queue_t *q, const char *station, bool on)
{
	const char	*vals[2];
	int		 r;

	if (q == NULL || (station != NULL && (*station == '\0' ||
	    !fits(station, QUEUE_NAME_LEN))))
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	vals[0] = on ? "t" : "f";
	vals[1] = station;
	if (station != NULL)
		r = q_exec(q, "draining", "INSERT INTO provisioning_stations"
		    " (name, draining) VALUES ($2::text, $1::boolean)"
		    " ON CONFLICT (name) DO UPDATE SET draining = $1::boolean",
		    2, vals, NULL);
	else if ((r = q_exec(q, "draining", "BEGIN", 0, NULL, NULL)) ==
	    QUEUE_OK && (r = q_exec(q, "draining", "UPDATE "
	    "provisioning_fleet SET draining = $1::boolean", 1, vals,
	    NULL)) == QUEUE_OK && (on || (r = q_exec(q, "draining",
	    "UPDATE provisioning_stations SET draining = false", 0, NULL,
	    NULL)) == QUEUE_OK))
		/* resuming the fleet resumes every station too */
		r = q_exec(q, "draining", "COMMIT", 0, NULL, NULL);

	return (q_end(q, r));
}

void
queue_status_reset(struct queue_status *s)
{
	if (s == NULL)
		return;
	free(s->stations);
	memset(s, 0, sizeof(*s));
}

int
queue_status(queue_t *q, struct queue_status *s)
{
	PGresult			*res = NULL;
	struct queue_station_status	*ss;
	enum queue_state		 st;
	int				 r, i, n;

	if (q == NULL || s == NULL)
		return (QUEUE_ERR_ARG);
	memset(s, 0, sizeof(*s));
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	s->schema = q->schema;
	/* one snapshot: the counts add up */
	if ((r = q_exec(q, "the status", "BEGIN ISOLATION LEVEL REPEATABLE "
	    "READ READ ONLY", 0, NULL, NULL)) != QUEUE_OK ||
	    (r = q_exec(q, "the status", "SELECT state, count(*) FROM "
	    "provisioning_users GROUP BY state", 0, NULL, &res)) != QUEUE_OK)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
		st = queue_state_from_name(PQgetvalue(res, i, 0));
		s->count[st] += strtoul(PQgetvalue(res, i, 1), NULL, 10);
		s->total += strtoul(PQgetvalue(res, i, 1), NULL, 10);
	}
	PQclear(res);
	if ((r = q_exec(q, "the status", "SELECT (SELECT count(*) FROM "
	    "provisioning_users WHERE state IN " INFLIGHT " AND lease_until "
	    "< now()), (SELECT draining FROM provisioning_fleet WHERE id = "
	    "1)", 0, NULL, &res)) != QUEUE_OK)
		goto fail;
	s->expired = strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	s->fleet_draining = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);
	if ((r = q_exec(q, "the status", "SELECT s.name, " TS("s.last_seen")
	    ", s.draining, count(u.id) FILTER (WHERE u.state IN " INFLIGHT
	    "), count(u.id) FILTER (WHERE u.state = 'done'),"
	    " count(u.id) FILTER (WHERE u.state = 'failed')"
	    " FROM provisioning_stations s LEFT JOIN provisioning_users u"
	    " ON u.station = s.name GROUP BY s.name, s.last_seen, s.draining"
	    " ORDER BY s.name", 0, NULL, &res)) != QUEUE_OK)
		goto fail;
	n = PQntuples(res);
	if (n > 0 && (s->stations = calloc((size_t)n,
	    sizeof(*s->stations))) == NULL) {
		r = QUEUE_ERR_INTERNAL;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		ss = &s->stations[i];
		copy(ss->name, sizeof(ss->name), PQgetvalue(res, i, 0));
		copy(ss->last_seen, sizeof(ss->last_seen),
		    PQgetvalue(res, i, 1));
		ss->draining = strcmp(PQgetvalue(res, i, 2), "t") == 0;
		ss->in_flight = strtoul(PQgetvalue(res, i, 3), NULL, 10);
		ss->done = strtoul(PQgetvalue(res, i, 4), NULL, 10);
		ss->failed = strtoul(PQgetvalue(res, i, 5), NULL, 10);
	}
	s->nstations = (size_t)n;
	r = q_exec(q, "the status", "COMMIT", 0, NULL, NULL);
fail:
	PQclear(res);
	if (r != QUEUE_OK)
		queue_status_reset(s);

	return (q_end(q, r));
}

int
queue_report(queue_t *q, bool failures_only, queue_report_fn *cb,
    void *arg)
{
	PGresult		*res = NULL;
	struct queue_row	 row;
	const char		*vals[1] = { failures_only ? "t" : "f" };
	int			 r, i;

	if (q == NULL || cb == NULL)
		return (QUEUE_ERR_ARG);
	if ((r = q_begin(q, true)) != QUEUE_OK)
		return (r);
	if ((r = q_exec(q, "the report", "SELECT user_key, upn, object_id,"
	    " state, station, attempts, credential_id, method_id, device,"
	    " aaguid, model, display_name, attestation, stage, error_code,"
	    " last_error, request_id, " TS("updated") " FROM"
	    " provisioning_users WHERE NOT $1::boolean OR state = 'failed'"
	    " ORDER BY id", 1, vals, &res)) != QUEUE_OK)
		goto fail;
	for (i = 0; i < PQntuples(res); i++) {
#define COL(n)	(PQgetisnull(res, i, (n)) ? NULL : PQgetvalue(res, i, (n)))
		row.user_key = COL(0);
		row.upn = COL(1);
		row.object_id = COL(2);
		row.state = COL(3);
		row.station = COL(4);
		row.attempts = atoi(PQgetvalue(res, i, 5));
		row.credential_id = COL(6);
		row.method_id = COL(7);
		row.device = COL(8);
		row.aaguid = COL(9);
		row.model = COL(10);
		row.display_name = COL(11);
		row.attestation = COL(12);
		row.stage = COL(13);
		row.error_code = COL(14);
		row.message = COL(15);
		row.request_id = COL(16);
		row.updated = COL(17);
#undef COL
		if ((r = cb(&row, arg)) != 0)
			goto fail;
	}
	r = QUEUE_OK;
fail:
	PQclear(res);

	return (q_end(q, r));
}
