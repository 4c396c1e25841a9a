/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: vauth's CTAP2 request parsing and dispatch. The input
 * is one request (command byte || CBOR) given to vauth_cbor() on an
 * in-memory authenticator with no presence waits, reset to factory state
 * first. Every reply with a body must be canonical CBOR.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static vauth_t *v;

static void
setup(void)
{
	if (v != NULL)
		return;
	if ((v = vauth_new()) == NULL || vauth_start(v) != VAUTH_OK)
		abort();
}

/* the reply body must re-encode to itself */
static void
check_canonical(const unsigned char *p, size_t n)
{
	struct cbor_load_result res;
	cbor_item_t *it;
	unsigned char *again = NULL;
	size_t alen = 0;

	if (cbu_check(p, n, CBOR_MAX_DEPTH) < 0 ||
	    (it = cbor_load(p, n, &res)) == NULL)
		abort();
	if (cbu_encode(it, 0, &again, &alen) < 0 || alen != n ||
	    memcmp(again, p, n) != 0)
		abort();
	free(again);
	cbor_decref(&it);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char resp[VAUTH_MAX_MSG];
	size_t rlen = sizeof(resp);

	setup();
	if (size == 0 || size > VAUTH_MAX_MSG)
		return (0);
	if (state_fresh(v) < 0 || pin_power_up(v) < 0)
		abort();
	vauth_reconnect(v);
	if (vauth_cbor(v, data, size, resp, &rlen) != VAUTH_OK || rlen == 0)
		abort();
	if (rlen > 1)
		check_canonical(resp + 1, rlen - 1);

	return (0);
}
