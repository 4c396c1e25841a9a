/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The enroll pipeline: users in, passkeys out.
 *
 *   prefetchers: resolve user -> creationOptions      (Graph, ahead)
 *   key workers: PIN -> makeCredential -> getAssertion (one per key)
 *   posters:     POST fido2Methods -> journal -> report (Graph)
 *
 * Every step is journalled before the next one starts, so a re-run
 * reconciles an interrupted user with Graph instead of registering a
 * second passkey.
 */

#ifndef PROV_ENROLL_H
#define PROV_ENROLL_H

#include <stdbool.h>
#include <stddef.h>

#include "graph.h"

#define PIN_RANDOM	0
#define PIN_ASK		1
#define PIN_KEEP	2

#define KEYS_ONE_PER_USER	0	/* default: swap keys between users */
#define KEYS_SAME		1	/* --same-key */
#define KEYS_PARALLEL		2	/* --parallel: one worker per key */

/*
 * The PINs this process gave keys (and, loaded from --pins-out, the
 * ones an earlier run gave), by key (serial, else path): the next round
 * of auto, or a re-run, uses them instead of setting the key aside as
 * "already has a PIN".  Thread-safe; PINs are wiped on free.
 */
typedef struct enroll_pinbook enroll_pinbook_t;

enroll_pinbook_t *enroll_pinbook_new(void);
void	enroll_pinbook_free(enroll_pinbook_t **);
/* the rows of a pins file; a missing file is none */
int	enroll_pinbook_load(enroll_pinbook_t *, const char *pins_path,
	    char *err, size_t errlen);
int	enroll_pinbook_put(enroll_pinbook_t *, const char *key,
	    const char *pin);
/* a copy of the PIN for `key` (free with freezero_str), or NULL */
char	*enroll_pinbook_get(enroll_pinbook_t *, const char *key);

/*
 * A credential recorded before an interruption (a run killed, a lease
 * run out) and not among the user's passkeys: its POST may still be
 * held by Graph and stored later, so the recorded registration `body`
 * is sent again rather than a new credential made.  `age_s`: seconds
 * since it was recorded; past ENROLL_RESEND_WINDOW_S Graph's list is
 * taken as the answer (a request is not pending that long, and the
 * key may have been reset since).  `who` names the user in the log.
 */
#define ENROLL_RESEND_WINDOW_S	600

enum enroll_resend {
	ENROLL_RESEND_STORED,	/* *m: the method Graph holds now */
	ENROLL_RESEND_REFUSED,	/* cannot land any more: start over */
	ENROLL_RESEND_UNKNOWN,	/* cannot tell: leave the user as is */
	ENROLL_RESEND_AUTH,	/* not signed in, or not allowed */
};

enum enroll_resend enroll_resend(graph_client_t *, const char *user_id,
	    const char *who, const char *cred, const char *body, double age_s,
	    graph_method_t **m);

/*
 * A second journal beside journal_path (the fleet queue): told every
 * step of user `idx` (0-based, in the source's order; state: a
 * JOURNAL_ST_*, fields as in journal.h) after the journal has it and
 * before the pipeline's next externally visible action (the key, the
 * POST).  It returns 0 to go on, ENROLL_STEP_LOST if the user is no
 * longer this run's (it is abandoned: not touched, not posted), or
 * another negative value to stop the run as a journal failure would
 * (ENROLL_ERR_NET).
 */
struct journal_fields;

#define ENROLL_STEP_LOST	(-2)

/*
 * send_ms (may be NULL): how many milliseconds the registration POST of
 * user `idx` may still run (the lease the queue holds for it, less a
 * margin); asked before and during each attempt (graph_set_guard()),
 * so that no POST is in flight once another station may claim the
 * user.  A POST it stops leaves the user abandoned, for the next claim
 * to reconcile.
 */
struct enroll_steps {
	int		(*step)(void *arg, size_t idx, int state,
			    const struct journal_fields *);
	long long	(*send_ms)(void *arg, size_t idx);
	void		*arg;
};

/*
 * One key per user: the keys used so far, forgotten as each is pulled
 * out.  A caller that runs the pipeline again and again for one
 * station (a fleet station, once per claim) keeps one across the runs,
 * so that a key left in after its user is not given the next user too.
 */
typedef struct enroll_keymemo enroll_keymemo_t;
enroll_keymemo_t	*enroll_keymemo_new(void);
void			 enroll_keymemo_free(enroll_keymemo_t **);

struct enroll_opts {
	const char	*journal_path;		/* NULL: no journal (dry run) */
	const char	*device;		/* --device, or NULL */
	const char *virtual_keys; /* --virtual-keys DIR, or NULL */
	bool		 narrate;		/* headful: say every step */
	bool		 report_jsonl;		/* report as JSON Lines */
	int		 pin_policy;
	const char	*pin_env;
	int		 pin_length;
	bool		 force_pin_change;
	int		 min_pin_length;
	const char	*display_tmpl;
	bool		 replace;
	bool		 another;		/* a user with a passkey gets
						   one more */
	const char	*rp_id;			/* NULL: login.microsoft.com;
						   tests only */
	bool		 dry_run;
	bool		 as_user;
	bool		 issue_tap;
	bool		 verify;
	int		 keys_mode;
	const char	*report_path;
	const char	*failures_path;
	const char	*pins_out;
	enroll_pinbook_t *pinbook;		/* --pin random: may be NULL */
	int		 touch_timeout_ms;
	int		 challenge_minutes;	/* beta only; 0 default */
	int		 max_attempts;
	bool		 wait_for_keys;		/* kiosk/auto: keep waiting */
	bool pause; /* headful: wait between users */
	const char	*mailers_dir;		/* --mailers DIR, or NULL */
	bool		 print_letters;		/* --print: lp each letter */
	const struct enroll_steps *steps;	/* or NULL */
	enroll_keymemo_t *used_keys;		/* or NULL: this run's own */
	const char	*mds_path;		/* stored FIDO metadata (the
						   state dir's mds.json) */
	bool		 station;		/* kiosk: slots and events */
	bool		 station_json;		/* events as JSON Lines */
	bool		 station_plain;		/* no board on a tty */
	bool		 reset_keys;		/* wipe used keys (kiosk) */
	struct station	*station_keep;		/* kiosk rounds: one station
						   for them all, or NULL */
	const char	*status_file;		/* --status-file FILE, or NULL */
};

/* one user to enroll, from argv, a CSV row or a group */
struct enroll_user {
	char	*ref;		/* UPN or object id */
	char	*upn;		/* when known (groups) */
	char	*id;		/* when known (groups) */
	size_t	 line;		/* CSV line, 0 otherwise */
};

struct enroll_list {
	struct enroll_user	*v;
	size_t			 n;
	size_t			 cap;
};

int	enroll_list_add(struct enroll_list *, const char *ref,
	    const char *upn, const char *id, size_t line);
void	enroll_list_reset(struct enroll_list *);

/*
 * Where a run's users come from, in order and one at a time, so that
 * an input of any length costs no memory per user: a list (below), or
 * the caller's stream (a CSV file read as the run goes).  next() fills
 * *u, whose strings live until its next call, and returns 0; 1 at the
 * end; -1 on an error it has said on stderr (the run stops as on a
 * journal failure).  rewind() starts over: the report at the end goes
 * through the users again.  `total` is how many next() gives.  Called
 * from one thread at a time.
 */
struct enroll_source {
	size_t	  total;
	int	(*next)(void *arg, struct enroll_user *u);
	int	(*rewind)(void *arg);
	void	 *arg;
};

/* the list's users; `pos` is the source's, the list stays the caller's */
struct enroll_list_source {
	const struct enroll_list	*l;
	size_t				 pos;
};
void	enroll_source_list(struct enroll_source *,
	    struct enroll_list_source *, const struct enroll_list *);

struct enroll_summary {
	size_t	enrolled;
	size_t	failed;
	size_t	skipped;
	size_t	earlier;	/* of the skipped: enrolled by an earlier
				   run */
	size_t	total;
	bool	no_pin;		/* no PIN for any key: another round
				   would fare no better */
	bool	output_failed;	/* the report, failures or PIN file
				   lost a row: said on stderr */
	size_t	letters;	/* PIN letters written (--mailers) */
	size_t	letters_missing;	/* enrolled, but no letter: said
					   on stderr, user by user */
	size_t	unprinted;	/* letters lp did not take (--print) */
};

/*
 * What the pipeline needs from the program around it: PINs from the
 * operator, and word of Ctrl+C.  All are called from worker threads.
 */
struct ctap_dev;
struct enroll_hooks {
	/* the PIN in the variable named, or asked for with the prompt
	 * (twice if confirm); NULL if none: the caller said why */
	char	*(*pin_read)(const char *envname, const char *prompt,
		    bool confirm);
	/* has the operator asked to stop? */
	bool	 (*interrupted)(void);
	/* cancel this key's operation when the operator stops the run */
	void	 (*watch)(struct ctap_dev *);
	void	 (*unwatch)(struct ctap_dev *);
};

/*
 * Would Entra accept a key (its AAGUID, from getInfo) for a user whose
 * passkey profiles are `set` (graph_policy_user_profiles; UINT32_MAX:
 * any)?  The policy's profiles decide, and where the admitting profile
 * enforces attestation the stored FIDO metadata (may be NULL): a model
 * not in it, or reported REVOKED or compromised, is refused.  No I/O.
 */
struct mds;
struct enroll_verdict {
	bool	allowed;
	bool	attestation;	/* the admitting profile enforces it */
	char	profile[128];	/* the admitting, or the refusing one */
	char	code[32];	/* failures.csv code when refused */
	char	why[448];	/* when refused */
	char	note[512];	/* a warning that does not refuse (stale or
				   missing metadata) */
};
bool	enroll_key_verdict(const graph_policy_t *, uint32_t set,
	    const struct mds *, bool mds_stale, const char *aaguid,
	    struct enroll_verdict *);

/* enroll_run() results */
#define ENROLL_OK		  0	/* every user done or skipped */
#define ENROLL_PARTIAL		  1	/* some users failed: failures file */
#define ENROLL_ERR_INTERNAL	 -1	/* out of memory, or a bug */
#define ENROLL_ERR_LOCAL	  -2 /* journal, outputs or options unusable */
#define ENROLL_ERR_AUTH		 -3	/* not signed in, or not allowed */
#define ENROLL_ERR_KEY		 -4	/* no usable security key */
#define ENROLL_ERR_NET		 -5	/* Graph or the network */
#define ENROLL_ERR_CANCELLED	 -6	/* the operator stopped the run */

/*
 * Enroll every user of the source with the signed-in Graph client
 * `admin` (the caller keeps it; workers use clones); `source` names the
 * input for the journal.  Returns ENROLL_OK, ENROLL_PARTIAL or an
 * ENROLL_ERR_* code, having said on stderr what went wrong.
 */
int	enroll_run(const struct enroll_opts *, const struct enroll_hooks *,
	    graph_client_t *admin, const struct enroll_source *,
	    const char *source, struct enroll_summary *);
const char *enroll_strerr(int);

#endif /* PROV_ENROLL_H */
