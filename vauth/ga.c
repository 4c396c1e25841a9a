/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* authenticatorGetAssertion (0x02) and authenticatorGetNextAssertion (0x08) */

#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define AD_UP 0x01
#define AD_UV 0x04

void
ga_clear(vauth_t *v)
{
	free(v->ga_list);
	v->ga_list = NULL;
	v->ga_n = 0;
	v->ga_next = 0;
	explicit_bzero(v->ga_cdh, sizeof(v->ga_cdh));
	v->ga_flags = 0;
}

static cbor_item_t *
user_entity(const struct rcred *c, int uv)
{
	cbor_item_t *m;

	if ((m = cbu_map()) == NULL)
		return (NULL);
	if (cbu_put_str(m, "id", cbu_bytes(c->user_id, c->user_id_len)) < 0 ||
	    (uv && c->user_name != NULL &&
		cbu_put_str(m, "name", cbu_text(c->user_name)) < 0) ||
	    (uv && c->user_display != NULL &&
		cbu_put_str(m, "displayName", cbu_text(c->user_display)) < 0)) {
		cbor_decref(&m);
		return (NULL);
	}

	return (m);
}

/*
 * Sign with credential (id, k) and build the reply. c (may be NULL) is the
 * resident record, total > 0 adds numberOfCredentials.
 */
static int
assertion(vauth_t *v, const unsigned char *rpid_hash, int flags,
    const unsigned char *cdh, const unsigned char *id, size_t idlen,
    EVP_PKEY *k, const struct rcred *c, size_t total, cbor_item_t **out)
{
	cbor_item_t *m = NULL, *cred = NULL, *user = NULL;
	unsigned char ad[37], *sig = NULL;
	size_t siglen = 0;
	int r = CTAP1_ERR_OTHER;

	if (v->sign_count < UINT32_MAX)
		v->sign_count++;
	if (state_save(v) < 0)
		goto fail;
	memcpy(ad, rpid_hash, 32);
	ad[32] = (unsigned char)flags;
	ad[33] = (unsigned char)(v->sign_count >> 24);
	ad[34] = (unsigned char)(v->sign_count >> 16);
	ad[35] = (unsigned char)(v->sign_count >> 8);
	ad[36] = (unsigned char)v->sign_count;
	if (vc_es256_sign(k, ad, sizeof(ad), cdh, 32, &sig, &siglen) < 0)
		goto fail;
	if ((m = cbu_map()) == NULL || (cred = cbu_map()) == NULL ||
	    cbu_put_str(cred, "id", cbu_bytes(id, idlen)) < 0 ||
	    cbu_put_str(cred, "type", cbu_text("public-key")) < 0 ||
	    cbu_put_intp(m, 1, &cred) < 0 ||
	    cbu_put_int(m, 2, cbu_bytes(ad, sizeof(ad))) < 0 ||
	    cbu_put_int(m, 3, cbu_bytes(sig, siglen)) < 0)
		goto fail;
	if (c != NULL &&
	    ((user = user_entity(c, flags & AD_UV)) == NULL ||
		cbu_put_intp(m, 4, &user) < 0))
		goto fail;
	if (total > 1 && cbu_put_int(m, 5, cbu_uint(total)) < 0)
		goto fail;
	*out = m;
	m = NULL;

	r = CTAP2_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);
	if (cred != NULL)
		cbor_decref(&cred);
	if (user != NULL)
		cbor_decref(&user);
	free(sig);

	return (r);
}

static int
by_seq_desc(const void *a, const void *b, void *arg)
{
	const vauth_t *v = arg;
	uint64_t x = v->creds[*(const size_t *)a].seq;
	uint64_t y = v->creds[*(const size_t *)b].seq;

	return (x < y ? 1 : x > y ? -1 : 0);
}

static void
sort_list(vauth_t *v, size_t *list, size_t n)
{
	size_t i, j, t;

	/* insertion sort: n is bounded by --max-creds */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && by_seq_desc(&list[j - 1], &list[j], v) > 0;
		     j--) {
			t = list[j];
			list[j] = list[j - 1];
			list[j - 1] = t;
		}
}

static int
ga_options(const cbor_item_t *in, int *up, int *uv)
{
	const cbor_item_t *opt, *it;

	*up = 1;
	*uv = 0;
	if ((opt = cbu_get(in, 5)) == NULL)
		return (CTAP2_OK);
	if (!cbor_isa_map(opt))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((it = cbu_get_str(opt, "up")) != NULL && cbu_as_bool(it, up) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((it = cbu_get_str(opt, "uv")) != NULL && cbu_as_bool(it, uv) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (cbu_get_str(opt, "rk") != NULL)
		return (CTAP2_ERR_UNSUPPORTED_OPTION);

	return (CTAP2_OK);
}

int
ctap2_get_assertion(vauth_t *v, const cbor_item_t *in, cbor_item_t **out)
{
	const cbor_item_t *it, *allow = NULL, *pp;
	const unsigned char *cdh, *param = NULL, *id = NULL;
	size_t cdhlen, plen = 0, idlen = 0, i, n = 0;
	size_t *list = NULL;
	unsigned char rpid_hash[32];
	char *rp_id = NULL;
	EVP_PKEY *k = NULL;
	struct rcred *c = NULL;
	int st, up, uv, proto = 0, uv_done = 0;
	int prot = 0, flags = 0;

	pp = cbu_get(in, 6);
	if (pp != NULL && cbor_isa_bytestring(pp) &&
	    cbor_bytestring_is_definite(pp) && cbor_bytestring_length(pp) == 0)
		return (touch_check(v));
	if ((it = cbu_get(in, 1)) == NULL || cbu_get(in, 2) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_text(it, &rp_id, VAUTH_MAX_RPID_LEN) < 0)
		return (cbor_isa_string(it) ? CTAP2_ERR_LIMIT_EXCEEDED :
					      CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (cbu_as_bytes(cbu_get(in, 2), &cdh, &cdhlen) < 0) {
		st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto fail;
	}
	if (cdhlen != 32) {
		st = CTAP1_ERR_INVALID_PARAMETER;
		goto fail;
	}
	if ((allow = cbu_get(in, 3)) != NULL &&
	    (st = check_cred_list(allow)) != CTAP2_OK)
		goto fail;
	if ((it = cbu_get(in, 4)) != NULL && !cbor_isa_map(it)) {
		st = CTAP2_ERR_CBOR_UNEXPECTED_TYPE;
		goto fail;
	}
	if ((st = ga_options(in, &up, &uv)) != CTAP2_OK ||
	    (st = parse_pin_uv(v, pp, cbu_get(in, 7), &param, &plen, &proto)) !=
		CTAP2_OK)
		goto fail;
	if (uv && param == NULL) {
		st = CTAP2_ERR_INVALID_OPTION; /* no built-in UV */
		goto fail;
	}
	if (param != NULL) {
		if (!v->has_pin) {
			st = CTAP2_ERR_PIN_NOT_SET;
			goto fail;
		}
		if ((st = pin_verify_token(v, proto, param, plen, cdh, 32, NULL,
			 0)) != CTAP2_OK ||
		    (st = pin_check_perm(v, PERM_GA, rp_id)) != CTAP2_OK)
			goto fail;
		uv_done = 1;
	}
	if (vc_sha256(rp_id, strlen(rp_id), rpid_hash) < 0) {
		st = CTAP1_ERR_OTHER;
		goto fail;
	}

	if (allow != NULL && cbor_array_size(allow) > 0) {
		for (i = 0; i < cbor_array_size(allow) && k == NULL; i++) {
			if (cred_list_entry(allow, i, &id, &idlen) < 0 ||
			    (k = cred_unwrap(v, id, idlen, rpid_hash, &prot,
				 &flags)) == NULL)
				continue;
			if (prot == 3 && !uv_done) {
				EVP_PKEY_free(k);
				k = NULL;
			}
		}
		if (k == NULL) {
			st = CTAP2_ERR_NO_CREDENTIALS;
			goto fail;
		}
		c = rcred_find(v, id, idlen);
		n = 1;
	} else {
		if (v->ncreds > 0 &&
		    (list = calloc(v->ncreds, sizeof(*list))) == NULL) {
			st = CTAP1_ERR_OTHER;
			goto fail;
		}
		for (i = 0; i < v->ncreds; i++) {
			if (strcmp(v->creds[i].rp_id, rp_id) != 0)
				continue;
			if (v->creds[i].prot >= 2 && !uv_done)
				continue;
			list[n++] = i;
		}
		if (n == 0) {
			st = CTAP2_ERR_NO_CREDENTIALS;
			goto fail;
		}
		sort_list(v, list, n);
		c = &v->creds[list[0]];
		id = c->id;
		idlen = c->id_len;
		if ((k = cred_unwrap(v, id, idlen, rpid_hash, &prot, &flags)) ==
		    NULL) {
			st = CTAP1_ERR_OTHER;
			goto fail;
		}
	}
	if (up && (st = ctap2_up(v)) != CTAP2_OK)
		goto fail;
	flags = (up ? AD_UP : 0) | (uv_done ? AD_UV : 0);
	if ((st = assertion(v, rpid_hash, flags, cdh, id, idlen, k, c,
		 allow == NULL || cbor_array_size(allow) == 0 ? n : 0, out)) !=
	    CTAP2_OK)
		goto fail;
	vlog(v, "ga: rp %s, %zu credential(s), up %d, uv %d", rp_id, n, up,
	    uv_done);
	if (n > 1 && list != NULL) {
		v->ga_list = list;
		list = NULL;
		v->ga_n = n;
		v->ga_next = 1;
		memcpy(v->ga_cdh, cdh, 32);
		v->ga_flags = flags;
	}

	st = CTAP2_OK;
fail:
	EVP_PKEY_free(k);
	free(list);
	free(rp_id);

	return (st);
}

int
ctap2_get_next_assertion(vauth_t *v, cbor_item_t **out)
{
	struct rcred *c;
	EVP_PKEY *k = NULL;
	unsigned char rpid_hash[32];
	int prot, flags, st;

	if (v->ga_list == NULL || v->ga_next >= v->ga_n)
		return (CTAP2_ERR_NOT_ALLOWED);
	c = &v->creds[v->ga_list[v->ga_next++]];
	if (vc_sha256(c->rp_id, strlen(c->rp_id), rpid_hash) < 0 ||
	    (k = cred_unwrap(v, c->id, c->id_len, rpid_hash, &prot, &flags)) ==
		NULL)
		return (CTAP1_ERR_OTHER);
	st = assertion(v, rpid_hash, v->ga_flags, v->ga_cdh, c->id, c->id_len,
	    k, c, 0, out);
	EVP_PKEY_free(k);

	return (st);
}
