/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Helpers of the vauthlib unit tests (test_vauth_unit, test_vauth_ctap2).
 */

#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "extern.h"
#include "test_vauth.h"

void
encode(const cbor_item_t *it, int flags, unsigned char **p, size_t *n)
{
	assert_int_equal(cbu_encode(it, flags, p, n), 0);
}

void
free_item(cbor_item_t **it)
{
	if (*it != NULL)
		cbor_decref(it);
}

vauth_t *
new_started(void)
{
	vauth_t *v;

	assert_non_null(v = vauth_new());
	assert_int_equal(vauth_start(v), VAUTH_OK);

	return (v);
}
