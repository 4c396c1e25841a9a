/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * One Graph request: URL, bearer token (renewed ahead of expiry, and
 * once more after a 401), the retry policy of http.c, and the mapping of
 * a final HTTP status and Graph error to GRAPH_ERR_* plus a hint that
 * tells the administrator what to change.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "graph_int.h"

/* "/users/<id>", or "/me" for the signed-in user */
char *
user_path(graph_client_t *c, const char *user_id)
{
	char	*e, *p;

	if (user_id == NULL)
		return (strdup("/me"));
	if (*user_id == '\0')
		return (NULL);
	if ((e = http_escape(c, user_id)) == NULL)
		return (NULL);
	/* Graph reads /users/$x as a system query option: quote it */
	if (*user_id == '$')
		p = gfmt("/users('%s')", e);
	else
		p = gfmt("/users/%s", e);
	free(e);

	return (p);
}

static bool
on_graph_host(const graph_client_t *c, const char *url)
{
	size_t n = strlen(c->graph);

	return (strncmp(url, c->graph, n) == 0 && url[n] == '/');
}

/* @odata.nextLink must stay on our Graph host: it gets our token */
static char *
request_url(graph_client_t *c, const char *path, int flags)
{
	if (flags & G_ABSOLUTE) {
		if (!on_graph_host(c, path))
			return (NULL);
		return (strdup(path));
	}

	return (gfmt("%s/%s%s", c->graph, c->version, path));
}

static unsigned long long
fnv1a(const char *s)
{
	unsigned long long h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}

	return (h);
}

int
pager_follow(graph_client_t *c, struct pager *pg, const char *next)
{
	unsigned long long	h;
	size_t			i;
	char			msg[80];

	if (graph_cancelled())
		return (GRAPH_ERR_CANCELLED);
	if (!http_value_ok(next) || !on_graph_host(c, next)) {
		err_set(c, 200, "", "@odata.nextLink points off the Graph "
		    "host: refused (it would carry our token)", NULL);
		return (GRAPH_ERR_PROTOCOL);
	}
	if (pg->seen == NULL && (pg->seen = calloc(GRAPH_MAX_PAGES,
	    sizeof(*pg->seen))) == NULL)
		return (GRAPH_ERR_INTERNAL);
	if (pg->n >= GRAPH_MAX_PAGES) {
		snprintf(msg, sizeof(msg), "more than %d pages of "
		    "@odata.nextLink: stopped", GRAPH_MAX_PAGES);
		err_set(c, 200, "", msg, NULL);
		return (GRAPH_ERR_PROTOCOL);
	}
	/* a hash collision only ends a listing early, with this message */
	h = fnv1a(next);
	for (i = 0; i < pg->n; i++)
		if (pg->seen[i] == h) {
			err_set(c, 200, "", "@odata.nextLink repeats a page "
			    "already read: stopped (a paging loop in the "
			    "reply)", NULL);
			return (GRAPH_ERR_PROTOCOL);
		}
	pg->seen[pg->n++] = h;

	return (GRAPH_OK);
}

void
pager_reset(struct pager *pg)
{
	free(pg->seen);
	memset(pg, 0, sizeof(*pg));
}

static void
transport_hint(graph_client_t *c, int r)
{
	switch (r) {
	case GRAPH_ERR_TLS:
		if (c->xport_hint[0] == '\0' && c->xport_why[0] == '\0')
			err_hint(c, "the server's certificate is not trusted: "
			    "if a proxy inspects TLS, pass its root with "
			    "--ca-bundle FILE");
		break;
	case GRAPH_ERR_TIMEOUT:
		if (c->xport_hint[0] != '\0')
			break;	/* http.c named the host and the fix */
		err_hint(c, "Graph did not answer in time; check the network "
		    "or proxy (https_proxy) and try again");
		break;
	case GRAPH_ERR_NETWORK:
		if (c->xport_hint[0] != '\0')
			break;
		err_hint(c, "cannot reach %s; check the network or proxy "
		    "(https_proxy)", c->graph);
		break;
	case GRAPH_ERR_PROTOCOL:
		err_hint(c, "the reply was larger than %d bytes or broken",
		    GRAPH_MAX_BODY);
		break;
	default:
		break;
	}
}

int
map_error(graph_client_t *c, const struct http_resp *resp,
    const struct gperm *perm)
{
	struct graph_err	 e;
	int			 r;

	r = http_status_err(resp->status);
	if (parse_error(resp->body, resp->len, &e) == 0) {
		err_set(c, resp->status, e.code, e.message,
		    e.request_id != NULL ? e.request_id : resp->request_id);
		graph_err_reset(&e);
	} else
		err_set(c, resp->status, "", "", resp->request_id);
	switch (resp->status) {
	case 401:
		err_hint(c, "Graph refused the token: run 'provisioning login' "
		    "again");
		break;
	case 403:
		if (perm != NULL && perm->role != NULL && !c->tok.app_only)
			err_hint(c, "the sign-in needs the Graph permission %s "
			    "(with admin consent) and the %s role", perm->perm,
			    perm->role);
		else if (perm != NULL)
			err_hint(c, "the %s needs the Graph permission %s (with "
			    "admin consent)", c->tok.app_only ? "app" :
			    "sign-in", perm->perm);
		break;
	case 404:
		err_hint(c, "no such object in the tenant");
		break;
	case 429:
		if (c->refused_wait > 0)
			err_hint(c, "Graph asks to wait %lld s (Retry-After), "
			    "longer than %d s: not waiting; try again later",
			    c->refused_wait, c->max_retry_after);
		else
			err_hint(c, "Graph kept throttling after %d retries; "
			    "try again later", c->retries);
		break;
	default:
		if (resp->status == 503 && c->refused_wait > 0)
			err_hint(c, "Graph asks to wait %lld s (Retry-After), "
			    "longer than %d s: not waiting; try again later",
			    c->refused_wait, c->max_retry_after);
		else if (resp->status >= 500)
			err_hint(c, "Graph is failing (%d after %d retries); "
			    "try again later and quote the request-id",
			    resp->status, c->retries);
		break;
	}

	return (r);
}

int
gcall_raw(graph_client_t *c, const char *method, const char *path,
    const char *body, int flags, const struct gperm *perm,
    struct http_resp *resp)
{
	struct http_req	 q;
	char		*url = NULL, eventual[] = "ConsistencyLevel: eventual";
	bool		 renewed = false;
	int		 r;

	err_clear(c);
	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	if ((url = request_url(c, path, flags)) == NULL) {
		err_set(c, 0, "", "link outside the Graph host refused", NULL);
		r = (flags & G_ABSOLUTE) ? GRAPH_ERR_PROTOCOL :
		    GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if ((r = oauth_ensure(c, false)) != GRAPH_OK)
		goto fail;
	for (;;) {
		memset(&q, 0, sizeof(q));
		q.method = method;
		q.url = url;
		q.body = body;
		q.body_len = body != NULL ? strlen(body) : 0;
		q.ctype = body != NULL ? "application/json" : NULL;
		q.flags = HTTP_AUTH | (flags & (HTTP_IDEMPOTENT |
		    HTTP_NO_RETRY));
		q.service = "Graph";
		if (flags & G_EVENTUAL)
			q.headers[0] = eventual;
		if ((r = http_call(c, &q, resp)) != GRAPH_OK) {
			http_err_transport(c, r, resp->request_id);
			transport_hint(c, r);
			goto fail;
		}
		if (resp->status != 401 || renewed)
			break;
		/* an access token can be revoked or expire early: renew once */
		log_info("401 from Graph, renewing the token once (request-id "
		    "%s)", resp->request_id[0] ? resp->request_id : "none");
		renewed = true;
		http_resp_reset(resp);
		if ((r = oauth_ensure(c, true)) != GRAPH_OK)
			goto fail;
	}
	if (resp->status >= 200 && resp->status <= 299) {
		r = GRAPH_OK;
		goto fail;
	}
	r = map_error(c, resp, perm);
fail:
	free(url);

	return (r);
}

int
gcall(graph_client_t *c, const char *method, const char *path,
    const char *body, int flags, const struct gperm *perm, json_t **out)
{
	struct http_resp	resp;
	int			r;

	if (out != NULL)
		*out = NULL;
	if ((r = gcall_raw(c, method, path, body, flags, perm, &resp)) !=
	    GRAPH_OK)
		goto fail;
	if (out != NULL && (*out = json_parse(resp.body, resp.len)) == NULL) {
		err_set(c, resp.status, "", "malformed JSON from Graph",
		    resp.request_id);
		err_hint(c, "Graph sent a reply that is not the JSON expected; "
		    "try again and quote the request-id");
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	http_resp_reset(&resp);

	return (r);
}
