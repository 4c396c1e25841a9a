/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The attestationObject codec (ctap_attobj_*): round trip, canonical
 * order, every rule of the parser and the encoder, the credential id.
 */

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <cbor.h>
#include <jansson.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"
#include "ctap.h"
#include "webauthn.h"
#include "attfix.h"

static void
parse_is(const unsigned char *p, size_t len, int want)
{
	ctap_attobj_t *ao;

	assert_non_null(ao = ctap_attobj_new());
	if (ctap_attobj_parse(ao, p, len) != want)
		fail_msg("parse of %zu bytes: want %d", len, want);
	if (want != CTAP_OK) {
		/* a failed parse leaves nothing behind */
		assert_null(ctap_attobj_fmt(ao));
		assert_null(ctap_attobj_stmt_ptr(ao));
		assert_null(ctap_attobj_authdata_ptr(ao));
		assert_int_equal(ctap_attobj_authdata_len(ao), 0);
	}
	ctap_attobj_free(&ao);
	assert_null(ao);
}

/* a malformed object from pairs; the pairs are consumed */
#define REJECT(n, ...)	do {						\
	unsigned char	*p_;						\
	size_t		 l_;						\
									\
	p_ = obj_of(&l_, n, __VA_ARGS__);				\
	parse_is(p_, l_, CTAP_ERR_PROTOCOL);				\
	free(p_);							\
} while (0)

/* encode, parse, encode again: the same bytes, in canonical order */
static void
test_codec_roundtrip(void **state)
{
	static const unsigned char head[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x66, 'p', 'a', 'c', 'k', 'e', 'd',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't',
	};
	struct att	 a;
	ctap_attobj_t	*ao;
	unsigned char	*stmt, *out, ad[300];
	size_t		 stmtlen, outlen, off;
	cbor_item_t	*st;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_non_null(st = cbor_new_definite_map(2));
	map_put(st, cbor_build_string("alg"), cbor_int(-7));
	map_put(st, cbor_build_string("sig"), cbor_build_bytestring(a.id,
	    sizeof(a.id)));
	stmt = cbor_bytes(st, &stmtlen);
	assert_int_equal(ctap_attobj_encode("packed", stmt, stmtlen, a.ad,
	    a.adlen, &out, &outlen), CTAP_OK);
	/* fmt, attStmt as given, authData under a shortest head */
	assert_true(a.adlen >= 24 && a.adlen < 256);
	assert_int_equal(outlen, sizeof(head) + stmtlen + 9 + 2 + a.adlen);
	off = 0;
	assert_memory_equal(out, head, sizeof(head));
	off += sizeof(head);
	assert_memory_equal(out + off, stmt, stmtlen);
	off += stmtlen;
	assert_memory_equal(out + off, "\x68" "authData" "\x58", 10);
	off += 10;
	assert_int_equal(out[off++], a.adlen);
	assert_memory_equal(out + off, a.ad, a.adlen);
	/* the parser gives back every piece */
	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, out, outlen), CTAP_OK);
	assert_string_equal(ctap_attobj_fmt(ao), "packed");
	assert_int_equal(ctap_attobj_stmt_len(ao), stmtlen);
	assert_memory_equal(ctap_attobj_stmt_ptr(ao), stmt, stmtlen);
	assert_int_equal(ctap_attobj_authdata_len(ao), a.adlen);
	assert_memory_equal(ctap_attobj_authdata_ptr(ao), a.ad, a.adlen);
	assert_int_equal(ctap_attobj_cred_id_len(ao), sizeof(a.id));
	assert_memory_equal(ctap_attobj_cred_id_ptr(ao), a.id, sizeof(a.id));
	/* a second parse replaces the first */
	assert_int_equal(ctap_attobj_parse(ao, a.obj, a.objlen), CTAP_OK);
	assert_int_equal(ctap_attobj_parse(ao, out, outlen - 1),
	    CTAP_ERR_PROTOCOL);
	assert_null(ctap_attobj_fmt(ao));
	ctap_attobj_free(&ao);
	ctap_attobj_free(&ao);
	ctap_attobj_free(NULL);
	reencode_is(out, outlen, out, outlen);
	free(out);
	free(stmt);
	/* no statement: {} */
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    &out, &outlen), CTAP_OK);
	assert_memory_equal(out, "\xa3\x63" "fmt" "\x64" "none" "\x67"
	    "attStmt" "\xa0", 19);
	reencode_is(out, outlen, out, outlen);
	free(out);
	/* 256 bytes and more: a two-byte length; the codec does not read
	 * authData beyond its fixed part */
	memset(ad, 0x5a, sizeof(ad));
	assert_int_equal(ctap_attobj_encode("x.example-fmt", NULL, 0, ad,
	    sizeof(ad), &out, &outlen), CTAP_OK);
	assert_int_equal(outlen, 1 + 4 + 14 + 8 + 1 + 9 + 3 + sizeof(ad));
	assert_memory_equal(out + outlen - sizeof(ad) - 3, "\x59\x01\x2c", 3);
	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, out, outlen), CTAP_OK);
	/* 0x5a has no AT flag: no attested credential */
	assert_null(ctap_attobj_cred_id_ptr(ao));
	assert_int_equal(ctap_attobj_cred_id_len(ao), 0);
	ctap_attobj_free(&ao);
	free(out);
	att_free(&a);
}

/* any key order is read; ours is canonical */
static void
test_codec_order(void **state)
{
	struct att	 a;
	unsigned char	*p, *q;
	size_t		 plen, qlen;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	p = obj_of(&plen, 3, cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen), cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0));
	q = obj_of(&qlen, 3, cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen));
	assert_int_equal(plen, qlen);
	assert_memory_not_equal(p, q, plen);
	reencode_is(p, plen, q, qlen);
	reencode_is(q, qlen, q, qlen);
	/* and it is the same registration to the verifier */
	assert_int_equal(ctap_attobj_verify(p, plen, (unsigned char *)a.cd,
	    a.cdlen, RPID, true, 1, true, NULL), CTAP_OK);
	free(p);
	free(q);
	att_free(&a);
}

/* every rule of the parser, one at a time */
static void
test_codec_reject(void **state)
{
	/* counts no 8 KiB input can hold: cbor_load would allocate them */
	static const unsigned char huge_top[] = {
		0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x63, 'f', 'm', 't',
	};
	static const unsigned char huge_stmt[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't',
		0xa1, 0x61, 'x', 0x9b, 0, 0, 0, 0x10, 0, 0, 0, 0,
	};
	static const unsigned char huge_map[] = {
		0xa3, 0x63, 'f', 'm', 't', 0x64, 'n', 'o', 'n', 'e',
		0x67, 'a', 't', 't', 'S', 't', 'm', 't',
		0xbb, 0, 0, 0, 0x10, 0, 0, 0, 0, 0xa0,
	};
	struct att	 a;
	unsigned char	*p, *big;
	size_t		 len;
	cbor_item_t	*m;
	ctap_attobj_t	*ao;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	parse_is(a.obj, a.objlen, CTAP_OK);
	/* size, CBOR, nothing trailing */
	parse_is(a.obj, 0, CTAP_ERR_PROTOCOL);
	parse_is(a.obj, a.objlen - 1, CTAP_ERR_PROTOCOL);
	parse_is((const unsigned char *)"\xff", 1, CTAP_ERR_PROTOCOL);
	parse_is((const unsigned char *)"\x1c", 1, CTAP_ERR_PROTOCOL);
	assert_non_null(p = malloc(a.objlen + 1));
	memcpy(p, a.obj, a.objlen);
	p[a.objlen] = 0x00;
	parse_is(p, a.objlen + 1, CTAP_ERR_PROTOCOL);
	free(p);
	assert_non_null(big = calloc(1, CTAP_ATTOBJ_MAX));
	memcpy(big, a.ad, a.adlen);
	p = obj_of(&len, 3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(big,
	    CTAP_ATTOBJ_MAX - 31));
	assert_int_equal(len, CTAP_ATTOBJ_MAX);
	parse_is(p, len, CTAP_OK);
	free(p);
	p = obj_of(&len, 3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(big,
	    CTAP_ATTOBJ_MAX - 30));
	assert_int_equal(len, CTAP_ATTOBJ_MAX + 1);
	parse_is(p, len, CTAP_ERR_PROTOCOL);
	free(p);
	parse_is(huge_top, sizeof(huge_top), CTAP_ERR_PROTOCOL);
	parse_is(huge_stmt, sizeof(huge_stmt), CTAP_ERR_PROTOCOL);
	parse_is(huge_map, sizeof(huge_map), CTAP_ERR_PROTOCOL);
	/* a definite map of exactly the three keys, each once */
	parse_is((const unsigned char *)"\xa0", 1, CTAP_ERR_PROTOCOL);
	parse_is((const unsigned char *)"\x83\x01\x02\x03", 4,
	    CTAP_ERR_PROTOCOL);
	assert_non_null(m = cbor_new_indefinite_map());
	map_put(m, cbor_build_string("fmt"), cbor_build_string("none"));
	map_put(m, cbor_build_string("attStmt"), cbor_new_definite_map(0));
	map_put(m, cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	p = cbor_bytes(m, &len);
	assert_int_equal(p[0], 0xbf);
	parse_is(p, len, CTAP_ERR_PROTOCOL);
	free(p);
	REJECT(2, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(4, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen), cbor_build_string("ep"), cbor_build_bool(true));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authdata"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(3, cbor_build_bytestring((const unsigned char *)"fmt", 3),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, a.adlen));
	REJECT(3, cbor_int(1), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	/* fmt: 1..32 printable ASCII but '"' and '\' */
#define BAD_FMT(v)							\
	REJECT(3, cbor_build_string("fmt"), (v),			\
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),	\
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,	\
	    a.adlen))
	BAD_FMT(cbor_int(7));
	BAD_FMT(cbor_build_bytestring((const unsigned char *)"none", 4));
	BAD_FMT(cbor_build_string(""));
	BAD_FMT(cbor_build_string("0123456789abcdef0123456789abcdefX"));
	BAD_FMT(cbor_build_string("pac ked"));
	BAD_FMT(cbor_build_string("pa\"cked"));
	BAD_FMT(cbor_build_string("pa\\cked"));
	BAD_FMT(cbor_build_string("pa\x7f" "cked"));
	BAD_FMT(cbor_build_stringn("no\0ne", 5));
	BAD_FMT(cbor_build_string("n\xc3\xb6ne"));
#undef BAD_FMT
	p = obj_of(&len, 3, cbor_build_string("fmt"),
	    cbor_build_string("0123456789abcdef0123456789abcdef"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	parse_is(p, len, CTAP_OK);
	free(p);
	/* attStmt: a definite map */
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_array(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_indefinite_map(),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    a.adlen));
	/* authData: a definite byte string of at least 37 bytes */
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_string("x"));
	REJECT(3, cbor_build_string("fmt"), cbor_build_string("none"),
	    cbor_build_string("attStmt"), cbor_new_definite_map(0),
	    cbor_build_string("authData"), cbor_build_bytestring(a.ad,
	    CTAP_AUTHDATA_MIN - 1));
	p = obj_of(&len, 3, cbor_build_string("fmt"),
	    cbor_build_string("none"), cbor_build_string("attStmt"),
	    cbor_new_definite_map(0), cbor_build_string("authData"),
	    cbor_build_bytestring(a.ad, CTAP_AUTHDATA_MIN));
	parse_is(p, len, CTAP_OK);
	free(p);
	assert_non_null(ao = ctap_attobj_new());
	assert_int_equal(ctap_attobj_parse(ao, NULL, 1), CTAP_ERR_ARG);
	assert_int_equal(ctap_attobj_parse(NULL, a.obj, a.objlen),
	    CTAP_ERR_ARG);
	ctap_attobj_free(&ao);
	free(big);
	att_free(&a);
}

/* the encoder holds its pieces to the parser's rules */
static void
test_codec_encode_reject(void **state)
{
	struct att	 a;
	unsigned char	*out = (unsigned char *)"x", *big;
	size_t		 outlen = 1;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
#define ENC(f, s, sl, ad, adl)						\
	ctap_attobj_encode((f), (const unsigned char *)(s), (sl), (ad),	\
	    (adl), &out, &outlen)
	assert_int_equal(ENC(NULL, NULL, 0, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_null(out);
	assert_int_equal(outlen, 0);
	assert_int_equal(ENC("", NULL, 0, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("pa\"cked", NULL, 0, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("0123456789abcdef0123456789abcdefX", NULL, 0,
	    a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 1, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\x80", 1, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xa0\x00", 2, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xbf\xff", 2, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xa1\x61", 2, a.ad, a.adlen),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", "\xa0", 0, a.ad, a.adlen), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 0, NULL, 0), CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 0, a.ad, CTAP_AUTHDATA_MIN - 1),
	    CTAP_ERR_ARG);
	/* nothing comes out that the parser would refuse: too large */
	assert_non_null(big = calloc(1, CTAP_ATTOBJ_MAX));
	assert_int_equal(ENC("none", NULL, 0, big, CTAP_ATTOBJ_MAX - 30),
	    CTAP_ERR_ARG);
	assert_int_equal(ENC("none", NULL, 0, big, CTAP_ATTOBJ_MAX - 31),
	    CTAP_OK);
	assert_int_equal(outlen, CTAP_ATTOBJ_MAX);
	free(out);
#undef ENC
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    NULL, &outlen), CTAP_ERR_ARG);
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, a.ad, a.adlen,
	    &out, NULL), CTAP_ERR_ARG);
	assert_null(out);
	free(big);
	att_free(&a);
}

/* the credential id inside authData, as the body check reads it */
static void
test_codec_cred_id(void **state)
{
	/* L = 0; L past the end; L = 1024 (WebAuthn allows 1023); no AT */
	static const struct {
		uint8_t	flags;
		size_t	idlen;
		size_t	extra;	/* bytes after our authData */
	} bad[] = {
		{ F_UP | F_AT, 0, 0 },
		{ F_UP | F_AT, 500, 0 },
		{ F_UP | F_AT, 1024, 1024 },
		{ F_UP, 32, 0 },
	};
	struct att	 a;
	ctap_attobj_t	*ao;
	unsigned char	*ad, *obj;
	size_t		 len, i;

	(void)state;
	att_make(&a, options_json, F_UP | F_UV | F_AT | F_ED, 1, true);
	assert_non_null(ao = ctap_attobj_new());
	assert_non_null(ad = malloc(a.adlen + 1024));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(ad, 0, a.adlen + 1024);
		memcpy(ad, a.ad, a.adlen);
		ad[32] = bad[i].flags;
		ad[53] = (unsigned char)(bad[i].idlen >> 8);
		ad[54] = (unsigned char)bad[i].idlen;
		assert_int_equal(ctap_attobj_encode("none", NULL, 0, ad,
		    a.adlen + bad[i].extra, &obj, &len), CTAP_OK);
		assert_int_equal(ctap_attobj_parse(ao, obj, len), CTAP_OK);
		assert_null(ctap_attobj_cred_id_ptr(ao));
		assert_int_equal(ctap_attobj_cred_id_len(ao), 0);
		free(obj);
	}
	/* 1023 bytes is fine */
	ad[32] = F_UP | F_AT;
	ad[53] = 0x03;
	ad[54] = 0xff;
	assert_int_equal(ctap_attobj_encode("none", NULL, 0, ad,
	    a.adlen + 1024, &obj, &len), CTAP_OK);
	assert_int_equal(ctap_attobj_parse(ao, obj, len), CTAP_OK);
	assert_int_equal(ctap_attobj_cred_id_len(ao), 1023);
	assert_ptr_equal(ctap_attobj_cred_id_ptr(ao),
	    ctap_attobj_authdata_ptr(ao) + 55);
	free(obj);
	free(ad);
	ctap_attobj_free(&ao);
	att_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test(test_codec_order),
		cmocka_unit_test(test_codec_reject),
		cmocka_unit_test(test_codec_encode_reject),
		cmocka_unit_test(test_codec_cred_id),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
