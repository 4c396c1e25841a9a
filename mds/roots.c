/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Trust anchors, and the path building both the BLOB's x5c and a
 * packed attestation's x5c go through: OpenSSL's X509_verify_cert with
 * the anchors in an X509_STORE and the rest as untrusted certificates,
 * so a chain is found whichever intermediates (or cross-signs) the
 * signer sends, as long as one path ends at an anchor.
 */

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mds_int.h"

const char *
mds_strerr(int r)
{
	switch (r) {
	case MDS_OK:
		return ("success");
	case MDS_ERR_ARG:
		return ("invalid argument");
	case MDS_ERR_NOMEM:
		return ("out of memory");
	case MDS_ERR_IO:
		return ("cannot read or write the metadata file");
	case MDS_ERR_FORMAT:
		return ("malformed metadata");
	case MDS_ERR_TOO_BIG:
		return ("metadata too large or too deeply nested");
	case MDS_ERR_ALG:
		return ("signature algorithm refused");
	case MDS_ERR_CHAIN:
		return ("certificate chain not trusted");
	case MDS_ERR_SIGNATURE:
		return ("bad signature");
	case MDS_ERR_ROLLBACK:
		return ("metadata older than the stored one");
	case MDS_ERR_NOT_FOUND:
		return ("not found");
	case MDS_ERR_ROOTS:
		return ("no usable root certificate");
	case MDS_ERR_CRYPTO:
		return ("cryptography error");
	case MDS_ERR_SIGNER:
		return ("signed by a certificate of another host");
	case MDS_ERR_AAGUID:
		return ("attestation certificate of another model");
	default:
		return ("unknown error");
	}
}

int
mds_roots_new(mds_roots_t **out)
{
	mds_roots_t *r;

	if (out == NULL)
		return (MDS_ERR_ARG);
	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (MDS_ERR_NOMEM);
	if ((r->certs = sk_X509_new_null()) == NULL) {
		free(r);
		return (MDS_ERR_NOMEM);
	}
	snprintf(r->signer, sizeof(r->signer), "%s", MDS_SIGNER);
	*out = r;

	return (MDS_OK);
}

void
mds_roots_free(mds_roots_t **rp)
{
	if (rp == NULL || *rp == NULL)
		return;
	sk_X509_pop_free((*rp)->certs, X509_free);
	free(*rp);
	*rp = NULL;
}

int
mds_roots_add_pem(mds_roots_t *r, const void *ptr, size_t len)
{
	BIO	*b = NULL;
	X509	*x;
	int	 n = 0, rv;

	if (r == NULL || ptr == NULL || len == 0 || len > 1024 * 1024)
		return (MDS_ERR_ARG);
	if ((b = BIO_new_mem_buf(ptr, (int)len)) == NULL) {
		rv = MDS_ERR_NOMEM;
		goto fail;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(r->certs, x)) {
			X509_free(x);
			rv = MDS_ERR_NOMEM;
			goto fail;
		}
		n++;
	}
	/* the loop ends on "no more PEM": not an error once one was read */
	ERR_clear_error();
	rv = n > 0 ? MDS_OK : MDS_ERR_ROOTS;
fail:
	BIO_free(b);

	return (rv);
}

int
mds_roots_add_pinned(mds_roots_t *r)
{
	return (mds_roots_add_pem(r, mds_pinned_roots_pem,
	    strlen(mds_pinned_roots_pem)));
}

int
mds_roots_set_signer(mds_roots_t *r, const char *host)
{
	size_t	i, n;

	if (r == NULL || host == NULL || (n = strlen(host)) == 0 ||
	    n >= sizeof(r->signer))
		return (MDS_ERR_ARG);
	/* a DNS name (a leading "*." is X509_check_host's to match) */
	for (i = 0; i < n; i++)
		if (!(host[i] >= 'a' && host[i] <= 'z') &&
		    !(host[i] >= 'A' && host[i] <= 'Z') &&
		    !(host[i] >= '0' && host[i] <= '9') && host[i] != '.' &&
		    host[i] != '-')
			return (MDS_ERR_ARG);
	memcpy(r->signer, host, n + 1);

	return (MDS_OK);
}

const char *
mds_roots_signer(const mds_roots_t *r)
{
	return (r != NULL ? r->signer : MDS_SIGNER);
}

size_t
mds_roots_count(const mds_roots_t *r)
{
	return (r == NULL ? 0 : (size_t)sk_X509_num(r->certs));
}

int
mds_chain_verify(STACK_OF(X509) *anchors, X509 *leaf,
    STACK_OF(X509) *untrusted, char *err, size_t errlen)
{
	X509_STORE	*store = NULL;
	X509_STORE_CTX	*ctx = NULL;
	int		 i, rv;

	if (anchors == NULL || sk_X509_num(anchors) == 0) {
		errf(err, errlen, "no trust anchors");
		return (MDS_ERR_ROOTS);
	}
	if ((store = X509_STORE_new()) == NULL ||
	    (ctx = X509_STORE_CTX_new()) == NULL) {
		rv = MDS_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(anchors,
		    i)) != 1) {
			rv = MDS_ERR_CRYPTO;
			goto fail;
		}
	/*
	 * An anchor the operator chose may be an intermediate (MDS lists
	 * issuing CAs as attestation "roots" too): trust it as it is.
	 */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		rv = MDS_ERR_CRYPTO;
		goto fail;
	}
	if (X509_verify_cert(ctx) != 1) {
		errf(err, errlen, "certificate chain: %s (depth %d)",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)),
		    X509_STORE_CTX_get_error_depth(ctx));
		rv = MDS_ERR_CHAIN;
		goto fail;
	}

	rv = MDS_OK;
fail:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	ERR_clear_error();

	return (rv);
}
