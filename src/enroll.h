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

#include "extern.h"

#define PIN_RANDOM	0
#define PIN_ASK		1
#define PIN_KEEP	2

#define KEYS_ONE_PER_USER	0	/* default: swap keys between users */
#define KEYS_SAME		1	/* --same-key */
#define KEYS_PARALLEL		2	/* --parallel: one worker per key */

struct enroll_opts {
	int		 pin_policy;
	const char	*pin_env;
	int		 pin_length;
	bool		 force_pin_change;
	int		 min_pin_length;
	const char	*display_tmpl;
	bool		 replace;
	bool		 dry_run;
	bool		 as_user;
	bool		 issue_tap;
	bool		 verify;
	int		 keys_mode;
	const char	*report_path;
	const char	*failures_path;
	const char	*pins_out;
	int		 touch_timeout_ms;
	int		 challenge_minutes;	/* beta only; 0 default */
	int		 max_attempts;
	bool		 wait_for_keys;		/* kiosk/auto: keep waiting */
	bool		 pause;			/* headful: wait between users */
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

struct enroll_summary {
	size_t	enrolled;
	size_t	failed;
	size_t	skipped;
	size_t	total;
	bool	no_pin;		/* no PIN for any key: another round
				   would fare no better */
};

/*
 * Enroll every user of the list; `source` names it for the journal and
 * the report.  Returns an EXIT_* code (0 all done, 1 some failed, ...).
 */
int	enroll_run(struct prov_ctx *, const struct enroll_opts *,
	    const struct enroll_list *, const char *source,
	    struct enroll_summary *);

#endif /* PROV_ENROLL_H */
