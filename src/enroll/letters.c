/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN letters (--mailers DIR, --print): once a user is enrolled, a
 * letter with their PIN for whoever hands them the key.  The key
 * worker keeps what the letter needs on the job (the PIN is copied:
 * the key's own copy is wiped when the key is released, possibly
 * before the poster gets to the job); the poster writes the letter and
 * wipes the copy.  A letter that cannot be written does not undo the
 * enrollment: it is said, user by user, and counted for the summary.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "enroll_int.h"
#include "mailer.h"

void
enroll_letter_keep(const struct run *run, struct job *jb,
    const struct key *k)
{
	if (run->o->mailers_dir == NULL || run->o->dry_run)
		return;
	freezero_str(jb->pin);
	/* no PIN known (none set, none given): enroll_letter() says so */
	jb->pin = k->pin != NULL ? strdup(k->pin) : NULL;
	snprintf(jb->serial, sizeof(jb->serial), "%s", k->serial != NULL ?
	    k->serial : "");
	/* the board's name for it: the USB port path, the socket's name */
	station_slot_name(k->path, jb->slot, sizeof(jb->slot));
}

static void
count(struct run *run, size_t *counter)
{
	pthread_mutex_lock(&run->lock);
	(*counter)++;
	pthread_mutex_unlock(&run->lock);
}

void
enroll_letter(struct run *run, struct job *jb, const char *model)
{
	struct mailer_letter	ml;
	char			path[4096], err[1024];
	int			r;

	if (run->o->mailers_dir == NULL || run->o->dry_run)
		return;
	if (jb->pin == NULL) {
		enroll_say(run, "%s: enrolled, but NO PIN LETTER: the PIN of "
		    "the key is not known to this run", jb->upn);
		count(run, &run->letters_missing);
		return;
	}
	memset(&ml, 0, sizeof(ml));
	ml.name = jb->name;
	ml.upn = jb->upn;
	ml.model = model;
	ml.aaguid = jb->cred != NULL ? ctap_cred_aaguid(jb->cred) : NULL;
	ml.serial = jb->serial;
	ml.slot = jb->slot;
	ml.pin = jb->pin;
	r = mailer_write(run->o->mailers_dir, &ml, path, sizeof(path), err,
	    sizeof(err));
	/* the letter holds it now, or never will: no copy lingers */
	freezero_str(jb->pin);
	jb->pin = NULL;
	if (r != MAILER_OK) {
		enroll_say(run, "%s: enrolled, but NO PIN LETTER: %s", jb->upn,
		    err);
		count(run, &run->letters_missing);
		return;
	}
	count(run, &run->letters);
	log_info("%s: PIN letter %s", jb->upn, path);
	if (!run->o->print_letters)
		return;
	if (mailer_print(path, err, sizeof(err)) != MAILER_OK) {
		enroll_say(run, "%s: the PIN letter %s was not printed: %s",
		    jb->upn, path, err);
		count(run, &run->unprinted);
		return;
	}
	log_info("%s: PIN letter sent to the printer", jb->upn);
}
