/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The client object: configuration (cloud hosts, defaults), error
 * details of the last call, prompts, and graph_strerr().
 */

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

#define DEFAULT_CLIENT		"14d82eec-204b-4c2f-b7e8-296a70dab67e"
#define DEFAULT_SCOPES		"UserAuthMethod-Passkey.ReadWrite.All " \
				"User.Read.All GroupMember.Read.All " \
				"Policy.Read.AuthenticationMethod"
/* the user-context mode registers for the signed-in user only */
#define TIMEOUT_ENV		"PROVISIONING_HTTP_TIMEOUT"
#define RETRIES_ENV		"PROVISIONING_HTTP_RETRIES"
#define USER_SCOPES		"UserAuthMethod-Passkey.ReadWrite User.Read"

static const struct cloud {
	const char	*name;
	const char	*login;
	const char	*graph;
} clouds[] = {
	{ "global", "https://login.microsoftonline.com",
	    "https://graph.microsoft.com" },
	{ "usgov", "https://login.microsoftonline.us",
	    "https://graph.microsoft.us" },
	{ "usgov-dod", "https://login.microsoftonline.us",
	    "https://dod-graph.microsoft.us" },
	{ "china", "https://login.partner.microsoftonline.cn",
	    "https://microsoftgraph.chinacloudapi.cn" },
};

static const char *errs[] = {
	"success",
	"internal error",
	"invalid argument or configuration",
	"not signed in (run 'provisioning login')",
	"authentication failed",
	"permission denied",
	"not found",
	"request rejected",
	"conflict",
	"throttled by the server",
	"server error",
	"network error",
	"TLS error (certificate not trusted?)",
	"timed out",
	"malformed reply",
	"token cache unusable",
	"sign-in declined or expired",
	"ambiguous name",
	"not supported",
	"unexpected HTTP status",
	"cancelled",
};

const char *
graph_strerr(int r)
{
	if (r > 0 || -r >= (int)(sizeof(errs) / sizeof(errs[0])))
		return ("unknown error");

	return (errs[-r]);
}

bool
graph_err_is_auth(int r)
{
	return (r == GRAPH_ERR_LOGIN_REQUIRED || r == GRAPH_ERR_AUTH ||
	    r == GRAPH_ERR_FORBIDDEN || r == GRAPH_ERR_DECLINED ||
	    r == GRAPH_ERR_CACHE);
}

char *
gfmt(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return (NULL);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);

	return (s);
}

static void
copy_str(char *dst, size_t len, const char *s)
{
	snprintf(dst, len, "%s", s != NULL ? s : "");
}

void
err_clear(graph_client_t *c)
{
	memset(&c->e, 0, sizeof(c->e));
}

void
err_set(graph_client_t *c, int status, const char *code, const char *msg,
    const char *request_id)
{
	c->e.status = status;
	copy_str(c->e.code, sizeof(c->e.code), code);
	copy_str(c->e.message, sizeof(c->e.message), msg);
	if (request_id != NULL && *request_id != '\0')
		copy_str(c->e.request_id, sizeof(c->e.request_id),
		    request_id);
}

void
err_hint(graph_client_t *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->e.hint, sizeof(c->e.hint), fmt, ap);
	va_end(ap);
}

int
graph_last_status(const graph_client_t *c)
{
	return (c->e.status);
}

const char *
graph_last_code(const graph_client_t *c)
{
	return (c->e.code);
}

const char *
graph_last_message(const graph_client_t *c)
{
	return (c->e.message);
}

const char *
graph_last_request_id(const graph_client_t *c)
{
	return (c->e.request_id);
}

const char *
graph_last_hint(const graph_client_t *c)
{
	return (c->e.hint);
}

int
graph_last_retries(const graph_client_t *c)
{
	return (c->retries);
}

static void
prompt_stderr(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
	fflush(stderr);
}

void
graph_set_prompt(graph_client_t *c, graph_prompt_fn *fn, void *arg)
{
	c->prompt = fn != NULL ? fn : prompt_stderr;
	c->prompt_arg = arg;
}

void
prompt(graph_client_t *c, const char *fmt, ...)
{
	char	buf[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->prompt(c->prompt_arg, buf);
}

/* strdup without a trailing '/' */
static char *
url_dup(const char *s)
{
	size_t n = strlen(s);

	while (n > 0 && s[n - 1] == '/')
		n--;

	return (strndup(s, n));
}

static int
sdup(char **dst, const char *s)
{
	*dst = NULL;
	if (s != NULL && (*dst = strdup(s)) == NULL)
		return (-1);

	return (0);
}

static void
client_release(graph_client_t *c)
{
	http_cleanup(c);
	token_reset(&c->tok);
	free(c->cloud);
	free(c->authority);
	free(c->graph);
	free(c->resource);
	free(c->version);
	free(c->tenant);
	free(c->client_id);
	free(c->ca_bundle);
	free(c->state_dir);
	free(c->user_agent);
	free(c->account);
	free(c->scopes);
}

void
graph_client_free(graph_client_t **cp)
{
	graph_client_t *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	client_release(c);
	freezero_buf(c, sizeof(*c));
	*cp = NULL;
}

/* a positive number from the environment (tests shorten timeouts) */
static int
env_int(const char *name, int min, int max, int dflt)
{
	const char	*s;
	int		 v;

	if ((s = getenv(name)) == NULL ||
	    parse_int_range(s, min, max, &v) < 0)
		return (dflt);

	return (v);
}

static int
positive(int v, int dflt)
{
	return (v > 0 ? v : dflt);
}

/* only https://: a token must never travel in clear */
static int
url_check(const char *url, const char *what, char *err, size_t len)
{
	if (url == NULL || strncasecmp(url, "https://", 8) == 0)
		return (0);
	if (strncasecmp(url, "http://", 7) == 0)
		snprintf(err, len, "%s is an http:// URL: refused, only "
		    "https:// endpoints are used (tokens would travel in "
		    "clear)", what);
	else
		snprintf(err, len, "%s is not an https:// URL", what);

	return (-1);
}

/* readable, and PEM certificates in it: else every TLS call fails later */
static int
ca_check(const char *path, char *err, size_t len)
{
	FILE	*f;
	X509	*x = NULL;
	int	 n = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, len, "--ca-bundle %s: %s", path, strerror(errno));
		return (-1);
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		X509_free(x);
		n++;
	}
	ERR_clear_error();
	if (ferror(f) || n == 0) {
		snprintf(err, len, "--ca-bundle %s: %s", path, ferror(f) ?
		    "cannot read it" : "holds no PEM certificate");
		fclose(f);
		return (-1);
	}
	fclose(f);

	return (0);
}

int
graph_config_check(const struct graph_config *cfg, char *err, size_t len)
{
	if (url_check(cfg->authority_url, "the login URL (--authority-url, "
	    "PROVISIONING_AUTHORITY_URL)", err, len) < 0 ||
	    url_check(cfg->graph_url, "the Graph URL (--graph-url, "
	    "PROVISIONING_GRAPH_URL)", err, len) < 0 ||
	    (cfg->ca_bundle != NULL && ca_check(cfg->ca_bundle, err,
	    len) < 0))
		return (GRAPH_ERR_ARG);

	return (GRAPH_OK);
}

/*
 * checked: cfg is a client's own, checked when that client was made (a
 * clone; the CA bundle is parsed again only for a new configuration)
 */
static int
client_new(graph_client_t **out, const struct graph_config *cfg,
    bool checked)
{
	graph_client_t		*c = NULL;
	const struct cloud	*cl = NULL;
	const char		*name;
	size_t			 i;
	int			 r;
	char			 ebuf[512];

	*out = NULL;
	if (!checked && graph_config_check(cfg, ebuf, sizeof(ebuf)) !=
	    GRAPH_OK) {
		log_debug("%s: %s", __func__, ebuf);
		return (GRAPH_ERR_ARG);
	}
	name = cfg->cloud != NULL ? cfg->cloud : "global";
	for (i = 0; i < sizeof(clouds) / sizeof(clouds[0]); i++)
		if (strcmp(clouds[i].name, name) == 0)
			cl = &clouds[i];
	if (cl == NULL || (cfg->graph_version != NULL &&
	    strcmp(cfg->graph_version, "v1.0") != 0 &&
	    strcmp(cfg->graph_version, "beta") != 0))
		return (GRAPH_ERR_ARG);
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (GRAPH_ERR_INTERNAL);
	c->prompt = prompt_stderr;
	c->verify = !cfg->disable_ssl_verify;
	c->ephemeral = cfg->ephemeral || cfg->state_dir == NULL;
	c->session_hours = positive(cfg->session_hours, 12);
	c->timeout_s = positive(cfg->timeout_s, env_int(TIMEOUT_ENV, 1,
	    3600, 60));
	c->max_retries = cfg->max_retries > 0 ? cfg->max_retries :
	    cfg->max_retries < 0 ? 0 : env_int(RETRIES_ENV, 0, 50, 10);
	c->max_retry_after = positive(cfg->max_retry_after, 120);
	c->login_timeout_s = positive(cfg->login_timeout_s, 600);
	if ((c->cloud = strdup(cl->name)) == NULL ||
	    (c->authority = url_dup(cfg->authority_url != NULL ?
	    cfg->authority_url : cl->login)) == NULL ||
	    (c->graph = url_dup(cfg->graph_url != NULL ? cfg->graph_url :
	    cl->graph)) == NULL ||
	    (c->resource = strdup(cl->graph)) == NULL ||
	    (c->version = strdup(cfg->graph_version != NULL ?
	    cfg->graph_version : "v1.0")) == NULL ||
	    (c->tenant = strdup(cfg->tenant != NULL && *cfg->tenant != '\0' ?
	    cfg->tenant : "organizations")) == NULL ||
	    (c->client_id = strdup(cfg->client_id != NULL ? cfg->client_id :
	    DEFAULT_CLIENT)) == NULL ||
	    (c->user_agent = strdup(cfg->user_agent != NULL ?
	    cfg->user_agent : "provisioning")) == NULL ||
	    (c->scopes = strdup(cfg->scopes != NULL ? cfg->scopes :
	    DEFAULT_SCOPES)) == NULL ||
	    sdup(&c->ca_bundle, cfg->ca_bundle) < 0 ||
	    sdup(&c->state_dir, cfg->state_dir) < 0 ||
	    sdup(&c->account, cfg->account) < 0) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	/* a tenant or client id goes into URLs and the cache key as is */
	if (strpbrk(c->tenant, "/?#%& ") != NULL ||
	    strpbrk(c->client_id, "/?#%& ") != NULL) {
		r = GRAPH_ERR_ARG;
		goto fail;
	}
	if ((r = http_init(c)) != GRAPH_OK)
		goto fail;
	*out = c;
	c = NULL;
	r = GRAPH_OK;
fail:
	graph_client_free(&c);

	return (r);
}

int
graph_client_new(graph_client_t **out, const struct graph_config *cfg)
{
	return (client_new(out, cfg, false));
}

static int
config_from(struct graph_config *cfg, const graph_client_t *s)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cloud = s->cloud;
	cfg->authority_url = s->authority;
	cfg->graph_url = s->graph;
	cfg->graph_version = s->version;
	cfg->tenant = s->tenant;
	cfg->client_id = s->client_id;
	cfg->ca_bundle = s->ca_bundle;
	cfg->disable_ssl_verify = !s->verify;
	cfg->state_dir = s->state_dir;
	cfg->user_agent = s->user_agent;
	cfg->account = s->account;
	cfg->scopes = s->scopes;
	cfg->session_hours = s->session_hours;
	cfg->timeout_s = s->timeout_s;
	cfg->max_retries = s->max_retries > 0 ? s->max_retries : -1;
	cfg->max_retry_after = s->max_retry_after;
	cfg->login_timeout_s = s->login_timeout_s;
	cfg->ephemeral = s->ephemeral;

	return (0);
}

int
graph_client_clone(graph_client_t **out, const graph_client_t *s)
{
	struct graph_config	 cfg;
	graph_client_t		*c = NULL;
	int			 r;

	config_from(&cfg, s);
	if ((r = client_new(&c, &cfg, true)) != GRAPH_OK)
		return (r);
	c->prompt = s->prompt;
	c->prompt_arg = s->prompt_arg;
	if (s->have_tok) {
		if (token_copy(&c->tok, &s->tok) < 0) {
			graph_client_free(&c);
			return (GRAPH_ERR_INTERNAL);
		}
		c->have_tok = true;
	}
	*out = c;

	return (GRAPH_OK);
}

int
graph_client_new_user(graph_client_t **out, const graph_client_t *admin)
{
	struct graph_config	 cfg;
	graph_client_t		*c = NULL;
	int			 r;

	config_from(&cfg, admin);
	cfg.ephemeral = true;
	cfg.account = NULL;
	cfg.scopes = USER_SCOPES;
	/*
	 * A user signs in through a public client: an app-only admin's
	 * app is confidential (it has a secret the user must not use), so
	 * the user gets the default public client of the cloud.
	 */
	if (admin->tok.app_only)
		cfg.client_id = DEFAULT_CLIENT;
	if ((r = client_new(&c, &cfg, true)) != GRAPH_OK)
		return (r);
	c->prompt = admin->prompt;
	c->prompt_arg = admin->prompt_arg;
	*out = c;

	return (GRAPH_OK);
}

int
graph_set_session_hours(graph_client_t *c, int hours)
{
	if (hours <= 0 || hours > 24 * 90)
		return (GRAPH_ERR_ARG);
	c->session_hours = hours;

	return (GRAPH_OK);
}

int
graph_set_scopes(graph_client_t *c, const char *scopes)
{
	char *s;

	if (scopes == NULL || strspn(scopes, " +") == strlen(scopes))
		return (GRAPH_ERR_ARG);
	if (*scopes == '+')
		s = gfmt("%s %s", c->scopes, scopes + 1);
	else
		s = strdup(scopes);
	if (s == NULL)
		return (GRAPH_ERR_INTERNAL);
	free(c->scopes);
	c->scopes = s;

	return (GRAPH_OK);
}
