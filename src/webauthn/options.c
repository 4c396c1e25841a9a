/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Graph's creationOptions: parsing and accessors.
 *
 * Graph's JSON is untrusted input: the document, its nesting, every
 * string and every list are bounded before anything is copied, and the
 * three id encodings Graph uses are all accepted (common/b64.c).
 */

#include <jansson.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"
#include "ctap.h"
#include "webauthn_int.h"

#define COSE_ES256	-7
#define RPID_MAX	253		/* a DNS name */
#define ALGS_MAX	64

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
	size_t		 ncreds;	/* excludeCredentials entries */
	bool		 rk;
	char		*uv_pref;
	char		*attestation;
	bool		 hmac_secret;
	int		 prot;
	bool		 prot_enforce;
	time_t		 expires;
};

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
	if ((r = webauthn_json_obj(pk, "publicKey.", "rp", true, &rp, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(rp, "publicKey.rp.", "id", true, RPID_MAX,
	    &o->rp_id, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(rp, "publicKey.rp.", "name", false,
	    WEBAUTHN_STR_MAX, &o->rp_name, err, errlen)) != WEBAUTHN_OK)
		goto fail;
	if (!rpid_ok(o->rp_id)) {
		errf(err, errlen, "publicKey.rp.id \"%.64s\" is not a host "
		    "name", o->rp_id);
		r = WEBAUTHN_ERR_OPTIONS;
		goto fail;
	}
	if ((r = webauthn_json_obj(pk, "publicKey.", "user", true, &user, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(user, "publicKey.user.", "id", true,
	    WEBAUTHN_USERID_MAX * 2, &uid, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(user, "publicKey.user.", "name", false,
	    WEBAUTHN_STR_MAX, &o->user_name, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(user, "publicKey.user.", "displayName",
	    false, WEBAUTHN_STR_MAX, &o->user_display_name, err,
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
	size_t		 i, before;
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
		before = o->nexcl;
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
		if (o->nexcl > before)
			o->ncreds++;
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

	if ((r = webauthn_json_obj(pk, "publicKey.", "authenticatorSelection",
	    false, &sel, err, errlen)) != WEBAUTHN_OK)
		return (r);
	if (sel == NULL)
		return ((o->uv_pref = strdup("")) == NULL ?
		    WEBAUTHN_ERR_INTERNAL : WEBAUTHN_OK);
	if ((r = webauthn_json_bool(sel, "authenticatorSelection.",
	    "requireResidentKey", &o->rk, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(sel, "authenticatorSelection.",
	    "residentKey", false, 64, &rk, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(sel, "authenticatorSelection.",
	    "userVerification", false, 64, &o->uv_pref, err,
	    errlen)) != WEBAUTHN_OK)
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

	if ((r = webauthn_json_obj(pk, "publicKey.", "extensions", false, &ext,
	    err, errlen)) != WEBAUTHN_OK || ext == NULL)
		return (r);
	if ((r = webauthn_json_bool(ext, "extensions.", "hmacCreateSecret",
	    &o->hmac_secret, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_bool(ext, "extensions.",
	    "enforceCredentialProtectionPolicy", &o->prot_enforce, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(ext, "extensions.",
	    "credentialProtectionPolicy", false, 64, &pol, err,
	    errlen)) != WEBAUTHN_OK)
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
error_envelope(const json_t *root, char *err, size_t errlen)
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
	if ((root = webauthn_json_load("creationOptions", json, len, err,
	    errlen)) == NULL) {
		r = WEBAUTHN_ERR_JSON;
		goto fail;
	}
	if (error_envelope(root, err, errlen)) {
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
	    (r = webauthn_json_str(pk, "publicKey.", "challenge", true,
	    WEBAUTHN_CHALLENGE_MAX, &o->challenge, err,
	    errlen)) != WEBAUTHN_OK ||
	    (r = challenge_norm(o->challenge, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_algs(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_timeout(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_excludes(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_selection(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = parse_extensions(o, pk, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(pk, "publicKey.", "attestation", false, 64,
	    &o->attestation, err, errlen)) != WEBAUTHN_OK ||
	    (r = webauthn_json_str(top, "", "challengeTimeoutDateTime", false,
	    64, &dt, err, errlen)) != WEBAUTHN_OK)
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

size_t
webauthn_options_exclude_creds(const webauthn_options_t *o)
{
	return (o->ncreds);
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

/* s without one trailing dot: its length, or 0 if it has no name left */
static size_t
host_len(const char *s)
{
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;

	return (len);
}

int
webauthn_options_check_rp(const webauthn_options_t *o, const char *expected,
    char *err, size_t errlen)
{
	const char	*rp;
	size_t		 len;

	if (o == NULL || o->rp_id == NULL)
		return (WEBAUTHN_ERR_ARG);
	if (expected == NULL || *expected == '\0')
		expected = WEBAUTHN_RP_ID;
	rp = o->rp_id;
	len = host_len(rp);
	/* "login..microsoft.com" or "x.." is not a spelling of the host */
	if (len == 0 || strstr(rp, "..") != NULL || len != host_len(expected) ||
	    strncasecmp(rp, expected, len) != 0) {
		errf(err, errlen, "the creationOptions are for the relying "
		    "party \"%.64s\", not %s; refusing to make a passkey for "
		    "it", rp, expected);
		return (WEBAUTHN_ERR_RP);
	}

	return (WEBAUTHN_OK);
}
