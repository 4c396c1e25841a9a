/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The Graph objects handed to callers (user, FIDO2 method, TAP; the
 * FIDO2 policy is in policy_obj.c), their parsers and accessors.  Parsers take what they know
 * and tolerate the rest: Graph adds properties, and its docs disagree
 * on some names (createdDateTime vs creationDateTime).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

#define S(x)	((x) != NULL ? (x) : "")

struct graph_user {
	char	*id;
	char	*upn;
	char	*display_name;
	char	*type;
	bool	 enabled;
};

struct graph_method {
	char	*id;
	char	*display_name;
	char	*aaguid;
	char	*model;
	char	*created;
	char	*attestation_level;
	char	*passkey_type;
};

struct graph_methods {
	graph_method_t	**v;
	size_t		  n;
};

struct tap {
	char	*id;
	char	*created;
	char	*start;
	int	 lifetime;
	bool	 once;
	bool	 usable;
	char	*reason;
};

struct graph_taps {
	struct tap	*v;
	size_t		 n;
};

/* users */

void
graph_user_free(graph_user_t **up)
{
	graph_user_t *u;

	if (up == NULL || (u = *up) == NULL)
		return;
	free(u->id);
	free(u->upn);
	free(u->display_name);
	free(u->type);
	free(u);
	*up = NULL;
}

int
parse_user(const json_t *j, graph_user_t **out)
{
	graph_user_t	*u;

	*out = NULL;
	if (!json_is_object(j) || jstr(j, "id") == NULL ||
	    (u = calloc(1, sizeof(*u))) == NULL)
		return (-1);
	u->id = jdup(j, "id");
	u->upn = jdup(j, "userPrincipalName");
	u->display_name = jdup(j, "displayName");
	u->type = jdup(j, "userType");
	u->enabled = jbool(j, "accountEnabled", 1);
	if (u->id == NULL) {
		graph_user_free(&u);
		return (-1);
	}
	*out = u;

	return (0);
}

const char *
graph_user_id(const graph_user_t *u)
{
	return (S(u->id));
}

const char *
graph_user_upn(const graph_user_t *u)
{
	return (S(u->upn));
}

const char *
graph_user_display_name(const graph_user_t *u)
{
	return (S(u->display_name));
}

const char *
graph_user_type(const graph_user_t *u)
{
	return (u->type != NULL ? u->type : "Member");
}

bool
graph_user_enabled(const graph_user_t *u)
{
	return (u->enabled);
}

/* FIDO2 methods */

void
graph_method_free(graph_method_t **mp)
{
	graph_method_t *m;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	free(m->id);
	free(m->display_name);
	free(m->aaguid);
	free(m->model);
	free(m->created);
	free(m->attestation_level);
	free(m->passkey_type);
	free(m);
	*mp = NULL;
}

int
parse_method(const json_t *j, graph_method_t **out)
{
	graph_method_t	*m;

	*out = NULL;
	if (!json_is_object(j) || jstr(j, "id") == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL)
		return (-1);
	m->id = jdup(j, "id");
	m->display_name = jdup(j, "displayName");
	m->aaguid = jdup(j, "aaGuid");
	m->model = jdup(j, "model");
	if ((m->created = jdup(j, "createdDateTime")) == NULL)
		m->created = jdup(j, "creationDateTime");
	m->attestation_level = jdup(j, "attestationLevel");
	m->passkey_type = jdup(j, "passkeyType");
	if (m->id == NULL) {
		graph_method_free(&m);
		return (-1);
	}
	*out = m;

	return (0);
}

void
graph_methods_free(graph_methods_t **lp)
{
	graph_methods_t	*l;
	size_t		 i;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (i = 0; i < l->n; i++)
		graph_method_free(&l->v[i]);
	free(l->v);
	free(l);
	*lp = NULL;
}

/* {"value":[method...]}; entries without an id are skipped */
int
parse_methods(const json_t *j, graph_methods_t **out)
{
	graph_methods_t	*l = NULL;
	json_t		*val, *v;
	size_t		 i;

	*out = NULL;
	if (!json_is_object(j) || !json_is_array(val = json_object_get(j,
	    "value")))
		return (-1);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (-1);
	if (json_array_size(val) > 0 && (l->v = calloc(json_array_size(val),
	    sizeof(*l->v))) == NULL) {
		graph_methods_free(&l);
		return (-1);
	}
	json_array_foreach(val, i, v) {
		if (parse_method(v, &l->v[l->n]) == 0)
			l->n++;
	}
	*out = l;

	return (0);
}

size_t
graph_methods_len(const graph_methods_t *l)
{
	return (l != NULL ? l->n : 0);
}

const graph_method_t *
graph_methods_get(const graph_methods_t *l, size_t i)
{
	return (l != NULL && i < l->n ? l->v[i] : NULL);
}

const graph_method_t *
graph_methods_find_cred(const graph_methods_t *l, const char *cred)
{
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (graph_method_id_matches(l->v[i]->id, cred))
			return (l->v[i]);

	return (NULL);
}

const char *
graph_method_id(const graph_method_t *m)
{
	return (S(m->id));
}

const char *
graph_method_display_name(const graph_method_t *m)
{
	return (S(m->display_name));
}

const char *
graph_method_aaguid(const graph_method_t *m)
{
	return (S(m->aaguid));
}

const char *
graph_method_model(const graph_method_t *m)
{
	return (S(m->model));
}

const char *
graph_method_created(const graph_method_t *m)
{
	return (S(m->created));
}

const char *
graph_method_attestation_level(const graph_method_t *m)
{
	return (S(m->attestation_level));
}

const char *
graph_method_passkey_type(const graph_method_t *m)
{
	return (S(m->passkey_type));
}

/* TAPs */

void
graph_taps_free(graph_taps_t **lp)
{
	graph_taps_t	*l;
	size_t		 i;

	if (lp == NULL || (l = *lp) == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].created);
		free(l->v[i].start);
		free(l->v[i].reason);
	}
	free(l->v);
	free(l);
	*lp = NULL;
}

int
parse_taps(const json_t *j, graph_taps_t **out)
{
	graph_taps_t	*l = NULL;
	struct tap	*t;
	json_t		*val, *v;
	size_t		 i;

	*out = NULL;
	if (!json_is_object(j) || !json_is_array(val = json_object_get(j,
	    "value")))
		return (-1);
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (-1);
	if (json_array_size(val) > 0 && (l->v = calloc(json_array_size(val),
	    sizeof(*l->v))) == NULL) {
		graph_taps_free(&l);
		return (-1);
	}
	json_array_foreach(val, i, v) {
		if (jstr(v, "id") == NULL)
			continue;
		t = &l->v[l->n++];
		t->id = jdup(v, "id");
		t->created = jdup(v, "createdDateTime");
		t->start = jdup(v, "startDateTime");
		t->lifetime = (int)jint(v, "lifetimeInMinutes", 0);
		t->once = jbool(v, "isUsableOnce", 0);
		t->usable = jbool(v, "isUsable", 0);
		t->reason = jdup(v, "methodUsabilityReason");
		/* the pass itself is only in the create reply: not kept */
	}
	*out = l;

	return (0);
}

size_t
graph_taps_len(const graph_taps_t *l)
{
	return (l != NULL ? l->n : 0);
}

const char *
graph_taps_id(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? S(l->v[i].id) : "");
}

const char *
graph_taps_created(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? S(l->v[i].created) : "");
}

const char *
graph_taps_start(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? S(l->v[i].start) : "");
}

int
graph_taps_lifetime(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? l->v[i].lifetime : 0);
}

bool
graph_taps_once(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? l->v[i].once : false);
}

bool
graph_taps_usable(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? l->v[i].usable : false);
}

const char *
graph_taps_reason(const graph_taps_t *l, size_t i)
{
	return (i < l->n ? S(l->v[i].reason) : "");
}
