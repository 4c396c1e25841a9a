/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The registration output: attestationObject checks (ctap_attobj_verify),
 * the "none" relabelling, the fido2Methods POST body, our own body
 * verifier, and display names.  Attestations are made here with OpenSSL
 * and libcbor (packed self attestation), independent of any key.
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

#define RPID		"login.microsoft.com"
#define CHALLENGE	"ZXlKaGJHY2lPaUpTVTBFdFQwRkZVQzB5TlRZaUxDSmxibU1pT2lK"
#define F_UP		0x01
#define F_UV		0x04
#define F_AT		0x40
#define F_ED		0x80

static const char options_json[] =
    "{\"challengeTimeoutDateTime\":\"2024-06-13T11:26:35Z\",\"publicKey\":{"
    "\"rp\":{\"id\":\"" RPID "\",\"name\":\"Microsoft\"},"
    "\"user\":{\"id\":\"T0Y6bXlzZWxm\",\"name\":\"john@contoso.com\","
    "\"displayName\":\"John Doe\"},"
    "\"challenge\":\"" CHALLENGE "\","
    "\"pubKeyCredParams\":[{\"type\":\"public-key\",\"alg\":-7}],"
    "\"authenticatorSelection\":{\"requireResidentKey\":true,"
    "\"userVerification\":\"required\"},"
    "\"extensions\":{\"hmacCreateSecret\":true,"
    "\"enforceCredentialProtectionPolicy\":true,"
    "\"credentialProtectionPolicy\":\"userVerificationOptional\"}}}";

struct att {
	webauthn_options_t	*o;
	EVP_PKEY		*key;
	unsigned char		 id[32];
	char			*cd;
	size_t			 cdlen;
	unsigned char		*ad;
	size_t			 adlen;
	unsigned char		*obj;
	size_t			 objlen;
	char			*body;
};

static unsigned char *
cbor_bytes(cbor_item_t *item, size_t *len)
{
	unsigned char	*buf = NULL;
	size_t		 sz;

	assert_true((*len = cbor_serialize_alloc(item, &buf, &sz)) > 0);
	cbor_decref(&item);

	return (buf);
}

static void
map_put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	assert_non_null(k);
	assert_non_null(v);
	assert_true(cbor_map_add(m, (struct cbor_pair){ .key = k,
	    .value = v }));
	cbor_decref(&k);
	cbor_decref(&v);
}

static cbor_item_t *
cbor_int(int v)
{
	return (v >= 0 ? cbor_build_uint8((uint8_t)v) :
	    cbor_build_negint8((uint8_t)(-1 - v)));
}

/* authData: rpIdHash flags counter aaguid L credId COSE-key [ext] */
static void
make_authdata(struct att *a, const char *rp_id, uint8_t flags, int prot,
    bool hmac)
{
	unsigned char	 pub[65], h[32], *cose, *ext = NULL;
	size_t		 publen, coselen, extlen = 0, off;
	unsigned int	 hlen = sizeof(h);
	cbor_item_t	*m;

	assert_int_equal(EVP_PKEY_get_octet_string_param(a->key,
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &publen), 1);
	assert_int_equal(publen, 65);
	assert_non_null(m = cbor_new_definite_map(5));
	map_put(m, cbor_int(1), cbor_int(2));
	map_put(m, cbor_int(3), cbor_int(-7));
	map_put(m, cbor_int(-1), cbor_int(1));
	map_put(m, cbor_int(-2), cbor_build_bytestring(pub + 1, 32));
	map_put(m, cbor_int(-3), cbor_build_bytestring(pub + 33, 32));
	cose = cbor_bytes(m, &coselen);
	if (flags & F_ED) {
		assert_non_null(m = cbor_new_definite_map((prot ? 1 : 0) +
		    (hmac ? 1 : 0)));
		/* canonical: same length, so bytewise */
		if (prot)
			map_put(m, cbor_build_string("credProtect"),
			    cbor_int(prot));
		if (hmac)
			map_put(m, cbor_build_string("hmac-secret"),
			    cbor_build_bool(true));
		ext = cbor_bytes(m, &extlen);
	}
	a->adlen = 32 + 1 + 4 + 16 + 2 + sizeof(a->id) + coselen + extlen;
	assert_non_null(a->ad = calloc(1, a->adlen));
	assert_int_equal(EVP_Digest(rp_id, strlen(rp_id), h, &hlen,
	    EVP_sha256(), NULL), 1);
	memcpy(a->ad, h, 32);
	a->ad[32] = flags;
	a->ad[36] = 7;			/* counter */
	memset(a->ad + 37, 0xa5, 16);	/* aaguid */
	a->ad[53] = 0;
	a->ad[54] = sizeof(a->id);
	off = 55;
	memcpy(a->ad + off, a->id, sizeof(a->id));
	off += sizeof(a->id);
	memcpy(a->ad + off, cose, coselen);
	off += coselen;
	if (extlen)
		memcpy(a->ad + off, ext, extlen);
	free(cose);
	free(ext);
}

/* packed self attestation over authData || SHA-256(clientDataJSON) */
static void
make_attobj(struct att *a)
{
	unsigned char	*msg, sig[80], h[32];
	unsigned int	 hlen = sizeof(h);
	size_t		 siglen = sizeof(sig);
	EVP_MD_CTX	*ctx;
	cbor_item_t	*m, *st;

	assert_int_equal(EVP_Digest(a->cd, a->cdlen, h, &hlen, EVP_sha256(),
	    NULL), 1);
	assert_non_null(msg = malloc(a->adlen + 32));
	memcpy(msg, a->ad, a->adlen);
	memcpy(msg + a->adlen, h, 32);
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    a->key), 1);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, msg,
	    a->adlen + 32), 1);
	EVP_MD_CTX_free(ctx);
	free(msg);
	assert_non_null(st = cbor_new_definite_map(2));
	map_put(st, cbor_build_string("alg"), cbor_int(-7));
	map_put(st, cbor_build_string("sig"), cbor_build_bytestring(sig,
	    siglen));
	assert_non_null(m = cbor_new_definite_map(3));
	map_put(m, cbor_build_string("fmt"), cbor_build_string("packed"));
	map_put(m, cbor_build_string("attStmt"), st);
	map_put(m, cbor_build_string("authData"),
	    cbor_build_bytestring(a->ad, a->adlen));
	free(a->obj);
	a->obj = cbor_bytes(m, &a->objlen);
}

static void
att_free(struct att *a)
{
	webauthn_options_free(&a->o);
	EVP_PKEY_free(a->key);
	free(a->cd);
	free(a->ad);
	free(a->obj);
	free(a->body);
	memset(a, 0, sizeof(*a));
}

static void
att_make(struct att *a, const char *json, uint8_t flags, int prot, bool hmac)
{
	char	err[256];
	size_t	i;

	memset(a, 0, sizeof(*a));
	if (webauthn_options_parse(json, strlen(json), &a->o, err,
	    sizeof(err)) != WEBAUTHN_OK)
		fail_msg("%s", err);
	assert_non_null(a->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
	    "P-256"));
	for (i = 0; i < sizeof(a->id); i++)
		a->id[i] = (unsigned char)(0xc0 + i);
	assert_int_equal(webauthn_clientdata(a->o, &a->cd, &a->cdlen),
	    WEBAUTHN_OK);
	make_authdata(a, webauthn_options_rp_id(a->o), flags, prot, hmac);
	make_attobj(a);
	assert_int_equal(webauthn_body_raw(a->id, sizeof(a->id),
	    (unsigned char *)a->cd, a->cdlen, a->obj, a->objlen,
	    "YubiKey 5 NFC", &a->body), WEBAUTHN_OK);
}

/* a body with every piece given as a string; NULL leaves it out */
static char *
body_of(const char *dn, const char *id, const char *cd, const char *obj,
    const char *extra_key)
{
	json_t	*b, *pkc, *resp;
	char	*s;

	b = json_object();
	pkc = json_object();
	resp = json_object();
	if (dn != NULL)
		json_object_set_new(b, "displayName", json_string(dn));
	if (extra_key != NULL)
		json_object_set_new(b, extra_key, json_string("x"));
	if (id != NULL)
		json_object_set_new(pkc, "id", json_string(id));
	if (cd != NULL)
		json_object_set_new(resp, "clientDataJSON", json_string(cd));
	if (obj != NULL)
		json_object_set_new(resp, "attestationObject",
		    json_string(obj));
	json_object_set_new(pkc, "response", resp);
	json_object_set_new(pkc, "clientExtensionResults", json_object());
	json_object_set_new(b, "publicKeyCredential", pkc);
	assert_non_null(s = json_dumps(b, JSON_COMPACT));
	json_decref(b);

	return (s);
}

static char *
enc(const void *p, size_t len)
{
	char *s;

	assert_int_equal(b64url_encode(p, len, &s), 0);

	return (s);
}

static void
verify_fails(const webauthn_options_t *o, const char *body, int want,
    const char *words)
{
	char	err[256], *fmt = (char *)"x";
	int	r;

	r = webauthn_verify_body(o, body, strlen(body), &fmt, err,
	    sizeof(err));
	if (r != want)
		fail_msg("got %d (%s), want %d", r, err, want);
	assert_null(fmt);
	if (strstr(err, words) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err, words);
}

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
	/* canonical order: fmt, attStmt, authData */
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
		cmocka_unit_test(test_display_name),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_body_display_name),
	};

	ctap_init();

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
