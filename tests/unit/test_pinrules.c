/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * PIN rules from ctap.h: the local CTAP check (UTF-8, 4..63 bytes,
 * minPINLength in code points), the strict vendor rules, and the random
 * PINs that must always obey them.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctap.h"

static void
test_check_length(void **state)
{
	char pin[80];

	(void)state;
	assert_int_equal(ctap_pin_check("1234", 4), CTAP_OK);
	assert_int_equal(ctap_pin_check("123", 4), CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("", 4), CTAP_ERR_PIN_POLICY);
	/* a minimum below CTAP's 4 does not lower it */
	assert_int_equal(ctap_pin_check("123", 0), CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("123", 2), CTAP_ERR_PIN_POLICY);
	/* the key's minPINLength */
	assert_int_equal(ctap_pin_check("1234567", 8), CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("12345678", 8), CTAP_OK);
	/* 63 bytes is the CTAP maximum */
	memset(pin, '7', 63);
	pin[63] = '\0';
	assert_int_equal(ctap_pin_check(pin, 4), CTAP_OK);
	pin[63] = '7';
	pin[64] = '\0';
	assert_int_equal(ctap_pin_check(pin, 4), CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check(NULL, 4), CTAP_ERR_ARG);
}

static void
test_check_utf8(void **state)
{
	char pin[80];
	int i;

	(void)state;
	/* minimum counts code points, not bytes */
	assert_int_equal(ctap_pin_check("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4),
	    CTAP_OK);
	assert_int_equal(ctap_pin_check("\xc3\xa9\xc3\xa9\xc3\xa9", 4),
	    CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("\xe2\x82\xac" "123", 4), CTAP_OK);
	assert_int_equal(ctap_pin_check("\xf0\x9f\x94\x91" "12", 4),
	    CTAP_ERR_PIN_POLICY);
	/* the 63-byte cap still counts bytes: 16 x 4 bytes = 64 */
	pin[0] = '\0';
	for (i = 0; i < 16; i++)
		strcat(pin, "\xf0\x9f\x94\x91");
	assert_int_equal(ctap_pin_check(pin, 4), CTAP_ERR_PIN_POLICY);
	/* invalid UTF-8 never reaches a key */
	assert_int_equal(ctap_pin_check("\xff\xfe" "1234", 4),
	    CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("1234\xc3", 4), CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("12\xc3" "34", 4),
	    CTAP_ERR_PIN_POLICY);
	/* overlong '/', a surrogate, past U+10FFFF */
	assert_int_equal(ctap_pin_check("\xc0\xaf" "1234", 4),
	    CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("\xed\xa0\x80" "1234", 4),
	    CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("\xf4\x90\x80\x80" "1234", 4),
	    CTAP_ERR_PIN_POLICY);
	assert_int_equal(ctap_pin_check("\x80" "1234", 4),
	    CTAP_ERR_PIN_POLICY);
}

static void
test_strong(void **state)
{
	static const char *good[] = {
		"285714", "2468024", "11223344", "90817263", "13579135",
		"58204736", "001928",
	};
	static const char *bad[] = {
		"12345", "123456", "654321", "98765432",
		"890123",	/* 0,1,2 */
		"111222",	/* three in a row */
		"120007",
		"123321",	/* palindrome */
		"135531", "2580852",
		"121212",	/* fewer than four distinct digits */
		"112233", "919191",
		"12a456", "", "abcdef", "1234 5678",
		"\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ctap_pin_strong(good[i]))
			fail_msg("\"%s\" should be strong", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ctap_pin_strong(bad[i]))
			fail_msg("\"%s\" should be weak", bad[i]);
	assert_false(ctap_pin_strong(NULL));
}

/* Token2 PIN+ (graph-api.md 6.3): no 6-digit runs, no 4+ repeats */
static bool
token2_ok(const char *p)
{
	size_t	i, n = strlen(p), run = 1, up = 1, down = 1;

	for (i = 1; i < n; i++) {
		run = p[i] == p[i - 1] ? run + 1 : 1;
		up = p[i] - p[i - 1] == 1 ? up + 1 : 1;
		down = p[i - 1] - p[i] == 1 ? down + 1 : 1;
		if (run >= 4 || up >= 6 || down >= 6)
			return (false);
	}
	for (i = 0; i < n / 2; i++)
		if (p[i] != p[n - 1 - i])
			return (true);

	return (false);
}

static void
test_random(void **state)
{
	char	pin[CTAP_PIN_MAX + 1], prev[CTAP_PIN_MAX + 1];
	size_t	len, i;
	int	k, counts[10] = { 0 };

	(void)state;
	prev[0] = '\0';
	for (len = 6; len <= 12; len++) {
		for (k = 0; k < 300; k++) {
			memset(pin, 'X', sizeof(pin));
			assert_int_equal(ctap_pin_random(pin, len), CTAP_OK);
			assert_int_equal(strlen(pin), len);
			for (i = 0; i < len; i++) {
				assert_true(pin[i] >= '0' && pin[i] <= '9');
				counts[pin[i] - '0']++;
			}
			assert_true(ctap_pin_strong(pin));
			assert_true(token2_ok(pin));
			assert_int_equal(ctap_pin_check(pin, len), CTAP_OK);
			if (len >= 8)
				assert_string_not_equal(pin, prev);
			strcpy(prev, pin);
		}
	}
	/* every digit turns up, none dominates (about 10% each) */
	for (k = 0; k < 10; k++) {
		assert_true(counts[k] > 1000);
		assert_true(counts[k] < 2400);
	}
	assert_int_equal(ctap_pin_random(pin, CTAP_PIN_MAX), CTAP_OK);
	assert_int_equal(strlen(pin), CTAP_PIN_MAX);
	assert_int_equal(ctap_pin_random(pin, 5), CTAP_ERR_ARG);
	assert_int_equal(ctap_pin_random(pin, CTAP_PIN_MAX + 1), CTAP_ERR_ARG);
	assert_int_equal(ctap_pin_random(NULL, 8), CTAP_ERR_ARG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_length),
		cmocka_unit_test(test_check_utf8),
		cmocka_unit_test(test_strong),
		cmocka_unit_test(test_random),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
