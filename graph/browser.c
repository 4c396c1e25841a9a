/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Start the user's browser on a URL without waiting for it: $BROWSER
 * (a command, run by /bin/sh with the URL as "$1", never pasted into the
 * command line) or xdg-open.  A double fork leaves no zombie and lets
 * the browser outlive us.  It gets a scrubbed environment (env.c): no
 * client secret, no PIN variable.
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
	char		*cmd = NULL, *u = NULL, **envp = NULL;
	pid_t		 pid, w;
	int		 st, fd, r = -1;

	/* $BROWSER may list alternatives separated by ':'; take the first */
	if ((b = getenv("BROWSER")) != NULL && *b != '\0')
		cmd = gfmt("%.*s \"$1\"", (int)strcspn(b, ":"), b);
	else
		cmd = strdup("exec xdg-open \"$1\"");
	/* built before fork: the child of a threaded process may not malloc */
	if (cmd == NULL || (u = strdup(url)) == NULL ||
	    (envp = env_scrubbed()) == NULL)
		goto fail;
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		if (fork() != 0)
			_exit(0);
		/* keep our stdout clean for --json; browsers chatter */
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
		}
		setsid();
		/* no secret of ours in the browser's environment */
		execve("/bin/sh", (char *[]){ "sh", "-c", cmd, "sh", u, NULL },
		    envp);
		_exit(127);
	}
	while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (w == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
		r = 0;
fail:
	free(cmd);
	free(u);
	env_free(&envp);

	return (r);
}
