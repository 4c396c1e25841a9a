/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN letters: one printable A4 PDF per enrolled user, for the key's
 * new owner: who it is for, which key, the PIN (large), and what to do
 * first (sign in with the key, then change the PIN).
 *
 * The directory is created 0700 if missing, and refused if it is not
 * a directory of ours that no one else can enter.  A letter is rendered
 * by cairo's PDF surface, in a module loaded on the first letter
 * (mailer_load()), straight into a file created 0600 with
 * O_CREAT | O_EXCL | O_NOFOLLOW under a random name in the directory,
 * fsync'd, then linked to its final name, "<upn>-<YYYY-MM-DD>.pdf"
 * (characters other than letters, digits and ".@_-" become '_'), or
 * "<upn>-<date>-2.pdf", "-3" ... when that exists: a letter is never
 * overwritten.  A symbolic link at a final name is refused, never
 * written through.  On any error nothing is left behind.
 *
 * The PIN is only read from the caller's buffer; this module keeps no
 * copy of it (cairo's own buffers are freed with the surface).
 */

#ifndef PROV_MAILER_H
#define PROV_MAILER_H

#include <stddef.h>
#include <time.h>

#define MAILER_OK		 0
#define MAILER_ERR_INTERNAL	-1	/* out of memory */
#define MAILER_ERR_ARG		-2	/* a field missing or too long */
#define MAILER_ERR_IO		-3	/* create, write, fsync or link */
#define MAILER_ERR_PERM		-4	/* the directory is not ours and
					   private, or a symbolic link is
					   at the letter's name */
#define MAILER_ERR_RENDER	-5	/* cairo could not make the PDF */
#define MAILER_ERR_PRINT	-6	/* lp failed or could not start */
#define MAILER_ERR_MODULE	-7	/* the letter module is missing or
					   not this version's */

/* NULL or "" members are left out of the letter, but for upn and pin */
struct mailer_letter {
	const char	*name;		/* display name */
	const char	*upn;
	const char	*model;		/* the key's product name */
	const char	*aaguid;
	const char	*serial;
	const char	*slot;		/* where the key sat: "key1" */
	const char	*pin;		/* secret: read, never copied */
	time_t		 when;		/* 0: now */
};

const char	*mailer_strerr(int);

/*
 * Load the module that draws the letters (cairo, fontconfig and their
 * libraries, mapped only by a run that writes letters): `module` is its
 * path, NULL for the one installed with the program, found from
 * /proc/self/exe.  Once one is loaded, later calls do nothing; the
 * first letter loads it if no one did.  Thread-safe.
 */
int		 mailer_load(const char *module, char *err, size_t errlen);

/* create `dir` (0700) if missing and check it; `err` says why not */
int		 mailer_dir_check(const char *dir, char *err, size_t errlen);

/* write one letter into `dir`; its path goes to `path` */
int		 mailer_write(const char *dir, const struct mailer_letter *,
		    char *path, size_t pathlen, char *err, size_t errlen);

/*
 * Send the letter at `path` to the default printer: lp(1) found on
 * PATH, run without a shell, stdin and stdout /dev/null, waited for.
 */
int		 mailer_print(const char *path, char *err, size_t errlen);

/*
 * Release cairo's and fontconfig's process-wide font caches, once at
 * exit when no letter is being written (memory checkers report them
 * otherwise); nothing if no letter was drawn.
 */
void		 mailer_cleanup(void);

#endif /* PROV_MAILER_H */
