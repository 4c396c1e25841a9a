/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * HTTPS over libcurl: one easy handle per client (so connections are
 * reused, by POSTs too: see body_seek()), TLS sessions and the CA store
 * shared by the whole process (a new connection resumes a session
 * instead of a full handshake, and none parses the CA files again),
 * bounded bodies, a client-request-id per request, Graph's
 * request-id kept, and the retry policy: 429 and 503 wait for
 * Retry-After; other 5xx and network errors back off exponentially with
 * jitter, for idempotent requests only.
 */

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common.h"
#include "graph_int.h"

#define BACKOFF_BASE_MS	500
#define BACKOFF_MAX_MS	16000
#define CONNECT_TIMEOUT	10

struct hdrs {
	char		request_id[80];
	long long	retry_after;
};

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static int		 global_ok;

/*
 * One trust configuration (a --ca-bundle, or none: curl's defaults):
 * its CA store, loaded once (again a day later, as curl's own cache),
 * and its TLS sessions, shared by every handle that trusts the same.
 * A session is resumed without the certificate being checked again,
 * so one verified under one trust is never offered under another.
 * Never freed: a process has one or two.
 */
struct trust {
	char		*bundle;
	X509_STORE	*store;
	time_t		 loaded;
	CURLSH		*share;		/* NULL: sessions per handle */
	struct trust	*next;
};

#define CA_STORE_MAX_AGE	86400

static pthread_mutex_t	 trust_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct trust	*trusts;
static pthread_mutex_t	 share_mtx[CURL_LOCK_DATA_LAST];

static void
share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *arg)
{
	(void)h;
	(void)a;
	(void)arg;
	pthread_mutex_lock(&share_mtx[d]);
}

static void
share_unlock(CURL *h, curl_lock_data d, void *arg)
{
	(void)h;
	(void)arg;
	pthread_mutex_unlock(&share_mtx[d]);
}

static CURLSH *
share_new(void)
{
	CURLSH	*sh;

	if ((sh = curl_share_init()) == NULL)
		return (NULL);
	if (curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) !=
	    CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) !=
	    CURLSHE_OK ||
	    curl_share_setopt(sh, CURLSHOPT_SHARE,
	    CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		log_debug("%s: curl_share_setopt", __func__);
		curl_share_cleanup(sh);
		return (NULL);
	}

	return (sh);
}

static void
global_init(void)
{
	int	i;

	global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
	for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&share_mtx[i], NULL);
}

int
http_global_init(void)
{
	pthread_once(&once, global_init);

	return (global_ok ? GRAPH_OK : GRAPH_ERR_INTERNAL);
}

int
http_init(graph_client_t *c)
{
	if (http_global_init() != GRAPH_OK ||
	    (c->curl = curl_easy_init()) == NULL)
		return (GRAPH_ERR_INTERNAL);

	return (GRAPH_OK);
}

void
http_cleanup(graph_client_t *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	c->curl = NULL;
}

void
http_resp_reset(struct http_resp *r)
{
	if (r->body != NULL)
		freezero_buf(r->body, r->len + 1);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

char *
http_escape(graph_client_t *c, const char *s)
{
	char	*e, *out;

	if ((e = curl_easy_escape(c->curl, s, 0)) == NULL)
		return (NULL);
	out = strdup(e);
	curl_free(e);

	return (out);
}

void
uuid4(char out[37])
{
	unsigned char	b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0, sizeof(b));	/* an id, not a secret */
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

long long
http_parse_retry_after(const char *s, long long now)
{
	const char	*p;
	long long	 v = 0;
	time_t		 t;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '\0')
		return (-1);
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > 86400 * 365)
			return (-1);
	}
	if (p != s) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		return (*p == '\0' ? v : -1);
	}
	if ((t = curl_getdate(s, NULL)) == (time_t)-1)
		return (-1);

	return ((long long)t > now ? (long long)t - now : 0);
}

/* a struct buf: bounded, and a token in a reply is wiped as it grows */
static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t	n = size * nmemb;

	if (buf_append(arg, data, n) < 0)
		return (0);

	return (n);
}

static void
copy_value(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* the body of a request that must not be resent: see body_seek() */
struct body {
	const char	*p;
	size_t		 len;
	size_t		 off;
	bool		 rewound;
};

static size_t
body_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct body	*bd = arg;
	size_t		 n = size * nmemb;

	if (n > bd->len - bd->off)
		n = bd->len - bd->off;
	memcpy(dst, bd->p + bd->off, n);
	bd->off += n;

	return (n);
}

/*
 * libcurl resends a request by itself when a reused connection dies
 * before any reply.  A POST whose body went out may have been
 * processed, so its body cannot be rewound: libcurl then gives up with
 * CURLE_SEND_FAIL_REWIND, an outcome the caller treats as unknown (it
 * looks before sending again).  A resend with none of the body sent is
 * left to libcurl: Graph cannot have acted on a request it never read.
 */
static int
body_seek(void *arg, curl_off_t off, int origin)
{
	struct body *bd = arg;

	(void)off;
	(void)origin;
	bd->rewound = true;

	return (CURL_SEEKFUNC_FAIL);
}

static size_t
header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct hdrs	*h = arg;
	size_t		 n = size * nmemb;
	char		 tmp[128];

	/* a new status line starts a new header block (100, redirects) */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		h->request_id[0] = '\0';
		h->retry_after = -1;
	} else if (n > 11 && strncasecmp(data, "request-id:", 11) == 0) {
		copy_value(h->request_id, sizeof(h->request_id), data + 11,
		    n - 11);
	} else if (n > 12 && strncasecmp(data, "retry-after:", 12) == 0) {
		copy_value(tmp, sizeof(tmp), data + 12, n - 12);
		h->retry_after = http_parse_retry_after(tmp, time(NULL));
	}

	return (n);
}

/* -vv: headers only, never bodies, every secret redacted (redact.c) */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	const char	*p, *e, *end = data + size;
	const char	*dir;
	char		*red;
	size_t		 n;

	switch (type) {
	case CURLINFO_TEXT:
		dir = "*";
		break;
	case CURLINFO_HEADER_IN:
		dir = "<";
		break;
	case CURLINFO_HEADER_OUT:
		dir = ">";
		break;
	default:
		return (0);
	}
	for (p = data; p < end; p = e + 1) {
		if ((e = memchr(p, '\n', (size_t)(end - p))) == NULL)
			e = end;
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		if ((red = http_redact(p, n)) == NULL)
			log_debug("%s [line withheld]", dir);
		else {
			log_debug("%s %s", dir, red);
			freezero_str(red);
		}
		if (e == end)
			break;
	}

	return (0);
}

static int
curl_err(CURLcode cc, const struct buf *b)
{
	switch (cc) {
	case CURLE_OK:
		return (GRAPH_OK);
	case CURLE_OPERATION_TIMEDOUT:
		return (GRAPH_ERR_TIMEOUT);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
		return (GRAPH_ERR_TLS);
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return (b->err == EFBIG || cc == CURLE_FILESIZE_EXCEEDED ?
		    GRAPH_ERR_PROTOCOL : GRAPH_ERR_INTERNAL);
	case CURLE_OUT_OF_MEMORY:
		return (GRAPH_ERR_INTERNAL);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return (GRAPH_ERR_ARG);
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		return (GRAPH_ERR_PROTOCOL);
	default:
		/* resolve, connect, send/recv, partial file, empty reply */
		return (GRAPH_ERR_NETWORK);
	}
}

static const char *
ca_path_default(CURL *h)
{
	char	*p = NULL;

	if (curl_easy_getinfo(h, CURLINFO_CAPATH, &p) == CURLE_OK &&
	    p != NULL)
		return (p);

	return ("/etc/ssl/certs");
}

static bool
same_bundle(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a == b);

	return (strcmp(a, b) == 0);
}

/* the trust curl would set up at each connection, built once */
static X509_STORE *
store_load(CURL *h, const char *bundle)
{
	X509_STORE	*s = NULL;
	const char	*file = NULL, *dir = NULL;
	char		*dfile = NULL, *ddir = NULL;

	if (bundle != NULL) {
		/* CAINFO would replace the system bundle: keep its dir */
		file = bundle;
		dir = ca_path_default(h);
	} else {
		/* curl's defaults, as it would load them */
		if (curl_easy_getinfo(h, CURLINFO_CAINFO, &dfile) !=
		    CURLE_OK || curl_easy_getinfo(h, CURLINFO_CAPATH,
		    &ddir) != CURLE_OK)
			return (NULL);
		file = dfile;
		dir = ddir;
	}
	if ((s = X509_STORE_new()) == NULL ||
	    (file != NULL && X509_STORE_load_file(s, file) != 1) ||
	    (dir != NULL && X509_STORE_load_path(s, dir) != 1) ||
	    X509_STORE_set_flags(s, X509_V_FLAG_PARTIAL_CHAIN) != 1) {
		log_debug("%s: cannot load the CA store", __func__);
		ERR_clear_error();
		X509_STORE_free(s);
		return (NULL);
	}

	return (s);
}

/*
 * The store (a reference for the caller) and the session share of a
 * trust; -1 if the store cannot be built (then curl loads the files
 * itself, at each connection, with sessions of the handle's own).
 */
static int
trust_get(CURL *h, const char *bundle, X509_STORE **store, CURLSH **share)
{
	struct trust	*t;
	X509_STORE	*s;
	int		 r = -1;

	*store = NULL;
	*share = NULL;
	pthread_mutex_lock(&trust_mtx);
	for (t = trusts; t != NULL; t = t->next)
		if (same_bundle(t->bundle, bundle))
			break;
	if (t == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL ||
		    (bundle != NULL && (t->bundle = strdup(bundle)) == NULL)) {
			free(t);
			goto out;
		}
		t->share = share_new();
		t->next = trusts;
		trusts = t;
	}
	if (t->store == NULL || time(NULL) - t->loaded >= CA_STORE_MAX_AGE) {
		if ((s = store_load(h, bundle)) == NULL)
			goto out;
		X509_STORE_free(t->store);
		t->store = s;
		t->loaded = time(NULL);
	}
	if (X509_STORE_up_ref(t->store) != 1)
		goto out;
	*store = t->store;
	*share = t->share;
	r = 0;
out:
	pthread_mutex_unlock(&trust_mtx);

	return (r);
}

static CURLcode
ssl_ctx_cb(CURL *h, void *ctx, void *arg)
{
	(void)h;
	SSL_CTX_set1_cert_store(ctx, arg);

	return (CURLE_OK);
}

static void
slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

static int
add_header(struct curl_slist **l, const char *s)
{
	struct curl_slist *n;

	if ((n = curl_slist_append(*l, s)) == NULL)
		return (-1);
	*l = n;

	return (0);
}

/*
 * Which TLS check failed, in words an operator can act on: libcurl says
 * only "peer failed verification"; OpenSSL's verify result tells an
 * untrusted issuer from an expired certificate, and a chain that
 * verified yet failed means the host name did not match.
 */
static void
url_host(const char *url, char *host, size_t len)
{
	const char	*h;
	size_t		 n;

	host[0] = '\0';
	if ((h = strstr(url, "://")) != NULL) {
		h += 3;
		n = strcspn(h, "/?#");
		snprintf(host, len, "%.*s", (int)n, h);
	}
}

static const char *
proxy_env(void)
{
	static const char *const names[] = {
		"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	};
	const char	*v;
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		if ((v = getenv(names[i])) != NULL && *v != '\0')
			return (names[i]);

	return (NULL);
}

/*
 * No route, no DNS, a refused or silent connection: name the host and
 * what failed, so "network error" after a minute of retries says what
 * to fix.
 */
static void
net_explain(graph_client_t *c, CURLcode cc, const char *url)
{
	const char	*px = proxy_env(), *what;
	char		 host[128];

	url_host(url, host, sizeof(host));
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
		what = "the proxy's host name does not resolve";
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		what = "its name does not resolve (DNS)";
		break;
	case CURLE_COULDNT_CONNECT:
		what = "no connection (refused, or no route to it)";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		what = "no answer in time";
		break;
	default:
		what = curl_easy_strerror(cc);
		break;
	}
	snprintf(c->xport_why, sizeof(c->xport_why), "cannot reach %s: %s",
	    host, what);
	if (px != NULL)
		snprintf(c->xport_hint, sizeof(c->xport_hint), "check the "
		    "network and the proxy in %s (and no_proxy)", px);
	else
		snprintf(c->xport_hint, sizeof(c->xport_hint), "check the "
		    "network and DNS; behind a proxy, set https_proxy "
		    "(see ENVIRONMENT in provisioning(1))");
}

static void
tls_explain(graph_client_t *c, CURLcode cc, const char *url,
    const char *ebuf)
{
	long	 v = -1;
	char	 host[128];

	url_host(url, host, sizeof(host));
	if (curl_easy_getinfo(c->curl, CURLINFO_SSL_VERIFYRESULT, &v) !=
	    CURLE_OK)
		v = -1;
	/* libcurl checks the name itself, after the chain verified */
	if (cc == CURLE_PEER_FAILED_VERIFICATION && (strstr(ebuf,
	    "subject name") != NULL || strstr(ebuf, "target host") != NULL))
		v = X509_V_ERR_HOSTNAME_MISMATCH;
	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(c->xport_why, sizeof(c->xport_why), "TLS: the certificate "
		    "of %s has expired", host);
		snprintf(c->xport_hint, sizeof(c->xport_hint), "the server (or a "
		    "TLS-inspecting proxy) must renew its certificate; check "
		    "this machine's clock too");
		return;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(c->xport_why, sizeof(c->xport_why), "TLS: the certificate "
		    "of %s is not valid yet", host);
		snprintf(c->xport_hint, sizeof(c->xport_hint), "check this "
		    "machine's clock");
		return;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
		snprintf(c->xport_why, sizeof(c->xport_why), "TLS: the certificate "
		    "of %s is signed by an untrusted issuer (%s)", host,
		    X509_verify_cert_error_string(v));
		snprintf(c->xport_hint, sizeof(c->xport_hint), "if a proxy "
		    "inspects TLS, pass its root with --ca-bundle FILE");
		return;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
	case X509_V_OK:
		if (cc == CURLE_PEER_FAILED_VERIFICATION) {
			snprintf(c->xport_why, sizeof(c->xport_why), "TLS: the "
			    "certificate of %s is for another host name "
			    "(host-name mismatch)", host);
			snprintf(c->xport_hint, sizeof(c->xport_hint), "check "
			    "--graph-url/--authority-url; a proxy that "
			    "inspects TLS must issue for this host");
			return;
		}
		break;
	default:
		if (v > 0) {
			snprintf(c->xport_why, sizeof(c->xport_why), "TLS: the "
			    "certificate of %s was refused (%s)", host,
			    X509_verify_cert_error_string(v));
			return;
		}
		break;
	}
	snprintf(c->xport_why, sizeof(c->xport_why), "TLS: %s", *ebuf != '\0' ?
	    ebuf : curl_easy_strerror(cc));
}

void
http_err_transport(graph_client_t *c, int r, const char *rid)
{
	if ((r == GRAPH_ERR_TLS || r == GRAPH_ERR_NETWORK ||
	    r == GRAPH_ERR_TIMEOUT) && c->xport_why[0] != '\0') {
		err_set(c, 0, "", c->xport_why, rid);
		if (c->xport_hint[0] != '\0')
			err_hint(c, "%s", c->xport_hint);
	} else
		err_set(c, 0, "", graph_strerr(r), rid);
}

void
graph_set_guard(graph_client_t *c, graph_guard_fn *fn, void *arg)
{
	if (c == NULL)
		return;
	c->guard = fn;
	c->guard_arg = arg;
}

/* libcurl's progress call (about once a second when idle) */
static int
guard_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	graph_client_t *c = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	if (c->guard(c->guard_arg) > 0)
		return (0);
	c->guard_tripped = true;
	return (1);
}

/* one attempt; GRAPH_OK if an HTTP status arrived */
static int
http_once(graph_client_t *c, const struct http_req *q,
    struct http_resp *resp)
{
	CURL			*h = c->curl;
	X509_STORE		*cas = NULL;
	CURLSH			*share = NULL;
	struct curl_slist	*hl = NULL;
	struct buf		 b;
	struct hdrs		 hd;
	struct body		 bd;
	char			 crid[37], line[128], *auth = NULL;
	char			 ebuf[CURL_ERROR_SIZE];
	long			 status = 0;
	size_t			 i, alen, max;
	CURLcode		 cc;
	int			 r, tmo;

	max = q->max_body > 0 ? q->max_body : GRAPH_MAX_BODY;
	tmo = q->timeout_s > 0 ? q->timeout_s : c->timeout_s;
	buf_init(&b, max);
	memset(&hd, 0, sizeof(hd));
	memset(&bd, 0, sizeof(bd));
	hd.retry_after = -1;
	http_resp_reset(resp);
	curl_easy_reset(h);
	ebuf[0] = '\0';
	c->xport_why[0] = c->xport_hint[0] = '\0';
	c->guard_tripped = false;
	if (c->guard != NULL && !(q->flags & HTTP_IDEMPOTENT) &&
	    c->guard(c->guard_arg) < GRAPH_GUARD_MIN_MS) {
		err_set(c, 0, "guard", "not sent: the right to send it ran "
		    "out (the fleet queue's lease on this user)", NULL);
		r = GRAPH_ERR_CANCELLED;
		goto fail;
	}
	uuid4(crid);
	snprintf(line, sizeof(line), "Accept: %s", q->accept != NULL ?
	    q->accept : "application/json");
	if (add_header(&hl, line) < 0 || add_header(&hl, "Expect:") < 0) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	/* Microsoft's request ids are for Microsoft */
	snprintf(line, sizeof(line), "client-request-id: %s", crid);
	if (!(q->flags & HTTP_FOREIGN) && (add_header(&hl, line) < 0 ||
	    add_header(&hl, "return-client-request-id: true") < 0)) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	if (q->ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", q->ctype);
		if (add_header(&hl, line) < 0) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
	}
	for (i = 0; i < sizeof(q->headers) / sizeof(q->headers[0]); i++) {
		if (q->headers[i] == NULL)
			continue;
		/* a CR or LF in a value would start a header of its own */
		if (!http_value_ok(q->headers[i])) {
			log_debug("%s: header with a control character",
			    __func__);
			r = GRAPH_ERR_ARG;
			goto fail;
		}
		if (add_header(&hl, q->headers[i]) < 0) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
	}
	if (q->flags & HTTP_AUTH) {
		if (!c->have_tok || c->tok.access == NULL) {
			r = GRAPH_ERR_LOGIN_REQUIRED;
			goto fail;
		}
		/* a token from the network or a cache is untrusted */
		if (!http_value_ok(c->tok.access)) {
			err_set(c, 0, "", "the access token holds a control "
			    "character (CR, LF, ...): refused", NULL);
			r = GRAPH_ERR_PROTOCOL;
			goto fail;
		}
		alen = strlen(c->tok.access) + sizeof("Authorization: Bearer ");
		if ((auth = malloc(alen)) == NULL) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
		snprintf(auth, alen, "Authorization: Bearer %s",
		    c->tok.access);
		if (add_header(&hl, auth) < 0) {
			r = GRAPH_ERR_INTERNAL;
			goto fail;
		}
	}

	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)tmo);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
	    (long)(tmo < CONNECT_TIMEOUT ? tmo : CONNECT_TIMEOUT));
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (!(q->flags & HTTP_IDEMPOTENT)) {
		if (c->guard != NULL) {
			curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION,
			    guard_cb);
			curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
			curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		}
	}
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 2L);
	if (!c->verify) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (trust_get(h, c->ca_bundle, &cas, &share) == 0) {
		if (share != NULL)
			curl_easy_setopt(h, CURLOPT_SHARE, share);
		curl_easy_setopt(h, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, cas);
	} else if (c->ca_bundle != NULL) {
		/* CAINFO would replace the system bundle: keep its dir */
		curl_easy_setopt(h, CURLOPT_CAPATH, ca_path_default(h));
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);
	}
	if (log_level() >= LOG_DEBUG) {
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	}
	if (strcmp(q->method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else {
		if (strcmp(q->method, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
		if (!(q->flags & HTTP_IDEMPOTENT) && (q->body != NULL ||
		    strcmp(q->method, "POST") == 0)) {
			/* on a reused connection too, never resent blindly */
			bd.p = q->body != NULL ? q->body : "";
			bd.len = q->body != NULL ? q->body_len : 0;
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, body_read);
			curl_easy_setopt(h, CURLOPT_READDATA, &bd);
			curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, body_seek);
			curl_easy_setopt(h, CURLOPT_SEEKDATA, &bd);
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)bd.len);
		} else if (q->body != NULL || strcmp(q->method, "POST") == 0) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDS,
			    q->body != NULL ? q->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(q->body != NULL ? q->body_len : 0));
		}
	}

	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_ABORTED_BY_CALLBACK && c->guard_tripped) {
		/* it may have reached Graph: the caller must not resend */
		err_set(c, 0, "guard", "abandoned in flight: the right to "
		    "send it ran out (the fleet queue's lease on this user)",
		    NULL);
		r = GRAPH_ERR_CANCELLED;
		goto fail;
	}
	if (cc != CURLE_OK) {
		log_debug("%s: %s %s: %s", __func__, q->method, q->url,
		    curl_easy_strerror(cc));
		if (bd.rewound)
			log_info("%s %s: the connection closed after the "
			    "request went out: not sent again", q->method,
			    q->url);
		r = curl_err(cc, &b);
		if (r == GRAPH_ERR_TLS)
			tls_explain(c, cc, q->url, ebuf);
		else if (r == GRAPH_ERR_NETWORK || r == GRAPH_ERR_TIMEOUT)
			net_explain(c, cc, q->url);
		goto fail;
	}
	if ((resp->body = (char *)buf_release(&b, &resp->len)) == NULL) {
		r = GRAPH_ERR_INTERNAL;
		goto fail;
	}
	resp->status = (int)status;
	resp->retry_after = hd.retry_after;
	memcpy(resp->request_id, hd.request_id, sizeof(resp->request_id));
	r = GRAPH_OK;
fail:
	/* drop pointers to our buffers before they go */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(h, CURLOPT_READDATA, NULL);
	curl_easy_setopt(h, CURLOPT_SEEKDATA, NULL);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, NULL);
	curl_easy_setopt(h, CURLOPT_SHARE, NULL);
	slist_wipe_free(hl);
	freezero_str(auth);
	X509_STORE_free(cas);
	if (r != GRAPH_OK)
		memcpy(resp->request_id, hd.request_id,
		    sizeof(resp->request_id));
	buf_reset(&b);

	return (r);
}

static graph_cancel_fn *cancel_fn;

void
graph_set_cancel(graph_cancel_fn *fn)
{
	cancel_fn = fn;
}

bool
graph_cancelled(void)
{
	return (cancel_fn != NULL && cancel_fn());
}

/* a Retry-After of minutes must not outlast a Ctrl+C */
bool
http_sleep_ms(long long ms)
{
	struct timespec	ts, rem;
	long long	slice;

	while (ms > 0) {
		if (graph_cancelled())
			return (false);
		slice = ms < 200 ? ms : 200;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)slice * 1000000L;
		while (nanosleep(&ts, &rem) < 0 && errno == EINTR)
			ts = rem;
		ms -= slice;
	}

	return (!graph_cancelled());
}

/* exponential, with full jitter in [d/2, d] */
static long long
backoff_ms(int attempt)
{
	unsigned int	 rnd = 0;
	long long	 d = BACKOFF_BASE_MS;
	int		 i;

	for (i = 0; i < attempt && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (unsigned int)now_ms();

	return (d / 2 + (long long)(rnd % (unsigned int)(d / 2 + 1)));
}

static const char *
rid_text(const struct http_resp *resp)
{
	return (resp->request_id[0] != '\0' ? resp->request_id : "none");
}

int
http_call(graph_client_t *c, const struct http_req *q,
    struct http_resp *resp)
{
	long long	 wait;
	int		 attempt, r, idem = (q->flags & HTTP_IDEMPOTENT) != 0;
	const char	*svc = q->service != NULL ? q->service : "server";

	c->retries = 0;
	c->refused_wait = 0;
	for (attempt = 0;; attempt++) {
		r = http_once(c, q, resp);
		if ((q->flags & HTTP_NO_RETRY) || attempt >= c->max_retries)
			return (r);
		if (r == GRAPH_ERR_NETWORK || r == GRAPH_ERR_TIMEOUT) {
			if (!idem)
				return (r);
			wait = backoff_ms(attempt);
			/* a minute of silence reads as a hang: say it */
			log_warn("%s; retry %d of %d in %.1f s",
			    c->xport_why[0] != '\0' ? c->xport_why :
			    graph_strerr(r), attempt + 1, c->max_retries,
			    (double)wait / 1000);
			log_info("(%s %s %s)", svc, q->method, q->url);
		} else if (r != GRAPH_OK) {
			return (r);
		} else if (resp->status == 429 || resp->status == 503) {
			/* a throttled request was not processed */
			if (resp->status == 503 && !idem)
				return (r);
			/* hours of Retry-After: the operator decides, now */
			if (resp->retry_after > c->max_retry_after) {
				log_info("%d from %s asks to wait %lld s, longer "
				    "than %d s: giving up (request-id %s)",
				    resp->status, svc, resp->retry_after,
				    c->max_retry_after, rid_text(resp));
				c->refused_wait = resp->retry_after;
				return (r);
			}
			wait = resp->retry_after >= 0 ?
			    resp->retry_after * 1000 : backoff_ms(attempt);
			log_info("%d from %s, retrying in %.1f s (request-id "
			    "%s)", resp->status, svc, (double)wait / 1000,
			    rid_text(resp));
		} else if (resp->status >= 500 && resp->status <= 599 &&
		    resp->status != 501 && resp->status != 505) {
			if (!idem)
				return (r);
			wait = backoff_ms(attempt);
			log_info("%d from %s, retrying in %.1f s (request-id "
			    "%s)", resp->status, svc, (double)wait / 1000,
			    rid_text(resp));
		} else
			return (r);
		c->retries++;
		if (!http_sleep_ms(wait))
			return (GRAPH_ERR_CANCELLED);
	}
}

int
http_status_err(int status)
{
	switch (status) {
	case 400:
		return (GRAPH_ERR_BAD_REQUEST);
	case 401:
		return (GRAPH_ERR_AUTH);
	case 403:
		return (GRAPH_ERR_FORBIDDEN);
	case 404:
		return (GRAPH_ERR_NOT_FOUND);
	case 409:
		return (GRAPH_ERR_CONFLICT);
	case 429:
		return (GRAPH_ERR_THROTTLED);
	default:
		if (status >= 500 && status <= 599)
			return (GRAPH_ERR_SERVER);
		if (status >= 200 && status <= 299)
			return (GRAPH_OK);
		return (GRAPH_ERR_HTTP);
	}
}
