/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The RFC 4180 record scanner of the CSV parser: quoted fields, CRLF
 * or LF, a record's fields into one growing buffer.
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

const char *
csvin_rec_get(const struct rec *r, size_t i)
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

int
csvin_is_eol(char c)
{
	return (c == '\n' || c == '\r');
}

/* position after the line break that ends the line holding `pos` */
size_t
csvin_next_line(const char *t, size_t tlen, size_t pos)
{
	while (pos < tlen && !csvin_is_eol(t[pos]))
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
int
csvin_parse_record(const char *t, size_t tlen, size_t *pos, char delim,
    size_t maxrec, struct rec *r, size_t *lines)
{
	size_t	start = *pos, i = *pos, j, nl = 0;
	int	quoted;

	rec_clear(r);
	for (;;) {
		/* a record of empty fields counts too: the parser never
		 * reads more than max_record bytes (and a look-ahead) on */
		if (i - start > maxrec) {
			r->toolong = 1;
			goto resync;
		}
		if (rec_field(r) < 0)
			return (-1);
		quoted = 0;
		j = i;
		while (j < tlen && j - start <= maxrec &&
		    (t[j] == ' ' || t[j] == '\t') && t[j] != delim)
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
			while (i < tlen && i - start <= maxrec &&
			    (t[i] == ' ' || t[i] == '\t') && t[i] != delim)
				i++;
			if (i < tlen && t[i] != delim && !csvin_is_eol(t[i]))
				r->badquote = 1;
		}
		/* unquoted text, or what follows a closing quote */
		while (i < tlen && t[i] != delim && !csvin_is_eol(t[i])) {
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
	*pos = csvin_next_line(t, tlen, start);
	*lines = (*pos > start && csvin_is_eol(t[*pos - 1])) ? 1 : 0;

	return (0);
}

/* trim ASCII blanks, NBSP, ZWSP and stray BOMs around a value */
void
csvin_trim(const char **sp, size_t *lenp)
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
