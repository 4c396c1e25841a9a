/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * queue init|add|status|retry|drain|report: the fleet queue on
 * PostgreSQL (src/queue), which several stations work at once.  The
 * database is --queue URL or PROVISIONING_QUEUE (a postgresql:// URL or
 * a libpq keyword string, with no password in it: that comes from
 * ~/.pgpass or PGPASSWORD); this station is --station NAME (default:
 * the host name).
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common.h"
#include "enroll.h"
#include "extern.h"
#include "graph.h"
#include "queue.h"
#include "report.h"

static char station_buf[QUEUE_NAME_LEN];

const char *
cli_station(const struct prov_ctx *ctx)
{
	if (ctx->station != NULL && *ctx->station != '\0')
		return (ctx->station);
	if (station_buf[0] == '\0' && (gethostname(station_buf,
	    sizeof(station_buf) - 1) != 0 || station_buf[0] == '\0'))
		snprintf(station_buf, sizeof(station_buf), "station");
	return (station_buf);
}

int
cli_queue_exit(int r)
{
	switch (r) {
	case QUEUE_OK:
		return (EXIT_OK);
	case QUEUE_ERR_CONNECT:
	case QUEUE_ERR_DB:
	case QUEUE_ERR_LOST:
		return (EXIT_NET);
	default:
		/* a bad address, a password in it, no or a newer schema */
		return (EXIT_USAGE);
	}
}

/* the queue of --queue / PROVISIONING_QUEUE; EXIT_* */
int
cli_queue_open(const struct prov_ctx *ctx, queue_t **q)
{
	char	err[QUEUE_MSG_LEN];
	int	r;

	*q = NULL;
	if (ctx->queue == NULL || *ctx->queue == '\0') {
		fprintf(stderr, "provisioning: no queue database: give "
		    "--queue URL (postgresql://USER@HOST/DB or 'host=... "
		    "dbname=...') or set PROVISIONING_QUEUE\n");
		return (EXIT_USAGE);
	}
	if ((r = queue_open(ctx->queue, cli_station(ctx), q, err,
	    sizeof(err))) != QUEUE_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		return (cli_queue_exit(r));
	}
	return (EXIT_OK);
}

static void
queue_error(queue_t *q, const char *what, int r)
{
	const char *m = queue_errmsg(q);

	fprintf(stderr, "provisioning: queue %s: %s\n", what,
	    *m != '\0' ? m : queue_strerr(r));
}

static void
queue_usage(FILE *f, int k)
{
	static const char *const lines[] = {
		"queue init",
		("queue add USER... | --csv FILE | --group ID|NAME "
		    "[--failures FILE]"),
		"queue status [--json]",
		"queue retry [USER]",
		"queue drain [STATION] [--resume]",
		"queue report [--report FILE] [--failures FILE] [--json]",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (k < 0 || (size_t)k == i)
			fprintf(f, "%s provisioning %s\n", i == 0 || k >= 0 ?
			    "usage:" : "      ", lines[i]);
	if (k < 0 || k == 0 || k == 1)
		fprintf(f, "The queue: --queue URL or PROVISIONING_QUEUE "
		    "(postgresql://USER@HOST/DB or a libpq\nkeyword string; "
		    "the password only from ~/.pgpass or PGPASSWORD); this "
		    "station:\n--station NAME (default: the host name).\n");
	if (k < 0 || k == 3)
		fprintf(f, "retry puts failed users (all, or USER) back in "
		    "the queue.\n");
	if (k < 0 || k == 4)
		fprintf(f, "drain stops handing out new work to the fleet "
		    "(or to STATION); --resume\nundoes it.  Users already "
		    "claimed are finished.\n");
	if (k < 0 || k == 5)
		fprintf(f, "report writes the fleet's successes to --report "
		    "(default report.csv, or\nreport.jsonl with --json) and "
		    "appends its failures to --failures\n(default "
		    "failures.csv).\n");
}

static int
q_init(queue_t *q)
{
	int r, from = 0;

	if ((r = queue_init(q, &from)) != QUEUE_OK) {
		queue_error(q, "init", r);
		return (cli_queue_exit(r));
	}
	if (from == queue_schema(q))
		printf("queue schema: version %d (up to date)\n", from);
	else
		printf("queue schema: version %d (was %d)\n",
		    queue_schema(q), from);
	return (EXIT_OK);
}

static int
q_add(struct prov_ctx *ctx, queue_t *q, const char *csv, const char *group,
    const char *failures, int argc, char **argv)
{
	struct enroll_opts	 o;
	struct enroll_list	 l;
	graph_client_t		*admin = NULL;
	const char		**refs = NULL;
	size_t			 i, added = 0, bad = 0;
	int			 r;

	memset(&o, 0, sizeof(o));
	memset(&l, 0, sizeof(l));
	o.failures_path = failures;
	if (csv != NULL) {
		if ((r = cli_users_csv(csv, &o, &l, &bad)) != EXIT_OK)
			goto fail;
	} else if (group != NULL) {
		if ((r = cli_admin_open(ctx, &admin)) != EXIT_OK ||
		    (r = cli_users_group(admin, group, &l)) != EXIT_OK)
			goto fail;
	} else
		for (i = 0; i < (size_t)argc; i++)
			if (enroll_list_add(&l, argv[i], NULL, NULL, 0) < 0) {
				r = EXIT_USAGE;
				goto fail;
			}
	r = EXIT_USAGE;
	if (l.n > 0 && (refs = calloc(l.n, sizeof(*refs))) == NULL)
		goto fail;
	for (i = 0; i < l.n; i++)
		refs[i] = l.v[i].ref;
	if ((r = queue_add(q, refs, l.n, &added)) != QUEUE_OK) {
		queue_error(q, "add", r);
		r = cli_queue_exit(r);
		goto fail;
	}
	printf("%zu user%s added to the queue, %zu already in it\n", added,
	    added == 1 ? "" : "s", l.n - added);
	r = EXIT_OK;
	if (bad > 0) {
		fprintf(stderr, "%zu CSV row%s not queued: see %s\n", bad,
		    bad == 1 ? "" : "s", failures);
		r = EXIT_PARTIAL;
	}
fail:
	free(refs);
	enroll_list_reset(&l);
	graph_client_free(&admin);

	return (r);
}

static int
q_status(queue_t *q, bool json)
{
	struct queue_status	 s;
	json_t			*o, *counts, *st, *arr;
	size_t			 i;
	int			 r, k;

	if ((r = queue_status(q, &s)) != QUEUE_OK) {
		queue_error(q, "status", r);
		return (cli_queue_exit(r));
	}
	if (json) {
		r = EXIT_USAGE;
		if ((o = json_object()) == NULL)
			goto fail;
		if ((counts = json_object()) == NULL ||
		    (arr = json_array()) == NULL ||
		    json_object_set_new(o, "states", counts) < 0 ||
		    json_object_set_new(o, "stations", arr) < 0) {
			json_decref(o);
			goto fail;
		}
		for (k = QUEUE_ST_QUEUED; k < QUEUE_ST_COUNT; k++)
			json_object_set_new(counts, queue_state_name(
			    (enum queue_state)k), json_integer(
			    (json_int_t)s.count[k]));
		json_object_set_new(o, "total", json_integer(
		    (json_int_t)s.total));
		json_object_set_new(o, "expired", json_integer(
		    (json_int_t)s.expired));
		json_object_set_new(o, "draining",
		    json_boolean(s.fleet_draining));
		json_object_set_new(o, "schema", json_integer(s.schema));
		for (i = 0; i < s.nstations; i++) {
			if ((st = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I}",
			    "name", s.stations[i].name, "last_seen",
			    s.stations[i].last_seen, "draining",
			    s.stations[i].draining, "in_flight",
			    (json_int_t)s.stations[i].in_flight, "done",
			    (json_int_t)s.stations[i].done, "failed",
			    (json_int_t)s.stations[i].failed)) == NULL) {
				json_decref(o);
				goto fail;
			}
			json_array_append_new(arr, st);
		}
		r = cli_print_json(o) < 0 ? EXIT_USAGE : EXIT_OK;
		goto fail;
	}
	printf("%zu users%s\n", s.total, s.fleet_draining ?
	    " (draining: no new work is handed out)" : "");
	for (k = QUEUE_ST_QUEUED; k < QUEUE_ST_COUNT; k++)
		if (s.count[k] > 0 || k == QUEUE_ST_QUEUED ||
		    k == QUEUE_ST_DONE || k == QUEUE_ST_FAILED)
			printf("  %-16s %zu\n", queue_state_name(
			    (enum queue_state)k), s.count[k]);
	if (s.expired > 0)
		printf("  (%zu in flight with an expired lease: claimable "
		    "again)\n", s.expired);
	if (s.nstations > 0)
		printf("\n%-24s %9s %6s %6s  %s\n", "station", "in flight",
		    "done", "failed", "last seen");
	for (i = 0; i < s.nstations; i++)
		printf("%-24s %9zu %6zu %6zu  %s%s\n", s.stations[i].name,
		    s.stations[i].in_flight, s.stations[i].done,
		    s.stations[i].failed, s.stations[i].last_seen,
		    s.stations[i].draining ? " (draining)" : "");
	r = EXIT_OK;
fail:
	queue_status_reset(&s);

	return (r);
}

static int
q_retry(queue_t *q, const char *user)
{
	size_t	n = 0;
	int	r;

	if ((r = queue_retry(q, user, &n)) != QUEUE_OK) {
		queue_error(q, "retry", r);
		return (cli_queue_exit(r));
	}
	printf("%zu failed user%s back in the queue\n", n, n == 1 ? "" : "s");
	return (EXIT_OK);
}

static int
q_drain(queue_t *q, const char *station, bool resume)
{
	int r;

	if ((r = queue_drain(q, station, !resume)) != QUEUE_OK) {
		queue_error(q, "drain", r);
		return (cli_queue_exit(r));
	}
	printf("%s %s\n", station != NULL ? station : "the fleet", resume ?
	    "takes new work again" : "takes no new work (users already "
	    "claimed are finished)");
	return (EXIT_OK);
}

struct fleet_report {
	report_t	*ok;
	report_t	*fails;
	size_t		 nok;
	size_t		 nfail;
};

static int
report_row(const struct queue_row *row, void *arg)
{
	struct fleet_report	*fr = arg;
	struct report_success	 s;
	struct report_failure	 f;
	char			 msg[QUEUE_MSG_LEN + QUEUE_NAME_LEN + 16];

	if (strcmp(row->state, "done") == 0) {
		memset(&s, 0, sizeof(s));
		s.user = row->upn != NULL ? row->upn : row->user_key;
		s.user_id = row->object_id;
		s.method_id = row->method_id;
		s.credential_id = row->credential_id;
		s.aaguid = row->aaguid;
		s.model = row->model;
		s.display_name = row->display_name;
		s.device = row->device;
		s.attestation = row->attestation;
		if (report_success(fr->ok, &s) != REPORT_OK)
			return (-1);
		fr->nok++;
	} else if (strcmp(row->state, "failed") == 0) {
		memset(&f, 0, sizeof(f));
		snprintf(msg, sizeof(msg), "%s (station %s)", row->message !=
		    NULL ? row->message : "", row->station != NULL ?
		    row->station : "?");
		f.user = row->upn != NULL ? row->upn : row->user_key;
		f.stage = row->stage;
		f.error_code = row->error_code;
		f.message = msg;
		f.request_id = row->request_id;
		if (report_failure(fr->fails, &f) != REPORT_OK)
			return (-1);
		fr->nfail++;
	}
	return (0);
}

static int
q_report(queue_t *q, const char *rpath, const char *fpath, bool json)
{
	struct fleet_report	fr;
	char			err[512];
	int			r;

	memset(&fr, 0, sizeof(fr));
	if (rpath == NULL)
		rpath = json ? "report.jsonl" : "report.csv";
	if (report_open(rpath, json ? REPORT_SUCCESS_JSONL :
	    REPORT_SUCCESS_CSV, &fr.ok, err, sizeof(err)) != REPORT_OK ||
	    report_open(fpath, REPORT_FAILURES, &fr.fails, err,
	    sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: %s\n", err);
		r = EXIT_USAGE;
		goto fail;
	}
	/* the queue is the record: one fsync each, at close */
	report_sync_at_close(fr.ok);
	report_sync_at_close(fr.fails);
	if ((r = queue_report(q, false, report_row, &fr)) != QUEUE_OK) {
		if (r == -1)
			fprintf(stderr, "provisioning: cannot write the "
			    "report\n");
		else
			queue_error(q, "report", r);
		r = r == -1 ? EXIT_USAGE : cli_queue_exit(r);
		goto fail;
	}
	/* a lost write (a full disk, a quota) is said, not a report line */
	if (report_close(&fr.ok, err, sizeof(err)) != REPORT_OK ||
	    report_close(&fr.fails, err, sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "provisioning: cannot write the report: %s\n",
		    err);
		r = EXIT_USAGE;
		goto fail;
	}
	fprintf(stderr, "%zu enrolled (report: %s), %zu failed (failures: "
	    "%s)\n", fr.nok, rpath, fr.nfail, fpath);
	r = fr.nfail > 0 ? EXIT_PARTIAL : EXIT_OK;
fail:
	report_free(&fr.ok);
	report_free(&fr.fails);

	return (r);
}

int
cmd_queue(struct prov_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = { "init", "add", "status", "retry",
	    "drain", "report", NULL };
	static const char *const names[] = { "queue init", "queue add",
	    "queue status", "queue retry", "queue drain", "queue report" };
	static const struct optdef none[] = { { NULL, NULL, 0, 0 } };
	static const struct optdef add[] = {
		{ "csv", "FILE", 'c', 0 },
		{ "group", "ID|NAME", 'g', 0 },
		{ "failures", "FILE", 'f', 0 },
		{ NULL, NULL, 0, 0 },
	};
	static const struct optdef status[] = {
		{ "json", NULL, 'j', 0 },
		{ NULL, NULL, 0, 0 },
	};
	static const struct optdef drain[] = {
		{ "resume", NULL, 'R', 0 },
		{ NULL, NULL, 0, 0 },
	};
	static const struct optdef report[] = {
		{ "report", "FILE", 'r', 0 },
		{ "failures", "FILE", 'f', 0 },
		{ "json", NULL, 'j', 0 },
		{ NULL, NULL, 0, 0 },
	};
	const struct optdef *const defs[] = { none, add, status, none, drain,
	    report };
	struct opts	 op;
	queue_t		*q = NULL;
	const char	*csv = NULL, *group = NULL, *rpath = NULL;
	const char	*fpath = REPORT_FAILURES_DEFAULT;
	bool		 json = ctx->json, resume = false;
	int		 k, c, n, r;

	if ((k = opts_subverb("queue", argc, argv, subs)) == OPTS_HELP) {
		queue_usage(stdout, -1);
		return (EXIT_OK);
	} else if (k < 0)
		return (EXIT_USAGE);
	opts_init(&op, names[k], defs[k], 0, argc - 1, argv + 1);
	while ((c = opts_next(&op)) != OPTS_END) {
		switch (c) {
		case OPTS_HELP:
			queue_usage(stdout, k);
			return (EXIT_OK);
		case 'c':
			csv = op.arg;
			break;
		case 'g':
			group = op.arg;
			break;
		case 'f':
			fpath = op.arg;
			break;
		case 'j':
			json = true;
			break;
		case 'R':
			resume = true;
			break;
		case 'r':
			rpath = op.arg;
			break;
		default:
			return (EXIT_USAGE);
		}
	}
	switch (k) {
	case 1:
		if (csv != NULL && group != NULL) {
			opts_error(&op, "--csv and --group cannot be "
			    "combined");
			return (EXIT_USAGE);
		}
		n = opts_operands(&op, csv != NULL || group != NULL ? 0 : 1,
		    csv != NULL || group != NULL ? 0 : -1, "USER");
		break;
	case 3:
	case 4:
		n = opts_operands(&op, 0, 1, k == 3 ? "USER" : "STATION");
		break;
	default:
		n = opts_operands(&op, 0, 0, NULL);
		break;
	}
	if (n < 0)
		return (EXIT_USAGE);
	if ((r = cli_queue_open(ctx, &q)) != EXIT_OK)
		return (r);
	switch (k) {
	case 0:
		r = q_init(q);
		break;
	case 1:
		r = q_add(ctx, q, csv, group, fpath, n, op.argv + op.ind);
		break;
	case 2:
		r = q_status(q, json);
		break;
	case 3:
		r = q_retry(q, n > 0 ? op.argv[op.ind] : NULL);
		break;
	case 4:
		r = q_drain(q, n > 0 ? op.argv[op.ind] : NULL, resume);
		break;
	default:
		r = q_report(q, rpath, fpath, json);
		break;
	}
	queue_free(&q);

	return (r);
}
