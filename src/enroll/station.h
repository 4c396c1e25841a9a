/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The kiosk station: every key is a slot with its own state; each
 * change is an event (a plain line, or a JSON object with --json) and
 * rewrites the status file (--status-file).  On a terminal the events
 * feed a full-screen board instead.  No PIN is ever given here.
 */

#ifndef PROV_STATION_H
#define PROV_STATION_H

#include <stdbool.h>
#include <stddef.h>

/* the slot states: their names are part of the interface */
enum slot_state {
	SLOT_INSERTED,
	SLOT_CHECKING,
	SLOT_REFUSED,
	SLOT_ASSIGNED,
	SLOT_PIN,
	SLOT_TOUCH,
	SLOT_REGISTERING,
	SLOT_VERIFYING,
	SLOT_DONE,
	SLOT_FAILED,
	SLOT_REMOVED,
};

#define STATION_OK		0
#define STATION_ERR_INTERNAL	-1
#define STATION_ERR_IO		-2

#define STATION_SLOTS_MAX	64

typedef struct station station_t;

struct station_opts {
	bool		 json;		/* events as JSON Lines */
	bool		 plain;		/* lines even on a terminal */
	const char	*status_file;	/* or NULL */
	size_t		 total;		/* users, 0 when unknown */
};

int		 station_new(const struct station_opts *, station_t **);
void		 station_free(station_t **);
const char	*station_strerr(int);
const char	*slot_state_name(enum slot_state);
void		 station_slot_name(const char *path, char *, size_t);
/* a user of the run finished: the totals (a skipped user is no failure) */
enum station_tally {
	TALLY_DONE,
	TALLY_FAILED,
	TALLY_SKIPPED,
};
/* a full-screen board is up: narration goes to station_note() */
bool		 station_has_board(const station_t *);
void		 station_note(station_t *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* a round of the station brings `n` more users */
void		 station_add_total(station_t *, size_t n);
/*
 * ... and `user`'s slot (NULL or "": none) is done, or failed.  If the
 * slot no longer holds that user's key (pulled while it registered,
 * another key in its place), the event says so and the slot keeps what
 * it shows.
 */
void		 station_finish(station_t *, const char *slot,
		    const char *user, enum station_tally, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
void		 station_event(station_t *, const char *slot, enum slot_state,
		    const char *user, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

#endif /* PROV_STATION_H */
