/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * creationOptions -> CTAP parameters -> fido2Methods POST body.
 *
 * Graph's JSON is untrusted input: the document, its nesting, every
 * string and every list are bounded before anything is copied, and the
 * three id encodings Graph uses are all accepted (common/b64.c).  The
 * JSON we emit goes through jansson so escaping is never hand-made.
 */

#include <cbor.h>
#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "ctap.h"
#include "webauthn.h"

#define COSE_ES256	-7
#define RPID_MAX	253		/* a DNS name */
#define ALGS_MAX	64
#define ORIGIN_PREFIX	"https://"

struct blob {
	unsigned char	*ptr;
	size_t		 len;
};

struct webauthn_options {
	char		*rp_id;
	char		*rp_name;
	unsigned char	*user_id;
	size_t		 user_id_len;
	char		*user_name;
	char		*user_display_name;
	char		*challenge;
	int		*algs;
	size_t		 nalgs;
	int		 timeout_ms;
	struct blob	*excl;
	size_t		 nexcl;
	bool		 rk;
	char		*uv_pref;
	char		*attestation;
	bool		 hmac_secret;
	int		 prot;
	bool		 prot_enforce;
	time_t		 expires;
};

const char *
webauthn_strerr(int r)
{
	switch (r) {
	case WEBAUTHN_OK:
		return ("success");
	case WEBAUTHN_ERR_INTERNAL:
		return ("internal error");
	case WEBAUTHN_ERR_ARG:
		return ("invalid argument");
	case WEBAUTHN_ERR_JSON:
		return ("malformed JSON");
	case WEBAUTHN_ERR_OPTIONS:
		return ("unusable creationOptions");
	case WEBAUTHN_ERR_BODY:
		return ("malformed registration body");
	case WEBAUTHN_ERR_VERIFY:
		return ("registration does not match the options");
	default:
		return ("unknown error");
	}
}

webauthn_options_t *
webauthn_options_new(void)
{
	webauthn_options_t *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return (NULL);

	return (o);
}

void
webauthn_options_free(webauthn_options_t **op)
{
	webauthn_options_t	*o;
	size_t			 i;

	if (op == NULL || (o = *op) == NULL)
		return;
	free(o->rp_id);
	free(o->rp_name);
	freezero_buf(o->user_id, o->user_id_len);
	free(o->user_name);
	free(o->user_display_name);
	free(o->challenge);
	free(o->algs);
	for (i = 0; i < o->nexcl; i++)
		free(o->excl[i].ptr);
	free(o->excl);
	free(o->uv_pref);
	free(o->attestation);
	free(o);
	*op = NULL;
}

static json_t *
load_json(const char *what, const char *s, size_t len, char *err,
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
static int
get_str(const json_t *obj, const char *path, const char *key, bool required,
    size_t max, char **out, char *err, size_t errlen)
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
static int
get_bool(const json_t *obj, const char *path, const char *key, bool *out,
    char *err, size_t errlen)
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
static int
get_obj(const json_t *obj, const char *path, const char *key, bool required,
    json_t **out, char *err, size_t errlen)
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

/* rp.id ends up in the origin: a host name and nothing else */
static bool
rpid_ok(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > RPID_MAX || s[0] == '.' || s[0] == '-')
		return (false);
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-')
			continue;
		return (false);
	}

	return (true);
}

/*
 * The challenge is copied, not decoded: the server compares the string.
 * Normalise it to base64url without padding and refuse anything that is
 * not base64 at all.
 */
static int
challenge_norm(char *s, char *err, size_t errlen)
{
	size_t	i, len = strlen(s), pad = 0;

	while (len > 0 && s[len - 1] == '=' && pad++ < 2)
		s[--len] = '\0';
	if (len == 0 || len % 4 == 1) {
		errf(err, errlen, "publicKey.challenge is not base64url "
		    "(length %zu)", len);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
		else if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_')) {
			errf(err, errlen, "publicKey.challenge has a "
			    "character outside base64url at offset %zu", i);
			return (WEBAUTHN_ERR_OPTIONS);
		}
	}

	return (WEBAUTHN_OK);
}

/* "2024-06-13T11:26:35Z", optional fraction, Z or +hh:mm / -hh:mm */
static int
parse_datetime(const char *s, time_t *out)
{
	struct tm	 tm;
	const char	*p;
	long		 off = 0;
	int		 oh, om, n = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 19)
		return (-1);
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return (-1);
	p = s + n;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return (-1);
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' && p[1] == '\0')
		off = 0;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && oh <= 23 && om <= 59)
		off = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
	else
		return (-1);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return (-1);
	*out = t - off;

	return (0);
}

static int
parse_rp_user(webauthn_options_t *o, const json_t *pk, char *err,
    size_t errlen)
{
	json_t		*rp, *user;
	char		*uid = NULL;
	struct b64_any	 a;
	int		 r;

	memset(&a, 0, sizeof(a));
	if ((r = get_obj(pk, "publicKey.", "rp", true, &rp, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = get_str(rp, "publicKey.rp.", "id", true, RPID_MAX,
	    &o->rp_id, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(rp, "publicKey.rp.", "name", false,
	    WEBAUTHN_STR_MAX, &o->rp_name, err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if (!rpid_ok(o->rp_id)) {
		errf(err, errlen, "publicKey.rp.id \"%.64s\" is not a host "
		    "name", o->rp_id);
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	if ((r = get_obj(pk, "publicKey.", "user", true, &user, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = get_str(user, "publicKey.user.", "id", true,
	    WEBAUTHN_USERID_MAX * 2, &uid, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(user, "publicKey.user.", "name", false,
	    WEBAUTHN_STR_MAX, &o->user_name, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(user, "publicKey.user.", "displayName", false,
	    WEBAUTHN_STR_MAX, &o->user_display_name, err,
	    errlen)) != WEBAUTHN_OK)
		goto fail;
	/*
	 * The user handle must reach the key byte for byte.  Should it read
	 * two ways, the plain reading (the one Graph documents) wins.
	 */
	if (b64_decode_any(uid, &a) != 0) {
		errf(err, errlen, "publicKey.user.id is not base64url");
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	if (a.len[0] == 0 || a.len[0] > WEBAUTHN_USERID_MAX) {
		errf(err, errlen, "publicKey.user.id decodes to %zu bytes "
		    "(1..%d allowed)", a.len[0], WEBAUTHN_USERID_MAX);
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	o->user_id = a.ptr[0];
	o->user_id_len = a.len[0];
	a.ptr[0] = NULL;
	a.len[0] = 0;
	if ((o->rp_name == NULL && (o->rp_name = strdup("")) == NULL) ||
	    (o->user_name == NULL && (o->user_name = strdup("")) == NULL) ||
	    (o->user_display_name == NULL &&
	    (o->user_display_name = strdup("")) == NULL)) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	b64_any_reset(&a);
	free(uid);

	return (r);
}

static int
parse_algs(webauthn_options_t *o, const json_t *pk, char *err, size_t errlen)
{
	const json_t	*params, *p, *t, *alg;
	size_t		 i, n;
	bool		 es256 = false;

	if ((params = json_object_get(pk, "pubKeyCredParams")) == NULL ||
	    !json_is_array(params) || (n = json_array_size(params)) == 0) {
		errf(err, errlen, "publicKey.pubKeyCredParams is missing or "
		    "empty");
		return (WEBAUTHN_ERR_OPTIONS);
	}
	if (n > ALGS_MAX) {
		errf(err, errlen, "publicKey.pubKeyCredParams has more than "
		    "%d entries", ALGS_MAX);
		return (WEBAUTHN_ERR_OPTIONS);
	}
	if ((o->algs = calloc(n, sizeof(*o->algs))) == NULL)
		return (WEBAUTHN_ERR_INTERNAL);
	json_array_foreach(params, i, p) {
		if (!json_is_object(p) || (alg = json_object_get(p,
		    "alg")) == NULL || !json_is_integer(alg) ||
		    json_integer_value(alg) < INT32_MIN ||
		    json_integer_value(alg) > INT32_MAX) {
			errf(err, errlen, "publicKey.pubKeyCredParams[%zu] "
			    "has no integer alg", i);
			return (WEBAUTHN_ERR_OPTIONS);
		}
		/* WebAuthn: entries of unknown type are skipped */
		if ((t = json_object_get(p, "type")) != NULL &&
		    (!json_is_string(t) || strcmp(json_string_value(t),
		    "public-key") != 0))
			continue;
		o->algs[o->nalgs++] = (int)json_integer_value(alg);
		if (json_integer_value(alg) == COSE_ES256)
			es256 = true;
	}
	if (!es256) {
		errf(err, errlen, "publicKey.pubKeyCredParams does not offer "
		    "ES256 (alg -7); security keys are enrolled with ES256 "
		    "only");
		return (WEBAUTHN_ERR_OPTIONS);
	}

	return (WEBAUTHN_OK);
}

static int
add_exclude(webauthn_options_t *o, unsigned char **p, size_t len)
{
	struct blob *b;

	if (o->nexcl >= WEBAUTHN_EXCLUDE_MAX)
		return (-1);
	if ((b = reallocarray(o->excl, o->nexcl + 1, sizeof(*b))) == NULL)
		return (-1);
	o->excl = b;
	o->excl[o->nexcl].ptr = *p;
	o->excl[o->nexcl].len = len;
	o->nexcl++;
	*p = NULL;

	return (0);
}

static int
parse_excludes(webauthn_options_t *o, const json_t *pk, char *err,
    size_t errlen)
{
	const json_t	*list, *e, *t, *id;
	struct b64_any	 a;
	size_t		 i;
	int		 j;

	memset(&a, 0, sizeof(a));
	if ((list = json_object_get(pk, "excludeCredentials")) == NULL ||
	    json_is_null(list))
		return (WEBAUTHN_OK);
	if (!json_is_array(list)) {
		errf(err, errlen, "publicKey.excludeCredentials must be an "
		    "array");
		return (WEBAUTHN_ERR_OPTIONS);
	}
	json_array_foreach(list, i, e) {
		if (!json_is_object(e)) {
			errf(err, errlen, "publicKey.excludeCredentials[%zu] "
			    "must be an object", i);
			return (WEBAUTHN_ERR_OPTIONS);
		}
		if ((t = json_object_get(e, "type")) != NULL &&
		    (!json_is_string(t) || strcmp(json_string_value(t),
		    "public-key") != 0))
			continue;
		if ((id = json_object_get(e, "id")) == NULL ||
		    !json_is_string(id) || json_string_length(id) == 0 ||
		    json_string_length(id) > WEBAUTHN_CREDID_MAX * 2) {
			errf(err, errlen, "publicKey.excludeCredentials[%zu]"
			    ".id is missing or not a string of sane length",
			    i);
			return (WEBAUTHN_ERR_OPTIONS);
		}
		/* standard, url, or url + padding digit: keep every reading */
		if (b64_decode_any(json_string_value(id), &a) != 0) {
			errf(err, errlen, "publicKey.excludeCredentials[%zu]"
			    ".id \"%.48s\" is not base64 or base64url", i,
			    json_string_value(id));
			return (WEBAUTHN_ERR_OPTIONS);
		}
		for (j = 0; j < a.n; j++) {
			if (a.len[j] == 0 || a.len[j] > WEBAUTHN_CREDID_MAX)
				continue;
			if (add_exclude(o, &a.ptr[j], a.len[j]) < 0) {
				errf(err, errlen, "publicKey."
				    "excludeCredentials has more than %d ids",
				    WEBAUTHN_EXCLUDE_MAX);
				b64_any_reset(&a);
				return (WEBAUTHN_ERR_OPTIONS);
			}
		}
		b64_any_reset(&a);
	}

	return (WEBAUTHN_OK);
}

static int
parse_selection(webauthn_options_t *o, const json_t *pk, char *err,
    size_t errlen)
{
	json_t	*sel;
	char	*rk = NULL;
	int	 r;

	if ((r = get_obj(pk, "publicKey.", "authenticatorSelection", false,
	    &sel, err, errlen)) != WEBAUTHN_OK)
		return (r);
	if (sel == NULL)
		return ((o->uv_pref = strdup("")) == NULL ?
		    WEBAUTHN_ERR_INTERNAL : WEBAUTHN_OK);
	if ((r = get_bool(sel, "authenticatorSelection.",
	    "requireResidentKey", &o->rk, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(sel, "authenticatorSelection.", "residentKey", false,
	    64, &rk, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(sel, "authenticatorSelection.", "userVerification",
	    false, 64, &o->uv_pref, err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if (rk != NULL && strcmp(rk, "required") == 0)
		o->rk = true;
	if (o->uv_pref == NULL && (o->uv_pref = strdup("")) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	free(rk);

	return (r);
}

static int
parse_extensions(webauthn_options_t *o, const json_t *pk, char *err,
    size_t errlen)
{
	static const struct {
		const char	*name;
		int		 level;
	} policies[] = {
		{ "userVerificationOptional", CTAP_PROT_UV_OPTIONAL },
		{ "userVerificationOptionalWithCredentialIDList",
		    CTAP_PROT_UV_OPTIONAL_WITH_ID },
		{ "userVerificationRequired", CTAP_PROT_UV_REQUIRED },
	};
	json_t	*ext;
	char	*pol = NULL;
	size_t	 i;
	int	 r;

	if ((r = get_obj(pk, "publicKey.", "extensions", false, &ext, err,
	    errlen)) != WEBAUTHN_OK || ext == NULL)
		return (r);
	if ((r = get_bool(ext, "extensions.", "hmacCreateSecret",
	    &o->hmac_secret, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_bool(ext, "extensions.",
	    "enforceCredentialProtectionPolicy", &o->prot_enforce, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = get_str(ext, "extensions.", "credentialProtectionPolicy",
	    false, 64, &pol, err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if (pol != NULL) {
		for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
			if (strcmp(pol, policies[i].name) == 0)
				o->prot = policies[i].level;
		if (o->prot == WEBAUTHN_PROT_NONE) {
			errf(err, errlen, "extensions.credentialProtection"
			    "Policy \"%.64s\" is unknown", pol);
			r = WEBAUTHN_ERR_OPTIONS;
			goto fail;
		}
	}
	r = WEBAUTHN_OK;
fail:
	free(pol);

	return (r);
}

static int
parse_timeout(webauthn_options_t *o, const json_t *pk, char *err,
    size_t errlen)
{
	const json_t	*v;
	double		 ms;

	o->timeout_ms = WEBAUTHN_TIMEOUT_DEFAULT_MS;
	if ((v = json_object_get(pk, "timeout")) == NULL || json_is_null(v))
		return (WEBAUTHN_OK);
	if (!json_is_number(v) || (ms = json_number_value(v)) < 0) {
		errf(err, errlen, "publicKey.timeout must be a number of "
		    "milliseconds");
		return (WEBAUTHN_ERR_OPTIONS);
	}
	if (ms == 0)
		return (WEBAUTHN_OK);
	if (ms > WEBAUTHN_TIMEOUT_MAX_MS)
		ms = WEBAUTHN_TIMEOUT_MAX_MS;
	/* below a second nobody can find the key, let alone touch it */
	if (ms < 1000)
		ms = 1000;
	o->timeout_ms = (int)ms;

	return (WEBAUTHN_OK);
}

/* a Graph error envelope handed over by mistake deserves its own words */
static bool
graph_error(const json_t *root, char *err, size_t errlen)
{
	const json_t	*e, *c, *m;

	if ((e = json_object_get(root, "error")) == NULL || !json_is_object(e))
		return (false);
	c = json_object_get(e, "code");
	m = json_object_get(e, "message");
	errf(err, errlen, "this is a Graph error response, not "
	    "creationOptions: %.64s: %.200s",
	    json_is_string(c) ? json_string_value(c) : "?",
	    json_is_string(m) ? json_string_value(m) : "");

	return (true);
}

int
webauthn_options_parse(const char *json, size_t len, webauthn_options_t **out,
    char *err, size_t errlen)
{
	webauthn_options_t	*o = NULL;
	json_t			*root = NULL, *top, *pk, *v;
	char			*dt = NULL;
	int			 r;

	errf(err, errlen, "%s", "");
	if (out == NULL || json == NULL) {
		errf(err, errlen, "no input");
		return (WEBAUTHN_ERR_ARG);
	}
	*out = NULL;
	if ((root = load_json("creationOptions", json, len, err,
	    errlen)) == NULL) {
		r = WEBAUTHN_ERR_JSON;
		goto fail;
	}
	if (graph_error(root, err, errlen)) {
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	/* top level as Graph sends it, {"value": ...} as the beta doc
	 * shows, or the bare publicKey object */
	top = root;
	if ((pk = json_object_get(top, "publicKey")) == NULL &&
	    (v = json_object_get(root, "value")) != NULL &&
	    json_is_object(v)) {
		top = v;
		pk = json_object_get(top, "publicKey");
	}
	if (pk == NULL && json_object_get(root, "challenge") != NULL)
		pk = root;
	if (pk == NULL || !json_is_object(pk)) {
		errf(err, errlen, "no publicKey object: is this a Graph "
		    "creationOptions response?");
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	if ((o = webauthn_options_new()) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	if ((r = parse_rp_user(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(pk, "publicKey.", "challenge", true,
	    WEBAUTHN_CHALLENGE_MAX, &o->challenge, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = challenge_norm(o->challenge, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_algs(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_timeout(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_excludes(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_selection(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_extensions(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(pk, "publicKey.", "attestation", false, 64,
	    &o->attestation, err, errlen)) != WEBAUTHN_OK ||
	    (r = get_str(top, "", "challengeTimeoutDateTime", false, 64, &dt,
	    err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if (o->attestation == NULL && (o->attestation = strdup("")) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	if (dt != NULL && parse_datetime(dt, &o->expires) < 0) {
		errf(err, errlen, "challengeTimeoutDateTime \"%.64s\" is not "
		    "an ISO 8601 time", dt);
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	*out = o;
	o = NULL;
	r = WEBAUTHN_OK;
fail:
	if (r == WEBAUTHN_ERR_INTERNAL)
		errf(err, errlen, "out of memory");
	free(dt);
	json_decref(root);
	webauthn_options_free(&o);

	return (r);
}

const char *
webauthn_options_rp_id(const webauthn_options_t *o)
{
	return (o->rp_id);
}

const char *
webauthn_options_rp_name(const webauthn_options_t *o)
{
	return (o->rp_name);
}

const unsigned char *
webauthn_options_user_id_ptr(const webauthn_options_t *o)
{
	return (o->user_id);
}

size_t
webauthn_options_user_id_len(const webauthn_options_t *o)
{
	return (o->user_id_len);
}

const char *
webauthn_options_user_name(const webauthn_options_t *o)
{
	return (o->user_name);
}

const char *
webauthn_options_user_display_name(const webauthn_options_t *o)
{
	return (o->user_display_name);
}

const char *
webauthn_options_challenge(const webauthn_options_t *o)
{
	return (o->challenge);
}

size_t
webauthn_options_algs_len(const webauthn_options_t *o)
{
	return (o->nalgs);
}

int
webauthn_options_alg(const webauthn_options_t *o, size_t i)
{
	return (i < o->nalgs ? o->algs[i] : 0);
}

int
webauthn_options_timeout_ms(const webauthn_options_t *o)
{
	return (o->timeout_ms);
}

size_t
webauthn_options_exclude_len(const webauthn_options_t *o)
{
	return (o->nexcl);
}

const unsigned char *
webauthn_options_exclude_ptr(const webauthn_options_t *o, size_t i)
{
	return (i < o->nexcl ? o->excl[i].ptr : NULL);
}

size_t
webauthn_options_exclude_id_len(const webauthn_options_t *o, size_t i)
{
	return (i < o->nexcl ? o->excl[i].len : 0);
}

bool
webauthn_options_rk(const webauthn_options_t *o)
{
	return (o->rk);
}

bool
webauthn_options_uv(const webauthn_options_t *o)
{
	return (o->uv_pref != NULL && strcmp(o->uv_pref, "required") == 0);
}

const char *
webauthn_options_uv_pref(const webauthn_options_t *o)
{
	return (o->uv_pref);
}

const char *
webauthn_options_attestation(const webauthn_options_t *o)
{
	return (o->attestation);
}

bool
webauthn_options_hmac_secret(const webauthn_options_t *o)
{
	return (o->hmac_secret);
}

int
webauthn_options_prot(const webauthn_options_t *o)
{
	return (o->prot);
}

bool
webauthn_options_prot_enforce(const webauthn_options_t *o)
{
	return (o->prot_enforce);
}

time_t
webauthn_options_expires(const webauthn_options_t *o)
{
	return (o->expires);
}

static char *
origin_of(const char *rp_id)
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
	json_t	*cd = NULL;
	char	*origin = NULL;
	int	 r;

	if (json != NULL)
		*json = NULL;
	if (len != NULL)
		*len = 0;
	if (o == NULL || json == NULL || len == NULL || o->challenge == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((origin = origin_of(o->rp_id)) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	/* jansson keeps insertion order; JSON_COMPACT has no blanks */
	if ((cd = json_pack("{s:s, s:s, s:s, s:b}", "type", "webauthn.create",
	    "challenge", o->challenge, "origin", origin, "crossOrigin",
	    0)) == NULL || (*json = json_dumps(cd, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	*len = strlen(*json);
	r = WEBAUTHN_OK;
fail:
	json_decref(cd);
	free(origin);

	return (r);
}

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
	if ((r = ctap_cred_set_rp(cred, o->rp_id, o->rp_name)) != CTAP_OK ||
	    (r = ctap_cred_set_user(cred, o->user_id, o->user_id_len,
	    o->user_name, o->user_display_name)) != CTAP_OK ||
	    (r = ctap_cred_set_clientdata(cred,
	    (const unsigned char *)clientdata, len)) != CTAP_OK ||
	    (r = ctap_cred_set_rk(cred, o->rk)) != CTAP_OK ||
	    (r = ctap_cred_set_uv(cred, webauthn_options_uv(o))) != CTAP_OK ||
	    (r = ctap_cred_set_prot(cred, o->prot)) != CTAP_OK ||
	    (r = ctap_cred_set_hmac_secret(cred, o->hmac_secret)) != CTAP_OK)
		return (from_ctap(r));
	for (i = 0; i < o->nexcl; i++)
		if ((r = ctap_cred_exclude(cred, o->excl[i].ptr,
		    o->excl[i].len)) != CTAP_OK)
			return (from_ctap(r));

	return (WEBAUTHN_OK);
}

void
webauthn_truncate_utf8(char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, units = 0, n, len;

	if (s == NULL)
		return;
	len = strlen(s);
	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			n = 1;
		/* what Graph counts: UTF-16 code units */
		if (units + (n == 4 ? 2 : 1) > max)
			break;
		units += n == 4 ? 2 : 1;
		i += n;
	}
	s[i] = '\0';
	while (i > 0 && s[i - 1] == ' ')
		s[--i] = '\0';
}

/*
 * Control characters become spaces, invalid UTF-8 becomes '?', blank
 * runs collapse, the ends are trimmed.  In place: never grows.
 */
static void
sanitize(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i = 0, o = 0, n, len = strlen(s);

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			p[i] = '?';
			n = 1;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			p[i] = ' ';
		if (n == 1 && p[i] == ' ' && (o == 0 || p[o - 1] == ' ')) {
			i++;
			continue;
		}
		memmove(p + o, p + i, n);
		o += n;
		i += n;
	}
	while (o > 0 && p[o - 1] == ' ')
		o--;
	p[o] = '\0';
}

int
webauthn_body_raw(const unsigned char *id, size_t idlen,
    const unsigned char *clientdata, size_t cdlen,
    const unsigned char *attobj, size_t attlen, const char *display_name,
    char **json)
{
	json_t	*body = NULL;
	char	*b_id = NULL, *b_cd = NULL, *b_att = NULL, *dn = NULL;
	int	 r;

	if (json != NULL)
		*json = NULL;
	if (id == NULL || idlen == 0 || clientdata == NULL || cdlen == 0 ||
	    attobj == NULL || attlen == 0 || json == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((dn = strdup(display_name != NULL ? display_name : "")) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	sanitize(dn);
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
	/* no @odata.type anywhere: Graph answers 400 when it sees one */
	if ((body = json_pack("{s:s, s:{s:s, s:{s:s, s:s}, s:{}}}",
	    "displayName", dn, "publicKeyCredential", "id", b_id, "response",
	    "clientDataJSON", b_cd, "attestationObject", b_att,
	    "clientExtensionResults")) == NULL ||
	    (*json = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	r = WEBAUTHN_OK;
fail:
	json_decref(body);
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
 * Find fmt and authData in an attestationObject.  The object was made by
 * a key, so it is bounded and parsed, not trusted.
 */
static int
attobj_split(const unsigned char *attobj, size_t len, char **fmt,
    unsigned char **ad, size_t *adlen)
{
	struct cbor_load_result	  res;
	struct cbor_pair	 *pairs;
	cbor_item_t		 *item = NULL, *k, *v;
	size_t			  i, n;
	int			  r = -1;

	*fmt = NULL;
	*ad = NULL;
	*adlen = 0;
	if (len == 0 || len > WEBAUTHN_JSON_MAX)
		return (-1);
	if ((item = cbor_load(attobj, len, &res)) == NULL ||
	    res.error.code != CBOR_ERR_NONE || res.read != len ||
	    !cbor_isa_map(item) || !cbor_map_is_definite(item))
		goto fail;
	n = cbor_map_size(item);
	pairs = cbor_map_handle(item);
	for (i = 0; i < n; i++) {
		k = pairs[i].key;
		v = pairs[i].value;
		if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
			goto fail;
		if (cbor_string_length(k) == 3 &&
		    memcmp(cbor_string_handle(k), "fmt", 3) == 0) {
			if (!cbor_isa_string(v) ||
			    !cbor_string_is_definite(v) || *fmt != NULL ||
			    (*fmt = strndup((const char *)cbor_string_handle(v),
			    cbor_string_length(v))) == NULL)
				goto fail;
		} else if (cbor_string_length(k) == 8 &&
		    memcmp(cbor_string_handle(k), "authData", 8) == 0) {
			if (!cbor_isa_bytestring(v) ||
			    !cbor_bytestring_is_definite(v) || *ad != NULL ||
			    cbor_bytestring_length(v) == 0 ||
			    (*ad = malloc(cbor_bytestring_length(v))) == NULL)
				goto fail;
			*adlen = cbor_bytestring_length(v);
			memcpy(*ad, cbor_bytestring_handle(v), *adlen);
		}
	}
	if (*fmt == NULL || *ad == NULL)
		goto fail;
	r = 0;
fail:
	if (item != NULL)
		cbor_decref(&item);
	if (r < 0) {
		free(*fmt);
		free(*ad);
		*fmt = NULL;
		*ad = NULL;
		*adlen = 0;
	}

	return (r);
}

/* authData: rpIdHash[32] flags[1] counter[4] aaguid[16] L[2] credId[L] */
#define AD_FLAG_AT	0x40

static int
authdata_credid(const unsigned char *ad, size_t len,
    const unsigned char **id, size_t *idlen)
{
	size_t l;

	if (len < 32 + 1 + 4 + 16 + 2 || (ad[32] & AD_FLAG_AT) == 0)
		return (-1);
	l = ((size_t)ad[53] << 8) | ad[54];
	if (l == 0 || len - 55 < l)
		return (-1);
	*id = ad + 55;
	*idlen = l;

	return (0);
}

int
webauthn_attobj_none(const unsigned char *attobj, size_t len,
    unsigned char **out, size_t *outlen)
{
	cbor_item_t	*map = NULL, *k = NULL, *v = NULL;
	unsigned char	*ad = NULL, *buf = NULL;
	char		*fmt = NULL;
	size_t		 adlen, bufsz = 0, n;
	int		 r = WEBAUTHN_ERR_INTERNAL;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (attobj == NULL || out == NULL || outlen == NULL)
		return (WEBAUTHN_ERR_ARG);
	if (attobj_split(attobj, len, &fmt, &ad, &adlen) < 0) {
		r = WEBAUTHN_ERR_ARG;
		goto fail;
	}
	/* canonical CTAP order: "fmt" (3), "attStmt" (7), "authData" (8) */
	if ((map = cbor_new_definite_map(3)) == NULL)
		goto fail;
	if ((k = cbor_build_string("fmt")) == NULL ||
	    (v = cbor_build_string("none")) == NULL ||
	    !cbor_map_add(map, (struct cbor_pair){ .key = k, .value = v }))
		goto fail;
	cbor_decref(&k);
	cbor_decref(&v);
	if ((k = cbor_build_string("attStmt")) == NULL ||
	    (v = cbor_new_definite_map(0)) == NULL ||
	    !cbor_map_add(map, (struct cbor_pair){ .key = k, .value = v }))
		goto fail;
	cbor_decref(&k);
	cbor_decref(&v);
	if ((k = cbor_build_string("authData")) == NULL ||
	    (v = cbor_build_bytestring(ad, adlen)) == NULL ||
	    !cbor_map_add(map, (struct cbor_pair){ .key = k, .value = v }))
		goto fail;
	if ((n = cbor_serialize_alloc(map, &buf, &bufsz)) == 0)
		goto fail;
	*out = buf;
	*outlen = n;
	buf = NULL;
	r = WEBAUTHN_OK;
fail:
	if (k != NULL)
		cbor_decref(&k);
	if (v != NULL)
		cbor_decref(&v);
	if (map != NULL)
		cbor_decref(&map);
	free(buf);
	free(ad);
	free(fmt);

	return (r);
}

/* count UTF-16 units of a valid UTF-8 string */
static size_t
utf16_units(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, u = 0, n, len = strlen(s);

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			n = 1;
		u += n == 4 ? 2 : 1;
		i += n;
	}

	return (u);
}

static int
check_clientdata(const webauthn_options_t *o, const unsigned char *cd,
    size_t cdlen, char *err, size_t errlen)
{
	json_t		*root = NULL;
	const json_t	*v;
	char		*origin = NULL;
	int		 r = WEBAUTHN_ERR_VERIFY;

	if ((root = load_json("clientDataJSON", (const char *)cd, cdlen, err,
	    errlen)) == NULL)
		return (WEBAUTHN_ERR_BODY);
	if ((origin = origin_of(o->rp_id)) == NULL) {
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
	    o->challenge) != 0) {
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
	unsigned char		*id = NULL, *cd = NULL, *att = NULL, *ad = NULL;
	const unsigned char	*adid;
	char			*fmt = NULL, *cfmt = NULL;
	size_t			 idlen = 0, cdlen = 0, attlen = 0, adlen = 0;
	size_t			 adidlen;
	int			 r, cr;

	errf(err, errlen, "%s", "");
	if (fmt_out != NULL)
		*fmt_out = NULL;
	if (o == NULL || body == NULL)
		return (WEBAUTHN_ERR_ARG);
	if ((root = load_json("body", body, len, err, errlen)) == NULL) {
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
	    utf16_units(json_string_value(v)) > WEBAUTHN_DISPLAY_MAX) {
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
	if ((r = check_clientdata(o, cd, cdlen, err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if (attobj_split(att, attlen, &fmt, &ad, &adlen) < 0 ||
	    authdata_credid(ad, adlen, &adid, &adidlen) < 0) {
		errf(err, errlen, "attestationObject is not CBOR {fmt, "
		    "attStmt, authData} with attested credential data");
		r = WEBAUTHN_ERR_BODY;
		goto fail;
	}
	if (adidlen != idlen || memcmp(adid, id, idlen) != 0) {
		errf(err, errlen, "publicKeyCredential.id differs from the "
		    "credential id inside authData");
		r = WEBAUTHN_ERR_VERIFY;
		goto fail;
	}
	/* the extensions in authData must echo exactly what was asked */
	if ((cr = ctap_attobj_verify(att, attlen, cd, cdlen, o->rp_id,
	    webauthn_options_uv(o), o->prot, o->hmac_secret,
	    &cfmt)) != CTAP_OK) {
		errf(err, errlen, "attestationObject (%s): %s", fmt,
		    ctap_strerr(cr));
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
	free(id);
	free(cd);
	free(att);
	free(ad);
	free(fmt);
	free(cfmt);

	return (r);
}

/* today, UTC, YYYY-MM-DD */
static void
today(char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = time(NULL);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "%s", "");
}

int
webauthn_display_name(const char *tmpl, const char *upn, const char *name,
    const char *model, const char *aaguid, const char *serial,
    const char *date, char **out)
{
	struct {
		const char	*key;
		const char	*val;
	} vars[] = {
		{ "upn", upn }, { "name", name }, { "model", model },
		{ "serial", serial }, { "date", date }, { "aaguid", aaguid },
	};
	char		 datebuf[16];
	char		*s = NULL;
	const char	*p, *e, *val;
	size_t		 len = 0, cap = 0, klen, vlen, i;
	int		 r;

	if (out == NULL)
		return (WEBAUTHN_ERR_ARG);
	*out = NULL;
	if (date == NULL) {
		today(datebuf, sizeof(datebuf));
		vars[4].val = datebuf;
	}
	if (tmpl == NULL)
		tmpl = (model != NULL && *model != '\0') ?
		    WEBAUTHN_DISPLAY_DEFAULT : WEBAUTHN_DISPLAY_FALLBACK;
	if (strlen(tmpl) > WEBAUTHN_STR_MAX)
		return (WEBAUTHN_ERR_ARG);
	for (p = tmpl; *p != '\0'; p = e) {
		val = p;
		vlen = 1;
		e = p + 1;
		if (*p == '{') {
			if ((e = strchr(p, '}')) == NULL) {
				r = WEBAUTHN_ERR_ARG;
				goto fail;
			}
			klen = (size_t)(e - p - 1);
			e++;
			val = NULL;
			for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
				if (strlen(vars[i].key) == klen &&
				    memcmp(vars[i].key, p + 1, klen) == 0)
					val = vars[i].val != NULL ?
					    vars[i].val : "";
			if (val == NULL) {
				r = WEBAUTHN_ERR_ARG;
				goto fail;
			}
			vlen = strnlen(val, WEBAUTHN_STR_MAX);
		}
		if (len + vlen + 1 > cap) {
			char *t;

			cap = len + vlen + 64;
			if ((t = realloc(s, cap)) == NULL) {
				r = WEBAUTHN_ERR_INTERNAL;
				goto fail;
			}
			s = t;
		}
		memcpy(s + len, val, vlen);
		len += vlen;
		s[len] = '\0';
	}
	if (s == NULL && (s = strdup("")) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	sanitize(s);
	if (*s == '\0') {
		free(s);
		if ((s = strdup("Security key")) == NULL) {
			r = WEBAUTHN_ERR_INTERNAL;
			goto fail;
		}
	}
	*out = s;
	s = NULL;
	r = WEBAUTHN_OK;
fail:
	free(s);

	return (r);
}
