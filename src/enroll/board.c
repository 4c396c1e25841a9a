/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The station's board: on a terminal, one full screen redrawn in place
 * (the alternate screen, so the shell's scrollback is left as it was):
 * the totals, a row per slot, the last few events.  Slots that need the
 * operator's hands (touch, remove, refused) stand out.  A ticker redraws
 * once a second so the elapsed times move between events.  Every text
 * from a key or Graph goes through text_safe(): nothing drives the tty.
 */

#include <sys/ioctl.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "progress.h"
#include "station_int.h"

#define ESC_ALT_ON	"\033[?1049h\033[?25l"
#define ESC_ALT_OFF	"\033[?25h\033[?1049l"
#define ESC_HOME	"\033[H"
#define ESC_EOL		"\033[K"
#define ESC_EOS		"\033[J"
#define ESC_HANDS	"\033[1;7m"	/* bold, reversed */
#define ESC_BAD		"\033[1;31m"
#define ESC_OFF		"\033[0m"

static struct station *logging_to;	/* the board that shows the log */

static void
board_size(FILE *tty, int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(fileno(tty), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

/* the operator's hands are wanted: a touch, a key to take away */
static bool
needs_hands(enum slot_state s)
{
	return (s == SLOT_TOUCH || s == SLOT_DONE || s == SLOT_REFUSED);
}

/* one line, cut to the screen's width (columns are ASCII-safe) */
static void
line(FILE *tty, int cols, const char *on, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
line(FILE *tty, int cols, const char *on, const char *fmt, ...)
{
	char	buf[1024];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (cols > 0 && cols < (int)sizeof(buf))
		buf[cols - 1] = '\0';
	fprintf(tty, "%s%s%s" ESC_EOL "\r\n", on != NULL ? on : "", buf,
	    on != NULL ? ESC_OFF : "");
}

static void
mmss(long long ms, char *buf, size_t len)
{
	long s = (long)(ms / 1000);

	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
		    s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

void
board_draw(struct station *st, long long now)
{
	struct station_totals	 t;
	const struct slot	*s;
	char			 eta[32], el[32], u[TEXT_SAFE_MAX(256)];
	char			 m[TEXT_SAFE_MAX(320)], name[TEXT_SAFE_MAX(128)];
	size_t			 i, shown, nev, first;
	int			 rows, cols, room;

	if (!st->board || st->tty == NULL)
		return;
	board_size(st->tty, &rows, &cols);
	station_totals(st, now, &t);
	if (t.eta_s >= 0)
		progress_fmt_duration(t.eta_s, eta, sizeof(eta));
	else
		snprintf(eta, sizeof(eta), "--");
	fputs(ESC_HOME, st->tty);
	line(st->tty, cols, ESC_HANDS, " provisioning kiosk  %zu slot%s ",
	    st->nslot, st->nslot == 1 ? "" : "s");
	line(st->tty, cols, NULL, "done %zu  failed %zu  skipped %zu  "
	    "left %zu  %.1f/min  ETA %s", t.done, t.failed, t.skipped, t.left,
	    t.rate, eta);
	line(st->tty, cols, NULL, "%s", "");
	line(st->tty, cols, NULL, "%-14s %-12s %-32s %8s  %s", "SLOT",
	    "STATE", "USER", "ELAPSED", "MESSAGE");
	/* rows for slots: what the events and the header leave */
	room = rows - 6 - (BOARD_EVENTS < 4 ? BOARD_EVENTS : 4);
	for (i = 0, shown = 0; i < st->nslot; i++) {
		s = &st->slot[i];
		if ((int)shown >= room) {
			line(st->tty, cols, NULL, "... %zu more slots",
			    st->nslot - i);
			break;
		}
		mmss(now - (s->t_assigned ? s->t_assigned : s->since), el,
		    sizeof(el));
		text_safe(s->name, name, sizeof(name));
		text_safe(s->user, u, sizeof(u));
		text_safe(s->msg, m, sizeof(m));
		line(st->tty, cols, needs_hands(s->state) ? ESC_HANDS :
		    s->state == SLOT_FAILED ? ESC_BAD : NULL,
		    "%-14s %-12s %-32s %8s  %s", name,
		    slot_state_name(s->state), u[0] ? u : "-", el, m);
		shown++;
	}
	line(st->tty, cols, NULL, "%s", "");
	line(st->tty, cols, NULL, "%s", "last events:");
	nev = st->nev < BOARD_EVENTS ? st->nev : BOARD_EVENTS;
	room = rows - 7 - (int)shown;
	if (room < 0)
		room = 0;
	if ((int)nev > room)
		nev = (size_t)room;
	first = st->nev - nev;
	for (i = first; i < st->nev; i++)
		line(st->tty, cols, NULL, "  %s", st->ev[i % BOARD_EVENTS]);
	fputs(ESC_EOS, st->tty);
	fflush(st->tty);
}

void
board_push(struct station *st, const char *text)
{
	char	t[40], safe[TEXT_SAFE_MAX(360)];
	time_t	now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(t, sizeof(t), "%H:%M:%S", &tm) == 0)
		t[0] = '\0';
	text_safe(text, safe, sizeof(safe));
	/* cut to the ring's lines: the board is as wide as a screen */
	snprintf(st->ev[st->nev % BOARD_EVENTS], sizeof(st->ev[0]),
	    "%.8s %.380s", t, safe);
	st->nev++;
}

/* warnings and narration land among the events, not over the board */
static void
board_log(int level, const char *msg)
{
	struct station *st = logging_to;

	if (st == NULL) {
		fprintf(stderr, "%s%s\n", level == LOG_WARN ? "warning: " : "",
		    msg);
		return;
	}
	pthread_mutex_lock(&st->lock);
	board_push(st, msg);
	board_draw(st, station_wall_ms());
	pthread_mutex_unlock(&st->lock);
}

static void *
ticker(void *arg)
{
	struct station	*st = arg;
	struct timespec	 ts;

	pthread_mutex_lock(&st->lock);
	while (!st->closing) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec++;
		(void)pthread_cond_timedwait(&st->tick, &st->lock, &ts);
		if (!st->closing)
			board_draw(st, station_wall_ms());
	}
	pthread_mutex_unlock(&st->lock);

	return (NULL);
}

int
board_open(struct station *st)
{
	int fd;

	if ((fd = dup(STDOUT_FILENO)) < 0 || (st->tty = fdopen(fd, "w")) ==
	    NULL) {
		if (fd >= 0)
			close(fd);
		return (-1);
	}
	pthread_cond_init(&st->tick, NULL);
	st->board = true;
	fputs(ESC_ALT_ON, st->tty);
	board_draw(st, station_wall_ms());
	if (pthread_create(&st->ticker, NULL, ticker, st) == 0) {
		thread_name(st->ticker, "board");
		st->ticking = true;
	}
	logging_to = st;
	log_set_handler(board_log);

	return (0);
}

void
board_close(struct station *st)
{
	if (!st->board)
		return;
	log_set_handler(NULL);
	logging_to = NULL;
	pthread_mutex_lock(&st->lock);
	st->closing = true;
	pthread_cond_broadcast(&st->tick);
	pthread_mutex_unlock(&st->lock);
	if (st->ticking)
		pthread_join(st->ticker, NULL);
	fputs(ESC_ALT_OFF, st->tty);
	fclose(st->tty);
	st->tty = NULL;
	pthread_cond_destroy(&st->tick);
	st->board = false;
}
