/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The enroll pipeline (see enroll.h).  Three kinds of threads share one
 * struct run under its lock:
 *
 *   prefetchers  take the next user, resolve them and fetch their
 *                creationOptions, so a challenge is ready when a key
 *                frees up (the ready queue is bounded: challenges
 *                expire after five minutes);
 *   key workers  one per key: makeCredential, self-check, getAssertion;
 *                a key that fails (pulled, wrong PIN, full) is set aside
 *                and its user goes back to the ready queue;
 *   posters      register the credential with Graph and record it.
 *
 * The journal gets every transition before the next step starts.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

/* two Graph round trips per user ahead of each key; bench/RESULTS.md */
#define PREFETCHERS_MAX		16
#define POSTERS_MAX		8
#define EXPIRY_MARGIN_S		60	/* re-fetch a challenge this close */

int
enroll_list_add(struct enroll_list *l, const char *ref, const char *upn,
    const char *id, size_t line)
{
	struct enroll_user	*v;
	size_t			 cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 64;
		if ((v = reallocarray(l->v, cap, sizeof(*v))) == NULL)
			return (-1);
		l->v = v;
		l->cap = cap;
	}
	v = &l->v[l->n];
	memset(v, 0, sizeof(*v));
	if ((v->ref = strdup(ref)) == NULL ||
	    (upn != NULL && (v->upn = strdup(upn)) == NULL) ||
	    (id != NULL && (v->id = strdup(id)) == NULL)) {
		free(v->ref);
		free(v->upn);
		return (-1);
	}
	v->line = line;
	l->n++;

	return (0);
}

void
enroll_list_reset(struct enroll_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].ref);
		free(l->v[i].upn);
		free(l->v[i].id);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* the journal key of a list entry, before Graph resolved it */
void
user_key_of(const struct enroll_user *u, char *buf, size_t len)
{
	const char *upn = u->upn, *id = u->id;

	if (upn == NULL && id == NULL) {
		if (strchr(u->ref, '@') != NULL)
			upn = u->ref;
		else
			id = u->ref;
	}
	if (journal_user_key(upn, id, buf, len) != JOURNAL_OK)
		snprintf(buf, len, "%s", u->ref);
}

/* a note for the operator, above the progress bar on a terminal */
void
run_say(struct run *run, const char *fmt, ...)
{
	va_list	ap;
	char	buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	progress_note(run->prog, "%s", buf);
}

static void
q_push(struct queue *q, struct job *jb, bool front)
{
	jb->next = NULL;
	if (q->head == NULL)
		q->head = q->tail = jb;
	else if (front) {
		jb->next = q->head;
		q->head = jb;
	} else {
		q->tail->next = jb;
		q->tail = jb;
	}
	q->n++;
}

struct job *
q_pop(struct queue *q)
{
	struct job *jb;

	if ((jb = q->head) == NULL)
		return (NULL);
	q->head = jb->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	jb->next = NULL;

	return (jb);
}

/* what one key made; the creationOptions stay for the next key */
static void
job_clear_attempt(struct job *jb)
{
	ctap_cred_free(&jb->cred);
	free(jb->cdata);
	free(jb->cred_b64);
	free(jb->body);
	free(jb->display);
	jb->cdata = jb->cred_b64 = jb->body = jb->display = NULL;
	jb->cdlen = 0;
}

void
job_free(struct job *jb)
{
	if (jb == NULL)
		return;
	job_clear_attempt(jb);
	webauthn_options_free(&jb->opts);
	graph_client_free(&jb->uc);
	free(jb->upn);
	free(jb->id);
	free(jb->name);
	free(jb);
}

static const char *
job_user(const struct job *jb, const struct run *run)
{
	return (jb->upn != NULL ? jb->upn : run->users->v[jb->idx].ref);
}

/* a terminal state: counted, announced, freed */
void
job_finish(struct run *run, struct job *jb, size_t *counter,
    enum progress_outcome outcome, const char *what, const char *detail)
{
	progress_event(run->prog, outcome, job_user(jb, run), what, detail);
	pthread_mutex_lock(&run->lock);
	(*counter)++;
	run->finished++;
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
	job_free(jb);
}

void
job_fail(struct run *run, struct job *jb, const char *stage,
    const char *code, const char *msg, const char *request_id)
{
	struct journal_fields		jf;
	struct report_failure		rf;
	char				what[64], detail[1024];

	memset(&jf, 0, sizeof(jf));
	jf.stage = stage;
	jf.error_code = code;
	jf.message = msg;
	jf.request_id = request_id != NULL && *request_id ? request_id : NULL;
	if (run->j != NULL && jb->key[0] != '\0' &&
	    journal_user_set_state(run->j, jb->key, JOURNAL_ST_FAILED,
	    &jf) != JOURNAL_OK)
		log_warn("journal: cannot record the failure of %s",
		    job_user(jb, run));
	memset(&rf, 0, sizeof(rf));
	rf.user = job_user(jb, run);
	rf.stage = stage;
	rf.error_code = code;
	rf.message = msg;
	rf.request_id = request_id;
	if (run->failures != NULL && report_failure(run->failures, &rf) !=
	    REPORT_OK)
		log_warn("cannot write to %s", report_path(run->failures));
	snprintf(what, sizeof(what), "FAILED at %s", stage);
	snprintf(detail, sizeof(detail), "%s%s%s", msg,
	    request_id != NULL && *request_id ? "; request-id " : "",
	    request_id != NULL && *request_id ? request_id : "");
	job_finish(run, jb, &run->failed, PROGRESS_FAILED, what, detail);
}

static void
job_skip(struct run *run, struct job *jb, const char *reason, bool already)
{
	struct journal_fields jf;

	memset(&jf, 0, sizeof(jf));
	jf.reason = reason;
	if (run->j != NULL && !already && jb->key[0] != '\0')
		(void)journal_user_set_state(run->j, jb->key,
		    JOURNAL_ST_SKIPPED, &jf);
	job_finish(run, jb, already ? &run->already : &run->skipped,
	    already ? PROGRESS_DONE : PROGRESS_SKIPPED,
	    already ? "already enrolled" : "skipped", reason);
}

void
set_fatal(struct run *run, int code, const char *msg)
{
	pthread_mutex_lock(&run->lock);
	if (!run->stop) {
		run->stop = true;
		run->fatal = code;
		/* a long Graph message is cut, not lost: it is logged too */
		if (snprintf(run->fatal_msg, sizeof(run->fatal_msg), "%s",
		    msg) >= (int)sizeof(run->fatal_msg))
			log_info("%s", msg);
	}
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
}

bool
stopping(struct run *run)
{
	if (sig_interrupted() && !run->stop) {
		pthread_mutex_lock(&run->lock);
		run->stop = true;
		pthread_cond_broadcast(&run->cond);
		pthread_mutex_unlock(&run->lock);
	}

	return (run->stop);
}

/* a Graph failure: fatal for the whole run (auth) or for this user */
void
graph_fail(struct run *run, struct job *jb, graph_client_t *c,
    const char *stage, int r)
{
	char		 msg[1024];
	const char	*gm = graph_last_message(c), *hint = graph_last_hint(c);

	/* the client may store graph_strerr() as the message: say it once */
	if (strcmp(gm, graph_strerr(r)) == 0)
		gm = "";
	snprintf(msg, sizeof(msg), "%s%s%s%s%s", graph_strerr(r),
	    *gm ? ": " : "", gm, *hint || r == GRAPH_ERR_TLS ? "; " : "",
	    *hint ? hint :
	    r == GRAPH_ERR_TLS ? "behind a TLS-inspecting proxy, pass its "
	    "root with --ca-bundle FILE" : "");
	/* no session, or no TLS trust: no other user can do better */
	if (r == GRAPH_ERR_LOGIN_REQUIRED || r == GRAPH_ERR_AUTH ||
	    r == GRAPH_ERR_TLS) {
		set_fatal(run, r == GRAPH_ERR_TLS ? EXIT_NET : EXIT_AUTH, msg);
		job_fail(run, jb, stage, *graph_last_code(c) ?
		    graph_last_code(c) : r == GRAPH_ERR_TLS ? "tls" : "auth", msg,
		    graph_last_request_id(c));
		return;
	}
	job_fail(run, jb, stage, *graph_last_code(c) ? graph_last_code(c) :
	    "graph", msg, graph_last_request_id(c));
}

int
journal_set(struct run *run, struct job *jb, enum journal_state st,
    const struct journal_fields *jf)
{
	int r;

	if (run->j == NULL)
		return (0);
	if ((r = journal_user_set_state(run->j, jb->key, st, jf)) !=
	    JOURNAL_OK) {
		/* without the journal a crash could register twice: stop */
		set_fatal(run, EXIT_USAGE, "cannot write the journal");
		log_warn("journal: %s (%s)", journal_strerr(r),
		    journal_errmsg(run->j));
		return (-1);
	}

	return (0);
}

/* creationOptions for the job's user; parsed, checked, journalled */
static int
fetch_options(struct run *run, graph_client_t *c, struct job *jb)
{
	char	*json = NULL, err[256];
	int	 r;

	webauthn_options_free(&jb->opts);
	if ((r = graph_creation_options(jb->uc != NULL ? jb->uc : c,
	    jb->uc != NULL ? NULL : jb->id, run->o->challenge_minutes,
	    &json)) != GRAPH_OK) {
		graph_fail(run, jb, jb->uc != NULL ? jb->uc : c, "options", r);
		return (-1);
	}
	r = webauthn_options_parse(json, strlen(json), &jb->opts, err,
	    sizeof(err));
	free(json);
	if (r != WEBAUTHN_OK) {
		job_fail(run, jb, "options", "bad_options", err, NULL);
		return (-1);
	}
	if (journal_set(run, jb, JOURNAL_ST_OPTIONS_FETCHED, NULL) < 0) {
		job_fail(run, jb, "journal", "journal", "cannot write the "
		    "journal", NULL);
		return (-1);
	}

	return (0);
}

static bool
options_stale(const struct job *jb)
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
		if ((r = graph_tap_create(admin, jb->id, 60, true, &tap,
		    NULL)) != GRAPH_OK) {
			graph_fail(run, jb, admin, "tap", r);
			return (-1);
		}
		pthread_mutex_lock(&run->tty);
		{
			FILE *tty = fopen("/dev/tty", "w");

			/* shown to the operator only: never logged */
			if (tty != NULL) {
				fprintf(tty, "\nTemporary Access Pass for %s "
				    "(one use, 60 minutes): %s\n\n", jb->upn,
				    tap);
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
		graph_fail(run, jb, jb->uc != NULL ? jb->uc : admin, "signin",
		    r);
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
 * A credential of an earlier attempt that the resume could not look up
 * in Graph (reconcile_one() leaves it in place) may be registered:
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

/* resolve + options for one user; the job is queued or finished */
static void
prefetch_one(struct run *run, graph_client_t *c, size_t idx)
{
	const struct enroll_user	*u = &run->users->v[idx];
	graph_user_t			*gu = NULL;
	struct journal_fields		 jf;
	struct job			*jb;
	const char			*type;
	int				 r;

	if ((jb = calloc(1, sizeof(*jb))) == NULL) {
		set_fatal(run, EXIT_USAGE, "out of memory");
		return;
	}
	jb->idx = idx;
	user_key_of(u, jb->key, sizeof(jb->key));
	if (journal_done(run, jb)) {
		job_skip(run, jb, "already enrolled (journal)", true);
		return;
	}
	if (unreconciled(run, jb)) {
		job_fail(run, jb, "resume", "outcome_unknown", "an earlier "
		    "registration may have reached Graph, which could not be "
		    "asked; run again when Graph answers", NULL);
		return;
	}
	memset(&jf, 0, sizeof(jf));
	jf.upn = strchr(u->ref, '@') ? u->ref : NULL;
	if (journal_set(run, jb, JOURNAL_ST_PENDING, &jf) < 0) {
		job_free(jb);
		return;
	}
	log_info("%s: looking the user up in Entra ID", u->ref);
	if ((r = graph_user_get(c, u->id != NULL ? u->id : u->ref, &gu)) !=
	    GRAPH_OK) {
		if (r == GRAPH_ERR_NOT_FOUND)
			job_fail(run, jb, "resolve", "user_not_found",
			    "no such user in the tenant; check the UPN or "
			    "object id", graph_last_request_id(c));
		else
			graph_fail(run, jb, c, "resolve", r);
		return;
	}
	if ((jb->upn = strdup(graph_user_upn(gu))) == NULL ||
	    (jb->id = strdup(graph_user_id(gu))) == NULL ||
	    (jb->name = strdup(graph_user_display_name(gu))) == NULL) {
		graph_user_free(&gu);
		job_fail(run, jb, "resolve", "internal", "out of memory", NULL);
		return;
	}
	type = graph_user_type(gu);
	if (strcasecmp(type, "Guest") == 0) {
		graph_user_free(&gu);
		job_fail(run, jb, "resolve", "guest_user", "guest accounts "
		    "cannot hold passkeys in Entra ID (not supported for "
		    "internal or external guests)", NULL);
		return;
	}
	if (!graph_user_enabled(gu)) {
		graph_user_free(&gu);
		job_fail(run, jb, "resolve", "account_disabled", "the "
		    "account is disabled; enable it in Entra ID first", NULL);
		return;
	}
	graph_user_free(&gu);
	memset(&jf, 0, sizeof(jf));
	jf.upn = jb->upn;
	jf.object_id = jb->id;
	if (journal_set(run, jb, JOURNAL_ST_RESOLVED, &jf) < 0) {
		job_free(jb);
		return;
	}
	/* the journal now knows the user by object id */
	journal_user_key(jb->upn, jb->id, jb->key, sizeof(jb->key));
	if (journal_done(run, jb)) {
		job_skip(run, jb, "already enrolled (journal)", true);
		return;
	}
	if (run->o->as_user && user_signin(run, c, jb) < 0)
		return;
	log_info("%s: %s (%s) found; fetching a registration challenge",
	    u->ref, jb->upn, jb->id);
	if (fetch_options(run, c, jb) < 0)
		return;
	if (run->o->dry_run) {
		job_finish(run, jb, &run->skipped, PROGRESS_SKIPPED,
		    "ready (dry run: no touch, no registration)",
		    webauthn_options_rp_id(jb->opts));
		return;
	}
	pthread_mutex_lock(&run->lock);
	q_push(&run->ready, jb, false);
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
}

static void *
prefetcher(void *arg)
{
	struct run	*run = arg;
	graph_client_t	*c = NULL;
	size_t		 idx;

	if (graph_client_clone(&c, run->admin) != GRAPH_OK) {
		set_fatal(run, EXIT_USAGE, "cannot create a Graph client");
		return (NULL);
	}
	for (;;) {
		pthread_mutex_lock(&run->lock);
		while (!run->stop && run->ready.n >= run->ready_cap &&
		    run->workers_alive > 0)
			pthread_cond_wait(&run->cond, &run->lock);
		if (run->stop || run->next_in >= run->users->n ||
		    (run->workers_alive == 0 && !run->o->dry_run)) {
			pthread_mutex_unlock(&run->lock);
			break;
		}
		idx = run->next_in++;
		run->prefetching++;
		pthread_mutex_unlock(&run->lock);
		prefetch_one(run, c, idx);
		pthread_mutex_lock(&run->lock);
		run->prefetching--;
		pthread_cond_broadcast(&run->cond);
		pthread_mutex_unlock(&run->lock);
		if (stopping(run))
			break;
	}
	graph_client_free(&c);

	return (NULL);
}

/* next job for a key worker, or NULL when no more can come */
static struct job *
next_ready(struct run *run)
{
	struct job *jb = NULL;

	(void)stopping(run);
	pthread_mutex_lock(&run->lock);
	for (;;) {
		/* Ctrl+C: a job a cancelled key gave back stays queued */
		if (run->stop || sig_interrupted())
			break;
		if ((jb = q_pop(&run->ready)) != NULL) {
			run->keywork++;
			break;
		}
		if (run->next_in >= run->users->n && run->prefetching == 0 &&
		    run->keywork == 0)
			break;
		pthread_cond_wait(&run->cond, &run->lock);
	}
	pthread_cond_broadcast(&run->cond);
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
	job_clear_attempt(jb);
	jb->attempts++;
	pthread_mutex_lock(&run->lock);
	q_push(&run->ready, jb, true);
	run->keywork--;
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
}

static void
to_post(struct run *run, struct job *jb)
{
	pthread_mutex_lock(&run->lock);
	q_push(&run->post, jb, false);
	run->keywork--;
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
}

static void
keywork_done(struct run *run)
{
	pthread_mutex_lock(&run->lock);
	run->keywork--;
	pthread_cond_broadcast(&run->cond);
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
		graph_fail(run, jb, c, "replace", gr);
		r = JOB_GONE;
		goto out;
	}
	if ((m = graph_methods_find_cred(ms, b64)) != NULL) {
		run_say(run, "%s: --replace: removing the old passkey %s",
		    jb->upn, graph_method_id(m));
		if ((gr = graph_fido2_delete(c, jb->id,
		    graph_method_id(m))) != GRAPH_OK) {
			graph_fail(run, jb, c, "replace", gr);
			r = JOB_GONE;
			goto out;
		}
	}
	if (fetch_options(run, c, jb) < 0) {
		r = JOB_GONE;
		goto out;
	}
	if (job_prepare(jb, credp) < 0) {
		job_fail(run, jb, "key", "internal", "cannot prepare the "
		    "makeCredential request", NULL);
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
	struct journal_fields	 jf;
	ctap_cred_t		*cred = NULL;
	char			 msg[512];
	int			 cr;

	if ((jb->opts == NULL || options_stale(jb)) &&
	    fetch_options(run, c, jb) < 0) {
		keywork_done(run);
		return (0);
	}
	if (job_prepare(jb, &cred) < 0) {
		keywork_done(run);
		job_fail(run, jb, "key", "internal", "cannot prepare the "
		    "makeCredential request", NULL);
		return (0);
	}
	if (run->ctx->headful || isatty(STDERR_FILENO))
		run_say(run, "%s: touch the key %s", jb->upn, k->path);
	sig_watch(k->dev);
	cr = ctap_dev_make_cred(k->dev, cred, k->pin);
	if (cr == CTAP_ERR_EXCLUDED && run->o->replace)
		cr = replace_old(run, c, k, jb, &cred);
	sig_unwatch(k->dev);
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
	if (cr == CTAP_OK && run->o->verify)
		cr = ctap_dev_check_cred(k->dev, cred, k->pin);
	if (cr != CTAP_OK) {
		ctap_cred_free(&cred);
		if (cr == CTAP_ERR_EXCLUDED) {
			keywork_done(run);
			job_skip(run, jb, "this key already holds the user's "
			    "passkey (already registered); --replace "
			    "registers it again", false);
			return (0);
		}
		/* Ctrl+C, or the key gave up the wait: not this user's fault */
		if (cr == CTAP_ERR_CANCELLED && (sig_interrupted() ||
		    jb->attempts + 1 < run->o->max_attempts)) {
			requeue(run, jb);
			return (0);
		}
		if (key_fault(cr)) {
			snprintf(k->why, sizeof(k->why), "%s",
			    ctap_strerr(cr));
			if (cr == CTAP_ERR_PIN_INVALID &&
			    ctap_dev_retries(k->dev) >= 0)
				snprintf(k->why, sizeof(k->why), "%s (%d "
				    "retries left)", ctap_strerr(cr),
				    ctap_dev_retries(k->dev));
			if (jb->attempts + 1 >= run->o->max_attempts) {
				keywork_done(run);
				job_fail(run, jb, "key", "key_failed", k->why,
				    NULL);
				return (1);
			}
			requeue(run, jb);
			return (1);
		}
		snprintf(msg, sizeof(msg), "%s", ctap_strerr(cr));
		keywork_done(run);
		job_fail(run, jb, "key", cr == CTAP_ERR_TIMEOUT ? "no_touch" :
		    "key", msg, NULL);
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
	    &jb->display) != WEBAUTHN_OK ||
	    webauthn_body(cred, jb->display, &jb->body) != WEBAUTHN_OK) {
		keywork_done(run);
		job_fail(run, jb, "key", "internal", "cannot build the "
		    "registration body", NULL);
		return (0);
	}
	/* recorded before the POST: a crash here is found on resume */
	memset(&jf, 0, sizeof(jf));
	jf.credential_id = jb->cred_b64;
	jf.device = jb->device;
	jf.aaguid = ctap_cred_aaguid(cred);
	jf.model = jb->model;
	jf.display_name = jb->display;
	if (journal_set(run, jb, JOURNAL_ST_KEY_TOUCHED, &jf) < 0) {
		keywork_done(run);
		job_fail(run, jb, "journal", "journal", "cannot write the "
		    "journal", NULL);
		return (0);
	}
	k->successes++;
	to_post(run, jb);

	return (0);
}

struct worker {
	struct run	*run;
	char		*path;		/* NULL: one key per user */
	pthread_t	 tid;
};

static bool
users_left(struct run *run)
{
	bool left;

	pthread_mutex_lock(&run->lock);
	left = run->ready.n > 0 || run->prefetching > 0 ||
	    run->next_in < run->users->n;
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

/*
 * A key for the worker's next job: its own key, or (one key per user) a
 * key not used yet.  Returns 0 with the key ready, 1 when the job went
 * back (try again), -1 when this worker is done.
 */
static int
worker_key(struct worker *w, struct key *k, struct job *jb)
{
	struct run	*run = w->run;
	char		*path = NULL, why[256];
	int		 r = 0;

	if (w->path != NULL)
		path = strdup(w->path);
	else if (key_wait_fresh(run, &path, jb->upn) < 0) {
		requeue(run, jb);
		return (-1);
	}
	if (path != NULL && key_acquire(run, k, path, jb->upn) == CTAP_OK) {
		if (run->ctx->headful)
			run_say(run, "using key %s (%s)", k->path, k->product);
		goto out;
	}
	run_say(run, "key %s set aside: %s", path ? path : "?", k->why);
	key_release(run, k);
	if (key_nopin(run, why, sizeof(why))) {
		/* every key would fail alike: the users fail, the run ends */
		keywork_done(run);
		job_fail(run, jb, "key", "no_pin", why, NULL);
		r = -1;
		goto out;
	}
	requeue(run, jb);
	r = w->path != NULL ? -1 : 1;
out:
	free(path);

	return (r);
}

static void *
key_worker(void *arg)
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
		set_fatal(run, EXIT_USAGE, "cannot create a Graph client");
		goto out;
	}
	while ((jb = next_ready(run)) != NULL) {
		if (!have_key) {
			if ((r = worker_key(w, &k, jb)) < 0)
				break;
			if (r > 0)
				continue;
			have_key = true;
		}
		if (key_job(run, c, &k, jb) == 1) {
			run_say(run, "key %s set aside: %s", k.path, k.why);
			key_release(run, &k);
			have_key = false;
			if (w->path != NULL)
				break;
			continue;
		}
		if (w->path == NULL) {
			/* one key per user: this key is done */
			key_release(run, &k);
			have_key = false;
			if (!stopping(run) && users_left(run))
				run_say(run, "remove the key; then insert "
				    "the next one");
		}
		if (run->ctx->headful)
			headful_pause(run);
	}
out:
	if (have_key)
		key_release(run, &k);
	graph_client_free(&c);
	pthread_mutex_lock(&run->lock);
	run->workers_alive--;
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);

	return (NULL);
}

static int
open_outputs(struct run *run)
{
	char err[256];

	if (run->o->failures_path != NULL && report_open(run->o->failures_path,
	    REPORT_FAILURES, &run->failures, err, sizeof(err)) !=
	    REPORT_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		return (-1);
	}
	/* a dry run sets no PIN: it leaves no PIN file behind either */
	if (run->o->pins_out != NULL && !run->o->dry_run &&
	    report_open(run->o->pins_out, REPORT_PINS, &run->pins, err,
	    sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		return (-1);
	}

	return (0);
}

/* what no key took: fail it with the reason */
static void
fail_leftovers(struct run *run)
{
	struct job	*jb;
	const char	*code = "no_key";
	char		 why[256];

	if (!key_nopin(run, why, sizeof(why)))
		snprintf(why, sizeof(why), "no usable security key left (see "
		    "the messages above)");
	else
		code = "no_pin";
	while ((jb = q_pop(&run->ready)) != NULL) {
		if (run->stop || sig_interrupted())
			job_free(jb);
		else
			job_fail(run, jb, "key", code, why, NULL);
	}
	if (run->stop || sig_interrupted() || run->o->dry_run)
		return;
	while (run->next_in < run->users->n) {
		if ((jb = calloc(1, sizeof(*jb))) == NULL)
			break;
		jb->idx = run->next_in++;
		job_fail(run, jb, "key", code, why, NULL);
	}
}

int
enroll_run(struct prov_ctx *ctx, const struct enroll_opts *o,
    const struct enroll_list *users, const char *source,
    struct enroll_summary *sum)
{
	struct run		 run;
	struct reconcile_ctx	 rc;
	struct worker		 w[64];
	pthread_t		 pre[PREFETCHERS_MAX], pst[POSTERS_MAX];
	char			 path[4096], **keys = NULL;
	size_t			 nkeys = 0, nw = 0, npre, npost, i;
	int			 r = EXIT_USAGE, jr, gr;

	memset(&run, 0, sizeof(run));
	memset(sum, 0, sizeof(*sum));
	run.ctx = ctx;
	run.o = o;
	run.users = users;
	run.t0 = now_ms();
	pthread_mutex_init(&run.lock, NULL);
	pthread_mutex_init(&run.tty, NULL);
	pthread_cond_init(&run.cond, NULL);
	if (open_outputs(&run) < 0 || progress_new(stderr, users->n,
	    PROGRESS_AUTO, &run.prog) != PROGRESS_OK)
		goto out;
	if ((r = graph_open(ctx, &run.admin)) != EXIT_OK)
		goto out;
	if ((gr = graph_auth_load(run.admin)) != GRAPH_OK) {
		graph_report_error(run.admin, "sign-in", gr);
		if (gr == GRAPH_ERR_LOGIN_REQUIRED)
			fprintf(stderr, "provisioning: run 'provisioning "
			    "login' first\n");
		r = graph_exit_code(gr);
		goto out;
	}
	if (!o->dry_run) {
		snprintf(path, sizeof(path), "%s/%s", ctx->state_dir,
		    JOURNAL_FILE);
		if ((jr = journal_open(path, &run.j)) != JOURNAL_OK) {
			fprintf(stderr, "provisioning: journal %s: %s\n", path,
			    journal_strerr(jr));
			r = EXIT_USAGE;
			goto out;
		}
		if (journal_run_begin(run.j, "enroll", source, &run.run_id) !=
		    JOURNAL_OK) {
			r = EXIT_USAGE;
			goto out;
		}
		memset(&rc, 0, sizeof(rc));
		rc.run = &run;
		if ((r = journal_pending_reconcile(run.j, reconcile_one,
		    &rc)) != 0)
			goto out;
		if (rc.fixed > 0)
			log_info("resume: %zu interrupted users reconciled "
			    "with Graph", rc.fixed);
	}
	/* the keys, one worker each (one worker for one-key-per-user) */
	if (!o->dry_run) {
		if (o->keys_mode == KEYS_ONE_PER_USER || o->as_user) {
			w[nw].run = &run;
			w[nw].path = NULL;
			nw++;
		} else {
			if (key_list_usable(&run, &keys, &nkeys) < 0) {
				r = EXIT_KEY;
				goto out;
			}
			if (nkeys == 0) {
				fprintf(stderr, "provisioning: no usable "
				    "security key attached\n");
				r = EXIT_KEY;
				goto out;
			}
			if (o->keys_mode == KEYS_SAME && nkeys > 1 &&
			    ctx->device == NULL) {
				fprintf(stderr, "provisioning: --same-key "
				    "with %zu keys attached: name one with "
				    "--device, or use --parallel\n", nkeys);
				r = EXIT_USAGE;
				goto out;
			}
			for (i = 0; i < nkeys && nw < 64; i++) {
				if (o->keys_mode == KEYS_SAME && i > 0)
					break;
				w[nw].run = &run;
				w[nw].path = keys[i];
				nw++;
			}
		}
	}
	run.workers_alive = nw;
	run.ready_cap = nw * 2 + 1;
	npre = o->as_user ? 1 : 2 * nw + 1 < PREFETCHERS_MAX ? 2 * nw + 1 :
	    PREFETCHERS_MAX;
	npost = nw < POSTERS_MAX ? (nw ? nw : 1) : POSTERS_MAX;
	if (o->dry_run)
		npost = 0;
	for (i = 0; i < npre; i++)
		pthread_create(&pre[i], NULL, prefetcher, &run);
	for (i = 0; i < nw; i++)
		pthread_create(&w[i].tid, NULL, key_worker, &w[i]);
	for (i = 0; i < npost; i++)
		pthread_create(&pst[i], NULL, poster, &run);
	for (i = 0; i < nw; i++)
		pthread_join(w[i].tid, NULL);
	pthread_mutex_lock(&run.lock);
	pthread_cond_broadcast(&run.cond);
	pthread_mutex_unlock(&run.lock);
	for (i = 0; i < npre; i++)
		pthread_join(pre[i], NULL);
	for (i = 0; i < npost; i++)
		pthread_join(pst[i], NULL);
	fail_leftovers(&run);
	write_report(&run);
	sum->enrolled = run.enrolled + run.already;
	sum->failed = run.failed;
	sum->skipped = run.skipped;
	sum->total = users->n;
	sum->no_pin = key_nopin(&run, path, sizeof(path));
	if (run.fatal) {
		fprintf(stderr, "provisioning: stopped: %s\n", run.fatal_msg);
		r = run.fatal;
	} else if (sig_interrupted())
		r = EXIT_INTR;
	else
		r = run.failed > 0 || run.finished < users->n ?
		    EXIT_PARTIAL : EXIT_OK;
	if (run.j != NULL)
		journal_run_end(run.j, run.run_id, r == EXIT_OK ?
		    JOURNAL_RUN_DONE : r == EXIT_PARTIAL ?
		    JOURNAL_RUN_PARTIAL : r == EXIT_INTR ?
		    JOURNAL_RUN_INTERRUPTED : JOURNAL_RUN_FAILED);
out:
	if (keys != NULL) {
		for (i = 0; i < nkeys; i++)
			free(keys[i]);
		free(keys);
	}
	graph_client_free(&run.admin);
	journal_free(&run.j);
	report_free(&run.failures);
	report_free(&run.pins);
	progress_free(&run.prog);
	pthread_mutex_destroy(&run.lock);
	pthread_mutex_destroy(&run.tty);
	pthread_cond_destroy(&run.cond);

	return (r);
}
