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

int
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

static int
fsync_dir(const char *path)
{
	char	*copy;
	int	 fd, r = 0;

	if ((copy = strdup(path)) == NULL)
		return (-1);
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0)
		r = -1;
	else {
		if (fsync(fd) < 0 && errno != EINVAL)
			r = -1;
		close(fd);
	}
	free(copy);

	return (r);
}

/*
 * Readers see either the old or the new content, also across a crash:
 * a temporary file in the same directory, fsync, rename (or link, for
 * `excl`, which never replaces a file: 1 if path exists), fsync the
 * directory.
 */
static int
atomic_write(const char *path, const void *ptr, size_t len, mode_t mode,
    bool excl)
{
	char	tmp[PATH_MAX];
	int	fd = -1, r = -1, made = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >=
	    (int)sizeof(tmp))
		return (-1);
	if ((fd = mkstemp(tmp)) < 0)
		return (-1);
	made = 1;
	if (fchmod(fd, mode) < 0 || write_all(fd, ptr, len) < 0 ||
	    fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (excl) {
		if (link(tmp, path) < 0) {
			if (errno == EEXIST)
				r = 1;
			goto fail;
		}
		(void)unlink(tmp);
	} else if (rename(tmp, path) < 0)
		goto fail;
	made = 0;
	r = fsync_dir(path);
fail:
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlink(tmp);

	return (r);
}

int
write_file_atomic(const char *path, const void *ptr, size_t len, mode_t mode)
{
	return (atomic_write(path, ptr, len, mode, false));
}

int
write_file_new(const char *path, const void *ptr, size_t len, mode_t mode)
{
	return (atomic_write(path, ptr, len, mode, true));
}

int
mkdir_p(const char *path, mode_t mode)
{
	char	buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return (-1);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return (-1);

	return (0);
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
