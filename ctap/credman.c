/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Credential management: how many passkeys a key holds (a station
 * refuses used keys).
 */

#include <fido/credman.h>

#include "ctap_int.h"

int
ctap_dev_cred_count(ctap_dev_t *d, const char *pin, size_t *n)
{
	fido_credman_metadata_t	*md = NULL;
	long long		 t0;
	int			 fr, r;

	*n = 0;
	if (d == NULL || !d->open || pin == NULL)
		return (CTAP_ERR_ARG);
	if ((md = fido_credman_metadata_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	ctap_dev_begin(d, d->timeout_ms);
	t0 = now_ms();
	if ((fr = fido_credman_get_dev_metadata(d->dev, md, pin)) !=
	    FIDO_OK) {
		r = ctap_from_fido(d, fr, now_ms() - t0);
		goto fail;
	}
	*n = (size_t)fido_credman_rk_existing(md);
	r = CTAP_OK;
fail:
	fido_credman_metadata_free(&md);

	return (r);
}
