/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * mds update [FILE] | mds show AAGUID: the FIDO Metadata Service.
 * `update` verifies a BLOB (FILE, or downloaded from the published
 * URL) against the pinned GlobalSign roots (or --mds-root) and stores
 * its entries in the state directory;
 * `show` says what is known of a model.  Stale metadata is always
 * named on stderr, never passed over silently.
 */

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "extern.h"
#include "graph.h"
#include "mds.h"

#define MDS_UPDATE	0
#define MDS_SHOW	1

#define ROOTS_MAX	(1024 * 1024)
#define MDS_URL_ENV	"PROVISIONING_MDS_URL"	/* a mirror, tests */

static void
mds_usage(FILE *f, int sub)
{
	static const char *const lines[] = {
	    "[--mds-root PEM] mds update [--signer HOST] [FILE]\n"
	    "  verify a FIDO MDS3 BLOB (x5c to GlobalSign Root CA - R3 or "
	    "Root R46,\n  or to the roots in PEM; the signing certificate "
	    "issued to\n  " MDS_SIGNER ", or with --mds-root to HOST) and "
	    "store its entries;\n  a lower 'no' is refused; without FILE "
	    "it is downloaded",
	    "[--json] mds show AAGUID\n"
	    "  what the stored metadata says of a model: description, "
	    "status reports,\n  certification level, attestation roots" };
	const char	*lead = "usage:";
	int		 i;

	for (i = MDS_UPDATE; i <= MDS_SHOW; i++) {
		if (sub >= 0 && sub != i)
			continue;
		if (sub >= 0)
			fprintf(f, "%s provisioning %s\n", lead, lines[i]);
		else
			fprintf(f, "%s provisioning %.*s\n", lead,
			    (int)strcspn(lines[i], "\n"), lines[i]);
		lead = "      ";
	}
	if (sub != MDS_SHOW)
		fprintf(f, "Without FILE the BLOB is downloaded from %s\n(%s "
		    "overrides the URL; --ca-bundle adds TLS roots).\nThe "
		    "metadata is kept in STATE_DIR/%s.\n", MDS_URL,
		    MDS_URL_ENV, MDS_STORE_FILE);
}

static int
store_path(const struct prov_ctx *ctx, char *buf, size_t len)
{
	if (snprintf(buf, len, "%s/%s", ctx->state_dir, MDS_STORE_FILE) >=
	    (int)len) {
		fprintf(stderr, "provisioning: state directory path too "
		    "long\n");
		return (-1);
	}

	return (0);
}

static void
warn_stale(const mds_t *m)
{
	if (mds_stale(m, time(NULL)))
		log_warn("the FIDO metadata (no %lld) is stale: its "
		    "nextUpdate %s has passed; run 'provisioning mds "
		    "update' for a newer BLOB", mds_no(m),
		    mds_next_update(m));
}

/* --mds-root PEM replaces the pinned roots; --signer goes with it */
static int
load_roots(const struct prov_ctx *ctx, const char *signer,
    mds_roots_t **out)
{
	unsigned char	*buf = NULL;
	size_t		 len;
	int		 r;

	if (mds_roots_new(out) != MDS_OK)
		return (-1);
	if (ctx->mds_root == NULL)
		r = mds_roots_add_pinned(*out);
	else {
		errno = 0;
		if (read_file_max(ctx->mds_root, ROOTS_MAX, &buf, &len) < 0) {
			fprintf(stderr, "provisioning: --mds-root %s: %s\n",
			    ctx->mds_root, errno == EFBIG ? "too large" :
			    strerror(errno));
			mds_roots_free(out);
			return (-1);
		}
		r = mds_roots_add_pem(*out, buf, len);
		free(buf);
		if (r != MDS_OK)
			fprintf(stderr, "provisioning: --mds-root %s: no PEM "
			    "certificate in it\n", ctx->mds_root);
	}
	if (r == MDS_OK && signer != NULL &&
	    (r = mds_roots_set_signer(*out, signer)) != MDS_OK)
		cmd_usage_error("mds update", "--signer: '%.64s' is not a "
		    "host name", signer);
	if (r != MDS_OK) {
		mds_roots_free(out);
		return (-1);
	}

	return (0);
}

/*
 * The published BLOB, through graph/ (the only HTTP client): TLS
 * checked as for Graph, at most MDS_BLOB_MAX bytes.  It proves nothing
 * by where it came from; mds_update() verifies it as a FILE.
 */
static int
download(struct prov_ctx *ctx, const char *url, unsigned char **blob,
    size_t *len)
{
	graph_client_t	*c = NULL;
	int		 r;

	if ((r = cli_graph_open(ctx, &c)) != EXIT_OK)
		return (r);
	log_info("downloading the FIDO metadata BLOB from %s", url);
	if ((r = graph_fetch(c, url, MDS_BLOB_MAX, blob, len)) != GRAPH_OK) {
		cli_graph_error(c, "mds update: cannot download the FIDO "
		    "metadata", r);
		fprintf(stderr, "provisioning: the stored metadata is "
		    "unchanged; or save the BLOB elsewhere and run "
		    "'provisioning mds update FILE'\n");
		r = cli_graph_exit(r);
	} else
		r = EXIT_OK;
	graph_client_free(&c);

	return (r);
}

static int
do_update(struct prov_ctx *ctx, const char *file, const char *signer)
{
	mds_roots_t	*roots = NULL;
	mds_t		*m = NULL;
	unsigned char	*blob = NULL;
	const char	*src, *url;
	char		 path[PATH_MAX], err[512];
	size_t		 len;
	bool		 updated;
	int		 r, mr;

	/* the public service's BLOB is signed for its host, always */
	if (signer != NULL && ctx->mds_root == NULL) {
		cmd_usage_error("mds update", "--signer needs --mds-root: "
		    "the FIDO Alliance's BLOB is signed for %s", MDS_SIGNER);
		return (EXIT_USAGE);
	}
	if (state_dir_ensure(ctx) < 0 ||
	    store_path(ctx, path, sizeof(path)) < 0)
		return (EXIT_USAGE);
	if (load_roots(ctx, signer, &roots) < 0)
		return (EXIT_USAGE);
	if (file == NULL) {
		url = getenv(MDS_URL_ENV) != NULL && *getenv(MDS_URL_ENV) !=
		    '\0' ? getenv(MDS_URL_ENV) : MDS_URL;
		src = url;
		if ((r = download(ctx, url, &blob, &len)) != EXIT_OK)
			goto fail;
	} else {
		src = file;
		errno = 0;
		if (read_file_max(file, MDS_BLOB_MAX, &blob, &len) < 0) {
			fprintf(stderr, "provisioning: mds update: %s: %s\n",
			    file, errno == EFBIG ? "larger than the 32 MiB a "
			    "BLOB may be" : strerror(errno));
			r = EXIT_USAGE;
			goto fail;
		}
	}
	err[0] = '\0';
	if ((mr = mds_update(roots, blob, len, path, &m, &updated, err,
	    sizeof(err))) != MDS_OK) {
		fprintf(stderr, "provisioning: mds update: %s: refused: %s%s\n",
		    cli_safe(src), err[0] != '\0' ? err : mds_strerr(mr),
		    mr == MDS_ERR_ROLLBACK ? "" : "; the stored metadata is "
		    "unchanged");
		r = EXIT_USAGE;
		goto fail;
	}
	if (ctx->json) {
		if (cli_print_json(json_pack("{s:I, s:I, s:s, s:b, s:b, s:s}",
		    "no", (json_int_t)mds_no(m), "entries",
		    (json_int_t)mds_entry_count(m), "nextUpdate",
		    mds_next_update(m), "updated", updated, "stale",
		    mds_stale(m, time(NULL)), "path", path)) < 0) {
			r = EXIT_USAGE;
			goto fail;
		}
	} else if (updated)
		printf("metadata no %lld: %zu entries, nextUpdate %s; stored "
		    "in %s\n", mds_no(m), mds_entry_count(m),
		    mds_next_update(m), path);
	else
		printf("metadata no %lld is already stored (%zu entries, "
		    "nextUpdate %s); nothing changed\n", mds_no(m),
		    mds_entry_count(m), mds_next_update(m));
	warn_stale(m);
	r = EXIT_OK;
fail:
	free(blob);
	mds_free(&m);
	mds_roots_free(&roots);

	return (r);
}

static json_t *
entry_json(const mds_t *m, const mds_entry_t *e)
{
	json_t		*j, *reps, *roots;
	const char	*st, *dt, *s;
	size_t		 i;

	if ((reps = json_array()) == NULL)
		return (NULL);
	if ((roots = json_array()) == NULL) {
		json_decref(reps);
		return (NULL);
	}
	for (i = 0; i < mds_entry_report_count(e); i++) {
		mds_entry_report(e, i, &st, &dt);
		(void)json_array_append_new(reps, json_pack("{s:s, s:s}",
		    "status", st, "effectiveDate", dt));
	}
	for (i = 0; i < mds_entry_root_count(e); i++)
		(void)json_array_append_new(roots,
		    json_string(mds_entry_root_subject(e, i)));
	s = mds_entry_certification_level(e);
	st = mds_entry_status(e);
	j = json_pack("{s:s, s:b, s:s, s:s?, s:s?, s:b, s:o, s:o, s:I, "
	    "s:s, s:b}", "aaguid", mds_entry_aaguid(e), "found", 1,
	    "description", mds_entry_description(e), "status", st,
	    "certificationLevel", s, "revokedOrCompromised",
	    mds_entry_is_revoked_or_compromised(e), "statusReports", reps,
	    "attestationRootSubjects", roots, "no", (json_int_t)mds_no(m),
	    "nextUpdate", mds_next_update(m), "stale",
	    mds_stale(m, time(NULL)));

	return (j);
}

static void
entry_print(const mds_t *m, const mds_entry_t *e)
{
	const char	*st, *dt, *s;
	size_t		 i;

	printf("aaguid         %s\n", mds_entry_aaguid(e));
	printf("description    %s\n", *mds_entry_description(e) != '\0' ?
	    mds_entry_description(e) : "(none)");
	s = mds_entry_status(e);
	printf("status         %s%s\n", s != NULL ? s : "(no status report)",
	    mds_entry_is_revoked_or_compromised(e) ? " (revoked or "
	    "compromised: Entra will refuse it where attestation is "
	    "enforced)" : "");
	s = mds_entry_certification_level(e);
	printf("certification  %s\n", s != NULL ? s : "(not FIDO certified)");
	for (i = 0; i < mds_entry_report_count(e); i++) {
		mds_entry_report(e, i, &st, &dt);
		printf("%s %s%s%s\n", i == 0 ? "reports       " :
		    "              ", st, *dt != '\0' ? " " : "", dt);
	}
	for (i = 0; i < mds_entry_root_count(e); i++)
		printf("%s %s\n", i == 0 ? "roots         " :
		    "              ", mds_entry_root_subject(e, i));
	if (mds_entry_root_count(e) == 0)
		printf("roots          (none listed)\n");
	printf("metadata       no %lld, nextUpdate %s%s\n", mds_no(m),
	    mds_next_update(m), mds_stale(m, time(NULL)) ? " (stale)" : "");
}

static int
do_show(struct prov_ctx *ctx, const char *aaguid)
{
	mds_t			*m = NULL;
	const mds_entry_t	*e;
	char			 path[PATH_MAX];
	int			 r, mr;

	if (!guid_valid(aaguid, strlen(aaguid))) {
		cmd_usage_error("mds show", "'%.40s' is not an AAGUID "
		    "(8-4-4-4-12 hex digits)", aaguid);
		return (EXIT_USAGE);
	}
	if (store_path(ctx, path, sizeof(path)) < 0)
		return (EXIT_USAGE);
	if ((mr = mds_load(path, &m)) == MDS_ERR_NOT_FOUND) {
		fprintf(stderr, "provisioning: no FIDO metadata stored in %s; "
		    "run 'provisioning mds update'\n", path);
		return (EXIT_PARTIAL);
	} else if (mr != MDS_OK) {
		fprintf(stderr, "provisioning: %s: %s; run 'provisioning mds "
		    "update' again\n", path, mds_strerr(mr));
		return (EXIT_USAGE);
	}
	warn_stale(m);
	if ((e = mds_entry_find(m, aaguid)) == NULL) {
		if (ctx->json)
			(void)cli_print_json(json_pack("{s:s, s:b, s:I, s:s, "
			    "s:b}", "aaguid", aaguid, "found", 0, "no",
			    (json_int_t)mds_no(m), "nextUpdate",
			    mds_next_update(m), "stale",
			    mds_stale(m, time(NULL))));
		fprintf(stderr, "provisioning: AAGUID %s is not in the FIDO "
		    "metadata (no %lld, nextUpdate %s)\n", aaguid, mds_no(m),
		    mds_next_update(m));
		/* not found: the same status as a user that failed */
		r = EXIT_PARTIAL;
		goto fail;
	}
	if (ctx->json) {
		if (cli_print_json(entry_json(m, e)) < 0) {
			r = EXIT_USAGE;
			goto fail;
		}
	} else
		entry_print(m, e);
	r = EXIT_OK;
fail:
	mds_free(&m);

	return (r);
}

int
cmd_mds(struct prov_ctx *ctx, int argc, char **argv)
{
	static const char *const subs[] = { "update", "show", NULL };
	static const char *const names[] = { "mds update", "mds show" };
	static const struct optdef udefs[] = {
		{ "signer", "HOST", 's', 0 },
		{ NULL, NULL, 0, 0 },
	};
	static const struct optdef sdefs[] = { { NULL, NULL, 0, 0 } };
	struct opts	 op;
	const char	*signer = NULL;
	int		 c, k;

	if ((k = opts_subverb("mds", argc, argv, subs)) == OPTS_HELP) {
		mds_usage(stdout, -1);
		return (EXIT_OK);
	} else if (k < 0)
		return (EXIT_USAGE);
	opts_init(&op, names[k], k == MDS_UPDATE ? udefs : sdefs, 0,
	    argc - 1, argv + 1);
	while ((c = opts_next(&op)) != OPTS_END) {
		if (c == 's') {
			signer = op.arg;
			continue;
		}
		if (c != OPTS_HELP)
			return (EXIT_USAGE);
		mds_usage(stdout, k);
		return (EXIT_OK);
	}
	if (k == MDS_UPDATE) {
		if (opts_operands(&op, 0, 1, "FILE") < 0)
			return (EXIT_USAGE);
		return (do_update(ctx, op.ind + 1 < argc ?
		    argv[1 + op.ind] : NULL, signer));
	}
	if (opts_operands(&op, 1, 1, "AAGUID") < 0)
		return (EXIT_USAGE);

	return (do_show(ctx, argv[1 + op.ind]));
}
