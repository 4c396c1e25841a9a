/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * src/queue (provqueue) against a real PostgreSQL cluster, started by
 * pgcluster.py, which passes it in PROVISIONING_QUEUE: the schema
 * (versioned, idempotent, a newer one refused), the conninfo rules
 * (no password, unreachable database), add (idempotent, also two at
 * once), claims (many threads, each its own connection: never one user
 * twice), lease expiry and reconcile, stale generations refused,
 * release, retry, drain and status counts, and the report.
 *
 * Each test works in a fresh database of its own, made with libpq
 * directly (the test is not bound by the layering rules).
 */

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
#include <libpq-fe.h>

#include "queue.h"

#define OID_A	"0f8fad5b-d9cb-469f-a165-70867728950e"
#define OID_B	"7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define CRED	"Qk3Gx1s-AmxBzT0_8v3YrTq9UgBvV4qA1jWwqS-0dZE"
#define NUSERS	300
#define NTHREADS 8

static const char	*base;		/* the cluster's conninfo */
static int		 dbseq;

struct db {
	char	name[64];
	char	conninfo[512];
};

static void
admin(const char *sql)
{
	char		 ci[600];
	PGconn		*c;
	PGresult	*res;

	snprintf(ci, sizeof(ci), "%s dbname=postgres", base);
	c = PQconnectdb(ci);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

/* one statement in the test's database; the first value of the reply */
static void
sql1(const struct db *d, const char *sql, char *out, size_t len)
{
	PGconn		*c;
	PGresult	*res;
	int		 st;

	c = PQconnectdb(d->conninfo);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	if (out != NULL)
		snprintf(out, len, "%s", st == PGRES_TUPLES_OK &&
		    PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(c);
}

static long
sqlnum(const struct db *d, const char *sql)
{
	char v[64];

	sql1(d, sql, v, sizeof(v));
	return (strtol(v, NULL, 10));
}

static int
setup(void **state)
{
	struct db	*d;
	char		 sql[128];

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (-1);
	snprintf(d->name, sizeof(d->name), "tq_%d_%d", (int)getpid(),
	    ++dbseq);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", d->name);
	admin(sql);
	snprintf(d->conninfo, sizeof(d->conninfo), "%s dbname=%s", base,
	    d->name);
	*state = d;

	return (0);
}

static int
teardown(void **state)
{
	struct db	*d = *state;
	char		 sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)",
	    d->name);
	admin(sql);
	free(d);

	return (0);
}

static queue_t *
open_q(const struct db *d, const char *station)
{
	queue_t	*q = NULL;
	char	 err[QUEUE_MSG_LEN];
	int	 r;

	if ((r = queue_open(d->conninfo, station, &q, err, sizeof(err))) !=
	    QUEUE_OK)
		fail_msg("queue_open: %s (%s)", err, queue_strerr(r));
	return (q);
}

/* an initialised queue holding n users u0001@contoso.example .. */
static queue_t *
filled(const struct db *d, const char *station, size_t n)
{
	queue_t		 *q = open_q(d, station);
	char		**users;
	size_t		  i, added = 0;

	assert_int_equal(queue_init(q, NULL), QUEUE_OK);
	users = calloc(n, sizeof(*users));
	assert_non_null(users);
	for (i = 0; i < n; i++) {
		users[i] = malloc(64);
		assert_non_null(users[i]);
		snprintf(users[i], 64, "U%04zu@contoso.example", i + 1);
	}
	assert_int_equal(queue_add(q, (const char *const *)users, n, &added),
	    QUEUE_OK);
	assert_int_equal(added, n);
	for (i = 0; i < n; i++)
		free(users[i]);
	free(users);
	return (q);
}

static void
test_conninfo(void **state)
{
	struct db	*d = *state;
	queue_t		*q = NULL;
	char		 err[QUEUE_MSG_LEN], ci[600];

	assert_int_equal(queue_open("postgresql://prov:s3cret@db.example/p",
	    "st", &q, err, sizeof(err)), QUEUE_ERR_PASSWORD);
	assert_null(q);
	assert_non_null(strstr(err, ".pgpass"));
	assert_null(strstr(err, "s3cret"));
	assert_int_equal(queue_open("host=db.example password=s3cret", "st",
	    &q, err, sizeof(err)), QUEUE_ERR_PASSWORD);
	assert_null(strstr(err, "s3cret"));
	assert_int_equal(queue_open("postgresql://db.example/p?password=x",
	    "st", &q, err, sizeof(err)), QUEUE_ERR_PASSWORD);
	assert_int_equal(queue_open("nonsense ===", "st", &q, err,
	    sizeof(err)), QUEUE_ERR_ARG);
	assert_int_equal(queue_open("", "st", &q, err, sizeof(err)),
	    QUEUE_ERR_ARG);
	assert_non_null(strstr(err, "--queue"));
	assert_int_equal(queue_open(d->conninfo, "", &q, err, sizeof(err)),
	    QUEUE_ERR_ARG);
	/* nobody listens there */
	snprintf(ci, sizeof(ci), "host=/nonexistent port=1 dbname=x "
	    "connect_timeout=2");
	assert_int_equal(queue_open(ci, "st", &q, err, sizeof(err)),
	    QUEUE_ERR_CONNECT);
	assert_non_null(strstr(err, "cannot connect"));
	assert_non_null(strstr(err, "PROVISIONING_QUEUE"));
	assert_null(q);
	/* a URL works as well as a keyword string */
	snprintf(ci, sizeof(ci), "postgresql:///%s?host=%s&port=%s&user=%s",
	    d->name, getenv("PGHOST"), getenv("PGPORT"), getenv("PGUSER"));
	assert_int_equal(queue_open(ci, "st", &q, err, sizeof(err)),
	    QUEUE_OK);
	queue_free(&q);
	assert_null(q);
	queue_free(NULL);
}

static void
test_schema(void **state)
{
	struct db		*d = *state;
	queue_t			*q = open_q(d, "st1"), *q2 = NULL;
	struct queue_item	 it;
	struct queue_status	 s;
	const char		*u[] = { "a@contoso.example" };
	char			 err[QUEUE_MSG_LEN];
	int			 from = -1;

	assert_int_equal(queue_schema(q), 0);
	/* everything but init wants the schema */
	assert_int_equal(queue_add(q, u, 1, NULL), QUEUE_ERR_SCHEMA);
	assert_non_null(strstr(queue_errmsg(q), "queue init"));
	assert_int_equal(queue_claim(q, 60, &it), QUEUE_ERR_SCHEMA);
	assert_int_equal(queue_status(q, &s), QUEUE_ERR_SCHEMA);
	assert_int_equal(queue_init(q, &from), QUEUE_OK);
	assert_int_equal(from, 0);
	assert_int_equal(queue_schema(q), QUEUE_SCHEMA);
	/* again: nothing to do, nothing broken */
	assert_int_equal(queue_init(q, &from), QUEUE_OK);
	assert_int_equal(from, QUEUE_SCHEMA);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM "
	    "provisioning_schema"), QUEUE_SCHEMA);
	assert_int_equal(queue_add(q, u, 1, NULL), QUEUE_OK);
	/* a second station sees the schema at open */
	q2 = open_q(d, "st2");
	assert_int_equal(queue_schema(q2), QUEUE_SCHEMA);
	queue_free(&q2);
	/* a schema 2 database (no body) is migrated, its rows kept */
	sql1(d, "ALTER TABLE provisioning_users DROP COLUMN body; "
	    "DELETE FROM provisioning_schema WHERE version = 3", NULL, 0);
	q2 = open_q(d, "st2");
	assert_int_equal(queue_schema(q2), 2);
	assert_int_equal(queue_claim(q2, 60, &it), QUEUE_ERR_SCHEMA);
	assert_int_equal(queue_init(q2, &from), QUEUE_OK);
	assert_int_equal(from, 2);
	assert_int_equal(queue_schema(q2), QUEUE_SCHEMA);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"
	    " WHERE body IS NULL"), 1);
	queue_free(&q2);
	/* a database migrated by a newer tool is refused, and left alone */
	sql1(d, "INSERT INTO provisioning_schema (version) VALUES (99)",
	    NULL, 0);
	assert_int_equal(queue_open(d->conninfo, "st3", &q2, err,
	    sizeof(err)), QUEUE_ERR_VERSION);
	assert_non_null(strstr(err, "99"));
	assert_null(q2);
	assert_int_equal(queue_init(q, &from), QUEUE_ERR_VERSION);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM "
	    "provisioning_users"), 1);
	queue_free(&q);
}

struct initer {
	const struct db	*d;
	int		 r;
};

static void *
init_thread(void *arg)
{
	struct initer	*t = arg;
	queue_t		*q = open_q(t->d, "init");

	t->r = queue_init(q, NULL);
	queue_free(&q);
	return (NULL);
}

static void
test_schema_concurrent(void **state)
{
	struct db	*d = *state;
	pthread_t	 th[4];
	struct initer	 t[4];
	int		 i;

	for (i = 0; i < 4; i++) {
		t[i].d = d;
		assert_int_equal(pthread_create(&th[i], NULL, init_thread,
		    &t[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].r, QUEUE_OK);
	}
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM "
	    "provisioning_schema"), QUEUE_SCHEMA);
}

static void
test_add(void **state)
{
	struct db		*d = *state;
	queue_t			*q = filled(d, "st1", 5);
	struct queue_status	 s;
	const char		*again[] = { "u0001@CONTOSO.example",
				    "u0002@contoso.example",
				    "new@contoso.example", OID_A,
				    "0F8FAD5B-D9CB-469F-A165-70867728950E",
				    "new@contoso.example" };
	const char		*bad[] = { "ok@contoso.example", "a\nb" };
	const char		*empty[] = { "" };
	size_t			 added = 99;

	/* case-insensitive keys; a repeat within one call counts once */
	assert_int_equal(queue_add(q, again, 6, &added), QUEUE_OK);
	assert_int_equal(added, 2);
	assert_int_equal(queue_add(q, again, 6, &added), QUEUE_OK);
	assert_int_equal(added, 0);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users "
	    "WHERE object_id = '" OID_A "' AND upn IS NULL"), 1);
	/* one bad reference refuses the whole call */
	assert_int_equal(queue_add(q, bad, 2, &added), QUEUE_ERR_ARG);
	assert_int_equal(queue_add(q, empty, 1, &added), QUEUE_ERR_ARG);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users "
	    "WHERE user_key = 'ok@contoso.example'"), 0);
	assert_int_equal(queue_add(q, NULL, 0, &added), QUEUE_OK);
	assert_int_equal(added, 0);
	assert_int_equal(queue_status(q, &s), QUEUE_OK);
	assert_int_equal(s.total, 7);
	assert_int_equal(s.count[QUEUE_ST_QUEUED], 7);
	queue_status_reset(&s);
	/* a done user is not queued again */
	sql1(d, "UPDATE provisioning_users SET state = 'done' WHERE "
	    "user_key = 'u0003@contoso.example'", NULL, 0);
	assert_int_equal(queue_add(q, (const char *[]){
	    "u0003@contoso.example" }, 1, &added), QUEUE_OK);
	assert_int_equal(added, 0);
	queue_free(&q);
}

/* one user added by UPN and by object id is enrolled through one row */
static void
test_same_user(void **state)
{
	struct db		*d = *state;
	queue_t			*q = filled(d, "st1", 1);
	struct queue_item	 a, b;
	struct queue_fields	 f;
	const char		*oid[] = { OID_A };
	const char		*oid_b[] = { OID_B };
	size_t			 added = 99;

	/* before a station resolved U0001, its object id is a row too */
	assert_int_equal(queue_add(q, oid, 1, &added), QUEUE_OK);
	assert_int_equal(added, 1);
	assert_int_equal(queue_claim(q, 60, &a), QUEUE_OK);
	assert_int_equal(queue_claim(q, 60, &b), QUEUE_OK);
	memset(&f, 0, sizeof(f));
	f.upn = "u0001@contoso.example";
	f.object_id = OID_A;
	/* the first resolved is refused while the other row is there */
	assert_int_equal(queue_step(q, &b, QUEUE_ST_RESOLVED, &f),
	    QUEUE_ERR_STATE);
	assert_non_null(strstr(queue_errmsg(q), "u0001@contoso.example"));
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users "
	    "WHERE state = 'resolved'"), 0);
	assert_int_equal(queue_step(q, &b, QUEUE_ST_SKIPPED, &(struct
	    queue_fields){ .message = "same user" }), QUEUE_OK);
	/* a skipped row does not hold the user back: a goes on */
	assert_int_equal(queue_step(q, &a, QUEUE_ST_RESOLVED, &f), QUEUE_OK);
	assert_int_equal(queue_step(q, &a, QUEUE_ST_DONE, &(struct
	    queue_fields){ .method_id = "mid" }), QUEUE_OK);
	/* once resolved, either reference of the user is not added again */
	assert_int_equal(queue_add(q, (const char *[]){
	    "U0001@contoso.example", OID_A }, 2, &added), QUEUE_OK);
	assert_int_equal(added, 0);
	/* added by UPN, resolved, then added by object id: one row */
	assert_int_equal(queue_add(q, (const char *[]){
	    "v@contoso.example" }, 1, &added), QUEUE_OK);
	assert_int_equal(queue_claim(q, 60, &a), QUEUE_OK);
	f.upn = "V@contoso.example";
	f.object_id = OID_B;
	assert_int_equal(queue_step(q, &a, QUEUE_ST_RESOLVED, &f), QUEUE_OK);
	assert_int_equal(queue_add(q, oid_b, 1, &added), QUEUE_OK);
	assert_int_equal(added, 0);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"),
	    3);
	queue_free(&q);
}

struct adder {
	const struct db	*d;
	int		 r;
	size_t		 added;
};

static void *
add_thread(void *arg)
{
	struct adder	 *t = arg;
	queue_t		 *q = open_q(t->d, "adder");
	char		**users;
	size_t		  i, n = 2500;

	users = calloc(n, sizeof(*users));
	for (i = 0; users != NULL && i < n; i++) {
		if ((users[i] = malloc(64)) == NULL)
			abort();
		snprintf(users[i], 64, "same%05zu@contoso.example", i);
	}
	t->r = queue_add(q, (const char *const *)users, n, &t->added);
	for (i = 0; users != NULL && i < n; i++)
		free(users[i]);
	free(users);
	queue_free(&q);
	return (NULL);
}

/* two `queue add` of one CSV at once: every user once */
static void
test_add_concurrent(void **state)
{
	struct db	*d = *state;
	queue_t		*q = filled(d, "st1", 0);
	pthread_t	 th[3];
	struct adder	 t[3];
	int		 i;

	for (i = 0; i < 3; i++) {
		t[i].d = d;
		assert_int_equal(pthread_create(&th[i], NULL, add_thread,
		    &t[i]), 0);
	}
	for (i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].r, QUEUE_OK);
	}
	assert_int_equal(t[0].added + t[1].added + t[2].added, 2500);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM "
	    "provisioning_users"), 2500);
	queue_free(&q);
}

struct claimer {
	const struct db	*d;
	char		 station[32];
	long long	*got;		/* NUSERS slots, shared */
	pthread_mutex_t	*lock;
	size_t		 n;
	int		 r;
};

static void *
claim_thread(void *arg)
{
	struct claimer		*t = arg;
	queue_t			*q = open_q(t->d, t->station);
	struct queue_item	 it;
	struct queue_fields	 f;
	char			 cred[64], mid[64];
	int			 r;

	while ((r = queue_claim(q, 60, &it)) == QUEUE_OK) {
		pthread_mutex_lock(t->lock);
		assert_true(it.id > 0 && it.id <= NUSERS);
		t->got[it.id - 1]++;
		pthread_mutex_unlock(t->lock);
		assert_false(it.reconcile);
		snprintf(cred, sizeof(cred), "cred-%lld", it.id);
		snprintf(mid, sizeof(mid), "method-%lld", it.id);
		memset(&f, 0, sizeof(f));
		f.credential_id = cred;
		if ((r = queue_step(q, &it, QUEUE_ST_KEY_TOUCHED, &f)) !=
		    QUEUE_OK)
			break;
		f.method_id = mid;
		if ((r = queue_step(q, &it, QUEUE_ST_DONE, &f)) != QUEUE_OK)
			break;
		t->n++;
	}
	t->r = r;
	queue_free(&q);
	return (NULL);
}

static void
test_claim_concurrent(void **state)
{
	struct db		*d = *state;
	queue_t			*q = filled(d, "st0", NUSERS);
	pthread_t		 th[NTHREADS];
	struct claimer		 t[NTHREADS];
	pthread_mutex_t		 lock = PTHREAD_MUTEX_INITIALIZER;
	long long		 got[NUSERS];
	struct queue_status	 s;
	size_t			 i, total = 0;

	memset(got, 0, sizeof(got));
	for (i = 0; i < NTHREADS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].d = d;
		t[i].got = got;
		t[i].lock = &lock;
		snprintf(t[i].station, sizeof(t[i].station), "station-%zu",
		    i);
		assert_int_equal(pthread_create(&th[i], NULL, claim_thread,
		    &t[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(t[i].r, QUEUE_ERR_EMPTY);
		total += t[i].n;
	}
	assert_int_equal(total, NUSERS);
	for (i = 0; i < NUSERS; i++)
		if (got[i] != 1)
			fail_msg("user %zu claimed %lld times", i + 1, got[i]);
	assert_int_equal(queue_status(q, &s), QUEUE_OK);
	assert_int_equal(s.count[QUEUE_ST_DONE], NUSERS);
	assert_int_equal(s.nstations, NTHREADS);
	total = 0;
	for (i = 0; i < s.nstations; i++) {
		assert_int_equal(s.stations[i].in_flight, 0);
		total += s.stations[i].done;
	}
	assert_int_equal(total, NUSERS);
	queue_status_reset(&s);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"
	    " WHERE attempts <> 1 OR method_id <> 'method-' || id"), 0);
	queue_free(&q);
}

/* the lease runs out: claimable again, and the old claim is dead */
static void
test_lease_expiry(void **state)
{
	struct db		*d = *state;
	queue_t			*a = filled(d, "alpha", 2), *b;
	struct queue_item	 ia, ib, ia2;
	struct queue_fields	 f;
	struct queue_status	 s;
	char			*body = NULL;
	double			 age = -1;
	size_t			 n;

	b = open_q(d, "beta");
	assert_int_equal(queue_claim(a, 1, &ia), QUEUE_OK);
	assert_string_equal(ia.user_key, "u0001@contoso.example");
	assert_int_equal(ia.state, QUEUE_ST_CLAIMED);
	assert_int_equal(ia.prev_station[0], '\0');
	memset(&f, 0, sizeof(f));
	f.credential_id = CRED;
	f.device = "unix:/tmp/k1";
	f.body = "{\"publicKeyCredential\":{}}";
	assert_int_equal(queue_step(a, &ia, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_OK);
	f.body = NULL;
	/* the heartbeat keeps it */
	assert_int_equal(queue_heartbeat(a, 1, &n), QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(queue_claim(b, 60, &ib), QUEUE_OK);
	assert_string_equal(ib.user_key, "u0002@contoso.example");
	assert_int_equal(queue_release(b, &ib), QUEUE_OK);
	/* alpha dies: its lease runs out */
	sql1(d, "UPDATE provisioning_users SET lease_until = now() - "
	    "interval '1 second' WHERE station = 'alpha'", NULL, 0);
	assert_int_equal(queue_status(b, &s), QUEUE_OK);
	assert_int_equal(s.expired, 1);
	queue_status_reset(&s);
	/* expired first, before the queued one; with its credential */
	assert_int_equal(queue_claim(b, 60, &ib), QUEUE_OK);
	assert_string_equal(ib.user_key, "u0001@contoso.example");
	assert_true(ib.reconcile);
	assert_int_equal(ib.state, QUEUE_ST_RECONCILE);
	assert_string_equal(ib.credential_id, CRED);
	assert_string_equal(ib.prev_station, "alpha");
	assert_int_equal(ib.attempts, 2);
	assert_true(ib.lease_gen > ia.lease_gen);
	/* and alpha's registration, aged from its touch, not the claim */
	sql1(d, "UPDATE provisioning_events SET at = at - interval "
	    "'90 seconds' WHERE user_id = 1 AND state = 'key_touched'",
	    NULL, 0);
	assert_int_equal(queue_body(b, &ib, &body, &age), QUEUE_OK);
	assert_string_equal(body, "{\"publicKeyCredential\":{}}");
	free(body);
	assert_true(age >= 90 && age < 150);
	/* alpha comes back: every step, release and heartbeat is refused */
	f.method_id = "m-alpha";
	assert_int_equal(queue_step(a, &ia, QUEUE_ST_DONE, &f),
	    QUEUE_ERR_LOST);
	assert_non_null(strstr(queue_errmsg(a), "abandon"));
	assert_int_equal(queue_release(a, &ia), QUEUE_ERR_LOST);
	assert_int_equal(queue_renew(a, &ia), QUEUE_ERR_LOST);
	assert_int_equal(queue_renew(b, &ib), QUEUE_OK);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"
	    " WHERE id = 1 AND lease_until > now() + interval '50 seconds'"),
	    1);
	assert_int_equal(queue_heartbeat(a, 60, &n), QUEUE_OK);
	assert_int_equal(n, 0);
	/* beta did not find it in Graph: starts over, credential cleared */
	assert_int_equal(queue_step(b, &ib, QUEUE_ST_CLAIMED, NULL),
	    QUEUE_OK);
	assert_false(ib.reconcile);
	assert_int_equal(ib.credential_id[0], '\0');
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"
	    " WHERE id = 1 AND credential_id IS NULL AND body IS NULL"), 1);
	assert_int_equal(queue_body(b, &ib, &body, &age), QUEUE_OK);
	assert_null(body);
	f.credential_id = "other";
	assert_int_equal(queue_step(b, &ib, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_OK);
	f.method_id = "m-beta";
	assert_int_equal(queue_step(b, &ib, QUEUE_ST_DONE, &f), QUEUE_OK);
	/* a finished claim takes no more steps */
	assert_int_equal(queue_step(b, &ib, QUEUE_ST_FAILED, &(struct
	    queue_fields){ .message = "late" }), QUEUE_ERR_LOST);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"
	    " WHERE id = 1 AND state = 'done' AND method_id = 'm-beta' AND"
	    " station = 'beta' AND lease_until IS NULL"), 1);
	/* an expired lease nobody took since is still the station's */
	assert_int_equal(queue_claim(a, 1, &ia2), QUEUE_OK);
	assert_string_equal(ia2.user_key, "u0002@contoso.example");
	sql1(d, "UPDATE provisioning_users SET lease_until = now() - "
	    "interval '1 second' WHERE id = 2", NULL, 0);
	assert_int_equal(queue_step(a, &ia2, QUEUE_ST_RESOLVED, &(struct
	    queue_fields){ .object_id = OID_A }), QUEUE_OK);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_users"
	    " WHERE id = 2 AND lease_until > now()"), 1);
	assert_int_equal(queue_claim(b, 60, &ib), QUEUE_ERR_EMPTY);
	/* a real wait, not a faked clock */
	assert_int_equal(queue_step(a, &ia2, QUEUE_ST_OPTIONS_FETCHED,
	    NULL), QUEUE_OK);
	sleep(2);
	assert_int_equal(queue_claim(b, 60, &ib), QUEUE_OK);
	assert_string_equal(ib.user_key, "u0002@contoso.example");
	assert_false(ib.reconcile);
	assert_string_equal(ib.object_id, OID_A);
	assert_int_equal(sqlnum(d, "SELECT count(*) FROM provisioning_events"
	    " WHERE user_id = 2 AND detail = 'lease of alpha expired'"), 1);
	queue_free(&a);
	queue_free(&b);
}

static void
test_steps_and_args(void **state)
{
	struct db		*d = *state;
	queue_t			*q = filled(d, "st", 1);
	struct queue_item	 it, fake;
	struct queue_fields	 f;
	char			 longer[QUEUE_CREDID_LEN + 10];

	assert_int_equal(queue_claim(q, 0, &it), QUEUE_ERR_ARG);
	assert_int_equal(queue_claim(q, 60, &it), QUEUE_OK);
	memset(&f, 0, sizeof(f));
	/* key_touched needs the credential, done the method, failed why */
	assert_int_equal(queue_step(q, &it, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_ERR_ARG);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_DONE, &f),
	    QUEUE_ERR_ARG);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_FAILED, &f),
	    QUEUE_ERR_ARG);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_QUEUED, &f),
	    QUEUE_ERR_ARG);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_RECONCILE, &f),
	    QUEUE_ERR_ARG);
	memset(longer, 'A', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	f.credential_id = longer;
	assert_int_equal(queue_step(q, &it, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_ERR_ARG);
	/* a generation from before is refused */
	fake = it;
	fake.lease_gen--;
	f.credential_id = CRED;
	assert_int_equal(queue_step(q, &fake, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_ERR_LOST);
	fake = it;
	fake.id = 4242;
	assert_int_equal(queue_step(q, &fake, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_ERR_LOST);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_KEY_TOUCHED, &f),
	    QUEUE_OK);
	/* released with a credential: the next claim reconciles */
	assert_int_equal(queue_release(q, &it), QUEUE_OK);
	assert_int_equal(queue_claim(q, 60, &it), QUEUE_OK);
	assert_true(it.reconcile);
	assert_string_equal(it.credential_id, CRED);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_DONE, &(struct
	    queue_fields){ .method_id = "mid" }), QUEUE_OK);
	queue_free(&q);
}

static void
test_retry_drain_status(void **state)
{
	struct db		*d = *state;
	queue_t			*a = filled(d, "alpha", 6), *b;
	struct queue_item	 it;
	struct queue_fields	 f;
	struct queue_status	 s;
	size_t			 n, i;

	b = open_q(d, "beta");
	memset(&f, 0, sizeof(f));
	f.message = "presence timeout";
	f.stage = "key";
	f.error_code = "CTAP_ERR_TIMEOUT";
	for (i = 0; i < 2; i++) {
		assert_int_equal(queue_claim(a, 60, &it), QUEUE_OK);
		assert_int_equal(queue_step(a, &it, QUEUE_ST_FAILED, &f),
		    QUEUE_OK);
	}
	assert_int_equal(queue_claim(b, 60, &it), QUEUE_OK);
	assert_int_equal(queue_step(b, &it, QUEUE_ST_SKIPPED, &(struct
	    queue_fields){ .message = "has a passkey" }), QUEUE_OK);
	assert_int_equal(queue_claim(b, 60, &it), QUEUE_OK);
	assert_int_equal(queue_step(b, &it, QUEUE_ST_OPTIONS_FETCHED, NULL),
	    QUEUE_OK);
	assert_int_equal(queue_status(a, &s), QUEUE_OK);
	assert_int_equal(s.total, 6);
	assert_int_equal(s.count[QUEUE_ST_FAILED], 2);
	assert_int_equal(s.count[QUEUE_ST_SKIPPED], 1);
	assert_int_equal(s.count[QUEUE_ST_OPTIONS_FETCHED], 1);
	assert_int_equal(s.count[QUEUE_ST_QUEUED], 2);
	assert_int_equal(s.nstations, 2);
	assert_string_equal(s.stations[0].name, "alpha");
	assert_int_equal(s.stations[0].failed, 2);
	assert_int_equal(s.stations[1].in_flight, 1);
	assert_int_equal(s.schema, QUEUE_SCHEMA);
	assert_false(s.fleet_draining);
	queue_status_reset(&s);
	/* drain one station; the other goes on */
	assert_int_equal(queue_drain(a, "alpha", true), QUEUE_OK);
	assert_int_equal(queue_claim(a, 60, &it), QUEUE_ERR_DRAINING);
	assert_int_equal(queue_claim(b, 60, &it), QUEUE_OK);
	assert_int_equal(queue_release(b, &it), QUEUE_OK);
	/* the fleet: nobody; a claim already made goes on */
	assert_int_equal(queue_drain(a, NULL, true), QUEUE_OK);
	assert_int_equal(queue_claim(b, 60, &it), QUEUE_ERR_DRAINING);
	assert_int_equal(queue_status(a, &s), QUEUE_OK);
	assert_true(s.fleet_draining);
	assert_true(s.stations[0].draining);
	queue_status_reset(&s);
	/* resuming the fleet resumes the stations too */
	assert_int_equal(queue_drain(a, NULL, false), QUEUE_OK);
	assert_int_equal(queue_claim(a, 60, &it), QUEUE_OK);
	assert_int_equal(queue_release(a, &it), QUEUE_OK);
	/* retry: one user, then the rest */
	assert_int_equal(queue_retry(a, "U0001@contoso.example", &n),
	    QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(queue_retry(a, "nobody@contoso.example", &n),
	    QUEUE_OK);
	assert_int_equal(n, 0);
	assert_int_equal(queue_retry(a, NULL, &n), QUEUE_OK);
	assert_int_equal(n, 1);
	assert_int_equal(queue_status(a, &s), QUEUE_OK);
	assert_int_equal(s.count[QUEUE_ST_FAILED], 0);
	assert_int_equal(s.count[QUEUE_ST_QUEUED], 4);
	queue_status_reset(&s);
	queue_free(&a);
	queue_free(&b);
}

struct rep {
	size_t	rows;
	size_t	failed;
	char	last_state[32];
};

static int
rep_cb(const struct queue_row *row, void *arg)
{
	struct rep *r = arg;

	r->rows++;
	if (strcmp(row->state, "failed") == 0) {
		r->failed++;
		assert_string_equal(row->message, "no key");
		assert_string_equal(row->station, "st");
		assert_non_null(row->updated);
		assert_int_equal(strlen(row->updated), 20);
	}
	if (strcmp(row->state, "done") == 0) {
		assert_string_equal(row->method_id, "mid");
		assert_string_equal(row->credential_id, CRED);
		assert_string_equal(row->aaguid, "aaguid-1");
	}
	snprintf(r->last_state, sizeof(r->last_state), "%s", row->state);
	return (r->rows == 99 ? 7 : 0);
}

static void
test_report(void **state)
{
	struct db		*d = *state;
	queue_t			*q = filled(d, "st", 3);
	struct queue_item	 it;
	struct rep		 r;

	assert_int_equal(queue_claim(q, 60, &it), QUEUE_OK);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_KEY_TOUCHED, &(struct
	    queue_fields){ .credential_id = CRED, .aaguid = "aaguid-1" }),
	    QUEUE_OK);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_DONE, &(struct
	    queue_fields){ .method_id = "mid" }), QUEUE_OK);
	assert_int_equal(queue_claim(q, 60, &it), QUEUE_OK);
	assert_int_equal(queue_step(q, &it, QUEUE_ST_FAILED, &(struct
	    queue_fields){ .message = "no key" }), QUEUE_OK);
	memset(&r, 0, sizeof(r));
	assert_int_equal(queue_report(q, false, rep_cb, &r), QUEUE_OK);
	assert_int_equal(r.rows, 3);
	assert_int_equal(r.failed, 1);
	assert_string_equal(r.last_state, "queued");
	memset(&r, 0, sizeof(r));
	assert_int_equal(queue_report(q, true, rep_cb, &r), QUEUE_OK);
	assert_int_equal(r.rows, 1);
	queue_free(&q);
}

/* the server drops the connection: one call fails, the next reconnects */
static void
test_reconnect(void **state)
{
	struct db		*d = *state;
	queue_t			*q = filled(d, "st", 2);
	struct queue_item	 it;
	int			 r;

	assert_int_equal(queue_claim(q, 60, &it), QUEUE_OK);
	sql1(d, "SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE application_name = 'provisioning'",
	    NULL, 0);
	r = queue_step(q, &it, QUEUE_ST_RESOLVED, NULL);
	assert_int_equal(r, QUEUE_ERR_CONNECT);
	assert_non_null(strstr(queue_errmsg(q), "lost the queue database"));
	/* the claim survived: it is still ours after the reconnect */
	assert_int_equal(queue_step(q, &it, QUEUE_ST_RESOLVED, NULL),
	    QUEUE_OK);
	assert_int_equal(queue_claim(q, 60, &it), QUEUE_OK);
	assert_string_equal(it.user_key, "u0002@contoso.example");
	queue_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conninfo, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_user, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_add_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_claim_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_steps_and_args, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retry_drain_status,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reconnect, setup,
		    teardown),
	};
	static char	 ci[512];
	const char	*env = getenv("PROVISIONING_QUEUE");
	char		*p;

	if (env == NULL || *env == '\0') {
		printf("SKIP: no cluster (run under tests/queue/pgcluster.py)"
		    "\n");
		return (77);
	}
	/* the cluster without its dbname: each test has a database */
	snprintf(ci, sizeof(ci), "%s", env);
	if ((p = strstr(ci, "dbname=")) != NULL)
		*p = '\0';
	base = ci;

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
