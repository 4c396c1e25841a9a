/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The kiosk station's slots: one per key, named by where the key sits
 * (the USB port path of a hidraw key, the socket name of a virtual
 * one), each with its state, user, time of entry and last message.
 * Every change is one event on stdout and a new status file snapshot.
 * Nothing that reaches here holds a PIN: callers pass users and
 * reasons only.
 */

#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "station.h"
#include "station_int.h"

static const char *names[] = {
	"inserted", "checking", "refused", "assigned", "pin", "touch",
	"registering", "verifying", "done", "failed", "removed",
};

const char *
slot_state_name(enum slot_state s)
{
	if ((size_t)s >= sizeof(names) / sizeof(names[0]))
		return ("?");

	return (names[s]);
}

const char *
station_strerr(int r)
{
	switch (r) {
	case STATION_OK:
		return ("success");
	case STATION_ERR_IO:
		return ("cannot write the status file");
	default:
		return ("internal error");
	}
}

/* "1-1.3": a USB port path (bus-port[.port...]), not "1-1.3:1.0" */
static bool
usb_port(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && isdigit((unsigned char)s[i]))
		i++;
	if (i == 0 || i == n || s[i++] != '-')
		return (false);
	if (i == n)
		return (false);
	for (; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && s[i] != '.')
			return (false);

	return (true);
}

/*
 * A slot's name: the USB port path of /dev/hidrawN from sysfs (the
 * same across replugs in one port), else the last part of the path
 * (the socket file of a virtual key).
 */
void
station_slot_name(const char *path, char *buf, size_t len)
{
	char		 sys[PATH_MAX], real[PATH_MAX];
	const char	*p, *slash, *best = NULL;
	size_t		 bestlen = 0;

	if (path == NULL) {
		snprintf(buf, len, "?");
		return;
	}
	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	if (strncmp(path, "/dev/hidraw", 11) == 0 &&
	    snprintf(sys, sizeof(sys), "/sys/class/hidraw/%s/device",
	    path + 5) < (int)sizeof(sys) && realpath(sys, real) != NULL) {
		for (p = real; *p != '\0'; p = slash + 1) {
			if (*p == '/') {
				slash = p;
				continue;
			}
			if ((slash = strchr(p, '/')) == NULL)
				slash = p + strlen(p);
			if (usb_port(p, (size_t)(slash - p))) {
				best = p;
				bestlen = (size_t)(slash - p);
			}
			if (*slash == '\0')
				break;
		}
		if (best != NULL) {
			snprintf(buf, len, "%.*s", (int)bestlen, best);
			return;
		}
	}
	if ((slash = strrchr(path, '/')) != NULL && slash[1] != '\0')
		path = slash + 1;
	snprintf(buf, len, "%s", path);
}

/* wall clock, ms: events carry the time of day */
long long
station_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);

	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

int
station_new(const struct station_opts *o, station_t **out)
{
	station_t	*st;
	const char	*term;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return (STATION_ERR_INTERNAL);
	if (o->status_file != NULL &&
	    (st->status_file = strdup(o->status_file)) == NULL) {
		free(st);
		return (STATION_ERR_INTERNAL);
	}
	pthread_mutex_init(&st->lock, NULL);
	st->json = o->json;
	st->total = o->total;
	st->t0 = station_wall_ms();
	/* a person watching: the board; else one line per event */
	if (!o->json && !o->plain && isatty(STDOUT_FILENO) &&
	    (term = getenv("TERM")) != NULL && strcmp(term, "dumb") != 0 &&
	    board_open(st) < 0)
		log_warn("station: no board on this terminal; one line per "
		    "event");
	*out = st;

	return (STATION_OK);
}

void
station_free(station_t **stp)
{
	station_t *st;

	if (stp == NULL || (st = *stp) == NULL)
		return;
	board_close(st);
	pthread_mutex_destroy(&st->lock);
	free(st->status_file);
	free(st);
	*stp = NULL;
}

/* RFC 3339, UTC, milliseconds */
void
station_rfc3339(long long ms, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	size_t		n;

	gmtime_r(&t, &tm);
	if ((n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		if (len > 0)
			buf[0] = '\0';
		return;
	}
	snprintf(buf + n, len - n, ".%03dZ",
	    (int)((ms % 1000 + 1000) % 1000));
}

static struct slot *
slot_get(station_t *st, const char *name)
{
	struct slot	*s;
	size_t		 i;

	for (i = 0; i < st->nslot; i++)
		if (strcmp(st->slot[i].name, name) == 0)
			return (&st->slot[i]);
	if (st->nslot == STATION_SLOTS_MAX)
		return (NULL);
	s = &st->slot[st->nslot++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);

	return (s);
}

/* done, failed, left, users per minute, seconds to go (-1 unknown) */
void
station_totals(const station_t *st, long long now, struct station_totals *t)
{
	double	min = (double)(now - st->t0) / 60000.0;
	size_t	out = st->done + st->failed + st->skipped;

	t->done = st->done;
	t->failed = st->failed;
	t->skipped = st->skipped;
	t->left = st->total > out ? st->total - out : 0;
	t->rate = min > 0.0 ? (double)out / min : 0.0;
	t->eta_s = st->total > 0 && t->rate > 0.0 ?
	    (long)((double)t->left / t->rate * 60.0) : -1;
}

static json_t *
totals_json(const station_t *st, long long now)
{
	struct station_totals	 t;
	json_t			*o;

	station_totals(st, now, &t);
	o = json_pack("{s:I, s:I, s:I, s:I, s:f}", "done", (json_int_t)t.done,
	    "failed", (json_int_t)t.failed, "skipped", (json_int_t)t.skipped,
	    "left", (json_int_t)t.left, "rate_per_min", t.rate);
	if (o != NULL && st->total > 0)
		json_object_set_new(o, "eta_s", t.eta_s >= 0 ?
		    json_integer((json_int_t)t.eta_s) : json_null());

	return (o);
}

/* the snapshot, rewritten whole (temporary file, then rename) */
static int
write_status(const station_t *st, long long now)
{
	json_t	*root = NULL, *slots, *o;
	char	 t[40], *txt = NULL;
	size_t	 i;
	int	 r = STATION_ERR_INTERNAL;

	if (st->status_file == NULL)
		return (STATION_OK);
	station_rfc3339(now, t, sizeof(t));
	if ((root = json_object()) == NULL || (slots = json_array()) == NULL)
		goto fail;
	json_object_set_new(root, "time", json_string(t));
	json_object_set_new(root, "slots", slots);
	json_object_set_new(root, "totals", totals_json(st, now));
	for (i = 0; i < st->nslot; i++) {
		station_rfc3339(st->slot[i].since, t, sizeof(t));
		if ((o = json_pack("{s:s, s:s, s:s, s:I}", "slot",
		    st->slot[i].name, "state",
		    slot_state_name(st->slot[i].state), "since", t,
		    "elapsed_s", (json_int_t)((now - (st->slot[i].t_assigned ?
		    st->slot[i].t_assigned : st->slot[i].since)) / 1000))) ==
		    NULL)
			goto fail;
		json_object_set_new(o, "user", st->slot[i].user[0] != '\0' ?
		    json_string(st->slot[i].user) : json_null());
		json_object_set_new(o, "message", json_string(st->slot[i].msg));
		json_array_append_new(slots, o);
	}
	if ((txt = json_dumps(root, JSON_COMPACT)) == NULL)
		goto fail;
	r = write_file_atomic(st->status_file, txt, strlen(txt), 0644) < 0 ?
	    STATION_ERR_IO : STATION_OK;
fail:
	free(txt);
	json_decref(root);

	return (r);
}

static void
emit(station_t *st, const struct slot *s, long long now)
{
	json_t	*o;
	char	 t[40], *txt, u[300], m[400], line[1024];

	station_rfc3339(now, t, sizeof(t));
	if (st->json) {
		if ((o = json_pack("{s:s, s:s, s:s}", "time", t, "slot",
		    s->name, "state", slot_state_name(s->state))) == NULL)
			return;
		if (s->user[0] != '\0')
			json_object_set_new(o, "user", json_string(s->user));
		json_object_set_new(o, "message", json_string(s->msg));
		if (s->left)
			json_object_set_new(o, "key_removed", json_true());
		if ((txt = json_dumps(o, JSON_COMPACT)) != NULL) {
			printf("%s\n", txt);
			free(txt);
		}
		json_decref(o);
	} else if (st->board) {
		snprintf(line, sizeof(line), "slot %s%s: %s%s%s%s%s", s->name,
		    s->left ? " (key removed)" : "",
		    slot_state_name(s->state), s->user[0] ? " " : "", s->user,
		    s->msg[0] ? ": " : "", s->msg);
		board_push(st, line);
		board_draw(st, now);
		return;
	} else
		printf("%s slot %s%s: %s%s%s%s%s\n", t, s->name,
		    s->left ? " (key removed)" : "",
		    slot_state_name(s->state), s->user[0] ? " " : "",
		    text_safe(s->user, u, sizeof(u)), s->msg[0] ? ": " : "",
		    text_safe(s->msg, m, sizeof(m)));
	fflush(stdout);
}

bool
station_has_board(const station_t *st)
{
	return (st != NULL && st->board);
}

/* a line for the operator ("insert a key"), among the board's events */
void
station_note(station_t *st, const char *fmt, ...)
{
	va_list	ap;
	char	buf[400];

	if (st == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&st->lock);
	board_push(st, buf);
	board_draw(st, station_wall_ms());
	pthread_mutex_unlock(&st->lock);
}

void
station_add_total(station_t *st, size_t n)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->lock);
	st->total += n;
	pthread_mutex_unlock(&st->lock);
}

static void vevent(station_t *, const char *, enum slot_state, const char *,
    const char *, int, const char *, va_list)
    __attribute__((format(printf, 7, 0)));

/*
 * Slot `name` (NULL: none) enters `state`, with the user (NULL: keep the
 * one it has; "" none) and a message; `tally` (a TALLY_*, or -1) moves
 * the totals.  One status file write for both.  With `owner`, the event
 * is that user's: a slot that no longer holds their key stays as it is,
 * and the event is told as one of a key that left.
 */
static void
vevent(station_t *st, const char *name, enum slot_state state,
    const char *user, const char *owner, int tally, const char *fmt,
    va_list ap)
{
	struct slot	*s = NULL, gone;
	long long	 now;
	bool		 bad;

	now = station_wall_ms();
	pthread_mutex_lock(&st->lock);
	if (tally == TALLY_DONE)
		st->done++;
	else if (tally == TALLY_FAILED)
		st->failed++;
	else if (tally == TALLY_SKIPPED)
		st->skipped++;
	if (name != NULL && name[0] != '\0' &&
	    (s = slot_get(st, name)) != NULL && owner != NULL &&
	    strcmp(s->user, owner) != 0) {
		memset(&gone, 0, sizeof(gone));
		snprintf(gone.name, sizeof(gone.name), "%s", s->name);
		snprintf(gone.user, sizeof(gone.user), "%s", owner);
		gone.state = state;
		gone.left = true;
		if (fmt != NULL)
			vsnprintf(gone.msg, sizeof(gone.msg), fmt, ap);
		emit(st, &gone, now);
	} else if (s != NULL) {
		if (state == SLOT_INSERTED || state == SLOT_REMOVED) {
			s->user[0] = '\0';
			s->t_assigned = 0;
		}
		if (user != NULL) {
			snprintf(s->user, sizeof(s->user), "%s", user);
			s->t_assigned = user[0] != '\0' ? now : 0;
		}
		s->state = state;
		s->since = now;
		s->msg[0] = '\0';
		if (fmt != NULL)
			vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
		emit(st, s, now);
	}
	bad = (s != NULL || tally >= 0) && write_status(st, now) != STATION_OK;
	pthread_mutex_unlock(&st->lock);
	/* after the lock: the board's log handler takes it */
	if (bad)
		log_warn("station: cannot write the status file %s",
		    st->status_file);
}

void
station_event(station_t *st, const char *name, enum slot_state state,
    const char *user, const char *fmt, ...)
{
	va_list ap;

	if (st == NULL || name == NULL)
		return;
	va_start(ap, fmt);
	vevent(st, name, state, user, NULL, -1, fmt, ap);
	va_end(ap);
}

void
station_finish(station_t *st, const char *name, const char *user,
    enum station_tally t, const char *fmt, ...)
{
	va_list ap;

	if (st == NULL)
		return;
	va_start(ap, fmt);
	vevent(st, name, t == TALLY_DONE ? SLOT_DONE : SLOT_FAILED, NULL,
	    user, (int)t, fmt, ap);
	va_end(ap);
}
