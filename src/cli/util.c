/*
 * SPDX-License-Identifier: BSD-2-Clause
 */

#include <sys/stat.h>

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "ctap.h"
#include "extern.h"
#include "journal.h"

/* what an authenticator error means for the process exit status */
int
cli_ctap_exit(int r)
{
	switch (r) {
	case CTAP_OK:
		return (EXIT_OK);
	case CTAP_ERR_ARG:
	case CTAP_ERR_PIN_POLICY:
		return (EXIT_USAGE);
	case CTAP_ERR_CANCELLED:
		return (EXIT_INTR);
	default:
		return (EXIT_KEY);
	}
}

/*
 * The state directory holds the token cache and the journal: create it
 * 0700 and refuse one that is not ours or that others can write, and
 * journal files not ours, as ssh does with ~/.ssh: whoever can replace
 * the journal decides what the run believes is done.
 */
int
state_dir_ensure(const struct prov_ctx *ctx)
{
	static const char *const files[] = { JOURNAL_FILE,
	    JOURNAL_FILE "-wal", JOURNAL_FILE "-shm", RUN_LOCK_FILE };
	struct stat	st;
	char		path[PATH_MAX], why[256], err[PATH_MAX + 300];
	size_t		i;

	if (mkdir_p(ctx->state_dir, 0700) < 0 || stat(ctx->state_dir,
	    &st) < 0) {
		fprintf(stderr, "provisioning: cannot create state directory "
		    "%s: %s\n", ctx->state_dir, strerror(errno));
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "provisioning: state directory %s is not a "
		    "directory\n", ctx->state_dir);
		return (-1);
	}
	if (file_owner_why(&st, why, sizeof(why)) < 0) {
		if (st.st_uid == geteuid())
			fprintf(stderr, "provisioning: state directory %s %s; "
			    "chmod 700 it\n", ctx->state_dir, why);
		else
			fprintf(stderr, "provisioning: state directory %s %s; "
			    "use a directory of your own (--state-dir), or "
			    "have it chowned to you\n", ctx->state_dir, why);
		return (-1);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", ctx->state_dir,
		    files[i]) >= (int)sizeof(path))
			return (-1);
		if (file_check_owned(path, false, err, sizeof(err)) < 0) {
			fprintf(stderr, "provisioning: %s; not using it: "
			    "remove it (or move the state directory away) "
			    "and run again\n", err);
			return (-1);
		}
	}

	return (0);
}

/* one run at a time per state directory, for the run's whole length */
int
run_lock_take(const struct prov_ctx *ctx, int *fd)
{
	char	path[PATH_MAX];
	long	pid;
	int	r;

	if (snprintf(path, sizeof(path), "%s/%s", ctx->state_dir,
	    RUN_LOCK_FILE) >= (int)sizeof(path))
		return (EXIT_USAGE);
	if ((r = lock_run(path, fd, &pid)) == 0)
		return (EXIT_OK);
	if (r > 0) {
		if (pid > 0)
			fprintf(stderr, "provisioning: another run (pid %ld) "
			    "is using %s; wait for it to finish, or use "
			    "another --state-dir\n", pid, ctx->state_dir);
		else
			fprintf(stderr, "provisioning: another run is using "
			    "%s; wait for it to finish, or use another "
			    "--state-dir\n", ctx->state_dir);
	} else
		fprintf(stderr, "provisioning: cannot lock %s: %s\n", path,
		    strerror(errno));

	return (EXIT_USAGE);
}

const char *
cli_safe(const char *s)
{
	static _Thread_local char	 ring[8][TEXT_SAFE_MAX(1024)];
	static _Thread_local unsigned	 next;

	return (text_safe(s, ring[next++ % 8], sizeof(ring[0])));
}

/* one compact JSON line on stdout; takes the reference to o */
int
cli_print_json(json_t *o)
{
	char *s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(o);
		return (-1);
	}
	printf("%s\n", s);
	free(s);
	json_decref(o);

	return (0);
}
