/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The second journal (enroll_opts.steps, the fleet queue): every step
 * the pipeline records goes to it too, before the next externally
 * visible action.  A user it says is no longer ours is abandoned; a
 * journal that cannot be written stops the run, as the SQLite journal
 * does, so that nothing is registered that it does not know of.
 */

#include "common.h"
#include "enroll_int.h"

int
enroll_steps_tell(struct run *run, struct job *jb, enum journal_state st,
    const struct journal_fields *jf)
{
	const struct enroll_steps	*s = run->o->steps;
	int				 r;

	if (s == NULL || s->step == NULL)
		return (0);
	if ((r = s->step(s->arg, jb->idx, (int)st, jf)) == 0)
		return (0);
	if (r == ENROLL_STEP_LOST) {
		log_warn("%s: another station has this user now; "
		    "abandoned here", jb->upn != NULL ? jb->upn : jb->key);
		return (-1);
	}
	enroll_fatal(run, ENROLL_ERR_NET, "cannot record the step in the "
	    "fleet queue: stopped taking work");
	return (-1);
}
