/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Temporary Access Pass methods, for the user-context mode: the admin
 * issues a (one-time) TAP, the user signs in with it.  The pass is only
 * in the create reply; it is handed to the caller and wiped here.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "graph_int.h"

static const struct gperm perm_tap = {
	"UserAuthMethod-TAP.ReadWrite.All (or "
	"UserAuthenticationMethod.ReadWrite.All)",
	"Authentication Administrator (Privileged Authentication "
	"Administrator for admins)"
};

static char *
tap_path(graph_client_t *c, const char *user_id, const char *method_id)
{
	char	*u = NULL, *e = NULL, *p = NULL;

	/* nobody may manage their own TAP: always a named user */
	if (user_id == NULL || (u = user_path(c, user_id)) == NULL)
		return (NULL);
	if (method_id == NULL)
		p = gfmt("%s/authentication/temporaryAccessPassMethods", u);
	else if ((e = http_escape(c, method_id)) != NULL)
		p = gfmt("%s/authentication/temporaryAccessPassMethods/%s", u,
		    e);
	free(u);
	free(e);

	return (p);
}

int
graph_tap_create(graph_client_t *c, const char *user_id, int lifetime,
    bool once, char **tap, char **method_id)
{
	json_t		*body = NULL, *j = NULL;
	const char	*t;
	char		*path = NULL, *s = NULL;
	int		 r;

	*tap = NULL;
	if (method_id != NULL)
		*method_id = NULL;
	if (lifetime < 0 || (lifetime > 0 && (lifetime < 10 ||
	    lifetime > 43200)) || (path = tap_path(c, user_id, NULL)) == NULL) {
		r = GRAPH_ERR_ARG;
		goto fail;
	}
	if ((body = json_pack("{s:b}", "isUsableOnce", once)) == NULL ||
	    (lifetime > 0 && json_object_set_new(body, "lifetimeInMinutes",
	    json_integer(lifetime)) < 0) ||
	    (s = json_dumps(body, JSON_COMPACT)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	/* a user holds one TAP; a resent create replaces the first one */
	if ((r = gcall(c, "POST", path, s, G_IDEMPOTENT, &perm_tap, &j)) !=
	    GRAPH_OK) {
		if (r == GRAPH_ERR_BAD_REQUEST)
			err_hint(c, "check the Temporary Access Pass policy: "
			    "enabled, the user in its targets, the lifetime "
			    "within its bounds, one-time use if it demands");
		else if (r == GRAPH_ERR_NOT_FOUND)
			err_hint(c, "no user '%s' in this tenant", user_id);
		goto fail;
	}
	if ((t = jstr(j, "temporaryAccessPass")) == NULL || *t == '\0') {
		err_set(c, 201, "", "no temporaryAccessPass in the reply",
		    NULL);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	if ((*tap = strdup(t)) == NULL || (method_id != NULL &&
	    jstr(j, "id") != NULL && (*method_id = jdup(j, "id")) == NULL)) {
		freezero_str(*tap);
		*tap = NULL;
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	json_wipe_decref(j);
	json_decref(body);
	free(path);
	free(s);

	return (r);
}

int
graph_tap_list(graph_client_t *c, const char *user_id, graph_taps_t **out)
{
	json_t	*j = NULL;
	char	*path;
	int	 r;

	*out = NULL;
	if ((path = tap_path(c, user_id, NULL)) == NULL)
		return (GRAPH_ERR_ARG);
	if ((r = gcall(c, "GET", path, NULL, G_IDEMPOTENT, &perm_tap, &j)) ==
	    GRAPH_OK && parse_taps(j, out) < 0) {
		err_set(c, 200, "", "malformed TAP list", NULL);
		r = GRAPH_ERR_PROTOCOL;
	}
	json_wipe_decref(j);
	free(path);

	return (r);
}

int
graph_tap_delete(graph_client_t *c, const char *user_id,
    const char *method_id)
{
	char	*path;
	int	 r;

	if (method_id == NULL || *method_id == '\0' ||
	    (path = tap_path(c, user_id, method_id)) == NULL)
		return (GRAPH_ERR_ARG);
	r = gcall(c, "DELETE", path, NULL, G_IDEMPOTENT, &perm_tap, NULL);
	if (r == GRAPH_ERR_NOT_FOUND && c->retries > 0) {
		err_clear(c);
		r = GRAPH_OK;
	}
	free(path);

	return (r);
}
