/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Prefetch: resolve the next users (up to 20 in one $batch) and fetch
 * each one's creationOptions, so a challenge is ready when a key frees
 * up (the ready queue is bounded: challenges expire after five minutes,
 * so options are fetched one user at a time, as room comes).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

#define EXPIRY_MARGIN_S		60	/* re-fetch a challenge this close */

/* creationOptions for the job's user; parsed, checked, journalled */
int
enroll_fetch_options(struct run *run, graph_client_t *c, struct job *jb)
{
	char	*json = NULL, err[256];
	int	 r;

	webauthn_options_free(&jb->opts);
	if ((r = graph_creation_options(jb->uc != NULL ? jb->uc : c,
	    jb->uc != NULL ? NULL : jb->id, run->o->challenge_minutes,
	    &json)) != GRAPH_OK) {
		enroll_graph_fail(run, jb, jb->uc != NULL ? jb->uc : c,
		    "options", r);
		return (-1);
	}
	r = webauthn_options_parse(json, strlen(json), &jb->opts, err,
	    sizeof(err));
	free(json);
	if (r != WEBAUTHN_OK) {
		enroll_job_fail(run, jb, "options", "bad_options", err,
		    graph_last_request_id(jb->uc != NULL ? jb->uc : c));
		return (-1);
	}
	/* checked before any key sees them: a key signs for any rp.id */
	if (webauthn_options_check_rp(jb->opts, run->o->rp_id, err,
	    sizeof(err)) != WEBAUTHN_OK) {
		enroll_job_fail(run, jb, "options", "foreign_rp", err, NULL);
		return (-1);
	}
	/* durable before the key makes a credential with them */
	if (enroll_journal_mark(run, jb, JOURNAL_ST_OPTIONS_FETCHED, NULL) <
	    0) {
		enroll_job_fail(run, jb, "journal", "journal",
		    "cannot write the journal", NULL);
		return (-1);
	}

	return (0);
}

/*
 * Does the user hold a passkey already?  Their creationOptions exclude
 * every credential Entra has for them, so a non-empty list says so
 * without another Graph call.  Unless --another (or --replace, which
 * works on the passkey a key holds) the user is skipped before any key
 * is touched: another station or state directory may have enrolled
 * them, and a second passkey is a decision, not a default.
 */
bool
enroll_holds_passkey(struct run *run, struct job *jb)
{
	char	reason[128];
	size_t	n;

	if (run->o->another || run->o->replace || jb->opts == NULL ||
	    (n = webauthn_options_exclude_creds(jb->opts)) == 0)
		return (false);
	snprintf(reason, sizeof(reason), "already holds a passkey (%zu); "
	    "use --another to add one", n);
	enroll_job_skip(run, jb, reason, false);

	return (true);
}

bool
enroll_options_stale(const struct job *jb)
{
	time_t exp = webauthn_options_expires(jb->opts);

	return (exp != 0 && exp - time(NULL) < EXPIRY_MARGIN_S);
}

/*
 * --as-user: the user signs in (with a one-time TAP the operator
 * hands over, if asked) and registers through /me with their token.
 */
static int
user_signin(struct run *run, graph_client_t *admin, struct job *jb)
{
	char	*tap = NULL;
	int	 r;

	if (run->o->issue_tap) {
		/* a TAP is for others to see: the journal knows the user */
		if (enroll_journal_sync(run, jb) < 0)
			return (-1);
		if ((r = graph_tap_create(admin, jb->id, 60, true, &tap,
		    NULL)) != GRAPH_OK) {
			enroll_graph_fail(run, jb, admin, "tap", r);
			return (-1);
		}
		pthread_mutex_lock(&run->tty);
		{
			FILE *tty = fopen("/dev/tty", "w");

			/* shown to the operator only: never logged */
			if (tty != NULL) {
				char upn[TEXT_SAFE_MAX(256)];

				fprintf(tty, "\nTemporary Access Pass for %s "
				    "(one use, 60 minutes): %s\n\n",
				    text_safe(jb->upn, upn, sizeof(upn)), tap);
				fclose(tty);
			} else
				log_warn("no terminal to show the Temporary "
				    "Access Pass of %s; it was created but "
				    "not displayed", jb->upn);
		}
		pthread_mutex_unlock(&run->tty);
		freezero_str(tap);
	}
	if ((r = graph_client_new_user(&jb->uc, admin)) != GRAPH_OK ||
	    (r = graph_login_browser(jb->uc, jb->upn)) != GRAPH_OK) {
		enroll_graph_fail(run, jb, jb->uc != NULL ? jb->uc : admin,
		    "signin", r);
		return (-1);
	}

	return (0);
}

/*
 * Is the user enrolled already (journal)?  --replace enrolls them again:
 * the journal forgets them, and the key decides (an exclude hit
 * replaces the old passkey).
 */
static bool
journal_done(struct run *run, struct job *jb)
{
	if (run->j == NULL || journal_is_done(run->j, jb->key) != 1)
		return (false);
	if (!run->o->replace)
		return (true);
	if (journal_user_forget(run->j, jb->key) != JOURNAL_OK)
		log_warn("journal: cannot forget %s for --replace", jb->key);

	return (false);
}

/*
 * A credential of an earlier attempt that the resume could not settle
 * with Graph (the list or the registration sent again failed;
 * enroll_reconcile_one() leaves it in place) may be registered:
 * starting the user over on another key could give them a second
 * passkey.  They wait for a run that can ask Graph.
 */
static bool
unreconciled(struct run *run, struct job *jb)
{
	journal_entry_t e;

	if (run->j == NULL || journal_user_get(run->j, jb->key, &e) !=
	    JOURNAL_OK)
		return (false);

	return (e.state != JOURNAL_ST_DONE && e.credential_id[0] != '\0');
}

/*
 * A job for user `idx`, which takes *u, to be journalled pending with
 * the rest of its chunk; NULL: finished already.
 */
static struct job *
prefetch_start(struct run *run, size_t idx, struct enroll_user *u)
{
	struct job	*jb;

	if ((jb = calloc(1, sizeof(*jb))) == NULL) {
		enroll_user_clear(u);
		enroll_fatal(run, ENROLL_ERR_INTERNAL, "out of memory");
		return (NULL);
	}
	jb->idx = idx;
	jb->user = *u;
	memset(u, 0, sizeof(*u));
	u = &jb->user;
	enroll_user_key(u, jb->key, sizeof(jb->key));
	if (journal_done(run, jb)) {
		enroll_job_skip(run, jb, "enrolled by an earlier run", true);
		return (NULL);
	}
	if (unreconciled(run, jb)) {
		enroll_job_fail(run, jb, "resume", "outcome_unknown",
		    "an earlier "
		    "registration may have reached Graph, which did not say "
		    "whether it did; run again when Graph answers", NULL);
		return (NULL);
	}

	return (jb);
}

/* users claimed together, resolved in one $batch */
struct chunk {
	struct run	*run;
	graph_client_t	*c;
	struct job	*jb[GRAPH_BATCH_MAX];	/* NULL once finished */
	const char	*ref[GRAPH_BATCH_MAX];
	size_t		 n;
};

/* graph_resolve_cb: the user as Graph knows them, or their failure */
static void
resolved(void *arg, size_t i, int r, const graph_user_t *gu)
{
	struct chunk	*ch = arg;
	struct run	*run = ch->run;
	struct job	*jb = ch->jb[i];
	const char	*type;

	ch->jb[i] = NULL;
	if (r != GRAPH_OK) {
		if (r == GRAPH_ERR_NOT_FOUND)
			enroll_job_fail(run, jb, "resolve", "user_not_found",
			    "no such user in the tenant; check the UPN or "
			    "object id", graph_last_request_id(ch->c));
		else
			enroll_graph_fail(run, jb, ch->c, "resolve", r);
		return;
	}
	if ((jb->upn = strdup(graph_user_upn(gu))) == NULL ||
	    (jb->id = strdup(graph_user_id(gu))) == NULL ||
	    (jb->name = strdup(graph_user_display_name(gu))) == NULL) {
		enroll_job_fail(run, jb, "resolve", "internal", "out of memory",
		    NULL);
		return;
	}
	type = graph_user_type(gu);
	if (strcasecmp(type, "Guest") == 0) {
		enroll_job_fail(run, jb, "resolve", "guest_user",
		    "guest accounts "
		    "cannot hold passkeys in Entra ID (not supported for "
		    "internal or external guests)", NULL);
		return;
	}
	if (!graph_user_enabled(gu)) {
		enroll_job_fail(run, jb, "resolve", "account_disabled", "the "
		    "account is disabled; enable it in Entra ID first", NULL);
		return;
	}
	ch->jb[i] = jb;
}

/*
 * A user journalled resolved: options fetched, then queued for a key or
 * finished.
 */
static void
prefetch_resolved(struct run *run, graph_client_t *c, struct job *jb)
{
	const struct enroll_user	*u = &jb->user;

	/* the journal now knows the user by object id */
	journal_user_key(jb->upn, jb->id, jb->key, sizeof(jb->key));
	if (journal_done(run, jb)) {
		enroll_job_skip(run, jb, "enrolled by an earlier run", true);
		return;
	}
	if (run->o->as_user && user_signin(run, c, jb) < 0)
		return;
	/* the user's passkey profiles, to judge keys before the touch */
	enroll_admit_wait(run);
	if (enroll_admit_user(run, c, jb) < 0)
		return;
	log_info("%s: %s (%s) found; fetching a registration challenge",
	    u->ref, jb->upn, jb->id);
	if (enroll_fetch_options(run, c, jb) < 0 ||
	    enroll_holds_passkey(run, jb))
		return;
	if (run->o->dry_run) {
		(void)enroll_admit_dry(run, jb);
		enroll_job_finish(run, jb, &run->skipped, PROGRESS_SKIPPED,
		    "ready (dry run: no touch, no registration)",
		    webauthn_options_rp_id(jb->opts));
		return;
	}
	pthread_mutex_lock(&run->lock);
	enroll_queue_push(&run->ready, jb, false);
	enroll_wake(run, WAKE_KEYS | WAKE_ONE);
	pthread_mutex_unlock(&run->lock);
}

/*
 * Room in the ready queue: a challenge is fetched only when a key will
 * want it soon (it expires).  False when the run stops or no key is left.
 */
static bool
wait_room(struct run *run)
{
	bool	go;

	pthread_mutex_lock(&run->lock);
	while (!run->stop && run->ready.n >= run->ready_cap &&
	    run->workers_alive > 0)
		pthread_cond_wait(&run->room_cv, &run->lock);
	go = !run->stop && (run->workers_alive > 0 || run->o->dry_run);
	pthread_mutex_unlock(&run->lock);

	return (go && !enroll_stopping(run));
}

/*
 * The chunk's users journalled `st` in one commit (pending: as taken;
 * resolved: those Graph found, with their object id), the chunk closed
 * up over the users gone.  A user the fleet queue gave to another
 * station is abandoned; -1: the journal failed, every job freed.
 */
static int
chunk_mark(struct chunk *ch, enum journal_state st)
{
	struct journal_fields	 jf[GRAPH_BATCH_MAX];
	struct job		*jb[GRAPH_BATCH_MAX];
	bool			 lost[GRAPH_BATCH_MAX];
	size_t			 i, n = 0, m = 0;

	memset(jf, 0, sizeof(jf));
	for (i = 0; i < ch->n; i++) {
		if (ch->jb[i] == NULL)
			continue;
		jb[n] = ch->jb[i];
		if (st == JOURNAL_ST_RESOLVED) {
			jf[n].upn = jb[n]->upn;
			jf[n].object_id = jb[n]->id;
		} else if (strchr(jb[n]->user.ref, '@') != NULL)
			jf[n].upn = jb[n]->user.ref;
		n++;
	}
	if (enroll_journal_mark_jobs(ch->run, jb, n, st, jf, lost) < 0) {
		for (i = 0; i < n; i++)
			enroll_job_free(jb[i]);
		ch->n = 0;
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (lost[i]) {
			enroll_job_free(jb[i]);
			continue;
		}
		ch->jb[m] = jb[i];
		ch->ref[m++] = jb[i]->user.id != NULL ? jb[i]->user.id :
		    jb[i]->user.ref;
	}
	ch->n = m;

	return (0);
}

/*
 * The users taken, first..first+n-1: journalled pending in one commit,
 * resolved in one $batch, journalled resolved in one commit, then
 * queued for any prefetcher to fetch their options (one chunk can be
 * all there is: its options are not fetched one at a time).
 */
static void
prefetch_chunk(struct run *run, graph_client_t *c, struct enroll_user *v,
    size_t first, size_t n)
{
	struct chunk	ch;
	size_t		i;

	memset(&ch, 0, sizeof(ch));
	ch.run = run;
	ch.c = c;
	for (i = 0; i < n; i++)
		if ((ch.jb[ch.n] = prefetch_start(run, first + i, &v[i])) !=
		    NULL)
			ch.n++;
	if (chunk_mark(&ch, JOURNAL_ST_PENDING) < 0)
		return;
	for (i = 0; i < ch.n; i++)
		log_info("%s: looking the user up in Entra ID",
		    ch.jb[i]->user.ref);
	if (ch.n > 0)
		(void)graph_users_resolve(c, ch.ref, ch.n, resolved, &ch);
	if (chunk_mark(&ch, JOURNAL_ST_RESOLVED) < 0)
		return;
	pthread_mutex_lock(&run->lock);
	for (i = 0; i < ch.n; i++)
		enroll_queue_push(&run->resolved, ch.jb[i], false);
	pthread_mutex_unlock(&run->lock);
}

/*
 * Under run->lock: a resolved user (*jb), or a chunk to take from the
 * source (true, *jb NULL), counted as prefetching before it leaves the
 * queue or the source, so a key worker never sees "none coming" in
 * between; false: nothing left.  While another prefetcher is in its
 * $batch, wait for its users.
 */
static bool
next_work(struct run *run, struct job **jb)
{
	*jb = NULL;
	while (run->resolved.n == 0 && !enroll_users_coming(run) &&
	    run->resolving > 0 && !run->stop)
		pthread_cond_wait(&run->resolved_cv, &run->lock);
	if (run->stop)
		return (false);
	if ((*jb = enroll_queue_pop(&run->resolved)) == NULL) {
		if (!enroll_users_coming(run))
			return (false);
		run->resolving++;
	}
	run->prefetchers.busy++;

	return (true);
}

void *
enroll_prefetcher(void *arg)
{
	struct run		*run = arg;
	struct enroll_user	 v[GRAPH_BATCH_MAX];
	graph_client_t		*c = NULL;
	struct job		*jb;
	size_t			 first, n;
	bool			 go;

	if (graph_client_clone(&c, run->admin) != GRAPH_OK) {
		enroll_fatal(run, ENROLL_ERR_INTERNAL,
		    "cannot create a Graph client");
		return (NULL);
	}
	while (wait_room(run)) {
		pthread_mutex_lock(&run->lock);
		go = next_work(run, &jb);
		pthread_mutex_unlock(&run->lock);
		if (!go)
			break;
		if (jb != NULL)
			prefetch_resolved(run, c, jb);
		else {
			/* those taken before a failure go the way of a
			 * stopped run */
			(void)enroll_take_users(run, v, GRAPH_BATCH_MAX, &n,
			    &first);
			if (n > 0)
				prefetch_chunk(run, c, v, first, n);
		}
		pthread_mutex_lock(&run->lock);
		if (jb == NULL) {
			run->resolving--;
			/* its users, or the end of a $batch: look again */
			enroll_wake(run, WAKE_RESOLVED);
		}
		enroll_pool_idle(run, &run->prefetchers, c);
		if (run->prefetchers.busy == 0)
			enroll_wake(run, WAKE_KEYS);
		pthread_mutex_unlock(&run->lock);
	}
	/*
	 * A stopped run (or one with no key left) gives the resolved users
	 * to the ready queue as they are: fail_leftovers() frees them
	 * (stopped) or fails them (no key left) as it does what no key took.
	 */
	pthread_mutex_lock(&run->lock);
	while ((jb = enroll_queue_pop(&run->resolved)) != NULL)
		enroll_queue_push(&run->ready, jb, false);
	enroll_wake(run, WAKE_KEYS);
	pthread_mutex_unlock(&run->lock);
	graph_client_free(&c);

	return (NULL);
}
