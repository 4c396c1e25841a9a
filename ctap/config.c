/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * authenticatorReset and authenticatorConfig.
 */

#include <fido/config.h>

#include "ctap_int.h"

int
ctap_dev_reset(ctap_dev_t *d)
{
	long long	t0;
	int		fr;

	if (d == NULL || !d->open)
		return (CTAP_ERR_ARG);
	ctap_dev_begin(d, d->timeout_ms);
	t0 = now_ms();
	if ((fr = fido_dev_reset(d->dev)) != FIDO_OK)
		return (ctap_from_fido(d, fr, now_ms() - t0));

	return (CTAP_OK);
}

/* CTAP 2.1 config needs the authnrCfg option; say so rather than fail */
static int
has_config(ctap_dev_t *d)
{
	ctap_info_t	*ci = NULL;
	int		 r;

	if ((ci = ctap_info_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	if ((r = ctap_dev_get_info(d, ci)) == CTAP_OK &&
	    ctap_info_option(ci, "authnrCfg") != 1)
		r = CTAP_ERR_UNSUPPORTED;
	ctap_info_free(&ci);

	return (r);
}

int
ctap_dev_force_pin_change(ctap_dev_t *d, const char *pin)
{
	long long	t0;
	int		r, fr;

	if (d == NULL || !d->open || pin == NULL)
		return (CTAP_ERR_ARG);
	if ((r = has_config(d)) != CTAP_OK)
		return (r);
	ctap_dev_begin(d, CTAP_CMD_TIMEOUT_MS);
	t0 = now_ms();
	if ((fr = fido_dev_force_pin_change(d->dev, pin)) != FIDO_OK)
		return (ctap_pin_fail(d, fr, now_ms() - t0));

	return (CTAP_OK);
}

int
ctap_dev_set_min_pin_length(ctap_dev_t *d, size_t len, const char *pin)
{
	long long	t0;
	int		r, fr;

	if (d == NULL || !d->open || pin == NULL || len < CTAP_PIN_MIN ||
	    len > CTAP_PIN_MAX)
		return (CTAP_ERR_ARG);
	if ((r = has_config(d)) != CTAP_OK)
		return (r);
	ctap_dev_begin(d, CTAP_CMD_TIMEOUT_MS);
	t0 = now_ms();
	if ((fr = fido_dev_set_pin_minlen(d->dev, len, pin)) != FIDO_OK)
		return (ctap_pin_fail(d, fr, now_ms() - t0));

	return (CTAP_OK);
}
