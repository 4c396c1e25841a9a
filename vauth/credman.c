/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * authenticatorCredentialManagement: 0x0A, and 0x41 (the 2.1 preview
 * command that libfido2 1.12 always sends), handled the same way.
 * pinUvAuthParam = authenticate(token, subCommand || subCommandParams),
 * permission cm.
 */

#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define CM_METADATA    0x01
#define CM_RP_BEGIN    0x02
#define CM_RP_NEXT     0x03
#define CM_RK_BEGIN    0x04
#define CM_RK_NEXT     0x05
#define CM_DELETE      0x06
#define CM_UPDATE_USER 0x07

void
credman_clear(vauth_t *v)
{
	free(v->cm_rps);
	free(v->cm_creds);
	v->cm_rps = NULL;
	v->cm_creds = NULL;
	v->cm_rps_n = v->cm_rps_next = 0;
	v->cm_creds_n = v->cm_creds_next = 0;
}

static int
rp_reply(vauth_t *v, size_t idx, size_t total, cbor_item_t **out)
{
	const struct rcred *c = &v->creds[idx];
	cbor_item_t *m = NULL, *rp = NULL;
	unsigned char h[32];
	int r = CTAP1_ERR_OTHER;

	if (vc_sha256(c->rp_id, strlen(c->rp_id), h) < 0 ||
	    (m = cbu_map()) == NULL || (rp = cbu_map()) == NULL ||
	    cbu_put_str(rp, "id", cbu_text(c->rp_id)) < 0 ||
	    (c->rp_name != NULL &&
		cbu_put_str(rp, "name", cbu_text(c->rp_name)) < 0) ||
	    cbu_put_intp(m, 3, &rp) < 0 ||
	    cbu_put_int(m, 4, cbu_bytes(h, sizeof(h))) < 0 ||
	    (total > 0 && cbu_put_int(m, 5, cbu_uint(total)) < 0))
		goto fail;
	*out = m;
	m = NULL;

	r = CTAP2_OK;
fail:
	if (rp != NULL)
		cbor_decref(&rp);
	if (m != NULL)
		cbor_decref(&m);

	return (r);
}

static int
rk_reply(vauth_t *v, size_t idx, size_t total, cbor_item_t **out)
{
	const struct rcred *c = &v->creds[idx];
	cbor_item_t *m = NULL, *u = NULL, *id = NULL, *pk = NULL;
	EVP_PKEY *k = NULL;
	unsigned char h[32], x[32], y[32];
	int prot, flags, r = CTAP1_ERR_OTHER;

	if (vc_sha256(c->rp_id, strlen(c->rp_id), h) < 0 ||
	    (k = cred_unwrap(v, c->id, c->id_len, h, &prot, &flags)) == NULL ||
	    vc_p256_pub(k, x, y) < 0)
		goto fail;
	if ((m = cbu_map()) == NULL || (u = cbu_map()) == NULL ||
	    cbu_put_str(u, "id", cbu_bytes(c->user_id, c->user_id_len)) < 0 ||
	    (c->user_name != NULL &&
		cbu_put_str(u, "name", cbu_text(c->user_name)) < 0) ||
	    (c->user_display != NULL &&
		cbu_put_str(u, "displayName", cbu_text(c->user_display)) < 0) ||
	    cbu_put_intp(m, 6, &u) < 0)
		goto fail;
	if ((id = cbu_map()) == NULL ||
	    cbu_put_str(id, "id", cbu_bytes(c->id, c->id_len)) < 0 ||
	    cbu_put_str(id, "type", cbu_text("public-key")) < 0 ||
	    cbu_put_intp(m, 7, &id) < 0)
		goto fail;
	if ((pk = cbu_cose_es256(x, y, -7)) == NULL ||
	    cbu_put_intp(m, 8, &pk) < 0)
		goto fail;
	if ((total > 0 && cbu_put_int(m, 9, cbu_uint(total)) < 0) ||
	    cbu_put_int(m, 10, cbu_uint((uint64_t)c->prot)) < 0)
		goto fail;
	*out = m;
	m = NULL;

	r = CTAP2_OK;
fail:
	EVP_PKEY_free(k);
	if (m != NULL)
		cbor_decref(&m);
	if (u != NULL)
		cbor_decref(&u);
	if (id != NULL)
		cbor_decref(&id);
	if (pk != NULL)
		cbor_decref(&pk);

	return (r);
}

static int
metadata(vauth_t *v, cbor_item_t **out)
{
	cbor_item_t *m;
	size_t left;

	left = v->ncreds < v->max_creds ? v->max_creds - v->ncreds : 0;
	if ((m = cbu_map()) == NULL ||
	    cbu_put_int(m, 1, cbu_uint(v->ncreds)) < 0 ||
	    cbu_put_int(m, 2, cbu_uint(left)) < 0) {
		if (m != NULL)
			cbor_decref(&m);
		return (CTAP1_ERR_OTHER);
	}
	*out = m;

	return (CTAP2_OK);
}

static int
rp_begin(vauth_t *v, cbor_item_t **out)
{
	size_t i, j;
	int r;

	if (v->ncreds == 0)
		return (CTAP2_ERR_NO_CREDENTIALS);
	if ((v->cm_rps = calloc(v->ncreds, sizeof(*v->cm_rps))) == NULL)
		return (CTAP1_ERR_OTHER);
	for (i = 0; i < v->ncreds; i++) {
		for (j = 0; j < v->cm_rps_n; j++)
			if (strcmp(v->creds[v->cm_rps[j]].rp_id,
				v->creds[i].rp_id) == 0)
				break;
		if (j == v->cm_rps_n)
			v->cm_rps[v->cm_rps_n++] = i;
	}
	if ((r = rp_reply(v, v->cm_rps[0], v->cm_rps_n, out)) != CTAP2_OK)
		return (r);
	v->cm_rps_next = 1;

	return (CTAP2_OK);
}

static int
rp_next(vauth_t *v, cbor_item_t **out)
{
	if (v->cm_rps == NULL || v->cm_rps_next >= v->cm_rps_n)
		return (CTAP2_ERR_NOT_ALLOWED);

	return (rp_reply(v, v->cm_rps[v->cm_rps_next++], 0, out));
}

static int
rk_begin(vauth_t *v, const cbor_item_t *params, cbor_item_t **out)
{
	const unsigned char *h;
	unsigned char ch[32];
	size_t hl, i;
	int r;

	if (cbu_get(params, 1) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_bytes(cbu_get(params, 1), &h, &hl) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (hl != 32)
		return (CTAP1_ERR_INVALID_PARAMETER);
	if (v->ncreds == 0)
		return (CTAP2_ERR_NO_CREDENTIALS);
	if ((v->cm_creds = calloc(v->ncreds, sizeof(*v->cm_creds))) == NULL)
		return (CTAP1_ERR_OTHER);
	for (i = 0; i < v->ncreds; i++) {
		if (vc_sha256(v->creds[i].rp_id, strlen(v->creds[i].rp_id),
			ch) < 0)
			return (CTAP1_ERR_OTHER);
		if (memcmp(ch, h, 32) == 0)
			v->cm_creds[v->cm_creds_n++] = i;
	}
	if (v->cm_creds_n == 0)
		return (CTAP2_ERR_NO_CREDENTIALS);
	if ((r = rk_reply(v, v->cm_creds[0], v->cm_creds_n, out)) != CTAP2_OK)
		return (r);
	v->cm_creds_next = 1;

	return (CTAP2_OK);
}

static int
rk_next(vauth_t *v, cbor_item_t **out)
{
	if (v->cm_creds == NULL || v->cm_creds_next >= v->cm_creds_n)
		return (CTAP2_ERR_NOT_ALLOWED);

	return (rk_reply(v, v->cm_creds[v->cm_creds_next++], 0, out));
}

static int
find_cred(vauth_t *v, const cbor_item_t *params, struct rcred **c)
{
	const cbor_item_t *d, *it;
	const unsigned char *id;
	size_t len;

	if ((d = cbu_get(params, 2)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (!cbor_isa_map(d))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((it = cbu_get_str(d, "id")) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_bytes(it, &id, &len) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((*c = rcred_find(v, id, len)) == NULL)
		return (CTAP2_ERR_NO_CREDENTIALS);

	return (CTAP2_OK);
}

static int
delete_cred(vauth_t *v, const cbor_item_t *params)
{
	struct rcred *c;
	size_t i;
	int r;

	if ((r = find_cred(v, params, &c)) != CTAP2_OK)
		return (r);
	i = (size_t)(c - v->creds);
	rcred_clear(c);
	memmove(&v->creds[i], &v->creds[i + 1],
	    (v->ncreds - i - 1) * sizeof(*v->creds));
	v->ncreds--;
	vlog(v, "cm: credential deleted, %zu left", v->ncreds);
	if (state_save(v) < 0)
		return (CTAP1_ERR_OTHER);

	return (CTAP2_OK);
}

static int
update_user(vauth_t *v, const cbor_item_t *params)
{
	const cbor_item_t *u, *it;
	const unsigned char *uid;
	struct rcred *c;
	char *name = NULL, *disp = NULL;
	size_t uidlen;
	int r;

	if ((r = find_cred(v, params, &c)) != CTAP2_OK)
		return (r);
	if ((u = cbu_get(params, 3)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (!cbor_isa_map(u))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((it = cbu_get_str(u, "id")) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_bytes(it, &uid, &uidlen) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (uidlen != c->user_id_len || memcmp(uid, c->user_id, uidlen) != 0)
		return (CTAP1_ERR_INVALID_PARAMETER);
	if (((it = cbu_get_str(u, "name")) != NULL &&
		cbu_as_text(it, &name, VAUTH_MAX_NAME_LEN) < 0) ||
	    ((it = cbu_get_str(u, "displayName")) != NULL &&
		cbu_as_text(it, &disp, VAUTH_MAX_NAME_LEN) < 0)) {
		free(name);
		free(disp);
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	}
	free(c->user_name);
	free(c->user_display);
	c->user_name = name;
	c->user_display = disp;
	if (state_save(v) < 0)
		return (CTAP1_ERR_OTHER);

	return (CTAP2_OK);
}

static int
needs_auth(uint64_t sub)
{
	return (sub == CM_METADATA || sub == CM_RP_BEGIN ||
	    sub == CM_RK_BEGIN || sub == CM_DELETE || sub == CM_UPDATE_USER);
}

int
ctap2_credman(vauth_t *v, const cbor_item_t *in, const unsigned char *raw,
    size_t rawlen, cbor_item_t **out)
{
	const cbor_item_t *it, *params;
	const unsigned char *param = NULL;
	unsigned char subb;
	size_t plen = 0, off = 0, n = 0;
	uint64_t sub;
	int proto = 0, r;

	if ((it = cbu_get(in, 1)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_uint(it, &sub) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (sub < CM_METADATA || sub > CM_UPDATE_USER)
		return (CTAP2_ERR_INVALID_SUBCOMMAND);
	if ((params = cbu_get(in, 2)) != NULL && !cbor_isa_map(params))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (sub != CM_RP_NEXT) {
		free(v->cm_rps);
		v->cm_rps = NULL;
		v->cm_rps_n = v->cm_rps_next = 0;
	}
	if (sub != CM_RK_NEXT) {
		free(v->cm_creds);
		v->cm_creds = NULL;
		v->cm_creds_n = v->cm_creds_next = 0;
	}

	if (needs_auth(sub)) {
		if (cbu_get(in, 4) == NULL)
			return (CTAP2_ERR_PUAT_REQUIRED);
		if ((r = parse_pin_uv(v, cbu_get(in, 4), cbu_get(in, 3), &param,
			 &plen, &proto)) != CTAP2_OK)
			return (r);
		if (params != NULL &&
		    cbu_map_raw(raw, rawlen, 2, &off, &n) != 0)
			return (CTAP2_ERR_INVALID_CBOR);
		subb = (unsigned char)sub;
		if ((r = pin_verify_token(v, proto, param, plen, &subb, 1,
			 params != NULL ? raw + off : NULL, n)) != CTAP2_OK ||
		    (r = pin_check_perm(v, PERM_CM, NULL)) != CTAP2_OK)
			return (r);
	}
	if ((sub == CM_RK_BEGIN || sub == CM_DELETE || sub == CM_UPDATE_USER) &&
	    params == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);

	switch (sub) {
	case CM_METADATA:
		return (metadata(v, out));
	case CM_RP_BEGIN:
		return (rp_begin(v, out));
	case CM_RP_NEXT:
		return (rp_next(v, out));
	case CM_RK_BEGIN:
		return (rk_begin(v, params, out));
	case CM_RK_NEXT:
		return (rk_next(v, out));
	case CM_DELETE:
		return (delete_cred(v, params));
	default:
		return (update_user(v, params));
	}
}
