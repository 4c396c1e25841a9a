/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Key work: one worker per key takes ready jobs, makes the credential
 * (makeCredential, self-check, getAssertion) and hands it to the
 * posters.  A key that fails (pulled, wrong PIN, full) is set aside and
 * its user goes back to the ready queue for another key.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

/* next job for a key worker, or NULL when no more can come */
static struct job *
next_ready(struct run *run, struct worker *w)
{
	struct job *jb = NULL;

	(void)enroll_stopping(run);
	pthread_mutex_lock(&run->lock);
	for (;;) {
		/* Ctrl+C: a job a cancelled key gave back stays queued */
		if (run->stop || enroll_interrupted(run) || w->gone)
			break;
		if ((jb = enroll_queue_pop(&run->ready)) != NULL) {
			run->keywork++;
			w->took = true;
			break;
		}
		if (!enroll_users_coming(run) && run->prefetchers.busy == 0 &&
		    run->resolved.n == 0 && run->keywork == 0)
			break;
		/* a key that has worked waits for a user: Graph is slow */
		if (w->took && (run->resolved.n > 0 ||
		    enroll_users_coming(run)))
			enroll_pool_more(run, &run->prefetchers);
		pthread_cond_wait(&run->keys_cv, &run->lock);
	}
	/* a place in the ready queue; or this worker is done, and why (a
	 * stop, Ctrl+C, the end) may concern every waiter */
	enroll_wake(run, jb != NULL ? WAKE_ROOM | WAKE_ONE : WAKE_ALL);
	pthread_mutex_unlock(&run->lock);

	return (jb);
}

/*
 * Give a job back (its key failed): another key takes it with the same
 * challenge, which no POST has used yet.
 */
static void
requeue(struct run *run, struct job *jb)
{
	enroll_job_clear(jb);
	jb->attempts++;
	pthread_mutex_lock(&run->lock);
	enroll_queue_push(&run->ready, jb, true);
	run->keywork--;
	enroll_wake(run, WAKE_KEYS | WAKE_POST);
	pthread_mutex_unlock(&run->lock);
}

static void
to_post(struct run *run, struct job *jb)
{
	pthread_mutex_lock(&run->lock);
	enroll_queue_push(&run->post, jb, false);
	run->keywork--;
	/* more credentials wait than there are posters */
	if (run->post.n > run->posters.n)
		enroll_pool_more(run, &run->posters);
	/* the last job at a key may be the end the others wait for */
	enroll_wake(run, run->keywork == 0 ? WAKE_KEYS | WAKE_POST :
	    WAKE_POST | WAKE_ONE);
	pthread_mutex_unlock(&run->lock);
}

static void
keywork_done(struct run *run)
{
	pthread_mutex_lock(&run->lock);
	run->keywork--;
	if (run->keywork == 0)
		enroll_wake(run, WAKE_KEYS | WAKE_POST);
	pthread_mutex_unlock(&run->lock);
}

/* errors that mean "this key, not this user": try another key */
static bool
key_fault(int cr)
{
	switch (cr) {
	case CTAP_ERR_IO:
	case CTAP_ERR_NO_DEVICE:
	case CTAP_ERR_PIN_INVALID:
	case CTAP_ERR_PIN_BLOCKED:
	case CTAP_ERR_PIN_AUTH_BLOCKED:
	case CTAP_ERR_PIN_REQUIRED:
	case CTAP_ERR_PIN_NOT_SET:
	case CTAP_ERR_PIN_CHANGE:
	case CTAP_ERR_KEY_FULL:
	case CTAP_ERR_NOT_FIDO2:
	case CTAP_ERR_PROTOCOL:
		return (true);
	default:
		return (false);
	}
}

#define KEY_LIED	2	/* "excluded" to an empty exclude list */

/* the failures.csv code of a key failure */
static const char *
key_code(int cr)
{
	switch (cr) {
	case CTAP_ERR_PIN_INVALID:
		return ("pin_invalid");
	case CTAP_ERR_PIN_BLOCKED:
		return ("pin_blocked");
	case CTAP_ERR_PIN_AUTH_BLOCKED:
		return ("pin_auth_blocked");
	case CTAP_ERR_PIN_REQUIRED:
	case CTAP_ERR_PIN_NOT_SET:
		return ("pin_required");
	case CTAP_ERR_PIN_CHANGE:
		return ("pin_change");
	case CTAP_ERR_PIN_POLICY:
		return ("pin_policy");
	case CTAP_ERR_IO:
	case CTAP_ERR_NO_DEVICE:
		return ("key_gone");
	case CTAP_ERR_PROTOCOL:
	case CTAP_ERR_VERIFY:
		return ("key_malformed");
	case CTAP_ERR_DENIED:
		return ("key_denied");
	case CTAP_ERR_CANCELLED:
		return ("key_cancelled");
	case CTAP_ERR_TIMEOUT:
		return ("no_touch");
	case KEY_LIED:
		return ("key_false_excluded");
	case KEY_REFUSED:
		return ("key_refused");
	case CTAP_ERR_KEY_FULL:
		return ("key_full");
	case CTAP_ERR_NOT_FIDO2:
	case CTAP_ERR_UNSUPPORTED:
		return ("key_unsupported");
	default:
		return ("key_failed");
	}
}

/*
 * Remember why a key failed (k->why, or what cr means), for the job and
 * the run: a user no key is left for fails with the real reason, not
 * "no usable security key left".
 */
void
enroll_key_failed(struct run *run, struct job *jb, const struct key *k,
    int cr)
{
	const char	*code = key_code(cr);
	char		 why[sizeof(jb->why)];

	snprintf(why, sizeof(why), "%s (key %s)", k->why[0] != '\0' ?
	    k->why : ctap_strerr(cr), k->path != NULL ? k->path : "?");
	if (cr == KEY_REFUSED && k->refused[0] != '\0')
		code = k->refused;
	if (jb != NULL) {
		snprintf(jb->why, sizeof(jb->why), "%s", why);
		snprintf(jb->why_code, sizeof(jb->why_code), "%s", code);
	}
	pthread_mutex_lock(&run->lock);
	snprintf(run->last_why, sizeof(run->last_why), "%s", why);
	snprintf(run->last_code, sizeof(run->last_code), "%s", code);
	pthread_mutex_unlock(&run->lock);
}

/* clientDataJSON and the makeCredential request, from jb->opts */
static int
job_prepare(struct job *jb, ctap_cred_t **credp)
{
	ctap_cred_free(credp);
	free(jb->cdata);
	jb->cdata = NULL;
	if (webauthn_clientdata(jb->opts, &jb->cdata, &jb->cdlen) !=
	    WEBAUTHN_OK || (*credp = ctap_cred_new()) == NULL ||
	    webauthn_apply(jb->opts, *credp, jb->cdata, jb->cdlen) !=
	    WEBAUTHN_OK) {
		ctap_cred_free(credp);
		return (-1);
	}

	return (0);
}

/* the excluded credential this key holds (base64url), or NULL */
static char *
held_credential(struct key *k, const webauthn_options_t *o)
{
	char	*b64 = NULL;
	size_t	 i, n;

	n = webauthn_options_exclude_len(o);
	for (i = 0; i < n; i++) {
		if (ctap_dev_has_cred(k->dev, webauthn_options_rp_id(o),
		    webauthn_options_exclude_ptr(o, i),
		    webauthn_options_exclude_id_len(o, i), k->pin) != CTAP_OK)
			continue;
		if (b64url_encode(webauthn_options_exclude_ptr(o, i),
		    webauthn_options_exclude_id_len(o, i), &b64) < 0)
			return (NULL);
		break;
	}

	return (b64);
}

#define JOB_GONE	1	/* the job was failed (and freed) */

/*
 * --replace after an exclude hit: remove from Graph the method of the
 * credential this key holds, then make a new credential against fresh
 * creationOptions, whose exclude list no longer names the old one (the
 * key overwrites it: same user handle).  Returns the CTAP_* result of
 * the new makeCredential, or JOB_GONE.
 */
static int
replace_old(struct run *run, graph_client_t *c, struct key *k,
    struct job *jb, ctap_cred_t **credp)
{
	graph_methods_t		*ms = NULL;
	const graph_method_t	*m;
	char			*b64 = NULL;
	int			 r = CTAP_ERR_EXCLUDED, gr;

	/* which of the user's passkeys is it?  Unknown: leave it be */
	if ((b64 = held_credential(k, jb->opts)) == NULL)
		goto out;
	if ((gr = graph_fido2_list(c, jb->id, &ms)) != GRAPH_OK) {
		enroll_graph_fail(run, jb, c, "replace", gr);
		r = JOB_GONE;
		goto out;
	}
	if ((m = graph_methods_find_cred(ms, b64)) != NULL) {
		enroll_say(run, "%s: --replace: removing the old passkey %s",
		    jb->upn, graph_method_id(m));
		if ((gr = graph_fido2_delete(c, jb->id,
		    graph_method_id(m))) != GRAPH_OK) {
			enroll_graph_fail(run, jb, c, "replace", gr);
			r = JOB_GONE;
			goto out;
		}
	}
	if (enroll_fetch_options(run, c, jb) < 0) {
		r = JOB_GONE;
		goto out;
	}
	if (job_prepare(jb, credp) < 0) {
		enroll_job_fail(run, jb, "key", "internal",
		    "cannot prepare the makeCredential request", NULL);
		r = JOB_GONE;
		goto out;
	}
	if (enroll_journal_sync(run, jb) < 0) {
		enroll_job_fail(run, jb, "journal", "journal",
		    "cannot write the journal", NULL);
		r = JOB_GONE;
		goto out;
	}
	r = ctap_dev_make_cred(k->dev, *credp, k->pin);
out:
	graph_methods_free(&ms);
	free(b64);

	return (r);
}

/*
 * One user on one key.  Returns 0 when the job moved on (post queue or
 * finished), 1 when the key is at fault and the job was given back.
 */
static int
key_job(struct run *run, graph_client_t *c, struct key *k, struct job *jb)
{
	struct enroll_verdict	 v;
	ctap_cred_t		*cred = NULL;
	char			 msg[512];
	int			 cr;

	/* fresh options may show a passkey another station just made */
	if ((jb->opts == NULL || enroll_options_stale(jb)) &&
	    (enroll_fetch_options(run, c, jb) < 0 ||
	    enroll_holds_passkey(run, jb))) {
		keywork_done(run);
		return (0);
	}
	/* a key kept from the last user is judged again for this one */
	if (!enroll_admit_key(run, jb, k, k->aaguid, &v)) {
		snprintf(k->refused, sizeof(k->refused), "%s", v.code);
		enroll_key_failed(run, jb, k, KEY_REFUSED);
		if (jb->attempts + 1 >= run->o->max_attempts) {
			keywork_done(run);
			enroll_job_fail(run, jb, "key", jb->why_code, jb->why,
			    NULL);
			return (1);
		}
		requeue(run, jb);
		return (1);
	}
	if (job_prepare(jb, &cred) < 0) {
		keywork_done(run);
		enroll_job_fail(run, jb, "key", "internal",
		    "cannot prepare the makeCredential request", NULL);
		return (0);
	}
	/* the options on disk before a credential is made with them */
	if (enroll_journal_sync(run, jb) < 0) {
		ctap_cred_free(&cred);
		keywork_done(run);
		enroll_job_fail(run, jb, "journal", "journal",
		    "cannot write the journal", NULL);
		return (0);
	}
	if (run->station != NULL)
		station_slot_name(k->path, jb->slot, sizeof(jb->slot));
	if (run->o->narrate || isatty(STDERR_FILENO))
		enroll_say(run, "%s: touch the key %s", jb->upn,
		    enroll_key_label(k->path));
	station_event(run->station, jb->slot, SLOT_TOUCH, jb->upn,
	    "touch the key");
	enroll_watch(run, k->dev);
	cr = ctap_dev_make_cred(k->dev, cred, k->pin);
	/* nothing was excluded: the key cannot hold an excluded passkey */
	if (cr == CTAP_ERR_EXCLUDED &&
	    webauthn_options_exclude_len(jb->opts) == 0)
		cr = KEY_LIED;
	if (cr == CTAP_ERR_EXCLUDED && run->o->replace)
		cr = replace_old(run, c, k, jb, &cred);
	enroll_unwatch(run, k->dev);
	if (cr == JOB_GONE) {
		ctap_cred_free(&cred);
		keywork_done(run);
		return (0);
	}
	if (cr == CTAP_OK)
		log_info("%s: the key made a %s-attested passkey; %s", jb->upn,
		    ctap_cred_attestation(cred), run->o->verify ?
		    "checking that it signs (getAssertion)" :
		    "not checked (--no-verify)");
	if (cr == CTAP_OK && run->o->verify) {
		station_event(run->station, jb->slot, SLOT_VERIFYING, NULL,
		    "checking that the new passkey signs");
		cr = ctap_dev_check_cred(k->dev, cred, k->pin);
	}
	if (cr != CTAP_OK) {
		ctap_cred_free(&cred);
		/* the user goes back to the queue, or fails below */
		if (cr != CTAP_ERR_EXCLUDED && run->station != NULL &&
		    jb->slot[0] != '\0') {
			station_event(run->station, jb->slot, SLOT_FAILED,
			    NULL, "%s; the user goes back to the queue",
			    ctap_strerr(cr));
			jb->slot[0] = '\0';
		}
		if (cr == CTAP_ERR_EXCLUDED) {
			keywork_done(run);
			enroll_job_skip(run, jb,
			    "this key already holds the user's "
			    "passkey (already registered); --replace "
			    "registers it again", false);
			return (0);
		}
		/* Ctrl+C, or the key gave up the wait: not this user's fault */
		if (cr == CTAP_ERR_CANCELLED && (enroll_interrupted(run) ||
		    jb->attempts + 1 < run->o->max_attempts)) {
			if (!enroll_interrupted(run)) {
				k->why[0] = '\0';
				enroll_key_failed(run, jb, k, cr);
			}
			requeue(run, jb);
			return (0);
		}
		if (cr == KEY_LIED || key_fault(cr)) {
			snprintf(k->why, sizeof(k->why), "%s",
			    ctap_strerr(cr));
			if (cr == KEY_LIED)
				snprintf(k->why, sizeof(k->why), "the key "
				    "claims to hold this user's passkey, but "
				    "none was excluded (a faulty or forged "
				    "key)");
			if (cr == CTAP_ERR_PIN_INVALID &&
			    ctap_dev_retries(k->dev) >= 0)
				snprintf(k->why, sizeof(k->why), "%s (%d "
				    "retries left)", ctap_strerr(cr),
				    ctap_dev_retries(k->dev));
			enroll_key_failed(run, jb, k, cr);
			if (jb->attempts + 1 >= run->o->max_attempts) {
				keywork_done(run);
				enroll_job_fail(run, jb, "key", key_code(cr),
				    jb->why, NULL);
				return (1);
			}
			requeue(run, jb);
			return (1);
		}
		snprintf(msg, sizeof(msg), "%s", ctap_strerr(cr));
		keywork_done(run);
		enroll_job_fail(run, jb, "key",
		    cr == CTAP_ERR_TIMEOUT ? "no_touch" : "key", msg, NULL);
		return (0);
	}
	/* after the touch: an enforced attestation must chain to the MDS */
	if (enroll_admit_attestation(run, jb, cred, msg, sizeof(msg)) < 0) {
		ctap_cred_free(&cred);
		keywork_done(run);
		enroll_job_fail(run, jb, "attestation", "attestation_refused",
		    msg, NULL);
		return (0);
	}
	jb->cred = cred;
	snprintf(jb->device, sizeof(jb->device), "%s", k->serial[0] ?
	    k->serial : k->path);
	snprintf(jb->model, sizeof(jb->model), "%s", k->product);
	if (b64url_encode(ctap_cred_id_ptr(cred), ctap_cred_id_len(cred),
	    &jb->cred_b64) < 0 ||
	    webauthn_display_name(run->o->display_tmpl, jb->upn, jb->name,
	    k->product, ctap_cred_aaguid(cred), k->serial, NULL,
	    &jb->display) != WEBAUTHN_OK) {
		keywork_done(run);
		enroll_job_fail(run, jb, "key", "internal", "cannot build the "
		    "registration body", NULL);
		return (0);
	}
	/* the poster records it (before its POST): the key goes on */
	k->successes++;
	enroll_letter_keep(run, jb, k);
	station_event(run->station, jb->slot, SLOT_REGISTERING, NULL,
	    "registering the passkey with Entra ID");
	to_post(run, jb);

	return (0);
}

static bool
users_left(struct run *run)
{
	bool left;

	pthread_mutex_lock(&run->lock);
	left = run->ready.n > 0 || run->resolved.n > 0 ||
	    run->prefetchers.busy > 0 || enroll_users_coming(run);
	pthread_mutex_unlock(&run->lock);

	return (left);
}

static void
headful_pause(struct run *run)
{
	FILE	*tty;
	char	 line[64];

	/* only an operator at a terminal is asked; scripts never wait */
	if (!run->o->pause || !isatty(STDIN_FILENO) ||
	    (tty = fopen("/dev/tty", "r+")) == NULL)
		return;
	pthread_mutex_lock(&run->tty);
	log_hold(true);
	fprintf(tty, "Press Enter to go on with the next user (Ctrl+C to "
	    "stop)... ");
	fflush(tty);
	(void)!fgets(line, sizeof(line), tty);
	log_hold(false);
	pthread_mutex_unlock(&run->tty);
	fclose(tty);
}

static bool
worker_gone(const struct worker *w)
{
	bool gone;

	pthread_mutex_lock(&w->run->lock);
	gone = w->gone;
	pthread_mutex_unlock(&w->run->lock);

	return (gone);
}

/*
 * A key for the worker's next job: its own key, or (one key per user) a
 * key not used yet.  Returns 0 with the key ready, 1 when the job went
 * back (try again), -1 when this worker is done.
 */
static int
worker_key(struct worker *w, struct key *k, struct job *jb)
{
	struct run	*run = w->run;
	struct timespec	 ts = { 0, 50 * 1000 * 1000 };
	char		*path = NULL, why[256], slot[128] = "";
	int		 r = 0, cr = CTAP_ERR_INTERNAL, tries;

	if (w->path != NULL)
		path = strdup(w->path);
	else if (enroll_key_wait_fresh(run, &path, jb->upn) < 0) {
		requeue(run, jb);
		return (-1);
	}
	if (path != NULL && run->station != NULL) {
		station_slot_name(path, slot, sizeof(slot));
		if (!w->one_user)	/* the hub said so */
			station_event(run->station, slot, SLOT_INSERTED, "",
			    NULL);
		station_event(run->station, slot, SLOT_CHECKING, NULL,
		    "getInfo, PIN, credentials, policy");
	}
	/*
	 * A key just plugged in may not answer yet (udev has not given the
	 * node its permissions, the key is still starting): a slot tries
	 * again for a moment before it calls the key refused.
	 */
	for (tries = 0; path != NULL && tries < 40; tries++) {
		cr = enroll_key_acquire(run, k, path, jb);
		if (cr == CTAP_OK || k->opened || !w->one_user ||
		    (cr != CTAP_ERR_IO && cr != CTAP_ERR_NO_DEVICE) ||
		    worker_gone(w))
			break;
		enroll_key_release(run, k);
		nanosleep(&ts, NULL);
	}
	if (path != NULL && cr == CTAP_OK) {
		if (run->o->narrate)
			enroll_say(run, "using key %s (%s)",
			    enroll_key_label(k->path), k->product);
		goto out;
	}
	if (run->station != NULL && path != NULL)
		station_event(run->station, slot, SLOT_REFUSED, "", "%s",
		    k->why);
	else	/* a station's event says it already */
		enroll_say(run, "key %s set aside: %s",
		    enroll_key_label(path), k->why);
	enroll_key_failed(run, jb, k, cr);
	enroll_key_release(run, k);
	if (enroll_key_nopin(run, why, sizeof(why))) {
		/* every key would fail alike: the users fail, the run ends */
		keywork_done(run);
		enroll_job_fail(run, jb, "key", "no_pin", why, NULL);
		r = -1;
		goto out;
	}
	requeue(run, jb);
	r = w->path != NULL ? -1 : 1;
out:
	free(path);

	return (r);
}

void *
enroll_key_worker(void *arg)
{
	struct worker	*w = arg;
	struct run	*run = w->run;
	graph_client_t	*c = NULL;
	struct key	 k;
	struct job	*jb;
	bool		 have_key = false;
	int		 r;

	ctap_init();
	memset(&k, 0, sizeof(k));
	if (graph_client_clone(&c, run->admin) != GRAPH_OK) {
		enroll_fatal(run, ENROLL_ERR_INTERNAL,
		    "cannot create a Graph client");
		goto out;
	}
	while ((jb = next_ready(run, w)) != NULL) {
		if (!have_key) {
			if ((r = worker_key(w, &k, jb)) < 0)
				break;
			if (r > 0)
				continue;
			have_key = true;
		}
		if (key_job(run, c, &k, jb) == 1) {
			enroll_say(run, "key %s set aside: %s",
			    enroll_key_label(k.path), k.why);
			enroll_key_release(run, &k);
			have_key = false;
			if (w->path != NULL)
				break;
			continue;
		}
		if (w->one_user) {
			/* a kiosk slot: its one user is on the key */
			enroll_key_release(run, &k);
			have_key = false;
			break;
		}
		if (w->path == NULL) {
			/* one key per user: this key is done */
			enroll_key_release(run, &k);
			have_key = false;
			if (!enroll_stopping(run) && users_left(run))
				enroll_say(run, "remove the key; then insert "
				    "the next one");
		}
		if (run->o->narrate)
			headful_pause(run);
	}
out:
	if (have_key)
		enroll_key_release(run, &k);
	graph_client_free(&c);
	pthread_mutex_lock(&run->lock);
	w->finished = true;
	run->workers_alive--;
	enroll_wake(run, WAKE_ALL);
	pthread_mutex_unlock(&run->lock);

	return (NULL);
}
