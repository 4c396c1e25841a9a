/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Choosing the one key a single-key command works on.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctap.h"
#include "extern.h"

/*
 * --device wins; otherwise exactly one usable key must be attached
 * (USB or in --virtual-keys).  Returns EXIT_OK with *path set, or an
 * EXIT_* code after telling the operator what to do.
 */
int
key_pick(const struct prov_ctx *ctx, char **path)
{
	ctap_devlist_t	*l = NULL;
	size_t		 i, n, usable = 0, pick = 0;
	int		 r = EXIT_KEY;

	*path = NULL;
	if (ctx->device != NULL) {
		if ((*path = strdup(ctx->device)) == NULL)
			return (EXIT_KEY);
		return (EXIT_OK);
	}
	if ((l = ctap_devlist_new()) == NULL ||
	    ctap_devlist_scan(l, NULL, ctx->virtual_keys, true) != CTAP_OK) {
		fprintf(stderr, "provisioning: cannot list security keys\n");
		goto fail;
	}
	n = ctap_devlist_len(l);
	for (i = 0; i < n; i++) {
		if (ctap_devlist_status(l, i) == CTAP_OK) {
			if (usable++ == 0)
				pick = i;
		} else
			fprintf(stderr, "provisioning: ignoring %s: %s\n",
			    ctap_devlist_path(l, i),
			    ctap_strerr(ctap_devlist_status(l, i)));
	}
	if (usable == 0) {
		fprintf(stderr, "provisioning: no FIDO2 security key found; "
		    "plug one in (and check its udev permissions), or name "
		    "one with --device\n");
		goto fail;
	}
	if (usable > 1) {
		fprintf(stderr, "provisioning: %zu keys attached; choose one "
		    "with --device (see 'provisioning devices')\n", usable);
		r = EXIT_USAGE;
		goto fail;
	}
	if ((*path = strdup(ctap_devlist_path(l, pick))) == NULL)
		goto fail;
	r = EXIT_OK;
fail:
	ctap_devlist_free(&l);

	return (r);
}

/* open the key at path, or say why not */
int
key_open(const char *path, ctap_dev_t **out)
{
	ctap_dev_t	*d = NULL;
	int		 r;

	*out = NULL;
	if ((d = ctap_dev_new()) == NULL)
		return (EXIT_KEY);
	if ((r = ctap_dev_open(d, path)) != CTAP_OK) {
		fprintf(stderr, "provisioning: %s: %s\n", path,
		    ctap_strerr(r));
		ctap_dev_free(&d);
		return (cli_ctap_exit(r));
	}
	*out = d;

	return (EXIT_OK);
}
