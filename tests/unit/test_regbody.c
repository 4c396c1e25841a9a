/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The registration output around the codec: its checks
 * (ctap_attobj_verify), the "none" relabelling, the fido2Methods POST
 * body, our own body verifier, and display names.
 */

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cbor.h>
#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "ctap.h"
#include "webauthn.h"
#include "attfix.h"

static void
test_self_attestation(void **state)
{
	struct att	 a;
	char		*fmt = NULL;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_int_equal(ctap_attobj_verify(a.obj, a.objlen,
	    (unsigned char *)a.cd, a.cdlen, RPID, true, 1, true, &fmt),
	    CTAP_OK);
	assert_string_equal(fmt, "packed");
	free(fmt);
	/* what the codec writes from the same pieces: canonical order */
	reencode_is(a.obj, a.objlen, a.obj, a.objlen);
	assert_int_equal(a.obj[0], 0xa3);
	assert_memory_equal(a.obj + 1, "\x63" "fmt" "\x66" "packed"
	    "\x67" "attStmt", 19);
	/* what the key did not do is caught */
	assert_int_equal(ctap_attobj_verify(a.obj, a.objlen,
	    (unsigned char *)a.cd, a.cdlen, "login.microsoftonline.com", true,
	    1, true, NULL), CTAP_ERR_VERIFY);
	assert_int_equal(ctap_attobj_verify(a.obj, a.objlen,
	    (unsigned char *)a.cd, a.cdlen - 1, RPID, true, 1, true, NULL),
	    CTAP_ERR_VERIFY);
	assert_int_equal(ctap_attobj_verify(a.obj, a.objlen,
	    (unsigned char *)a.cd, a.cdlen, RPID, true, 3, true, NULL),
	    CTAP_ERR_VERIFY);
	att_free(&a);
	/* no UV flag while UV was asked for */
	att_make(&a, options_json, F_UP | F_AT | F_ED, 1, true);
	assert_int_equal(ctap_attobj_verify(a.obj, a.objlen,
	    (unsigned char *)a.cd, a.cdlen, RPID, true, 1, true, NULL),
	    CTAP_ERR_VERIFY);
	att_free(&a);
}

static void
test_body_shape(void **state)
{
	static const char pre[] = "{\"displayName\":\"YubiKey 5 NFC\","
	    "\"publicKeyCredential\":{\"id\":\"";
	struct att	 a;
	json_t		*b, *pkc, *resp, *v;
	unsigned char	*p;
	size_t		 len;
	const char	*k;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	/* one line, compact, in this order, nothing more */
	assert_null(strchr(a.body, '\n'));
	assert_null(strchr(a.body, '='));
	assert_null(strstr(a.body, "@odata"));
	assert_memory_equal(a.body, pre, strlen(pre));
	assert_non_null(strstr(a.body, "\"clientExtensionResults\":{}}}"));
	assert_non_null(b = json_loads(a.body, 0, NULL));
	assert_int_equal(json_object_size(b), 2);
	assert_non_null(pkc = json_object_get(b, "publicKeyCredential"));
	assert_int_equal(json_object_size(pkc), 3);
	assert_non_null(resp = json_object_get(pkc, "response"));
	assert_int_equal(json_object_size(resp), 2);
	json_object_foreach(resp, k, v)
		assert_true(strcmp(k, "clientDataJSON") == 0 ||
		    strcmp(k, "attestationObject") == 0);
	assert_int_equal(b64url_decode(json_string_value(json_object_get(pkc,
	    "id")), &p, &len), 0);
	assert_int_equal(len, sizeof(a.id));
	assert_memory_equal(p, a.id, len);
	free(p);
	assert_int_equal(b64url_decode(json_string_value(json_object_get(resp,
	    "clientDataJSON")), &p, &len), 0);
	assert_int_equal(len, a.cdlen);
	assert_memory_equal(p, a.cd, len);
	free(p);
	assert_int_equal(b64url_decode(json_string_value(json_object_get(resp,
	    "attestationObject")), &p, &len), 0);
	assert_int_equal(len, a.objlen);
	assert_memory_equal(p, a.obj, len);
	free(p);
	json_decref(b);
	att_free(&a);
}

static void
test_verify_body_ok(void **state)
{
	struct att	 a;
	char		*fmt = NULL, err[256];

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_int_equal(webauthn_verify_body(a.o, a.body, strlen(a.body),
	    &fmt, err, sizeof(err)), WEBAUTHN_OK);
	assert_string_equal(fmt, "packed");
	assert_string_equal(err, "");
	free(fmt);
	assert_int_equal(webauthn_verify_body(a.o, a.body, strlen(a.body),
	    NULL, NULL, 0), WEBAUTHN_OK);
	att_free(&a);
}

static void
test_verify_body_mismatch(void **state)
{
	struct att		 a;
	webauthn_options_t	*o2 = NULL;
	unsigned char		 id2[32];
	char			*s, *b_id, *b_cd, *b_obj, *t;
	char			*doc;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	b_id = enc(a.id, sizeof(a.id));
	b_cd = enc(a.cd, a.cdlen);
	b_obj = enc(a.obj, a.objlen);
	/* options of another registration: other challenge */
	assert_non_null(doc = strdup(options_json));
	assert_non_null(t = strstr(doc, CHALLENGE));
	t[0] = 'Y';
	assert_int_equal(webauthn_options_parse(doc, strlen(doc), &o2, NULL,
	    0), WEBAUTHN_OK);
	verify_fails(o2, a.body, WEBAUTHN_ERR_VERIFY, "challenge");
	webauthn_options_free(&o2);
	free(doc);
	/* another rp: the origin gives it away first */
	assert_non_null(doc = strdup(options_json));
	assert_non_null(t = strstr(doc, "login.microsoft.com"));
	memcpy(t, "login.microsoft.org", 19);
	assert_int_equal(webauthn_options_parse(doc, strlen(doc), &o2, NULL,
	    0), WEBAUTHN_OK);
	verify_fails(o2, a.body, WEBAUTHN_ERR_VERIFY, "origin");
	webauthn_options_free(&o2);
	free(doc);
	/* the body's id is not the credential's */
	memcpy(id2, a.id, sizeof(id2));
	id2[31] ^= 1;
	t = enc(id2, sizeof(id2));
	s = body_of("k", t, b_cd, b_obj, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_VERIFY, "credential id");
	free(s);
	free(t);
	/* a flipped bit in the signature */
	a.obj[a.objlen - a.adlen - 20] ^= 0x01;
	t = enc(a.obj, a.objlen);
	s = body_of("k", b_id, b_cd, t, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_VERIFY, "attestationObject");
	free(s);
	free(t);
	free(b_id);
	free(b_cd);
	free(b_obj);
	att_free(&a);
}

/* clientDataJSON a browser for another ceremony would send */
static void
test_verify_body_clientdata(void **state)
{
	static const char *bad[] = {
		"{\"type\":\"webauthn.get\",\"challenge\":\"" CHALLENGE "\","
		    "\"origin\":\"https://" RPID "\"}", "type",
		"{\"challenge\":\"" CHALLENGE "\",\"origin\":\"https://" RPID
		    "\"}", "type",
		"{\"type\":\"webauthn.create\",\"challenge\":\"" CHALLENGE
		    "\",\"origin\":\"https://" RPID "\",\"crossOrigin\":true}",
		    "crossOrigin",
		"{\"type\":\"webauthn.create\",\"challenge\":\"" CHALLENGE
		    "\",\"origin\":\"http://" RPID "\"}", "origin",
		"{\"type\":\"webauthn.create\",\"challenge\":\"" CHALLENGE
		    "\",\"origin\":\"https://" RPID ":443\"}", "origin",
		"{\"type\":\"webauthn.create\",\"challenge\":\"" CHALLENGE
		    "==\",\"origin\":\"https://" RPID "\"}", "challenge",
		"[]", "clientDataJSON",
		"not json", "clientDataJSON",
	};
	struct att	 a;
	size_t		 i;
	char		*s;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i += 2) {
		memset(&a, 0, sizeof(a));
		att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
		/* re-sign so only the client data is wrong */
		free(a.cd);
		assert_non_null(a.cd = strdup(bad[i]));
		a.cdlen = strlen(a.cd);
		make_attobj(&a);
		free(a.body);
		assert_int_equal(webauthn_body_raw(a.id, sizeof(a.id),
		    (unsigned char *)a.cd, a.cdlen, a.obj, a.objlen, "k",
		    &s), WEBAUTHN_OK);
		verify_fails(a.o, s, i < 12 ? WEBAUTHN_ERR_VERIFY :
		    WEBAUTHN_ERR_BODY, bad[i + 1]);
		a.body = s;
		att_free(&a);
	}
	/* what the options ask of the key must be in authData */
	att_make(&a, options_json, F_UP | F_AT | F_ED, 1, true);
	verify_fails(a.o, a.body, WEBAUTHN_ERR_VERIFY, "attestationObject");
	att_free(&a);
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 0, true);
	verify_fails(a.o, a.body, WEBAUTHN_ERR_VERIFY, "attestationObject");
	att_free(&a);
	att_make(&a, options_json, F_UP | F_UV | F_AT, 0, false);
	verify_fails(a.o, a.body, WEBAUTHN_ERR_VERIFY, "attestationObject");
	att_free(&a);
}

static void
test_verify_body_malformed(void **state)
{
	struct att	 a;
	char		*b_id, *b_cd, *b_obj, *s, *t;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	b_id = enc(a.id, sizeof(a.id));
	b_cd = enc(a.cd, a.cdlen);
	b_obj = enc(a.obj, a.objlen);
	verify_fails(a.o, "", WEBAUTHN_ERR_BODY, "not valid JSON");
	verify_fails(a.o, "[]", WEBAUTHN_ERR_BODY, "not a JSON object");
	s = body_of("k", b_id, b_cd, b_obj, "@odata.type");
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "@odata.type");
	free(s);
	s = body_of(NULL, b_id, b_cd, b_obj, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "displayName");
	free(s);
	s = body_of("", b_id, b_cd, b_obj, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "displayName");
	free(s);
	s = body_of("0123456789012345678901234567890", b_id, b_cd, b_obj,
	    NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "displayName");
	free(s);
	s = body_of("k", NULL, b_cd, b_obj, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "publicKeyCredential.id");
	free(s);
	s = body_of("k", b_id, NULL, b_obj, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "clientDataJSON");
	free(s);
	s = body_of("k", b_id, b_cd, NULL, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "attestationObject");
	free(s);
	/* Graph wants base64url without padding: standard base64 fails */
	assert_int_equal(b64_encode(a.id, sizeof(a.id), &t), 0);
	s = body_of("k", t, b_cd, b_obj, NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "not base64url");
	free(s);
	free(t);
	s = body_of("k", b_id, b_cd, "oA", NULL);
	verify_fails(a.o, s, WEBAUTHN_ERR_BODY, "attestationObject is not");
	free(s);
	free(b_id);
	free(b_cd);
	free(b_obj);
	assert_int_equal(webauthn_verify_body(NULL, "{}", 2, NULL, NULL, 0),
	    WEBAUTHN_ERR_ARG);
	att_free(&a);
}

static void
test_attobj_none(void **state)
{
	static const unsigned char head[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't', 0xa0,
		0x68, 'a', 'u', 't', 'h', 'D', 'a', 't', 'a', 0x58,
	};
	struct att	 a;
	unsigned char	*none = NULL;
	char		*fmt = NULL, *body = NULL, err[256];
	size_t		 len;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_int_equal(webauthn_attobj_none(a.obj, a.objlen, &none, &len),
	    WEBAUTHN_OK);
	/* fmt, attStmt {}, then authData untouched (< 256 bytes: 0x58) */
	assert_true(a.adlen < 256);
	assert_int_equal(len, sizeof(head) + 1 + a.adlen);
	assert_memory_equal(none, head, sizeof(head));
	assert_int_equal(none[sizeof(head)], a.adlen);
	assert_memory_equal(none + sizeof(head) + 1, a.ad, a.adlen);
	assert_int_equal(ctap_attobj_verify(none, len, (unsigned char *)a.cd,
	    a.cdlen, RPID, true, 1, true, &fmt), CTAP_OK);
	assert_string_equal(fmt, "none");
	free(fmt);
	assert_int_equal(webauthn_body_raw(a.id, sizeof(a.id),
	    (unsigned char *)a.cd, a.cdlen, none, len, "k", &body),
	    WEBAUTHN_OK);
	assert_int_equal(webauthn_verify_body(a.o, body, strlen(body), &fmt,
	    err, sizeof(err)), WEBAUTHN_OK);
	assert_string_equal(fmt, "none");
	free(fmt);
	free(body);
	free(none);
	/* not an attestationObject */
	assert_int_equal(webauthn_attobj_none((const unsigned char *)"\xa0",
	    1, &none, &len), WEBAUTHN_ERR_ARG);
	assert_null(none);
	assert_int_equal(len, 0);
	assert_int_equal(webauthn_attobj_none(a.obj, a.objlen - 1, &none,
	    &len), WEBAUTHN_ERR_ARG);
	assert_int_equal(webauthn_attobj_none(NULL, 0, &none, &len),
	    WEBAUTHN_ERR_ARG);
	att_free(&a);
}

/* a.ad with its 27-byte extension map replaced, as a "none" object */
static void
ext_is(const struct att *a, const char *ext, size_t extlen, int want)
{
	unsigned char	*ad, *obj;
	size_t		 adlen, len;

	adlen = a->adlen - 27 + extlen;
	assert_non_null(ad = malloc(adlen));
	memcpy(ad, a->ad, a->adlen - 27);
	assert_memory_equal(a->ad + a->adlen - 27, "\xa2\x6b" "credProtect",
	    13);
	memcpy(ad + a->adlen - 27, ext, extlen);
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, ad, adlen, &obj,
	    &len), CTAP_OK);
	assert_int_equal(ctap_attobj_verify(obj, len, (unsigned char *)a->cd,
	    a->cdlen, RPID, true, 1, true, NULL), want);
	free(obj);
	free(ad);
}

/* what the verifier adds to the codec's rules: per format */
static void
test_verify_formats(void **state)
{
	struct att	 a;
	unsigned char	*obj, *stmt;
	size_t		 len, stmtlen;
	cbor_item_t	*st;
	char		*body, *b_id, *b_cd, *b_obj;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	/* "none" carries the empty statement and nothing else */
	assert_non_null(st = cbor_new_definite_map(1));
	map_put(st, cbor_build_string("alg"), cbor_int(-7));
	stmt = cbor_bytes(st, &stmtlen);
	assert_int_equal(ctap_attobj_encode("none", stmt, stmtlen, a.ad,
	    a.adlen, &obj, &len), CTAP_OK);
	assert_int_equal(ctap_attobj_verify(obj, len, (unsigned char *)a.cd,
	    a.cdlen, RPID, true, 1, true, NULL), CTAP_ERR_VERIFY);
	free(obj);
	/* formats other than packed and none are not ours to check */
	assert_int_equal(ctap_attobj_encode("tpm", stmt, stmtlen, a.ad,
	    a.adlen, &obj, &len), CTAP_OK);
	assert_int_equal(ctap_attobj_verify(obj, len, (unsigned char *)a.cd,
	    a.cdlen, RPID, true, 1, true, NULL), CTAP_ERR_UNSUPPORTED);
	free(obj);
	free(stmt);
	/* a malformed object is a malformed body, whatever its fault */
	b_id = enc(a.id, sizeof(a.id));
	b_cd = enc(a.cd, a.cdlen);
	obj = obj_of(&len, 4, cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen), cbor_build_string("x"),
	    cbor_build_bool(true));
	b_obj = enc(obj, len);
	body = body_of("k", b_id, b_cd, b_obj, NULL);
	verify_fails(a.o, body, WEBAUTHN_ERR_BODY, "attestationObject is not");
	free(body);
	free(b_obj);
	free(obj);
	assert_int_equal(ctap_attobj_verify(obj = obj_of(&len, 2,
	    cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen)), len, (unsigned char *)a.cd, a.cdlen, RPID, true, 1,
	    true, NULL), CTAP_ERR_PROTOCOL);
	free(obj);
	/* extension values of the wrong kind: refused, not trusted, no abort
	 * (libcbor asserts when a float is asked whether it is a bool) */
	ext_is(&a, "\xa2\x6b" "credProtect" "\x1b\x00\x00\x00\x01\x00\x00"
	    "\x00\x01" "\x6b" "hmac-secret" "\xf5", 35, CTAP_ERR_VERIFY);
	ext_is(&a, "\xa2\x6b" "credProtect" "\x01" "\x6b" "hmac-secret"
	    "\xfb\x3f\xf8\x00\x00\x00\x00\x00\x00", 35, CTAP_ERR_VERIFY);
	ext_is(&a, "\xa2\x6b" "credProtect" "\x01" "\x6b" "hmac-secret"
	    "\xf5", 27, CTAP_OK);
	/* authData without attested credential data */
	a.ad[32] &= (unsigned char)~F_AT;
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    &obj, &len), CTAP_OK);
	b_obj = enc(obj, len);
	body = body_of("k", b_id, b_cd, b_obj, NULL);
	verify_fails(a.o, body, WEBAUTHN_ERR_BODY, "attested credential");
	free(body);
	free(b_obj);
	free(obj);
	free(b_id);
	free(b_cd);
	att_free(&a);
}

static void
dn_is(const char *tmpl, const char *model, const char *want)
{
	char *s = NULL;

	assert_int_equal(webauthn_display_name(tmpl, "john@contoso.com",
	    "John Doe", model, "cb69481e-8ff7-4039-93ec-0a2729a154a8",
	    "12345678", "2026-04-20", &s), WEBAUTHN_OK);
	assert_string_equal(s, want);
	free(s);
}

static void
test_display_name(void **state)
{
	char	*s = (char *)"x", date[16];
	time_t	 t = time(NULL);

	(void)state;
	dn_is(NULL, "YubiKey 5 NFC", "YubiKey 5 NFC");
	dn_is(NULL, "", "Security key 2026-04-20");
	dn_is(NULL, NULL, "Security key 2026-04-20");
	dn_is("{model} #{serial}", "YubiKey 5 NFC", "YubiKey 5 NFC #12345678");
	dn_is("{name} ({upn}) {date}", "m",
	    "John Doe (john@contoso.com) 2026-04-20");
	dn_is("{aaguid}", "m", "cb69481e-8ff7-4039-93ec-0a2729a154a8");
	dn_is("key", "m", "key");
	/* empty parts leave no double or trailing blanks */
	dn_is("{model}  -  x", "", "- x");
	dn_is("  a\t\nb  ", "m", "a b");
	dn_is("{model}", "\x01 bad\xff name ", "bad? name");
	dn_is("", "m", "Security key");
	dn_is("{model}", "", "Security key");
	/* no truncation here: webauthn_body() cuts to 30 */
	dn_is("{upn} {upn}", "m", "john@contoso.com john@contoso.com");
	assert_int_equal(webauthn_display_name("{nope}", NULL, NULL, NULL,
	    NULL, NULL, NULL, &s), WEBAUTHN_ERR_ARG);
	assert_null(s);
	assert_int_equal(webauthn_display_name("{model", NULL, NULL, NULL,
	    NULL, NULL, NULL, &s), WEBAUTHN_ERR_ARG);
	assert_int_equal(webauthn_display_name("{}", NULL, NULL, NULL,
	    NULL, NULL, NULL, &s), WEBAUTHN_ERR_ARG);
	assert_int_equal(webauthn_display_name("{Model}", NULL, NULL, NULL,
	    NULL, NULL, NULL, &s), WEBAUTHN_ERR_ARG);
	assert_int_equal(webauthn_display_name(NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL), WEBAUTHN_ERR_ARG);
	/* no date given: today, UTC */
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&t));
	assert_int_equal(webauthn_display_name("{date}", NULL, NULL, NULL,
	    NULL, NULL, NULL, &s), WEBAUTHN_OK);
	assert_string_equal(s, date);
	free(s);
}

static void
cut_is(const char *in, size_t max, const char *want)
{
	char *s = strdup(in);

	assert_non_null(s);
	webauthn_truncate_utf8(s, max);
	assert_string_equal(s, want);
	free(s);
}

static void
test_truncate(void **state)
{
	(void)state;
	cut_is("Security key 2026-04-20 YubiKey 5", 30,
	    "Security key 2026-04-20 YubiKe");
	cut_is("exactly thirty characters long", 30,
	    "exactly thirty characters long");
	cut_is("short", 30, "short");
	cut_is("", 30, "");
	/* cut before a trailing blank leaves none */
	cut_is("abc def", 4, "abc");
	/* two-byte characters count once */
	cut_is("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3,
	    "\xc3\xa9\xc3\xa9\xc3\xa9");
	/* three-byte characters count once */
	cut_is("\xe2\x82\xac\xe2\x82\xac", 1, "\xe2\x82\xac");
	/* four-byte characters are two UTF-16 units: never half of one */
	cut_is("a\xf0\x9f\x94\x91\xf0\x9f\x94\x91", 4, "a\xf0\x9f\x94\x91");
	cut_is("a\xf0\x9f\x94\x91", 2, "a");
	cut_is("ab", 0, "");
	webauthn_truncate_utf8(NULL, 3);
}

static void
test_body_display_name(void **state)
{
	static const unsigned char id[] = { 1, 2, 3 };
	char	*b;
	json_t	*j;

	(void)state;
	/* 40 ASCII characters: 30 go out */
	assert_int_equal(webauthn_body_raw(id, sizeof(id),
	    (const unsigned char *)"{}", 2, (const unsigned char *)"\xa0", 1,
	    "0123456789012345678901234567890123456789", &b), WEBAUTHN_OK);
	assert_non_null(j = json_loads(b, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(j,
	    "displayName")), "012345678901234567890123456789");
	json_decref(j);
	free(b);
	/* 20 keys emoji: 15 fit in 30 UTF-16 units */
	assert_int_equal(webauthn_body_raw(id, sizeof(id),
	    (const unsigned char *)"{}", 2, (const unsigned char *)"\xa0", 1,
	    "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"
	    "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"
	    "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"
	    "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91"
	    "\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91\xf0\x9f\x94\x91",
	    &b), WEBAUTHN_OK);
	assert_non_null(j = json_loads(b, 0, NULL));
	assert_int_equal(strlen(json_string_value(json_object_get(j,
	    "displayName"))), 15 * 4);
	json_decref(j);
	free(b);
	/* nothing usable: a default, never an empty name */
	assert_int_equal(webauthn_body_raw(id, sizeof(id),
	    (const unsigned char *)"{}", 2, (const unsigned char *)"\xa0", 1,
	    " \t ", &b), WEBAUTHN_OK);
	assert_non_null(strstr(b, "\"displayName\":\"Security key\""));
	free(b);
	assert_int_equal(webauthn_body_raw(id, sizeof(id),
	    (const unsigned char *)"{}", 2, (const unsigned char *)"\xa0", 1,
	    NULL, &b), WEBAUTHN_OK);
	assert_non_null(strstr(b, "\"displayName\":\"Security key\""));
	free(b);
	/* quotes and backslashes are escaped by the JSON encoder */
	assert_int_equal(webauthn_body_raw(id, sizeof(id),
	    (const unsigned char *)"{}", 2, (const unsigned char *)"\xa0", 1,
	    "a\"b\\c", &b), WEBAUTHN_OK);
	assert_non_null(strstr(b, "\"displayName\":\"a\\\"b\\\\c\""));
	free(b);
	assert_int_equal(webauthn_body_raw(NULL, 0, (const unsigned char *)
	    "{}", 2, (const unsigned char *)"\xa0", 1, "k", &b),
	    WEBAUTHN_ERR_ARG);
	assert_null(b);
}

/*
 * The body is written without jansson's encoder where nothing needs
 * escaping: it must still be, byte for byte, what jansson writes.
 */
static void
test_body_is_jansson(void **state)
{
	static const char *names[] = { "YubiKey 5 NFC", "a\"b\\c", "</x>",
	    "Zo\xc3\xab \xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x94\x91 key",
	    "del\x7f", "{\"x\":1}", "\xff bad" };
	unsigned char	 cd[3000], att[700], id[64];
	size_t		 i;
	json_t		*j;
	char		*b, *again;

	(void)state;
	/* every byte value, so the base64url covers its whole alphabet */
	for (i = 0; i < sizeof(cd); i++)
		cd[i] = (unsigned char)(i * 7);
	for (i = 0; i < sizeof(att); i++)
		att[i] = (unsigned char)(255 - i);
	for (i = 0; i < sizeof(id); i++)
		id[i] = (unsigned char)(i * 13);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(webauthn_body_raw(id, sizeof(id), cd,
		    sizeof(cd), att, sizeof(att), names[i], &b), WEBAUTHN_OK);
		assert_non_null(j = json_loads(b, JSON_REJECT_DUPLICATES,
		    NULL));
		assert_non_null(again = json_dumps(j, JSON_COMPACT |
		    JSON_PRESERVE_ORDER));
		assert_string_equal(b, again);
		assert_non_null(json_object_get(json_object_get(j,
		    "publicKeyCredential"), "clientExtensionResults"));
		free(again);
		json_decref(j);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_attestation),
		cmocka_unit_test(test_body_shape),
		cmocka_unit_test(test_verify_body_ok),
		cmocka_unit_test(test_verify_body_mismatch),
		cmocka_unit_test(test_verify_body_clientdata),
		cmocka_unit_test(test_verify_body_malformed),
		cmocka_unit_test(test_attobj_none),
		cmocka_unit_test(test_verify_formats),
		cmocka_unit_test(test_display_name),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_body_display_name),
		cmocka_unit_test(test_body_is_jansson),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
