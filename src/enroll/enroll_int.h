/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared between the pieces of the enroll pipeline only.
 */

#ifndef PROV_ENROLL_INT_H
#define PROV_ENROLL_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "ctap.h"
#include "enroll.h"
#include "graph.h"
#include "journal.h"
#include "progress.h"
#include "report.h"
#include "station.h"
#include "webauthn.h"

/* one user moving through the pipeline */
struct job {
	size_t			 idx;		/* in the source's order */
	struct enroll_user	 user;		/* as the source gave it:
						   the job's own copy */
	char			 key[JOURNAL_KEY_LEN];	/* journal key */
	char			*upn;
	char			*id;
	char			*name;		/* displayName */
	webauthn_options_t	*opts;
	char			*cdata;
	size_t			 cdlen;
	ctap_cred_t		*cred;
	char			*cred_b64;
	char			*body;
	char			*display;	/* of the passkey */
	char			 device[256];
	char			 model[128];
	/* for the PIN letter (--mailers), kept from the key */
	char			*pin;		/* secret: wiped with the job */
	char			 serial[128];
	char			 slot[128];
	int			 attempts;
	char			 why[512];	/* its last key failure */
	char			 why_code[32];
	graph_client_t		*uc;		/* --as-user: user's client */
	uint32_t		 profiles;	/* the user's passkey
						   profiles (admit.c) */
	long long		 jseq;		/* its last journal commit */
	struct job		*next;
};

struct queue {
	struct job	*head;
	struct job	*tail;
	size_t		 n;
};

/* an authenticator in use by a worker */
struct key {
	char		*path;
	char		*serial;
	char		*product;
	ctap_dev_t	*dev;
	char		*pin;		/* secret: wiped on release */
	size_t		 min_pin;
	bool		 authnr_cfg;
	int		 successes;
	char		 aaguid[40];	/* from getInfo */
	char		 refused[32];	/* the verdict's code (KEY_REFUSED) */
	bool		 opened;	/* open and getInfo went through */
	char		 why[448];	/* why it was set aside */
};

/* the keys a one-key-per-user run has used (enroll_keymemo_t) */
struct enroll_keymemo {
	char	used[64][256];
	size_t	n;
};

/*
 * An attestation certificate already checked against its AAGUID: a
 * model's keys share one, so the check is done once a run, not once
 * a user.
 */
#define ATT_MEMO_MAX	8
struct att_memo {
	unsigned char	*der;
	size_t		 len;
	char		 aaguid[40];
	int		 r;		/* mds_attestation_aaguid()'s */
	char		 err[256];
};

/*
 * The prefetchers or the posters: threads that each wait on Graph, as
 * many as its latency asks for (pool.c).
 */
#define POOL_MAX	32
struct pool {
	const char	*name;		/* threads are "name N" */
	void		*(*fn)(void *);	/* given the run */
	pthread_t	 tid[POOL_MAX];
	size_t		 n;		/* started (run->lock) */
	size_t		 busy;		/* at work (run->lock) */
	size_t		 max;
	bool		 stuck;		/* a thread could not start */
};

struct run {
	const struct enroll_hooks	*hooks;
	const struct enroll_opts	*o;
	const struct enroll_source	*src;
	pthread_mutex_t			 src_lock;	/* the source, one
							   reader at a time */
	size_t				 total;		/* users it gives */
	bool				 src_end;	/* gave its last, or
							   failed (run->lock) */
	journal_t			*j;
	long long			 run_id;
	report_t			*failures;	/* at the first
							   failure */
	pthread_mutex_t			 failures_lock;
	bool				 failures_err;	/* said once */
	report_t			*pins;
	graph_client_t			*admin;
	graph_policy_t			*policy;	/* read once, or
							   NULL: no check */
	struct mds			*mds;		/* stored FIDO
							   metadata, or NULL */
	bool				 mds_stale;
	bool				 admitted;	/* policy and mds
							   set (run->lock) */
	struct att_memo			 att[ATT_MEMO_MAX];	/* run->lock */
	size_t				 natt;

	pthread_mutex_t			 lock;
	/* one per kind of waiter, so an event wakes only who needs it */
	pthread_cond_t			 keys_cv;	/* key workers */
	pthread_cond_t			 post_cv;	/* posters */
	pthread_cond_t			 room_cv;	/* prefetchers */
	pthread_cond_t			 resolved_cv;	/* idle prefetchers */
	size_t				 next_in;	/* users taken from the
							   source */
	struct pool			 prefetchers;	/* busy: from a
							   job's leaving the
							   queue or source */
	struct pool			 posters;
	long long			 retried_ms;	/* a Graph call last
							   needed a retry */
	size_t				 resolving;	/* chunks in a $batch */
	size_t				 keywork;
	struct queue			 resolved;	/* any prefetcher fetches
							   their options */
	struct queue			 ready;
	struct queue			 post;
	size_t				 ready_cap;
	size_t				 workers_alive;
	bool				 stop;		/* fatal or Ctrl+C */
	int				 fatal;		/* ENROLL_ERR_* or 0 */
	char				 fatal_msg[512];
	bool				 fatal_shown;	/* as a user's
							   failure line */
	size_t				 enrolled;
	size_t				 already;
	size_t				 failed;
	size_t				 skipped;
	size_t				 finished;
	size_t				 letters;	/* --mailers */
	size_t				 letters_missing;
	size_t				 unprinted;
	pthread_mutex_t			 tty;		/* prompts, pins */
	progress_t			*prog;
	station_t			*station;	/* kiosk, or NULL */
	long long			 t0;
	struct enroll_keymemo		 own_used;	/* one-per-user */
	struct enroll_keymemo		*used;	/* own_used, or the
						   caller's (o->used_keys) */
	char				 nopin[256];	/* no PIN for any
							   key: why */
	char				 last_why[512];	/* the last key
							   failure, */
	char				 last_code[32];	/* for users no
							   key took */
};

/* a key worker: its own key, or (path NULL) one key per user */
struct worker {
	struct run	*run;
	char		*path;
	pthread_t	 tid;
	bool		 one_user;	/* a kiosk slot: one user, then done */
	bool		 gone;		/* the key was pulled (run->lock) */
	bool		 finished;	/* the thread is done (run->lock) */
	bool		 took;		/* it took a user (run->lock) */
};

/*
 * Users a previous run left between makeCredential and "done": is the
 * credential among their methods?  Then they are done; else they start
 * again with a fresh challenge.
 */
struct reconcile_ctx {
	struct run	*run;
	size_t		 fixed;
	int		 err;		/* ENROLL_ERR_* that stopped it */
};

/* job.c: the run's shared state, and how a job ends */
void	enroll_user_key(const struct enroll_user *, char *, size_t);
int	enroll_take_users(struct run *, struct enroll_user *, size_t max,
	    size_t *n, size_t *first);
void	enroll_user_clear(struct enroll_user *);
bool	enroll_users_coming(const struct run *);
void	enroll_say(struct run *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	enroll_queue_push(struct queue *, struct job *, bool front);
struct job *enroll_queue_pop(struct queue *);
void	enroll_job_clear(struct job *);
void	enroll_job_free(struct job *);
void	enroll_job_finish(struct run *, struct job *, size_t *,
	    enum progress_outcome, const char *, const char *);
void	enroll_job_fail(struct run *, struct job *, const char *stage,
	    const char *code, const char *msg, const char *request_id);
void	enroll_job_skip(struct run *, struct job *, const char *, bool);
void	enroll_graph_fail(struct run *, struct job *, graph_client_t *,
	    const char *, int);
/*
 * Under run->lock: wake the waiters an event concerns (WAKE_* bits),
 * every one of them, or one of each with WAKE_ONE (a job or a free place
 * in a queue is for one taker).
 */
#define WAKE_KEYS	0x01	/* key workers: a ready job, the end */
#define WAKE_POST	0x02	/* posters: a job to post, the end */
#define WAKE_ROOM	0x04	/* prefetchers: room in the ready queue */
#define WAKE_RESOLVED	0x10	/* idle prefetchers: resolved users, the
				   end of a $batch */
#define WAKE_ALL	(WAKE_KEYS | WAKE_POST | WAKE_ROOM | WAKE_RESOLVED)
#define WAKE_ONE	0x08
void	enroll_wake(struct run *, int);

int	enroll_journal_set(struct run *, struct job *, enum journal_state,
	    const struct journal_fields *);
/*
 * The same without waiting for the disk; enroll_journal_sync() before
 * the action it stands for makes it durable (one fsync for many).
 */
int	enroll_journal_mark(struct run *, struct job *, enum journal_state,
	    const struct journal_fields *);
/*
 * enroll_journal_mark() for n jobs taken together, in one commit; -1 if
 * the journal failed (the run stops).  lost[i]: the fleet queue gave
 * job i's user to another station (abandon it).
 */
int	enroll_journal_mark_jobs(struct run *, struct job **, size_t,
	    enum journal_state, const struct journal_fields *, bool *lost);
int	enroll_journal_sync(struct run *, struct job *);
/* steps.c: the step to o->steps, if any; 0, or -1 to abandon the user */
int	enroll_steps_tell(struct run *, struct job *, enum journal_state,
	    const struct journal_fields *);
void	enroll_fatal(struct run *, int, const char *);
bool	enroll_stopping(struct run *);
bool	enroll_interrupted(const struct run *);
void	enroll_watch(const struct run *, ctap_dev_t *);
void	enroll_unwatch(const struct run *, ctap_dev_t *);

/* pool.c: under run->lock but start and join */
int	enroll_pool_start(struct run *, struct pool *, size_t);
void	enroll_pool_more(struct run *, struct pool *);
void	enroll_pool_idle(struct run *, struct pool *, graph_client_t *);
void	enroll_pool_join(struct run *, struct pool *);

/* prefetch.c */
void	*enroll_prefetcher(void *);
int	enroll_fetch_options(struct run *, graph_client_t *, struct job *);
bool	enroll_holds_passkey(struct run *, struct job *);
bool	enroll_options_stale(const struct job *);

/* keywork.c: a key failed this job (jb may be NULL): remembered */
void	enroll_key_failed(struct run *, struct job *, const struct key *,
	    int);

/* keys.c */
int	enroll_key_acquire(struct run *, struct key *, const char *path,
	    const struct job *);
void	enroll_key_release(struct run *, struct key *);
int	enroll_key_wait_fresh(struct run *, char **path, const char *user);
int	enroll_keys_usable(struct run *, char ***paths, size_t *n);
int	enroll_keys_list(struct run *, bool probe, char ***paths, size_t *n);
bool	enroll_key_nopin(struct run *, char *why, size_t len);
const char *enroll_key_label(const char *path);
void	enroll_short_id(const char *id, char *, size_t);

/* keywork.c */
void	*enroll_key_worker(void *);
void	*enroll_hub(void *);

/* post.c */
void	*enroll_poster(void *);

/* letters.c: PIN letters (--mailers, --print) */
void	enroll_letter_keep(const struct run *, struct job *,
	    const struct key *);
void	enroll_letter(struct run *, struct job *, const char *model);

/* admit.c: would Entra accept the key (before and after the touch) */
#define KEY_REFUSED	3	/* a key_code(): the policy refuses the key */
void	enroll_admit_setup(struct run *);
void	enroll_admit_free(struct run *);
void	enroll_admit_wait(struct run *);
int	enroll_admit_user(struct run *, graph_client_t *, struct job *);
bool	enroll_admit_key(struct run *, const struct job *, struct key *,
	    const char *aaguid, struct enroll_verdict *);
int	enroll_admit_attestation(struct run *, const struct job *,
	    const ctap_cred_t *, char *, size_t);
size_t	enroll_admit_dry(struct run *, const struct job *);

/* resume.c */
int	enroll_reconcile_one(const journal_entry_t *, void *);

/* run.c */
int	enroll_write_report(struct run *);

#endif /* PROV_ENROLL_INT_H */
