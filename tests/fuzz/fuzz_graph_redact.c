/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the -vv trace redactor (redact.c) on any line, and
 * the header-value check.  A credential header line keeps only its name.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "graph_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*in = (const char *)data;
	char		*r, *s;

	if (size > 16384)
		return (0);
	/* the input is a length, not a string: NULs and all */
	if ((r = http_redact(in, size)) != NULL) {
		if (size > 15 && memchr(in, '\0', size) == NULL &&
		    strncasecmp(in, "authorization:", 14) == 0 &&
		    in[14] != ' ' && in[14] != '\t' && in[14] != '\r' &&
		    in[14] != '\n' &&
		    strncmp(r + 14, "[redacted]", 10) != 0)
			abort();
		sink += strlen(r);
		freezero_str(r);
	}
	if ((s = strndup(in, size)) != NULL) {
		sink += http_value_ok(s);
		free(s);
	}

	return (0);
}
