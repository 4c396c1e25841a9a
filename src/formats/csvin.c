/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Input CSV parser (see csvin.h for the accepted format).  A regular
 * UTF-8 file is read through a window of a few records, once to count
 * and classify its rows and again as they are taken; anything else is
 * read whole (bounded), converted to UTF-8, and parsed once into rows.
 * Text read is wiped because a careless export may hold columns we
 * refuse to read (PINs).
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "csvin.h"
#include "csvin_int.h"

const char *
csvin_strerr(int r)
{
	switch (r) {
	case CSVIN_OK:
		return ("success");
	case CSVIN_END:
		return ("no more rows");
	case CSVIN_ERR_INTERNAL:
		return ("out of memory");
	case CSVIN_ERR_ARG:
		return ("invalid argument");
	case CSVIN_ERR_IO:
		return ("cannot read the CSV file");
	case CSVIN_ERR_TOOBIG:
		return ("CSV file too large");
	case CSVIN_ERR_ENCODING:
		return ("unsupported CSV text encoding");
	case CSVIN_ERR_HEADER:
		return ("CSV header names no user column");
	case CSVIN_ERR_CHANGED:
		return ("the CSV file changed while it was being read; run "
		    "again");
	default:
		return ("unknown csvin error");
	}
}

int
csvin_user_kind(const char *s, size_t len)
{
	static const char	 deny[] = " \"%&()*,/:;<=>?[\\]`{|}$";
	size_t			 i, at = 0, nat = 0;
	unsigned char		 c;

	if (s == NULL || len == 0)
		return (CSVIN_USER_NONE);
	if (guid_valid(s, len))
		return (CSVIN_USER_OBJECTID);
	if (len > CSVIN_UPN_MAX || !utf8_valid(s, len) || s[0] == '-')
		return (CSVIN_USER_NONE);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || strchr(deny, c) != NULL)
			return (CSVIN_USER_NONE);
		if (c == '@') {
			at = i;
			nat++;
		}
	}
	if (nat != 1 || at == 0 || at == len - 1)
		return (CSVIN_USER_NONE);

	return (CSVIN_USER_UPN);
}


/* UTF-16 to UTF-8 by hand; broken input becomes 0xff, which fails the
 * UTF-8 check of the row it lands in */
static int
utf16_to_utf8(const unsigned char *in, size_t len, int be, char **out,
    size_t *outlen)
{
	unsigned char	*o;
	size_t		 i = 0, n = 0;
	uint32_t	 u, lo;

	if ((o = malloc(len / 2 * 3 + 8)) == NULL)
		return (-1);
	while (i + 1 < len) {
		u = be ? (uint32_t)(in[i] << 8 | in[i + 1]) :
		    (uint32_t)(in[i + 1] << 8 | in[i]);
		i += 2;
		if (u >= 0xd800 && u <= 0xdbff && i + 1 < len) {
			lo = be ? (uint32_t)(in[i] << 8 | in[i + 1]) :
			    (uint32_t)(in[i + 1] << 8 | in[i]);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				i += 2;
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
		}
		if (u >= 0xd800 && u <= 0xdfff)
			o[n++] = 0xff;
		else if (u < 0x80)
			o[n++] = (unsigned char)u;
		else if (u < 0x800) {
			o[n++] = (unsigned char)(0xc0 | u >> 6);
			o[n++] = (unsigned char)(0x80 | (u & 0x3f));
		} else if (u < 0x10000) {
			o[n++] = (unsigned char)(0xe0 | u >> 12);
			o[n++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			o[n++] = (unsigned char)(0x80 | (u & 0x3f));
		} else {
			o[n++] = (unsigned char)(0xf0 | u >> 18);
			o[n++] = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
			o[n++] = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
			o[n++] = (unsigned char)(0x80 | (u & 0x3f));
		}
	}
	if (i < len)
		o[n++] = 0xff;		/* odd byte count */
	*out = (char *)o;
	*outlen = n;

	return (0);
}

static int
decode(const unsigned char *buf, size_t len, csvin_t *c, char **text,
    size_t *tlen, char *err, size_t errlen)
{
	const void	*nul, *eol;
	size_t		 hl;

	*text = NULL;
	if ((len >= 4 && memcmp(buf, "\xff\xfe\0\0", 4) == 0) ||
	    (len >= 4 && memcmp(buf, "\0\0\xfe\xff", 4) == 0)) {
		errf(err, errlen, "UTF-32 is not supported; save the file "
		    "as UTF-8 or UTF-16");
		return (CSVIN_ERR_ENCODING);
	}
	if (len >= 2 && (memcmp(buf, "\xff\xfe", 2) == 0 ||
	    memcmp(buf, "\xfe\xff", 2) == 0)) {
		c->encoding = buf[0] == 0xfe ? "UTF-16BE" : "UTF-16LE";
		if (utf16_to_utf8(buf + 2, len - 2, buf[0] == 0xfe, text,
		    tlen) < 0)
			return (CSVIN_ERR_INTERNAL);
		return (CSVIN_OK);
	}
	c->encoding = "UTF-8";
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		c->encoding = "UTF-8 (BOM)";
		buf += 3;
		len -= 3;
	}
	/* NULs in the first line: UTF-16 without a byte-order mark */
	hl = (eol = memchr(buf, '\n', len)) != NULL ?
	    (size_t)((const unsigned char *)eol - buf) : len;
	if ((nul = memchr(buf, '\0', hl)) != NULL) {
		errf(err, errlen, "the file looks like UTF-16 without a "
		    "byte-order mark; save it as UTF-8 or as UTF-16 with BOM");
		return (CSVIN_ERR_ENCODING);
	}
	if ((*text = malloc(len + 1)) == NULL)
		return (CSVIN_ERR_INTERNAL);
	memcpy(*text, buf, len);
	*tlen = len;

	return (CSVIN_OK);
}

/*
 * The window: refilled from the file so that a record (at most
 * max_record bytes, plus the parser's look-ahead) never runs past its
 * end before the file's.  The bytes left behind are wiped.
 */
#define LOOKAHEAD	8

static int
same_file(const struct stat *a, const struct stat *b)
{
	return (a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
	    a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec);
}

static int
refill(csvin_t *c)
{
	struct stat	st;
	ssize_t		n;

	if (c->fd < 0 || c->eof || c->wlen - c->wpos >= c->lim.max_record +
	    LOOKAHEAD)
		return (0);
	memmove(c->win, c->win + c->wpos, c->wlen - c->wpos);
	c->wlen -= c->wpos;
	c->wpos = 0;
	/* the copy left above the moved text; past wmax was never written */
	explicit_bzero(c->win + c->wlen, c->wmax - c->wlen);
	while (c->wlen < c->wcap) {
		n = pread(c->fd, c->win + c->wlen, c->wcap - c->wlen,
		    c->rdoff);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return (-1);
		if (n == 0) {
			c->eof = 1;
			break;
		}
		c->wlen += (size_t)n;
		c->rdoff += n;
	}
	if (c->wlen > c->wmax)
		c->wmax = c->wlen;
	/* a file that grew, shrank or was written since open is another */
	if (c->rdoff > c->st.st_size || (c->eof && c->rdoff != c->st.st_size) ||
	    fstat(c->fd, &st) < 0 || !same_file(&st, &c->st))
		c->changed = 1;

	return (0);
}

/*
 * A record over the limit or badly quoted is skipped to the end of its
 * line, which may lie past the window: read on until it.
 */
static int
skip_line(csvin_t *c, size_t *nl)
{
	size_t i;

	while (c->wpos == c->wlen && c->wlen > 0 && !c->eof &&
	    !csvin_is_eol(c->win[c->wlen - 1])) {
		if (refill(c) < 0)
			return (-1);
		for (i = c->wpos; i < c->wlen && !csvin_is_eol(c->win[i]); i++)
			;
		c->wpos = i;
		if (i == c->wlen)
			continue;
		c->wpos = i + 1;
		if (c->win[i] == '\r' && c->wpos < c->wlen &&
		    c->win[c->wpos] == '\n')
			c->wpos++;
		*nl = 1;
		break;
	}

	return (0);
}

/*
 * The next record that is not blank, and the line it starts on; *end
 * at the end of the text.  CSVIN_OK, or _ERR_IO / _ERR_INTERNAL.
 */
static int
next_record(csvin_t *c, struct rec *r, size_t *line, int *end)
{
	size_t	nl;

	*end = 0;
	for (;;) {
		if (refill(c) < 0)
			return (CSVIN_ERR_IO);
		/* CRLF split by the window's end: one line break */
		if (c->skip_lf && c->wpos < c->wlen) {
			if (c->win[c->wpos] == '\n')
				c->wpos++;
			c->skip_lf = 0;
			continue;
		}
		if (c->wpos >= c->wlen) {
			*end = 1;
			return (CSVIN_OK);
		}
		*line = c->line;
		if (csvin_parse_record(c->win, c->wlen, &c->wpos, c->delim,
		    c->lim.max_record, r, &nl) < 0)
			return (CSVIN_ERR_INTERNAL);
		if ((r->toolong || r->badquote == 2) && skip_line(c, &nl) < 0)
			return (CSVIN_ERR_IO);
		if (c->wpos == c->wlen && !c->eof && c->wpos > 0 &&
		    c->win[c->wpos - 1] == '\r')
			c->skip_lf = 1;
		c->line += nl;
		if (r->allblank && !r->toolong && !r->badquote)
			continue;
		return (CSVIN_OK);
	}
}

static int
rec_init(csvin_t *c, struct rec *r)
{
	memset(r, 0, sizeof(*r));
	/*
	 * csvin_parse_record() stops a record at max_record bytes of input,
	 * which unquote to no more bytes, plus a NUL per field.
	 */
	buf_init(&r->b, c->lim.max_record < SIZE_MAX / 4 ?
	    2 * c->lim.max_record + 64 : SIZE_MAX);
	r->offcap = 16;
	if ((r->off = calloc(r->offcap, sizeof(*r->off))) == NULL)
		return (-1);

	return (0);
}

static void
rec_free(struct rec *r)
{
	buf_reset(&r->b);
	free(r->off);
	memset(r, 0, sizeof(*r));
}

/* a row in memory, or the streamed file's current one */
static int
keep_row(csvin_t *c, struct row *w)
{
	struct row **p;

	if (c->stream) {
		csvin_row_free(c->cur);
		c->cur = w;
		return (0);
	}
	if (c->nrows == c->cap) {
		if ((p = reallocarray(c->rows, c->cap ? c->cap * 2 : 64,
		    sizeof(*p))) == NULL)
			return (-1);
		c->rows = p;
		c->cap = c->cap ? c->cap * 2 : 64;
	}
	c->rows[c->nrows] = w;

	return (0);
}

/*
 * The first pass: the header, then every record classified and
 * counted (and kept, in memory); a streamed file's rows are read again
 * by csvin_next().
 */
static int
parse(csvin_t *c, char *err, size_t errlen)
{
	struct rec	 r;
	struct row	*w;
	size_t		 line;
	int		 rc, end, have_header = 0;

	if (rec_init(c, &r) < 0) {
		rc = CSVIN_ERR_INTERNAL;
		goto fail;
	}
	if ((rc = refill(c)) < 0) {
		rc = CSVIN_ERR_IO;
		goto fail;
	}
	/* Excel's "sep=;" line */
	if (c->wlen - c->wpos >= 5 && strncasecmp(c->win + c->wpos, "sep=",
	    4) == 0 && (c->wlen - c->wpos == 5 ||
	    csvin_is_eol(c->win[c->wpos + 5])) &&
	    !csvin_is_eol(c->win[c->wpos + 4]) && c->win[c->wpos + 4] != '"') {
		c->delim = c->win[c->wpos + 4];
		c->wpos = csvin_next_line(c->win, c->wlen, c->wpos);
		c->line = 2;
	} else if (!c->stream)
		c->delim = csvin_detect_delim(c->win + c->wpos,
		    c->wlen - c->wpos);
	for (;;) {
		if ((rc = next_record(c, &r, &line, &end)) != CSVIN_OK)
			goto fail;
		if (end)
			break;
		if (!have_header) {
			if ((rc = csvin_parse_header(c, &r, err, errlen)) !=
			    CSVIN_OK)
				goto fail;
			have_header = 1;
			c->body_off = c->rdoff - (off_t)(c->wlen - c->wpos);
			c->body_line = c->line;
			c->body_skip_lf = c->skip_lf;
			continue;
		}
		if (c->nrows >= c->lim.max_rows) {
			errf(err, errlen, "the CSV file has more than %zu "
			    "rows; split it", c->lim.max_rows);
			rc = CSVIN_ERR_TOOBIG;
			goto fail;
		}
		if ((w = csvin_build_row(c, &r, line)) == NULL ||
		    keep_row(c, w) < 0) {
			csvin_row_free(w);
			rc = CSVIN_ERR_INTERNAL;
			goto fail;
		}
		c->nstatus[w->status]++;
		c->nrows++;
	}
	if (!have_header) {
		errf(err, errlen, "the CSV file is empty; it needs a header "
		    "naming a user column %s", CSVIN_USER_COLUMNS);
		rc = CSVIN_ERR_HEADER;
		goto fail;
	}
	if (c->changed) {
		errf(err, errlen, "the file changed while it was being read; "
		    "run again");
		rc = CSVIN_ERR_CHANGED;
		goto fail;
	}
	rc = CSVIN_OK;
fail:
	rec_free(&r);

	return (rc);
}

static csvin_t *
csvin_new(const csvin_limits_t *lim)
{
	csvin_t *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->ucol = c->fcol = -1;
	c->fd = -1;
	c->line = 1;
	c->lim.max_file = CSVIN_MAX_FILE;
	c->lim.max_record = CSVIN_MAX_RECORD;
	c->lim.max_rows = CSVIN_MAX_ROWS;
	if (lim != NULL && lim->max_file != 0)
		c->lim.max_file = lim->max_file;
	if (lim != NULL && lim->max_record != 0)
		c->lim.max_record = lim->max_record;
	if (lim != NULL && lim->max_rows != 0)
		c->lim.max_rows = lim->max_rows;

	return (c);
}

int
csvin_open_mem(const void *buf, size_t len, const csvin_limits_t *lim,
    csvin_t **cp, char *err, size_t errlen)
{
	csvin_t	*c = NULL;
	char	*text = NULL;
	size_t	 tlen = 0;
	int	 r;

	errf(err, errlen, "%s", "");
	if (cp == NULL || (buf == NULL && len > 0))
		return (CSVIN_ERR_ARG);
	*cp = NULL;
	if ((c = csvin_new(lim)) == NULL)
		return (CSVIN_ERR_INTERNAL);
	if (len > c->lim.max_file) {
		errf(err, errlen, "the CSV file is larger than %zu bytes",
		    c->lim.max_file);
		r = CSVIN_ERR_TOOBIG;
		goto fail;
	}
	if ((r = decode(buf, len, c, &text, &tlen, err,
	    errlen)) != CSVIN_OK)
		goto fail;
	/* the whole text is the window, read to its end */
	c->win = text;
	c->wlen = c->wcap = tlen;
	c->eof = 1;
	r = parse(c, err, errlen);
	c->win = NULL;
	c->wlen = c->wcap = c->wpos = 0;
	if (r != CSVIN_OK)
		goto fail;
	*cp = c;
	c = NULL;
	r = CSVIN_OK;
fail:
	if (text != NULL)
		freezero_buf(text, tlen);
	csvin_free(&c);
	if (r != CSVIN_OK && err != NULL && errlen > 0 && err[0] == '\0')
		errf(err, errlen, "%s", csvin_strerr(r));

	return (r);
}

/*
 * Read at most `max` bytes of `path` (a pipe too) into a struct buf,
 * wiping the chunk too, as a careless export may hold PINs.
 */
static int
read_bounded(const char *path, size_t max, unsigned char **out,
    size_t *outlen)
{
	unsigned char	 chunk[16 * 1024];
	struct buf	 b;
	ssize_t		 n;
	int		 fd, r = CSVIN_ERR_IO, saved;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (CSVIN_ERR_IO);
	buf_init(&b, max);
	for (;;) {
		if ((n = read(fd, chunk, sizeof(chunk))) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n) < 0) {
			r = b.err == EFBIG ? CSVIN_ERR_TOOBIG :
			    CSVIN_ERR_INTERNAL;
			goto fail;
		}
	}
	if ((*out = buf_release(&b, outlen)) == NULL) {
		r = CSVIN_ERR_INTERNAL;
		goto fail;
	}
	r = CSVIN_OK;
fail:
	saved = errno;
	explicit_bzero(chunk, sizeof(chunk));
	buf_reset(&b);
	close(fd);
	errno = saved;

	return (r);
}

/*
 * The first line of a streamed file, read to its end as a file held in
 * memory is: does it hold a NUL (before the first LF), and which
 * delimiter does it use (to the first line break outside quotes)?
 * 0, or -1 with errno.
 */
static int
first_line(int fd, off_t off, int *nul, char *delim)
{
	struct delimscan	 d;
	char			 b[4096], *eol;
	size_t			 hl;
	ssize_t			 n;
	int			 lf = 0;

	memset(&d, 0, sizeof(d));
	*nul = 0;
	while (!lf || !d.done) {
		if ((n = pread(fd, b, sizeof(b), off)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (n == 0)
			break;
		if (!lf) {
			eol = memchr(b, '\n', (size_t)n);
			hl = eol != NULL ? (size_t)(eol - b) : (size_t)n;
			*nul = memchr(b, '\0', hl) != NULL;
			lf = *nul || eol != NULL;
		}
		csvin_delim_scan(&d, b, (size_t)n);
		explicit_bzero(b, sizeof(b));
		if (*nul)
			break;
		off += n;
	}
	*delim = csvin_delim_pick(&d);

	return (0);
}

/*
 * A regular file in UTF-8 is streamed: parsed here once to count and
 * classify its rows, then read again by csvin_next(), through a window
 * of a few records.  Anything else (UTF-16, a pipe) is read whole.
 */
static int
open_stream(const char *path, const csvin_limits_t *lim, csvin_t **cp,
    char *err, size_t errlen)
{
	csvin_t			*c = NULL;
	const unsigned char	*u;
	int			 r, nul;

	if ((c = csvin_new(lim)) == NULL)
		return (CSVIN_ERR_INTERNAL);
	c->stream = 1;
	if ((c->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(c->fd, &c->st) < 0) {
		errf(err, errlen, "%s", strerror(errno));
		r = CSVIN_ERR_IO;
		goto fail;
	}
	if (!S_ISREG(c->st.st_mode)) {
		r = CSVIN_END;		/* not for streaming */
		goto fail;
	}
	if ((size_t)c->st.st_size > c->lim.max_file) {
		errf(err, errlen, "the CSV file is larger than %zu bytes",
		    c->lim.max_file);
		r = CSVIN_ERR_TOOBIG;
		goto fail;
	}
	c->wcap = 2 * (c->lim.max_record + LOOKAHEAD);
	if ((c->win = malloc(c->wcap)) == NULL) {
		r = CSVIN_ERR_INTERNAL;
		goto fail;
	}
	if (refill(c) < 0) {
		errf(err, errlen, "%s", strerror(errno));
		r = CSVIN_ERR_IO;
		goto fail;
	}
	u = (const unsigned char *)c->win;
	if (c->wlen >= 2 && (memcmp(u, "\xff\xfe", 2) == 0 ||
	    memcmp(u, "\xfe\xff", 2) == 0)) {
		r = CSVIN_END;		/* UTF-16 (or 32): decoded whole */
		goto fail;
	}
	c->encoding = "UTF-8";
	if (c->wlen >= 3 && memcmp(u, "\xef\xbb\xbf", 3) == 0) {
		c->encoding = "UTF-8 (BOM)";
		c->wpos = 3;
	}
	/* NULs in the first line: UTF-16 without a byte-order mark */
	if (first_line(c->fd, (off_t)c->wpos, &nul, &c->delim) < 0) {
		errf(err, errlen, "%s", strerror(errno));
		r = CSVIN_ERR_IO;
		goto fail;
	}
	if (nul) {
		errf(err, errlen, "the file looks like UTF-16 without a "
		    "byte-order mark; save it as UTF-8 or as UTF-16 with BOM");
		r = CSVIN_ERR_ENCODING;
		goto fail;
	}
	if ((r = parse(c, err, errlen)) != CSVIN_OK)
		goto fail;
	if (rec_init(c, &c->rec) < 0) {
		r = CSVIN_ERR_INTERNAL;
		goto fail;
	}
	csvin_rewind(c);
	*cp = c;
	c = NULL;
fail:
	csvin_free(&c);

	return (r);
}

int
csvin_open(const char *path, csvin_t **cp, char *err, size_t errlen)
{
	return (csvin_open_lim(path, NULL, cp, err, errlen));
}

int
csvin_open_lim(const char *path, const csvin_limits_t *lim, csvin_t **cp,
    char *err, size_t errlen)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	int		 r;

	errf(err, errlen, "%s", "");
	if (path == NULL || cp == NULL)
		return (CSVIN_ERR_ARG);
	*cp = NULL;
	if ((r = open_stream(path, lim, cp, err, errlen)) != CSVIN_END) {
		if (r != CSVIN_OK && err != NULL && errlen > 0 &&
		    err[0] == '\0')
			errf(err, errlen, "%s", csvin_strerr(r));
		return (r);
	}
	if ((r = read_bounded(path, lim != NULL && lim->max_file != 0 ?
	    lim->max_file : CSVIN_MAX_FILE, &buf, &len)) != CSVIN_OK) {
		if (r == CSVIN_ERR_TOOBIG)
			errf(err, errlen, "the CSV file is larger than %zu "
			    "bytes", lim != NULL && lim->max_file != 0 ?
			    lim->max_file : (size_t)CSVIN_MAX_FILE);
		else if (r == CSVIN_ERR_IO)
			errf(err, errlen, "%s", strerror(errno));
		return (r);
	}
	r = csvin_open_mem(buf, len, lim, cp, err, errlen);
	freezero_buf(buf, len);

	return (r);
}

void
csvin_free(csvin_t **cp)
{
	csvin_t	*c;
	size_t	 i;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	for (i = 0; i < c->nrows && c->rows != NULL; i++)
		csvin_row_free(c->rows[i]);
	free(c->rows);
	for (i = 0; i < c->ncols; i++)
		free(c->cols[i].name);
	free(c->cols);
	csvin_dup_free(&c->dup);
	if (c->win != NULL)
		freezero_buf(c->win, c->wmax);
	rec_free(&c->rec);
	csvin_row_free(c->cur);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	*cp = NULL;
}

size_t
csvin_count(const csvin_t *c)
{
	return (c != NULL ? c->nrows : 0);
}

size_t
csvin_count_status(const csvin_t *c, int status)
{
	if (c == NULL || status < 0 || status > CSVIN_ROW_DUPLICATE)
		return (0);

	return (c->nstatus[status]);
}

/* row idx: any in memory; a streamed file's current one only */
static const struct row *
row_at(const csvin_t *c, size_t idx)
{
	if (c == NULL || idx >= c->nrows)
		return (NULL);
	if (!c->stream)
		return (c->rows[idx]);

	return (c->cur != NULL && c->sidx > 0 && idx == c->sidx - 1 ?
	    c->cur : NULL);
}

int
csvin_row(const csvin_t *c, size_t idx, csvin_row_t *out)
{
	const struct row *w;

	if (out == NULL || (w = row_at(c, idx)) == NULL)
		return (CSVIN_ERR_ARG);
	memset(out, 0, sizeof(*out));
	out->index = idx;
	out->line = w->line;
	out->status = w->status;
	out->kind = w->kind;
	out->user = w->user;
	out->key = w->key;
	out->code = w->code;
	out->reason = w->reason;
	out->excerpt = w->excerpt;
	out->dup_of = w->dup_of;

	return (CSVIN_OK);
}

/* the streamed file's next row, classified as the first pass did */
static int
stream_next(csvin_t *c, csvin_row_t *out)
{
	struct row	*w;
	size_t		 line;
	int		 r, end;

	if (c->changed)
		return (CSVIN_ERR_CHANGED);
	if ((r = next_record(c, &c->rec, &line, &end)) != CSVIN_OK)
		return (r);
	if (c->changed || (end && c->sidx != c->nrows) ||
	    (!end && c->sidx >= c->nrows)) {
		c->changed = 1;
		return (CSVIN_ERR_CHANGED);
	}
	if (end)
		return (CSVIN_END);
	if ((w = csvin_build_row(c, &c->rec, line)) == NULL)
		return (CSVIN_ERR_INTERNAL);
	csvin_row_free(c->cur);
	c->cur = w;
	c->sidx++;

	return (csvin_row(c, c->sidx - 1, out));
}

int
csvin_next(csvin_t *c, csvin_row_t *out)
{
	if (c == NULL || out == NULL)
		return (CSVIN_ERR_ARG);
	if (c->stream)
		return (stream_next(c, out));
	if (c->pos >= c->nrows)
		return (CSVIN_END);

	return (csvin_row(c, c->pos++, out));
}

void
csvin_rewind(csvin_t *c)
{
	struct stat st;

	if (c == NULL)
		return;
	c->pos = 0;
	if (!c->stream)
		return;
	csvin_row_free(c->cur);
	c->cur = NULL;
	c->sidx = 0;
	c->wlen = c->wpos = 0;
	explicit_bzero(c->win, c->wmax);
	c->wmax = 0;
	c->rdoff = c->body_off;
	c->eof = 0;
	c->line = c->body_line;
	c->skip_lf = c->body_skip_lf;
	/* rows that disagree with the counts are refused, not given */
	if (fstat(c->fd, &st) < 0 || !same_file(&st, &c->st))
		c->changed = 1;
}

char
csvin_delimiter(const csvin_t *c)
{
	return (c != NULL ? c->delim : '\0');
}

const char *
csvin_encoding(const csvin_t *c)
{
	return (c != NULL ? c->encoding : NULL);
}

const char *
csvin_user_column(const csvin_t *c)
{
	return (c != NULL && c->ucol >= 0 ? c->cols[c->ucol].name : NULL);
}

size_t
csvin_ncols(const csvin_t *c)
{
	return (c != NULL ? c->ncols : 0);
}

const char *
csvin_colname(const csvin_t *c, size_t col)
{
	return (c != NULL && col < c->ncols ? c->cols[col].name : NULL);
}

int
csvin_col_secret(const csvin_t *c, size_t col)
{
	return (c != NULL && col < c->ncols ? c->cols[col].secret : 0);
}

const char *
csvin_field(const csvin_t *c, size_t idx, const char *col)
{
	char			 norm[NAME_MAX_NORM];
	const struct row	*w;
	const char		*p;
	size_t			 i, k;

	if (c == NULL || col == NULL || row_at(c, idx) == NULL)
		return (NULL);
	csvin_name_norm(col, norm, sizeof(norm));
	for (i = 0; i < c->ncols; i++)
		if (strcmp(c->cols[i].norm, norm) == 0)
			break;
	if (i == c->ncols || c->cols[i].secret)
		return (NULL);
	w = row_at(c, idx);
	if (i >= w->ncells)
		return (NULL);
	for (p = w->cells, k = 0; k < i; k++)
		p += strlen(p) + 1;

	return (p);
}
