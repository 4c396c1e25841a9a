/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the registration-body check behind `webauthn verify
 * --body` (webauthn_verify_body), against fixed, valid creationOptions.
 * An input starting with '{' is the body itself.  Anything else is taken
 * as a raw attestationObject and wrapped in a body with the right
 * clientDataJSON and the credential id authData names, so that the
 * fuzzer reaches the CBOR and signature checks without having to learn
 * base64url first.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctap.h"
#include "webauthn.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* tests/unit/test_attobj.c's options: uv, hmac-secret, credProtect 1 */
static const char options_json[] =
    "{\"challengeTimeoutDateTime\":\"2024-06-13T11:26:35Z\",\"publicKey\":{"
    "\"rp\":{\"id\":\"login.microsoft.com\",\"name\":\"Microsoft\"},"
    "\"user\":{\"id\":\"T0Y6bXlzZWxm\",\"name\":\"john@contoso.com\","
    "\"displayName\":\"John Doe\"},"
    "\"challenge\":\"ZXlKaGJHY2lPaUpTVTBFdFQwRkZVQzB5TlRZaUxDSmxibU1pT2lK\","
    "\"pubKeyCredParams\":[{\"type\":\"public-key\",\"alg\":-7}],"
    "\"authenticatorSelection\":{\"requireResidentKey\":true,"
    "\"userVerification\":\"required\"},"
    "\"extensions\":{\"hmacCreateSecret\":true,"
    "\"enforceCredentialProtectionPolicy\":true,"
    "\"credentialProtectionPolicy\":\"userVerificationOptional\"}}}";

static webauthn_options_t	*opts;
static char			*cdata;
static size_t			 cdlen;

static void
setup(void)
{
	if (opts != NULL)
		return;
	ctap_init();
	if (webauthn_options_parse(options_json, sizeof(options_json) - 1,
	    &opts, NULL, 0) != WEBAUTHN_OK ||
	    webauthn_clientdata(opts, &cdata, &cdlen) != WEBAUTHN_OK)
		abort();
}

static void
check(const char *body, size_t len)
{
	char	*fmt = NULL, err[256];
	int	 r;

	r = webauthn_verify_body(opts, body, len, &fmt, err, sizeof(err));
	/* a format on success only; a reason on failure only */
	if ((r == WEBAUTHN_OK) != (fmt != NULL) ||
	    ((r == WEBAUTHN_ERR_BODY || r == WEBAUTHN_ERR_VERIFY) &&
	    err[0] == '\0') || (r != WEBAUTHN_OK && r != WEBAUTHN_ERR_BODY &&
	    r != WEBAUTHN_ERR_VERIFY && r != WEBAUTHN_ERR_INTERNAL))
		abort();
	free(fmt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char	 noid[] = { 0x01 };
	ctap_attobj_t			*a = NULL;
	const unsigned char		*id = noid;
	size_t				 idlen = sizeof(noid);
	char				*body = NULL;

	setup();
	if (size > 0 && data[0] == '{') {
		check((const char *)data, size);
		return (0);
	}
	if (size == 0 || (a = ctap_attobj_new()) == NULL)
		return (0);
	if (ctap_attobj_parse(a, data, size) == CTAP_OK &&
	    ctap_attobj_cred_id_ptr(a) != NULL) {
		id = ctap_attobj_cred_id_ptr(a);
		idlen = ctap_attobj_cred_id_len(a);
	}
	if (webauthn_body_raw(id, idlen, (const unsigned char *)cdata, cdlen,
	    data, size, "k", &body) == WEBAUTHN_OK)
		check(body, strlen(body));
	free(body);
	ctap_attobj_free(&a);

	return (0);
}
