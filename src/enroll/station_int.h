/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The station's insides, shared by its events (station.c) and its
 * full-screen board (board.c).
 */

#ifndef PROV_STATION_INT_H
#define PROV_STATION_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "station.h"

#define BOARD_EVENTS	8	/* the last few, under the slots */

struct slot {
	char			 name[128];
	enum slot_state		 state;
	char			 user[256];
	char			 msg[320];
	long long		 since;		/* ms, entered this state */
	long long		 t_assigned;	/* ms, 0 when no user */
	bool			 left;		/* an event of a key that
						   has left the slot */
};

struct station {
	pthread_mutex_t		 lock;
	bool			 json;
	char			*status_file;
	size_t			 total;
	size_t			 done;
	size_t			 failed;
	size_t			 skipped;
	long long		 t0;
	struct slot		 slot[STATION_SLOTS_MAX];
	size_t			 nslot;

	/* the board: on a terminal, instead of one line per event */
	FILE			*tty;
	bool			 board;
	bool			 ticking;
	bool			 closing;
	pthread_t		 ticker;
	pthread_cond_t		 tick;
	char			 ev[BOARD_EVENTS][400];
	size_t			 nev;		/* events so far */
};

struct station_totals {
	size_t		done;
	size_t		failed;
	size_t		skipped;
	size_t		left;
	double		rate;		/* users out per minute */
	long		eta_s;		/* -1: unknown */
};

void		station_totals(const struct station *, long long now,
		    struct station_totals *);
long long	station_wall_ms(void);
void		station_rfc3339(long long ms, char *, size_t);

int		board_open(struct station *);
void		board_close(struct station *);
void		board_push(struct station *, const char *line);
void		board_draw(struct station *, long long now);	/* locked */

#endif /* PROV_STATION_INT_H */
