/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A packed attestation statement's x5c against the metadata entry of
 * the key's model: the entry's attestationRootCertificates are the
 * only trust anchors, the rest of x5c are candidate intermediates.
 */

#include <openssl/err.h>
#include <openssl/x509.h>

#include <stdlib.h>

#include "common.h"
#include "mds_int.h"

#define ATT_X5C_MAX	8

static X509 *
der_cert(const unsigned char *der, size_t len)
{
	const unsigned char	*p = der;
	X509			*x;

	if (der == NULL || len == 0 || len > 64 * 1024)
		return (NULL);
	if ((x = d2i_X509(NULL, &p, (long)len)) != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}

	return (x);
}

int
mds_verify_attestation_chain(const mds_entry_t *e,
    const unsigned char *const *der, const size_t *len, size_t n, char *err,
    size_t errlen)
{
	STACK_OF(X509)	*anchors = NULL, *untrusted = NULL;
	X509		*leaf = NULL, *x;
	size_t		 i;
	int		 r;

	if (e == NULL || der == NULL || len == NULL || n == 0 ||
	    n > ATT_X5C_MAX)
		return (MDS_ERR_ARG);
	if (e->nroots == 0) {
		errf(err, errlen, "the metadata of %s lists no attestation "
		    "roots", e->aaguid);
		return (MDS_ERR_ROOTS);
	}
	if ((anchors = sk_X509_new_null()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < e->nroots; i++) {
		if ((x = der_cert(e->roots[i].der, e->roots[i].len)) == NULL) {
			r = MDS_ERR_CRYPTO;
			goto fail;
		}
		if (!sk_X509_push(anchors, x)) {
			X509_free(x);
			r = MDS_ERR_NOMEM;
			goto fail;
		}
	}
	if ((leaf = der_cert(der[0], len[0])) == NULL) {
		errf(err, errlen, "x5c[0] is not a DER certificate");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	for (i = 1; i < n; i++) {
		if ((x = der_cert(der[i], len[i])) == NULL) {
			errf(err, errlen, "x5c[%zu] is not a DER certificate",
			    i);
			r = MDS_ERR_FORMAT;
			goto fail;
		}
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			r = MDS_ERR_NOMEM;
			goto fail;
		}
	}
	r = mds_chain_verify(anchors, leaf, untrusted, err, errlen);
fail:
	X509_free(leaf);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(untrusted, X509_free);
	ERR_clear_error();

	return (r);
}
