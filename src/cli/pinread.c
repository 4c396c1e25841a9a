/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PINs never come from argv: either from the environment variable the
 * operator names (--pin-env VAR) or from a prompt on the terminal with
 * echo off.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common.h"
#include "extern.h"

#define PIN_BUF	256

static char *
prompt_tty(const char *prompt)
{
	struct termios	 old, raw;
	char		 buf[PIN_BUF];
	char		*pin = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	char		 c;
	int		 fd, restore = 0;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) >= 0)
		log_hold(true);
	if (fd < 0) {
		fprintf(stderr, "provisioning: no terminal to ask for the "
		    "PIN; use --pin-env VAR\n");
		return (NULL);
	}
	if (tcgetattr(fd, &old) == 0) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		raw.c_lflag |= ICANON;
		if (tcsetattr(fd, TCSAFLUSH, &raw) == 0)
			restore = 1;
	}
	(void)!write(fd, prompt, strlen(prompt));
	for (;;) {
		if ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (len < sizeof(buf) - 1)
			buf[len++] = c;
	}
	buf[len] = '\0';
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	close(fd);
	log_hold(false);
	if (n >= 0)
		pin = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&c, sizeof(c));

	return (pin);
}

/*
 * Returns a heap copy the caller wipes with freezero_str(), or NULL.
 * With `confirm`, a prompted PIN is asked twice.
 */
char *
pin_read(const char *envname, const char *prompt, bool confirm)
{
	const char	*e;
	char		*p1 = NULL, *p2 = NULL;

	if (envname != NULL) {
		if ((e = getenv(envname)) == NULL || *e == '\0') {
			fprintf(stderr, "provisioning: environment variable "
			    "%s (named by --pin-env) is not set\n", envname);
			return (NULL);
		}
		return (strdup(e));
	}
	if ((p1 = prompt_tty(prompt)) == NULL)
		return (NULL);
	if (!confirm)
		return (p1);
	if ((p2 = prompt_tty("Repeat the PIN: ")) == NULL ||
	    strcmp(p1, p2) != 0) {
		fprintf(stderr, "provisioning: the PINs do not match\n");
		freezero_str(p1);
		freezero_str(p2);
		return (NULL);
	}
	freezero_str(p2);

	return (p1);
}
