/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Input CSV parser (see csvin.h for the accepted format).  The file is
 * read whole (bounded), converted to UTF-8, and parsed once into rows;
 * the raw text is wiped afterwards because a careless export may hold
 * columns we refuse to read (PINs).
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

static int
parse(csvin_t *c, const char *t, size_t tlen, char *err, size_t errlen)
{
	struct rec	 r;
	size_t		 pos = 0, line = 1, nl;
	int		 rc, have_header = 0;

	memset(&r, 0, sizeof(r));
	/*
	 * csvin_parse_record() stops a record at max_record bytes of input,
	 * which unquote to no more bytes, plus a NUL per field.
	 */
	buf_init(&r.b, c->lim.max_record < SIZE_MAX / 4 ?
	    2 * c->lim.max_record + 64 : SIZE_MAX);
	r.offcap = 16;
	if ((r.off = calloc(r.offcap, sizeof(*r.off))) == NULL) {
		rc = CSVIN_ERR_INTERNAL;
		goto fail;
	}
	/* Excel's "sep=;" line */
	if (tlen >= 5 && strncasecmp(t, "sep=", 4) == 0 &&
	    (tlen == 5 || csvin_is_eol(t[5])) && !csvin_is_eol(t[4]) &&
	    t[4] != '"') {
		c->delim = t[4];
		pos = csvin_next_line(t, tlen, 0);
		line = 2;
	} else
		c->delim = csvin_detect_delim(t, tlen);
	while (pos < tlen) {
		if (csvin_parse_record(t, tlen, &pos, c->delim,
			c->lim.max_record, &r, &nl) < 0) {
			rc = CSVIN_ERR_INTERNAL;
			goto fail;
		}
		if (r.allblank && !r.toolong && !r.badquote) {
			line += nl;
			continue;
		}
		if (!have_header) {
			if ((rc = csvin_parse_header(c, &r, err, errlen)) !=
			    CSVIN_OK)
				goto fail;
			have_header = 1;
		} else {
			if (c->nrows >= c->lim.max_rows) {
				errf(err, errlen, "the CSV file has more "
				    "than %zu rows; split it", c->lim.max_rows);
				rc = CSVIN_ERR_TOOBIG;
				goto fail;
			}
			if (csvin_build_row(c, &r, line) < 0) {
				rc = CSVIN_ERR_INTERNAL;
				goto fail;
			}
		}
		line += nl;
	}
	if (!have_header) {
		errf(err, errlen, "the CSV file is empty; it needs a header "
		    "naming a user column %s", CSVIN_USER_COLUMNS);
		rc = CSVIN_ERR_HEADER;
		goto fail;
	}
	rc = CSVIN_OK;
fail:
	buf_reset(&r.b);
	free(r.off);

	return (rc);
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
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (CSVIN_ERR_INTERNAL);
	c->ucol = c->fcol = -1;
	c->lim.max_file = CSVIN_MAX_FILE;
	c->lim.max_record = CSVIN_MAX_RECORD;
	c->lim.max_rows = CSVIN_MAX_ROWS;
	if (lim != NULL && lim->max_file != 0)
		c->lim.max_file = lim->max_file;
	if (lim != NULL && lim->max_record != 0)
		c->lim.max_record = lim->max_record;
	if (lim != NULL && lim->max_rows != 0)
		c->lim.max_rows = lim->max_rows;
	if (len > c->lim.max_file) {
		errf(err, errlen, "the CSV file is larger than %zu bytes",
		    c->lim.max_file);
		r = CSVIN_ERR_TOOBIG;
		goto fail;
	}
	if ((r = decode(buf, len, c, &text, &tlen, err,
	    errlen)) != CSVIN_OK)
		goto fail;
	if ((r = parse(c, text, tlen, err, errlen)) != CSVIN_OK)
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

int
csvin_open(const char *path, csvin_t **cp, char *err, size_t errlen)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	int		 r;

	errf(err, errlen, "%s", "");
	if (path == NULL || cp == NULL)
		return (CSVIN_ERR_ARG);
	*cp = NULL;
	if ((r = read_bounded(path, CSVIN_MAX_FILE, &buf, &len)) !=
	    CSVIN_OK) {
		if (r == CSVIN_ERR_TOOBIG)
			errf(err, errlen, "the CSV file is larger than %d bytes",
			    CSVIN_MAX_FILE);
		else if (r == CSVIN_ERR_IO)
			errf(err, errlen, "%s", strerror(errno));
		return (r);
	}
	r = csvin_open_mem(buf, len, NULL, cp, err, errlen);
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
	for (i = 0; i < c->nrows; i++)
		csvin_row_free(c->rows[i]);
	free(c->rows);
	for (i = 0; i < c->ncols; i++)
		free(c->cols[i].name);
	free(c->cols);
	free(c->dup);
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

int
csvin_row(const csvin_t *c, size_t idx, csvin_row_t *out)
{
	const struct row *w;

	if (c == NULL || out == NULL || idx >= c->nrows)
		return (CSVIN_ERR_ARG);
	w = c->rows[idx];
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

int
csvin_next(csvin_t *c, csvin_row_t *out)
{
	if (c == NULL || out == NULL)
		return (CSVIN_ERR_ARG);
	if (c->pos >= c->nrows)
		return (CSVIN_END);

	return (csvin_row(c, c->pos++, out));
}

void
csvin_rewind(csvin_t *c)
{
	if (c != NULL)
		c->pos = 0;
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

	if (c == NULL || col == NULL || idx >= c->nrows)
		return (NULL);
	csvin_name_norm(col, norm, sizeof(norm));
	for (i = 0; i < c->ncols; i++)
		if (strcmp(c->cols[i].norm, norm) == 0)
			break;
	if (i == c->ncols || c->cols[i].secret)
		return (NULL);
	w = c->rows[idx];
	if (i >= w->ncells)
		return (NULL);
	for (p = w->cells, k = 0; k < i; k++)
		p += strlen(p) + 1;

	return (p);
}
