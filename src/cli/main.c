/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * provisioning: enroll FIDO2 passkeys into Microsoft Entra ID.
 *
 * Global options may appear anywhere on the line (the seed tool's users
 * wrote `--csv users.csv --mode headful --verbose`); everything else is
 * handed to the verb in order.  The seed's verb-less spellings map onto
 * verbs here.
 */

#include <sys/prctl.h>
#include <sys/resource.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extern.h"
#include "mailer.h"

#ifndef PROV_VERSION
#error "PROV_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif

/*
 * PINs, tokens and TAPs live in this process's memory: no core file,
 * and no ptrace or /proc/PID/mem access by other processes of the user.
 */
static void
no_core_dumps(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * glibc gives each thread that contends its own arena (up to 8 a core):
 * with a thread per key, prefetchers and posters that is several MiB of
 * half-empty heaps.  The threads mostly wait on keys and sockets, and
 * the per-thread cache takes the small allocations, so two are enough.
 */
static void
few_arenas(void)
{
	(void)mallopt(M_ARENA_MAX, 2);
}

static cmd_fn cmd_help;

static const struct verb {
	const char	*name;
	cmd_fn		*fn;
	const char	*help;
} verbs[] = {
	{ "login", cmd_login, "sign in (--browser, --device-code, --client-credentials)" },
	{ "logout", cmd_logout, "forget cached tokens" },
	{ "whoami", cmd_whoami, "show the signed-in identity and its permissions" },
	{ "devices", cmd_devices, "list attached keys (USB and virtual)" },
	{ "pin", cmd_pin, "pin status|set|change" },
	{ "reset", cmd_reset, "factory-reset a key (--yes)" },
	{ "enroll", cmd_enroll, "enroll USER... | --csv FILE | --group ID|NAME" },
	{ "auto", cmd_auto, "keep enrolling users who need a passkey" },
	{ "kiosk", cmd_kiosk, "unattended station: provision keys as they are plugged" },
	{ "list", cmd_list, "list USER's passkeys" },
	{ "remove", cmd_remove, "remove USER METHOD_ID" },
	{ "doctor", cmd_doctor, "preflight: permissions, policy, keys" },
	{ "webauthn", cmd_webauthn, "webauthn create|verify (no Graph)" },
	{ "deeplink", cmd_deeplink, "deeplink register|unregister|handle URL" },
	{ "mds", cmd_mds, "mds update [FILE] | mds show AAGUID (FIDO metadata)" },
	{ "queue", cmd_queue, "queue init|add|status|retry|drain|report (a fleet, --queue URL)" },
	{ "help", cmd_help, "help [COMMAND]: this list, or a command's options" },
};

#define NVERBS	(sizeof(verbs) / sizeof(verbs[0]))

/* global options; `arg` names the value that follows, if one does */
static const struct gopt {
	const char	*name;
	const char	*arg;
} gopts[] = {
	{ "--tenant", "ID|DOMAIN" }, { "--client-id", "ID" },
	{ "--cloud", "global|usgov|usgov-dod|china" },
	{ "--authority-url", "URL" }, { "--graph-url", "URL" },
	{ "--graph-version", "v1.0|beta" }, { "--ca-bundle", "FILE" },
	{ "--disable-ssl-verify", NULL }, { "--local-ssl-verify", NULL },
	{ "--state-dir", "DIR" }, { "--device", "SPEC" },
	{ "--virtual-keys", "DIR" }, { "--mds-root", "PEM" },
	{ "--queue", "URL" }, { "--station", "NAME" },
	{ "--verbose", NULL }, { "-v", NULL }, { "-vv", NULL },
	{ "--json", NULL }, { "--mode", "headful|headless" },
	{ "--version", NULL }, { "--help", NULL }, { "-h", NULL },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: provisioning [global options] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; i < NVERBS; i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nglobal options:\n"
	    "  --tenant ID|DOMAIN  --client-id ID  --cloud global|usgov|usgov-dod|china\n"
	    "  --authority-url URL  --graph-url URL  --graph-version v1.0|beta\n"
	    "  --ca-bundle FILE  --disable-ssl-verify  --local-ssl-verify\n"
	    "  --state-dir DIR  --device /dev/hidrawN|unix:PATH  --virtual-keys DIR\n"
	    "  --mds-root PEM (replaces the pinned FIDO metadata roots)\n"
	    "  --queue URL  --station NAME\n"
	    "  --verbose|-v|-vv  --json  --mode headful|headless  --version"
	    "  --help\n"
	    "\nseed spellings: --login  --csv FILE  --automatic-provision"
	    "  --register-deeplink\n"
	    "\nenvironment: PROVISIONING_TENANT, PROVISIONING_STATE_DIR, "
	    "PROVISIONING_VIRTUAL_KEYS,\n  PROVISIONING_QUEUE, PROVISIONING_CLIENT_SECRET, "
	    "PROVISIONING_GROUP, ... (see provisioning(1))\n"
	    "\nRun 'provisioning COMMAND --help' for a command's options; "
	    "see provisioning(1).\n");
}

static const struct verb *
find_verb(const char *name)
{
	size_t i;

	for (i = 0; i < NVERBS; i++)
		if (strcmp(verbs[i].name, name) == 0)
			return (&verbs[i]);

	return (NULL);
}

/* edits (insert, delete, substitute, swap) from a to b, capped at 3 */
static int
distance(const char *a, const char *b)
{
	size_t	la = strlen(a), lb = strlen(b), i, j;
	int	d[16][16], best;

	if (la >= 16 || lb >= 16)
		return (3);
	for (i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}

	return (d[la][lb] < 3 ? d[la][lb] : 3);
}

/* the verb a typo most likely meant: a unique prefix, or 1-2 edits */
static const struct verb *
closest_verb(const char *name)
{
	const struct verb	*v = NULL;
	size_t			 i, n = strlen(name), prefixed = 0;
	int			 d, best = 3;

	for (i = 0; n >= 2 && i < NVERBS; i++)
		if (strncmp(verbs[i].name, name, n) == 0) {
			v = &verbs[i];
			prefixed++;
		}
	if (prefixed == 1)
		return (v);
	v = NULL;
	for (i = 0; i < NVERBS; i++)
		if ((d = distance(name, verbs[i].name)) < best) {
			best = d;
			v = &verbs[i];
		}

	return (v);
}

/* `help [VERB]`: the overview, or the verb's own --help */
static int
cmd_help(struct prov_ctx *ctx, int argc, char **argv)
{
	const struct verb	*v;
	char			*hargv[3];
	static char		 opt[] = "--help";

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return (EXIT_OK);
	}
	if (argc > 2 || (v = find_verb(argv[1])) == NULL ||
	    v->fn == cmd_help) {
		v = argc == 2 ? closest_verb(argv[1]) : NULL;
		if (v != NULL && v->fn != cmd_help)
			cmd_usage_error("help", "no command '%s' (did you "
			    "mean '%s'?)", argv[1], v->name);
		else
			cmd_usage_error("help", "expected one command name");
		return (EXIT_USAGE);
	}
	hargv[0] = argv[1];
	hargv[1] = opt;
	hargv[2] = NULL;

	return (v->fn(ctx, 2, hargv));
}

static const struct gopt *
find_gopt(const char *a, const char **val)
{
	size_t	 i, n;

	*val = NULL;
	for (i = 0; i < sizeof(gopts) / sizeof(gopts[0]); i++) {
		n = strlen(gopts[i].name);
		if (strcmp(a, gopts[i].name) == 0)
			return (&gopts[i]);
		if (gopts[i].arg != NULL && strncmp(a, gopts[i].name, n) == 0 &&
		    a[n] == '=') {
			*val = a + n + 1;
			return (&gopts[i]);
		}
	}

	return (NULL);
}

/*
 * `--state-dir --json`: the value was forgotten, not "--json".  No
 * global option has a value that starts with "--".
 */
static int
looks_like_option(const char *a)
{
	const char *val;

	return (strncmp(a, "--", 2) == 0 || find_gopt(a, &val) != NULL);
}

static int
set_gopt(struct prov_ctx *ctx, const char *name, const char *val)
{
	if (strcmp(name, "--tenant") == 0)
		ctx->tenant = val;
	else if (strcmp(name, "--client-id") == 0)
		ctx->client_id = val;
	else if (strcmp(name, "--cloud") == 0) {
		if (strcmp(val, "global") && strcmp(val, "usgov") &&
		    strcmp(val, "usgov-dod") && strcmp(val, "china")) {
			usage_error("--cloud: expected global, usgov, "
			    "usgov-dod or china, not '%s'", val);
			return (-1);
		}
		ctx->cloud = val;
	} else if (strcmp(name, "--authority-url") == 0)
		ctx->authority_url = val;
	else if (strcmp(name, "--graph-url") == 0)
		ctx->graph_url = val;
	else if (strcmp(name, "--graph-version") == 0) {
		if (strcmp(val, "v1.0") && strcmp(val, "beta")) {
			usage_error("--graph-version: expected v1.0 or beta");
			return (-1);
		}
		ctx->graph_version = val;
	} else if (strcmp(name, "--ca-bundle") == 0)
		ctx->ca_bundle = val;
	else if (strcmp(name, "--disable-ssl-verify") == 0)
		ctx->disable_ssl_verify = true;
	else if (strcmp(name, "--local-ssl-verify") == 0)
		ctx->local_ssl_verify = true;
	else if (strcmp(name, "--state-dir") == 0)
		ctx->state_dir = val;
	else if (strcmp(name, "--device") == 0)
		ctx->device = val;
	else if (strcmp(name, "--virtual-keys") == 0)
		ctx->virtual_keys = val;
	else if (strcmp(name, "--mds-root") == 0)
		ctx->mds_root = val;
	else if (strcmp(name, "--queue") == 0)
		ctx->queue = val;
	else if (strcmp(name, "--station") == 0)
		ctx->station = val;
	else if (strcmp(name, "--verbose") == 0 || strcmp(name, "-v") == 0)
		ctx->verbose++;
	else if (strcmp(name, "-vv") == 0)
		ctx->verbose += 2;
	else if (strcmp(name, "--json") == 0)
		ctx->json = true;
	else if (strcmp(name, "--mode") == 0) {
		if (strcmp(val, "headful") == 0)
			ctx->headful = true;
		else if (strcmp(val, "headless") == 0)
			ctx->headful = false;
		else {
			usage_error("--mode: expected headful or headless");
			return (-1);
		}
	}

	return (0);
}

static char state_buf[4096];

static void
ctx_defaults(struct prov_ctx *ctx)
{
	const char *e;

	if (ctx->tenant == NULL && (e = getenv("PROVISIONING_TENANT")) != NULL)
		ctx->tenant = e;
	if (ctx->authority_url == NULL &&
	    (e = getenv("PROVISIONING_AUTHORITY_URL")) != NULL)
		ctx->authority_url = e;
	if (ctx->graph_url == NULL &&
	    (e = getenv("PROVISIONING_GRAPH_URL")) != NULL)
		ctx->graph_url = e;
	if (ctx->state_dir == NULL &&
	    (e = getenv("PROVISIONING_STATE_DIR")) != NULL)
		ctx->state_dir = e;
	if (ctx->virtual_keys == NULL &&
	    (e = getenv("PROVISIONING_VIRTUAL_KEYS")) != NULL)
		ctx->virtual_keys = e;
	if (ctx->queue == NULL && (e = getenv("PROVISIONING_QUEUE")) != NULL &&
	    *e != '\0')
		ctx->queue = e;
	if (ctx->state_dir == NULL) {
		/* XDG base directory spec: state belongs in XDG_STATE_HOME */
		if ((e = getenv("XDG_STATE_HOME")) != NULL && *e == '/')
			snprintf(state_buf, sizeof(state_buf),
			    "%s/provisioning", e);
		else if ((e = getenv("HOME")) != NULL && *e == '/')
			snprintf(state_buf, sizeof(state_buf),
			    "%s/.local/state/provisioning", e);
		else
			snprintf(state_buf, sizeof(state_buf),
			    ".provisioning");
		ctx->state_dir = state_buf;
	}
	if (ctx->client_id == NULL)
		ctx->client_id = DEFAULT_CLIENT_ID;
	if (ctx->cloud == NULL)
		ctx->cloud = "global";
	if (ctx->graph_version == NULL)
		ctx->graph_version = "v1.0";
}

/* the seed's verb-less spellings, rewritten to verbs */
static char v_login[] = "login", v_auto[] = "auto", v_deeplink[] = "deeplink",
    v_enroll[] = "enroll", a_register[] = "register", a_csv[] = "--csv";

static char *
seed_verb(const char *a, char **prefix)
{
	*prefix = NULL;
	if (strcmp(a, "--login") == 0)
		return (v_login);
	if (strcmp(a, "--automatic-provision") == 0)
		return (v_auto);
	if (strcmp(a, "--register-deeplink") == 0) {
		*prefix = a_register;
		return (v_deeplink);
	}
	if (strcmp(a, "--csv") == 0) {
		*prefix = a_csv;
		return (v_enroll);
	}

	return (NULL);
}

int
main(int argc, char **argv)
{
	struct prov_ctx		 ctx;
	const struct gopt	*g;
	const struct verb	*v = NULL;
	const char		*val, *vname = NULL;
	char			*prefix = NULL, *sv;
	char			**vargv = NULL;
	int			 vargc = 0, i, r, version = 0;
	int			 help = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.progname = "provisioning";
	no_core_dumps();
	few_arenas();
	if ((vargv = calloc((size_t)argc + 3, sizeof(*vargv))) == NULL) {
		fprintf(stderr, "provisioning: out of memory\n");
		return (EXIT_USAGE);
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0 && vname != NULL) {
			for (; i < argc; i++)
				vargv[vargc++] = argv[i];
			break;
		}
		if ((g = find_gopt(argv[i], &val)) != NULL) {
			if (strcmp(g->name, "--version") == 0) {
				version = 1;
				continue;
			}
			if (strcmp(g->name, "--help") == 0 ||
			    strcmp(g->name, "-h") == 0) {
				if (vname != NULL)
					vargv[vargc++] = argv[i];
				else
					help = 1;
				continue;
			}
			if (g->arg != NULL && val == NULL && i + 1 < argc &&
			    !looks_like_option(argv[i + 1]))
				val = argv[++i];
			if (g->arg != NULL && (val == NULL || *val == '\0')) {
				usage_error("option '%s' needs a value (%s)",
				    g->name, g->arg);
				r = EXIT_USAGE;
				goto out;
			}
			if (set_gopt(&ctx, g->name, val) < 0) {
				r = EXIT_USAGE;
				goto out;
			}
			continue;
		}
		if (vname == NULL &&
		    (sv = seed_verb(argv[i], &prefix)) != NULL) {
			vname = sv;
			vargv[vargc++] = sv;
			if (prefix != NULL)
				vargv[vargc++] = prefix;
			continue;
		}
		if (vname == NULL && argv[i][0] != '-') {
			vname = argv[i];
			vargv[vargc++] = argv[i];
			continue;
		}
		if (vname == NULL) {
			/* up to a '=': never echo a value */
			usage_error("unknown option '%.*s'",
			    (int)strcspn(argv[i], "="), argv[i]);
			r = EXIT_USAGE;
			goto out;
		}
		vargv[vargc++] = argv[i];
	}
	vargv[vargc] = NULL;
	if (version) {
		printf("provisioning %s\n", PROV_VERSION);
		r = EXIT_OK;
		goto out;
	}
	if (help || vname == NULL) {
		usage(help ? stdout : stderr);
		r = help ? EXIT_OK : EXIT_USAGE;
		goto out;
	}
	if ((v = find_verb(vname)) == NULL) {
		if ((v = closest_verb(vname)) != NULL && v->fn == cmd_help)
			fprintf(stderr, "provisioning: unknown command '%s' "
			    "(did you mean 'help'?)\nsee 'provisioning "
			    "help'\n", vname);
		else if (v != NULL)
			fprintf(stderr, "provisioning: unknown command '%s' "
			    "(did you mean '%s'?)\nsee 'provisioning %s "
			    "--help', or 'provisioning help'\n", vname,
			    v->name, v->name);
		else
			usage_error("unknown command '%s'", vname);
		r = EXIT_USAGE;
		goto out;
	}
	ctx_defaults(&ctx);
	/* headful narrates every step, as the seed's visible browser did */
	log_init(ctx.headful && ctx.verbose == 0 ? LOG_INFO : ctx.verbose);
	if (ctx.disable_ssl_verify)
		log_warn("--disable-ssl-verify: TLS certificates are NOT "
		    "checked; anyone on the network path can read tokens "
		    "and forge Graph replies");
	if (sig_setup() < 0) {
		fprintf(stderr, "provisioning: cannot set up signals\n");
		r = EXIT_USAGE;
		goto out;
	}
	r = v->fn(&ctx, vargc, vargv);
	if (r != EXIT_INTR && sig_interrupted())
		r = EXIT_INTR;
out:
	free(vargv);
	/* every worker is done: no letter is being drawn */
	mailer_cleanup();

	return (r);
}
