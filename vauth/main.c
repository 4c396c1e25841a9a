/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* vauth: the virtual CTAP 2.1 authenticator daemon */

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "server.h"
#include "vauth.h"

#ifndef PROV_VERSION
#error "PROV_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif
#define VAUTH_VERSION PROV_VERSION

enum {
	OPT_SOCKET = 256,
	OPT_STATE,
	OPT_AAGUID,
	OPT_ATTESTATION,
	OPT_CA,
	OPT_PIN,
	OPT_PRESENCE,
	OPT_PROTOCOL,
	OPT_FAIL,
	OPT_MAX_CREDS,
	OPT_MIN_PIN,
	OPT_FW,
	OPT_UP_TIMEOUT,
	OPT_EXPORT_CA,
	OPT_CERT_AAGUID,
	OPT_ATT_INTERMEDIATE
};

static const struct option longopts[] = {
    {"socket", required_argument, NULL, OPT_SOCKET},
    {"state", required_argument, NULL, OPT_STATE},
    {"aaguid", required_argument, NULL, OPT_AAGUID},
    {"attestation", required_argument, NULL, OPT_ATTESTATION},
    {"ca", required_argument, NULL, OPT_CA},
    {"pin", required_argument, NULL, OPT_PIN},
    {"presence", required_argument, NULL, OPT_PRESENCE},
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"fail", required_argument, NULL, OPT_FAIL},
    {"max-creds", required_argument, NULL, OPT_MAX_CREDS},
    {"min-pin-length", required_argument, NULL, OPT_MIN_PIN},
    {"fw", required_argument, NULL, OPT_FW},
    {"up-timeout", required_argument, NULL, OPT_UP_TIMEOUT},
    {"export-ca", required_argument, NULL, OPT_EXPORT_CA},
    {"cert-aaguid", required_argument, NULL, OPT_CERT_AAGUID},
    {"att-intermediate", no_argument, NULL, OPT_ATT_INTERMEDIATE},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char usage_text[] =
    "usage: vauth --socket PATH [--state FILE] [--aaguid UUID]\n"
    "         [--attestation packed|self|none] [--ca FILE] [--pin PIN]\n"
    "         [--presence auto|delay:MS|deny[:MS]] [--protocol 1|2|both]\n"
    "         [--fail SPEC] [--up-timeout MS] [--max-creds N]\n"
    "         [--min-pin-length N] [--fw N] [--cert-aaguid UUID]\n"
    "         [--att-intermediate] [--verbose]\n"
    "       vauth --export-ca FILE.pem (--ca FILE | --state FILE)\n"
    "       vauth --help | --version\n"
    "\n"
    "A virtual CTAP 2.1 authenticator for tests. It listens on a Unix\n"
    "stream socket; each message is one raw 64-byte CTAPHID report (no\n"
    "report id) in each direction. One client at a time; others wait.\n"
    "Attach it to libfido2 with fido_dev_set_io_functions().\n"
    "\n"
    "  --socket PATH       listen here (a stale socket is replaced; the\n"
    "                      socket is removed on SIGTERM/SIGINT)\n"
    "  --state FILE        keep PIN, credentials, counters and keys in\n"
    "                      FILE (0600, rewritten atomically after every\n"
    "                      change); without it, state is in memory only\n"
    "  --aaguid UUID       default 76617574-682d-7465-7374-2d6b65790001\n"
    "  --attestation FMT   packed (default: basic, x5c signed by the\n"
    "                      test CA), self (packed self), none\n"
    "  --ca FILE           PEM test root CA certificate + private key;\n"
    "                      created (P-256, 0600) if missing, so several\n"
    "                      vauth processes share one root; without it a\n"
    "                      root is generated and kept in --state\n"
    "  --export-ca FILE    write the root CA certificate (PEM) and exit\n"
    "  --pin PIN           preset this PIN if none is set (a test\n"
    "                      convenience: argv is visible to other users;\n"
    "                      real setups set the PIN through clientPIN);\n"
    "                      $VAUTH_PIN works too\n"
    "  --presence MODE     auto: touched at once (default); delay:MS:\n"
    "                      KEEPALIVE UPNEEDED every 100 ms for MS ms,\n"
    "                      then touched; deny[:MS]: after MS ms (default\n"
    "                      200) answer 0x27 OPERATION_DENIED\n"
    "  --protocol P        pinUvAuthProtocols advertised and accepted:\n"
    "                      both (default, [2,1]), 1 or 2\n"
    "  --fail SPEC         inject faults, see below\n"
    "  --up-timeout MS     presence wait of the timeout fault (1500)\n"
    "  --max-creds N       resident credential slots (50; at most 1000)\n"
    "  --min-pin-length N  minimum PIN length of a new or reset\n"
    "                      authenticator (4; 4..63)\n"
    "  --fw N              firmwareVersion in getInfo (1)\n"
    "  --cert-aaguid UUID  for tests: the AAGUID the attestation\n"
    "                      certificate's extension names (default: the\n"
    "                      key's; another one breaks WebAuthn 8.2.1)\n"
    "  --att-intermediate  for tests: the attestation certificate is\n"
    "                      signed by an intermediate CA under the root,\n"
    "                      sent as x5c[1] (made at each start)\n"
    "  --verbose, -v       log to stderr (never PINs, tokens or keys)\n"
    "\n"
    "Fault spec: comma-separated KIND[:ARG][@N]; @N applies the fault to\n"
    "the first N matching commands only (default: every time). For each\n"
    "command the first listed fault with uses left fires. CMD is info,\n"
    "mc, ga, pin, reset, cm, cfg, sel or any.\n"
    "  timeout:CMD         wait --up-timeout ms with keepalives, 0x2F\n"
    "  deny:CMD            answer 0x27 OPERATION_DENIED\n"
    "  disconnect:CMD      send the first 64-byte frame of the reply\n"
    "                      (none if it fits in one) and close the\n"
    "                      connection\n"
    "  malformed:CMD       status 0x00, then truncated/garbage CBOR\n"
    "  noncanonical:CMD    reply with map keys out of canonical order\n"
    "  slowkeepalive:MS    while waiting for presence, stay silent for\n"
    "                      MS ms, then keepalive only every MS ms\n"
    "  status:CMD=0xNN     answer status byte NN with no body\n"
    "  hang:CMD            never answer; keepalive PROCESSING until the\n"
    "                      client cancels or disconnects (then 0x2D)\n"
    "Example: --fail timeout:mc@1,status:pin=0x31,slowkeepalive:400\n"
    "\n"
    "A client disconnect is not a power cycle: PIN, retries, credentials\n"
    "and the pinUvAuthToken survive. It only clears the \"3 wrong PINs in a\n"
    "row\" block (0x34).\n"
    "\n"
    "Exit status: 0 after SIGTERM/SIGINT or --export-ca, 1 on error,\n"
    "2 on a usage error.\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static void
log_stderr(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "vauth[%ld]: %s\n", (long)getpid(), msg);
}

static int
parse_presence(vauth_t *v, const char *s)
{
	int ms = 0;

	if (strcmp(s, "auto") == 0)
		return (vauth_set_presence(v, VAUTH_UP_AUTO, 0));
	if (strncmp(s, "delay:", 6) == 0 &&
	    parse_int_range(s + 6, 0, 3600000, &ms) == 0)
		return (vauth_set_presence(v, VAUTH_UP_DELAY, ms));
	if (strcmp(s, "deny") == 0)
		return (vauth_set_presence(v, VAUTH_UP_DENY, 0));
	if (strncmp(s, "deny:", 5) == 0 &&
	    parse_int_range(s + 5, 0, 3600000, &ms) == 0)
		return (vauth_set_presence(v, VAUTH_UP_DENY, ms));

	return (VAUTH_ERR_INVALID_ARGUMENT);
}

static int
bad(const char *opt, const char *val)
{
	fprintf(stderr, "vauth: invalid %s: %s\n", opt, val);
	usage(stderr);

	return (2);
}

int
main(int argc, char **argv)
{
	vauth_t *v = NULL;
	const char *sock = NULL, *export = NULL, *why = NULL;
	char *pin = NULL, *env;
	unsigned char aaguid[16];
	long long n;
	int ch, r, verbose = 0, have_store = 0, rv = 1;

	if ((v = vauth_new()) == NULL) {
		fprintf(stderr, "vauth: out of memory\n");
		return (1);
	}
	while ((ch = getopt_long(argc, argv, "vhV", longopts, NULL)) != -1) {
		r = VAUTH_OK;
		switch (ch) {
		case OPT_SOCKET:
			sock = optarg;
			break;
		case OPT_STATE:
			r = vauth_set_state_file(v, optarg);
			have_store = 1;
			break;
		case OPT_AAGUID:
			if (vauth_parse_aaguid(optarg, aaguid,
				sizeof(aaguid)) != VAUTH_OK) {
				rv = bad("--aaguid", optarg);
				goto out;
			}
			r = vauth_set_aaguid(v, aaguid, sizeof(aaguid));
			break;
		case OPT_ATT_INTERMEDIATE:
			r = vauth_set_att_intermediate(v, 1);
			break;
		case OPT_CERT_AAGUID:
			if (vauth_parse_aaguid(optarg, aaguid,
				sizeof(aaguid)) != VAUTH_OK) {
				rv = bad("--cert-aaguid", optarg);
				goto out;
			}
			r = vauth_set_cert_aaguid(v, aaguid, sizeof(aaguid));
			break;
		case OPT_ATTESTATION:
			if (strcmp(optarg, "packed") == 0)
				r = vauth_set_attestation(v, VAUTH_ATT_PACKED);
			else if (strcmp(optarg, "self") == 0)
				r = vauth_set_attestation(v, VAUTH_ATT_SELF);
			else if (strcmp(optarg, "none") == 0)
				r = vauth_set_attestation(v, VAUTH_ATT_NONE);
			else
				r = VAUTH_ERR_INVALID_ARGUMENT;
			if (r != VAUTH_OK) {
				rv = bad("--attestation", optarg);
				goto out;
			}
			break;
		case OPT_CA:
			r = vauth_set_ca_file(v, optarg);
			have_store = 1;
			break;
		case OPT_PIN:
			free(pin);
			if ((pin = strdup(optarg)) == NULL)
				goto out;
			/* keep it out of ps(1) as far as we can */
			explicit_bzero(optarg, strlen(optarg));
			break;
		case OPT_PRESENCE:
			if (parse_presence(v, optarg) != VAUTH_OK) {
				rv = bad("--presence", optarg);
				goto out;
			}
			break;
		case OPT_PROTOCOL:
			if (strcmp(optarg, "1") == 0)
				r = vauth_set_protocols(v, VAUTH_PROTO_1);
			else if (strcmp(optarg, "2") == 0)
				r = vauth_set_protocols(v, VAUTH_PROTO_2);
			else if (strcmp(optarg, "both") == 0)
				r = vauth_set_protocols(v,
				    VAUTH_PROTO_1 | VAUTH_PROTO_2);
			else {
				rv = bad("--protocol", optarg);
				goto out;
			}
			break;
		case OPT_FAIL:
			if (vauth_set_faults(v, optarg, &why) != VAUTH_OK) {
				fprintf(stderr,
				    "vauth: bad --fail spec "
				    "\"%s\": %s\n",
				    optarg, why ? why : "invalid");
				rv = 2;
				goto out;
			}
			break;
		case OPT_MAX_CREDS:
			if (parse_ll(optarg, 0, 1000, &n) < 0) {
				rv = bad("--max-creds", optarg);
				goto out;
			}
			r = vauth_set_max_creds(v, (size_t)n);
			break;
		case OPT_MIN_PIN:
			if (parse_ll(optarg, 4, 63, &n) < 0) {
				rv = bad("--min-pin-length", optarg);
				goto out;
			}
			r = vauth_set_min_pin_length(v, (size_t)n);
			break;
		case OPT_FW:
			/* firmware versions are often written in hex */
			if (parse_llx(optarg, 0, LLONG_MAX, &n) < 0) {
				rv = bad("--fw", optarg);
				goto out;
			}
			r = vauth_set_fw_version(v, (uint64_t)n);
			break;
		case OPT_UP_TIMEOUT:
			if (parse_ll(optarg, 0, 3600000, &n) < 0) {
				rv = bad("--up-timeout", optarg);
				goto out;
			}
			r = vauth_set_up_timeout(v, (int)n);
			break;
		case OPT_EXPORT_CA:
			export = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			rv = 0;
			goto out;
		case 'V':
			printf("vauth %s\n", VAUTH_VERSION);
			rv = 0;
			goto out;
		default:
			usage(stderr);
			rv = 2;
			goto out;
		}
		if (r != VAUTH_OK) {
			fprintf(stderr, "vauth: %s\n", vauth_strerr(r));
			goto out;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vauth: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		rv = 2;
		goto out;
	}
	if (export != NULL && !have_store) {
		fprintf(stderr, "vauth: --export-ca needs --ca or --state\n");
		rv = 2;
		goto out;
	}
	if (export == NULL && sock == NULL) {
		fprintf(stderr, "vauth: --socket is required\n");
		usage(stderr);
		rv = 2;
		goto out;
	}
	if (pin == NULL && (env = getenv("VAUTH_PIN")) != NULL &&
	    (pin = strdup(env)) == NULL)
		goto out;
	if (verbose)
		vauth_set_log(v, log_stderr, NULL);

	if ((r = vauth_start(v)) != VAUTH_OK) {
		fprintf(stderr, "vauth: cannot start: %s\n", vauth_strerr(r));
		goto out;
	}
	if (export != NULL) {
		if ((r = vauth_export_ca(v, export)) != VAUTH_OK) {
			fprintf(stderr, "vauth: %s: %s\n", export,
			    vauth_strerr(r));
			goto out;
		}
		rv = 0;
		goto out;
	}
	if (pin != NULL && (r = vauth_preset_pin(v, pin)) != VAUTH_OK) {
		fprintf(stderr, "vauth: --pin: %s\n", vauth_strerr(r));
		rv = r == VAUTH_ERR_PIN_POLICY ? 2 : 1;
		goto out;
	}
	if (verbose) {
		const unsigned char *a = vauth_aaguid(v);

		fprintf(stderr,
		    "vauth: aaguid %02x%02x%02x%02x-%02x%02x-"
		    "%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n",
		    a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
		    a[10], a[11], a[12], a[13], a[14], a[15]);
	}
	if (server_run(v, sock, verbose) < 0)
		goto out;

	rv = 0;
out:
	if (pin != NULL) {
		explicit_bzero(pin, strlen(pin));
		free(pin);
	}
	vauth_free(&v);

	return (rv);
}
