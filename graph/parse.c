/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * JSON from the network: bounded depth, typed getters that tolerate
 * missing or mistyped members, and the parsers of the OAuth replies
 * (error, token, device code) and of the Graph envelopes ($batch,
 * paged collections).  Everything here is fuzzed.
 */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"
#include "graph_int.h"

json_t *
json_parse(const char *s, size_t len)
{
	json_error_t	 e;
	json_t		*j;

	if (s == NULL || len == 0 || len > GRAPH_MAX_BODY ||
	    !json_depth_ok(s, len, GRAPH_JSON_MAX_DEPTH))
		return (NULL);
	if ((j = json_loadb(s, len, 0, &e)) == NULL)
		return (NULL);
	if (!json_is_object(j) && !json_is_array(j)) {
		json_decref(j);
		return (NULL);
	}

	return (j);
}

/* overwrite every string in j before it is freed: replies hold tokens */
void
json_wipe(json_t *j)
{
	const char	*k;
	json_t		*v;
	size_t		 i;

	if (j == NULL)
		return;
	if (json_is_string(j)) {
		explicit_bzero((char *)(uintptr_t)json_string_value(j),
		    json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, k, v)
			json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_wipe(v);
	}
}

void
json_wipe_decref(json_t *j)
{
	json_wipe(j);
	json_decref(j);
}

const char *
jstr(const json_t *o, const char *key)
{
	json_t	*v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL ||
	    !json_is_string(v))
		return (NULL);

	return (json_string_value(v));
}

char *
jdup(const json_t *o, const char *key)
{
	const char *s;

	if ((s = jstr(o, key)) == NULL)
		return (NULL);

	return (strdup(s));
}

int
jbool(const json_t *o, const char *key, int dflt)
{
	json_t	*v;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL ||
	    !json_is_boolean(v))
		return (dflt);

	return (json_is_true(v));
}

/* an integer, or a string of digits (older endpoints send those) */
long long
jint(const json_t *o, const char *key, long long dflt)
{
	json_t		*v;
	long long	 n;

	if (!json_is_object(o) || (v = json_object_get(o, key)) == NULL)
		return (dflt);
	if (json_is_integer(v))
		return ((long long)json_integer_value(v));
	if (json_is_string(v) && parse_ll(json_string_value(v), LLONG_MIN,
	    LLONG_MAX, &n) == 0)
		return (n);

	return (dflt);
}

void
graph_err_reset(struct graph_err *e)
{
	free(e->code);
	free(e->message);
	free(e->request_id);
	free(e->description);
	memset(e, 0, sizeof(*e));
}

/*
 * Graph: {"error":{"code","message","innerError":{"request-id"}}}.
 * OAuth: {"error":"invalid_grant","error_description":"AADSTS...: ...",
 * "correlation_id"}.
 */
int
parse_error(const char *s, size_t len, struct graph_err *e)
{
	json_t		*j = NULL, *err, *inner;
	const char	*d;
	int		 r = -1;

	memset(e, 0, sizeof(e[0]));
	if ((j = json_parse(s, len)) == NULL || !json_is_object(j))
		goto fail;
	err = json_object_get(j, "error");
	if (json_is_object(err)) {
		e->code = jdup(err, "code");
		e->message = jdup(err, "message");
		if ((inner = json_object_get(err, "innerError")) == NULL)
			inner = json_object_get(err, "innererror");
		if (json_is_object(inner))
			e->request_id = jdup(inner, "request-id");
	} else if (json_is_string(err)) {
		e->code = strdup(json_string_value(err));
		if ((d = jstr(j, "error_description")) != NULL) {
			/* the first line; the rest is trace ids and time */
			e->description = strndup(d, strcspn(d, "\r\n"));
			e->message = strdup(e->description);
		}
		e->request_id = jdup(j, "correlation_id");
	} else
		goto fail;
	if (e->code == NULL)
		goto fail;
	r = 0;
fail:
	json_decref(j);
	if (r != 0)
		graph_err_reset(e);

	return (r);
}

void
token_reset(struct graph_token *t)
{
	freezero_str(t->access);
	freezero_str(t->refresh);
	free(t->account);
	free(t->cert);
	free(t->key);
	free(t->scope);
	memset(t, 0, sizeof(*t));
}

static int
dup_or_null(char **dst, const char *s)
{
	*dst = NULL;
	if (s != NULL && (*dst = strdup(s)) == NULL)
		return (-1);

	return (0);
}

int
token_copy(struct graph_token *d, const struct graph_token *s)
{
	memset(d, 0, sizeof(*d));
	d->expires_at = s->expires_at;
	d->login_at = s->login_at;
	d->session_expires_at = s->session_expires_at;
	d->app_only = s->app_only;
	if (dup_or_null(&d->access, s->access) < 0 ||
	    dup_or_null(&d->refresh, s->refresh) < 0 ||
	    dup_or_null(&d->account, s->account) < 0 ||
	    dup_or_null(&d->cert, s->cert) < 0 ||
	    dup_or_null(&d->key, s->key) < 0 ||
	    dup_or_null(&d->scope, s->scope) < 0) {
		token_reset(d);
		return (-1);
	}

	return (0);
}

/* the signed-in account from the id token, else from the access token */
static char *
token_account(const char *id_token, const char *access)
{
	const char	*keys[] = { "preferred_username", "upn", "unique_name",
			    "email" };
	const char	*v;
	json_t		*cl;
	char		*out = NULL;
	size_t		 i, k;
	const char	*toks[2];

	toks[0] = id_token;
	toks[1] = access;
	for (k = 0; k < 2 && out == NULL; k++) {
		if (toks[k] == NULL || (cl = jwt_claims(toks[k])) == NULL)
			continue;
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if ((v = jstr(cl, keys[i])) != NULL && *v != '\0') {
				out = strdup(v);
				break;
			}
		json_decref(cl);
	}

	return (out);
}

/* {token_type, access_token, expires_in, refresh_token?, scope?, id_token?} */
int
parse_token(const char *s, size_t len, struct graph_token *t)
{
	json_t		*j = NULL;
	const char	*at, *tt, *rt, *idt;
	long long	 exp;
	int		 r = -1;

	memset(t, 0, sizeof(*t));
	if ((j = json_parse(s, len)) == NULL || !json_is_object(j))
		goto fail;
	if ((at = jstr(j, "access_token")) == NULL || *at == '\0' ||
	    strlen(at) > 64 * 1024)
		goto fail;
	if ((tt = jstr(j, "token_type")) != NULL &&
	    strcasecmp(tt, "Bearer") != 0)
		goto fail;
	exp = jint(j, "expires_in", 3600);
	if (exp <= 0 || exp > 7 * 86400)
		exp = 3600;
	rt = jstr(j, "refresh_token");
	/* a token goes into a header or a form: CR/LF would inject one */
	if (!http_value_ok(at) || (rt != NULL && *rt != '\0' &&
	    !http_value_ok(rt))) {
		r = -2;
		goto fail;
	}
	if ((t->access = strdup(at)) == NULL)
		goto fail;
	if (rt != NULL && *rt != '\0' && (t->refresh = strdup(rt)) == NULL)
		goto fail;
	if (jstr(j, "scope") != NULL && (t->scope = jdup(j, "scope")) == NULL)
		goto fail;
	idt = jstr(j, "id_token");
	t->account = token_account(idt, at);
	t->expires_at = (long long)time(NULL) + exp;
	r = 0;
fail:
	json_wipe_decref(j);
	if (r != 0)
		token_reset(t);

	return (r);
}

void
devcode_reset(struct devcode *d)
{
	freezero_str(d->device_code);
	free(d->user_code);
	free(d->verification_uri);
	free(d->message);
	memset(d, 0, sizeof(*d));
}

int
parse_devcode(const char *s, size_t len, struct devcode *d)
{
	json_t	*j = NULL;
	int	 r = -1;

	memset(d, 0, sizeof(*d));
	if ((j = json_parse(s, len)) == NULL || !json_is_object(j))
		goto fail;
	if ((d->device_code = jdup(j, "device_code")) == NULL ||
	    (d->user_code = jdup(j, "user_code")) == NULL)
		goto fail;
	if ((d->verification_uri = jdup(j, "verification_uri")) == NULL &&
	    (d->verification_uri = jdup(j, "verification_url")) == NULL)
		goto fail;
	d->message = jdup(j, "message");
	d->expires_in = jint(j, "expires_in", 900);
	d->interval = jint(j, "interval", 5);
	if (d->expires_in <= 0 || d->expires_in > 86400)
		d->expires_in = 900;
	if (d->interval <= 0 || d->interval > 300)
		d->interval = 5;
	r = 0;
fail:
	json_wipe_decref(j);
	if (r != 0)
		devcode_reset(d);

	return (r);
}

/* {"value":[users...], "@odata.nextLink":...} */
int
parse_user_page(const json_t *j, graph_member_cb *cb, void *arg,
    char **next, int *stopped)
{
	graph_user_t	*u = NULL;
	json_t		*val, *v;
	const char	*t;
	size_t		 i;

	*next = NULL;
	*stopped = 0;
	if (!json_is_object(j) || !json_is_array(val = json_object_get(j,
	    "value")))
		return (-1);
	json_array_foreach(val, i, v) {
		/* transitiveMembers may mix in groups and devices */
		if ((t = jstr(v, "@odata.type")) != NULL &&
		    strcmp(t, "#microsoft.graph.user") != 0)
			continue;
		if (parse_user(v, &u) < 0)
			continue;
		if (cb != NULL && cb(arg, u) != 0) {
			graph_user_free(&u);
			*stopped = 1;
			return (0);
		}
		graph_user_free(&u);
	}
	if ((t = jstr(j, "@odata.nextLink")) != NULL &&
	    (*next = strdup(t)) == NULL)
		return (-1);

	return (0);
}

/*
 * {"responses":[{"id":"3","status":200,"headers":{...},"body":{...}}]}.
 * Ids we did not send, and duplicates, make the reply malformed.
 */
int
parse_batch(const json_t *j, size_t n, struct batch_item *items)
{
	json_t		*arr, *v, *h;
	const char	*id, *ra;
	long long	 k;
	size_t		 i;

	for (i = 0; i < n; i++) {
		items[i].status = 0;
		items[i].retry_after = -1;
		items[i].body = NULL;
	}
	if (!json_is_object(j) || !json_is_array(arr = json_object_get(j,
	    "responses")))
		return (-1);
	json_array_foreach(arr, i, v) {
		if ((id = jstr(v, "id")) == NULL || parse_ll(id, 0,
		    (long long)n - 1, &k) < 0 || items[k].status != 0)
			return (-1);
		items[k].status = (int)jint(v, "status", 0);
		if (items[k].status < 100 || items[k].status > 599)
			return (-1);
		items[k].body = json_object_get(v, "body");
		h = json_object_get(v, "headers");
		if (json_is_object(h) && ((ra = jstr(h, "Retry-After")) !=
		    NULL || (ra = jstr(h, "retry-after")) != NULL))
			items[k].retry_after = http_parse_retry_after(ra,
			    (long long)time(NULL));
	}

	return (0);
}
