/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The run's shared state: the user list, the job queues, how a job ends
 * (done, failed, skipped), and what stops the whole run.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

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

static int
list_next(void *arg, struct enroll_user *u)
{
	struct enroll_list_source *ls = arg;

	if (ls->pos >= ls->l->n)
		return (1);
	*u = ls->l->v[ls->pos++];

	return (0);
}

static int
list_rewind(void *arg)
{
	struct enroll_list_source *ls = arg;

	ls->pos = 0;

	return (0);
}

void
enroll_source_list(struct enroll_source *src, struct enroll_list_source *ls,
    const struct enroll_list *l)
{
	ls->l = l;
	ls->pos = 0;
	src->total = l->n;
	src->next = list_next;
	src->rewind = list_rewind;
	src->arg = ls;
}

void
enroll_user_clear(struct enroll_user *u)
{
	free(u->ref);
	free(u->upn);
	free(u->id);
	memset(u, 0, sizeof(*u));
}

/* does the source have users nobody has taken yet?  (run->lock held) */
bool
enroll_users_coming(const struct run *run)
{
	return (!run->src_end && run->next_in < run->total);
}

/*
 * Up to `max` next users of the source, each the caller's own copy;
 * *first is the position of the first.  0, or -1 when the source
 * failed: the run stops, as on a journal failure.
 */
int
enroll_take_users(struct run *run, struct enroll_user *v, size_t max,
    size_t *n, size_t *first)
{
	struct enroll_user	u;
	int			r = 0;
	bool			end = false;

	*n = 0;
	pthread_mutex_lock(&run->src_lock);
	pthread_mutex_lock(&run->lock);
	*first = run->next_in;
	end = !enroll_users_coming(run);
	pthread_mutex_unlock(&run->lock);
	while (!end && *n < max) {
		memset(&u, 0, sizeof(u));
		if ((r = run->src->next(run->src->arg, &u)) != 0) {
			end = true;
			break;
		}
		memset(&v[*n], 0, sizeof(v[*n]));
		v[*n].line = u.line;
		if ((v[*n].ref = strdup(u.ref)) == NULL ||
		    (u.upn != NULL && (v[*n].upn = strdup(u.upn)) == NULL) ||
		    (u.id != NULL && (v[*n].id = strdup(u.id)) == NULL)) {
			enroll_user_clear(&v[*n]);
			r = -2;
			end = true;
			break;
		}
		(*n)++;
	}
	pthread_mutex_lock(&run->lock);
	run->next_in += *n;
	if (end || run->next_in >= run->total)
		run->src_end = true;
	enroll_wake(run, WAKE_KEYS);
	pthread_mutex_unlock(&run->lock);
	pthread_mutex_unlock(&run->src_lock);
	if (r == -2)
		enroll_fatal(run, ENROLL_ERR_INTERNAL, "out of memory");
	else if (r < 0)
		enroll_fatal(run, ENROLL_ERR_LOCAL, "cannot read the users "
		    "(see above)");

	return (r < 0 ? -1 : 0);
}

/* the journal key of a list entry, before Graph resolved it */
void
enroll_user_key(const struct enroll_user *u, char *buf, size_t len)
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
enroll_say(struct run *run, const char *fmt, ...)
{
	va_list	ap;
	char	buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (station_has_board(run->station))
		station_note(run->station, "%s", buf);
	else
		progress_note(run->prog, "%s", buf);
}

void
enroll_queue_push(struct queue *q, struct job *jb, bool front)
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
enroll_queue_pop(struct queue *q)
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
void
enroll_job_clear(struct job *jb)
{
	ctap_cred_free(&jb->cred);
	freezero_str(jb->pin);
	jb->pin = NULL;
	free(jb->cdata);
	free(jb->cred_b64);
	free(jb->body);
	free(jb->display);
	jb->cdata = jb->cred_b64 = jb->body = jb->display = NULL;
	jb->cdlen = 0;
}

void
enroll_job_free(struct job *jb)
{
	if (jb == NULL)
		return;
	enroll_job_clear(jb);
	enroll_user_clear(&jb->user);
	webauthn_options_free(&jb->opts);
	graph_client_free(&jb->uc);
	free(jb->upn);
	free(jb->id);
	free(jb->name);
	free(jb);
}

static const char *
job_user(const struct job *jb)
{
	return (jb->upn != NULL ? jb->upn : jb->user.ref);
}

/* a terminal state: counted, announced, freed */
void
enroll_job_finish(struct run *run, struct job *jb, size_t *counter,
    enum progress_outcome outcome, const char *what, const char *detail)
{
	const char *why = detail != NULL ? detail : what != NULL ? what : "";

	progress_event(run->prog, outcome, jb->idx + 1, job_user(jb), what,
	    detail);
	if (outcome == PROGRESS_DONE)
		station_finish(run->station, jb->slot, jb->upn, TALLY_DONE,
		    "remove the key and hand it to the user");
	else if (outcome == PROGRESS_SKIPPED)
		station_finish(run->station, jb->slot, jb->upn, TALLY_SKIPPED,
		    "skipped: %s; replug the key to use it for the next user",
		    why);
	else
		station_finish(run->station, jb->slot, jb->upn, TALLY_FAILED,
		    "%s", why);
	pthread_mutex_lock(&run->lock);
	(*counter)++;
	run->finished++;
	pthread_mutex_unlock(&run->lock);
	enroll_job_free(jb);
}

/*
 * The failures file, opened at the first failure: a run where nobody
 * fails leaves none behind.  An error is said once.
 */
static int
failures_file(struct run *run)
{
	char	err[256];
	int	r = -1;

	pthread_mutex_lock(&run->failures_lock);
	if (run->failures != NULL)
		r = 0;
	else if (run->o->failures_path != NULL && !run->failures_err) {
		if (report_open(run->o->failures_path, REPORT_FAILURES,
		    &run->failures, err, sizeof(err)) == REPORT_OK)
			r = 0;
		else {
			run->failures_err = true;
			log_warn("%s (the failures are in the journal)", err);
		}
	}
	pthread_mutex_unlock(&run->failures_lock);

	return (r);
}

void
enroll_job_fail(struct run *run, struct job *jb, const char *stage,
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
		    job_user(jb));
	(void)enroll_steps_tell(run, jb, JOURNAL_ST_FAILED, &jf);
	memset(&rf, 0, sizeof(rf));
	rf.user = job_user(jb);
	rf.stage = stage;
	rf.error_code = code;
	rf.message = msg;
	rf.request_id = request_id;
	if (failures_file(run) == 0 && report_failure(run->failures, &rf) !=
	    REPORT_OK)
		log_warn("cannot write to %s", report_path(run->failures));
	snprintf(what, sizeof(what), "FAILED at %s", stage);
	snprintf(detail, sizeof(detail), "%s%s%s", msg,
	    request_id != NULL && *request_id ? "; request-id " : "",
	    request_id != NULL && *request_id ? request_id : "");
	enroll_job_finish(run, jb, &run->failed, PROGRESS_FAILED, what, detail);
}

void
enroll_job_skip(struct run *run, struct job *jb, const char *reason,
    bool already)
{
	struct journal_fields jf;

	memset(&jf, 0, sizeof(jf));
	jf.reason = reason;
	if (run->j != NULL && !already && jb->key[0] != '\0')
		(void)journal_user_set_state(run->j, jb->key,
		    JOURNAL_ST_SKIPPED, &jf);
	if (!already)
		(void)enroll_steps_tell(run, jb, JOURNAL_ST_SKIPPED, &jf);
	enroll_job_finish(run, jb, already ? &run->already : &run->skipped,
	    PROGRESS_SKIPPED, "skipped", reason);
}

void
enroll_fatal(struct run *run, int code, const char *msg)
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
	enroll_wake(run, WAKE_ALL);
	pthread_mutex_unlock(&run->lock);
}

bool
enroll_interrupted(const struct run *run)
{
	return (run->hooks->interrupted != NULL && run->hooks->interrupted());
}

void
enroll_watch(const struct run *run, ctap_dev_t *dev)
{
	if (run->hooks->watch != NULL)
		run->hooks->watch(dev);
}

void
enroll_unwatch(const struct run *run, ctap_dev_t *dev)
{
	if (run->hooks->unwatch != NULL)
		run->hooks->unwatch(dev);
}

bool
enroll_stopping(struct run *run)
{
	if (enroll_interrupted(run) && !run->stop) {
		pthread_mutex_lock(&run->lock);
		run->stop = true;
		enroll_wake(run, WAKE_ALL);
		pthread_mutex_unlock(&run->lock);
	}

	return (run->stop);
}

/* a Graph failure: fatal for the whole run (auth) or for this user */
void
enroll_graph_fail(struct run *run, struct job *jb, graph_client_t *c,
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
	/*
	 * No session, no TLS trust, or a mode the tenant refuses: no other
	 * user can do better.
	 */
	if (r == GRAPH_ERR_LOGIN_REQUIRED || r == GRAPH_ERR_AUTH ||
	    r == GRAPH_ERR_TLS || r == GRAPH_ERR_UNSUPPORTED) {
		enroll_fatal(run, r == GRAPH_ERR_TLS ||
		    r == GRAPH_ERR_UNSUPPORTED ? ENROLL_ERR_NET :
		    ENROLL_ERR_AUTH, msg);
		enroll_job_fail(run, jb, stage,
		    *graph_last_code(c)	   ? graph_last_code(c) :
			r == GRAPH_ERR_TLS ? "tls" :
			r == GRAPH_ERR_UNSUPPORTED ? "unsupported" :
					     "auth",
		    msg, graph_last_request_id(c));
		pthread_mutex_lock(&run->lock);
		if (strcmp(run->fatal_msg, msg) == 0)
			run->fatal_shown = true;
		pthread_mutex_unlock(&run->lock);
		return;
	}
	enroll_job_fail(run, jb, stage,
	    *graph_last_code(c) ? graph_last_code(c) : "graph", msg,
	    graph_last_request_id(c));
}

void
enroll_wake(struct run *run, int what)
{
	int (*wake)(pthread_cond_t *) = what & WAKE_ONE ?
	    pthread_cond_signal : pthread_cond_broadcast;

	if (what & WAKE_KEYS)
		wake(&run->keys_cv);
	if (what & WAKE_POST)
		wake(&run->post_cv);
	if (what & WAKE_ROOM)
		wake(&run->room_cv);
	if (what & WAKE_RESOLVED)
		wake(&run->resolved_cv);
}

/* without the journal a crash could register twice: stop */
static int
journal_broke(struct run *run, int r)
{
	enroll_fatal(run, ENROLL_ERR_LOCAL, "cannot write the journal");
	log_warn("journal: %s (%s)", journal_strerr(r),
	    journal_errmsg(run->j));

	return (-1);
}

int
enroll_journal_set(struct run *run, struct job *jb, enum journal_state st,
    const struct journal_fields *jf)
{
	int r;

	if (run->j != NULL && (r = journal_user_set_state(run->j, jb->key,
	    st, jf)) != JOURNAL_OK)
		return (journal_broke(run, r));

	return (enroll_steps_tell(run, jb, st, jf));
}

int
enroll_journal_mark(struct run *run, struct job *jb, enum journal_state st,
    const struct journal_fields *jf)
{
	int r;

	if (run->j != NULL && (r = journal_user_mark_state(run->j, jb->key,
	    st, jf, &jb->jseq)) != JOURNAL_OK)
		return (journal_broke(run, r));

	return (enroll_steps_tell(run, jb, st, jf));
}

int
enroll_journal_mark_jobs(struct run *run, struct job **jbs, size_t n,
    enum journal_state st, const struct journal_fields *jf, bool *lost)
{
	const char	**keys = NULL;
	long long	  seq = 0;
	size_t		  i;
	int		  r;

	if (run->j != NULL && n > 0) {
		if ((keys = calloc(n, sizeof(*keys))) == NULL) {
			enroll_fatal(run, ENROLL_ERR_INTERNAL, "out of memory");
			return (-1);
		}
		for (i = 0; i < n; i++)
			keys[i] = jbs[i]->key;
		r = journal_users_mark_state(run->j, keys, jf, n, st, &seq);
		free(keys);
		if (r != JOURNAL_OK)
			return (journal_broke(run, r));
		for (i = 0; i < n; i++)
			jbs[i]->jseq = seq;
	}
	for (i = 0; i < n; i++)
		lost[i] = enroll_steps_tell(run, jbs[i], st, jf != NULL ?
		    &jf[i] : NULL) < 0;

	return (0);
}

int
enroll_journal_sync(struct run *run, struct job *jb)
{
	int r;

	if (run->j != NULL && (r = journal_sync(run->j, jb->jseq)) !=
	    JOURNAL_OK)
		return (journal_broke(run, r));

	return (0);
}
