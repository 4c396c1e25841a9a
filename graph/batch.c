/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * JSON $batch of GETs: up to 20 per round trip.  An inner 429 or 5xx is
 * resent in the next round, waiting as long as its Retry-After asks, as
 * http_call() would for the request alone; an inner failure that stays
 * is mapped by map_error(), so its code, message and hint are those the
 * request alone would have got.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "graph_int.h"

static json_t *
batch_body(graph_client_t *c, const char *const *refs, const size_t *idx,
    size_t m, const struct batch_get *bg)
{
	json_t	*body, *reqs, *rq;
	char	*url, num[24];
	size_t	 i;

	if ((body = json_object()) == NULL || (reqs = json_array()) == NULL ||
	    json_object_set_new(body, "requests", reqs) < 0) {
		json_decref(body);
		return (NULL);
	}
	for (i = 0; i < m; i++) {
		if ((url = bg->url(c, refs[idx[i]])) == NULL) {
			json_decref(body);
			return (NULL);
		}
		snprintf(num, sizeof(num), "%zu", i);
		rq = json_pack("{s:s,s:s,s:s}", "id", num, "method", "GET",
		    "url", url);
		free(url);
		if (rq == NULL || json_array_append_new(reqs, rq) < 0) {
			json_decref(body);
			return (NULL);
		}
	}

	return (body);
}

/* what http_call() resends: nothing came, throttled, or a server error */
static bool
resend(int status)
{
	return (status == 0 || status == 429 || (status >= 500 &&
	    status != 501 && status != 505));
}

/* an inner reply that stays a failure, as the request alone would fail */
static int
item_fail(graph_client_t *c, const struct batch_item *it, int round,
    long long refused, const struct gperm *perm)
{
	struct http_resp	resp;
	int			r;

	memset(&resp, 0, sizeof(resp));
	resp.status = it->status != 0 ? it->status : 500;
	resp.retry_after = it->retry_after;
	resp.body = it->body != NULL ? json_dumps(it->body, JSON_COMPACT) :
	    NULL;
	resp.len = resp.body != NULL ? strlen(resp.body) : 0;
	snprintf(resp.request_id, sizeof(resp.request_id), "%s",
	    graph_last_request_id(c));
	c->retries = round;
	c->refused_wait = refused;
	r = map_error(c, &resp, perm);
	free(resp.body);

	return (r);
}

int
batch_gets(graph_client_t *c, const char *const *refs, size_t n,
    const struct batch_get *bg)
{
	struct batch_item	 items[GRAPH_BATCH_MAX];
	size_t			 idx[GRAPH_BATCH_MAX], again[GRAPH_BATCH_MAX];
	size_t			 m = n, k, na;
	json_t			*body = NULL, *j = NULL;
	char			*s = NULL;
	long long		 wait, refused;
	int			 round, r;
	bool			 last;

	if (n > GRAPH_BATCH_MAX)
		return (GRAPH_ERR_ARG);
	for (k = 0; k < n; k++)
		idx[k] = k;
	for (round = 0; m > 0; round++) {
		if ((body = batch_body(c, refs, idx, m, bg)) == NULL ||
		    (s = json_dumps(body, JSON_COMPACT)) == NULL) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
		/* only GETs inside: resending the whole batch is safe */
		if ((r = gcall(c, "POST", "/$batch", s, G_IDEMPOTENT,
		    bg->perm, &j)) != GRAPH_OK)
			goto fail;
		if (parse_batch(j, m, items) < 0) {
			err_set(c, 200, "", "malformed $batch reply", NULL);
			r = GRAPH_ERR_PROTOCOL;
			goto fail;
		}
		wait = -1;
		for (k = 0; k < m; k++)
			if (resend(items[k].status) &&
			    items[k].retry_after > wait)
				wait = items[k].retry_after;
		/* an inner Retry-After of hours is not waited for either */
		refused = wait > c->max_retry_after ? wait : 0;
		last = refused > 0 || round >= c->max_retries;
		if (refused > 0)
			log_warn("Graph asks to wait %lld s (Retry-After in "
			    "$batch), longer than %d s: not waiting", refused,
			    c->max_retry_after);
		for (k = 0, na = 0; k < m; k++) {
			if (resend(items[k].status) && !last) {
				again[na++] = idx[k];
				continue;
			}
			if (items[k].status >= 200 && items[k].status <= 299)
				r = GRAPH_OK;
			else
				r = item_fail(c, &items[k], round, refused,
				    bg->perm);
			bg->done(c, bg->arg, idx[k], r, r == GRAPH_OK ?
			    items[k].body : NULL);
		}
		json_decref(j);
		j = NULL;
		json_decref(body);
		body = NULL;
		free(s);
		s = NULL;
		m = na;
		if (na == 0)
			break;
		memcpy(idx, again, na * sizeof(idx[0]));
		if (wait < 0)
			wait = 1 + round;
		log_info("%zu batched requests throttled or failed (429/5xx), "
		    "retrying them in %lld s", na, wait);
		if (!http_sleep_ms(wait * 1000)) {
			r = GRAPH_ERR_CANCELLED;
			goto fail;
		}
	}
	r = GRAPH_OK;
fail:
	/* a batch that failed as a whole fails each request left in it */
	if (r != GRAPH_OK)
		for (k = 0; k < m; k++)
			bg->done(c, bg->arg, idx[k], r, NULL);
	json_decref(j);
	json_decref(body);
	free(s);

	return (r);
}
