/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * src/formats/deeplink.c: links are untrusted input.  A table of malformed,
 * oversized and hostile links that must be refused (each for the
 * right reason), valid ones that must parse, and the desktop entry
 * written and removed under a temporary XDG_DATA_HOME.
 */

#include <sys/stat.h>

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
#include "deeplink.h"
#include "testutil.h"

#define L	"entra-provision://enroll?"
#define OID	"0f8fad5b-d9cb-469f-a165-70867728950e"

static const struct {
	const char	*url;
	int		 err;
} bad[] = {
	/* scheme and action */
	{ "https://example.com/?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "javascript:alert(1)//entra-provision://enroll?user=a@b",
	    DEEPLINK_ERR_SCHEME },
	{ "entra-provision:enroll?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision:/enroll?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provisioning://enroll?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "xentra-provision://enroll?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision://reset?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision://enroll.evil.com?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision://admin@enroll?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision://enroll:443?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision://enroll/../reset?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "entra-provision://enroll//?user=a@b", DEEPLINK_ERR_SCHEME },
	{ "", DEEPLINK_ERR_SCHEME },
	/* structure */
	{ "entra-provision://enroll", DEEPLINK_ERR_SYNTAX },
	{ "entra-provision://enroll?", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b&", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b&&tenant=contoso.com", DEEPLINK_ERR_SYNTAX },
	{ L "user", DEEPLINK_ERR_SYNTAX },
	{ L "=a@b", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b#frag", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b c", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b\tc", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b\nc", DEEPLINK_ERR_SYNTAX },
	{ L "user=al\xc3\xa9@b", DEEPLINK_ERR_SYNTAX },
	{ L "user=a@b=c", DEEPLINK_ERR_SYNTAX },
	{ L "user=a<b>@c", DEEPLINK_ERR_SYNTAX },
	{ L "user=a\"@b", DEEPLINK_ERR_SYNTAX },
	{ L "user=a`id`@b", DEEPLINK_ERR_SYNTAX },
	{ L "user=a|b@c", DEEPLINK_ERR_SYNTAX },
	{ L "user=a\\b@c", DEEPLINK_ERR_SYNTAX },
	/* parameters */
	{ L "user=a@b&user=c@d", DEEPLINK_ERR_PARAM },
	{ L "user=a@b&tenant=x.com&tenant=y.com", DEEPLINK_ERR_PARAM },
	{ L "user=a@b&redirect=https://evil", DEEPLINK_ERR_PARAM },
	{ L "User=a@b", DEEPLINK_ERR_PARAM },
	{ L "user=a@b&exec=/bin/sh", DEEPLINK_ERR_PARAM },
	{ L "us%65r=a@b", DEEPLINK_ERR_PARAM },
	{ L "tenant=contoso.com", DEEPLINK_ERR_USER },
	/* secrets, whatever else is wrong */
	{ L "user=a@b&pin=123456", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&PIN=123456", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&tap=Abc.123", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&token=eyJ0", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&access_token=eyJ0", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&password=hunter2", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&client_secret=x", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&code=0.AAA", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&otp=123456", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&newPin=1234", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&p%69n=1234", DEEPLINK_ERR_SECRET },
	{ L "pin=1&user=a@b&user=c@d", DEEPLINK_ERR_SECRET },
	{ L "user=a@b&temporaryAccessPass=x", DEEPLINK_ERR_SECRET },
	/* encoding */
	{ L "user=a%00@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%0a@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%0D%0A@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%1b%5b31m@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%7f@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%4@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%zz@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a@b%", DEEPLINK_ERR_ENCODING },
	{ L "user=a%ff@b", DEEPLINK_ERR_ENCODING },
	{ L "user=a%c0%ae@b", DEEPLINK_ERR_ENCODING },		/* overlong */
	{ L "user=a%ed%a0%80@b", DEEPLINK_ERR_ENCODING },	/* surrogate */
	{ L "user=a@b&display=%e2%80%aeevil", DEEPLINK_ERR_ENCODING },
	{ L "user=a@b&display=%c2%85", DEEPLINK_ERR_ENCODING },
	/* the user */
	{ L "user=", DEEPLINK_ERR_USER },
	{ L "user=alice", DEEPLINK_ERR_USER },
	{ L "user=../../etc/passwd", DEEPLINK_ERR_USER },
	{ L "user=..%2F..%2Fetc%2Fpasswd@b", DEEPLINK_ERR_USER },
	{ L "user=a;rm%20-rf%20~@b", DEEPLINK_ERR_USER },
	{ L "user=$(reboot)@b", DEEPLINK_ERR_USER },
	{ L "user=a%26b@c", DEEPLINK_ERR_USER },
	{ L "user=a%2540b@c", DEEPLINK_ERR_USER },	/* double-encoded */
	{ L "user=-v@b", DEEPLINK_ERR_USER },
	{ L "user=--csv%3D%2Fetc%2Fshadow@b", DEEPLINK_ERR_USER },
	{ L "user=a@b@c", DEEPLINK_ERR_USER },
	{ L "user=%20a@b", DEEPLINK_ERR_USER },
	{ L "user=zo%c3%ab@contoso.com", DEEPLINK_ERR_USER },	/* non-ASCII */
	{ L "user=0f8fad5b-d9cb-469f-a165-70867728950", DEEPLINK_ERR_USER },
	/* the tenant */
	{ L "user=a@b&tenant=", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=contoso", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=..", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=-contoso.com", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=contoso-.com", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=contoso.com.", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=conto_so.com", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=evil.com/path", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=evil.com:8443", DEEPLINK_ERR_TENANT },
	{ L "user=a@b&tenant=%2e%2e%2fx.com", DEEPLINK_ERR_TENANT },
};

static void
test_refused(void **state)
{
	struct deeplink	dl;
	char		err[256];
	size_t		i;
	int		r;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&dl, 0xa5, sizeof(dl));
		r = deeplink_parse(bad[i].url, &dl, err, sizeof(err));
		if (r != bad[i].err)
			fail_msg("case %zu '%s': got %d (%s), want %d", i,
			    bad[i].url, r, err, bad[i].err);
		/* something to tell the operator, and nothing kept */
		assert_true(strlen(err) > 0);
		assert_string_equal(dl.user, "");
	}
	assert_true(i >= 30);
}

static void
test_secret_message(void **state)
{
	struct deeplink	dl;
	char		err[256];

	assert_int_equal(deeplink_parse(L "user=a@b&pin=987654", &dl, err,
	    sizeof(err)), DEEPLINK_ERR_SECRET);
	assert_non_null(strstr(err, "never carry secrets"));
	assert_non_null(strstr(err, "'pin'"));
	assert_null(strstr(err, "987654"));	/* never echoed */
	assert_int_equal(deeplink_parse(L "user=a@b&token=S3CR3T", &dl, err,
	    sizeof(err)), DEEPLINK_ERR_SECRET);
	assert_null(strstr(err, "S3CR3T"));
	/* a hostile name is echoed only in part */
	assert_int_equal(deeplink_parse(L "user=a@b&aaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaa=1", &dl, err, sizeof(err)),
	    DEEPLINK_ERR_PARAM);
	assert_true(strlen(err) < 200);
}

static void
test_overlong(void **state)
{
	struct deeplink	 dl;
	char		 err[256], *u;
	size_t		 n;

	/* exactly at the limit it parses; one more byte is refused */
	assert_non_null(u = malloc(DEEPLINK_MAX_URL + 16));
	n = (size_t)snprintf(u, DEEPLINK_MAX_URL + 16, L "user=a@b&display=");
	memset(u + n, 'x', DEEPLINK_MAX_URL - n);
	u[DEEPLINK_MAX_URL] = '\0';
	assert_int_equal(deeplink_parse(u, &dl, err, sizeof(err)),
	    DEEPLINK_ERR_DISPLAY);	/* display over 128 */
	memset(u + n, 'x', DEEPLINK_MAX_URL + 8 - n);
	u[DEEPLINK_MAX_URL + 8] = '\0';
	assert_int_equal(deeplink_parse(u, &dl, err, sizeof(err)),
	    DEEPLINK_ERR_TOOLONG);
	/* a UPN one byte too long */
	n = (size_t)snprintf(u, DEEPLINK_MAX_URL + 16, L "user=");
	memset(u + n, 'a', 110);
	memcpy(u + n + 110, "@b.c", 5);
	assert_int_equal(deeplink_parse(u, &dl, err, sizeof(err)),
	    DEEPLINK_ERR_USER);
	memcpy(u + n + 109, "@b.c", 5);
	assert_int_equal(deeplink_parse(u, &dl, err, sizeof(err)),
	    DEEPLINK_OK);
	assert_int_equal(strlen(dl.user), 113);
	/* display: 128 bytes fine, 129 not */
	n = (size_t)snprintf(u, DEEPLINK_MAX_URL + 16, L "user=a@b&display=");
	memset(u + n, 'd', 128);
	u[n + 128] = '\0';
	assert_int_equal(deeplink_parse(u, &dl, err, sizeof(err)),
	    DEEPLINK_OK);
	u[n + 128] = 'd';
	u[n + 129] = '\0';
	assert_int_equal(deeplink_parse(u, &dl, err, sizeof(err)),
	    DEEPLINK_ERR_DISPLAY);
	free(u);
	assert_int_equal(deeplink_parse(NULL, &dl, err, sizeof(err)),
	    DEEPLINK_ERR_ARG);
}

static void
test_valid(void **state)
{
	struct deeplink	dl;
	char		err[256];

	assert_int_equal(deeplink_parse(L "user=alice@contoso.com", &dl, err,
	    sizeof(err)), DEEPLINK_OK);
	assert_string_equal(dl.user, "alice@contoso.com");
	assert_int_equal(dl.user_kind, CSVIN_USER_UPN);
	assert_string_equal(dl.tenant, "");
	assert_string_equal(dl.display, "");

	assert_int_equal(deeplink_parse("ENTRA-Provision://Enroll/?tenant="
	    "contoso.onmicrosoft.com&user=alice%40contoso.com&display="
	    "Alice%20Archer%20(Sales)", &dl, err, sizeof(err)), DEEPLINK_OK);
	assert_string_equal(dl.user, "alice@contoso.com");
	assert_string_equal(dl.tenant, "contoso.onmicrosoft.com");
	assert_string_equal(dl.display, "Alice Archer (Sales)");

	assert_int_equal(deeplink_parse(L "user=" OID "&tenant="
	    "72F988BF-86F1-41AF-91AB-2D7CD011DB47", &dl, err, sizeof(err)),
	    DEEPLINK_OK);
	assert_int_equal(dl.user_kind, CSVIN_USER_OBJECTID);
	assert_string_equal(dl.tenant, "72F988BF-86F1-41AF-91AB-2D7CD011DB47");

	/* '+' is a plus; UTF-8 display; guest-style UPN */
	assert_int_equal(deeplink_parse(L "user=a+tag@b.com&display="
	    "Zo%C3%AB%20%F0%9F%98%80", &dl, err, sizeof(err)), DEEPLINK_OK);
	assert_string_equal(dl.user, "a+tag@b.com");
	assert_string_equal(dl.display, "Zo\xc3\xab \xf0\x9f\x98\x80");
	assert_int_equal(deeplink_parse(L "user=o'brien_x.com%23EXT%23@t."
	    "onmicrosoft.com", &dl, err, sizeof(err)), DEEPLINK_OK);
	assert_string_equal(dl.user, "o'brien_x.com#EXT#@t.onmicrosoft.com");
}

static void
test_tenant(void **state)
{
	assert_true(deeplink_tenant_valid("contoso.com"));
	assert_true(deeplink_tenant_valid("a.b"));
	assert_true(deeplink_tenant_valid("xn--bcher-kva.example"));
	assert_true(deeplink_tenant_valid(OID));
	assert_false(deeplink_tenant_valid(""));
	assert_false(deeplink_tenant_valid(NULL));
	assert_false(deeplink_tenant_valid("localhost"));
	assert_false(deeplink_tenant_valid("a..b"));
	assert_false(deeplink_tenant_valid(".a.b"));
	assert_false(deeplink_tenant_valid("a.-b"));
	assert_false(deeplink_tenant_valid("a b.com"));
	assert_false(deeplink_tenant_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com"));	/* 64-byte label */
}

struct tmp {
	char	dir[256];
	char	data[300];
	char	config[300];
};

static int
setup(void **state)
{
	struct tmp *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (-1);
	if (tu_tmpdir(t->dir, sizeof(t->dir), "test_deeplink") < 0)
		return (-1);
	snprintf(t->data, sizeof(t->data), "%s/data", t->dir);
	snprintf(t->config, sizeof(t->config), "%s/config", t->dir);
	setenv("XDG_DATA_HOME", t->data, 1);
	setenv("XDG_CONFIG_HOME", t->config, 1);
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
	unsetenv("XDG_DATA_HOME");
	unsetenv("XDG_CONFIG_HOME");
	free(t);

	return (0);
}

static char *
slurp(const char *path)
{
	unsigned char	*buf = NULL;
	size_t		 len;

	if (read_file_max(path, 1 << 20, &buf, &len) < 0)
		return (NULL);

	return ((char *)buf);
}

static void
test_desktop_entry(void **state)
{
	char *s = NULL;

	assert_int_equal(deeplink_desktop_entry("/usr/bin/provisioning", &s),
	    DEEPLINK_OK);
	assert_non_null(strstr(s, "[Desktop Entry]\n"));
	assert_non_null(strstr(s, "\nExec=/usr/bin/provisioning deeplink "
	    "handle %u\n"));
	assert_non_null(strstr(s, "\nMimeType=x-scheme-handler/"
	    "entra-provision;\n"));
	assert_non_null(strstr(s, "\nTerminal=true\n"));
	free(s);
	/* reserved characters: quoted and escaped per the spec */
	assert_int_equal(deeplink_desktop_entry("/opt/my tools/100%/"
	    "pro\"vi$ion\\ing", &s), DEEPLINK_OK);
	assert_non_null(strstr(s, "\nExec=\"/opt/my tools/100%%/pro\\\\\"vi"
	    "\\\\$ion\\\\\\\\ing\" deeplink handle %u\n"));
	free(s);
	assert_int_equal(deeplink_desktop_entry("relative/path", &s),
	    DEEPLINK_ERR_ARG);
	assert_int_equal(deeplink_desktop_entry("/bin/a\nExec=evil", &s),
	    DEEPLINK_ERR_ARG);
	assert_null(s);
}

static void
test_register_unregister(void **state)
{
	struct tmp	*t = *state;
	struct stat	 st;
	char		 path[512], want[512], mime[512], err[512], *s;
	FILE		*f;

	assert_int_equal(deeplink_desktop_path(path, sizeof(path)),
	    DEEPLINK_OK);
	snprintf(want, sizeof(want), "%s/applications/%s", t->data,
	    DEEPLINK_DESKTOP_FILE);
	assert_string_equal(path, want);
	assert_int_equal(deeplink_register("/usr/local/bin/provisioning",
	    path, sizeof(path), err, sizeof(err)), DEEPLINK_OK);
	assert_string_equal(path, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_non_null(s = slurp(path));
	assert_non_null(strstr(s, "Exec=/usr/local/bin/provisioning deeplink "
	    "handle %u\n"));
	free(s);
	/* again: replaced, not duplicated */
	assert_int_equal(deeplink_register("/usr/bin/provisioning", NULL, 0,
	    err, sizeof(err)), DEEPLINK_OK);
	assert_non_null(s = slurp(path));
	assert_non_null(strstr(s, "Exec=/usr/bin/provisioning "));
	assert_null(strstr(s, "/usr/local/"));
	free(s);

	/* what xdg-mime default would have written, and others' lines */
	snprintf(mime, sizeof(mime), "%s", t->config);
	assert_int_equal(mkdir(mime, 0700), 0);
	snprintf(mime, sizeof(mime), "%s/mimeapps.list", t->config);
	assert_non_null(f = fopen(mime, "w"));
	fputs("[Default Applications]\n"
	    "text/html=firefox.desktop\n"
	    "x-scheme-handler/entra-provision=" DEEPLINK_DESKTOP_FILE "\n"
	    "[Added Associations]\n"
	    "x-scheme-handler/entra-provision=other.desktop;"
	    DEEPLINK_DESKTOP_FILE ";\n", f);
	fclose(f);
	assert_int_equal(deeplink_unregister(err, sizeof(err)), DEEPLINK_OK);
	assert_int_equal(stat(path, &st), -1);
	assert_non_null(s = slurp(mime));
	assert_string_equal(s, "[Default Applications]\n"
	    "text/html=firefox.desktop\n"
	    "[Added Associations]\n"
	    "x-scheme-handler/entra-provision=other.desktop;\n");
	free(s);
	/* nothing left to remove is fine */
	assert_int_equal(deeplink_unregister(err, sizeof(err)), DEEPLINK_OK);

	/* without XDG_DATA_HOME (or a relative one): ~/.local/share */
	setenv("XDG_DATA_HOME", "relative/dir", 1);
	setenv("HOME", t->dir, 1);
	assert_int_equal(deeplink_desktop_path(path, sizeof(path)),
	    DEEPLINK_OK);
	snprintf(want, sizeof(want), "%s/.local/share/applications/%s",
	    t->dir, DEEPLINK_DESKTOP_FILE);
	assert_string_equal(path, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_secret_message),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_tenant),
		cmocka_unit_test(test_desktop_entry),
		cmocka_unit_test_setup_teardown(test_register_unregister, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
