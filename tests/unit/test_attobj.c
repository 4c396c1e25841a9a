/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The registration output: the attestationObject codec (ctap_attobj_*:
 * round trip, canonical order, every rule of the parser), its checks
 * (ctap_attobj_verify), the "none" relabelling, the fido2Methods POST
 * body, our own body verifier, and display names.  Attestations are made
 * here with OpenSSL and libcbor (packed self attestation), independent
 * of any key and of the codec under test.
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

/* an attestationObject from n (key, value) pairs, in the order given */
static unsigned char *
obj_of(size_t *len, size_t n, ...)
{
	va_list		 ap;
	cbor_item_t	*m, *k, *v;
	size_t		 i;

	assert_non_null(m = cbor_new_definite_map(n));
	va_start(ap, n);
	for (i = 0; i < n; i++) {
		k = va_arg(ap, cbor_item_t *);
		v = va_arg(ap, cbor_item_t *);
		map_put(m, k, v);
	}
	va_end(ap);

	return (cbor_bytes(m, len));
}

static void
parse_is(const unsigned char *p, size_t len, int want)
{
	ctap_attobj_t *ao;

	assert_non_null(ao = ctap_attobj_new());
	if (ctap_attobj_parse(ao, p, len) != want)
		fail_msg("parse of %zu bytes: want %d", len, want);
	if (want != CTAP_OK) {
		/* a failed parse leaves nothing behind */
		assert_null(ctap_attobj_fmt(ao));
		assert_null(ctap_attobj_stmt_ptr(ao));
		assert_null(ctap_attobj_authdata_ptr(ao));
		assert_int_equal(ctap_attobj_authdata_len(ao), 0);
	}
	ctap_attobj_free(&ao);
	assert_null(ao);
}

/* a malformed object from pairs; the pairs are consumed */
#define REJECT(n, ...)	do {						\
	unsigned char	*p_;						\
	size_t		 l_;						\
									\
	p_ = obj_of(&l_, n, __VA_ARGS__);				\
	parse_is(p_, l_, CTAP_ERR_PROTOCOL);				\
	free(p_);							\
} while (0)

/* parse, then encode the parsed pieces: want exactly `want` */
static void
reencode_is(const unsigned char *in, size_t inlen, const unsigned char *want,
    size_t wantlen)
{
	ctap_attobj_t	*ao;
	unsigned char	*out;
	size_t		 outlen;

	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, in, inlen), CTAP_OK);
	assert_int_equal(ctap_attobj_encode(ctap_attobj_fmt(ao),
	    ctap_attobj_stmt_ptr(ao), ctap_attobj_stmt_len(ao),
	    ctap_attobj_authdata_ptr(ao), ctap_attobj_authdata_len(ao), &out,
	    &outlen), CTAP_OK);
	assert_int_equal(outlen, wantlen);
	assert_memory_equal(out, want, wantlen);
	free(out);
	ctap_attobj_free(&ao);
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

/* encode, parse, encode again: the same bytes, in canonical order */
static void
test_codec_roundtrip(void **state)
{
	static const unsigned char head[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x66, 'p', 'a', 'c', 'k', 'e', 'd',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't',
	};
	struct att	 a;
	ctap_attobj_t	*ao;
	unsigned char	*stmt, *out, ad[300];
	size_t		 stmtlen, outlen, off;
	cbor_item_t	*st;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_non_null(st = cbor_new_definite_map(2));
	map_put(st, cbor_build_string("alg"), cbor_int(-7));
	map_put(st, cbor_build_string("sig"), cbor_build_bytestring(a.id,
	    sizeof(a.id)));
	stmt = cbor_bytes(st, &stmtlen);
	assert_int_equal(ctap_attobj_encode("packed", stmt, stmtlen, a.ad,
	    a.adlen, &out, &outlen), CTAP_OK);
	/* fmt, attStmt as given, authData under a shortest head */
	assert_true(a.adlen >= 24 && a.adlen < 256);
	assert_int_equal(outlen, sizeof(head) + stmtlen + 9 + 2 + a.adlen);
	off = 0;
	assert_memory_equal(out, head, sizeof(head));
	off += sizeof(head);
	assert_memory_equal(out + off, stmt, stmtlen);
	off += stmtlen;
	assert_memory_equal(out + off, "\x68" "authData" "\x58", 10);
	off += 10;
	assert_int_equal(out[off++], a.adlen);
	assert_memory_equal(out + off, a.ad, a.adlen);
	/* the parser gives back every piece */
	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, out, outlen), CTAP_OK);
	assert_string_equal(ctap_attobj_fmt(ao), "packed");
	assert_int_equal(ctap_attobj_stmt_len(ao), stmtlen);
	assert_memory_equal(ctap_attobj_stmt_ptr(ao), stmt, stmtlen);
	assert_int_equal(ctap_attobj_authdata_len(ao), a.adlen);
	assert_memory_equal(ctap_attobj_authdata_ptr(ao), a.ad, a.adlen);
	assert_int_equal(ctap_attobj_cred_id_len(ao), sizeof(a.id));
	assert_memory_equal(ctap_attobj_cred_id_ptr(ao), a.id, sizeof(a.id));
	/* a second parse replaces the first */
	assert_int_equal(ctap_attobj_parse(ao, a.obj, a.objlen), CTAP_OK);
	assert_int_equal(ctap_attobj_parse(ao, out, outlen - 1),
	    CTAP_ERR_PROTOCOL);
	assert_null(ctap_attobj_fmt(ao));
	ctap_attobj_free(&ao);
	ctap_attobj_free(&ao);
	ctap_attobj_free(NULL);
	reencode_is(out, outlen, out, outlen);
	free(out);
	free(stmt);
	/* no statement: {} */
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    &out, &outlen), CTAP_OK);
	assert_memory_equal(out, "\xa3\x63" "fmt" "\x64" "none" "\x67"
	    "attStmt" "\xa0", 19);
	reencode_is(out, outlen, out, outlen);
	free(out);
	/* 256 bytes and more: a two-byte length; the codec does not read
	 * authData beyond its fixed part */
	memset(ad, 0x5a, sizeof(ad));
	assert_int_equal(ctap_attobj_encode("x.example-fmt", NULL, 0, ad,
	    sizeof(ad), &out, &outlen), CTAP_OK);
	assert_int_equal(outlen, 1 + 4 + 14 + 8 + 1 + 9 + 3 + sizeof(ad));
	assert_memory_equal(out + outlen - sizeof(ad) - 3, "\x59\x01\x2c", 3);
	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, out, outlen), CTAP_OK);
	/* 0x5a has no AT flag: no attested credential */
	assert_null(ctap_attobj_cred_id_ptr(ao));
	assert_int_equal(ctap_attobj_cred_id_len(ao), 0);
	ctap_attobj_free(&ao);
	free(out);
	att_free(&a);
}

/* any key order is read; ours is canonical */
static void
test_codec_order(void **state)
{
	struct att	 a;
	unsigned char	*p, *q;
	size_t		 plen, qlen;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	p = obj_of(&plen, 3, cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen), cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0));
	q = obj_of(&qlen, 3, cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen));
	assert_int_equal(plen, qlen);
	assert_memory_not_equal(p, q, plen);
	reencode_is(p, plen, q, qlen);
	reencode_is(q, qlen, q, qlen);
	/* and it is the same registration to the verifier */
	assert_int_equal(ctap_attobj_verify(p, plen, (unsigned char *)a.cd,
	    a.cdlen, RPID, true, 1, true, NULL), CTAP_OK);
	free(p);
	free(q);
	att_free(&a);
}

/* every rule of the parser, one at a time */
static void
test_codec_reject(void **state)
{
	/* counts no 8 KiB input can hold: cbor_load would allocate them */
	static const unsigned char huge_top[] = {
		0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x63, 'f', 'm', 't',
	};
	static const unsigned char huge_stmt[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't',
		0xa1, 0x61, 'x', 0x9b, 0, 0, 0, 0x10, 0, 0, 0, 0,
	};
	static const unsigned char huge_map[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't',
		0xbb, 0, 0, 0, 0x10, 0, 0, 0, 0, 0xa0,
	};
	struct att	 a;
	unsigned char	*p, *big;
	size_t		 len;
	cbor_item_t	*m;
	ctap_attobj_t	*ao;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	parse_is(a.obj, a.objlen, CTAP_OK);
	/* size, CBOR, nothing trailing */
	parse_is(a.obj, 0, CTAP_ERR_PROTOCOL);
	parse_is(a.obj, a.objlen - 1, CTAP_ERR_PROTOCOL);
	parse_is((const unsigned char *)"\xff", 1, CTAP_ERR_PROTOCOL);
	parse_is((const unsigned char *)"\x1c", 1, CTAP_ERR_PROTOCOL);
	assert_non_null(p = malloc(a.objlen + 1));
	memcpy(p, a.obj, a.objlen);
	p[a.objlen] = 0x00;
	parse_is(p, a.objlen + 1, CTAP_ERR_PROTOCOL);
	free(p);
	assert_non_null(big = calloc(1, CTAP_ATTOBJ_MAX));
	memcpy(big, a.ad, a.adlen);
	p = obj_of(&len, 3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(big,
	    CTAP_ATTOBJ_MAX - 31));
	assert_int_equal(len, CTAP_ATTOBJ_MAX);
	parse_is(p, len, CTAP_OK);
	free(p);
	p = obj_of(&len, 3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(big,
	    CTAP_ATTOBJ_MAX - 30));
	assert_int_equal(len, CTAP_ATTOBJ_MAX + 1);
	parse_is(p, len, CTAP_ERR_PROTOCOL);
	free(p);
	parse_is(huge_top, sizeof(huge_top), CTAP_ERR_PROTOCOL);
	parse_is(huge_stmt, sizeof(huge_stmt), CTAP_ERR_PROTOCOL);
	parse_is(huge_map, sizeof(huge_map), CTAP_ERR_PROTOCOL);
	/* a definite map of exactly the three keys, each once */
	parse_is((const unsigned char *)"\xa0", 1, CTAP_ERR_PROTOCOL);
	parse_is((const unsigned char *)"\x83\x01\x02\x03", 4,
	    CTAP_ERR_PROTOCOL);
	assert_non_null(m = cbor_new_indefinite_map());
	map_put(m, cbor_build_string("fmt"), cbor_build_string("none"));
	map_put(m, cbor_build_string("attStmt"), cbor_new_definite_map(0));
	map_put(m, cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	p = cbor_bytes(m, &len);
	assert_int_equal(p[0], 0xbf);
	parse_is(p, len, CTAP_ERR_PROTOCOL);
	free(p);
	REJECT(2, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(4, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen), cbor_build_string("ep"), cbor_build_bool(true));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authdata"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(3, cbor_build_bytestring((const unsigned char *)"fmt", 3),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen));
	REJECT(3, cbor_int(1), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	/* fmt: 1..32 printable ASCII but '"' and '\' */
#define BAD_FMT(v)							\
	REJECT(3, cbor_build_string("fmt"), (v),			\
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),	\
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,	\
	    a.adlen))
	BAD_FMT(cbor_int(7));
	BAD_FMT(cbor_build_bytestring((const unsigned char *)"none", 4));
	BAD_FMT(cbor_build_string(""));
	BAD_FMT(cbor_build_string("0123456789abcdef0123456789abcdefX"));
	BAD_FMT(cbor_build_string("pac ked"));
	BAD_FMT(cbor_build_string("pa\"cked"));
	BAD_FMT(cbor_build_string("pa\\cked"));
	BAD_FMT(cbor_build_string("pa\x7f" "cked"));
	BAD_FMT(cbor_build_stringn("no\0ne", 5));
	BAD_FMT(cbor_build_string("n\xc3\xb6ne"));
#undef BAD_FMT
	p = obj_of(&len, 3, cbor_build_string("fmt"),
	    cbor_build_string("0123456789abcdef0123456789abcdef"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	parse_is(p, len, CTAP_OK);
	free(p);
	/* attStmt: a definite map */
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_array(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_indefinite_map(),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	/* authData: a definite byte string of at least 37 bytes */
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_string("x"));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    CTAP_AUTHDATA_MIN - 1));
	p = obj_of(&len, 3, cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, CTAP_AUTHDATA_MIN));
	parse_is(p, len, CTAP_OK);
	free(p);
	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, NULL, 1), CTAP_ERR_ARG);
	assert_int_equal(ctap_attobj_parse(NULL, a.obj, a.objlen),
	    CTAP_ERR_ARG);
	ctap_attobj_free(&ao);
	free(big);
	att_free(&a);
}

/* the encoder holds its pieces to the parser's rules */
static void
test_codec_encode_reject(void **state)
{
	struct att	 a;
	unsigned char	*out = (unsigned char *)"x", *big;
	size_t		 outlen = 1;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
#define ENC(f, s, sl, ad, adl)						\
	ctap_attobj_encode((f), (const unsigned char *)(s), (sl), (ad),	\
	    (adl), &out, &outlen)
	assert_int_equal(ENC(NULL, NULL, 0, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_null(out);
	assert_int_equal(outlen, 0);
	assert_int_equal(ENC("", NULL, 0, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("pa\"cked", NULL, 0, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("0123456789abcdef0123456789abcdefX", NULL, 0,
	    a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 1, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\x80", 1, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xa0\x00", 2, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xbf\xff", 2, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xa1\x61", 2, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xa0", 0, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 0, NULL, 0), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 0, a.ad, CTAP_AUTHDATA_MIN - 1),
	    CTAP_ERR_ARG);
	/* nothing comes out that the parser would refuse: too large */
	assert_non_null(big = calloc(1, CTAP_ATTOBJ_MAX));
	assert_int_equal(ENC("none", NULL, 0, big, CTAP_ATTOBJ_MAX - 30),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 0, big, CTAP_ATTOBJ_MAX - 31),
	    CTAP_OK);
	assert_int_equal(outlen, CTAP_ATTOBJ_MAX);
	free(out);
#undef ENC
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    NULL, &outlen), CTAP_ERR_ARG);
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    &out, NULL), CTAP_ERR_ARG);
	assert_null(out);
	free(big);
	att_free(&a);
}

/* the credential id inside authData, as the body check reads it */
static void
test_codec_cred_id(void **state)
{
	/* L = 0; L past the end; L = 1024 (WebAuthn allows 1023); no AT */
	static const struct {
		uint8_t	flags;
		size_t	idlen;
		size_t	extra;	/* bytes after our authData */
	} bad[] = {
		{ F_UP | F_AT, 0, 0 },
		{ F_UP | F_AT, 500, 0 },
		{ F_UP | F_AT, 1024, 1024 },
		{ F_UP, 32, 0 },
	};
	struct att	 a;
	ctap_attobj_t	*ao;
	unsigned char	*ad, *obj;
	size_t		 len, i;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_non_null(ao = ctap_attobj_new());
	assert_non_null(ad = malloc(a.adlen + 1024));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(ad, 0, a.adlen + 1024);
		memcpy(ad, a.ad, a.adlen);
		ad[32] = bad[i].flags;
		ad[53] = (unsigned char)(bad[i].idlen >> 8);
		ad[54] = (unsigned char)bad[i].idlen;
		assert_int_equal(ctap_attobj_encode("none", NULL, 0, ad,
		    a.adlen + bad[i].extra, &obj, &len), CTAP_OK);
		assert_int_equal(ctap_attobj_parse(ao, obj, len), CTAP_OK);
		assert_null(ctap_attobj_cred_id_ptr(ao));
		assert_int_equal(ctap_attobj_cred_id_len(ao), 0);
		free(obj);
	}
	/* 1023 bytes is fine */
	ad[32] = F_UP | F_AT;
	ad[53] = 0x03;
	ad[54] = 0xff;
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, ad,
	    a.adlen + 1024, &obj, &len), CTAP_OK);
	assert_int_equal(ctap_attobj_parse(ao, obj, len), CTAP_OK);
	assert_int_equal(ctap_attobj_cred_id_len(ao), 1023);
	assert_ptr_equal(ctap_attobj_cred_id_ptr(ao),
	    ctap_attobj_authdata_ptr(ao) + 55);
	free(obj);
	free(ad);
	ctap_attobj_free(&ao);
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
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_order),
		cmocka_unit_test(test_codec_reject),
		cmocka_unit_test(test_codec_encode_reject),
		cmocka_unit_test(test_codec_cred_id),
		cmocka_unit_test(test_verify_formats),
		cmocka_unit_test(test_display_name),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_body_display_name),
	};

	ctap_init();

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
