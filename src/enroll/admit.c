/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Know before the touch: would Entra accept this key for this user?
 * The FIDO2 policy (its passkey profiles, or the deprecated tenant-wide
 * fields) is read once per run, each user's profiles when the user is
 * resolved, and the stored FIDO metadata (MDS3) once; a key is judged
 * by its AAGUID from getInfo before any PIN is set or any credential
 * made.  After the touch, an enforcing profile's attestation is checked
 * against the metadata's roots for the model; nothing here does I/O
 * with a key.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "enroll_int.h"
#include "mds.h"

#define ZERO_AAGUID	"00000000-0000-0000-0000-000000000000"

static void
profile_ref(char *buf, size_t len, const graph_policy_t *p,
    const char *profile)
{
	if (graph_policy_profiles_len(p) > 0)
		snprintf(buf, len, "passkey profile '%s'", profile);
	else
		snprintf(buf, len, "%s", profile);
}

/*
 * The metadata refused the key for the attestation-enforcing profiles:
 * add why the user's other profiles (if any) refuse it too.
 */
static void
others_refuse(const graph_policy_t *p, uint32_t set, const char *aaguid,
    struct enroll_verdict *v)
{
	struct graph_key_verdict	 gv;
	size_t				 i, n;

	n = graph_policy_profiles_len(p);
	for (i = 0; i < n && i < 32; i++)
		if (graph_policy_profile_attestation(p, i))
			set &= ~(UINT32_C(1) << i);
	if (n == 0 || (set & (n >= 32 ? UINT32_MAX :
	    (UINT32_C(1) << n) - 1)) == 0)
		return;
	if (!graph_policy_key_check(p, set, aaguid, &gv) && gv.why[0] != '\0')
		snprintf(v->why + strlen(v->why), sizeof(v->why) -
		    strlen(v->why), "; and %s", gv.why);
}

bool
enroll_key_verdict(const graph_policy_t *p, uint32_t set,
    const struct mds *md, bool md_stale, const char *aaguid,
    struct enroll_verdict *v)
{
	struct graph_key_verdict	 gv;
	const mds_entry_t		*e;
	const char			*st;
	char				 who[192];

	memset(v, 0, sizeof(*v));
	v->allowed = true;
	if (p == NULL)
		return (true);
	if (!graph_policy_key_check(p, set, aaguid, &gv)) {
		v->allowed = false;
		snprintf(v->profile, sizeof(v->profile), "%s", gv.profile);
		snprintf(v->code, sizeof(v->code), "key_not_allowed");
		snprintf(v->why, sizeof(v->why), "%s", gv.why);
		return (false);
	}
	snprintf(v->profile, sizeof(v->profile), "%s", gv.profile);
	v->attestation = gv.attestation;
	if (!gv.attestation)
		return (true);
	profile_ref(who, sizeof(who), p, gv.profile);
	if (strcmp(aaguid, ZERO_AAGUID) == 0) {
		v->allowed = false;
		snprintf(v->code, sizeof(v->code), "key_not_attested");
		snprintf(v->why, sizeof(v->why), "Entra would refuse this "
		    "key: %s enforces attestation, and a key without an "
		    "AAGUID cannot pass it", who);
		others_refuse(p, set, aaguid, v);
		return (false);
	}
	if (md == NULL) {
		snprintf(v->note, sizeof(v->note), "%s enforces attestation, "
		    "but no FIDO metadata is stored: whether Entra accepts "
		    "AAGUID %s is not known before the touch (run "
		    "'provisioning mds update')", who, aaguid);
		return (true);
	}
	if ((e = mds_entry_find(md, aaguid)) == NULL) {
		v->allowed = false;
		snprintf(v->code, sizeof(v->code), "key_not_in_mds");
		snprintf(v->why, sizeof(v->why), "Entra would refuse this "
		    "key: %s enforces attestation, and AAGUID %s is not in "
		    "the FIDO metadata (no %lld)%s", who, aaguid, mds_no(md),
		    md_stale ? ", which is stale" : "");
		others_refuse(p, set, aaguid, v);
		return (false);
	}
	st = mds_entry_status(e);
	if (st != NULL && mds_status_is_bad(st)) {
		v->allowed = false;
		snprintf(v->code, sizeof(v->code), "key_revoked");
		snprintf(v->why, sizeof(v->why), "Entra would refuse this "
		    "key: %s enforces attestation, and the FIDO metadata "
		    "reports %s for AAGUID %s (%s)", who, st, aaguid,
		    mds_entry_description(e));
		others_refuse(p, set, aaguid, v);
		return (false);
	}
	if (md_stale)
		snprintf(v->note, sizeof(v->note), "the FIDO metadata (no "
		    "%lld) is stale: its nextUpdate %s has passed; AAGUID %s "
		    "was judged by it all the same", mds_no(md),
		    mds_next_update(md), aaguid);

	return (true);
}

/*
 * The policy, once per run (it needs Policy.Read.AuthenticationMethod;
 * without it the check is skipped, said once), and the stored metadata
 * when a profile enforces attestation.
 */
void
enroll_admit_setup(struct run *run)
{
	const struct enroll_opts	*o = run->o;
	graph_policy_t			*p = NULL;
	mds_t				*md = NULL;
	bool				 enforcing = false;
	size_t				 i;
	int				 r;

	if ((r = graph_policy_get(run->admin, &p)) != GRAPH_OK) {
		if (r == GRAPH_ERR_FORBIDDEN)
			log_warn("cannot read the FIDO2 policy (it needs "
			    "Policy.Read.AuthenticationMethod): keys are "
			    "not checked against the passkey profiles before "
			    "the touch; Entra decides at registration");
		else
			log_warn("cannot read the FIDO2 policy (%s): keys are "
			    "not checked against the passkey profiles before "
			    "the touch; Entra decides at registration",
			    graph_strerr(r));
		return;
	}
	if (graph_policy_profiles_len(p) == 0)
		enforcing = graph_policy_attestation_enforced(p);
	for (i = 0; i < graph_policy_profiles_len(p); i++)
		if (graph_policy_profile_attestation(p, i))
			enforcing = true;
	if (enforcing && o->mds_path != NULL) {
		r = mds_load(o->mds_path, &md);
		if (r == MDS_ERR_NOT_FOUND)
			log_warn("attestation is enforced by the FIDO2 policy, "
			    "but no FIDO metadata is stored (%s): keys are "
			    "not checked against it before the touch; run "
			    "'provisioning mds update'", o->mds_path);
		else if (r != MDS_OK)
			log_warn("the stored FIDO metadata %s is unusable "
			    "(%s): keys are not checked against it; run "
			    "'provisioning mds update'", o->mds_path,
			    mds_strerr(r));
		else if ((run->mds_stale = mds_stale(md, time(NULL))))
			log_warn("the FIDO metadata (no %lld) is stale: its "
			    "nextUpdate %s has passed; keys are judged by it "
			    "all the same; run 'provisioning mds update'",
			    mds_no(md), mds_next_update(md));
	} else if (enforcing)
		log_warn("attestation is enforced by the FIDO2 policy, but "
		    "there is no FIDO metadata to check keys against before "
		    "the touch");
	run->policy = p;
	run->mds = md;
}

void
enroll_admit_free(struct run *run)
{
	size_t i;

	graph_policy_free(&run->policy);
	mds_free(&run->mds);
	for (i = 0; i < run->natt; i++)
		free(run->att[i].der);
	run->natt = 0;
}

/* the profiles of the job's user (after resolving); 0, or -1 failed */
/* until the policy and the metadata are read (run.c sets admitted) */
void
enroll_admit_wait(struct run *run)
{
	pthread_mutex_lock(&run->lock);
	while (!run->admitted)
		pthread_cond_wait(&run->room_cv, &run->lock);
	pthread_mutex_unlock(&run->lock);
}

int
enroll_admit_user(struct run *run, graph_client_t *c, struct job *jb)
{
	int r, in = 1;

	jb->profiles = UINT32_MAX;
	if (run->policy == NULL || graph_policy_profiles_len(run->policy) ==
	    0)
		return (0);
	if ((r = graph_policy_user_profiles(c, run->policy, jb->id,
	    &jb->profiles, &in)) != GRAPH_OK) {
		enroll_graph_fail(run, jb, c, "policy", r);
		return (-1);
	}
	if (!in)
		jb->profiles = 0;

	return (0);
}

/* may this key be used for this job?  No: k->why says why */
bool
enroll_admit_key(struct run *run, const struct job *jb, struct key *k,
    const char *aaguid, struct enroll_verdict *v)
{
	if (!enroll_key_verdict(run->policy, jb->profiles, run->mds,
	    run->mds_stale, aaguid, v)) {
		snprintf(k->why, sizeof(k->why), "%s", v->why);
		return (false);
	}
	if (v->note[0] != '\0')
		log_warn("%s: key %s: %s", jb->upn, enroll_key_label(k->path),
		    v->note);

	return (true);
}

/* mds_attestation_aaguid(), remembered per certificate for the run */
static int
leaf_aaguid(struct run *run, const unsigned char *der, size_t len,
    const char *aaguid, char *err, size_t errlen)
{
	struct att_memo	*m;
	size_t		 i;
	int		 r;

	pthread_mutex_lock(&run->lock);
	for (i = 0; i < run->natt; i++) {
		m = &run->att[i];
		if (m->len == len && memcmp(m->der, der, len) == 0 &&
		    strcmp(m->aaguid, aaguid) == 0) {
			snprintf(err, errlen, "%s", m->err);
			r = m->r;
			pthread_mutex_unlock(&run->lock);
			return (r);
		}
	}
	pthread_mutex_unlock(&run->lock);
	r = mds_attestation_aaguid(der, len, aaguid, err, errlen);
	pthread_mutex_lock(&run->lock);
	if (run->natt < ATT_MEMO_MAX && strlen(aaguid) < sizeof(m->aaguid) &&
	    (m = &run->att[run->natt])->der == NULL &&
	    (m->der = malloc(len)) != NULL) {
		memcpy(m->der, der, len);
		m->len = len;
		snprintf(m->aaguid, sizeof(m->aaguid), "%s", aaguid);
		snprintf(m->err, sizeof(m->err), "%s", err);
		m->r = r;
		run->natt++;
	}
	pthread_mutex_unlock(&run->lock);

	return (r);
}

/*
 * After the touch: where the admitting profile enforces attestation,
 * the key's attestation certificate must chain to a root the metadata
 * lists for its AAGUID.  Under any policy, a certificate whose AAGUID
 * extension names another model (WebAuthn 8.2.1) is a failure where
 * attestation is enforced and a warning elsewhere.  Returns 0 when the
 * credential may be posted; -1 with why set.
 */
int
enroll_admit_attestation(struct run *run, const struct job *jb,
    const ctap_cred_t *cred, char *why, size_t len)
{
	struct enroll_verdict	 v;
	const mds_entry_t	*e;
	const unsigned char	*der[CTAP_X5C_MAX];
	size_t			 dlen[CTAP_X5C_MAX], i, n;
	char			 err[256], who[192];
	bool			 enforced;
	int			 r;

	enforced = run->policy != NULL && enroll_key_verdict(run->policy,
	    jb->profiles, run->mds, run->mds_stale, ctap_cred_aaguid(cred),
	    &v) && v.attestation;
	if (enforced)
		profile_ref(who, sizeof(who), run->policy, v.profile);
	/* the leaf, and the intermediates the key sent as the untrusted */
	der[0] = ctap_cred_x5c_ptr(cred);
	dlen[0] = ctap_cred_x5c_len(cred);
	n = der[0] != NULL && dlen[0] > 0 ? 1 : 0;
	for (i = 1; n > 0 && i < ctap_cred_x5c_count(cred) &&
	    i < CTAP_X5C_MAX; i++)
		if (ctap_cred_x5c_at(cred, i, &der[n], &dlen[n]) == 0)
			n++;
	err[0] = '\0';
	if (der[0] != NULL && dlen[0] > 0 && ((r = leaf_aaguid(run, der[0],
	    dlen[0], ctap_cred_aaguid(cred), err, sizeof(err))) ==
	    MDS_ERR_AAGUID || r == MDS_ERR_FORMAT)) {
		if (enforced) {
			snprintf(why, len, "%s enforces attestation, and %s "
			    "(WebAuthn 8.2.1): Entra would refuse it; not "
			    "registered", who, err);
			return (-1);
		}
		log_warn("%s: %s (WebAuthn 8.2.1); no passkey profile "
		    "enforces attestation, so it is registered all the same",
		    jb->upn, err);
	}
	if (!enforced)
		return (0);
	if (run->mds == NULL) {
		log_warn("%s: %s enforces attestation; without FIDO metadata "
		    "the %s attestation is not checked before the POST",
		    jb->upn, who, ctap_cred_attestation(cred));
		return (0);
	}
	if (der[0] == NULL || dlen[0] == 0) {
		snprintf(why, len, "%s enforces attestation, and the key "
		    "sent %s attestation (no certificate chain): Entra would "
		    "refuse it; not registered", who,
		    ctap_cred_attestation(cred));
		return (-1);
	}
	if ((e = mds_entry_find(run->mds, ctap_cred_aaguid(cred))) == NULL) {
		snprintf(why, len, "%s enforces attestation, and AAGUID %s "
		    "is not in the FIDO metadata; not registered", who,
		    ctap_cred_aaguid(cred));
		return (-1);
	}
	err[0] = '\0';
	if ((r = mds_verify_attestation_chain(e, der, dlen, n, err,
	    sizeof(err))) != MDS_OK) {
		snprintf(why, len, "%s enforces attestation, and the key's "
		    "attestation certificate does not chain to a root the "
		    "FIDO metadata lists for AAGUID %s (%s): Entra would "
		    "refuse it; not registered", who, ctap_cred_aaguid(cred),
		    err[0] != '\0' ? err : mds_strerr(r));
		return (-1);
	}
	log_info("%s: the attestation chains to the FIDO metadata's root for "
	    "%s", jb->upn, mds_entry_description(e)[0] != '\0' ?
	    mds_entry_description(e) : ctap_cred_aaguid(cred));

	return (0);
}

/*
 * --dry-run: what the attached keys would meet for this user, said
 * line by line (getInfo only: no touch, no PIN).  Returns how many
 * keys would be refused.
 */
size_t
enroll_admit_dry(struct run *run, const struct job *jb)
{
	struct enroll_verdict	 v;
	ctap_dev_t		*dev = NULL;
	ctap_info_t		*ci = NULL;
	char			**paths = NULL;
	size_t			 i, n = 0, refused = 0;

	/* a policy that restricts nothing: no key is opened */
	if (run->policy == NULL || (graph_policy_profiles_len(run->policy) ==
	    0 && !graph_policy_keys_enforced(run->policy) &&
	    !graph_policy_attestation_enforced(run->policy)) ||
	    enroll_keys_usable(run, &paths, &n) < 0)
		return (0);
	for (i = 0; i < n; i++) {
		ctap_dev_free(&dev);
		ctap_info_free(&ci);
		if ((dev = ctap_dev_new()) == NULL || (ci = ctap_info_new()) ==
		    NULL || ctap_dev_open(dev, paths[i]) != CTAP_OK ||
		    ctap_dev_get_info(dev, ci) != CTAP_OK) {
			enroll_say(run, "%s: key %s: cannot read it", jb->upn,
			    enroll_key_label(paths[i]));
			continue;
		}
		ctap_dev_close(dev);
		if (enroll_key_verdict(run->policy, jb->profiles, run->mds,
		    run->mds_stale, ctap_info_aaguid(ci), &v)) {
			enroll_say(run, "%s: key %s (AAGUID %s): accepted by "
			    "%s%s%s%s", jb->upn, enroll_key_label(paths[i]),
			    ctap_info_aaguid(ci),
			    graph_policy_profiles_len(run->policy) ?
			    "passkey profile '" : "", v.profile,
			    graph_policy_profiles_len(run->policy) ? "'" : "",
			    v.attestation ? " (attestation enforced: checked "
			    "after the touch)" : "");
			if (v.note[0] != '\0')
				enroll_say(run, "%s: key %s: warning: %s",
				    jb->upn, enroll_key_label(paths[i]),
				    v.note);
		} else {
			refused++;
			enroll_say(run, "%s: key %s (AAGUID %s): refused: %s",
			    jb->upn, enroll_key_label(paths[i]),
			    ctap_info_aaguid(ci), v.why);
		}
	}
	ctap_dev_free(&dev);
	ctap_info_free(&ci);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);

	return (refused);
}
