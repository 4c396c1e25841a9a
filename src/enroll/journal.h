/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The enrollment journal: journal.sqlite in the state directory.  It
 * records every step of every user's enrollment as its own committed
 * transaction (WAL, synchronous=FULL: fsynced before the next action
 * others see; pending, done, failed and skipped are NORMAL, see
 * must_sync() in journal_user.c), so that after a crash, Ctrl+C or a
 * pulled key a re-run neither loses a user nor registers a second
 * passkey for one.  Nothing secret is ever stored: no PIN, token or
 * private key; credential ids, AAGUIDs and method ids are public.
 *
 * Per-user state machine (JOURNAL_ST_*), as the pipeline drives it:
 *
 *   pending -> resolved -> options_fetched -> key_touched -> done
 *
 *   key_touched -> done   registered (method_id from the POST), or found
 *                         among the user's methods on resume; one
 *                         commit: the registration was checked already
 *   options_fetched -> options_fetched   challenge fetched again
 *   resolved -> resolved                 resolved again on resume
 *   any but done -> pending              a new attempt (attempts + 1;
 *                                        per-attempt fields cleared)
 *   any but done -> failed | skipped
 *   failed -> done       a failed attempt that had recorded a credential
 *                        turned out registered (see reconcile)
 *
 * registered and verified (key_touched -> registered -> verified ->
 * done) are no longer written; journals of earlier versions may hold
 * them, and the resume treats them as key_touched.  A user reached
 * again under another key (a renamed UPN) who is done already stays
 * done: check journal_is_done() after resolving.
 *
 * key_touched needs credential_id (base64url), and should carry device,
 * aaguid, model and display_name: it is recorded after makeCredential
 * and BEFORE the POST, so a crash between the two is found by
 * journal_pending_reconcile().  done after key_touched carries
 * method_id, attestation, passkey_type and any warning.  A done user stays done: to enroll them
 * again (e.g. --replace), journal_user_forget() first.
 *
 * Users: the key of a user is the object id when known, else the UPN
 * in ASCII lower case (journal_user_key()).  Lookups accept either: a
 * GUID is looked up as object id, anything else as UPN.  A user first
 * seen by UPN keeps its row when `resolved` adds the object id; if
 * another row already has that object id (the same user reached by id
 * or by an older UPN) the two are merged: the running attempt moves
 * over unless the other row holds a credential or is done, which are
 * never lost.  If the UPN's row has a different object id, the UPN
 * has passed to another person: that row keeps its id and loses the
 * UPN.
 *
 * Threads: one journal_t may be shared by all worker threads.  Every
 * call takes the journal's mutex and is one transaction on the single
 * connection; journal_pending_reconcile() runs its callback without the
 * lock, so the callback may call back into the journal.  Other
 * processes on the same file are serialised by SQLite (busy_timeout).
 */

#ifndef PROV_JOURNAL_H
#define PROV_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#define JOURNAL_OK		 0
#define JOURNAL_ERR_INTERNAL	-1	/* out of memory, SQLite misuse */
#define JOURNAL_ERR_ARG		-2	/* bad parameter */
#define JOURNAL_ERR_IO		-3	/* cannot open/write the file */
#define JOURNAL_ERR_BUSY	-4	/* locked by another process too long */
#define JOURNAL_ERR_CORRUPT	-5	/* not a journal, or damaged */
#define JOURNAL_ERR_VERSION	-6	/* written by a newer version */
#define JOURNAL_ERR_NOT_FOUND	-7	/* no such user / run */
#define JOURNAL_ERR_STATE	-8	/* transition not allowed */
#define JOURNAL_ERR_PERM	-9	/* the file (or its -wal, -shm) is
					   not ours, or others can write it */

#define JOURNAL_FILE		"journal.sqlite"
#define JOURNAL_SCHEMA		3	/* PRAGMA user_version; 1, 2 are migrated */
#define JOURNAL_BUSY_MS		10000

enum journal_state {
	JOURNAL_ST_NONE = 0,		/* no enrollment recorded */
	JOURNAL_ST_PENDING,
	JOURNAL_ST_RESOLVED,
	JOURNAL_ST_OPTIONS_FETCHED,
	JOURNAL_ST_KEY_TOUCHED,
	JOURNAL_ST_REGISTERED,
	JOURNAL_ST_VERIFIED,
	JOURNAL_ST_DONE,
	JOURNAL_ST_FAILED,
	JOURNAL_ST_SKIPPED,
};

enum journal_run_status {
	JOURNAL_RUN_RUNNING = 0,
	JOURNAL_RUN_DONE,		/* every user done or skipped */
	JOURNAL_RUN_PARTIAL,		/* some users failed */
	JOURNAL_RUN_FAILED,		/* stopped by an error */
	JOURNAL_RUN_INTERRUPTED,	/* Ctrl+C */
};

/* field sizes, with the NUL; longer input is refused (message: cut) */
#define JOURNAL_KEY_LEN		128	/* UPN <= 113, GUID 36 */
#define JOURNAL_CREDID_LEN	1400	/* base64url of up to 1023 bytes */
#define JOURNAL_SHORT_LEN	256	/* device, aaguid, method id, ... */
#define JOURNAL_MSG_LEN		512

typedef struct journal journal_t;

/* what a transition records; NULL members leave the column as it is */
struct journal_fields {
	const char	*upn;
	const char	*object_id;	/* resolved */
	const char	*credential_id;	/* key_touched (required) */
	const char	*device;	/* key_touched: key path or serial */
	const char	*aaguid;	/* key_touched */
	const char	*body;		/* key_touched: the registration as
					   POSTed, sent again on resume;
					   cleared by pending and done */
	const char	*method_id;	/* registered (required) */
	const char	*model;		/* key model (getInfo / Graph) */
	const char	*display_name;	/* the passkey's display name */
	const char	*attestation;	/* Graph's attestationLevel */
	const char	*passkey_type;	/* done: Graph's passkeyType */
	const char	*warning;	/* done: what Entra recorded otherwise
					   than the key (cut at 511 bytes) */
	const char	*stage;		/* failed: the stage that failed */
	const char	*error_code;	/* failed */
	const char	*message;	/* failed: why (cut at 511 bytes) */
	const char	*request_id;	/* failed: Graph request-id */
	const char	*reason;	/* skipped: why */
};

typedef struct journal_entry {
	char			 user_key[JOURNAL_KEY_LEN];
	char			 upn[JOURNAL_KEY_LEN];
	char			 object_id[JOURNAL_KEY_LEN];
	enum journal_state	 state;
	int			 attempts;
	long long		 run_id;	/* run of the last transition */
	char			 created[32];	/* ISO 8601 UTC */
	char			 updated[32];
	char			 credential_id[JOURNAL_CREDID_LEN];
	char			 device[JOURNAL_SHORT_LEN];
	char			 aaguid[JOURNAL_SHORT_LEN];
	char			 method_id[JOURNAL_SHORT_LEN];
	char			 model[JOURNAL_SHORT_LEN];
	char			 display_name[JOURNAL_SHORT_LEN];
	char			 attestation[JOURNAL_SHORT_LEN];
	char			 passkey_type[JOURNAL_SHORT_LEN];
	char			 warning[JOURNAL_MSG_LEN];
	char			 stage[JOURNAL_SHORT_LEN];
	char			 error_code[JOURNAL_SHORT_LEN];
	char			 message[JOURNAL_MSG_LEN];
	char			 request_id[JOURNAL_SHORT_LEN];
	char			 reason[JOURNAL_SHORT_LEN];
} journal_entry_t;

struct journal_counts {
	size_t	done;			/* done */
	size_t	failed;
	size_t	skipped;
	size_t	remaining;		/* pending .. verified */
	size_t	total;
};

const char	*journal_strerr(int);
/* "key_touched" */
const char	*journal_state_name(enum journal_state);
/* JOURNAL_ST_NONE if unknown */
enum journal_state journal_state_from_name(const char *);

/*
 * Open or create the journal at `path` (created 0600); the schema is
 * created or checked.  journal_free() closes it.
 */
int		 journal_open(const char *path, journal_t **jp);
void		 journal_free(journal_t **jp);
/* SQLite's message for the last failed call (diagnostics only) */
const char	*journal_errmsg(const journal_t *);

/*
 * Runs.  `summary` is the command line without secrets; `source` the
 * CSV path, group or user list.  Later transitions carry this run id.
 * A run's beginning is not waited for: it is on disk with the next
 * commit that is (the WAL keeps commits in order), and so before
 * anything others see.  Its end is.
 */
int		 journal_run_begin(journal_t *, const char *summary,
		    const char *source, long long *run_id);
int		 journal_run_end(journal_t *, long long run_id,
		    enum journal_run_status);
/* counts by the users' current state; run_id 0: every user */
int		 journal_counts(journal_t *, long long run_id,
		    struct journal_counts *);

/* user key: lower-case object id if any, else ASCII-lower-case UPN */
int		 journal_user_key(const char *upn, const char *object_id,
		    char *buf, size_t len);

int		 journal_user_get(journal_t *, const char *user_key,
		    journal_entry_t *);
/*
 * The registration body recorded with the user's credential (*body NULL
 * if none: an older journal, or the credential is gone); free() it.
 * *age_s: seconds since the user's last transition (the touch, or the
 * failure after the last POST attempt).
 */
int		 journal_user_body(journal_t *, const char *user_key,
		    char **body, double *age_s);
int		 journal_user_set_state(journal_t *, const char *user_key,
		    enum journal_state, const struct journal_fields *);
/*
 * The same transition, committed without waiting for the disk; *seq
 * names the commit.  journal_sync() returns once that commit is on disk:
 * call it before the action the transition stands for (the credential
 * made after options_fetched, the TAP after resolved).  One fsync
 * covers every commit before it, those of other threads included, so
 * most calls find their commit durable already.
 */
int		 journal_user_mark_state(journal_t *, const char *user_key,
		    enum journal_state, const struct journal_fields *,
		    long long *seq);
/*
 * journal_user_mark_state() for n users (keys[i] with f[i]; f may be
 * NULL) in one commit: all of them or, on an error, none.  Users taken
 * together (a $batch) cost one commit instead of n.
 */
int		 journal_users_mark_state(journal_t *,
		    const char *const *user_keys,
		    const struct journal_fields *, size_t n,
		    enum journal_state, long long *seq);
int		 journal_sync(journal_t *, long long seq);
/* 1 done, 0 not (or unknown), < 0 error */
int		 journal_is_done(journal_t *, const char *user_key);
/* drop the enrollment state (history is kept) */
int		 journal_user_forget(journal_t *, const char *user_key);

/*
 * Users left in options_fetched, key_touched, registered or verified,
 * and failed users whose attempt had recorded a credential (the POST
 * may have reached Graph before the error): on resume the pipeline
 * looks for entry->credential_id among the user's fido2Methods (done if
 * found, else pending with a fresh challenge).  The callback returns 0
 * to go on, non-zero to stop (that value is returned).
 */
typedef int journal_reconcile_fn(const journal_entry_t *, void *);

int		 journal_pending_reconcile(journal_t *,
		    journal_reconcile_fn *, void *arg);

#endif /* PROV_JOURNAL_H */
