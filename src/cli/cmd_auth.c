/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * login, logout, whoami.  Secrets come from the environment or files,
 * never from argv; nothing here prints a token.
 */

#include <sys/stat.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "extern.h"
#include "graph.h"

#define SECRET_ENV	"PROVISIONING_CLIENT_SECRET"
#define SECRET_MAX	(64 * 1024)

static void
login_usage(FILE *f)
{
	fprintf(f, "usage: provisioning login [--browser | --device-code | "
	    "--client-credentials]\n"
	    "           [--login-hint UPN] [--session-hours N] "
	    "[--scopes [+]LIST]\n"
	    "           [--client-secret-file FILE | --certificate FILE "
	    "--private-key FILE]\n"
	    "  --browser             authorization code + PKCE in the browser "
	    "(default)\n"
	    "  --device-code         sign in on another device with a code\n"
	    "  --client-credentials  app-only: secret from $%s or\n"
	    "                        --client-secret-file, or a certificate\n"
	    "  --session-hours N     how long this login lasts (default 12)\n"
	    "  --scopes LIST         delegated scopes; '+LIST' adds to the "
	    "defaults\n", SECRET_ENV);
}

static void
fmt_time(long long t, char *buf, size_t len)
{
	time_t		tt = (time_t)t;
	struct tm	tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, len, "-");
}

/* a secret file: one line, trailing newline dropped; wiped by caller */
static char *
read_secret_file(const char *path)
{
	struct stat	 st;
	unsigned char	*buf = NULL;
	size_t		 len = 0;

	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("%s is readable by others; chmod 600 it", path);
	if (read_file_max(path, SECRET_MAX, &buf, &len) < 0) {
		fprintf(stderr, "provisioning: cannot read %s\n", path);
		return (NULL);
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	if (len == 0 || strlen((char *)buf) != len) {
		fprintf(stderr, "provisioning: %s holds no usable secret\n",
		    path);
		freezero_buf(buf, SECRET_MAX + 1);
		return (NULL);
	}

	return ((char *)buf);
}

static int
print_identity(graph_client_t *c, const struct prov_ctx *ctx, bool login)
{
	graph_identity_t	*id = NULL;
	json_t			*o;
	char			 texp[64], tses[64], *s;
	int			 r;

	if ((r = graph_whoami(c, &id)) != GRAPH_OK) {
		cli_graph_error(c, login ? "signed in, but cannot read the "
		    "identity" : "whoami", r);
		return (cli_graph_exit(r));
	}
	fmt_time(graph_identity_expires(id), texp, sizeof(texp));
	fmt_time(graph_identity_session_expires(id), tses, sizeof(tses));
	if (ctx->json) {
		o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}",
		    "account", graph_identity_account(id),
		    "kind", graph_identity_app_only(id) ? "app" : "user",
		    "name", graph_identity_name(id),
		    "objectId", graph_identity_object_id(id),
		    "tenantId", graph_identity_tenant_id(id),
		    "clientId", graph_identity_client_id(id),
		    "permissions", graph_identity_permissions(id),
		    "roles", graph_identity_roles(id),
		    "tokenExpires", (json_int_t)graph_identity_expires(id),
		    "sessionExpires",
		    (json_int_t)graph_identity_session_expires(id));
		if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)) == NULL) {
			json_decref(o);
			graph_identity_free(&id);
			return (EXIT_USAGE);
		}
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (login) {
		/* the token's claims are the identity service's words */
		printf("Signed in as %s (%s) to tenant %s; session until %s\n",
		    cli_safe(graph_identity_account(id)),
		    graph_identity_app_only(id) ? "app-only" : "delegated",
		    cli_safe(graph_identity_tenant_id(id)), tses);
	} else {
		printf("account:      %s\n",
		    cli_safe(graph_identity_account(id)));
		if (*graph_identity_name(id) != '\0')
			printf("name:         %s\n",
			    cli_safe(graph_identity_name(id)));
		printf("kind:         %s\n", graph_identity_app_only(id) ?
		    "app-only (client credentials)" : "delegated (user)");
		if (*graph_identity_object_id(id) != '\0')
			printf("object id:    %s\n",
			    cli_safe(graph_identity_object_id(id)));
		printf("tenant:       %s\n",
		    cli_safe(graph_identity_tenant_id(id)));
		printf("client id:    %s\n",
		    cli_safe(graph_identity_client_id(id)));
		printf("permissions:  %s\n", *graph_identity_permissions(id) ?
		    cli_safe(graph_identity_permissions(id)) : "(none)");
		if (!graph_identity_app_only(id))
			printf("roles:        %s\n", *graph_identity_roles(id) ?
			    cli_safe(graph_identity_roles(id)) : "(none)");
		printf("token until:  %s (renewed automatically)\n", texp);
		printf("session until: %s\n", tses);
	}
	graph_identity_free(&id);

	return (EXIT_OK);
}

int
cmd_login(struct prov_ctx *ctx, int argc, char **argv)
{
	enum { O_BROWSER = 1, O_DEVICE, O_APP, O_SECRET, O_HINT, O_SFILE,
	    O_CERT, O_KEY, O_SCOPES, O_HOURS };
	static const struct optdef defs[] = {
		{ "browser", NULL, O_BROWSER, 0 },
		{ "device-code", NULL, O_DEVICE, 0 },
		{ "client-credentials", NULL, O_APP, 0 },
		/* named so that it is refused, not taken as a prefix */
		{ "client-secret", "SECRET", O_SECRET, OPTDEF_OPTIONAL },
		{ "login-hint", "UPN", O_HINT, 0 },
		{ "client-secret-file", "FILE", O_SFILE, 0 },
		{ "certificate", "FILE", O_CERT, 0 },
		{ "private-key", "FILE", O_KEY, 0 },
		{ "scopes", "[+]LIST", O_SCOPES, 0 },
		{ "session-hours", "N", O_HOURS, 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct opts	 op;
	graph_client_t	*c = NULL;
	const char	*hint = NULL, *secret_file = NULL, *cert = NULL;
	const char	*key = NULL, *scopes = NULL, *e;
	char		*secret = NULL;
	int		 hours = 0, o, r, ex;
	int		 mode = 0;	/* 0 browser, 1 device, 2 app */

	opts_init(&op, "login", defs, 0, argc, argv);
	while ((o = opts_next(&op)) != OPTS_END) {
		switch (o) {
		case OPTS_HELP:
			login_usage(stdout);
			return (EXIT_OK);
		case O_BROWSER:
			mode = 0;
			break;
		case O_DEVICE:
			mode = 1;
			break;
		case O_APP:
			mode = 2;
			break;
		case O_SECRET:
			opts_error(&op, "a secret on the command line leaks "
			    "into ps and shell history: set %s or use "
			    "--client-secret-file", SECRET_ENV);
			return (EXIT_USAGE);
		case O_HINT:
			hint = op.arg;
			break;
		case O_SFILE:
			secret_file = op.arg;
			break;
		case O_CERT:
			cert = op.arg;
			break;
		case O_KEY:
			key = op.arg;
			break;
		case O_SCOPES:
			scopes = op.arg;
			break;
		case O_HOURS:
			if (opts_int(&op, 1, 24 * 90, "hours", &hours) < 0)
				return (EXIT_USAGE);
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if ((cert != NULL) != (key != NULL)) {
		opts_error(&op, "--certificate and --private-key go together");
		return (EXIT_USAGE);
	}
	if (cert != NULL || secret_file != NULL)
		mode = 2;
	if (mode == 2 && ctx->tenant == NULL) {
		opts_error(&op, "app-only sign-in needs --tenant (or "
		    "PROVISIONING_TENANT)");
		return (EXIT_USAGE);
	}
	if (mode == 2 && cert == NULL) {
		if (secret_file != NULL) {
			if ((secret = read_secret_file(secret_file)) == NULL)
				return (EXIT_USAGE);
		} else if ((e = getenv(SECRET_ENV)) != NULL && *e != '\0') {
			if ((secret = strdup(e)) == NULL)
				return (EXIT_USAGE);
		} else {
			opts_error(&op, "--client-credentials needs %s, "
			    "--client-secret-file FILE, or --certificate FILE "
			    "--private-key FILE", SECRET_ENV);
			return (EXIT_USAGE);
		}
	}
	if ((ex = cli_graph_open(ctx, &c)) != EXIT_OK)
		goto out;
	if ((hours > 0 && graph_set_session_hours(c, hours) != GRAPH_OK) ||
	    (scopes != NULL && graph_set_scopes(c, scopes) != GRAPH_OK)) {
		opts_error(&op, "bad --session-hours or --scopes");
		ex = EXIT_USAGE;
		goto out;
	}
	switch (mode) {
	case 0:
		r = graph_login_browser(c, hint);
		break;
	case 1:
		r = graph_login_device_code(c);
		break;
	default:
		if (cert != NULL)
			r = graph_login_client_cert(c, cert, key);
		else
			r = graph_login_client_secret(c, secret);
		break;
	}
	if (r != GRAPH_OK) {
		cli_graph_error(c, "login", r);
		ex = cli_graph_exit(r);
		goto out;
	}
	ex = print_identity(c, ctx, true);
out:
	freezero_str(secret);
	graph_client_free(&c);

	return (ex);
}

int
cmd_logout(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "all", NULL, 'a', 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct opts	 op;
	graph_client_t	*c = NULL;
	bool		 all = false;
	int		 o, r, ex;

	opts_init(&op, "logout", defs, 0, argc, argv);
	while ((o = opts_next(&op)) != OPTS_END) {
		switch (o) {
		case OPTS_HELP:
			printf("usage: provisioning logout [--all]\n"
			    "  forget this tenant's cached sign-in (--all: "
			    "every cached sign-in)\n");
			return (EXIT_OK);
		case 'a':
			all = true;
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if ((ex = cli_graph_open(ctx, &c)) != EXIT_OK)
		return (ex);
	if ((r = graph_logout(c, all)) != GRAPH_OK) {
		cli_graph_error(c, "logout", r);
		ex = cli_graph_exit(r);
	} else
		fprintf(stderr, "Signed out%s.\n", all ? " of every session" :
		    "");
	graph_client_free(&c);

	return (ex);
}

int
cmd_whoami(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = { { NULL, NULL, 0, 0 } };
	struct opts	 op;
	graph_client_t	*c = NULL;
	int		 o, ex;

	opts_init(&op, "whoami", defs, 0, argc, argv);
	while ((o = opts_next(&op)) != OPTS_END) {
		if (o != OPTS_HELP)
			return (EXIT_USAGE);
		printf("usage: provisioning whoami\n"
		    "  the signed-in account, its permissions and roles, and "
		    "when the\n  token and the session end\n");
		return (EXIT_OK);
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if ((ex = cli_graph_open(ctx, &c)) != EXIT_OK)
		return (ex);
	ex = print_identity(c, ctx, false);
	graph_client_free(&c);

	return (ex);
}
