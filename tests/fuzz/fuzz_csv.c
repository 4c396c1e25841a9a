/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the input CSV parser (src/formats/csvin*.c) with small
 * limits, so records over the limit, row caps and resync are reached
 * often.  Every row's invariants are checked: strings present, codes
 * matching the status, excerpts bounded and printable, and fields of
 * secret columns never readable.  The same bytes read as a streamed
 * file, through a window of a few dozen bytes, give the same rows.
 */

#define _GNU_SOURCE	/* memfd_create */
#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "csvin.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

volatile size_t	sink;

static void
quiet(int level, const char *msg)
{
	(void)level;
	(void)msg;
}

/*
 * The same bytes as a streamed file, through a window of a few dozen
 * bytes: the same rows as in memory, or the same failure.
 */
static void
stream_same(const uint8_t *data, size_t size, csvin_limits_t *lim)
{
	csvin_t		*m = NULL, *c = NULL;
	csvin_row_t	 a, b;
	char		 path[64], err[512];
	size_t		 i;
	int		 fd, r, want;

	if ((fd = memfd_create("fuzz_csv", 0)) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	want = csvin_open_mem(data, size, lim, &m, err, sizeof(err));
	r = csvin_open_lim(path, lim, &c, err, sizeof(err));
	if (r != want && r != CSVIN_ERR_INTERNAL && want != CSVIN_ERR_INTERNAL)
		abort();
	if (r == CSVIN_OK && want == CSVIN_OK) {
		if (csvin_count(c) != csvin_count(m))
			abort();
		for (i = 0; csvin_next(c, &a) == CSVIN_OK; i++)
			if (csvin_row(m, i, &b) != CSVIN_OK ||
			    a.line != b.line || a.status != b.status ||
			    a.dup_of != b.dup_of || strcmp(a.user, b.user) ||
			    strcmp(a.code, b.code) ||
			    strcmp(a.excerpt, b.excerpt))
				abort();
		if (i != csvin_count(m))
			abort();
	}
	csvin_free(&m);
	csvin_free(&c);
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	csvin_limits_t	 lim;
	csvin_t		*c = NULL;
	csvin_row_t	 w;
	const char	*f;
	char		 err[512];
	size_t		 i, k, n = 0;

	log_set_handler(quiet);
	memset(&lim, 0, sizeof(lim));
	lim.max_record = 512;
	lim.max_rows = 2000;
	if (csvin_open_mem(data, size, &lim, &c, err, sizeof(err)) !=
	    CSVIN_OK) {
		if (c != NULL || strlen(err) == 0)
			abort();
		lim.max_record = 16 + size % 48;
		stream_same(data, size, &lim);
		return (0);
	}
	lim.max_record = 16 + size % 48;
	stream_same(data, size, &lim);
	lim.max_record = 512;
	if (csvin_user_column(c) == NULL)
		abort();
	while (csvin_next(c, &w) == CSVIN_OK) {
		if (w.index != n++ || w.user == NULL || w.key == NULL ||
		    w.code == NULL || w.reason == NULL || w.excerpt == NULL)
			abort();
		if (strlen(w.excerpt) > 80)
			abort();
		for (i = 0; w.excerpt[i] != '\0'; i++)
			if ((unsigned char)w.excerpt[i] < 0x20)
				abort();
		switch (w.status) {
		case CSVIN_ROW_OK:
			if (*w.code != '\0' || w.kind == CSVIN_USER_NONE ||
			    csvin_user_kind(w.user, strlen(w.user)) != w.kind)
				abort();
			break;
		case CSVIN_ROW_DUPLICATE:
			if (w.dup_of == 0 || w.dup_of >= w.line ||
			    strcmp(w.code, "csv_duplicate") != 0)
				abort();
			break;
		case CSVIN_ROW_ERROR:
			if (*w.code == '\0' || *w.reason == '\0' ||
			    w.kind != CSVIN_USER_NONE)
				abort();
			break;
		default:
			abort();
		}
		for (k = 0; k < csvin_ncols(c); k++) {
			f = csvin_field(c, w.index, csvin_colname(c, k));
			if (f != NULL)
				sink += strlen(f);
			if (csvin_col_secret(c, k) &&
			    csvin_field(c, w.index, csvin_colname(c, k)) !=
			    NULL)
				abort();
		}
	}
	if (n != csvin_count(c) || n != csvin_count_status(c, CSVIN_ROW_OK) +
	    csvin_count_status(c, CSVIN_ROW_ERROR) +
	    csvin_count_status(c, CSVIN_ROW_DUPLICATE))
		abort();
	csvin_free(&c);

	return (0);
}
