/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Display names: the --display-name template, the cleaning every name
 * gets, and the cut to what Graph stores (UTF-16 units, not bytes).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "webauthn_int.h"

void
webauthn_truncate_utf8(char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, units = 0, n, len;

	if (s == NULL)
		return;
	len = strlen(s);
	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			n = 1;
		/* what Graph counts: UTF-16 code units */
		if (units + (n == 4 ? 2 : 1) > max)
			break;
		units += n == 4 ? 2 : 1;
		i += n;
	}
	s[i] = '\0';
	while (i > 0 && s[i - 1] == ' ')
		s[--i] = '\0';
}

/*
 * Control characters become spaces, invalid UTF-8 becomes '?', blank
 * runs collapse, the ends are trimmed.  In place: never grows.
 */
void
webauthn_sanitize(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 i = 0, o = 0, n, len = strlen(s);

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0) {
			p[i] = '?';
			n = 1;
		} else if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			p[i] = ' ';
		if (n == 1 && p[i] == ' ' && (o == 0 || p[o - 1] == ' ')) {
			i++;
			continue;
		}
		memmove(p + o, p + i, n);
		o += n;
		i += n;
	}
	while (o > 0 && p[o - 1] == ' ')
		o--;
	p[o] = '\0';
}

/* count UTF-16 units of a valid UTF-8 string */
size_t
webauthn_utf16_units(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, u = 0, n, len = strlen(s);

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			n = 1;
		u += n == 4 ? 2 : 1;
		i += n;
	}

	return (u);
}

/* today, UTC, YYYY-MM-DD */
static void
today(char *buf, size_t len)
{
	struct tm	tm;
	time_t		t = time(NULL);

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "%s", "");
}

int
webauthn_display_name(const char *tmpl, const char *upn, const char *name,
    const char *model, const char *aaguid, const char *serial,
    const char *date, char **out)
{
	struct {
		const char	*key;
		const char	*val;
	} vars[] = {
		{ "upn", upn }, { "name", name }, { "model", model },
		{ "serial", serial }, { "date", date }, { "aaguid", aaguid },
	};
	struct buf	 b;
	char		 datebuf[16];
	char		*s = NULL;
	const char	*p, *e, *val;
	size_t		 len, klen, vlen, i;
	int		 r;

	if (out == NULL)
		return (WEBAUTHN_ERR_ARG);
	*out = NULL;
	/* past any expansion: STR_MAX / 5 "{upn}"s of STR_MAX bytes each */
	buf_init(&b, WEBAUTHN_STR_MAX * WEBAUTHN_STR_MAX / 4);
	if (date == NULL) {
		today(datebuf, sizeof(datebuf));
		vars[4].val = datebuf;
	}
	if (tmpl == NULL)
		tmpl = (model != NULL && *model != '\0') ?
		    WEBAUTHN_DISPLAY_DEFAULT : WEBAUTHN_DISPLAY_FALLBACK;
	if (strlen(tmpl) > WEBAUTHN_STR_MAX)
		return (WEBAUTHN_ERR_ARG);
	for (p = tmpl; *p != '\0'; p = e) {
		val = p;
		vlen = 1;
		e = p + 1;
		if (*p == '{') {
			if ((e = strchr(p, '}')) == NULL) {
				r = WEBAUTHN_ERR_ARG;
				goto fail;
			}
			klen = (size_t)(e - p - 1);
			e++;
			val = NULL;
			for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
				if (strlen(vars[i].key) == klen &&
				    memcmp(vars[i].key, p + 1, klen) == 0)
					val = vars[i].val != NULL ?
					    vars[i].val : "";
			if (val == NULL) {
				r = WEBAUTHN_ERR_ARG;
				goto fail;
			}
			vlen = strnlen(val, WEBAUTHN_STR_MAX);
		}
		if (buf_append(&b, val, vlen) < 0) {
			r = WEBAUTHN_ERR_INTERNAL;
			goto fail;
		}
	}
	if ((s = (char *)buf_release(&b, &len)) == NULL) {
		r = WEBAUTHN_ERR_INTERNAL;
		goto fail;
	}
	webauthn_sanitize(s);
	if (*s == '\0') {
		free(s);
		if ((s = strdup("Security key")) == NULL) {
			r = WEBAUTHN_ERR_INTERNAL;
			goto fail;
		}
	}
	*out = s;
	s = NULL;
	r = WEBAUTHN_OK;
fail:
	buf_reset(&b);
	free(s);

	return (r);
}
