/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * test_graph_emu, sign-in: client secret and certificate, device code
 * (with slow_down), the browser flow, renewal of expired tokens, a
 * revoked refresh token, app-only renewal.
 */

#include <sys/stat.h>
#include <sys/wait.h>

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
#include "graph_int.h"
#include "testutil.h"
#include "test_graph_emu.h"

void
test_client_secret(void **state)
{
	graph_client_t		*c = client(APP_ID, 0, 0), *c2;
	graph_user_t		*u = NULL;
	graph_identity_t	*id = NULL;
	struct stat		 st;
	char			 p[400];

	/* a wrong secret: AADSTS reason, no retry */
	assert_int_equal(graph_login_client_secret(c, "wrong"), GRAPH_ERR_AUTH);
	assert_string_equal(graph_last_code(c), "invalid_client");
	assert_non_null(strstr(graph_last_message(c), "AADSTS"));
	assert_int_not_equal(*graph_last_request_id(c), '\0');
	assert_int_equal(graph_login_client_secret(c, APP_SECRET), GRAPH_OK);
	snprintf(p, sizeof(p), "%s/tokens.json", state_dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* a second client (process) uses the cached token */
	c2 = client(APP_ID, 0, 0);
	assert_int_equal(graph_user_get(c2, "alice@contoso.example", &u),
	    GRAPH_OK);
	assert_string_equal(graph_user_id(u), ALICE);
	assert_string_equal(graph_user_type(u), "Member");
	assert_true(graph_user_enabled(u));
	graph_user_free(&u);
	assert_int_equal(graph_user_get(c2, "erin_fabrikam.example#EXT#@"
	    "contoso.example", &u), GRAPH_OK);
	assert_string_equal(graph_user_type(u), "Guest");
	graph_user_free(&u);
	assert_int_equal(graph_user_get(c2, "frank@contoso.example", &u),
	    GRAPH_OK);
	assert_false(graph_user_enabled(u));
	graph_user_free(&u);
	assert_int_equal(graph_user_get(c2, "nobody@contoso.example", &u),
	    GRAPH_ERR_NOT_FOUND);
	assert_int_equal(graph_last_status(c2), 404);
	assert_string_equal(graph_last_code(c2), "Request_ResourceNotFound");
	assert_int_not_equal(*graph_last_request_id(c2), '\0');
	assert_non_null(strstr(graph_last_hint(c2), "nobody@contoso.example"));
	assert_int_equal(graph_whoami(c2, &id), GRAPH_OK);
	assert_true(graph_identity_app_only(id));
	assert_true(graph_identity_has_permission(id,
	    "UserAuthenticationMethod.ReadWrite.All"));
	assert_false(graph_identity_has_permission(id, "User.Read"));
	graph_identity_free(&id);
	/* /me means nothing to an app */
	assert_int_equal(graph_user_get(c2, NULL, &u), GRAPH_ERR_BAD_REQUEST);
	graph_client_free(&c2);
	graph_client_free(&c);
}

void
test_client_cert(void **state)
{
	graph_client_t		*c = client(CERT_APP, 0, 0), *c2;
	graph_user_t		*u = NULL;

	assert_int_equal(graph_login_client_cert(c, certp, keyp), GRAPH_OK);
	assert_int_equal(graph_user_get(c, "bob@contoso.example", &u),
	    GRAPH_OK);
	graph_user_free(&u);
	/* renewed from the certificate the session remembers */
	ctl("POST", "tokens/expire", NULL);
	c2 = client(CERT_APP, 0, 0);
	assert_int_equal(graph_user_get(c2, "bob@contoso.example", &u),
	    GRAPH_OK);
	graph_user_free(&u);
	graph_client_free(&c2);
	/* the key of another certificate is refused locally */
	assert_int_equal(graph_login_client_cert(c, certp, "/nonexistent"),
	    GRAPH_ERR_ARG);
	graph_client_free(&c);
}

void
test_device_code(void **state)
{
	graph_client_t		*c = admin(), *c2;
	graph_identity_t	*id = NULL;

	assert_int_equal(graph_whoami(c, &id), GRAPH_OK);
	assert_false(graph_identity_app_only(id));
	assert_string_equal(graph_identity_account(id),
	    "admin@contoso.example");
	assert_true(graph_identity_has_role(id, "Authentication "
	    "Administrator"));
	assert_true(graph_identity_has_permission(id,
	    "UserAuthMethod-Passkey.ReadWrite.All"));
	graph_identity_free(&id);
	graph_client_free(&c);

	c2 = client(NULL, 0, 0);
	ctl("POST", "device", "{\"mode\":\"decline\"}");
	assert_int_equal(graph_login_device_code(c2), GRAPH_ERR_DECLINED);
	assert_string_equal(graph_last_code(c2), "authorization_declined");
	ctl("POST", "device", "{\"mode\":\"expire\"}");
	assert_int_equal(graph_login_device_code(c2), GRAPH_ERR_DECLINED);
	assert_string_equal(graph_last_code(c2), "expired_token");
	ctl("POST", "device", "{\"mode\":\"approve\"}");
	graph_client_free(&c2);
}

static void *
slow_down_later(void *arg)
{
	struct timespec ts = { 0, 500000000L };

	nanosleep(&ts, NULL);
	ctl("POST", "device", "{\"interval\":3}");

	return (NULL);
}

/* the server asks for slower polling mid-way (RFC 8628 slow_down) */
void
test_device_code_slow_down(void **state)
{
	graph_client_t	*c = client(NULL, 0, 0);
	pthread_t	 t;
	long long	 t0 = now_ms();

	ctl("POST", "device", "{\"mode\":\"approve\",\"pending_polls\":1,"
	    "\"interval\":1,\"slow_down\":true}");
	assert_int_equal(pthread_create(&t, NULL, slow_down_later, NULL), 0);
	assert_int_equal(graph_login_device_code(c), GRAPH_OK);
	pthread_join(t, NULL);
	/* polls at 1 s, 2 s (slow_down: +5 s), then 8 s */
	assert_true(now_ms() - t0 >= 7000);
	ctl("POST", "device", "{\"interval\":1}");
	graph_client_free(&c);
}

void
test_browser(void **state)
{
	const char	*src = getenv("SRCDIR") != NULL ? getenv("SRCDIR") :
			    SRCDIR;
	graph_client_t	*c = client(NULL, 0, 0), *adm, *uc = NULL;
	graph_identity_t *id = NULL;
	graph_method_t	*m = NULL;
	char		 b[1200], tapf[600], *tap = NULL, *cred = NULL;
	FILE		*f;

	/* the browser gets a scrubbed environment: options, and a file */
	snprintf(tapf, sizeof(tapf), "%s.tap", getenv("GRAPH_TEST_CA"));
	snprintf(b, sizeof(b), "%s %s/tests/graph/browser.py --ca %s "
	    "--tap-file %s", PYTHON3, src, getenv("GRAPH_TEST_CA"), tapf);
	setenv("BROWSER", b, 1);
	assert_int_equal(graph_login_browser(c, NULL), GRAPH_OK);
	assert_int_equal(graph_whoami(c, &id), GRAPH_OK);
	assert_string_equal(graph_identity_account(id),
	    "admin@contoso.example");
	graph_identity_free(&id);

	/* the user-context mode: a one-time TAP, the user signs in, /me */
	adm = app();
	assert_int_equal(graph_tap_create(adm, ALICE, 60, true, &tap, NULL),
	    GRAPH_OK);
	assert_non_null(f = fopen(tapf, "w"));
	fputs(tap, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(graph_client_new_user(&uc, c), GRAPH_OK);
	assert_int_equal(graph_login_browser(uc, "alice@contoso.example"),
	    GRAPH_OK);
	/* as Entra: /me registration refused, said as such */
	assert_int_equal(graph_creation_options(uc, NULL, 0, &cred),
	    GRAPH_ERR_UNSUPPORTED);
	assert_non_null(strstr(graph_last_message(uc), "does not accept "
	    "self-service passkey registration"));
	assert_non_null(strstr(graph_last_hint(uc), "drop --as-user"));
	/* a tenant that allows it */
	ctl("POST", "settings", "{\"me_registration\":true}");
	register_one(uc, NULL, &m, &cred);
	ctl("POST", "settings", "{\"me_registration\":false}");
	assert_int_equal(registered(ALICE, cred), 1);
	graph_method_free(&m);
	free(cred);
	/* the user's token stayed out of the admin's cache */
	assert_int_equal(graph_whoami(c, &id), GRAPH_OK);
	assert_string_equal(graph_identity_account(id),
	    "admin@contoso.example");
	graph_identity_free(&id);
	/* a used one-time TAP: no redirect ever comes, we time out */
	uc->login_timeout_s = 3;
	assert_int_equal(graph_login_browser(uc, "alice@contoso.example"),
	    GRAPH_ERR_TIMEOUT);
	unlink(tapf);
	freezero_str(tap);
	graph_client_free(&uc);
	graph_client_free(&adm);
	graph_client_free(&c);
}

void
test_expired_refreshed_once(void **state)
{
	graph_client_t	*c = admin();
	graph_user_t	*u = NULL;
	json_t		*st;
	long long	 before, after;

	st = emu_state();
	before = jint(json_object_get(json_object_get(st, "tokens"),
	    "by_grant"), "refresh_token", 0);
	json_decref(st);
	/* the server expires the token early: 401, one renewal, success */
	ctl("POST", "tokens/expire", NULL);
	assert_int_equal(graph_user_get(c, "alice@contoso.example", &u),
	    GRAPH_OK);
	graph_user_free(&u);
	st = emu_state();
	after = jint(json_object_get(json_object_get(st, "tokens"),
	    "by_grant"), "refresh_token", 0);
	json_decref(st);
	assert_int_equal(after, before + 1);
	/* a 401 that persists is not retried in a loop */
	faults("{\"kind\":\"expire_token\",\"path\":\"users/alice\"}");
	assert_int_equal(graph_user_get(c, "alice@contoso.example", &u),
	    GRAPH_ERR_AUTH);
	assert_int_equal(graph_last_status(c), 401);
	assert_non_null(strstr(graph_last_hint(c), "login"));
	graph_client_free(&c);
}

void
test_revoked(void **state)
{
	graph_client_t	*c = admin(), *c2;
	graph_user_t	*u = NULL;

	ctl("POST", "tokens/revoke", NULL);
	ctl("POST", "tokens/expire", NULL);
	c2 = client(NULL, 0, 0);
	assert_int_equal(graph_user_get(c2, "alice@contoso.example", &u),
	    GRAPH_ERR_LOGIN_REQUIRED);
	assert_string_equal(graph_last_code(c2), "invalid_grant");
	assert_non_null(strstr(graph_last_hint(c2), "log in again") ?
	    strstr(graph_last_hint(c2), "log in again") :
	    strstr(graph_last_hint(c2), "login' again"));
	graph_client_free(&c2);
	graph_client_free(&c);
}

void
test_app_renewal(void **state)
{
	graph_client_t	*c = app(), *c2;
	graph_user_t	*u = NULL;

	ctl("POST", "tokens/expire", NULL);
	/* no secret to renew with: log in again */
	c2 = client(APP_ID, 0, 0);
	assert_int_equal(graph_user_get(c2, ALICE, &u),
	    GRAPH_ERR_LOGIN_REQUIRED);
	graph_client_free(&c2);
	setenv("PROVISIONING_CLIENT_SECRET", APP_SECRET, 1);
	c2 = client(APP_ID, 0, 0);
	assert_int_equal(graph_user_get(c2, ALICE, &u), GRAPH_OK);
	graph_user_free(&u);
	graph_client_free(&c2);
	unsetenv("PROVISIONING_CLIENT_SECRET");
	graph_client_free(&c);
}
