/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Post: register each touched key's credential with Graph (never twice)
 * and record it as done.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "enroll_int.h"

/*
 * What Entra recorded against what the key made: the AAGUID, the
 * passkey type, and (where a profile enforces attestation) an attested
 * level.  A mismatch
 * is a warning (the passkey is registered), in the log and on the line.
 */
static void
check_recorded(struct run *run, const struct job *jb, const graph_method_t *m,
    char *out, size_t len)
{
	struct enroll_verdict	 v;
	const char		*ag = graph_method_aaguid(m);
	const char		*lvl = graph_method_attestation_level(m);
	const char		*pt = graph_method_passkey_type(m);
	const char		*want = ctap_cred_aaguid(jb->cred);
	size_t			 n = 0;

	out[0] = '\0';
	if (*ag != '\0' && strcasecmp(ag, want) != 0)
		n += (size_t)snprintf(out + n, n < len ? len - n : 0,
		    "%sAAGUID %s, not the key's %s", n ? ", " : "", ag, want);
	if (*pt != '\0' && strcmp(pt, "deviceBound") != 0 && n < len)
		n += (size_t)snprintf(out + n, len - n, "%spasskey type %s, "
		    "not deviceBound", n ? ", " : "", pt);
	if (run->policy != NULL && strcmp(lvl, "notAttested") == 0 &&
	    enroll_key_verdict(run->policy, jb->profiles, run->mds,
	    run->mds_stale, want, &v) && v.attestation && n < len)
		n += (size_t)snprintf(out + n, len - n, "%sattestation level "
		    "notAttested, though passkey profile '%s' enforces "
		    "attestation", n ? ", " : "", v.profile);
	if (n >= len)
		out[len - 1] = '\0';
	if (out[0] != '\0')
		log_warn("%s: Entra recorded %s", jb->upn, out);
}

/*
 * The credential as it will be sent, recorded before the POST: a crash
 * after it is found on resume, and the same body is sent again.  The
 * poster does this rather than the key's thread, so that the key takes
 * its next user while the commit reaches the disk.
 */
static int
record_touched(struct run *run, struct job *jb)
{
	struct journal_fields jf;

	if (webauthn_body(jb->cred, jb->display, &jb->body) != WEBAUTHN_OK) {
		enroll_job_fail(run, jb, "key", "internal", "cannot build the "
		    "registration body", NULL);
		return (-1);
	}
	memset(&jf, 0, sizeof(jf));
	jf.credential_id = jb->cred_b64;
	jf.device = jb->device;
	jf.aaguid = ctap_cred_aaguid(jb->cred);
	jf.model = jb->model;
	jf.display_name = jb->display;
	jf.body = jb->body;
	if (enroll_journal_set(run, jb, JOURNAL_ST_KEY_TOUCHED, &jf) < 0) {
		enroll_job_fail(run, jb, "journal", "journal",
		    "cannot write the journal", NULL);
		return (-1);
	}

	return (0);
}

struct post_guard {
	const struct enroll_steps	*s;
	size_t				 idx;
};

static long long
post_guard(void *arg)
{
	struct post_guard *pg = arg;

	return (pg->s->send_ms(pg->s->arg, pg->idx));
}

static void
post_one(struct run *run, graph_client_t *c, struct job *jb)
{
	struct journal_fields	 jf;
	graph_method_t		*m = NULL;
	graph_client_t		*gc = jb->uc != NULL ? jb->uc : c;
	struct post_guard	 pg;
	char			 detail[1024], what[128], mid[128];
	char			 mismatch[512];
	int			 r;

	if (record_touched(run, jb) < 0)
		return;
	/* graph_fido2_register() owns the retry policy: no rounds here */
	log_info("%s: registering the passkey with Entra ID", jb->upn);
	pg.s = run->o->steps;
	pg.idx = jb->idx;
	if (pg.s != NULL && pg.s->send_ms != NULL)
		graph_set_guard(gc, post_guard, &pg);
	r = graph_fido2_register(gc, jb->uc != NULL ? NULL : jb->id,
	    jb->body, jb->cred_b64, &m);
	graph_set_guard(gc, NULL, NULL);
	if (r != GRAPH_OK) {
		enroll_graph_fail(run, jb, gc, "register", r);
		return;
	}
	check_recorded(run, jb, m, mismatch, sizeof(mismatch));
	memset(&jf, 0, sizeof(jf));
	jf.method_id = graph_method_id(m);
	jf.attestation = graph_method_attestation_level(m);
	if (*graph_method_passkey_type(m) != '\0')
		jf.passkey_type = graph_method_passkey_type(m);
	/* the report carries the mismatch: a warning outlives the log */
	if (mismatch[0] != '\0')
		jf.warning = mismatch;
	/* Entra names the model from the AAGUID when it knows it */
	if (*graph_method_model(m) != '\0')
		jf.model = graph_method_model(m);
	/* registered and checked already: one commit, straight to done */
	if (enroll_journal_set(run, jb, JOURNAL_ST_DONE, &jf) < 0) {
		graph_method_free(&m);
		enroll_job_fail(run, jb, "journal", "journal",
		    "registered, but the "
		    "journal could not record it; a re-run reconciles", NULL);
		return;
	}
	/* the user is enrolled: now their PIN letter */
	enroll_letter(run, jb, jb->model[0] != '\0' ? jb->model :
	    graph_method_model(m));
	enroll_short_id(graph_method_id(m), mid, sizeof(mid));
	snprintf(what, sizeof(what), "enrolled on %s",
	    enroll_key_label(jb->device));
	snprintf(detail, sizeof(detail), "%s, method %s%s%s",
	    graph_method_attestation_level(m), mid, mismatch[0] != '\0' ?
	    "; Entra recorded " : "", mismatch);
	graph_method_free(&m);
	enroll_job_finish(run, jb, &run->enrolled, PROGRESS_DONE, what,
	    detail);
}

void *
enroll_poster(void *arg)
{
	struct run	*run = arg;
	graph_client_t	*c = NULL;
	struct job	*jb;

	if (graph_client_clone(&c, run->admin) != GRAPH_OK) {
		enroll_fatal(run, ENROLL_ERR_INTERNAL,
		    "cannot create a Graph client");
		return (NULL);
	}
	for (;;) {
		pthread_mutex_lock(&run->lock);
		while ((jb = enroll_queue_pop(&run->post)) == NULL &&
		    (run->workers_alive > 0 || run->keywork > 0))
			pthread_cond_wait(&run->post_cv, &run->lock);
		if (jb != NULL)
			run->posters.busy++;
		pthread_mutex_unlock(&run->lock);
		if (jb == NULL)
			break;
		/* a touched key's credential is always posted, even on
		 * Ctrl+C: the journal would otherwise hold it half-done */
		post_one(run, c, jb);
		pthread_mutex_lock(&run->lock);
		enroll_pool_idle(run, &run->posters, c);
		pthread_mutex_unlock(&run->lock);
	}
	graph_client_free(&c);

	return (NULL);
}
