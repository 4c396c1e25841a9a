/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * common/b64.c: every codec in common.h, with RFC 4648 vectors, the
 * strictness rules, and the excludeCredentials ids Graph really sends.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common.h"

static const struct {
	const char	*raw;
	const char	*std;
	const char	*url;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

#define NVEC	(sizeof(rfc4648) / sizeof(rfc4648[0]))

/* the ids from a real Graph creationOptions (graph-api.md 1.2) */
#define ID_STD32	"TZ2KrDEawbrIGQsnheGZ/BG9Nfnb7blSGwQYMGyJIhM="
#define ID_STD16	"GshyINLMaOOwqt1LNUi0gQ=="
#define ID_DIGIT0	"prXptqCfm_ohEAcE2Jw6CUtUb4uWpb2vaS-cFB82ruMhcIRAE" \
			"17S0g1bkPjtsC6S0"
#define ID_DIGIT1	"MMeD8wrNCZ-0hbfdYvvAIzrsrTGd_uXdt2iXbYlGJSs1"

static void
hex2bin(const char *hex, unsigned char *out, size_t *len)
{
	size_t		i, n = strlen(hex) / 2;
	unsigned int	v;

	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (unsigned char)v;
	}
	*len = n;
}

static void
assert_reading(const struct b64_any *a, int i, const char *hex)
{
	unsigned char	buf[128];
	size_t		len;

	hex2bin(hex, buf, &len);
	assert_int_equal(a->len[i], len);
	assert_memory_equal(a->ptr[i], buf, len);
}

static void
test_encode_vectors(void **state)
{
	char	*s;
	size_t	 i;

	(void)state;
	for (i = 0; i < NVEC; i++) {
		assert_int_equal(b64_encode((const unsigned char *)
		    rfc4648[i].raw, strlen(rfc4648[i].raw), &s), 0);
		assert_string_equal(s, rfc4648[i].std);
		free(s);
		assert_int_equal(b64url_encode((const unsigned char *)
		    rfc4648[i].raw, strlen(rfc4648[i].raw), &s), 0);
		assert_string_equal(s, rfc4648[i].url);
		free(s);
	}
}

static void
test_encode_alphabet(void **state)
{
	static const unsigned char hi[] = { 0xfb, 0xff, 0xbf };
	static const unsigned char hi2[] = { 0xfb, 0xff };
	char *s;

	(void)state;
	assert_int_equal(b64_encode(hi, sizeof(hi), &s), 0);
	assert_string_equal(s, "+/+/");
	free(s);
	assert_int_equal(b64url_encode(hi, sizeof(hi), &s), 0);
	assert_string_equal(s, "-_-_");
	free(s);
	assert_int_equal(b64_encode(hi2, sizeof(hi2), &s), 0);
	assert_string_equal(s, "+/8=");
	free(s);
	/* url: no padding, ever */
	assert_int_equal(b64url_encode(hi2, sizeof(hi2), &s), 0);
	assert_string_equal(s, "-_8");
	free(s);
}

static void
test_decode_vectors(void **state)
{
	unsigned char	*p;
	size_t		 len, i;

	(void)state;
	for (i = 0; i < NVEC; i++) {
		assert_int_equal(b64_decode(rfc4648[i].std, &p, &len), 0);
		assert_int_equal(len, strlen(rfc4648[i].raw));
		assert_memory_equal(p, rfc4648[i].raw, len);
		free(p);
		assert_int_equal(b64url_decode(rfc4648[i].url, &p, &len), 0);
		assert_int_equal(len, strlen(rfc4648[i].raw));
		assert_memory_equal(p, rfc4648[i].raw, len);
		free(p);
	}
	assert_int_equal(b64_decode("+/+/", &p, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(p[0], 0xfb);
	free(p);
	assert_int_equal(b64url_decode("-_-_", &p, &len), 0);
	assert_int_equal(len, 3);
	assert_int_equal(p[2], 0xbf);
	free(p);
}

static void
test_roundtrip(void **state)
{
	unsigned char	 buf[300], *p;
	char		*s;
	size_t		 n, len, i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 97 + 13);
	for (n = 0; n <= sizeof(buf); n++) {
		assert_int_equal(b64_encode(buf, n, &s), 0);
		assert_int_equal(strlen(s), 4 * ((n + 2) / 3));
		assert_int_equal(b64_decode(s, &p, &len), 0);
		assert_int_equal(len, n);
		if (n > 0)
			assert_memory_equal(p, buf, n);
		free(p);
		free(s);
		assert_int_equal(b64url_encode(buf, n, &s), 0);
		assert_null(strpbrk(s, "+/="));
		assert_int_equal(b64url_decode(s, &p, &len), 0);
		assert_int_equal(len, n);
		if (n > 0)
			assert_memory_equal(p, buf, n);
		free(p);
		free(s);
	}
}

static void
reject(int (*dec)(const char *, unsigned char **, size_t *), const char *s)
{
	unsigned char	*p = (unsigned char *)"x";
	size_t		 len = 99;

	if (dec(s, &p, &len) == 0)
		fail_msg("\"%s\" decoded but must not", s);
	assert_null(p);
	assert_int_equal(len, 0);
}

static void
test_url_strict(void **state)
{
	(void)state;
	/* whitespace anywhere */
	reject(b64url_decode, "Zm9v Yg");
	reject(b64url_decode, "Zm9vYg\n");
	reject(b64url_decode, " Zm9v");
	reject(b64url_decode, "Zm9v\tYg");
	reject(b64url_decode, "Zm9v\r\nYg");
	/* characters outside the url alphabet */
	reject(b64url_decode, "Zm9v+g");
	reject(b64url_decode, "Zm9v/g");
	reject(b64url_decode, "Zm9v*g");
	reject(b64url_decode, "Zm9v.g");
	reject(b64url_decode, "Zm9v\xc3\xa9");
	/* padding is not base64url */
	reject(b64url_decode, "Zg==");
	reject(b64url_decode, "Zm8=");
	reject(b64url_decode, "Zg=");
	/* one char short of a byte */
	reject(b64url_decode, "Z");
	reject(b64url_decode, "Zm9vY");
	/* non-canonical trailing bits */
	reject(b64url_decode, "Zh");
	reject(b64url_decode, "Zm9");
	reject(b64url_decode, "Zm9vYh");
	reject(b64url_decode, "-_9");
}

static void
test_std_strict(void **state)
{
	unsigned char	*p;
	size_t		 len;

	(void)state;
	reject(b64_decode, "Zm9v Yg==");
	reject(b64_decode, "Zm9vYg==\n");
	reject(b64_decode, "Zm9v\nYmFy");
	/* url alphabet is not standard base64 */
	reject(b64_decode, "-_-_");
	reject(b64_decode, "Zm9v_g==");
	reject(b64_decode, "Zm9v!g==");
	/* wrong amount of padding, or padding inside */
	reject(b64_decode, "Zg=");
	reject(b64_decode, "Zg===");
	reject(b64_decode, "Zm8==");
	reject(b64_decode, "Zm9v=");
	reject(b64_decode, "Zm9v====");
	reject(b64_decode, "Zg==Zm9v");
	reject(b64_decode, "Z===");
	reject(b64_decode, "=");
	reject(b64_decode, "==");
	/* non-canonical trailing bits */
	reject(b64_decode, "Zh==");
	reject(b64_decode, "Zm9=");
	reject(b64_decode, "Zm9vYh==");
	/* documented leniency: standard base64 may leave out its '=' */
	assert_int_equal(b64_decode("Zg", &p, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 'f');
	free(p);
}

static void
test_any_standard(void **state)
{
	struct b64_any a;

	(void)state;
	assert_int_equal(b64_decode_any(ID_STD32, &a), 0);
	assert_int_equal(a.n, 1);
	assert_non_null(a.ptr[0]);
	assert_null(a.ptr[1]);
	assert_reading(&a, 0, "4d9d8aac311ac1bac8190b2785e199fc"
	    "11bd35f9dbedb9521b0418306c892213");
	b64_any_reset(&a);
	assert_int_equal(a.n, 0);
	assert_null(a.ptr[0]);
	assert_int_equal(b64_decode_any(ID_STD16, &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "1ac87220d2cc68e3b0aadd4b3548b481");
	b64_any_reset(&a);
	/* standard without its padding still reads as standard */
	assert_int_equal(b64_decode_any("GshyINLMaOOwqt1LNUi0gQ", &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "1ac87220d2cc68e3b0aadd4b3548b481");
	b64_any_reset(&a);
	/* '/' or '+' without '=' */
	assert_int_equal(b64_decode_any("+/+/", &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "fbffbf");
	b64_any_reset(&a);
}

static void
test_any_url(void **state)
{
	struct b64_any a;

	(void)state;
	assert_int_equal(b64_decode_any("TZ2KrDEawbrIGQsnheGZ_BG9Nfnb7blSGwQY"
	    "MGyJIhM", &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "4d9d8aac311ac1bac8190b2785e199fc"
	    "11bd35f9dbedb9521b0418306c892213");
	b64_any_reset(&a);
	assert_int_equal(b64_decode_any("-_-_", &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "fbffbf");
	b64_any_reset(&a);
}

static void
test_any_digit(void **state)
{
	struct b64_any a;

	(void)state;
	/* digit 0: 64 chars + "0"; the plain reading has 65 chars, invalid */
	assert_int_equal(b64_decode_any(ID_DIGIT0, &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "a6b5e9b6a09f9bfa21100704d89c3a094b546f8b96a5"
	    "bdaf692f9c141f36aee321708440135ed2d20d5b90f8edb02e92");
	b64_any_reset(&a);
	/* digit 2: bytes 00..0f as base64url + "2"; no plain reading */
	assert_int_equal(b64_decode_any("AAECAwQFBgcICQoLDA0ODw2", &a), 0);
	assert_int_equal(a.n, 1);
	assert_reading(&a, 0, "000102030405060708090a0b0c0d0e0f");
	b64_any_reset(&a);
	/* ends in 1, but without it the bits are non-canonical: plain */
	assert_int_equal(b64_decode_any("Zm9vYmF1", &a), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.len[0], 6);
	b64_any_reset(&a);
	/* ends in 0 with a length no padding digit explains: plain */
	assert_int_equal(b64_decode_any("Zm9vYmE0", &a), 0);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.len[0], 6);
	b64_any_reset(&a);
}

static void
test_any_ambiguous(void **state)
{
	struct b64_any a;

	(void)state;
	/*
	 * Real id: valid as 44 chars of base64url (33 bytes) and as 43
	 * chars + padding digit 1 (32 bytes).  Both come back, plain first.
	 */
	assert_int_equal(b64_decode_any(ID_DIGIT1, &a), 0);
	assert_int_equal(a.n, 2);
	assert_reading(&a, 0, "30c783f30acd099fb485b7dd62fbc0233aecad319dfee5"
	    "ddb768976d8946252b35");
	assert_reading(&a, 1, "30c783f30acd099fb485b7dd62fbc0233aecad319dfee5"
	    "ddb768976d8946252b");
	b64_any_reset(&a);
	assert_int_equal(a.n, 0);
	assert_null(a.ptr[0]);
	assert_null(a.ptr[1]);
	/* bytes 00..1f as base64url + "1": also both */
	assert_int_equal(b64_decode_any("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka"
	    "GxwdHh81", &a), 0);
	assert_int_equal(a.n, 2);
	assert_int_equal(a.len[0], 33);
	assert_reading(&a, 1, "000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f");
	b64_any_reset(&a);
}

static void
test_any_reject(void **state)
{
	struct b64_any a;

	(void)state;
	assert_int_equal(b64_decode_any("", &a), -1);
	assert_int_equal(a.n, 0);
	/* a bare padding digit is no id at all */
	assert_int_equal(b64_decode_any("0", &a), -1);
	assert_int_equal(a.n, 0);
	assert_int_equal(b64_decode_any("1", &a), -1);
	assert_int_equal(b64_decode_any("=", &a), -1);
	assert_int_equal(b64_decode_any("==", &a), -1);
	/* digit that does not fit the length, and no plain reading */
	assert_int_equal(b64_decode_any("Zg1", &a), -1);
	assert_int_equal(a.n, 0);
	assert_int_equal(b64_decode_any("Zm9vY", &a), -1);
	/* standard with bad padding */
	assert_int_equal(b64_decode_any("Zg=", &a), -1);
	assert_int_equal(b64_decode_any("Zm9v=", &a), -1);
	/* mixed alphabets */
	assert_int_equal(b64_decode_any("+_+_", &a), -1);
	assert_int_equal(b64_decode_any("Zm9v-g==", &a), -1);
	/* whitespace and junk */
	assert_int_equal(b64_decode_any("Zm9v Yg", &a), -1);
	assert_int_equal(b64_decode_any("Zm9vYg\n", &a), -1);
	assert_int_equal(b64_decode_any("Zm9v\"", &a), -1);
	assert_int_equal(a.n, 0);
	assert_null(a.ptr[0]);
	/* reset of a never-filled struct is harmless */
	b64_any_reset(&a);
}

static void
test_hex(void **state)
{
	static const unsigned char b[] = { 0x00, 0x7f, 0xab, 0xff };
	char *s;

	(void)state;
	assert_int_equal(hex_encode(b, sizeof(b), &s), 0);
	assert_string_equal(s, "007fabff");
	free(s);
	assert_int_equal(hex_encode(b, 0, &s), 0);
	assert_string_equal(s, "");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_vectors),
		cmocka_unit_test(test_encode_alphabet),
		cmocka_unit_test(test_decode_vectors),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_url_strict),
		cmocka_unit_test(test_std_strict),
		cmocka_unit_test(test_any_standard),
		cmocka_unit_test(test_any_url),
		cmocka_unit_test(test_any_digit),
		cmocka_unit_test(test_any_ambiguous),
		cmocka_unit_test(test_any_reject),
		cmocka_unit_test(test_hex),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
