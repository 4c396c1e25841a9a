/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The loopback end of the authorization code flow: listen on 127.0.0.1
 * at a port the kernel picks, and wait for the browser to bring
 * GET /?code=...&state=... (or ?error=...).  Anything else (favicon,
 * wrong state, garbage) is answered and ignored: only the redirect that
 * carries our state ends the wait.
 */

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "graph_int.h"

#define REQ_MAX		8192
#define REQ_TIMEOUT_MS	5000

struct loopback {
	int	fd;
};

int
loopback_open(struct loopback **out, int *port)
{
	struct loopback		*lb;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	*out = NULL;
	if ((lb = calloc(1, sizeof(*lb))) == NULL)
		return (GRAPH_ERR_INTERNAL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if ((lb->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lb->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(lb->fd, 8) < 0 ||
	    getsockname(lb->fd, (struct sockaddr *)&sin, &len) < 0) {
		log_debug("%s: %s", __func__, strerror(errno));
		if (lb->fd >= 0)
			close(lb->fd);
		free(lb);
		return (GRAPH_ERR_NETWORK);
	}
	*port = ntohs(sin.sin_port);
	*out = lb;

	return (GRAPH_OK);
}

void
loopback_close(struct loopback **lbp)
{
	if (*lbp == NULL)
		return;
	close((*lbp)->fd);
	free(*lbp);
	*lbp = NULL;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return (ch - '0');
	if (ch >= 'a' && ch <= 'f')
		return (ch - 'a' + 10);
	if (ch >= 'A' && ch <= 'F')
		return (ch - 'A' + 10);

	return (-1);
}

/* decode one application/x-www-form-urlencoded value of n bytes */
static char *
form_decode(const char *s, size_t n)
{
	char	*out, *o;
	size_t	 i;
	int	 h, l;

	if ((out = malloc(n + 1)) == NULL)
		return (NULL);
	for (i = 0, o = out; i < n; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < n &&
		    (h = hexval(s[i + 1])) >= 0 &&
		    (l = hexval(s[i + 2])) >= 0) {
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	if (strlen(out) != (size_t)(o - out)) {
		/* an encoded NUL: refuse rather than truncate */
		freezero_buf(out, n + 1);
		return (NULL);
	}

	return (out);
}

/* the value of `key` in query string q (up to qlen), decoded, or NULL */
static char *
query_get(const char *q, size_t qlen, const char *key)
{
	const char	*p = q, *end = q + qlen, *amp, *eq;
	size_t		 klen = strlen(key);

	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && (size_t)(eq - p) == klen &&
		    memcmp(p, key, klen) == 0)
			return (form_decode(eq + 1, (size_t)(amp - eq - 1)));
		p = amp + 1;
	}

	return (NULL);
}

static void
reply(int fd, int status, const char *text)
{
	char	buf[1024];
	int	n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Cache-Control: no-store\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status,
	    status == 200 ? "OK" : status == 404 ? "Not Found" :
	    "Bad Request", strlen(text), text);
	if (n > 0 && (size_t)n < sizeof(buf) &&
	    write(fd, buf, (size_t)n) < 0)
		log_debug("%s: write: %s", __func__, strerror(errno));
}

/* read up to the end of the request head, with a deadline */
static int
read_head(int fd, char *buf, size_t cap, size_t *len)
{
	struct pollfd	pfd;
	long long	deadline = now_ms() + REQ_TIMEOUT_MS;
	ssize_t		n;

	*len = 0;
	while (*len + 1 < cap) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			return (-1);
		if ((n = read(fd, buf + *len, cap - 1 - *len)) <= 0)
			return (-1);
		*len += (size_t)n;
		buf[*len] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL ||
		    strstr(buf, "\n\n") != NULL)
			return (0);
	}

	return (-1);
}

/*
 * Parse one request head.  1: the redirect that carries our state (with
 * a code or an error; *status is what to answer); 0: not ours.
 */
int
loopback_parse(const char *buf, const char *state, char **code,
    char **error, char **desc, int *status)
{
	const char	*path, *q, *sp;
	char		*st = NULL;
	int		 r = 0;

	*code = *error = *desc = NULL;
	*status = 400;
	if (strncmp(buf, "GET ", 4) != 0)
		return (0);
	path = buf + 4;
	if ((sp = strpbrk(path, " \r\n")) == NULL || *sp != ' ')
		return (0);
	if ((q = memchr(path, '?', (size_t)(sp - path))) == NULL ||
	    q != path + 1 || path[0] != '/') {
		*status = 404;
		return (0);
	}
	q++;
	st = query_get(q, (size_t)(sp - q), "state");
	if (st == NULL || strcmp(st, state) != 0)
		goto out;
	*code = query_get(q, (size_t)(sp - q), "code");
	*error = query_get(q, (size_t)(sp - q), "error");
	*desc = query_get(q, (size_t)(sp - q), "error_description");
	*status = 200;
	r = 1;
out:
	free(st);

	return (r);
}

static int
handle(int fd, const char *state, char **code, char **error, char **desc)
{
	char	buf[REQ_MAX];
	size_t	len;
	int	r = 0, status;

	if (read_head(fd, buf, sizeof(buf), &len) < 0)
		goto out;
	r = loopback_parse(buf, state, code, error, desc, &status);
	if (r == 1 && *code != NULL)
		reply(fd, 200, "<!DOCTYPE html><html><body><p>Signed in. You "
		    "can close this window and return to provisioning.</p>"
		    "</body></html>");
	else if (r == 1)
		reply(fd, 200, "<!DOCTYPE html><html><body><p>Sign-in did "
		    "not complete; see the provisioning command for the "
		    "reason.</p></body></html>");
	else if (status == 404)
		reply(fd, 404, "Not found");
	else
		reply(fd, 400, "This is not the sign-in response the "
		    "provisioning command waits for.");
out:
	explicit_bzero(buf, sizeof(buf));

	return (r);
}

int
loopback_wait(struct loopback *lb, int timeout_s, const char *state,
    char **code, char **error, char **desc)
{
	struct pollfd	pfd;
	long long	deadline = now_ms() + (long long)timeout_s * 1000;
	long long	left;
	int		fd;

	*code = *error = *desc = NULL;
	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return (GRAPH_ERR_TIMEOUT);
		if (graph_cancelled())
			return (GRAPH_ERR_CANCELLED);
		pfd.fd = lb->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left > 300 ? 300 : (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return (GRAPH_ERR_NETWORK);
		}
		if (!(pfd.revents & POLLIN))
			continue;
		if ((fd = accept(lb->fd, NULL, NULL)) < 0)
			continue;
		if (handle(fd, state, code, error, desc)) {
			close(fd);
			return (GRAPH_OK);
		}
		close(fd);
	}
}
