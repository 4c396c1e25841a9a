/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * JSON from outside (creationOptions, clientDataJSON, a POST body):
 * bounded in size and nesting before jansson sees it, duplicate keys
 * refused, and members read with their type and length checked.
 */

#include <jansson.h>

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
