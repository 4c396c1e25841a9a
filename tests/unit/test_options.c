/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * webauthn_options_parse(): Graph's creationOptions as they really come
 * (graph-api.md 1.2), the documented variants, and everything that must
 * be refused with a clear reason.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "webauthn.h"

/* the real beta response (webauthn-interop fixture), challenge cut */
static const char beta_response[] =
    "{\n"
    "  \"@odata.context\": \"https://graph.microsoft.com/beta/$metadata#"
    "microsoft.graph.webauthnCredentialCreationOptions\",\n"
    "  \"challengeTimeoutDateTime\": \"2024-06-13T11:26:35Z\",\n"
    "  \"publicKey\": {\n"
    "    \"rp\": { \"id\": \"login.microsoft.com\", "
    "\"name\": \"Microsoft\" },\n"
    "    \"user\": {\n"
    "      \"id\": \"T0Y6mho3vwFprE6aslBq9b2Qjz7Ixbn0PntEPkHirHimyfAtmz4xoilu"
    "6sNoiPFkmvxW\",\n"
    "      \"name\": \"john@contoso.com\",\n"
    "      \"displayName\": \"John Doe\"\n"
    "    },\n"
    "    \"challenge\": \"ZXlKaGJHY2lPaUpTVTBFdFQwRkZVQzB5TlRZaUxDSmxibU1pT2lK"
    "Qk1qVTJSME5OSWl3aWVEVmpJanBi\",\n"
    "    \"pubKeyCredParams\": [ { \"type\": \"public-key\", \"alg\": -7 }, "
    "{ \"type\": \"public-key\", \"alg\": -257 } ],\n"
    "    \"timeout\": 60000,\n"
    "    \"excludeCredentials\": [\n"
    "      { \"type\": \"public-key\", \"id\": \"TZ2KrDEawbrIGQsnheGZ/BG9Nfnb7b"
    "lSGwQYMGyJIhM=\", \"transports\": [] },\n"
    "      { \"type\": \"public-key\", \"id\": \"g/V3JMewxqZaKD8mRpB2pTTl3SBnOR"
    "6gZEw/URDlB4o=\", \"transports\": [\"usb\"] },\n"
    "      { \"type\": \"public-key\", \"id\": \"GshyINLMaOOwqt1LNUi0gQ==\", "
    "\"transports\": [\"usb\",\"nfc\"] }\n"
    "    ],\n"
    "    \"authenticatorSelection\": {\n"
    "      \"authenticatorAttachment\": \"cross-platform\",\n"
    "      \"requireResidentKey\": true,\n"
    "      \"userVerification\": \"required\"\n"
    "    },\n"
    "    \"attestation\": \"direct\",\n"
    "    \"extensions\": {\n"
    "      \"hmacCreateSecret\": true,\n"
    "      \"enforceCredentialProtectionPolicy\": true,\n"
    "      \"credentialProtectionPolicy\": \"userVerificationOptional\"\n"
    "    }\n"
    "  }\n"
    "}\n";

/* the v1.0 documentation example, @odata.type on every object */
static const char v1_doc[] =
    "{\"@odata.type\":\"#microsoft.graph.webauthnCredentialCreationOptions\","
    "\"challengeTimeoutDateTime\":\"2026-04-20T10:05:00Z\","
    "\"publicKey\":{\"@odata.type\":\"#microsoft.graph.webauthnPublicKey"
    "CredentialCreationOptions\","
    "\"rp\":{\"@odata.type\":\"#microsoft.graph.webauthnPublicKeyCredential"
    "RpEntity\",\"id\":\"login.microsoftonline.com\",\"name\":\"Microsoft\"},"
    "\"user\":{\"@odata.type\":\"#microsoft.graph.webauthnPublicKeyCredential"
    "UserEntity\",\"id\":\"ZGF2aWRAY29udG9zby5jb20\",\"displayName\":"
    "\"David Smith\",\"name\":\"david@contoso.com\"},"
    "\"challenge\":\"QTU1MzNDNzAtNkM3Ni00NTRDLUJDQ0YtRTREMDZCNTBFRTRE\","
    "\"pubKeyCredParams\":[{\"@odata.type\":\"#microsoft.graph.webauthn"
    "PublicKeyCredentialParameters\",\"type\":\"public-key\",\"alg\":-7}],"
    "\"timeout\":60000,\"excludeCredentials\":[],"
    "\"authenticatorSelection\":{\"@odata.type\":\"#microsoft.graph.webauthn"
    "AuthenticatorSelectionCriteria\",\"authenticatorAttachment\":"
    "\"platform\",\"requireResidentKey\":true,\"userVerification\":"
    "\"required\"},\"attestation\":\"direct\",\"extensions\":{\"@odata.type\":"
    "\"#microsoft.graph.webauthnAuthenticationExtensionsClientInputs\"}}}";

/* a small template: %s is the publicKey body after rp */
#define RP	"\"rp\":{\"id\":\"login.microsoft.com\"," \
		"\"name\":\"Microsoft\"},"
#define USER	"\"user\":{\"id\":\"dXNlcg\",\"name\":\"a@b.c\"," \
		"\"displayName\":\"A B\"},"
#define CHAL	"\"challenge\":\"Y2hhbGxlbmdlLWNoYWxsZW5nZQ\","
#define ALGS	"\"pubKeyCredParams\":[{\"type\":\"public-key\",\"alg\":-7}]"

static webauthn_options_t *
parse_ok(const char *json)
{
	webauthn_options_t	*o = NULL;
	char			 err[256];
	int			 r;

	r = webauthn_options_parse(json, strlen(json), &o, err, sizeof(err));
	if (r != WEBAUTHN_OK)
		fail_msg("parse failed (%d): %s\n%s", r, err, json);
	assert_non_null(o);
	assert_string_equal(err, "");

	return (o);
}

/* must fail with code `want` and a message containing `words` */
static void
parse_bad(const char *json, size_t len, int want, const char *words)
{
	webauthn_options_t	*o = (webauthn_options_t *)&o;
	char			 err[256];
	int			 r;

	r = webauthn_options_parse(json, len, &o, err, sizeof(err));
	if (r != want)
		fail_msg("got %d, want %d (%s) for %.200s", r, want, err,
		    json);
	assert_null(o);
	if (strstr(err, words) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err, words);
}

#define BAD(s, want, words)	parse_bad((s), strlen(s), (want), (words))

static char *
pk(const char *inner)
{
	char	*s;
	size_t	 n = strlen(inner) + 64;

	assert_non_null(s = malloc(n));
	snprintf(s, n, "{\"publicKey\":{%s}}", inner);

	return (s);
}

static void
bad_pk(const char *inner, int want, const char *words)
{
	char *s = pk(inner);

	parse_bad(s, strlen(s), want, words);
	free(s);
}

static void
test_beta_response(void **state)
{
	webauthn_options_t	*o;
	unsigned char		*b;
	size_t			 len;

	(void)state;
	o = parse_ok(beta_response);
	assert_string_equal(webauthn_options_rp_id(o), "login.microsoft.com");
	assert_string_equal(webauthn_options_rp_name(o), "Microsoft");
	/* 68 chars of base64url: 51 bytes starting "OF:" */
	assert_int_equal(webauthn_options_user_id_len(o), 51);
	assert_memory_equal(webauthn_options_user_id_ptr(o), "OF:", 3);
	assert_string_equal(webauthn_options_user_name(o), "john@contoso.com");
	assert_string_equal(webauthn_options_user_display_name(o), "John Doe");
	assert_string_equal(webauthn_options_challenge(o), "ZXlKaGJHY2lPaUpTVT"
	    "BFdFQwRkZVQzB5TlRZaUxDSmxibU1pT2lKQk1qVTJSME5OSWl3aWVEVmpJanBi");
	assert_int_equal(webauthn_options_algs_len(o), 2);
	assert_int_equal(webauthn_options_alg(o, 0), -7);
	assert_int_equal(webauthn_options_alg(o, 1), -257);
	assert_int_equal(webauthn_options_alg(o, 2), 0);
	assert_int_equal(webauthn_options_timeout_ms(o), 60000);
	assert_int_equal(webauthn_options_exclude_len(o), 3);
	assert_int_equal(b64_decode("g/V3JMewxqZaKD8mRpB2pTTl3SBnOR6gZEw/URDlB4"
	    "o=", &b, &len), 0);
	assert_int_equal(webauthn_options_exclude_id_len(o, 1), len);
	assert_memory_equal(webauthn_options_exclude_ptr(o, 1), b, len);
	free(b);
	assert_int_equal(webauthn_options_exclude_id_len(o, 2), 16);
	assert_null(webauthn_options_exclude_ptr(o, 3));
	assert_int_equal(webauthn_options_exclude_id_len(o, 3), 0);
	assert_true(webauthn_options_rk(o));
	assert_true(webauthn_options_uv(o));
	assert_string_equal(webauthn_options_uv_pref(o), "required");
	assert_string_equal(webauthn_options_attestation(o), "direct");
	assert_true(webauthn_options_hmac_secret(o));
	assert_int_equal(webauthn_options_prot(o), CTAP_PROT_UV_OPTIONAL);
	assert_true(webauthn_options_prot_enforce(o));
	assert_int_equal((long long)webauthn_options_expires(o), 1718277995LL);
	webauthn_options_free(&o);
	assert_null(o);
	webauthn_options_free(&o);
	webauthn_options_free(NULL);
}

static void
test_v1_doc(void **state)
{
	webauthn_options_t *o;

	(void)state;
	o = parse_ok(v1_doc);
	assert_string_equal(webauthn_options_rp_id(o),
	    "login.microsoftonline.com");
	assert_int_equal(webauthn_options_user_id_len(o), 17);
	assert_memory_equal(webauthn_options_user_id_ptr(o),
	    "david@contoso.com", 17);
	assert_int_equal(webauthn_options_exclude_len(o), 0);
	assert_false(webauthn_options_hmac_secret(o));
	assert_int_equal(webauthn_options_prot(o), WEBAUTHN_PROT_NONE);
	assert_false(webauthn_options_prot_enforce(o));
	assert_int_equal((long long)webauthn_options_expires(o), 1776679500LL);
	webauthn_options_free(&o);
}

static void
test_wrappings(void **state)
{
	webauthn_options_t	*o;
	char			*s;
	size_t			 n;

	(void)state;
	/* {"value": {...}} as the beta doc shows it */
	n = strlen(beta_response) + 32;
	assert_non_null(s = malloc(n));
	snprintf(s, n, "{\"value\":%s}", beta_response);
	o = parse_ok(s);
	assert_string_equal(webauthn_options_rp_id(o), "login.microsoft.com");
	assert_int_equal((long long)webauthn_options_expires(o), 1718277995LL);
	webauthn_options_free(&o);
	free(s);
	/* the bare publicKey object */
	o = parse_ok("{" RP USER CHAL ALGS "}");
	assert_string_equal(webauthn_options_challenge(o),
	    "Y2hhbGxlbmdlLWNoYWxsZW5nZQ");
	assert_int_equal(webauthn_options_expires(o), 0);
	/* defaults of everything optional */
	assert_int_equal(webauthn_options_timeout_ms(o),
	    WEBAUTHN_TIMEOUT_DEFAULT_MS);
	assert_false(webauthn_options_rk(o));
	assert_false(webauthn_options_uv(o));
	assert_string_equal(webauthn_options_uv_pref(o), "");
	assert_string_equal(webauthn_options_attestation(o), "");
	webauthn_options_free(&o);
}

static void
test_big_challenge(void **state)
{
	webauthn_options_t	*o;
	unsigned char		*raw;
	char			*chal, *doc;
	size_t			 i, n;

	(void)state;
	/* Graph's is a ~5.2 KB JWE as ~6.9 KB of base64url */
	assert_non_null(raw = malloc(5198));
	for (i = 0; i < 5198; i++)
		raw[i] = (unsigned char)
		    ("eyJhbGciOiJSU0EtT0FFUC0yNTYi"[i % 28]);
	assert_int_equal(b64url_encode(raw, 5198, &chal), 0);
	assert_int_equal(strlen(chal), 6931);
	n = strlen(chal) + 512;
	assert_non_null(doc = malloc(n));
	snprintf(doc, n, "{\"publicKey\":{" RP USER "\"challenge\":\"%s\","
	    ALGS "}}", chal);
	o = parse_ok(doc);
	assert_string_equal(webauthn_options_challenge(o), chal);
	webauthn_options_free(&o);
	free(doc);
	free(chal);
	free(raw);
}

static void
test_challenge_normalised(void **state)
{
	webauthn_options_t *o;

	(void)state;
	o = parse_ok("{\"publicKey\":{" RP USER "\"challenge\":\"ab+/cd==\","
	    ALGS "}}");
	assert_string_equal(webauthn_options_challenge(o), "ab-_cd");
	webauthn_options_free(&o);
	o = parse_ok("{\"publicKey\":{" RP USER "\"challenge\":\"abcd\","
	    ALGS "}}");
	assert_string_equal(webauthn_options_challenge(o), "abcd");
	webauthn_options_free(&o);
	bad_pk(RP USER "\"challenge\":\"ab cd\"," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "challenge");
	bad_pk(RP USER "\"challenge\":\"abcde\"," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "challenge");
	bad_pk(RP USER "\"challenge\":\"\"," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "challenge");
	bad_pk(RP USER "\"challenge\":\"ab\\\"cd\"," ALGS,
	    WEBAUTHN_ERR_OPTIONS, "challenge");
	bad_pk(RP USER "\"challenge\":\"a=bc\"," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "challenge");
	bad_pk(RP USER "\"challenge\":\"ab===\"," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "challenge");
	bad_pk(RP USER ALGS, WEBAUTHN_ERR_OPTIONS, "challenge is missing");
	bad_pk(RP USER "\"challenge\":42," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "challenge must be a string");
}

static void
test_timeout(void **state)
{
	static const struct {
		const char	*v;
		int		 ms;
	} ok[] = {
		{ "0", WEBAUTHN_TIMEOUT_DEFAULT_MS },
		{ "null", WEBAUTHN_TIMEOUT_DEFAULT_MS },
		{ "60000", 60000 },
		{ "30000.0", 30000 },
		{ "1", 1000 },
		{ "99999999999", WEBAUTHN_TIMEOUT_MAX_MS },
	};
	webauthn_options_t	*o;
	char			 doc[512];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(doc, sizeof(doc), "{\"publicKey\":{" RP USER CHAL
		    "\"timeout\":%s," ALGS "}}", ok[i].v);
		o = parse_ok(doc);
		assert_int_equal(webauthn_options_timeout_ms(o), ok[i].ms);
		webauthn_options_free(&o);
	}
	bad_pk(RP USER CHAL "\"timeout\":-1," ALGS, WEBAUTHN_ERR_OPTIONS,
	    "timeout");
	bad_pk(RP USER CHAL "\"timeout\":\"60000\"," ALGS,
	    WEBAUTHN_ERR_OPTIONS, "timeout");
}

static void
test_excludes(void **state)
{
	webauthn_options_t	*o;
	size_t			 i;

	(void)state;
	/* all three encodings, one of them ambiguous (two readings) */
	o = parse_ok("{\"publicKey\":{" RP USER CHAL ALGS ","
	    "\"excludeCredentials\":["
	    "{\"type\":\"public-key\",\"id\":\"TZ2KrDEawbrIGQsnheGZ/BG9Nfnb7blS"
	    "GwQYMGyJIhM=\"},"
	    "{\"type\":\"public-key\",\"id\":\"GshyINLMaOOwqt1LNUi0gQ==\"},"
	    "{\"type\":\"public-key\",\"id\":\"prXptqCfm_ohEAcE2Jw6CUtUb4uWpb2v"
	    "aS-cFB82ruMhcIRAE17S0g1bkPjtsC6S0\"},"
	    "{\"type\":\"public-key\",\"id\":\"MMeD8wrNCZ-0hbfdYvvAIzrsrTGd_uXd"
	    "t2iXbYlGJSs1\"},"
	    "{\"type\":\"public-key\",\"id\":\"AAECAwQFBgcICQoLDA0ODw\"},"
	    "{\"type\":\"something-else\",\"id\":\"!!\"},"
	    "{\"id\":\"AAECAwQFBgcICQoLDA0ODw2\",\"transports\":[\"usb\"]}"
	    "]}}");
	assert_int_equal(webauthn_options_exclude_len(o), 7);
	/* six credentials: the ambiguous one is one passkey, read twice */
	assert_int_equal(webauthn_options_exclude_creds(o), 6);
	assert_int_equal(webauthn_options_exclude_id_len(o, 0), 32);
	assert_int_equal(webauthn_options_exclude_id_len(o, 1), 16);
	assert_int_equal(webauthn_options_exclude_id_len(o, 2), 48);
	assert_int_equal(webauthn_options_exclude_id_len(o, 3), 33);
	assert_int_equal(webauthn_options_exclude_id_len(o, 4), 32);
	assert_memory_equal(webauthn_options_exclude_ptr(o, 3),
	    webauthn_options_exclude_ptr(o, 4), 32);
	assert_int_equal(webauthn_options_exclude_id_len(o, 5), 16);
	assert_int_equal(webauthn_options_exclude_id_len(o, 6), 16);
	for (i = 0; i < 16; i++)
		assert_int_equal(webauthn_options_exclude_ptr(o, 6)[i], i);
	assert_memory_equal(webauthn_options_exclude_ptr(o, 5),
	    webauthn_options_exclude_ptr(o, 6), 16);
	webauthn_options_free(&o);
	/* null and empty lists */
	o = parse_ok("{\"publicKey\":{" RP USER CHAL ALGS ","
	    "\"excludeCredentials\":null}}");
	assert_int_equal(webauthn_options_exclude_len(o), 0);
	assert_int_equal(webauthn_options_exclude_creds(o), 0);
	webauthn_options_free(&o);
}

static void
test_excludes_bad(void **state)
{
	char	*doc, *p;
	size_t	 i, n;

	(void)state;
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[{\"type\":\"public-"
	    "key\",\"id\":\"AAAA\"},{\"type\":\"public-key\",\"id\":"
	    "\"no good!\"}]", WEBAUTHN_ERR_OPTIONS, "excludeCredentials[1].id");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[{\"id\":\"Zg=\"}]",
	    WEBAUTHN_ERR_OPTIONS, "excludeCredentials[0].id");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[{\"id\":\"Zg1\"}]",
	    WEBAUTHN_ERR_OPTIONS, "not base64");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[{\"id\":\"\"}]",
	    WEBAUTHN_ERR_OPTIONS, "excludeCredentials[0].id");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[{\"id\":7}]",
	    WEBAUTHN_ERR_OPTIONS, "excludeCredentials[0].id");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[{}]",
	    WEBAUTHN_ERR_OPTIONS, "excludeCredentials[0].id");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":[\"AAAA\"]",
	    WEBAUTHN_ERR_OPTIONS, "excludeCredentials[0]");
	bad_pk(RP USER CHAL ALGS ",\"excludeCredentials\":{}",
	    WEBAUTHN_ERR_OPTIONS, "excludeCredentials must be an array");
	/* more ids than a makeCredential can carry */
	n = 1024 + (WEBAUTHN_EXCLUDE_MAX + 1) * 16;
	assert_non_null(doc = malloc(n));
	p = doc;
	p += sprintf(p, "%s", RP USER CHAL ALGS ",\"excludeCredentials\":[");
	for (i = 0; i <= WEBAUTHN_EXCLUDE_MAX; i++)
		p += sprintf(p, "%s{\"id\":\"AAAA\"}", i ? "," : "");
	sprintf(p, "]");
	bad_pk(doc, WEBAUTHN_ERR_OPTIONS, "more than");
	free(doc);
}

static void
test_no_es256(void **state)
{
	(void)state;
	bad_pk(RP USER CHAL "\"pubKeyCredParams\":[{\"type\":\"public-key\","
	    "\"alg\":-257},{\"type\":\"public-key\",\"alg\":-8}]",
	    WEBAUTHN_ERR_OPTIONS, "ES256");
	/* -7 under a type we do not know does not count */
	bad_pk(RP USER CHAL "\"pubKeyCredParams\":[{\"type\":\"other\","
	    "\"alg\":-7}]", WEBAUTHN_ERR_OPTIONS, "ES256");
	bad_pk(RP USER CHAL "\"pubKeyCredParams\":[]", WEBAUTHN_ERR_OPTIONS,
	    "pubKeyCredParams");
	bad_pk(RP USER CHAL "\"x\":1", WEBAUTHN_ERR_OPTIONS,
	    "pubKeyCredParams");
	bad_pk(RP USER CHAL "\"pubKeyCredParams\":[{\"type\":\"public-key\","
	    "\"alg\":\"-7\"}]", WEBAUTHN_ERR_OPTIONS, "alg");
	bad_pk(RP USER CHAL "\"pubKeyCredParams\":[{\"type\":\"public-key\","
	    "\"alg\":99999999999}]", WEBAUTHN_ERR_OPTIONS, "alg");
}

static void
test_rp_user_bad(void **state)
{
	char	long_name[WEBAUTHN_STR_MAX + 64], doc[2 * WEBAUTHN_STR_MAX];

	(void)state;
	bad_pk(USER CHAL ALGS, WEBAUTHN_ERR_OPTIONS, "rp is missing");
	bad_pk("\"rp\":{\"name\":\"x\"}," USER CHAL ALGS, WEBAUTHN_ERR_OPTIONS,
	    "rp.id is missing");
	bad_pk("\"rp\":{\"id\":\"\"}," USER CHAL ALGS, WEBAUTHN_ERR_OPTIONS,
	    "rp.id");
	bad_pk("\"rp\":\"login.microsoft.com\"," USER CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "rp must be an object");
	/* rp.id becomes the origin: no scheme, path, port or quotes */
	bad_pk("\"rp\":{\"id\":\"evil.com/x\"}," USER CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "host name");
	bad_pk("\"rp\":{\"id\":\"evil.com:443\"}," USER CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "host name");
	bad_pk("\"rp\":{\"id\":\"a\\\"b\"}," USER CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "host name");
	bad_pk(RP CHAL ALGS, WEBAUTHN_ERR_OPTIONS, "user is missing");
	bad_pk(RP "\"user\":{\"name\":\"x\"}," CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "user.id is missing");
	bad_pk(RP "\"user\":{\"id\":\"!!!!\"}," CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "user.id is not base64url");
	/* 65 bytes (87 chars): over the CTAP limit */
	memset(long_name, 'A', 87);
	long_name[87] = '\0';
	snprintf(doc, sizeof(doc), RP "\"user\":{\"id\":\"%s\"}," CHAL ALGS,
	    long_name);
	bad_pk(doc, WEBAUTHN_ERR_OPTIONS, "65 bytes");
	bad_pk(RP "\"user\":{\"id\":\"AAAA\",\"name\":5}," CHAL ALGS,
	    WEBAUTHN_ERR_OPTIONS, "user.name must be a string");
	memset(long_name, 'x', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	snprintf(doc, sizeof(doc), RP "\"user\":{\"id\":\"AAAA\","
	    "\"displayName\":\"%s\"}," CHAL ALGS, long_name);
	bad_pk(doc, WEBAUTHN_ERR_OPTIONS, "longer than");
}

/* rp.id `id` checked against `want` (NULL: the default) */
static int
rp_check(const char *id, const char *want, char *err, size_t errlen)
{
	webauthn_options_t	*o;
	char			 doc[512];
	int			 r;

	snprintf(doc, sizeof(doc), "{\"publicKey\":{\"rp\":{\"id\":\"%s\"},"
	    USER CHAL ALGS "}}", id);
	o = parse_ok(doc);
	err[0] = '\0';
	r = webauthn_options_check_rp(o, want, err, errlen);
	webauthn_options_free(&o);

	return (r);
}

static void
test_rp_pinned(void **state)
{
	static const char *const good[] = {
		"login.microsoft.com", "LOGIN.Microsoft.COM",
		"login.microsoft.com.",
	};
	static const char *const bad[] = {
		"login.microsoft.com..", "login..microsoft.com",
		"evil.example", "login.microsoft.com.evil.example",
		"evil-login.microsoft.com", "xlogin.microsoft.com",
		"login.microsoftonline.com", "microsoft.com", "login",
		"login.microsoft.co", "login.microsoft.comm",
		"login-microsoft.com",
	};
	char	err[256];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (rp_check(good[i], NULL, err, sizeof(err)) != WEBAUTHN_OK)
			fail_msg("%s refused: %s", good[i], err);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rp_check(bad[i], NULL, err, sizeof(err)) != WEBAUTHN_ERR_RP)
			fail_msg("%s accepted", bad[i]);
		assert_non_null(strstr(err, bad[i]));
		assert_non_null(strstr(err, "login.microsoft.com"));
		assert_non_null(strstr(err, "relying party"));
	}
	/* the tests' override moves the pin; the default is then refused */
	assert_int_equal(rp_check("rp.test", "rp.test", err, sizeof(err)),
	    WEBAUTHN_OK);
	assert_int_equal(rp_check("RP.test.", "rp.test", err, sizeof(err)),
	    WEBAUTHN_OK);
	assert_int_equal(rp_check("login.microsoft.com", "rp.test", err,
	    sizeof(err)), WEBAUTHN_ERR_RP);
	assert_non_null(strstr(err, "rp.test"));
	assert_int_equal(rp_check("login.microsoft.com", "", err,
	    sizeof(err)), WEBAUTHN_OK);
	assert_int_equal(webauthn_options_check_rp(NULL, NULL, err,
	    sizeof(err)), WEBAUTHN_ERR_ARG);
	assert_string_equal(webauthn_strerr(WEBAUTHN_ERR_RP),
	    "creationOptions for another relying party");
}

static void
test_selection_extensions(void **state)
{
	static const struct {
		const char	*name;
		int		 level;
	} pol[] = {
		{ "userVerificationOptional", CTAP_PROT_UV_OPTIONAL },
		{ "userVerificationOptionalWithCredentialIDList",
		    CTAP_PROT_UV_OPTIONAL_WITH_ID },
		{ "userVerificationRequired", CTAP_PROT_UV_REQUIRED },
	};
	webauthn_options_t	*o;
	char			 doc[1024];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(pol) / sizeof(pol[0]); i++) {
		snprintf(doc, sizeof(doc), "{\"publicKey\":{" RP USER CHAL ALGS
		    ",\"extensions\":{\"credentialProtectionPolicy\":\"%s\"}}}",
		    pol[i].name);
		o = parse_ok(doc);
		assert_int_equal(webauthn_options_prot(o), pol[i].level);
		assert_false(webauthn_options_prot_enforce(o));
		webauthn_options_free(&o);
	}
	o = parse_ok("{\"publicKey\":{" RP USER CHAL ALGS ",\"authenticator"
	    "Selection\":{\"residentKey\":\"required\",\"userVerification\":"
	    "\"preferred\"}}}");
	assert_true(webauthn_options_rk(o));
	assert_false(webauthn_options_uv(o));
	assert_string_equal(webauthn_options_uv_pref(o), "preferred");
	webauthn_options_free(&o);
	bad_pk(RP USER CHAL ALGS ",\"extensions\":{\"credentialProtection"
	    "Policy\":\"maximum\"}", WEBAUTHN_ERR_OPTIONS, "unknown");
	bad_pk(RP USER CHAL ALGS ",\"extensions\":{\"hmacCreateSecret\":"
	    "\"yes\"}", WEBAUTHN_ERR_OPTIONS, "hmacCreateSecret");
	bad_pk(RP USER CHAL ALGS ",\"extensions\":[]", WEBAUTHN_ERR_OPTIONS,
	    "extensions must be an object");
	bad_pk(RP USER CHAL ALGS ",\"authenticatorSelection\":{\"require"
	    "ResidentKey\":1}", WEBAUTHN_ERR_OPTIONS, "requireResidentKey");
}

static void
test_datetime(void **state)
{
	static const struct {
		const char	*s;
		long long	 t;
	} ok[] = {
		{ "2024-06-13T11:26:35Z", 1718277995LL },
		{ "2024-06-13T11:26:35.1234567Z", 1718277995LL },
		{ "2024-06-13T13:26:35+02:00", 1718277995LL },
		{ "2024-06-13T06:26:35-05:00", 1718277995LL },
		{ "1970-01-01T00:00:00Z", 0LL },
	};
	static const char *bad[] = {
		"yesterday", "2024-06-13", "2024-06-13T11:26:35",
		"2024-13-13T11:26:35Z", "2024-06-13T11:26:35Zjunk",
		"2024-06-13T11:26:35.Z", "2024-06-13 11:26:35Z",
		"2024-06-13T11:26:35+2:00",
	};
	webauthn_options_t	*o;
	char			 doc[1024];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(doc, sizeof(doc), "{\"challengeTimeoutDateTime\":"
		    "\"%s\",\"publicKey\":{" RP USER CHAL ALGS "}}", ok[i].s);
		o = parse_ok(doc);
		assert_int_equal((long long)webauthn_options_expires(o),
		    ok[i].t);
		webauthn_options_free(&o);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc), "{\"challengeTimeoutDateTime\":"
		    "\"%s\",\"publicKey\":{" RP USER CHAL ALGS "}}", bad[i]);
		parse_bad(doc, strlen(doc), WEBAUTHN_ERR_OPTIONS,
		    "challengeTimeoutDateTime");
	}
}

static void
test_malformed(void **state)
{
	char	*doc;
	size_t	 i, n;

	(void)state;
	parse_bad("", 0, WEBAUTHN_ERR_JSON, "not valid JSON");
	parse_bad("{\"publicKey\":", 13, WEBAUTHN_ERR_JSON, "not valid JSON");
	parse_bad("{\"publicKey\":{}} trailing", 25, WEBAUTHN_ERR_JSON,
	    "not valid JSON");
	parse_bad("[1,2]", 5, WEBAUTHN_ERR_JSON, "not a JSON object");
	parse_bad("\"x\"", 3, WEBAUTHN_ERR_JSON, "not valid JSON");
	parse_bad("{}", 2, WEBAUTHN_ERR_OPTIONS, "no publicKey");
	parse_bad("{\"publicKey\":[]}", 16, WEBAUTHN_ERR_OPTIONS,
	    "no publicKey");
	parse_bad("{\"value\":[]}", 12, WEBAUTHN_ERR_OPTIONS, "no publicKey");
	/* duplicate keys could hide a second rp */
	BAD("{\"publicKey\":{},\"publicKey\":{}}", WEBAUTHN_ERR_JSON,
	    "duplicate");
	/* NUL inside a string */
	doc = pk(RP "\"user\":{\"id\":\"AAAA\",\"name\":\"a\\u0000b\"},"
	    CHAL ALGS);
	parse_bad(doc, strlen(doc), WEBAUTHN_ERR_JSON, "not valid JSON");
	free(doc);
	/* a Graph error envelope names itself */
	BAD("{\"error\":{\"code\":\"Authorization_RequestDenied\","
	    "\"message\":\"Insufficient privileges\"}}",
	    WEBAUTHN_ERR_OPTIONS, "Authorization_RequestDenied");
	/* deeper than the limit, also hidden in an ignored key */
	n = 2 * (WEBAUTHN_DEPTH_MAX + 2) + 32;
	assert_non_null(doc = calloc(1, n));
	strcpy(doc, "{\"x\":");
	for (i = 0; i < WEBAUTHN_DEPTH_MAX; i++)
		strcat(doc, "[");
	for (i = 0; i < WEBAUTHN_DEPTH_MAX; i++)
		strcat(doc, "]");
	strcat(doc, "}");
	parse_bad(doc, strlen(doc), WEBAUTHN_ERR_JSON, "nested deeper");
	free(doc);
	/* brackets inside strings do not count */
	n = 64 + 4 * WEBAUTHN_DEPTH_MAX;
	assert_non_null(doc = calloc(1, n));
	strcpy(doc, "{\"x\":\"");
	for (i = 0; i < 2 * WEBAUTHN_DEPTH_MAX; i++)
		strcat(doc, "[{");
	strcat(doc, "\\\"\"}");
	parse_bad(doc, strlen(doc), WEBAUTHN_ERR_OPTIONS, "no publicKey");
	free(doc);
}

static void
test_huge(void **state)
{
	char	*doc;
	size_t	 n = WEBAUTHN_JSON_MAX + 1;

	(void)state;
	assert_non_null(doc = malloc(n + 1));
	memset(doc, ' ', n);
	memcpy(doc, "{\"publicKey\":{}}", 16);
	doc[n] = '\0';
	parse_bad(doc, n, WEBAUTHN_ERR_JSON, "larger than");
	/* exactly at the limit is parsed (and then found wanting) */
	parse_bad(doc, n - 1, WEBAUTHN_ERR_OPTIONS, "rp is missing");
	free(doc);
}

static void
test_args(void **state)
{
	webauthn_options_t *o = NULL;

	(void)state;
	assert_int_equal(webauthn_options_parse(NULL, 0, &o, NULL, 0),
	    WEBAUTHN_ERR_ARG);
	assert_int_equal(webauthn_options_parse("{}", 2, NULL, NULL, 0),
	    WEBAUTHN_ERR_ARG);
	/* no error buffer is fine */
	assert_int_equal(webauthn_options_parse("{}", 2, &o, NULL, 0),
	    WEBAUTHN_ERR_OPTIONS);
	assert_null(o);
	assert_string_equal(webauthn_strerr(WEBAUTHN_ERR_JSON),
	    "malformed JSON");
	assert_string_equal(webauthn_strerr(12345), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_beta_response),
		cmocka_unit_test(test_v1_doc),
		cmocka_unit_test(test_wrappings),
		cmocka_unit_test(test_big_challenge),
		cmocka_unit_test(test_challenge_normalised),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_excludes),
		cmocka_unit_test(test_excludes_bad),
		cmocka_unit_test(test_no_es256),
		cmocka_unit_test(test_rp_user_bad),
		cmocka_unit_test(test_rp_pinned),
		cmocka_unit_test(test_selection_extensions),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_args),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
