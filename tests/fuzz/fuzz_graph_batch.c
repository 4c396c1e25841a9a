/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: a JSON $batch reply for 20 requests (ids, statuses,
 * inner Retry-After, bodies read as fido2Methods lists).
 */

#include <stddef.h>
#include <stdint.h>

#include "graph_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_item	 it[GRAPH_BATCH_MAX];
	json_t			*j;
	size_t			 i;

	if ((j = json_parse((const char *)data, size)) == NULL)
		return (0);
	if (parse_batch(j, GRAPH_BATCH_MAX, it) == 0) {
		for (i = 0; i < GRAPH_BATCH_MAX; i++) {
			sink += (size_t)it[i].status +
			    (size_t)it[i].retry_after;
			sink += json_array_size(json_object_get(it[i].body,
			    "value"));
		}
	}
	json_decref(j);

	return (0);
}
