/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * authenticatorMakeCredential (0x01), credential ids, and the request
 * helpers shared with getAssertion.
 *
 * A credential id is the credential's private key wrapped under the
 * authenticator's wrapping key, bound to the rpIdHash:
 *   0x01 | nonce[12] | AES-256-GCM(flags | credProtect | d[32]) | tag[16]
 * (63 bytes). Resident credentials are also recorded in the state, with
 * their rp and user, for getAssertion without allowList and credMgmt.
 */

#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define CRED_ID_VERSION 0x01
#define CRED_FLAG_RK	0x01
#define CRED_FLAG_HMAC	0x02

#define AD_UP 0x01
#define AD_UV 0x04
#define AD_AT 0x40
#define AD_ED 0x80

int
cred_wrap(vauth_t *v, const unsigned char *rpid_hash, int prot, int flags,
    EVP_PKEY *k, unsigned char *id)
{
	unsigned char pt[34];
	int r = -1;

	pt[0] = (unsigned char)flags;
	pt[1] = (unsigned char)prot;
	id[0] = CRED_ID_VERSION;
	if (vc_p256_priv(k, pt + 2) < 0 || vc_random(id + 1, 12) < 0 ||
	    vc_aes256_gcm(1, v->wrap_key, id + 1, rpid_hash, 32, pt, sizeof(pt),
		id + 13, id + 13 + sizeof(pt)) < 0)
		goto fail;

	r = 0;
fail:
	explicit_bzero(pt, sizeof(pt));

	return (r);
}

/* The key inside id if id is ours and bound to rpid_hash, else NULL. */
EVP_PKEY *
cred_unwrap(vauth_t *v, const unsigned char *id, size_t len,
    const unsigned char *rpid_hash, int *prot, int *flags)
{
	unsigned char pt[34], tag[16];
	EVP_PKEY *k = NULL;

	if (len != VAUTH_CRED_ID_LEN || id[0] != CRED_ID_VERSION)
		return (NULL);
	memcpy(tag, id + 13 + sizeof(pt), sizeof(tag));
	if (vc_aes256_gcm(0, v->wrap_key, id + 1, rpid_hash, 32, id + 13,
		sizeof(pt), pt, tag) < 0)
		goto fail;
	*flags = pt[0];
	*prot = pt[1];
	k = vc_p256_from_priv(pt + 2);
fail:
	explicit_bzero(pt, sizeof(pt));

	return (k);
}

struct rcred *
rcred_find(vauth_t *v, const unsigned char *id, size_t len)
{
	size_t i;

	for (i = 0; i < v->ncreds; i++)
		if (v->creds[i].id_len == len &&
		    memcmp(v->creds[i].id, id, len) == 0)
			return (&v->creds[i]);

	return (NULL);
}

/*
 * pinUvAuthParam and pinUvAuthProtocol: *param is NULL when absent.
 * Returns a CTAP status.
 */
int
parse_pin_uv(vauth_t *v, const cbor_item_t *param, const cbor_item_t *proto,
    const unsigned char **p, size_t *plen, int *pr)
{
	uint64_t n;

	*p = NULL;
	*plen = 0;
	*pr = 0;
	if (param == NULL)
		return (CTAP2_OK);
	if (cbu_as_bytes(param, p, plen) < 0) {
		*p = NULL;
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	}
	if (proto == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_uint(proto, &n) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (!((n == 1 && (v->protocols & VAUTH_PROTO_1)) ||
		(n == 2 && (v->protocols & VAUTH_PROTO_2))))
		return (CTAP1_ERR_INVALID_PARAMETER);
	*pr = (int)n;

	return (CTAP2_OK);
}

/* zero-length pinUvAuthParam: "select this authenticator by touch" */
int
touch_check(vauth_t *v)
{
	int st;

	vlog(v, "touch request (empty pinUvAuthParam)");
	if ((st = ctap2_up(v)) != CTAP2_OK)
		return (st);

	return (v->has_pin ? CTAP2_ERR_PIN_INVALID : CTAP2_ERR_PIN_NOT_SET);
}

static int
is_touch_request(const cbor_item_t *param)
{
	return (param != NULL && cbor_isa_bytestring(param) &&
	    cbor_bytestring_is_definite(param) &&
	    cbor_bytestring_length(param) == 0);
}

/* Copy optional text, truncated to max bytes on a UTF-8 boundary. */
static int
opt_text(const cbor_item_t *it, char **s, size_t max)
{
	size_t n;

	*s = NULL;
	if (it == NULL)
		return (CTAP2_OK);
	if (cbu_as_text(it, s, VAUTH_MAX_MSG) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((n = strlen(*s)) > max) {
		n = max;
		while (n > 0 && ((unsigned char)(*s)[n] & 0xc0) == 0x80)
			n--;
		(*s)[n] = '\0';
	}

	return (CTAP2_OK);
}

struct mc_req {
	const unsigned char *cdh;
	char *rp_id;
	char *rp_name;
	const unsigned char *user_id;
	size_t user_id_len;
	char *user_name;
	char *user_display;
	const cbor_item_t *exclude;
	int prot;
	int hmac;
	int rk;
	int uv;
	const unsigned char *param;
	size_t param_len;
	int proto;
};

static void
mc_req_free(struct mc_req *r)
{
	free(r->rp_id);
	free(r->rp_name);
	free(r->user_name);
	free(r->user_display);
	memset(r, 0, sizeof(*r));
}

static int
parse_rp_user(const cbor_item_t *in, struct mc_req *r)
{
	const cbor_item_t *rp, *user, *it;
	int st;

	if ((rp = cbu_get(in, 2)) == NULL || (user = cbu_get(in, 3)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (!cbor_isa_map(rp) || !cbor_isa_map(user))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((it = cbu_get_str(rp, "id")) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_text(it, &r->rp_id, VAUTH_MAX_RPID_LEN) < 0)
		return (cbor_isa_string(it) ? CTAP2_ERR_LIMIT_EXCEEDED :
					      CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((st = opt_text(cbu_get_str(rp, "name"), &r->rp_name,
		 VAUTH_MAX_NAME_LEN)) != CTAP2_OK)
		return (st);
	if ((it = cbu_get_str(user, "id")) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_bytes(it, &r->user_id, &r->user_id_len) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (r->user_id_len == 0 || r->user_id_len > VAUTH_MAX_USERID_LEN)
		return (CTAP1_ERR_INVALID_PARAMETER);
	if ((st = opt_text(cbu_get_str(user, "name"), &r->user_name,
		 VAUTH_MAX_NAME_LEN)) != CTAP2_OK ||
	    (st = opt_text(cbu_get_str(user, "displayName"), &r->user_display,
		 VAUTH_MAX_NAME_LEN)) != CTAP2_OK)
		return (st);

	return (CTAP2_OK);
}

static int
parse_algs(const cbor_item_t *in)
{
	const cbor_item_t *a, *e, *alg, *type;
	size_t i;
	int64_t n;
	int found = 0;

	if ((a = cbu_get(in, 4)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (!cbor_isa_array(a))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	for (i = 0; i < cbor_array_size(a); i++) {
		e = cbor_array_handle(a)[i];
		if (!cbor_isa_map(e))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		alg = cbu_get_str(e, "alg");
		type = cbu_get_str(e, "type");
		if (alg == NULL || type == NULL)
			return (CTAP2_ERR_MISSING_PARAMETER);
		if (cbu_as_int(alg, &n) < 0 || !cbor_isa_string(type))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if (n == -7 && cbor_string_length(type) == 10 &&
		    memcmp(cbor_string_handle(type), "public-key", 10) == 0)
			found = 1;
	}

	return (found ? CTAP2_OK : CTAP2_ERR_UNSUPPORTED_ALGORITHM);
}

/* check an allowList/excludeList: array of {id: bytes, type: text} */
int
check_cred_list(const cbor_item_t *l)
{
	const cbor_item_t *e, *id, *type;
	size_t i;

	if (!cbor_isa_array(l))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (cbor_array_size(l) > VAUTH_MAX_LIST)
		return (CTAP2_ERR_LIMIT_EXCEEDED);
	for (i = 0; i < cbor_array_size(l); i++) {
		e = cbor_array_handle(l)[i];
		if (!cbor_isa_map(e))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		id = cbu_get_str(e, "id");
		type = cbu_get_str(e, "type");
		if (id == NULL || type == NULL)
			return (CTAP2_ERR_MISSING_PARAMETER);
		if (!cbor_isa_bytestring(id) ||
		    !cbor_bytestring_is_definite(id) || !cbor_isa_string(type))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	}

	return (CTAP2_OK);
}

/* entry i of a checked list, if it is a "public-key" credential */
int
cred_list_entry(const cbor_item_t *l, size_t i, const unsigned char **id,
    size_t *len)
{
	const cbor_item_t *e = cbor_array_handle(l)[i], *type;

	type = cbu_get_str(e, "type");
	if (cbor_string_length(type) != 10 ||
	    memcmp(cbor_string_handle(type), "public-key", 10) != 0)
		return (-1);

	return (cbu_as_bytes(cbu_get_str(e, "id"), id, len));
}

static int
parse_ext_opts(const cbor_item_t *in, struct mc_req *r)
{
	const cbor_item_t *ext, *opt, *it;
	uint64_t n;
	int b;

	if ((ext = cbu_get(in, 6)) != NULL) {
		if (!cbor_isa_map(ext))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if ((it = cbu_get_str(ext, "credProtect")) != NULL) {
			if (cbu_as_uint(it, &n) < 0)
				return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
			if (n >= 1 && n <= 3)
				r->prot = (int)n;
		}
		if ((it = cbu_get_str(ext, "hmac-secret")) != NULL) {
			if (cbu_as_bool(it, &b) < 0)
				return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
			r->hmac = b;
		}
	}
	if ((opt = cbu_get(in, 7)) != NULL) {
		if (!cbor_isa_map(opt))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if ((it = cbu_get_str(opt, "rk")) != NULL &&
		    cbu_as_bool(it, &r->rk) < 0)
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if ((it = cbu_get_str(opt, "uv")) != NULL &&
		    cbu_as_bool(it, &r->uv) < 0)
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if ((it = cbu_get_str(opt, "up")) != NULL) {
			if (cbu_as_bool(it, &b) < 0)
				return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
			if (!b)
				return (CTAP2_ERR_INVALID_OPTION);
		}
	}

	return (CTAP2_OK);
}

static int
parse_mc(vauth_t *v, const cbor_item_t *in, struct mc_req *r)
{
	const cbor_item_t *it;
	size_t n;
	int st;

	if ((it = cbu_get(in, 1)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_bytes(it, &r->cdh, &n) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (n != 32)
		return (CTAP1_ERR_INVALID_PARAMETER);
	if ((st = parse_rp_user(in, r)) != CTAP2_OK ||
	    (st = parse_algs(in)) != CTAP2_OK)
		return (st);
	if ((r->exclude = cbu_get(in, 5)) != NULL &&
	    (st = check_cred_list(r->exclude)) != CTAP2_OK)
		return (st);
	if ((st = parse_ext_opts(in, r)) != CTAP2_OK)
		return (st);

	return (parse_pin_uv(v, cbu_get(in, 8), cbu_get(in, 9), &r->param,
	    &r->param_len, &r->proto));
}

static struct rcred *
rcred_find_user(vauth_t *v, const char *rp_id, const unsigned char *uid,
    size_t uidlen)
{
	size_t i;

	for (i = 0; i < v->ncreds; i++)
		if (strcmp(v->creds[i].rp_id, rp_id) == 0 &&
		    v->creds[i].user_id_len == uidlen &&
		    memcmp(v->creds[i].user_id, uid, uidlen) == 0)
			return (&v->creds[i]);

	return (NULL);
}

/* Record (or replace) a resident credential. */
static int
store_rk(vauth_t *v, const struct mc_req *r, const unsigned char *id)
{
	struct rcred c, *old, *p;

	memset(&c, 0, sizeof(c));
	if ((c.id = malloc(VAUTH_CRED_ID_LEN)) == NULL ||
	    (c.rp_id = vstrdup(r->rp_id)) == NULL ||
	    (r->rp_name && (c.rp_name = vstrdup(r->rp_name)) == NULL) ||
	    (c.user_id = malloc(r->user_id_len)) == NULL ||
	    (r->user_name && (c.user_name = vstrdup(r->user_name)) == NULL) ||
	    (r->user_display &&
		(c.user_display = vstrdup(r->user_display)) == NULL))
		goto fail;
	memcpy(c.id, id, VAUTH_CRED_ID_LEN);
	c.id_len = VAUTH_CRED_ID_LEN;
	memcpy(c.user_id, r->user_id, r->user_id_len);
	c.user_id_len = r->user_id_len;
	c.prot = r->prot ? r->prot : 1;
	c.seq = ++v->cred_seq;

	if ((old = rcred_find_user(v, r->rp_id, r->user_id, r->user_id_len)) !=
	    NULL) {
		rcred_clear(old);
		*old = c;
		return (0);
	}
	if ((p = reallocarray(v->creds, v->ncreds + 1, sizeof(*p))) == NULL)
		goto fail;
	v->creds = p;
	v->creds[v->ncreds++] = c;

	return (0);
fail:
	rcred_clear(&c);

	return (-1);
}

/* extensions output: {"credProtect": n, "hmac-secret": true} */
static int
ext_output(const struct mc_req *r, unsigned char **enc, size_t *len)
{
	cbor_item_t *m = NULL;
	int ret = -1;

	*enc = NULL;
	*len = 0;
	if (r->prot == 0 && !r->hmac)
		return (0);
	if ((m = cbu_map()) == NULL ||
	    (r->prot &&
		cbu_put_str(m, "credProtect", cbu_uint((uint64_t)r->prot)) <
		    0) ||
	    (r->hmac && cbu_put_str(m, "hmac-secret", cbu_bool(1)) < 0) ||
	    cbu_encode(m, 0, enc, len) < 0)
		goto fail;

	ret = 0;
fail:
	if (m != NULL)
		cbor_decref(&m);

	return (ret);
}

static int
auth_data(vauth_t *v, const struct mc_req *r, const unsigned char *rpid_hash,
    int uv, const unsigned char *id, EVP_PKEY *k, unsigned char **ad,
    size_t *adlen)
{
	cbor_item_t *cose = NULL;
	unsigned char *cenc = NULL, *eenc = NULL, *p = NULL, x[32], y[32];
	size_t clen = 0, elen = 0, n;
	int ret = -1;

	if (vc_p256_pub(k, x, y) < 0 ||
	    (cose = cbu_cose_es256(x, y, -7)) == NULL ||
	    cbu_encode(cose, 0, &cenc, &clen) < 0 ||
	    ext_output(r, &eenc, &elen) < 0)
		goto fail;
	n = 32 + 1 + 4 + 16 + 2 + VAUTH_CRED_ID_LEN + clen + elen;
	if ((p = malloc(n)) == NULL)
		goto fail;
	memcpy(p, rpid_hash, 32);
	p[32] = AD_UP | AD_AT | (uv ? AD_UV : 0) | (elen ? AD_ED : 0);
	p[33] = (unsigned char)(v->sign_count >> 24);
	p[34] = (unsigned char)(v->sign_count >> 16);
	p[35] = (unsigned char)(v->sign_count >> 8);
	p[36] = (unsigned char)v->sign_count;
	memcpy(p + 37, v->aaguid, 16);
	p[53] = 0;
	p[54] = VAUTH_CRED_ID_LEN;
	memcpy(p + 55, id, VAUTH_CRED_ID_LEN);
	memcpy(p + 55 + VAUTH_CRED_ID_LEN, cenc, clen);
	if (elen)
		memcpy(p + 55 + VAUTH_CRED_ID_LEN + clen, eenc, elen);
	*ad = p;
	*adlen = n;
	p = NULL;

	ret = 0;
fail:
	if (cose != NULL)
		cbor_decref(&cose);
	free(cenc);
	free(eenc);
	free(p);

	return (ret);
}

/* excludeList: a credential of ours for this rp ends the request */
static int
check_exclude(vauth_t *v, const struct mc_req *r,
    const unsigned char *rpid_hash, int uv)
{
	const unsigned char *id;
	EVP_PKEY *k;
	size_t i, len;
	int prot = 0, flags = 0, st;

	if (r->exclude == NULL)
		return (CTAP2_OK);
	for (i = 0; i < cbor_array_size(r->exclude); i++) {
		if (cred_list_entry(r->exclude, i, &id, &len) < 0 ||
		    (k = cred_unwrap(v, id, len, rpid_hash, &prot, &flags)) ==
			NULL)
			continue;
		EVP_PKEY_free(k);
		if (prot == 3 && !uv)
			continue; /* invisible without UV */
		vlog(v, "mc: excluded credential present");
		if ((st = ctap2_up(v)) != CTAP2_OK)
			return (st);
		return (CTAP2_ERR_CREDENTIAL_EXCLUDED);
	}

	return (CTAP2_OK);
}

int
ctap2_make_credential(vauth_t *v, const cbor_item_t *in, cbor_item_t **out)
{
	struct mc_req r;
	EVP_PKEY *k = NULL;
	cbor_item_t *m = NULL, *att = NULL;
	unsigned char rpid_hash[32], id[VAUTH_CRED_ID_LEN];
	unsigned char *ad = NULL;
	size_t adlen = 0;
	const char *fmt = NULL;
	int st, uv = 0;

	memset(&r, 0, sizeof(r));
	if (is_touch_request(cbu_get(in, 8)))
		return (touch_check(v));
	if ((st = parse_mc(v, in, &r)) != CTAP2_OK)
		goto fail;
	if (r.uv && r.param == NULL) {
		st = CTAP2_ERR_INVALID_OPTION; /* no built-in UV */
		goto fail;
	}
	if (r.param == NULL && v->has_pin) {
		st = CTAP2_ERR_PUAT_REQUIRED;
		goto fail;
	}
	if (r.param != NULL) {
		if (!v->has_pin) {
			st = CTAP2_ERR_PIN_NOT_SET;
			goto fail;
		}
		if ((st = pin_verify_token(v, r.proto, r.param, r.param_len,
			 r.cdh, 32, NULL, 0)) != CTAP2_OK ||
		    (st = pin_check_perm(v, PERM_MC, r.rp_id)) != CTAP2_OK)
			goto fail;
		uv = 1;
	}
	if (vc_sha256(r.rp_id, strlen(r.rp_id), rpid_hash) < 0) {
		st = CTAP1_ERR_OTHER;
		goto fail;
	}
	if ((st = check_exclude(v, &r, rpid_hash, uv)) != CTAP2_OK)
		goto fail;
	if (r.rk &&
	    rcred_find_user(v, r.rp_id, r.user_id, r.user_id_len) == NULL &&
	    v->ncreds >= v->max_creds) {
		vlog(v, "mc: key store full (%zu)", v->ncreds);
		st = CTAP2_ERR_KEY_STORE_FULL;
		goto fail;
	}
	if ((st = ctap2_up(v)) != CTAP2_OK)
		goto fail;

	st = CTAP1_ERR_OTHER;
	if ((k = vc_p256_generate()) == NULL ||
	    cred_wrap(v, rpid_hash, r.prot,
		(r.rk ? CRED_FLAG_RK : 0) | (r.hmac ? CRED_FLAG_HMAC : 0), k,
		id) < 0)
		goto fail;
	if (r.rk && store_rk(v, &r, id) < 0)
		goto fail;
	if (v->sign_count < UINT32_MAX)
		v->sign_count++;
	if (state_save(v) < 0)
		goto fail;
	if (auth_data(v, &r, rpid_hash, uv, id, k, &ad, &adlen) < 0 ||
	    attest_statement(v, k, ad, adlen, r.cdh, &fmt, &att) < 0)
		goto fail;
	if ((m = cbu_map()) == NULL || cbu_put_int(m, 1, cbu_text(fmt)) < 0 ||
	    cbu_put_int(m, 2, cbu_bytes(ad, adlen)) < 0 ||
	    cbu_put_intp(m, 3, &att) < 0)
		goto fail;
	vlog(v,
	    "mc: rp %s, rk %d, uv %d, credProtect %d, hmac-secret %d, "
	    "fmt %s",
	    r.rp_id, r.rk, uv, r.prot, r.hmac, fmt);
	*out = m;
	m = NULL;

	st = CTAP2_OK;
fail:
	EVP_PKEY_free(k);
	if (m != NULL)
		cbor_decref(&m);
	if (att != NULL)
		cbor_decref(&att);
	free(ad);
	explicit_bzero(id, sizeof(id));
	mc_req_free(&r);

	return (st);
}
