/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: Graph's creationOptions through the parser and, when
 * they parse, through everything built from them (clientDataJSON, the
 * accessors, and a body check against a fixed body).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webauthn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* keeps the accessor reads from being optimised away */
volatile size_t	sink;

static const char body[] = "{\"displayName\":\"k\",\"publicKeyCredential\":"
    "{\"id\":\"AQID\",\"response\":{\"clientDataJSON\":\"e30\","
    "\"attestationObject\":\"oA\"},\"clientExtensionResults\":{}}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	webauthn_options_t	*o = NULL;
	char			*cd = NULL, *fmt = NULL, err[256];
	size_t			 len, i, sum = 0;

	if (webauthn_options_parse((const char *)data, size, &o, err,
	    sizeof(err)) != WEBAUTHN_OK)
		return (0);
	if (webauthn_clientdata(o, &cd, &len) == WEBAUTHN_OK &&
	    strlen(cd) != len)
		abort();
	for (i = 0; i < webauthn_options_exclude_len(o); i++)
		sum += webauthn_options_exclude_ptr(o, i)[0] +
		    webauthn_options_exclude_id_len(o, i);
	for (i = 0; i < webauthn_options_algs_len(o); i++)
		sum += (size_t)webauthn_options_alg(o, i);
	sum += strlen(webauthn_options_rp_id(o)) +
	    strlen(webauthn_options_rp_name(o)) +
	    strlen(webauthn_options_user_name(o)) +
	    strlen(webauthn_options_user_display_name(o)) +
	    strlen(webauthn_options_uv_pref(o)) +
	    strlen(webauthn_options_attestation(o)) +
	    webauthn_options_user_id_ptr(o)[0];
	if (webauthn_options_user_id_len(o) == 0 ||
	    webauthn_options_user_id_len(o) > WEBAUTHN_USERID_MAX ||
	    webauthn_options_timeout_ms(o) <= 0)
		abort();
	sink = sum;
	(void)webauthn_verify_body(o, body, strlen(body), &fmt, err,
	    sizeof(err));
	free(fmt);
	free(cd);
	webauthn_options_free(&o);

	return (0);
}
