/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Integer parsing for argv, environment variables, fault specs and
 * the numbers-as-strings in JSON: the whole string or nothing.
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "common.h"

/*
 * strtoll() alone skips leading white space, takes a '+', reads octal
 * under base 0 and clamps on overflow: each lets a typo through as a
 * different number.  Here the string is [-]DIGITS, or with `hex` also
 * 0xHEXDIGITS, and nothing else.
 */
static int
parse(const char *s, bool hex, long long min, long long max, long long *out)
{
	const char	*p;
	char		*end;
	long long	 v;
	int		 base = 10;

	if (s == NULL || min > max) {
		errno = EINVAL;
		return (-1);
	}
	p = s[0] == '-' ? s + 1 : s;
	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		p = s + 2;
	}
	/* a digit first: no space, no '+', no bare "0x" */
	if ((base == 10 && (*p < '0' || *p > '9')) || (base == 16 &&
	    !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
	    (*p >= 'A' && *p <= 'F')))) {
		errno = EINVAL;
		return (-1);
	}
	errno = 0;
	/* from s, so strtoll's own 0x skip cannot let "0x0x1" through */
	v = strtoll(s, &end, base);
	if (errno != 0 || *end != '\0') {
		if (errno == 0)
			errno = EINVAL;
		return (-1);
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return (-1);
	}
	*out = v;

	return (0);
}

int
parse_ll(const char *s, long long min, long long max, long long *out)
{
	return (parse(s, false, min, max, out));
}

int
parse_llx(const char *s, long long min, long long max, long long *out)
{
	return (parse(s, true, min, max, out));
}

int
parse_int_range(const char *s, int min, int max, int *out)
{
	long long	v;

	if (parse(s, false, min, max, &v) < 0)
		return (-1);
	*out = (int)v;

	return (0);
}
