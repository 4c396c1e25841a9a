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

#define SEEN_FILE_MAX	(256 * 1024 * 1024)	/* read back at most this */

/* the credential ids a success file holds already: a set of strings */
struct seen {
	char	**v;
	size_t	  cap;		/* a power of two, or 0 */
	size_t	  n;
};

struct report {
	int			 fd;
	enum report_kind	 kind;
	char			*path;
	int			 err;	/* errno of the first failed write */
	bool			 sync_close;	/* fsync once, at close */
	struct seen		 seen;
	pthread_mutex_t		 lock;
};

static const char hdr_success[] = "time,user,user_id,method_id,"
    "credential_id,aaguid,model,display_name,device,attestation_level,"
    "passkey_type,warning\n";
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
		/* C1 controls (U+0080..U+009F) too: CSI is one of them */
		if (n == 0 || (n == 1 && ((p[i] < 0x20 && p[i] != '\t' &&
		    p[i] != '\r' && p[i] != '\n') || p[i] == 0x7f)) ||
		    (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			buf_append(b, "?", 1);
			i += n == 2 ? 2 : 1;
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

/* every cell: an id or a code may start with '-' as well as a name */
static void
put_cell(struct buf *b, const char *s, char delim)
{
	struct buf	 t;
	const char	*p;

	buf_init(&t, ROW_MAX);
	if (s == NULL)
		s = "";
	if (csv_formula_lead(s))
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
report_csv_cell(const char *s, char delim)
{
	struct buf	 b;
	size_t		 len;

	buf_init(&b, ROW_MAX);
	put_cell(&b, s, delim);

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

/* FNV-1a: the set only has to spread base64url ids */
static size_t
seen_hash(const char *s, size_t len)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}

	return ((size_t)h);
}

static bool
seen_has(const struct seen *set, const char *s)
{
	size_t	len = strlen(s), i;

	if (set->cap == 0)
		return (false);
	for (i = seen_hash(s, len) & (set->cap - 1); set->v[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		if (strcmp(set->v[i], s) == 0)
			return (true);

	return (false);
}

static void
seen_put(struct seen *set, char *s)
{
	size_t i;

	for (i = seen_hash(s, strlen(s)) & (set->cap - 1); set->v[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		;
	set->v[i] = s;
	set->n++;
}

static int
seen_add(struct seen *set, const char *s, size_t len)
{
	struct seen	 bigger;
	char		*c;
	size_t		 i;

	if ((c = strndup(s, len)) == NULL)
		return (-1);
	if (seen_has(set, c)) {
		free(c);
		return (0);
	}
	/* at most half full */
	if ((set->n + 1) * 2 > set->cap) {
		memset(&bigger, 0, sizeof(bigger));
		bigger.cap = set->cap ? set->cap * 2 : 64;
		if ((bigger.v = calloc(bigger.cap, sizeof(char *))) == NULL) {
			free(c);
			return (-1);
		}
		for (i = 0; i < set->cap; i++)
			if (set->v[i] != NULL)
				seen_put(&bigger, set->v[i]);
		free(set->v);
		*set = bigger;
	}
	seen_put(set, c);

	return (0);
}

/*
 * One RFC 4180 field of p[0..len) from *off: unquoted into out, *off
 * past its delimiter; *eol set if it ended the record.
 */
static void
read_field(const char *p, size_t len, size_t *off, struct buf *out,
    bool *eol)
{
	size_t	i = *off;
	bool	quoted = false;

	buf_clear(out);
	*eol = false;
	if (i < len && p[i] == '"') {
		quoted = true;
		i++;
	}
	for (; i < len; i++) {
		if (quoted) {
			if (p[i] != '"') {
				buf_append(out, p + i, 1);
				continue;
			}
			if (i + 1 < len && p[i + 1] == '"') {
				buf_append(out, "\"", 1);
				i++;
				continue;
			}
			quoted = false;
			continue;
		}
		if (p[i] == ',')
			break;
		if (p[i] == '\n' || p[i] == '\r') {
			if (p[i] == '\r' && i + 1 < len && p[i + 1] == '\n')
				i++;
			*eol = true;
			break;
		}
		buf_append(out, p + i, 1);
	}
	if (i >= len)
		*eol = true;
	*off = i + 1;
}

/* the credential ids of our CSV report: by the header's column */
static int
seen_csv(struct seen *set, const char *p, size_t len)
{
	struct buf	 f;
	const char	*id;
	size_t		 off = 0, col, idx = SIZE_MAX;
	bool		 eol = false;
	int		 rc = 0;

	buf_init(&f, ROW_MAX);
	for (col = 0; off < len && !eol; col++) {
		read_field(p, len, &off, &f, &eol);
		if (f.len > 0 && strcmp(buf_str(&f), "credential_id") == 0)
			idx = col;
	}
	if (idx == SIZE_MAX)
		goto out;
	while (off < len) {
		eol = false;
		for (col = 0; off < len && !eol; col++) {
			read_field(p, len, &off, &f, &eol);
			if (col != idx || f.len == 0)
				continue;
			id = csv_unescape(buf_str(&f));
			if (seen_add(set, id, strlen(id)) < 0) {
				rc = -1;
				goto out;
			}
		}
	}
out:
	if (f.err != 0 && rc == 0)
		rc = -1;
	buf_reset(&f);
	if (rc < 0)
		errno = ENOMEM;

	return (rc);
}

static int
seen_jsonl(struct seen *set, const char *p, size_t len)
{
	json_error_t	 je;
	json_t		*o;
	const char	*nl, *id;
	size_t		 n;
	int		 rc = 0;

	while (len > 0 && rc == 0) {
		n = (nl = memchr(p, '\n', len)) != NULL ? (size_t)(nl - p) :
		    len;
		if ((o = json_loadb(p, n, 0, &je)) != NULL &&
		    (id = json_string_value(json_object_get(o,
		    "credential_id"))) != NULL && *id != '\0' &&
		    seen_add(set, id, strlen(id)) < 0) {
			errno = ENOMEM;
			rc = -1;
		}
		json_decref(o);
		n = n < len ? n + 1 : n;
		p += n;
		len -= n;
	}

	return (rc);
}

/*
 * Under the file lock: which enrollments the file lists already, so
 * that a run adds only its new rows and never drops an earlier one.
 */
static int
seen_load(report_t *r)
{
	struct stat	 st;
	char		*p = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	int		 rc = 0;

	if (fstat(r->fd, &st) < 0)
		return (-1);
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return (0);
	if ((uintmax_t)st.st_size > SEEN_FILE_MAX) {
		log_warn("%s: larger than %d MiB; not checked for rows it "
		    "holds already", r->path, SEEN_FILE_MAX >> 20);
		return (0);
	}
	if ((p = malloc((size_t)st.st_size)) == NULL)
		return (-1);
	while (len < (size_t)st.st_size) {
		if ((n = pread(r->fd, p + len, (size_t)st.st_size - len,
		    (off_t)len)) < 0) {
			if (errno == EINTR)
				continue;
			/* write-only: rows go in, unchecked */
			rc = errno == EBADF ? 0 : -1;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = r->kind == REPORT_SUCCESS_CSV ? seen_csv(&r->seen, p, len) :
	    seen_jsonl(&r->seen, p, len);
out:
	free(p);

	return (rc);
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
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0 ||
	    st.st_nlink != 1) {
		errf(err, errlen, "%s exists and is %s; PINs go only to a "
		    "file no one else can read (chmod 600 it, or name a new "
		    "file)", path, !S_ISREG(st.st_mode) ? "not a regular file" :
		    st.st_uid != geteuid() ? "owned by someone else" :
		    st.st_nlink != 1 ? "a hard link to another name" :
		    "readable or writable by others");
		close(fd);
		return (REPORT_ERR_PERM);
	}
	*fdp = fd;

	return (REPORT_OK);
}

int
report_check(const char *path, char *err, size_t errlen)
{
	if (path == NULL || *path == '\0')
		return (REPORT_ERR_ARG);
	if (file_check_append(path, err, errlen) < 0)
		return (errno == EPERM ? REPORT_ERR_PERM : REPORT_ERR_IO);

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
	} else if ((fd = file_open_append(path, 0644, &created, err,
	    errlen)) < 0)
		return (errno == EPERM ? REPORT_ERR_PERM : REPORT_ERR_IO);
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
	if (rc == 0 && (kind == REPORT_SUCCESS_CSV ||
	    kind == REPORT_SUCCESS_JSONL))
		rc = seen_load(r);
	flock(r->fd, LOCK_UN);
	if (rc < 0) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		rc = errno == ENOMEM ? REPORT_ERR_INTERNAL : REPORT_ERR_IO;
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
	report_t	*r;
	size_t		 i;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (i = 0; i < r->seen.cap; i++)
		free(r->seen.v[i]);
	free(r->seen.v);
	pthread_mutex_destroy(&r->lock);
	free(r->path);
	free(r);
	*rp = NULL;
}

int
report_close(report_t **rp, char *err, size_t errlen)
{
	report_t	*r;
	int		 rc = REPORT_OK, e;

	errf(err, errlen, "%s", "");
	if (rp == NULL || (r = *rp) == NULL)
		return (REPORT_OK);
	e = r->err;
	if (r->sync_close && r->fd >= 0 && e == 0 && sync_fd(r->fd) < 0)
		e = errno;
	/* close(2) is where NFS and quotas report a lost write */
	if (r->fd >= 0 && close(r->fd) < 0 && e == 0)
		e = errno;
	r->fd = -1;
	if (e != 0) {
		errf(err, errlen, "%s: %s", r->path, strerror(e));
		rc = REPORT_ERR_IO;
	}
	report_free(rp);

	return (rc);
}

const char *
report_path(const report_t *r)
{
	return (r != NULL ? r->path : NULL);
}

void
report_sync_at_close(report_t *r)
{
	if (r != NULL)
		r->sync_close = true;
}

/* one row: one write under both locks, then fsync (or at close); wiped */
static int
emit(report_t *r, struct buf *b)
{
	int rc = REPORT_OK;

	if (b->err != 0 || b->len == 0) {
		buf_reset(b);
		return (REPORT_ERR_INTERNAL);
	}
	pthread_mutex_lock(&r->lock);
	if (flock(r->fd, LOCK_EX) < 0 && errno != EINVAL) {
		if (r->err == 0)
			r->err = errno;
		rc = REPORT_ERR_IO;
	} else {
		if (write_all(r->fd, b->ptr, b->len) < 0 ||
		    (!r->sync_close && sync_fd(r->fd) < 0)) {
			if (r->err == 0)
				r->err = errno;
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
	bool		 dup;
	int		 rc;

	if (r == NULL || s == NULL || (r->kind != REPORT_SUCCESS_CSV &&
	    r->kind != REPORT_SUCCESS_JSONL))
		return (REPORT_ERR_ARG);
	/* an enrollment the file lists already is not listed twice */
	if (s->credential_id != NULL && *s->credential_id != '\0') {
		pthread_mutex_lock(&r->lock);
		dup = seen_has(&r->seen, s->credential_id);
		pthread_mutex_unlock(&r->lock);
		if (dup)
			return (REPORT_OK);
	}
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
		    json_set(o, "passkey_type", s->passkey_type) < 0 ||
		    json_set(o, "warning", s->warning) < 0 ||
		    (js = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
		    NULL) {
			rc = REPORT_ERR_INTERNAL;
			goto fail;
		}
		buf_puts(&b, js);
		buf_append(&b, "\n", 1);
	} else {
		put_cell(&b, t, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->user, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->user_id, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->method_id, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->credential_id, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->aaguid, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->model, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->display_name, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->device, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->attestation, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->passkey_type, ',');
		buf_append(&b, ",", 1);
		put_cell(&b, s->warning, ',');
		buf_append(&b, "\n", 1);
	}
	if ((rc = emit(r, &b)) == REPORT_OK && s->credential_id != NULL &&
	    *s->credential_id != '\0') {
		pthread_mutex_lock(&r->lock);
		if (seen_add(&r->seen, s->credential_id,
		    strlen(s->credential_id)) < 0)
			rc = REPORT_ERR_INTERNAL;
		pthread_mutex_unlock(&r->lock);
	}
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
	put_cell(&b, t, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, f->user, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, f->stage, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, f->error_code, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, f->message, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, f->request_id, ',');
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
	int		 q;

	if (r == NULL || r->kind != REPORT_PINS || pin == NULL ||
	    !pin_ok(pin))
		return (REPORT_ERR_ARG);
	buf_init(&b, ROW_MAX);
	now_iso(t, sizeof(t));
	put_cell(&b, t, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, user, ',');
	buf_append(&b, ",", 1);
	put_cell(&b, device, ',');
	buf_append(&b, ",", 1);
	/* not put_cell(): its temporary copy would be one more to wipe */
	q = needs_quotes(pin, ',');
	if (q)
		buf_append(&b, "\"", 1);
	if (csv_formula_lead(pin))
		buf_append(&b, "'", 1);
	for (p = pin; *p != '\0'; p++) {
		if (q && *p == '"')
			buf_append(&b, "\"", 1);
		buf_append(&b, p, 1);
	}
	if (q)
		buf_append(&b, "\"", 1);
	buf_append(&b, "\n", 1);

	return (emit(r, &b));
}
