/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * /authentication/fido2Methods: creationOptions, registration (never a
 * blind retry), list, delete, and the $batch inventory of who holds a
 * passkey.
 */

#define _GNU_SOURCE	/* strcasestr */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "graph_int.h"

/*
 * POSTs of one credential, at most, in the whole program: callers do
 * not add rounds of their own.  A 429 is not one: Graph turned it away
 * unprocessed, and http_call() waits it out as it does for any request.
 */
#define REGISTER_TRIES	3

static const struct gperm perm_write = {
	"UserAuthMethod-Passkey.ReadWrite.All (or "
	"UserAuthenticationMethod.ReadWrite.All)",
	"Authentication Administrator (Privileged Authentication "
	"Administrator for admins)"
};
static const struct gperm perm_read = {
	"UserAuthMethod-Passkey.Read.All (or UserAuthenticationMethod.Read.All)",
	"Authentication Administrator or Global Reader"
};

static char *
methods_path(graph_client_t *c, const char *user_id, const char *tail)
{
	char	*u, *p;

	if ((u = user_path(c, user_id)) == NULL)
		return (NULL);
	p = gfmt("%s/authentication/fido2Methods%s", u, tail);
	free(u);

	return (p);
}

static void
not_found_hint(graph_client_t *c, const char *user_id)
{
	err_hint(c, "no user '%s' in this tenant", user_id != NULL ? user_id :
	    "me");
}

/*
 * Microsoft documents self-service registration through /me as not
 * supported (405 "not supported for this URL"); where a tenant refuses
 * it, every user would fail alike: say it once, as such.
 */
static bool
self_refused(graph_client_t *c)
{
	int status = graph_last_status(c);

	if (status != 405 && !(status == 400 &&
	    strcasestr(graph_last_message(c), "not supported") != NULL))
		return (false);
	err_clear(c);
	err_set(c, status, "", "Microsoft Graph does not accept self-service "
	    "passkey registration for this tenant", NULL);
	err_hint(c, "register on behalf of the user instead (drop "
	    "--as-user)");

	return (true);
}

bool
graph_cloud_registers(const char *cloud)
{
	return (cloud == NULL || strcmp(cloud, "global") == 0);
}

int
graph_creation_options(graph_client_t *c, const char *user_id,
    int timeout_minutes, char **json)
{
	struct http_resp	 resp;
	const char		*p;
	char			*path = NULL, tail[80];
	int			 r;

	*json = NULL;
	memset(&resp, 0, sizeof(resp));
	if (!graph_cloud_registers(c->cloud)) {
		err_clear(c);
		err_set(c, 0, "", "the passkey provisioning API is offered in "
		    "the global cloud only", NULL);
		err_hint(c, "Microsoft documents creationOptions for the "
		    "global cloud only (not US Gov or China)");
		return (GRAPH_ERR_UNSUPPORTED);
	}
	/* beta only; the query form is the one proven against Graph */
	if (timeout_minutes > 0 && strcmp(c->version, "beta") == 0)
		snprintf(tail, sizeof(tail), "/creationOptions?"
		    "challengeTimeoutInMinutes=%d", timeout_minutes);
	else
		snprintf(tail, sizeof(tail), "/creationOptions");
	if ((path = methods_path(c, user_id, tail)) == NULL) {
		r = GRAPH_ERR_ARG;
		goto fail;
	}
	if ((r = gcall_raw(c, "GET", path, NULL, G_IDEMPOTENT, &perm_write,
	    &resp)) != GRAPH_OK) {
		if (user_id == NULL && self_refused(c))
			r = GRAPH_ERR_UNSUPPORTED;
		else if (r == GRAPH_ERR_NOT_FOUND)
			not_found_hint(c, user_id);
		else if (r == GRAPH_ERR_BAD_REQUEST)
			err_hint(c, "check the FIDO2 policy: passkeys enabled, "
			    "'Allow self-service setup' on, the user in its "
			    "targets, not a guest, account enabled (run "
			    "'provisioning doctor USER')");
		goto fail;
	}
	/* ~7 KB, most of it the challenge: parsed once, by its user */
	for (p = resp.body; p != NULL && (*p == ' ' || *p == '\t' ||
	    *p == '\r' || *p == '\n'); p++)
		;
	if (p == NULL || *p != '{') {
		err_set(c, resp.status, "", "malformed creationOptions",
		    resp.request_id);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	*json = resp.body;
	resp.body = NULL;
	/* for a body its parser then finds wrong (graph.h) */
	err_clear(c);
	err_set(c, resp.status, "", "", resp.request_id);
	r = GRAPH_OK;
fail:
	http_resp_reset(&resp);
	free(path);

	return (r);
}

bool
graph_method_id_matches(const char *id, const char *cred)
{
	struct b64_any	a, b;
	bool		m = false;
	int		i, k;

	if (id == NULL || cred == NULL || *id == '\0' || *cred == '\0')
		return (false);
	if (strcmp(id, cred) == 0)
		return (true);
	if (b64_decode_any(id, &a) < 0)
		return (false);
	if (b64_decode_any(cred, &b) < 0) {
		b64_any_reset(&a);
		return (false);
	}
	for (i = 0; i < a.n && !m; i++)
		for (k = 0; k < b.n && !m; k++)
			m = a.len[i] == b.len[k] && a.len[i] > 0 &&
			    memcmp(a.ptr[i], b.ptr[k], a.len[i]) == 0;
	b64_any_reset(&a);
	b64_any_reset(&b);

	return (m);
}

static int
method_dup(const graph_method_t *m, graph_method_t **out)
{
	json_t	*j;
	int	 r;

	if ((j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "id", graph_method_id(m),
	    "displayName", graph_method_display_name(m),
	    "aaGuid", graph_method_aaguid(m),
	    "model", graph_method_model(m),
	    "createdDateTime", graph_method_created(m),
	    "attestationLevel", graph_method_attestation_level(m),
	    "passkeyType", graph_method_passkey_type(m))) == NULL)
		return (GRAPH_ERR_INTERNAL);
	r = parse_method(j, out) < 0 ? GRAPH_ERR_INTERNAL : GRAPH_OK;
	json_decref(j);

	return (r);
}

/*
 * Did an earlier POST land?  GRAPH_OK with *out set if the user now has
 * the credential, GRAPH_OK with *out NULL if not, or the listing error.
 */
static int
find_registered(graph_client_t *c, const char *user_id, const char *cred,
    graph_method_t **out)
{
	graph_methods_t		*l = NULL;
	const graph_method_t	*m;
	int			 r;

	*out = NULL;
	if ((r = graph_fido2_list(c, user_id, &l)) != GRAPH_OK)
		return (r);
	if ((m = graph_methods_find_cred(l, cred)) != NULL)
		r = method_dup(m, out);
	graph_methods_free(&l);

	return (r);
}

static bool
uncertain(int r)
{
	/* the request may or may not have reached Graph's store, or was
	 * throttled past what http_call() waits: worth another POST */
	return (r == GRAPH_ERR_NETWORK || r == GRAPH_ERR_TIMEOUT ||
	    r == GRAPH_ERR_SERVER || r == GRAPH_ERR_PROTOCOL ||
	    r == GRAPH_ERR_THROTTLED);
}

static void
policy_hint(graph_client_t *c)
{
	err_hint(c, "Graph refused the registration: check the FIDO2 policy "
	    "('Allow self-service setup' on; the key's AAGUID allowed by key "
	    "restrictions; attestation enforcement needs packed attestation "
	    "chaining to FIDO MDS; the user in the policy targets); run "
	    "'provisioning doctor USER'");
}

int
graph_fido2_register(graph_client_t *c, const char *user_id,
    const char *body_json, const char *cred, graph_method_t **out)
{
	struct http_resp	 resp;
	struct lasterr		 saved;
	json_t			*j = NULL;
	char			*path = NULL;
	int			 r, rl, tries, retries = 0;

	*out = NULL;
	memset(&resp, 0, sizeof(resp));
	if (body_json == NULL || cred == NULL || *cred == '\0')
		return (GRAPH_ERR_ARG);
	if ((path = methods_path(c, user_id, "")) == NULL)
		return (GRAPH_ERR_ARG);
	for (tries = 1;; tries++) {
		/* 429 is retried inside: a throttled POST was not processed */
		r = gcall_raw(c, "POST", path, body_json, 0, &perm_write,
		    &resp);
		retries += c->retries;
		if (r == GRAPH_OK) {
			if ((j = json_parse(resp.body, resp.len)) == NULL ||
			    parse_method(j, out) < 0) {
				/* stored, but the reply is unreadable */
				r = GRAPH_ERR_PROTOCOL;
			} else
				break;
		}
		http_resp_reset(&resp);
		json_decref(j);
		j = NULL;
		/*
		 * A 400 may mean "already registered" (an earlier attempt, or
		 * a re-run after a crash): that is success for this user.
		 */
		if (user_id == NULL && self_refused(c)) {
			r = GRAPH_ERR_UNSUPPORTED;
			goto fail;
		}
		if (!uncertain(r) && r != GRAPH_ERR_BAD_REQUEST) {
			if (r == GRAPH_ERR_NOT_FOUND)
				not_found_hint(c, user_id);
			goto fail;
		}
		saved = c->e;
		log_info("registration %s (%s, request-id %s): checking "
		    "whether Graph holds the credential",
		    r == GRAPH_ERR_BAD_REQUEST ? "refused" : "outcome unknown",
		    graph_strerr(r), c->e.request_id[0] ? c->e.request_id :
		    "none");
		rl = find_registered(c, user_id, cred, out);
		retries += c->retries;
		if (rl == GRAPH_OK && *out != NULL) {
			log_info("the credential is registered (method %s)",
			    graph_method_id(*out));
			r = GRAPH_OK;
			break;
		}
		c->e = saved;
		if (rl != GRAPH_OK) {
			err_hint(c, "could not tell whether the key was "
			    "registered: run 'provisioning list %s' before "
			    "trying again", user_id != NULL ? user_id : "me");
			goto fail;
		}
		if (r == GRAPH_ERR_BAD_REQUEST) {
			policy_hint(c);
			goto fail;
		}
		if (tries >= REGISTER_TRIES)
			goto fail;
		log_info("the credential is not registered: sending it again "
		    "in %d s", tries);
		http_sleep_ms(1000LL * tries);
	}
	r = GRAPH_OK;
fail:
	c->retries = retries;
	json_decref(j);
	http_resp_reset(&resp);
	free(path);

	return (r);
}

int
graph_fido2_list(graph_client_t *c, const char *user_id,
    graph_methods_t **out)
{
	json_t	*j = NULL;
	char	*path = NULL;
	int	 r;

	*out = NULL;
	if ((path = methods_path(c, user_id, "")) == NULL)
		return (GRAPH_ERR_ARG);
	if ((r = gcall(c, "GET", path, NULL, G_IDEMPOTENT, &perm_read,
	    &j)) != GRAPH_OK) {
		if (r == GRAPH_ERR_NOT_FOUND)
			not_found_hint(c, user_id);
		goto fail;
	}
	if (parse_methods(j, out) < 0) {
		err_set(c, 200, "", "malformed fido2Methods list", NULL);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	json_decref(j);
	free(path);

	return (r);
}

int
graph_fido2_delete(graph_client_t *c, const char *user_id,
    const char *method_id)
{
	char	*path = NULL, *e = NULL, *tail = NULL;
	int	 r;

	if (method_id == NULL || *method_id == '\0' ||
	    (e = http_escape(c, method_id)) == NULL ||
	    (tail = gfmt("/%s", e)) == NULL ||
	    (path = methods_path(c, user_id, tail)) == NULL) {
		r = GRAPH_ERR_ARG;
		goto fail;
	}
	r = gcall(c, "DELETE", path, NULL, G_IDEMPOTENT, &perm_write, NULL);
	if (r == GRAPH_ERR_NOT_FOUND && c->retries > 0) {
		/* an earlier attempt deleted it before its reply was lost */
		err_clear(c);
		r = GRAPH_OK;
	} else if (r == GRAPH_ERR_NOT_FOUND)
		err_hint(c, "no user '%s', or no passkey with id %s (see "
		    "'provisioning list')", user_id != NULL ? user_id : "me",
		    method_id);
fail:
	free(path);
	free(tail);
	free(e);

	return (r);
}

/* $batch: who holds a passkey */

static char *
has_url(graph_client_t *c, const char *id)
{
	char	*p, *url;

	if ((p = user_path(c, id)) == NULL)
		return (NULL);
	url = gfmt("%s/authentication/fido2Methods", p);
	free(p);

	return (url);
}

static void
has_done(graph_client_t *c, void *arg, size_t i, int r, const json_t *body)
{
	int	*has = arg;
	json_t	*val = json_object_get(body, "value");

	if (r != GRAPH_OK) {
		log_debug("%s: %zu: %s", __func__, i, graph_strerr(r));
		has[i] = -1;
	} else
		has[i] = !json_is_array(val) ? -1 : json_array_size(val) > 0;
	(void)c;
}

int
graph_batch_has_passkey(graph_client_t *c, const char *const *ids, size_t n,
    int *has)
{
	struct batch_get	bg = { &perm_read, has_url, has_done, NULL };
	size_t			off, m;
	int			r;

	for (off = 0; off < n; off += m) {
		m = n - off < GRAPH_BATCH_MAX ? n - off : GRAPH_BATCH_MAX;
		bg.arg = has + off;
		if ((r = batch_gets(c, ids + off, m, &bg)) != GRAPH_OK)
			return (r);
	}

	return (GRAPH_OK);
}
