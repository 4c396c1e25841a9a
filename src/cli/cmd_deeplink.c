/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * deeplink register|unregister|handle URL
 *
 * `register` (the seed's --register-deeplink) installs a desktop entry
 * that hands entra-provision:// links to `provisioning deeplink handle`
 * in a terminal; `handle` parses the link strictly, shows what it asks
 * and enrolls that one user only after the operator types "yes" on the
 * terminal.  Without a terminal a link is refused: a web page must
 * never be able to touch a key on its own.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"
#include "csvin.h"
#include "deeplink.h"
#include "extern.h"


#define DL_REGISTER	0
#define DL_UNREGISTER	1
#define DL_HANDLE	2

static void
usage_deeplink(FILE *f, int sub)
{
	static const char *const lines[] = {
	    "register\n  send entra-provision:// links to this program "
	    "(a desktop entry and xdg-mime)",
	    "unregister\n  remove that desktop entry",
	    "handle 'entra-provision://enroll?user=UPN[&tenant=T]"
	    "[&display=NAME]'\n  enroll the user a link names, after "
	    "'yes' is typed on the terminal" };
	const char	*lead = "usage:";
	int		 i;

	for (i = DL_REGISTER; i <= DL_HANDLE; i++) {
		if (sub >= 0 && sub != i)
			continue;
		if (sub >= 0)
			fprintf(f, "%s provisioning deeplink %s\n", lead,
			    lines[i]);
		else
			fprintf(f, "%s provisioning deeplink %.*s\n", lead,
			    (int)strcspn(lines[i], "\n"), lines[i]);
		lead = "      ";
	}
}

/* run argv[0] from PATH; -1 if it could not start (errno), else status */
static int
run(char *const argv[])
{
	pid_t	  pid;
	int	  st, rc;
	char	**envp;

	/* xdg-mime and friends need no secret of ours */
	if ((envp = env_scrubbed()) == NULL)
		return (-1);
	rc = posix_spawnp(&pid, argv[0], NULL, NULL, argv, envp);
	env_free(&envp);
	if (rc != 0) {
		errno = rc;
		return (-1);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return (-1);
	if (WIFEXITED(st))
		return (WEXITSTATUS(st));

	return (128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0));
}

/* the absolute path of this binary, as the desktop entry must run it */
static int
self_path(char *buf, size_t len)
{
	ssize_t	 n;
	char	*d;

	if ((n = readlink("/proc/self/exe", buf, len - 1)) < 0 ||
	    (size_t)n >= len - 1)
		return (-1);
	buf[n] = '\0';
	if ((d = strstr(buf, " (deleted)")) != NULL && d[10] == '\0')
		*d = '\0';

	return (buf[0] == '/' ? 0 : -1);
}

static int
do_register(void)
{
	char	exe[PATH_MAX], path[PATH_MAX], err[PATH_MAX + 128];
	char	*xdg[] = { "xdg-mime", "default", DEEPLINK_DESKTOP_FILE,
		    DEEPLINK_MIME, NULL };
	char	*upd[] = { "update-desktop-database", "-q", path, NULL };
	char	*slash;
	int	 rc;

	if (self_path(exe, sizeof(exe)) < 0) {
		fprintf(stderr, "provisioning: cannot find this program's "
		    "path in /proc/self/exe\n");
		return (EXIT_USAGE);
	}
	if (deeplink_register(exe, path, sizeof(path), err,
	    sizeof(err)) != DEEPLINK_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		return (EXIT_USAGE);
	}
	printf("desktop entry: %s\n", path);
	if ((rc = run(xdg)) < 0 && errno == ENOENT)
		log_warn("xdg-mime not found: associate %s with %s in your "
		    "desktop's settings (Debian: apt install xdg-utils)",
		    DEEPLINK_MIME, DEEPLINK_DESKTOP_FILE);
	else if (rc != 0)
		log_warn("xdg-mime default %s %s failed (status %d)",
		    DEEPLINK_DESKTOP_FILE, DEEPLINK_MIME, rc);
	else
		printf("entra-provision:// links now open 'provisioning "
		    "deeplink handle'\n");
	/* refresh the MIME cache where the tool exists; optional */
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		(void)run(upd);
	}

	return (EXIT_OK);
}

static int
do_unregister(void)
{
	char err[PATH_MAX + 128];

	if (deeplink_unregister(err, sizeof(err)) != DEEPLINK_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		return (EXIT_USAGE);
	}
	printf("entra-provision:// links are no longer handled\n");

	return (EXIT_OK);
}

/* "yes" typed on the controlling terminal; 0 otherwise */
static int
confirm(const struct deeplink *dl, const char *tenant, int from_link)
{
	FILE	*tty;
	char	 line[64];
	int	 ok = 0;

	if ((tty = fopen("/dev/tty", "r+e")) == NULL) {
		fprintf(stderr, "provisioning: no terminal to confirm the "
		    "link on; refusing (links are never acted on "
		    "unattended)\n");
		return (0);
	}
	/* the link is untrusted: what it says is shown, never obeyed */
	fprintf(tty, "\nA link asks to enroll a passkey for:\n"
	    "  user:    %s (%s)\n", cli_safe(dl->user),
	    dl->user_kind == CSVIN_USER_OBJECTID ? "object id" : "UPN");
	if (tenant != NULL)
		fprintf(tty, "  tenant:  %s%s\n", cli_safe(tenant),
		    from_link ? " (from the link)" : "");
	else
		fprintf(tty, "  tenant:  (the default of the signed-in "
		    "account)\n");
	if (dl->display[0] != '\0')
		fprintf(tty, "  display: %s (as the link claims; not "
		    "verified)\n", cli_safe(dl->display));
	fprintf(tty, "A security key will be registered for this user.\n"
	    "Type 'yes' to continue: ");
	fflush(tty);
	if (fgets(line, sizeof(line), tty) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		ok = strcmp(line, "yes") == 0;
	}
	if (!ok)
		fprintf(tty, "Not confirmed; nothing was done.\n");
	fclose(tty);

	return (ok);
}

static int
do_handle(struct prov_ctx *ctx, const char *url)
{
	static struct deeplink	 dl;	/* ctx->tenant may point into it */
	char			 err[256];
	char			*eargv[4];
	int			 from_link = 0;

	if (deeplink_parse(url, &dl, err, sizeof(err)) != DEEPLINK_OK) {
		fprintf(stderr, "provisioning: refusing the link: %s\n", err);
		return (EXIT_USAGE);
	}
	if (dl.tenant[0] != '\0') {
		if (ctx->tenant == NULL) {
			ctx->tenant = dl.tenant;
			from_link = 1;
		} else if (strcasecmp(ctx->tenant, dl.tenant) != 0) {
			fprintf(stderr, "provisioning: refusing the link: it "
			    "is for tenant %s, but this provisioning is set "
			    "up for %s\n", cli_safe(dl.tenant),
			    cli_safe(ctx->tenant));
			return (EXIT_USAGE);
		}
	}
	if (!confirm(&dl, ctx->tenant, from_link))
		return (EXIT_USAGE);
	if (sig_interrupted())
		return (EXIT_INTR);
	/* "--": whatever the link holds is a user, never an option */
	eargv[0] = "enroll";
	eargv[1] = "--";
	eargv[2] = dl.user;
	eargv[3] = NULL;

	return (cmd_enroll(ctx, 3, eargv));
}

int
cmd_deeplink(struct prov_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = { "register", "unregister",
	    "handle", NULL };
	static const char *const names[] = { "deeplink register",
	    "deeplink unregister", "deeplink handle" };
	static const struct optdef defs[] = { { NULL, NULL, 0, 0 } };
	struct opts	op;
	int		c, k;

	if ((k = opts_subverb("deeplink", argc, argv, subs)) == OPTS_HELP) {
		usage_deeplink(stdout, -1);
		return (EXIT_OK);
	} else if (k < 0)
		return (EXIT_USAGE);
	opts_init(&op, names[k], defs, 0, argc - 1, argv + 1);
	while ((c = opts_next(&op)) != OPTS_END) {
		if (c != OPTS_HELP)
			return (EXIT_USAGE);
		usage_deeplink(stdout, k);
		return (EXIT_OK);
	}
	if (opts_operands(&op, k == DL_HANDLE, k == DL_HANDLE, "URL") < 0)
		return (EXIT_USAGE);
	switch (k) {
	case DL_REGISTER:
		return (do_register());
	case DL_UNREGISTER:
		return (do_unregister());
	default:
		return (do_handle(ctx, argv[1 + op.ind]));
	}
}
