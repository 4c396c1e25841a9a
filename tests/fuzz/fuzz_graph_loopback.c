/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the request head a browser (or anything else on
 * 127.0.0.1) sends to the login's loopback listener, and Retry-After.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "graph_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s, *code, *err, *desc;
	int	 status;

	if (size > 8192 || (s = strndup((const char *)data, size)) == NULL)
		return (0);
	if (loopback_parse(s, "state123", &code, &err, &desc, &status) == 1) {
		sink += (code ? strlen(code) : 0) + (err ? strlen(err) : 0) +
		    (desc ? strlen(desc) : 0);
		freezero_str(code);
		free(err);
		free(desc);
	}
	sink += (size_t)status;
	sink += (size_t)http_parse_retry_after(s, 1700000000LL);
	free(s);

	return (0);
}
