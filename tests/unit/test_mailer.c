/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * src/formats/mailer.c: a PIN letter is a PDF of mode 0600 in a 0700
 * directory, whose text (pdftotext, an independent reader) holds the
 * user, the key and the PIN; an existing letter is never overwritten, a
 * symbolic link at the letter's name is refused and not followed, an
 * unsafe directory is refused, nothing is left behind on failure; and
 * lp gets the letter's path.  The drawing is a module: one missing, or
 * a library that is not it, is refused with a message and no letter.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "mailer.h"
#include "testutil.h"

#define UPN	"chen.wei@contoso.example"
#define NAME	"Chen Wei"
#define AAGUID	"2fc0579f-8113-47ea-b116-bb5a8db9202a"
#define PIN	"73920461"
#define WHEN	((time_t)1764673200)

struct tmp {
	char	top[256];
	char	dir[300];	/* the letters: top/letters */
};

static int
setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-1);
	if (tu_tmpdir(t->top, sizeof(t->top), "test_mailer") < 0)
		return (-1);
	snprintf(t->dir, sizeof(t->dir), "%s/letters", t->top);
	umask(022);
	*state = t;

	return (0);
}

static int
teardown(void **state)
{
	struct tmp *t = *state;

	if (tu_rmtree(t->top) < 0)
		return (-1);
	free(t);

	return (0);
}

static void
letter(struct mailer_letter *l)
{
	memset(l, 0, sizeof(*l));
	l->name = NAME;
	l->upn = UPN;
	l->model = "Virtual FIDO2 key";
	l->aaguid = AAGUID;
	l->serial = "VK-0042";
	l->slot = "key1";
	l->pin = PIN;
	l->when = WHEN;
}

/* the name a letter of WHEN gets, without suffix */
static void
expected_name(char *buf, size_t len, const char *suffix)
{
	struct tm	tm;
	time_t		when = WHEN;
	char		date[16];

	localtime_r(&when, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	snprintf(buf, len, "%s-%s%s.pdf", UPN, date, suffix);
}

static char *
slurp(const char *path, size_t *len)
{
	unsigned char	*p = NULL;
	size_t		 n = 0;

	assert_int_equal(read_file_max(path, 1 << 24, &p, &n), 0);
	if (len != NULL)
		*len = n;

	return ((char *)p);
}

/* the text of a PDF as poppler reads it */
static char *
pdf_text(const char *path)
{
	char	cmd[1024], *out;
	FILE	*f;
	size_t	 n = 0, cap = 1 << 16;

	snprintf(cmd, sizeof(cmd), "pdftotext '%s' - 2>&1", path);
	assert_non_null(f = popen(cmd, "r"));
	assert_non_null(out = calloc(1, cap + 1));
	n = fread(out, 1, cap, f);
	out[n] = '\0';
	assert_int_equal(pclose(f), 0);

	return (out);
}

static size_t
entries(const char *dir)
{
	DIR		*d;
	struct dirent	*e;
	size_t		 n = 0;

	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);

	return (n);
}

static void
test_letter(void **state)
{
	struct tmp		*t = *state;
	struct mailer_letter	 l;
	struct stat		 st;
	char			 path[512], want[512], err[256], *pdf, *txt;
	size_t			 len;

	assert_int_equal(mailer_dir_check(t->dir, err, sizeof(err)),
	    MAILER_OK);
	assert_int_equal(stat(t->dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);

	letter(&l);
	assert_int_equal(mailer_write(t->dir, &l, path, sizeof(path), err,
	    sizeof(err)), MAILER_OK);
	expected_name(want, sizeof(want), "");
	assert_non_null(strstr(path, want));
	assert_string_equal(strrchr(path, '/') + 1, want);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* no temporary file left next to it */
	assert_int_equal(entries(t->dir), 1);

	pdf = slurp(path, &len);
	assert_true(len > 1000);
	assert_memory_equal(pdf, "%PDF-", 5);
	/* finished: the trailer is there */
	assert_memory_equal(pdf + len - 6, "%%EOF\n", 6);
	free(pdf);

	txt = pdf_text(path);
	assert_non_null(strstr(txt, UPN));
	assert_non_null(strstr(txt, NAME));
	assert_non_null(strstr(txt, AAGUID));
	assert_non_null(strstr(txt, PIN));
	assert_non_null(strstr(txt, "VK-0042"));
	assert_non_null(strstr(txt, "Virtual FIDO2 key"));
	assert_non_null(strstr(txt, "key1"));
	assert_non_null(strstr(txt, "https://myaccount.microsoft.com"));
	assert_non_null(strstr(txt, "Change the PIN"));
	free(txt);
}

static void
test_no_overwrite(void **state)
{
	struct tmp		*t = *state;
	struct mailer_letter	 l;
	char			 p1[512], p2[512], p3[512], want[512], err[256];
	char			*a, *b, *txt;
	size_t			 alen, blen;

	assert_int_equal(mailer_dir_check(t->dir, err, sizeof(err)),
	    MAILER_OK);
	letter(&l);
	assert_int_equal(mailer_write(t->dir, &l, p1, sizeof(p1), err,
	    sizeof(err)), MAILER_OK);
	a = slurp(p1, &alen);
	/* the same user again (a second key): a new name, the first kept */
	l.pin = "58203917";
	assert_int_equal(mailer_write(t->dir, &l, p2, sizeof(p2), err,
	    sizeof(err)), MAILER_OK);
	expected_name(want, sizeof(want), "-2");
	assert_string_equal(strrchr(p2, '/') + 1, want);
	assert_int_equal(mailer_write(t->dir, &l, p3, sizeof(p3), err,
	    sizeof(err)), MAILER_OK);
	expected_name(want, sizeof(want), "-3");
	assert_string_equal(strrchr(p3, '/') + 1, want);
	b = slurp(p1, &blen);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);
	txt = pdf_text(p1);
	assert_non_null(strstr(txt, PIN));
	assert_null(strstr(txt, "58203917"));
	free(txt);
	txt = pdf_text(p2);
	assert_non_null(strstr(txt, "58203917"));
	free(txt);
	assert_int_equal(entries(t->dir), 3);
	free(a);
	free(b);
}

static void
test_symlink_refused(void **state)
{
	struct tmp		*t = *state;
	struct mailer_letter	 l;
	struct stat		 st;
	char			 link[900], want[512], victim[300], path[512];
	char			 err[256], *s;

	assert_int_equal(mailer_dir_check(t->dir, err, sizeof(err)),
	    MAILER_OK);
	snprintf(victim, sizeof(victim), "%s/victim", t->top);
	assert_int_equal(write_file_atomic(victim, "keep\n", 5, 0644), 0);
	expected_name(want, sizeof(want), "");
	snprintf(link, sizeof(link), "%s/%s", t->dir, want);
	assert_int_equal(symlink(victim, link), 0);

	letter(&l);
	assert_int_equal(mailer_write(t->dir, &l, path, sizeof(path), err,
	    sizeof(err)), MAILER_ERR_PERM);
	assert_non_null(strstr(err, "symbolic link"));
	assert_null(strstr(err, PIN));
	/* the link's target untouched, the link still a link, no temp */
	s = slurp(victim, NULL);
	assert_string_equal(s, "keep\n");
	free(s);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(entries(t->dir), 1);
}

static void
test_dir_refused(void **state)
{
	struct tmp		*t = *state;
	struct mailer_letter	 l;
	char			 path[512], file[300], err[256];

	/* open to others */
	assert_int_equal(mkdir(t->dir, 0755), 0);
	assert_int_equal(chmod(t->dir, 0750), 0);
	assert_int_equal(mailer_dir_check(t->dir, err, sizeof(err)),
	    MAILER_ERR_PERM);
	assert_non_null(strstr(err, "chmod 700"));
	letter(&l);
	assert_int_equal(mailer_write(t->dir, &l, path, sizeof(path), err,
	    sizeof(err)), MAILER_ERR_PERM);
	assert_int_equal(entries(t->dir), 0);
	/* not a directory */
	snprintf(file, sizeof(file), "%s/plain", t->top);
	assert_int_equal(write_file_atomic(file, "x", 1, 0600), 0);
	assert_int_not_equal(mailer_dir_check(file, err, sizeof(err)),
	    MAILER_OK);
	assert_non_null(strstr(err, "not a directory"));
	/* no PIN, no letter */
	assert_int_equal(chmod(t->dir, 0700), 0);
	l.pin = "";
	assert_int_equal(mailer_write(t->dir, &l, path, sizeof(path), err,
	    sizeof(err)), MAILER_ERR_ARG);
	assert_int_equal(entries(t->dir), 0);
}

static void
test_long_fields(void **state)
{
	struct tmp		*t = *state;
	struct mailer_letter	 l;
	char			 path[512], err[256], name[400], *txt;
	const char		*pin = "123456789012345678901234567890"
				    "123456789012345678901234567890123";

	assert_int_equal(mailer_dir_check(t->dir, err, sizeof(err)),
	    MAILER_OK);
	memset(name, 'W', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "Dr ", 3);
	letter(&l);
	l.name = name;
	l.upn = "a.very.long.user.name.that.goes.on.and.on.and.on.and."
	    "on@a-long-subdomain.of.a.long.domain.contoso.example";
	l.model = "bad\x01utf8 \xff here";
	l.serial = NULL;
	l.pin = pin;
	assert_int_equal(mailer_write(t->dir, &l, path, sizeof(path), err,
	    sizeof(err)), MAILER_OK);
	txt = pdf_text(path);
	/* a 63-digit PIN still fits on one line */
	assert_non_null(strstr(txt, pin));
	assert_non_null(strstr(txt, "bad?utf8 ? here"));
	free(txt);
}

/* a fake lp first on PATH records its argv */
static void
test_print(void **state)
{
	struct tmp	*t = *state;
	char		 bin[300], lp[320], rec[320], script[1024], err[256];
	char		 path[400], want[410], *old = NULL, *s;

	snprintf(bin, sizeof(bin), "%s/bin", t->top);
	snprintf(lp, sizeof(lp), "%s/lp", bin);
	snprintf(rec, sizeof(rec), "%s/lp.argv", t->top);
	assert_int_equal(mkdir(bin, 0700), 0);
	snprintf(script, sizeof(script), "#!/bin/sh\n"
	    "for a in \"$@\"; do printf '%%s\\n' \"$a\"; done >> '%s'\n"
	    "echo 'request id is fake-1 (1 file(s))'\n"
	    "[ -z \"$LP_FAIL\" ] || exit 3\n", rec);
	assert_int_equal(write_file_atomic(lp, script, strlen(script), 0700),
	    0);
	if (getenv("PATH") != NULL)
		assert_non_null(old = strdup(getenv("PATH")));
	setenv("PATH", bin, 1);

	snprintf(path, sizeof(path), "%s/letter.pdf", t->top);
	assert_int_equal(mailer_print(path, err, sizeof(err)), MAILER_OK);
	s = slurp(rec, NULL);
	snprintf(want, sizeof(want), "%s\n", path);
	assert_string_equal(s, want);
	free(s);
	/* a relative path cannot read as an option of lp */
	unlink(rec);
	assert_int_equal(mailer_print("-letter.pdf", err, sizeof(err)),
	    MAILER_OK);
	s = slurp(rec, NULL);
	assert_string_equal(s, "./-letter.pdf\n");
	free(s);
	setenv("LP_FAIL", "1", 1);
	assert_int_equal(mailer_print(path, err, sizeof(err)),
	    MAILER_ERR_PRINT);
	assert_non_null(strstr(err, "status 3"));
	unsetenv("LP_FAIL");
	setenv("PATH", t->top, 1);	/* no lp there */
	assert_int_equal(mailer_print(path, err, sizeof(err)),
	    MAILER_ERR_PRINT);
	assert_non_null(strstr(err, "cannot run lp"));

	if (old != NULL)
		setenv("PATH", old, 1);
	free(old);
}

/* before any module is loaded: what a broken install says */
static void
test_module_refused(void **state)
{
	struct tmp		*t = *state;
	struct mailer_letter	 l;
	char			 err[512], path[512], bad[400];

	snprintf(bad, sizeof(bad), "%s/letter.so", t->top);
	assert_int_equal(mailer_load(bad, err, sizeof(err)),
	    MAILER_ERR_MODULE);
	assert_non_null(strstr(err, "cannot load the letter module"));
	assert_non_null(strstr(err, "reinstall"));
	/* a library that loads, but is not the module */
	assert_int_equal(mailer_load("libc.so.6", err, sizeof(err)),
	    MAILER_ERR_MODULE);
	assert_non_null(strstr(err, "is not the letter module"));
	assert_non_null(strstr(err, "no mailer_module"));
	/* the test program has no module beside it: the letter is not
	 * written, and nothing is left in the directory */
	assert_int_equal(mailer_dir_check(t->dir, err, sizeof(err)),
	    MAILER_OK);
	memset(&l, 0, sizeof(l));
	l.upn = UPN;
	l.pin = PIN;
	assert_int_equal(mailer_write(t->dir, &l, path, sizeof(path), err,
	    sizeof(err)), MAILER_ERR_MODULE);
	assert_string_equal(path, "");
	assert_int_equal(entries(t->dir), 0);
}

/* the module of this build, as the program would find its own */
static int
load_module(void **state)
{
	char err[512];

	if (mailer_load(LETTER_MODULE, err, sizeof(err)) != MAILER_OK) {
		fprintf(stderr, "%s\n", err);
		return (-1);
	}

	return (0);
}

int
main(void)
{
	const struct CMUnitTest first[] = {
		cmocka_unit_test_setup_teardown(test_module_refused, setup,
		    teardown),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_letter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_overwrite, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dir_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_fields, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_print, setup, teardown),
	};

	int r;

	r = cmocka_run_group_tests(first, NULL, NULL);
	r |= cmocka_run_group_tests(tests, load_module, NULL);
	mailer_cleanup();

	return (r);
}
