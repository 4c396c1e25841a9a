/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Progress of a bulk run, on stderr.
 *
 * On a terminal: one line, redrawn in place,
 *   [12/25] done 10  failed 1  skipped 1  left 13  4.2/min  ETA 3m05s
 * with failures (and notes) printed as lines above it, so they stay
 * visible.  Elsewhere (a log file, CI): one plain line per event,
 *   [12/25] alice@contoso.com: enrolled on k1 (none, method AbCdEf12...)
 * numbered by the user's place in the input, not by when it finished.
 *
 * Thread-safe: workers report events concurrently.  User names and
 * details are printed with control characters replaced, so a hostile
 * value cannot drive the terminal.
 */

#ifndef PROV_PROGRESS_H
#define PROV_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#define PROGRESS_OK		 0
#define PROGRESS_ERR_INTERNAL	-1
#define PROGRESS_ERR_ARG	-2

enum progress_mode {
	PROGRESS_AUTO,		/* TTY if isatty(fileno(stream)) */
	PROGRESS_TTY,
	PROGRESS_PLAIN,
	PROGRESS_QUIET,		/* count only */
};

enum progress_outcome {
	PROGRESS_DONE,
	PROGRESS_FAILED,
	PROGRESS_SKIPPED,
};

struct progress_counts {
	size_t	total;
	size_t	done;
	size_t	failed;
	size_t	skipped;
	size_t	remaining;
	double	per_min;	/* users finished per minute, 0 at first */
	long	eta_s;		/* -1 when unknown */
};

typedef struct progress progress_t;

const char	*progress_strerr(int);

/* total may be 0 when unknown (auto/kiosk); `stream` NULL is stderr */
int		 progress_new(FILE *stream, size_t total, enum progress_mode,
		    progress_t **pp);
void		 progress_free(progress_t **pp);	/* ends the TTY line */
void		 progress_set_total(progress_t *, size_t total);

/*
 * A user finished: `pos` is its place in the input (1-based; 0 when it
 * has none, then the count of finished users is shown), `what` the verb
 * shown in plain mode ("enrolled", "failed", "skipped"; NULL for the
 * outcome's default), `detail` the parenthesised rest (may be NULL).
 */
void		 progress_event(progress_t *, enum progress_outcome,
		    size_t pos, const char *user, const char *what,
		    const char *detail);
/* a line for the operator ("insert the next key"), above the bar */
void		 progress_note(progress_t *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 progress_counts(progress_t *, struct progress_counts *);
/* "ETA" text: 3m05s, 1h02m, 45s, or "--" */
void		 progress_fmt_duration(long s, char *buf, size_t len);

#endif /* PROV_PROGRESS_H */
