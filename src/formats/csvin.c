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

#define EXCERPT_MAX	80
#define NAME_MAX_NORM	64

/* one parsed row; its strings live in data[] */
struct row {
	size_t		 line;
	size_t		 dup_of;
	int		 status;
	int		 kind;
	const char	*code;
	const char	*user;
	const char	*key;
	const char	*reason;
	const char	*excerpt;
	const char	*cells;		/* ncells NUL-terminated strings */
	size_t		 ncells;
	size_t		 size;		/* of the allocation, for wiping */
	char		 data[];
};

struct col {
	char	*name;			/* as written, trimmed */
	char	 norm[NAME_MAX_NORM];	/* matching form */
	int	 secret;
};

struct dupent {
	const char	*key;
	size_t		 line;
};

struct csvin {
	struct row	**rows;
	size_t		  nrows;
	size_t		  cap;
	size_t		  pos;		/* iterator */
	size_t		  nstatus[3];
	struct col	 *cols;
	size_t		  ncols;
	int		  ucol;		/* user column */
	int		  fcol;		/* fallback id column or -1 */
	char		  delim;
	const char	 *encoding;
	struct dupent	 *dup;		/* open addressing, cap power of 2 */
	size_t		  dupcap;
	size_t		  dupn;
	csvin_limits_t	  lim;
};

/* a record being parsed: fields unquoted into one scratch buffer */
struct rec {
	struct buf b;			/* may hold a careless PIN: wiped */
	size_t	*off;			/* field start offsets in b */
	size_t	 nf;
	size_t	 offcap;
	uint64_t nul;			/* fields holding a NUL byte */
	int	 toolong;
	int	 badquote;		/* 1: after quote, 2: unterminated */
	int	 allblank;
};

static const char *const upn_names[] = { "userprincipalname", "upn",
    "email", "user" };
static const char *const id_names[] = { "objectid", "id", "userid" };
static const char accepted[] = "userPrincipalName, upn, UPN, email, "
    "user, objectId, id or userId";

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

/* header names: lower case, without spaces, '_', '-', '.', leading '#' */
static void
name_norm(const char *s, char *out, size_t outlen)
{
	size_t	o = 0;
	char	c;

	while (*s == '#' || *s == ' ' || *s == '\t')
		s++;
	for (; *s != '\0' && o + 1 < outlen; s++) {
		c = *s;
		if (c == ' ' || c == '\t' || c == '_' || c == '-' || c == '.')
			continue;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		out[o++] = c;
	}
	out[o] = '\0';
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return (a >= b && strcmp(s + a - b, suffix) == 0);
}

/* a column we must not read: PINs, passwords, TAPs, tokens, secrets */
static int
name_secret(const char *norm)
{
	static const char *const sub[] = { "password", "passwd", "secret",
	    "token", "passcode", "temporaryaccesspass", "privatekey" };
	static const char *const exact[] = { "pwd", "tap", "otp" };
	size_t i;

	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		if (strstr(norm, sub[i]) != NULL)
			return (1);
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strcmp(norm, exact[i]) == 0)
			return (1);
	/* pin, PINs, newPin, userPIN, pinCode; not e.g. "shipping" */
	if (ends_with(norm, "pin") || ends_with(norm, "pins") ||
	    strncmp(norm, "pin", 3) == 0)
		return (1);

	return (0);
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
rec_put(struct rec *r, char c)
{
	return (buf_append(&r->b, &c, 1));
}

static int
rec_field(struct rec *r)
{
	size_t *p;

	if (r->nf == r->offcap) {
		if ((p = reallocarray(r->off, r->offcap * 2,
		    sizeof(*p))) == NULL)
			return (-1);
		r->off = p;
		r->offcap *= 2;
	}
	r->off[r->nf++] = r->b.len;

	return (0);
}

/* a byte of field data: NULs would hide what follows them */
static int
rec_data(struct rec *r, char c)
{
	if (c == '\0') {
		r->nul |= r->nf - 1 < 64 ? 1ULL << (r->nf - 1) : 1ULL << 63;
		r->allblank = 0;
	}

	return (rec_put(r, c));
}

static int
rec_end_field(struct rec *r)
{
	return (rec_put(r, '\0'));
}

static const char *
rec_get(const struct rec *r, size_t i)
{
	return (i < r->nf ? (const char *)r->b.ptr + r->off[i] : NULL);
}

static void
rec_clear(struct rec *r)
{
	buf_clear(&r->b);
	r->nf = 0;
	r->nul = 0;
	r->toolong = 0;
	r->badquote = 0;
	r->allblank = 1;
}

static int
is_eol(char c)
{
	return (c == '\n' || c == '\r');
}

/* position after the line break that ends the line holding `pos` */
static size_t
next_line(const char *t, size_t tlen, size_t pos)
{
	while (pos < tlen && !is_eol(t[pos]))
		pos++;
	if (pos < tlen && t[pos] == '\r' && pos + 1 < tlen &&
	    t[pos + 1] == '\n')
		return (pos + 2);

	return (pos < tlen ? pos + 1 : pos);
}

/*
 * Parse the record at *pos: fields into `r`, *pos past its line break,
 * *lines the number of line breaks consumed.  A record over the limit
 * or with an unterminated quote ends at the first line break after its
 * start, so one stray quote cannot swallow the rest of the file.
 * Returns -1 on memory failure only.
 */
static int
parse_record(const char *t, size_t tlen, size_t *pos, char delim,
    size_t maxrec, struct rec *r, size_t *lines)
{
	size_t	start = *pos, i = *pos, j, nl = 0;
	int	quoted;

	rec_clear(r);
	for (;;) {
		if (rec_field(r) < 0)
			return (-1);
		quoted = 0;
		j = i;
		while (j < tlen && (t[j] == ' ' || t[j] == '\t') &&
		    t[j] != delim)
			j++;
		if (j < tlen && t[j] == '"') {
			quoted = 1;
			i = j + 1;
			for (;;) {
				if (i - start > maxrec) {
					r->toolong = 1;
					goto resync;
				}
				if (i >= tlen) {
					r->badquote = 2;
					goto resync;
				}
				if (t[i] == '"') {
					if (i + 1 < tlen && t[i + 1] == '"') {
						if (rec_put(r, '"') < 0)
							return (-1);
						i += 2;
						continue;
					}
					i++;
					break;
				}
				if (t[i] == '\r' && i + 1 < tlen &&
				    t[i + 1] == '\n') {
					if (rec_put(r, '\r') < 0)
						return (-1);
					i++;
					nl++;
				} else if (t[i] == '\r' || t[i] == '\n')
					nl++;
				if (rec_data(r, t[i]) < 0)
					return (-1);
				i++;
			}
			while (i < tlen && (t[i] == ' ' || t[i] == '\t') &&
			    t[i] != delim)
				i++;
			if (i < tlen && t[i] != delim && !is_eol(t[i]))
				r->badquote = 1;
		}
		/* unquoted text, or what follows a closing quote */
		while (i < tlen && t[i] != delim && !is_eol(t[i])) {
			if (i - start > maxrec) {
				r->toolong = 1;
				goto resync;
			}
			if (rec_data(r, t[i]) < 0)
				return (-1);
			i++;
		}
		if (rec_end_field(r) < 0)
			return (-1);
		if (!quoted) {
			for (j = r->off[r->nf - 1]; r->b.ptr[j] != '\0'; j++)
				if (r->b.ptr[j] != ' ' && r->b.ptr[j] != '\t')
					r->allblank = 0;
		} else if (r->b.ptr[r->off[r->nf - 1]] != '\0')
			r->allblank = 0;
		if (i < tlen && t[i] == delim) {
			i++;
			continue;
		}
		break;
	}
	if (i < tlen) {
		if (t[i] == '\r' && i + 1 < tlen && t[i + 1] == '\n')
			i++;
		i++;
		nl++;
	}
	*pos = i;
	*lines = nl;

	return (0);
resync:
	if (rec_end_field(r) < 0)
		return (-1);
	r->allblank = 0;
	*pos = next_line(t, tlen, start);
	*lines = (*pos > start && is_eol(t[*pos - 1])) ? 1 : 0;

	return (0);
}

/* trim ASCII blanks, NBSP, ZWSP and stray BOMs around a value */
static void
trim(const char **sp, size_t *lenp)
{
	const char	*s = *sp;
	size_t		 len = *lenp;

	for (;;) {
		if (len > 0 && (s[0] == ' ' || s[0] == '\t')) {
			s++;
			len--;
		} else if (len > 1 && memcmp(s, "\xc2\xa0", 2) == 0) {
			s += 2;
			len -= 2;
		} else if (len > 2 && (memcmp(s, "\xe2\x80\x8b", 3) == 0 ||
		    memcmp(s, "\xef\xbb\xbf", 3) == 0)) {
			s += 3;
			len -= 3;
		} else
			break;
	}
	for (;;) {
		if (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		else if (len > 1 && memcmp(s + len - 2, "\xc2\xa0", 2) == 0)
			len -= 2;
		else if (len > 2 && (memcmp(s + len - 3, "\xe2\x80\x8b",
		    3) == 0 || memcmp(s + len - 3, "\xef\xbb\xbf", 3) == 0))
			len -= 3;
		else
			break;
	}
	*sp = s;
	*lenp = len;
}

/*
 * Printable copy of s[0..len) into out: valid UTF-8 is kept, other
 * bytes and control characters become \xNN.  What does not fit in
 * outlen - 1 bytes is cut at a character boundary and marked "...".
 */
static void
printable(const char *s, size_t len, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, o = 0, w, fit = 0;
	char			 esc[5];

	while (i < len) {
		n = utf8_seq(p + i, len - i);
		w = (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))) ?
		    4 : n;
		if (o + w > outlen - 1) {
			memcpy(out + fit, "...", 4);
			return;
		}
		if (w == 4 && n <= 1) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			memcpy(out + o, esc, 4);
			n = 1;
		} else
			memcpy(out + o, p + i, n);
		o += w;
		i += n;
		if (o + 3 <= outlen - 1)
			fit = o;
	}
	out[o] = '\0';
}

/* the record as read (fields joined), printable, secrets redacted */
static void
make_excerpt(const csvin_t *c, const struct rec *r, char *out, size_t outlen)
{
	char		 raw[EXCERPT_MAX * 4 + 1];
	const char	*f;
	size_t		 i, n, o = 0;

	for (i = 0; i < r->nf && o < sizeof(raw) - 1; i++) {
		if (i > 0)
			raw[o++] = c->delim;
		f = (i < c->ncols && c->cols[i].secret) ? "***" : rec_get(r, i);
		n = strlen(f);
		if (n > sizeof(raw) - 1 - o)
			n = sizeof(raw) - 1 - o;
		memcpy(raw + o, f, n);
		o += n;
	}
	printable(raw, o, out, outlen);
	explicit_bzero(raw, sizeof(raw));
}

/* one allocation for the row and its strings */
static struct row *
row_new(const csvin_t *c, size_t line, int status, int kind,
    const char *code, const char *user, const char *key,
    const char *reason, const char *excerpt, const struct rec *r,
    size_t ncells)
{
	struct row	*w;
	size_t		 len, i, cl = 0, o = 0;
	const char	*f;

	for (i = 0; i < ncells; i++)
		cl += (c->cols[i].secret ? 0 : strlen(rec_get(r, i))) + 1;
	len = strlen(user) + strlen(key) + strlen(reason) +
	    strlen(excerpt) + 4 + cl;
	if ((w = calloc(1, sizeof(*w) + len)) == NULL)
		return (NULL);
	w->size = sizeof(*w) + len;
	w->line = line;
	w->status = status;
	w->kind = kind;
	w->code = code;
#define PUT(dst, s) do {						\
	(dst) = w->data + o;						\
	memcpy(w->data + o, (s), strlen(s) + 1);			\
	o += strlen(s) + 1;						\
} while (0)
	PUT(w->user, user);
	PUT(w->key, key);
	PUT(w->reason, reason);
	PUT(w->excerpt, excerpt);
#undef PUT
	w->cells = w->data + o;
	w->ncells = ncells;
	for (i = 0; i < ncells; i++) {
		/* secret columns are kept empty, never copied */
		f = c->cols[i].secret ? "" : rec_get(r, i);
		memcpy(w->data + o, f, strlen(f) + 1);
		o += strlen(f) + 1;
	}

	return (w);
}

static void
row_free(struct row *w)
{
	if (w != NULL)
		freezero_buf(w, w->size);
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}

	return (h);
}

/* line of an earlier row with `key`, or 0 */
static size_t
dup_find(const csvin_t *c, const char *key)
{
	size_t k;

	if (c->dupcap == 0)
		return (0);
	k = hash(key) & (c->dupcap - 1);
	while (c->dup[k].key != NULL) {
		if (strcmp(c->dup[k].key, key) == 0)
			return (c->dup[k].line);
		k = (k + 1) & (c->dupcap - 1);
	}

	return (0);
}

/* `key` must live as long as c (it points into a row) */
static int
dup_insert(csvin_t *c, const char *key, size_t line)
{
	struct dupent	*nd;
	size_t		 i, k, ncap;

	if (c->dupn * 2 >= c->dupcap) {
		ncap = c->dupcap ? c->dupcap * 2 : 1024;
		if ((nd = calloc(ncap, sizeof(*nd))) == NULL)
			return (-1);
		for (i = 0; i < c->dupcap; i++) {
			if (c->dup[i].key == NULL)
				continue;
			k = hash(c->dup[i].key) & (ncap - 1);
			while (nd[k].key != NULL)
				k = (k + 1) & (ncap - 1);
			nd[k] = c->dup[i];
		}
		free(c->dup);
		c->dup = nd;
		c->dupcap = ncap;
	}
	k = hash(key) & (c->dupcap - 1);
	while (c->dup[k].key != NULL)
		k = (k + 1) & (c->dupcap - 1);
	c->dup[k].key = key;
	c->dup[k].line = line;
	c->dupn++;

	return (0);
}

static int
add_row(csvin_t *c, struct row *w)
{
	struct row **p;

	if (c->nrows == c->cap) {
		if ((p = reallocarray(c->rows, c->cap ? c->cap * 2 : 64,
		    sizeof(*p))) == NULL)
			return (-1);
		c->rows = p;
		c->cap = c->cap ? c->cap * 2 : 64;
	}
	c->rows[c->nrows++] = w;
	c->nstatus[w->status]++;

	return (0);
}

/* turn one parsed record into a row */
static int
build_row(csvin_t *c, const struct rec *r, size_t line)
{
	char		 excerpt[EXCERPT_MAX + 1], ubuf[CSVIN_UPN_MAX + 1];
	char		 reason[256], key[CSVIN_UPN_MAX + 1];
	const char	*code = "", *u, *colname, *f;
	size_t		 ulen, i, first = 0, ncells = 0;
	int		 status = CSVIN_ROW_ERROR, kind = CSVIN_USER_NONE;
	struct row	*w = NULL;

	reason[0] = key[0] = ubuf[0] = '\0';
	make_excerpt(c, r, excerpt, sizeof(excerpt));
	colname = c->cols[c->ucol].name;
	u = rec_get(r, (size_t)c->ucol);
	if (r->toolong) {
		code = "csv_record_too_long";
		snprintf(reason, sizeof(reason), "record longer than %zu "
		    "bytes", c->lim.max_record);
		goto make;
	}
	if (r->badquote) {
		code = "csv_bad_quoting";
		snprintf(reason, sizeof(reason), "%s",
		    r->badquote == 2 ? "unterminated quoted field" :
		    "text after a closing quote");
		goto make;
	}
	for (i = 0; i < r->nf; i++) {
		f = rec_get(r, i);
		if (!(r->nul & (i < 64 ? 1ULL << i : 1ULL << 63)) &&
		    utf8_valid(f, strlen(f)))
			continue;
		code = "csv_invalid_utf8";
		snprintf(reason, sizeof(reason), "invalid UTF-8 text in "
		    "column %zu%s%s%s (save the file as UTF-8)", i + 1,
		    i < c->ncols ? " '" : "",
		    i < c->ncols ? c->cols[i].name : "",
		    i < c->ncols ? "'" : "");
		goto make;
	}
	ulen = u != NULL ? strlen(u) : 0;
	if (u != NULL)
		trim(&u, &ulen);
	if (ulen == 0 && c->fcol >= 0 &&
	    (u = rec_get(r, (size_t)c->fcol)) != NULL) {
		colname = c->cols[c->fcol].name;
		ulen = strlen(u);
		trim(&u, &ulen);
	}
	if (u == NULL || ulen == 0) {
		code = "csv_missing_user";
		snprintf(reason, sizeof(reason), "no user in column '%s'",
		    c->cols[c->ucol].name);
		goto make;
	}
	if ((kind = csvin_user_kind(u, ulen)) == CSVIN_USER_NONE) {
		printable(u, ulen, ubuf, EXCERPT_MAX + 1);
		code = "csv_invalid_user";
		snprintf(reason, sizeof(reason), "the value in column '%s' "
		    "is neither a UPN nor an object id", colname);
		goto make;
	}
	memcpy(ubuf, u, ulen);
	ubuf[ulen] = '\0';
	for (i = 0; i < ulen; i++)
		key[i] = (u[i] >= 'A' && u[i] <= 'Z') ?
		    (char)(u[i] - 'A' + 'a') : u[i];
	key[ulen] = '\0';
	if ((first = dup_find(c, key)) != 0) {
		status = CSVIN_ROW_DUPLICATE;
		code = "csv_duplicate";
		snprintf(reason, sizeof(reason), "duplicate of row %zu",
		    first);
		goto make;
	}
	status = CSVIN_ROW_OK;
	ncells = r->nf < c->ncols ? r->nf : c->ncols;
make:
	w = row_new(c, line, status, kind, code, ubuf, key, reason, excerpt,
	    r, ncells);
	explicit_bzero(excerpt, sizeof(excerpt));
	if (w == NULL)
		return (-1);
	w->dup_of = first;
	if (status == CSVIN_ROW_OK && dup_insert(c, w->key, line) < 0) {
		row_free(w);
		return (-1);
	}
	if (add_row(c, w) < 0) {
		row_free(w);
		return (-1);
	}

	return (0);
}

static int
find_col(const csvin_t *c, const char *const *names, size_t n)
{
	size_t i, k;

	for (k = 0; k < n; k++)
		for (i = 0; i < c->ncols; i++)
			if (!c->cols[i].secret &&
			    strcmp(c->cols[i].norm, names[k]) == 0)
				return ((int)i);

	return (-1);
}

static char
detect_delim(const char *t, size_t tlen)
{
	size_t	i, nc = 0, ns = 0, nt = 0;
	int	inq = 0;

	for (i = 0; i < tlen; i++) {
		if (t[i] == '"')
			inq = !inq;
		else if (!inq && is_eol(t[i]))
			break;
		else if (!inq && t[i] == ',')
			nc++;
		else if (!inq && t[i] == ';')
			ns++;
		else if (!inq && t[i] == '\t')
			nt++;
	}
	if (ns > nc && ns >= nt)
		return (';');
	if (nt > nc && nt > ns)
		return ('\t');

	return (',');
}

static int
parse_header(csvin_t *c, const struct rec *r, char *err, size_t errlen)
{
	const char	*f;
	size_t		 i, len, o;
	char		 found[256];

	if (r->toolong || r->badquote) {
		errf(err, errlen, "the header line is malformed (%s)",
		    r->toolong ? "too long" : "bad quoting");
		return (CSVIN_ERR_HEADER);
	}
	if (r->nf > CSVIN_MAX_COLS) {
		errf(err, errlen, "the header has more than %d columns",
		    CSVIN_MAX_COLS);
		return (CSVIN_ERR_HEADER);
	}
	if ((c->cols = calloc(r->nf, sizeof(*c->cols))) == NULL)
		return (CSVIN_ERR_INTERNAL);
	c->ncols = r->nf;
	for (i = 0; i < r->nf; i++) {
		f = rec_get(r, i);
		len = strlen(f);
		if (!utf8_valid(f, len)) {
			errf(err, errlen, "the header is not valid UTF-8 "
			    "(save the file as UTF-8)");
			return (CSVIN_ERR_ENCODING);
		}
		trim(&f, &len);
		if ((c->cols[i].name = strndup(f, len)) == NULL)
			return (CSVIN_ERR_INTERNAL);
		name_norm(c->cols[i].name, c->cols[i].norm,
		    sizeof(c->cols[i].norm));
		c->cols[i].secret = name_secret(c->cols[i].norm);
		if (c->cols[i].secret)
			log_warn("CSV column '%s' ignored: PINs and secrets "
			    "are never read from a CSV file", c->cols[i].name);
	}
	c->ucol = find_col(c, upn_names, 4);
	c->fcol = find_col(c, id_names, 3);
	if (c->ucol < 0) {
		c->ucol = c->fcol;
		c->fcol = -1;
	}
	if (c->ucol < 0) {
		found[0] = '\0';
		for (i = 0, o = 0; i < c->ncols && o < sizeof(found) - 1; i++) {
			o += (size_t)snprintf(found + o, sizeof(found) - o,
			    "%s'%s'", i ? ", " : "", c->cols[i].name);
			if (o >= sizeof(found))
				o = sizeof(found) - 1;
		}
		errf(err, errlen, "no user column in the CSV header (found "
		    "%s); name one column %s", found, accepted);
		return (CSVIN_ERR_HEADER);
	}

	return (CSVIN_OK);
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
	 * parse_record() stops a record at max_record bytes of input,
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
	    (tlen == 5 || is_eol(t[5])) && !is_eol(t[4]) && t[4] != '"') {
		c->delim = t[4];
		pos = next_line(t, tlen, 0);
		line = 2;
	} else
		c->delim = detect_delim(t, tlen);
	while (pos < tlen) {
		if (parse_record(t, tlen, &pos, c->delim, c->lim.max_record,
		    &r, &nl) < 0) {
			rc = CSVIN_ERR_INTERNAL;
			goto fail;
		}
		if (r.allblank && !r.toolong && !r.badquote) {
			line += nl;
			continue;
		}
		if (!have_header) {
			if ((rc = parse_header(c, &r, err, errlen)) != CSVIN_OK)
				goto fail;
			have_header = 1;
		} else {
			if (c->nrows >= c->lim.max_rows) {
				errf(err, errlen, "the CSV file has more "
				    "than %zu rows; split it", c->lim.max_rows);
				rc = CSVIN_ERR_TOOBIG;
				goto fail;
			}
			if (build_row(c, &r, line) < 0) {
				rc = CSVIN_ERR_INTERNAL;
				goto fail;
			}
		}
		line += nl;
	}
	if (!have_header) {
		errf(err, errlen, "the CSV file is empty; it needs a header "
		    "naming a user column %s", accepted);
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
			errf(err, errlen, "%s: larger than %d bytes", path,
			    CSVIN_MAX_FILE);
		else if (r == CSVIN_ERR_IO)
			errf(err, errlen, "%s: %s", path, strerror(errno));
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
		row_free(c->rows[i]);
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
	name_norm(col, norm, sizeof(norm));
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
