/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A packed attestation statement's x5c against the metadata entry of
 * the key's model: the entry's attestationRootCertificates are the
 * only trust anchors, the rest of x5c are candidate intermediates.
 * And the leaf's AAGUID extension against authData: a batch
 * certificate of another model (a root shared by several) must not
 * vouch for this one.
 */

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "mds_int.h"

#define ATT_X5C_MAX	8
#define OID_FIDO_AAGUID	"1.3.6.1.4.1.45724.1.1.4"	/* id-fido-gen-ce-aaguid */

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

int
mds_attestation_aaguid(const unsigned char *der, size_t len,
    const char *aaguid, char *err, size_t errlen)
{
	ASN1_OBJECT		*obj = NULL;
	ASN1_OCTET_STRING	*in = NULL;
	const ASN1_OCTET_STRING	*out;
	X509_EXTENSION		*ext;
	X509			*x = NULL;
	const unsigned char	*p;
	char			*hex = NULL, got[37];
	int			 i, r;

	if (aaguid == NULL || !guid_valid(aaguid, strlen(aaguid)))
		return (MDS_ERR_ARG);
	if ((x = der_cert(der, len)) == NULL) {
		errf(err, errlen, "x5c[0] is not a DER certificate");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((obj = OBJ_txt2obj(OID_FIDO_AAGUID, 1)) == NULL) {
		r = MDS_ERR_CRYPTO;
		goto fail;
	}
	if ((i = X509_get_ext_by_OBJ(x, obj, -1)) < 0) {
		r = MDS_ERR_NOT_FOUND;
		goto fail;
	}
	if (X509_get_ext_by_OBJ(x, obj, i) >= 0) {
		errf(err, errlen, "the attestation certificate has two AAGUID "
		    "extensions");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	ext = X509_get_ext(x, i);
	/* 8.2.1: "MUST NOT be marked as critical" */
	if (X509_EXTENSION_get_critical(ext)) {
		errf(err, errlen, "the attestation certificate's AAGUID "
		    "extension is marked critical");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	/* extnValue is an OCTET STRING holding a 16-byte OCTET STRING */
	out = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(out);
	if ((in = d2i_ASN1_OCTET_STRING(NULL, &p,
	    ASN1_STRING_length(out))) == NULL ||
	    p != ASN1_STRING_get0_data(out) + ASN1_STRING_length(out) ||
	    ASN1_STRING_length(in) != 16) {
		errf(err, errlen, "the attestation certificate's AAGUID "
		    "extension is not a 16-byte OCTET STRING");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if (hex_encode(ASN1_STRING_get0_data(in), 16, &hex) < 0) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	snprintf(got, sizeof(got), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
	    hex + 12, hex + 16, hex + 20);
	if (strcasecmp(got, aaguid) != 0) {
		errf(err, errlen, "the attestation certificate is for AAGUID "
		    "%s, but the key says %s", got, aaguid);
		r = MDS_ERR_AAGUID;
		goto fail;
	}
	r = MDS_OK;
fail:
	free(hex);
	ASN1_OCTET_STRING_free(in);
	ASN1_OBJECT_free(obj);
	X509_free(x);
	ERR_clear_error();

	return (r);
}
