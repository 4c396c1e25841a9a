/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * enroll, auto and kiosk: where the users come from, and the options
 * of the pipeline.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "enroll.h"
#include "extern.h"
#include "graph.h"
#include "journal.h"
#include "mds.h"
#include "report.h"
#include "station.h"

#define MODE_ENROLL	0
#define MODE_AUTO	1
#define MODE_KIOSK	2

struct sources {
	const char	*csv;
	const char	*group;
	int		 interval_s;
	int		 rounds;	/* auto: stop after N rounds; 0 never */
	int		 lease_s;	/* --queue: the claims' lease */
};

static void
verb_usage(FILE *f, int mode)
{
	fprintf(f, "usage: provisioning %s",
	    mode == MODE_AUTO ? "auto --group ID|NAME [--interval S]" :
	    mode == MODE_KIOSK ? "kiosk --group ID|NAME | --csv FILE" :
	    "enroll USER... | --csv FILE | --group ID|NAME");
	fprintf(f, "\n"
	    "    [--pin random|ask|keep] [--pin-env VAR] [--pin-length N]\n"
	    "    [--force-pin-change] [--min-pin-length N]\n"
	    "    [--display-name TEMPLATE] [--replace] [--another]\n"
	    "    [--dry-run] [--as-user [--issue-tap]] [--same-key | "
	    "--parallel]\n"
	    "    [--report FILE] [--failures FILE] [--pins-out FILE]\n"
	    "    [--no-verify] [--timeout S] [--challenge-timeout MIN]\n"
	    "    [--mailers DIR [--print]]\n"
	    "    [--lease-seconds S (with --queue URL: users from the fleet "
	    "queue)]\n"
	    "%s"
	    "PINs: 'random' (a new PIN per blank key, written only to "
	    "--pins-out),\n'ask' (prompted), 'keep' (from the environment "
	    "variable named by --pin-env).\n"
	    "Keys: by default each user gets a key of their own (insert the "
	    "next one\nwhen asked); --same-key puts every user on the one "
	    "key attached (or named\nby --device); --parallel spreads the "
	    "users over every attached key.\n"
	    "A user who already holds a passkey is skipped; --another gives "
	    "them one more\n(not with --group: a group run is of members "
	    "without a passkey).\n"
	    "Letters: --mailers DIR writes a PDF letter with the PIN for "
	    "each enrolled\nuser (DIR: private, made 0700); --print sends "
	    "each to the default printer (lp).\n%s", mode == MODE_ENROLL ? "" :
	    "    [--interval S (default 60)] [--rounds N (stop after N)]\n"
	    "    the group may also come from PROVISIONING_GROUP\n",
	    mode != MODE_KIOSK ? "" :
	    "    [--status-file FILE] [--no-board] [--reset-keys]\n"
	    "Station: every key is a slot (inserted, checking, refused, "
	    "assigned, pin,\ntouch, registering, verifying, done, failed, "
	    "removed), all worked at once.\nOn a terminal: a full-screen "
	    "board (--no-board: lines); elsewhere one line\nper event (a "
	    "JSON object with --json) on stdout; --status-file keeps a "
	    "JSON\nsnapshot.  A key holding passkeys or a PIN the station "
	    "cannot know is refused;\n--reset-keys wipes it instead (a "
	    "touch, soon after it is plugged in).\n");
}

/* 1 after --help, -1 after a usage error (said), 0 to go on */
static int
parse_opts(int mode, int argc, char **argv, struct enroll_opts *o,
    struct sources *src, int *first_user)
{
	static const struct optdef defs[] = {
		{ "csv", "FILE", 'c', 0 },
		{ "group", "ID|NAME", 'g', 0 },
		{ "pin", "random|ask|keep", 'p', 0 },
		{ "pin-env", "VAR", 'e', 0 },
		{ "pin-length", "N", 'L', 0 },
		{ "force-pin-change", NULL, 'F', 0 },
		{ "min-pin-length", "N", 'M', 0 },
		{ "display-name", "TEMPLATE", 'd', 0 },
		{ "replace", NULL, 'R', 0 },
		{ "another", NULL, 'A', 0 },
		{ "dry-run", NULL, 'n', 0 },
		{ "as-user", NULL, 'u', 0 },
		{ "issue-tap", NULL, 'T', 0 },
		{ "same-key", NULL, 's', 0 },
		{ "parallel", NULL, 'P', 0 },
		{ "report", "FILE", 'r', 0 },
		{ "failures", "FILE", 'f', 0 },
		{ "pins-out", "FILE", 'o', 0 },
		{ "no-verify", NULL, 'V', 0 },
		{ "timeout", "S", 't', 0 },
		{ "challenge-timeout", "MIN", 'C', 0 },
		{ "interval", "S", 'i', 0 },
		{ "rounds", "N", 'N', 0 },
		{ "mailers", "DIR", 'm', 0 },
		{ "print", NULL, 'l', 0 },
		{ "lease-seconds", "S", 'Q', 0 },
		{ "status-file", "FILE", 'S', 0 },
		{ "no-board", NULL, 'B', 0 },
		{ "reset-keys", NULL, 'Z', 0 },
		{ NULL, NULL, 0, 0 },
	};
	struct opts	 op;
	const char	*pin = NULL, *keys_opt = NULL;
	int		 c, v;

	opts_init(&op, argv[0], defs, 0, argc, argv);
	while ((c = opts_next(&op)) != OPTS_END) {
		/* one run of enroll has no rounds to space out */
		if (mode == MODE_ENROLL && (c == 'i' || c == 'N')) {
			opts_error(&op, "--%s is for auto and kiosk",
			    opts_name(&op));
			return (-1);
		}
		switch (c) {
		case OPTS_HELP:
			verb_usage(stdout, mode);
			return (1);
		case 'c':
			src->csv = op.arg;
			break;
		case 'g':
			src->group = op.arg;
			break;
		case 'p':
			pin = op.arg;
			break;
		case 'e':
			o->pin_env = op.arg;
			if (opts_pin_env(&op) < 0)
				return (-1);
			break;
		case 'L':
			if (opts_int(&op, 6, 63, "digits", &o->pin_length) < 0)
				return (-1);
			break;
		case 'F':
			o->force_pin_change = true;
			break;
		case 'M':
			if (opts_int(&op, 4, 63, "digits",
			    &o->min_pin_length) < 0)
				return (-1);
			break;
		case 'd':
			o->display_tmpl = op.arg;
			break;
		case 'R':
			o->replace = true;
			break;
		case 'A':
			o->another = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'u':
			o->as_user = true;
			break;
		case 'T':
			o->issue_tap = true;
			break;
		case 's':
		case 'P':
			/* the two say opposite things of the keys */
			if (keys_opt != NULL && strcmp(keys_opt,
			    opts_name(&op)) != 0) {
				opts_error(&op, "--same-key and --parallel "
				    "contradict each other: --same-key puts "
				    "every user on one key, --parallel spreads "
				    "the users over every attached key; give "
				    "one");
				return (-1);
			}
			keys_opt = opts_name(&op);
			o->keys_mode = c == 's' ? KEYS_SAME : KEYS_PARALLEL;
			break;
		case 'r':
			o->report_path = op.arg;
			break;
		case 'f':
			o->failures_path = op.arg;
			break;
		case 'o':
			o->pins_out = op.arg;
			break;
		case 'V':
			o->verify = false;
			break;
		case 't':
			if (opts_int(&op, 1, 3600, "seconds", &v) < 0)
				return (-1);
			o->touch_timeout_ms = v * 1000;
			break;
		case 'C':
			/* Graph's beta range; v1.0 has a fixed 5 minutes */
			if (opts_int(&op, 5, 43200, "minutes",
			    &o->challenge_minutes) < 0)
				return (-1);
			break;
		case 'i':
			if (opts_int(&op, 1, 86400, "seconds",
			    &src->interval_s) < 0)
				return (-1);
			break;
		case 'N':
			if (opts_int(&op, 1, INT_MAX, NULL, &src->rounds) < 0)
				return (-1);
			break;
		case 'm':
			o->mailers_dir = op.arg;
			break;
		case 'l':
			o->print_letters = true;
			break;
		case 'Q':
			if (opts_int(&op, 5, 86400, "seconds",
			    &src->lease_s) < 0)
				return (-1);
			break;
		case 'S':
			if (mode != MODE_KIOSK) {
				opts_error(&op, "--status-file is for kiosk");
				return (-1);
			}
			o->status_file = op.arg;
			break;
		case 'B':
			if (mode != MODE_KIOSK) {
				opts_error(&op, "--no-board is for kiosk");
				return (-1);
			}
			o->station_plain = true;
			break;
		case 'Z':
			if (mode != MODE_KIOSK) {
				opts_error(&op, "--reset-keys is for kiosk");
				return (-1);
			}
			o->reset_keys = true;
			break;
		default:
			return (-1);
		}
	}
	*first_user = op.ind;
	if (pin == NULL)
		o->pin_policy = o->pin_env != NULL ? PIN_KEEP :
		    o->pins_out != NULL ? PIN_RANDOM : PIN_ASK;
	else if (strcmp(pin, "random") == 0)
		o->pin_policy = PIN_RANDOM;
	else if (strcmp(pin, "ask") == 0)
		o->pin_policy = PIN_ASK;
	else if (strcmp(pin, "keep") == 0)
		o->pin_policy = PIN_KEEP;
	else {
		opts_error(&op, "--pin: expected random, ask or keep");
		return (-1);
	}
	if (o->pin_policy == PIN_KEEP && o->pin_env == NULL) {
		opts_error(&op, "--pin keep needs --pin-env VAR (PINs are "
		    "never taken from the command line)");
		return (-1);
	}
	if (o->pin_policy == PIN_RANDOM && o->pins_out == NULL &&
	    !o->dry_run) {
		opts_error(&op, "--pin random needs --pins-out FILE: the "
		    "generated PINs must go somewhere");
		return (-1);
	}
	if (o->issue_tap && !o->as_user) {
		opts_error(&op, "--issue-tap goes with --as-user");
		return (-1);
	}
	if (keys_opt != NULL && (o->as_user || mode == MODE_KIOSK)) {
		opts_error(&op, "--%s does not go with %s: %s", keys_opt,
		    o->as_user ? "--as-user" : "kiosk", o->as_user ?
		    "each user signs in and enrolls on their own key" :
		    "the kiosk takes each key as it is plugged in");
		return (-1);
	}
	if (o->print_letters && o->mailers_dir == NULL) {
		opts_error(&op, "--print goes with --mailers DIR (it prints "
		    "the PIN letters)");
		return (-1);
	}
	if (src->csv != NULL && src->group != NULL) {
		opts_error(&op, "--csv and --group cannot be combined");
		return (-1);
	}

	return (0);
}

struct group_walk {
	struct enroll_list	*all;
	size_t			 skipped;
};

static int
member_cb(void *arg, const graph_user_t *u)
{
	struct group_walk *gw = arg;

	if (strcasecmp(graph_user_type(u), "Guest") == 0 ||
	    !graph_user_enabled(u)) {
		log_info("group: %s skipped (%s)", graph_user_upn(u),
		    graph_user_enabled(u) ? "guest" : "disabled");
		gw->skipped++;
		return (0);
	}

	return (enroll_list_add(gw->all, graph_user_upn(u), graph_user_upn(u),
	    graph_user_id(u), 0) < 0 ? -1 : 0);
}

/* transitive members without a passkey yet, checked in $batches */
static int
from_group(graph_client_t *c, const char *group, struct enroll_list *l)
{
	struct enroll_list	 all;
	struct group_walk	 gw;
	const char		**ids = NULL;
	char			*gid = NULL;
	int			*has = NULL, r, gr;
	size_t			 i, have = 0;

	memset(&all, 0, sizeof(all));
	memset(&gw, 0, sizeof(gw));
	gw.all = &all;
	if ((gr = graph_group_resolve(c, group, &gid)) != GRAPH_OK ||
	    (gr = graph_group_members(c, gid, member_cb, &gw)) != GRAPH_OK) {
		cli_graph_error(c, group, gr);
		r = cli_graph_exit(gr);
		goto fail;
	}
	r = EXIT_USAGE;
	if (all.n > 0 && ((ids = calloc(all.n, sizeof(*ids))) == NULL ||
	    (has = calloc(all.n, sizeof(*has))) == NULL))
		goto fail;
	for (i = 0; i < all.n; i++)
		ids[i] = all.v[i].id;
	if (all.n > 0 && (gr = graph_batch_has_passkey(c, ids, all.n,
	    has)) != GRAPH_OK) {
		cli_graph_error(c, "checking existing passkeys", gr);
		r = cli_graph_exit(gr);
		goto fail;
	}
	for (i = 0; i < all.n; i++) {
		if (has[i] == 1) {
			have++;
			continue;
		}
		if (enroll_list_add(l, all.v[i].ref, all.v[i].upn,
		    all.v[i].id, 0) < 0)
			goto fail;
	}
	log_info("group %s: %zu members, %zu with a passkey already, %zu "
	    "guests or disabled, %zu to enroll", group, all.n + gw.skipped,
	    have, gw.skipped, l->n);
	r = EXIT_OK;
fail:
	free(ids);
	free(has);
	free(gid);
	enroll_list_reset(&all);

	return (r);
}

/* the signed-in admin client every round of the run uses */
static int
open_admin(struct prov_ctx *ctx, graph_client_t **c)
{
	int r;

	if (*c != NULL)
		return (EXIT_OK);
	if ((r = cli_graph_open(ctx, c)) != EXIT_OK)
		return (r);
	if ((r = graph_auth_load(*c)) != GRAPH_OK) {
		/* its hint already says to run 'provisioning login' */
		cli_graph_error(*c, "sign-in", r);
		graph_client_free(c);
		return (cli_graph_exit(r));
	}

	return (EXIT_OK);
}

static int
exit_code_of(int r)
{
	switch (r) {
	case ENROLL_OK:
		return (EXIT_OK);
	case ENROLL_PARTIAL:
		return (EXIT_PARTIAL);
	case ENROLL_ERR_AUTH:
		return (EXIT_AUTH);
	case ENROLL_ERR_KEY:
		return (EXIT_KEY);
	case ENROLL_ERR_NET:
		return (EXIT_NET);
	case ENROLL_ERR_CANCELLED:
		return (EXIT_INTR);
	default:
		return (EXIT_USAGE);
	}
}

static const struct enroll_hooks hooks = {
	.pin_read = pin_read,
	.interrupted = sig_interrupted,
	.watch = sig_watch,
	.unwatch = sig_unwatch,
};

static void
summary_to(FILE *f, const struct enroll_summary *s,
    const struct enroll_opts *o)
{
	char earlier[64] = "";

	if (s->earlier > 0)
		snprintf(earlier, sizeof(earlier), " (%zu by an earlier run)",
		    s->earlier);
	fprintf(f, "\n%zu enrolled, %zu failed, %zu skipped%s, of %zu "
	    "user%s\n", s->enrolled, s->failed, s->skipped, earlier, s->total,
	    s->total == 1 ? "" : "s");
	if (s->failed > 0)
		fprintf(f, "failures: %s\n", o->failures_path);
	if (o->report_path != NULL && s->enrolled + s->earlier > 0 &&
	    !s->output_failed)
		fprintf(f, "report: %s\n", o->report_path);
	if (o->mailers_dir != NULL && s->letters > 0)
		fprintf(f, "PIN letters: %zu in %s\n", s->letters,
		    o->mailers_dir);
	if (s->letters_missing > 0)
		fprintf(f, "%zu enrolled user%s got NO PIN LETTER (see "
		    "above): give them their PIN another way\n",
		    s->letters_missing, s->letters_missing == 1 ? "" : "s");
	if (s->unprinted > 0)
		fprintf(f, "%zu PIN letter%s not printed (see above)\n",
		    s->unprinted, s->unprinted == 1 ? "" : "s");
}

/*
 * On a kiosk's board the summary of a round is among its events (and
 * kept in `last`, said again once the board gives the screen back).
 */
static void
print_summary(const struct enroll_summary *s, const struct enroll_opts *o,
    char **last)
{
	FILE	*m;
	char	*buf = NULL, *line, *next;
	size_t	 len = 0;

	if (!station_has_board(o->station_keep) ||
	    (m = open_memstream(&buf, &len)) == NULL) {
		summary_to(stderr, s, o);
		return;
	}
	summary_to(m, s, o);
	fclose(m);
	for (line = buf; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (*line != '\0')
			station_note(o->station_keep, "%s", line);
		if (next != NULL)
			next[-1] = '\n';
	}
	free(*last);
	*last = buf;
}

static void
sleep_interruptible(int seconds)
{
	struct timespec	ts = { 0, 200 * 1000 * 1000 };
	long long	end = now_ms() + (long long)seconds * 1000;

	while (!sig_interrupted() && now_ms() < end)
		nanosleep(&ts, NULL);
}

static int
run_enroll(struct prov_ctx *ctx, int mode, int argc, char **argv)
{
	struct enroll_opts	 o;
	struct sources		 src;
	struct enroll_list	 l;
	struct enroll_list_source ls;
	struct enroll_source	 users;
	struct cli_csv_users	*cu = NULL;
	struct enroll_summary	 sum;
	graph_client_t		*admin = NULL;
	char			*last_summary = NULL;
	int			 first, r, i, round = 0, lockfd = -1;
	size_t			 bad = 0;	/* CSV rows refused */
	char			 source[1024], journal[4096], err[512];
	char			 mdsp[4096];

	memset(&o, 0, sizeof(o));
	memset(&src, 0, sizeof(src));
	memset(&l, 0, sizeof(l));
	o.pin_length = 8;
	o.verify = true;
	o.failures_path = REPORT_FAILURES_DEFAULT;
	o.touch_timeout_ms = 120000;
	o.max_attempts = 3;
	o.keys_mode = KEYS_ONE_PER_USER;
	o.pause = ctx->headful;
	o.narrate = ctx->headful;
	o.device = ctx->device;
	o.virtual_keys = ctx->virtual_keys;
	o.report_jsonl = ctx->json;
	/* the pinned relying party moves only for the test suite */
	if ((o.rp_id = getenv("PROVISIONING_TEST_RP_ID")) != NULL &&
	    *o.rp_id == '\0')
		o.rp_id = NULL;
	src.interval_s = 60;
	src.lease_s = QUEUE_LEASE_SECONDS;
	if ((r = parse_opts(mode, argc, argv, &o, &src, &first)) != 0)
		return (r > 0 ? EXIT_OK : EXIT_USAGE);
	if (!graph_cloud_registers(ctx->cloud)) {
		cmd_usage_error(argv[0], "--cloud %s: Microsoft offers passkey "
		    "registration on behalf of users (fido2Methods "
		    "creationOptions) in the global cloud only; leave out "
		    "--cloud, or have these users register their keys "
		    "themselves", ctx->cloud);
		return (EXIT_USAGE);
	}
	/* the seed's --automatic-provision names no group: take it from
	 * the environment */
	if (ctx->queue == NULL && mode != MODE_ENROLL && src.group == NULL &&
	    src.csv == NULL && (src.group = getenv("PROVISIONING_GROUP")) != NULL &&
	    *src.group == '\0')
		src.group = NULL;
	if (o.report_path == NULL)
		o.report_path = ctx->json ? "report.jsonl" : "report.csv";
	if (mode == MODE_KIOSK) {
		o.keys_mode = KEYS_ONE_PER_USER;
		o.wait_for_keys = true;
		o.station = true;
		o.station_json = ctx->json;
	}
	if (o.as_user)
		o.keys_mode = KEYS_ONE_PER_USER;
	if (ctx->queue != NULL && (first < argc || src.csv != NULL ||
	    src.group != NULL || o.dry_run || o.as_user)) {
		cmd_usage_error(argv[0], "with --queue (or PROVISIONING_QUEUE) "
		    "the users come from the fleet queue: add them with "
		    "'provisioning queue add'%s", o.dry_run || o.as_user ?
		    "; --dry-run and --as-user do not go with it" : "");
		return (EXIT_USAGE);
	}
	if (ctx->queue == NULL && (mode == MODE_AUTO || mode == MODE_KIOSK) &&
	    src.group == NULL && src.csv == NULL) {
		cmd_usage_error(argv[0], "needs --group ID|NAME (the users "
		    "to keep provisioned), or PROVISIONING_GROUP");
		return (EXIT_USAGE);
	}
	if (ctx->queue == NULL && mode == MODE_AUTO && src.group == NULL) {
		cmd_usage_error(argv[0], "needs --group ID|NAME, not --csv");
		return (EXIT_USAGE);
	}
	/* a group run is of the members without a passkey, by definition */
	if (o.another && src.group != NULL) {
		cmd_usage_error(argv[0], "--another cannot be combined with "
		    "--group (a group run enrolls only members without a "
		    "passkey); list the users, or use --csv");
		return (EXIT_USAGE);
	}
	if (first < argc && (src.csv != NULL || src.group != NULL)) {
		cmd_usage_error(argv[0], "give users on the command line, "
		    "or --csv, or --group; not several");
		return (EXIT_USAGE);
	}
	if (ctx->queue == NULL && first >= argc && src.csv == NULL &&
	    src.group == NULL) {
		cmd_usage_error(argv[0], "missing USER..., --csv FILE or "
		    "--group ID|NAME");
		return (EXIT_USAGE);
	}
	if (state_dir_ensure(ctx) < 0)
		return (EXIT_USAGE);
	/* keys given a PIN by this process or an earlier run stay usable */
	if (o.pin_policy == PIN_RANDOM && !o.dry_run) {
		if ((o.pinbook = enroll_pinbook_new()) == NULL)
			return (EXIT_USAGE);
		if (o.pins_out != NULL && enroll_pinbook_load(o.pinbook,
		    o.pins_out, err, sizeof(err)) < 0)
			log_warn("%s", err);
	}
	snprintf(journal, sizeof(journal), "%s/%s", ctx->state_dir,
	    JOURNAL_FILE);
	o.journal_path = journal;
	snprintf(mdsp, sizeof(mdsp), "%s/%s", ctx->state_dir, MDS_STORE_FILE);
	o.mds_path = mdsp;
	if (ctx->queue != NULL) {
		r = cli_station_run(ctx, mode == MODE_ENROLL, &o, &hooks,
		    src.lease_s, src.interval_s);
		goto out;
	}
	/* a dry run writes no journal: it need not wait for another run */
	if (!o.dry_run && (r = run_lock_take(ctx, &lockfd)) != EXIT_OK)
		return (r);
	/* a kiosk's board and totals live across its rounds */
	if (mode == MODE_KIOSK) {
		struct station_opts so;

		memset(&so, 0, sizeof(so));
		so.json = o.station_json;
		so.plain = o.station_plain;
		so.status_file = o.status_file;
		/* and a key done in one round is not given a user in the next */
		if (station_new(&so, &o.station_keep) != STATION_OK ||
		    (o.used_keys = enroll_keymemo_new()) == NULL) {
			r = EXIT_USAGE;
			goto out;
		}
	}
	for (;;) {
		if (src.csv != NULL) {
			snprintf(source, sizeof(source), "csv:%s", src.csv);
			if ((r = cli_csv_users_open(src.csv, &o, &cu, &users,
			    &bad)) != EXIT_OK)
				break;
		} else if (src.group != NULL) {
			snprintf(source, sizeof(source), "group:%s",
			    src.group);
			if ((r = open_admin(ctx, &admin)) != EXIT_OK ||
			    (r = from_group(admin, src.group, &l)) != EXIT_OK)
				break;
			enroll_source_list(&users, &ls, &l);
		} else {
			snprintf(source, sizeof(source), "users");
			for (i = first; i < argc; i++)
				if (enroll_list_add(&l, argv[i], NULL, NULL,
				    0) < 0) {
					r = EXIT_USAGE;
					goto out;
				}
			enroll_source_list(&users, &ls, &l);
		}
		memset(&sum, 0, sizeof(sum));
		if (users.total == 0 && mode == MODE_ENROLL)
			fprintf(stderr, "nothing to enroll: %s\n", src.csv ?
			    "no usable row in the CSV file" :
			    "no member of the group needs a passkey");
		if (users.total > 0) {
			if ((r = open_admin(ctx, &admin)) != EXIT_OK)
				break;
			r = exit_code_of(enroll_run(&o, &hooks, admin, &users,
			    source, &sum));
			print_summary(&sum, &o, &last_summary);
			/* enrolled, but the operator has no letter to hand
			 * over: not a clean run */
			if (sum.letters_missing > 0 && r == EXIT_OK)
				r = EXIT_PARTIAL;
		} else
			r = EXIT_OK;
		/* rows that named no usable user failed too */
		if (bad > 0) {
			fprintf(stderr, "%zu CSV row%s not enrolled: see %s\n",
			    bad, bad == 1 ? "" : "s", o.failures_path);
			if (r == EXIT_OK)
				r = EXIT_PARTIAL;
		}
		cli_csv_users_free(&cu);
		enroll_list_reset(&l);
		round++;
		if (mode == MODE_ENROLL || src.csv != NULL || sum.no_pin ||
		    r == EXIT_AUTH || r == EXIT_USAGE || r == EXIT_INTR ||
		    sig_interrupted() || (src.rounds && round >= src.rounds))
			break;
		log_info("waiting %d s before looking for new users",
		    src.interval_s);
		if (station_has_board(o.station_keep))
			station_note(o.station_keep, "waiting %d s before "
			    "looking for new members", src.interval_s);
		sleep_interruptible(src.interval_s);
		if (sig_interrupted()) {
			r = EXIT_INTR;
			break;
		}
	}
out:
	station_free(&o.station_keep);
	enroll_keymemo_free(&o.used_keys);
	if (last_summary != NULL)
		fputs(last_summary, stderr);
	free(last_summary);
	cli_csv_users_free(&cu);
	enroll_list_reset(&l);
	graph_client_free(&admin);
	enroll_pinbook_free(&o.pinbook);
	lock_release(&lockfd);

	return (r);
}

int
cmd_enroll(struct prov_ctx *ctx, int argc, char **argv)
{
	return (run_enroll(ctx, MODE_ENROLL, argc, argv));
}

int
cmd_auto(struct prov_ctx *ctx, int argc, char **argv)
{
	return (run_enroll(ctx, MODE_AUTO, argc, argv));
}

int
cmd_kiosk(struct prov_ctx *ctx, int argc, char **argv)
{
	return (run_enroll(ctx, MODE_KIOSK, argc, argv));
}

int
cli_users_group(graph_client_t *c, const char *group, struct enroll_list *l)
{
	return (from_group(c, group, l));
}

int
cli_admin_open(struct prov_ctx *ctx, graph_client_t **c)
{
	return (open_admin(ctx, c));
}

int
cli_enroll_exit(int r)
{
	return (exit_code_of(r));
}
