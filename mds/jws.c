/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The BLOB's compact JWS (RFC 7515): HEADER.PAYLOAD.SIGNATURE, each
 * base64url.  What is checked, in order: the header's alg is one we
 * verify (RS256, PS256, ES256; never none or HS*, which prove
 * nothing), x5c chains to an anchor, the leaf is issued to the signer
 * host (mds.fidoalliance.org), the leaf's key is of the alg's type,
 * and the signature over HEADER.PAYLOAD verifies with the header's
 * alg.  The alg comes from the header, never from the key:
 * validators that guessed it from the certificate broke in 2026.
 */

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "mds_int.h"

#define HEADER_MAX	(256 * 1024)
#define X5C_MAX		8
#define CERT_MAX	(64 * 1024)

#define ALG_RS256	1
#define ALG_PS256	2
#define ALG_ES256	3

/* b64url_decode() takes at most B64_MAXLEN: decode longer input in parts */
#define CHUNK		(12 * 1024 * 1024)	/* a multiple of 4 */

static int
b64url_decode_long(const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	struct buf	 b;
	unsigned char	*part = NULL;
	char		*tmp = NULL;
	size_t		 off, n, plen;
	int		 r = -1;

	*out = NULL;
	*outlen = 0;
	buf_init(&b, len);
	if ((tmp = malloc((len < CHUNK ? len : CHUNK) + 1)) == NULL)
		goto fail;
	for (off = 0; off < len; off += n) {
		n = len - off < CHUNK ? len - off : CHUNK;
		memcpy(tmp, s + off, n);
		tmp[n] = '\0';
		if (b64url_decode(tmp, &part, &plen) < 0)
			goto fail;
		(void)buf_append(&b, part, plen);
		free(part);
		part = NULL;
	}
	if (len == 0 || b.err != 0)
		goto fail;
	*out = buf_release(&b, outlen);
	r = *out != NULL ? 0 : -1;
fail:
	free(part);
	free(tmp);
	buf_reset(&b);

	return (r);
}

static int
parse_alg(const char *alg, char *err, size_t errlen)
{
	if (strcmp(alg, "RS256") == 0)
		return (ALG_RS256);
	if (strcmp(alg, "PS256") == 0)
		return (ALG_PS256);
	if (strcmp(alg, "ES256") == 0)
		return (ALG_ES256);
	if (strcasecmp(alg, "none") == 0 || strncmp(alg, "HS", 2) == 0)
		errf(err, errlen, "header alg %.16s refused: an unsigned or "
		    "shared-secret BLOB proves nothing", alg);
	else
		errf(err, errlen, "header alg %.16s is not supported (RS256, "
		    "PS256, ES256)", alg);

	return (-1);
}

/* x5c: standard base64 DER, leaf first */
static int
parse_x5c(json_t *x5c, STACK_OF(X509) **out, char *err, size_t errlen)
{
	STACK_OF(X509)		*sk = NULL;
	X509			*x = NULL;
	const unsigned char	*p;
	unsigned char		*der = NULL;
	size_t			 i, len;
	int			 r;

	*out = NULL;
	if (!json_is_array(x5c) || json_array_size(x5c) == 0 ||
	    json_array_size(x5c) > X5C_MAX) {
		errf(err, errlen, "header x5c: expected an array of 1 to %d "
		    "certificates", X5C_MAX);
		return (MDS_ERR_FORMAT);
	}
	if ((sk = sk_X509_new_null()) == NULL)
		return (MDS_ERR_NOMEM);
	for (i = 0; i < json_array_size(x5c); i++) {
		if (!json_is_string(json_array_get(x5c, i)) ||
		    b64_decode(json_string_value(json_array_get(x5c, i)),
		    &der, &len) < 0 || len > CERT_MAX) {
			errf(err, errlen, "header x5c[%zu]: not base64", i);
			r = MDS_ERR_FORMAT;
			goto fail;
		}
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL ||
		    p != der + len) {
			errf(err, errlen, "header x5c[%zu]: not a DER "
			    "certificate", i);
			r = MDS_ERR_FORMAT;
			goto fail;
		}
		free(der);
		der = NULL;
		if (!sk_X509_push(sk, x)) {
			r = MDS_ERR_NOMEM;
			goto fail;
		}
		x = NULL;
	}
	*out = sk;
	sk = NULL;
	r = MDS_OK;
fail:
	X509_free(x);
	free(der);
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();

	return (r);
}

/* the key must be what alg names: RSA >= 2048 bits, or EC P-256 */
static int
key_fits(EVP_PKEY *pk, int alg, char *err, size_t errlen)
{
	char	group[64];
	size_t	glen;

	if (alg == ALG_ES256) {
		if (!EVP_PKEY_is_a(pk, "EC") ||
		    EVP_PKEY_get_utf8_string_param(pk,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    &glen) != 1 || strcmp(group, "prime256v1") != 0) {
			errf(err, errlen, "header alg ES256, but the signing "
			    "certificate's key is not EC P-256");
			return (-1);
		}
		return (0);
	}
	if (!EVP_PKEY_is_a(pk, "RSA")) {
		errf(err, errlen, "header alg %s, but the signing "
		    "certificate's key is not RSA", alg == ALG_RS256 ?
		    "RS256" : "PS256");
		return (-1);
	}
	if (EVP_PKEY_get_bits(pk) < 2048) {
		errf(err, errlen, "the signing certificate's RSA key has "
		    "only %d bits", EVP_PKEY_get_bits(pk));
		return (-1);
	}

	return (0);
}

/* JWS ES256 signatures are r || s, 32 bytes each; OpenSSL wants DER */
static int
es256_der(const unsigned char *sig, size_t len, unsigned char **der,
    size_t *derlen)
{
	ECDSA_SIG	*es = NULL;
	BIGNUM		*r = NULL, *s = NULL;
	unsigned char	*p = NULL;
	int		 n, rv = -1;

	*der = NULL;
	*derlen = 0;
	if (len != 64 || (es = ECDSA_SIG_new()) == NULL ||
	    (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto fail;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto fail;
	*der = p;
	*derlen = (size_t)n;
	rv = 0;
fail:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);

	return (rv);
}

static int
verify_sig(EVP_PKEY *pk, int alg, const char *input, size_t inlen,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*md = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	unsigned char	*der = NULL;
	size_t		 derlen;
	int		 r = MDS_ERR_SIGNATURE;

	if (alg == ALG_ES256) {
		if (es256_der(sig, siglen, &der, &derlen) < 0)
			goto fail;
		sig = der;
		siglen = derlen;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, pk) != 1) {
		r = MDS_ERR_CRYPTO;
		goto fail;
	}
	if (alg == ALG_PS256 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
	    RSA_PSS_SALTLEN_DIGEST) != 1)) {
		r = MDS_ERR_CRYPTO;
		goto fail;
	}
	if (EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input,
	    inlen) == 1)
		r = MDS_OK;
fail:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ERR_clear_error();

	return (r);
}

int
mds_jws_verify(const mds_roots_t *roots, const char *jws, size_t len,
    char **payload, size_t *paylen, char *err, size_t errlen)
{
	STACK_OF(X509)	*x5c = NULL, *untrusted = NULL;
	json_t		*hdr = NULL, *v;
	json_error_t	 jerr;
	const char	*dot1, *dot2;
	char		*part = NULL, *subj = NULL;
	unsigned char	*hbuf = NULL, *sig = NULL, *pbuf = NULL;
	size_t		 hlen, siglen, plen, i;
	int		 alg, r;

	*payload = NULL;
	*paylen = 0;
	if (roots == NULL || mds_roots_count(roots) == 0) {
		errf(err, errlen, "no trusted roots");
		return (MDS_ERR_ROOTS);
	}
	/* exactly three parts: no JSON serialization, no detached payload */
	if ((dot1 = memchr(jws, '.', len)) == NULL ||
	    (dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - jws))) ==
	    NULL || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - jws)) !=
	    NULL || dot1 == jws || dot2 == dot1 + 1) {
		errf(err, errlen, "not a compact JWS (HEADER.PAYLOAD."
		    "SIGNATURE)");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((size_t)(dot1 - jws) > HEADER_MAX) {
		errf(err, errlen, "JWS header larger than %d bytes",
		    HEADER_MAX);
		r = MDS_ERR_TOO_BIG;
		goto fail;
	}
	if ((part = strndup(jws, (size_t)(dot1 - jws))) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	if (b64url_decode(part, &hbuf, &hlen) < 0) {
		errf(err, errlen, "JWS header: not base64url");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if (!json_depth_ok((const char *)hbuf, hlen, MDS_JSON_DEPTH) ||
	    (hdr = json_loadb((const char *)hbuf, hlen,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(hdr)) {
		errf(err, errlen, "JWS header: not a JSON object");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if (!json_is_string(v = json_object_get(hdr, "alg"))) {
		errf(err, errlen, "JWS header: no alg");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((alg = parse_alg(json_string_value(v), err, errlen)) < 0) {
		r = MDS_ERR_ALG;
		goto fail;
	}
	/* RFC 7515 4.1.11: extensions we do not know must not be ignored */
	if (json_object_get(hdr, "crit") != NULL) {
		errf(err, errlen, "JWS header: crit extensions are not "
		    "supported");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if (json_object_get(hdr, "x5c") == NULL) {
		errf(err, errlen, "JWS header: no x5c (x5u is not followed)");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((r = parse_x5c(json_object_get(hdr, "x5c"), &x5c, err,
	    errlen)) != MDS_OK)
		goto fail;
	/* the leaf signs; every other x5c certificate is only a candidate */
	if ((untrusted = sk_X509_new_null()) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	for (i = 1; i < (size_t)sk_X509_num(x5c); i++)
		if (!sk_X509_push(untrusted, sk_X509_value(x5c, (int)i))) {
			r = MDS_ERR_NOMEM;
			goto fail;
		}
	if ((r = mds_chain_verify(roots->certs, sk_X509_value(x5c, 0),
	    untrusted, err, errlen)) != MDS_OK)
		goto fail;
	/* GlobalSign issues to anyone: the leaf must be the service's */
	if (X509_check_host(sk_X509_value(x5c, 0), roots->signer, 0, 0,
	    NULL) != 1) {
		subj = mds_subject_of(sk_X509_value(x5c, 0));
		errf(err, errlen, "the signing certificate (%s) is not issued "
		    "to %s", subj != NULL ? subj : "?", roots->signer);
		r = MDS_ERR_SIGNER;
		goto fail;
	}
	if (key_fits(X509_get0_pubkey(sk_X509_value(x5c, 0)), alg, err,
	    errlen) < 0) {
		r = MDS_ERR_ALG;
		goto fail;
	}
	/* after the alg: "alg none" with no signature says what it is */
	if (dot2 + 1 == jws + len) {
		errf(err, errlen, "the JWS has no signature");
		r = MDS_ERR_SIGNATURE;
		goto fail;
	}
	free(part);
	if ((part = strndup(dot2 + 1, len - (size_t)(dot2 + 1 - jws))) ==
	    NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	if (b64url_decode(part, &sig, &siglen) < 0) {
		errf(err, errlen, "JWS signature: not base64url");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((r = verify_sig(X509_get0_pubkey(sk_X509_value(x5c, 0)), alg,
	    jws, (size_t)(dot2 - jws), sig, siglen)) != MDS_OK) {
		errf(err, errlen, "the JWS signature does not verify with "
		    "the signing certificate (alg %s)",
		    json_string_value(json_object_get(hdr, "alg")));
		goto fail;
	}
	if (b64url_decode_long(dot1 + 1, (size_t)(dot2 - dot1 - 1), &pbuf,
	    &plen) < 0) {
		errf(err, errlen, "JWS payload: not base64url");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	*payload = (char *)pbuf;
	*paylen = plen;
	pbuf = NULL;
	r = MDS_OK;
fail:
	sk_X509_free(untrusted);
	sk_X509_pop_free(x5c, X509_free);
	json_decref(hdr);
	free(part);
	free(subj);
	free(hbuf);
	free(sig);
	free(pbuf);

	return (r);
}

int
mds_blob_verify(const mds_roots_t *roots, const void *ptr, size_t len,
    mds_t **out, char *err, size_t errlen)
{
	char	*payload = NULL;
	size_t	 plen;
	int	 r;

	if (out == NULL)
		return (MDS_ERR_ARG);
	*out = NULL;
	errf(err, errlen, "%s", "");
	if (ptr == NULL || len == 0) {
		errf(err, errlen, "empty BLOB");
		return (MDS_ERR_FORMAT);
	}
	if (len > MDS_BLOB_MAX) {
		errf(err, errlen, "BLOB larger than %d bytes", MDS_BLOB_MAX);
		return (MDS_ERR_TOO_BIG);
	}
	/* a saved download may end in a newline; nothing else is allowed */
	while (len > 0 && (((const char *)ptr)[len - 1] == '\n' ||
	    ((const char *)ptr)[len - 1] == '\r'))
		len--;
	if ((r = mds_jws_verify(roots, ptr, len, &payload, &plen, err,
	    errlen)) != MDS_OK)
		goto fail;
	r = mds_parse_json(payload, plen, out, err, errlen);
fail:
	free(payload);

	return (r);
}
