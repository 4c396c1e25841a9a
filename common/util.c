/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

void
wipe(void *p, size_t len)
{
	if (p != NULL)
		explicit_bzero(p, len);
}

void
freezero_buf(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void
freezero_str(char *s)
{
	if (s != NULL)
		freezero_buf(s, strlen(s));
}

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);

	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static int
write_all(int fd, const void *ptr, size_t len)
{
	const unsigned char	*p = ptr;
	ssize_t			 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}

	return (0);
}

/*
 * Write a file so that readers see either the old or the new content,
 * also across a crash: temporary file, fsync, rename, fsync the dir.
 */
int
write_file_atomic(const char *path, const void *ptr, size_t len, mode_t mode)
{
	char	 tmp[PATH_MAX], dir[PATH_MAX];
	int	 fd = -1, dfd = -1, r = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path,
	    (long)getpid()) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return (-1);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    mode)) < 0)
		goto fail;
	if (fchmod(fd, mode) < 0 || write_all(fd, ptr, len) < 0 ||
	    fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		fsync(dfd);
	r = 0;
fail:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (r < 0)
		unlink(tmp);

	return (r);
}

int
read_file_max(const char *path, size_t max, unsigned char **out,
    size_t *outlen)
{
	FILE		*f = NULL;
	unsigned char	*buf = NULL;
	size_t		 len = 0, n;
	int		 r = -1;

	*out = NULL;
	*outlen = 0;
	if ((f = fopen(path, "rb")) == NULL)
		return (-1);
	if ((buf = malloc(max + 1)) == NULL)
		goto fail;
	while ((n = fread(buf + len, 1, max + 1 - len, f)) > 0) {
		len += n;
		if (len > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	if (ferror(f))
		goto fail;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = 0;
fail:
	if (buf != NULL)
		freezero_buf(buf, max + 1);
	fclose(f);

	return (r);
}
