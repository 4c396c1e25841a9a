/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* OpenSSL 3 EVP wrappers: P-256, ECDH, HKDF, AES, HMAC, ECDSA. */

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include <stdlib.h>
#include <string.h>

#include "extern.h"

int
vc_random(void *p, size_t n)
{
	if (n > INT32_MAX || RAND_bytes(p, (int)n) != 1)
		return (-1);

	return (0);
}

int
vc_sha256(const void *p, size_t n, unsigned char *out)
{
	unsigned int len = 0;

	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32)
		return (-1);

	return (0);
}

int
vc_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char *out)
{
	unsigned int len = 0;

	if (klen > INT32_MAX ||
	    HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len) == NULL ||
	    len != 32)
		return (-1);

	return (0);
}

/* HKDF-SHA-256 with a salt of 32 zero bytes (CTAP2 PIN protocol 2). */
int
vc_hkdf_sha256(const unsigned char *ikm, size_t ikmlen, const char *info,
    unsigned char *out, size_t outlen)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5];
	unsigned char salt[32];
	int r = -1;

	memset(salt, 0, sizeof(salt));
	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto fail;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)(uintptr_t) "SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)(uintptr_t)ikm, ikmlen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt,
	    sizeof(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)(uintptr_t)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) != 1)
		goto fail;

	r = 0;
fail:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);

	return (r);
}

/* AES-256-CBC without padding; len must be a multiple of 16. */
int
vc_aes256_cbc(int enc, const unsigned char *key, const unsigned char *iv,
    const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, r = -1;

	if (len % 16 != 0 || len > INT32_MAX)
		return (-1);
	if (len == 0)
		return (0);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv,
		enc ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len)
		goto fail;

	r = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);

	return (r);
}

/*
 * AES-256-GCM with a 12-byte nonce and a 16-byte tag. enc=1 writes tag,
 * enc=0 checks it.
 */
int
vc_aes256_gcm(int enc, const unsigned char *key, const unsigned char *nonce,
    const unsigned char *aad, size_t aadlen, const unsigned char *in,
    size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n, r = -1;

	if (len > INT32_MAX || aadlen > INT32_MAX)
		return (-1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce,
		enc ? 1 : 0) != 1)
		goto fail;
	if (!enc &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto fail;
	if (EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aadlen) != 1 ||
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len || EVP_CipherFinal_ex(ctx, out + n, &n) != 1)
		goto fail;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto fail;

	r = 0;
fail:
	EVP_CIPHER_CTX_free(ctx);

	return (r);
}

EVP_PKEY *
vc_p256_generate(void)
{
	return (EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
}

static EVP_PKEY *
p256_fromdata(const unsigned char *d, const unsigned char *pub65)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	BIGNUM *bn = NULL;

	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		"prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		pub65, 65) != 1)
		goto fail;
	if (d != NULL) {
		if ((bn = BN_secure_new()) == NULL ||
		    BN_bin2bn(d, 32, bn) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) !=
			1)
			goto fail;
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk,
		d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
		params) != 1) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
fail:
	BN_clear_free(bn);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);

	return (pk);
}

/* A key pair from a 32-byte private scalar; the public point is derived. */
EVP_PKEY *
vc_p256_from_priv(const unsigned char *d)
{
	EC_GROUP *g = NULL;
	EC_POINT *q = NULL;
	BIGNUM *bn = NULL;
	EVP_PKEY *pk = NULL;
	unsigned char pub[65];

	if ((g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) == NULL ||
	    (q = EC_POINT_new(g)) == NULL || (bn = BN_secure_new()) == NULL ||
	    BN_bin2bn(d, 32, bn) == NULL || BN_is_zero(bn) ||
	    BN_cmp(bn, EC_GROUP_get0_order(g)) >= 0 ||
	    EC_POINT_mul(g, q, bn, NULL, NULL, NULL) != 1 ||
	    EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pub,
		sizeof(pub), NULL) != sizeof(pub))
		goto fail;
	pk = p256_fromdata(d, pub);
fail:
	BN_clear_free(bn);
	EC_POINT_free(q);
	EC_GROUP_free(g);

	return (pk);
}

/* A public key from affine coordinates; the point must be on the curve. */
EVP_PKEY *
vc_p256_from_pub(const unsigned char *x, const unsigned char *y)
{
	unsigned char pub[65];

	pub[0] = 0x04;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);

	return (p256_fromdata(NULL, pub));
}

int
vc_p256_priv(EVP_PKEY *pk, unsigned char *d)
{
	BIGNUM *bn = NULL;
	int r = -1;

	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1 ||
	    BN_bn2binpad(bn, d, 32) != 32)
		goto fail;

	r = 0;
fail:
	BN_clear_free(bn);

	return (r);
}

int
vc_p256_pub(EVP_PKEY *pk, unsigned char *x, unsigned char *y)
{
	unsigned char pub[65];
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(pk,
		OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, sizeof(pub),
		&len) != 1 ||
	    len != sizeof(pub) || pub[0] != 0x04)
		return (-1);
	memcpy(x, pub + 1, 32);
	memcpy(y, pub + 33, 32);

	return (0);
}

/* Z = x-coordinate of d * peer */
int
vc_ecdh(EVP_PKEY *mine, EVP_PKEY *peer, unsigned char *z)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = 32;
	int r = -1;

	if ((ctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, peer) != 1 ||
	    EVP_PKEY_derive(ctx, z, &len) != 1 || len != 32)
		goto fail;

	r = 0;
fail:
	EVP_PKEY_CTX_free(ctx);

	return (r);
}

/* DER ECDSA-SHA-256 signature over m1 || m2 */
int
vc_es256_sign(EVP_PKEY *pk, const unsigned char *m1, size_t l1,
    const unsigned char *m2, size_t l2, unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *msg = NULL, *s = NULL;
	size_t len = 0;
	int r = -1;

	*sig = NULL;
	*siglen = 0;
	if (l1 > SIZE_MAX - l2 - 1 || (msg = malloc(l1 + l2 + 1)) == NULL)
		goto fail;
	if (l1)
		memcpy(msg, m1, l1);
	if (l2)
		memcpy(msg + l1, m2, l2);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, msg, l1 + l2) != 1 ||
	    (s = malloc(len)) == NULL ||
	    EVP_DigestSign(ctx, s, &len, msg, l1 + l2) != 1)
		goto fail;
	*sig = s;
	*siglen = len;
	s = NULL;

	r = 0;
fail:
	EVP_MD_CTX_free(ctx);
	free(msg);
	free(s);

	return (r);
}

/* constant-time equality */
int
vc_memeq(const void *a, const void *b, size_t n)
{
	return (CRYPTO_memcmp(a, b, n) == 0);
}
