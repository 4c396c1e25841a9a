/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A public document over HTTPS, with no token (the FIDO Metadata
 * Service's BLOB): the same transport as Graph's requests (TLS checked
 * against the system store and --ca-bundle, the retry policy of an
 * idempotent GET, the words for a host that cannot be reached), a body
 * capped by the caller and a transfer timeout of its own.
 */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

#define FETCH_TIMEOUT	300	/* s: megabytes over a slow link */

int
graph_fetch(graph_client_t *c, const char *url, size_t max,
    unsigned char **out, size_t *outlen)
{
	struct http_req		 q;
	struct http_resp	 resp;
	char			 msg[160];
	int			 r;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (c == NULL || url == NULL || out == NULL || outlen == NULL ||
	    max == 0)
		return (GRAPH_ERR_ARG);
	err_clear(c);
	/* what is fetched is verified, but its host must be who it says */
	if (strncasecmp(url, "https://", 8) != 0) {
		err_set(c, 0, "", "not an https:// URL: refused", NULL);
		return (GRAPH_ERR_ARG);
	}
	memset(&q, 0, sizeof(q));
	memset(&resp, 0, sizeof(resp));
	resp.retry_after = -1;
	q.method = "GET";
	q.url = url;
	q.flags = HTTP_IDEMPOTENT | HTTP_FOREIGN;
	q.service = "download";
	q.accept = "*/*";
	q.max_body = max;
	q.timeout_s = c->timeout_s > FETCH_TIMEOUT ? c->timeout_s :
	    FETCH_TIMEOUT;
	if ((r = http_call(c, &q, &resp)) != GRAPH_OK) {
		if (r == GRAPH_ERR_PROTOCOL)
			err_set(c, 0, "", "the reply is larger than the "
			    "limit, or malformed", NULL);
		else
			http_err_transport(c, r, NULL);
		goto fail;
	}
	if (resp.status != 200) {
		snprintf(msg, sizeof(msg), "%s answered HTTP %d", url,
		    resp.status);
		err_set(c, resp.status, "", msg, NULL);
		r = resp.status == 404 ? GRAPH_ERR_NOT_FOUND :
		    http_status_err(resp.status);
		if (r == GRAPH_OK)
			r = GRAPH_ERR_HTTP;	/* 2xx, but not the document */
		goto fail;
	}
	/* a public document: handed over as it is, NUL-terminated */
	*out = (unsigned char *)resp.body;
	*outlen = resp.len;
	resp.body = NULL;
	r = GRAPH_OK;
fail:
	http_resp_reset(&resp);

	return (r);
}
