/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Checks of a WebAuthn attestationObject: its shape (attobj.c), the
 * authenticator data (rpIdHash, flags, attested credential, extensions)
 * by our own parsing, and the packed statement as libfido2 reads it.
 */

#include <openssl/evp.h>

#include <cbor.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

/* the authData extension map must say exactly what we asked for */
static int
check_ext(const unsigned char *p, size_t len, int prot, bool hmac)
{
	struct cbor_load_result	 res;
	cbor_item_t		*m = NULL, *v;
	struct cbor_pair	*pairs;
	size_t			 i, n;
	bool			 got_hmac = false;
	int			 got_prot = 0, r = CTAP_ERR_VERIFY;

	if ((m = ctap_cbor_load(p, len, &res)) == NULL || res.read != len ||
	    !cbor_isa_map(m))
		goto fail;
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (i = 0; i < n; i++) {
		v = pairs[i].value;
		/* no cast may turn 2^32 + 1 into level 1 */
		if (ctap_cbor_key_is(pairs[i].key, "credProtect") &&
		    cbor_isa_uint(v))
			got_prot = cbor_get_int(v) <= CTAP_PROT_UV_REQUIRED ?
			    (int)cbor_get_int(v) : -1;
		/* cbor_is_bool() asserts on a float: ask is_ctrl first */
		else if (ctap_cbor_key_is(pairs[i].key, "hmac-secret") &&
		    cbor_isa_float_ctrl(v) && cbor_float_ctrl_is_ctrl(v) &&
		    cbor_is_bool(v))
			got_hmac = cbor_get_bool(v);
	}
	if (got_prot != prot || got_hmac != hmac)
		goto fail;
	r = CTAP_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);

	return (r);
}

static int
check_authdata(const unsigned char *ad, size_t len, const char *rp_id,
    bool uv, int prot, bool hmac)
{
	struct cbor_load_result	 res;
	cbor_item_t		*pk = NULL;
	unsigned char		 h[32];
	unsigned int		 hlen = sizeof(h);
	size_t			 off, idlen;
	uint8_t			 flags;

	if (len < CTAP_AUTHDATA_MIN || EVP_Digest(rp_id, strlen(rp_id), h,
	    &hlen, EVP_sha256(), NULL) != 1 || memcmp(ad, h, 32) != 0)
		return (CTAP_ERR_VERIFY);
	flags = ad[32];
	if (!(flags & CTAP_AD_UP) || (uv && !(flags & CTAP_AD_UV)) ||
	    ctap_authdata_cred_id(ad, len, &off, &idlen) < 0)
		return (CTAP_ERR_VERIFY);
	off += idlen;
	if ((pk = ctap_cbor_load(ad + off, len - off, &res)) == NULL)
		return (CTAP_ERR_VERIFY);
	cbor_decref(&pk);
	off += res.read;
	if (!(flags & CTAP_AD_ED))
		return (off == len && prot == 0 && !hmac ? CTAP_OK :
		    CTAP_ERR_VERIFY);

	return (check_ext(ad + off, len - off, prot, hmac));
}

/* the statement's "alg" is ES256 (-7), the one key type we take */
static bool
stmt_es256(const ctap_attobj_t *a)
{
	struct cbor_load_result	 res;
	struct cbor_pair	*p;
	cbor_item_t		*m;
	size_t			 i, n;
	bool			 ok = false;

	if ((m = ctap_cbor_load(ctap_attobj_stmt_ptr(a),
	    ctap_attobj_stmt_len(a), &res)) == NULL)
		return (false);
	if (!cbor_isa_map(m) || !cbor_map_is_definite(m))
		goto out;
	p = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (i = 0; i < n; i++)
		if (ctap_cbor_key_is(p[i].key, "alg")) {
			ok = cbor_isa_negint(p[i].value) &&
			    cbor_int_get_width(p[i].value) == CBOR_INT_8 &&
			    cbor_get_uint8(p[i].value) == 6;
			break;
		}
out:
	cbor_decref(&m);

	return (ok);
}

int
ctap_attobj_verify(const unsigned char *attobj, size_t len,
    const unsigned char *cdata, size_t cdata_len, const char *rp_id, bool uv,
    int prot, bool hmac, char **fmt_out)
{
	unsigned char	cdh[CTAP_CDH_LEN];

	if (fmt_out != NULL)
		*fmt_out = NULL;
	if (cdata == NULL)
		return (CTAP_ERR_ARG);
	if (EVP_Digest(cdata, cdata_len, cdh, NULL, EVP_sha256(), NULL) != 1)
		return (CTAP_ERR_INTERNAL);

	return (ctap_attobj_verify_cdh(attobj, len, cdh, rp_id, uv, prot, hmac,
	    fmt_out));
}

int
ctap_attobj_verify_cdh(const unsigned char *attobj, size_t len,
    const unsigned char *cdh, const char *rp_id, bool uv, int prot, bool hmac,
    char **fmt_out)
{
	ctap_attobj_t	*a = NULL;
	fido_cred_t	*fc = NULL;
	const char	*fmt;
	int		 r, fr;

	ctap_init();
	if (fmt_out != NULL)
		*fmt_out = NULL;
	if (attobj == NULL || cdh == NULL || rp_id == NULL)
		return (CTAP_ERR_ARG);
	if ((a = ctap_attobj_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	if ((r = ctap_attobj_parse(a, attobj, len)) != CTAP_OK)
		goto fail;
	fmt = ctap_attobj_fmt(a);
	if ((r = check_authdata(ctap_attobj_authdata_ptr(a),
	    ctap_attobj_authdata_len(a), rp_id, uv, prot, hmac)) != CTAP_OK)
		goto fail;
	if (strcmp(fmt, "none") == 0) {
		/* WebAuthn 8.7: the statement of "none" is the empty map */
		if (ctap_attobj_stmt_len(a) != 1) {
			r = CTAP_ERR_VERIFY;
			goto fail;
		}
	} else {
		if (strcmp(fmt, "packed") != 0) {
			r = CTAP_ERR_UNSUPPORTED;
			goto fail;
		}
		if ((fc = fido_cred_new()) == NULL) {
			r = CTAP_ERR_INTERNAL;
			goto fail;
		}
		if (fido_cred_set_type(fc, COSE_ES256) != FIDO_OK ||
		    fido_cred_set_clientdata_hash(fc, cdh, CTAP_CDH_LEN) !=
		    FIDO_OK ||
		    fido_cred_set_rp(fc, rp_id, NULL) != FIDO_OK ||
		    (uv && fido_cred_set_uv(fc, FIDO_OPT_TRUE) != FIDO_OK) ||
		    (hmac && fido_cred_set_extensions(fc,
		    FIDO_EXT_HMAC_SECRET) != FIDO_OK) ||
		    (prot && fido_cred_set_prot(fc, prot) != FIDO_OK) ||
		    fido_cred_set_authdata_raw(fc, ctap_attobj_authdata_ptr(a),
		    ctap_attobj_authdata_len(a)) != FIDO_OK ||
		    fido_cred_set_fmt(fc, fmt) != FIDO_OK ||
		    fido_cred_set_attstmt(fc, ctap_attobj_stmt_ptr(a),
		    ctap_attobj_stmt_len(a)) != FIDO_OK) {
			r = CTAP_ERR_VERIFY;
			goto fail;
		}
		/*
		 * The statement as libfido2 read it: basic (x5c) under the
		 * leaf's key, kept from the last credential of that
		 * certificate; self under the credential's own.
		 */
		if (fido_cred_x5c_ptr(fc) != NULL) {
			if (!stmt_es256(a) || (r = ctap_x5c_verify(
			    fido_cred_x5c_ptr(fc), fido_cred_x5c_len(fc),
			    ctap_attobj_authdata_ptr(a),
			    ctap_attobj_authdata_len(a), cdh,
			    fido_cred_sig_ptr(fc), fido_cred_sig_len(fc))) !=
			    CTAP_OK) {
				r = CTAP_ERR_VERIFY;
				goto fail;
			}
		} else if ((fr = fido_cred_verify_self(fc)) != FIDO_OK) {
			r = CTAP_ERR_VERIFY;
			goto fail;
		}
	}
	if (fmt_out != NULL && (*fmt_out = strdup(fmt)) == NULL) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	r = CTAP_OK;
fail:
	fido_cred_free(&fc);
	ctap_attobj_free(&a);

	return (r);
}
