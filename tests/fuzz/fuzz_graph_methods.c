/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: fido2Methods and temporaryAccessPassMethods lists
 * and the single-method reply of a registration, with the credential id
 * matching the re-registration check relies on.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "graph_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	graph_methods_t		*l = NULL;
	graph_method_t		*m = NULL;
	graph_taps_t		*t = NULL;
	const graph_method_t	*f;
	json_t			*j;
	size_t			 i;

	if ((j = json_parse((const char *)data, size)) == NULL)
		return (0);
	if (parse_methods(j, &l) == 0) {
		for (i = 0; i < graph_methods_len(l); i++) {
			f = graph_methods_get(l, i);
			sink += strlen(graph_method_id(f)) +
			    strlen(graph_method_aaguid(f)) +
			    strlen(graph_method_created(f));
			sink += graph_method_id_matches(graph_method_id(f),
			    "GshyINLMaOOwqt1LNUi0gQ");
		}
		f = graph_methods_find_cred(l, "MMeD8wrNCZ-0hbfdYvvAIzrsrTGd_"
		    "uXdt2iXbYlGJSs");
		sink += f != NULL;
		graph_methods_free(&l);
	}
	if (parse_method(j, &m) == 0) {
		sink += strlen(graph_method_model(m));
		graph_method_free(&m);
	}
	if (parse_taps(j, &t) == 0) {
		for (i = 0; i < graph_taps_len(t); i++)
			sink += strlen(graph_taps_id(t, i)) +
			    (size_t)graph_taps_lifetime(t, i);
		graph_taps_free(&t);
	}
	json_decref(j);

	return (0);
}
