/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the FIDO2 authentication method policy (with
 * passkey profiles) and the decisions doctor makes from it.
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
	graph_policy_t	*p = NULL;
	json_t		*j;
	const char	*why;
	size_t		 i;
	int		 x;

	if ((j = json_parse((const char *)data, size)) == NULL)
		return (0);
	if (parse_policy(j, &p) == 0) {
		sink += graph_policy_enabled(p) + graph_policy_self_service(p) +
		    graph_policy_attestation_enforced(p) +
		    graph_policy_keys_allow(p) + graph_policy_profiles_len(p);
		for (i = 0; i < graph_policy_aaguids_len(p); i++)
			sink += strlen(graph_policy_aaguid(p, i));
		for (x = 0; x < 2; x++)
			for (i = 0; i < graph_policy_targets_len(p, x); i++)
				sink += strlen(graph_policy_target_id(p, x, i)) +
				    strlen(graph_policy_target_type(p, x, i));
		sink += graph_policy_aaguid_allowed(p,
		    "a1b2c3d4-0000-4000-8000-00000000beef", &why);
		sink += strlen(why);
		graph_policy_free(&p);
	}
	json_decref(j);

	return (0);
}
