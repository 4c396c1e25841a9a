/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Key verbs: devices, pin status|set|change, reset.
 */

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "ctap.h"
#include "extern.h"

/* getInfo summary of one key as JSON (also used for text output) */
static json_t *
key_json(ctap_devlist_t *l, size_t i)
{
	ctap_dev_t	*d = NULL;
	ctap_info_t	*ci = NULL;
	json_t		*o, *a, *opts;
	size_t		 k;
	bool		 has_pin;
	int		 retries, st;

	o = json_object();
	json_object_set_new(o, "path", json_string(ctap_devlist_path(l, i)));
	json_object_set_new(o, "virtual",
	    json_boolean(ctap_devlist_virtual(l, i)));
	json_object_set_new(o, "manufacturer",
	    json_string(ctap_devlist_manufacturer(l, i)));
	json_object_set_new(o, "product",
	    json_string(ctap_devlist_product(l, i)));
	json_object_set_new(o, "serial",
	    json_string(ctap_devlist_serial(l, i)));
	if (!ctap_devlist_virtual(l, i)) {
		json_object_set_new(o, "vendor_id",
		    json_integer(ctap_devlist_vendor(l, i)));
		json_object_set_new(o, "product_id",
		    json_integer(ctap_devlist_product_id(l, i)));
	}
	st = ctap_devlist_status(l, i);
	if (st == CTAP_OK && ((d = ctap_dev_new()) == NULL ||
	    (ci = ctap_info_new()) == NULL))
		st = CTAP_ERR_INTERNAL;
	if (st == CTAP_OK && (st = ctap_dev_open(d, ctap_devlist_path(l,
	    i))) == CTAP_OK)
		st = ctap_dev_get_info(d, ci);
	json_object_set_new(o, "usable", json_boolean(st == CTAP_OK));
	if (st != CTAP_OK) {
		json_object_set_new(o, "reason", json_string(ctap_strerr(st)));
		goto out;
	}
	json_object_set_new(o, "aaguid", json_string(ctap_info_aaguid(ci)));
	a = json_array();
	for (k = 0; k < ctap_info_versions_len(ci); k++)
		json_array_append_new(a, json_string(ctap_info_version(ci, k)));
	json_object_set_new(o, "versions", a);
	a = json_array();
	for (k = 0; k < ctap_info_extensions_len(ci); k++)
		json_array_append_new(a,
		    json_string(ctap_info_extension(ci, k)));
	json_object_set_new(o, "extensions", a);
	opts = json_object();
	for (k = 0; k < ctap_info_options_len(ci); k++)
		json_object_set_new(opts, ctap_info_option_name(ci, k),
		    json_boolean(ctap_info_option_value(ci, k)));
	json_object_set_new(o, "options", opts);
	a = json_array();
	for (k = 0; k < ctap_info_algorithms_len(ci); k++)
		json_array_append_new(a,
		    json_integer(ctap_info_algorithm(ci, k)));
	json_object_set_new(o, "algorithms", a);
	a = json_array();
	for (k = 0; k < ctap_info_protocols_len(ci); k++)
		json_array_append_new(a,
		    json_integer(ctap_info_protocol(ci, k)));
	json_object_set_new(o, "pin_protocols", a);
	json_object_set_new(o, "min_pin_length",
	    json_integer((json_int_t)ctap_info_min_pin_length(ci)));
	if (ctap_info_remaining_rk(ci) >= 0)
		json_object_set_new(o, "remaining_discoverable_credentials",
		    json_integer(ctap_info_remaining_rk(ci)));
	json_object_set_new(o, "force_pin_change",
	    json_boolean(ctap_info_force_pin_change(ci)));
	json_object_set_new(o, "firmware",
	    json_integer((json_int_t)ctap_info_firmware(ci)));
	if (ctap_dev_pin_status(d, &has_pin, &retries) == CTAP_OK) {
		json_object_set_new(o, "pin_set", json_boolean(has_pin));
		if (has_pin)
			json_object_set_new(o, "pin_retries",
			    json_integer(retries));
	}
out:
	ctap_info_free(&ci);
	ctap_dev_free(&d);

	return (o);
}

static void
print_key_text(json_t *o)
{
	const char	*name, *sep = "";
	json_t		*v;
	size_t		 k;

	/* what the key says of itself is shown, never obeyed */
	printf("%s", cli_safe(json_string_value(json_object_get(o, "path"))));
	if (*json_string_value(json_object_get(o, "product")) != '\0')
		printf("  %s %s", cli_safe(json_string_value(
		    json_object_get(o, "manufacturer"))),
		    cli_safe(json_string_value(json_object_get(o,
		    "product"))));
	if (*json_string_value(json_object_get(o, "serial")) != '\0')
		printf("  serial %s", cli_safe(json_string_value(
		    json_object_get(o, "serial"))));
	printf("\n");
	if (!json_is_true(json_object_get(o, "usable"))) {
		printf("  not usable: %s\n", cli_safe(json_string_value(
		    json_object_get(o, "reason"))));
		return;
	}
	printf("  aaguid %s  firmware %lld\n",
	    cli_safe(json_string_value(json_object_get(o, "aaguid"))),
	    json_integer_value(json_object_get(o, "firmware")));
	printf("  versions");
	json_array_foreach(json_object_get(o, "versions"), k, v)
		printf(" %s", cli_safe(json_string_value(v)));
	printf("\n  extensions");
	json_array_foreach(json_object_get(o, "extensions"), k, v)
		printf(" %s", cli_safe(json_string_value(v)));
	printf("\n  options ");
	json_object_foreach(json_object_get(o, "options"), name, v) {
		printf("%s%s=%s", sep, cli_safe(name), json_is_true(v) ?
		    "yes" : "no");
		sep = ",";
	}
	printf("\n  algorithms");
	json_array_foreach(json_object_get(o, "algorithms"), k, v)
		printf(" %lld", json_integer_value(v));
	printf("\n  PIN %s", json_is_true(json_object_get(o, "pin_set")) ?
	    "set" : "not set");
	if ((v = json_object_get(o, "pin_retries")) != NULL)
		printf(" (%lld retries left)", json_integer_value(v));
	printf(", min length %lld%s\n",
	    json_integer_value(json_object_get(o, "min_pin_length")),
	    json_is_true(json_object_get(o, "force_pin_change")) ?
	    ", PIN change pending" : "");
	if ((v = json_object_get(o,
	    "remaining_discoverable_credentials")) != NULL)
		printf("  room for %lld more passkeys\n",
		    json_integer_value(v));
}

int
cmd_devices(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = { { NULL, NULL, 0, 0 } };
	struct opts	 op;
	ctap_devlist_t	*l = NULL;
	json_t		*all = NULL, *o;
	size_t		 i, n, usable = 0;
	int		 c, r = EXIT_KEY;

	opts_init(&op, "devices", defs, 0, argc, argv);
	while ((c = opts_next(&op)) != OPTS_END) {
		if (c != OPTS_HELP)
			return (EXIT_USAGE);
		printf("usage: provisioning [--json] [--device SPEC] "
		    "[--virtual-keys DIR] devices\n"
		    "  the attached keys (USB and virtual) and what they "
		    "offer; exit 4 if none\n  is usable\n");
		return (EXIT_OK);
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if ((l = ctap_devlist_new()) == NULL ||
	    ctap_devlist_scan(l, ctx->device, ctx->virtual_keys, true) !=
	    CTAP_OK) {
		fprintf(stderr, "provisioning: cannot list security keys\n");
		goto fail;
	}
	n = ctap_devlist_len(l);
	all = json_array();
	for (i = 0; i < n; i++) {
		o = key_json(l, i);
		if (json_is_true(json_object_get(o, "usable")))
			usable++;
		if (ctx->json)
			json_array_append(all, o);
		else
			print_key_text(o);
		json_decref(o);
	}
	if (ctx->json)
		json_dumpf(all, stdout, JSON_INDENT(2));
	if (ctx->json)
		printf("\n");
	if (n == 0)
		fprintf(stderr, "provisioning: no security keys found (USB "
		    "keys need read/write access to /dev/hidraw*; see "
		    "udev/70-provisioning.rules)\n");
	/* listed, but none can be used: a script should know */
	r = usable == 0 ? EXIT_KEY : EXIT_OK;
fail:
	json_decref(all);
	ctap_devlist_free(&l);

	return (r);
}

static void
pin_error(ctap_dev_t *d, int r)
{
	fprintf(stderr, "provisioning: %s", ctap_strerr(r));
	if (r == CTAP_ERR_PIN_INVALID && ctap_dev_retries(d) >= 0)
		fprintf(stderr, " (%d retries left before the key locks)",
		    ctap_dev_retries(d));
	fprintf(stderr, "\n");
}

#define PIN_STATUS	0
#define PIN_SET		1
#define PIN_CHANGE	2

static void
pin_usage(FILE *f, int sub)
{
	static const char *const lines[] = { "pin status",
	    "pin set [--pin-env VAR]",
	    "pin change [--old-pin-env VAR] [--pin-env VAR]" };
	const char	*lead = "usage:";
	int		 i;

	for (i = PIN_STATUS; i <= PIN_CHANGE; i++) {
		if (sub >= 0 && sub != i)
			continue;
		fprintf(f, "%s provisioning %s\n", lead, lines[i]);
		lead = "      ";
	}
	if (sub != PIN_STATUS)
		fprintf(f, "PINs are never taken from the command line: they "
		    "are read from the\nenvironment variables named, or "
		    "asked for on the terminal.\n");
}

int
cmd_pin(struct prov_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = { "status", "set", "change", NULL };
	static const char *const names[] = { "pin status", "pin set",
	    "pin change" };
	static const struct optdef none[] = { { NULL, NULL, 0, 0 } };
	static const struct optdef set[] = {
		{ "pin-env", "VAR", 'p', 0 },
		{ NULL, NULL, 0, 0 },
	};
	static const struct optdef change[] = {
		{ "pin-env", "VAR", 'p', 0 },
		{ "old-pin-env", "VAR", 'o', 0 },
		{ NULL, NULL, 0, 0 },
	};
	static const struct optdef *const defs[] = { none, set, change };
	struct opts	 op;
	ctap_dev_t	*d = NULL;
	const char	*env = NULL, *oldenv = NULL, *sub;
	char		*path = NULL, *pin = NULL, *oldpin = NULL;
	bool		 has_pin;
	int		 c, k, r, cr, retries;

	if ((k = opts_subverb("pin", argc, argv, subs)) == OPTS_HELP) {
		pin_usage(stdout, -1);
		return (EXIT_OK);
	} else if (k < 0)
		return (EXIT_USAGE);
	sub = subs[k];
	opts_init(&op, names[k], defs[k], 0, argc - 1, argv + 1);
	while ((c = opts_next(&op)) != OPTS_END) {
		switch (c) {
		case OPTS_HELP:
			pin_usage(stdout, k);
			return (EXIT_OK);
		case 'p':
			env = op.arg;
			if (opts_pin_env(&op) < 0)
				return (EXIT_USAGE);
			break;
		case 'o':
			oldenv = op.arg;
			if (opts_pin_env(&op) < 0)
				return (EXIT_USAGE);
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if ((r = key_pick(ctx, &path)) != EXIT_OK ||
	    (r = key_open(path, &d)) != EXIT_OK)
		goto fail;
	if (strcmp(sub, "status") == 0) {
		if ((cr = ctap_dev_pin_status(d, &has_pin, &retries)) !=
		    CTAP_OK) {
			pin_error(d, cr);
			r = cli_ctap_exit(cr);
			goto fail;
		}
		if (ctx->json) {
			json_t *o = json_pack("{s:s,s:b,s:i}", "path", path,
			    "pin_set", has_pin, "retries", retries);

			json_dumpf(o, stdout, JSON_COMPACT);
			printf("\n");
			json_decref(o);
		} else if (has_pin)
			printf("%s: PIN set, %d retries left\n", path,
			    retries);
		else
			printf("%s: no PIN set\n", path);
		r = EXIT_OK;
		goto fail;
	}
	if (strcmp(sub, "change") == 0 && (oldpin = pin_read(oldenv,
	    "Current PIN: ", false)) == NULL) {
		r = EXIT_USAGE;
		goto fail;
	}
	if ((pin = pin_read(env, "New PIN: ", env == NULL)) == NULL) {
		r = EXIT_USAGE;
		goto fail;
	}
	cr = oldpin == NULL ? ctap_dev_pin_set(d, pin) :
	    ctap_dev_pin_change(d, oldpin, pin);
	if (cr != CTAP_OK) {
		if (cr == CTAP_ERR_NOT_ALLOWED || cr == CTAP_ERR_PROTOCOL)
			fprintf(stderr, "provisioning: %s: the key refused "
			    "to %s the PIN (%s)%s\n", path, sub,
			    ctap_strerr(cr), oldpin == NULL ? "; if a PIN is "
			    "already set, use 'pin change'" : "");
		else
			pin_error(d, cr);
		r = cli_ctap_exit(cr);
		goto fail;
	}
	printf("%s: PIN %s\n", path, oldpin == NULL ? "set" : "changed");
	r = EXIT_OK;
fail:
	freezero_str(pin);
	freezero_str(oldpin);
	ctap_dev_free(&d);
	free(path);

	return (r);
}

int
cmd_reset(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = {
		{ "yes", NULL, 'y', 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct opts	 op;
	ctap_dev_t	*d = NULL;
	char		*path = NULL;
	int		 c, r, cr, yes = 0;

	opts_init(&op, "reset", defs, 0, argc, argv);
	while ((c = opts_next(&op)) != OPTS_END) {
		switch (c) {
		case OPTS_HELP:
			printf("usage: provisioning [--device SPEC] reset "
			    "--yes\nDeletes every passkey and the PIN on the "
			    "key; needs a touch.\n");
			return (EXIT_OK);
		case 'y':
			yes = 1;
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	if (opts_operands(&op, 0, 0, NULL) < 0)
		return (EXIT_USAGE);
	if (!yes) {
		fprintf(stderr, "provisioning: reset deletes every passkey "
		    "and the PIN on the key; add --yes to confirm\n");
		return (EXIT_USAGE);
	}
	if ((r = key_pick(ctx, &path)) != EXIT_OK ||
	    (r = key_open(path, &d)) != EXIT_OK)
		goto fail;
	fprintf(stderr, "Touch the key to confirm the reset...\n");
	sig_watch(d);
	cr = ctap_dev_reset(d);
	sig_unwatch(d);
	if (cr != CTAP_OK) {
		fprintf(stderr, "provisioning: %s: %s\n", path,
		    ctap_strerr(cr));
		r = cli_ctap_exit(cr);
		goto fail;
	}
	printf("%s: reset\n", path);
	r = EXIT_OK;
fail:
	ctap_dev_free(&d);
	free(path);

	return (r);
}
