/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libfido2 io callbacks for a vauth socket: each CTAPHID report is one
 * 64-byte message on a Unix stream socket.  libfido2 does the framing;
 * it writes 65 bytes (report id 0 first) and reads exactly 64.  Reads
 * take what the socket holds, a reply's frames at once, and hand them
 * out one report at a time: two system calls a reply, not two a frame.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctap_int.h"

#define REPORT_LEN	64
#define READ_AHEAD	(64 * REPORT_LEN)

struct unix_handle {
	int		 fd;
	size_t		 off;		/* next byte of buf to hand out */
	size_t		 len;		/* bytes in buf */
	unsigned char	 buf[READ_AHEAD];
};

static void *
unix_open(const char *path)
{
	struct sockaddr_un	 sun;
	struct unix_handle	*h;
	int			 fd;

	if (strncmp(path, "unix:", 5) == 0)
		path += 5;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return (NULL);
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return (NULL);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (h = calloc(1, sizeof(*h))) == NULL) {
		close(fd);
		return (NULL);
	}
	h->fd = fd;

	return (h);
}

static void
unix_close(void *handle)
{
	struct unix_handle *h = handle;

	if (h == NULL)
		return;
	close(h->fd);
	free(h);
}

static int
unix_read(void *handle, unsigned char *buf, size_t len, int ms)
{
	struct unix_handle	*h = handle;
	struct pollfd		 pfd;
	size_t			 got = 0;
	ssize_t			 n;
	long long		 deadline, left;
	int			 pr;

	if (len != REPORT_LEN)
		return (-1);
	deadline = ms < 0 ? -1 : now_ms() + ms;
	for (;;) {
		n = (ssize_t)(h->len - h->off);
		if ((size_t)n > len - got)
			n = (ssize_t)(len - got);
		memcpy(buf + got, h->buf + h->off, (size_t)n);
		got += (size_t)n;
		h->off += (size_t)n;
		if (h->off == h->len)
			h->off = h->len = 0;
		if (got == len)
			break;
		left = deadline < 0 ? -1 : deadline - now_ms();
		if (deadline >= 0 && left < 0)
			left = 0;
		pfd.fd = h->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((pr = poll(&pfd, 1, (int)left)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (pr == 0)
			return (-1);	/* timed out */
		if ((n = read(h->fd, h->buf, sizeof(h->buf))) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			return (-1);	/* key gone */
		h->off = 0;
		h->len = (size_t)n;
	}

	return ((int)len);
}

static int
unix_write(void *handle, const unsigned char *buf, size_t len)
{
	struct unix_handle	*h = handle;
	size_t			 off = 1;	/* skip the report id */
	ssize_t			 n;

	if (len != REPORT_LEN + 1)
		return (-1);
	while (off < len) {
		if ((n = send(h->fd, buf + off, len - off,
		    MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		off += (size_t)n;
	}

	return ((int)len);
}

const fido_dev_io_t ctap_unix_io = {
	unix_open, unix_close, unix_read, unix_write,
};
