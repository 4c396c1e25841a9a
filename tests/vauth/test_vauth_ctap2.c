/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Unit tests of vauthlib without sockets: CTAP2 requests through
 * vauth_cbor(), faults in memory, the state file, AAGUID parsing.
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

#include "extern.h"
#include "testutil.h"
#include "test_vauth.h"

/* CTAP2 through vauth_cbor() */

static int
ctap(vauth_t *v, uint8_t cmd, const cbor_item_t *req, cbor_item_t **out)
{
	unsigned char *enc = NULL, buf[VAUTH_MAX_MSG], resp[VAUTH_MAX_MSG];
	size_t n = 0, rlen = sizeof(resp);
	struct cbor_load_result res;

	buf[0] = cmd;
	if (req != NULL) {
		encode(req, 0, &enc, &n);
		assert_true(n < sizeof(buf));
		memcpy(buf + 1, enc, n);
		free(enc);
	}
	assert_int_equal(vauth_cbor(v, buf, n + 1, resp, &rlen), VAUTH_OK);
	assert_true(rlen >= 1);
	if (out != NULL)
		*out = NULL;
	if (rlen > 1) {
		/* every reply is canonical: re-encoding is the identity */
		unsigned char *again = NULL;
		size_t alen = 0;
		cbor_item_t *it;

		assert_int_equal(cbu_check(resp + 1, rlen - 1, 16), 0);
		it = cbor_load(resp + 1, rlen - 1, &res);
		assert_non_null(it);
		encode(it, 0, &again, &alen);
		assert_int_equal(alen, rlen - 1);
		assert_memory_equal(again, resp + 1, alen);
		free(again);
		if (out != NULL)
			*out = it;
		else
			cbor_decref(&it);
	}

	return (resp[0]);
}

static cbor_item_t *
mc_request(const char *rp, int rk, int alg, int prot)
{
	cbor_item_t *m, *e;
	unsigned char cdh[32], uid[8];

	memset(cdh, 1, sizeof(cdh));
	memset(uid, 2, sizeof(uid));
	assert_non_null(m = cbu_map());
	assert_int_equal(cbu_put_int(m, 1, cbu_bytes(cdh, 32)), 0);
	assert_non_null(e = cbu_map());
	assert_int_equal(cbu_put_str(e, "id", cbu_text(rp)), 0);
	assert_int_equal(cbu_put_int(m, 2, e), 0);
	assert_non_null(e = cbu_map());
	assert_int_equal(cbu_put_str(e, "id", cbu_bytes(uid, 8)), 0);
	assert_int_equal(cbu_put_str(e, "name", cbu_text("bob")), 0);
	assert_int_equal(cbu_put_int(m, 3, e), 0);
	assert_non_null(e = cbu_map());
	assert_int_equal(cbu_put_str(e, "alg", cbu_int(alg)), 0);
	assert_int_equal(cbu_put_str(e, "type", cbu_text("public-key")), 0);
	{
		cbor_item_t *a = cbu_array();

		assert_int_equal(cbu_push(a, e), 0);
		assert_int_equal(cbu_put_int(m, 4, a), 0);
	}
	if (prot) {
		assert_non_null(e = cbu_map());
		assert_int_equal(cbu_put_str(e, "credProtect",
				     cbu_uint((uint64_t)prot)),
		    0);
		assert_int_equal(cbu_put_str(e, "hmac-secret", cbu_bool(1)), 0);
		assert_int_equal(cbu_put_int(m, 6, e), 0);
	}
	if (rk) {
		assert_non_null(e = cbu_map());
		assert_int_equal(cbu_put_str(e, "rk", cbu_bool(1)), 0);
		assert_int_equal(cbu_put_int(m, 7, e), 0);
	}

	return (m);
}

static void
ctap2_basic(void **state)
{
	static const unsigned char garbage[] = {0xa1, 0x01};
	vauth_t *v = new_started();
	cbor_item_t *req = NULL, *out = NULL;
	const unsigned char *ad;
	unsigned char buf[16], resp[VAUTH_MAX_MSG];
	size_t adlen, rlen;

	(void)state;
	assert_int_equal(ctap(v, CTAP2_CMD_GETINFO, NULL, &out), 0);
	assert_non_null(cbu_get(out, 4));
	free_item(&out);
	assert_int_equal(ctap(v, 0x55, NULL, NULL), CTAP1_ERR_INVALID_COMMAND);
	assert_int_equal(ctap(v, CTAP2_CMD_MAKECRED, NULL, NULL),
	    CTAP2_ERR_MISSING_PARAMETER);

	/* invalid CBOR */
	buf[0] = CTAP2_CMD_MAKECRED;
	memcpy(buf + 1, garbage, sizeof(garbage));
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, buf, 3, resp, &rlen), VAUTH_OK);
	assert_int_equal(rlen, 1);
	assert_int_equal(resp[0], CTAP2_ERR_INVALID_CBOR);

	/* a request that is not a map */
	assert_non_null(req = cbu_uint(5));
	assert_int_equal(ctap(v, CTAP2_CMD_MAKECRED, req, NULL),
	    CTAP2_ERR_CBOR_UNEXPECTED_TYPE);
	free_item(&req);

	/* RS256 only */
	req = mc_request("example.com", 0, -257, 0);
	assert_int_equal(ctap(v, CTAP2_CMD_MAKECRED, req, NULL),
	    CTAP2_ERR_UNSUPPORTED_ALGORITHM);
	free_item(&req);

	/* rk credential with credProtect 2 and hmac-secret */
	req = mc_request("example.com", 1, -7, 2);
	assert_int_equal(ctap(v, CTAP2_CMD_MAKECRED, req, &out), 0);
	assert_int_equal(cbor_string_length(cbu_get(out, 1)), 6);
	assert_memory_equal(cbor_string_handle(cbu_get(out, 1)), "packed", 6);
	assert_int_equal(cbu_as_bytes(cbu_get(out, 2), &ad, &adlen), 0);
	assert_int_equal(ad[32], 0xc1); /* UP|AT|ED */
	assert_int_equal(ad[53] << 8 | ad[54], VAUTH_CRED_ID_LEN);
	assert_memory_equal(ad + 37, vauth_aaguid(v), 16);
	/* extensions: {"credProtect": 2, "hmac-secret": true} */
	assert_memory_equal(ad + adlen - 27,
	    "\xa2\x6b"
	    "credProtect\x02\x6b"
	    "hmac-secret\xf5",
	    27);
	free_item(&out);
	free_item(&req);

	/* credProtect 2 credential is invisible without allowList/UV */
	assert_non_null(req = cbu_map());
	assert_int_equal(cbu_put_int(req, 1, cbu_text("example.com")), 0);
	memset(buf, 1, sizeof(buf));
	{
		unsigned char cdh[32];

		memset(cdh, 9, sizeof(cdh));
		assert_int_equal(cbu_put_int(req, 2, cbu_bytes(cdh, 32)), 0);
	}
	assert_int_equal(ctap(v, CTAP2_CMD_GETASSERT, req, NULL),
	    CTAP2_ERR_NO_CREDENTIALS);
	free_item(&req);

	/* clientPIN getRetries, unknown subcommand */
	assert_non_null(req = cbu_map());
	assert_int_equal(cbu_put_int(req, 1, cbu_uint(1)), 0);
	assert_int_equal(cbu_put_int(req, 2, cbu_uint(1)), 0);
	assert_int_equal(ctap(v, CTAP2_CMD_CLIENTPIN, req, &out), 0);
	assert_int_equal(cbor_get_int(cbu_get(out, 3)), 8);
	free_item(&out);
	free_item(&req);
	assert_non_null(req = cbu_map());
	assert_int_equal(cbu_put_int(req, 2, cbu_uint(0x42)), 0);
	assert_int_equal(ctap(v, CTAP2_CMD_CLIENTPIN, req, NULL),
	    CTAP2_ERR_INVALID_SUBCOMMAND);
	free_item(&req);

	/* getNextAssertion without a pending getAssertion */
	assert_int_equal(ctap(v, CTAP2_CMD_NEXTASSERT, NULL, NULL),
	    CTAP2_ERR_NOT_ALLOWED);
	/* reset without a transport: presence is immediate */
	assert_int_equal(ctap(v, CTAP2_CMD_RESET, NULL, NULL), 0);
	assert_int_equal(ctap(v, CTAP2_CMD_SELECTION, NULL, NULL), 0);
	vauth_free(&v);
}

static void
faults_inmemory(void **state)
{
	vauth_t *v;
	const char *why = NULL;
	unsigned char req[1] = {CTAP2_CMD_GETINFO}, resp[VAUTH_MAX_MSG];
	size_t rlen;

	(void)state;
	assert_non_null(v = vauth_new());
	assert_int_equal(vauth_set_faults(v, "nope", &why),
	    VAUTH_ERR_FAULT_SPEC);
	assert_non_null(why);
	assert_int_equal(vauth_set_faults(v,
			     "hang:info@1,status:info=0x7f@1,"
			     "malformed:info@1,noncanonical:info@1,deny:info@1",
			     &why),
	    VAUTH_OK);
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen),
	    VAUTH_ERR_NOT_STARTED);
	assert_int_equal(vauth_start(v), VAUTH_OK);
	/* hang without a transport ends as a cancel */
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen), VAUTH_OK);
	assert_int_equal(rlen, 1);
	assert_int_equal(resp[0], CTAP2_ERR_KEEPALIVE_CANCEL);
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen), VAUTH_OK);
	assert_int_equal(resp[0], 0x7f);
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen), VAUTH_OK);
	assert_int_equal(resp[0], 0);
	assert_int_not_equal(cbu_check(resp + 1, rlen - 1, 16), 0);
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen), VAUTH_OK);
	assert_int_equal(resp[0], 0);
	assert_int_equal(cbu_check(resp + 1, rlen - 1, 16), 0);
	assert_int_equal(resp[2], 0x14); /* reversed: key 0x14 first */
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen), VAUTH_OK);
	assert_int_equal(resp[0], CTAP2_ERR_OPERATION_DENIED);
	rlen = sizeof(resp);
	assert_int_equal(vauth_cbor(v, req, 1, resp, &rlen), VAUTH_OK);
	assert_int_equal(resp[0], 0);
	assert_int_equal(resp[2], 0x01);
	vauth_free(&v);
}

static void
state_roundtrip(void **state)
{
	char dir[128], path[160], ca[160];
	vauth_t *v;
	cbor_item_t *req, *out = NULL;
	struct stat st;

	(void)state;
	assert_int_equal(tu_tmpdir(dir, sizeof(dir), "vauth-unit"), 0);
	snprintf(path, sizeof(path), "%s/state.cbor", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);

	assert_non_null(v = vauth_new());
	assert_int_equal(vauth_set_state_file(v, path), VAUTH_OK);
	assert_int_equal(vauth_start(v), VAUTH_OK);
	assert_int_equal(vauth_preset_pin(v, "12"), VAUTH_ERR_PIN_POLICY);
	assert_int_equal(vauth_preset_pin(v, "4321"), VAUTH_OK);
	req = mc_request("example.org", 1, -7, 0);
	/* PIN set: a token is required now */
	assert_int_equal(ctap(v, CTAP2_CMD_MAKECRED, req, NULL),
	    CTAP2_ERR_PUAT_REQUIRED);
	free_item(&req);
	vauth_free(&v);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* reload: PIN still set; export the CA kept in the state */
	assert_non_null(v = vauth_new());
	assert_int_equal(vauth_set_state_file(v, path), VAUTH_OK);
	assert_int_equal(vauth_start(v), VAUTH_OK);
	assert_int_equal(ctap(v, CTAP2_CMD_GETINFO, NULL, &out), 0);
	assert_true(cbor_get_bool(cbu_get_str(cbu_get(out, 4), "clientPin")));
	free_item(&out);
	assert_int_equal(vauth_export_ca(v, ca), VAUTH_OK);
	assert_int_equal(stat(ca, &st), 0);
	vauth_free(&v);

	/* a corrupt state is refused, never overwritten */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs("garbage", f);
		fclose(f);
	}
	assert_non_null(v = vauth_new());
	assert_int_equal(vauth_set_state_file(v, path), VAUTH_OK);
	assert_int_equal(vauth_start(v), VAUTH_ERR_STATE);
	vauth_free(&v);
	assert_int_equal(tu_rmtree(dir), 0);
}

static void
aaguid_parse(void **state)
{
	unsigned char a[16];

	(void)state;
	assert_int_equal(
	    vauth_parse_aaguid("76617574-682d-7465-7374-2d6b65790001", a, 16),
	    VAUTH_OK);
	assert_int_equal(a[0], 0x76);
	assert_int_equal(a[15], 0x01);
	assert_int_equal(vauth_parse_aaguid("76617574682d746573742d6b65790001",
			     a, 16),
	    VAUTH_OK);
	assert_int_not_equal(
	    vauth_parse_aaguid("76617574-682d-7465-7374-2d6b6579000", a, 16),
	    VAUTH_OK);
	assert_int_not_equal(
	    vauth_parse_aaguid("76617574-682d-7465-7374-2d6b657900011", a, 16),
	    VAUTH_OK);
	assert_int_not_equal(
	    vauth_parse_aaguid("7661757-4682d-7465-7374-2d6b65790001", a, 16),
	    VAUTH_OK);
	assert_int_not_equal(vauth_parse_aaguid("", a, 16), VAUTH_OK);
	assert_int_not_equal(
	    vauth_parse_aaguid("g6617574-682d-7465-7374-2d6b65790001", a, 16),
	    VAUTH_OK);
	assert_string_equal(vauth_strerr(VAUTH_ERR_FAULT_SPEC),
	    "bad fault spec");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ctap2_basic),
	    cmocka_unit_test(faults_inmemory),
	    cmocka_unit_test(state_roundtrip),
	    cmocka_unit_test(aaguid_parse),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
