/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * authenticatorConfig (0x0D). Only setMinPINLength (0x03) is supported.
 * pinUvAuthParam = authenticate(token, 0xff * 32 || 0x0d || subCommand ||
 * subCommandParams), permission acfg; not needed while no PIN is set.
 */

#include <string.h>

#include "extern.h"

#define CFG_ENABLE_EP	     0x01
#define CFG_TOGGLE_ALWAYS_UV 0x02
#define CFG_SET_MIN_PIN_LEN  0x03
#define CFG_MAX_RPIDS	     8

static int
set_min_pin_length(vauth_t *v, const cbor_item_t *params)
{
	const cbor_item_t *it;
	uint64_t len = v->min_pin_len;
	size_t i;
	int force = 0;

	if ((it = cbu_get(params, 1)) != NULL && cbu_as_uint(it, &len) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((it = cbu_get(params, 2)) != NULL) {
		/* accepted and checked, not used: no minPinLength ext */
		if (!cbor_isa_array(it))
			return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
		if (cbor_array_size(it) > CFG_MAX_RPIDS)
			return (CTAP1_ERR_INVALID_LENGTH);
		for (i = 0; i < cbor_array_size(it); i++)
			if (!cbor_isa_string(cbor_array_handle(it)[i]))
				return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	}
	if ((it = cbu_get(params, 3)) != NULL && cbu_as_bool(it, &force) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (len < v->min_pin_len || len > PIN_MAX_LEN) {
		vlog(v, "cfg: minPINLength %llu refused (current %zu)",
		    (unsigned long long)len, v->min_pin_len);
		return (CTAP2_ERR_PIN_POLICY_VIOLATION);
	}
	if (force && !v->has_pin)
		return (CTAP2_ERR_PIN_NOT_SET);
	v->min_pin_len = (size_t)len;
	if (force || (v->has_pin && v->pin_codepoints < v->min_pin_len))
		v->force_pin_change = 1;
	vlog(v, "cfg: minPINLength %zu, forcePINChange %d", v->min_pin_len,
	    v->force_pin_change);
	if (state_save(v) < 0)
		return (CTAP1_ERR_OTHER);

	return (CTAP2_OK);
}

int
ctap2_config(vauth_t *v, const cbor_item_t *in, const unsigned char *raw,
    size_t rawlen, cbor_item_t **out)
{
	const cbor_item_t *it, *params;
	const unsigned char *param = NULL;
	unsigned char hdr[34];
	size_t plen = 0, off = 0, n = 0;
	uint64_t sub;
	int proto = 0, r;

	(void)out;
	if ((it = cbu_get(in, 1)) == NULL)
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (cbu_as_uint(it, &sub) < 0)
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if ((params = cbu_get(in, 2)) != NULL && !cbor_isa_map(params))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	if (sub > 0xff)
		return (CTAP2_ERR_INVALID_SUBCOMMAND);

	if (v->has_pin) {
		if (cbu_get(in, 4) == NULL)
			return (CTAP2_ERR_PUAT_REQUIRED);
		if ((r = parse_pin_uv(v, cbu_get(in, 4), cbu_get(in, 3), &param,
			 &plen, &proto)) != CTAP2_OK)
			return (r);
		if (params != NULL &&
		    cbu_map_raw(raw, rawlen, 2, &off, &n) != 0)
			return (CTAP2_ERR_INVALID_CBOR);
		memset(hdr, 0xff, 32);
		hdr[32] = CTAP2_CMD_CONFIG;
		hdr[33] = (unsigned char)sub;
		if ((r = pin_verify_token(v, proto, param, plen, hdr,
			 sizeof(hdr), params != NULL ? raw + off : NULL, n)) !=
			CTAP2_OK ||
		    (r = pin_check_perm(v, PERM_ACFG, NULL)) != CTAP2_OK)
			return (r);
	}

	switch (sub) {
	case CFG_SET_MIN_PIN_LEN:
		return (set_min_pin_length(v, params));
	case CFG_ENABLE_EP:
	case CFG_TOGGLE_ALWAYS_UV:
		return (CTAP2_ERR_UNSUPPORTED_OPTION);
	default:
		return (CTAP2_ERR_INVALID_SUBCOMMAND);
	}
}
