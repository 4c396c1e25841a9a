/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The Graph objects handed to callers (user, FIDO2 method, TAP, FIDO2
 * policy), their parsers and accessors.  Parsers take what they know
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

struct keyrule {
	bool	  enforced;
	bool	  allow;
	char	**aaguids;
	size_t	  n;
};

struct profile {
	char		*id;
	bool		 attest;
	struct keyrule	 keys;
};

struct target {
	char	*id;
	char	*type;
};

struct graph_policy {
	bool		 enabled;
	bool		 self_service;
	bool		 attest;
	struct keyrule	 keys;
	struct profile	*prof;
	size_t		 nprof;
	struct target	*tgt[2];	/* include, exclude */
	size_t		 ntgt[2];
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

/* the FIDO2 policy */

static void
keyrule_reset(struct keyrule *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->aaguids[i]);
	free(k->aaguids);
	memset(k, 0, sizeof(*k));
}

void
graph_policy_free(graph_policy_t **pp)
{
	graph_policy_t	*p;
	size_t		 i, t;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	keyrule_reset(&p->keys);
	for (i = 0; i < p->nprof; i++) {
		free(p->prof[i].id);
		keyrule_reset(&p->prof[i].keys);
	}
	free(p->prof);
	for (t = 0; t < 2; t++) {
		for (i = 0; i < p->ntgt[t]; i++) {
			free(p->tgt[t][i].id);
			free(p->tgt[t][i].type);
		}
		free(p->tgt[t]);
	}
	free(p);
	*pp = NULL;
}

/* {"isEnforced":bool,"enforcementType":"allow|block","aaGuids":[...]} */
static int
parse_keyrule(const json_t *j, struct keyrule *k)
{
	json_t		*a, *v;
	const char	*t;
	size_t		 i;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(j))
		return (0);
	k->enforced = jbool(j, "isEnforced", 0);
	t = jstr(j, "enforcementType");
	k->allow = t != NULL && strcasecmp(t, "allow") == 0;
	if (!json_is_array(a = json_object_get(j, "aaGuids")) ||
	    json_array_size(a) == 0)
		return (0);
	if ((k->aaguids = calloc(json_array_size(a), sizeof(char *))) == NULL)
		return (-1);
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			continue;
		if ((k->aaguids[k->n] = strdup(json_string_value(v))) == NULL)
			return (-1);
		k->n++;
	}

	return (0);
}

static int
parse_targets(const json_t *a, struct target **out, size_t *n)
{
	json_t	*v;
	size_t	 i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return (0);
	if ((*out = calloc(json_array_size(a), sizeof(**out))) == NULL)
		return (-1);
	json_array_foreach(a, i, v) {
		if (jstr(v, "id") == NULL)
			continue;
		(*out)[*n].id = jdup(v, "id");
		(*out)[*n].type = jdup(v, "targetType");
		(*n)++;
	}

	return (0);
}

int
parse_policy(const json_t *j, graph_policy_t **out)
{
	graph_policy_t	*p;
	json_t		*a, *v;
	const char	*s;
	size_t		 i;

	*out = NULL;
	if (!json_is_object(j) || (p = calloc(1, sizeof(*p))) == NULL)
		return (-1);
	s = jstr(j, "state");
	p->enabled = s != NULL && strcasecmp(s, "enabled") == 0;
	p->self_service = jbool(j, "isSelfServiceRegistrationAllowed", 0);
	p->attest = jbool(j, "isAttestationEnforced", 0);
	if (parse_keyrule(json_object_get(j, "keyRestrictions"),
	    &p->keys) < 0 ||
	    parse_targets(json_object_get(j, "includeTargets"), &p->tgt[0],
	    &p->ntgt[0]) < 0 ||
	    parse_targets(json_object_get(j, "excludeTargets"), &p->tgt[1],
	    &p->ntgt[1]) < 0)
		goto fail;
	if (json_is_array(a = json_object_get(j, "passkeyProfiles")) &&
	    json_array_size(a) > 0) {
		if ((p->prof = calloc(json_array_size(a),
		    sizeof(*p->prof))) == NULL)
			goto fail;
		json_array_foreach(a, i, v) {
			struct profile *pr;

			if (!json_is_object(v))
				continue;
			pr = &p->prof[p->nprof++];
			pr->id = jdup(v, "id");
			s = jstr(v, "attestationEnforcement");
			pr->attest = s != NULL && strcasecmp(s,
			    "disabled") != 0;
			if (parse_keyrule(json_object_get(v,
			    "keyRestrictions"), &pr->keys) < 0)
				goto fail;
		}
	}
	*out = p;

	return (0);
fail:
	graph_policy_free(&p);

	return (-1);
}

bool
graph_policy_enabled(const graph_policy_t *p)
{
	return (p->enabled);
}

bool
graph_policy_self_service(const graph_policy_t *p)
{
	return (p->self_service);
}

/* with profiles, a key needs attestation only if every profile asks */
bool
graph_policy_attestation_enforced(const graph_policy_t *p)
{
	size_t i;

	if (p->nprof == 0)
		return (p->attest);
	for (i = 0; i < p->nprof; i++)
		if (!p->prof[i].attest)
			return (false);

	return (true);
}

bool
graph_policy_keys_enforced(const graph_policy_t *p)
{
	return (p->keys.enforced);
}

bool
graph_policy_keys_allow(const graph_policy_t *p)
{
	return (p->keys.allow);
}

size_t
graph_policy_aaguids_len(const graph_policy_t *p)
{
	return (p->keys.n);
}

const char *
graph_policy_aaguid(const graph_policy_t *p, size_t i)
{
	return (i < p->keys.n ? p->keys.aaguids[i] : "");
}

size_t
graph_policy_profiles_len(const graph_policy_t *p)
{
	return (p->nprof);
}

size_t
graph_policy_targets_len(const graph_policy_t *p, bool exclude)
{
	return (p->ntgt[exclude]);
}

const char *
graph_policy_target_id(const graph_policy_t *p, bool exclude, size_t i)
{
	return (i < p->ntgt[exclude] ? S(p->tgt[exclude][i].id) : "");
}

const char *
graph_policy_target_type(const graph_policy_t *p, bool exclude, size_t i)
{
	return (i < p->ntgt[exclude] ? S(p->tgt[exclude][i].type) : "");
}

static bool
keyrule_pass(const struct keyrule *k, const char *aaguid)
{
	size_t	i;
	bool	listed = false;

	if (!k->enforced)
		return (true);
	for (i = 0; i < k->n; i++)
		if (strcasecmp(k->aaguids[i], aaguid) == 0)
			listed = true;

	return (k->allow ? listed : !listed);
}

bool
graph_policy_aaguid_allowed(const graph_policy_t *p, const char *aaguid,
    const char **why)
{
	size_t i;

	*why = "";
	if (p->nprof == 0) {
		if (keyrule_pass(&p->keys, aaguid))
			return (true);
		*why = p->keys.allow ? "the AAGUID is not in the policy's "
		    "allow list" : "the AAGUID is in the policy's block list";
		return (false);
	}
	for (i = 0; i < p->nprof; i++)
		if (keyrule_pass(&p->prof[i].keys, aaguid))
			return (true);
	*why = "no passkey profile's key restrictions admit the AAGUID";

	return (false);
}
