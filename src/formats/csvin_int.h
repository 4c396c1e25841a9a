/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared by the CSV parser's files only: csvin.c (input, encodings,
 * the API), csvin_record.c (the record scanner), csvin_row.c (header
 * and rows).
 */

#ifndef PROV_CSVIN_INT_H
#define PROV_CSVIN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "csvin.h"

/* what a user column may be called, for messages */
#define CSVIN_USER_COLUMNS	"userPrincipalName, upn, UPN, email, user, " \
	"objectId, id or userId"

#define EXCERPT_MAX	80
#define NAME_MAX_NORM	64

/* one parsed row; its strings live in data[] */
struct row {
	size_t		 line;
	size_t		 dup_of;
	int		 status;
	int		 kind;
	const char	*code;
	const char	*user;
	const char	*key;
	const char	*reason;
	const char	*excerpt;
	const char	*cells;		/* ncells NUL-terminated strings */
	size_t		 ncells;
	size_t		 size;		/* of the allocation, for wiping */
	char		 data[];
};

struct col {
	char	*name;			/* as written, trimmed */
	char	 norm[NAME_MAX_NORM];	/* matching form */
	int	 secret;
};

struct dupent {
	const char	*key;
	size_t		 line;
};

struct csvin {
	struct row	**rows;
	size_t		  nrows;
	size_t		  cap;
	size_t		  pos;		/* iterator */
	size_t		  nstatus[3];
	struct col	 *cols;
	size_t		  ncols;
	int		  ucol;		/* user column */
	int		  fcol;		/* fallback id column or -1 */
	char		  delim;
	const char	 *encoding;
	struct dupent	 *dup;		/* open addressing, cap power of 2 */
	size_t		  dupcap;
	size_t		  dupn;
	csvin_limits_t	  lim;
};

/* a record being parsed: fields unquoted into one scratch buffer */
struct rec {
	struct buf b;			/* may hold a careless PIN: wiped */
	size_t	*off;			/* field start offsets in b */
	size_t	 nf;
	size_t	 offcap;
	uint64_t nul;			/* fields holding a NUL byte */
	int	 toolong;
	int	 badquote;		/* 1: after quote, 2: unterminated */
	int	 allblank;
};

/* csvin_record.c */
const char *csvin_rec_get(const struct rec *, size_t);
int	csvin_is_eol(char);
size_t	csvin_next_line(const char *, size_t, size_t);
int	csvin_parse_record(const char *, size_t, size_t *, char, size_t,
	    struct rec *, size_t *);
void	csvin_trim(const char **, size_t *);

/* csvin_row.c */
void	csvin_name_norm(const char *, char *, size_t);
void	csvin_row_free(struct row *);
int	csvin_build_row(csvin_t *, const struct rec *, size_t);
char	csvin_detect_delim(const char *, size_t);
int	csvin_parse_header(csvin_t *, const struct rec *, char *, size_t);

#endif /* PROV_CSVIN_INT_H */
