/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The end of the enroll pipeline: registering credentials with Graph
 * (never twice), reconciling what an interrupted run left behind, and
 * the report written from the journal.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

#define POST_ROUNDS		3	/* of graph_fido2_register() */

/* Graph is busy or the reply was lost: worth another round later */
static bool
graph_transient(int r)
{
	return (r == GRAPH_ERR_THROTTLED || r == GRAPH_ERR_SERVER ||
	    r == GRAPH_ERR_NETWORK || r == GRAPH_ERR_TIMEOUT ||
	    r == GRAPH_ERR_PROTOCOL);
}

/* sleep up to ms, but not past Ctrl+C */
static void
nap(struct run *run, long long ms)
{
	struct timespec	ts = { 0, 100 * 1000 * 1000 };
	long long	end = now_ms() + ms;

	while (!enroll_stopping(run) && now_ms() < end)
		nanosleep(&ts, NULL);
}

/*
 * POST the credential.  The key was touched and holds it: in a 429/5xx
 * storm it is worth more rounds than graph_fido2_register() makes on
 * its own (each round first checks whether an earlier POST landed, so
 * a lost reply never becomes a second passkey).  The challenge is good
 * for minutes.
 */
static int
post_register(struct run *run, graph_client_t *gc, struct job *jb,
    graph_method_t **m)
{
	int r, round;

	for (round = 1;; round++) {
		log_info("%s: registering the passkey with Entra ID%s",
		    jb->upn, round > 1 ? " (again)" : "");
		r = graph_fido2_register(gc, jb->uc != NULL ? NULL : jb->id,
		    jb->body, jb->cred_b64, m);
		if (r == GRAPH_OK || !graph_transient(r) ||
		    round >= POST_ROUNDS || enroll_stopping(run))
			return (r);
		log_info("%s: registration not confirmed (%s); trying again "
		    "in %d s", jb->upn, graph_strerr(r), 2 * round);
		nap(run, 2000LL * round);
	}
}

static void
post_one(struct run *run, graph_client_t *c, struct job *jb)
{
	struct journal_fields	 jf;
	graph_method_t		*m = NULL;
	graph_client_t		*gc = jb->uc != NULL ? jb->uc : c;
	char			 detail[512];
	int			 r;

	if ((r = post_register(run, gc, jb, &m)) != GRAPH_OK) {
		enroll_graph_fail(run, jb, gc, "register", r);
		return;
	}
	memset(&jf, 0, sizeof(jf));
	jf.method_id = graph_method_id(m);
	jf.attestation = graph_method_attestation_level(m);
	/* Entra names the model from the AAGUID when it knows it */
	if (*graph_method_model(m) != '\0')
		jf.model = graph_method_model(m);
	/* registered and checked already: one commit, straight to done */
	if (enroll_journal_set(run, jb, JOURNAL_ST_DONE, &jf) < 0) {
		graph_method_free(&m);
		enroll_job_fail(run, jb, "journal", "journal", "registered, but the "
		    "journal could not record it; a re-run reconciles",
		    NULL);
		return;
	}
	snprintf(detail, sizeof(detail), "key %s, %s, method %s", jb->device,
	    graph_method_attestation_level(m), graph_method_id(m));
	graph_method_free(&m);
	enroll_job_finish(run, jb, &run->enrolled, PROGRESS_DONE, "enrolled", detail);
}

void *
enroll_poster(void *arg)
{
	struct run	*run = arg;
	graph_client_t	*c = NULL;
	struct job	*jb;

	if (graph_client_clone(&c, run->admin) != GRAPH_OK) {
		enroll_fatal(run, ENROLL_ERR_INTERNAL, "cannot create a Graph client");
		return (NULL);
	}
	for (;;) {
		pthread_mutex_lock(&run->lock);
		while ((jb = enroll_queue_pop(&run->post)) == NULL &&
		    (run->workers_alive > 0 || run->keywork > 0))
			pthread_cond_wait(&run->cond, &run->lock);
		pthread_mutex_unlock(&run->lock);
		if (jb == NULL)
			break;
		/* a touched key's credential is always posted, even on
		 * Ctrl+C: the journal would otherwise hold it half-done */
		post_one(run, c, jb);
	}
	graph_client_free(&c);

	return (NULL);
}
