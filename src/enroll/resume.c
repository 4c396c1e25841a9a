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

enum enroll_resend
enroll_resend(graph_client_t *c, const char *uid, const char *who,
    const char *cred, const char *body, double age_s, graph_method_t **mp)
{
	int r;

	*mp = NULL;
	/* recorded by an older version: nothing to send */
	if (body == NULL)
		return (ENROLL_RESEND_REFUSED);
	if (age_s >= ENROLL_RESEND_WINDOW_S) {
		log_info("%s's credential from %.0f minutes ago is not "
		    "in Graph; starting over", who, age_s / 60);
		return (ENROLL_RESEND_REFUSED);
	}
	log_info("%s's registration from the interrupted attempt is not "
	    "in Graph; sending it again", who);
	if ((r = graph_fido2_register(c, uid, body, cred, mp)) == GRAPH_OK)
		return (ENROLL_RESEND_STORED);
	if (r == GRAPH_ERR_BAD_REQUEST) {
		log_info("%s starts over with a new challenge; Graph refused "
		    "the registration sent again: %s", who,
		    graph_last_message(c));
		return (ENROLL_RESEND_REFUSED);
	}
	log_warn("cannot tell whether %s's passkey was registered: %s", who,
	    graph_strerr(r));

	return (graph_err_is_auth(r) ? ENROLL_RESEND_AUTH :
	    ENROLL_RESEND_UNKNOWN);
}

static int
journal_resend(struct reconcile_ctx *rc, const journal_entry_t *e,
    const char *uid, graph_method_t **mp)
{
	struct run	*run = rc->run;
	char		*body = NULL;
	double		 age;
	int		 how;

	*mp = NULL;
	if (journal_user_body(run->j, e->user_key, &body, &age) !=
	    JOURNAL_OK) {
		rc->err = ENROLL_ERR_LOCAL;
		return (-1);
	}
	how = enroll_resend(run->admin, uid, e->upn[0] ? e->upn : uid,
	    e->credential_id, body, age, mp);
	free(body);
	if (how == ENROLL_RESEND_AUTH) {
		rc->err = ENROLL_ERR_AUTH;
		return (-1);
	}

	return (how);
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
	const char		*uid, *who;
	int			 how = ENROLL_RESEND_STORED, r;

	if (e->credential_id[0] == '\0')
		return (0);
	uid = e->object_id[0] ? e->object_id : e->upn;
	who = e->upn[0] ? e->upn : uid;
	if ((r = graph_fido2_list(run->admin, uid, &ms)) != GRAPH_OK) {
		log_warn("resume: cannot check %s's passkeys: %s", uid,
		    graph_strerr(r));
		if (!graph_err_is_auth(r))
			return (0);
		rc->err = ENROLL_ERR_AUTH;
		return (-1);
	}
	if ((m = graph_methods_find_cred(ms, e->credential_id)) == NULL) {
		how = journal_resend(rc, e, uid, &sent);
		m = sent;
	}
	memset(&jf, 0, sizeof(jf));
	switch (how) {
	case ENROLL_RESEND_STORED:
		jf.method_id = graph_method_id(m);
		jf.attestation = graph_method_attestation_level(m);
		if (*graph_method_passkey_type(m) != '\0')
			jf.passkey_type = graph_method_passkey_type(m);
		r = journal_user_set_state(run->j, e->user_key,
		    JOURNAL_ST_DONE, &jf);
		if (sent == NULL)
			log_info("resume: %s was registered before the "
			    "interruption", who);
		else
			log_info("resume: %s is registered now (method %s)",
			    who, graph_method_id(m));
		break;
	case ENROLL_RESEND_REFUSED:
		r = journal_user_set_state(run->j, e->user_key,
		    JOURNAL_ST_PENDING, &jf);
		break;
	case ENROLL_RESEND_UNKNOWN:
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
	if (how != ENROLL_RESEND_UNKNOWN)
		rc->fixed++;

	return (0);
}
