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
#include "webauthn.h"

/* one user moving through the pipeline */
struct job {
	size_t			 idx;		/* in the user list */
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
	int			 attempts;
	graph_client_t		*uc;		/* --as-user: user's client */
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
	char		 why[256];	/* why it was set aside */
};

struct run {
	struct prov_ctx			*ctx;
	const struct enroll_opts	*o;
	const struct enroll_list	*users;
	journal_t			*j;
	long long			 run_id;
	report_t			*failures;
	report_t			*pins;
	graph_client_t			*admin;

	pthread_mutex_t			 lock;
	pthread_cond_t			 cond;
	size_t				 next_in;	/* next user to fetch */
	size_t				 prefetching;
	size_t				 keywork;
	struct queue			 ready;
	struct queue			 post;
	size_t				 ready_cap;
	size_t				 workers_alive;
	size_t				 posting;
	bool				 stop;		/* fatal or Ctrl+C */
	int				 fatal;		/* EXIT_* or 0 */
	char				 fatal_msg[512];
	size_t				 enrolled;
	size_t				 already;
	size_t				 failed;
	size_t				 skipped;
	size_t				 finished;
	pthread_mutex_t			 tty;		/* prompts, pins */
	progress_t			*prog;
	long long			 t0;
	char				 used[64][256];	/* one-per-user */
	size_t				 nused;
	char				 nopin[256];	/* no PIN for any
							   key: why */
};

/*
 * Users a previous run left between makeCredential and "done": is the
 * credential among their methods?  Then they are done; else they start
 * again with a fresh challenge.
 */
struct reconcile_ctx {
	struct run	*run;
	size_t		 fixed;
};

/* enroll.c: job and run helpers shared by the stages */
void	user_key_of(const struct enroll_user *, char *, size_t);
struct job *q_pop(struct queue *);
void	job_free(struct job *);
void	job_finish(struct run *, struct job *, size_t *,
	    enum progress_outcome, const char *, const char *);
void	graph_fail(struct run *, struct job *, graph_client_t *,
	    const char *, int);
int	journal_set(struct run *, struct job *, enum journal_state,
	    const struct journal_fields *);
void	set_fatal(struct run *, int, const char *);
bool	stopping(struct run *);

/* enroll_post.c */
void	*poster(void *);
int	reconcile_one(const journal_entry_t *, void *);
int	write_report(struct run *);

/* enroll_key.c */
int	key_acquire(struct run *, struct key *, const char *path,
	    const char *user);
void	key_release(struct run *, struct key *);
int	key_wait_fresh(struct run *, char **path, const char *user);
int	key_list_usable(struct run *, char ***paths, size_t *n);
bool	key_nopin(struct run *, char *why, size_t len);

/* enroll.c */
void	job_fail(struct run *, struct job *, const char *stage,
	    const char *code, const char *msg, const char *request_id);
void	run_say(struct run *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* PROV_ENROLL_INT_H */
