/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Text checks shared by the parsers of untrusted input: UTF-8, JSON
 * nesting, the one-line error messages parsers hand back, and untrusted
 * text made safe for a terminal.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"

/*
 * Length of the valid UTF-8 sequence at s[0..len), or 0 if invalid:
 * overlong forms, surrogates, code points past U+10FFFF and NUL.
 */
size_t
utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char	c;
	size_t		n, i;
	uint32_t	cp;

	if (len == 0 || (c = s[0]) == 0)
		return (0);
	if (c < 0x80)
		return (1);
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else
		return (0);
	if (len < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);

	return (n);
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return (false);
		i += n;
	}

	return (true);
}

/*
 * jansson recurses up to its compile-time 2048 levels: count nesting
 * ourselves before parsing, skipping over strings.
 */
bool
json_depth_ok(const char *s, size_t len, int max)
{
	size_t	i;
	int	depth = 0, instr = 0;

	for (i = 0; i < len; i++) {
		if (instr) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				instr = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			instr = 1;
			break;
		case '{':
		case '[':
			if (++depth > max)
				return (false);
			break;
		case '}':
		case ']':
			depth--;
			break;
		default:
			break;
		}
	}

	return (true);
}

void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * An object id, tenant id or group id as Graph writes them: 8-4-4-4-12
 * hex digits of either case, nothing around them.  Any version or
 * variant: Entra ids are not all RFC 4122 v4.
 */
bool
guid_valid(const char *s, size_t len)
{
	size_t	i;
	char	c;

	/* a length, not a NUL: CSV cells arrive trimmed in place */
	if (s == NULL || len != 36)
		return (false);
	for (i = 0; i < len; i++) {
		c = s[i];
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return (false);
		} else if (!((c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return (false);
	}

	return (true);
}

bool
csv_formula_lead(const char *s)
{
	if (s == NULL)
		return (false);
	/* apostrophes first: "'=x" is written "''=x", so reading is exact */
	while (*s == '\'')
		s++;

	return (*s != '\0' && strchr("=+-@\t\r", *s) != NULL);
}

const char *
csv_unescape(const char *s)
{
	if (s != NULL && s[0] == '\'' && csv_formula_lead(s))
		return (s + 1);

	return (s);
}

/* code points a terminal acts on: C1 controls, bidi marks and overrides */
static bool
cp_unsafe(uint32_t cp)
{
	return ((cp >= 0x80 && cp <= 0x9f) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069));
}

static uint32_t
utf8_cp(const unsigned char *s, size_t n)
{
	uint32_t	cp;
	size_t		i;

	if (n == 1)
		return (s[0]);
	cp = s[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
	for (i = 1; i < n; i++)
		cp = (cp << 6) | (s[i] & 0x3f);

	return (cp);
}

char *
text_safe(const char *in, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)in;
	size_t			 len, i = 0, o = 0, n;
	char			 esc[8];
	const char		*put;
	size_t			 putlen;

	if (out == NULL || outlen == 0)
		return (out);
	out[0] = '\0';
	if (in == NULL)
		return (out);
	len = strlen(in);
	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			put = esc;
			putlen = 4;
			n = 1;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			put = esc;
			putlen = 4;
		} else if (n > 1 && cp_unsafe(utf8_cp(p + i, n))) {
			snprintf(esc, sizeof(esc), "\\u%04x",
			    (unsigned)utf8_cp(p + i, n));
			put = esc;
			putlen = 6;
		} else {
			put = (const char *)p + i;
			putlen = n;
		}
		/* whole characters or escapes only */
		if (o + putlen >= outlen)
			break;
		memcpy(out + o, put, putlen);
		o += putlen;
		i += n;
	}
	out[o] = '\0';

	return (out);
}

/* whether the first `len` bytes of s hold w, ignoring case */
bool
text_has_ci(const char *s, size_t len, const char *w)
{
	size_t	wl = strlen(w), i;

	for (i = 0; i + wl <= len; i++)
		if (strncasecmp(s + i, w, wl) == 0)
			return (true);

	return (false);
}
