/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The kiosk's hub: every key plugged in is a slot with a worker of its
 * own, so six keys on the hub are six users in flight at once.  The hub
 * polls for keys (cheaply: a listing, no key is opened here), starts a
 * worker for each new one, and tells the station when a key is pulled.
 * A worker takes one user and ends; its key stays "used" until it is
 * pulled, so a finished key is never given a second user.  inotify on
 * /dev and the virtual keys' directory wakes the hub as soon as a key
 * comes or goes; the poll is the fallback.
 */

#include <sys/inotify.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

#define HUB_POLL_MS	50

struct hub_slot {
	struct worker	 w;
	char		 name[128];
	bool		 running;	/* a thread to join */
	bool		 present;	/* seen in the last listing */
};

struct hub {
	struct run	*run;
	struct hub_slot	*slot[STATION_SLOTS_MAX];
	size_t		 n;
	int		 starved;	/* polls with users but no free key */
	bool		 told;
	int		 ino;		/* inotify, or -1 */
};

static void
hub_watch(struct hub *h)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_ATTRIB |
	    IN_MOVED_TO | IN_MOVED_FROM;

	if ((h->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return;
	/* hidraw nodes appear in /dev; udev's ACL is an attribute change */
	if (h->run->o->device == NULL)
		(void)inotify_add_watch(h->ino, "/dev", mask);
	if (h->run->o->virtual_keys != NULL)
		(void)inotify_add_watch(h->ino, h->run->o->virtual_keys, mask);
}

/* until a key may have come or gone, or the poll interval is up */
static void
hub_wait(struct hub *h)
{
	struct pollfd	 pfd;
	char		 buf[4096];

	if (h->ino < 0) {
		struct timespec ts = { 0, HUB_POLL_MS * 1000 * 1000 };

		nanosleep(&ts, NULL);
		return;
	}
	pfd.fd = h->ino;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, HUB_POLL_MS) > 0)
		while (read(h->ino, buf, sizeof(buf)) > 0)
			continue;	/* what changed: the listing says */
}

static bool
work_left(struct run *run)
{
	bool left;

	pthread_mutex_lock(&run->lock);
	left = run->ready.n > 0 || run->resolved.n > 0 ||
	    run->prefetchers.busy > 0 || run->keywork > 0 ||
	    enroll_users_coming(run);
	pthread_mutex_unlock(&run->lock);

	return (left);
}

/*
 * The keys given a user, by this run or (a kiosk's rounds, a fleet
 * station's claims) an earlier one, and not pulled out since.
 */
static bool
memo_has(const struct enroll_keymemo *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->used[i], path) == 0)
			return (true);

	return (false);
}

static void
memo_put(struct enroll_keymemo *m, const char *path)
{
	if (!memo_has(m, path) && m->n < sizeof(m->used) / sizeof(m->used[0]))
		snprintf(m->used[m->n++], sizeof(m->used[0]), "%s", path);
}

static void
memo_drop(struct enroll_keymemo *m, const char *path)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->used[i], path) == 0) {
			memmove(m->used[i], m->used[m->n - 1],
			    sizeof(m->used[i]));
			m->n--;
			return;
		}
}

static void
slot_join(struct hub_slot *s)
{
	if (s->running) {
		pthread_join(s->w.tid, NULL);
		s->running = false;
	}
}

static bool
slot_finished(struct run *run, struct hub_slot *s)
{
	bool done;

	pthread_mutex_lock(&run->lock);
	done = s->w.finished;
	pthread_mutex_unlock(&run->lock);

	return (done);
}

/* users ready ahead: two per key on the hub, so no key waits */
static void
hub_ready_cap(struct hub *h)
{
	pthread_mutex_lock(&h->run->lock);
	h->run->ready_cap = 2 * h->n + 1 > 4 ? 2 * h->n + 1 : 4;
	enroll_wake(h->run, WAKE_ALL);
	pthread_mutex_unlock(&h->run->lock);
}

/* a worker ended: a key that had a user is used until it is pulled */
static void
slot_done(struct run *run, struct hub_slot *s)
{
	bool took;

	slot_join(s);
	pthread_mutex_lock(&run->lock);
	took = s->w.took;
	pthread_mutex_unlock(&run->lock);
	if (took)
		memo_put(run->used, s->w.path);
}

static void
slot_drop(struct hub *h, size_t i)
{
	if (h->slot[i]->running)
		slot_done(h->run, h->slot[i]);
	free(h->slot[i]->w.path);
	free(h->slot[i]);
	h->slot[i] = h->slot[--h->n];
	hub_ready_cap(h);
}

/* a new key: a slot and its worker (none for a key already used) */
static void
slot_add(struct hub *h, const char *path)
{
	struct run	*run = h->run;
	struct hub_slot	*s;

	if (h->n == STATION_SLOTS_MAX) {
		log_warn("%s: more than %d keys attached; this one waits",
		    path, STATION_SLOTS_MAX);
		return;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->w.path = strdup(path)) == NULL) {
		free(s);
		return;
	}
	s->w.run = run;
	s->w.one_user = true;
	s->present = true;
	station_slot_name(path, s->name, sizeof(s->name));
	if (memo_has(run->used, path)) {
		/* done in an earlier round: it waits to be taken away */
		s->w.finished = true;
		h->slot[h->n++] = s;
		return;
	}
	station_event(run->station, s->name, SLOT_INSERTED, "",
	    "waiting for a user");
	pthread_mutex_lock(&run->lock);
	run->workers_alive++;
	pthread_mutex_unlock(&run->lock);
	if (pthread_create(&s->w.tid, NULL, enroll_key_worker, &s->w) != 0) {
		pthread_mutex_lock(&run->lock);
		run->workers_alive--;
		pthread_mutex_unlock(&run->lock);
		log_warn("%s: cannot start a worker for the key", path);
		s->w.finished = true;
	} else {
		thread_name(s->w.tid, "key %s", s->name);
		s->running = true;
	}
	h->slot[h->n++] = s;
	hub_ready_cap(h);
}

/* one look at the hub: pulled keys, new keys, finished workers */
static void
hub_poll(struct hub *h)
{
	struct run	*run = h->run;
	char		**v;
	size_t		 n, i, k;

	if (enroll_keys_list(run, false, &v, &n) < 0)
		return;
	for (k = 0; k < h->n; k++)
		h->slot[k]->present = false;
	for (i = 0; i < n; i++) {
		for (k = 0; k < h->n; k++)
			if (strcmp(h->slot[k]->w.path, v[i]) == 0)
				break;
		if (k < h->n)
			h->slot[k]->present = true;
		else if (!enroll_stopping(run)) {
			slot_add(h, v[i]);
			h->starved = 0;
			h->told = false;
		}
		free(v[i]);
	}
	free(v);
	for (k = 0; k < h->n;) {
		struct hub_slot *s = h->slot[k];

		if (s->present) {
			if (s->running && slot_finished(run, s))
				slot_done(run, s);
			k++;
			continue;
		}
		/* pulled: a worker still at work fails on its own */
		pthread_mutex_lock(&run->lock);
		s->w.gone = true;
		enroll_wake(run, WAKE_ALL);
		pthread_mutex_unlock(&run->lock);
		slot_join(s);
		memo_drop(run->used, s->w.path);
		station_event(run->station, s->name, SLOT_REMOVED, "", NULL);
		slot_drop(h, k);
	}
	/* users wait and every key has had its user: ask for another */
	pthread_mutex_lock(&run->lock);
	h->starved = run->ready.n > 0 ? h->starved + 1 : 0;
	pthread_mutex_unlock(&run->lock);
	if (h->starved >= 3 && !h->told) {
		enroll_say(run, "insert a new security key for the next user "
		    "(Ctrl+C to stop)");
		h->told = true;
	}
}

/* keys used by an earlier run and pulled out between the runs */
static void
hub_forget_pulled(struct hub *h)
{
	struct enroll_keymemo	*m = h->run->used;
	char			**v;
	size_t			 n, i, k;
	bool			 seen;

	if (enroll_keys_list(h->run, false, &v, &n) < 0)
		return;
	for (k = 0; k < m->n;) {
		for (i = 0, seen = false; i < n && !seen; i++)
			seen = strcmp(v[i], m->used[k]) == 0;
		if (seen)
			k++;
		else
			memo_drop(m, m->used[k]);
	}
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void *
enroll_hub(void *arg)
{
	struct run	*run = arg;
	struct hub	 h;

	memset(&h, 0, sizeof(h));
	h.run = run;
	hub_watch(&h);
	hub_forget_pulled(&h);
	while (!enroll_stopping(run) && work_left(run)) {
		hub_poll(&h);
		hub_wait(&h);
	}
	if (h.ino >= 0)
		close(h.ino);
	/* the workers see the stop (or the end of the users) and return */
	pthread_mutex_lock(&run->lock);
	enroll_wake(run, WAKE_ALL);
	pthread_mutex_unlock(&run->lock);
	while (h.n > 0)
		slot_drop(&h, h.n - 1);
	pthread_mutex_lock(&run->lock);
	run->workers_alive--;
	enroll_wake(run, WAKE_ALL);
	pthread_mutex_unlock(&run->lock);

	return (NULL);
}
