/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: a user object, a page of (transitive) members with
 * its @odata.nextLink, and the Graph error envelope.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

static int
count(void *arg, const graph_user_t *u)
{
	size_t *n = arg;

	*n += strlen(graph_user_id(u)) + strlen(graph_user_upn(u)) +
	    strlen(graph_user_type(u)) + graph_user_enabled(u);

	return (*n > 100000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	graph_user_t		*u = NULL;
	struct graph_err	 e;
	json_t			*j;
	char			*next = NULL;
	size_t			 n = 0;
	int			 stopped;

	if (parse_error((const char *)data, size, &e) == 0) {
		sink += strlen(e.code) + (e.request_id ? strlen(e.request_id) :
		    0);
		graph_err_reset(&e);
	}
	if ((j = json_parse((const char *)data, size)) == NULL)
		return (0);
	if (parse_user(j, &u) == 0) {
		sink += strlen(graph_user_display_name(u));
		graph_user_free(&u);
	}
	if (parse_user_page(j, count, &n, &next, &stopped) == 0)
		sink += n + (next != NULL ? strlen(next) : 0);
	free(next);
	json_decref(j);

	return (0);
}
