/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The option parser every verb uses: getopt_long(3) underneath, so that
 * `--opt value`, `--opt=value` and `--help`/`-h` work everywhere, and
 * one place that words the usage errors.
 *
 * Values are never echoed in a message: a PIN or a secret typed in the
 * wrong place must not be copied to the terminal or a captured log.
 */

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "extern.h"

/* struct option.val of defs[i]; above any char, so optopt tells them apart */
#define LONG_BASE	256

static void vusage(const char *, const char *, va_list)
    __attribute__((format(printf, 2, 0)));

static void
vusage(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "provisioning%s%s: ", cmd != NULL ? " " : "",
	    cmd != NULL ? cmd : "");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nsee 'provisioning%s%s --help'\n",
	    cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
}

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(NULL, fmt, ap);
	va_end(ap);
}

void
cmd_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(cmd, fmt, ap);
	va_end(ap);
}

void
opts_error(const struct opts *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage(op->cmd, fmt, ap);
	va_end(ap);
}

void
opts_init(struct opts *op, const char *cmd, const struct optdef *defs,
    int flags, int argc, char **argv)
{
	memset(op, 0, sizeof(*op));
	op->cmd = cmd;
	op->defs = defs;
	op->flags = flags;
	op->argc = argc;
	op->argv = argv;
	op->ind = argc;
	op->cur = -1;
	/* 0, not 1: glibc then starts afresh (the previous verb's state) */
	optind = 0;
	opterr = 0;
}

/* the length of "--name" in `s`, up to a '=' */
static size_t
optlen(const char *s)
{
	return (strcspn(s, "="));
}

/* s ("--name" or "--name=...") names exactly `name` */
static bool
names(const char *s, const char *name)
{
	size_t n = strlen(name);

	return (strncmp(s, "--", 2) == 0 && strncmp(s + 2, name, n) == 0 &&
	    (s[2 + n] == '\0' || s[2 + n] == '='));
}

/* one of this verb's options, as a separate value would look */
static bool
is_option(const struct opts *op, const char *s)
{
	size_t i;

	if (strcmp(s, "--") == 0 || strcmp(s, "-h") == 0 ||
	    names(s, "help"))
		return (true);
	for (i = 0; op->defs[i].name != NULL; i++)
		if (names(s, op->defs[i].name))
			return (true);

	return (false);
}

static int
missing(const struct opts *op, size_t i)
{
	opts_error(op, "option '--%s' needs a value (%s)", op->defs[i].name,
	    op->defs[i].arg);

	return (OPTS_ERR);
}

/*
 * In order, options end at the first operand and a later "--" would be
 * an operand: `remove USER -- -2_GRUg...` means what it says.
 */
static void
drop_dashdash(struct opts *op)
{
	int i;

	for (i = op->ind; i < op->argc; i++)
		if (strcmp(op->argv[i], "--") == 0)
			break;
	if (i == op->argc)
		return;
	for (; i + 1 < op->argc; i++)
		op->argv[i] = op->argv[i + 1];
	op->argv[--op->argc] = NULL;
}

int
opts_next(struct opts *op)
{
	struct option	 lo[OPTS_MAX + 2];
	const char	*el;
	size_t		 n;
	bool		 sep;
	int		 c, li = -1;

	op->arg = NULL;
	op->cur = -1;
	for (n = 0; op->defs[n].name != NULL; n++) {
		if (n == OPTS_MAX) {
			opts_error(op, "too many options (internal)");
			return (OPTS_ERR);
		}
		lo[n].name = op->defs[n].name;
		lo[n].has_arg = op->defs[n].arg == NULL ? no_argument :
		    (op->defs[n].flags & OPTDEF_OPTIONAL) ? optional_argument :
		    required_argument;
		lo[n].flag = NULL;
		lo[n].val = LONG_BASE + (int)n;
	}
	lo[n].name = "help";
	lo[n].has_arg = no_argument;
	lo[n].flag = NULL;
	lo[n].val = 'h';
	memset(&lo[n + 1], 0, sizeof(lo[n + 1]));

	/* ':' first: a missing value is ':', told apart from unknown '?' */
	c = getopt_long(op->argc, op->argv, (op->flags & OPTS_INORDER) ?
	    "+:h" : ":h", lo, &li);
	if (c == -1) {
		op->ind = optind;
		if (op->flags & OPTS_INORDER)
			drop_dashdash(op);
		return (OPTS_END);
	}
	el = optind > 0 && optind <= op->argc ? op->argv[optind - 1] : "";
	switch (c) {
	case 'h':
		/* glibc takes prefixes ("--he"); we take whole names only */
		if (li >= 0 && !names(el, "help"))
			break;
		return (OPTS_HELP);
	case ':':
		if (optopt >= LONG_BASE && (size_t)(optopt - LONG_BASE) < n)
			return (missing(op, (size_t)(optopt - LONG_BASE)));
		opts_error(op, "option '-%c' needs a value", optopt);
		return (OPTS_ERR);
	case '?':
		if (optopt >= LONG_BASE && (size_t)(optopt - LONG_BASE) < n)
			opts_error(op, "option '--%s' takes no value",
			    op->defs[optopt - LONG_BASE].name);
		else if (optopt == 'h' && strncmp(el, "--", 2) == 0)
			opts_error(op, "option '--help' takes no value");
		else if (optopt > 0 && optopt < LONG_BASE)
			opts_error(op, "unknown option '-%c'", optopt);
		else
			opts_error(op, "unknown option '%.*s'", (int)optlen(el),
			    el);
		return (OPTS_ERR);
	default:
		break;
	}
	if (c < LONG_BASE || (size_t)(c - LONG_BASE) >= n) {
		opts_error(op, "unknown option '%.*s'", (int)optlen(el), el);
		return (OPTS_ERR);
	}
	op->cur = c - LONG_BASE;
	/* a value in the next word: the option word is the one before */
	sep = optarg != NULL && optind >= 2 && optarg == op->argv[optind - 1];
	if (sep)
		el = op->argv[optind - 2];
	/*
	 * glibc takes any unambiguous prefix ("--sess"); a script that
	 * relies on one breaks when an option is added, so refuse it.
	 */
	if (!names(el, op->defs[op->cur].name)) {
		opts_error(op, "unknown option '%.*s' (did you mean '--%s'?)",
		    (int)optlen(el), el, op->defs[op->cur].name);
		return (OPTS_ERR);
	}
	if (op->defs[op->cur].arg != NULL && !(op->defs[op->cur].flags &
	    OPTDEF_OPTIONAL)) {
		/* `--csv --dry-run`: a forgotten value, not "--dry-run" */
		if (optarg == NULL || *optarg == '\0' ||
		    (sep && is_option(op, optarg)))
			return (missing(op, (size_t)op->cur));
	}
	op->arg = optarg;

	return (op->defs[op->cur].id);
}

const char *
opts_name(const struct opts *op)
{
	return (op->cur >= 0 ? op->defs[op->cur].name : "?");
}

int
opts_int(const struct opts *op, int lo, int hi, const char *unit, int *out)
{
	char range[64];

	if (op->arg != NULL && parse_int_range(op->arg, lo, hi, out) == 0)
		return (0);
	if (hi == INT_MAX)
		snprintf(range, sizeof(range), ", at least %d", lo);
	else
		snprintf(range, sizeof(range), " from %d to %d", lo, hi);
	opts_error(op, "--%s: expected a whole number%s%s%s", opts_name(op),
	    unit != NULL ? " of " : "", unit != NULL ? unit : "", range);

	return (-1);
}

int
opts_operands(const struct opts *op, int min, int max, const char *what)
{
	int n = op->argc - op->ind;

	if (n < min) {
		opts_error(op, "missing %s", what);
		return (-1);
	}
	if (max >= 0 && n > max) {
		if (max == 0)
			opts_error(op, "takes no arguments");
		else
			opts_error(op, "too many arguments (expected %s)",
			    what);
		return (-1);
	}

	return (n);
}

int
opts_subverb(const char *cmd, int argc, char **argv,
    const char *const *subs)
{
	char	 list[256];
	size_t	 i, n;
	int	 len;

	for (n = 0; subs[n] != NULL; n++)
		;
	list[0] = '\0';
	for (i = 0; i < n; i++) {
		len = (int)strlen(list);
		snprintf(list + len, sizeof(list) - (size_t)len, "%s%s",
		    i == 0 ? "" : i + 1 == n ? " or " : ", ", subs[i]);
	}
	if (argc < 2) {
		cmd_usage_error(cmd, "expected %s", list);
		return (OPTS_ERR);
	}
	for (i = 0; i < n; i++)
		if (strcmp(argv[1], subs[i]) == 0)
			return ((int)i);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return (OPTS_HELP);
	if (argv[1][0] == '-')
		cmd_usage_error(cmd, "unknown option '%.*s' (options go after "
		    "%s)", (int)optlen(argv[1]), argv[1], list);
	else
		cmd_usage_error(cmd, "expected %s, not '%s'", list, argv[1]);

	return (OPTS_ERR);
}

int
opts_pin_env(const struct opts *op)
{
	if (env_scrub_name(op->arg) < 0) {
		opts_error(op, "too many PIN variables");
		return (-1);
	}

	return (0);
}
