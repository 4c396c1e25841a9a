/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Keys in the enroll pipeline: finding them, getting them ready (PIN
 * per --pin policy) and letting them go (PIN rules applied only after
 * a successful registration, since a forced PIN change blocks the key
 * for any further enrollment).
 */

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

static void
key_reset(struct key *k)
{
	ctap_dev_free(&k->dev);
	freezero_str(k->pin);
	free(k->path);
	free(k->serial);
	free(k->product);
	memset(k, 0, sizeof(*k));
}

/* k->why = prefix + (msg, or what cr means) */
static int
set_aside(struct key *k, int cr, const char *prefix, const char *msg)
{
	snprintf(k->why, sizeof(k->why), "%s%s", prefix, msg != NULL ? msg :
	    ctap_strerr(cr));
	return (cr != CTAP_OK ? cr : CTAP_ERR_ARG);
}

/*
 * No PIN can be had for any key (the operator's setup, not the key's
 * fault): recorded for the run, whose users then fail at once instead
 * of waiting for a key that would fare no better.
 */
static int
no_pin(struct run *run, struct key *k, const char *msg)
{
	pthread_mutex_lock(&run->lock);
	if (run->nopin[0] == '\0')
		snprintf(run->nopin, sizeof(run->nopin), "%s", msg);
	pthread_mutex_unlock(&run->lock);

	return (set_aside(k, CTAP_ERR_PIN_REQUIRED, "", msg));
}

bool
enroll_key_nopin(struct run *run, char *why, size_t len)
{
	bool nopin;

	pthread_mutex_lock(&run->lock);
	nopin = run->nopin[0] != '\0';
	snprintf(why, len, "%s", run->nopin);
	pthread_mutex_unlock(&run->lock);

	return (nopin);
}

static bool
have_tty(void)
{
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return (false);
	close(fd);

	return (true);
}

/* how the pins file and the pinbook name a key */
static const char *
key_id(const struct key *k)
{
	return (k->serial[0] != '\0' ? k->serial : k->path);
}

/* the PIN this key gets or already has, per --pin */
static int
key_pin(struct run *run, struct key *k, bool has_pin, const char *user,
    const char *slot)
{
	const struct enroll_opts	*o = run->o;
	char				 prompt[512];
	size_t				 len;
	int				 r;

	if (o->pin_policy == PIN_KEEP) {
		if ((k->pin = run->hooks->pin_read(o->pin_env, NULL, false)) ==
		    NULL)
			return (no_pin(run, k, "no PIN in the --pin-env "
			    "variable"));
	} else if (o->pin_policy == PIN_ASK && !have_tty()) {
		return (no_pin(run, k, "no terminal to ask for the PIN; use "
		    "--pin-env VAR (the key's PIN) or --pin random "
		    "--pins-out FILE"));
	} else if (o->pin_policy == PIN_ASK) {
		snprintf(prompt, sizeof(prompt), "%s PIN for the key at %s: ",
		    has_pin ? "Current" : "New", k->path);
		pthread_mutex_lock(&run->tty);
		k->pin = run->hooks->pin_read(NULL, prompt, !has_pin);
		pthread_mutex_unlock(&run->tty);
		if (k->pin == NULL)
			return (set_aside(k, CTAP_ERR_PIN_REQUIRED, "",
			    "no PIN entered"));
	} else {
		/* a key this tool gave a PIN, in this process or before */
		if (has_pin && (k->pin = enroll_pinbook_get(o->pinbook,
		    key_id(k))) != NULL)
			return (CTAP_OK);
		if (has_pin)
			return (set_aside(k, CTAP_ERR_PIN_REQUIRED, "",
			    "the key already has a PIN; use --pin keep "
			    "--pin-env VAR or --pin ask, or reset the key"));
		len = (size_t)o->pin_length;
		if (len < k->min_pin)
			len = k->min_pin;
		if ((k->pin = calloc(1, len + 1)) == NULL ||
		    ctap_pin_random(k->pin, len) != CTAP_OK)
			return (set_aside(k, CTAP_ERR_INTERNAL, "", NULL));
	}
	if (has_pin)
		return (CTAP_OK);
	if (run->station != NULL)
		station_event(run->station, slot, SLOT_PIN, NULL,
		    "setting the key's PIN");
	if ((r = ctap_dev_pin_set(k->dev, k->pin)) != CTAP_OK)
		return (set_aside(k, r, "cannot set the PIN: ", NULL));
	/*
	 * Record a generated PIN at once: if anything later fails, the
	 * operator still knows the PIN of a key we changed.
	 */
	if (o->pin_policy == PIN_RANDOM && run->pins != NULL &&
	    report_pin(run->pins, user, key_id(k), k->pin) != REPORT_OK)
		return (set_aside(k, CTAP_ERR_INTERNAL, "",
		    "cannot write the PIN to --pins-out"));
	if (o->pin_policy == PIN_RANDOM && o->pinbook != NULL &&
	    enroll_pinbook_put(o->pinbook, key_id(k), k->pin) < 0)
		return (set_aside(k, CTAP_ERR_INTERNAL, "", NULL));
	/* libfido2 caches the PIN state from open: reopen */
	ctap_dev_close(k->dev);
	if ((r = ctap_dev_open(k->dev, k->path)) != CTAP_OK)
		return (set_aside(k, r, "", NULL));

	return (CTAP_OK);
}

/*
 * --reset-keys: wipe a used key (its passkeys and PIN) so the station
 * can give it to the next user.  A key takes a reset only soon after it
 * is plugged in: past that, the operator replugs it and the new slot
 * tries again at once.
 */
static int
key_wipe(struct run *run, struct key *k, const char *slot, const char *why)
{
	int r;

	station_event(run->station, slot, SLOT_CHECKING, NULL, "%s: "
	    "resetting it (--reset-keys); touch the key", why);
	if ((r = ctap_dev_reset(k->dev)) == CTAP_ERR_NOT_ALLOWED)
		return (set_aside(k, r, "", "the key takes a reset only just "
		    "after it is plugged in: replug it and touch it within "
		    "10 s"));
	if (r != CTAP_OK)
		return (set_aside(k, r, "cannot reset the key: ", NULL));
	log_info("%s: reset (%s)", k->path, why);
	freezero_str(k->pin);
	k->pin = NULL;
	ctap_dev_close(k->dev);
	if ((r = ctap_dev_open(k->dev, k->path)) != CTAP_OK)
		return (set_aside(k, r, "", NULL));

	return (CTAP_OK);
}

/* can this run know the PIN of a key that has one? */
static bool
pin_known(struct run *run, const struct key *k)
{
	char *pin;

	if (run->o->pin_policy != PIN_RANDOM)
		return (true);	/* the operator's: --pin-env or asked */
	if ((pin = enroll_pinbook_get(run->o->pinbook, key_id(k))) == NULL)
		return (false);
	freezero_str(pin);

	return (true);
}

/*
 * A station hands out blank keys only: one holding passkeys (someone
 * else's, or a test's) is refused, or wiped with --reset-keys.
 */
static int
key_blank(struct run *run, struct key *k, bool *has_pin, const char *user,
    const char *slot)
{
	char	why[128];
	size_t	n = 0;
	int	r;

	if ((r = ctap_dev_cred_count(k->dev, k->pin, &n)) != CTAP_OK) {
		log_info("%s: cannot count its passkeys: %s", k->path,
		    ctap_strerr(r));
		return (CTAP_OK);	/* CTAP 2.0: no credMgmt to ask */
	}
	if (n == 0)
		return (CTAP_OK);
	snprintf(why, sizeof(why), "the key holds %zu passkey%s", n,
	    n == 1 ? "" : "s");
	if (!run->o->reset_keys) {
		snprintf(k->why, sizeof(k->why), "%s (a used key): wipe it "
		    "with --reset-keys, or set it aside", why);
		snprintf(k->refused, sizeof(k->refused), "key_used");
		return (CTAP_ERR_DENIED);
	}
	if ((r = key_wipe(run, k, slot, why)) != CTAP_OK)
		return (r);
	*has_pin = false;

	return (key_pin(run, k, false, user, slot));
}

static void
key_describe(struct run *run, struct key *k)
{
	ctap_devlist_t *l;

	k->serial = strdup("");
	k->product = strdup("");
	if ((l = ctap_devlist_new()) == NULL)
		return;
	if (ctap_devlist_scan(l, k->path, NULL, false) == CTAP_OK &&
	    ctap_devlist_len(l) == 1) {
		free(k->product);
		k->product = strdup(ctap_devlist_product(l, 0));
	}
	ctap_devlist_free(&l);
	/* a USB key's serial comes from a full scan */
	if (strncmp(k->path, "unix:", 5) == 0 ||
	    (l = ctap_devlist_new()) == NULL)
		return;
	if (ctap_devlist_scan(l, NULL, run->o->virtual_keys, false) ==
	    CTAP_OK) {
		size_t i;

		for (i = 0; i < ctap_devlist_len(l); i++)
			if (strcmp(ctap_devlist_path(l, i), k->path) == 0) {
				free(k->serial);
				k->serial = strdup(ctap_devlist_serial(l, i));
				free(k->product);
				k->product = strdup(ctap_devlist_product(l,
				    i));
			}
	}
	ctap_devlist_free(&l);
}

/*
 * Open the key at `path` and make it ready to enroll: FIDO2, no
 * pending PIN change, room left, PIN known.  On failure k->why says
 * why the key is set aside.
 */
int
enroll_key_acquire(struct run *run, struct key *k, const char *path,
    const struct job *jb)
{
	struct enroll_verdict	 v;
	const char	*user = jb->upn;
	ctap_info_t	*ci = NULL;
	char		 slot[128] = "";
	bool		 has_pin;
	int		 r;

	memset(k, 0, sizeof(*k));
	if ((k->path = strdup(path)) == NULL || (k->dev = ctap_dev_new()) ==
	    NULL || (ci = ctap_info_new()) == NULL) {
		r = set_aside(k, CTAP_ERR_INTERNAL, "", NULL);
		goto fail;
	}
	key_describe(run, k);
	if (k->serial == NULL || k->product == NULL) {
		r = set_aside(k, CTAP_ERR_INTERNAL, "", NULL);
		goto fail;
	}
	ctap_dev_set_timeout(k->dev, run->o->touch_timeout_ms);
	if ((r = ctap_dev_open(k->dev, path)) != CTAP_OK ||
	    (r = ctap_dev_get_info(k->dev, ci)) != CTAP_OK) {
		set_aside(k, r, "", NULL);
		goto fail;
	}
	k->opened = true;
	/* before the touch and before any PIN: would Entra take it? */
	snprintf(k->aaguid, sizeof(k->aaguid), "%s", ctap_info_aaguid(ci));
	if (!enroll_admit_key(run, jb, k, k->aaguid, &v)) {
		snprintf(k->refused, sizeof(k->refused), "%s", v.code);
		r = KEY_REFUSED;
		goto fail;
	}
	k->min_pin = (size_t)ctap_info_min_pin_length(ci);
	k->authnr_cfg = ctap_info_option(ci, "authnrCfg") == 1;
	has_pin = ctap_info_has_pin(ci);
	if (ctap_info_option(ci, "rk") != 1) {
		r = set_aside(k, CTAP_ERR_UNSUPPORTED, "",
		    "the key cannot store resident passkeys");
		goto fail;
	}
	if (ctap_info_force_pin_change(ci)) {
		r = set_aside(k, CTAP_ERR_PIN_CHANGE, "", NULL);
		goto fail;
	}
	if (ctap_info_remaining_rk(ci) == 0) {
		r = set_aside(k, CTAP_ERR_KEY_FULL, "", NULL);
		goto fail;
	}
	if (run->station != NULL)
		station_slot_name(path, slot, sizeof(slot));
	/* a station's key with a PIN it cannot know: a used key */
	if (run->station != NULL && has_pin && !pin_known(run, k)) {
		if (!run->o->reset_keys) {
			r = set_aside(k, CTAP_ERR_PIN_REQUIRED, "", "the key "
			    "has a PIN this station does not know: reset it "
			    "(--reset-keys) or use --pin keep");
			goto fail;
		}
		if ((r = key_wipe(run, k, slot, "the key has an unknown "
		    "PIN")) != CTAP_OK)
			goto fail;
		has_pin = false;
	}
	station_event(run->station, slot, SLOT_ASSIGNED, user, NULL);
	if ((r = key_pin(run, k, has_pin, user, slot)) != CTAP_OK)
		goto fail;
	if (run->station != NULL &&
	    (r = key_blank(run, k, &has_pin, user, slot)) != CTAP_OK)
		goto fail;
	r = CTAP_OK;
fail:
	ctap_info_free(&ci);
	if (r != CTAP_OK) {
		ctap_dev_free(&k->dev);
		freezero_str(k->pin);
		k->pin = NULL;
	}

	return (r);
}

void
enroll_key_release(struct run *run, struct key *k)
{
	const struct enroll_opts	*o = run->o;
	int				 r;

	if (k->dev != NULL && k->successes > 0 && k->pin != NULL &&
	    (o->min_pin_length > 0 || o->force_pin_change)) {
		if (!k->authnr_cfg)
			log_warn("%s: the key lacks CTAP 2.1 "
			    "authenticatorConfig; --min-pin-length and "
			    "--force-pin-change were not applied", k->path);
		else {
			if (o->min_pin_length > 0 &&
			    (r = ctap_dev_set_min_pin_length(k->dev,
			    (size_t)o->min_pin_length, k->pin)) != CTAP_OK)
				log_warn("%s: cannot set the minimum PIN "
				    "length: %s", k->path, ctap_strerr(r));
			if (o->force_pin_change &&
			    (r = ctap_dev_force_pin_change(k->dev,
			    k->pin)) != CTAP_OK)
				log_warn("%s: cannot force a PIN change: %s",
				    k->path, ctap_strerr(r));
		}
	}
	key_reset(k);
}

/*
 * The attached keys by path: probed (opened, getInfo), only the usable
 * ones; or (probe false: the hub, which must not open a key a worker
 * holds) every one listed.
 */
int
enroll_keys_list(struct run *run, bool probe, char ***paths, size_t *n)
{
	ctap_devlist_t	*l = NULL;
	char		**v = NULL;
	size_t		 i, len;
	int		 r = -1;

	*paths = NULL;
	*n = 0;
	if ((l = ctap_devlist_new()) == NULL ||
	    ctap_devlist_scan(l, run->o->device, run->o->virtual_keys,
	    probe) != CTAP_OK)
		goto fail;
	len = ctap_devlist_len(l);
	if ((v = calloc(len + 1, sizeof(*v))) == NULL)
		goto fail;
	for (i = 0; i < len; i++) {
		if (probe && ctap_devlist_status(l, i) != CTAP_OK) {
			log_info("ignoring %s: %s", ctap_devlist_path(l, i),
			    ctap_strerr(ctap_devlist_status(l, i)));
			continue;
		}
		if ((v[*n] = strdup(ctap_devlist_path(l, i))) == NULL)
			goto fail;
		(*n)++;
	}
	*paths = v;
	v = NULL;
	r = 0;
fail:
	if (v != NULL) {
		for (i = 0; v[i] != NULL; i++)
			free(v[i]);
		free(v);
	}
	ctap_devlist_free(&l);

	return (r);
}

int
enroll_keys_usable(struct run *run, char ***paths, size_t *n)
{
	return (enroll_keys_list(run, true, paths, n));
}

static void
free_paths(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * One key per user: wait until a key is attached that this run has not
 * used yet.  A used key that disappears is forgotten, so a new key that
 * reuses its /dev/hidrawN counts as new.
 */
int
enroll_key_wait_fresh(struct run *run, char **path, const char *user)
{
	struct timespec	 ts = { 0, 300 * 1000 * 1000 };
	char		**v;
	size_t		 n, i, k;
	bool		 told = false, found, seen;

	*path = NULL;
	for (;;) {
		if (enroll_interrupted(run) || run->stop)
			return (-1);
		if (enroll_keys_usable(run, &v, &n) < 0)
			return (-1);
		/* forget used keys that were pulled out */
		for (k = 0; k < run->used->n;) {
			seen = false;
			for (i = 0; i < n; i++)
				if (strcmp(v[i], run->used->used[k]) == 0)
					seen = true;
			if (!seen) {
				memmove(run->used->used[k],
				    run->used->used[run->used->n - 1],
				    sizeof(run->used->used[k]));
				run->used->n--;
			} else
				k++;
		}
		for (i = 0; i < n; i++) {
			found = false;
			for (k = 0; k < run->used->n; k++)
				if (strcmp(v[i], run->used->used[k]) == 0)
					found = true;
			if (!found) {
				*path = strdup(v[i]);
				free_paths(v, n);
				if (*path == NULL)
					return (-1);
				if (run->used->n < 64)
					snprintf(run->used->used[run->used->n++],
					    sizeof(run->used->used[0]), "%s", *path);
				return (0);
			}
		}
		free_paths(v, n);
		if (!run->o->wait_for_keys && run->o->device != NULL)
			return (-1);
		if (!told) {
			enroll_say(run, "insert a new security key for %s "
			    "(Ctrl+C to stop)", user);
			told = true;
		}
		nanosleep(&ts, NULL);
	}
}

/*
 * How a key is named on the operator's lines: the last part of its
 * path (the socket's name, hidraw3), so a line fits a terminal; -v
 * shows the whole path.
 */
const char *
enroll_key_label(const char *path)
{
	const char *slash;

	if (path == NULL)
		return ("?");
	if (log_level() >= LOG_INFO || (slash = strrchr(path, '/')) == NULL ||
	    slash[1] == '\0')
		return (path);

	return (slash + 1);
}

/* the first characters of a long id, enough to tell rows apart */
void
enroll_short_id(const char *id, char *buf, size_t len)
{
	if (log_level() >= LOG_INFO || strlen(id) <= 12)
		snprintf(buf, len, "%s", id);
	else
		snprintf(buf, len, "%.8s...", id);
}
