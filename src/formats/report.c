/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Report, failures and PIN files (see report.h for the formats and the
 * durability and injection rules).
 */

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "report.h"

#define ROW_MAX		(1024 * 1024)	/* no row is anywhere near this */

struct report {
	int			 fd;
	enum report_kind	 kind;
	char			*path;
	pthread_mutex_t		 lock;
};

static const char hdr_success[] = "time,user,user_id,method_id,"
    "credential_id,aaguid,model,display_name,device,attestation_level\n";
static const char hdr_failures[] = "time,user,stage,error_code,message,"
    "request_id\n";
static const char hdr_pins[] = "time,user,device,pin\n";

const char *
report_strerr(int r)
{
	switch (r) {
	case REPORT_OK:
		return ("success");
	case REPORT_ERR_INTERNAL:
		return ("out of memory");
	case REPORT_ERR_ARG:
		return ("invalid argument");
	case REPORT_ERR_IO:
		return ("cannot write the file");
	case REPORT_ERR_PERM:
		return ("unsafe file permissions");
	case REPORT_ERR_FORMAT:
		return ("not a file of the expected format");
	default:
		return ("unknown report error");
	}
}

/* valid UTF-8 without control characters but TAB, CR and LF */
static void
sanitise(struct buf *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i = 0, n;

	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (n == 0 || (n == 1 && ((p[i] < 0x20 && p[i] != '\t' &&
		    p[i] != '\r' && p[i] != '\n') || p[i] == 0x7f))) {
			buf_append(b, "?", 1);
			i++;
			continue;
		}
		buf_append(b, s + i, n);
		i += n;
	}
}

static int
needs_quotes(const char *s, char delim)
{
	size_t len = strlen(s);

	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		return (1);
	for (; *s != '\0'; s++)
		if (*s == delim || *s == '"' || *s == '\r' || *s == '\n')
			return (1);

	return (0);
}

static void
put_cell(struct buf *b, const char *s, char delim, bool freetext)
{
	struct buf	 t;
	const char	*p;

	buf_init(&t, ROW_MAX);
	if (s == NULL)
		s = "";
	if (freetext && strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0')
		buf_append(&t, "'", 1);
	sanitise(&t, s);
	if (t.err != 0) {
		if (b->err == 0)
			b->err = t.err;
		goto out;
	}
	if (t.len == 0)
		goto out;
	if (!needs_quotes(buf_str(&t), delim)) {
		buf_append(b, t.ptr, t.len);
		goto out;
	}
	buf_append(b, "\"", 1);
	for (p = buf_str(&t); *p != '\0'; p++) {
		if (*p == '"')
			buf_append(b, "\"", 1);
		buf_append(b, p, 1);
	}
	buf_append(b, "\"", 1);
out:
	buf_reset(&t);
}

char *
report_csv_cell(const char *s, char delim, bool freetext)
{
	struct buf	 b;
	size_t		 len;

	buf_init(&b, ROW_MAX);
	put_cell(&b, s, delim, freetext);

	return ((char *)buf_release(&b, &len));
}

static void
now_iso(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* fsync, but a pipe or terminal (--report /dev/stdout) cannot sync */
static int
sync_fd(int fd)
{
	if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP &&
	    errno != EROFS)
		return (-1);

	return (0);
}

static void
sync_dir(const char *path)
{
	char	dir[PATH_MAX];
	int	dfd;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return;
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
}

static const char *
header_for(enum report_kind kind)
{
	switch (kind) {
	case REPORT_SUCCESS_CSV:
		return (hdr_success);
	case REPORT_FAILURES:
		return (hdr_failures);
	case REPORT_PINS:
		return (hdr_pins);
	default:
		return (NULL);
	}
}

/*
 * Under the file lock: a header if the file is empty; a line break if
 * an earlier writer died mid-row, so our rows start on a line of their
 * own; a warning if an older file has other columns.
 */
static int
prepare_file(report_t *r)
{
	struct stat	 st;
	const char	*hdr = header_for(r->kind);
	char		 first[256], last;
	ssize_t		 n;

	if (fstat(r->fd, &st) < 0)
		return (-1);
	if (!S_ISREG(st.st_mode))
		return (0);
	if (st.st_size == 0) {
		if (hdr != NULL && (write_all(r->fd, hdr, strlen(hdr)) < 0 ||
		    sync_fd(r->fd) < 0))
			return (-1);
		return (0);
	}
	if (pread(r->fd, &last, 1, st.st_size - 1) == 1 && last != '\n' &&
	    (write_all(r->fd, "\n", 1) < 0 || sync_fd(r->fd) < 0))
		return (-1);
	if (hdr != NULL && (n = pread(r->fd, first, sizeof(first) - 1,
	    0)) > 0) {
		first[n] = '\0';
		if (strncmp(first, hdr, strlen(hdr)) != 0)
			log_warn("%s: its first line is not this version's "
			    "header; appending rows with the columns %.*s",
			    r->path, (int)strlen(hdr) - 1, hdr);
	}

	return (0);
}

static int
open_pins(const char *path, int *fdp, int *created, char *err,
    size_t errlen)
{
	struct stat	st;
	int		fd;

	*created = 0;
	if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) >= 0) {
		*created = 1;
		if (fchmod(fd, 0600) < 0) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return (REPORT_ERR_IO);
		}
		*fdp = fd;
		return (REPORT_OK);
	}
	if (errno != EEXIST) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (REPORT_ERR_IO);
	}
	if ((fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC |
	    O_NOFOLLOW)) < 0) {
		if (errno == ELOOP || errno == EISDIR) {
			errf(err, errlen, "%s is %s; PINs go only to a "
			    "regular file", path, errno == ELOOP ?
			    "a symbolic link" : "a directory");
			return (REPORT_ERR_PERM);
		}
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (REPORT_ERR_IO);
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		errf(err, errlen, "%s exists and is %s; PINs go only to a "
		    "file no one else can read (chmod 600 it, or name a new "
		    "file)", path, !S_ISREG(st.st_mode) ? "not a regular file" :
		    st.st_uid != geteuid() ? "owned by someone else" :
		    "readable or writable by others");
		close(fd);
		return (REPORT_ERR_PERM);
	}
	*fdp = fd;

	return (REPORT_OK);
}

int
report_open(const char *path, enum report_kind kind, report_t **rp,
    char *err, size_t errlen)
{
	report_t	*r = NULL;
	int		 fd = -1, created = 0, rc;

	errf(err, errlen, "%s", "");
	if (path == NULL || *path == '\0' || rp == NULL ||
	    (int)kind < REPORT_SUCCESS_CSV || kind > REPORT_PINS)
		return (REPORT_ERR_ARG);
	*rp = NULL;
	if (kind == REPORT_PINS) {
		if ((rc = open_pins(path, &fd, &created, err,
		    errlen)) != REPORT_OK)
			return (rc);
	} else {
		if ((fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0644)) >= 0)
			created = 1;
		else if (errno == EEXIST &&
		    (fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0 &&
		    errno == EACCES)
			/* write-only: no header check, rows still go in */
			fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0) {
			errf(err, errlen, "%s: %s", path, strerror(errno));
			return (REPORT_ERR_IO);
		}
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->path = strdup(path)) == NULL) {
		rc = REPORT_ERR_INTERNAL;
		goto fail;
	}
	r->fd = fd;
	r->kind = kind;
	fd = -1;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r->path);
		free(r);
		r = NULL;
		rc = REPORT_ERR_INTERNAL;
		goto fail;
	}
	if (flock(r->fd, LOCK_EX) < 0 && errno != EINVAL) {
		errf(err, errlen, "%s: lock: %s", path, strerror(errno));
		rc = REPORT_ERR_IO;
		goto fail;
	}
	rc = prepare_file(r);
	flock(r->fd, LOCK_UN);
	if (rc < 0) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		rc = REPORT_ERR_IO;
		goto fail;
	}
	if (created)
		sync_dir(path);
	*rp = r;
	r = NULL;
	rc = REPORT_OK;
fail:
	if (fd >= 0)
		close(fd);
	report_free(&r);

	return (rc);
}

void
report_free(report_t **rp)
{
	report_t *r;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	pthread_mutex_destroy(&r->lock);
	free(r->path);
	free(r);
	*rp = NULL;
}

const char *
report_path(const report_t *r)
{
	return (r != NULL ? r->path : NULL);
}

/* one row: one write under both locks, then fsync; the buffer is wiped */
static int
emit(report_t *r, struct buf *b)
{
	int rc = REPORT_OK;

	if (b->err != 0 || b->len == 0) {
		buf_reset(b);
		return (REPORT_ERR_INTERNAL);
	}
	pthread_mutex_lock(&r->lock);
	if (flock(r->fd, LOCK_EX) < 0 && errno != EINVAL)
		rc = REPORT_ERR_IO;
	else {
		if (write_all(r->fd, b->ptr, b->len) < 0 ||
		    sync_fd(r->fd) < 0) {
			log_warn("%s: %s", r->path, strerror(errno));
			rc = REPORT_ERR_IO;
		}
		flock(r->fd, LOCK_UN);
	}
	pthread_mutex_unlock(&r->lock);
	buf_reset(b);

	return (rc);
}

static int
json_set(json_t *o, const char *k, const char *v)
{
	struct buf	 b;
	json_t		*s;
	int		 rc;

	if (v == NULL)
		return (json_object_set_new(o, k, json_null()));
	buf_init(&b, ROW_MAX);
	sanitise(&b, v);
	if (b.err) {
		buf_reset(&b);
		return (-1);
	}
	s = json_stringn(buf_str(&b), b.len);
	buf_reset(&b);
	if (s == NULL)
		return (-1);
	rc = json_object_set_new(o, k, s);

	return (rc);
}

int
report_success(report_t *r, const struct report_success *s)
{
	struct buf	 b;
	char		 t[32];
	json_t		*o = NULL;
	char		*js = NULL;
	int		 rc;

	if (r == NULL || s == NULL || (r->kind != REPORT_SUCCESS_CSV &&
	    r->kind != REPORT_SUCCESS_JSONL))
		return (REPORT_ERR_ARG);
	buf_init(&b, ROW_MAX);
	now_iso(t, sizeof(t));
	if (r->kind == REPORT_SUCCESS_JSONL) {
		if ((o = json_object()) == NULL ||
		    json_set(o, "time", t) < 0 ||
		    json_set(o, "user", s->user) < 0 ||
		    json_set(o, "user_id", s->user_id) < 0 ||
		    json_set(o, "method_id", s->method_id) < 0 ||
		    json_set(o, "credential_id", s->credential_id) < 0 ||
		    json_set(o, "aaguid", s->aaguid) < 0 ||
		    json_set(o, "model", s->model) < 0 ||
		    json_set(o, "display_name", s->display_name) < 0 ||
		    json_set(o, "device", s->device) < 0 ||
		    json_set(o, "attestation_level", s->attestation) < 0 ||
		    (js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
		    NULL) {
			rc = REPORT_ERR_INTERNAL;
			goto fail;
		}
		buf_puts(&b, js);
		buf_append(&b, "\n", 1);
	} else {
		put_cell(&b, t, ',', false);
		buf_append(&b, ",", 1);
		put_cell(&b, s->user, ',', true);
		buf_append(&b, ",", 1);
		put_cell(&b, s->user_id, ',', false);
		buf_append(&b, ",", 1);
		put_cell(&b, s->method_id, ',', false);
		buf_append(&b, ",", 1);
		put_cell(&b, s->credential_id, ',', false);
		buf_append(&b, ",", 1);
		put_cell(&b, s->aaguid, ',', false);
		buf_append(&b, ",", 1);
		put_cell(&b, s->model, ',', true);
		buf_append(&b, ",", 1);
		put_cell(&b, s->display_name, ',', true);
		buf_append(&b, ",", 1);
		put_cell(&b, s->device, ',', true);
		buf_append(&b, ",", 1);
		put_cell(&b, s->attestation, ',', true);
		buf_append(&b, "\n", 1);
	}
	rc = emit(r, &b);
fail:
	buf_reset(&b);
	json_decref(o);
	free(js);

	return (rc);
}

int
report_failure(report_t *r, const struct report_failure *f)
{
	struct buf	b;
	char		t[32];

	if (r == NULL || f == NULL || r->kind != REPORT_FAILURES)
		return (REPORT_ERR_ARG);
	buf_init(&b, ROW_MAX);
	now_iso(t, sizeof(t));
	put_cell(&b, t, ',', false);
	buf_append(&b, ",", 1);
	put_cell(&b, f->user, ',', true);
	buf_append(&b, ",", 1);
	put_cell(&b, f->stage, ',', true);
	buf_append(&b, ",", 1);
	put_cell(&b, f->error_code, ',', false);
	buf_append(&b, ",", 1);
	put_cell(&b, f->message, ',', true);
	buf_append(&b, ",", 1);
	put_cell(&b, f->request_id, ',', false);
	buf_append(&b, "\n", 1);

	return (emit(r, &b));
}

/* the PIN is written exactly as given or not at all */
static int
pin_ok(const char *pin)
{
	const unsigned char	*p = (const unsigned char *)pin;
	size_t			 len = strlen(pin), i = 0, n;

	if (len == 0)
		return (0);
	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0 ||
		    (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)))
			return (0);
		i += n;
	}

	return (1);
}

int
report_pin(report_t *r, const char *user, const char *device,
    const char *pin)
{
	struct buf	 b;
	char		 t[32];
	const char	*p;

	if (r == NULL || r->kind != REPORT_PINS || pin == NULL ||
	    !pin_ok(pin))
		return (REPORT_ERR_ARG);
	buf_init(&b, ROW_MAX);
	now_iso(t, sizeof(t));
	put_cell(&b, t, ',', false);
	buf_append(&b, ",", 1);
	put_cell(&b, user, ',', true);
	buf_append(&b, ",", 1);
	put_cell(&b, device, ',', true);
	buf_append(&b, ",", 1);
	/* not put_cell(): its temporary copy would be one more to wipe */
	if (needs_quotes(pin, ',')) {
		buf_append(&b, "\"", 1);
		for (p = pin; *p != '\0'; p++) {
			if (*p == '"')
				buf_append(&b, "\"", 1);
			buf_append(&b, p, 1);
		}
		buf_append(&b, "\"", 1);
	} else
		buf_puts(&b, pin);
	buf_append(&b, "\n", 1);

	return (emit(r, &b));
}
