/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The FIDO2 (passkey) method policy as Graph returns it: tenant-wide
 * fields (deprecated in 2026), passkey profiles, and the targets that
 * name them; and what the policy says of one key for one user.
 */

#define _GNU_SOURCE	/* strcasestr */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

#define S(x)	((x) != NULL ? (x) : "")
/* Microsoft's id of the profile every tenant starts with */
#define DEFAULT_PROFILE	"00000000-0000-0000-0000-000000000001"

struct keyrule {
	bool	  enforced;
	bool	  allow;
	char	**aaguids;
	size_t	  n;
};

struct profile {
	char		*id;
	char		*name;
	char		*types;		/* passkeyTypes, as given */
	bool		 attest;	/* attestationEnforcement not
					   disabled */
	bool		 device_bound;	/* the types admit security keys */
	struct keyrule	 keys;
};

struct target {
	char	 *id;
	char	 *type;
	char	**profiles;		/* allowedPasskeyProfiles */
	size_t	  nprofiles;
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


static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* an array of strings; absent is none */
static int
strv_parse(const json_t *a, char ***out, size_t *n)
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
		if (!json_is_string(v))
			continue;
		if (((*out)[*n] = strdup(json_string_value(v))) == NULL)
			return (-1);
		(*n)++;
	}

	return (0);
}

static void
keyrule_reset(struct keyrule *k)
{
	strv_free(k->aaguids, k->n);
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
		free(p->prof[i].name);
		free(p->prof[i].types);
		keyrule_reset(&p->prof[i].keys);
	}
	free(p->prof);
	for (t = 0; t < 2; t++) {
		for (i = 0; i < p->ntgt[t]; i++) {
			free(p->tgt[t][i].id);
			free(p->tgt[t][i].type);
			strv_free(p->tgt[t][i].profiles,
			    p->tgt[t][i].nprofiles);
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
	const char	*t;

	memset(k, 0, sizeof(*k));
	if (!json_is_object(j))
		return (0);
	k->enforced = jbool(j, "isEnforced", 0);
	t = jstr(j, "enforcementType");
	k->allow = t != NULL && strcasecmp(t, "allow") == 0;
	return (strv_parse(json_object_get(j, "aaGuids"), &k->aaguids,
	    &k->n));
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
		struct target *t = &(*out)[*n];

		if (jstr(v, "id") == NULL)
			continue;
		t->id = jdup(v, "id");
		t->type = jdup(v, "targetType");
		(*n)++;
		if (t->id == NULL || strv_parse(json_object_get(v,
		    "allowedPasskeyProfiles"), &t->profiles,
		    &t->nprofiles) < 0)
			return (-1);
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
			pr->name = jdup(v, "name");
			pr->types = jdup(v, "passkeyTypes");
			s = jstr(v, "attestationEnforcement");
			pr->attest = s != NULL && strcasecmp(s,
			    "disabled") != 0;
			/* a security key is a device-bound passkey */
			pr->device_bound = pr->types == NULL ||
			    strcasestr(pr->types, "deviceBound") != NULL;
			if (pr->id == NULL)
				goto fail;
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

const char *
graph_policy_profile_id(const graph_policy_t *p, size_t i)
{
	return (i < p->nprof ? S(p->prof[i].id) : "");
}

/* the name, else the id: what an operator reads in the portal */
const char *
graph_policy_profile_name(const graph_policy_t *p, size_t i)
{
	if (i >= p->nprof)
		return ("");

	return (p->prof[i].name != NULL && *p->prof[i].name ?
	    p->prof[i].name : S(p->prof[i].id));
}

bool
graph_policy_profile_attestation(const graph_policy_t *p, size_t i)
{
	return (i < p->nprof && p->prof[i].attest);
}

void
graph_policy_profile_describe(const graph_policy_t *p, size_t i, char *buf,
    size_t len)
{
	const struct profile	*pr;
	char			 keys[64];

	if (i >= p->nprof) {
		snprintf(buf, len, "?");
		return;
	}
	pr = &p->prof[i];
	if (!pr->keys.enforced)
		snprintf(keys, sizeof(keys), "no key restrictions");
	else
		snprintf(keys, sizeof(keys), "%s list of %zu AAGUID%s",
		    pr->keys.allow ? "allow" : "block", pr->keys.n,
		    pr->keys.n == 1 ? "" : "s");
	snprintf(buf, len, "%s passkeys; attestation %s; %s",
	    pr->types != NULL ? pr->types : "all", pr->attest ? "enforced" :
	    "not enforced", keys);
}

/* the set of profiles an include target allows (bit i: profile i) */
uint32_t
policy_target_set(const graph_policy_t *p, size_t t)
{
	const struct target	*tg = &p->tgt[0][t];
	uint32_t		 set = 0;
	size_t			 i, k;

	for (k = 0; k < tg->nprofiles; k++)
		for (i = 0; i < p->nprof && i < 32; i++)
			if (strcasecmp(tg->profiles[k], S(p->prof[i].id)) == 0)
				set |= UINT32_C(1) << i;
	if (tg->nprofiles > 0)
		return (set);
	/* a target naming none: the default profile, else every one */
	for (i = 0; i < p->nprof && i < 32; i++)
		if (strcasecmp(S(p->prof[i].id), DEFAULT_PROFILE) == 0)
			return (UINT32_C(1) << i);

	return (p->nprof >= 32 ? UINT32_MAX : (UINT32_C(1) << p->nprof) - 1);
}

bool
graph_policy_target_allows(const graph_policy_t *p, size_t t, size_t i)
{
	return (t < p->ntgt[0] && i < 32 &&
	    (policy_target_set(p, t) & (UINT32_C(1) << i)) != 0);
}

/*
 * Any one profile of the user's set that admits the key is enough.
 * Without profiles, the tenant-wide fields decide.
 */
bool
graph_policy_key_check(const graph_policy_t *p, uint32_t set,
    const char *aaguid, struct graph_key_verdict *v)
{
	const struct profile	*pr;
	size_t			 i;
	bool			 any = false;

	memset(v, 0, sizeof(*v));
	if (p->nprof == 0) {
		snprintf(v->profile, sizeof(v->profile), "the tenant-wide "
		    "FIDO2 policy");
		v->attestation = p->attest;
		if (!(v->allowed = keyrule_pass(&p->keys, aaguid)))
			snprintf(v->why, sizeof(v->why), "AAGUID %s is %s",
			    aaguid, p->keys.allow ? "not in the policy's "
			    "allow list" : "in the policy's block list");
		return (v->allowed);
	}
	for (i = 0; i < p->nprof && i < 32; i++) {
		if ((set & (UINT32_C(1) << i)) == 0)
			continue;
		pr = &p->prof[i];
		if (!any) {
			/* the first refusal is the one explained */
			snprintf(v->profile, sizeof(v->profile), "%s",
			    graph_policy_profile_name(p, i));
			if (!pr->device_bound)
				snprintf(v->why, sizeof(v->why), "passkey "
				    "profile '%s' admits only %s passkeys, not "
				    "security keys", v->profile, S(pr->types));
			else if (!keyrule_pass(&pr->keys, aaguid))
				snprintf(v->why, sizeof(v->why), "AAGUID %s "
				    "is %s of passkey profile '%s'", aaguid,
				    pr->keys.allow ? "not in the allow list" :
				    "in the block list", v->profile);
		}
		any = true;
		if (!pr->device_bound || !keyrule_pass(&pr->keys, aaguid))
			continue;
		/* admitted: prefer a profile that does not ask attestation */
		if (!v->allowed || (v->attestation && !pr->attest)) {
			v->allowed = true;
			v->attestation = pr->attest;
			snprintf(v->profile, sizeof(v->profile), "%s",
			    graph_policy_profile_name(p, i));
		}
	}
	if (!any)
		snprintf(v->why, sizeof(v->why), "no passkey profile applies "
		    "to the user");
	if (v->allowed)
		v->why[0] = '\0';

	return (v->allowed);
}
