/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Reading back a --pins-out file this tool wrote: a re-run (or the
 * next round of auto) must know the PINs it gave keys, or it would set
 * its own keys aside as "already has a PIN".
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "report.h"

#define PINS_MAX_FILE	(16 * 1024 * 1024)
#define CELL_MAX	1024

/*
 * One RFC 4180 cell from *pp into out (at most outlen - 1 bytes);
 * returns the delimiter that ended it (',', '\n' or '\0'), or -1.
 */
static int
next_cell(const char **pp, const char *end, char *out, size_t outlen)
{
	const char	*p = *pp;
	size_t		 n = 0;
	bool		 quoted = false;

	if (p < end && *p == '"') {
		quoted = true;
		p++;
	}
	for (; p < end; p++) {
		if (quoted && *p == '"') {
			if (p + 1 < end && p[1] == '"') {
				p++;
			} else {
				quoted = false;
				continue;
			}
		} else if (!quoted && (*p == ',' || *p == '\n'))
			break;
		else if (!quoted && *p == '\r')
			continue;
		if (n + 1 >= outlen)
			return (-1);
		out[n++] = *p;
	}
	out[n] = '\0';
	if (quoted)
		return (-1);
	*pp = p < end ? p + 1 : p;

	return (p < end ? *p : '\0');
}

int
report_pins_load(const char *path, report_pins_cb *cb, void *arg,
    char *err, size_t errlen)
{
	struct stat	 st;
	unsigned char	*buf = NULL;
	const char	*p, *end;
	char		 cell[4][CELL_MAX];
	size_t		 len = 0, line = 0;
	int		 fd = -1, d, i, r = REPORT_ERR_IO;

	errf(err, errlen, "%s", "");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return (REPORT_OK);	/* nothing written yet */
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return (REPORT_ERR_IO);
	}
	/* the same rule as for writing: ours, and no one else's to read */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		errf(err, errlen, "%s is not a PIN file of ours (a regular "
		    "file owned by us, mode 0600); its PINs are not used",
		    path);
		r = REPORT_ERR_PERM;
		goto fail;
	}
	close(fd);
	fd = -1;
	if (read_file_max(path, PINS_MAX_FILE, &buf, &len) < 0) {
		errf(err, errlen, "%s: cannot read it", path);
		goto fail;
	}
	p = (const char *)buf;
	end = p + len;
	while (p < end) {
		line++;
		for (i = 0, d = ','; i < 4 && d == ','; i++)
			if ((d = next_cell(&p, end, cell[i], CELL_MAX)) < 0)
				break;
		if (d < 0 || i != 4 || d == ',') {
			errf(err, errlen, "%s: line %zu is not time,user,"
			    "device,pin", path, line);
			r = REPORT_ERR_FORMAT;
			goto fail;
		}
		if (line == 1 && strcmp(cell[3], "pin") == 0)
			continue;
		if (cb(arg, csv_unescape(cell[2]), cell[3]) < 0) {
			r = REPORT_ERR_INTERNAL;
			goto fail;
		}
	}
	r = REPORT_OK;
fail:
	wipe(cell, sizeof(cell));
	if (buf != NULL)
		freezero_buf(buf, len);
	if (fd >= 0)
		close(fd);

	return (r);
}
