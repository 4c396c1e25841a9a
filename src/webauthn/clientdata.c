/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * clientDataJSON: the exact bytes the key signs, and the check of one
 * found in a registration body.  Its strings are written by
 * webauthn_json_put_str(), so escaping is never hand-made.
 */

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "webauthn_int.h"

#define ORIGIN_PREFIX	"https://"

char *
webauthn_origin(const char *rp_id)
{
	char	*s;
	size_t	 n = strlen(ORIGIN_PREFIX) + strlen(rp_id) + 1;

	if ((s = malloc(n)) == NULL)
		return (NULL);
	snprintf(s, n, "%s%s", ORIGIN_PREFIX, rp_id);

	return (s);
}

int
webauthn_clientdata(const webauthn_options_t *o, char **json, size_t *len)
{
	struct buf	 b;
	char		*origin = NULL;
	int		 r;

	buf_init(&b, SIZE_MAX);
	if (json != NULL)
		*json = NULL;
	if (len != NULL)
		*len = 0;
	if (o == NULL || json == NULL || len == NULL ||
	    webauthn_options_challenge(o) == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((origin = webauthn_origin(webauthn_options_rp_id(o))) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	/* the members in the order WebAuthn 5.8.1.2 serializes them */
	buf_reserve(&b, strlen(webauthn_options_challenge(o)) +
	    strlen(origin) + 96);
	buf_puts(&b, "{\"type\":\"webauthn.create\",\"challenge\":");
	webauthn_json_put_str(&b, webauthn_options_challenge(o));
	buf_puts(&b, ",\"origin\":");
	webauthn_json_put_str(&b, origin);
	buf_puts(&b, ",\"crossOrigin\":false}");
	if (b.err != 0 || (*json = (char *)buf_release(&b, len)) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	buf_reset(&b);
	free(origin);

	return (r);
}

/* a clientDataJSON from a body: for this ceremony, challenge and rp */
int
webauthn_clientdata_check(const webauthn_options_t *o, const unsigned char *cd,
    size_t cdlen, char *err, size_t errlen)
{
	json_t		*root = NULL;
	const json_t	*v;
	char		*origin = NULL;
	int		 r = WEBAUTHN_ERR_VERIFY;

	if ((root = webauthn_json_load("clientDataJSON", (const char *)cd,
	    cdlen, err, errlen)) == NULL)
		return (WEBAUTHN_ERR_BODY);
	if ((origin = webauthn_origin(webauthn_options_rp_id(o))) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	if ((v = json_object_get(root, "type")) == NULL ||
	    !json_is_string(v) || strcmp(json_string_value(v),
	    "webauthn.create") != 0) {
		errf(err, errlen, "clientDataJSON.type is not "
		    "\"webauthn.create\"");
		goto fail;
	}
	if ((v = json_object_get(root, "challenge")) == NULL ||
	    !json_is_string(v) || strcmp(json_string_value(v),
	    webauthn_options_challenge(o)) != 0) {
		errf(err, errlen, "clientDataJSON.challenge differs from "
		    "the creationOptions challenge");
		goto fail;
	}
	if ((v = json_object_get(root, "origin")) == NULL ||
	    !json_is_string(v) || strcmp(json_string_value(v), origin) != 0) {
		errf(err, errlen, "clientDataJSON.origin is not \"%s\"",
		    origin);
		goto fail;
	}
	if ((v = json_object_get(root, "crossOrigin")) != NULL &&
	    !json_is_false(v)) {
		errf(err, errlen, "clientDataJSON.crossOrigin is not false");
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	json_decref(root);
	free(origin);

	return (r);
}
