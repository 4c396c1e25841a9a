/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * JSON from outside (creationOptions, clientDataJSON, a POST body):
 * bounded in size and nesting before jansson sees it, duplicate keys
 * refused, and members read with their type and length checked.  And
 * the strings of the JSON we write.
 */

#include <jansson.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "webauthn_int.h"

json_t *
webauthn_json_load(const char *what, const char *s, size_t len, char *err,
    size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root;

	if (len > WEBAUTHN_JSON_MAX) {
		errf(err, errlen, "%s is larger than %d bytes", what,
		    WEBAUTHN_JSON_MAX);
		return (NULL);
	}
	if (!json_depth_ok(s, len, WEBAUTHN_DEPTH_MAX)) {
		errf(err, errlen, "%s is nested deeper than %d levels",
		    what, WEBAUTHN_DEPTH_MAX);
		return (NULL);
	}
	if ((root = json_loadb(s, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		errf(err, errlen, "%s is not valid JSON: %s (line %d, "
		    "column %d)", what, jerr.text, jerr.line, jerr.column);
		return (NULL);
	}
	if (!json_is_object(root)) {
		errf(err, errlen, "%s is not a JSON object", what);
		json_decref(root);
		return (NULL);
	}

	return (root);
}

/*
 * A string member: *out is NULL when absent (and not required), else a
 * copy.  Type and length are checked.
 */
int
webauthn_json_str(const json_t *obj, const char *path, const char *key,
    bool required, size_t max, char **out, char *err, size_t errlen)
{
	const json_t	*v;
	size_t		 len;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v)) {
		if (required) {
			errf(err, errlen, "%s%s is missing", path, key);
			return (WEBAUTHN_ERR_OPTIONS);
		}
		return (WEBAUTHN_OK);
	}
	if (!json_is_string(v)) {
		errf(err, errlen, "%s%s must be a string", path, key);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	len = json_string_length(v);
	if (len > max) {
		errf(err, errlen, "%s%s is longer than %zu bytes", path, key,
		    max);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	if (required && len == 0) {
		errf(err, errlen, "%s%s is empty", path, key);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	if ((*out = strdup(json_string_value(v))) == NULL)
		return (WEBAUTHN_ERR_INTERNAL);

	return (WEBAUTHN_OK);
}

/* a boolean member: absent or null leaves *out alone */
int
webauthn_json_bool(const json_t *obj, const char *path, const char *key,
    bool *out, char *err, size_t errlen)
{
	const json_t *v;

	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v))
		return (WEBAUTHN_OK);
	if (!json_is_boolean(v)) {
		errf(err, errlen, "%s%s must be true or false", path, key);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	*out = json_is_true(v);

	return (WEBAUTHN_OK);
}

/* an optional object member; NULL if absent or null */
int
webauthn_json_obj(const json_t *obj, const char *path, const char *key,
    bool required, json_t **out, char *err, size_t errlen)
{
	json_t *v;

	*out = NULL;
	if ((v = json_object_get(obj, key)) == NULL || json_is_null(v)) {
		if (required) {
			errf(err, errlen, "%s%s is missing", path, key);
			return (WEBAUTHN_ERR_OPTIONS);
		}
		return (WEBAUTHN_OK);
	}
	if (!json_is_object(v)) {
		errf(err, errlen, "%s%s must be an object", path, key);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	*out = v;

	return (WEBAUTHN_OK);
}

/*
 * s as a JSON string, byte for byte what json_dumps() writes.  Most of
 * what we write (base64url of a few KB, a host name) has nothing to
 * escape and is copied: jansson's encoder costs ~70 instructions a
 * byte, and these strings are most of a registration body.  Anything
 * else goes through jansson, so escaping is never hand-made.
 */
int
webauthn_json_put_str(struct buf *b, const char *s)
{
	const unsigned char	*p;
	json_t			*j;
	char			*enc;
	int			 r;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			break;
	if (*p == '\0') {
		buf_append(b, "\"", 1);
		buf_append(b, s, (size_t)(p - (const unsigned char *)s));
		return (buf_append(b, "\"", 1));
	}
	/* a failure fails the buffer, as a failed append does */
	if ((j = json_string(s)) == NULL ||
	    (enc = json_dumps(j, JSON_ENCODE_ANY)) == NULL) {
		json_decref(j);
		if (b->err == 0)
			b->err = EILSEQ;
		return (-1);
	}
	r = buf_puts(b, enc);
	free(enc);
	json_decref(j);

	return (r);
}
