/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * libFuzzer target: the attestationObject codec (ctap/attobj.c).  The
 * input is an attestationObject.  What parses must survive the trip
 * through the encoder unchanged, and goes on to ctap_attobj_verify for
 * a fixed clientDataJSON and rp, so that authData's own parsing (COSE
 * key, extensions) and libfido2's packed check see it too.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char cdata[] = "{\"type\":\"webauthn.create\","
    "\"challenge\":\"ZXlKaGJHY2lPaUpTVTBFdFQwRkZVQzB5TlRZaUxDSmxibU1pT2lK\","
    "\"origin\":\"https://login.microsoft.com\",\"crossOrigin\":false}";

static void
same(const ctap_attobj_t *a, const ctap_attobj_t *b)
{
	if (strcmp(ctap_attobj_fmt(a), ctap_attobj_fmt(b)) != 0 ||
	    ctap_attobj_stmt_len(a) != ctap_attobj_stmt_len(b) ||
	    memcmp(ctap_attobj_stmt_ptr(a), ctap_attobj_stmt_ptr(b),
	    ctap_attobj_stmt_len(a)) != 0 ||
	    ctap_attobj_authdata_len(a) != ctap_attobj_authdata_len(b) ||
	    memcmp(ctap_attobj_authdata_ptr(a), ctap_attobj_authdata_ptr(b),
	    ctap_attobj_authdata_len(a)) != 0 ||
	    ctap_attobj_cred_id_len(a) != ctap_attobj_cred_id_len(b))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool	 init;
	ctap_attobj_t	*a = NULL, *b = NULL;
	unsigned char	*out = NULL, *again = NULL;
	size_t		 outlen, againlen;
	char		*fmt = NULL;

	if (!init) {
		ctap_init();
		init = true;
	}
	if ((a = ctap_attobj_new()) == NULL || (b = ctap_attobj_new()) == NULL)
		abort();
	if (ctap_attobj_parse(a, data, size) != CTAP_OK) {
		/* a failed parse leaves nothing to read */
		if (ctap_attobj_fmt(a) != NULL ||
		    ctap_attobj_authdata_ptr(a) != NULL)
			abort();
		goto out;
	}
	if (ctap_attobj_cred_id_ptr(a) != NULL &&
	    (ctap_attobj_cred_id_len(a) == 0 ||
	    ctap_attobj_cred_id_len(a) > CTAP_CREDID_MAX))
		abort();
	/*
	 * What parses re-encodes: libcbor writes attStmt no longer than it
	 * was, our heads are the shortest.  The result is canonical, so a
	 * second round is the identity.
	 */
	if (ctap_attobj_encode(ctap_attobj_fmt(a), ctap_attobj_stmt_ptr(a),
	    ctap_attobj_stmt_len(a), ctap_attobj_authdata_ptr(a),
	    ctap_attobj_authdata_len(a), &out, &outlen) != CTAP_OK ||
	    outlen > size || ctap_attobj_parse(b, out, outlen) != CTAP_OK)
		abort();
	same(a, b);
	if (ctap_attobj_encode(ctap_attobj_fmt(b), ctap_attobj_stmt_ptr(b),
	    ctap_attobj_stmt_len(b), ctap_attobj_authdata_ptr(b),
	    ctap_attobj_authdata_len(b), &again, &againlen) != CTAP_OK ||
	    againlen != outlen || memcmp(again, out, outlen) != 0)
		abort();
	(void)ctap_attobj_verify(data, size, (const unsigned char *)cdata,
	    sizeof(cdata) - 1, "login.microsoft.com", (size & 1) != 0,
	    (int)(size % 4), (size & 2) != 0, &fmt);
out:
	free(fmt);
	free(out);
	free(again);
	ctap_attobj_free(&a);
	ctap_attobj_free(&b);

	return (0);
}
