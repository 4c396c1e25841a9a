/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The input CSV of `enroll --csv FILE`: a list of users, one a row.
 *
 * Accepted files:
 *   - UTF-8 with or without a BOM, or UTF-16 LE/BE with a BOM;
 *   - records ended by CRLF, LF or CR;
 *   - comma, semicolon or tab delimiter, whichever occurs most often
 *     (outside quotes) in the header line; an Excel "sep=X" first line
 *     names it explicitly;
 *   - RFC 4180 quoting: quoted delimiters, doubled quotes, line breaks
 *     inside quotes.
 *
 * The header row names the user column: userPrincipalName, upn, email,
 * objectId, id or userId.  Names are matched without regard to case,
 * spaces, '_', '-', '.' and a leading '#' ("User Principal Name",
 * "#upn", "User.ID" all match).  When several are present the UPN-like
 * one (userPrincipalName > upn > email > user) is the user column and
 * the id-like one (objectId > id > userId) is used for rows where it
 * is empty.  ("user" is failures.csv's column, so that file can be fed
 * back in to retry the users who failed.)  Other columns stay readable
 * with csvin_field(), except any whose name looks like a secret (PIN,
 * password, TAP, token, secret):
 * PINs and secrets are never taken from a CSV, so those columns are
 * dropped, wiped and redacted from excerpts.
 *
 * Every data record becomes one row.  A bad record is a row with
 * status CSVIN_ROW_ERROR (line, reason, printable excerpt), never a
 * failure of the whole file; a repeated user is CSVIN_ROW_DUPLICATE.
 * Blank records (only delimiters and spaces) are skipped silently, as
 * spreadsheets leave them at the end.  Only a missing or unreadable
 * file, a header without a user column, an unsupported encoding or a
 * file over the limits fail csvin_open().
 *
 * The whole file is parsed by csvin_open(), so the row count is known
 * before any key is touched.  A regular UTF-8 file is then read again,
 * a record at a time, by csvin_next(): its memory does not grow with
 * its rows (a few records, and 12 bytes a distinct user for the
 * duplicates); a file changed in between is CSVIN_ERR_CHANGED, never
 * rows that disagree with the counts.  UTF-16 files and pipes are held
 * in memory, row by row.
 */

#ifndef PROV_CSVIN_H
#define PROV_CSVIN_H

#include <stddef.h>

#define CSVIN_OK		 0
#define CSVIN_END		 1	/* csvin_next(): no more rows */
#define CSVIN_ERR_INTERNAL	-1	/* out of memory */
#define CSVIN_ERR_ARG		-2
#define CSVIN_ERR_IO		-3	/* cannot open or read the file */
#define CSVIN_ERR_TOOBIG	-4	/* file size or row count over limit */
#define CSVIN_ERR_ENCODING	-5	/* UTF-32, UTF-16 without BOM, ... */
#define CSVIN_ERR_HEADER	-6	/* empty file or no user column */
#define CSVIN_ERR_CHANGED	-7	/* csvin_next(): the file is not what
					   csvin_open() read */

/* default limits */
#define CSVIN_MAX_FILE		(128 * 1024 * 1024)	/* bytes on disk */
#define CSVIN_MAX_RECORD	(64 * 1024)	/* bytes in one record */
#define CSVIN_MAX_ROWS		1000000
#define CSVIN_MAX_COLS		1024
#define CSVIN_UPN_MAX		113	/* Entra: 64 local + '@' + 48 */

/* row status */
#define CSVIN_ROW_OK		0
#define CSVIN_ROW_ERROR		1	/* see reason; not enrolled */
#define CSVIN_ROW_DUPLICATE	2	/* same user as line dup_of */

/* what a user reference is */
#define CSVIN_USER_NONE		0
#define CSVIN_USER_UPN		1
#define CSVIN_USER_OBJECTID	2

typedef struct csvin csvin_t;

typedef struct csvin_limits {
	size_t	max_file;	/* 0: default */
	size_t	max_record;
	size_t	max_rows;
} csvin_limits_t;

/*
 * One row.  The strings belong to the csvin_t and live until
 * csvin_free(), or for a streamed file until the next csvin_next() or
 * csvin_rewind(); none is NULL ("" when absent).
 */
typedef struct csvin_row {
	size_t		 index;		/* 0-based position among rows */
	size_t		 line;		/* line the record starts on; the
					   header is line 1, so this is the
					   spreadsheet row number */
	int		 status;	/* CSVIN_ROW_* */
	int		 kind;		/* CSVIN_USER_*; NONE on error */
	const char	*user;		/* the value, trimmed (printable
					   excerpt on error rows) */
	const char	*key;		/* duplicate key: ASCII lower case */
	const char	*code;		/* "" or csv_missing_user,
					   csv_invalid_user, csv_invalid_utf8,
					   csv_bad_quoting, csv_record_too_long,
					   csv_duplicate */
	const char	*reason;	/* "" or a sentence for failures.csv */
	const char	*excerpt;	/* the record, printable, <= 80 bytes,
					   secret columns redacted */
	size_t		 dup_of;	/* CSVIN_ROW_DUPLICATE: first line */
} csvin_row_t;

const char	*csvin_strerr(int);

/*
 * Read and parse `path`.  On failure *cp is NULL and `err` holds a
 * sentence for the operator (e.g. the accepted column names), without
 * the path: the caller names the file.
 */
int		 csvin_open(const char *path, csvin_t **cp, char *err,
		    size_t errlen);
/* with limits other than the defaults; `lim` may be NULL */
int		 csvin_open_lim(const char *path, const csvin_limits_t *lim,
		    csvin_t **cp, char *err, size_t errlen);
/* the same from memory; `lim` may be NULL (defaults) */
int		 csvin_open_mem(const void *buf, size_t len,
		    const csvin_limits_t *lim, csvin_t **cp, char *err,
		    size_t errlen);
void		 csvin_free(csvin_t **);

/*
 * Rows in file order.  csvin_row() and csvin_field() answer for any
 * row of a file held in memory, and for the row csvin_next() gave last
 * of a streamed one (CSVIN_ERR_ARG / NULL for the others).
 */
size_t		 csvin_count(const csvin_t *);
/* counts by status: CSVIN_ROW_OK, _ERROR, _DUPLICATE */
size_t		 csvin_count_status(const csvin_t *, int status);
int		 csvin_row(const csvin_t *, size_t idx, csvin_row_t *);
/* iterator: CSVIN_OK with *row filled, then CSVIN_END */
int		 csvin_next(csvin_t *, csvin_row_t *);
void		 csvin_rewind(csvin_t *);

/* the header */
char		 csvin_delimiter(const csvin_t *);
const char	*csvin_encoding(const csvin_t *);	/* "UTF-8", ... */
const char	*csvin_user_column(const csvin_t *);	/* as written */
size_t		 csvin_ncols(const csvin_t *);
const char	*csvin_colname(const csvin_t *, size_t col);
/* 1 if the column was dropped because it looks like a secret */
int		 csvin_col_secret(const csvin_t *, size_t col);

/*
 * A cell of row `idx` by column name (matched like the user column)
 * or NULL: no such column, a secret column, or a short record.
 */
const char	*csvin_field(const csvin_t *, size_t idx, const char *col);

/*
 * Classify a user reference (also used for deep links): a GUID
 * (8-4-4-4-12 hex) is CSVIN_USER_OBJECTID; a UPN is <= 113 bytes of
 * valid UTF-8 with exactly one '@' between non-empty parts and none of
 * whitespace, control characters or " %&()*,/:;<=>?[\]`{|}$ -- characters
 * that never occur in an Entra UPN but do in paths, URLs, shells and
 * formulas.  Anything else is CSVIN_USER_NONE.
 */
int		 csvin_user_kind(const char *s, size_t len);

#endif /* PROV_CSVIN_H */
