/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The FIDO2 (passkey) authentication method policy, and whether it
 * targets a given user (directly, through a group, or all_users).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

#define FIDO2_POLICY	"/policies/authenticationMethodsPolicy/" \
			"authenticationMethodConfigurations/fido2"

static const struct gperm perm_policy = {
	"Policy.Read.AuthenticationMethod (or Policy.Read.All)",
	"Authentication Policy Administrator, Global Reader or Security Reader"
};
static const struct gperm perm_memberof = {
	"GroupMember.Read.All (or Directory.Read.All)",
	"Directory Readers (or any admin)"
};

int
graph_policy_get(graph_client_t *c, graph_policy_t **out)
{
	json_t	*j = NULL;
	int	 r;

	*out = NULL;
	if ((r = gcall(c, "GET", FIDO2_POLICY, NULL, G_IDEMPOTENT,
	    &perm_policy, &j)) != GRAPH_OK)
		return (r);
	if (parse_policy(j, out) < 0) {
		err_set(c, 200, "", "malformed FIDO2 policy", NULL);
		r = GRAPH_ERR_PROTOCOL;
	}
	json_decref(j);

	return (r);
}

struct groups {
	char	**id;
	size_t	  n;
};

static void
groups_reset(struct groups *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->id[i]);
	free(g->id);
	memset(g, 0, sizeof(*g));
}

/* every group the user is in, nested ones too */
static int
user_groups(graph_client_t *c, const char *user_id, struct groups *g)
{
	struct pager	 pg;
	json_t		*j = NULL, *val, *v;
	char		*p = NULL, *path = NULL, **n;
	const char	*next;
	size_t		 i;
	int		 r, flags = G_IDEMPOTENT;

	memset(g, 0, sizeof(*g));
	memset(&pg, 0, sizeof(pg));
	if ((p = user_path(c, user_id)) == NULL ||
	    (path = gfmt("%s/transitiveMemberOf?$select=id", p)) == NULL) {
		r = GRAPH_ERR_ARG;
		goto fail;
	}
	for (;;) {
		if ((r = gcall(c, "GET", path, NULL, flags, &perm_memberof,
		    &j)) != GRAPH_OK)
			goto fail;
		if (!json_is_array(val = json_object_get(j, "value"))) {
			err_set(c, 200, "", "malformed memberOf page", NULL);
			r = GRAPH_ERR_PROTOCOL;
			goto fail;
		}
		json_array_foreach(val, i, v) {
			if (jstr(v, "id") == NULL)
				continue;
			if ((n = reallocarray(g->id, g->n + 1,
			    sizeof(*g->id))) == NULL) {
				r = GRAPH_ERR_INTERNAL;
				goto fail;
			}
			g->id = n;
			if ((g->id[g->n] = jdup(v, "id")) == NULL) {
				r = GRAPH_ERR_INTERNAL;
				goto fail;
			}
			g->n++;
		}
		if ((next = jstr(j, "@odata.nextLink")) == NULL)
			break;
		if ((r = pager_follow(c, &pg, next)) != GRAPH_OK)
			goto fail;
		free(path);
		if ((path = strdup(next)) == NULL) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
		flags |= G_ABSOLUTE;
		json_decref(j);
		j = NULL;
	}
	r = GRAPH_OK;
fail:
	json_decref(j);
	free(p);
	free(path);
	pager_reset(&pg);
	if (r != GRAPH_OK)
		groups_reset(g);

	return (r);
}

static bool
in_targets(const graph_policy_t *p, bool exclude, const char *user_id,
    const struct groups *g)
{
	const char	*id;
	size_t		 i, k;

	for (i = 0; i < graph_policy_targets_len(p, exclude); i++) {
		id = graph_policy_target_id(p, exclude, i);
		if (strcasecmp(id, "all_users") == 0 ||
		    strcasecmp(id, user_id) == 0)
			return (true);
		for (k = 0; k < g->n; k++)
			if (strcasecmp(id, g->id[k]) == 0)
				return (true);
	}

	return (false);
}

int
graph_policy_user_targeted(graph_client_t *c, const graph_policy_t *p,
    const char *user_id, int *in)
{
	struct groups	g;
	int		r;

	*in = 0;
	if (user_id == NULL || *user_id == '\0')
		return (GRAPH_ERR_ARG);
	if ((r = user_groups(c, user_id, &g)) != GRAPH_OK)
		return (r);
	*in = in_targets(p, false, user_id, &g) &&
	    !in_targets(p, true, user_id, &g);
	groups_reset(&g);

	return (GRAPH_OK);
}

int
graph_policy_user_profiles(graph_client_t *c, const graph_policy_t *p,
    const char *user_id, uint32_t *set, int *targeted)
{
	struct groups	 g;
	const char	*id;
	size_t		 i, k;
	int		 r;

	*set = 0;
	*targeted = 0;
	if (user_id == NULL || *user_id == '\0')
		return (GRAPH_ERR_ARG);
	if ((r = user_groups(c, user_id, &g)) != GRAPH_OK)
		return (r);
	if (in_targets(p, true, user_id, &g))
		goto out;
	for (i = 0; i < graph_policy_targets_len(p, false); i++) {
		id = graph_policy_target_id(p, false, i);
		if (strcasecmp(id, "all_users") != 0 &&
		    strcasecmp(id, user_id) != 0) {
			for (k = 0; k < g.n; k++)
				if (strcasecmp(id, g.id[k]) == 0)
					break;
			if (k == g.n)
				continue;
		}
		*targeted = 1;
		*set |= policy_target_set(p, i);
	}
out:
	groups_reset(&g);

	return (GRAPH_OK);
}
