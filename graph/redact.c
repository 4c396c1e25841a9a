/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Redaction of the -vv trace by content, not by line shape: libcurl
 * prints headers as "Name: value" over HTTP/1.1 but as "h2h3 [name:
 * value]" info lines over HTTP/2, and a secret may sit in a header, a
 * form body or a JSON body.  So every line is scanned for a credential
 * header, a Bearer/Basic scheme, a JWT, and a secret-named parameter
 * (form or JSON), whatever the direction, and each value is replaced.
 * Over-redacting a debug line is harmless; missing one is not.
 */

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

#define REDACTED	"[redacted]"

/* headers whose whole value is a credential */
static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"x-ms-client-secret", "x-api-key",
};

/* any header whose name holds one of these is treated as a credential */
static const char *const secret_words[] = {
	"token", "secret", "assertion", "password", "passwd", "apikey",
	"api-key", "credential", "session",
};

/* form and JSON parameters whose value is a secret */
static const char *const secret_params[] = {
	"access_token", "refresh_token", "id_token", "client_secret",
	"client_assertion", "assertion", "code", "device_code",
	"code_verifier", "password", "temporaryAccessPass", "token",
	"secret", "pin", "newPin", "currentPin", "passcode",
};

static bool
name_char(unsigned char c)
{
	return (isalnum(c) || c == '_' || c == '-');
}

/* a character of an RFC 6750 b64token, or of a JWT */
static bool
token_char(unsigned char c)
{
	return (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
	    c == '+' || c == '/' || c == '=');
}

static bool
secret_header(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(secret_headers) / sizeof(*secret_headers); i++)
		if (strlen(secret_headers[i]) == len &&
		    strncasecmp(name, secret_headers[i], len) == 0)
			return (true);
	for (i = 0; i < sizeof(secret_words) / sizeof(*secret_words); i++)
		if (text_has_ci(name, len, secret_words[i]))
			return (true);

	return (false);
}

/*
 * "Name: value", "[name: value]" or "h2h3 [name: value]": the offset
 * of the value and its end, if the name is a credential header.
 */
static bool
header_value(const char *s, size_t len, size_t *vs, size_t *ve)
{
	size_t	i = 0, n;

	if (len >= 5 && strncmp(s, "h2h3 ", 5) == 0)
		i = 5;
	while (i < len && s[i] == ' ')
		i++;
	if (i < len && s[i] == '[')
		i++;
	for (n = i; n < len && name_char((unsigned char)s[n]); n++)
		;
	if (n == i || n >= len || s[n] != ':' || !secret_header(s + i, n - i))
		return (false);
	for (n++; n < len && (s[n] == ' ' || s[n] == '\t'); n++)
		;
	*vs = n;
	*ve = len;
	while (*ve > *vs && (s[*ve - 1] == '\r' || s[*ve - 1] == '\n'))
		(*ve)--;
	if (i > 0 && s[i - 1] == '[' && *ve > *vs && s[*ve - 1] == ']')
		(*ve)--;

	return (*ve > *vs);
}

/* "bearer TOKEN" / "basic TOKEN": the token, at s[i] (a word start) */
static size_t
scheme_value(const char *s, size_t len, size_t i, size_t *vs)
{
	static const char *const schemes[] = { "bearer", "basic" };
	size_t	k, sl, n;

	for (k = 0; k < sizeof(schemes) / sizeof(*schemes); k++) {
		sl = strlen(schemes[k]);
		if (i + sl >= len || strncasecmp(s + i, schemes[k], sl) != 0 ||
		    (s[i + sl] != ' ' && s[i + sl] != '\t'))
			continue;
		for (n = i + sl; n < len && (s[n] == ' ' || s[n] == '\t'); n++)
			;
		*vs = n;
		while (n < len && token_char((unsigned char)s[n]))
			n++;
		if (n > *vs)
			return (n);
	}

	return (0);
}

/* a JWT (eyJ...): its end, or 0 */
static size_t
jwt_value(const char *s, size_t len, size_t i)
{
	size_t	n;

	if (len - i < 10 || strncmp(s + i, "eyJ", 3) != 0)
		return (0);
	for (n = i; n < len && token_char((unsigned char)s[n]); n++)
		;
	if (memchr(s + i, '.', n - i) == NULL)
		return (0);

	return (n);
}

/*
 * name=value (form, query) or "name": "value" (JSON) for a secret
 * name at s[i]: the value's start and end, or 0.
 */
static size_t
param_value(const char *s, size_t len, size_t i, size_t *vs)
{
	size_t	k, pl, n;
	bool	json;

	for (k = 0; k < sizeof(secret_params) / sizeof(*secret_params); k++) {
		pl = strlen(secret_params[k]);
		if (i + pl >= len || strncasecmp(s + i, secret_params[k],
		    pl) != 0 || name_char((unsigned char)s[i + pl]))
			continue;
		n = i + pl;
		json = i > 0 && s[i - 1] == '"';
		if (json) {
			if (s[n] != '"')
				continue;
			n++;
			while (n < len && (s[n] == ' ' || s[n] == '\t'))
				n++;
			if (n >= len || s[n] != ':')
				continue;
			n++;
			while (n < len && (s[n] == ' ' || s[n] == '\t'))
				n++;
			if (n >= len)
				continue;
			if (s[n] == '"') {
				*vs = ++n;
				while (n < len && s[n] != '"') {
					if (s[n] == '\\' && n + 1 < len)
						n++;
					n++;
				}
			} else {
				/* a number: a PIN or a code may be one */
				*vs = n;
				while (n < len && strchr(",}] \t\r\n",
				    s[n]) == NULL)
					n++;
			}
		} else {
			if (s[n] != '=')
				continue;
			*vs = ++n;
			while (n < len && strchr("&\"', \t\r\n;]}", s[n]) ==
			    NULL)
				n++;
		}
		if (n > *vs)
			return (n);
	}

	return (0);
}

static void
put_redacted(struct buf *b)
{
	buf_append(b, REDACTED, sizeof(REDACTED) - 1);
}

char *
http_redact(const char *s, size_t len)
{
	struct buf	 b;
	size_t		 i, vs, ve, n;
	char		*out;

	/* each value of >= 1 byte becomes 10: a bounded growth */
	buf_init(&b, len * sizeof(REDACTED) + 64);
	if (header_value(s, len, &vs, &ve)) {
		buf_append(&b, s, vs);
		put_redacted(&b);
		buf_append(&b, s + ve, len - ve);
		goto done;
	}
	for (i = 0; i < len;) {
		/* only at the start of a word: "code" is not in "errcode" */
		if (i > 0 && name_char((unsigned char)s[i - 1])) {
			buf_append(&b, s + i++, 1);
			continue;
		}
		if ((n = scheme_value(s, len, i, &vs)) > 0 ||
		    (n = param_value(s, len, i, &vs)) > 0) {
			buf_append(&b, s + i, vs - i);
			put_redacted(&b);
			i = n;
		} else if ((n = jwt_value(s, len, i)) > 0) {
			put_redacted(&b);
			i = n;
		} else
			buf_append(&b, s + i++, 1);
	}
done:
	if ((out = (char *)buf_release(&b, &n)) == NULL)
		return (NULL);

	return (out);
}

bool
http_value_ok(const char *s)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0')
		return (false);
	/* printable ASCII only: no CR/LF to split a header, no NUL, no DEL */
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			return (false);

	return (true);
}
