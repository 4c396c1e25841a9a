/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/stat.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ctap.h"
#include "extern.h"

/* what an authenticator error means for the process exit status */
int
cli_ctap_exit(int r)
{
	switch (r) {
	case CTAP_OK:
		return (EXIT_OK);
	case CTAP_ERR_ARG:
	case CTAP_ERR_PIN_POLICY:
		return (EXIT_USAGE);
	case CTAP_ERR_CANCELLED:
		return (EXIT_INTR);
	default:
		return (EXIT_KEY);
	}
}

/*
 * The state directory holds the token cache and the journal: create it
 * 0700 and refuse one that others can write.
 */
int
state_dir_ensure(const struct prov_ctx *ctx)
{
	struct stat st;

	if (mkdir_p(ctx->state_dir, 0700) < 0 || stat(ctx->state_dir,
	    &st) < 0) {
		fprintf(stderr, "provisioning: cannot create state directory "
		    "%s: %s\n", ctx->state_dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode) || (st.st_mode & 022) != 0) {
		fprintf(stderr, "provisioning: state directory %s is writable "
		    "by others; chmod 700 it\n", ctx->state_dir);
		return (-1);
	}

	return (0);
}

/* one compact JSON line on stdout; takes the reference to o */
int
cli_print_json(json_t *o)
{
	char *s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(o);
		return (-1);
	}
	printf("%s\n", s);
	free(s);
	json_decref(o);

	return (0);
}
