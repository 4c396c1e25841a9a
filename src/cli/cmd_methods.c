/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * list and remove: a user's passkeys in Entra ID.
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extern.h"
#include "graph.h"

/*
 * Resolve USER (UPN or id) so that errors name it and ids are exact.
 * Without User.Read.All (403) the reference is used as it is: the
 * authentication-method calls take a UPN too.
 */
static int
resolve_user(graph_client_t *c, const char *ref, graph_user_t **u,
    const char **id, const char **upn)
{
	int r;

	*id = *upn = ref;
	if ((r = graph_user_get(c, ref, u)) == GRAPH_ERR_FORBIDDEN) {
		log_info("cannot read users (%s): using '%s' as given",
		    graph_last_hint(c), ref);
		return (EXIT_OK);
	}
	if (r != GRAPH_OK) {
		cli_graph_error(c, ref, r);
		return (r == GRAPH_ERR_NOT_FOUND ? EXIT_USAGE :
		    cli_graph_exit(r));
	}
	*id = graph_user_id(*u);
	*upn = graph_user_upn(*u);

	return (EXIT_OK);
}

int
cmd_list(struct prov_ctx *ctx, int argc, char **argv)
{
	graph_client_t		*c = NULL;
	graph_user_t		*u = NULL;
	graph_methods_t		*l = NULL;
	const graph_method_t	*m;
	static const struct optdef defs[] = { { NULL, NULL, 0, 0 } };
	struct opts		 op;
	const char		*id, *upn;
	size_t			 i;
	int			 o, r, ex;

	opts_init(&op, "list", defs, 0, argc, argv);
	while ((o = opts_next(&op)) != OPTS_END) {
		if (o != OPTS_HELP)
			return (EXIT_USAGE);
		printf("usage: provisioning list USER\n"
		    "  the passkeys (FIDO2 methods) of USER (UPN or object "
		    "id)\n");
		return (EXIT_OK);
	}
	if (opts_operands(&op, 1, 1, "USER") < 0)
		return (EXIT_USAGE);
	if ((ex = cli_graph_open(ctx, &c)) != EXIT_OK)
		return (ex);
	if ((ex = resolve_user(c, argv[op.ind], &u, &id, &upn)) != EXIT_OK)
		goto out;
	if ((r = graph_fido2_list(c, id, &l)) != GRAPH_OK) {
		cli_graph_error(c, "list", r);
		ex = cli_graph_exit(r);
		goto out;
	}
	if (graph_methods_len(l) == 0 && !ctx->json)
		fprintf(stderr, "%s has no passkeys\n", cli_safe(upn));
	for (i = 0; i < graph_methods_len(l); i++) {
		m = graph_methods_get(l, i);
		if (ctx->json) {
			if (cli_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,"
			    "s:s,s:s,s:s,s:s}", "user", upn, "userId", id,
			    "methodId", graph_method_id(m),
			    "displayName", graph_method_display_name(m),
			    "aaGuid", graph_method_aaguid(m),
			    "model", graph_method_model(m),
			    "createdDateTime", graph_method_created(m),
			    "attestationLevel",
			    graph_method_attestation_level(m),
			    "passkeyType", graph_method_passkey_type(m))) < 0) {
				ex = EXIT_USAGE;
				goto out;
			}
			continue;
		}
		/* every field is Graph's: shown, never obeyed */
		printf("%s\n", cli_safe(graph_method_id(m)));
		printf("    name:        %s\n",
		    cli_safe(graph_method_display_name(m)));
		printf("    model:       %s\n", cli_safe(graph_method_model(m)));
		printf("    aaguid:      %s\n",
		    cli_safe(graph_method_aaguid(m)));
		printf("    created:     %s\n",
		    cli_safe(graph_method_created(m)));
		printf("    attestation: %s\n",
		    cli_safe(graph_method_attestation_level(m)));
	}
	ex = EXIT_OK;
out:
	graph_methods_free(&l);
	graph_user_free(&u);
	graph_client_free(&c);

	return (ex);
}

int
cmd_remove(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = { { NULL, NULL, 0, 0 } };
	struct opts	 op;
	graph_client_t	*c = NULL;
	graph_user_t	*u = NULL;
	const char	*id, *upn, *mid;
	int		 o, r, ex;

	/* in order: a method id may begin with '-' ("-2_GRUg2-...") */
	opts_init(&op, "remove", defs, OPTS_INORDER, argc, argv);
	while ((o = opts_next(&op)) != OPTS_END) {
		if (o != OPTS_HELP)
			return (EXIT_USAGE);
		printf("usage: provisioning remove USER METHOD_ID\n"
		    "  delete one passkey of USER (ids from 'provisioning list "
		    "USER')\n");
		return (EXIT_OK);
	}
	if (opts_operands(&op, 2, 2, "USER METHOD_ID") < 0)
		return (EXIT_USAGE);
	mid = argv[op.ind + 1];
	if ((ex = cli_graph_open(ctx, &c)) != EXIT_OK)
		return (ex);
	if ((ex = resolve_user(c, argv[op.ind], &u, &id, &upn)) != EXIT_OK)
		goto out;
	if ((r = graph_fido2_delete(c, id, mid)) != GRAPH_OK) {
		cli_graph_error(c, "remove", r);
		ex = r == GRAPH_ERR_NOT_FOUND ? EXIT_USAGE :
		    cli_graph_exit(r);
		goto out;
	}
	if (ctx->json)
		cli_print_json(json_pack("{s:s,s:s,s:s,s:b}", "user", upn,
		    "userId", id, "methodId", mid, "removed", 1));
	else
		printf("Removed passkey %s from %s\n", cli_safe(mid),
		    cli_safe(upn));
	ex = EXIT_OK;
out:
	graph_user_free(&u);
	graph_client_free(&c);

	return (ex);
}
