/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The fido2Methods POST body, and the "none" relabelling of an
 * attestation for tenants that do not enforce attestation.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ctap.h"
#include "webauthn_int.h"

int
webauthn_body_raw(const unsigned char *id, size_t idlen,
    const unsigned char *clientdata, size_t cdlen,
    const unsigned char *attobj, size_t attlen, const char *display_name,
    char **json)
{
	struct buf	 b;
	char		*b_id = NULL, *b_cd = NULL, *b_att = NULL, *dn = NULL;
	size_t		 n;
	int		 r;

	buf_init(&b, SIZE_MAX);
	if (json != NULL)
		*json = NULL;
	if (id == NULL || idlen == 0 || clientdata == NULL || cdlen == 0 ||
	    attobj == NULL || attlen == 0 || json == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((dn = strdup(display_name != NULL ? display_name : "")) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	webauthn_sanitize(dn);
	webauthn_truncate_utf8(dn, WEBAUTHN_DISPLAY_MAX);
	if (*dn == '\0') {
		free(dn);
		if ((dn = strdup("Security key")) == NULL) {
			r = WEBAUTHN_ERR_INTERNAL;
			goto fail;
		}
	}
	if (b64url_encode(id, idlen, &b_id) < 0 ||
	    b64url_encode(clientdata, cdlen, &b_cd) < 0 ||
	    b64url_encode(attobj, attlen, &b_att) < 0) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	/*
	 * The bytes json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) gives
	 * for this object.  No @odata.type anywhere: Graph answers 400
	 * when it sees one.
	 */
	buf_reserve(&b, strlen(b_id) + strlen(b_cd) + strlen(b_att) +
	    6 * strlen(dn) + 160);
	buf_puts(&b, "{\"displayName\":");
	webauthn_json_put_str(&b, dn);
	buf_puts(&b, ",\"publicKeyCredential\":{\"id\":");
	webauthn_json_put_str(&b, b_id);
	buf_puts(&b, ",\"response\":{\"clientDataJSON\":");
	webauthn_json_put_str(&b, b_cd);
	buf_puts(&b, ",\"attestationObject\":");
	webauthn_json_put_str(&b, b_att);
	buf_puts(&b, "},\"clientExtensionResults\":{}}}");
	if (b.err != 0 || (*json = (char *)buf_release(&b, &n)) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	buf_reset(&b);
	free(b_id);
	free(b_cd);
	free(b_att);
	free(dn);

	return (r);
}

int
webauthn_body(const ctap_cred_t *cred, const char *display_name, char **json)
{
	if (json != NULL)
		*json = NULL;
	if (cred == NULL || json == NULL)
		return (WEBAUTHN_ERR_ARG);

	return (webauthn_body_raw(ctap_cred_id_ptr(cred),
	    ctap_cred_id_len(cred), ctap_cred_clientdata_ptr(cred),
	    ctap_cred_clientdata_len(cred), ctap_cred_attobj_ptr(cred),
	    ctap_cred_attobj_len(cred), display_name, json));
}

/*
 * {"fmt":"none","attStmt":{},"authData":...}: a legal WebAuthn
 * transformation, since no signature covers fmt or attStmt.  The input
 * must be an attestationObject by ctap's rules.
 */
int
webauthn_attobj_none(const unsigned char *attobj, size_t len,
    unsigned char **out, size_t *outlen)
{
	ctap_attobj_t	*a = NULL;
	int		 r;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (attobj == NULL || out == NULL || outlen == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((a = ctap_attobj_new()) == NULL)
		return (WEBAUTHN_ERR_INTERNAL);
	if ((r = ctap_attobj_parse(a, attobj, len)) != CTAP_OK) {
		r = r == CTAP_ERR_INTERNAL ? WEBAUTHN_ERR_INTERNAL :
		    WEBAUTHN_ERR_ARG;
		goto fail;
	}
	if ((r = ctap_attobj_encode("none", NULL, 0,
	    ctap_attobj_authdata_ptr(a), ctap_attobj_authdata_len(a), out,
	    outlen)) != CTAP_OK) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	ctap_attobj_free(&a);

	return (r);
}
