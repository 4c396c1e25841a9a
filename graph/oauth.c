/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * OAuth 2.0 against the Microsoft identity platform (v2 endpoints):
 * client credentials (secret or RFC 7523 certificate assertion), device
 * code, authorization code + PKCE with a loopback redirect, and silent
 * renewal (refresh token, or the app credential again).  A login session
 * ends session_hours after the interactive sign-in, whatever the refresh
 * token would allow (the seed tool's 12 hours).
 */

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "graph_int.h"

#define RENEW_MARGIN	120	/* renew tokens this close to expiry (s) */
#define SECRET_ENV	"PROVISIONING_CLIENT_SECRET"

/* application/x-www-form-urlencoded, in a struct buf: secrets wipe */
#define FORM_MAX	(64 * 1024)

static void
form_escape(struct buf *f, const char *v)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 e[3];
	unsigned char		 ch;

	for (; *v != '\0'; v++) {
		ch = (unsigned char)*v;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~')
			buf_append(f, v, 1);
		else {
			e[0] = '%';
			e[1] = hex[ch >> 4];
			e[2] = hex[ch & 0xf];
			buf_append(f, e, 3);
		}
	}
	explicit_bzero(e, sizeof(e));
}

static void
form_add(struct buf *f, const char *k, const char *v)
{
	if (f->len > 0)
		buf_append(f, "&", 1);
	buf_append(f, k, strlen(k));
	buf_append(f, "=", 1);
	form_escape(f, v);
}

char *
oauth_token_url(const graph_client_t *c)
{
	return (gfmt("%s/%s/oauth2/v2.0/token", c->authority, c->tenant));
}

/*
 * Delegated scopes are written short ("User.Read.All") and sent with the
 * resource in front; a leading '+' in the configured list adds to the
 * defaults (handled by the CLI).  OIDC scopes go as they are.
 */
char *
oauth_scope(const graph_client_t *c)
{
	struct buf	 f;
	const char	*p, *e;
	char		*w, *out;

	buf_init(&f, FORM_MAX);
	for (p = c->scopes; *p != '\0'; p = e) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, " ");
		if ((w = strndup(p, (size_t)(e - p))) == NULL) {
			buf_reset(&f);
			return (NULL);
		}
		if (f.len > 0)
			buf_append(&f, " ", 1);
		if (strstr(w, "://") == NULL && strcmp(w, "offline_access") &&
		    strcmp(w, "openid") && strcmp(w, "profile")) {
			buf_append(&f, c->resource, strlen(c->resource));
			buf_append(&f, "/", 1);
		}
		buf_append(&f, w, strlen(w));
		free(w);
	}
	buf_append(&f, " offline_access openid profile", 30);
	if (f.err) {
		buf_reset(&f);
		return (NULL);
	}
	out = strdup(buf_str(&f));
	buf_reset(&f);

	return (out);
}

static char *
default_scope(const graph_client_t *c)
{
	return (gfmt("%s/.default", c->resource));
}

/* an OAuth error reply: keep its code and description for the caller */
static int
oauth_fail(graph_client_t *c, const struct http_resp *resp)
{
	struct graph_err e;

	if (parse_error(resp->body, resp->len, &e) < 0) {
		err_set(c, resp->status, "", "unexpected reply from the "
		    "login service", resp->request_id);
		return (resp->status >= 500 ? GRAPH_ERR_SERVER :
		    resp->status == 429 ? GRAPH_ERR_THROTTLED :
		    GRAPH_ERR_PROTOCOL);
	}
	err_set(c, resp->status, e.code, e.message, e.request_id != NULL ?
	    e.request_id : resp->request_id);
	graph_err_reset(&e);
	if ((resp->status == 429 || resp->status == 503) &&
	    c->refused_wait > 0)
		err_hint(c, "the login service asks to wait %lld s "
		    "(Retry-After), longer than %d s: not waiting; try again "
		    "later", c->refused_wait, c->max_retry_after);
	if (resp->status == 429)
		return (GRAPH_ERR_THROTTLED);
	if (resp->status >= 500)
		return (GRAPH_ERR_SERVER);

	return (GRAPH_ERR_AUTH);
}

/*
 * POST the token endpoint.  On an OAuth error, c->code holds its "error"
 * (authorization_pending, invalid_grant, ...).
 */
static int
token_post(graph_client_t *c, struct buf *f, int flags,
    struct graph_token *t)
{
	struct http_req		 q;
	struct http_resp	 resp;
	char			*url = NULL;
	int			 r;

	memset(t, 0, sizeof(*t));
	memset(&resp, 0, sizeof(resp));
	if (f->err || (url = oauth_token_url(c)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.url = url;
	q.body = buf_str(f);
	q.body_len = f->len;
	q.ctype = "application/x-www-form-urlencoded";
	q.flags = HTTP_SECRET | flags;
	q.service = "login";
	if ((r = http_call(c, &q, &resp)) != GRAPH_OK) {
		http_err_transport(c, r, resp.request_id);
		goto fail;
	}
	if (resp.status != 200) {
		r = oauth_fail(c, &resp);
		goto fail;
	}
	if ((r = parse_token(resp.body, resp.len, t)) < 0) {
		err_set(c, resp.status, "", r == -2 ? "malformed token reply: "
		    "a token holds a control character (CR, LF, ...)" :
		    "malformed token reply", resp.request_id);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	r = GRAPH_OK;
fail:
	http_resp_reset(&resp);
	free(url);

	return (r);
}

/* take t as the client's token: a fresh login, or a renewal of `old` */
static int
adopt(graph_client_t *c, struct graph_token *t, const struct graph_token *old,
    bool app_only, const char *cert, const char *key)
{
	long long	now = (long long)time(NULL);
	char		*acct = NULL;

	t->app_only = app_only;
	if (old != NULL) {
		t->login_at = old->login_at;
		t->session_expires_at = old->session_expires_at;
		if (t->account == NULL && old->account != NULL &&
		    (t->account = strdup(old->account)) == NULL)
			return (GRAPH_ERR_INTERNAL);
		/* a renewal without a new refresh token keeps the old one */
		if (t->refresh == NULL && old->refresh != NULL &&
		    (t->refresh = strdup(old->refresh)) == NULL)
			return (GRAPH_ERR_INTERNAL);
	} else {
		t->login_at = now;
		t->session_expires_at = now + (long long)c->session_hours * 3600;
	}
	if (app_only) {
		free(t->account);
		if ((acct = gfmt("app:%s", c->client_id)) == NULL)
			return (GRAPH_ERR_INTERNAL);
		t->account = acct;
	} else if (t->account == NULL && (t->account = strdup("user")) ==
	    NULL)
		return (GRAPH_ERR_INTERNAL);
	if ((cert != NULL && (t->cert = strdup(cert)) == NULL) ||
	    (key != NULL && (t->key = strdup(key)) == NULL))
		return (GRAPH_ERR_INTERNAL);
	token_reset(&c->tok);
	c->tok = *t;
	memset(t, 0, sizeof(*t));
	c->have_tok = true;

	return (GRAPH_OK);
}

static int
store_locked(graph_client_t *c)
{
	int fd, r;

	if (c->ephemeral)
		return (GRAPH_OK);
	if ((r = cache_lock(c, &fd)) != GRAPH_OK)
		return (r);
	r = cache_store(c, &c->tok);
	cache_unlock(&fd);

	return (r);
}

static int
client_credentials(graph_client_t *c, const char *secret, const char *cert,
    const char *key, struct graph_token *t)
{
	struct buf	 f;
	char		*scope = NULL, *aud = NULL, *assertion = NULL;
	int		 r;

	buf_init(&f, FORM_MAX);
	if ((scope = default_scope(c)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	form_add(&f, "grant_type", "client_credentials");
	form_add(&f, "client_id", c->client_id);
	form_add(&f, "scope", scope);
	if (secret != NULL)
		form_add(&f, "client_secret", secret);
	else {
		if ((aud = oauth_token_url(c)) == NULL) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
		if ((r = jwt_client_assertion(cert, key, c->client_id, aud,
		    &assertion)) != GRAPH_OK) {
			err_set(c, 0, "certificate", "cannot build the client "
			    "assertion", NULL);
			err_hint(c, "--certificate must be the PEM certificate "
			    "registered on the app, --private-key its "
			    "unencrypted RSA key (PEM)");
			goto fail;
		}
		form_add(&f, "client_assertion_type",
		    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
		form_add(&f, "client_assertion", assertion);
	}
	if ((r = token_post(c, &f, HTTP_IDEMPOTENT, t)) != GRAPH_OK) {
		if (r == GRAPH_ERR_AUTH)
			err_hint(c, "check the tenant, the client id and the "
			    "%s; the app needs the Graph application "
			    "permission UserAuthMethod-Passkey.ReadWrite.All "
			    "with admin consent", secret != NULL ?
			    "client secret" : "certificate");
		goto fail;
	}
	r = GRAPH_OK;
fail:
	freezero_str(assertion);
	free(aud);
	free(scope);
	buf_reset(&f);

	return (r);
}

int
graph_login_client_secret(graph_client_t *c, const char *secret)
{
	struct graph_token	t;
	int			r;

	err_clear(c);
	if (secret == NULL || *secret == '\0')
		return (GRAPH_ERR_ARG);
	if ((r = client_credentials(c, secret, NULL, NULL, &t)) !=
	    GRAPH_OK)
		return (r);
	if ((r = adopt(c, &t, NULL, true, NULL, NULL)) != GRAPH_OK) {
		token_reset(&t);
		return (r);
	}

	return (store_locked(c));
}

int
graph_login_client_cert(graph_client_t *c, const char *cert_path,
    const char *key_path)
{
	struct graph_token	 t;
	char			 cert[PATH_MAX], key[PATH_MAX];
	int			 r;

	err_clear(c);
	if (cert_path == NULL || key_path == NULL)
		return (GRAPH_ERR_ARG);
	/* absolute, so that a renewal from another directory finds them */
	if (realpath(cert_path, cert) == NULL ||
	    realpath(key_path, key) == NULL) {
		err_set(c, 0, "certificate", strerror(errno), NULL);
		err_hint(c, "cannot read %s or %s", cert_path, key_path);
		return (GRAPH_ERR_ARG);
	}
	if ((r = client_credentials(c, NULL, cert, key, &t)) !=
	    GRAPH_OK)
		return (r);
	if ((r = adopt(c, &t, NULL, true, cert, key)) != GRAPH_OK) {
		token_reset(&t);
		return (r);
	}

	return (store_locked(c));
}

static int
refresh(graph_client_t *c, const struct graph_token *old,
    struct graph_token *t)
{
	struct buf	 f;
	char		*scope = NULL;
	int		 r;

	buf_init(&f, FORM_MAX);
	if ((scope = oauth_scope(c)) == NULL)
		return (GRAPH_ERR_INTERNAL);
	form_add(&f, "grant_type", "refresh_token");
	form_add(&f, "client_id", c->client_id);
	form_add(&f, "refresh_token", old->refresh);
	form_add(&f, "scope", scope);
	r = token_post(c, &f, HTTP_IDEMPOTENT, t);
	if (r == GRAPH_ERR_AUTH) {
		/* invalid_grant: revoked, expired, password changed, ... */
		err_hint(c, "the sign-in was revoked or has expired: run "
		    "'provisioning login' again");
		r = GRAPH_ERR_LOGIN_REQUIRED;
	}
	free(scope);
	buf_reset(&f);

	return (r);
}

/* get a new access token without asking anyone */
static int
renew(graph_client_t *c, struct graph_token *t)
{
	const char	*secret;

	if (!c->tok.app_only) {
		if (c->tok.refresh == NULL) {
			err_hint(c, "the session cannot be renewed: run "
			    "'provisioning login' again");
			return (GRAPH_ERR_LOGIN_REQUIRED);
		}
		return (refresh(c, &c->tok, t));
	}
	if (c->tok.cert != NULL && c->tok.key != NULL)
		return (client_credentials(c, NULL, c->tok.cert, c->tok.key,
		    t));
	if ((secret = getenv(SECRET_ENV)) != NULL && *secret != '\0')
		return (client_credentials(c, secret, NULL, NULL, t));
	err_hint(c, "the app-only token expired: set " SECRET_ENV " or run "
	    "'provisioning login --client-credentials' again");

	return (GRAPH_ERR_LOGIN_REQUIRED);
}

static bool
same_token(const struct graph_token *a, const struct graph_token *b)
{
	return (a->access != NULL && b->access != NULL &&
	    strcmp(a->access, b->access) == 0);
}

/*
 * Make sure c->tok is usable: load it from the cache, check the session
 * age, renew it when it is about to expire (or `force`, after a 401).
 * The cache lock is held across the renewal, so that parallel workers
 * and processes renew once and share the result.
 */
int
oauth_ensure(graph_client_t *c, bool force)
{
	struct graph_token	 cached, t;
	long long		 now = (long long)time(NULL);
	bool			 app_only;
	int			 fd = -1, r;

	memset(&cached, 0, sizeof(cached));
	memset(&t, 0, sizeof(t));
	if (!c->have_tok) {
		if ((r = cache_lock(c, &fd)) != GRAPH_OK)
			return (r);
		r = cache_load(c, &c->tok);
		cache_unlock(&fd);
		/* graph_strerr() of LOGIN_REQUIRED says what to run */
		if (r != GRAPH_OK)
			return (r);
		c->have_tok = true;
	}
	if (c->tok.session_expires_at != 0 && now >=
	    c->tok.session_expires_at) {
		err_set(c, 0, "session_expired", "the login session has ended",
		    NULL);
		err_hint(c, "a login lasts %d hours unless 'login "
		    "--session-hours N' says otherwise: run 'provisioning "
		    "login' again", c->session_hours);
		return (GRAPH_ERR_LOGIN_REQUIRED);
	}
	if (!force && c->tok.expires_at - RENEW_MARGIN > now)
		return (GRAPH_OK);

	if ((r = cache_lock(c, &fd)) != GRAPH_OK)
		return (r);
	/* someone else may have renewed it while we waited for the lock */
	if (!c->ephemeral && cache_load(c, &cached) == GRAPH_OK &&
	    !same_token(&cached, &c->tok) &&
	    cached.expires_at - RENEW_MARGIN > now) {
		token_reset(&c->tok);
		c->tok = cached;
		memset(&cached, 0, sizeof(cached));
		r = GRAPH_OK;
		goto out;
	}
	log_info("renewing the access token for %s",
	    c->tok.account != NULL ? c->tok.account : "the session");
	if ((r = renew(c, &t)) != GRAPH_OK)
		goto out;
	app_only = c->tok.app_only;
	{
		struct graph_token old;

		if (token_copy(&old, &c->tok) < 0) {
			r = GRAPH_ERR_INTERNAL;
			goto out;
		}
		r = adopt(c, &t, &old, app_only, old.cert, old.key);
		token_reset(&old);
		if (r != GRAPH_OK)
			goto out;
	}
	if (!c->ephemeral)
		r = cache_store(c, &c->tok);
out:
	cache_unlock(&fd);
	token_reset(&cached);
	token_reset(&t);

	return (r);
}

int
graph_auth_load(graph_client_t *c)
{
	err_clear(c);

	return (oauth_ensure(c, false));
}

int
graph_logout(graph_client_t *c, bool all)
{
	int	fd, r;

	err_clear(c);
	if ((r = cache_lock(c, &fd)) != GRAPH_OK)
		return (r);
	r = cache_remove(c, all);
	cache_unlock(&fd);
	token_reset(&c->tok);
	c->have_tok = false;

	return (r);
}

/* device authorization grant (RFC 8628) */
int
graph_login_device_code(graph_client_t *c)
{
	struct http_req		 q;
	struct http_resp	 resp;
	struct devcode		 d;
	struct graph_token	 t;
	struct buf		 f;
	char			*url = NULL, *scope = NULL;
	long long		 deadline, interval;
	int			 r;

	err_clear(c);
	memset(&resp, 0, sizeof(resp));
	memset(&d, 0, sizeof(d));
	memset(&t, 0, sizeof(t));
	buf_init(&f, FORM_MAX);
	if ((url = gfmt("%s/%s/oauth2/v2.0/devicecode", c->authority,
	    c->tenant)) == NULL || (scope = oauth_scope(c)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	form_add(&f, "client_id", c->client_id);
	form_add(&f, "scope", scope);
	if (f.err) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	memset(&q, 0, sizeof(q));
	q.method = "POST";
	q.url = url;
	q.body = buf_str(&f);
	q.body_len = f.len;
	q.ctype = "application/x-www-form-urlencoded";
	q.flags = HTTP_IDEMPOTENT;
	q.service = "login";
	if ((r = http_call(c, &q, &resp)) != GRAPH_OK) {
		http_err_transport(c, r, resp.request_id);
		goto fail;
	}
	if (resp.status != 200) {
		r = oauth_fail(c, &resp);
		if (r == GRAPH_ERR_AUTH)
			err_hint(c, "device code sign-in may be blocked by "
			    "Conditional Access (AADSTS53003); use 'login "
			    "--browser'");
		goto fail;
	}
	if (parse_devcode(resp.body, resp.len, &d) < 0) {
		err_set(c, resp.status, "", "malformed device code reply",
		    resp.request_id);
		r = GRAPH_ERR_PROTOCOL;
		goto fail;
	}
	http_resp_reset(&resp);
	buf_reset(&f);
	if (d.message != NULL)
		prompt(c, "%s", d.message);
	else
		prompt(c, "To sign in, open %s and enter the code %s",
		    d.verification_uri, d.user_code);

	interval = d.interval;
	deadline = now_ms() + 1000 * (d.expires_in < c->login_timeout_s ?
	    d.expires_in : c->login_timeout_s);
	form_add(&f, "grant_type",
	    "urn:ietf:params:oauth:grant-type:device_code");
	form_add(&f, "client_id", c->client_id);
	form_add(&f, "device_code", d.device_code);
	for (;;) {
		if (now_ms() + interval * 1000 > deadline) {
			err_set(c, 0, "expired_token", "the device code expired "
			    "before sign-in completed", NULL);
			r = GRAPH_ERR_DECLINED;
			goto fail;
		}
		if (!http_sleep_ms(interval * 1000)) {
			r = GRAPH_ERR_CANCELLED;
			goto fail;
		}
		r = token_post(c, &f, HTTP_IDEMPOTENT, &t);
		if (r == GRAPH_OK)
			break;
		if (r != GRAPH_ERR_AUTH)
			goto fail;
		if (strcmp(c->e.code, "authorization_pending") == 0)
			continue;
		if (strcmp(c->e.code, "slow_down") == 0) {
			interval += 5;
			log_info("login service asks to slow down: polling "
			    "every %lld s", interval);
			continue;
		}
		if (strcmp(c->e.code, "authorization_declined") == 0 ||
		    strcmp(c->e.code, "expired_token") == 0 ||
		    strcmp(c->e.code, "code_expired") == 0) {
			r = GRAPH_ERR_DECLINED;
			goto fail;
		}
		goto fail;
	}
	err_clear(c);
	if ((r = adopt(c, &t, NULL, false, NULL, NULL)) != GRAPH_OK)
		goto fail;
	r = store_locked(c);
fail:
	token_reset(&t);
	devcode_reset(&d);
	buf_reset(&f);
	http_resp_reset(&resp);
	free(url);
	free(scope);

	return (r);
}

static char *
random_b64url(size_t n)
{
	unsigned char	 b[64];
	char		*s = NULL;

	if (n > sizeof(b) || RAND_bytes(b, (int)n) != 1 ||
	    b64url_encode(b, n, &s) < 0)
		s = NULL;
	explicit_bzero(b, sizeof(b));

	return (s);
}

static char *
pkce_challenge(const char *verifier)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		*s = NULL;

	if (EVP_Digest(verifier, strlen(verifier), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || b64url_encode(md, mdlen, &s) < 0)
		return (NULL);

	return (s);
}

/* authorization code + PKCE (RFC 7636), redirect to a loopback port */
int
graph_login_browser(graph_client_t *c, const char *login_hint)
{
	struct loopback		*lb = NULL;
	struct graph_token	 t;
	struct buf		 f, u;
	char			*verifier = NULL, *challenge = NULL;
	char			*state = NULL, *redirect = NULL, *scope = NULL;
	char			*code = NULL, *error = NULL, *desc = NULL;
	char			*base = NULL;
	int			 port, r;

	err_clear(c);
	memset(&t, 0, sizeof(t));
	buf_init(&f, FORM_MAX);
	buf_init(&u, FORM_MAX);
	if ((verifier = random_b64url(32)) == NULL ||
	    (challenge = pkce_challenge(verifier)) == NULL ||
	    (state = random_b64url(16)) == NULL ||
	    (scope = oauth_scope(c)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if ((r = loopback_open(&lb, &port)) != GRAPH_OK) {
		err_set(c, 0, "loopback", "cannot listen on 127.0.0.1", NULL);
		goto fail;
	}
	/*
	 * Entra ignores the port of a loopback redirect; "localhost" is
	 * what public clients register, and it reaches our 127.0.0.1.
	 */
	if ((redirect = gfmt("http://localhost:%d", port)) == NULL ||
	    (base = gfmt("%s/%s/oauth2/v2.0/authorize?", c->authority,
	    c->tenant)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	buf_append(&u, base, strlen(base));
	buf_append(&u, "client_id=", 10);
	form_escape(&u, c->client_id);
	form_add(&u, "response_type", "code");
	form_add(&u, "redirect_uri", redirect);
	form_add(&u, "response_mode", "query");
	form_add(&u, "scope", scope);
	form_add(&u, "state", state);
	form_add(&u, "code_challenge", challenge);
	form_add(&u, "code_challenge_method", "S256");
	if (login_hint != NULL && *login_hint != '\0')
		form_add(&u, "login_hint", login_hint);
	else
		form_add(&u, "prompt", "select_account");
	if (u.err) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	prompt(c, "Opening the browser to sign in. If it does not open, "
	    "visit:\n%s", buf_str(&u));
	if (browser_open(buf_str(&u)) < 0)
		log_info("could not start a browser ($BROWSER or xdg-open)");
	if ((r = loopback_wait(lb, c->login_timeout_s, state, &code, &error,
	    &desc)) != GRAPH_OK) {
		if (r == GRAPH_ERR_TIMEOUT)
			err_set(c, 0, "timeout", "no sign-in arrived in time",
			    NULL);
		goto fail;
	}
	if (code == NULL) {
		err_set(c, 0, error != NULL ? error : "", desc != NULL ? desc :
		    "sign-in failed", NULL);
		r = error != NULL && strcmp(error, "access_denied") == 0 ?
		    GRAPH_ERR_DECLINED : GRAPH_ERR_AUTH;
		goto fail;
	}
	form_add(&f, "grant_type", "authorization_code");
	form_add(&f, "client_id", c->client_id);
	form_add(&f, "code", code);
	form_add(&f, "redirect_uri", redirect);
	form_add(&f, "code_verifier", verifier);
	form_add(&f, "scope", scope);
	/* a code is good once: never resend the exchange */
	if ((r = token_post(c, &f, HTTP_NO_RETRY, &t)) != GRAPH_OK)
		goto fail;
	if ((r = adopt(c, &t, NULL, false, NULL, NULL)) != GRAPH_OK)
		goto fail;
	r = store_locked(c);
fail:
	loopback_close(&lb);
	token_reset(&t);
	buf_reset(&f);
	buf_reset(&u);
	freezero_str(verifier);
	freezero_str(code);
	free(challenge);
	free(state);
	free(redirect);
	free(scope);
	free(error);
	free(desc);
	free(base);

	return (r);
}
