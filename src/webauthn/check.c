/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The registration check behind `webauthn verify --body` and the
 * self-check of `webauthn create`: a POST body against the
 * creationOptions it answers, with our own code (no Graph).
 */

#include <jansson.h>

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ctap.h"
#include "webauthn_int.h"

static int
get_b64url(const json_t *obj, const char *name, const char *key,
    unsigned char **out, size_t *outlen, char *err, size_t errlen)
{
	const json_t *v;

	if ((v = json_object_get(obj, key)) == NULL || !json_is_string(v)) {
		errf(err, errlen, "%s is missing", name);
		return (WEBAUTHN_ERR_BODY);
	}
	if (b64url_decode(json_string_value(v), out, outlen) != 0 ||
	    *outlen == 0) {
		errf(err, errlen, "%s is not base64url without padding",
		    name);
		return (WEBAUTHN_ERR_BODY);
	}

	return (WEBAUTHN_OK);
}

int
webauthn_verify_body(const webauthn_options_t *o, const char *body,
    size_t len, char **fmt_out, char *err, size_t errlen)
{
	json_t			*root = NULL, *pkc, *resp;
	const json_t		*v;
	ctap_attobj_t		*a = NULL;
	unsigned char		*id = NULL, *cd = NULL, *att = NULL;
	const unsigned char	*adid;
	char			*fmt = NULL;
	size_t			 idlen = 0, cdlen = 0, attlen = 0;
	int			 r, cr;

	errf(err, errlen, "%s", "");
	if (fmt_out != NULL)
		*fmt_out = NULL;
	if (o == NULL || body == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((root = webauthn_json_load("body", body, len, err,
	    errlen)) == NULL) {
		r = WEBAUTHN_ERR_BODY;
		goto fail;
	}
	r = WEBAUTHN_ERR_BODY;
	if (json_object_get(root, "@odata.type") != NULL) {
		errf(err, errlen, "body carries @odata.type; Graph refuses "
		    "such bodies");
		goto fail;
	}
	if ((v = json_object_get(root, "displayName")) == NULL ||
	    !json_is_string(v) || json_string_length(v) == 0 ||
	    webauthn_utf16_units(json_string_value(v)) > WEBAUTHN_DISPLAY_MAX) {
		errf(err, errlen, "displayName is missing or longer than %d "
		    "characters", WEBAUTHN_DISPLAY_MAX);
		goto fail;
	}
	if ((pkc = json_object_get(root, "publicKeyCredential")) == NULL ||
	    !json_is_object(pkc) ||
	    json_object_get(pkc, "@odata.type") != NULL) {
		errf(err, errlen, "publicKeyCredential is missing, not an "
		    "object, or carries @odata.type");
		goto fail;
	}
	if ((resp = json_object_get(pkc, "response")) == NULL ||
	    !json_is_object(resp)) {
		errf(err, errlen, "publicKeyCredential.response is missing");
		goto fail;
	}
	if ((v = json_object_get(pkc, "clientExtensionResults")) != NULL &&
	    !json_is_object(v)) {
		errf(err, errlen, "clientExtensionResults is not an object");
		goto fail;
	}
	if ((r = get_b64url(pkc, "publicKeyCredential.id", "id", &id, &idlen,
	    err, errlen)) != WEBAUTHN_OK ||
	    (r = get_b64url(resp, "response.clientDataJSON", "clientDataJSON",
	    &cd, &cdlen, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_b64url(resp, "response.attestationObject",
	    "attestationObject", &att, &attlen, err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if ((r = webauthn_clientdata_check(o, cd, cdlen, err, errlen)) !=
	    WEBAUTHN_OK)
		goto fail;
	/* the shape by ctap's one set of rules; a malformed object is a
	 * malformed body, not a failed check */
	if ((a = ctap_attobj_new()) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	if ((cr = ctap_attobj_parse(a, att, attlen)) != CTAP_OK ||
	    (adid = ctap_attobj_cred_id_ptr(a)) == NULL) {
		errf(err, errlen, "attestationObject is not CBOR {fmt, "
		    "attStmt, authData} with attested credential data");
		r = cr == CTAP_ERR_INTERNAL ? WEBAUTHN_ERR_INTERNAL :
		    WEBAUTHN_ERR_BODY;
		goto fail;
	}
	if (ctap_attobj_cred_id_len(a) != idlen ||
	    memcmp(adid, id, idlen) != 0) {
		errf(err, errlen, "publicKeyCredential.id differs from the "
		    "credential id inside authData");
		r = WEBAUTHN_ERR_VERIFY;
		goto fail;
	}
	/* the extensions in authData must echo exactly what was asked */
	if ((cr = ctap_attobj_verify(att, attlen, cd, cdlen,
	    webauthn_options_rp_id(o), webauthn_options_uv(o),
	    webauthn_options_prot(o), webauthn_options_hmac_secret(o),
	    &fmt)) != CTAP_OK) {
		errf(err, errlen, "attestationObject (%s): %s",
		    ctap_attobj_fmt(a), ctap_strerr(cr));
		r = cr == CTAP_ERR_INTERNAL ? WEBAUTHN_ERR_INTERNAL :
		    WEBAUTHN_ERR_VERIFY;
		goto fail;
	}
	if (fmt_out != NULL) {
		*fmt_out = fmt;
		fmt = NULL;
	}
	r = WEBAUTHN_OK;
fail:
	json_decref(root);
	ctap_attobj_free(&a);
	free(id);
	free(cd);
	free(att);
	free(fmt);

	return (r);
}
