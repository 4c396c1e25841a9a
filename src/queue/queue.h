/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The fleet queue: one PostgreSQL database (libpq) that several
 * stations work at once, without ever handing one user to two keys and
 * without losing a user when a station dies mid-touch.  SQLite (the
 * journal) stays the default for one machine.
 *
 * Connection: a postgresql:// URL or a libpq keyword string.  The
 * password comes only from ~/.pgpass (or PGPASSFILE) or PGPASSWORD: a
 * conninfo that holds one is refused (QUEUE_ERR_PASSWORD), as it would
 * sit on argv or in the environment of every station.
 *
 * Schema (created and migrated by queue_init(), each migration one
 * transaction under an advisory lock; a database newer than
 * QUEUE_SCHEMA is refused with QUEUE_ERR_VERSION):
 *
 *   provisioning_schema    version, applied: one row per migration
 *   provisioning_users     the queue: user_key (unique), upn, object
 *                          id, state, station, lease_until, lease_gen,
 *                          attempts, credential_id, method_id, key
 *                          details, stage/error_code/last_error,
 *                          body (the registration as POSTed, from
 *                          the touch until done), created, updated
 *   provisioning_events    every step: time, user, station, state,
 *                          detail
 *   provisioning_stations  name, first/last seen, draining
 *   provisioning_fleet     one row: the fleet-wide drain flag
 *
 * One user, one row: `queue add` refuses a reference that is the key,
 * or the UPN or object id resolved, of a row already there; two rows
 * added before either was resolved (once by UPN, once by object id)
 * are caught when a station resolves them (queue_step(RESOLVED)): the
 * first resolved is skipped, the other goes on.
 *
 * States (QUEUE_ST_*):
 *
 *   queued -> claimed | reconcile -> resolved -> options_fetched ->
 *       key_touched -> done | failed | skipped
 *
 * A claim takes a queued user, or one whose lease expired (its station
 * died or lost the network).  A claimed user with a credential id
 * recorded comes out as `reconcile`: its key was touched and the POST
 * may have reached Graph, so the claimer first looks for that
 * credential among the user's fido2Methods (done if there, else
 * queue_step(CLAIMED) to start over).  Every claim bumps lease_gen; a
 * step counts only with the item's generation, so a station whose
 * user was claimed again elsewhere is told QUEUE_ERR_LOST and must
 * abandon it.  An expired lease that nobody has claimed since is still
 * the station's.
 *
 * Threads: one queue_t may be shared; every call takes its mutex and
 * is one transaction.  A connection found broken is reset at the start
 * of the next call.
 */

#ifndef PROV_QUEUE_H
#define PROV_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

#define QUEUE_OK		 0
#define QUEUE_ERR_INTERNAL	-1	/* out of memory, unexpected reply */
#define QUEUE_ERR_ARG		-2	/* bad parameter or user reference */
#define QUEUE_ERR_CONNECT	-3	/* cannot reach the database */
#define QUEUE_ERR_PASSWORD	-4	/* a password in the conninfo */
#define QUEUE_ERR_SCHEMA	-5	/* not initialised: queue init */
#define QUEUE_ERR_VERSION	-6	/* schema newer than this tool */
#define QUEUE_ERR_LOST		-7	/* the lease is another station's */
#define QUEUE_ERR_EMPTY		-8	/* nothing to claim */
#define QUEUE_ERR_DRAINING	-9	/* nothing to claim: draining */
#define QUEUE_ERR_STATE		-10	/* another row is this user */
#define QUEUE_ERR_DB		-11	/* the database refused a query */

#define QUEUE_SCHEMA		3	/* the newest migration we know */
#define QUEUE_LEASE_DEFAULT	60	/* seconds */

/* field sizes, with the NUL; longer input is refused */
#define QUEUE_KEY_LEN		128	/* UPN <= 113, GUID 36 */
#define QUEUE_NAME_LEN		128	/* station name */
#define QUEUE_CREDID_LEN	1400	/* base64url of up to 1023 bytes */
#define QUEUE_SHORT_LEN		256
#define QUEUE_MSG_LEN		512

enum queue_state {
	QUEUE_ST_NONE = 0,
	QUEUE_ST_QUEUED,
	QUEUE_ST_CLAIMED,
	QUEUE_ST_RECONCILE,
	QUEUE_ST_RESOLVED,
	QUEUE_ST_OPTIONS_FETCHED,
	QUEUE_ST_KEY_TOUCHED,
	QUEUE_ST_DONE,
	QUEUE_ST_FAILED,
	QUEUE_ST_SKIPPED,
	QUEUE_ST_COUNT
};

typedef struct queue queue_t;

/* a claimed user; filled by queue_claim(), passed back to queue_step() */
struct queue_item {
	long long		 id;
	long long		 lease_gen;	/* the claim's generation */
	enum queue_state	 state;		/* CLAIMED or RECONCILE */
	bool			 reconcile;	/* ask Graph first */
	int			 attempts;	/* this claim included */
	int			 lease_seconds;	/* renewed by each step */
	char			 user_key[QUEUE_KEY_LEN];
	char			 upn[QUEUE_KEY_LEN];
	char			 object_id[QUEUE_KEY_LEN];
	char			 credential_id[QUEUE_CREDID_LEN];
	char			 prev_station[QUEUE_NAME_LEN]; /* "" if new */
};

/* what a step records; NULL members leave the column as it is */
struct queue_fields {
	const char	*upn;		/* resolved */
	const char	*object_id;	/* resolved */
	const char	*credential_id;	/* key_touched (required) */
	const char	*device;	/* key_touched */
	const char	*aaguid;
	const char	*model;
	const char	*display_name;
	const char	*method_id;	/* done (required) */
	const char	*attestation;	/* done */
	const char	*stage;		/* failed */
	const char	*error_code;	/* failed */
	const char	*message;	/* failed (required), skipped */
	const char	*request_id;	/* failed */
	const char	*body;		/* key_touched: the registration as
					   POSTed; cleared by claimed, done */
};

struct queue_station_status {
	char	name[QUEUE_NAME_LEN];
	char	last_seen[32];		/* ISO 8601 UTC */
	bool	draining;
	size_t	in_flight;		/* claimed .. key_touched */
	size_t	done;
	size_t	failed;
};

struct queue_status {
	size_t				 count[QUEUE_ST_COUNT];
	size_t				 total;
	size_t				 expired;	/* in flight, lease over */
	bool				 fleet_draining;
	int				 schema;
	struct queue_station_status	*stations;
	size_t				 nstations;
};

/* one user, for the fleet report */
struct queue_row {
	const char	*user_key;
	const char	*upn;
	const char	*object_id;
	const char	*state;
	const char	*station;
	int		 attempts;
	const char	*credential_id;
	const char	*method_id;
	const char	*device;
	const char	*aaguid;
	const char	*model;
	const char	*display_name;
	const char	*attestation;
	const char	*stage;
	const char	*error_code;
	const char	*message;
	const char	*request_id;
	const char	*updated;	/* ISO 8601 UTC */
};

const char	*queue_strerr(int);
/* "key_touched"; NULL if out of range */
const char	*queue_state_name(enum queue_state);
enum queue_state queue_state_from_name(const char *);

/*
 * Connect (nothing is written).  `station` names this station in
 * claims, events and status.  On failure `err` has a sentence for the
 * operator, without any secret.  The schema is checked: a newer one
 * fails here (QUEUE_ERR_VERSION); a missing or older one makes every
 * call but queue_init() fail with QUEUE_ERR_SCHEMA.
 */
int		 queue_open(const char *conninfo, const char *station,
		    queue_t **qp, char *err, size_t errlen);
void		 queue_free(queue_t **qp);
/* the last failure, as a sentence (no secrets); "" if none */
const char	*queue_errmsg(const queue_t *);
/* the schema version found (0: none) */
int		 queue_schema(const queue_t *);

/* create or migrate the schema; *from: the version before (0: none) */
int		 queue_init(queue_t *, int *from);

/*
 * Enqueue users (UPN or object id, n of them) in one transaction; a
 * user already in the queue, whatever the state, is not added again.
 * *added: how many were new.
 */
int		 queue_add(queue_t *, const char *const *users, size_t n,
		    size_t *added);

/*
 * Claim the next user for this station with a lease of lease_seconds:
 * QUEUE_OK with *item filled, QUEUE_ERR_EMPTY, or QUEUE_ERR_DRAINING
 * (this station or the fleet is draining).
 */
int		 queue_claim(queue_t *, int lease_seconds,
		    struct queue_item *item);
/*
 * Renew the leases this station holds; *n: how many (may be NULL).
 * Every lease under the station's name, also those of an earlier
 * process of the same name that died: a station that may restart
 * renews its own claims with queue_renew() instead.
 */
int		 queue_heartbeat(queue_t *, int lease_seconds, size_t *n);
/* renew one claim's lease (QUEUE_ERR_LOST if not ours any more) */
int		 queue_renew(queue_t *, struct queue_item *);

/*
 * Record a step of a claimed user, committed before it returns, if
 * the claim is still ours (else QUEUE_ERR_LOST); renews the lease.
 * CLAIMED: reconciled, nothing registered: start over (the credential
 * id is cleared).  DONE, FAILED and SKIPPED end the claim.  RESOLVED
 * fails with QUEUE_ERR_STATE if another row, not skipped, holds the
 * same object id or UPN (the user was added by both): record this one
 * SKIPPED and leave the user to that row.
 */
int		 queue_step(queue_t *, struct queue_item *, enum queue_state,
		    const struct queue_fields *);
/*
 * The registration recorded with a claimed user's credential (*body
 * NULL if none; free() it), and *age_s, the seconds since the touch or
 * the failure that recorded it, by the server's clock.
 */
int		 queue_body(queue_t *, const struct queue_item *, char **body,
		    double *age_s);
/* give a claimed user back to the queue (QUEUE_ERR_LOST if not ours) */
int		 queue_release(queue_t *, struct queue_item *);

/* failed users back to queued: `user` (key, UPN or id) or all (NULL) */
int		 queue_retry(queue_t *, const char *user, size_t *n);
/*
 * Stop (on) or resume handing out work: to `station`, or to the whole
 * fleet (NULL).  Claims already made go on.
 */
int		 queue_drain(queue_t *, const char *station, bool on);

/*
 * What this handle cost: calls made, and the milliseconds the
 * connection was held for them (round trips to the server, its work,
 * libpq; not the wait for another thread's call).  For -v and benches.
 */
void		 queue_stats(queue_t *, unsigned long long *calls,
		    long long *busy_ms);

int		 queue_status(queue_t *, struct queue_status *);
void		 queue_status_reset(struct queue_status *);

/*
 * Every user (failures_only: failed ones) in queue order; the row's
 * strings live until the callback returns.  A non-zero return from
 * `cb` stops, and is returned.
 */
typedef int	 queue_report_fn(const struct queue_row *, void *);
int		 queue_report(queue_t *, bool failures_only,
		    queue_report_fn *cb, void *arg);

#endif /* PROV_QUEUE_H */
