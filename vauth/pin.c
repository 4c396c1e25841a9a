/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * authenticatorClientPIN (0x06), PIN/UV auth protocols 1 and 2, and the
 * pinUvAuthToken with its permissions.
 *
 * Protocol 1: shared = SHA-256(Z); AES-256-CBC with IV 0;
 *             authenticate = HMAC-SHA-256(key, m)[0:16].
 * Protocol 2: shared = HKDF(Z, "CTAP2 HMAC key") || HKDF(Z, "CTAP2 AES key");
 *             encrypt = IV || AES-256-CBC(aes key, IV);
 *             authenticate = HMAC-SHA-256(hmac key, m).
 *
 * "Power cycle" state (the key agreement key, the token, the count of
 * consecutive wrong PINs) lives in memory only; the daemon resets the
 * consecutive-mismatch counter when a client reconnects.
 */

#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define SUB_GET_RETRIES		0x01
#define SUB_GET_KEY_AGREEMENT	0x02
#define SUB_SET_PIN		0x03
#define SUB_CHANGE_PIN		0x04
#define SUB_GET_PIN_TOKEN	0x05
#define SUB_GET_UV_TOKEN	0x06
#define SUB_GET_UV_RETRIES	0x07
#define SUB_GET_PIN_TOKEN_PERMS 0x09

#define COSE_ALG_ECDH_ES_HKDF_256 (-25)

size_t
pin_codepoints(const unsigned char *p, size_t n)
{
	size_t i, cp = 0;

	for (i = 0; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			cp++;

	return (cp);
}

void
pin_reset_token(vauth_t *v)
{
	(void)vc_random(v->token, sizeof(v->token));
	v->token_in_use = 0;
	v->token_perms = 0;
	free(v->token_rpid);
	v->token_rpid = NULL;
}

static int
regen_key_agreement(vauth_t *v)
{
	EVP_PKEY *k;

	if ((k = vc_p256_generate()) == NULL)
		return (-1);
	EVP_PKEY_free(v->ka_key);
	v->ka_key = k;

	return (0);
}

int
pin_power_up(vauth_t *v)
{
	pin_reset_token(v);
	v->pin_consecutive = 0;

	return (regen_key_agreement(v));
}

/* Set the PIN from its unpadded bytes (policy already checked). */
int
pin_set_hash(vauth_t *v, const unsigned char *pin, size_t len)
{
	unsigned char h[32];

	if (vc_sha256(pin, len, h) < 0)
		return (-1);
	memcpy(v->pin_hash, h, sizeof(v->pin_hash));
	explicit_bzero(h, sizeof(h));
	v->has_pin = 1;
	v->pin_codepoints = pin_codepoints(pin, len);
	v->pin_retries = PIN_RETRIES_MAX;
	v->pin_consecutive = 0;
	v->force_pin_change = 0;

	return (0);
}

static int
proto_ok(const vauth_t *v, uint64_t proto)
{
	return ((proto == 1 && (v->protocols & VAUTH_PROTO_1)) ||
	    (proto == 2 && (v->protocols & VAUTH_PROTO_2)));
}

static int
get_proto(const vauth_t *v, const cbor_item_t *in, int *proto)
{
	const cbor_item_t *it;
	uint64_t p;

	if ((it = cbu_get(in, 1)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_uint(it, &p) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (!proto_ok(v, p))
		return (CTAP1_ERR_INVALID_PARAMETER);
	*proto = (int)p;

	return (CTAP2_OK);
}

/* ECDH with the platform's COSE key, then the protocol's KDF. */
static int
shared_secret(vauth_t *v, int proto, const cbor_item_t *cose, unsigned char *ss)
{
	const unsigned char *x, *y;
	size_t xl, yl;
	EVP_PKEY *peer = NULL;
	unsigned char z[32];
	int64_t kty, crv;
	int r;

	if (cose == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (!cbor_isa_map(cose))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (cbu_get(cose, 1) == NULL || cbu_get(cose, -1) == NULL ||
	    cbu_get(cose, -2) == NULL || cbu_get(cose, -3) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_int(cbu_get(cose, 1), &kty) < 0 ||
	    cbu_as_int(cbu_get(cose, -1), &crv) < 0 ||
	    cbu_as_bytes(cbu_get(cose, -2), &x, &xl) < 0 ||
	    cbu_as_bytes(cbu_get(cose, -3), &y, &yl) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (kty != 2 || crv != 1 || xl != 32 || yl != 32 ||
	    (peer = vc_p256_from_pub(x, y)) == NULL)
		return (CTAP1_ERR_INVALID_PARAMETER);
	if (vc_ecdh(v->ka_key, peer, z) < 0) {
		r = CTAP1_ERR_INVALID_PARAMETER;
		goto fail;
	}
	if (proto == 1)
		r = vc_sha256(z, sizeof(z), ss);
	else
		r = vc_hkdf_sha256(z, sizeof(z), "CTAP2 HMAC key", ss, 32) <
			    0 ||
			vc_hkdf_sha256(z, sizeof(z), "CTAP2 AES key", ss + 32,
			    32) < 0 ?
		    -1 :
		    0;
	r = r < 0 ? CTAP1_ERR_OTHER : CTAP2_OK;
fail:
	explicit_bzero(z, sizeof(z));
	EVP_PKEY_free(peer);

	return (r);
}

/* authenticate(key, m1 || m2) == sig, key being 32 bytes */
static int
proto_verify(int proto, const unsigned char *key, const unsigned char *m1,
    size_t l1, const unsigned char *m2, size_t l2, const unsigned char *sig,
    size_t siglen)
{
	unsigned char *msg = NULL, mac[32];
	int ok = 0;

	if (siglen != (proto == 1 ? 16U : 32U))
		return (0);
	if (l1 > SIZE_MAX - l2 - 1 || (msg = malloc(l1 + l2 + 1)) == NULL)
		return (0);
	if (l1)
		memcpy(msg, m1, l1);
	if (l2)
		memcpy(msg + l1, m2, l2);
	if (vc_hmac_sha256(key, 32, msg, l1 + l2, mac) == 0)
		ok = vc_memeq(mac, sig, siglen);
	explicit_bzero(mac, sizeof(mac));
	free(msg);

	return (ok);
}

static int
proto_decrypt(int proto, const unsigned char *ss, const unsigned char *in,
    size_t len, unsigned char *out, size_t *outlen)
{
	static const unsigned char iv0[16];

	if (proto == 1) {
		if (len == 0 || len % 16 != 0 ||
		    vc_aes256_cbc(0, ss, iv0, in, len, out) < 0)
			return (-1);
		*outlen = len;
		return (0);
	}
	if (len <= 16 || (len - 16) % 16 != 0 ||
	    vc_aes256_cbc(0, ss + 32, in, in + 16, len - 16, out) < 0)
		return (-1);
	*outlen = len - 16;

	return (0);
}

static int
proto_encrypt(int proto, const unsigned char *ss, const unsigned char *in,
    size_t len, unsigned char *out, size_t *outlen)
{
	static const unsigned char iv0[16];

	if (proto == 1) {
		if (vc_aes256_cbc(1, ss, iv0, in, len, out) < 0)
			return (-1);
		*outlen = len;
		return (0);
	}
	if (vc_random(out, 16) < 0 ||
	    vc_aes256_cbc(1, ss + 32, out, in, len, out + 16) < 0)
		return (-1);
	*outlen = len + 16;

	return (0);
}

/*
 * Verify pinUvAuthParam = authenticate(token, m1 || m2). Returns a CTAP
 * status.
 */
int
pin_verify_token(vauth_t *v, int proto, const unsigned char *param, size_t plen,
    const unsigned char *m1, size_t l1, const unsigned char *m2, size_t l2)
{
	if (!v->token_in_use ||
	    !proto_verify(proto, v->token, m1, l1, m2, l2, param, plen)) {
		vlog(v, "pin: pinUvAuthParam does not verify");
		return (CTAP2_ERR_PIN_AUTH_INVALID);
	}

	return (CTAP2_OK);
}

/* The token must carry perm; bind it to rpid if it is not bound yet. */
int
pin_check_perm(vauth_t *v, int perm, const char *rpid)
{
	if ((v->token_perms & perm) == 0) {
		vlog(v, "pin: token lacks permission 0x%02x", perm);
		return (CTAP2_ERR_UNAUTHORIZED_PERM);
	}
	if (rpid == NULL)
		return (CTAP2_OK);
	if (v->token_rpid != NULL && strcmp(v->token_rpid, rpid) != 0) {
		vlog(v, "pin: token bound to another rpId");
		return (CTAP2_ERR_UNAUTHORIZED_PERM);
	}
	if (v->token_rpid == NULL && (v->token_rpid = strdup(rpid)) == NULL)
		return (CTAP1_ERR_OTHER);

	return (CTAP2_OK);
}

/* A wrong PIN: retries were already decremented. */
static int
wrong_pin(vauth_t *v)
{
	v->pin_consecutive++;
	(void)regen_key_agreement(v);
	vlog(v, "pin: wrong PIN, %d retries left, %d in a row", v->pin_retries,
	    v->pin_consecutive);
	if (v->pin_retries <= 0)
		return (CTAP2_ERR_PIN_BLOCKED);
	if (v->pin_consecutive >= 3)
		return (CTAP2_ERR_PIN_AUTH_BLOCKED);

	return (CTAP2_ERR_PIN_INVALID);
}

static int
pin_usable(const vauth_t *v)
{
	if (!v->has_pin)
		return (CTAP2_ERR_PIN_NOT_SET);
	if (v->pin_retries <= 0)
		return (CTAP2_ERR_PIN_BLOCKED);
	if (v->pin_consecutive >= 3)
		return (CTAP2_ERR_PIN_AUTH_BLOCKED);

	return (CTAP2_OK);
}

/*
 * Decrypt pinHashEnc, count the attempt and compare. Returns CTAP2_OK or the
 * wrong-PIN status. The retry counter is saved before the comparison.
 */
static int
check_pin_hash(vauth_t *v, int proto, const unsigned char *ss,
    const unsigned char *phe, size_t phelen)
{
	unsigned char hash[32];
	size_t len = 0;
	int r;

	if (phelen != (proto == 1 ? 16U : 32U) ||
	    proto_decrypt(proto, ss, phe, phelen, hash, &len) < 0 ||
	    len != 16) {
		r = CTAP1_ERR_INVALID_PARAMETER;
		goto fail;
	}
	v->pin_retries--;
	if (state_save(v) < 0) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	if (!vc_memeq(hash, v->pin_hash, 16)) {
		r = wrong_pin(v);
		goto fail;
	}
	v->pin_retries = PIN_RETRIES_MAX;
	v->pin_consecutive = 0;

	r = CTAP2_OK;
fail:
	explicit_bzero(hash, sizeof(hash));

	return (r);
}

/* Decrypt newPinEnc and apply the PIN policy; *pinlen is the PIN length. */
static int
decrypt_new_pin(vauth_t *v, int proto, const unsigned char *ss,
    const unsigned char *npe, size_t npelen, unsigned char *pin, size_t *pinlen)
{
	size_t len = 0, n;

	if (npelen != (proto == 1 ? 64U : 80U) ||
	    proto_decrypt(proto, ss, npe, npelen, pin, &len) < 0 || len != 64)
		return (CTAP1_ERR_INVALID_PARAMETER);
	n = strnlen((const char *)pin, 64);
	if (n < PIN_MIN_LEN || n > PIN_MAX_LEN ||
	    pin_codepoints(pin, n) < v->min_pin_len) {
		vlog(v,
		    "pin: new PIN violates the policy (%zu bytes, "
		    "minimum %zu code points)",
		    n, v->min_pin_len);
		return (CTAP2_ERR_PIN_POLICY_VIOLATION);
	}
	*pinlen = n;

	return (CTAP2_OK);
}

static int
pin_bytes(const cbor_item_t *in, int64_t key, const unsigned char **p,
    size_t *n)
{
	const cbor_item_t *it;

	if ((it = cbu_get(in, key)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_bytes(it, p, n) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);

	return (CTAP2_OK);
}

static int
set_pin(vauth_t *v, int proto, const cbor_item_t *in)
{
	const unsigned char *pa, *npe;
	size_t palen, npelen, pinlen = 0;
	unsigned char ss[64], pin[64];
	int r;

	if ((r = pin_bytes(in, 4, &pa, &palen)) != CTAP2_OK ||
	    (r = pin_bytes(in, 5, &npe, &npelen)) != CTAP2_OK)
		return (r);
	if (cbu_get(in, 3) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (v->has_pin)
		return (CTAP2_ERR_NOT_ALLOWED);
	if ((r = shared_secret(v, proto, cbu_get(in, 3), ss)) != CTAP2_OK)
		goto fail;
	if (!proto_verify(proto, ss, npe, npelen, NULL, 0, pa, palen)) {
		r = CTAP2_ERR_PIN_AUTH_INVALID;
		goto fail;
	}
	if ((r = decrypt_new_pin(v, proto, ss, npe, npelen, pin, &pinlen)) !=
	    CTAP2_OK)
		goto fail;
	if (pin_set_hash(v, pin, pinlen) < 0 || state_save(v) < 0) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	vlog(v, "pin: PIN set");

	r = CTAP2_OK;
fail:
	explicit_bzero(ss, sizeof(ss));
	explicit_bzero(pin, sizeof(pin));

	return (r);
}

static int
change_pin(vauth_t *v, int proto, const cbor_item_t *in)
{
	const unsigned char *pa, *npe, *phe;
	size_t palen, npelen, phelen, pinlen = 0;
	unsigned char ss[64], pin[64], h[32];
	int r;

	if ((r = pin_bytes(in, 4, &pa, &palen)) != CTAP2_OK ||
	    (r = pin_bytes(in, 5, &npe, &npelen)) != CTAP2_OK ||
	    (r = pin_bytes(in, 6, &phe, &phelen)) != CTAP2_OK)
		return (r);
	if (cbu_get(in, 3) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if ((r = pin_usable(v)) != CTAP2_OK)
		return (r);
	memset(h, 0, sizeof(h));
	if ((r = shared_secret(v, proto, cbu_get(in, 3), ss)) != CTAP2_OK)
		goto fail;
	if (!proto_verify(proto, ss, npe, npelen, phe, phelen, pa, palen)) {
		r = CTAP2_ERR_PIN_AUTH_INVALID;
		goto fail;
	}
	if ((r = check_pin_hash(v, proto, ss, phe, phelen)) != CTAP2_OK)
		goto save;
	if ((r = decrypt_new_pin(v, proto, ss, npe, npelen, pin, &pinlen)) !=
	    CTAP2_OK)
		goto save;
	if (vc_sha256(pin, pinlen, h) < 0) {
		r = CTAP1_ERR_OTHER;
		goto save;
	}
	if (v->force_pin_change && vc_memeq(h, v->pin_hash, 16)) {
		vlog(v, "pin: forced change to the same PIN refused");
		r = CTAP2_ERR_PIN_POLICY_VIOLATION;
		goto save;
	}
	if (pin_set_hash(v, pin, pinlen) < 0) {
		r = CTAP1_ERR_OTHER;
		goto save;
	}
	pin_reset_token(v);
	vlog(v, "pin: PIN changed");
	r = CTAP2_OK;
save:
	if (state_save(v) < 0 && r == CTAP2_OK)
		r = CTAP1_ERR_OTHER;
fail:
	explicit_bzero(ss, sizeof(ss));
	explicit_bzero(pin, sizeof(pin));
	explicit_bzero(h, sizeof(h));

	return (r);
}

static int
get_token(vauth_t *v, int proto, int sub, const cbor_item_t *in,
    cbor_item_t **out)
{
	const unsigned char *phe;
	const cbor_item_t *it;
	cbor_item_t *m = NULL;
	unsigned char ss[64], enc[48];
	size_t phelen, enclen = 0;
	uint64_t perms = PERM_MC | PERM_GA;
	char *rpid = NULL;
	int r;

	memset(enc, 0, sizeof(enc));
	memset(ss, 0, sizeof(ss));
	if ((r = pin_bytes(in, 6, &phe, &phelen)) != CTAP2_OK)
		return (r);
	if (cbu_get(in, 3) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (sub == SUB_GET_PIN_TOKEN) {
		if (cbu_get(in, 9) != NULL || cbu_get(in, 10) != NULL)
			return (CTAP1_ERR_INVALID_PARAMETER);
	} else {
		if ((it = cbu_get(in, 9)) == NULL)
			return (CTAP2_ERR_MISSING_PARAMETER);
		if (cbu_as_uint(it, &perms) < 0)
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if (perms == 0)
			return (CTAP1_ERR_INVALID_PARAMETER);
		if (perms &
		    ~(uint64_t)(PERM_MC | PERM_GA | PERM_CM | PERM_ACFG))
			return (CTAP2_ERR_UNAUTHORIZED_PERM);
		if ((it = cbu_get(in, 10)) != NULL &&
		    cbu_as_text(it, &rpid, VAUTH_MAX_RPID_LEN) < 0)
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if ((perms & (PERM_MC | PERM_GA)) && rpid == NULL)
			return (CTAP2_ERR_MISSING_PARAMETER);
	}
	if ((r = pin_usable(v)) != CTAP2_OK)
		goto fail;
	if ((r = shared_secret(v, proto, cbu_get(in, 3), ss)) != CTAP2_OK)
		goto fail;
	if ((r = check_pin_hash(v, proto, ss, phe, phelen)) != CTAP2_OK) {
		if (state_save(v) < 0)
			r = CTAP1_ERR_OTHER;
		goto fail;
	}
	if (state_save(v) < 0) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	if (v->force_pin_change) {
		vlog(v, "pin: forcePINChange is set; change the PIN first");
		r = CTAP2_ERR_PIN_POLICY_VIOLATION;
		goto fail;
	}
	pin_reset_token(v);
	v->token_in_use = 1;
	v->token_perms = (int)perms;
	v->token_rpid = rpid;
	rpid = NULL;
	if (proto_encrypt(proto, ss, v->token, sizeof(v->token), enc, &enclen) <
	    0) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	if ((m = cbu_map()) == NULL ||
	    cbu_put_int(m, 2, cbu_bytes(enc, enclen)) < 0) {
		r = CTAP1_ERR_OTHER;
		goto fail;
	}
	vlog(v, "pin: token issued, permissions 0x%02x%s%s", v->token_perms,
	    v->token_rpid ? ", rpId " : "", v->token_rpid ? v->token_rpid : "");
	*out = m;
	m = NULL;

	r = CTAP2_OK;
fail:
	explicit_bzero(ss, sizeof(ss));
	explicit_bzero(enc, sizeof(enc));
	free(rpid);
	if (m != NULL)
		cbor_decref(&m);

	return (r);
}

static int
key_agreement(vauth_t *v, cbor_item_t **out)
{
	cbor_item_t *m = NULL, *k = NULL;
	unsigned char x[32], y[32];

	if (vc_p256_pub(v->ka_key, x, y) < 0 ||
	    (k = cbu_cose_es256(x, y, COSE_ALG_ECDH_ES_HKDF_256)) == NULL ||
	    (m = cbu_map()) == NULL || cbu_put_intp(m, 1, &k) < 0) {
		if (m != NULL)
			cbor_decref(&m);
		if (k != NULL)
			cbor_decref(&k);
		return (CTAP1_ERR_OTHER);
	}
	*out = m;

	return (CTAP2_OK);
}

static int
retries(vauth_t *v, cbor_item_t **out)
{
	cbor_item_t *m;

	if ((m = cbu_map()) == NULL ||
	    cbu_put_int(m, 3,
		cbu_uint((uint64_t)(v->pin_retries > 0 ? v->pin_retries : 0))) <
		0 ||
	    cbu_put_int(m, 4, cbu_bool(v->pin_consecutive >= 3)) < 0) {
		if (m != NULL)
			cbor_decref(&m);
		return (CTAP1_ERR_OTHER);
	}
	*out = m;

	return (CTAP2_OK);
}

int
ctap2_client_pin(vauth_t *v, const cbor_item_t *in, cbor_item_t **out)
{
	const cbor_item_t *it;
	uint64_t sub;
	int proto = 0, r;

	if ((it = cbu_get(in, 2)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_uint(it, &sub) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);

	switch (sub) {
	case SUB_GET_RETRIES:
		/* libfido2 always sends protocol 1 here: do not check it */
		return (retries(v, out));
	case SUB_GET_UV_TOKEN:
	case SUB_GET_UV_RETRIES:
		return (CTAP2_ERR_UNSUPPORTED_OPTION); /* no built-in UV */
	case SUB_GET_KEY_AGREEMENT:
	case SUB_SET_PIN:
	case SUB_CHANGE_PIN:
	case SUB_GET_PIN_TOKEN:
	case SUB_GET_PIN_TOKEN_PERMS:
		break;
	default:
		return (CTAP2_ERR_INVALID_SUBCOMMAND);
	}
	if ((r = get_proto(v, in, &proto)) != CTAP2_OK)
		return (r);

	switch (sub) {
	case SUB_GET_KEY_AGREEMENT:
		return (key_agreement(v, out));
	case SUB_SET_PIN:
		return (set_pin(v, proto, in));
	case SUB_CHANGE_PIN:
		return (change_pin(v, proto, in));
	default:
		return (get_token(v, proto, (int)sub, in, out));
	}
}
