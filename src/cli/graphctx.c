/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * A Graph client configured from the global options, and what its
 * errors mean for the exit status.
 */

#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "extern.h"

/* Ctrl+C ends Graph's long waits (sign-in, Retry-After) too */
static bool
cancelled(void)
{
	return (sig_interrupted());
}

int
cli_graph_open(const struct prov_ctx *ctx, graph_client_t **out)
{
	struct graph_config	cfg;
	char			err[512];
	int			r;

	memset(&cfg, 0, sizeof(cfg));
	cfg.cloud = ctx->cloud;
	cfg.authority_url = ctx->authority_url;
	cfg.graph_url = ctx->graph_url;
	cfg.graph_version = ctx->graph_version;
	cfg.tenant = ctx->tenant;
	cfg.client_id = ctx->client_id;
	cfg.ca_bundle = ctx->ca_bundle;
	cfg.disable_ssl_verify = ctx->disable_ssl_verify;
	cfg.local_ssl_verify = ctx->local_ssl_verify;
	cfg.state_dir = ctx->state_dir;
	cfg.user_agent = "provisioning/" PROV_VERSION;
	if (state_dir_ensure(ctx) < 0)
		return (EXIT_USAGE);
	graph_set_cancel(cancelled);
	if ((r = graph_client_new(out, &cfg)) != GRAPH_OK) {
		/* which endpoint or file is wrong, checked again for words */
		if (r == GRAPH_ERR_ARG &&
		    graph_config_check(&cfg, err, sizeof(err)) != GRAPH_OK) {
			fprintf(stderr, "provisioning: %s\n", err);
			return (EXIT_USAGE);
		}
		fprintf(stderr, "provisioning: %s\n", graph_strerr(r));
		return (cli_graph_exit(r));
	}

	return (EXIT_OK);
}

int
cli_graph_exit(int r)
{
	if (r == GRAPH_OK)
		return (EXIT_OK);
	if (r == GRAPH_ERR_CANCELLED)
		return (EXIT_INTR);
	if (graph_err_is_auth(r))
		return (EXIT_AUTH);
	if (r == GRAPH_ERR_ARG)
		return (EXIT_USAGE);

	return (EXIT_NET);
}

/* one line an operator can act on: what failed, why, and the ids */
void
cli_graph_error(graph_client_t *c, const char *what, int r)
{
	const char *code, *msg, *hint, *rid;

	code = graph_last_code(c);
	msg = graph_last_message(c);
	hint = graph_last_hint(c);
	rid = graph_last_request_id(c);
	/* Graph's words (and the names they quote) are untrusted */
	fprintf(stderr, "provisioning: %s: %s", cli_safe(what),
	    graph_strerr(r));
	if (graph_last_status(c) != 0)
		fprintf(stderr, " (HTTP %d%s%s)", graph_last_status(c),
		    *code ? " " : "", cli_safe(code));
	if (*msg && strcmp(msg, graph_strerr(r)) != 0)
		fprintf(stderr, ": %s", cli_safe(msg));
	if (*rid)
		fprintf(stderr, " [request-id %s]", cli_safe(rid));
	fprintf(stderr, "\n");
	if (*hint)
		fprintf(stderr, "provisioning: hint: %s\n", cli_safe(hint));
	else if (r == GRAPH_ERR_TLS)
		fprintf(stderr, "provisioning: hint: behind a TLS-inspecting "
		    "proxy, pass its root certificate with --ca-bundle FILE\n");
}
