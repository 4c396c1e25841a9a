/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The CTAP request: creationOptions and clientDataJSON into a
 * ctap_cred_t, ready for makeCredential.
 */

#include <stddef.h>

#include "ctap.h"
#include "webauthn.h"

static int
from_ctap(int r)
{
	switch (r) {
	case CTAP_OK:
		return (WEBAUTHN_OK);
	case CTAP_ERR_ARG:
		return (WEBAUTHN_ERR_OPTIONS);
	default:
		return (WEBAUTHN_ERR_INTERNAL);
	}
}

int
webauthn_apply(const webauthn_options_t *o, ctap_cred_t *cred,
    const char *clientdata, size_t len)
{
	size_t	i;
	int	r;

	if (o == NULL || cred == NULL || clientdata == NULL || len == 0)
		return (WEBAUTHN_ERR_ARG);
	if ((r = ctap_cred_set_rp(cred, webauthn_options_rp_id(o),
	    webauthn_options_rp_name(o))) != CTAP_OK ||
	    (r = ctap_cred_set_user(cred, webauthn_options_user_id_ptr(o),
	    webauthn_options_user_id_len(o), webauthn_options_user_name(o),
	    webauthn_options_user_display_name(o))) != CTAP_OK ||
	    (r = ctap_cred_set_clientdata(cred,
	    (const unsigned char *)clientdata, len)) != CTAP_OK ||
	    (r = ctap_cred_set_rk(cred, webauthn_options_rk(o))) != CTAP_OK ||
	    (r = ctap_cred_set_uv(cred, webauthn_options_uv(o))) != CTAP_OK ||
	    (r = ctap_cred_set_prot(cred, webauthn_options_prot(o))) !=
	    CTAP_OK ||
	    (r = ctap_cred_set_hmac_secret(cred,
	    webauthn_options_hmac_secret(o))) != CTAP_OK)
		return (from_ctap(r));
	for (i = 0; i < webauthn_options_exclude_len(o); i++)
		if ((r = ctap_cred_exclude(cred,
		    webauthn_options_exclude_ptr(o, i),
		    webauthn_options_exclude_id_len(o, i))) != CTAP_OK)
			return (from_ctap(r));

	return (WEBAUTHN_OK);
}
