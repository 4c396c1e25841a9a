/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * base64 and base64url on top of OpenSSL's EVP block codec.  Decoding
 * is strict: a string decodes only if re-encoding gives it back, so
 * stray bits, whitespace and odd padding are refused.
 */

#include <openssl/evp.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int
encode(const unsigned char *ptr, size_t len, int url, char **out)
{
	char	*s;
	size_t	 n, i;

	*out = NULL;
	if (len > B64_MAXLEN)
		return (-1);
	n = 4 * ((len + 2) / 3);
	if ((s = malloc(n + 1)) == NULL)
		return (-1);
	if (EVP_EncodeBlock((unsigned char *)s, ptr, (int)len) != (int)n) {
		free(s);
		return (-1);
	}
	s[n] = '\0';
	if (url) {
		for (i = 0; i < n; i++) {
			if (s[i] == '+')
				s[i] = '-';
			else if (s[i] == '/')
				s[i] = '_';
			else if (s[i] == '=') {
				s[i] = '\0';
				break;
			}
		}
	}
	*out = s;

	return (0);
}

int
b64url_encode(const unsigned char *ptr, size_t len, char **out)
{
	return (encode(ptr, len, 1, out));
}

int
b64_encode(const unsigned char *ptr, size_t len, char **out)
{
	return (encode(ptr, len, 0, out));
}

/*
 * Decode `len` chars of s, written in alphabet `url` (1) or standard (0),
 * padded with '=' (std may carry them; url must not).  Strict.
 */
static int
decode(const char *s, size_t len, int url, unsigned char **out,
    size_t *outlen)
{
	char		*t = NULL, *chk = NULL;
	unsigned char	*b = NULL;
	size_t		 i, tlen, pad = 0, blen;
	int		 r = -1, n;

	*out = NULL;
	*outlen = 0;
	if (len > B64_MAXLEN)
		goto fail;
	if (!url) {
		while (pad < 2 && len > 0 && s[len - 1] == '=') {
			len--;
			pad++;
		}
	}
	if (len % 4 == 1)
		goto fail;
	tlen = len + (4 - len % 4) % 4;
	if (pad != 0 && pad != tlen - len)
		goto fail;
	if ((t = malloc(tlen + 1)) == NULL ||
	    (b = malloc(tlen / 4 * 3 + 1)) == NULL)
		goto fail;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			t[i] = c;
		else if (c == (url ? '-' : '+'))
			t[i] = '+';
		else if (c == (url ? '_' : '/'))
			t[i] = '/';
		else
			goto fail;
	}
	for (; i < tlen; i++)
		t[i] = '=';
	t[tlen] = '\0';
	if (tlen == 0) {
		blen = 0;
	} else {
		if ((n = EVP_DecodeBlock(b, (unsigned char *)t,
		    (int)tlen)) < 0)
			goto fail;
		blen = (size_t)n - (tlen - len);
	}
	/* canonical: re-encoding must give the input back */
	if (encode(b, blen, 0, &chk) < 0 || strlen(chk) != tlen)
		goto fail;
	if (memcmp(chk, t, tlen) != 0)
		goto fail;
	b[blen] = 0;
	*out = b;
	*outlen = blen;
	b = NULL;
	r = 0;
fail:
	free(t);
	free(chk);
	free(b);

	return (r);
}

int
b64url_decode(const char *s, unsigned char **out, size_t *outlen)
{
	return (decode(s, strlen(s), 1, out, outlen));
}

int
b64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	return (decode(s, strlen(s), 0, out, outlen));
}

void
b64_any_reset(struct b64_any *a)
{
	int i;

	for (i = 0; i < 2; i++) {
		freezero_buf(a->ptr[i], a->len[i]);
		a->ptr[i] = NULL;
		a->len[i] = 0;
	}
	a->n = 0;
}

static void
any_add(struct b64_any *a, unsigned char *p, size_t len)
{
	if (a->n == 1 && a->len[0] == len && memcmp(a->ptr[0], p, len) == 0) {
		free(p);
		return;
	}
	a->ptr[a->n] = p;
	a->len[a->n] = len;
	a->n++;
}

/*
 * Graph hands out ids as standard base64, base64url, or base64url
 * followed by one digit that counts the stripped '=' (ASP.NET's
 * UrlTokenEncode).  Try every reading that decodes strictly.
 */
int
b64_decode_any(const char *s, struct b64_any *a)
{
	unsigned char	*p;
	size_t		 len, plen;
	int		 std = 0;

	memset(a, 0, sizeof(*a));
	len = strlen(s);
	if (len == 0 || len > B64_MAXLEN)
		return (-1);
	if (strpbrk(s, "+/=") != NULL)
		std = 1;
	if (std) {
		if (decode(s, len, 0, &p, &plen) < 0)
			return (-1);
		any_add(a, p, plen);
		return (0);
	}
	if (decode(s, len, 1, &p, &plen) == 0)
		any_add(a, p, plen);
	/* a lone digit would be an empty id, not a reading */
	if (len > 1 && s[len - 1] >= '0' && s[len - 1] <= '2' &&
	    (len - 1 + (size_t)(s[len - 1] - '0')) % 4 == 0 &&
	    decode(s, len - 1, 1, &p, &plen) == 0)
		any_add(a, p, plen);

	return (a->n > 0 ? 0 : -1);
}

int
hex_encode(const unsigned char *ptr, size_t len, char **out)
{
	static const char	 hex[] = "0123456789abcdef";
	char			*s;
	size_t			 i;

	if (len > B64_MAXLEN || (s = malloc(2 * len + 1)) == NULL) {
		*out = NULL;
		return (-1);
	}
	for (i = 0; i < len; i++) {
		s[2 * i] = hex[ptr[i] >> 4];
		s[2 * i + 1] = hex[ptr[i] & 0xf];
	}
	s[2 * len] = '\0';
	*out = s;

	return (0);
}
