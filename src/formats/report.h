/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The files a run leaves for the operator:
 *
 *   report    one row per enrollment: CSV with a header, or JSON
 *             Lines (--json); created 0644, appended (the header only
 *             when the file is new or empty); a row whose credential id
 *             the file holds already is not written again, so writing
 *             the journal's rows after every run adds the new ones and
 *             keeps every earlier row, of this run or any other;
 *   failures  failures.csv, one row per failed user, in the current
 *             directory unless --failures FILE; appended, never
 *             truncated, header only when new or empty, 0644;
 *   pins      --pins-out FILE: time, user, key, PIN; created 0600 with
 *             O_EXCL, or appended to if it exists as a regular file of
 *             ours that no one else can read; otherwise refused.
 *
 * Files in directories others can write: a new file is created with
 * O_EXCL|O_NOFOLLOW and exactly its mode; an existing report or
 * failures file must be a regular file of ours with one link (or a
 * device or pipe, e.g. /dev/stdout), and a symbolic link is followed
 * only if it is ours or root's (REPORT_ERR_PERM otherwise); the pins
 * file must be a regular file, never a link.
 *
 * Every row is one write(2) on an O_APPEND descriptor under flock(2),
 * followed by fsync(2): a row the caller was told is written survives
 * a SIGKILL or a power cut, and rows from several workers or processes
 * never interleave.  Rows are built in memory and wiped after writing.
 *
 * Cells are RFC 4180 quoted (when they hold the delimiter, a quote, CR
 * or LF, or lead/trail with a space).  Control characters other than
 * CR, LF and TAB (C0, DEL and C1, so no terminal escape sequence) and
 * invalid UTF-8 become '?'.
 *
 * Formula injection: a spreadsheet runs a cell that starts with '=',
 * '+', '-', '@', TAB or CR as a formula, and users' names, Graph
 * messages, a hostile CSV or a base64url credential id can start that
 * way.  Every CSV cell (of all three files, the PIN too) that starts
 * with one of those, after any apostrophes, gets a leading "'" (OWASP's
 * advice), so the file is safe to open in Excel.  csv_unescape()
 * (common.h) takes it off again exactly, as our own readers (the report
 * itself, a failures file fed back as input) do.  JSON Lines output is
 * never prefixed.
 *
 * A failed write is remembered: report_close() says which file and
 * why, so a run can end with an error rather than a report it lost.
 */

#ifndef PROV_REPORT_H
#define PROV_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#define REPORT_OK		 0
#define REPORT_ERR_INTERNAL	-1	/* out of memory */
#define REPORT_ERR_ARG		-2
#define REPORT_ERR_IO		-3	/* open, write or fsync failed */
#define REPORT_ERR_PERM		-4	/* not ours, a link someone else
					   planted, a hard link, or (pins)
					   readable by others */
#define REPORT_ERR_FORMAT	-5	/* a file of ours that is not */

enum report_kind {
	REPORT_SUCCESS_CSV,
	REPORT_SUCCESS_JSONL,
	REPORT_FAILURES,
	REPORT_PINS,
};

#define REPORT_FAILURES_DEFAULT	"failures.csv"

typedef struct report report_t;

struct report_success {
	const char	*user;		/* UPN */
	const char	*user_id;	/* object id */
	const char	*method_id;
	const char	*credential_id;	/* base64url */
	const char	*aaguid;
	const char	*model;
	const char	*display_name;	/* of the passkey */
	const char	*device;	/* key path or serial */
	const char	*attestation;	/* Graph's attestationLevel */
	/* new columns go last: scripts read the old ones by position */
	const char	*passkey_type;	/* Graph's passkeyType */
	const char	*warning;	/* what Entra recorded otherwise than
					   the key ("" when it agreed) */
};

struct report_failure {
	const char	*user;		/* UPN or object id as given */
	const char	*stage;		/* e.g. csv, resolve, key, register */
	const char	*error_code;
	const char	*message;
	const char	*request_id;	/* Graph request-id, if any */
};

const char	*report_strerr(int);

/* whether report_open() would take `path` (absent is fine), creating nothing */
int		 report_check(const char *path, char *err, size_t errlen);
/* opens (creating) `path`; on failure `err` says why */
int		 report_open(const char *path, enum report_kind,
		    report_t **rp, char *err, size_t errlen);
void		 report_free(report_t **rp);
/* report_free(), but REPORT_ERR_IO if a write or the close failed */
int		 report_close(report_t **rp, char *err, size_t errlen);
const char	*report_path(const report_t *);
/*
 * Rows written from the journal at the end of a run: one fsync at
 * report_close() instead of one a row (the journal is the record, a
 * re-run writes them again).  Rows written as users finish keep theirs.
 */
void		 report_sync_at_close(report_t *);

/* NULL members are empty cells; time is now (UTC, ISO 8601) */
int		 report_success(report_t *, const struct report_success *);
int		 report_failure(report_t *, const struct report_failure *);
/* the PIN row; the caller wipes its own copy of the PIN */
int		 report_pin(report_t *, const char *user, const char *device,
		    const char *pin);

/*
 * Each (device, PIN) row of a pins file this tool wrote, oldest first;
 * a missing file is no rows.  The file must be a regular file of ours
 * that no one else can read.  Buffers are wiped; `cb` must copy the PIN
 * it keeps (and wipe it later).  A negative return from `cb` stops.
 */
typedef int	report_pins_cb(void *, const char *device, const char *pin);
int		 report_pins_load(const char *path, report_pins_cb *,
		    void *, char *err, size_t errlen);

/*
 * One CSV cell as written: RFC 4180 quoting, sanitised, and with the
 * formula prefix if it needs one.  Returns a string to free, or NULL.
 */
char		*report_csv_cell(const char *s, char delim);

#endif /* PROV_REPORT_H */
