/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * makeCredential round trips against one key, through the real ctap/
 * layer: the request is shaped like Entra's (rk, uv, credProtect 1,
 * hmac-secret, 48-byte user handle, ~7 KB clientDataJSON), each call
 * takes a fresh pinUvAuthToken and self-checks the attestation, and
 * unless --no-verify-equivalent a getAssertion proves the credential
 * (ctap_dev_check_cred, as enroll does without --no-verify).
 *
 * Prints figures; the exit status only says whether every round trip
 * succeeded, never whether it was fast.
 */

#include <sys/resource.h>
#include <sys/time.h>

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common.h"
#include "ctap.h"

#define RP_ID		"login.microsoft.com"
#define RP_NAME		"Microsoft"
#define ORIGIN		"https://login.microsoft.com"
#define USER_ID_LEN	48	/* Entra's user handles */
#define CHALLENGE_LEN	5200	/* base64url: ~6.9 KB, as Entra's */
#define USERS_MAX	1000	/* vauth's --max-creds ceiling */
#define BENCH_PIN	"80514273"	/* a virtual key's test PIN */

struct opts {
	const char	*device;
	const char	*pin;
	long		 iterations;
	long		 warmup;
	long		 vauth_pid;
	bool		 verify;
};

struct sample {
	double	total_ms;
	double	mc_ms;
	double	ga_ms;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: bench_makecred --device unix:PATH [-n N] "
	    "[--warmup W]\n"
	    "    [--vauth-pid PID] [--pin PIN] [--no-verify-equivalent]\n"
	    "  -n N                      round trips to time (200)\n"
	    "  --warmup W                untimed round trips first (5)\n"
	    "  --vauth-pid PID           also report that process's CPU "
	    "per credential\n"
	    "  --pin PIN                 the key's PIN; set if the key has "
	    "none (" BENCH_PIN ")\n"
	    "  --no-verify-equivalent    skip the getAssertion check "
	    "(enroll --no-verify)\n");
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

static double
tv_ms(const struct timeval *tv)
{
	return ((double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3);
}

/* user+sys of another process, in ms, from /proc/PID/stat; -1 if gone */
static double
proc_cpu_ms(long pid)
{
	char		 path[64], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;
	size_t		 n;
	long		 hz;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: skip to the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	/* fields 3..13 (state..cmajflt), then 14 utime, 15 stime */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%lu %lu", &ut, &st) != 2)
		return (-1);
	if ((hz = sysconf(_SC_CLK_TCK)) <= 0)
		return (-1);

	return ((double)(ut + st) * 1e3 / (double)hz);
}

static double
self_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return (-1);
	return (tv_ms(&ru.ru_utime) + tv_ms(&ru.ru_stime));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/* nearest-rank percentile of a sorted array */
static double
percentile(const double *v, size_t n, double pct)
{
	size_t rank;

	rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (v[rank - 1]);
}

/* an Entra-shaped clientDataJSON with a fresh random challenge */
static int
make_clientdata(char **out, size_t *outlen)
{
	unsigned char	*raw = NULL;
	char		*chal = NULL, *cd = NULL;
	int		 r = -1, n;
	size_t		 len;

	*out = NULL;
	if ((raw = malloc(CHALLENGE_LEN)) == NULL ||
	    RAND_bytes(raw, CHALLENGE_LEN) != 1 ||
	    b64url_encode(raw, CHALLENGE_LEN, &chal) < 0)
		goto fail;
	len = strlen(chal) + 128;
	if ((cd = malloc(len)) == NULL)
		goto fail;
	n = snprintf(cd, len, "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"%s\",\"origin\":\"" ORIGIN "\",\"crossOrigin\":false}", chal);
	if (n < 0 || (size_t)n >= len)
		goto fail;
	*out = cd;
	*outlen = (size_t)n;
	cd = NULL;
	r = 0;
fail:
	free(raw);
	free(chal);
	free(cd);

	return (r);
}

static int
prepare(ctap_cred_t *c, const unsigned char *uid_base, long i)
{
	unsigned char	 uid[USER_ID_LEN];
	char		 name[64], *cd = NULL;
	size_t		 cdlen;
	long		 slot = i % USERS_MAX;
	int		 r;

	/* distinct users, as in a bulk run; past USERS_MAX they repeat
	 * and the key overwrites the resident credential */
	memcpy(uid, uid_base, sizeof(uid));
	uid[0] = (unsigned char)(slot & 0xff);
	uid[1] = (unsigned char)((slot >> 8) & 0xff);
	snprintf(name, sizeof(name), "bench%04ld@contoso.example", slot);
	if (make_clientdata(&cd, &cdlen) < 0)
		return (CTAP_ERR_INTERNAL);
	if ((r = ctap_cred_set_rp(c, RP_ID, RP_NAME)) != CTAP_OK ||
	    (r = ctap_cred_set_user(c, uid, sizeof(uid), name, name)) !=
	    CTAP_OK ||
	    (r = ctap_cred_set_clientdata(c, (unsigned char *)cd, cdlen)) !=
	    CTAP_OK ||
	    (r = ctap_cred_set_rk(c, true)) != CTAP_OK ||
	    (r = ctap_cred_set_uv(c, true)) != CTAP_OK ||
	    (r = ctap_cred_set_prot(c, CTAP_PROT_UV_OPTIONAL)) != CTAP_OK ||
	    (r = ctap_cred_set_hmac_secret(c, true)) != CTAP_OK)
		goto fail;
	r = CTAP_OK;
fail:
	free(cd);

	return (r);
}

/* one user: makeCredential (+ self-check) and, if asked, getAssertion */
static int
round_trip(ctap_dev_t *d, const struct opts *o, const unsigned char *uid,
    long i, struct sample *s)
{
	ctap_cred_t	*c = NULL;
	double		 t0, t1, t2;
	int		 r;

	if ((c = ctap_cred_new()) == NULL)
		return (CTAP_ERR_INTERNAL);
	t0 = mono_ms();
	if ((r = prepare(c, uid, i)) != CTAP_OK ||
	    (r = ctap_dev_make_cred(d, c, o->pin)) != CTAP_OK)
		goto fail;
	t1 = mono_ms();
	if (o->verify && (r = ctap_dev_check_cred(d, c, o->pin)) != CTAP_OK)
		goto fail;
	t2 = mono_ms();
	if (s != NULL) {
		s->total_ms = t2 - t0;
		s->mc_ms = t1 - t0;
		s->ga_ms = t2 - t1;
	}
	r = CTAP_OK;
fail:
	ctap_cred_free(&c);

	return (r);
}

/* a key without a PIN gets ours, then is reopened (as enroll does) */
static int
open_key(ctap_dev_t *d, const struct opts *o)
{
	bool	has_pin = false;
	int	r, retries = -1;

	if ((r = ctap_dev_open(d, o->device)) != CTAP_OK)
		return (r);
	if ((r = ctap_dev_pin_status(d, &has_pin, &retries)) != CTAP_OK)
		return (r);
	if (has_pin)
		return (CTAP_OK);
	if ((r = ctap_dev_pin_set(d, o->pin)) != CTAP_OK)
		return (r);
	ctap_dev_close(d);

	return (ctap_dev_open(d, o->device));
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	long long v;

	if (parse_ll(s, lo, hi, &v) < 0)
		return (-1);
	*out = (long)v;

	return (0);
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "vauth-pid", required_argument, NULL, 'p' },
		{ "pin", required_argument, NULL, 'P' },
		{ "no-verify-equivalent", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->iterations = 200;
	o->warmup = 5;
	o->verify = true;
	o->pin = BENCH_PIN;
	while ((c = getopt_long(argc, argv, "n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->device = optarg;
			break;
		case 'n':
			if (parse_long(optarg, 1, 1000000, &o->iterations) <
			    0)
				return (-1);
			break;
		case 'w':
			if (parse_long(optarg, 0, 1000, &o->warmup) < 0)
				return (-1);
			break;
		case 'p':
			if (parse_long(optarg, 1, 1L << 30, &o->vauth_pid) < 0)
				return (-1);
			break;
		case 'P':
			o->pin = optarg;
			break;
		case 'V':
			o->verify = false;
			break;
		case 'h':
			return (1);
		default:
			return (-1);
		}
	}
	if (optind != argc || o->device == NULL)
		return (-1);

	return (0);
}

int
main(int argc, char **argv)
{
	struct opts	 o;
	struct sample	*s = NULL;
	ctap_dev_t	*d = NULL;
	unsigned char	 uid[USER_ID_LEN];
	double		*tot = NULL, wall0, wall, cpu0, cpu, vcpu0, vcpu;
	double		 sum = 0, sum_mc = 0, sum_ga = 0, n;
	long		 i;
	int		 r, rc = 1;

	if ((r = parse_opts(argc, argv, &o)) != 0) {
		usage(r > 0 ? stdout : stderr);
		return (r > 0 ? 0 : 2);
	}
	ctap_init();
	if (RAND_bytes(uid, sizeof(uid)) != 1 ||
	    (s = calloc((size_t)o.iterations, sizeof(*s))) == NULL ||
	    (tot = calloc((size_t)o.iterations, sizeof(*tot))) == NULL ||
	    (d = ctap_dev_new()) == NULL) {
		fprintf(stderr, "bench_makecred: out of memory\n");
		goto out;
	}
	if ((r = open_key(d, &o)) != CTAP_OK) {
		fprintf(stderr, "bench_makecred: %s: %s\n", o.device,
		    ctap_strerr(r));
		goto out;
	}
	/* warm-up: first-use costs (key agreement caches, page faults) */
	for (i = 0; i < o.warmup; i++)
		if ((r = round_trip(d, &o, uid, USERS_MAX - 1 - i, NULL)) !=
		    CTAP_OK) {
			fprintf(stderr, "bench_makecred: warm-up: %s\n",
			    ctap_strerr(r));
			goto out;
		}
	vcpu0 = proc_cpu_ms(o.vauth_pid);
	cpu0 = self_cpu_ms();
	wall0 = mono_ms();
	for (i = 0; i < o.iterations; i++)
		if ((r = round_trip(d, &o, uid, i, &s[i])) != CTAP_OK) {
			fprintf(stderr, "bench_makecred: round trip %ld: %s\n",
			    i, ctap_strerr(r));
			goto out;
		}
	wall = mono_ms() - wall0;
	cpu = self_cpu_ms() - cpu0;
	vcpu = proc_cpu_ms(o.vauth_pid);
	vcpu = vcpu >= 0 && vcpu0 >= 0 ? vcpu - vcpu0 : -1;

	n = (double)o.iterations;
	for (i = 0; i < o.iterations; i++) {
		tot[i] = s[i].total_ms;
		sum += s[i].total_ms;
		sum_mc += s[i].mc_ms;
		sum_ga += s[i].ga_ms;
	}
	qsort(tot, (size_t)o.iterations, sizeof(*tot), cmp_double);
	printf("bench_makecred: %s, %ld round trips (+%ld warm-up), "
	    "verification %s\n", o.device, o.iterations, o.warmup,
	    o.verify ? "on (makeCredential + getAssertion)" :
	    "off (--no-verify-equivalent: makeCredential only)");
	printf("  round trips/s        %10.1f\n", n * 1e3 / wall);
	printf("  latency mean         %10.2f ms  (makeCredential %.2f, "
	    "getAssertion %.2f)\n", sum / n, sum_mc / n, sum_ga / n);
	printf("  latency p50 / p95    %10.2f / %.2f ms  (min %.2f, max "
	    "%.2f)\n", percentile(tot, (size_t)o.iterations, 50),
	    percentile(tot, (size_t)o.iterations, 95), tot[0],
	    tot[o.iterations - 1]);
	printf("  provisioner CPU      %10.3f ms/credential  (this process, "
	    "getrusage)\n", cpu / n);
	if (vcpu >= 0)
		printf("  vauth CPU            %10.3f ms/credential  (pid %ld, "
		    "/proc/PID/stat, %ld Hz ticks)\n", vcpu / n, o.vauth_pid,
		    sysconf(_SC_CLK_TCK));
	else if (o.vauth_pid > 0)
		printf("  vauth CPU            unavailable (pid %ld)\n",
		    o.vauth_pid);
	printf("  wall                 %10.1f ms\n", wall);
	rc = 0;
out:
	ctap_dev_free(&d);
	free(s);
	free(tot);

	return (rc);
}
