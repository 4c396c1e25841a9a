/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Rows of the CSV parser: the header (which column holds the user,
 * which look secret, the delimiter), each record checked and kept as a
 * row, duplicates found by a hash of the user.
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

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common.h"
#include "csvin.h"
#include "csvin_int.h"

static const char *const upn_names[] = { "userprincipalname", "upn",
    "email", "user" };
static const char *const id_names[] = { "objectid", "id", "userid" };

/* header names: lower case, without spaces, '_', '-', '.', leading '#' */
void
csvin_name_norm(const char *s, char *out, size_t outlen)
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
		f = (i < c->ncols && c->cols[i].secret) ? "***" :
							  csvin_rec_get(r, i);
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
		cl += (c->cols[i].secret ? 0 : strlen(csvin_rec_get(r, i))) + 1;
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
		f = c->cols[i].secret ? "" : csvin_rec_get(r, i);
		memcpy(w->data + o, f, strlen(f) + 1);
		o += strlen(f) + 1;
	}

	return (w);
}

void
csvin_row_free(struct row *w)
{
	if (w != NULL)
		freezero_buf(w, w->size);
}

/*
 * SipHash-2-4 with a key drawn at open: no file can be crafted to make
 * two users collide, and by chance two of a million users share a hash
 * with odds of about 3e-8, so equal hashes are taken for the same user.
 */
static int
dup_hash(struct duptab *d, const char *key, uint64_t *out)
{
	unsigned char	 k[16];
	OSSL_PARAM	 p[2];
	EVP_MAC		*mac;
	size_t		 sz = 8, n;
	uint64_t	 h;

	if (d->mac == NULL) {
		if ((mac = EVP_MAC_fetch(NULL, "SIPHASH", NULL)) == NULL)
			return (-1);
		d->mac = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		p[0] = OSSL_PARAM_construct_size_t("size", &sz);
		p[1] = OSSL_PARAM_construct_end();
		if (d->mac == NULL || RAND_bytes(k, sizeof(k)) != 1 ||
		    EVP_MAC_init(d->mac, k, sizeof(k), p) != 1) {
			explicit_bzero(k, sizeof(k));
			return (-1);
		}
		explicit_bzero(k, sizeof(k));
	} else if (EVP_MAC_init(d->mac, NULL, 0, NULL) != 1)
		return (-1);
	if (EVP_MAC_update(d->mac, (const unsigned char *)key,
	    strlen(key)) != 1 || EVP_MAC_final(d->mac, (unsigned char *)&h,
	    &n, sizeof(h)) != 1 || n != sizeof(h))
		return (-1);
	/* 0 marks an empty slot */
	*out = h != 0 ? h : 1;

	return (0);
}

/* the slot of `h`, or the empty one where it goes */
static size_t
dup_slot(const struct duptab *d, uint64_t h)
{
	size_t k = (size_t)(h % d->cap);

	while (d->h[k] != 0 && d->h[k] != h)
		k = k + 1 < d->cap ? k + 1 : 0;

	return (k);
}

/* grown by half when 4/5 full: no power-of-two slack */
static int
dup_grow(struct duptab *d)
{
	struct duptab	 nd;
	size_t		 i, k;

	if (d->cap > 0 && d->n * 5 < d->cap * 4)
		return (0);
	memset(&nd, 0, sizeof(nd));
	nd.cap = d->cap ? d->cap + d->cap / 2 : 1021;
	if ((nd.h = calloc(nd.cap, sizeof(*nd.h))) == NULL ||
	    (nd.line = calloc(nd.cap, sizeof(*nd.line))) == NULL) {
		free(nd.h);
		return (-1);
	}
	for (i = 0; i < d->cap; i++) {
		if (d->h[i] == 0)
			continue;
		k = dup_slot(&nd, d->h[i]);
		nd.h[k] = d->h[i];
		nd.line[k] = d->line[i];
	}
	free(d->h);
	free(d->line);
	d->h = nd.h;
	d->line = nd.line;
	d->cap = nd.cap;

	return (0);
}

/*
 * The first line of `key`: an earlier one, or `line` itself, recorded
 * now.  0 on memory failure.
 */
static size_t
dup_first(struct duptab *d, const char *key, size_t line)
{
	uint64_t	h;
	size_t		k;

	if (dup_hash(d, key, &h) < 0 || dup_grow(d) < 0)
		return (0);
	k = dup_slot(d, h);
	if (d->h[k] == h)
		return (d->line[k]);
	d->h[k] = h;
	d->line[k] = (uint32_t)line;
	d->n++;

	return (line);
}

void
csvin_dup_free(struct duptab *d)
{
	free(d->h);
	free(d->line);
	EVP_MAC_CTX_free(d->mac);
	memset(d, 0, sizeof(*d));
}

/*
 * Turn one parsed record into a row, the caller's; NULL when out of
 * memory.  A file read again gives each row the same status: a user's
 * first line is the one the duplicate table holds.
 */
struct row *
csvin_build_row(csvin_t *c, const struct rec *r, size_t line)
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
	u = csvin_rec_get(r, (size_t)c->ucol);
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
		f = csvin_rec_get(r, i);
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
		csvin_trim(&u, &ulen);
	if (ulen == 0 && c->fcol >= 0 &&
	    (u = csvin_rec_get(r, (size_t)c->fcol)) != NULL) {
		colname = c->cols[c->fcol].name;
		ulen = strlen(u);
		csvin_trim(&u, &ulen);
	}
	/* a failures file fed back in: our formula prefix comes off */
	if (u != NULL && ulen > 1 && u[0] == '\'' && csv_formula_lead(u)) {
		u++;
		ulen--;
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
	if ((first = dup_first(&c->dup, key, line)) == 0) {
		explicit_bzero(excerpt, sizeof(excerpt));
		return (NULL);
	}
	if (first != line) {
		status = CSVIN_ROW_DUPLICATE;
		code = "csv_duplicate";
		snprintf(reason, sizeof(reason), "duplicate of row %zu", first);
		goto make;
	}
	status = CSVIN_ROW_OK;
	first = 0;
	ncells = r->nf < c->ncols ? r->nf : c->ncols;
make:
	w = row_new(c, line, status, kind, code, ubuf, key, reason, excerpt,
	    r, ncells);
	explicit_bzero(excerpt, sizeof(excerpt));
	if (w == NULL)
		return (NULL);
	w->dup_of = first;

	return (w);
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

/* count the candidates up to the first line break outside quotes */
void
csvin_delim_scan(struct delimscan *d, const char *t, size_t tlen)
{
	size_t i;

	for (i = 0; i < tlen && !d->done; i++) {
		if (t[i] == '"')
			d->inq = !d->inq;
		else if (!d->inq && csvin_is_eol(t[i]))
			d->done = 1;
		else if (!d->inq && t[i] == ',')
			d->nc++;
		else if (!d->inq && t[i] == ';')
			d->ns++;
		else if (!d->inq && t[i] == '\t')
			d->nt++;
	}
}

char
csvin_delim_pick(const struct delimscan *d)
{
	if (d->ns > d->nc && d->ns >= d->nt)
		return (';');
	if (d->nt > d->nc && d->nt > d->ns)
		return ('\t');

	return (',');
}

char
csvin_detect_delim(const char *t, size_t tlen)
{
	struct delimscan d;

	memset(&d, 0, sizeof(d));
	csvin_delim_scan(&d, t, tlen);

	return (csvin_delim_pick(&d));
}

int
csvin_parse_header(csvin_t *c, const struct rec *r, char *err, size_t errlen)
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
		f = csvin_rec_get(r, i);
		len = strlen(f);
		if (!utf8_valid(f, len)) {
			errf(err, errlen, "the header is not valid UTF-8 "
			    "(save the file as UTF-8)");
			return (CSVIN_ERR_ENCODING);
		}
		csvin_trim(&f, &len);
		if ((c->cols[i].name = strndup(f, len)) == NULL)
			return (CSVIN_ERR_INTERNAL);
		csvin_name_norm(c->cols[i].name, c->cols[i].norm,
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
		    "%s); name one column %s", found, CSVIN_USER_COLUMNS);
		return (CSVIN_ERR_HEADER);
	}

	return (CSVIN_OK);
}
