/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Checks of a WebAuthn attestationObject: the authenticator data
 * (rpIdHash, flags, attested credential, extensions) by our own
 * parsing, and the packed signature through libfido2.
 */

#include <openssl/evp.h>

#include <cbor.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

#define AD_UP	0x01
#define AD_UV	0x04
#define AD_AT	0x40
#define AD_ED	0x80

struct attobj {
	char		*fmt;
	unsigned char	*stmt;		/* CBOR map, re-encoded */
	size_t		 stmt_len;
	unsigned char	*ad;		/* raw authData */
	size_t		 ad_len;
	bool		 has_x5c;
};

static void
attobj_reset(struct attobj *a)
{
	free(a->fmt);
	free(a->stmt);
	free(a->ad);
	memset(a, 0, sizeof(*a));
}

static bool
key_is(const cbor_item_t *k, const char *s)
{
	size_t n = strlen(s);

	return (cbor_isa_string(k) && cbor_string_is_definite(k) &&
	    cbor_string_length(k) == n &&
	    memcmp(cbor_string_handle(k), s, n) == 0);
}

static int
attobj_parse(const unsigned char *ptr, size_t len, struct attobj *a)
{
	struct cbor_load_result	 res;
	cbor_item_t		*item = NULL;
	struct cbor_pair	*pairs;
	size_t			 i, n, blen;
	unsigned char		*buf = NULL;
	int			 r = CTAP_ERR_PROTOCOL;

	memset(a, 0, sizeof(*a));
	if (len == 0 || len > CTAP_ATTOBJ_MAX)
		return (r);
	if ((item = cbor_load(ptr, len, &res)) == NULL ||
	    res.read != len || !cbor_isa_map(item) ||
	    !cbor_map_is_definite(item) || cbor_map_size(item) != 3)
		goto fail;
	pairs = cbor_map_handle(item);
	n = cbor_map_size(item);
	for (i = 0; i < n; i++) {
		cbor_item_t *k = pairs[i].key, *v = pairs[i].value;

		if (key_is(k, "fmt") && cbor_isa_string(v) &&
		    cbor_string_is_definite(v) && a->fmt == NULL) {
			blen = cbor_string_length(v);
			if (blen == 0 || blen > 32 ||
			    (a->fmt = calloc(1, blen + 1)) == NULL)
				goto fail;
			memcpy(a->fmt, cbor_string_handle(v), blen);
		} else if (key_is(k, "authData") && cbor_isa_bytestring(v) &&
		    cbor_bytestring_is_definite(v) && a->ad == NULL) {
			a->ad_len = cbor_bytestring_length(v);
			if (a->ad_len == 0 ||
			    (a->ad = malloc(a->ad_len)) == NULL)
				goto fail;
			memcpy(a->ad, cbor_bytestring_handle(v), a->ad_len);
		} else if (key_is(k, "attStmt") && cbor_isa_map(v) &&
		    a->stmt == NULL) {
			size_t j, bsz, m = cbor_map_size(v);
			struct cbor_pair *sp = cbor_map_handle(v);

			for (j = 0; j < m; j++)
				if (key_is(sp[j].key, "x5c"))
					a->has_x5c = true;
			if ((blen = cbor_serialize_alloc(v, &buf, &bsz)) == 0)
				goto fail;
			a->stmt = buf;
			a->stmt_len = blen;
			buf = NULL;
		} else
			goto fail;
	}
	if (a->fmt == NULL || a->ad == NULL || a->stmt == NULL)
		goto fail;
	r = CTAP_OK;
fail:
	free(buf);
	if (item != NULL)
		cbor_decref(&item);
	if (r != CTAP_OK)
		attobj_reset(a);

	return (r);
}

/* the authData extension map must say exactly what we asked for */
static int
check_ext(const unsigned char *p, size_t len, int prot, bool hmac)
{
	struct cbor_load_result	 res;
	cbor_item_t		*m = NULL;
	struct cbor_pair	*pairs;
	size_t			 i, n;
	bool			 got_hmac = false;
	int			 got_prot = 0, r = CTAP_ERR_VERIFY;

	if ((m = cbor_load(p, len, &res)) == NULL || res.read != len ||
	    !cbor_isa_map(m))
		goto fail;
	pairs = cbor_map_handle(m);
	n = cbor_map_size(m);
	for (i = 0; i < n; i++) {
		if (key_is(pairs[i].key, "credProtect") &&
		    cbor_isa_uint(pairs[i].value))
			got_prot = (int)cbor_get_int(pairs[i].value);
		else if (key_is(pairs[i].key, "hmac-secret") &&
		    cbor_is_bool(pairs[i].value))
			got_hmac = cbor_get_bool(pairs[i].value);
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

	if (len < 37 || EVP_Digest(rp_id, strlen(rp_id), h, &hlen,
	    EVP_sha256(), NULL) != 1 || memcmp(ad, h, 32) != 0)
		return (CTAP_ERR_VERIFY);
	flags = ad[32];
	if (!(flags & AD_UP) || (uv && !(flags & AD_UV)) || !(flags & AD_AT))
		return (CTAP_ERR_VERIFY);
	off = 37 + 16;
	if (len < off + 2)
		return (CTAP_ERR_VERIFY);
	idlen = (size_t)ad[off] << 8 | ad[off + 1];
	off += 2;
	if (idlen == 0 || len < off + idlen)
		return (CTAP_ERR_VERIFY);
	off += idlen;
	if ((pk = cbor_load(ad + off, len - off, &res)) == NULL)
		return (CTAP_ERR_VERIFY);
	cbor_decref(&pk);
	off += res.read;
	if (!(flags & AD_ED))
		return (off == len && prot == 0 && !hmac ? CTAP_OK :
		    CTAP_ERR_VERIFY);

	return (check_ext(ad + off, len - off, prot, hmac));
}

int
ctap_attobj_verify(const unsigned char *attobj, size_t len,
    const unsigned char *cdata, size_t cdata_len, const char *rp_id, bool uv,
    int prot, bool hmac, char **fmt_out)
{
	struct attobj	 a;
	fido_cred_t	*fc = NULL;
	int		 r, fr;

	ctap_init();
	if (fmt_out != NULL)
		*fmt_out = NULL;
	if (attobj == NULL || cdata == NULL || rp_id == NULL)
		return (CTAP_ERR_ARG);
	if ((r = attobj_parse(attobj, len, &a)) != CTAP_OK)
		return (r);
	if ((r = check_authdata(a.ad, a.ad_len, rp_id, uv, prot,
	    hmac)) != CTAP_OK)
		goto fail;
	if (strcmp(a.fmt, "none") != 0) {
		if (strcmp(a.fmt, "packed") != 0) {
			r = CTAP_ERR_UNSUPPORTED;
			goto fail;
		}
		if ((fc = fido_cred_new()) == NULL) {
			r = CTAP_ERR_INTERNAL;
			goto fail;
		}
		if (fido_cred_set_type(fc, COSE_ES256) != FIDO_OK ||
		    fido_cred_set_clientdata(fc, cdata, cdata_len) !=
		    FIDO_OK ||
		    fido_cred_set_rp(fc, rp_id, NULL) != FIDO_OK ||
		    (uv && fido_cred_set_uv(fc, FIDO_OPT_TRUE) != FIDO_OK) ||
		    (hmac && fido_cred_set_extensions(fc,
		    FIDO_EXT_HMAC_SECRET) != FIDO_OK) ||
		    (prot && fido_cred_set_prot(fc, prot) != FIDO_OK) ||
		    fido_cred_set_authdata_raw(fc, a.ad, a.ad_len) !=
		    FIDO_OK ||
		    fido_cred_set_fmt(fc, a.fmt) != FIDO_OK ||
		    fido_cred_set_attstmt(fc, a.stmt, a.stmt_len) != FIDO_OK) {
			r = CTAP_ERR_VERIFY;
			goto fail;
		}
		fr = a.has_x5c ? fido_cred_verify(fc) :
		    fido_cred_verify_self(fc);
		if (fr != FIDO_OK) {
			r = CTAP_ERR_VERIFY;
			goto fail;
		}
	}
	if (fmt_out != NULL && (*fmt_out = strdup(a.fmt)) == NULL) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	r = CTAP_OK;
fail:
	fido_cred_free(&fc);
	attobj_reset(&a);

	return (r);
}
