/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Between mailer.c and the module that draws the letters (mailer_pdf.c,
 * installed as <libdir>/provisioning/letter.so): the one symbol the
 * module exports, `mailer_module`.  mailer.c takes a module only of
 * this ABI and of this very version of provisioning.
 */

#ifndef PROV_MAILER_MODULE_H
#define PROV_MAILER_MODULE_H

#include <stddef.h>

#include "mailer.h"

#define MAILER_MODULE_ABI	1
#define MAILER_MODULE_SYMBOL	"mailer_module"

struct mailer_module {
	int		 abi;		/* MAILER_MODULE_ABI */
	const char	*version;	/* PROV_VERSION it was built with */
	/* the letter as a PDF written to fd; `date` is "YYYY-MM-DD" */
	int		(*render)(int fd, const struct mailer_letter *,
			    const char *date, char *err, size_t errlen);
	/* cairo's and fontconfig's caches released; nothing if none */
	void		(*cleanup)(void);
};

#endif /* PROV_MAILER_MODULE_H */
