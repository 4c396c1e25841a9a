/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Run set-up: open the outputs and the journal, reconcile what an
 * interrupted run left, start prefetchers, key workers and posters,
 * and sum up when they are done.  The journal gets every transition
 * before the next step starts.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"
#include "mailer.h"

/*
 * Where the pools start: two Graph round trips per user ahead of each
 * key (bench/RESULTS.md); they grow from there when Graph is slow.
 */
#define PREFETCHERS_START	16
#define POSTERS_START		8

static int
open_outputs(struct run *run)
{
	char err[1024];

	/*
	 * The failures file is made at the first failure (job.c); one
	 * that could not be is refused now, before any key is touched.
	 */
	if (run->o->failures_path != NULL &&
	    report_check(run->o->failures_path, err, sizeof(err)) !=
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
	/* refused before any key is touched: the letters must have a home,
	 * and the module that draws them */
	if (run->o->mailers_dir != NULL && !run->o->dry_run &&
	    (mailer_load(NULL, err, sizeof(err)) != MAILER_OK ||
	    mailer_dir_check(run->o->mailers_dir, err, sizeof(err)) !=
	    MAILER_OK)) {
		fprintf(stderr, "provisioning: --mailers: %s\n", err);
		return (-1);
	}

	return (0);
}

/*
 * What no key took: fail it with the reason, its own last key failure
 * if a key tried it, else the run's last one.
 */
static void
fail_leftovers(struct run *run)
{
	struct job		*jb;
	struct enroll_user	 u;
	const char		*code = "no_key";
	char			 why[640], own[640];
	size_t			 n, first;
	bool			 nopin;

	if ((nopin = enroll_key_nopin(run, why, sizeof(why))))
		code = "no_pin";
	else if (run->last_why[0] != '\0') {
		snprintf(why, sizeof(why), "no usable security key left; the "
		    "last one failed: %s", run->last_why);
		code = run->last_code;
	} else
		snprintf(why, sizeof(why), "no usable security key left (see "
		    "the messages above)");
	while ((jb = enroll_queue_pop(&run->ready)) != NULL) {
		if (run->stop || enroll_interrupted(run))
			enroll_job_free(jb);
		else if (!nopin && jb->why[0] != '\0') {
			snprintf(own, sizeof(own), "%s; no usable security "
			    "key left", jb->why);
			enroll_job_fail(run, jb, "key", jb->why_code, own,
			    NULL);
		} else
			enroll_job_fail(run, jb, "key", code, why, NULL);
	}
	if (run->stop || enroll_interrupted(run) || run->o->dry_run)
		return;
	/* the users no prefetcher took: one at a time, as they come */
	for (;;) {
		if (enroll_take_users(run, &u, 1, &n, &first) < 0 || n == 0)
			break;
		if ((jb = calloc(1, sizeof(*jb))) == NULL) {
			enroll_user_clear(&u);
			break;
		}
		jb->idx = first;
		jb->user = u;
		enroll_job_fail(run, jb, "key", code, why, NULL);
	}
}

/* an output that lost a row is an error of the run, named */
static int
close_output(report_t **rp, const char *what)
{
	char err[512];

	if (report_close(rp, err, sizeof(err)) == REPORT_OK)
		return (0);
	fprintf(stderr, "provisioning: cannot write the %s: %s\n", what, err);

	return (-1);
}

static void *
admit_main(void *arg)
{
	enroll_admit_setup(arg);

	return (NULL);
}

/* a thread that pthread_create() could not start: fatal for the run */
static void
start_failed(struct run *run, int e)
{
	char	msg[256];

	snprintf(msg, sizeof(msg), "cannot start a thread (%s): raise the "
	    "limit on processes or memory (ulimit -u, ulimit -v; TasksMax "
	    "for a systemd unit), or use fewer keys at once", strerror(e));
	enroll_fatal(run, ENROLL_ERR_LOCAL, msg);
}

int
enroll_run(const struct enroll_opts *o, const struct enroll_hooks *hooks,
    graph_client_t *admin, const struct enroll_source *users,
    const char *source, struct enroll_summary *sum)
{
	struct run		 run;
	struct reconcile_ctx	 rc;
	struct worker		 w[64];
	pthread_t		 hub, adm;
	char			 path[4096], **keys = NULL;
	size_t			 nkeys = 0, nw = 0, npre, npost, i;
	size_t			 unstarted;
	int			 r = ENROLL_ERR_LOCAL, jr, terr = 0;
	bool			 admitting = false;
	/* a kiosk: a worker per key as keys are plugged in */
	bool			 hubbed = o->station && !o->as_user &&
				    o->keys_mode == KEYS_ONE_PER_USER;

	memset(&run, 0, sizeof(run));
	memset(sum, 0, sizeof(*sum));
	run.hooks = hooks;
	run.admin = admin;
	run.o = o;
	run.used = o->used_keys != NULL ? o->used_keys : &run.own_used;
	run.src = users;
	run.total = users->total;
	run.t0 = now_ms();
	pthread_mutex_init(&run.lock, NULL);
	pthread_mutex_init(&run.src_lock, NULL);
	pthread_mutex_init(&run.tty, NULL);
	pthread_mutex_init(&run.failures_lock, NULL);
	pthread_cond_init(&run.keys_cv, NULL);
	pthread_cond_init(&run.post_cv, NULL);
	pthread_cond_init(&run.room_cv, NULL);
	pthread_cond_init(&run.resolved_cv, NULL);
	if (open_outputs(&run) < 0)
		goto out;
	if (o->station_keep != NULL) {
		/* the caller's, across rounds: the totals add up */
		run.station = o->station_keep;
		station_add_total(run.station, users->total);
	} else if (o->station) {
		struct station_opts so;

		memset(&so, 0, sizeof(so));
		so.json = o->station_json;
		so.plain = o->station_plain;
		so.status_file = o->status_file;
		so.total = users->total;
		if (station_new(&so, &run.station) != STATION_OK)
			goto out;
	}
	/* the board shows the progress: no second display on the tty */
	if (progress_new(stderr, users->total, station_has_board(run.station) ?
	    PROGRESS_QUIET : PROGRESS_AUTO, &run.prog) != PROGRESS_OK)
		goto out;
	if (!o->dry_run && o->journal_path != NULL) {
		if ((jr = journal_open(o->journal_path, &run.j)) !=
		    JOURNAL_OK) {
			fprintf(stderr, "provisioning: journal %s: %s\n",
			    o->journal_path, journal_strerr(jr));
			r = ENROLL_ERR_LOCAL;
			goto out;
		}
		if (journal_run_begin(run.j, "enroll", source, &run.run_id) !=
		    JOURNAL_OK) {
			r = ENROLL_ERR_LOCAL;
			goto out;
		}
		memset(&rc, 0, sizeof(rc));
		rc.run = &run;
		if (journal_pending_reconcile(run.j, enroll_reconcile_one,
		    &rc) != JOURNAL_OK) {
			r = rc.err != 0 ? rc.err : ENROLL_ERR_LOCAL;
			goto out;
		}
		if (rc.fixed > 0)
			log_info("resume: %zu interrupted users reconciled "
			    "with Graph", rc.fixed);
	}
	/*
	 * What Entra will accept, read once, before any key is touched for
	 * a user: the request is in flight while the keys are listed (the
	 * listing only asks each key what it is) and the first users are
	 * resolved.
	 */
	if (pthread_create(&adm, NULL, admit_main, &run) == 0) {
		thread_name(adm, "admit");
		admitting = true;
	} else {
		enroll_admit_setup(&run);
		run.admitted = true;
	}
	/* the keys, one worker each (one worker for one-key-per-user) */
	if (!o->dry_run && hubbed) {
		/* the hub counts as a worker until it ends */
		nw = 0;
	} else if (!o->dry_run) {
		if (o->keys_mode == KEYS_ONE_PER_USER || o->as_user) {
			w[nw].run = &run;
			w[nw].path = NULL;
			nw++;
		} else {
			if (enroll_keys_usable(&run, &keys, &nkeys) < 0) {
				r = ENROLL_ERR_KEY;
				goto out;
			}
			if (nkeys == 0) {
				fprintf(stderr, "provisioning: no usable "
				    "security key attached\n");
				r = ENROLL_ERR_KEY;
				goto out;
			}
			if (o->keys_mode == KEYS_SAME && nkeys > 1 &&
			    o->device == NULL) {
				fprintf(stderr, "provisioning: --same-key "
				    "with %zu keys attached: name the one to "
				    "use with --device (see 'provisioning "
				    "devices'), or leave one attached\n",
				    nkeys);
				r = ENROLL_ERR_LOCAL;
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
	run.workers_alive = nw + (hubbed ? 1 : 0);
	/* a hub's keys come and go: a few users ready for the next ones */
	run.ready_cap = hubbed ? 4 : nw * 2 + 1;
	/*
	 * One GET a user once $batch resolves them: a prefetcher per key
	 * and one more keep the keys fed (a second per key measured the
	 * same throughput, and each holds a Graph connection).
	 */
	npre = o->as_user ? 1 : nw + 1 < PREFETCHERS_START ? nw + 1 :
	    PREFETCHERS_START;
	npost = nw < POSTERS_START ? (nw ? nw : 1) : POSTERS_START;
	if (hubbed) {
		npre = 8;
		npost = 4;
	}
	if (o->dry_run)
		npost = 0;
	/*
	 * A thread that cannot start (a process or memory limit) stops the
	 * run before any key is touched; only what started is joined.
	 */
	run.prefetchers.name = "prefetch";
	run.prefetchers.fn = enroll_prefetcher;
	/* --as-user signs users in one at a time */
	run.prefetchers.max = o->as_user ? 1 : POOL_MAX;
	run.posters.name = "post";
	run.posters.fn = enroll_poster;
	run.posters.max = o->dry_run ? 0 : POOL_MAX;
	terr = enroll_pool_start(&run, &run.prefetchers, npre);
	for (i = 0; terr == 0 && i < nw; i++) {
		if ((terr = pthread_create(&w[i].tid, NULL, enroll_key_worker,
		    &w[i])) != 0)
			break;
		thread_name(w[i].tid, "key %zu", i + 1);
	}
	unstarted = nw - i;
	nw = i;
	if (hubbed && (terr != 0 || (terr = pthread_create(&hub, NULL,
	    enroll_hub, &run)) != 0)) {
		unstarted++;
		hubbed = false;
	} else if (hubbed)
		thread_name(hub, "hub");
	if (terr == 0)
		terr = enroll_pool_start(&run, &run.posters, npost);
	if (terr != 0) {
		pthread_mutex_lock(&run.lock);
		run.workers_alive -= unstarted;
		pthread_mutex_unlock(&run.lock);
		start_failed(&run, terr);
	}
	/*
	 * The prefetchers resolve users while the policy is read; a user's
	 * profiles, and so any key, wait for it (enroll_admit_wait()).
	 */
	if (admitting) {
		pthread_join(adm, NULL);
		admitting = false;
		pthread_mutex_lock(&run.lock);
		run.admitted = true;
		enroll_wake(&run, WAKE_ROOM);
		pthread_mutex_unlock(&run.lock);
	}
	for (i = 0; i < nw; i++)
		pthread_join(w[i].tid, NULL);
	if (hubbed)
		pthread_join(hub, NULL);
	pthread_mutex_lock(&run.lock);
	enroll_wake(&run, WAKE_ALL);
	pthread_mutex_unlock(&run.lock);
	enroll_pool_join(&run, &run.prefetchers);
	enroll_pool_join(&run, &run.posters);
	fail_leftovers(&run);
	if (enroll_write_report(&run) < 0)
		sum->output_failed = true;
	/* both, each named: | not || */
	if ((close_output(&run.failures, "failures file") |
	    close_output(&run.pins, "PIN file")) < 0 || run.failures_err)
		sum->output_failed = true;
	sum->enrolled = run.enrolled;
	sum->failed = run.failed;
	sum->skipped = run.skipped + run.already;
	sum->earlier = run.already;
	sum->total = users->total;
	sum->no_pin = enroll_key_nopin(&run, path, sizeof(path));
	sum->letters = run.letters;
	sum->letters_missing = run.letters_missing;
	sum->unprinted = run.unprinted;
	if (run.fatal) {
		if (run.fatal_shown)
			fprintf(stderr, "provisioning: stopped: the other users "
			    "would fail the same way (see above); they are left "
			    "for a re-run\n");
		else	/* often Graph's own words */
			fprintf(stderr, "provisioning: stopped: %s\n",
			    text_safe(run.fatal_msg, path, sizeof(path)));
		r = run.fatal;
	} else if (enroll_interrupted(&run))
		r = ENROLL_ERR_CANCELLED;
	else if (sum->output_failed)
		r = ENROLL_ERR_LOCAL;
	else
		r = run.failed > 0 || run.finished < users->total ?
		    ENROLL_PARTIAL : ENROLL_OK;
	if (run.j != NULL)
		journal_run_end(run.j, run.run_id, r == ENROLL_OK ?
		    JOURNAL_RUN_DONE : r == ENROLL_PARTIAL ?
		    JOURNAL_RUN_PARTIAL : r == ENROLL_ERR_CANCELLED ?
		    JOURNAL_RUN_INTERRUPTED : JOURNAL_RUN_FAILED);
out:
	if (admitting)
		pthread_join(adm, NULL);
	if (keys != NULL) {
		for (i = 0; i < nkeys; i++)
			free(keys[i]);
		free(keys);
	}
	enroll_admit_free(&run);
	journal_free(&run.j);
	report_free(&run.failures);
	report_free(&run.pins);
	progress_free(&run.prog);
	if (o->station_keep == NULL)
		station_free(&run.station);
	pthread_mutex_destroy(&run.lock);
	pthread_mutex_destroy(&run.src_lock);
	pthread_mutex_destroy(&run.tty);
	pthread_mutex_destroy(&run.failures_lock);
	pthread_cond_destroy(&run.keys_cv);
	pthread_cond_destroy(&run.post_cv);
	pthread_cond_destroy(&run.room_cv);
	pthread_cond_destroy(&run.resolved_cv);

	return (r);
}

/*
 * The report lists every user of this input that is enrolled, whenever
 * it happened: written from the journal at the end, so a re-run after
 * a crash leaves a report that agrees with Graph.  Appended: rows the
 * file holds already (by credential id) are not written again, and
 * rows of earlier runs, other inputs or other state directories stay.
 */
int
enroll_write_report(struct run *run)
{
	report_t		*rep = NULL;
	struct report_success	 rs;
	journal_entry_t		 e;
	struct enroll_user	 u;
	char			 err[512], key[JOURNAL_KEY_LEN];
	int			 r = -1, rc = REPORT_OK, sr;

	if (run->o->report_path == NULL || run->j == NULL)
		return (0);
	if (report_open(run->o->report_path, run->o->report_jsonl ?
	    REPORT_SUCCESS_JSONL : REPORT_SUCCESS_CSV, &rep, err,
	    sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: cannot write the report: %s\n",
		    err);
		return (-1);
	}
	report_sync_at_close(rep);
	/* the source again, from its first user */
	if ((sr = run->src->rewind(run->src->arg)) < 0) {
		fprintf(stderr, "provisioning: the report %s misses this "
		    "run's users: the input could not be read again; a re-run "
		    "writes them\n", run->o->report_path);
		goto fail;
	}
	while ((sr = run->src->next(run->src->arg, &u)) == 0) {
		enroll_user_key(&u, key, sizeof(key));
		if (journal_user_get(run->j, key, &e) != JOURNAL_OK ||
		    e.state != JOURNAL_ST_DONE)
			continue;
		memset(&rs, 0, sizeof(rs));
		rs.user = e.upn;
		rs.user_id = e.object_id;
		rs.method_id = e.method_id;
		rs.credential_id = e.credential_id;
		rs.aaguid = e.aaguid;
		rs.model = e.model;
		rs.display_name = e.display_name;
		rs.device = e.device;
		rs.attestation = e.attestation;
		rs.passkey_type = e.passkey_type;
		rs.warning = e.warning;
		/* a failed write is kept in rep and said by report_close() */
		if ((rc = report_success(rep, &rs)) != REPORT_OK &&
		    rc != REPORT_ERR_IO)
			goto fail;
	}
	/* a source that failed has said why */
	if (sr < 0) {
		fprintf(stderr, "provisioning: the report %s misses this "
		    "run's users: the input could not be read again; a re-run "
		    "writes them\n", run->o->report_path);
		goto fail;
	}
	r = 0;
fail:
	if (report_close(&rep, err, sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: cannot write the report: %s\n",
		    err);
		r = -1;
	} else if (r < 0 && rc != REPORT_OK)
		fprintf(stderr, "provisioning: cannot write the report %s: "
		    "%s\n", run->o->report_path, report_strerr(rc));

	return (r);
}

const char *
enroll_strerr(int r)
{
	switch (r) {
	case ENROLL_OK:
		return ("every user enrolled or skipped");
	case ENROLL_PARTIAL:
		return ("some users failed");
	case ENROLL_ERR_INTERNAL:
		return ("internal error (out of memory or a bug)");
	case ENROLL_ERR_LOCAL:
		return ("the journal, an output file or the options are "
		    "unusable");
	case ENROLL_ERR_AUTH:
		return ("not signed in, or not allowed");
	case ENROLL_ERR_KEY:
		return ("no usable security key");
	case ENROLL_ERR_NET:
		return ("Graph or the network failed");
	case ENROLL_ERR_CANCELLED:
		return ("cancelled");
	default:
		return ("unknown error");
	}
}

enroll_keymemo_t *
enroll_keymemo_new(void)
{
	return (calloc(1, sizeof(enroll_keymemo_t)));
}

void
enroll_keymemo_free(enroll_keymemo_t **kp)
{
	if (kp == NULL || *kp == NULL)
		return;
	free(*kp);
	*kp = NULL;
}
