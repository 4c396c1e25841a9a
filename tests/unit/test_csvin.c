/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * src/formats/csvin*.c: the input CSV.  Fixtures in tests/unit/data/ cover the
 * encodings, line endings, delimiters and quoting real exports use;
 * in-memory cases cover every bad-row kind, the limits and the header
 * rules.  A bad row must become an error row and the rest go on.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "csvin.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*b;
	long	 n;

	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	assert_true((n = ftell(f)) >= 0);
	rewind(f);
	assert_non_null(b = malloc((size_t)n + 1));
	assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;

	return (b);
}

/* a fixture in memory: every row at hand (test_streamed checks the
 * same files read as a stream give the same rows) */
static csvin_t *
open_fixture(const char *name)
{
	char	 path[4096], err[512], *b;
	csvin_t	*c = NULL;
	size_t	 len;
	int	 r;

	snprintf(path, sizeof(path), "%s/tests/unit/data/%s", SRCDIR, name);
	b = slurp(path, &len);
	r = csvin_open_mem(b, len, NULL, &c, err, sizeof(err));
	free(b);
	if (r != CSVIN_OK)
		fail_msg("%s: %s (%s)", name, err, csvin_strerr(r));
	assert_non_null(c);

	return (c);
}

static csvin_t *
open_str(const char *s, const csvin_limits_t *lim)
{
	char	 err[512];
	csvin_t	*c = NULL;
	int	 r;

	r = csvin_open_mem(s, strlen(s), lim, &c, err, sizeof(err));
	if (r != CSVIN_OK)
		fail_msg("%s (%s)", err, csvin_strerr(r));

	return (c);
}

static void
row(const csvin_t *c, size_t i, csvin_row_t *w)
{
	assert_int_equal(csvin_row(c, i, w), CSVIN_OK);
}

static void
assert_ok_row(const csvin_t *c, size_t i, size_t line, const char *user,
    int kind)
{
	csvin_row_t w;

	row(c, i, &w);
	assert_int_equal(w.status, CSVIN_ROW_OK);
	assert_int_equal(w.line, line);
	assert_string_equal(w.user, user);
	assert_int_equal(w.kind, kind);
	assert_string_equal(w.code, "");
	assert_string_equal(w.reason, "");
}

static void
assert_bad_row(const csvin_t *c, size_t i, size_t line, int status,
    const char *code)
{
	csvin_row_t w;

	row(c, i, &w);
	assert_int_equal(w.status, status);
	assert_int_equal(w.line, line);
	assert_string_equal(w.code, code);
	assert_true(strlen(w.reason) > 0);
}

static void
test_basic(void **state)
{
	csvin_t		*c = open_fixture("csv_basic.csv");
	csvin_row_t	 w;
	size_t		 n = 0;

	assert_int_equal(csvin_count(c), 3);
	assert_int_equal(csvin_delimiter(c), ',');
	assert_string_equal(csvin_encoding(c), "UTF-8");
	assert_string_equal(csvin_user_column(c), "userPrincipalName");
	assert_int_equal(csvin_ncols(c), 3);
	assert_ok_row(c, 0, 2, "alice@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 3, "bob@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 2, 4, "8c1f2e4a-3b5d-4c6e-9f70-112233445566",
	    CSVIN_USER_OBJECTID);
	assert_string_equal(csvin_field(c, 0, "displayName"), "Alice Archer");
	assert_string_equal(csvin_field(c, 1, "DEPARTMENT"), "IT");
	assert_null(csvin_field(c, 0, "nosuch"));
	assert_null(csvin_field(c, 9, "displayName"));
	while (csvin_next(c, &w) == CSVIN_OK)
		assert_int_equal(w.index, n++);
	assert_int_equal(n, 3);
	assert_int_equal(csvin_next(c, &w), CSVIN_END);
	csvin_rewind(c);
	assert_int_equal(csvin_next(c, &w), CSVIN_OK);
	assert_int_equal(w.index, 0);
	csvin_free(&c);
	assert_null(c);
	csvin_free(&c);
}

static void
test_bom_crlf_semicolon(void **state)
{
	csvin_t *c = open_fixture("csv_bom_crlf_semicolon.csv");

	assert_int_equal(csvin_delimiter(c), ';');
	assert_string_equal(csvin_encoding(c), "UTF-8 (BOM)");
	/* the BOM must not stick to the first column's name */
	assert_string_equal(csvin_colname(c, 0), "UPN");
	assert_int_equal(csvin_count(c), 2);
	assert_ok_row(c, 0, 2, "alice@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 3, "zoe@contoso.com", CSVIN_USER_UPN);
	/* a comma inside a semicolon file is just text; no stray CR */
	assert_string_equal(csvin_field(c, 0, "displayName"), "Archer, Alice");
	assert_string_equal(csvin_field(c, 1, "displayName"),
	    "Zo\xc3\xab \xc3\x98" "deg\xc3\xa5rd");
	csvin_free(&c);
}

static void
test_utf16le(void **state)
{
	csvin_t *c = open_fixture("csv_utf16le_tab.csv");

	assert_string_equal(csvin_encoding(c), "UTF-16LE");
	assert_int_equal(csvin_delimiter(c), '\t');
	assert_string_equal(csvin_user_column(c), "email");
	assert_int_equal(csvin_count(c), 2);
	assert_ok_row(c, 0, 2, "zoe@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 3, "mika@contoso.com", CSVIN_USER_UPN);
	assert_string_equal(csvin_field(c, 0, "displayName"),
	    "Zo\xc3\xab \xc3\x98" "deg\xc3\xa5rd");
	/* a surrogate pair becomes one 4-byte UTF-8 sequence */
	assert_string_equal(csvin_field(c, 1, "displayName"),
	    "Mika \xf0\x9f\x98\x80");
	csvin_free(&c);
}

static void
test_utf16be(void **state)
{
	csvin_t *c = open_fixture("csv_utf16be.csv");

	assert_string_equal(csvin_encoding(c), "UTF-16BE");
	assert_int_equal(csvin_count(c), 2);
	assert_ok_row(c, 0, 2, "zoe@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 3, "mika@contoso.com", CSVIN_USER_UPN);
	assert_string_equal(csvin_field(c, 0, "displayName"), "Zo\xc3\xab");
	assert_string_equal(csvin_field(c, 1, "displayName"),
	    "Mika \xf0\x9f\x98\x80");
	csvin_free(&c);
}

static void
test_utf16_broken(void **state)
{
	/* a lone surrogate in a row: that row is bad, not the file */
	static const unsigned char le[] = { 0xff, 0xfe,
	    'u', 0, 'p', 0, 'n', 0, '\n', 0,
	    'a', 0, '@', 0, 'b', 0, 0x00, 0xd8, '\n', 0,
	    'c', 0, '@', 0, 'd', 0, '\n', 0 };
	csvin_t	*c = NULL;
	char	 err[256];

	assert_int_equal(csvin_open_mem(le, sizeof(le), NULL, &c, err,
	    sizeof(err)), CSVIN_OK);
	assert_int_equal(csvin_count(c), 2);
	assert_bad_row(c, 0, 2, CSVIN_ROW_ERROR, "csv_invalid_utf8");
	assert_ok_row(c, 1, 3, "c@d", CSVIN_USER_UPN);
	csvin_free(&c);
}

static void
test_quoted(void **state)
{
	csvin_t *c = open_fixture("csv_quoted.csv");

	assert_int_equal(csvin_count(c), 3);
	assert_ok_row(c, 0, 2, "alice@contoso.com", CSVIN_USER_UPN);
	assert_string_equal(csvin_field(c, 0, "displayName"), "Archer, Alice");
	assert_string_equal(csvin_field(c, 0, "notes"), "said \"hi\"");
	assert_ok_row(c, 1, 3, "bob@contoso.com", CSVIN_USER_UPN);
	assert_string_equal(csvin_field(c, 1, "displayName"), "Bob\r\nBaker");
	assert_string_equal(csvin_field(c, 1, "notes"), "two\nlines\nhere");
	/* bob's record spans lines 3-6, so carol starts on line 7 */
	assert_ok_row(c, 2, 7, "carol@contoso.com", CSVIN_USER_UPN);
	csvin_free(&c);
}

static void
test_cr_only(void **state)
{
	csvin_t *c = open_fixture("csv_cr.csv");

	assert_int_equal(csvin_count(c), 2);
	assert_ok_row(c, 0, 2, "alice@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 3, "bob@contoso.com", CSVIN_USER_UPN);
	assert_string_equal(csvin_field(c, 1, "displayName"), "Bob");
	csvin_free(&c);
}

static void
test_bad_rows(void **state)
{
	csvin_t		*c = open_fixture("csv_badrows.csv");
	csvin_row_t	 w;

	assert_int_equal(csvin_count(c), 13);	/* the blank line is gone */
	assert_ok_row(c, 0, 2, "alice@contoso.com", CSVIN_USER_UPN);
	assert_bad_row(c, 1, 3, CSVIN_ROW_ERROR, "csv_missing_user");
	assert_bad_row(c, 2, 4, CSVIN_ROW_ERROR, "csv_invalid_user");
	row(c, 2, &w);
	assert_string_equal(w.user, "not a upn");
	assert_int_equal(w.kind, CSVIN_USER_NONE);
	assert_bad_row(c, 3, 5, CSVIN_ROW_ERROR, "csv_invalid_utf8");
	row(c, 3, &w);
	/* the excerpt shows the byte, escaped, never raw */
	assert_non_null(strstr(w.excerpt, "caf\\xe9@contoso.com"));
	assert_non_null(strstr(w.reason, "userPrincipalName"));
	assert_bad_row(c, 4, 6, CSVIN_ROW_ERROR, "csv_bad_quoting");
	assert_bad_row(c, 5, 7, CSVIN_ROW_DUPLICATE, "csv_duplicate");
	row(c, 5, &w);
	assert_int_equal(w.dup_of, 2);
	assert_string_equal(w.reason, "duplicate of row 2");
	assert_string_equal(w.key, "alice@contoso.com");
	assert_string_equal(w.user, "ALICE@Contoso.com");
	assert_ok_row(c, 6, 8, "dave@contoso.com", CSVIN_USER_UPN);
	assert_null(csvin_field(c, 6, "displayName"));	/* short row */
	assert_ok_row(c, 7, 9, "erin@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 8, 11, "0F8FAD5B-D9CB-469F-A165-70867728950E",
	    CSVIN_USER_OBJECTID);
	row(c, 8, &w);
	assert_string_equal(w.key, "0f8fad5b-d9cb-469f-a165-70867728950e");
	assert_bad_row(c, 9, 12, CSVIN_ROW_DUPLICATE, "csv_duplicate");
	row(c, 9, &w);
	assert_int_equal(w.dup_of, 11);
	assert_bad_row(c, 10, 13, CSVIN_ROW_ERROR, "csv_invalid_user");
	assert_bad_row(c, 11, 14, CSVIN_ROW_ERROR, "csv_invalid_user");
	assert_ok_row(c, 12, 15, "frank@contoso.com", CSVIN_USER_UPN);
	assert_int_equal(csvin_count_status(c, CSVIN_ROW_OK), 5);
	assert_int_equal(csvin_count_status(c, CSVIN_ROW_ERROR), 6);
	assert_int_equal(csvin_count_status(c, CSVIN_ROW_DUPLICATE), 2);
	csvin_free(&c);
}

static void
test_missing_user_column(void **state)
{
	char	 path[4096], err[512];
	csvin_t	*c = NULL;

	snprintf(path, sizeof(path), "%s/tests/unit/data/csv_nouser.csv",
	    SRCDIR);
	assert_int_equal(csvin_open(path, &c, err, sizeof(err)),
	    CSVIN_ERR_HEADER);
	assert_null(c);
	/* the message lists what we found and what we accept */
	assert_non_null(strstr(err, "'mail address'"));
	assert_non_null(strstr(err, "userPrincipalName"));
	assert_non_null(strstr(err, "objectId"));
	assert_non_null(strstr(err, "userId"));
	assert_non_null(strstr(err, "email"));
}

static void
test_empty_and_io(void **state)
{
	csvin_t	*c = NULL;
	char	 err[512];

	assert_int_equal(csvin_open_mem("", 0, NULL, &c, err, sizeof(err)),
	    CSVIN_ERR_HEADER);
	assert_int_equal(csvin_open_mem("\n\n,,\n", 5, NULL, &c, err,
	    sizeof(err)), CSVIN_ERR_HEADER);
	assert_int_equal(csvin_open_mem("\xef\xbb\xbf", 3, NULL, &c, err,
	    sizeof(err)), CSVIN_ERR_HEADER);
	assert_null(c);
	assert_int_equal(csvin_open("/nonexistent/users.csv", &c, err,
	    sizeof(err)), CSVIN_ERR_IO);
	/* the caller names the file: the message does not repeat it */
	assert_string_equal(err, "No such file or directory");
	assert_int_equal(csvin_open(NULL, &c, err, sizeof(err)),
	    CSVIN_ERR_ARG);
	/* a header only: no rows, not an error */
	c = open_str("upn\n", NULL);
	assert_int_equal(csvin_count(c), 0);
	csvin_free(&c);
}

static void
test_encodings_refused(void **state)
{
	static const unsigned char u32[] = { 0xff, 0xfe, 0, 0, 'u', 0, 0, 0 };
	static const unsigned char nobom[] = { 'u', 0, 'p', 0, 'n', 0,
	    '\n', 0 };
	csvin_t	*c = NULL;
	char	 err[512];

	assert_int_equal(csvin_open_mem(u32, sizeof(u32), NULL, &c, err,
	    sizeof(err)), CSVIN_ERR_ENCODING);
	assert_non_null(strstr(err, "UTF-32"));
	assert_int_equal(csvin_open_mem(nobom, sizeof(nobom), NULL, &c, err,
	    sizeof(err)), CSVIN_ERR_ENCODING);
	assert_non_null(strstr(err, "byte-order mark"));
	/* a Latin-1 header */
	assert_int_equal(csvin_open_mem("upn,d\xe9partement\n", 16, NULL, &c,
	    err, sizeof(err)), CSVIN_ERR_ENCODING);
	assert_null(c);
}

static void
test_secret_column(void **state)
{
	csvin_t		*c = open_fixture("csv_pin_column.csv");
	csvin_row_t	 w;

	assert_int_equal(csvin_col_secret(c, 2), 1);
	assert_int_equal(csvin_col_secret(c, 1), 0);
	assert_null(csvin_field(c, 0, "PIN"));
	assert_null(csvin_field(c, 0, "pin"));
	assert_string_equal(csvin_field(c, 0, "displayName"), "Alice");
	row(c, 1, &w);
	assert_int_equal(w.status, CSVIN_ROW_ERROR);
	assert_null(strstr(w.excerpt, "771234"));
	assert_non_null(strstr(w.excerpt, "***"));
	csvin_free(&c);
	/* other spellings of secrets */
	c = open_str("upn,New PIN,password,tapCode,accessToken,"
	    "client_secret,pinyin_note,Shipping\na@b,1,2,3,4,5,6,7\n", NULL);
	assert_int_equal(csvin_col_secret(c, 1), 1);
	assert_int_equal(csvin_col_secret(c, 2), 1);
	assert_int_equal(csvin_col_secret(c, 4), 1);
	assert_int_equal(csvin_col_secret(c, 5), 1);
	assert_int_equal(csvin_col_secret(c, 7), 0);
	assert_string_equal(csvin_field(c, 0, "shipping"), "7");
	assert_null(csvin_field(c, 0, "password"));
	csvin_free(&c);
}

static void
test_column_choice(void **state)
{
	csvin_t		*c;
	csvin_row_t	 w;

	/* UPN-like beats id-like, wherever it is */
	c = open_str("objectId,displayName,upn\n"
	    "0f8fad5b-d9cb-469f-a165-70867728950e,A,a@contoso.com\n"
	    "1f8fad5b-d9cb-469f-a165-70867728950e,B,\n", NULL);
	assert_string_equal(csvin_user_column(c), "upn");
	assert_ok_row(c, 0, 2, "a@contoso.com", CSVIN_USER_UPN);
	/* empty UPN: the id column stands in */
	assert_ok_row(c, 1, 3, "1f8fad5b-d9cb-469f-a165-70867728950e",
	    CSVIN_USER_OBJECTID);
	csvin_free(&c);
	/* userPrincipalName beats upn beats email */
	c = open_str("email,upn,userPrincipalName\nx@a,y@a,z@a\n", NULL);
	assert_string_equal(csvin_user_column(c), "userPrincipalName");
	assert_ok_row(c, 0, 2, "z@a", CSVIN_USER_UPN);
	csvin_free(&c);
	/* spellings of real exports */
	c = open_str("\"User Principal Name\",x\n a@b ,1\n", NULL);
	assert_string_equal(csvin_user_column(c), "User Principal Name");
	assert_ok_row(c, 0, 2, "a@b", CSVIN_USER_UPN);	/* trimmed */
	csvin_free(&c);
	c = open_str("#upn,entraIDAuthMethodObjectId\na@b,x\n", NULL);
	assert_string_equal(csvin_user_column(c), "#upn");
	csvin_free(&c);
	c = open_str("#User.Name,User.ID\nAlice,0f8fad5b-d9cb-469f-a165-"
	    "70867728950e\n", NULL);
	assert_string_equal(csvin_user_column(c), "User.ID");
	row(c, 0, &w);
	assert_int_equal(w.kind, CSVIN_USER_OBJECTID);
	csvin_free(&c);
	c = open_str("USERID\n0f8fad5b-d9cb-469f-a165-70867728950e\n", NULL);
	assert_ok_row(c, 0, 2, "0f8fad5b-d9cb-469f-a165-70867728950e",
	    CSVIN_USER_OBJECTID);
	csvin_free(&c);
	/* a header cell named only like a secret is never the user */
	c = open_str("id,pin\n0f8fad5b-d9cb-469f-a165-70867728950e,1234\n",
	    NULL);
	assert_string_equal(csvin_user_column(c), "id");
	csvin_free(&c);
}

static void
test_delimiters(void **state)
{
	csvin_t *c;

	c = open_str("sep=;\nupn;name\na@b;Archer, A\n", NULL);
	assert_int_equal(csvin_delimiter(c), ';');
	assert_ok_row(c, 0, 3, "a@b", CSVIN_USER_UPN);
	assert_string_equal(csvin_field(c, 0, "name"), "Archer, A");
	csvin_free(&c);
	/* quoted delimiters in the header do not count */
	c = open_str("\"a;b;c\",upn\nx,a@b\n", NULL);
	assert_int_equal(csvin_delimiter(c), ',');
	assert_ok_row(c, 0, 2, "a@b", CSVIN_USER_UPN);
	csvin_free(&c);
	/* a one-column file */
	c = open_str("upn\r\na@b\r\nc@d", NULL);
	assert_int_equal(csvin_count(c), 2);
	assert_ok_row(c, 1, 3, "c@d", CSVIN_USER_UPN);
	csvin_free(&c);
	/* spaces around a quoted field, blank lines, trailing blanks */
	c = open_str("upn,n\n\n  \"a@b\"  ,x\n\n\n,\nc@d,y\n,,\n", NULL);
	assert_int_equal(csvin_count(c), 2);
	assert_ok_row(c, 0, 3, "a@b", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 7, "c@d", CSVIN_USER_UPN);
	csvin_free(&c);
}

static void
test_unterminated_quote(void **state)
{
	csvin_t *c;

	/* one stray quote must not swallow the rest of the file */
	c = open_str("upn,n\na@b,\"oops\nc@d,x\ne@f,y\n", NULL);
	assert_int_equal(csvin_count(c), 3);
	assert_bad_row(c, 0, 2, CSVIN_ROW_ERROR, "csv_bad_quoting");
	assert_ok_row(c, 1, 3, "c@d", CSVIN_USER_UPN);
	assert_ok_row(c, 2, 4, "e@f", CSVIN_USER_UPN);
	csvin_free(&c);
	c = open_str("upn\n\"a@b", NULL);
	assert_bad_row(c, 0, 2, CSVIN_ROW_ERROR, "csv_bad_quoting");
	csvin_free(&c);
}

static void
test_limits(void **state)
{
	csvin_limits_t	 lim;
	csvin_t		*c = NULL;
	char		*big, err[512];
	size_t		 i;

	/* an overlong record is one error row; the next line goes on */
	memset(&lim, 0, sizeof(lim));
	lim.max_record = 64;
	assert_non_null(big = malloc(1024));
	snprintf(big, 1024, "upn,n\na@b,%0200d\nc@d,x\n", 7);
	c = open_str(big, &lim);
	assert_int_equal(csvin_count(c), 2);
	assert_bad_row(c, 0, 2, CSVIN_ROW_ERROR, "csv_record_too_long");
	assert_ok_row(c, 1, 3, "c@d", CSVIN_USER_UPN);
	csvin_free(&c);
	/* the default: 64 KiB */
	free(big);
	assert_non_null(big = malloc(CSVIN_MAX_RECORD + 64));
	memcpy(big, "upn\n", 4);
	memset(big + 4, 'a', CSVIN_MAX_RECORD + 10);
	memcpy(big + CSVIN_MAX_RECORD + 14, "@b\nc@d\n", 8);
	c = open_str(big, NULL);
	assert_int_equal(csvin_count(c), 2);
	assert_bad_row(c, 0, 2, CSVIN_ROW_ERROR, "csv_record_too_long");
	assert_ok_row(c, 1, 3, "c@d", CSVIN_USER_UPN);
	csvin_free(&c);
	free(big);
	/* too many rows: the whole file is refused before any work */
	lim.max_record = 0;
	lim.max_rows = 10;
	assert_non_null(big = malloc(4096));
	strcpy(big, "upn\n");
	for (i = 0; i < 11; i++)
		snprintf(big + strlen(big), 64, "u%zu@b\n", i);
	assert_int_equal(csvin_open_mem(big, strlen(big), &lim, &c, err,
	    sizeof(err)), CSVIN_ERR_TOOBIG);
	assert_null(c);
	assert_non_null(strstr(err, "10 rows"));
	lim.max_rows = 11;
	c = open_str(big, &lim);
	assert_int_equal(csvin_count(c), 11);
	csvin_free(&c);
	/* file size */
	lim.max_rows = 0;
	lim.max_file = 16;
	assert_int_equal(csvin_open_mem(big, strlen(big), &lim, &c, err,
	    sizeof(err)), CSVIN_ERR_TOOBIG);
	free(big);
}

static void
test_excerpt(void **state)
{
	csvin_t		*c;
	csvin_row_t	 w;
	char		 buf[512];

	/* control characters are escaped; long records are cut */
	snprintf(buf, sizeof(buf), "upn,n\nbad\x1b[31muser,%0150d\n", 1);
	c = open_str(buf, NULL);
	row(c, 0, &w);
	assert_int_equal(w.status, CSVIN_ROW_ERROR);
	assert_non_null(strstr(w.excerpt, "bad\\x1b[31muser"));
	assert_null(strchr(w.excerpt, '\x1b'));
	assert_true(strlen(w.excerpt) <= 80);
	assert_string_equal(w.excerpt + strlen(w.excerpt) - 3, "...");
	assert_null(strchr(w.user, '\x1b'));
	csvin_free(&c);
	/* an embedded NUL cannot hide the rest of a cell */
	c = NULL;
	assert_int_equal(csvin_open_mem("upn\na@b\0junk\n", 13, NULL, &c,
	    buf, sizeof(buf)), CSVIN_OK);
	row(c, 0, &w);
	assert_int_equal(w.status, CSVIN_ROW_ERROR);
	assert_string_equal(w.code, "csv_invalid_utf8");
	csvin_free(&c);
}

static void
test_user_kind(void **state)
{
	static const struct {
		const char	*s;
		int		 kind;
	} v[] = {
		{ "alice@contoso.com", CSVIN_USER_UPN },
		{ "o'brien@contoso.com", CSVIN_USER_UPN },
		{ "alice_contoso.com#EXT#@tenant.onmicrosoft.com",
		    CSVIN_USER_UPN },
		{ "a+tag@b", CSVIN_USER_UPN },
		{ "zo\xc3\xab@contoso.com", CSVIN_USER_UPN },
		{ "0f8fad5b-d9cb-469f-a165-70867728950e", CSVIN_USER_OBJECTID },
		{ "0F8FAD5B-D9CB-469F-A165-70867728950E", CSVIN_USER_OBJECTID },
		{ "0f8fad5b-d9cb-469f-a165-70867728950", CSVIN_USER_NONE },
		{ "0f8fad5bd9cb469fa16570867728950e", CSVIN_USER_NONE },
		{ "{0f8fad5b-d9cb-469f-a165-70867728950e}", CSVIN_USER_NONE },
		{ "", CSVIN_USER_NONE },
		{ "alice", CSVIN_USER_NONE },
		{ "@contoso.com", CSVIN_USER_NONE },
		{ "alice@", CSVIN_USER_NONE },
		{ "a@b@c", CSVIN_USER_NONE },
		{ "al ice@b", CSVIN_USER_NONE },
		{ "al\tice@b", CSVIN_USER_NONE },
		{ "a/../b@c", CSVIN_USER_NONE },
		{ "a;rm -rf@b", CSVIN_USER_NONE },
		{ "$(id)@b", CSVIN_USER_NONE },
		{ "`id`@b", CSVIN_USER_NONE },
		{ "a|b@c", CSVIN_USER_NONE },
		{ "a&b@c", CSVIN_USER_NONE },
		{ "=1+1@b", CSVIN_USER_NONE },
		{ "-v@b", CSVIN_USER_NONE },
		{ "a%40b@c", CSVIN_USER_NONE },
		{ "a?b@c", CSVIN_USER_NONE },
		{ "a\"b@c", CSVIN_USER_NONE },
		{ "a\\b@c", CSVIN_USER_NONE },
		{ "a\xe9@b", CSVIN_USER_NONE },
	};
	char	long_upn[200];
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (csvin_user_kind(v[i].s, strlen(v[i].s)) != v[i].kind)
			fail_msg("'%s': expected %d", v[i].s, v[i].kind);
	memset(long_upn, 'a', sizeof(long_upn));
	memcpy(long_upn + 100, "@contoso.com", 12);	/* 112 bytes */
	assert_int_equal(csvin_user_kind(long_upn, 112), CSVIN_USER_UPN);
	long_upn[112] = 'x';
	assert_int_equal(csvin_user_kind(long_upn, 113), CSVIN_USER_UPN);
	assert_int_equal(csvin_user_kind(long_upn, 114), CSVIN_USER_NONE);
	assert_int_equal(csvin_user_kind(NULL, 0), CSVIN_USER_NONE);
}

static void
test_many_rows(void **state)
{
	size_t		 n = 20000, i, len = 0;
	char		*buf;
	csvin_t		*c;
	csvin_row_t	 w;

	/* the duplicate table grows; every repeat is still found */
	assert_non_null(buf = malloc(n * 40 + 16));
	len += (size_t)sprintf(buf, "upn\n");
	for (i = 0; i < n; i++)
		len += (size_t)sprintf(buf + len, "user%zu@contoso.com\n",
		    i % (n / 2));
	c = open_str(buf, NULL);
	assert_int_equal(csvin_count(c), n);
	assert_int_equal(csvin_count_status(c, CSVIN_ROW_OK), n / 2);
	assert_int_equal(csvin_count_status(c, CSVIN_ROW_DUPLICATE), n / 2);
	row(c, n - 1, &w);
	assert_int_equal(w.status, CSVIN_ROW_DUPLICATE);
	assert_int_equal(w.dup_of, n / 2 + 1);
	csvin_free(&c);
	free(buf);
}

static void
assert_same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_true(a == b);
	else
		assert_string_equal(a, b);
}

/*
 * The file at `path` read as a stream (window from `lim`) gives the
 * rows, counts and cells the same bytes give in memory, twice.
 */
static void
assert_stream_matches(const char *path, const csvin_limits_t *lim)
{
	csvin_t		*m = NULL, *c = NULL;
	csvin_row_t	 a, b;
	char		 err[512], *buf;
	size_t		 len, i, k, pass;
	int		 r;

	buf = slurp(path, &len);
	r = csvin_open_mem(buf, len, lim, &m, err, sizeof(err));
	free(buf);
	assert_int_equal(csvin_open_lim(path, lim, &c, err, sizeof(err)), r);
	if (r != CSVIN_OK)
		return;
	assert_int_equal(csvin_count(c), csvin_count(m));
	for (k = 0; k < 3; k++)
		assert_int_equal(csvin_count_status(c, (int)k),
		    csvin_count_status(m, (int)k));
	assert_int_equal(csvin_delimiter(c), csvin_delimiter(m));
	assert_string_equal(csvin_encoding(c), csvin_encoding(m));
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; csvin_next(c, &a) == CSVIN_OK; i++) {
			assert_int_equal(csvin_row(m, i, &b), CSVIN_OK);
			assert_int_equal(a.index, i);
			assert_int_equal(a.line, b.line);
			assert_int_equal(a.status, b.status);
			assert_int_equal(a.kind, b.kind);
			assert_int_equal(a.dup_of, b.dup_of);
			assert_string_equal(a.user, b.user);
			assert_string_equal(a.code, b.code);
			assert_string_equal(a.reason, b.reason);
			assert_string_equal(a.excerpt, b.excerpt);
			for (k = 0; k < csvin_ncols(m); k++)
				assert_same_string(csvin_field(c, i,
				    csvin_colname(m, k)), csvin_field(m, i,
				    csvin_colname(m, k)));
			/* only the current row of a stream is at hand (UTF-16
			 * is decoded in memory) */
			if (i > 0 && strncmp(csvin_encoding(c), "UTF-16",
			    6) != 0)
				assert_null(csvin_field(c, i - 1,
				    csvin_colname(m, 0)));
		}
		assert_int_equal(i, csvin_count(m));
		csvin_rewind(c);
	}
	csvin_free(&c);
	csvin_free(&m);
}

/*
 * Streamed files: the fixtures, and a file of many windows whose
 * records (quoted line breaks, CRLF, CR, too long, unterminated quotes,
 * duplicates) straddle the window's refills at every offset as the
 * window size moves; then a file changed between passes.
 */
static void
test_streamed(void **state)
{
	static const char *fx[] = { "csv_badrows.csv", "csv_basic.csv",
	    "csv_bom_crlf_semicolon.csv", "csv_cr.csv", "csv_nouser.csv",
	    "csv_pin_column.csv", "csv_quoted.csv", "csv_utf16be.csv",
	    "csv_utf16le_tab.csv" };
	csvin_limits_t	 lim;
	csvin_t		*c = NULL;
	csvin_row_t	 w;
	char		 path[4096], tmp[] = "/tmp/test_csvin.XXXXXX", err[512];
	FILE		*f;
	size_t		 i, mr;
	int		 fd;

	(void)state;
	for (i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
		snprintf(path, sizeof(path), "%s/tests/unit/data/%s", SRCDIR,
		    fx[i]);
		assert_stream_matches(path, NULL);
	}
	assert_true((fd = mkstemp(tmp)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs("name,upn,pin\r\n", f);
	for (i = 0; i < 3000; i++) {
		/* longer than the window: skipped to its line's end */
		if (i % 700 == 11)
			fprintf(f, "%0*d%s,u%zu@contoso.com,0\r\n",
			    (int)(9000 + i), 0, i % 1400 == 11 ? "\"" : "", i);
		switch (i % 9) {
		case 0:
			fprintf(f, "\"multi\nline %zu\",u%zu@contoso.com,1\r\n",
			    i, i);
			break;
		case 1:
			fprintf(f, "cr,u%zu@contoso.com,2\r", i);
			break;
		case 2:
			fprintf(f, "long%0*zu,u%zu@contoso.com,3\n",
			    (int)(i % 97), i, i);
			break;
		case 3:
			fprintf(f, "\"open,u%zu@contoso.com,4\n", i);
			break;
		case 4:
			fprintf(f, "dup,U%zu@Contoso.com,5\n", i - 4);
			break;
		case 5:
			fprintf(f, ",,\n\n");
			break;
		default:
			fprintf(f, "\"a \"\"q\"\"\",u%zu@contoso.com,6\r\n", i);
		}
	}
	fclose(f);
	memset(&lim, 0, sizeof(lim));
	for (mr = 40; mr < 40 + 64; mr += 7) {
		lim.max_record = mr;
		assert_stream_matches(tmp, &lim);
	}
	assert_stream_matches(tmp, NULL);
	/* rewritten between the passes: refused, not read */
	assert_int_equal(csvin_open(tmp, &c, err, sizeof(err)), CSVIN_OK);
	assert_int_equal(csvin_next(c, &w), CSVIN_OK);
	assert_non_null(f = fopen(tmp, "a"));
	fputs("late,late@contoso.com,7\n", f);
	fclose(f);
	csvin_rewind(c);
	assert_int_equal(csvin_next(c, &w), CSVIN_ERR_CHANGED);
	csvin_free(&c);
	unlink(tmp);
}

/*
 * A failures.csv fed back in: the user cells we wrote with a formula
 * prefix read as they were; an apostrophe that is not our prefix stays.
 */
static void
test_failures_fed_back(void **state)
{
	csvin_t	*c;

	(void)state;
	c = open_str("time,user,stage,error_code,message,request_id\n"
	    "t,'+plus@contoso.com,resolve,'-1,x,\n"
	    "t,o'brien@contoso.com,key,no_key,y,\n"
	    "t,'-dash@contoso.com,csv,csv_invalid_user,z,\n", NULL);
	assert_string_equal(csvin_user_column(c), "user");
	assert_ok_row(c, 0, 2, "+plus@contoso.com", CSVIN_USER_UPN);
	assert_ok_row(c, 1, 3, "o'brien@contoso.com", CSVIN_USER_UPN);
	/* unescaped, it is what it was: not a user */
	assert_bad_row(c, 2, 4, CSVIN_ROW_ERROR, "csv_invalid_user");
	csvin_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failures_fed_back),
		cmocka_unit_test(test_basic),
		cmocka_unit_test(test_bom_crlf_semicolon),
		cmocka_unit_test(test_utf16le),
		cmocka_unit_test(test_utf16be),
		cmocka_unit_test(test_utf16_broken),
		cmocka_unit_test(test_quoted),
		cmocka_unit_test(test_cr_only),
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_missing_user_column),
		cmocka_unit_test(test_empty_and_io),
		cmocka_unit_test(test_encodings_refused),
		cmocka_unit_test(test_secret_column),
		cmocka_unit_test(test_column_choice),
		cmocka_unit_test(test_delimiters),
		cmocka_unit_test(test_unterminated_quote),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_user_kind),
		cmocka_unit_test(test_many_rows),
		cmocka_unit_test(test_streamed),
	};

	log_init(-1);	/* the secret-column warnings are expected */

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
