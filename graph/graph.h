/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The Microsoft identity platform (OAuth 2.0 v2) and Microsoft Graph
 * client.  The only code that includes <curl/curl.h>; callers see opaque
 * types, GRAPH_OK / GRAPH_ERR_* and graph_strerr().
 *
 * Threads: a graph_client_t is used by one thread at a time; give each
 * worker its own (graph_client_clone()).  The token cache is shared
 * safely between threads and processes through a lock file.
 *
 * Secrets (tokens, client secrets, TAPs) are never logged, not even at
 * LOG_DEBUG; buffers that held them are wiped before they are freed.
 * Strings returned by accessors belong to their object.
 */

#ifndef PROV_GRAPH_H
#define PROV_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* errors: 0 ok, negative = what the operator must act on */
#define GRAPH_OK		  0
#define GRAPH_ERR_INTERNAL	 -1	/* bug or out of memory */
#define GRAPH_ERR_ARG		 -2	/* bad parameter or configuration */
#define GRAPH_ERR_LOGIN_REQUIRED -3	/* no usable session: log in */
#define GRAPH_ERR_AUTH		 -4	/* sign-in failed or token refused */
#define GRAPH_ERR_FORBIDDEN	 -5	/* 403: a permission or role is missing */
#define GRAPH_ERR_NOT_FOUND	 -6	/* 404: no such user, group, method */
#define GRAPH_ERR_BAD_REQUEST	 -7	/* 400: e.g. registration refused */
#define GRAPH_ERR_CONFLICT	 -8	/* 409 */
#define GRAPH_ERR_THROTTLED	 -9	/* 429 still, after every retry */
#define GRAPH_ERR_SERVER	-10	/* 5xx still, after every retry */
#define GRAPH_ERR_NETWORK	-11	/* connection failed or broken */
#define GRAPH_ERR_TLS		-12	/* certificate not trusted, handshake */
#define GRAPH_ERR_TIMEOUT	-13
#define GRAPH_ERR_PROTOCOL	-14	/* malformed, truncated or huge reply */
#define GRAPH_ERR_CACHE		-15	/* token cache unsafe or unreadable */
#define GRAPH_ERR_DECLINED	-16	/* user declined, or the code expired */
#define GRAPH_ERR_AMBIGUOUS	-17	/* several groups carry that name */
#define GRAPH_ERR_UNSUPPORTED	-18	/* e.g. not offered in this cloud */
#define GRAPH_ERR_HTTP		-19	/* any other unexpected HTTP status */
#define GRAPH_ERR_CANCELLED	-20	/* the cancel hook said stop (Ctrl+C) */

const char	*graph_strerr(int);
/* true for errors a new `login` (or a role/permission grant) fixes */
bool		 graph_err_is_auth(int);
/*
 * Can passkeys be registered on behalf of users in this cloud?  Microsoft
 * offers fido2Methods creationOptions in the global cloud only; callers
 * refuse up front what every user would fail at.
 */
bool		 graph_cloud_registers(const char *cloud);

typedef struct graph_client graph_client_t;

/*
 * Everything is copied by graph_client_new(); NULL/0 means the default.
 * URLs: authority_url replaces the cloud's login host, graph_url its
 * Graph host (tests point both at the emulator).
 */
struct graph_config {
	const char	*cloud;		/* global (default), usgov, usgov-dod,
					 * china */
	const char	*authority_url;	/* https://login.microsoftonline.com */
	const char	*graph_url;	/* https://graph.microsoft.com */
	const char	*graph_version;	/* v1.0 (default) or beta */
	const char	*tenant;	/* id or domain; default organizations */
	const char	*client_id;	/* default: Graph Command Line Tools */
	const char	*ca_bundle;	/* PEM roots trusted besides the
					 * system store */
	bool		 disable_ssl_verify; /* seed compatibility; the CLI warns */
	bool		 local_ssl_verify;   /* seed compatibility: OS store */
	const char	*state_dir;	/* token cache dir; NULL: memory only */
	const char	*user_agent;	/* e.g. "provisioning/0.2.0" */
	const char	*account;	/* pick this cached account (UPN) */
	const char	*scopes;	/* delegated scopes, space separated,
					 * short names (graph prefix added) */
	int		 session_hours;	/* login lifetime; default 12 */
	int		 timeout_s;	/* per HTTP attempt; default: env
					 * PROVISIONING_HTTP_TIMEOUT, or 60 */
	int		 max_retries;	/* per request; default 10 */
	int		 max_retry_after; /* longest Retry-After obeyed (s); 120 */
	int		 login_timeout_s; /* browser / device code wait; 600 */
	bool		 ephemeral;	/* never read or write the token cache */
};

/*
 * Lifecycle.  graph_client_clone() gives a new client with the same
 * configuration and a copy of the current token (for worker threads).
 * graph_client_new_user() gives an ephemeral client for the user-context
 * mode (--as-user): same hosts/tenant/client (the default public client
 * when the admin signed in app-only), self-service scopes, and a token
 * that is never written to the admin's cache.
 */
int	graph_client_new(graph_client_t **, const struct graph_config *);
/*
 * What graph_client_new() refuses, in words: an endpoint that is not
 * https:// (an http:// override would send tokens in clear), a
 * --ca-bundle that is missing, unreadable or holds no PEM certificate.
 * GRAPH_OK, or GRAPH_ERR_ARG with the reason in err.
 */
int	graph_config_check(const struct graph_config *, char *err, size_t);
int	graph_client_clone(graph_client_t **, const graph_client_t *);
int	graph_client_new_user(graph_client_t **, const graph_client_t *admin);
void	graph_client_free(graph_client_t **);

/*
 * For `login`: the session length (hours) and the delegated scopes
 * (short names; a leading '+' adds to the default set).  Both apply to
 * the next interactive login.
 */
int	graph_set_session_hours(graph_client_t *, int);
int	graph_set_scopes(graph_client_t *, const char *);

/*
 * Process-wide: polled during long waits (the browser redirect, device
 * code polling, Retry-After and back-off sleeps); when it returns true
 * the wait ends with GRAPH_ERR_CANCELLED.  NULL: never cancelled.
 */
typedef bool graph_cancel_fn(void);
void	graph_set_cancel(graph_cancel_fn *);

/*
 * A guard on the requests that change something in Graph (those not
 * idempotent: the registration POST, DELETE), for a caller whose right
 * to send them can lapse (a fleet station's lease on its user): fn
 * returns how many milliseconds such a request may still run.  It is
 * asked before each attempt (under GRAPH_GUARD_MIN_MS: not sent) and
 * while the attempt runs (at 0 or less: aborted), so no attempt
 * outlives what fn allows; either way the call ends with
 * GRAPH_ERR_CANCELLED and graph_last_code() "guard".  NULL: none.
 * Per client; clones do not inherit it.
 */
#define GRAPH_GUARD_MIN_MS	1000
typedef long long graph_guard_fn(void *arg);
void	graph_set_guard(graph_client_t *, graph_guard_fn *, void *arg);

/*
 * Prompts (the browser URL, the device code message) go to this
 * function; the default writes them to stderr.  Never secret.
 */
typedef void graph_prompt_fn(void *arg, const char *msg);
void	graph_set_prompt(graph_client_t *, graph_prompt_fn *, void *);

/*
 * Error details of the last failed call on this client: HTTP status (0
 * if none), Graph error.code or OAuth error, message, Graph request-id
 * (also from innerError), and a hint that names the permission, role or
 * policy setting to fix.  Empty strings when unknown, never NULL.
 * After a graph_creation_options() that succeeded, the request-id is
 * that response's: the body is parsed by the caller, who may find it
 * wrong.
 */
int		 graph_last_status(const graph_client_t *);
const char	*graph_last_code(const graph_client_t *);
const char	*graph_last_message(const graph_client_t *);
const char	*graph_last_request_id(const graph_client_t *);
const char	*graph_last_hint(const graph_client_t *);
/* retries (429/5xx/network) spent by the last call */
int		 graph_last_retries(const graph_client_t *);

/*
 * Authentication.  Every login stores its token in the cache (unless
 * ephemeral) keyed by authority, tenant, client id and account.
 *
 * graph_auth_load: silent; the cached token, refreshed when needed.
 *   GRAPH_ERR_LOGIN_REQUIRED when there is none, the session is older
 *   than session_hours, or the refresh token was revoked.  App-only
 *   sessions are renewed from PROVISIONING_CLIENT_SECRET or the
 *   certificate they were created with.  Graph calls do this themselves;
 *   call it to fail early.
 * graph_login_browser: authorization code + PKCE; a loopback listener on
 *   127.0.0.1 (random port) receives the redirect; the browser is started
 *   with $BROWSER or xdg-open and the URL is also prompted.  login_hint
 *   may be NULL.
 * graph_login_device_code: device authorization grant; prompts the code.
 * graph_login_client_secret: client credentials with a secret (the
 *   caller wipes it).
 * graph_login_client_cert: client credentials with an RFC 7523 client
 *   assertion (PS256, x5t#S256) from a PEM certificate and RSA key.
 * graph_logout: drop this client's cached session (all == false) or
 *   every cached session in the state dir (all == true).
 */
int	graph_auth_load(graph_client_t *);
int	graph_login_browser(graph_client_t *, const char *login_hint);
int	graph_login_device_code(graph_client_t *);
int	graph_login_client_secret(graph_client_t *, const char *secret);
int	graph_login_client_cert(graph_client_t *, const char *cert_path,
	    const char *key_path);
int	graph_logout(graph_client_t *, bool all);

/*
 * GET a public https:// document (no token; the FIDO metadata BLOB)
 * with this client's TLS trust and retry policy: at most max bytes, a
 * transfer timeout of 300 s (or the client's, if longer).  On GRAPH_OK
 * *out (NUL-terminated, free() it) holds *outlen bytes; otherwise
 * graph_last_message() says what failed (which host, which TLS check,
 * which HTTP status).
 */
int	graph_fetch(graph_client_t *, const char *url, size_t max,
	    unsigned char **out, size_t *outlen);

/*
 * Who is signed in: claims of the current access token (read, not
 * verified: the server checks them) plus /me for delegated sessions.
 */
typedef struct graph_identity graph_identity_t;

int		 graph_whoami(graph_client_t *, graph_identity_t **);
void		 graph_identity_free(graph_identity_t **);
bool		 graph_identity_app_only(const graph_identity_t *);
const char	*graph_identity_account(const graph_identity_t *); /* UPN|app */
const char	*graph_identity_name(const graph_identity_t *);
const char	*graph_identity_object_id(const graph_identity_t *);
const char	*graph_identity_tenant_id(const graph_identity_t *);
const char	*graph_identity_client_id(const graph_identity_t *);
/* delegated scopes (scp) or application roles (roles), space separated */
const char	*graph_identity_permissions(const graph_identity_t *);
bool		 graph_identity_has_permission(const graph_identity_t *,
		    const char *);
/* directory roles by name (from wids), space separated; "" if none */
const char	*graph_identity_roles(const graph_identity_t *);
bool		 graph_identity_has_role(const graph_identity_t *,
		    const char *name);
long long	 graph_identity_expires(const graph_identity_t *); /* epoch */
long long	 graph_identity_session_expires(const graph_identity_t *);

/*
 * Users.  id_or_upn is an object id or a UPN; NULL in the calls below
 * that take a user id means /me (the user-context mode).
 */
typedef struct graph_user graph_user_t;

int		 graph_user_get(graph_client_t *, const char *id_or_upn,
		    graph_user_t **);
void		 graph_user_free(graph_user_t **);
const char	*graph_user_id(const graph_user_t *);
const char	*graph_user_upn(const graph_user_t *);
const char	*graph_user_display_name(const graph_user_t *);
const char	*graph_user_type(const graph_user_t *);	/* Member|Guest */
bool		 graph_user_enabled(const graph_user_t *);

/*
 * FIDO2.
 * graph_creation_options: the raw creationOptions response, a JSON
 *   object by its first character: its user parses it, once
 *   (webauthn_options_parse() checks all of it); timeout_minutes is sent
 *   with beta only (0: the service default).  The caller frees *json.
 * graph_fido2_register: POST body_json (the WebAuthn glue builds it).
 *   The one retry policy of a registration: at most three POSTs of the
 *   credential, and never a blind one: after a network error, timeout,
 *   5xx, unreadable reply or throttling it lists the user's methods and
 *   succeeds if one carries cred_id_b64url (compared as decoded bytes);
 *   it POSTs again only once it knows the credential is absent.  (A 429
 *   answered in time is waited out inside, like any request's: Graph
 *   did not process it.)  A 400 sets a hint about the FIDO2 policy.
 */
typedef struct graph_method graph_method_t;
typedef struct graph_methods graph_methods_t;

int		 graph_creation_options(graph_client_t *, const char *user_id,
		    int timeout_minutes, char **json);
int		 graph_fido2_register(graph_client_t *, const char *user_id,
		    const char *body_json, const char *cred_id_b64url,
		    graph_method_t **);
int		 graph_fido2_list(graph_client_t *, const char *user_id,
		    graph_methods_t **);
int		 graph_fido2_delete(graph_client_t *, const char *user_id,
		    const char *method_id);
/* does method id `id` name credential `cred_id_b64url` (any encoding) */
bool		 graph_method_id_matches(const char *id,
		    const char *cred_id_b64url);

void		 graph_method_free(graph_method_t **);
const char	*graph_method_id(const graph_method_t *);
const char	*graph_method_display_name(const graph_method_t *);
const char	*graph_method_aaguid(const graph_method_t *);
const char	*graph_method_model(const graph_method_t *);
const char	*graph_method_created(const graph_method_t *);
const char	*graph_method_attestation_level(const graph_method_t *);
const char	*graph_method_passkey_type(const graph_method_t *);

void		 graph_methods_free(graph_methods_t **);
size_t		 graph_methods_len(const graph_methods_t *);
const graph_method_t *graph_methods_get(const graph_methods_t *, size_t);
/* the method whose id names this credential, or NULL */
const graph_method_t *graph_methods_find_cred(const graph_methods_t *,
		    const char *cred_id_b64url);

/*
 * Temporary Access Pass.  *tap is secret: the caller wipes it
 * (freezero_str).  lifetime_minutes 0: the policy default.  method_id may
 * be NULL.
 */
typedef struct graph_taps graph_taps_t;

int		 graph_tap_create(graph_client_t *, const char *user_id,
		    int lifetime_minutes, bool once, char **tap,
		    char **method_id);
int		 graph_tap_list(graph_client_t *, const char *user_id,
		    graph_taps_t **);
int		 graph_tap_delete(graph_client_t *, const char *user_id,
		    const char *method_id);
void		 graph_taps_free(graph_taps_t **);
size_t		 graph_taps_len(const graph_taps_t *);
const char	*graph_taps_id(const graph_taps_t *, size_t);
const char	*graph_taps_created(const graph_taps_t *, size_t);
const char	*graph_taps_start(const graph_taps_t *, size_t);
int		 graph_taps_lifetime(const graph_taps_t *, size_t);
bool		 graph_taps_once(const graph_taps_t *, size_t);
bool		 graph_taps_usable(const graph_taps_t *, size_t);
const char	*graph_taps_reason(const graph_taps_t *, size_t);

/*
 * Groups.  graph_group_resolve: an object id is checked, a display name
 * is looked up (GRAPH_ERR_AMBIGUOUS if several match).
 * graph_group_members: every transitive member that is a user, page by
 * page (@odata.nextLink, which must stay on the Graph host).  The
 * callback returns 0 to go on, anything else to stop (not an error).
 */
typedef int graph_member_cb(void *arg, const graph_user_t *);

int	graph_group_resolve(graph_client_t *, const char *id_or_name,
	    char **group_id);
int	graph_group_members(graph_client_t *, const char *group_id,
	    graph_member_cb *, void *arg);

/*
 * Resolve users (UPN or object id) in JSON $batch requests of 20.  The
 * callback runs once per ref, in no set order, with what graph_user_get()
 * would have returned for that user alone: GRAPH_OK and the user
 * (borrowed for the call), or the error, which graph_last_*() describe
 * while the callback runs (a batch that failed as a whole fails each of
 * its users so).  Returns the first batch's error, GRAPH_OK if none.
 */
#define GRAPH_BATCH_MAX	20	/* requests in one $batch (Graph's limit) */

typedef void graph_resolve_cb(void *arg, size_t i, int r,
    const graph_user_t *);

int	graph_users_resolve(graph_client_t *, const char *const *refs,
	    size_t n, graph_resolve_cb *, void *arg);

/*
 * Does each user hold at least one FIDO2 method?  JSON $batch, 20
 * requests per round trip, inner 429/5xx retried.  has[i]: 1 yes, 0 no,
 * -1 that user failed (404, 403, ...).  Returns an error only when the
 * batch itself failed.
 */
int	graph_batch_has_passkey(graph_client_t *, const char *const *user_ids,
	    size_t n, int *has);

/*
 * The FIDO2 (passkey) authentication method policy.  Key restrictions
 * and attestation are read from the policy itself and from any passkey
 * profiles (a key passes when it satisfies at least one profile).
 */
typedef struct graph_policy graph_policy_t;

int		 graph_policy_get(graph_client_t *, graph_policy_t **);
void		 graph_policy_free(graph_policy_t **);
bool		 graph_policy_enabled(const graph_policy_t *);
bool		 graph_policy_self_service(const graph_policy_t *);
bool		 graph_policy_attestation_enforced(const graph_policy_t *);
bool		 graph_policy_keys_enforced(const graph_policy_t *);
bool		 graph_policy_keys_allow(const graph_policy_t *); /* else block */
size_t		 graph_policy_aaguids_len(const graph_policy_t *);
const char	*graph_policy_aaguid(const graph_policy_t *, size_t);
size_t		 graph_policy_profiles_len(const graph_policy_t *);
/* include (exclude == false) or exclude targets: "all_users" or ids */
size_t		 graph_policy_targets_len(const graph_policy_t *,
		    bool exclude);
const char	*graph_policy_target_id(const graph_policy_t *, bool exclude,
		    size_t);
const char	*graph_policy_target_type(const graph_policy_t *,
		    bool exclude, size_t);		/* group|user */
/*
 * Would a key with this AAGUID pass the key restrictions?  On false,
 * *why says which rule refuses it.
 */
bool		 graph_policy_aaguid_allowed(const graph_policy_t *,
		    const char *aaguid, const char **why);
/* is the user in an include target and no exclude target (*in 1/0) */
int		 graph_policy_user_targeted(graph_client_t *,
		    const graph_policy_t *, const char *user_id, int *in);

/*
 * Passkey profiles (2026): each names the passkey types it admits,
 * whether attestation is enforced, and key restrictions; include
 * targets name the profiles they allow (none named: the default
 * profile).  A user's profiles are those of the include targets they
 * are in, unless an exclude target holds them (exclusion wins); any one
 * of them that admits a key is enough.  A tenant without profiles is
 * decided by the deprecated tenant-wide fields.
 */
const char	*graph_policy_profile_id(const graph_policy_t *, size_t);
const char	*graph_policy_profile_name(const graph_policy_t *, size_t);
bool		 graph_policy_profile_attestation(const graph_policy_t *,
		    size_t);
/* "deviceBound passkeys; attestation enforced; allow list of 2 AAGUIDs" */
void		 graph_policy_profile_describe(const graph_policy_t *,
		    size_t, char *, size_t);
/* does include target t allow profile i (named, or by default) */
bool		 graph_policy_target_allows(const graph_policy_t *,
		    size_t t, size_t i);

struct graph_key_verdict {
	bool	allowed;
	bool	attestation;	/* the admitting profile enforces it */
	char	profile[128];	/* the admitting one, or the refusing one */
	char	why[256];	/* when refused */
};

/*
 * The profiles that apply to a user (bit i: profile i; the first 32),
 * one transitiveMemberOf walk.  *targeted 0: the policy leaves the user
 * out (not included, or excluded), and no key can be registered.
 */
int		 graph_policy_user_profiles(graph_client_t *,
		    const graph_policy_t *, const char *user_id,
		    uint32_t *set, int *targeted);
/* no I/O: may a key with this AAGUID be registered for that set? */
bool		 graph_policy_key_check(const graph_policy_t *, uint32_t set,
		    const char *aaguid, struct graph_key_verdict *);

#endif /* PROV_GRAPH_H */
