/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Shared by the CSV parser's files only: csvin.c (input, encodings,
 * the API), csvin_record.c (the record scanner), csvin_row.c (header
 * and rows).
 */

#ifndef PROV_CSVIN_INT_H
#define PROV_CSVIN_INT_H

#include <sys/types.h>
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>

#include "common.h"

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

/*
 * The users seen, for duplicates: a keyed 64-bit hash of each distinct
 * key (0: empty slot) and the line it was first on, 12 bytes a user
 * and no strings, so that a streamed file keeps no row.
 */
struct duptab {
	uint64_t	*h;
	uint32_t	*line;
	size_t		 cap;		/* any size: slot = h % cap */
	size_t		 n;
	void		*mac;		/* EVP_MAC_CTX: SipHash, random key */
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

struct csvin {
	struct row	**rows;		/* in memory only */
	size_t		  nrows;	/* rows in the file */
	size_t		  cap;
	size_t		  pos;		/* iterator */
	size_t		  nstatus[3];
	struct col	 *cols;
	size_t		  ncols;
	int		  ucol;		/* user column */
	int		  fcol;		/* fallback id column or -1 */
	char		  delim;
	const char	 *encoding;
	struct duptab	  dup;
	csvin_limits_t	  lim;

	/*
	 * The text being parsed: a window onto the file (streamed), or
	 * the whole decoded text (in memory: fd -1, eof from the start).
	 */
	int		  stream;
	int		  fd;
	struct stat	  st;		/* at open: a changed file is said */
	char		 *win;
	size_t		  wcap;
	size_t		  wlen;
	size_t		  wmax;		/* the most win has held: what to wipe */
	size_t		  wpos;
	off_t		  rdoff;	/* file offset of win[wlen] */
	int		  eof;
	int		  skip_lf;	/* a CR ended the window */
	size_t		  line;		/* line of the text at wpos */
	off_t		  body_off;	/* the first record after the header */
	size_t		  body_line;
	int		  body_skip_lf;
	struct rec	  rec;		/* streamed: the record scratch */
	struct row	 *cur;		/* streamed: the row last read */
	size_t		  sidx;		/* streamed: rows read this pass */
	int		  changed;
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
struct row *csvin_build_row(csvin_t *, const struct rec *, size_t);
void	csvin_dup_free(struct duptab *);
struct delimscan {
	size_t	nc, ns, nt;		/* commas, semicolons, tabs */
	int	inq;
	int	done;
};
void	csvin_delim_scan(struct delimscan *, const char *, size_t);
char	csvin_delim_pick(const struct delimscan *);
char	csvin_detect_delim(const char *, size_t);
int	csvin_parse_header(csvin_t *, const struct rec *, char *, size_t);

#endif /* PROV_CSVIN_INT_H */
