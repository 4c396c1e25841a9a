/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * CTAP2 command dispatch, faults, user presence, getInfo, reset and
 * selection.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define UP_INTERVAL_MS 100
#define DENY_WAIT_MS   200

void
vlog(const vauth_t *v, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (v == NULL || v->log == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	v->log(v->log_ctx, buf);
}

char *
vstrdup(const char *s)
{
	return (s == NULL ? NULL : strdup(s));
}

/*
 * Wait for user presence per --presence and the slowkeepalive fault.
 * Returns 0 (touched), a CTAP status, or VAUTH_ABORT.
 */
int
ctap2_up(vauth_t *v)
{
	static const int kinds[] = {FAULT_SLOWKEEPALIVE};
	const struct fault *f;
	int ms = 0, interval = UP_INTERVAL_MS, first = 0;
	int w;

	if (v->up_mode == VAUTH_UP_DELAY)
		ms = v->up_delay_ms;
	else if (v->up_mode == VAUTH_UP_DENY)
		ms = v->up_delay_ms > 0 ? v->up_delay_ms : DENY_WAIT_MS;
	if ((f = fault_take(v, v->cur_cls, kinds, 1)) != NULL) {
		/* silence for MS, then a keepalive every MS */
		interval = f->arg;
		first = f->arg;
		if (ms < f->arg + 50)
			ms = f->arg + 50;
		vlog(v, "fault: slow keepalives every %d ms", f->arg);
	}
	if (ms > 0)
		vlog(v, "up: waiting %d ms for presence", ms);
	w = hid_wait(v, ms, KEEPALIVE_UPNEEDED, interval, first);
	if (w == WAIT_GONE)
		return (VAUTH_ABORT);
	if (w == WAIT_CANCEL) {
		vlog(v, "up: cancelled");
		return (CTAP2_ERR_KEEPALIVE_CANCEL);
	}
	if (v->up_mode == VAUTH_UP_DENY) {
		vlog(v, "up: denied");
		return (CTAP2_ERR_OPERATION_DENIED);
	}

	return (CTAP2_OK);
}

static int
get_info(vauth_t *v, cbor_item_t **out)
{
	cbor_item_t *m = NULL, *a = NULL, *o = NULL, *alg = NULL;
	size_t left;
	int r = CTAP1_ERR_OTHER;

	left = v->ncreds < v->max_creds ? v->max_creds - v->ncreds : 0;
	if ((m = cbu_map()) == NULL)
		goto fail;

	if ((a = cbu_array()) == NULL ||
	    cbu_push(a, cbu_text("FIDO_2_0")) < 0 ||
	    cbu_push(a, cbu_text("FIDO_2_1")) < 0 || cbu_put_intp(m, 1, &a) < 0)
		goto fail;
	if ((a = cbu_array()) == NULL ||
	    cbu_push(a, cbu_text("credProtect")) < 0 ||
	    cbu_push(a, cbu_text("hmac-secret")) < 0 ||
	    cbu_put_intp(m, 2, &a) < 0)
		goto fail;
	if (cbu_put_int(m, 3, cbu_bytes(v->aaguid, sizeof(v->aaguid))) < 0)
		goto fail;
	if ((o = cbu_map()) == NULL || cbu_put_str(o, "rk", cbu_bool(1)) < 0 ||
	    cbu_put_str(o, "up", cbu_bool(1)) < 0 ||
	    cbu_put_str(o, "plat", cbu_bool(0)) < 0 ||
	    cbu_put_str(o, "clientPin", cbu_bool(v->has_pin)) < 0 ||
	    cbu_put_str(o, "credMgmt", cbu_bool(1)) < 0 ||
	    cbu_put_str(o, "authnrCfg", cbu_bool(1)) < 0 ||
	    cbu_put_str(o, "setMinPINLength", cbu_bool(1)) < 0 ||
	    cbu_put_str(o, "pinUvAuthToken", cbu_bool(1)) < 0 ||
	    cbu_put_str(o, "makeCredUvNotRqd", cbu_bool(0)) < 0 ||
	    cbu_put_intp(m, 4, &o) < 0)
		goto fail;
	if (cbu_put_int(m, 5, cbu_uint(1200)) < 0)
		goto fail;
	if ((a = cbu_array()) == NULL ||
	    ((v->protocols & VAUTH_PROTO_2) && cbu_push(a, cbu_uint(2)) < 0) ||
	    ((v->protocols & VAUTH_PROTO_1) && cbu_push(a, cbu_uint(1)) < 0) ||
	    cbu_put_intp(m, 6, &a) < 0)
		goto fail;
	if (cbu_put_int(m, 7, cbu_uint(8)) < 0 ||
	    cbu_put_int(m, 8, cbu_uint(128)) < 0)
		goto fail;
	if ((a = cbu_array()) == NULL || cbu_push(a, cbu_text("usb")) < 0 ||
	    cbu_put_intp(m, 9, &a) < 0)
		goto fail;
	if ((a = cbu_array()) == NULL || (alg = cbu_map()) == NULL ||
	    cbu_put_str(alg, "alg", cbu_int(-7)) < 0 ||
	    cbu_put_str(alg, "type", cbu_text("public-key")) < 0 ||
	    cbu_pushp(a, &alg) < 0 || cbu_put_intp(m, 10, &a) < 0)
		goto fail;
	if (v->force_pin_change && cbu_put_int(m, 0x0c, cbu_bool(1)) < 0)
		goto fail;
	if (cbu_put_int(m, 0x0d, cbu_uint(v->min_pin_len)) < 0 ||
	    cbu_put_int(m, 0x0e, cbu_uint(v->fw_version)) < 0 ||
	    cbu_put_int(m, 0x10, cbu_uint(8)) < 0 ||
	    cbu_put_int(m, 0x14, cbu_uint(left)) < 0)
		goto fail;

	*out = m;
	m = NULL;
	r = CTAP2_OK;
fail:
	if (alg != NULL)
		cbor_decref(&alg);
	if (o != NULL)
		cbor_decref(&o);
	if (a != NULL)
		cbor_decref(&a);
	if (m != NULL)
		cbor_decref(&m);

	return (r);
}

static int
reset(vauth_t *v)
{
	int st;

	if ((st = ctap2_up(v)) != CTAP2_OK)
		return (st);
	if (state_fresh(v) < 0 || pin_power_up(v) < 0)
		return (CTAP1_ERR_OTHER);
	if (state_save(v) < 0)
		return (CTAP1_ERR_OTHER);
	vlog(v, "reset: PIN and credentials wiped");

	return (CTAP2_OK);
}

/* A pre-execution fault: the command is not run. */
static int
pre_fault(vauth_t *v, const struct fault *f)
{
	int w;

	switch (f->kind) {
	case FAULT_HANG:
		vlog(v, "fault: hang (keepalive PROCESSING until cancel)");
		w = hid_wait(v, -1, KEEPALIVE_PROCESSING, UP_INTERVAL_MS, 0);
		break;
	case FAULT_TIMEOUT:
		vlog(v, "fault: presence timeout after %d ms",
		    v->up_timeout_ms);
		w = hid_wait(v, v->up_timeout_ms, KEEPALIVE_UPNEEDED,
		    UP_INTERVAL_MS, 0);
		if (w == WAIT_DONE)
			return (CTAP2_ERR_USER_ACTION_TIMEOUT);
		break;
	case FAULT_DENY:
		vlog(v, "fault: deny");
		return (CTAP2_ERR_OPERATION_DENIED);
	case FAULT_STATUS:
		vlog(v, "fault: status 0x%02x", f->arg);
		return (f->arg);
	default:
		return (CTAP1_ERR_OTHER);
	}
	if (w == WAIT_GONE)
		return (VAUTH_ABORT);

	return (CTAP2_ERR_KEEPALIVE_CANCEL);
}

static int
run(vauth_t *v, uint8_t cmd, const cbor_item_t *in, const unsigned char *raw,
    size_t rawlen, cbor_item_t **out)
{
	if (in == NULL &&
	    (cmd == CTAP2_CMD_MAKECRED || cmd == CTAP2_CMD_GETASSERT ||
		cmd == CTAP2_CMD_CLIENTPIN || cmd == CTAP2_CMD_CREDMGMT ||
		cmd == CTAP2_CMD_CREDMGMT_PRE || cmd == CTAP2_CMD_CONFIG))
		return (CTAP2_ERR_MISSING_PARAMETER);
	if (in != NULL && !cbor_isa_map(in))
		return (CTAP2_ERR_CBOR_UNEXPECTED_TYPE);

	switch (cmd) {
	case CTAP2_CMD_GETINFO:
		return (get_info(v, out));
	case CTAP2_CMD_MAKECRED:
		return (ctap2_make_credential(v, in, out));
	case CTAP2_CMD_GETASSERT:
		return (ctap2_get_assertion(v, in, out));
	case CTAP2_CMD_NEXTASSERT:
		return (ctap2_get_next_assertion(v, out));
	case CTAP2_CMD_CLIENTPIN:
		return (ctap2_client_pin(v, in, out));
	case CTAP2_CMD_RESET:
		return (reset(v));
	case CTAP2_CMD_CREDMGMT:
	case CTAP2_CMD_CREDMGMT_PRE:
		return (ctap2_credman(v, in, raw, rawlen, out));
	case CTAP2_CMD_SELECTION:
		return (ctap2_up(v));
	case CTAP2_CMD_CONFIG:
		return (ctap2_config(v, in, raw, rawlen, out));
	default:
		return (CTAP1_ERR_INVALID_COMMAND);
	}
}

/*
 * Build the reply: status || canonical CBOR, with a post-execution fault
 * (malformed, noncanonical; disconnect is left to the transport).
 */
static int
build_reply(vauth_t *v, int st, const cbor_item_t *out, unsigned char *resp,
    size_t *resplen, int kind)
{
	static const unsigned char garbage[] = {0xa2, 0x01, 0x5f, 0xff};
	static const unsigned char unsorted[] = {0xa2, 0x02, 0x00, 0x01, 0x00};
	unsigned char *enc = NULL;
	size_t enclen = 0, cap = *resplen;

	if (out != NULL && st == CTAP2_OK &&
	    (cbu_encode(out, kind == FAULT_NONCANONICAL ? CBU_NONCANONICAL : 0,
		 &enc, &enclen) < 0 ||
		enclen > cap - 1)) {
		vlog(v, "ctap2: cannot encode reply");
		st = CTAP1_ERR_OTHER;
		free(enc);
		enc = NULL;
		enclen = 0;
	}
	resp[0] = (unsigned char)st;
	if (enclen)
		memcpy(resp + 1, enc, enclen);
	*resplen = 1 + enclen;

	switch (kind) {
	case FAULT_MALFORMED:
		vlog(v, "fault: malformed reply");
		resp[0] = CTAP2_OK;
		if (enclen >= 2)
			*resplen = 1 + enclen / 2; /* truncated */
		else {
			memcpy(resp + 1, garbage, sizeof(garbage));
			*resplen = 1 + sizeof(garbage);
		}
		break;
	case FAULT_NONCANONICAL:
		vlog(v, "fault: non-canonical reply");
		if (enc == NULL || cbor_map_size(out) < 2) {
			resp[0] = CTAP2_OK;
			memcpy(resp + 1, unsorted, sizeof(unsorted));
			*resplen = 1 + sizeof(unsorted);
		}
		break;
	default:
		break;
	}
	if (enc != NULL) {
		explicit_bzero(enc, enclen);
		free(enc);
	}

	return (0);
}

/*
 * One CTAP2 request (cmd || CBOR). Fills resp/resplen (capacity on entry)
 * and returns 0, or VAUTH_ABORT when the connection went away while the
 * command waited. *post is the post-execution fault that fired, if any.
 */
int
ctap2_dispatch(vauth_t *v, const unsigned char *req, size_t len,
    unsigned char *resp, size_t *resplen, int *post)
{
	static const int kinds[] = {FAULT_HANG, FAULT_TIMEOUT, FAULT_DENY,
	    FAULT_STATUS, FAULT_DISCONNECT, FAULT_MALFORMED,
	    FAULT_NONCANONICAL};
	const struct fault *f;
	struct cbor_load_result res;
	cbor_item_t *in = NULL, *out = NULL;
	uint8_t cmd;
	int st;

	*post = 0;
	if (len == 0 || *resplen < VAUTH_MAX_MSG)
		return (VAUTH_ABORT);
	cmd = req[0];
	v->cur_cls = fault_cmd_class(cmd);
	if (cmd != CTAP2_CMD_NEXTASSERT)
		ga_clear(v);
	if (cmd != CTAP2_CMD_CREDMGMT && cmd != CTAP2_CMD_CREDMGMT_PRE)
		credman_clear(v);

	/* faults fire in list order: the first one with uses left wins */
	if ((f = fault_take(v, v->cur_cls, kinds, 7)) != NULL) {
		if (f->kind == FAULT_DISCONNECT || f->kind == FAULT_MALFORMED ||
		    f->kind == FAULT_NONCANONICAL)
			*post = f->kind;
		else {
			st = pre_fault(v, f);
			goto reply;
		}
	}
	if (len > 1) {
		memset(&res, 0, sizeof(res));
		if (cbu_check(req + 1, len - 1, CBOR_MAX_DEPTH) < 0 ||
		    (in = cbor_load(req + 1, len - 1, &res)) == NULL ||
		    res.error.code != CBOR_ERR_NONE || res.read != len - 1) {
			st = CTAP2_ERR_INVALID_CBOR;
			goto reply;
		}
	}
	st = run(v, cmd, in, req + 1, len - 1, &out);
reply:
	if (st != VAUTH_ABORT) {
		vlog(v, "ctap2: cmd 0x%02x -> 0x%02x", cmd, st);
		build_reply(v, st, out, resp, resplen, *post);
	} else
		vlog(v, "ctap2: cmd 0x%02x aborted (peer gone)", cmd);
	if (in != NULL)
		cbor_decref(&in);
	if (out != NULL)
		cbor_decref(&out);

	return (st == VAUTH_ABORT ? VAUTH_ABORT : 0);
}

int
vauth_cbor(vauth_t *v, const unsigned char *req, size_t len,
    unsigned char *resp, size_t *resplen)
{
	unsigned char *buf = NULL;
	size_t buflen = VAUTH_MAX_MSG;
	int post = 0, r = VAUTH_ERR_INTERNAL;

	if (v == NULL || req == NULL || len == 0 || resp == NULL ||
	    resplen == NULL)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if (!v->started)
		return (VAUTH_ERR_NOT_STARTED);
	if (len > VAUTH_MAX_MSG)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if ((buf = malloc(buflen)) == NULL)
		return (VAUTH_ERR_NOMEM);
	v->io = NULL;
	v->cur_cid = 0;
	if (ctap2_dispatch(v, req, len, buf, &buflen, &post) < 0) {
		r = VAUTH_ERR_DISCONNECT;
		goto fail;
	}
	if (buflen > *resplen) {
		r = VAUTH_ERR_INVALID_ARGUMENT;
		goto fail;
	}
	memcpy(resp, buf, buflen);
	*resplen = buflen;

	r = VAUTH_OK;
fail:
	explicit_bzero(buf, VAUTH_MAX_MSG);
	free(buf);

	return (r);
}
