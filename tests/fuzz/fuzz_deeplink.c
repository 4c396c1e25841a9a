/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: entra-provision:// links (src/formats/deeplink.c).  A link
 * that parses must satisfy what deeplink.h promises: a valid user of
 * the kind reported, a valid tenant or none, a display name without
 * control characters; one that does not must leave nothing behind.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csvin.h"
#include "deeplink.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deeplink	 dl;
	char		*url, err[256];
	size_t		 i;
	int		 r;

	if (size > DEEPLINK_MAX_URL + 64)
		return (0);
	if ((url = malloc(size + 1)) == NULL)
		return (0);
	memcpy(url, data, size);
	url[size] = '\0';
	r = deeplink_parse(url, &dl, err, sizeof(err));
	if (r != DEEPLINK_OK) {
		if (dl.user[0] != '\0' || dl.tenant[0] != '\0' ||
		    strlen(err) == 0)
			abort();
		free(url);
		return (0);
	}
	if (strlen(url) > DEEPLINK_MAX_URL ||
	    csvin_user_kind(dl.user, strlen(dl.user)) != dl.user_kind ||
	    dl.user_kind == CSVIN_USER_NONE ||
	    (dl.tenant[0] != '\0' && !deeplink_tenant_valid(dl.tenant)))
		abort();
	for (i = 0; dl.user[i] != '\0'; i++)
		if ((unsigned char)dl.user[i] <= 0x20 ||
		    (unsigned char)dl.user[i] >= 0x7f)
			abort();
	for (i = 0; dl.display[i] != '\0'; i++)
		if ((unsigned char)dl.display[i] < 0x20 ||
		    dl.display[i] == 0x7f)
			abort();
	free(url);

	return (0);
}
