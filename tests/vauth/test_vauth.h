/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared by the vauthlib unit tests.
 */

#ifndef TEST_VAUTH_H
#define TEST_VAUTH_H

#include <stddef.h>

#include <cbor.h>

#include "vauth.h"

/* canonical CBOR of it (asserts success); the caller frees *p */
void	 encode(const cbor_item_t *, int, unsigned char **, size_t *);
void	 free_item(cbor_item_t **);
/* a started vauth_t (asserts success) */
vauth_t	*new_started(void);

#endif /* TEST_VAUTH_H */
