/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the FIDO MDS3 BLOB (JWS syntax, header, x5c,
 * alg; the chain stops it at the pinned roots), the same bytes as a
 * payload and as a stored file, every accessor on what parses, and
 * the stored form read back (it must parse again, to the same count).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mds_int.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

static void
walk(const mds_t *m)
{
	const mds_entry_t	*e;
	const unsigned char	*der;
	const char		*st, *dt;
	char			*s;
	mds_t			*again = NULL;
	size_t			 i, k, len;

	sink += (size_t)mds_no(m) + strlen(mds_next_update(m)) +
	    mds_stale(m, time(NULL));
	for (i = 0; i < mds_entry_count(m); i++) {
		e = mds_entry_at(m, i);
		if (mds_entry_find(m, mds_entry_aaguid(e)) != e)
			abort();
		sink += strlen(mds_entry_description(e)) +
		    mds_entry_is_revoked_or_compromised(e) +
		    (mds_entry_status(e) != NULL) +
		    (mds_entry_certification_level(e) != NULL);
		for (k = 0; k < mds_entry_report_count(e); k++) {
			mds_entry_report(e, k, &st, &dt);
			sink += strlen(st) + strlen(dt);
		}
		for (k = 0; k < mds_entry_root_count(e); k++) {
			mds_entry_root(e, k, &der, &len);
			sink += len + strlen(mds_entry_root_subject(e, k));
			if (k == 0)
				(void)mds_verify_attestation_chain(e, &der,
				    &len, 1, NULL, 0);
		}
	}
	if ((s = mds_dump(m)) == NULL)
		return;
	if (mds_load_buf(s, strlen(s), &again) != MDS_OK ||
	    mds_entry_count(again) != mds_entry_count(m) ||
	    mds_no(again) != mds_no(m))
		abort();
	mds_free(&again);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mds_roots_t	*roots;
	mds_t			*m = NULL;
	char			 err[256];

	if (roots == NULL && (mds_roots_new(&roots) != MDS_OK ||
	    mds_roots_add_pinned(roots) != MDS_OK))
		abort();
	if (mds_blob_verify(roots, data, size, &m, err, sizeof(err)) ==
	    MDS_OK)
		walk(m);
	mds_free(&m);
	if (mds_parse_json((const char *)data, size, &m, err,
	    sizeof(err)) == MDS_OK)
		walk(m);
	mds_free(&m);

	return (0);
}
