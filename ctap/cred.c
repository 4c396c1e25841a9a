/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * makeCredential from plain parameters, the WebAuthn attestationObject
 * built from libfido2's output, and the getAssertion check.
 */

#include <openssl/rand.h>

#include <fido/es256.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

ctap_cred_t *
ctap_cred_new(void)
{
	ctap_cred_t *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->rk = true;
	c->uv = true;

	return (c);
}

void
ctap_cred_free(ctap_cred_t **cp)
{
	ctap_cred_t	*c;
	size_t		 i;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	free(c->rp_id);
	free(c->rp_name);
	free(c->user_id);
	free(c->user_name);
	free(c->user_display);
	free(c->cdata);
	for (i = 0; i < c->nexcl; i++)
		free(c->excl[i]);
	fido_cred_free(&c->fc);
	free(c->attobj);
	for (i = 0; i < c->nx5c; i++)
		free(c->x5c[i]);
	free(c);
	*cp = NULL;
}

static int
dup_str(char **dst, const char *src)
{
	free(*dst);
	*dst = NULL;
	if (src == NULL)
		return (CTAP_OK);
	if ((*dst = strdup(src)) == NULL)
		return (CTAP_ERR_INTERNAL);

	return (CTAP_OK);
}

static int
dup_buf(unsigned char **dst, size_t *dlen, const unsigned char *src,
    size_t len)
{
	free(*dst);
	*dst = NULL;
	*dlen = 0;
	if ((*dst = malloc(len ? len : 1)) == NULL)
		return (CTAP_ERR_INTERNAL);
	if (len)
		memcpy(*dst, src, len);
	*dlen = len;

	return (CTAP_OK);
}

int
ctap_cred_set_rp(ctap_cred_t *c, const char *id, const char *name)
{
	int r;

	if (id == NULL || *id == '\0')
		return (CTAP_ERR_ARG);
	if ((r = dup_str(&c->rp_id, id)) != CTAP_OK)
		return (r);

	return (dup_str(&c->rp_name, name));
}

int
ctap_cred_set_user(ctap_cred_t *c, const unsigned char *id, size_t idlen,
    const char *name, const char *display_name)
{
	int r;

	/* CTAP caps user.id at 64 bytes */
	if (id == NULL || idlen == 0 || idlen > 64)
		return (CTAP_ERR_ARG);
	if ((r = dup_buf(&c->user_id, &c->user_id_len, id, idlen)) !=
	    CTAP_OK || (r = dup_str(&c->user_name, name)) != CTAP_OK)
		return (r);

	return (dup_str(&c->user_display, display_name));
}

int
ctap_cred_set_clientdata(ctap_cred_t *c, const unsigned char *ptr,
    size_t len)
{
	if (ptr == NULL || len == 0 || len > CTAP_CDATA_MAX)
		return (CTAP_ERR_ARG);

	return (dup_buf(&c->cdata, &c->cdata_len, ptr, len));
}

int
ctap_cred_exclude(ctap_cred_t *c, const unsigned char *id, size_t len)
{
	int r;

	if (id == NULL || len == 0 || len > 1024)
		return (CTAP_ERR_ARG);
	if (c->nexcl == CTAP_MAX_EXCLUDE)
		return (CTAP_ERR_ARG);
	if ((r = dup_buf(&c->excl[c->nexcl], &c->excl_len[c->nexcl], id,
	    len)) != CTAP_OK)
		return (r);
	c->nexcl++;

	return (CTAP_OK);
}

int
ctap_cred_set_rk(ctap_cred_t *c, bool rk)
{
	c->rk = rk;
	return (CTAP_OK);
}

int
ctap_cred_set_uv(ctap_cred_t *c, bool uv)
{
	c->uv = uv;
	return (CTAP_OK);
}

int
ctap_cred_set_prot(ctap_cred_t *c, int prot)
{
	if (prot < 0 || prot > CTAP_PROT_UV_REQUIRED)
		return (CTAP_ERR_ARG);
	c->prot = prot;

	return (CTAP_OK);
}

int
ctap_cred_set_hmac_secret(ctap_cred_t *c, bool on)
{
	c->hmac_secret = on;
	return (CTAP_OK);
}

static int
cred_build(const ctap_cred_t *c, fido_cred_t **out)
{
	fido_cred_t	*fc = NULL;
	size_t		 i;
	int		 r = CTAP_ERR_ARG;

	*out = NULL;
	if (c->rp_id == NULL || c->user_id == NULL || c->cdata == NULL)
		return (CTAP_ERR_ARG);
	if ((fc = fido_cred_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	if (fido_cred_set_type(fc, COSE_ES256) != FIDO_OK ||
	    fido_cred_set_clientdata(fc, c->cdata, c->cdata_len) != FIDO_OK ||
	    fido_cred_set_rp(fc, c->rp_id, c->rp_name) != FIDO_OK ||
	    fido_cred_set_user(fc, c->user_id, c->user_id_len, c->user_name,
	    c->user_display, NULL) != FIDO_OK ||
	    fido_cred_set_rk(fc, c->rk ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) !=
	    FIDO_OK ||
	    fido_cred_set_uv(fc, c->uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) !=
	    FIDO_OK)
		goto fail;
	if (c->hmac_secret &&
	    fido_cred_set_extensions(fc, FIDO_EXT_HMAC_SECRET) != FIDO_OK)
		goto fail;
	if (c->prot != 0 && fido_cred_set_prot(fc, c->prot) != FIDO_OK)
		goto fail;
	for (i = 0; i < c->nexcl; i++)
		if (fido_cred_exclude(fc, c->excl[i], c->excl_len[i]) !=
		    FIDO_OK)
			goto fail;
	*out = fc;
	fc = NULL;
	r = CTAP_OK;
fail:
	fido_cred_free(&fc);

	return (r);
}

static void
x5c_reset(ctap_cred_t *c)
{
	size_t i;

	for (i = 0; i < c->nx5c; i++) {
		free(c->x5c[i]);
		c->x5c[i] = NULL;
		c->x5c_len[i] = 0;
	}
	c->nx5c = 0;
}

/*
 * Every certificate of the statement's x5c: libfido2 1.12 keeps only
 * x5c[0] as a certificate, but the statement whole.  The first is the
 * one libfido2 verified the signature with, or the statement is not
 * used.
 */
static int
x5c_read(ctap_cred_t *c)
{
	struct cbor_load_result	 res;
	cbor_item_t		*m = NULL, *a = NULL, *x;
	struct cbor_pair	*p;
	const unsigned char	*stmt;
	size_t			 i, n, len;
	int			 r = CTAP_ERR_PROTOCOL;

	x5c_reset(c);
	stmt = fido_cred_attstmt_ptr(c->fc);
	len = fido_cred_attstmt_len(c->fc);
	if (stmt == NULL || len == 0 || fido_cred_x5c_ptr(c->fc) == NULL)
		return (CTAP_OK);
	if ((m = ctap_cbor_load(stmt, len, &res)) == NULL ||
	    !cbor_isa_map(m) || !cbor_map_is_definite(m))
		goto fail;
	p = cbor_map_handle(m);
	for (i = 0; i < cbor_map_size(m); i++)
		if (ctap_cbor_key_is(p[i].key, "x5c"))
			a = p[i].value;
	if (a == NULL || !cbor_isa_array(a) || !cbor_array_is_definite(a) ||
	    (n = cbor_array_size(a)) == 0 || n > CTAP_X5C_MAX)
		goto fail;
	for (i = 0; i < n; i++) {
		x = cbor_array_handle(a)[i];
		if (!cbor_isa_bytestring(x) || !cbor_bytestring_is_definite(x) ||
		    (len = cbor_bytestring_length(x)) == 0)
			goto fail;
		if ((c->x5c[i] = malloc(len)) == NULL) {
			r = CTAP_ERR_INTERNAL;
			goto fail;
		}
		memcpy(c->x5c[i], cbor_bytestring_handle(x), len);
		c->x5c_len[i] = len;
		c->nx5c = i + 1;
	}
	if (c->x5c_len[0] != fido_cred_x5c_len(c->fc) || memcmp(c->x5c[0],
	    fido_cred_x5c_ptr(c->fc), c->x5c_len[0]) != 0)
		goto fail;
	r = CTAP_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);
	if (r != CTAP_OK)
		x5c_reset(c);

	return (r);
}

/*
 * The attestationObject from the key's reply.  attStmt is copied as
 * libfido2 encoded it, authData as the key wrote it (the signature
 * covers its exact bytes).
 */
static int
attobj_build(ctap_cred_t *c)
{
	const unsigned char	*stmt;
	const char		*fmt;
	size_t			 stmt_len;
	int			 r;

	fmt = fido_cred_fmt(c->fc);
	stmt = fido_cred_attstmt_ptr(c->fc);
	stmt_len = fido_cred_attstmt_len(c->fc);
	if (fmt == NULL)
		return (CTAP_ERR_PROTOCOL);
	/* only "none" may come without a statement: the codec writes {} */
	if (stmt == NULL || stmt_len == 0) {
		if (strcmp(fmt, "none") != 0)
			return (CTAP_ERR_PROTOCOL);
		stmt = NULL;
		stmt_len = 0;
	}
	free(c->attobj);
	c->attobj = NULL;
	c->attobj_len = 0;
	r = ctap_attobj_encode(fmt, stmt, stmt_len,
	    fido_cred_authdata_raw_ptr(c->fc),
	    fido_cred_authdata_raw_len(c->fc), &c->attobj, &c->attobj_len);

	/* pieces the codec refuses came from the key */
	return (r == CTAP_ERR_ARG ? CTAP_ERR_PROTOCOL : r);
}

int
ctap_dev_make_cred(ctap_dev_t *d, ctap_cred_t *c, const char *pin)
{
	fido_cred_t	*fc = NULL;
	long long	 t0;
	int		 r, fr;
	char		*fmt = NULL;

	if (d == NULL || c == NULL || !d->open)
		return (CTAP_ERR_ARG);
	if (pin != NULL && ctap_pin_check(pin, CTAP_PIN_MIN) != CTAP_OK)
		return (CTAP_ERR_PIN_INVALID);
	if ((r = cred_build(c, &fc)) != CTAP_OK)
		goto fail;
	ctap_dev_begin(d, d->timeout_ms);
	t0 = now_ms();
	if ((fr = fido_dev_make_cred(d->dev, fc, pin)) != FIDO_OK) {
		r = ctap_pin_fail(d, fr, now_ms() - t0);
		goto fail;
	}
	fido_cred_free(&c->fc);
	c->fc = fc;
	fc = NULL;
	ctap_aaguid_str(fido_cred_aaguid_ptr(c->fc),
	    fido_cred_aaguid_len(c->fc), c->aaguid);
	if ((r = attobj_build(c)) != CTAP_OK || (r = x5c_read(c)) != CTAP_OK)
		goto fail;
	/* self-check before anything leaves the process */
	if (fido_cred_clientdata_hash_len(c->fc) != CTAP_CDH_LEN) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	if ((r = ctap_attobj_verify_cdh(c->attobj, c->attobj_len,
	    fido_cred_clientdata_hash_ptr(c->fc), c->rp_id, c->uv, c->prot,
	    c->hmac_secret, &fmt)) != CTAP_OK)
		goto fail;
	if (strcmp(fmt, "none") == 0)
		c->attestation = "none";
	else if (fido_cred_x5c_ptr(c->fc) != NULL)
		c->attestation = "basic";
	else
		c->attestation = "self";
	r = CTAP_OK;
fail:
	free(fmt);
	fido_cred_free(&fc);

	return (r);
}

/* one silent getAssertion for the credential; fa holds the reply */
static int
check_once(ctap_dev_t *d, const ctap_cred_t *c, const unsigned char *cdh,
    const char *pin, bool uv, fido_assert_t **fap)
{
	fido_assert_t	*fa;
	int		 fr;

	fido_assert_free(fap);
	if ((*fap = fa = fido_assert_new()) == NULL)
		return (FIDO_ERR_INTERNAL);
	if (fido_assert_set_rp(fa, c->rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(fa, cdh, 32) != FIDO_OK ||
	    fido_assert_allow_cred(fa, fido_cred_id_ptr(c->fc),
	    fido_cred_id_len(c->fc)) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_FALSE) != FIDO_OK ||
	    fido_assert_set_uv(fa, uv && pin == NULL ? FIDO_OPT_TRUE :
	    FIDO_OPT_OMIT) != FIDO_OK)
		return (FIDO_ERR_INTERNAL);
	ctap_dev_begin(d, d->timeout_ms);
	fr = fido_dev_get_assert(d->dev, fa, uv ? pin : NULL);

	return (fr);
}

/* a refusal that user verification could turn round */
static bool
wants_uv(int fr)
{
	return (fr == FIDO_ERR_NO_CREDENTIALS ||
	    fr == FIDO_ERR_PIN_REQUIRED ||
	    fr == FIDO_ERR_UNSUPPORTED_OPTION ||
	    fr == FIDO_ERR_INVALID_OPTION || fr == FIDO_ERR_OPERATION_DENIED);
}

/*
 * Prove the new credential works: a silent (up=false) getAssertion,
 * verified with the credential's public key.  User verification only
 * where the credential needs it (credProtect 3, or a key that refuses
 * without): the makeCredential already proved it with its UV flag, and
 * a PIN token costs two more exchanges and an ECDH on both sides.
 */
int
ctap_dev_check_cred(ctap_dev_t *d, const ctap_cred_t *c, const char *pin)
{
	fido_assert_t	*fa = NULL;
	es256_pk_t	*pk = NULL;
	unsigned char	 cdh[32];
	long long	 t0;
	bool		 uv;
	int		 r, fr;

	if (d == NULL || c == NULL || c->fc == NULL || !d->open)
		return (CTAP_ERR_ARG);
	if (RAND_bytes(cdh, sizeof(cdh)) != 1)
		return (CTAP_ERR_INTERNAL);
	if ((pk = es256_pk_new()) == NULL ||
	    es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c->fc),
	    fido_cred_pubkey_len(c->fc)) != FIDO_OK) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	uv = c->prot == CTAP_PROT_UV_REQUIRED || pin == NULL;
	t0 = now_ms();
	fr = check_once(d, c, cdh, pin, uv, &fa);
	if (!uv && wants_uv(fr)) {
		uv = true;
		t0 = now_ms();
		fr = check_once(d, c, cdh, pin, uv, &fa);
	}
	if (fr != FIDO_OK) {
		r = fr == FIDO_ERR_INTERNAL ? CTAP_ERR_INTERNAL :
		    ctap_pin_fail(d, fr, now_ms() - t0);
		goto fail;
	}
	if (fido_assert_count(fa) != 1 ||
	    fido_assert_verify(fa, 0, COSE_ES256, pk) != FIDO_OK ||
	    (uv && pin != NULL && !(fido_assert_flags(fa, 0) & 0x04))) {
		r = CTAP_ERR_VERIFY;
		goto fail;
	}
	r = CTAP_OK;
fail:
	explicit_bzero(cdh, sizeof(cdh));
	es256_pk_free(&pk);
	fido_assert_free(&fa);

	return (r);
}

int
ctap_dev_has_cred(ctap_dev_t *d, const char *rp_id, const unsigned char *id,
    size_t len, const char *pin)
{
	fido_assert_t	*fa = NULL;
	unsigned char	 cdh[32];
	long long	 t0;
	int		 r, fr;

	if (d == NULL || !d->open || rp_id == NULL || id == NULL)
		return (CTAP_ERR_ARG);
	if (RAND_bytes(cdh, sizeof(cdh)) != 1)
		return (CTAP_ERR_INTERNAL);
	if ((fa = fido_assert_new()) == NULL ||
	    fido_assert_set_rp(fa, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata_hash(fa, cdh, sizeof(cdh)) !=
	    FIDO_OK || fido_assert_allow_cred(fa, id, len) != FIDO_OK ||
	    fido_assert_set_up(fa, FIDO_OPT_FALSE) != FIDO_OK) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	ctap_dev_begin(d, d->timeout_ms);
	t0 = now_ms();
	fr = fido_dev_get_assert(d->dev, fa, pin);
	r = fr == FIDO_OK ? CTAP_OK : ctap_pin_fail(d, fr, now_ms() - t0);
fail:
	fido_assert_free(&fa);

	return (r);
}

const char *
ctap_cred_fmt(const ctap_cred_t *c)
{
	return (c->fc != NULL ? fido_cred_fmt(c->fc) : NULL);
}

const unsigned char *
ctap_cred_id_ptr(const ctap_cred_t *c)
{
	return (c->fc != NULL ? fido_cred_id_ptr(c->fc) : NULL);
}

size_t
ctap_cred_id_len(const ctap_cred_t *c)
{
	return (c->fc != NULL ? fido_cred_id_len(c->fc) : 0);
}

const char *
ctap_cred_aaguid(const ctap_cred_t *c)
{
	return (c->aaguid);
}

const unsigned char *
ctap_cred_x5c_ptr(const ctap_cred_t *c)
{
	return (c->fc != NULL ? fido_cred_x5c_ptr(c->fc) : NULL);
}

size_t
ctap_cred_x5c_len(const ctap_cred_t *c)
{
	return (c->fc != NULL ? fido_cred_x5c_len(c->fc) : 0);
}

size_t
ctap_cred_x5c_count(const ctap_cred_t *c)
{
	return (c->nx5c);
}

int
ctap_cred_x5c_at(const ctap_cred_t *c, size_t i, const unsigned char **ptr,
    size_t *len)
{
	if (i >= c->nx5c)
		return (-1);
	*ptr = c->x5c[i];
	*len = c->x5c_len[i];

	return (0);
}

const unsigned char *
ctap_cred_attobj_ptr(const ctap_cred_t *c)
{
	return (c->attobj);
}

size_t
ctap_cred_attobj_len(const ctap_cred_t *c)
{
	return (c->attobj_len);
}

const unsigned char *
ctap_cred_clientdata_ptr(const ctap_cred_t *c)
{
	return (c->cdata);
}

size_t
ctap_cred_clientdata_len(const ctap_cred_t *c)
{
	return (c->cdata_len);
}

const char *
ctap_cred_attestation(const ctap_cred_t *c)
{
	return (c->attestation);
}

uint8_t
ctap_cred_flags(const ctap_cred_t *c)
{
	return (c->fc != NULL ? fido_cred_flags(c->fc) : 0);
}
