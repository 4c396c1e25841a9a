/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Resume: users an interrupted run left between makeCredential and
 * "done" are looked up in Graph before anything else happens.
 *
 * A credential not among the user's passkeys is not proof that its POST
 * failed: Graph may still hold the request of the process that died and
 * store it later.  Starting the user over at once would then give them
 * a second passkey.  The recorded registration is sent again instead:
 * Graph stores one of the two (a credential id is registered once, a
 * challenge used once), and a refusal with the credential still absent
 * means the old request can no longer land either (its challenge has
 * run out or is spent), so the user starts over safely.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

/*
 * How long a request of a run that died may still be stored by Graph.
 * A credential recorded longer ago and not listed is taken as not
 * registered: sending it then could register a credential whose key has
 * since been reset (a beta challenge may last 30 days).
 */
#define RESEND_WINDOW_S	600

enum resend {
	RESEND_STORED,		/* *mp is the stored method */
	RESEND_REFUSED,		/* cannot land any more: start over */
	RESEND_UNKNOWN,		/* leave the user for a later run */
	RESEND_FATAL,		/* rc->err says why */
};

static enum resend
resend(struct reconcile_ctx *rc, const journal_entry_t *e, const char *uid,
    graph_method_t **mp)
{
	struct run	*run = rc->run;
	const char	*who = e->upn[0] ? e->upn : uid;
	char		*body = NULL;
	double		 age;
	int		 r;

	*mp = NULL;
	if ((r = journal_user_body(run->j, e->user_key, &body, &age)) !=
	    JOURNAL_OK) {
		rc->err = ENROLL_ERR_LOCAL;
		return (RESEND_FATAL);
	}
	/* recorded by an older version: nothing to send */
	if (body == NULL)
		return (RESEND_REFUSED);
	if (age >= RESEND_WINDOW_S) {
		log_info("resume: %s's credential from %.0f minutes ago is not "
		    "in Graph; starting over", who, age / 60);
		free(body);
		return (RESEND_REFUSED);
	}
	log_info("resume: %s's registration from the interrupted run is "
	    "not in Graph; sending it again", who);
	r = graph_fido2_register(run->admin, uid, body, e->credential_id, mp);
	free(body);
	if (r == GRAPH_OK)
		return (RESEND_STORED);
	if (r == GRAPH_ERR_BAD_REQUEST) {
		log_info("resume: %s starts over with a new challenge; Graph "
		    "refused the registration sent again: %s", who,
		    graph_last_message(run->admin));
		return (RESEND_REFUSED);
	}
	log_warn("resume: cannot tell whether %s's passkey was registered: "
	    "%s", uid, graph_strerr(r));
	if (!graph_err_is_auth(r))
		return (RESEND_UNKNOWN);
	rc->err = ENROLL_ERR_AUTH;

	return (RESEND_FATAL);
}

int
enroll_reconcile_one(const journal_entry_t *e, void *arg)
{
	struct reconcile_ctx	*rc = arg;
	struct run		*run = rc->run;
	struct journal_fields	 jf;
	graph_methods_t		*ms = NULL;
	graph_method_t		*sent = NULL;
	const graph_method_t	*m;
	const char		*uid;
	enum resend		 how = RESEND_STORED;
	int			 r;

	if (e->credential_id[0] == '\0')
		return (0);
	uid = e->object_id[0] ? e->object_id : e->upn;
	if ((r = graph_fido2_list(run->admin, uid, &ms)) != GRAPH_OK) {
		log_warn("resume: cannot check %s's passkeys: %s", uid,
		    graph_strerr(r));
		if (!graph_err_is_auth(r))
			return (0);
		rc->err = ENROLL_ERR_AUTH;
		return (-1);
	}
	if ((m = graph_methods_find_cred(ms, e->credential_id)) == NULL) {
		how = resend(rc, e, uid, &sent);
		m = sent;
	}
	memset(&jf, 0, sizeof(jf));
	switch (how) {
	case RESEND_STORED:
		jf.method_id = graph_method_id(m);
		jf.attestation = graph_method_attestation_level(m);
		if (*graph_method_passkey_type(m) != '\0')
			jf.passkey_type = graph_method_passkey_type(m);
		r = journal_user_set_state(run->j, e->user_key,
		    JOURNAL_ST_DONE, &jf);
		if (sent == NULL)
			log_info("resume: %s was registered before the "
			    "interruption", e->upn[0] ? e->upn : uid);
		else
			log_info("resume: %s is registered now (method %s)",
			    e->upn[0] ? e->upn : uid, graph_method_id(m));
		break;
	case RESEND_REFUSED:
		r = journal_user_set_state(run->j, e->user_key,
		    JOURNAL_ST_PENDING, &jf);
		break;
	case RESEND_UNKNOWN:
		/* prefetch fails the user: "outcome_unknown" */
		r = JOURNAL_OK;
		break;
	default:
		graph_methods_free(&ms);
		return (-1);
	}
	graph_method_free(&sent);
	graph_methods_free(&ms);
	if (r != JOURNAL_OK) {
		rc->err = ENROLL_ERR_LOCAL;
		return (-1);
	}
	if (how != RESEND_UNKNOWN)
		rc->fixed++;

	return (0);
}
