/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * webauthn_clientdata(): the exact clientDataJSON bytes the key signs
 * and Graph re-hashes (graph-api.md 1.3).
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
#include "webauthn.h"

static webauthn_options_t *
opts(const char *rp_id, const char *challenge)
{
	webauthn_options_t	*o = NULL;
	char			*doc, err[256];
	size_t			 n = strlen(challenge) + 512;

	assert_non_null(doc = malloc(n));
	snprintf(doc, n, "{\"publicKey\":{\"rp\":{\"id\":\"%s\"},\"user\":"
	    "{\"id\":\"dXNlcg\"},\"challenge\":\"%s\",\"pubKeyCredParams\":"
	    "[{\"type\":\"public-key\",\"alg\":-7}]}}", rp_id, challenge);
	if (webauthn_options_parse(doc, strlen(doc), &o, err, sizeof(err)) !=
	    WEBAUTHN_OK)
		fail_msg("%s", err);
	free(doc);

	return (o);
}

static void
check(const char *rp_id, const char *challenge, const char *want)
{
	webauthn_options_t	*o = opts(rp_id, challenge);
	char			*cd = NULL;
	size_t			 len = 0;

	assert_int_equal(webauthn_clientdata(o, &cd, &len), WEBAUTHN_OK);
	assert_non_null(cd);
	assert_string_equal(cd, want);
	assert_int_equal(len, strlen(want));
	free(cd);
	webauthn_options_free(&o);
}

static void
test_production_shape(void **state)
{
	(void)state;
	check("login.microsoft.com", "ZXlKaGJHY2lPaUpTVTBFdFQwRkZVQzB5TlRZaU",
	    "{\"type\":\"webauthn.create\",\"challenge\":\"ZXlKaGJHY2lPaUpTVTBF"
	    "dFQwRkZVQzB5TlRZaU\",\"origin\":\"https://login.microsoft.com\","
	    "\"crossOrigin\":false}");
}

/* the v1.0 doc's sample clientDataJSON, byte for byte */
static void
test_v1_doc_sample(void **state)
{
	static const char b64[] = "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbG"
	    "xlbmdlIjoiUVRVMU16TkROekF0TmtNM05pMDBOVFJETFVKRFEwWXRSVFJFTURaQ05U"
	    "QkZSVFJFIiwib3JpZ2luIjoiaHR0cHM6Ly9sb2dpbi5taWNyb3NvZnRvbmxpbmUuY2"
	    "9tIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ";
	webauthn_options_t	*o;
	unsigned char		*want;
	char			*cd, *enc;
	size_t			 wlen, len;

	(void)state;
	assert_int_equal(b64url_decode(b64, &want, &wlen), 0);
	o = opts("login.microsoftonline.com",
	    "QTU1MzNDNzAtNkM3Ni00NTRDLUJDQ0YtRTREMDZCNTBFRTRE");
	assert_int_equal(webauthn_clientdata(o, &cd, &len), WEBAUTHN_OK);
	assert_int_equal(len, wlen);
	assert_memory_equal(cd, want, len);
	/* and so the POSTed base64url is the doc's too */
	assert_int_equal(b64url_encode((unsigned char *)cd, len, &enc), 0);
	assert_string_equal(enc, b64);
	free(enc);
	free(cd);
	free(want);
	webauthn_options_free(&o);
}

static void
test_normalised_challenge(void **state)
{
	(void)state;
	/* standard alphabet and padding in, base64url without padding out */
	check("login.microsoft.com", "ab+/cd+/ef==",
	    "{\"type\":\"webauthn.create\",\"challenge\":\"ab-_cd-_ef\","
	    "\"origin\":\"https://login.microsoft.com\",\"crossOrigin\":"
	    "false}");
	check("example.org", "AAAA",
	    "{\"type\":\"webauthn.create\",\"challenge\":\"AAAA\","
	    "\"origin\":\"https://example.org\",\"crossOrigin\":false}");
}

static void
test_long_challenge(void **state)
{
	webauthn_options_t	*o;
	char			*chal, *cd, *want;
	size_t			 len, n = 6931;

	(void)state;
	assert_non_null(chal = malloc(n + 1));
	memset(chal, 'Q', n);
	chal[n - 1] = 'A';
	chal[n] = '\0';
	o = opts("login.microsoft.com", chal);
	assert_int_equal(webauthn_clientdata(o, &cd, &len), WEBAUTHN_OK);
	assert_non_null(want = malloc(n + 256));
	snprintf(want, n + 256, "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"%s\",\"origin\":\"https://login.microsoft.com\",\"crossOrigin\":"
	    "false}", chal);
	assert_string_equal(cd, want);
	assert_int_equal(len, strlen(want));
	free(want);
	free(cd);
	free(chal);
	webauthn_options_free(&o);
}

/* nothing in it may need escaping, and nothing is escaped */
static void
test_no_escapes(void **state)
{
	webauthn_options_t	*o;
	char			*cd;
	size_t			 len;

	(void)state;
	o = opts("a-b.example", "_-_-");
	assert_int_equal(webauthn_clientdata(o, &cd, &len), WEBAUTHN_OK);
	assert_null(strchr(cd, '\\'));
	assert_null(strchr(cd, ' '));
	assert_null(strchr(cd, '\n'));
	assert_string_equal(cd, "{\"type\":\"webauthn.create\",\"challenge\":"
	    "\"_-_-\",\"origin\":\"https://a-b.example\",\"crossOrigin\":"
	    "false}");
	free(cd);
	webauthn_options_free(&o);
}

static void
test_args(void **state)
{
	webauthn_options_t	*o;
	char			*cd = (char *)"x";
	size_t			 len = 9;

	(void)state;
	assert_int_equal(webauthn_clientdata(NULL, &cd, &len),
	    WEBAUTHN_ERR_ARG);
	assert_null(cd);
	assert_int_equal(len, 0);
	o = opts("example.org", "AAAA");
	assert_int_equal(webauthn_clientdata(o, NULL, &len), WEBAUTHN_ERR_ARG);
	assert_int_equal(webauthn_clientdata(o, &cd, NULL), WEBAUTHN_ERR_ARG);
	webauthn_options_free(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_production_shape),
		cmocka_unit_test(test_v1_doc_sample),
		cmocka_unit_test(test_normalised_challenge),
		cmocka_unit_test(test_long_challenge),
		cmocka_unit_test(test_no_escapes),
		cmocka_unit_test(test_args),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
