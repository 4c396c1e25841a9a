/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The users of `--csv FILE`: bad rows and duplicates become failures
 * file lines before the run starts, then the good rows are read again
 * one at a time as the pipeline takes them, so a file of any length
 * costs no memory per row.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "csvin.h"
#include "enroll.h"
#include "extern.h"
#include "report.h"

struct cli_csv_users {
	csvin_t		*c;
	char		*path;
	char		*ref;		/* the row last given */
	int		 failed;	/* said once */
};

static int
csv_next(void *arg, struct enroll_user *u)
{
	struct cli_csv_users	*cu = arg;
	csvin_row_t		 row;
	int			 r;

	if (cu->failed)
		return (-1);
	for (;;) {
		if ((r = csvin_next(cu->c, &row)) == CSVIN_END)
			return (1);
		if (r != CSVIN_OK) {
			fprintf(stderr, "provisioning: %s: %s\n", cu->path,
			    csvin_strerr(r));
			cu->failed = 1;
			return (-1);
		}
		if (row.status == CSVIN_ROW_OK)
			break;
	}
	free(cu->ref);
	if ((cu->ref = strdup(row.user)) == NULL) {
		fprintf(stderr, "provisioning: out of memory\n");
		return (-1);
	}
	memset(u, 0, sizeof(*u));
	u->ref = cu->ref;
	u->line = row.line;

	return (0);
}

static int
csv_rewind(void *arg)
{
	struct cli_csv_users *cu = arg;

	csvin_rewind(cu->c);

	return (0);
}

/* a bad row or a duplicate: a failures file line and a word on stderr */
static int
row_failed(const char *path, const csvin_row_t *row, report_t **fails,
    const struct enroll_opts *o)
{
	struct report_failure	 rf;
	char			 err[512], msg[600];

	if (*fails == NULL && report_open(o->failures_path, REPORT_FAILURES,
	    fails, err, sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		return (-1);
	}
	if (row->status == CSVIN_ROW_DUPLICATE)
		snprintf(msg, sizeof(msg), "line %zu: duplicate of line %zu; "
		    "enrolled once", row->line, row->dup_of);
	else
		snprintf(msg, sizeof(msg), "line %zu: %s", row->line,
		    row->reason);
	memset(&rf, 0, sizeof(rf));
	rf.user = row->user[0] ? row->user : row->excerpt;
	rf.stage = "csv";
	rf.error_code = row->code;
	rf.message = msg;
	if (report_failure(*fails, &rf) != REPORT_OK)
		return (-1);
	/* the reason may quote the hostile cell */
	fprintf(stderr, "provisioning: %s: %s\n", path, cli_safe(msg));

	return (0);
}

/*
 * Open the CSV file, write its bad rows to the failures file (*bad of
 * them) and make `src` give its good rows.  EXIT_OK, or an exit code
 * having said why.
 */
int
cli_csv_users_open(const char *path, const struct enroll_opts *o,
    struct cli_csv_users **cup, struct enroll_source *src, size_t *bad)
{
	struct cli_csv_users	*cu = NULL;
	csvin_row_t		 row;
	report_t		*fails = NULL;
	char			 err[512];
	int			 r = EXIT_USAGE, cr;

	*cup = NULL;
	*bad = 0;
	if ((cu = calloc(1, sizeof(*cu))) == NULL ||
	    (cu->path = strdup(path)) == NULL) {
		fprintf(stderr, "provisioning: out of memory\n");
		goto fail;
	}
	if (csvin_open(path, &cu->c, err, sizeof(err)) != CSVIN_OK) {
		fprintf(stderr, "provisioning: %s: %s\n", path, err);
		goto fail;
	}
	if (csvin_count_status(cu->c, CSVIN_ROW_ERROR) +
	    csvin_count_status(cu->c, CSVIN_ROW_DUPLICATE) > 0) {
		while ((cr = csvin_next(cu->c, &row)) == CSVIN_OK) {
			if (row.status == CSVIN_ROW_OK)
				continue;
			if (row_failed(path, &row, &fails, o) < 0)
				goto fail;
			(*bad)++;
		}
		if (cr != CSVIN_END) {
			fprintf(stderr, "provisioning: %s: %s\n", path,
			    csvin_strerr(cr));
			goto fail;
		}
		csvin_rewind(cu->c);
	}
	memset(src, 0, sizeof(*src));
	src->total = csvin_count_status(cu->c, CSVIN_ROW_OK);
	src->next = csv_next;
	src->rewind = csv_rewind;
	src->arg = cu;
	*cup = cu;
	cu = NULL;
	r = EXIT_OK;
fail:
	if (report_close(&fails, err, sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: cannot write the failures "
		    "file: %s\n", err);
		r = EXIT_USAGE;
		cli_csv_users_free(cup);
	}
	cli_csv_users_free(&cu);

	return (r);
}

void
cli_csv_users_free(struct cli_csv_users **cup)
{
	struct cli_csv_users *cu;

	if (cup == NULL || (cu = *cup) == NULL)
		return;
	csvin_free(&cu->c);
	free(cu->path);
	free(cu->ref);
	free(cu);
	*cup = NULL;
}

/* for queue add: the same users enroll would take, as a list */
int
cli_users_csv(const char *path, const struct enroll_opts *o,
    struct enroll_list *l, size_t *bad)
{
	struct cli_csv_users	*cu = NULL;
	struct enroll_source	 src;
	struct enroll_user	 u;
	int			 r, sr;

	if ((r = cli_csv_users_open(path, o, &cu, &src, bad)) != EXIT_OK)
		return (r);
	while ((sr = src.next(src.arg, &u)) == 0)
		if (enroll_list_add(l, u.ref, NULL, NULL, u.line) < 0) {
			sr = -1;
			break;
		}
	cli_csv_users_free(&cu);

	return (sr < 0 ? EXIT_USAGE : EXIT_OK);
}
