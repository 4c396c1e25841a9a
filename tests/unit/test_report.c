/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * src/formats/report.c and src/enroll/progress.c: failures.csv appended across runs
 * with one header, the report in CSV and JSON Lines, the PIN file's
 * permissions, RFC 4180 quoting and formula-injection prefixes, rows
 * from concurrent writers, and the progress output.
 */

#include <sys/stat.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common.h"
#include "csvin.h"
#include "progress.h"
#include "report.h"
#include "testutil.h"

struct tmp {
	char	dir[256];
	char	path[300];
};

static int
setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-1);
	if (tu_tmpdir(t->dir, sizeof(t->dir), "test_report") < 0)
		return (-1);
	snprintf(t->path, sizeof(t->path), "%s/out.csv", t->dir);
	umask(022);
	*state = t;

	return (0);
}

static int
teardown(void **state)
{
	struct tmp	*t = *state;

	if (tu_rmtree(t->dir) < 0)
		return (-1);
	free(t);

	return (0);
}

static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf = NULL;
	long	 n = 0;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("open %s", path);
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0 ||
	    (buf = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("read %s", path);
	fclose(f);

	return (buf);
}

static size_t
count_str(const char *hay, const char *needle)
{
	size_t		 n = 0;
	const char	*p;

	for (p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;

	return (n);
}

static report_t *
ropen(const char *path, enum report_kind kind)
{
	report_t	*r = NULL;
	char		 err[512];
	int		 rc;

	if ((rc = report_open(path, kind, &r, err, sizeof(err))) != REPORT_OK)
		fail_msg("report_open %s: %s (%s)", path, err,
		    report_strerr(rc));

	return (r);
}

static void
test_failures_appended(void **state)
{
	struct tmp		*t = *state;
	report_t		*r;
	struct report_failure	 f;
	struct stat		 st;
	char			*s;
	csvin_t			*c = NULL;
	csvin_row_t		 row;
	char			 err[256];

	memset(&f, 0, sizeof(f));
	r = ropen(t->path, REPORT_FAILURES);
	assert_string_equal(report_path(r), t->path);
	f.user = "alice@contoso.com";
	f.stage = "register";
	f.error_code = "badRequest";
	f.message = "Graph said: \"no\", twice\nand more";
	f.request_id = "0a1b2c3d-0000-4000-8000-000000000001";
	assert_int_equal(report_failure(r, &f), REPORT_OK);
	report_free(&r);
	assert_null(r);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);

	/* a second run appends; one header */
	r = ropen(t->path, REPORT_FAILURES);
	f.user = "bob@contoso.com";
	f.stage = "csv";
	f.error_code = "csv_duplicate";
	f.message = "duplicate of row 2";
	f.request_id = NULL;
	assert_int_equal(report_failure(r, &f), REPORT_OK);
	/* wrong kind of row */
	assert_int_equal(report_pin(r, "x", "y", "1234"), REPORT_ERR_ARG);
	report_free(&r);

	s = slurp(t->path);
	assert_int_equal(count_str(s, "time,user,stage,error_code,message,"
	    "request_id\n"), 1);
	assert_int_equal(strncmp(s, "time,user,", 10), 0);
	assert_non_null(strstr(s, ",alice@contoso.com,register,badRequest,"
	    "\"Graph said: \"\"no\"\", twice\nand more\","
	    "0a1b2c3d-0000-4000-8000-000000000001\n"));
	assert_non_null(strstr(s, ",bob@contoso.com,csv,csv_duplicate,"
	    "duplicate of row 2,\n"));
	free(s);

	/* and our own parser reads it back: 2 rows, quoting intact */
	assert_int_equal(csvin_open(t->path, &c, err, sizeof(err)), CSVIN_OK);
	assert_int_equal(csvin_count(c), 2);
	assert_int_equal(csvin_next(c, &row), CSVIN_OK);
	assert_string_equal(csvin_field(c, 0, "message"),
	    "Graph said: \"no\", twice\nand more");
	assert_int_equal(csvin_next(c, &row), CSVIN_OK);
	assert_string_equal(csvin_field(c, 1, "stage"), "csv");
	csvin_free(&c);
}

static void
test_failures_existing(void **state)
{
	struct tmp		*t = *state;
	report_t		*r;
	struct report_failure	 f;
	FILE			*fp;
	char			*s;

	/* a torn last row (writer killed mid-line): ours starts afresh */
	assert_non_null(fp = fopen(t->path, "w"));
	fputs("time,user,stage,error_code,message,request_id\n"
	    "2025-01-01T00:00:00Z,old@x,key,timeout,partial", fp);
	fclose(fp);
	r = ropen(t->path, REPORT_FAILURES);
	memset(&f, 0, sizeof(f));
	f.user = "new@x";
	assert_int_equal(report_failure(r, &f), REPORT_OK);
	report_free(&r);
	s = slurp(t->path);
	assert_non_null(strstr(s, "partial\n"));
	assert_non_null(strstr(s, "Z,new@x,,,,\n"));
	assert_int_equal(count_str(s, "time,user"), 1);
	free(s);
	/* an empty file gets the header */
	assert_non_null(fp = fopen(t->path, "w"));
	fclose(fp);
	r = ropen(t->path, REPORT_FAILURES);
	report_free(&r);
	s = slurp(t->path);
	assert_string_equal(s, "time,user,stage,error_code,message,"
	    "request_id\n");
	free(s);
	/* unwritable place */
	assert_int_equal(report_open("/nonexistent/dir/f.csv",
	    REPORT_FAILURES, &r, NULL, 0), REPORT_ERR_IO);
	assert_int_equal(report_open(NULL, REPORT_FAILURES, &r, NULL, 0),
	    REPORT_ERR_ARG);
}

static void
test_report_csv(void **state)
{
	struct tmp		*t = *state;
	report_t		*r;
	struct report_success	 s;
	char			*txt;

	memset(&s, 0, sizeof(s));
	r = ropen(t->path, REPORT_SUCCESS_CSV);
	s.user = "alice@contoso.com";
	s.user_id = "0f8fad5b-d9cb-469f-a165-70867728950e";
	s.method_id = "-Qk3Gx1s";
	s.credential_id = "-Qk3Gx1s-AmxBzT0_8v3Y";	/* base64url, '-' */
	s.aaguid = "ee882879-721c-4913-9775-3dfcce97072a";
	s.model = "YubiKey 5 NFC";
	s.display_name = "=HYPERLINK(\"http://evil\",\"x\")";
	s.device = "unix:/tmp/k1";
	s.attestation = "attested";
	s.passkey_type = "deviceBound";
	s.warning = "AAGUID 00000000-0000-0000-0000-000000000000, not the "
	    "key's ee882879-721c-4913-9775-3dfcce97072a";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	assert_int_equal(report_failure(r, NULL), REPORT_ERR_ARG);
	report_free(&r);
	r = ropen(t->path, REPORT_SUCCESS_CSV);
	s.user = "+bob@contoso.com";
	s.credential_id = "Bk3Gx1s";
	s.display_name = "Bob";
	s.warning = NULL;
	assert_int_equal(report_success(r, &s), REPORT_OK);
	report_free(&r);
	txt = slurp(t->path);
	/* the old columns in their order, the new ones at the end */
	assert_int_equal(count_str(txt, "time,user,user_id,method_id,"
	    "credential_id,aaguid,model,display_name,device,"
	    "attestation_level,passkey_type,warning\n"), 1);
	/* every cell is defused, ids too (csv_unescape() reads them back) */
	assert_non_null(strstr(txt, ",alice@contoso.com,0f8fad5b-d9cb-469f-"
	    "a165-70867728950e,'-Qk3Gx1s,'-Qk3Gx1s-AmxBzT0_8v3Y,ee882879-721c-"
	    "4913-9775-3dfcce97072a,YubiKey 5 NFC,\"'=HYPERLINK(\"\"http://"
	    "evil\"\",\"\"x\"\")\",unix:/tmp/k1,attested,deviceBound,\"AAGUID "
	    "00000000-0000-0000-0000-000000000000, not the key's ee882879-"
	    "721c-4913-9775-3dfcce97072a\"\n"));
	assert_non_null(strstr(txt, ",'+bob@contoso.com,"));
	assert_non_null(strstr(txt, ",Bob,unix:/tmp/k1,attested,deviceBound,"
	    "\n"));
	free(txt);
}

static void
test_report_jsonl(void **state)
{
	struct tmp		*t = *state;
	report_t		*r;
	struct report_success	 s;
	json_t			*o;
	json_error_t		 je;
	char			*txt, *nl;

	memset(&s, 0, sizeof(s));
	r = ropen(t->path, REPORT_SUCCESS_JSONL);
	s.user = "alice@contoso.com";
	s.credential_id = "-abc";
	s.display_name = "=1+1 \"q\" \xff bad\x01";
	s.passkey_type = "deviceBound";
	s.warning = "passkey type synced, not deviceBound";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	s.user = "bob@contoso.com";
	s.credential_id = "bob1";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	report_free(&r);
	txt = slurp(t->path);
	/* no header; one JSON object a line */
	assert_true(txt[0] == '{');
	nl = strchr(txt, '\n');
	assert_non_null(nl);
	*nl = '\0';
	o = json_loads(txt, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "user")),
	    "alice@contoso.com");
	assert_string_equal(json_string_value(json_object_get(o,
	    "credential_id")), "-abc");
	/* not prefixed; invalid UTF-8 and controls replaced */
	assert_string_equal(json_string_value(json_object_get(o,
	    "display_name")), "=1+1 \"q\" ? bad?");
	assert_true(json_is_null(json_object_get(o, "method_id")));
	assert_non_null(json_object_get(o, "time"));
	assert_string_equal(json_string_value(json_object_get(o,
	    "passkey_type")), "deviceBound");
	assert_string_equal(json_string_value(json_object_get(o, "warning")),
	    "passkey type synced, not deviceBound");
	json_decref(o);
	o = json_loads(nl + 1, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "user")),
	    "bob@contoso.com");
	json_decref(o);
	free(txt);
}

static void
test_pins_file(void **state)
{
	struct tmp	*t = *state;
	report_t	*r = NULL;
	struct stat	 st;
	char		 path[400], link[400], err[512], *txt;
	FILE		*fp;

	snprintf(path, sizeof(path), "%s/pins.csv", t->dir);
	umask(0);	/* even so: 0600 */
	r = ropen(path, REPORT_PINS);
	umask(022);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(report_pin(r, "alice@contoso.com", "unix:/tmp/k1",
	    "482913"), REPORT_OK);
	assert_int_equal(report_pin(r, "=bob@contoso.com", "serial 1234",
	    "a,\"b"), REPORT_OK);
	/* a PIN is written exactly, or not at all */
	assert_int_equal(report_pin(r, "x@y", "d", "12\n34"), REPORT_ERR_ARG);
	assert_int_equal(report_pin(r, "x@y", "d", ""), REPORT_ERR_ARG);
	assert_int_equal(report_pin(r, "x@y", "d", NULL), REPORT_ERR_ARG);
	report_free(&r);
	/* reopened: appended, still 0600 */
	r = ropen(path, REPORT_PINS);
	assert_int_equal(report_pin(r, "carol@contoso.com", "d", "1111"),
	    REPORT_OK);
	report_free(&r);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	txt = slurp(path);
	assert_int_equal(count_str(txt, "time,user,device,pin\n"), 1);
	assert_non_null(strstr(txt, ",alice@contoso.com,unix:/tmp/k1,"
	    "482913\n"));
	assert_non_null(strstr(txt, ",'=bob@contoso.com,serial 1234,"
	    "\"a,\"\"b\"\n"));
	assert_non_null(strstr(txt, ",carol@contoso.com,d,1111\n"));
	free(txt);

	/* an existing file others can read is refused, untouched */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(report_open(path, REPORT_PINS, &r, err, sizeof(err)),
	    REPORT_ERR_PERM);
	assert_null(r);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0620), 0);
	assert_int_equal(report_open(path, REPORT_PINS, &r, err, sizeof(err)),
	    REPORT_ERR_PERM);
	/* so is a symbolic link, even to a private file */
	assert_int_equal(chmod(path, 0600), 0);
	snprintf(link, sizeof(link), "%s/link.csv", t->dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(report_open(link, REPORT_PINS, &r, err, sizeof(err)),
	    REPORT_ERR_PERM);
	/* and a directory */
	assert_int_equal(report_open(t->dir, REPORT_PINS, &r, err,
	    sizeof(err)), REPORT_ERR_PERM);
	/* an empty private file gets the header */
	snprintf(path, sizeof(path), "%s/empty.csv", t->dir);
	assert_non_null(fp = fopen(path, "w"));
	fclose(fp);
	assert_int_equal(chmod(path, 0600), 0);
	r = ropen(path, REPORT_PINS);
	report_free(&r);
	txt = slurp(path);
	assert_string_equal(txt, "time,user,device,pin\n");
	free(txt);
}

static void
test_cells(void **state)
{
	static const struct {
		const char	*in;
		int		 freetext;
		const char	*out;
	} v[] = {
		{ "plain", 1, "plain" },
		{ "", 1, "" },
		{ "a,b", 0, "\"a,b\"" },
		{ "say \"hi\"", 0, "\"say \"\"hi\"\"\"" },
		{ "two\nlines", 0, "\"two\nlines\"" },
		{ "cr\rhere", 0, "\"cr\rhere\"" },
		{ " padded ", 0, "\" padded \"" },
		{ "=SUM(A1)", 1, "'=SUM(A1)" },
		{ "+1", 1, "'+1" },
		{ "-1", 1, "'-1" },
		{ "@cmd", 1, "'@cmd" },
		{ "\tx", 1, "'\tx" },
		{ "=a,b", 1, "\"'=a,b\"" },
		{ "-Qk3_x", 0, "'-Qk3_x" },
		{ "-1", 0, "'-1" },
		{ "'=x", 1, "''=x" },
		{ "'t Hooft", 1, "'t Hooft" },
		{ "'", 1, "'" },
		{ "\rx", 0, "\"'\rx\"" },
		{ "c1\xc2\x9b" "31m", 1, "c1?31m" },
		{ "nbsp\xc2\xa0", 1, "nbsp\xc2\xa0" },
		{ "a=b", 1, "a=b" },
		{ "esc\x1b[31m", 1, "esc?[31m" },
		{ "bad\xff\xfe", 1, "bad??" },
		{ "Zo\xc3\xab", 1, "Zo\xc3\xab" },
		{ "\xc3", 1, "?" },
		{ "del\x7f", 1, "del?" },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s = report_csv_cell(v[i].in, ',');
		assert_non_null(s);
		if (strcmp(s, v[i].out) != 0)
			fail_msg("cell %zu: '%s' became '%s', not '%s'", i,
			    v[i].in, s, v[i].out);
		free(s);
	}
	s = report_csv_cell(NULL, ',');
	assert_string_equal(s, "");
	free(s);
	s = report_csv_cell("a;b", ';');
	assert_string_equal(s, "\"a;b\"");
	free(s);
}

#define NTHREADS	4
#define NROWS		100

static char	bigmsg[3000];

struct rworker {
	report_t	*r;
	int		 id;
};

static void *
writer(void *arg)
{
	struct rworker		*w = arg;
	struct report_failure	 f;
	char			 user[64];
	int			 i;

	memset(&f, 0, sizeof(f));
	f.message = bigmsg;
	for (i = 0; i < NROWS; i++) {
		snprintf(user, sizeof(user), "t%d-u%d@x", w->id, i);
		f.user = user;
		if (report_failure(w->r, &f) != REPORT_OK)
			return ((void *)1);
	}

	return (NULL);
}

static void
test_concurrent_rows(void **state)
{
	struct tmp	*t = *state;
	report_t	*r[2];
	struct rworker	 w[NTHREADS];
	pthread_t	 tid[NTHREADS];
	void		*rv;
	csvin_t		*c = NULL;
	csvin_row_t	 row;
	char		 err[256];
	int		 i;

	memset(bigmsg, 'm', sizeof(bigmsg) - 1);
	/* two threads per handle, two handles: rows never interleave */
	r[0] = ropen(t->path, REPORT_FAILURES);
	r[1] = ropen(t->path, REPORT_FAILURES);
	for (i = 0; i < NTHREADS; i++) {
		w[i].r = r[i % 2];
		w[i].id = i;
		assert_int_equal(pthread_create(&tid[i], NULL, writer, &w[i]),
		    0);
	}
	for (i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(tid[i], &rv), 0);
		assert_null(rv);
	}
	report_free(&r[0]);
	report_free(&r[1]);
	assert_int_equal(csvin_open(t->path, &c, err, sizeof(err)), CSVIN_OK);
	assert_int_equal(csvin_count(c), NTHREADS * NROWS);
	assert_int_equal(csvin_count_status(c, CSVIN_ROW_OK),
	    NTHREADS * NROWS);
	while (csvin_next(c, &row) == CSVIN_OK)
		assert_int_equal(strlen(csvin_field(c, row.index, "message")),
		    sizeof(bigmsg) - 1);
	csvin_free(&c);
}

static char *
progress_out(FILE *f)
{
	long	 n;
	char	*s;

	fflush(f);
	n = ftell(f);
	assert_true(n >= 0);
	assert_non_null(s = calloc(1, (size_t)n + 1));
	rewind(f);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);

	return (s);
}

static void
test_progress_plain(void **state)
{
	progress_t		*p = NULL;
	struct progress_counts	 c;
	FILE			*f;
	char			*s;

	assert_non_null(f = tmpfile());
	assert_int_equal(progress_new(f, 3, PROGRESS_AUTO, &p), PROGRESS_OK);
	/* numbered by input position when given, else by count */
	progress_event(p, PROGRESS_DONE, 2, "alice@contoso", NULL,
	    "key unix:/tmp/k1");
	progress_event(p, PROGRESS_FAILED, 1, "bob@contoso", NULL,
	    "register: \x1b]0;pwned\x07");
	progress_note(p, "insert the next key");
	progress_counts(p, &c);
	assert_int_equal(c.done, 1);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.remaining, 1);
	progress_event(p, PROGRESS_SKIPPED, 0, "carol@contoso", "already done",
	    NULL);
	progress_free(&p);
	assert_null(p);
	s = progress_out(f);
	assert_string_equal(s,
	    "[2/3] alice@contoso: enrolled (key unix:/tmp/k1)\n"
	    "[1/3] bob@contoso: failed (register: \\x1b]0;pwned\\x07)\n"
	    "insert the next key\n"
	    "[3/3] carol@contoso: already done\n");
	free(s);
	fclose(f);
}

static void
test_progress_tty(void **state)
{
	progress_t		*p = NULL;
	struct progress_counts	 c;
	FILE			*f;
	char			*s, buf[32];

	assert_non_null(f = tmpfile());
	assert_int_equal(progress_new(f, 10, PROGRESS_TTY, &p), PROGRESS_OK);
	progress_event(p, PROGRESS_DONE, 0, "a@x", NULL, NULL);
	progress_event(p, PROGRESS_SKIPPED, 0, "b@x", NULL, NULL);
	progress_event(p, PROGRESS_FAILED, 0, "c@x", NULL, "timeout");
	usleep(20 * 1000);
	progress_counts(p, &c);
	assert_int_equal(c.remaining, 7);
	assert_true(c.per_min > 0);
	assert_true(c.eta_s >= 0);
	progress_free(&p);
	s = progress_out(f);
	/* redrawn in place; the failure stays on a line of its own */
	assert_non_null(strstr(s, "\r\033[K[1/10] done 1  failed 0  "
	    "skipped 0  left 9  "));
	assert_non_null(strstr(s, "[3/10] c@x: failed (timeout)\n"));
	assert_non_null(strstr(s, "[3/10] done 1  failed 1  skipped 1  "
	    "left 7  "));
	assert_null(strstr(s, "a@x"));	/* successes only count */
	assert_int_equal(s[strlen(s) - 1], '\n');
	free(s);
	fclose(f);
	progress_fmt_duration(-1, buf, sizeof(buf));
	assert_string_equal(buf, "--");
	progress_fmt_duration(45, buf, sizeof(buf));
	assert_string_equal(buf, "45s");
	progress_fmt_duration(185, buf, sizeof(buf));
	assert_string_equal(buf, "3m05s");
	progress_fmt_duration(3720, buf, sizeof(buf));
	assert_string_equal(buf, "1h02m");
}

struct pworker {
	progress_t	*p;
	int		 id;
};

static void *
pworker(void *arg)
{
	struct pworker	*w = arg;
	int		 i;

	for (i = 0; i < 250; i++)
		progress_event(w->p, (enum progress_outcome)(i % 3), 0,
		    "u@x", NULL, NULL);

	return (NULL);
}

static void
test_progress_threads(void **state)
{
	progress_t		*p = NULL;
	struct progress_counts	 c;
	pthread_t		 tid[4];
	struct pworker		 w[4];
	FILE			*f;
	char			*s;
	int			 i;

	assert_non_null(f = tmpfile());
	assert_int_equal(progress_new(f, 1000, PROGRESS_PLAIN, &p),
	    PROGRESS_OK);
	for (i = 0; i < 4; i++) {
		w[i].p = p;
		w[i].id = i;
		assert_int_equal(pthread_create(&tid[i], NULL, pworker, &w[i]),
		    0);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
	progress_counts(p, &c);
	assert_int_equal(c.done + c.failed + c.skipped, 1000);
	assert_int_equal(c.remaining, 0);
	progress_free(&p);
	s = progress_out(f);
	assert_int_equal(count_str(s, "\n"), 1000);
	assert_non_null(strstr(s, "[1000/1000] u@x: "));
	free(s);
	fclose(f);
}

/*
 * The report is appended across runs: rows another run wrote (another
 * input, another state directory) stay, and an enrollment the file
 * lists already (by credential id, read back through the formula
 * prefix) is not listed twice.
 */
static void
test_report_keeps_rows(void **state)
{
	struct tmp		*t = *state;
	report_t		*r;
	struct report_success	 s;
	FILE			*f;
	char			*txt, path[400];

	assert_non_null(f = fopen(t->path, "w"));
	fputs("time,user,user_id,method_id,credential_id,aaguid,model,"
	    "display_name,device,attestation_level\n"
	    "2026-01-01T00:00:00Z,other@contoso.com,,m0,'-other0,,,"
	    "\"Key, \"\"old\"\"\",,\n", f);
	fclose(f);
	memset(&s, 0, sizeof(s));
	s.user = "alice@contoso.com";
	s.credential_id = "-alice1";
	r = ropen(t->path, REPORT_SUCCESS_CSV);
	assert_int_equal(report_success(r, &s), REPORT_OK);
	report_free(&r);
	/* a re-run writes the journal's rows again: only new ones land */
	r = ropen(t->path, REPORT_SUCCESS_CSV);
	assert_int_equal(report_success(r, &s), REPORT_OK);
	s.user = "other@contoso.com";
	s.credential_id = "-other0";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	s.user = "bob@contoso.com";
	s.credential_id = "bob1";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	assert_int_equal(report_success(r, &s), REPORT_OK);
	report_free(&r);
	txt = slurp(t->path);
	assert_int_equal(count_str(txt, "\n"), 4);
	assert_non_null(strstr(txt, "other@contoso.com,,m0,'-other0,"));
	assert_int_equal(count_str(txt, "'-other0"), 1);
	assert_int_equal(count_str(txt, "'-alice1"), 1);
	assert_int_equal(count_str(txt, ",bob1,"), 1);
	free(txt);

	/* JSON Lines the same way */
	snprintf(path, sizeof(path), "%s/r.jsonl", t->dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"user\":\"other@contoso.com\",\"credential_id\":\"-o\"}\n"
	    "not json, a torn line\n", f);
	fclose(f);
	r = ropen(path, REPORT_SUCCESS_JSONL);
	s.credential_id = "-o";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	s.credential_id = "-n";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	report_free(&r);
	txt = slurp(path);
	assert_int_equal(count_str(txt, "\"-o\""), 1);
	assert_int_equal(count_str(txt, "\"-n\""), 1);
	assert_int_equal(count_str(txt, "torn line"), 1);
	free(txt);
}

/* every cell of a failures row is defused, the machine ones too */
static void
test_failure_cells(void **state)
{
	struct tmp		*t = *state;
	report_t		*r;
	struct report_failure	 f;
	char			*txt;

	memset(&f, 0, sizeof(f));
	f.user = "@alice@contoso.com";
	f.stage = "+stage";
	f.error_code = "-1";
	f.message = "=cmd|' /C calc'!A0 \x1b]8;;x\x07";
	f.request_id = "@req";
	r = ropen(t->path, REPORT_FAILURES);
	assert_int_equal(report_failure(r, &f), REPORT_OK);
	report_free(&r);
	txt = slurp(t->path);
	assert_non_null(strstr(txt, ",'@alice@contoso.com,'+stage,'-1,"
	    "'=cmd|' /C calc'!A0 ?]8;;x?,'@req\n"));
	free(txt);
}

/*
 * Names planted in a shared directory: a symbolic link or a file of
 * another user's is not written through, a write that fails (a full
 * disk) is said by report_close(), naming the file and the error.
 */
static void
test_unsafe_targets(void **state)
{
	struct tmp	*t = *state;
	report_t	*r = NULL;
	struct stat	 st;
	char		 target[400], err[512];
	struct report_failure f;
	struct report_success s;
	FILE		*fp;
	char		*txt;

	snprintf(target, sizeof(target), "%s/victim", t->dir);
	assert_non_null(fp = fopen(target, "w"));
	fclose(fp);
	if (geteuid() == 0) {
		assert_int_equal(symlink(target, t->path), 0);
		assert_int_equal(lchown(t->path, 65534, 65534), 0);
		assert_int_equal(report_open(t->path, REPORT_FAILURES, &r, err,
		    sizeof(err)), REPORT_ERR_PERM);
		assert_null(r);
		assert_non_null(strstr(err, t->path));
		assert_non_null(strstr(err, "symbolic link owned by uid "
		    "65534"));
		assert_int_equal(report_open(t->path, REPORT_SUCCESS_CSV, &r,
		    err, sizeof(err)), REPORT_ERR_PERM);
		assert_int_equal(stat(target, &st), 0);
		assert_int_equal(st.st_size, 0);
		assert_int_equal(unlink(t->path), 0);
		/* a regular file someone else made */
		assert_int_equal(chown(target, 65534, 65534), 0);
		assert_int_equal(report_open(target, REPORT_FAILURES, &r, err,
		    sizeof(err)), REPORT_ERR_PERM);
		assert_non_null(strstr(err, "owned by uid 65534"));
		assert_int_equal(stat(target, &st), 0);
		assert_int_equal(st.st_size, 0);
	}
	/* a full disk: the header cannot be written */
	assert_int_equal(report_open("/dev/full", REPORT_FAILURES, &r, err,
	    sizeof(err)), REPORT_OK);
	memset(&f, 0, sizeof(f));
	f.user = "a@b";
	assert_int_equal(report_failure(r, &f), REPORT_ERR_IO);
	assert_int_equal(report_close(&r, err, sizeof(err)), REPORT_ERR_IO);
	assert_null(r);
	assert_non_null(strstr(err, "/dev/full: No space left on device"));
	/* a clean close is REPORT_OK */
	r = ropen(t->path, REPORT_FAILURES);
	assert_int_equal(report_failure(r, &f), REPORT_OK);
	assert_int_equal(report_close(&r, err, sizeof(err)), REPORT_OK);
	/* synced at close: a lost write is still said there */
	assert_int_equal(report_open("/dev/full", REPORT_SUCCESS_CSV, &r, err,
	    sizeof(err)), REPORT_OK);
	report_sync_at_close(r);
	memset(&s, 0, sizeof(s));
	s.user = "a@b";
	s.credential_id = "Bk3Gx1s";
	assert_int_equal(report_success(r, &s), REPORT_ERR_IO);
	assert_int_equal(report_close(&r, err, sizeof(err)), REPORT_ERR_IO);
	assert_non_null(strstr(err, "No space left on device"));
	/* and its rows are all there after the close */
	assert_int_equal(unlink(t->path), 0);
	r = ropen(t->path, REPORT_SUCCESS_CSV);
	report_sync_at_close(r);
	assert_int_equal(report_success(r, &s), REPORT_OK);
	s.user = "c@d";
	s.credential_id = "Ck3Gx1s";
	assert_int_equal(report_success(r, &s), REPORT_OK);
	assert_int_equal(report_close(&r, err, sizeof(err)), REPORT_OK);
	txt = slurp(t->path);
	assert_non_null(strstr(txt, ",a@b,"));
	assert_non_null(strstr(txt, ",c@d,"));
	free(txt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failures_appended, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failures_existing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report_csv, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_report_jsonl, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pins_file, setup,
		    teardown),
		cmocka_unit_test(test_cells),
		cmocka_unit_test_setup_teardown(test_report_keeps_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failure_cells, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_targets, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_rows, setup,
		    teardown),
		cmocka_unit_test(test_progress_plain),
		cmocka_unit_test(test_progress_tty),
		cmocka_unit_test(test_progress_threads),
	};

	log_init(-1);

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
