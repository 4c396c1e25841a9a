/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * enroll|auto|kiosk --queue: a station of a fleet.  It claims users
 * from the queue (as many at a time as it has key workers), reconciles
 * with Graph a user whose lease ran out after its key was touched (is
 * the recorded credential among the user's passkeys?), runs the
 * pipeline on the claimed users with the queue as its journal
 * (enroll_opts.steps: every step committed before the next action),
 * renews the leases from a heartbeat thread, and gives back what the
 * run did not finish.
 *
 * The database lost: the step that could not be recorded stops the run
 * (a key touched is posted only once the queue has its credential id),
 * the station takes no new work, and it reconnects; the users it held
 * come back to the fleet when their leases run out.
 *
 * enroll --queue stops when the queue holds nothing queued or in
 * flight (users another station holds may still come back to it);
 * auto and kiosk keep waiting for work.
 *
 * Why a lease that runs out cannot give a user a second passkey.
 * Station A records the credential (key_touched, committed) before its
 * POST.  Let t be when A sent its last renewal that came back; the
 * server set lease_until = its now() + L, later than t, so another
 * station B claims the user no earlier than t + L.  A sends no POST
 * attempt, and aborts the one in flight, once t + L - L/4 has passed
 * (send_ms(), graph_set_guard(): libcurl asks about once a second); a
 * POST of A's has therefore ended on A's side at least L/4, less that
 * second, before B can claim.  B, claiming a user with a
 * credential recorded, looks for it among the user's passkeys first:
 * found, the user is done; not found, B sends A's recorded registration
 * again (enroll_resend()), since Graph may store A's request after A
 * hung up on it: Graph keeps one of the two, and only its refusal (the
 * challenge spent or run out, so A's cannot land either) makes B start
 * over.  This holds with the station's monotonic clock and the
 * server's running at the same rate (no synchronisation needed).  The
 * heartbeat (its own
 * thread, every L/3) keeps t recent however long a touch or a POST
 * takes; only a station whose renewals stop gives its users up.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "ctap.h"
#include "enroll.h"
#include "extern.h"
#include "graph.h"
#include "journal.h"
#include "queue.h"

#define SLOTS_MAX	32
#define DB_WAIT_S	120	/* reconnect attempts before giving up */

struct slot {
	struct queue_item	 it;
	long long		 held_ms;	/* now_ms() the lease surely
						   lasts to: sent + lease */
	bool			 ended;		/* done, failed, skipped */
	bool			 lost;		/* another station's now */
	bool			 abandoned;	/* lease uncertain: left to
						   run out, not renewed */
	bool			 failed;	/* ended as failed */
};

struct station {
	queue_t			*q;
	int			 lease;
	pthread_mutex_t		 lock;
	struct slot		 s[SLOTS_MAX];
	size_t			 n;
	bool			 db_lost;
	/* heartbeat */
	pthread_mutex_t		 hb_lock;
	pthread_cond_t		 hb_cond;
	bool			 hb_stop;
};

/*
 * The margin between the end of any POST attempt and the earliest
 * moment another station may claim the user: for a registration Graph
 * stores a little after the client gave up on it.
 */
static long long
grace_ms(const struct station *st)
{
	return ((long long)st->lease * 1000 / 4);
}

/* a lease renewed by a call sent at t0 lasts to t0 + lease, at least */
static void
held_to(struct station *st, struct slot *sl, long long t0)
{
	long long t = t0 + (long long)st->lease * 1000;

	if (t > sl->held_ms)
		sl->held_ms = t;
}

/*
 * enroll_steps.send_ms: how long the user's registration POST may still
 * run.  The lease is known only as of the last renewal that came back
 * (the heartbeat's, or a step's); once what is left of it falls under
 * the margin the user is given up: its POST is not sent, or aborted,
 * its lease not renewed, so that nobody else claims the user while a
 * POST of ours may still land.
 */
static long long
send_ms(void *arg, size_t idx)
{
	struct station	*st = arg;
	struct slot	*sl;
	long long	 left;
	bool		 tell = false;
	char		 who[QUEUE_KEY_LEN];

	if (idx >= st->n)
		return (0);
	pthread_mutex_lock(&st->lock);
	sl = &st->s[idx];
	left = sl->lost || sl->abandoned || sl->ended ? 0 :
	    sl->held_ms - now_ms() - grace_ms(st);
	if (left < GRAPH_GUARD_MIN_MS && !sl->abandoned && !sl->lost &&
	    !sl->ended) {
		sl->abandoned = true;
		tell = true;
		snprintf(who, sizeof(who), "%s", sl->it.upn[0] ?
		    sl->it.upn : sl->it.user_key);
	}
	pthread_mutex_unlock(&st->lock);
	if (tell)
		log_warn("queue: %s: the lease is no longer renewed (the "
		    "database has not answered for %lld s): its "
		    "registration is abandoned here and the user is left "
		    "for the next claim to reconcile with Graph", who,
		    (long long)st->lease - (left + grace_ms(st)) / 1000);
	return (left < 0 ? 0 : left);
}

static bool
sleep_or_stop(int ms)
{
	struct timespec	ts = { 0, 100 * 1000 * 1000 };
	long long	end = now_ms() + ms;

	while (!sig_interrupted() && now_ms() < end)
		nanosleep(&ts, NULL);
	return (sig_interrupted());
}

/* enroll_opts.steps: the pipeline's journal transitions, to the queue */
static int
step_cb(void *arg, size_t idx, int state, const struct journal_fields *jf)
{
	struct station		*st = arg;
	struct slot		*sl;
	struct queue_item	 it;
	struct queue_fields	 f;
	enum queue_state	 qs;
	long long		 t0;
	char			 why[QUEUE_MSG_LEN];
	int			 r;

	switch (state) {
	case JOURNAL_ST_RESOLVED:
		qs = QUEUE_ST_RESOLVED;
		break;
	case JOURNAL_ST_OPTIONS_FETCHED:
		qs = QUEUE_ST_OPTIONS_FETCHED;
		break;
	case JOURNAL_ST_KEY_TOUCHED:
		qs = QUEUE_ST_KEY_TOUCHED;
		break;
	case JOURNAL_ST_DONE:
		qs = QUEUE_ST_DONE;
		break;
	case JOURNAL_ST_FAILED:
		qs = QUEUE_ST_FAILED;
		break;
	case JOURNAL_ST_SKIPPED:
		qs = QUEUE_ST_SKIPPED;
		break;
	default:
		return (0);	/* pending: the claim says so already */
	}
	if (idx >= st->n)
		return (-1);
	sl = &st->s[idx];
	pthread_mutex_lock(&st->lock);
	if (sl->lost || sl->abandoned || sl->ended) {
		r = sl->lost || sl->abandoned ? ENROLL_STEP_LOST : 0;
		pthread_mutex_unlock(&st->lock);
		return (r);
	}
	pthread_mutex_unlock(&st->lock);
	memset(&f, 0, sizeof(f));
	if (jf != NULL) {
		f.upn = jf->upn;
		f.object_id = jf->object_id;
		f.credential_id = jf->credential_id;
		f.device = jf->device;
		f.aaguid = jf->aaguid;
		f.model = jf->model;
		f.display_name = jf->display_name;
		f.method_id = jf->method_id;
		f.attestation = jf->attestation;
		f.stage = jf->stage;
		f.error_code = jf->error_code;
		f.message = qs == QUEUE_ST_SKIPPED ? jf->reason : jf->message;
		f.request_id = jf->request_id;
		f.body = jf->body;
	}
	if (qs == QUEUE_ST_FAILED && f.message == NULL)
		f.message = "failed";
	pthread_mutex_lock(&st->lock);
	it = sl->it;
	pthread_mutex_unlock(&st->lock);
	t0 = now_ms();
	r = queue_step(st->q, &it, qs, &f);
	if (r == QUEUE_ERR_STATE) {
		/* added twice (UPN, object id): the other row has the user */
		log_info("queue: %s: %s; skipped here", it.user_key,
		    queue_errmsg(st->q));
		memset(&f, 0, sizeof(f));
		/* the next call clears the handle's message */
		snprintf(why, sizeof(why), "%s", queue_errmsg(st->q));
		f.message = why;
		f.stage = "resolve";
		f.error_code = "duplicate";
		if ((r = queue_step(st->q, &it, QUEUE_ST_SKIPPED, &f)) ==
		    QUEUE_OK) {
			pthread_mutex_lock(&st->lock);
			sl->it = it;
			sl->ended = true;
			pthread_mutex_unlock(&st->lock);
			return (ENROLL_STEP_LOST);
		}
	}
	pthread_mutex_lock(&st->lock);
	sl->it = it;
	if (r == QUEUE_OK)
		held_to(st, sl, t0);
	if (r == QUEUE_OK && (qs == QUEUE_ST_DONE ||
	    qs == QUEUE_ST_FAILED || qs == QUEUE_ST_SKIPPED))
		sl->ended = true;
	if (r == QUEUE_OK && qs == QUEUE_ST_FAILED)
		sl->failed = true;
	if (r == QUEUE_ERR_LOST)
		sl->lost = true;
	if (r == QUEUE_ERR_CONNECT)
		st->db_lost = true;
	pthread_mutex_unlock(&st->lock);
	if (r != QUEUE_OK)
		log_warn("queue: %s", queue_errmsg(st->q));
	if (r == QUEUE_OK)
		return (0);
	return (r == QUEUE_ERR_LOST ? ENROLL_STEP_LOST : -1);
}

static void *
heartbeat(void *arg)
{
	struct station		*st = arg;
	struct queue_item	 it;
	struct timespec		 ts;
	size_t			 i;
	bool			 busy;
	long long		 t0;
	int			 every = st->lease / 3 > 0 ? st->lease / 3 : 1;
	int			 r;

	pthread_mutex_lock(&st->hb_lock);
	while (!st->hb_stop) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += every;
		(void)pthread_cond_timedwait(&st->hb_cond, &st->hb_lock, &ts);
		if (st->hb_stop)
			break;
		pthread_mutex_unlock(&st->hb_lock);
		/*
		 * This process's claims only: those of an earlier process
		 * of the same station name that died must run out.
		 */
		for (i = 0; ; i++) {
			pthread_mutex_lock(&st->lock);
			if (i >= st->n) {
				pthread_mutex_unlock(&st->lock);
				break;
			}
			busy = !st->s[i].ended && !st->s[i].lost &&
			    !st->s[i].abandoned;
			it = st->s[i].it;
			pthread_mutex_unlock(&st->lock);
			if (!busy)
				continue;
			t0 = now_ms();
			r = queue_renew(st->q, &it);
			pthread_mutex_lock(&st->lock);
			if (i < st->n && st->s[i].it.id == it.id) {
				if (r == QUEUE_OK)
					held_to(st, &st->s[i], t0);
				else if (r == QUEUE_ERR_LOST)
					st->s[i].lost = true;
			}
			pthread_mutex_unlock(&st->lock);
			if (r != QUEUE_OK)
				log_warn("queue heartbeat: %s",
				    queue_errmsg(st->q));
		}
		pthread_mutex_lock(&st->hb_lock);
	}
	pthread_mutex_unlock(&st->hb_lock);
	return (NULL);
}

/*
 * A claim whose key was touched before its lease ran out: the POST may
 * have reached Graph.  1 done (found), 0 start over, -1 cannot tell.
 */
static int
reconcile(struct station *st, graph_client_t *admin, struct slot *sl)
{
	graph_methods_t		*ms = NULL;
	graph_method_t		*sent = NULL;
	const graph_method_t	*m;
	struct queue_fields	 f;
	const char		*uid;
	char			*body = NULL;
	double			 age = 0;
	int			 r, gr, how;

	uid = sl->it.object_id[0] ? sl->it.object_id : sl->it.upn[0] ?
	    sl->it.upn : sl->it.user_key;
	if ((gr = graph_fido2_list(admin, uid, &ms)) != GRAPH_OK) {
		log_warn("queue: cannot check %s's passkeys: %s", uid,
		    graph_strerr(gr));
		return (-1);
	}
	if ((m = graph_methods_find_cred(ms, sl->it.credential_id)) == NULL) {
		/* the earlier claim's POST may still land: send it again */
		if (queue_body(st->q, &sl->it, &body, &age) != QUEUE_OK) {
			graph_methods_free(&ms);
			return (-1);
		}
		how = enroll_resend(admin, uid, uid, sl->it.credential_id,
		    body, age, &sent);
		free(body);
		if (how == ENROLL_RESEND_UNKNOWN || how == ENROLL_RESEND_AUTH) {
			graph_methods_free(&ms);
			return (-1);
		}
		m = sent;
	}
	memset(&f, 0, sizeof(f));
	if (m != NULL) {
		f.method_id = graph_method_id(m);
		f.attestation = graph_method_attestation_level(m);
		r = queue_step(st->q, &sl->it, QUEUE_ST_DONE, &f);
		if (sent == NULL)
			log_info("queue: %s was registered by %s before its "
			    "lease ran out", uid, sl->it.prev_station[0] ?
			    sl->it.prev_station : "an earlier claim");
		else
			log_info("queue: %s is registered with the credential "
			    "%s left", uid, sl->it.prev_station[0] ?
			    sl->it.prev_station : "an earlier claim");
		graph_method_free(&sent);
		graph_methods_free(&ms);
		return (r == QUEUE_OK ? 1 : -1);
	}
	graph_methods_free(&ms);
	log_info("queue: %s: the credential %s left was not registered; "
	    "starting over", uid, sl->it.prev_station[0] ?
	    sl->it.prev_station : "an earlier claim");
	return (queue_step(st->q, &sl->it, QUEUE_ST_CLAIMED, NULL) ==
	    QUEUE_OK ? 0 : -1);
}

/* how many users at a time: one per key with --parallel, else one */
static size_t
slots_for(const struct enroll_opts *o)
{
	ctap_devlist_t	*dl;
	size_t		 n = 1;

	if (o->keys_mode != KEYS_PARALLEL)
		return (1);
	if ((dl = ctap_devlist_new()) != NULL && ctap_devlist_scan(dl,
	    o->device, o->virtual_keys, false) == CTAP_OK)
		n = ctap_devlist_len(dl);
	ctap_devlist_free(&dl);
	return (n < 1 ? 1 : n > SLOTS_MAX ? SLOTS_MAX : n);
}

/* nothing queued and nothing in flight: the queue is worked off */
static int
worked_off(struct station *st)
{
	struct queue_status	s;
	int			r, k;
	size_t			busy = 0;

	if ((r = queue_status(st->q, &s)) != QUEUE_OK)
		return (-1);
	for (k = QUEUE_ST_QUEUED; k <= QUEUE_ST_KEY_TOUCHED; k++)
		busy += s.count[k];
	queue_status_reset(&s);
	return (busy == 0);
}

int
cli_station_run(struct prov_ctx *ctx, int mode_enroll, struct enroll_opts *o,
    const struct enroll_hooks *hooks, int lease, int interval_s)
{
	struct station		 st;
	struct slot		 claim;
	struct enroll_steps	 steps;
	struct enroll_list	 l;
	struct enroll_list_source ls;
	struct enroll_source	 users;
	struct enroll_summary	 sum, tot;
	graph_client_t		*admin = NULL;
	pthread_t		 hb;
	bool			 hb_on = false;
	size_t			 i, want;
	long long		 down_since = 0, t_start = now_ms(), qms, t0;
	unsigned long long	 qcalls;
	int			 r, qr, er, rc;
	const char		*ref;

	memset(&st, 0, sizeof(st));
	memset(&l, 0, sizeof(l));
	memset(&tot, 0, sizeof(tot));
	pthread_mutex_init(&st.lock, NULL);
	pthread_mutex_init(&st.hb_lock, NULL);
	pthread_cond_init(&st.hb_cond, NULL);
	st.lease = lease;
	if ((r = cli_queue_open(ctx, &st.q)) != EXIT_OK ||
	    (r = cli_admin_open(ctx, &admin)) != EXIT_OK)
		goto out;
	if (pthread_create(&hb, NULL, heartbeat, &st) == 0) {
		thread_name(hb, "heartbeat");
		hb_on = true;
	}
	/* one key per user across the claims, not per claim */
	if ((o->used_keys = enroll_keymemo_new()) == NULL) {
		r = EXIT_USAGE;
		goto out;
	}
	steps.step = step_cb;
	steps.send_ms = send_ms;
	steps.arg = &st;
	o->steps = &steps;
	o->journal_path = NULL;		/* the queue is the journal */
	want = slots_for(o);
	log_info("queue: station %s, %zu user%s at a time, lease %d s",
	    cli_station(ctx), want, want == 1 ? "" : "s", lease);
	r = EXIT_OK;
	for (;;) {
		if (sig_interrupted()) {
			r = EXIT_INTR;
			break;
		}
		/* claim; a lease run out after a touch is reconciled first */
		pthread_mutex_lock(&st.lock);
		st.n = 0;
		st.db_lost = false;
		pthread_mutex_unlock(&st.lock);
		qr = QUEUE_OK;
		while (st.n < want) {
			memset(&claim, 0, sizeof(claim));
			t0 = now_ms();
			if ((qr = queue_claim(st.q, lease, &claim.it)) !=
			    QUEUE_OK)
				break;
			held_to(&st, &claim, t0);
			if (claim.it.reconcile &&
			    (rc = reconcile(&st, admin, &claim)) != 0) {
				if (rc > 0)
					continue;	/* done: another */
				(void)queue_release(st.q, &claim.it);
				break;
			}
			/* the heartbeat reads the slots */
			pthread_mutex_lock(&st.lock);
			st.s[st.n++] = claim;
			pthread_mutex_unlock(&st.lock);
		}
		if (qr == QUEUE_ERR_CONNECT || qr == QUEUE_ERR_DB) {
			log_warn("queue: %s", queue_errmsg(st.q));
			if (down_since == 0)
				down_since = now_ms();
		} else
			down_since = 0;
		if (st.n == 0) {
			if (down_since != 0) {
				if (now_ms() - down_since > DB_WAIT_S * 1000) {
					fprintf(stderr, "provisioning: the "
					    "queue database is unreachable: "
					    "%s\n", queue_errmsg(st.q));
					r = EXIT_NET;
					break;
				}
				if (sleep_or_stop(2000))
					continue;
				continue;
			}
			if (qr != QUEUE_ERR_EMPTY && qr != QUEUE_ERR_DRAINING &&
			    qr != QUEUE_OK) {
				fprintf(stderr, "provisioning: queue: %s\n",
				    queue_errmsg(st.q));
				r = cli_queue_exit(qr);
				break;
			}
			if (mode_enroll && qr == QUEUE_ERR_DRAINING) {
				log_info("queue: draining: no new work");
				break;
			}
			if (mode_enroll && worked_off(&st) == 1)
				break;
			/* users in flight elsewhere may come back to us */
			if (sleep_or_stop(mode_enroll ? 1000 :
			    interval_s * 1000))
				continue;
			continue;
		}
		for (i = 0; i < st.n; i++) {
			ref = st.s[i].it.upn[0] ? st.s[i].it.upn :
			    st.s[i].it.object_id[0] ? st.s[i].it.object_id :
			    st.s[i].it.user_key;
			if (enroll_list_add(&l, ref, NULL, NULL, 0) < 0) {
				r = EXIT_USAGE;
				goto out;
			}
		}
		memset(&sum, 0, sizeof(sum));
		enroll_source_list(&users, &ls, &l);
		er = enroll_run(o, hooks, admin, &users, "queue", &sum);
		enroll_list_reset(&l);
		tot.enrolled += sum.enrolled;
		tot.skipped += sum.skipped;
		tot.total += sum.total;
		/* failed in the queue: not those given back or abandoned */
		for (i = 0; i < st.n; i++)
			tot.failed += st.s[i].failed;
		/* what the run did not finish goes back to the fleet */
		/* not those abandoned: their leases must run out first */
		for (i = 0; i < st.n; i++)
			if (!st.s[i].ended && !st.s[i].lost &&
			    !st.s[i].abandoned &&
			    queue_release(st.q, &st.s[i].it) != QUEUE_OK)
				log_warn("queue: %s (its lease will run out)",
				    queue_errmsg(st.q));
		if (st.db_lost) {
			log_warn("queue: lost the database: no new work until "
			    "it is back");
			if (down_since == 0)
				down_since = now_ms();
			continue;
		}
		if (er != ENROLL_OK && er != ENROLL_PARTIAL) {
			r = cli_enroll_exit(er);
			break;
		}
		if (sum.no_pin) {
			r = EXIT_KEY;
			break;
		}
	}
	fprintf(stderr, "\nstation %s: %zu enrolled, %zu failed, %zu "
	    "skipped, of %zu claims\n", cli_station(ctx), tot.enrolled,
	    tot.failed, tot.skipped, tot.total);
	/* what the database cost this station: read by bench/fleet.py */
	queue_stats(st.q, &qcalls, &qms);
	fprintf(stderr, "station %s: queue %llu calls, %lld ms on the "
	    "database connection in %lld ms\n", cli_station(ctx), qcalls,
	    qms, now_ms() - t_start);
	if (r == EXIT_OK && tot.failed > 0)
		r = EXIT_PARTIAL;
out:
	if (hb_on) {
		pthread_mutex_lock(&st.hb_lock);
		st.hb_stop = true;
		pthread_cond_signal(&st.hb_cond);
		pthread_mutex_unlock(&st.hb_lock);
		pthread_join(hb, NULL);
	}
	enroll_list_reset(&l);
	o->steps = NULL;
	enroll_keymemo_free(&o->used_keys);
	graph_client_free(&admin);
	queue_free(&st.q);
	pthread_cond_destroy(&st.hb_cond);
	pthread_mutex_destroy(&st.hb_lock);
	pthread_mutex_destroy(&st.lock);

	return (r);
}
