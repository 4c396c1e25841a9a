/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The packed attestation signature under the attestation certificate's
 * key.  A run meets a handful of certificates (one per key model and
 * batch), so each one's key is parsed once and kept for the process:
 * parsing the certificate was most of the cost of checking a
 * credential.
 */

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

#define X5C_KEYS	8

struct x5c_key {
	unsigned char	*der;
	size_t		 len;
	EVP_PKEY	*pk;
};

static pthread_mutex_t	 x5c_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct x5c_key	 x5c_keys[X5C_KEYS];
static size_t		 x5c_next;	/* the slot reused when full */

/* a P-256 key, as ES256 (COSE -7) needs */
static EVP_PKEY *
p256_key(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	X509			*x = NULL;
	EVP_PKEY		*pk = NULL;
	char			 curve[32];

	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len || (pk = X509_get_pubkey(x)) == NULL)
		goto fail;
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    EVP_PKEY_get_group_name(pk, curve, sizeof(curve), NULL) != 1 ||
	    strcmp(curve, "prime256v1") != 0) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
fail:
	X509_free(x);

	return (pk);
}

/* a reference to the certificate's key; NULL if it has none we take */
static EVP_PKEY *
x5c_key(const unsigned char *der, size_t len)
{
	struct x5c_key	*k;
	EVP_PKEY	*pk = NULL;
	unsigned char	*d;
	size_t		 i;

	pthread_mutex_lock(&x5c_mtx);
	for (i = 0; i < X5C_KEYS; i++) {
		k = &x5c_keys[i];
		if (k->pk != NULL && k->len == len &&
		    memcmp(k->der, der, len) == 0) {
			if (EVP_PKEY_up_ref(k->pk) == 1)
				pk = k->pk;
			goto out;
		}
	}
	if ((pk = p256_key(der, len)) == NULL)
		goto out;
	/* not kept if this fails: still checked */
	if ((d = malloc(len)) == NULL)
		goto out;
	if (EVP_PKEY_up_ref(pk) != 1) {
		free(d);
		goto out;
	}
	memcpy(d, der, len);
	k = &x5c_keys[x5c_next];
	free(k->der);
	EVP_PKEY_free(k->pk);
	k->der = d;
	k->len = len;
	k->pk = pk;
	x5c_next = (x5c_next + 1) % X5C_KEYS;
out:
	pthread_mutex_unlock(&x5c_mtx);

	return (pk);
}

int
ctap_x5c_verify(const unsigned char *der, size_t der_len,
    const unsigned char *ad, size_t ad_len, const unsigned char *cdh,
    const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY	*pk = NULL;
	int		 r = CTAP_ERR_VERIFY;

	if (der == NULL || ad == NULL || cdh == NULL || sig == NULL)
		return (CTAP_ERR_ARG);
	if ((pk = x5c_key(der, der_len)) == NULL)
		return (CTAP_ERR_VERIFY);
	/* signed: authData || SHA-256(clientDataJSON) */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pk) != 1 ||
	    EVP_DigestVerifyUpdate(ctx, ad, ad_len) != 1 ||
	    EVP_DigestVerifyUpdate(ctx, cdh, CTAP_CDH_LEN) != 1)
		goto fail;
	if (EVP_DigestVerifyFinal(ctx, sig, sig_len) == 1)
		r = CTAP_OK;
fail:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);

	return (r);
}
