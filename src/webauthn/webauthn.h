/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The WebAuthn glue: the one place that knows both Graph's JSON
 * (creationOptions in, fido2Methods POST body out) and the CTAP layer.
 * Everything here is pure computation; no network, no device I/O.
 */

#ifndef PROV_WEBAUTHN_H
#define PROV_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ctap.h"

#define WEBAUTHN_OK		 0
#define WEBAUTHN_ERR_INTERNAL	-1	/* bug or out of memory */
#define WEBAUTHN_ERR_ARG	-2	/* bad parameter from the caller */
#define WEBAUTHN_ERR_JSON	-3	/* not JSON, too large, too deep */
#define WEBAUTHN_ERR_OPTIONS	-4	/* JSON, but unusable creationOptions */
#define WEBAUTHN_ERR_BODY	-5	/* malformed registration body */
#define WEBAUTHN_ERR_VERIFY	-6	/* body does not match the options */
#define WEBAUTHN_ERR_RP		-7	/* options for another relying party */

const char	*webauthn_strerr(int);

/* bounds on untrusted input */
#define WEBAUTHN_JSON_MAX	(1024 * 1024)	/* whole document, bytes */
#define WEBAUTHN_DEPTH_MAX	32		/* JSON nesting */
#define WEBAUTHN_STR_MAX	1024		/* names, bytes */
#define WEBAUTHN_CHALLENGE_MAX	(64 * 1024)	/* challenge, chars */
#define WEBAUTHN_USERID_MAX	64		/* CTAP limit, bytes */
#define WEBAUTHN_CREDID_MAX	1024		/* one excluded id, bytes */
#define WEBAUTHN_EXCLUDE_MAX	64		/* excluded id readings */
#define WEBAUTHN_DISPLAY_MAX	30		/* displayName, UTF-16 units */

/* used when Graph sends `timeout: 0` or none: enough to find the key */
#define WEBAUTHN_TIMEOUT_DEFAULT_MS	120000
#define WEBAUTHN_TIMEOUT_MAX_MS		600000

/* Graph's credentialProtectionPolicy names, as CTAP levels */
#define WEBAUTHN_PROT_NONE	0

/*
 * creationOptions, as Graph returns them: top level or wrapped in
 * "value", or the bare publicKey object.  @odata.* keys are ignored.
 */
typedef struct webauthn_options webauthn_options_t;

webauthn_options_t *webauthn_options_new(void);
void		 webauthn_options_free(webauthn_options_t **);
/* err (may be NULL) receives a one-line reason on failure */
int		 webauthn_options_parse(const char *json, size_t len,
		    webauthn_options_t **, char *err, size_t errlen);

const char	*webauthn_options_rp_id(const webauthn_options_t *);
const char	*webauthn_options_rp_name(const webauthn_options_t *);
const unsigned char *webauthn_options_user_id_ptr(const webauthn_options_t *);
size_t		 webauthn_options_user_id_len(const webauthn_options_t *);
const char	*webauthn_options_user_name(const webauthn_options_t *);
const char	*webauthn_options_user_display_name(
		    const webauthn_options_t *);
/* base64url without padding, exactly as it goes into clientDataJSON */
const char	*webauthn_options_challenge(const webauthn_options_t *);
/* pubKeyCredParams, in order (COSE algorithm numbers) */
size_t		 webauthn_options_algs_len(const webauthn_options_t *);
int		 webauthn_options_alg(const webauthn_options_t *, size_t);
int		 webauthn_options_timeout_ms(const webauthn_options_t *);
/* every reading of every excluded id (ambiguous ids count twice) */
size_t		 webauthn_options_exclude_len(const webauthn_options_t *);
/* the excluded credentials themselves: the user's existing passkeys */
size_t		 webauthn_options_exclude_creds(const webauthn_options_t *);
const unsigned char *webauthn_options_exclude_ptr(
		    const webauthn_options_t *, size_t);
size_t		 webauthn_options_exclude_id_len(const webauthn_options_t *,
		    size_t);
bool		 webauthn_options_rk(const webauthn_options_t *);
bool		 webauthn_options_uv(const webauthn_options_t *);
/* "required", "preferred", "discouraged" or "" */
const char	*webauthn_options_uv_pref(const webauthn_options_t *);
const char	*webauthn_options_attestation(const webauthn_options_t *);
bool		 webauthn_options_hmac_secret(const webauthn_options_t *);
/* CTAP_PROT_* or WEBAUTHN_PROT_NONE */
int		 webauthn_options_prot(const webauthn_options_t *);
bool		 webauthn_options_prot_enforce(const webauthn_options_t *);
/* challengeTimeoutDateTime, 0 if absent */
time_t		 webauthn_options_expires(const webauthn_options_t *);

/*
 * The relying party is pinned: Entra registers passkeys for
 * login.microsoft.com only, and a key would sign for any rp.id it is
 * handed.  rp.id must be `expected` (NULL: WEBAUTHN_RP_ID), either
 * case, with at most one trailing dot; anything else is
 * WEBAUTHN_ERR_RP with a one-line reason in err.
 */
#define WEBAUTHN_RP_ID	"login.microsoft.com"

int		 webauthn_options_check_rp(const webauthn_options_t *,
		    const char *expected, char *err, size_t errlen);

/*
 * clientDataJSON, byte for byte:
 * {"type":"webauthn.create","challenge":"...","origin":"https://<rp.id>",
 * "crossOrigin":false}.  *json is NUL-terminated; free() it.
 */
int	webauthn_clientdata(const webauthn_options_t *, char **json,
	    size_t *len);

/* fill a ctap_cred_t: rp, user, clientdata, excludes, rk, uv, prot, hmac */
int	webauthn_apply(const webauthn_options_t *, ctap_cred_t *,
	    const char *clientdata, size_t len);

/*
 * The fido2Methods POST body (one line, no @odata.type, base64url
 * without padding); display_name is cut to WEBAUTHN_DISPLAY_MAX UTF-16
 * units at a character boundary.
 */
int	webauthn_body(const ctap_cred_t *, const char *display_name,
	    char **json);
/* the same, from raw pieces (for tests and re-labelled attestations) */
int	webauthn_body_raw(const unsigned char *id, size_t idlen,
	    const unsigned char *clientdata, size_t cdlen,
	    const unsigned char *attobj, size_t attlen,
	    const char *display_name, char **json);

/*
 * The same attestationObject relabelled {"fmt":"none","attStmt":{}},
 * authData untouched (a legal WebAuthn transformation, for tenants that
 * do not enforce attestation).
 */
int	webauthn_attobj_none(const unsigned char *attobj, size_t len,
	    unsigned char **out, size_t *outlen);

/*
 * Expand a --display-name template.  Placeholders: {upn} {name} {model}
 * {serial} {date} {aaguid}; any other {...} is an error.  NULL template:
 * "{model}" if the model is known, else "Security key {date}".  A NULL
 * date means today (UTC, YYYY-MM-DD).  Control characters become
 * spaces, runs of blanks collapse, and an empty result becomes
 * "Security key".  *out is free()d by the caller.
 */
#define WEBAUTHN_DISPLAY_DEFAULT	"{model}"
#define WEBAUTHN_DISPLAY_FALLBACK	"Security key {date}"

int	webauthn_display_name(const char *tmpl, const char *upn,
	    const char *name, const char *model, const char *aaguid,
	    const char *serial, const char *date, char **out);
/* cut s in place to at most max UTF-16 units at a character boundary */
void	webauthn_truncate_utf8(char *s, size_t max);

/*
 * Check a POST body against the options with our own code: shape,
 * encodings, clientDataJSON type/challenge/origin, the credential id
 * inside authData, and ctap_attobj_verify (signature, rpIdHash, flags,
 * extensions).  fmt_out (may be NULL) receives the attestation format.
 */
int	webauthn_verify_body(const webauthn_options_t *, const char *body,
	    size_t len, char **fmt_out, char *err, size_t errlen);

#endif /* PROV_WEBAUTHN_H */
