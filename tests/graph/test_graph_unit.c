/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * graph/ without a network: every JSON reply parser, Retry-After,
 * method id matching, the policy decisions, the JWT client assertion
 * (verified here with OpenSSL), and the token cache file rules.
 */

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

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

#define LEN(s)	(s), strlen(s)

static void
test_error_graph(void **state)
{
	struct graph_err e;
	const char *s = "{\"error\":{\"code\":\"accessDenied\",\"message\":"
	    "\"Request Authorization failed\",\"innerError\":{\"date\":\"x\","
	    "\"request-id\":\"rid-1\",\"client-request-id\":\"c\"}}}";

	assert_int_equal(parse_error(LEN(s), &e), 0);
	assert_string_equal(e.code, "accessDenied");
	assert_string_equal(e.message, "Request Authorization failed");
	assert_string_equal(e.request_id, "rid-1");
	graph_err_reset(&e);
}

static void
test_error_oauth(void **state)
{
	struct graph_err e;
	const char *s = "{\"error\":\"invalid_grant\",\"error_description\":"
	    "\"AADSTS50173: The provided grant has expired.\\r\\nTrace ID: t\","
	    "\"error_codes\":[50173],\"correlation_id\":\"corr\"}";

	assert_int_equal(parse_error(LEN(s), &e), 0);
	assert_string_equal(e.code, "invalid_grant");
	/* the first line only: trace ids and times are noise */
	assert_string_equal(e.message,
	    "AADSTS50173: The provided grant has expired.");
	assert_string_equal(e.request_id, "corr");
	graph_err_reset(&e);
}

static void
test_error_garbage(void **state)
{
	struct graph_err e;

	assert_int_equal(parse_error(LEN("<html>502</html>"), &e), -1);
	assert_int_equal(parse_error(LEN("{\"error\":42}"), &e), -1);
	assert_int_equal(parse_error(LEN("{}"), &e), -1);
	assert_int_equal(parse_error("", 0, &e), -1);
	assert_null(e.code);
}

static void
test_token(void **state)
{
	struct graph_token t;
	long long now = (long long)time(NULL);
	const char *s = "{\"token_type\":\"Bearer\",\"scope\":\"a b\","
	    "\"expires_in\":\"3599\",\"access_token\":\"AT\","
	    "\"refresh_token\":\"RT\"}";

	assert_int_equal(parse_token(LEN(s), &t), 0);
	assert_string_equal(t.access, "AT");
	assert_string_equal(t.refresh, "RT");
	assert_string_equal(t.scope, "a b");
	assert_in_range(t.expires_at, now + 3590, now + 3610);
	token_reset(&t);
	assert_null(t.access);

	/* no access token, or a token type we cannot send */
	assert_int_equal(parse_token(LEN("{\"token_type\":\"Bearer\"}"), &t),
	    -1);
	assert_int_equal(parse_token(LEN("{\"token_type\":\"pop\","
	    "\"access_token\":\"x\"}"), &t), -1);
	assert_int_equal(parse_token(LEN("[\"access_token\"]"), &t), -1);
	/* silly lifetimes fall back to an hour */
	assert_int_equal(parse_token(LEN("{\"access_token\":\"x\","
	    "\"expires_in\":-5}"), &t), 0);
	assert_in_range(t.expires_at, now + 3590, now + 3610);
	token_reset(&t);
}

static void
test_token_account(void **state)
{
	struct graph_token t;
	char *body = NULL, *claims = NULL;
	const char *c = "{\"preferred_username\":\"ada@contoso.example\"}";

	/* an id_token names the account */
	assert_int_equal(b64url_encode((const unsigned char *)c, strlen(c),
	    &claims), 0);
	assert_non_null(body = gfmt("{\"access_token\":\"opaque\","
	    "\"id_token\":\"e30.%s.c2ln\"}", claims));
	assert_int_equal(parse_token(body, strlen(body), &t), 0);
	assert_string_equal(t.account, "ada@contoso.example");
	token_reset(&t);
	free(body);
	free(claims);
}

static void
test_devcode(void **state)
{
	struct devcode d;
	const char *s = "{\"user_code\":\"ABC\",\"device_code\":\"DC\","
	    "\"verification_uri\":\"https://microsoft.com/devicelogin\","
	    "\"expires_in\":900,\"interval\":5,\"message\":\"go\"}";

	assert_int_equal(parse_devcode(LEN(s), &d), 0);
	assert_string_equal(d.user_code, "ABC");
	assert_string_equal(d.device_code, "DC");
	assert_int_equal(d.interval, 5);
	assert_int_equal(d.expires_in, 900);
	devcode_reset(&d);
	assert_int_equal(parse_devcode(LEN("{\"user_code\":\"A\"}"), &d), -1);
	/* an absurd interval is not obeyed */
	assert_int_equal(parse_devcode(LEN("{\"user_code\":\"A\","
	    "\"device_code\":\"D\",\"verification_uri\":\"u\","
	    "\"interval\":100000}"), &d), 0);
	assert_int_equal(d.interval, 5);
	devcode_reset(&d);
}

static json_t *
J(const char *s)
{
	json_t *j = json_parse(s, strlen(s));

	assert_non_null(j);

	return (j);
}

static void
test_methods(void **state)
{
	graph_methods_t *l = NULL;
	json_t *j = J("{\"value\":[{\"id\":\"-2_GRUg2-HYz6_1YG4YRAQ2\","
	    "\"displayName\":\"k\",\"creationDateTime\":\"2026-01-01\","
	    "\"aaGuid\":\"de1e552d-db1d-4423-a619-566b625cdc84\","
	    "\"model\":\"YubiKey\",\"attestationLevel\":\"attested\"},"
	    "{\"displayName\":\"no id: skipped\"},42]}");

	assert_int_equal(parse_methods(j, &l), 0);
	assert_int_equal(graph_methods_len(l), 1);
	assert_string_equal(graph_method_created(graph_methods_get(l, 0)),
	    "2026-01-01");
	assert_string_equal(graph_method_passkey_type(graph_methods_get(l, 0)),
	    "");
	assert_null(graph_methods_get(l, 1));
	/* the id is the credential id: base64url plus padding digit */
	assert_non_null(graph_methods_find_cred(l, "-2_GRUg2-HYz6_1YG4YRAQ"));
	assert_non_null(graph_methods_find_cred(l, "+2/GRUg2+HYz6/1YG4YRAQ=="));
	assert_null(graph_methods_find_cred(l, "AAAA"));
	graph_methods_free(&l);
	assert_null(l);
	json_decref(j);
	j = J("{\"values\":[]}");
	assert_int_equal(parse_methods(j, &l), -1);
	json_decref(j);
}

static void
test_method_id_matches(void **state)
{
	/* suffix digit 0, 1, 2 and the standard alphabet */
	assert_true(graph_method_id_matches("MMeD8wrNCZ-0hbfdYvvAIzrsrTGd_uX"
	    "dt2iXbYlGJSs1", "MMeD8wrNCZ-0hbfdYvvAIzrsrTGd_uXdt2iXbYlGJSs"));
	assert_true(graph_method_id_matches("GshyINLMaOOwqt1LNUi0gQ2",
	    "GshyINLMaOOwqt1LNUi0gQ"));
	assert_true(graph_method_id_matches("GshyINLMaOOwqt1LNUi0gQ==",
	    "GshyINLMaOOwqt1LNUi0gQ"));
	assert_false(graph_method_id_matches("GshyINLMaOOwqt1LNUi0gQ2",
	    "GshyINLMaOOwqt1LNUi0gA"));
	assert_false(graph_method_id_matches("73e4b2c6-8a2f-4d3e-9b1a-5c7d8e9f"
	    "0a1b", "GshyINLMaOOwqt1LNUi0gQ"));
	assert_false(graph_method_id_matches(NULL, "x"));
	assert_false(graph_method_id_matches("", ""));
}

static void
test_policy(void **state)
{
	graph_policy_t *p = NULL;
	const char *why;
	json_t *j = J("{\"state\":\"enabled\","
	    "\"isSelfServiceRegistrationAllowed\":true,"
	    "\"isAttestationEnforced\":true,\"keyRestrictions\":{\"isEnforced\":"
	    "true,\"enforcementType\":\"allow\",\"aaGuids\":["
	    "\"CB69481E-8FF7-4039-93EC-0A2729A154A8\"]},\"includeTargets\":["
	    "{\"targetType\":\"group\",\"id\":\"all_users\"}],"
	    "\"excludeTargets\":[{\"targetType\":\"group\",\"id\":\"g1\"}]}");

	assert_int_equal(parse_policy(j, &p), 0);
	assert_true(graph_policy_enabled(p));
	assert_true(graph_policy_self_service(p));
	assert_true(graph_policy_attestation_enforced(p));
	assert_true(graph_policy_keys_enforced(p));
	assert_true(graph_policy_keys_allow(p));
	assert_int_equal(graph_policy_aaguids_len(p), 1);
	assert_int_equal(graph_policy_targets_len(p, false), 1);
	assert_string_equal(graph_policy_target_id(p, true, 0), "g1");
	assert_string_equal(graph_policy_target_type(p, true, 0), "group");
	assert_string_equal(graph_policy_target_id(p, true, 5), "");
	/* AAGUIDs compare without regard to case */
	assert_true(graph_policy_aaguid_allowed(p,
	    "cb69481e-8ff7-4039-93ec-0a2729a154a8", &why));
	assert_false(graph_policy_aaguid_allowed(p,
	    "00000000-0000-0000-0000-000000000000", &why));
	assert_non_null(strstr(why, "allow list"));
	graph_policy_free(&p);
	json_decref(j);

	/* block list */
	j = J("{\"state\":\"disabled\",\"keyRestrictions\":{\"isEnforced\":"
	    "true,\"enforcementType\":\"block\",\"aaGuids\":[\"a\",7]}}");
	assert_int_equal(parse_policy(j, &p), 0);
	assert_false(graph_policy_enabled(p));
	assert_false(graph_policy_self_service(p));
	assert_false(graph_policy_aaguid_allowed(p, "A", &why));
	assert_true(graph_policy_aaguid_allowed(p, "b", &why));
	graph_policy_free(&p);
	json_decref(j);

	/* profiles: one that admits the key is enough */
	j = J("{\"state\":\"enabled\",\"keyRestrictions\":{\"isEnforced\":"
	    "true,\"enforcementType\":\"allow\",\"aaGuids\":[]},"
	    "\"passkeyProfiles\":[{\"id\":\"p1\",\"attestationEnforcement\":"
	    "\"registrationOnly\",\"keyRestrictions\":{\"isEnforced\":true,"
	    "\"enforcementType\":\"allow\",\"aaGuids\":[\"x\"]}},{\"id\":\"p2\","
	    "\"attestationEnforcement\":\"disabled\",\"keyRestrictions\":{"
	    "\"isEnforced\":true,\"enforcementType\":\"block\",\"aaGuids\":"
	    "[\"y\"]}}]}");
	assert_int_equal(parse_policy(j, &p), 0);
	assert_int_equal(graph_policy_profiles_len(p), 2);
	assert_false(graph_policy_attestation_enforced(p));
	assert_true(graph_policy_aaguid_allowed(p, "x", &why));
	assert_true(graph_policy_aaguid_allowed(p, "z", &why));
	graph_policy_free(&p);
	json_decref(j);
}

static int
count_cb(void *arg, const graph_user_t *u)
{
	int *n = arg;

	assert_non_null(graph_user_id(u));
	(*n)++;

	return (*n >= 100);
}

static void
test_user_page(void **state)
{
	char *next = NULL;
	int n = 0, stopped;
	graph_user_t *u = NULL;
	json_t *j = J("{\"value\":[{\"@odata.type\":\"#microsoft.graph.user\","
	    "\"id\":\"1\",\"userPrincipalName\":\"a@b\",\"userType\":\"Guest\","
	    "\"accountEnabled\":false},{\"@odata.type\":"
	    "\"#microsoft.graph.group\",\"id\":\"g\"},{\"id\":\"2\"},"
	    "{\"noid\":1}],\"@odata.nextLink\":\"https://h/v1.0/x?$skiptoken=1\"}");

	assert_int_equal(parse_user_page(j, count_cb, &n, &next, &stopped), 0);
	assert_int_equal(n, 2);		/* the group and the id-less skipped */
	assert_int_equal(stopped, 0);
	assert_string_equal(next, "https://h/v1.0/x?$skiptoken=1");
	free(next);
	assert_int_equal(parse_user(json_array_get(json_object_get(j,
	    "value"), 0), &u), 0);
	assert_string_equal(graph_user_type(u), "Guest");
	assert_false(graph_user_enabled(u));
	graph_user_free(&u);
	assert_int_equal(parse_user(json_array_get(json_object_get(j,
	    "value"), 2), &u), 0);
	assert_string_equal(graph_user_type(u), "Member");
	assert_true(graph_user_enabled(u));
	assert_string_equal(graph_user_upn(u), "");
	graph_user_free(&u);
	json_decref(j);
}

static void
test_batch(void **state)
{
	struct batch_item it[3];
	json_t *j;

	/* out of order, with an inner Retry-After */
	j = J("{\"responses\":[{\"id\":\"2\",\"status\":404,\"body\":{}},"
	    "{\"id\":\"0\",\"status\":200,\"body\":{\"value\":[]}},"
	    "{\"id\":\"1\",\"status\":429,\"headers\":{\"Retry-After\":\"3\"}}]}");
	assert_int_equal(parse_batch(j, 3, it), 0);
	assert_int_equal(it[0].status, 200);
	assert_non_null(it[0].body);
	assert_int_equal(it[1].status, 429);
	assert_int_equal(it[1].retry_after, 3);
	assert_int_equal(it[2].status, 404);
	json_decref(j);
	/* an id we never sent, a repeated one, a bad status */
	j = J("{\"responses\":[{\"id\":\"3\",\"status\":200}]}");
	assert_int_equal(parse_batch(j, 3, it), -1);
	json_decref(j);
	j = J("{\"responses\":[{\"id\":\"1\",\"status\":200},{\"id\":\"1\","
	    "\"status\":200}]}");
	assert_int_equal(parse_batch(j, 3, it), -1);
	json_decref(j);
	j = J("{\"responses\":[{\"id\":\"1\",\"status\":9}]}");
	assert_int_equal(parse_batch(j, 3, it), -1);
	json_decref(j);
	/* missing answers stay 0: the caller resends them */
	j = J("{\"responses\":[]}");
	assert_int_equal(parse_batch(j, 3, it), 0);
	assert_int_equal(it[1].status, 0);
	json_decref(j);
}

static void
test_retry_after(void **state)
{
	long long now = 784111777;	/* Sun, 06 Nov 1994 08:49:37 GMT */

	assert_int_equal(http_parse_retry_after("120", now), 120);
	assert_int_equal(http_parse_retry_after(" 7 \r\n", now), 7);
	assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:49:47 "
	    "GMT", now), 10);
	/* a date in the past means now */
	assert_int_equal(http_parse_retry_after("Sun, 06 Nov 1994 08:00:00 "
	    "GMT", now), 0);
	assert_int_equal(http_parse_retry_after("soon", now), -1);
	assert_int_equal(http_parse_retry_after("", now), -1);
	assert_int_equal(http_parse_retry_after("12x", now), -1);
	assert_int_equal(http_parse_retry_after("99999999999999", now), -1);
}

static void
test_json_limits(void **state)
{
	char deep[200];

	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_null(json_parse(deep, sizeof(deep)));
	/* brackets inside strings do not count */
	assert_true(json_depth_ok(LEN("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "[[[[[[[[[[[[\\\"[[[[[[\"}"), 4));
	json_decref(J("{\"a\":[[[[1]]]]}"));
	/* scalars are not replies */
	assert_null(json_parse(LEN("\"x\"")));
	assert_null(json_parse(LEN("{\"a\":")));
	assert_null(json_parse(NULL, 0));
}

static void
test_jwt_claims(void **state)
{
	json_t *cl;

	/* {"alg":"none"}.{"scp":"A B","wids":["x"]}. */
	cl = jwt_claims("eyJhbGciOiJub25lIn0.eyJzY3AiOiJBIEIiLCJ3aWRzIjpbIngiXX0.");
	assert_non_null(cl);
	assert_string_equal(jstr(cl, "scp"), "A B");
	json_decref(cl);
	assert_null(jwt_claims("opaque-token"));
	assert_null(jwt_claims("a.!!!.c"));
	assert_null(jwt_claims(NULL));
}

/* a self-signed RSA certificate and its key, as PEM files */
static void
make_cert(const char *certp, const char *keyp, X509 **xout, EVP_PKEY **kout)
{
	EVP_PKEY *k;
	X509 *x;
	FILE *f;

	assert_non_null(k = EVP_RSA_gen(2048));
	assert_non_null(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"provisioning test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(f = fopen(certp, "w"));
	PEM_write_X509(f, x);
	fclose(f);
	assert_non_null(f = fopen(keyp, "w"));
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	*xout = x;
	*kout = k;
}

static unsigned char *
dec(const char *s, size_t n, size_t *len)
{
	char *t = strndup(s, n);
	unsigned char *out = NULL;

	assert_int_equal(b64url_decode(t, &out, len), 0);
	free(t);

	return (out);
}

static void
test_client_assertion(void **state)
{
	char dir[] = "/tmp/graphunitXXXXXX", certp[256], keyp[256];
	char *a = NULL, *x5t = NULL;
	const char *d1, *d2;
	unsigned char *hdr, *cl, *sig, *der = NULL, md[32];
	size_t hl, cll, sl;
	unsigned int mdl;
	int derlen;
	json_t *h, *c;
	X509 *x;
	EVP_PKEY *k;
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	long long now = (long long)time(NULL);

	assert_non_null(mkdtemp(dir));
	snprintf(certp, sizeof(certp), "%s/c.pem", dir);
	snprintf(keyp, sizeof(keyp), "%s/k.pem", dir);
	make_cert(certp, keyp, &x, &k);
	assert_int_equal(jwt_client_assertion(certp, keyp, "cid",
	    "https://login/t/oauth2/v2.0/token", &a), GRAPH_OK);
	assert_non_null(d1 = strchr(a, '.'));
	assert_non_null(d2 = strchr(d1 + 1, '.'));
	hdr = dec(a, (size_t)(d1 - a), &hl);
	cl = dec(d1 + 1, (size_t)(d2 - d1 - 1), &cll);
	sig = dec(d2 + 1, strlen(d2 + 1), &sl);
	assert_non_null(h = json_loadb((char *)hdr, hl, 0, NULL));
	assert_non_null(c = json_loadb((char *)cl, cll, 0, NULL));
	assert_string_equal(jstr(h, "alg"), "PS256");
	assert_string_equal(jstr(h, "typ"), "JWT");
	/* x5t#S256 is the SHA-256 of the DER certificate */
	derlen = i2d_X509(x, &der);
	EVP_Digest(der, (size_t)derlen, md, &mdl, EVP_sha256(), NULL);
	assert_int_equal(b64url_encode(md, mdl, &x5t), 0);
	assert_string_equal(jstr(h, "x5t#S256"), x5t);
	assert_string_equal(jstr(c, "aud"), "https://login/t/oauth2/v2.0/token");
	assert_string_equal(jstr(c, "iss"), "cid");
	assert_string_equal(jstr(c, "sub"), "cid");
	assert_int_equal(strlen(jstr(c, "jti")), 36);
	assert_in_range(jint(c, "nbf", 0), now - 5, now + 5);
	assert_in_range(jint(c, "exp", 0), now + 300, now + 660);
	/* PS256 with a 32-byte salt, as Entra verifies it */
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL,
	    k), 1);
	EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
	EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sl,
	    (const unsigned char *)a, (size_t)(d2 - a)), 1);
	EVP_MD_CTX_free(ctx);

	/* a key that is not the certificate's is refused */
	{
		X509 *x2;
		EVP_PKEY *k2;
		char c2[256], k2p[256], *b = NULL;

		snprintf(c2, sizeof(c2), "%s/c2.pem", dir);
		snprintf(k2p, sizeof(k2p), "%s/k2.pem", dir);
		make_cert(c2, k2p, &x2, &k2);
		assert_int_equal(jwt_client_assertion(certp, k2p, "cid", "aud",
		    &b), GRAPH_ERR_ARG);
		assert_null(b);
		assert_int_equal(jwt_client_assertion(certp, "/nonexistent",
		    "cid", "aud", &b), GRAPH_ERR_ARG);
		X509_free(x2);
		EVP_PKEY_free(k2);
		unlink(c2);
		unlink(k2p);
	}
	json_decref(h);
	json_decref(c);
	OPENSSL_free(der);
	free(hdr);
	free(cl);
	free(sig);
	free(x5t);
	freezero_str(a);
	X509_free(x);
	EVP_PKEY_free(k);
	unlink(certp);
	unlink(keyp);
	rmdir(dir);
}

static void
test_loopback_parse(void **state)
{
	char *code, *err, *desc;
	int st;

	assert_int_equal(loopback_parse("GET /?code=a%2Bb+c&state=S&"
	    "session_state=x HTTP/1.1\r\nHost: localhost\r\n\r\n", "S", &code,
	    &err, &desc, &st), 1);
	assert_int_equal(st, 200);
	assert_string_equal(code, "a+b c");
	assert_null(err);
	free(code);
	assert_int_equal(loopback_parse("GET /?error=access_denied&"
	    "error_description=AADSTS65004%3A+no&state=S HTTP/1.1\r\n\r\n", "S",
	    &code, &err, &desc, &st), 1);
	assert_null(code);
	assert_string_equal(err, "access_denied");
	assert_string_equal(desc, "AADSTS65004: no");
	free(err);
	free(desc);
	/* someone else's state, a favicon, a POST, an encoded NUL */
	assert_int_equal(loopback_parse("GET /?code=x&state=T HTTP/1.1\r\n",
	    "S", &code, &err, &desc, &st), 0);
	assert_int_equal(st, 400);
	assert_null(code);
	assert_int_equal(loopback_parse("GET /favicon.ico HTTP/1.1\r\n", "S",
	    &code, &err, &desc, &st), 0);
	assert_int_equal(st, 404);
	assert_int_equal(loopback_parse("POST /?code=x&state=S HTTP/1.1\r\n",
	    "S", &code, &err, &desc, &st), 0);
	assert_int_equal(loopback_parse("GET /?code=x&state=S%00 HTTP/1.1\r\n",
	    "S", &code, &err, &desc, &st), 0);
	assert_int_equal(loopback_parse("GET /?state=S", "S", &code, &err,
	    &desc, &st), 0);
}

static graph_client_t *
cache_client(const char *dir)
{
	struct graph_config cfg;
	graph_client_t *c = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.authority_url = "https://login.example";
	cfg.graph_url = "https://graph.example";
	cfg.tenant = "contoso.example";
	cfg.state_dir = dir;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);

	return (c);
}

static void
fake_token(struct graph_token *t, long long exp, long long sess)
{
	memset(t, 0, sizeof(*t));
	t->access = strdup("access-secret");
	t->refresh = strdup("refresh-secret");
	t->account = strdup("ada@contoso.example");
	t->expires_at = exp;
	t->session_expires_at = sess;
	t->login_at = (long long)time(NULL);
}

static void
test_cache(void **state)
{
	char dir[] = "/tmp/graphcacheXXXXXX", path[300];
	graph_client_t *c, *c2;
	struct graph_token t;
	struct stat st;
	long long now = (long long)time(NULL);
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tokens.json", dir);
	c = cache_client(dir);
	/* nothing cached yet */
	assert_int_equal(graph_auth_load(c), GRAPH_ERR_LOGIN_REQUIRED);
	/* the message says what to run; no hint repeats it */
	assert_non_null(strstr(graph_strerr(GRAPH_ERR_LOGIN_REQUIRED),
	    "provisioning login"));
	assert_null(strstr(graph_last_hint(c), "provisioning login"));

	fake_token(&t, now + 3600, now + 7200);
	assert_int_equal(cache_lock(c, &fd), GRAPH_OK);
	assert_int_equal(cache_store(c, &t), GRAPH_OK);
	cache_unlock(&fd);
	token_reset(&t);
	/* created 0600 */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* another client (process) finds it */
	c2 = cache_client(dir);
	assert_int_equal(graph_auth_load(c2), GRAPH_OK);
	assert_string_equal(c2->tok.access, "access-secret");
	assert_string_equal(c2->tok.account, "ada@contoso.example");
	graph_client_free(&c2);

	/* readable by the group or the world: refused, like ssh keys */
	assert_int_equal(chmod(path, 0640), 0);
	c2 = cache_client(dir);
	assert_int_equal(graph_auth_load(c2), GRAPH_ERR_CACHE);
	assert_non_null(strstr(graph_last_hint(c2), "chmod 600"));
	graph_client_free(&c2);
	assert_int_equal(chmod(path, 0604), 0);
	c2 = cache_client(dir);
	assert_int_equal(graph_auth_load(c2), GRAPH_ERR_CACHE);
	graph_client_free(&c2);
	assert_int_equal(chmod(path, 0600), 0);

	/* a different tenant does not see this session */
	{
		struct graph_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.authority_url = "https://login.example";
		cfg.tenant = "fabrikam.example";
		cfg.state_dir = dir;
		assert_int_equal(graph_client_new(&c2, &cfg), GRAPH_OK);
		assert_int_equal(graph_auth_load(c2), GRAPH_ERR_LOGIN_REQUIRED);
		graph_client_free(&c2);
	}

	/* an ended session is not renewed, whatever the token says */
	fake_token(&t, now + 3600, now - 1);
	assert_int_equal(cache_lock(c, &fd), GRAPH_OK);
	assert_int_equal(cache_store(c, &t), GRAPH_OK);
	cache_unlock(&fd);
	token_reset(&t);
	c2 = cache_client(dir);
	assert_int_equal(graph_auth_load(c2), GRAPH_ERR_LOGIN_REQUIRED);
	assert_string_equal(graph_last_code(c2), "session_expired");
	graph_client_free(&c2);

	/* logout wipes it: no file left */
	assert_int_equal(graph_logout(c, false), GRAPH_OK);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(graph_auth_load(c), GRAPH_ERR_LOGIN_REQUIRED);

	/* a corrupt cache is an error, not a crash */
	assert_int_equal(write_file_atomic(path, "{\"entries\":", 11, 0600), 0);
	c2 = cache_client(dir);
	assert_int_equal(graph_auth_load(c2), GRAPH_ERR_CACHE);
	graph_client_free(&c2);
	/* logout --all removes even an unreadable cache */
	assert_int_equal(graph_logout(c, true), GRAPH_OK);
	assert_int_equal(stat(path, &st), -1);

	graph_client_free(&c);
	snprintf(path, sizeof(path), "%s/tokens.lock", dir);
	unlink(path);
	rmdir(dir);
}

static void
test_config(void **state)
{
	struct graph_config cfg;
	graph_client_t *c = NULL, *u = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cloud = "mars";
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_ERR_ARG);
	cfg.cloud = "usgov-dod";
	cfg.graph_version = "v2.0";
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_ERR_ARG);
	cfg.graph_version = NULL;
	cfg.tenant = "contoso/../x";
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_ERR_ARG);
	cfg.tenant = NULL;
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_string_equal(c->authority, "https://login.microsoftonline.us");
	assert_string_equal(c->graph, "https://dod-graph.microsoft.us");
	assert_string_equal(c->tenant, "organizations");
	/* scopes carry the cloud's Graph resource */
	{
		char *s = oauth_scope(c);

		assert_non_null(strstr(s, "https://dod-graph.microsoft.us/"
		    "UserAuthMethod-Passkey.ReadWrite.All"));
		assert_non_null(strstr(s, "offline_access"));
		free(s);
	}
	assert_int_equal(graph_set_scopes(c, "+UserAuthMethod-TAP.ReadWrite.All"),
	    GRAPH_OK);
	assert_non_null(strstr(c->scopes, "TAP"));
	assert_non_null(strstr(c->scopes, "Passkey"));
	assert_int_equal(graph_set_scopes(c, " + "), GRAPH_ERR_ARG);
	assert_int_equal(graph_set_session_hours(c, 0), GRAPH_ERR_ARG);
	assert_int_equal(graph_set_session_hours(c, 24), GRAPH_OK);
	/* the user-context client never touches the cache */
	assert_int_equal(graph_client_new_user(&u, c), GRAPH_OK);
	assert_true(u->ephemeral);
	assert_non_null(strstr(u->scopes, "UserAuthMethod-Passkey.ReadWrite"));
	assert_null(strstr(u->scopes, ".All"));
	graph_client_free(&u);
	graph_client_free(&c);
	assert_null(c);
	/* trailing slashes do not double up in URLs */
	memset(&cfg, 0, sizeof(cfg));
	cfg.graph_url = "https://127.0.0.1:1/";
	assert_int_equal(graph_client_new(&c, &cfg), GRAPH_OK);
	assert_string_equal(c->graph, "https://127.0.0.1:1");
	assert_string_equal(c->resource, "https://graph.microsoft.com");
	graph_client_free(&c);
	assert_string_equal(graph_strerr(GRAPH_ERR_FORBIDDEN),
	    "permission denied");
	assert_string_equal(graph_strerr(-1000), "unknown error");
	assert_true(graph_err_is_auth(GRAPH_ERR_LOGIN_REQUIRED));
	assert_false(graph_err_is_auth(GRAPH_ERR_NETWORK));
}

/* the -vv trace: every shape a secret reaches libcurl's debug callback in */
static void
test_redact(void **state)
{
	static const struct {
		const char	*in;
		const char	*secret;	/* must not survive */
		const char	*keep;		/* must survive */
	} t[] = {
		{ "Authorization: Bearer eyJ0eXAi.eyJhdWQi.c2lnbmF0dXJl",
		    "eyJ0eXAi", "Authorization: " },
		{ "authorization: Bearer s3cr3t-opaque", "s3cr3t", "" },
		{ "AUTHORIZATION: basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "" },
		{ "h2h3 [authorization: Bearer opaqueTOKEN123]",
		    "opaqueTOKEN123", "h2h3 [authorization: " },
		{ "h2h3 [Authorization: Bearer tok]", "tok]", "]" },
		{ "[proxy-authorization: Basic Zm9vOmJhcg==]", "Zm9vOmJhcg",
		    "[proxy-authorization: " },
		{ "Cookie: session=abcdef123", "abcdef123", "Cookie: " },
		{ "set-cookie: x=y1234567", "y1234567", "" },
		{ "X-Refresh-Token: rt-value-123", "rt-value-123", "" },
		{ "h2h3 [x-client-secret: cs-value-123]", "cs-value-123", "" },
		{ "Content-Type: application/json", NULL,
		    "Content-Type: application/json" },
		{ "h2h3 [:path: /v1.0/users?$top=5]", NULL,
		    "h2h3 [:path: /v1.0/users?$top=5]" },
		{ "using Bearer zzTOKENzz in a text line", "zzTOKENzz",
		    "in a text line" },
		{ "grant_type=refresh_token&refresh_token=0.ARrefresh&scope=x",
		    "0.ARrefresh", "grant_type=refresh_token&" },
		{ "client_secret=emulator-test-secret&client_id=abc",
		    "emulator-test-secret", "client_id=abc" },
		{ "client_assertion_type=urn%3Ajwt&client_assertion=eyJhbGci."
		    "eyJzdWIi.sig", "eyJhbGci", "client_assertion_type=urn" },
		{ "code=M.C105_abc&code_verifier=verifierXYZ&state=s1",
		    "M.C105_abc", "state=s1" },
		{ "code=M.C105_abc&code_verifier=verifierXYZ&state=s1",
		    "verifierXYZ", "code_verifier=" },
		{ "device_code=DAQABAAEAAAD&grant_type=x", "DAQABAAEAAAD",
		    "grant_type=x" },
		{ "GET /cb?code=authcode42&state=abc HTTP/1.1", "authcode42",
		    "state=abc HTTP/1.1" },
		{ "{\"access_token\":\"at-value\",\"expires_in\":3599}",
		    "at-value", "\"expires_in\":3599" },
		{ "{\"token_type\": \"Bearer\", \"refresh_token\" : "
		    "\"rt\\\"value\"}", "value", "\"token_type\"" },
		{ "{\"temporaryAccessPass\":\"TAP+pass1\"}", "TAP+pass1", "" },
		{ "{\"password\": \"hunter2\"}", "hunter2", "" },
		{ "{\"pin\": 123456}", "123456", "" },
		{ "{\"id_token\":\"eyJhbGciOi.eyJzdWIi.sg\"}", "eyJhbGciOi", "" },
		{ "a JWT eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln here",
		    "eyJhbGciOiJIUzI1NiJ9", "here" },
		{ "error_codes=[70000]&errcode=5", NULL,
		    "error_codes=[70000]&errcode=5" },
		{ "Connected to 127.0.0.1 (127.0.0.1) port 443 (#0)", NULL,
		    "Connected to 127.0.0.1 (127.0.0.1) port 443 (#0)" },
	};
	size_t	 i;
	char	*r;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = http_redact(t[i].in, strlen(t[i].in));
		assert_non_null(r);
		if (t[i].secret != NULL) {
			if (strstr(r, t[i].secret) != NULL)
				fail_msg("%zu: secret in '%s'", i, r);
			assert_non_null(strstr(r, "[redacted]"));
		} else
			assert_string_equal(r, t[i].in);
		if (strstr(r, t[i].keep) == NULL)
			fail_msg("%zu: '%s' lost from '%s'", i, t[i].keep, r);
		freezero_str(r);
	}
	/* a length, not a NUL, ends the line */
	r = http_redact("Authorization: Bearer abc\nnext", 25);
	assert_string_equal(r, "Authorization: [redacted]");
	freezero_str(r);
}

/* CR, LF or another control character never reaches a header */
static void
test_header_value(void **state)
{
	struct graph_token tok;

	assert_true(http_value_ok("eyJ0.eyJ1.sig-_~+/="));
	assert_false(http_value_ok(""));
	assert_false(http_value_ok(NULL));
	assert_false(http_value_ok("abc\r\nX-Injected: 1"));
	assert_false(http_value_ok("abc\n"));
	assert_false(http_value_ok("a\tb"));
	assert_false(http_value_ok("a\x7f"));
	assert_false(http_value_ok("caf\xc3\xa9"));
	assert_int_equal(parse_token(LEN("{\"access_token\":\"ab\\r\\nX: 1\","
	    "\"token_type\":\"Bearer\"}"), &tok), -2);
	assert_null(tok.access);
	assert_int_equal(parse_token(LEN("{\"access_token\":\"ab\","
	    "\"refresh_token\":\"r\\nX\",\"token_type\":\"Bearer\"}"), &tok),
	    -2);
	assert_null(tok.access);
	assert_int_equal(parse_token(LEN("{\"access_token\":\"ab\","
	    "\"refresh_token\":\"rt\",\"token_type\":\"Bearer\"}"), &tok), 0);
	assert_string_equal(tok.refresh, "rt");
	token_reset(&tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_graph),
		cmocka_unit_test(test_error_oauth),
		cmocka_unit_test(test_error_garbage),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_token_account),
		cmocka_unit_test(test_devcode),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_method_id_matches),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_user_page),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_json_limits),
		cmocka_unit_test(test_jwt_claims),
		cmocka_unit_test(test_client_assertion),
		cmocka_unit_test(test_loopback_parse),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_header_value),
	};

	log_init(LOG_WARN);

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
