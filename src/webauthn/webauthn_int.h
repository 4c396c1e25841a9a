/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Helpers shared inside src/webauthn/ only.
 */

#ifndef PROV_WEBAUTHN_INT_H
#define PROV_WEBAUTHN_INT_H

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "webauthn.h"

/* json.c: a bounded document, and typed members with their path in
 * error messages */
json_t	*webauthn_json_load(const char *what, const char *, size_t,
	    char *err, size_t errlen);
int	 webauthn_json_str(const json_t *, const char *path, const char *key,
	    bool required, size_t max, char **out, char *err, size_t errlen);
int	 webauthn_json_bool(const json_t *, const char *path, const char *key,
	    bool *out, char *err, size_t errlen);
int	 webauthn_json_obj(const json_t *, const char *path, const char *key,
	    bool required, json_t **out, char *err, size_t errlen);
/* s as a JSON string, appended (invalid UTF-8 fails the buffer) */
int	 webauthn_json_put_str(struct buf *, const char *);

/* clientdata.c: "https://<rp.id>"; the check of a clientDataJSON */
char	*webauthn_origin(const char *rp_id);
int	 webauthn_clientdata_check(const webauthn_options_t *,
	    const unsigned char *, size_t, char *err, size_t errlen);

/* display.c: display-name cleaning, and its length as Graph counts */
void	 webauthn_sanitize(char *);
size_t	 webauthn_utf16_units(const char *);

#endif /* PROV_WEBAUTHN_INT_H */
