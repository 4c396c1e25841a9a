/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Resume: users an interrupted run left between makeCredential and
 * "done" are looked up in Graph before anything else happens.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "enroll_int.h"

int
enroll_reconcile_one(const journal_entry_t *e, void *arg)
{
	struct reconcile_ctx	*rc = arg;
	struct run		*run = rc->run;
	struct journal_fields	 jf;
	graph_methods_t		*ms = NULL;
	const graph_method_t	*m;
	const char		*uid;
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
	memset(&jf, 0, sizeof(jf));
	if ((m = graph_methods_find_cred(ms, e->credential_id)) != NULL) {
		jf.method_id = graph_method_id(m);
		jf.attestation = graph_method_attestation_level(m);
		if (*graph_method_passkey_type(m) != '\0')
			jf.passkey_type = graph_method_passkey_type(m);
		r = journal_user_set_state(run->j, e->user_key,
		    JOURNAL_ST_DONE, &jf);
		log_info("resume: %s was registered before the interruption",
		    e->upn);
	} else
		r = journal_user_set_state(run->j, e->user_key,
		    JOURNAL_ST_PENDING, &jf);
	graph_methods_free(&ms);
	if (r != JOURNAL_OK) {
		rc->err = ENROLL_ERR_LOCAL;
		return (-1);
	}
	rc->fixed++;

	return (0);
}
