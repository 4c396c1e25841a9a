/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared inside graph/ only: the client structure, the HTTP layer, the
 * token cache and the JSON response parsers (also used by the unit tests
 * and fuzz targets).
 */

#ifndef PROV_GRAPH_INT_H
#define PROV_GRAPH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "graph.h"

#define GRAPH_MAX_BODY		(4 * 1024 * 1024)	/* any response */
#define GRAPH_JSON_MAX_DEPTH	32
#define GRAPH_CACHE_MAX		(1024 * 1024)

/* an access token and what came with it; every string is secret-safe */
struct graph_token {
	char		*access;	/* secret */
	char		*refresh;	/* secret; NULL for app-only */
	long long	 expires_at;	/* epoch s */
	long long	 login_at;
	long long	 session_expires_at;
	char		*account;	/* UPN, or "app:<client id>" */
	bool		 app_only;
	char		*cert;		/* app-only: paths to renew with */
	char		*key;
	char		*scope;
};

void	token_reset(struct graph_token *);
int	token_copy(struct graph_token *, const struct graph_token *);

/* the details of the last failure, for graph_last_*() */
struct lasterr {
	int		 status;
	char		 code[128];
	char		 message[512];
	char		 request_id[80];
	char		 hint[512];
};

struct graph_client {
	char		*cloud;
	char		*authority;	/* no trailing slash */
	char		*graph;		/* no trailing slash */
	char		*resource;	/* scope prefix, the cloud's Graph host */
	char		*version;
	char		*tenant;
	char		*client_id;
	char		*ca_bundle;
	char		*state_dir;
	char		*user_agent;
	char		*account;
	char		*scopes;	/* short names, space separated */
	bool		 verify;
	bool		 ephemeral;
	int		 session_hours;
	int		 timeout_s;
	int		 max_retries;
	int		 max_retry_after;
	int		 login_timeout_s;
	void		*curl;		/* CURL *, reused: keeps connections */
	struct graph_token tok;
	bool		 have_tok;
	graph_prompt_fn	*prompt;
	void		*prompt_arg;
	int		 retries;	/* spent by the last call */
	long long	 refused_wait;	/* a Retry-After not obeyed, s */
	char		 xport_why[256];	/* what the transport failed at:
					   which TLS check, which host */
	char		 xport_hint[256];
	graph_guard_fn	*guard;		/* graph_set_guard() */
	void		*guard_arg;
	bool		 guard_tripped;	/* the last attempt aborted by it */
	struct lasterr	 e;
};

/* client.c */
void	err_clear(graph_client_t *);
void	err_set(graph_client_t *, int status, const char *code,
	    const char *msg, const char *request_id);
void	err_hint(graph_client_t *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	prompt(graph_client_t *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
char	*gfmt(const char *, ...) __attribute__((format(printf, 1, 2)));

/* http.c */
#define HTTP_AUTH	0x01	/* add the bearer token */
#define HTTP_IDEMPOTENT	0x02	/* safe to resend after a 5xx / network */
#define HTTP_SECRET	0x04	/* the request body is secret: wipe it */
#define HTTP_NO_RETRY	0x08	/* one attempt: the caller decides */
#define HTTP_FOREIGN	0x10	/* not Microsoft's: no client-request-id */

struct http_req {
	const char	*method;
	const char	*url;
	const char	*body;
	size_t		 body_len;
	const char	*ctype;
	const char	*headers[4];	/* extra "Name: value" lines */
	int		 flags;
	const char	*service;	/* for logs: "Graph", "login" */
	const char	*accept;	/* NULL: application/json */
	size_t		 max_body;	/* 0: GRAPH_MAX_BODY */
	int		 timeout_s;	/* whole transfer; 0: the client's */
};

struct http_resp {
	int		 status;
	char		*body;		/* NUL-terminated; wiped on reset */
	size_t		 len;
	long long	 retry_after;	/* seconds, -1 if absent */
	char		 request_id[80];
};

int	http_global_init(void);
int	http_init(graph_client_t *);
void	http_cleanup(graph_client_t *);
/* one request with the retry policy; GRAPH_OK means an HTTP status came */
int	http_call(graph_client_t *, const struct http_req *,
	    struct http_resp *);
void	http_resp_reset(struct http_resp *);
/* the message and hint of a transport failure r (TLS: which check) */
void	http_err_transport(graph_client_t *, int r, const char *request_id);
char	*http_escape(graph_client_t *, const char *);
/* Retry-After: delta seconds or an HTTP date; -1 if unusable */
long long http_parse_retry_after(const char *, long long now);
/* "POST 429 ..." -> GRAPH_ERR_*, for a final (non-retried) status */
int	http_status_err(int status);
void	uuid4(char out[37]);
/* sleeps in short slices; false when cancelled (graph_set_cancel) */
bool	http_sleep_ms(long long);
bool	graph_cancelled(void);

/*
 * redact.c: a copy of s[0..len) for the -vv trace, every credential
 * (header, Bearer/Basic value, JWT, secret form or JSON parameter)
 * replaced by "[redacted]"; free with freezero_str().  NULL on ENOMEM.
 */
char	*http_redact(const char *, size_t);
/* non-empty printable ASCII: safe to put into an HTTP header */
bool	http_value_ok(const char *);

/* graph.c: Graph requests with token handling and error mapping */
#define G_IDEMPOTENT	HTTP_IDEMPOTENT
#define G_NO_RETRY	HTTP_NO_RETRY
#define G_ABSOLUTE	0x100	/* path is a full URL (@odata.nextLink) */
#define G_EVENTUAL	0x200	/* ConsistencyLevel: eventual */

/* what a 403 on this call means: the permission and role it needs */
struct gperm {
	const char	*perm;
	const char	*role;
};

int	gcall(graph_client_t *, const char *method, const char *path,
	    const char *body, int flags, const struct gperm *, json_t **out);
int	gcall_raw(graph_client_t *, const char *method, const char *path,
	    const char *body, int flags, const struct gperm *,
	    struct http_resp *);
/*
 * Following @odata.nextLink, bounded: at most GRAPH_MAX_PAGES pages,
 * never a link already followed (a page pointing at itself or an
 * earlier one), never off the Graph host (it would get our token), and
 * a Ctrl+C or SIGTERM ends it.  pager_follow() checks `next` before it
 * is requested: GRAPH_OK, or an error with its message set.
 */
#define GRAPH_MAX_PAGES		5000
struct pager {
	unsigned long long	*seen;		/* FNV-1a of each link */
	size_t			 n;
};
int	pager_follow(graph_client_t *, struct pager *, const char *next);
void	pager_reset(struct pager *);

/* "/users/<escaped>" or "/me" */
char	*user_path(graph_client_t *, const char *user_id);
int	map_error(graph_client_t *, const struct http_resp *,
	    const struct gperm *);

/* oauth.c */
int	oauth_ensure(graph_client_t *, bool force_refresh);
char	*oauth_token_url(const graph_client_t *);
char	*oauth_scope(const graph_client_t *);

/* jwt.c */
int	jwt_client_assertion(const char *cert_path, const char *key_path,
	    const char *client_id, const char *aud, char **out);
/* the claims of a JWT, unverified */
json_t	*jwt_claims(const char *token);

/* loopback.c: wait for the authorization redirect */
struct loopback;
int	loopback_open(struct loopback **, int *port);
int	loopback_wait(struct loopback *, int timeout_s, const char *state,
	    char **code, char **error, char **error_desc);
void	loopback_close(struct loopback **);
/* one request head: 1 if it is our redirect (fuzzed) */
int	loopback_parse(const char *head, const char *state, char **code,
	    char **error, char **desc, int *status);

/* browser.c */
int	browser_open(const char *url);

/* cache.c */
int	cache_load(graph_client_t *, struct graph_token *);
int	cache_store(graph_client_t *, const struct graph_token *);
int	cache_remove(graph_client_t *, bool all);
/* hold the cache lock exclusively around a refresh */
int	cache_lock(graph_client_t *, int *fd);
void	cache_unlock(int *fd);
char	*cache_path(const graph_client_t *);

/* parse.c: JSON response parsers; each one is fuzzed */
json_t	*json_parse(const char *, size_t);
void	json_wipe(json_t *);
void	json_wipe_decref(json_t *);
const char *jstr(const json_t *, const char *key);
int	jbool(const json_t *, const char *key, int dflt);
long long jint(const json_t *, const char *key, long long dflt);
char	*jdup(const json_t *, const char *key);

struct graph_err {
	char	*code;
	char	*message;
	char	*request_id;
	char	*description;	/* OAuth error_description */
};

int	parse_error(const char *, size_t, struct graph_err *);
void	graph_err_reset(struct graph_err *);
int	parse_token(const char *, size_t, struct graph_token *);

struct devcode {
	char		*device_code;	/* secret-ish: never logged */
	char		*user_code;
	char		*verification_uri;
	char		*message;
	long long	 expires_in;
	long long	 interval;
};

int	parse_devcode(const char *, size_t, struct devcode *);
void	devcode_reset(struct devcode *);
int	parse_user(const json_t *, graph_user_t **);
int	parse_method(const json_t *, graph_method_t **);
int	parse_methods(const json_t *, graph_methods_t **);
int	parse_taps(const json_t *, graph_taps_t **);
int	parse_policy(const json_t *, graph_policy_t **);
uint32_t policy_target_set(const graph_policy_t *, size_t include_target);
/* one page of users: callback per user; *next = @odata.nextLink */
int	parse_user_page(const json_t *, graph_member_cb *, void *,
	    char **next, int *stopped);

struct batch_item {
	int		 status;
	long long	 retry_after;
	json_t		*body;		/* borrowed from the batch reply */
};

/* responses[] indexed by the numeric request id 0..n-1 */
int	parse_batch(const json_t *, size_t n, struct batch_item *);

/*
 * One $batch of n <= GRAPH_BATCH_MAX GETs, url(ref) each.  done() is
 * called once per ref: GRAPH_OK with the inner body, or the error the
 * request alone would have ended with (the client's last error says
 * which); a batch that failed as a whole fails every ref left with its
 * error, which is also returned.
 */
struct batch_get {
	const struct gperm	*perm;
	char			*(*url)(graph_client_t *, const char *ref);
	void			 (*done)(graph_client_t *, void *arg, size_t i,
				    int r, const json_t *body);
	void			*arg;
};

int	batch_gets(graph_client_t *, const char *const *refs, size_t n,
	    const struct batch_get *);

#endif /* PROV_GRAPH_INT_H */
