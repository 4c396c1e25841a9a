/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Start the user's browser on a URL without waiting for it: $BROWSER
 * (a command, run by /bin/sh with the URL as "$1", never pasted into the
 * command line) or xdg-open.  A double fork leaves no zombie and lets
 * the browser outlive us.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "graph_int.h"

int
browser_open(const char *url)
{
	const char	*b;
	char		*cmd = NULL;
	pid_t		 pid, w;
	int		 st, fd;

	/* $BROWSER may list alternatives separated by ':'; take the first */
	if ((b = getenv("BROWSER")) != NULL && *b != '\0') {
		if ((cmd = gfmt("%.*s \"$1\"", (int)strcspn(b, ":"), b)) ==
		    NULL)
			return (-1);
	} else if ((cmd = strdup("exec xdg-open \"$1\"")) == NULL)
		return (-1);

	if ((pid = fork()) < 0) {
		free(cmd);
		return (-1);
	}
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		/* keep our stdout clean for --json; browsers chatter */
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		setsid();
		execl("/bin/sh", "sh", "-c", cmd, "sh", url, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;

	return (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1);
}
