/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Users, groups and the signed-in identity.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"
#include "graph_int.h"

#define USER_SELECT	"$select=id,userPrincipalName,displayName,userType," \
			"accountEnabled"

static const struct gperm perm_user = {
	"User.Read.All", "Directory Readers (or any admin)"
};
static const struct gperm perm_group = {
	"GroupMember.Read.All", "Directory Readers (or any admin)"
};

/* directory role template ids (the wids claim) we can name */
static const struct role {
	const char	*id;
	const char	*name;
} roles[] = {
	{ "62e90394-69f5-4237-9190-012177145e10", "Global Administrator" },
	{ "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
	    "Privileged Authentication Administrator" },
	{ "c4e39bd9-1100-46d3-8c65-fb160da0071f",
	    "Authentication Administrator" },
	{ "0526716b-113d-4c15-b2c8-68e3c22b9f80",
	    "Authentication Policy Administrator" },
	{ "f2ef992c-3afb-46b9-b7cf-a126ee74c451", "Global Reader" },
	{ "e8611ab8-c189-46e8-94e1-60213ab1f814",
	    "Privileged Role Administrator" },
	{ "fe930be7-5e62-47db-91af-98c3a49a38b1", "User Administrator" },
	{ "5d6b6bb7-de71-4623-b4af-96380a352509", "Security Reader" },
	{ "194ae4cb-b126-40b2-bd5b-6091b380977d", "Security Administrator" },
	{ "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers" },
};

struct graph_identity {
	bool		 app_only;
	char		*account;
	char		*name;
	char		*oid;
	char		*tid;
	char		*appid;
	char		*perms;
	char		*roles;
	long long	 exp;
	long long	 session_exp;
};

int
graph_user_get(graph_client_t *c, const char *id_or_upn, graph_user_t **out)
{
	json_t	*j = NULL;
	char	*p = NULL, *path = NULL;
	int	 r;

	*out = NULL;
	if ((p = user_path(c, id_or_upn)) == NULL ||
	    (path = gfmt("%s?" USER_SELECT, p)) == NULL) {
		r = GRAPH_ERR_ARG;
		goto fail;
	}
	if ((r = gcall(c, "GET", path, NULL, G_IDEMPOTENT, &perm_user,
	    &j)) != GRAPH_OK) {
		if (r == GRAPH_ERR_NOT_FOUND)
			err_hint(c, "no user '%s' in this tenant",
			    id_or_upn != NULL ? id_or_upn : "me");
		goto fail;
	}
	if (parse_user(j, out) < 0) {
		err_set(c, 200, "", "malformed user object", NULL);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	json_decref(j);
	free(p);
	free(path);

	return (r);
}

/* many users, 20 per $batch */

struct resolve {
	const char *const	*refs;
	graph_resolve_cb	*cb;
	void			*arg;
	size_t			 off;
};

static char *
resolve_url(graph_client_t *c, const char *ref)
{
	char	*p, *url;

	if ((p = user_path(c, ref)) == NULL)
		return (NULL);
	url = gfmt("%s?" USER_SELECT, p);
	free(p);

	return (url);
}

/* as graph_user_get() ends for the user alone */
static void
resolve_done(graph_client_t *c, void *arg, size_t i, int r,
    const json_t *body)
{
	struct resolve	*rs = arg;
	graph_user_t	*u = NULL;

	if (r == GRAPH_OK && parse_user(body, &u) < 0) {
		err_set(c, 200, "", "malformed user object", NULL);
		r = GRAPH_ERR_PROTOCOL;
	} else if (r == GRAPH_ERR_NOT_FOUND)
		err_hint(c, "no user '%s' in this tenant", rs->refs[i]);
	rs->cb(rs->arg, rs->off + i, r, u);
	graph_user_free(&u);
}

int
graph_users_resolve(graph_client_t *c, const char *const *refs, size_t n,
    graph_resolve_cb *cb, void *arg)
{
	struct resolve		rs = { NULL, cb, arg, 0 };
	struct batch_get	bg = { &perm_user, resolve_url, resolve_done,
				    &rs };
	graph_user_t		*u = NULL;
	size_t			m;
	int			r, first = GRAPH_OK;

	/* a lone user is a plain GET */
	if (n == 1) {
		r = graph_user_get(c, refs[0], &u);
		cb(arg, 0, r, u);
		graph_user_free(&u);
		return (r);
	}
	for (; rs.off < n; rs.off += m) {
		m = n - rs.off < GRAPH_BATCH_MAX ? n - rs.off :
		    GRAPH_BATCH_MAX;
		rs.refs = refs + rs.off;
		r = batch_gets(c, rs.refs, m, &bg);
		if (first == GRAPH_OK)
			first = r;
		if (r == GRAPH_ERR_CANCELLED) {
			/* the users not asked for fail as cancelled too */
			for (rs.off += m; rs.off < n; rs.off++)
				cb(arg, rs.off, r, NULL);
			break;
		}
	}

	return (first);
}

/* identity */

void
graph_identity_free(graph_identity_t **ip)
{
	graph_identity_t *id;

	if (ip == NULL || (id = *ip) == NULL)
		return;
	free(id->account);
	free(id->name);
	free(id->oid);
	free(id->tid);
	free(id->appid);
	free(id->perms);
	free(id->roles);
	free(id);
	*ip = NULL;
}

/* join an array of strings (or take a string) with spaces */
static char *
words(const json_t *v, bool map_roles)
{
	json_t		*e;
	const char	*s;
	char		*out = NULL, *n;
	size_t		 i, k;

	if (json_is_string(v))
		return (strdup(json_string_value(v)));
	if ((out = strdup("")) == NULL || !json_is_array(v))
		return (out);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			continue;
		s = json_string_value(e);
		if (map_roles) {
			for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
				if (strcasecmp(roles[k].id, s) == 0)
					break;
			if (k == sizeof(roles) / sizeof(roles[0]))
				continue;	/* unnamed roles: skip */
			s = roles[k].name;
		}
		n = gfmt("%s%s%s", out, *out != '\0' ?
		    (map_roles ? ", " : " ") : "", s);
		free(out);
		if ((out = n) == NULL)
			return (NULL);
	}

	return (out);
}

static char *
first_claim(const json_t *cl, const char *a, const char *b)
{
	const char *s;

	if ((s = jstr(cl, a)) == NULL && b != NULL)
		s = jstr(cl, b);

	return (s != NULL ? strdup(s) : NULL);
}

int
graph_whoami(graph_client_t *c, graph_identity_t **out)
{
	graph_identity_t	*id = NULL;
	graph_user_t		*me = NULL;
	json_t			*cl = NULL;
	int			 r;

	*out = NULL;
	err_clear(c);
	if ((r = oauth_ensure(c, false)) != GRAPH_OK)
		return (r);
	if ((id = calloc(1, sizeof(*id))) == NULL)
		return (GRAPH_ERR_INTERNAL);
	id->app_only = c->tok.app_only;
	id->exp = c->tok.expires_at;
	id->session_exp = c->tok.session_expires_at;
	if ((cl = jwt_claims(c->tok.access)) != NULL) {
		if (jstr(cl, "idtyp") != NULL &&
		    strcmp(jstr(cl, "idtyp"), "app") == 0)
			id->app_only = true;
		id->account = first_claim(cl, "upn", "preferred_username");
		id->name = first_claim(cl, "name", "app_displayname");
		id->oid = first_claim(cl, "oid", NULL);
		id->tid = first_claim(cl, "tid", NULL);
		id->appid = first_claim(cl, "appid", "azp");
		id->perms = words(json_object_get(cl, id->app_only ? "roles" :
		    "scp"), false);
		id->roles = words(json_object_get(cl, "wids"), true);
		if (jint(cl, "exp", 0) > 0)
			id->exp = jint(cl, "exp", 0);
		json_decref(cl);
	}
	if (id->perms == NULL)
		id->perms = strdup(c->tok.scope != NULL ? c->tok.scope : "");
	if (id->roles == NULL)
		id->roles = strdup("");
	if (id->account == NULL)
		id->account = strdup(c->tok.account != NULL ? c->tok.account :
		    "");
	if (id->appid == NULL)
		id->appid = strdup(c->client_id);
	if (!id->app_only) {
		/* the directory's view of who we are; claims may be thin */
		if ((r = graph_user_get(c, NULL, &me)) == GRAPH_OK) {
			free(id->account);
			free(id->oid);
			id->account = strdup(graph_user_upn(me));
			id->oid = strdup(graph_user_id(me));
			if (id->name == NULL)
				id->name = strdup(graph_user_display_name(me));
		} else if (graph_err_is_auth(r) && r != GRAPH_ERR_FORBIDDEN)
			goto fail;
	}
	if (id->name == NULL)
		id->name = strdup("");
	if (id->oid == NULL)
		id->oid = strdup("");
	if (id->tid == NULL)
		id->tid = strdup(c->tenant);
	if (id->account == NULL || id->name == NULL || id->oid == NULL ||
	    id->tid == NULL || id->appid == NULL || id->perms == NULL ||
	    id->roles == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	err_clear(c);
	*out = id;
	id = NULL;
	r = GRAPH_OK;
fail:
	graph_user_free(&me);
	graph_identity_free(&id);

	return (r);
}

bool
graph_identity_app_only(const graph_identity_t *id)
{
	return (id->app_only);
}

const char *
graph_identity_account(const graph_identity_t *id)
{
	return (id->account);
}

const char *
graph_identity_name(const graph_identity_t *id)
{
	return (id->name);
}

const char *
graph_identity_object_id(const graph_identity_t *id)
{
	return (id->oid);
}

const char *
graph_identity_tenant_id(const graph_identity_t *id)
{
	return (id->tid);
}

const char *
graph_identity_client_id(const graph_identity_t *id)
{
	return (id->appid);
}

const char *
graph_identity_permissions(const graph_identity_t *id)
{
	return (id->perms);
}

/* whole-word match in a space separated list */
static bool
has_word(const char *list, const char *w, const char *sep)
{
	size_t		 n = strlen(w);
	const char	*p;

	for (p = list; (p = strstr(p, w)) != NULL; p += n) {
		if ((p == list || strchr(sep, p[-1]) != NULL) &&
		    (p[n] == '\0' || strchr(sep, p[n]) != NULL))
			return (true);
	}

	return (false);
}

bool
graph_identity_has_permission(const graph_identity_t *id, const char *perm)
{
	return (has_word(id->perms, perm, " "));
}

const char *
graph_identity_roles(const graph_identity_t *id)
{
	return (id->roles);
}

bool
graph_identity_has_role(const graph_identity_t *id, const char *name)
{
	return (has_word(id->roles, name, ","));
}

long long
graph_identity_expires(const graph_identity_t *id)
{
	return (id->exp);
}

long long
graph_identity_session_expires(const graph_identity_t *id)
{
	return (id->session_exp);
}

/* groups */

/* OData string literal: ' doubled, then URL-escaped */
static char *
odata_literal(graph_client_t *c, const char *s)
{
	char	*q, *p, *e;

	if ((q = malloc(2 * strlen(s) + 1)) == NULL)
		return (NULL);
	for (p = q; *s != '\0'; s++) {
		if (*s == '\'')
			*p++ = '\'';
		*p++ = *s;
	}
	*p = '\0';
	e = http_escape(c, q);
	free(q);

	return (e);
}

int
graph_group_resolve(graph_client_t *c, const char *name, char **group_id)
{
	json_t		*j = NULL, *val;
	char		*path = NULL, *e = NULL;
	size_t		 n;
	int		 r;

	*group_id = NULL;
	if (name == NULL || *name == '\0')
		return (GRAPH_ERR_ARG);
	if (guid_valid(name, strlen(name))) {
		if ((path = gfmt("/groups/%s?$select=id,displayName",
		    name)) == NULL) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
		if ((r = gcall(c, "GET", path, NULL, G_IDEMPOTENT, &perm_group,
		    &j)) != GRAPH_OK) {
			if (r == GRAPH_ERR_NOT_FOUND)
				err_hint(c, "no group with id %s", name);
			goto fail;
		}
		if (jstr(j, "id") == NULL) {
			r = GRAPH_ERR_PROTOCOL;
			goto fail;
		}
		*group_id = jdup(j, "id");
		r = *group_id != NULL ? GRAPH_OK : GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if ((e = odata_literal(c, name)) == NULL ||
	    (path = gfmt("/groups?$filter=displayName%%20eq%%20'%s'"
	    "&$select=id,displayName", e)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if ((r = gcall(c, "GET", path, NULL, G_IDEMPOTENT, &perm_group,
	    &j)) != GRAPH_OK)
		goto fail;
	if (!json_is_array(val = json_object_get(j, "value"))) {
		err_set(c, 200, "", "malformed group list", NULL);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	if ((n = json_array_size(val)) == 0) {
		err_set(c, 404, "", "no such group", NULL);
		err_hint(c, "no group named '%s'; names are exact, or pass the "
		    "group's object id", name);
		r = GRAPH_ERR_NOT_FOUND;
		goto fail;
	}
	if (n > 1) {
		err_set(c, 200, "", "several groups carry that name", NULL);
		err_hint(c, "%zu groups are named '%s': pass the object id "
		    "(first two: %s, %s)", n, name,
		    jstr(json_array_get(val, 0), "id") ? jstr(json_array_get(
		    val, 0), "id") : "?", jstr(json_array_get(val, 1), "id") ?
		    jstr(json_array_get(val, 1), "id") : "?");
		r = GRAPH_ERR_AMBIGUOUS;
		goto fail;
	}
	if ((*group_id = jdup(json_array_get(val, 0), "id")) == NULL) {
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	json_decref(j);
	free(path);
	free(e);

	return (r);
}

int
graph_group_members(graph_client_t *c, const char *group_id,
    graph_member_cb *cb, void *arg)
{
	json_t	*j = NULL;
	struct pager pg;
	char	*path = NULL, *e = NULL, *next = NULL;
	int	 r, stopped = 0, flags = G_IDEMPOTENT | G_EVENTUAL;
	size_t	 pages = 0;

	memset(&pg, 0, sizeof(pg));

	if (group_id == NULL || (e = http_escape(c, group_id)) == NULL)
		return (GRAPH_ERR_ARG);
	/* the cast to users needs the advanced query: eventual + $count */
	if ((path = gfmt("/groups/%s/transitiveMembers/microsoft.graph.user"
	    "?" USER_SELECT "&$count=true&$top=999", e)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	for (;;) {
		if ((r = gcall(c, "GET", path, NULL, flags, &perm_group,
		    &j)) != GRAPH_OK) {
			if (r == GRAPH_ERR_NOT_FOUND)
				err_hint(c, "no group with id %s", group_id);
			goto fail;
		}
		if (parse_user_page(j, cb, arg, &next, &stopped) < 0) {
			err_set(c, 200, "", "malformed member page", NULL);
			r = GRAPH_ERR_PROTOCOL;
			goto fail;
		}
		json_decref(j);
		j = NULL;
		pages++;
		if (stopped || next == NULL)
			break;
		if ((r = pager_follow(c, &pg, next)) != GRAPH_OK)
			goto fail;
		free(path);
		path = next;
		next = NULL;
		flags |= G_ABSOLUTE;
		log_debug("%s: page %zu", __func__, pages + 1);
	}
	r = GRAPH_OK;
fail:
	json_decref(j);
	free(path);
	free(next);
	free(e);
	pager_reset(&pg);

	return (r);
}
