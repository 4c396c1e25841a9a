/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * graph/ against the Graph emulator over real HTTPS (its test CA): every
 * Graph call and OAuth flow, then the failure paths (expired and revoked
 * tokens, 429 storms, 5xx, timeouts, truncated, oversized and malformed
 * replies, a wrong CA) through the emulator's fault rules.
 */

#include <sys/stat.h>
#include <sys/wait.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "graph_int.h"
#include "testutil.h"
#include "test_graph_emu.h"


char	dir[64], ca[128], base[64], state_dir[128];
char	certp[128], keyp[128];


void
sh(const char *fmt, ...)
{
	char	cmd[4096];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* POST/DELETE JSON to the emulator's control API */
void
ctl(const char *method, const char *path, const char *json)
{
	char	 f[400];
	FILE	*fp;

	snprintf(f, sizeof(f), "%s/ctl.json", dir);
	assert_non_null(fp = fopen(f, "w"));
	fputs(json != NULL ? json : "{}", fp);
	fclose(fp);
	sh("curl -sf --cacert %s -X %s -H 'Content-Type: application/json' "
	    "--data-binary @%s %s/_emu/%s >/dev/null", ca, method, f, base,
	    path);
}

void
faults(const char *rules)
{
	char	buf[2048];

	snprintf(buf, sizeof(buf), "{\"rules\":[%s]}", rules);
	ctl("POST", "faults", buf);
}

/* the emulator's state.json, parsed */
json_t *
emu_state(void)
{
	char	 p[400];
	json_t	*j;

	snprintf(p, sizeof(p), "%s/state-now.json", dir);
	sh("curl -sf --cacert %s -o %s %s/_emu/state", ca, p, base);
	assert_non_null(j = json_load_file(p, 0, NULL));

	return (j);
}

static int
setup_all(void **state)
{
	const char	*src = getenv("SRCDIR") != NULL ? getenv("SRCDIR") :
			    SRCDIR;
	char		 cfg[400], line[64];
	FILE		*p;
	json_t		*j, *clients, *cl;
	int		 port = 0;

	snprintf(dir, sizeof(dir), "/tmp/graphemuXXXXXX");
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(certp, sizeof(certp), "%s/app.pem", dir);
	snprintf(keyp, sizeof(keyp), "%s/app.key", dir);
	/* an app that signs in with a certificate */
	snprintf(cfg, sizeof(cfg), "openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout %s -out %s -days 2 -subj /CN=provisioning-test "
	    "2>/dev/null", keyp, certp);
	if (system(cfg) != 0)
		return (-1);
	snprintf(cfg, sizeof(cfg), "%s/tests/graph-emulator/configs/basic.json",
	    src);
	if ((j = json_load_file(cfg, 0, NULL)) == NULL)
		return (-1);
	clients = json_object_get(j, "clients");
	cl = json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "client_id", CERT_APP,
	    "certificate_file", certp, "display_name", "cert app", "app_roles",
	    "UserAuthenticationMethod.ReadWrite.All", "User.Read.All",
	    "Policy.Read.All");
	json_array_append_new(clients, cl);
	/* short pages, so that paging is exercised */
	json_object_set_new(j, "page_size", json_integer(100));
	json_object_set_new(j, "device_code", json_pack("{s:i,s:i}",
	    "interval", 1, "pending_polls", 1));
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	if (json_dump_file(j, cfg, 0) < 0)
		return (-1);
	json_decref(j);
	snprintf(line, sizeof(line), "%s", "");
	{
		char cmd[1200];

		snprintf(cmd, sizeof(cmd), "PYTHON3=%s sh %s/tests/graph-emulator/"
		    "start.sh %s/emu %s", PYTHON3, src, dir, cfg);
		if ((p = popen(cmd, "r")) == NULL)
			return (-1);
		if (fgets(line, sizeof(line), p) != NULL)
			port = atoi(line);
		if (pclose(p) != 0 || port <= 0)
			return (-1);
	}
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", port);
	snprintf(ca, sizeof(ca), "%s/emu/ca.pem", dir);
	setenv("GRAPH_TEST_CA", ca, 1);
	unsetenv("PROVISIONING_CLIENT_SECRET");
	unsetenv("PROVISIONING_HTTP_TIMEOUT");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	log_init(getenv("GRAPH_TEST_VERBOSE") ? LOG_DEBUG : LOG_WARN);

	return (0);
}

static int
teardown_all(void **state)
{
	const char *src = getenv("SRCDIR") != NULL ? getenv("SRCDIR") : SRCDIR;
	char cmd[1200];

	snprintf(cmd, sizeof(cmd), "sh %s/tests/graph-emulator/stop.sh %s/emu",
	    src, dir);

	return (system(cmd) == 0 && tu_rmtree(dir) == 0 ? 0 : -1);
}

/* every test starts without faults and without a cached session */
int
setup(void **state)
{
	ctl("DELETE", "faults", NULL);
	if (tu_rmtree(state_dir) < 0 || mkdir(state_dir, 0700) < 0)
		return (-1);

	return (0);
}

static void
quiet(void *arg, const char *msg)
{
}

graph_client_t *
client(const char *client_id, int retries, int timeout)
{
	struct graph_config	 cfg;
	graph_client_t		*c = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.authority_url = base;
	cfg.graph_url = base;
	cfg.ca_bundle = ca;
	cfg.tenant = "contoso.example";
	cfg.client_id = client_id;
	cfg.state_dir = state_dir;
	cfg.max_retries = retries;
	cfg.timeout_s = timeout;
	cfg.login_timeout_s = 20;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	graph_set_prompt(c, quiet, NULL);

	return (c);
}

graph_client_t *
app(void)
{
	graph_client_t *c = client(APP_ID, 0, 0);

	assert_int_equal(graph_login_client_secret(c, APP_SECRET), GRAPH_OK);

	return (c);
}

/* a delegated session (device code; the emulator approves at once) */
graph_client_t *
admin(void)
{
	graph_client_t *c = client(NULL, 0, 0);

	ctl("POST", "device", "{\"mode\":\"approve\",\"pending_polls\":1,"
	    "\"interval\":1,\"user\":null}");
	assert_int_equal(graph_login_device_code(c), GRAPH_OK);

	return (c);
}


static char *
read_all(FILE *f)
{
	char	*buf = NULL;
	size_t	 len = 0, n;
	char	 tmp[4096];

	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		assert_non_null(buf = realloc(buf, len + n + 1));
		memcpy(buf + len, tmp, n);
		len += n;
	}
	if (buf != NULL)
		buf[len] = '\0';

	return (buf);
}

/* a registration body for these options, from the soft authenticator */
static void
soft_register(const char *options, char **body, char **cred)
{
	const char	*src = getenv("SRCDIR") != NULL ? getenv("SRCDIR") :
			    SRCDIR;
	char		 p[400], cmd[1000], *out;
	FILE		*f;
	json_t		*j;

	snprintf(p, sizeof(p), "%s/options.json", dir);
	assert_non_null(f = fopen(p, "w"));
	fputs(options, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s %s/tests/graph/softreg.py %s", PYTHON3,
	    src, p);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(out = read_all(f));
	assert_int_equal(pclose(f), 0);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_non_null(*body = json_dumps(json_object_get(j, "body"),
	    JSON_COMPACT));
	assert_non_null(*cred = strdup(jstr(j, "credId")));
	json_decref(j);
	free(out);
}

/* how many of the user's methods carry this credential (emulator view) */
int
registered(const char *user_id, const char *cred)
{
	json_t	*st = emu_state(), *users, *u, *ms, *m;
	size_t	 i, k;
	int	 n = 0;

	users = json_object_get(st, "users");
	json_array_foreach(users, k, u) {
		if (strcmp(jstr(u, "id"), user_id) != 0)
			continue;
		ms = json_object_get(u, "fido2Methods");
		json_array_foreach(ms, i, m)
			if (jstr(m, "credentialId") != NULL &&
			    graph_method_id_matches(jstr(m, "credentialId"), cred))
				n++;
	}
	json_decref(st);

	return (n);
}

static size_t
methods_of(const char *user_id)
{
	json_t		*st = emu_state(), *u;
	size_t		 i, n = 0;

	json_array_foreach(json_object_get(st, "users"), i, u)
		if (strcmp(jstr(u, "id"), user_id) == 0)
			n = json_array_size(json_object_get(u, "fido2Methods"));
	json_decref(st);

	return (n);
}

void
register_one(graph_client_t *c, const char *user, graph_method_t **m,
    char **credp)
{
	char	*opt = NULL, *body = NULL, *cred = NULL;

	assert_int_equal(graph_creation_options(c, user, 0, &opt), GRAPH_OK);
	soft_register(opt, &body, &cred);
	assert_int_equal(graph_fido2_register(c, user, body, cred, m),
	    GRAPH_OK);
	assert_true(graph_method_id_matches(graph_method_id(*m), cred));
	free(opt);
	free(body);
	*credp = cred;
}

static void
test_fido2(void **state)
{
	graph_client_t		*c = app();
	graph_method_t		*m = NULL;
	graph_methods_t		*l = NULL;
	char			*opt = NULL, *cred = NULL, *body = NULL;
	json_t			*j;

	/* v1.0 creationOptions: raw JSON, top-level publicKey */
	assert_int_equal(graph_creation_options(c, ALICE, 30, &opt), GRAPH_OK);
	assert_non_null(j = json_loads(opt, 0, NULL));
	assert_non_null(json_object_get(j, "publicKey"));
	json_decref(j);
	free(opt);
	register_one(c, ALICE, &m, &cred);
	assert_string_equal(graph_method_display_name(m), "graph test");
	assert_int_equal(registered(ALICE, cred), 1);
	graph_method_free(&m);
	assert_int_equal(graph_fido2_list(c, "alice@contoso.example", &l),
	    GRAPH_OK);
	assert_int_equal(graph_methods_len(l), 1);
	assert_non_null(graph_methods_find_cred(l, cred));
	assert_int_equal(graph_fido2_delete(c, ALICE, graph_method_id(
	    graph_methods_find_cred(l, cred))), GRAPH_OK);
	graph_methods_free(&l);
	assert_int_equal(registered(ALICE, cred), 0);
	assert_int_equal(graph_fido2_delete(c, ALICE, "nosuchmethod"),
	    GRAPH_ERR_NOT_FOUND);
	free(cred);

	/* the same body twice (a re-run): Graph says 400, the key is there */
	assert_int_equal(graph_creation_options(c, ALICE, 0, &opt), GRAPH_OK);
	soft_register(opt, &body, &cred);
	assert_int_equal(graph_fido2_register(c, ALICE, body, cred, &m),
	    GRAPH_OK);
	graph_method_free(&m);
	assert_int_equal(graph_fido2_register(c, ALICE, body, cred, &m),
	    GRAPH_OK);
	assert_true(graph_method_id_matches(graph_method_id(m), cred));
	graph_method_free(&m);
	assert_int_equal(registered(ALICE, cred), 1);
	/* Alice's attestation for Bob: refused, with the policy hint */
	assert_int_equal(graph_fido2_register(c, BOB, body, cred, &m),
	    GRAPH_ERR_BAD_REQUEST);
	assert_null(m);
	assert_int_equal(graph_last_status(c), 400);
	assert_string_equal(graph_last_code(c), "badRequest");
	assert_int_not_equal(*graph_last_request_id(c), '\0');
	assert_non_null(strstr(graph_last_hint(c), "self-service"));
	assert_int_equal(registered(BOB, cred), 0);
	free(opt);
	free(body);
	free(cred);

	/* guests are refused at creationOptions, with the reason */
	assert_int_equal(graph_creation_options(c, "77777777-7777-4777-8777-"
	    "777777777777", 0, &opt), GRAPH_ERR_BAD_REQUEST);
	assert_non_null(strstr(graph_last_message(c), "guest"));
	assert_int_equal(graph_creation_options(c, "nobody@contoso.example", 0,
	    &opt), GRAPH_ERR_NOT_FOUND);
	graph_client_free(&c);
}

static void
test_fido2_beta(void **state)
{
	struct graph_config	 cfg;
	graph_client_t		*c = NULL;
	char			*opt = NULL;
	json_t			*j;
	const char		*exp;
	struct tm		 tm;
	time_t			 t;

	memset(&cfg, 0, sizeof(cfg));
	cfg.authority_url = base;
	cfg.graph_url = base;
	cfg.ca_bundle = ca;
	cfg.tenant = "contoso.example";
	cfg.client_id = APP_ID;
	cfg.graph_version = "beta";
	cfg.ephemeral = true;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_int_equal(graph_login_client_secret(c, APP_SECRET), GRAPH_OK);
	/* beta takes the challenge lifetime */
	assert_int_equal(graph_creation_options(c, ALICE, 600, &opt),
	    GRAPH_OK);
	assert_non_null(j = json_loads(opt, 0, NULL));
	assert_non_null(exp = jstr(j, "challengeTimeoutDateTime"));
	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(exp, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	assert_in_range((long long)t - (long long)time(NULL), 590 * 60,
	    610 * 60);
	json_decref(j);
	free(opt);
	assert_int_equal(graph_creation_options(c, ALICE, 1, &opt),
	    GRAPH_ERR_BAD_REQUEST);
	/* an ephemeral client wrote no cache */
	{
		struct stat st;
		char p[400];

		snprintf(p, sizeof(p), "%s/tokens.json", state_dir);
		assert_int_equal(stat(p, &st), -1);
	}
	graph_client_free(&c);
}

/* a POST whose reply is lost must not register the key twice */
static void
test_register_not_blind(void **state)
{
	graph_client_t	*c = app();
	graph_method_t	*m = NULL;
	char		*cred = NULL, *opt = NULL, *body = NULL;

	/* processed, then the connection drops: found by listing */
	faults("{\"kind\":\"drop\",\"when\":\"after\",\"method\":\"POST\","
	    "\"path\":\"fido2Methods$\",\"count\":1}");
	register_one(c, BOB, &m, &cred);
	assert_int_equal(registered(BOB, cred), 1);
	graph_method_free(&m);
	free(cred);
	/* processed, reply truncated */
	faults("{\"kind\":\"truncated\",\"method\":\"POST\","
	    "\"path\":\"fido2Methods$\",\"count\":1}");
	register_one(c, BOB, &m, &cred);
	assert_int_equal(registered(BOB, cred), 1);
	graph_method_free(&m);
	free(cred);
	/* refused before processing (500): not there, so sent again */
	faults("{\"kind\":\"500\",\"method\":\"POST\","
	    "\"path\":\"fido2Methods$\",\"count\":1}");
	register_one(c, BOB, &m, &cred);
	assert_int_equal(registered(BOB, cred), 1);
	graph_method_free(&m);
	free(cred);
	/* 429 on the POST: not processed, retried after Retry-After */
	faults("{\"kind\":\"429\",\"method\":\"POST\","
	    "\"path\":\"fido2Methods$\",\"count\":2}");
	register_one(c, BOB, &m, &cred);
	assert_true(graph_last_retries(c) >= 2);
	assert_int_equal(registered(BOB, cred), 1);
	graph_method_free(&m);
	free(cred);
	/* 503 forever on the POST: checked, never duplicated, gives up */
	assert_int_equal(graph_creation_options(c, BOB, 0, &opt), GRAPH_OK);
	soft_register(opt, &body, &cred);
	faults("{\"kind\":\"503\",\"method\":\"POST\","
	    "\"path\":\"fido2Methods$\",\"retry_after\":null}");
	assert_int_equal(graph_fido2_register(c, BOB, body, cred, &m),
	    GRAPH_ERR_SERVER);
	assert_null(m);
	assert_int_equal(graph_last_status(c), 503);
	assert_int_equal(registered(BOB, cred), 0);
	free(opt);
	free(body);
	free(cred);
	graph_client_free(&c);
}

static void
test_tap(void **state)
{
	graph_client_t	*c = app();
	graph_taps_t	*l = NULL;
	char		*tap = NULL, *mid = NULL;

	assert_int_equal(graph_tap_create(c, ALICE, 60, true, &tap, &mid),
	    GRAPH_OK);
	assert_true(strlen(tap) >= 8);
	assert_non_null(mid);
	assert_int_equal(graph_tap_list(c, ALICE, &l), GRAPH_OK);
	assert_int_equal(graph_taps_len(l), 1);
	assert_string_equal(graph_taps_id(l, 0), mid);
	assert_true(graph_taps_once(l, 0));
	assert_int_equal(graph_taps_lifetime(l, 0), 60);
	graph_taps_free(&l);
	assert_int_equal(graph_tap_delete(c, ALICE, mid), GRAPH_OK);
	assert_int_equal(graph_tap_list(c, ALICE, &l), GRAPH_OK);
	assert_int_equal(graph_taps_len(l), 0);
	graph_taps_free(&l);
	freezero_str(tap);
	assert_int_equal(graph_tap_create(c, ALICE, 5, true, &tap, NULL),
	    GRAPH_ERR_ARG);
	/* nobody manages their own TAP: /me is refused locally */
	assert_int_equal(graph_tap_create(c, NULL, 60, true, &tap, NULL),
	    GRAPH_ERR_ARG);
	freezero_str(tap);
	free(mid);
	graph_client_free(&c);
}

static int
collect(void *arg, const graph_user_t *u)
{
	int *n = arg;

	(*n)++;

	return (0);
}

static int
stop_at_3(void *arg, const graph_user_t *u)
{
	int *n = arg;

	return (++(*n) == 3);
}

static void
test_groups(void **state)
{
	graph_client_t	*c = app();
	char		*id = NULL;
	int		 n = 0;

	assert_int_equal(graph_group_resolve(c, "Pilot", &id), GRAPH_OK);
	assert_string_equal(id, PILOT);
	free(id);
	assert_int_equal(graph_group_resolve(c, PILOT, &id), GRAPH_OK);
	assert_string_equal(id, PILOT);
	free(id);
	assert_int_equal(graph_group_resolve(c, "No such group", &id),
	    GRAPH_ERR_NOT_FOUND);
	assert_int_equal(graph_group_resolve(c, "O'Brien's team", &id),
	    GRAPH_ERR_NOT_FOUND);
	/* transitive: alice, bob, and nested dave and frank */
	assert_int_equal(graph_group_members(c, PILOT, collect, &n), GRAPH_OK);
	assert_int_equal(n, 4);
	/* 1,200 members over 12 pages */
	n = 0;
	assert_int_equal(graph_group_members(c, BULK, collect, &n), GRAPH_OK);
	assert_int_equal(n, 1200);
	n = 0;
	assert_int_equal(graph_group_members(c, BULK, stop_at_3, &n),
	    GRAPH_OK);
	assert_int_equal(n, 3);
	/* throttled in the middle of the paging */
	faults("{\"kind\":\"429\",\"path\":\"skiptoken\",\"count\":2}");
	n = 0;
	assert_int_equal(graph_group_members(c, BULK, collect, &n), GRAPH_OK);
	assert_int_equal(n, 1200);
	graph_client_free(&c);
}

static void
test_batch(void **state)
{
	graph_client_t	*c = app();
	const char	*ids[45];
	char		 upn[45][64];
	int		 has[45], i;

	ids[0] = BOB;
	ids[1] = ALICE;
	ids[2] = "nobody@contoso.example";
	for (i = 3; i < 45; i++) {
		snprintf(upn[i], sizeof(upn[i]), "bulk%04d@contoso.example", i);
		ids[i] = upn[i];
	}
	/* inner 429s on three requests: resent, outer stays 200 */
	faults("{\"kind\":\"429\",\"batch\":true,\"count\":3}");
	assert_int_equal(graph_batch_has_passkey(c, ids, 45, has), GRAPH_OK);
	assert_int_equal(has[0], 1);
	assert_int_equal(has[1], methods_of(ALICE) > 0);
	assert_int_equal(has[2], -1);
	for (i = 3; i < 45; i++)
		assert_int_equal(has[i], 0);
	graph_client_free(&c);
}

/* requests the emulator answered whose "METHOD /path STATUS" key starts so */
static long long
emu_count(const char *prefix)
{
	json_t		*st = emu_state(), *v;
	const char	*k;
	long long	 n = 0;

	json_object_foreach(json_object_get(json_object_get(st, "requests"),
	    "counts"), k, v)
		if (strncmp(k, prefix, strlen(prefix)) == 0)
			n += json_integer_value(v);
	json_decref(st);

	return (n);
}

struct got {
	graph_client_t	*c;
	int		 r[45];
	char		 upn[45][64];
	char		 hint[45][128];
	int		 calls;
};

static void
got_user(void *arg, size_t i, int r, const graph_user_t *u)
{
	struct got *g = arg;

	assert_true(i < 45);
	assert_int_equal(g->r[i], 99);	/* once per user */
	g->r[i] = r;
	g->calls++;
	if (u != NULL)
		snprintf(g->upn[i], sizeof(g->upn[i]), "%s",
		    graph_user_upn(u));
	else
		assert_int_not_equal(r, GRAPH_OK);
	snprintf(g->hint[i], sizeof(g->hint[i]), "%s", graph_last_hint(g->c));
}

static void
resolve(graph_client_t *c, const char *const *refs, size_t n, struct got *g)
{
	size_t i;

	memset(g, 0, sizeof(*g));
	g->c = c;
	for (i = 0; i < 45; i++)
		g->r[i] = 99;
	(void)graph_users_resolve(c, refs, n, got_user, g);
	assert_int_equal(g->calls, (int)n);
}

/*
 * Users resolved 20 per $batch: an unknown one fails as its lone GET
 * would (404, the hint), an inner 429 is waited out, a Retry-After of
 * hours is not, and 20 and 21 users take one and two batches.
 */
static void
test_resolve_batch(void **state)
{
	graph_client_t	*c = app();
	const char	*ids[45];
	char		 upn[45][64];
	struct got	 g;
	long long	 before;
	int		 i;

	for (i = 0; i < 45; i++) {
		snprintf(upn[i], sizeof(upn[i]), "bulk%04d@contoso.example", i);
		ids[i] = upn[i];
	}
	ids[0] = ALICE;
	ids[7] = "nobody@contoso.example";

	/* exactly 20: one batch, no GET of its own */
	before = emu_count("POST /v1.0/$batch 200");
	resolve(c, ids, 20, &g);
	assert_int_equal(emu_count("POST /v1.0/$batch 200") - before, 1);
	assert_int_equal(g.r[0], GRAPH_OK);
	assert_string_equal(g.upn[0], "alice@contoso.example");
	assert_int_equal(g.r[7], GRAPH_ERR_NOT_FOUND);
	assert_non_null(strstr(g.hint[7], "no user 'nobody@contoso.example'"));
	for (i = 1; i < 20; i++)
		if (i != 7) {
			assert_int_equal(g.r[i], GRAPH_OK);
			assert_string_equal(g.upn[i], upn[i]);
		}

	/* 21: two batches */
	before = emu_count("POST /v1.0/$batch 200");
	resolve(c, ids, 21, &g);
	assert_int_equal(emu_count("POST /v1.0/$batch 200") - before, 2);
	assert_int_equal(g.r[20], GRAPH_OK);
	assert_string_equal(g.upn[20], upn[20]);

	/* inner 429s (Retry-After: 1) on three users: resent, all found */
	faults("{\"kind\":\"429\",\"batch\":true,\"count\":3,"
	    "\"path\":\"/users/\"}");
	before = emu_count("$batch:GET /v1.0/? 429");
	resolve(c, ids, 45, &g);
	for (i = 0; i < 45; i++)
		assert_int_equal(g.r[i], i == 7 ? GRAPH_ERR_NOT_FOUND :
		    GRAPH_OK);
	assert_int_equal(emu_count("$batch:GET /v1.0/? 429") - before, 3);

	/* an inner Retry-After of hours: those users fail as throttled */
	ctl("DELETE", "faults", NULL);
	faults("{\"kind\":\"429\",\"batch\":true,\"count\":1,"
	    "\"retry_after\":100000}");
	resolve(c, ids, 3, &g);
	assert_int_equal(g.r[0], GRAPH_ERR_THROTTLED);
	assert_non_null(strstr(g.hint[0], "100000 s"));
	assert_int_equal(g.r[1], GRAPH_OK);
	assert_int_equal(g.r[2], GRAPH_OK);

	/* a lone user is a plain GET */
	before = emu_count("GET /v1.0/users/");
	resolve(c, ids + 7, 1, &g);
	assert_int_equal(g.r[0], GRAPH_ERR_NOT_FOUND);
	assert_int_equal(emu_count("GET /v1.0/users/") - before, 1);
	graph_client_free(&c);
}

static void
test_policy(void **state)
{
	graph_client_t	*c = app();
	graph_policy_t	*p = NULL;
	const char	*why;
	int		 in = -1;

	assert_int_equal(graph_policy_get(c, &p), GRAPH_OK);
	assert_true(graph_policy_enabled(p));
	assert_true(graph_policy_self_service(p));
	assert_false(graph_policy_attestation_enforced(p));
	assert_true(graph_policy_aaguid_allowed(p, "a1b2c3d4-0000-4000-8000-"
	    "00000000beef", &why));
	assert_int_equal(graph_policy_user_targeted(c, p, ALICE, &in),
	    GRAPH_OK);
	assert_int_equal(in, 1);
	graph_policy_free(&p);

	/* only the Pilot group, Bob excluded, a block list, self-service off */
	ctl("POST", "policy", "{\"isSelfServiceRegistrationAllowed\":false,"
	    "\"includeTargets\":[{\"targetType\":\"group\",\"id\":\"" PILOT
	    "\"}],\"excludeTargets\":[{\"targetType\":\"user\",\"id\":\"" BOB
	    "\"}],\"keyRestrictions\":{\"isEnforced\":true,"
	    "\"enforcementType\":\"block\",\"aaGuids\":[\"A1B2C3D4-0000-4000-"
	    "8000-00000000BEEF\"]}}");
	assert_int_equal(graph_policy_get(c, &p), GRAPH_OK);
	assert_false(graph_policy_self_service(p));
	assert_false(graph_policy_aaguid_allowed(p, "a1b2c3d4-0000-4000-8000-"
	    "00000000beef", &why));
	assert_int_equal(graph_policy_user_targeted(c, p, ALICE, &in),
	    GRAPH_OK);
	assert_int_equal(in, 1);
	assert_int_equal(graph_policy_user_targeted(c, p, BOB, &in), GRAPH_OK);
	assert_int_equal(in, 0);
	assert_int_equal(graph_policy_user_targeted(c, p, "33333333-3333-4333-"
	    "8333-333333333333", &in), GRAPH_OK);
	assert_int_equal(in, 0);
	/* nested: dave is in Pilot Nested */
	assert_int_equal(graph_policy_user_targeted(c, p, "66666666-6666-4666-"
	    "8666-666666666666", &in), GRAPH_OK);
	assert_int_equal(in, 1);
	graph_policy_free(&p);
	ctl("POST", "policy", "{\"isSelfServiceRegistrationAllowed\":true,"
	    "\"includeTargets\":[{\"targetType\":\"group\",\"id\":"
	    "\"all_users\"}],\"excludeTargets\":[],\"keyRestrictions\":{"
	    "\"isEnforced\":false,\"enforcementType\":\"block\","
	    "\"aaGuids\":[]}}");
	graph_client_free(&c);
}


static void
test_throttling(void **state)
{
	graph_client_t	*c = app(), *c2;
	graph_user_t	*u = NULL;
	long long	 t0;

	/* a storm of 429s (seconds and HTTP-date Retry-After) and 503s */
	faults("{\"kind\":\"429\",\"path\":\"/users/\",\"count\":2},"
	    "{\"kind\":\"429\",\"path\":\"/users/\",\"count\":1,"
	    "\"retry_after\":\"Thu, 01 Jan 1970 00:00:00 GMT\"},"
	    "{\"kind\":\"503\",\"path\":\"/users/\",\"count\":2}");
	assert_int_equal(graph_user_get(c, ALICE, &u), GRAPH_OK);
	assert_int_equal(graph_last_retries(c), 5);
	graph_user_free(&u);
	/* Retry-After longer than we will wait: give up at once */
	faults("{\"kind\":\"429\",\"path\":\"/users/\",\"retry_after\":3600}");
	t0 = now_ms();
	assert_int_equal(graph_user_get(c, ALICE, &u), GRAPH_ERR_THROTTLED);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(graph_last_status(c), 429);
	assert_string_equal(graph_last_code(c), "TooManyRequests");
	/* throttled for good: bounded retries */
	c2 = client(APP_ID, 2, 0);
	faults("{\"kind\":\"429\",\"path\":\"/users/\",\"retry_after\":0}");
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_ERR_THROTTLED);
	assert_int_equal(graph_last_retries(c2), 2);
	/* 5xx without Retry-After: backoff, then success */
	faults("{\"kind\":\"500\",\"path\":\"/users/\",\"count\":2}");
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_OK);
	graph_user_free(&u);
	faults("{\"kind\":\"500\",\"path\":\"/users/\"}");
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_ERR_SERVER);
	assert_int_equal(graph_last_status(c2), 500);
	assert_int_not_equal(*graph_last_request_id(c2), '\0');
	/* the token endpoint is throttled too */
	faults("{\"kind\":\"429\",\"path\":\"oauth2\",\"count\":2}");
	assert_int_equal(graph_login_client_secret(c2, APP_SECRET), GRAPH_OK);
	graph_client_free(&c2);
	graph_client_free(&c);
}

static void
test_transport(void **state)
{
	graph_client_t	*c = app(), *c2;
	graph_user_t	*u = NULL;
	graph_methods_t	*l = NULL;

	c2 = client(APP_ID, 1, 1);
	/* too slow: timeout, retried once, then an error */
	faults("{\"kind\":\"slow\",\"path\":\"/users/\",\"delay_ms\":2500}");
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_ERR_TIMEOUT);
	assert_int_equal(graph_last_retries(c2), 1);
	faults("{\"kind\":\"slow\",\"path\":\"/users/\",\"delay_ms\":2500,"
	    "\"count\":1}");
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_OK);
	graph_user_free(&u);
	/* truncated and dropped replies are resent (GET) */
	faults("{\"kind\":\"truncated\",\"path\":\"/users/\",\"count\":1},"
	    "{\"kind\":\"drop\",\"path\":\"/users/\",\"count\":1}");
	assert_int_equal(graph_user_get(c, ALICE, &u), GRAPH_OK);
	assert_int_equal(graph_last_retries(c), 2);
	graph_user_free(&u);
	faults("{\"kind\":\"truncated\",\"path\":\"/users/\"}");
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_ERR_NETWORK);
	/* 11 MB reply: refused, not buffered */
	faults("{\"kind\":\"oversized\",\"path\":\"fido2Methods\"}");
	assert_int_equal(graph_fido2_list(c, BOB, &l), GRAPH_ERR_PROTOCOL);
	assert_null(l);
	/* malformed JSON */
	faults("{\"kind\":\"malformed\",\"path\":\"fido2Methods\"}");
	assert_int_equal(graph_fido2_list(c, BOB, &l), GRAPH_ERR_PROTOCOL);
	assert_int_not_equal(*graph_last_request_id(c), '\0');
	ctl("DELETE", "faults", NULL);
	assert_int_equal(graph_fido2_list(c, BOB, &l), GRAPH_OK);
	graph_methods_free(&l);
	graph_client_free(&c2);
	graph_client_free(&c);
}

static void
test_tls(void **state)
{
	struct graph_config	 cfg;
	graph_client_t		*c = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.authority_url = base;
	cfg.graph_url = base;
	cfg.tenant = "contoso.example";
	cfg.client_id = APP_ID;
	cfg.ephemeral = true;
	/* the system store does not know the emulator's CA */
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_int_equal(graph_login_client_secret(c, APP_SECRET),
	    GRAPH_ERR_TLS);
	graph_client_free(&c);
	/* nor does another CA */
	cfg.ca_bundle = certp;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_int_equal(graph_login_client_secret(c, APP_SECRET),
	    GRAPH_ERR_TLS);
	graph_client_free(&c);
	/* seed compatibility: no verification at all */
	cfg.ca_bundle = NULL;
	cfg.disable_ssl_verify = true;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_int_equal(graph_login_client_secret(c, APP_SECRET), GRAPH_OK);
	graph_client_free(&c);
	/* nobody listening */
	cfg.authority_url = "https://127.0.0.1:1";
	cfg.disable_ssl_verify = false;
	cfg.max_retries = -1;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_int_equal(graph_login_client_secret(c, APP_SECRET),
	    GRAPH_ERR_NETWORK);
	graph_client_free(&c);
}

static void
test_clone(void **state)
{
	graph_client_t	*c = app(), *w = NULL;
	graph_user_t	*u = NULL;

	assert_int_equal(graph_client_clone(&w, c), GRAPH_OK);
	graph_client_free(&c);
	assert_int_equal(graph_user_get(w, ALICE, &u), GRAPH_OK);
	graph_user_free(&u);
	assert_int_equal(graph_logout(w, false), GRAPH_OK);
	graph_client_free(&w);
	c = client(APP_ID, 0, 0);
	assert_int_equal(graph_auth_load(c), GRAPH_ERR_LOGIN_REQUIRED);
	graph_client_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_client_secret, setup),
		cmocka_unit_test_setup(test_client_cert, setup),
		cmocka_unit_test_setup(test_fido2, setup),
		cmocka_unit_test_setup(test_fido2_beta, setup),
		cmocka_unit_test_setup(test_register_not_blind, setup),
		cmocka_unit_test_setup(test_tap, setup),
		cmocka_unit_test_setup(test_groups, setup),
		cmocka_unit_test_setup(test_batch, setup),
		cmocka_unit_test_setup(test_resolve_batch, setup),
		cmocka_unit_test_setup(test_policy, setup),
		cmocka_unit_test_setup(test_device_code, setup),
		cmocka_unit_test_setup(test_device_code_slow_down, setup),
		cmocka_unit_test_setup(test_browser, setup),
		cmocka_unit_test_setup(test_expired_refreshed_once, setup),
		cmocka_unit_test_setup(test_revoked, setup),
		cmocka_unit_test_setup(test_app_renewal, setup),
		cmocka_unit_test_setup(test_throttling, setup),
		cmocka_unit_test_setup(test_transport, setup),
		cmocka_unit_test_setup(test_tls, setup),
		cmocka_unit_test_setup(test_clone, setup),
	};

	return (cmocka_run_group_tests(tests, setup_all, teardown_all));
}
