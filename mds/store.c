/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The stored metadata in the state directory, and the update rule: a
 * BLOB replaces it only once fully verified and only with a `no` at
 * least as high (a lower one is a replay of old metadata, which could
 * bring back a revoked model).  The file is written atomically (a
 * mkstemp O_EXCL temporary of mode 0600, fsync, rename), so a reader
 * sees the old or the new metadata, never a part.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mds_int.h"

int
mds_load_buf(const void *ptr, size_t len, mds_t **out)
{
	if (out == NULL)
		return (MDS_ERR_ARG);
	*out = NULL;
	if (ptr == NULL || len == 0)
		return (MDS_ERR_FORMAT);
	if (len > MDS_BLOB_MAX)
		return (MDS_ERR_TOO_BIG);

	return (mds_parse_json(ptr, len, out, NULL, 0));
}

int
mds_load(const char *path, mds_t **out)
{
	unsigned char	*buf = NULL;
	size_t		 len;
	int		 r;

	if (out == NULL || path == NULL)
		return (MDS_ERR_ARG);
	*out = NULL;
	errno = 0;
	if (read_file_max(path, MDS_BLOB_MAX, &buf, &len) < 0)
		return (errno == ENOENT ? MDS_ERR_NOT_FOUND : errno == EFBIG ?
		    MDS_ERR_TOO_BIG : MDS_ERR_IO);
	r = mds_load_buf(buf, len, out);
	free(buf);

	return (r);
}

int
mds_store(const mds_t *m, const char *path)
{
	char	*s;
	int	 r = MDS_OK;

	if (m == NULL || path == NULL)
		return (MDS_ERR_ARG);
	if ((s = mds_dump(m)) == NULL)
		return (MDS_ERR_NOMEM);
	if (write_file_atomic(path, s, strlen(s), 0600) < 0)
		r = MDS_ERR_IO;
	free(s);

	return (r);
}

int
mds_update(const mds_roots_t *roots, const void *blob, size_t len,
    const char *path, mds_t **out, bool *updated, char *err, size_t errlen)
{
	mds_t	*m = NULL, *old = NULL;
	int	 r;

	if (out != NULL)
		*out = NULL;
	if (updated == NULL || path == NULL)
		return (MDS_ERR_ARG);
	*updated = false;
	if ((r = mds_blob_verify(roots, blob, len, &m, err, errlen)) !=
	    MDS_OK)
		goto fail;
	if ((r = mds_load(path, &old)) == MDS_OK) {
		if (m->no < old->no) {
			errf(err, errlen, "BLOB no %lld is lower than the "
			    "stored no %lld (a replay of older metadata); "
			    "the stored metadata is kept", m->no, old->no);
			r = MDS_ERR_ROLLBACK;
			goto fail;
		}
		if (m->no == old->no) {
			/* the same serial is the same BLOB: keep the file */
			if (out != NULL) {
				*out = old;
				old = NULL;
			}
			r = MDS_OK;
			goto fail;
		}
	} else if (r != MDS_ERR_NOT_FOUND) {
		/* an unreadable store must not block good metadata */
		log_warn("%s: %s; replacing it", path, mds_strerr(r));
	}
	if ((r = mds_store(m, path)) != MDS_OK) {
		errf(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		goto fail;
	}
	*updated = true;
	if (out != NULL) {
		*out = m;
		m = NULL;
	}
	r = MDS_OK;
fail:
	mds_free(&m);
	mds_free(&old);

	return (r);
}
