/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * JWTs: reading the claims of our own access token (for whoami and
 * doctor; the server verifies, we only look), and building the RFC 7523
 * client assertion for certificate credentials: PS256 over
 * {"alg":"PS256","typ":"JWT","x5t#S256":...} and {aud, iss, sub, jti,
 * nbf, iat, exp}, as the Microsoft identity platform documents it.
 */

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "graph_int.h"

#define ASSERTION_LIFETIME	600	/* s; Entra takes up to 10 min */

json_t *
jwt_claims(const char *token)
{
	const char	*p, *e;
	char		*part = NULL;
	unsigned char	*raw = NULL;
	size_t		 rawlen = 0;
	json_t		*j = NULL;

	if (token == NULL || (p = strchr(token, '.')) == NULL ||
	    (e = strchr(p + 1, '.')) == NULL || e - p - 1 > 64 * 1024)
		return (NULL);
	if ((part = strndup(p + 1, (size_t)(e - p - 1))) == NULL)
		return (NULL);
	if (b64url_decode(part, &raw, &rawlen) == 0 &&
	    (j = json_parse((const char *)raw, rawlen)) != NULL &&
	    !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	freezero_str(part);
	freezero_buf(raw, rawlen);

	return (j);
}

/* never prompt on a terminal for a passphrase: fail instead */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return (0);
}

static char *
b64url_json(json_t *j)
{
	char	*s, *out = NULL;

	if ((s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
		return (NULL);
	if (b64url_encode((unsigned char *)s, strlen(s), &out) < 0)
		out = NULL;
	free(s);

	return (out);
}

/* base64url(SHA-256(DER certificate)) */
static char *
thumbprint(X509 *x)
{
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*out = NULL;
	int		 n;

	if ((n = i2d_X509(x, &der)) <= 0)
		return (NULL);
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) == 1)
		b64url_encode(md, mdlen, &out);
	OPENSSL_free(der);

	return (out);
}

static int
sign_ps256(EVP_PKEY *pkey, const char *input, char **sig_b64)
{
	EVP_MD_CTX	*ctx = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen = 0;
	int		 r = -1;

	*sig_b64 = NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)input,
	    strlen(input)) != 1 || (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input,
	    strlen(input)) != 1 || b64url_encode(sig, siglen, sig_b64) < 0)
		goto fail;
	r = 0;
fail:
	free(sig);
	EVP_MD_CTX_free(ctx);

	return (r);
}

int
jwt_client_assertion(const char *cert_path, const char *key_path,
    const char *client_id, const char *aud, char **out)
{
	BIO		*bio = NULL;
	X509		*x = NULL;
	EVP_PKEY	*pkey = NULL;
	json_t		*hdr = NULL, *cl = NULL;
	char		*x5t = NULL, *h64 = NULL, *c64 = NULL, *input = NULL;
	char		*sig = NULL, jti[37];
	long long	 now = (long long)time(NULL);
	int		 r = GRAPH_ERR_ARG;

	*out = NULL;
	if ((bio = BIO_new_file(cert_path, "r")) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) == NULL) {
		log_warn("%s: not a PEM certificate", cert_path);
		goto fail;
	}
	BIO_free(bio);
	if ((bio = BIO_new_file(key_path, "r")) == NULL ||
	    (pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
	    NULL)) == NULL) {
		log_warn("%s: not an unencrypted PEM private key", key_path);
		goto fail;
	}
	if (!EVP_PKEY_is_a(pkey, "RSA") && !EVP_PKEY_is_a(pkey, "RSA-PSS")) {
		log_warn("%s: PS256 needs an RSA key", key_path);
		goto fail;
	}
	if (X509_check_private_key(x, pkey) != 1) {
		log_warn("%s does not belong to %s", key_path, cert_path);
		goto fail;
	}
	uuid4(jti);
	r = GRAPH_ERR_INTERNAL;
	if ((x5t = thumbprint(x)) == NULL ||
	    (hdr = json_pack("{s:s,s:s,s:s}", "alg", "PS256", "typ", "JWT",
	    "x5t#S256", x5t)) == NULL ||
	    (cl = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "aud", aud,
	    "iss", client_id, "sub", client_id, "jti", jti,
	    "nbf", (json_int_t)now, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + ASSERTION_LIFETIME))) == NULL ||
	    (h64 = b64url_json(hdr)) == NULL ||
	    (c64 = b64url_json(cl)) == NULL ||
	    (input = gfmt("%s.%s", h64, c64)) == NULL ||
	    sign_ps256(pkey, input, &sig) < 0 ||
	    (*out = gfmt("%s.%s", input, sig)) == NULL)
		goto fail;
	r = GRAPH_OK;
fail:
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(pkey);
	json_decref(hdr);
	json_decref(cl);
	free(x5t);
	free(h64);
	free(c64);
	freezero_str(input);
	freezero_str(sig);

	return (r);
}
