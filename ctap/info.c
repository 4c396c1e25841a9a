/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * authenticatorGetInfo, summarised.
 */

#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

ctap_info_t *
ctap_info_new(void)
{
	ctap_info_t *ci;

	if ((ci = calloc(1, sizeof(*ci))) == NULL)
		return (NULL);
	if ((ci->ci = fido_cbor_info_new()) == NULL) {
		free(ci);
		return (NULL);
	}

	return (ci);
}

void
ctap_info_free(ctap_info_t **cip)
{
	ctap_info_t *ci;

	if (cip == NULL || (ci = *cip) == NULL)
		return;
	fido_cbor_info_free(&ci->ci);
	free(ci);
	*cip = NULL;
}

int
ctap_dev_get_info(ctap_dev_t *d, ctap_info_t *ci)
{
	long long	t0;
	int		fr;

	if (d == NULL || ci == NULL || !d->open)
		return (CTAP_ERR_ARG);
	fido_cbor_info_free(&ci->ci);
	if ((ci->ci = fido_cbor_info_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	ctap_dev_begin(d, CTAP_CMD_TIMEOUT_MS);
	t0 = now_ms();
	if ((fr = fido_dev_get_cbor_info(d->dev, ci->ci)) != FIDO_OK)
		return (ctap_from_fido(d, fr, now_ms() - t0));
	ctap_aaguid_str(fido_cbor_info_aaguid_ptr(ci->ci),
	    fido_cbor_info_aaguid_len(ci->ci), ci->aaguid);

	return (CTAP_OK);
}

const char *
ctap_info_aaguid(const ctap_info_t *ci)
{
	return (ci->aaguid);
}

size_t
ctap_info_versions_len(const ctap_info_t *ci)
{
	return (fido_cbor_info_versions_len(ci->ci));
}

const char *
ctap_info_version(const ctap_info_t *ci, size_t i)
{
	return (fido_cbor_info_versions_ptr(ci->ci)[i]);
}

size_t
ctap_info_extensions_len(const ctap_info_t *ci)
{
	return (fido_cbor_info_extensions_len(ci->ci));
}

const char *
ctap_info_extension(const ctap_info_t *ci, size_t i)
{
	return (fido_cbor_info_extensions_ptr(ci->ci)[i]);
}

size_t
ctap_info_options_len(const ctap_info_t *ci)
{
	return (fido_cbor_info_options_len(ci->ci));
}

const char *
ctap_info_option_name(const ctap_info_t *ci, size_t i)
{
	return (fido_cbor_info_options_name_ptr(ci->ci)[i]);
}

bool
ctap_info_option_value(const ctap_info_t *ci, size_t i)
{
	return (fido_cbor_info_options_value_ptr(ci->ci)[i]);
}

int
ctap_info_option(const ctap_info_t *ci, const char *name)
{
	size_t i, n = ctap_info_options_len(ci);

	for (i = 0; i < n; i++)
		if (strcmp(ctap_info_option_name(ci, i), name) == 0)
			return (ctap_info_option_value(ci, i) ? 1 : 0);

	return (-1);
}

size_t
ctap_info_algorithms_len(const ctap_info_t *ci)
{
	return (fido_cbor_info_algorithm_count(ci->ci));
}

int
ctap_info_algorithm(const ctap_info_t *ci, size_t i)
{
	return (fido_cbor_info_algorithm_cose(ci->ci, i));
}

size_t
ctap_info_protocols_len(const ctap_info_t *ci)
{
	return (fido_cbor_info_protocols_len(ci->ci));
}

int
ctap_info_protocol(const ctap_info_t *ci, size_t i)
{
	return (fido_cbor_info_protocols_ptr(ci->ci)[i]);
}

uint64_t
ctap_info_min_pin_length(const ctap_info_t *ci)
{
	uint64_t n = fido_cbor_info_minpinlen(ci->ci);

	return (n < CTAP_PIN_MIN ? CTAP_PIN_MIN : n);
}

int64_t
ctap_info_remaining_rk(const ctap_info_t *ci)
{
	return (fido_cbor_info_rk_remaining(ci->ci));
}

bool
ctap_info_force_pin_change(const ctap_info_t *ci)
{
	return (fido_cbor_info_new_pin_required(ci->ci));
}

uint64_t
ctap_info_firmware(const ctap_info_t *ci)
{
	return (fido_cbor_info_fwversion(ci->ci));
}

uint64_t
ctap_info_max_msg_size(const ctap_info_t *ci)
{
	return (fido_cbor_info_maxmsgsiz(ci->ci));
}

bool
ctap_info_has_pin(const ctap_info_t *ci)
{
	return (ctap_info_option(ci, "clientPin") == 1);
}

bool
ctap_info_ctap21(const ctap_info_t *ci)
{
	size_t i, n = ctap_info_versions_len(ci);

	for (i = 0; i < n; i++)
		if (strcmp(ctap_info_version(ci, i), "FIDO_2_1") == 0)
			return (true);

	return (false);
}
