/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * webauthn create|verify: the enroll pipeline's key half without Graph.
 * `create` turns a creationOptions document into the fido2Methods POST
 * body with a real (or virtual) key; `verify` checks such a body.
 */

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "ctap.h"
#include "extern.h"
#include "webauthn.h"

#define PIN_PROMPT	"Security key PIN: "

static void
create_usage(FILE *f)
{
	fprintf(f, "usage: provisioning [--device SPEC] webauthn create "
	    "--options FILE|- [--pin-env VAR]\n"
	    "           [--display-name TEMPLATE] [--attestation-none] "
	    "[--no-self-check]\n"
	    "           [--timeout SECONDS]\n"
	    "Prints the fido2Methods POST body for the creationOptions in "
	    "FILE (or stdin).\n"
	    "TEMPLATE may use {upn} {name} {model} {serial} {date} {aaguid};"
	    " default\n\"%s\", or \"%s\" when the model is unknown.\n",
	    WEBAUTHN_DISPLAY_DEFAULT, WEBAUTHN_DISPLAY_FALLBACK);
}

static void
verify_usage(FILE *f)
{
	fprintf(f, "usage: provisioning webauthn verify --options FILE "
	    "--body FILE\n"
	    "Checks a fido2Methods POST body against its creationOptions "
	    "(exit 0 OK, 1 not).\n");
}

static void
usage(FILE *f)
{
	create_usage(f);
	verify_usage(f);
}

/* a file, or stdin for "-", of at most WEBAUTHN_JSON_MAX bytes */
static int
read_input(const char *what, const char *path, char **out, size_t *outlen)
{
	unsigned char	*buf = NULL;
	size_t		 len = 0, n;

	*out = NULL;
	*outlen = 0;
	if (strcmp(path, "-") != 0) {
		errno = 0;
		if (read_file_max(path, WEBAUTHN_JSON_MAX, &buf, &len) < 0) {
			if (errno == EFBIG)
				fprintf(stderr, "provisioning: %s %s is larger "
				    "than %d bytes\n", what, path,
				    WEBAUTHN_JSON_MAX);
			else
				fprintf(stderr, "provisioning: cannot read %s "
				    "%s: %s\n", what, path, strerror(errno));
			return (-1);
		}
		*out = (char *)buf;
		*outlen = len;
		return (0);
	}
	if ((buf = malloc(WEBAUTHN_JSON_MAX + 2)) == NULL)
		return (-1);
	while ((n = fread(buf + len, 1, WEBAUTHN_JSON_MAX + 1 - len,
	    stdin)) > 0) {
		len += n;
		if (len > WEBAUTHN_JSON_MAX) {
			fprintf(stderr, "provisioning: %s on stdin is larger "
			    "than %d bytes\n", what, WEBAUTHN_JSON_MAX);
			free(buf);
			return (-1);
		}
	}
	if (ferror(stdin)) {
		fprintf(stderr, "provisioning: cannot read %s from stdin\n",
		    what);
		free(buf);
		return (-1);
	}
	buf[len] = '\0';
	*out = (char *)buf;
	*outlen = len;

	return (0);
}

static webauthn_options_t *
load_options(const char *path)
{
	webauthn_options_t	*o = NULL;
	char			*buf = NULL, err[256];
	size_t			 len;

	if (read_input("creationOptions", path, &buf, &len) < 0)
		return (NULL);
	if (webauthn_options_parse(buf, len, &o, err, sizeof(err)) !=
	    WEBAUTHN_OK)
		fprintf(stderr, "provisioning: %s: %s\n",
		    strcmp(path, "-") == 0 ? "stdin" : path, cli_safe(err));
	free(buf);

	return (o);
}

/* what the key calls itself, for the display name; "" if unknown */
static void
key_meta(const struct prov_ctx *ctx, const char *path, char **model,
    char **serial)
{
	ctap_devlist_t	*l = NULL;
	size_t		 i;

	*model = NULL;
	*serial = NULL;
	if ((l = ctap_devlist_new()) != NULL &&
	    ctap_devlist_scan(l, ctx->device, ctx->virtual_keys,
	    false) == CTAP_OK) {
		for (i = 0; i < ctap_devlist_len(l); i++) {
			if (strcmp(ctap_devlist_path(l, i), path) != 0)
				continue;
			*model = strdup(ctap_devlist_product(l, i));
			*serial = strdup(ctap_devlist_serial(l, i));
			break;
		}
	}
	ctap_devlist_free(&l);
	if (*model == NULL)
		*model = strdup("");
	if (*serial == NULL)
		*serial = strdup("");
}

/* an authenticator error, with what to do about it */
static int
key_error(ctap_dev_t *d, const char *path, int r)
{
	fprintf(stderr, "provisioning: %s: %s", path, ctap_strerr(r));
	if (r == CTAP_ERR_PIN_INVALID && d != NULL &&
	    ctap_dev_retries(d) >= 0)
		fprintf(stderr, " (%d retries left before the key locks)",
		    ctap_dev_retries(d));
	if (r == CTAP_ERR_PIN_NOT_SET)
		fprintf(stderr, ": provisioning --device %s pin set", path);
	fprintf(stderr, "\n");

	return (cli_ctap_exit(r));
}

static void
warn_expiry(const webauthn_options_t *o)
{
	time_t		exp = webauthn_options_expires(o), now = time(NULL);
	struct tm	tm;
	char		buf[32];

	if (exp == 0 || exp > now)
		return;
	if (gmtime_r(&exp, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof(buf), "?");
	log_warn("the challenge expired at %s; Graph will refuse this "
	    "registration (fetch fresh creationOptions)", buf);
}

struct create_args {
	const char	*options;
	const char	*pin_env;
	const char	*display;
	bool		 att_none;
	bool		 self_check;
	int		 timeout_ms;
};

/* EXIT_OK to go on, -1 after --help, EXIT_USAGE after an error */
static int
create_parse(int argc, char **argv, struct create_args *a)
{
	static const struct optdef defs[] = {
		{ "options", "FILE|-", 'o', 0 },
		{ "pin-env", "VAR", 'p', 0 },
		{ "display-name", "TEMPLATE", 'd', 0 },
		{ "attestation-none", NULL, 'n', 0 },
		{ "no-self-check", NULL, 'S', 0 },
		{ "timeout", "SECONDS", 't', 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct opts	op;
	int		c, v;

	memset(a, 0, sizeof(*a));
	a->self_check = true;
	opts_init(&op, "webauthn create", defs, 0, argc, argv);
	while ((c = opts_next(&op)) != OPTS_END) {
		switch (c) {
		case OPTS_HELP:
			create_usage(stdout);
			return (-1);
		case 'o':
			a->options = op.arg;
			break;
		case 'p':
			a->pin_env = op.arg;
			if (opts_pin_env(&op) < 0)
				return (EXIT_USAGE);
			break;
		case 'd':
			a->display = op.arg;
			break;
		case 'n':
			a->att_none = true;
			break;
		case 'S':
			a->self_check = false;
			break;
		case 't':
			if (opts_int(&op, 1, WEBAUTHN_TIMEOUT_MAX_MS / 1000,
			    "seconds", &v) < 0)
				return (EXIT_USAGE);
			a->timeout_ms = v * 1000;
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if (a->options == NULL) {
		opts_error(&op, "missing --options FILE|-");
		return (EXIT_USAGE);
	}

	return (EXIT_OK);
}

/*
 * The pieces of the POST body: as the key made them, or relabelled
 * "none" on request.
 */
static int
make_body(const ctap_cred_t *cred, bool att_none, const char *dn,
    char **body)
{
	unsigned char	*att = NULL;
	size_t		 attlen = 0;
	int		 r;

	if (!att_none)
		return (webauthn_body(cred, dn, body));
	if ((r = webauthn_attobj_none(ctap_cred_attobj_ptr(cred),
	    ctap_cred_attobj_len(cred), &att, &attlen)) != WEBAUTHN_OK)
		return (r);
	r = webauthn_body_raw(ctap_cred_id_ptr(cred), ctap_cred_id_len(cred),
	    ctap_cred_clientdata_ptr(cred), ctap_cred_clientdata_len(cred),
	    att, attlen, dn, body);
	free(att);

	return (r);
}

static int
webauthn_create(struct prov_ctx *ctx, int argc, char **argv)
{
	struct create_args	 a;
	webauthn_options_t	*o = NULL;
	ctap_dev_t		*d = NULL;
	ctap_info_t		*ci = NULL;
	ctap_cred_t		*cred = NULL;
	char			*path = NULL, *pin = NULL, *cd = NULL;
	char			*dn = NULL, *body = NULL, *fmt = NULL;
	char			*model = NULL, *serial = NULL, err[256];
	size_t			 cdlen;
	int			 r, cr;

	if ((r = create_parse(argc, argv, &a)) != EXIT_OK)
		return (r < 0 ? EXIT_OK : r);
	/* a template typo must not cost a touch: try it out first */
	if (webauthn_display_name(a.display, "", "", "m", "", "", "",
	    &dn) != WEBAUTHN_OK) {
		cmd_usage_error("webauthn create", "--display-name: unknown "
		    "{placeholder}; use {upn} {name} {model} {serial} {date} "
		    "{aaguid}");
		r = EXIT_USAGE;
		goto fail;
	}
	free(dn);
	dn = NULL;
	if ((o = load_options(a.options)) == NULL) {
		r = EXIT_USAGE;
		goto fail;
	}
	/* a key signs for whatever rp.id it is handed: pinned, as enroll */
	if (webauthn_options_check_rp(o, getenv("PROVISIONING_TEST_RP_ID"),
	    err, sizeof(err)) != WEBAUTHN_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		r = EXIT_USAGE;
		goto fail;
	}
	warn_expiry(o);
	log_info("creationOptions: rp %s, %zu excluded id readings, uv %s, "
	    "rk %d, credProtect %d, hmac-secret %d",
	    webauthn_options_rp_id(o), webauthn_options_exclude_len(o),
	    webauthn_options_uv_pref(o), webauthn_options_rk(o),
	    webauthn_options_prot(o), webauthn_options_hmac_secret(o));
	if ((r = key_pick(ctx, &path)) != EXIT_OK ||
	    (r = key_open(path, &d)) != EXIT_OK)
		goto fail;
	ctap_dev_set_timeout(d, a.timeout_ms > 0 ? a.timeout_ms :
	    webauthn_options_timeout_ms(o));
	if ((ci = ctap_info_new()) == NULL) {
		r = EXIT_KEY;
		goto fail;
	}
	if ((cr = ctap_dev_get_info(d, ci)) != CTAP_OK) {
		r = key_error(d, path, cr);
		goto fail;
	}
	if (ctap_info_has_pin(ci)) {
		if ((pin = pin_read(a.pin_env, PIN_PROMPT, false)) == NULL) {
			r = EXIT_USAGE;
			goto fail;
		}
	} else if (webauthn_options_uv(o)) {
		r = key_error(d, path, CTAP_ERR_PIN_NOT_SET);
		goto fail;
	}
	if (webauthn_clientdata(o, &cd, &cdlen) != WEBAUTHN_OK ||
	    (cred = ctap_cred_new()) == NULL) {
		r = EXIT_KEY;
		goto fail;
	}
	if ((r = webauthn_apply(o, cred, cd, cdlen)) != WEBAUTHN_OK) {
		fprintf(stderr, "provisioning: cannot use these "
		    "creationOptions: %s\n", webauthn_strerr(r));
		r = EXIT_USAGE;
		goto fail;
	}
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "Touch the security key (%s) to create the "
		    "passkey...\n", path);
	sig_watch(d);
	cr = ctap_dev_make_cred(d, cred, pin);
	sig_unwatch(d);
	freezero_str(pin);
	pin = NULL;
	if (cr != CTAP_OK) {
		r = key_error(d, path, cr);
		goto fail;
	}
	log_info("credential made: attestation %s, aaguid %s",
	    ctap_cred_attestation(cred), ctap_cred_aaguid(cred));
	key_meta(ctx, path, &model, &serial);
	if (webauthn_display_name(a.display, webauthn_options_user_name(o),
	    webauthn_options_user_display_name(o), model,
	    ctap_cred_aaguid(cred), serial, NULL, &dn) != WEBAUTHN_OK ||
	    make_body(cred, a.att_none, dn, &body) != WEBAUTHN_OK) {
		fprintf(stderr, "provisioning: cannot build the registration "
		    "body\n");
		r = EXIT_KEY;
		goto fail;
	}
	/* our own end-to-end check of exactly what would be POSTed */
	if (a.self_check && webauthn_verify_body(o, body, strlen(body), &fmt,
	    err, sizeof(err)) != WEBAUTHN_OK) {
		fprintf(stderr, "provisioning: the key's registration does not "
		    "check out: %s\n", cli_safe(err));
		r = EXIT_KEY;
		goto fail;
	}
	printf("%s\n", body);
	if (fflush(stdout) != 0) {
		r = EXIT_USAGE;
		goto fail;
	}
	r = EXIT_OK;
fail:
	freezero_str(pin);
	webauthn_options_free(&o);
	ctap_cred_free(&cred);
	ctap_info_free(&ci);
	if (d != NULL)
		ctap_dev_close(d);
	ctap_dev_free(&d);
	free(path);
	free(cd);
	free(dn);
	free(body);
	free(fmt);
	free(model);
	free(serial);

	return (r);
}

static int
webauthn_verify(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "options", "FILE|-", 'o', 0 },
		{ "body", "FILE|-", 'b', 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct opts		 op;
	webauthn_options_t	*o = NULL;
	const char		*opath = NULL, *bpath = NULL;
	char			*body = NULL, *fmt = NULL, err[256];
	size_t			 len;
	int			 c, r;

	opts_init(&op, "webauthn verify", defs, 0, argc, argv);
	while ((c = opts_next(&op)) != OPTS_END) {
		switch (c) {
		case OPTS_HELP:
			verify_usage(stdout);
			return (EXIT_OK);
		case 'o':
			opath = op.arg;
			break;
		case 'b':
			bpath = op.arg;
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if (opath == NULL || bpath == NULL) {
		opts_error(&op, "missing %s", opath == NULL ?
		    "--options FILE" : "--body FILE");
		return (EXIT_USAGE);
	}
	if (strcmp(opath, "-") == 0 && strcmp(bpath, "-") == 0) {
		opts_error(&op, "only one of --options and --body can be "
		    "stdin");
		return (EXIT_USAGE);
	}
	if ((o = load_options(opath)) == NULL ||
	    read_input("body", bpath, &body, &len) < 0) {
		r = EXIT_USAGE;
		goto fail;
	}
	if ((r = webauthn_verify_body(o, body, len, &fmt, err,
	    sizeof(err))) != WEBAUTHN_OK) {
		if (ctx->json) {
			json_t *j = json_pack("{s:b, s:s}", "ok", 0, "error",
			    err);

			json_dumpf(j, stdout, JSON_COMPACT);
			printf("\n");
			json_decref(j);
		} else
			printf("FAIL: %s\n", err);
		r = EXIT_PARTIAL;
		goto fail;
	}
	if (ctx->json) {
		json_t *j = json_pack("{s:b, s:s}", "ok", 1, "fmt", fmt);

		json_dumpf(j, stdout, JSON_COMPACT);
		printf("\n");
		json_decref(j);
	} else
		printf("OK: fmt %s, rp %s\n", fmt, webauthn_options_rp_id(o));
	r = EXIT_OK;
fail:
	webauthn_options_free(&o);
	free(body);
	free(fmt);

	return (r);
}

int
cmd_webauthn(struct prov_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = { "create", "verify", NULL };

	switch (opts_subverb("webauthn", argc, argv, subs)) {
	case 0:
		return (webauthn_create(ctx, argc - 1, argv + 1));
	case 1:
		return (webauthn_verify(ctx, argc - 1, argv + 1));
	case OPTS_HELP:
		usage(stdout);
		return (EXIT_OK);
	default:
		return (EXIT_USAGE);
	}
}
