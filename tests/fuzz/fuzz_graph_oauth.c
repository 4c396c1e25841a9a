/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: replies of the identity platform's token and
 * devicecode endpoints (token, device code, OAuth error envelope), and
 * the claims of a JWT as whoami reads them.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*s = (const char *)data;
	struct graph_token	 t;
	struct devcode		 d;
	struct graph_err	 e;
	json_t			*cl;
	char			*tok;

	if (parse_token(s, size, &t) == 0) {
		sink += strlen(t.access) + (t.account ? strlen(t.account) : 0);
		token_reset(&t);
	}
	if (parse_devcode(s, size, &d) == 0) {
		sink += strlen(d.user_code) + (size_t)d.interval;
		devcode_reset(&d);
	}
	if (parse_error(s, size, &e) == 0) {
		sink += strlen(e.code);
		graph_err_reset(&e);
	}
	if ((tok = strndup(s, size)) != NULL) {
		if ((cl = jwt_claims(tok)) != NULL) {
			sink += json_object_size(cl);
			json_decref(cl);
		}
		free(tok);
	}

	return (0);
}
