/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Attestation fixtures for the registration tests (see attfix.h).
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

const char options_json[] =
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


unsigned char *
cbor_bytes(cbor_item_t *item, size_t *len)
{
	unsigned char	*buf = NULL;
	size_t		 sz;

	assert_true((*len = cbor_serialize_alloc(item, &buf, &sz)) > 0);
	cbor_decref(&item);

	return (buf);
}

void
map_put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	assert_non_null(k);
	assert_non_null(v);
	assert_true(cbor_map_add(m, (struct cbor_pair){ .key = k,
	    .value = v }));
	cbor_decref(&k);
	cbor_decref(&v);
}

cbor_item_t *
cbor_int(int v)
{
	return (v >= 0 ? cbor_build_uint8((uint8_t)v) :
	    cbor_build_negint8((uint8_t)(-1 - v)));
}

/* authData: rpIdHash flags counter aaguid L credId COSE-key [ext] */
void
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
void
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

void
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

void
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
char *
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

char *
enc(const void *p, size_t len)
{
	char *s;

	assert_int_equal(b64url_encode(p, len, &s), 0);

	return (s);
}

void
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
unsigned char *
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

/* parse, then encode the parsed pieces: want exactly `want` */
void
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
