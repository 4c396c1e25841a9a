/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The real ctap/ code against vauth over its socket.
 */

#include <pthread.h>
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
#include "ctap.h"
#include "testutil.h"

#define PIN	"493817"
#define CDATA	"{\"type\":\"webauthn.create\",\"challenge\":\"dGVzdA\"," \
		"\"origin\":\"https://login.microsoft.com\",\"crossOrigin\":false}"

static ctap_dev_t *
open_key(struct tu_vauth *v, const char *const *extra)
{
	ctap_dev_t *d;

	assert_int_equal(tu_vauth_start(v, NULL, extra), 0);
	assert_non_null(d = ctap_dev_new());
	assert_int_equal(ctap_dev_open(d, v->sock), CTAP_OK);

	return (d);
}

static void
reopen(ctap_dev_t *d, struct tu_vauth *v)
{
	ctap_dev_close(d);
	assert_int_equal(ctap_dev_open(d, v->sock), CTAP_OK);
}

static ctap_cred_t *
cred_for(const char *user)
{
	ctap_cred_t *c;

	assert_non_null(c = ctap_cred_new());
	assert_int_equal(ctap_cred_set_rp(c, "login.microsoft.com",
	    "Microsoft"), CTAP_OK);
	assert_int_equal(ctap_cred_set_user(c, (const unsigned char *)user,
	    strlen(user), user, "Test User"), CTAP_OK);
	assert_int_equal(ctap_cred_set_clientdata(c,
	    (const unsigned char *)CDATA, strlen(CDATA)), CTAP_OK);
	assert_int_equal(ctap_cred_set_prot(c, CTAP_PROT_UV_OPTIONAL),
	    CTAP_OK);
	assert_int_equal(ctap_cred_set_hmac_secret(c, true), CTAP_OK);

	return (c);
}

static void
test_info(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_info_t		*ci;
	const char *const	 args[] = { "--aaguid",
	    "11111111-2222-3333-4444-555555555555", NULL };

	(void)state;
	d = open_key(&v, args);
	assert_non_null(ci = ctap_info_new());
	assert_int_equal(ctap_dev_get_info(d, ci), CTAP_OK);
	assert_string_equal(ctap_info_aaguid(ci),
	    "11111111-2222-3333-4444-555555555555");
	assert_true(ctap_info_ctap21(ci));
	assert_false(ctap_info_has_pin(ci));
	assert_int_equal(ctap_info_min_pin_length(ci), 4);
	assert_true(ctap_info_remaining_rk(ci) > 0);
	assert_int_equal(ctap_info_option(ci, "rk"), 1);
	assert_true(ctap_info_algorithms_len(ci) >= 1);
	assert_int_equal(ctap_info_algorithm(ci, 0), -7);
	ctap_info_free(&ci);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
test_pin_set_change(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	bool			 has;
	int			 retries;

	(void)state;
	d = open_key(&v, NULL);
	assert_int_equal(ctap_dev_pin_status(d, &has, &retries), CTAP_OK);
	assert_false(has);
	/* refused locally, before any round trip */
	assert_int_equal(ctap_dev_pin_set(d, "123"), CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_dev_pin_set(d, PIN), CTAP_OK);
	reopen(d, &v);
	assert_int_equal(ctap_dev_pin_status(d, &has, &retries), CTAP_OK);
	assert_true(has);
	assert_int_equal(retries, 8);
	assert_int_equal(ctap_dev_pin_change(d, "000000", "572946"),
	    CTAP_ERR_PIN_INVALID);
	assert_int_equal(ctap_dev_retries(d), 7);
	assert_int_equal(ctap_dev_pin_change(d, PIN, "572946"), CTAP_OK);
	reopen(d, &v);
	assert_int_equal(ctap_dev_pin_status(d, &has, &retries), CTAP_OK);
	assert_int_equal(retries, 8);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
make_and_check(const char *const *args)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_cred_t		*c, *c2;

	d = open_key(&v, args);
	assert_int_equal(ctap_dev_pin_set(d, PIN), CTAP_OK);
	reopen(d, &v);
	c = cred_for("user-one");
	assert_int_equal(ctap_dev_make_cred(d, c, PIN), CTAP_OK);
	assert_true(ctap_cred_id_len(c) > 0);
	assert_true(ctap_cred_attobj_len(c) > 100);
	/* canonical: "fmt", "attStmt", "authData" */
	assert_int_equal(ctap_cred_attobj_ptr(c)[0], 0xa3);
	assert_memory_equal(ctap_cred_attobj_ptr(c) + 1, "\x63" "fmt", 4);
	assert_true(ctap_cred_flags(c) & 0x04);	/* UV */
	assert_int_equal(ctap_attobj_verify(ctap_cred_attobj_ptr(c),
	    ctap_cred_attobj_len(c), ctap_cred_clientdata_ptr(c),
	    ctap_cred_clientdata_len(c), "login.microsoft.com", true, 1, true,
	    NULL), CTAP_OK);
	/* a clientDataJSON the signature does not cover: refused, twice
	 * (the second time with the certificate's key kept) */
	if (strcmp(ctap_cred_fmt(c), "none") != 0) {
		assert_int_equal(ctap_attobj_verify(ctap_cred_attobj_ptr(c),
		    ctap_cred_attobj_len(c), (const unsigned char *)"{}", 2,
		    "login.microsoft.com", true, 1, true, NULL),
		    CTAP_ERR_VERIFY);
		assert_int_equal(ctap_attobj_verify(ctap_cred_attobj_ptr(c),
		    ctap_cred_attobj_len(c), (const unsigned char *)"{}", 2,
		    "login.microsoft.com", true, 1, true, NULL),
		    CTAP_ERR_VERIFY);
	}
	/* wrong rp, wrong extensions: refused */
	assert_int_equal(ctap_attobj_verify(ctap_cred_attobj_ptr(c),
	    ctap_cred_attobj_len(c), ctap_cred_clientdata_ptr(c),
	    ctap_cred_clientdata_len(c), "login.microsoftonline.com", true, 1,
	    true, NULL), CTAP_ERR_VERIFY);
	assert_int_equal(ctap_attobj_verify(ctap_cred_attobj_ptr(c),
	    ctap_cred_attobj_len(c), ctap_cred_clientdata_ptr(c),
	    ctap_cred_clientdata_len(c), "login.microsoft.com", true, 3, true,
	    NULL), CTAP_ERR_VERIFY);
	assert_int_equal(ctap_dev_check_cred(d, c, PIN), CTAP_OK);
	/* the exclude list hit: the key already holds this passkey */
	c2 = cred_for("user-one");
	assert_int_equal(ctap_cred_exclude(c2, ctap_cred_id_ptr(c),
	    ctap_cred_id_len(c)), CTAP_OK);
	assert_int_equal(ctap_dev_make_cred(d, c2, PIN), CTAP_ERR_EXCLUDED);
	ctap_cred_free(&c2);
	/* wrong PIN reports retries */
	c2 = cred_for("user-two");
	assert_int_equal(ctap_dev_make_cred(d, c2, "999999"),
	    CTAP_ERR_PIN_INVALID);
	assert_int_equal(ctap_dev_retries(d), 7);
	ctap_cred_free(&c2);
	c2 = cred_for("user-two");
	assert_int_equal(ctap_dev_make_cred(d, c2, NULL),
	    CTAP_ERR_PIN_REQUIRED);
	ctap_cred_free(&c2);
	ctap_cred_free(&c);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
test_make_cred_packed(void **state)
{
	const char *const args[] = { "--attestation", "packed", NULL };

	(void)state;
	make_and_check(args);
}

static void
test_make_cred_self(void **state)
{
	const char *const args[] = { "--attestation", "self", NULL };

	(void)state;
	make_and_check(args);
}

static void
test_make_cred_none(void **state)
{
	const char *const args[] = { "--attestation", "none", NULL };

	(void)state;
	make_and_check(args);
}

static void
test_protocol_1(void **state)
{
	const char *const args[] = { "--protocol", "1", NULL };

	(void)state;
	make_and_check(args);
}

static void
test_protocol_2(void **state)
{
	const char *const args[] = { "--protocol", "2", NULL };

	(void)state;
	make_and_check(args);
}

static void
test_pin_blocked(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_cred_t		*c;
	int			 i, r;
	const char *const	 args[] = { "--pin", PIN, NULL };

	(void)state;
	d = open_key(&v, args);
	for (i = 0; i < 8; i++) {
		/* three wrong in a row blocks until a replug */
		if (i > 0 && i % 3 == 0)
			reopen(d, &v);
		c = cred_for("u");
		r = ctap_dev_make_cred(d, c, "000000");
		ctap_cred_free(&c);
		if (i < 7)
			assert_true(r == CTAP_ERR_PIN_INVALID ||
			    r == CTAP_ERR_PIN_AUTH_BLOCKED);
		if (i % 3 == 2 && i < 7)
			assert_int_equal(r, CTAP_ERR_PIN_AUTH_BLOCKED);
		if (i == 7)
			assert_int_equal(r, CTAP_ERR_PIN_BLOCKED);
	}
	reopen(d, &v);
	c = cred_for("u");
	assert_int_equal(ctap_dev_make_cred(d, c, PIN), CTAP_ERR_PIN_BLOCKED);
	ctap_cred_free(&c);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static int
expect_mc(const char *const *args, int timeout_ms)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_cred_t		*c;
	int			 r;

	d = open_key(&v, args);
	ctap_dev_set_timeout(d, timeout_ms);
	c = cred_for("u");
	r = ctap_dev_make_cred(d, c, PIN);
	ctap_cred_free(&c);
	ctap_dev_free(&d);
	/* vauth survived the fault: a new connection still works */
	assert_non_null(d = ctap_dev_new());
	assert_int_equal(ctap_dev_open(d, v.sock), CTAP_OK);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);

	return (r);
}

static void
test_presence_denied(void **state)
{
	const char *const args[] = { "--pin", PIN, "--presence", "deny", NULL };

	(void)state;
	assert_int_equal(expect_mc(args, 5000), CTAP_ERR_DENIED);
}

static void
test_presence_timeout(void **state)
{
	const char *const a1[] = { "--pin", PIN, "--fail", "timeout:mc", NULL };
	const char *const a2[] = { "--pin", PIN, "--presence", "delay:20000",
	    NULL };

	(void)state;
	/* the key gives up (0x2F) ... */
	assert_int_equal(expect_mc(a1, 10000), CTAP_ERR_TIMEOUT);
	/* ... or we do */
	assert_int_equal(expect_mc(a2, 1000), CTAP_ERR_TIMEOUT);
}

struct canceller {
	ctap_dev_t	*d;
	int		 delay_ms;
};

static void *
cancel_later(void *arg)
{
	struct canceller	*cc = arg;
	struct timespec		 ts = { 0, cc->delay_ms * 1000000L };

	nanosleep(&ts, NULL);
	ctap_dev_cancel(cc->d);

	return (NULL);
}

static void
test_cancel(void **state)
{
	struct tu_vauth		 v;
	struct canceller	 cc;
	pthread_t		 t;
	ctap_dev_t		*d;
	ctap_cred_t		*c;
	long long		 t0;
	const char *const	 args[] = { "--pin", PIN, "--presence",
	    "delay:30000", NULL };

	(void)state;
	d = open_key(&v, args);
	c = cred_for("u");
	cc.d = d;
	cc.delay_ms = 400;
	assert_int_equal(pthread_create(&t, NULL, cancel_later, &cc), 0);
	t0 = now_ms();
	assert_int_equal(ctap_dev_make_cred(d, c, PIN), CTAP_ERR_CANCELLED);
	assert_true(now_ms() - t0 < 10000);
	pthread_join(t, NULL);
	ctap_cred_free(&c);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

/* a credential only UV can find (credProtect 3) is checked under the PIN */
static void
test_check_uv_required(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_cred_t		*c;
	const char *const	 args[] = { "--pin", PIN, NULL };

	(void)state;
	d = open_key(&v, args);
	c = cred_for("uv-required");
	assert_int_equal(ctap_cred_set_prot(c, CTAP_PROT_UV_REQUIRED),
	    CTAP_OK);
	assert_int_equal(ctap_dev_make_cred(d, c, PIN), CTAP_OK);
	assert_int_equal(ctap_dev_check_cred(d, c, PIN), CTAP_OK);
	/* a wrong PIN is no proof */
	assert_int_equal(ctap_dev_check_cred(d, c, "999999"),
	    CTAP_ERR_PIN_INVALID);
	ctap_cred_free(&c);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
test_reset(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_cred_t		*c;
	bool			 has;
	int			 retries;
	const char *const	 args[] = { "--pin", PIN, NULL };

	(void)state;
	d = open_key(&v, args);
	c = cred_for("u");
	assert_int_equal(ctap_dev_make_cred(d, c, PIN), CTAP_OK);
	assert_int_equal(ctap_dev_reset(d), CTAP_OK);
	reopen(d, &v);
	assert_int_equal(ctap_dev_pin_status(d, &has, &retries), CTAP_OK);
	assert_false(has);
	/* the old credential is gone */
	assert_int_equal(ctap_dev_pin_set(d, PIN), CTAP_OK);
	reopen(d, &v);
	assert_int_equal(ctap_dev_check_cred(d, c, PIN),
	    CTAP_ERR_NO_CREDENTIALS);
	ctap_cred_free(&c);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
test_config(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	ctap_info_t		*ci;
	const char *const	 args[] = { "--pin", "49381726", NULL };

	(void)state;
	d = open_key(&v, args);
	assert_non_null(ci = ctap_info_new());
	assert_int_equal(ctap_dev_set_min_pin_length(d, 8, "49381726"),
	    CTAP_OK);
	assert_int_equal(ctap_dev_get_info(d, ci), CTAP_OK);
	assert_int_equal(ctap_info_min_pin_length(ci), 8);
	assert_false(ctap_info_force_pin_change(ci));
	assert_int_equal(ctap_dev_force_pin_change(d, "49381726"), CTAP_OK);
	assert_int_equal(ctap_dev_get_info(d, ci), CTAP_OK);
	assert_true(ctap_info_force_pin_change(ci));
	/* the new PIN must obey the new minimum */
	assert_int_equal(ctap_dev_pin_change(d, "49381726", "5729461"),
	    CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_dev_pin_change(d, "49381726", "57294618"),
	    CTAP_OK);
	assert_int_equal(ctap_dev_get_info(d, ci), CTAP_OK);
	assert_false(ctap_info_force_pin_change(ci));
	/* a minimum above the current PIN's length forces a change too */
	assert_int_equal(ctap_dev_set_min_pin_length(d, 10, "57294618"),
	    CTAP_OK);
	assert_int_equal(ctap_dev_get_info(d, ci), CTAP_OK);
	assert_true(ctap_info_force_pin_change(ci));
	ctap_info_free(&ci);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
test_faults(void **state)
{
	static const struct {
		const char	*spec;
		int		 want;
	} cases[] = {
		{ "disconnect:mc", CTAP_ERR_IO },
		{ "malformed:mc", CTAP_ERR_PROTOCOL },
		{ "noncanonical:mc", CTAP_ERR_PROTOCOL },
		{ "status:mc=0x28", CTAP_ERR_KEY_FULL },
		{ "status:mc=0x2b", CTAP_ERR_UNSUPPORTED },
		{ "hang:mc", CTAP_ERR_TIMEOUT },
		{ "deny:mc", CTAP_ERR_DENIED },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const args[] = { "--pin", PIN, "--fail",
		    cases[i].spec, NULL };

		print_message("fault %s\n", cases[i].spec);
		assert_int_equal(expect_mc(args, 2000), cases[i].want);
	}
}

static void
test_fault_slow_keepalive(void **state)
{
	const char *const args[] = { "--pin", PIN, "--presence", "delay:1500",
	    "--fail", "slowkeepalive:700", NULL };

	(void)state;
	assert_int_equal(expect_mc(args, 10000), CTAP_OK);
}

static void
test_fault_info(void **state)
{
	struct tu_vauth		 v;
	ctap_dev_t		*d;
	const char *const	 a1[] = { "--fail", "noncanonical:info", NULL };
	const char *const	 a2[] = { "--fail", "disconnect:info@1", NULL };

	(void)state;
	/* a non-canonical getInfo must not turn the key into U2F */
	assert_int_equal(tu_vauth_start(&v, NULL, a1), 0);
	assert_non_null(d = ctap_dev_new());
	assert_int_not_equal(ctap_dev_open(d, v.sock), CTAP_OK);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
	assert_int_equal(tu_vauth_start(&v, NULL, a2), 0);
	assert_non_null(d = ctap_dev_new());
	assert_int_equal(ctap_dev_open(d, v.sock), CTAP_ERR_NO_DEVICE);
	assert_int_equal(ctap_dev_open(d, v.sock), CTAP_OK);
	ctap_dev_free(&d);
	tu_vauth_cleanup(&v);
}

static void
test_devlist(void **state)
{
	struct tu_vauth		 v1, v2;
	ctap_devlist_t		*l;
	char			 dir[128], p[600];

	(void)state;
	assert_int_equal(tu_vauth_start(&v1, NULL, NULL), 0);
	assert_int_equal(tu_vauth_start(&v2, NULL, NULL), 0);
	assert_int_equal(tu_tmpdir(dir, sizeof(dir), "prov-vdir"), 0);
	snprintf(p, sizeof(p), "%s/a", dir);
	assert_int_equal(symlink(v1.path, p), 0);
	snprintf(p, sizeof(p), "%s/b", dir);
	assert_int_equal(symlink(v2.path, p), 0);
	snprintf(p, sizeof(p), "%s/not-a-socket", dir);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	assert_non_null(l = ctap_devlist_new());
	assert_int_equal(ctap_devlist_scan(l, NULL, dir, true), CTAP_OK);
	assert_int_equal(ctap_devlist_len(l), 2);
	assert_true(ctap_devlist_virtual(l, 0));
	assert_int_equal(ctap_devlist_status(l, 0), CTAP_OK);
	assert_int_equal(ctap_devlist_status(l, 1), CTAP_OK);
	ctap_devlist_free(&l);
	tu_vauth_cleanup(&v1);
	assert_non_null(l = ctap_devlist_new());
	assert_int_equal(ctap_devlist_scan(l, NULL, dir, true), CTAP_OK);
	/* the dead socket is listed but not usable */
	assert_int_equal(ctap_devlist_len(l), 1);
	ctap_devlist_free(&l);
	assert_int_equal(tu_rmtree(dir), 0);
	tu_vauth_cleanup(&v2);
}

static int
teardown(void **state)
{
	(void)state;
	tu_vauth_cleanup_all();
	return (0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_info, teardown),
		cmocka_unit_test_teardown(test_devlist, teardown),
		cmocka_unit_test_teardown(test_pin_set_change, teardown),
		cmocka_unit_test_teardown(test_make_cred_packed, teardown),
		cmocka_unit_test_teardown(test_make_cred_self, teardown),
		cmocka_unit_test_teardown(test_make_cred_none, teardown),
		cmocka_unit_test_teardown(test_protocol_1, teardown),
		cmocka_unit_test_teardown(test_protocol_2, teardown),
		cmocka_unit_test_teardown(test_pin_blocked, teardown),
		cmocka_unit_test_teardown(test_presence_denied, teardown),
		cmocka_unit_test_teardown(test_presence_timeout, teardown),
		cmocka_unit_test_teardown(test_cancel, teardown),
		cmocka_unit_test_teardown(test_check_uv_required, teardown),
		cmocka_unit_test_teardown(test_reset, teardown),
		cmocka_unit_test_teardown(test_config, teardown),
		cmocka_unit_test_teardown(test_faults, teardown),
		cmocka_unit_test_teardown(test_fault_slow_keepalive, teardown),
		cmocka_unit_test_teardown(test_fault_info, teardown),
	};

	ctap_init();
	return (cmocka_run_group_tests(tests, NULL, teardown));
}
