/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * The vauth daemon's socket loop: one Unix stream socket, one client at a
 * time (others wait in the backlog, like a flock'd hidraw node), each
 * message exactly one raw 64-byte CTAPHID report. Single-threaded: while a
 * command waits for presence, the library reads this connection through
 * conn_rx() so that it sees CTAPHID_CANCEL.
 */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "server.h"

#define STOP_POLL_MS 250

struct conn {
	int fd;
	size_t have;
	unsigned char buf[VAUTH_PACKET_LEN];
};

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* one 64-byte report within ms (-1: forever): 1 got, 0 timeout, -1 gone */
static int
conn_rx(void *ctx, unsigned char *pkt, int ms)
{
	struct conn *c = ctx;
	struct pollfd pfd;
	long long deadline = ms >= 0 ? now_ms() + ms : -1, left;
	ssize_t n;
	int r, t;

	for (;;) {
		if (stopping)
			return (-1);
		/* wake up now and then: a signal may slip in before poll() */
		t = STOP_POLL_MS;
		if (deadline >= 0) {
			left = deadline - now_ms();
			if (left < t)
				t = left > 0 ? (int)left : 0;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((r = poll(&pfd, 1, t)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (r == 0) {
			if (deadline >= 0 && now_ms() >= deadline)
				return (0);
			continue;
		}
		n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
		if (n == 0)
			return (-1);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return (-1);
		}
		c->have += (size_t)n;
		if (c->have == sizeof(c->buf)) {
			memcpy(pkt, c->buf, sizeof(c->buf));
			c->have = 0;
			return (1);
		}
	}
}

static int
conn_tx(void *ctx, const unsigned char *pkt)
{
	struct conn *c = ctx;
	size_t off = 0;
	ssize_t n;

	while (off < VAUTH_PACKET_LEN) {
		n = send(c->fd, pkt + off, VAUTH_PACKET_LEN - off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR && !stopping)
				continue;
			return (-1);
		}
		off += (size_t)n;
	}

	return (0);
}

static void
serve(vauth_t *v, int fd, int verbose)
{
	struct conn c;
	vauth_io_t io;
	unsigned char pkt[VAUTH_PACKET_LEN];

	memset(&c, 0, sizeof(c));
	c.fd = fd;
	io.tx = conn_tx;
	io.rx = conn_rx;
	io.ctx = &c;
	if (verbose)
		fprintf(stderr, "vauth: client connected\n");
	while (!stopping && conn_rx(&c, pkt, -1) == 1)
		if (vauth_hid_input(v, pkt, &io) != VAUTH_OK)
			break;
	explicit_bzero(&c, sizeof(c));
	explicit_bzero(pkt, sizeof(pkt));
	vauth_reconnect(v);
	if (verbose)
		fprintf(stderr, "vauth: client disconnected\n");
}

/* Remove a stale socket at path; refuse if it is live or not a socket. */
static int
clear_stale(const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(sun->sun_path, &st) < 0)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "vauth: %s exists and is not a socket\n",
		    sun->sun_path);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (-1);
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0) {
		fprintf(stderr, "vauth: %s is in use by another process\n",
		    sun->sun_path);
		return (-1);
	}
	if (unlink(sun->sun_path) < 0 && errno != ENOENT)
		return (-1);

	return (0);
}

/* Serve path until SIGTERM/SIGINT. Returns 0, or -1 on setup failure. */
int
server_run(vauth_t *v, const char *path, int verbose)
{
	struct sockaddr_un sun;
	struct sigaction sa;
	struct pollfd pfd;
	int lfd = -1, fd, r = -1, bound = 0;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "vauth: socket path too long: %s\n", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll sees EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGINT, &sa, NULL) < 0)
		return (-1);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		return (-1);

	if (clear_stale(&sun) < 0)
		goto fail;
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "vauth: %s: %s\n", path, strerror(errno));
		goto fail;
	}
	bound = 1;
	if (listen(lfd, 16) < 0) {
		fprintf(stderr, "vauth: listen: %s\n", strerror(errno));
		goto fail;
	}
	if (verbose)
		fprintf(stderr, "vauth: listening on %s\n", path);

	while (!stopping) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((fd = poll(&pfd, 1, STOP_POLL_MS)) <= 0) {
			if (fd == 0 || errno == EINTR)
				continue;
			fprintf(stderr, "vauth: poll: %s\n", strerror(errno));
			goto fail;
		}
		if ((fd = accept(lfd, NULL, NULL)) < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EAGAIN)
				continue;
			fprintf(stderr, "vauth: accept: %s\n", strerror(errno));
			goto fail;
		}
		(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		serve(v, fd, verbose);
		close(fd);
	}

	r = 0;
fail:
	if (lfd >= 0)
		close(lfd);
	if (bound)
		(void)unlink(path);

	return (r);
}
