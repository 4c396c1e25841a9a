/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Attestation: a test root CA, the batch attestation certificate it signs,
 * and the packed (basic or self) and none statements.
 *
 * The attestation certificate follows WebAuthn §8.2.1: X.509 v3, subject
 * C, O, OU="Authenticator Attestation", CN, basicConstraints CA:FALSE, and
 * the non-critical id-fido-gen-ce-aaguid extension holding the AAGUID.
 */

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extern.h"

#define OID_FIDO_AAGUID "1.3.6.1.4.1.45724.1.1.4"
#define CERT_DAYS	(20L * 365)
#define CA_FILE_MAX	(64 * 1024)

static int
set_serial(X509 *x)
{
	uint64_t s;

	if (vc_random(&s, sizeof(s)) < 0)
		return (-1);
	s = (s >> 1) | 1; /* positive, non-zero */

	return (
	    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), s) == 1 ? 0 : -1);
}

static int
name_add(X509_NAME *n, const char *field, const char *val)
{
	return (X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8,
		    (const unsigned char *)val, -1, -1, 0) == 1 ?
		0 :
		-1);
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *val)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int r;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_nconf_nid(NULL, &ctx, nid, val)) == NULL)
		return (-1);
	r = X509_add_ext(x, e, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(e);

	return (r);
}

static X509 *
cert_new(EVP_PKEY *pub)
{
	X509 *x;

	if ((x = X509_new()) == NULL)
		return (NULL);
	if (X509_set_version(x, 2) != 1 || set_serial(x) < 0 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)CERT_DAYS, 0, NULL) ==
		NULL ||
	    X509_set_pubkey(x, pub) != 1) {
		X509_free(x);
		return (NULL);
	}

	return (x);
}

/* a new certificate of key, subject C=US, O=provisioning test[, OU], CN */
static X509 *
cert_named(EVP_PKEY *key, const char *ou, const char *cn)
{
	X509 *x;
	X509_NAME *n;

	if ((x = cert_new(key)) == NULL)
		return (NULL);
	n = X509_get_subject_name(x);
	if (name_add(n, "C", "US") < 0 ||
	    name_add(n, "O", "provisioning test") < 0 ||
	    (ou != NULL && name_add(n, "OU", ou) < 0) ||
	    name_add(n, "CN", cn) < 0) {
		X509_free(x);
		return (NULL);
	}

	return (x);
}

/* A self-signed root: CA:TRUE, keyCertSign. */
X509 *
attest_make_root(EVP_PKEY *key)
{
	X509 *x = NULL;

	if ((x = cert_named(key, NULL, "vauth test root CA")) == NULL)
		return (NULL);
	if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1 ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    X509_sign(x, key, EVP_sha256()) == 0) {
		X509_free(x);
		return (NULL);
	}

	return (x);
}

static void
aaguid_der(const unsigned char *aaguid, unsigned char *der)
{
	der[0] = 0x04; /* OCTET STRING */
	der[1] = 16;
	memcpy(der + 2, aaguid, 16);
}

static int
add_aaguid_ext(X509 *x, const unsigned char *aaguid)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *val = NULL;
	X509_EXTENSION *e = NULL;
	unsigned char der[18];
	int r = -1;

	aaguid_der(aaguid, der);
	if ((obj = OBJ_txt2obj(OID_FIDO_AAGUID, 1)) == NULL ||
	    (val = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(val, der, sizeof(der)) != 1 ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, val)) == NULL ||
	    X509_add_ext(x, e, -1) != 1)
		goto fail;

	r = 0;
fail:
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(obj);

	return (r);
}

/* A CA under the root: x5c[1], for verifiers that must build a path. */
static X509 *
make_intermediate(vauth_t *v, EVP_PKEY *key)
{
	X509 *x = NULL;

	if ((x = cert_named(key, NULL, "vauth test intermediate CA")) == NULL)
		return (NULL);
	if (X509_set_issuer_name(x, X509_get_subject_name(v->ca_cert)) != 1 ||
	    add_ext(x, v->ca_cert, NID_basic_constraints,
		"critical,CA:TRUE,pathlen:0") < 0 ||
	    add_ext(x, v->ca_cert, NID_key_usage,
		"critical,keyCertSign,cRLSign") < 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, v->ca_cert, NID_authority_key_identifier, "keyid") < 0 ||
	    X509_sign(x, v->ca_key, EVP_sha256()) == 0) {
		X509_free(x);
		return (NULL);
	}

	return (x);
}

/* the attestation certificate's issuer: the intermediate, or the root */
static X509 *
issuer_cert(const vauth_t *v)
{
	return (v->int_cert != NULL ? v->int_cert : v->ca_cert);
}

static EVP_PKEY *
issuer_key(const vauth_t *v)
{
	return (v->int_key != NULL ? v->int_key : v->ca_key);
}

/* what the certificate says: the key's AAGUID, unless a test says not */
static const unsigned char *
cert_aaguid(const vauth_t *v)
{
	return (v->cert_aaguid_set ? v->cert_aaguid : v->aaguid);
}

static X509 *
make_leaf(vauth_t *v, EVP_PKEY *key)
{
	X509 *x = NULL;

	if ((x = cert_named(key, "Authenticator Attestation",
	    "vauth batch")) == NULL)
		return (NULL);
	if (X509_set_issuer_name(x, X509_get_subject_name(issuer_cert(v))) !=
		1 ||
	    add_ext(x, issuer_cert(v), NID_basic_constraints, "CA:FALSE") < 0 ||
	    add_ext(x, issuer_cert(v), NID_authority_key_identifier, "keyid") <
		0 ||
	    add_aaguid_ext(x, cert_aaguid(v)) < 0 ||
	    X509_sign(x, issuer_key(v), EVP_sha256()) == 0) {
		X509_free(x);
		return (NULL);
	}

	return (x);
}

/* Is the stored attestation certificate still good for this CA/AAGUID? */
static int
leaf_ok(vauth_t *v)
{
	ASN1_OBJECT *obj = NULL;
	const ASN1_OCTET_STRING *d;
	X509_EXTENSION *e;
	EVP_PKEY *capub;
	unsigned char der[18];
	int i, ok = 0;

	if (v->att_cert == NULL || v->att_key == NULL ||
	    (capub = X509_get0_pubkey(issuer_cert(v))) == NULL ||
	    X509_verify(v->att_cert, capub) != 1 ||
	    X509_check_private_key(v->att_cert, v->att_key) != 1 ||
	    (obj = OBJ_txt2obj(OID_FIDO_AAGUID, 1)) == NULL ||
	    (i = X509_get_ext_by_OBJ(v->att_cert, obj, -1)) < 0 ||
	    (e = X509_get_ext(v->att_cert, i)) == NULL ||
	    (d = X509_EXTENSION_get_data(e)) == NULL)
		goto out;
	aaguid_der(cert_aaguid(v), der);
	ok = ASN1_STRING_length(d) == (int)sizeof(der) &&
	    memcmp(ASN1_STRING_get0_data(d), der, sizeof(der)) == 0;
out:
	ASN1_OBJECT_free(obj);

	return (ok);
}

/* never prompt on a terminal for the passphrase of an encrypted key */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;

	return (0);
}

/* Parse a PEM file holding a certificate and its private key. */
int
attest_read_ca(const char *path, X509 **cert, EVP_PKEY **key)
{
	BIO *b = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*cert = NULL;
	*key = NULL;
	if ((r = file_read(path, &buf, &len, CA_FILE_MAX)) != 0)
		return (r);
	r = -1;
	if (len > INT32_MAX || (b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (*cert = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)) == NULL)
		goto fail;
	BIO_free(b);
	if ((b = BIO_new_mem_buf(buf, (int)len)) == NULL ||
	    (*key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) ==
		NULL ||
	    X509_check_private_key(*cert, *key) != 1)
		goto fail;

	r = 0;
fail:
	BIO_free(b);
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r != 0) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
	}

	return (r);
}

static int
bio_to_file(BIO *b, const char *path, int mode, int excl)
{
	char *p = NULL;
	long n;

	if ((n = BIO_get_mem_data(b, &p)) <= 0 || p == NULL)
		return (-1);

	return (excl ? write_file_new(path, p, (size_t)n, (mode_t)mode) :
	    write_file_atomic(path, p, (size_t)n, (mode_t)mode));
}

/* --ca FILE: load it, or create it (once, even with racing processes). */
static int
ca_file(vauth_t *v)
{
	BIO *b = NULL;
	int r;

	if ((r = attest_read_ca(v->ca_path, &v->ca_cert, &v->ca_key)) == 0)
		return (VAUTH_OK);
	if (r < 0) {
		vlog(v,
		    "ca: cannot use %s (want a PEM certificate and its "
		    "private key)",
		    v->ca_path);
		return (VAUTH_ERR_STATE);
	}
	if ((v->ca_key = vc_p256_generate()) == NULL ||
	    (v->ca_cert = attest_make_root(v->ca_key)) == NULL ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, v->ca_cert) != 1 ||
	    PEM_write_bio_PrivateKey(b, v->ca_key, NULL, NULL, 0, NULL, NULL) !=
		1) {
		r = VAUTH_ERR_CRYPTO;
		goto fail;
	}
	if ((r = bio_to_file(b, v->ca_path, 0600, 1)) < 0) {
		vlog(v, "ca: cannot write %s", v->ca_path);
		r = VAUTH_ERR_IO;
		goto fail;
	}
	if (r == 1) {
		/* another process created it first: use theirs */
		X509_free(v->ca_cert);
		EVP_PKEY_free(v->ca_key);
		v->ca_cert = NULL;
		v->ca_key = NULL;
		if (attest_read_ca(v->ca_path, &v->ca_cert, &v->ca_key) != 0) {
			r = VAUTH_ERR_STATE;
			goto fail;
		}
	} else
		vlog(v, "ca: created test root CA in %s", v->ca_path);

	r = VAUTH_OK;
fail:
	BIO_free(b);

	return (r);
}

int
attest_init(vauth_t *v)
{
	int r;

	if (v->ca_path != NULL) {
		if ((r = ca_file(v)) != VAUTH_OK)
			return (r);
	} else if (v->ca_cert == NULL) {
		if ((v->ca_key = vc_p256_generate()) == NULL ||
		    (v->ca_cert = attest_make_root(v->ca_key)) == NULL)
			return (VAUTH_ERR_CRYPTO);
	}
	if (v->att_intermediate && v->int_cert == NULL &&
	    ((v->int_key = vc_p256_generate()) == NULL ||
		(v->int_cert = make_intermediate(v, v->int_key)) == NULL))
		return (VAUTH_ERR_CRYPTO);
	if (leaf_ok(v))
		return (VAUTH_OK);
	X509_free(v->att_cert);
	EVP_PKEY_free(v->att_key);
	v->att_cert = NULL;
	if ((v->att_key = vc_p256_generate()) == NULL ||
	    (v->att_cert = make_leaf(v, v->att_key)) == NULL)
		return (VAUTH_ERR_CRYPTO);

	return (VAUTH_OK);
}

int
attest_write_pem_cert(const char *path, X509 *x)
{
	BIO *b = NULL;
	int r = -1;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, x) != 1 || bio_to_file(b, path, 0644, 0) != 0)
		goto fail;

	r = 0;
fail:
	BIO_free(b);

	return (r);
}

/*
 * The attestation statement over authData || clientDataHash, with the
 * credential key k for self attestation.
 */
int
attest_statement(vauth_t *v, EVP_PKEY *k, const unsigned char *ad, size_t adlen,
    const unsigned char *cdh, const char **fmt, cbor_item_t **out)
{
	cbor_item_t *m = NULL, *x5c = NULL;
	unsigned char *sig = NULL, *der = NULL;
	size_t siglen = 0;
	int n, r = -1;

	if ((m = cbu_map()) == NULL)
		goto fail;
	if (v->att_mode == VAUTH_ATT_NONE) {
		*fmt = "none";
		goto done;
	}
	*fmt = "packed";
	if (vc_es256_sign(v->att_mode == VAUTH_ATT_SELF ? k : v->att_key, ad,
		adlen, cdh, 32, &sig, &siglen) < 0 ||
	    cbu_put_str(m, "alg", cbu_int(-7)) < 0 ||
	    cbu_put_str(m, "sig", cbu_bytes(sig, siglen)) < 0)
		goto fail;
	if (v->att_mode == VAUTH_ATT_PACKED) {
		if ((n = i2d_X509(v->att_cert, &der)) <= 0 ||
		    (x5c = cbu_array()) == NULL ||
		    cbu_push(x5c, cbu_bytes(der, (size_t)n)) < 0)
			goto fail;
		OPENSSL_free(der);
		der = NULL;
		if (v->int_cert != NULL &&
		    ((n = i2d_X509(v->int_cert, &der)) <= 0 ||
			cbu_push(x5c, cbu_bytes(der, (size_t)n)) < 0))
			goto fail;
		if (cbu_put_strp(m, "x5c", &x5c) < 0)
			goto fail;
	}
done:
	*out = m;
	m = NULL;

	r = 0;
fail:
	if (m != NULL)
		cbor_decref(&m);
	if (x5c != NULL)
		cbor_decref(&x5c);
	free(sig);
	OPENSSL_free(der);

	return (r);
}
