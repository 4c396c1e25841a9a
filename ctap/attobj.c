/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The WebAuthn attestationObject {fmt, attStmt, authData}: the one
 * encoder and the one parser, so that what we send and what we accept
 * follow the same rules.
 *
 * An attestationObject is valid when:
 *  - it is 1..CTAP_ATTOBJ_MAX bytes holding exactly one CBOR item, with
 *    nothing after it, and no array or map in it announces more
 *    entries than there are bytes left (libcbor would allocate them);
 *  - that item is a definite-length map of exactly three pairs whose
 *    keys are the definite text strings "fmt", "attStmt" and
 *    "authData", each once;
 *  - fmt is a definite text string of 1..CTAP_FMT_MAX printable ASCII
 *    characters other than '"' and '\' (WebAuthn 8.1 says MUST);
 *  - attStmt is a definite-length map (its contents are the format's
 *    business: ctap_attobj_verify);
 *  - authData is a definite byte string of at least CTAP_AUTHDATA_MIN
 *    bytes (rpIdHash, flags, signCount).
 * Key order is not checked: WebAuthn leaves the encoding of the map to
 * the client that builds it, and a verifier that insisted on canonical
 * order would refuse registrations any RP accepts.  We write canonical
 * order ourselves.  Indefinite lengths are refused at the top and in
 * attStmt: CTAP2 canonical CBOR has none, no client writes them, and
 * libfido2 refuses an indefinite attStmt anyway.
 */

#include <cbor.h>
#include <stdlib.h>
#include <string.h>

#include "ctap_int.h"

struct ctap_attobj {
	char		 fmt[CTAP_FMT_MAX + 1];
	unsigned char	*stmt;		/* the attStmt map, CBOR */
	size_t		 stmt_len;
	unsigned char	*ad;		/* authData, raw */
	size_t		 ad_len;
};

/* a CBOR pre-scan: how many bytes are left for the item being read */
struct scan {
	size_t	left;
	bool	bad;
};

static void
scan_array(void *arg, size_t n)
{
	struct scan *s = arg;

	if (n > s->left)
		s->bad = true;
}

static void
scan_map(void *arg, size_t n)
{
	struct scan *s = arg;

	if (n > s->left / 2)
		s->bad = true;
}

/*
 * cbor_load() allocates a definite array or map by its announced size
 * before reading a single entry: 9 bytes can ask for 64 GiB.  Walk the
 * heads with libcbor's streaming decoder first and refuse any count
 * the remaining input cannot hold.
 */
cbor_item_t *
ctap_cbor_load(const unsigned char *ptr, size_t len,
    struct cbor_load_result *res)
{
	struct cbor_callbacks		cb = cbor_empty_callbacks;
	struct cbor_decoder_result	dr;
	struct scan			s;
	size_t				off = 0;

	cb.array_start = scan_array;
	cb.map_start = scan_map;
	memset(&s, 0, sizeof(s));
	while (off < len) {
		s.left = len - off;
		dr = cbor_stream_decode(ptr + off, len - off, &cb, &s);
		if (dr.status != CBOR_DECODER_FINISHED || s.bad) {
			memset(res, 0, sizeof(*res));
			res->error.code = CBOR_ERR_MALFORMATED;
			res->error.position = off;
			return (NULL);
		}
		off += dr.read;
	}

	return (cbor_load(ptr, len, res));
}

/* authData: rpIdHash[32] flags[1] counter[4] aaguid[16] L[2] credId[L] */
int
ctap_authdata_cred_id(const unsigned char *ad, size_t len, size_t *off,
    size_t *idlen)
{
	size_t l;

	if (ad == NULL || len < CTAP_AD_CREDID_OFF || !(ad[32] & CTAP_AD_AT))
		return (-1);
	l = (size_t)ad[CTAP_AD_CREDID_OFF - 2] << 8 |
	    ad[CTAP_AD_CREDID_OFF - 1];
	/* WebAuthn caps credential ids at 1023 bytes */
	if (l == 0 || l > CTAP_CREDID_MAX || len - CTAP_AD_CREDID_OFF < l)
		return (-1);
	*off = CTAP_AD_CREDID_OFF;
	*idlen = l;

	return (0);
}

static bool
fmt_ok(const unsigned char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CTAP_FMT_MAX)
		return (false);
	for (i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == '"' || s[i] == '\\')
			return (false);

	return (true);
}

bool
ctap_cbor_key_is(const cbor_item_t *k, const char *s)
{
	size_t n = strlen(s);

	return (cbor_isa_string(k) && cbor_string_is_definite(k) &&
	    cbor_string_length(k) == n &&
	    memcmp(cbor_string_handle(k), s, n) == 0);
}

static void
attobj_reset(ctap_attobj_t *a)
{
	free(a->stmt);
	free(a->ad);
	memset(a, 0, sizeof(*a));
}

ctap_attobj_t *
ctap_attobj_new(void)
{
	return (calloc(1, sizeof(ctap_attobj_t)));
}

void
ctap_attobj_free(ctap_attobj_t **ap)
{
	ctap_attobj_t *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	attobj_reset(a);
	free(a);
	*ap = NULL;
}

/* one pair of the top-level map; a repeated key is an error */
static int
take(ctap_attobj_t *a, const cbor_item_t *k, cbor_item_t *v)
{
	size_t len, sz;

	if (ctap_cbor_key_is(k, "fmt")) {
		if (a->fmt[0] != '\0' || !cbor_isa_string(v) ||
		    !cbor_string_is_definite(v) ||
		    !fmt_ok(cbor_string_handle(v), cbor_string_length(v)))
			return (CTAP_ERR_PROTOCOL);
		len = cbor_string_length(v);
		memcpy(a->fmt, cbor_string_handle(v), len);
		a->fmt[len] = '\0';
	} else if (ctap_cbor_key_is(k, "attStmt")) {
		if (a->stmt != NULL || !cbor_isa_map(v) ||
		    !cbor_map_is_definite(v))
			return (CTAP_ERR_PROTOCOL);
		/* libcbor's encoding of what it read: verbatim for the
		 * shortest-form maps keys write */
		if ((a->stmt_len = cbor_serialize_alloc(v, &a->stmt,
		    &sz)) == 0)
			return (CTAP_ERR_INTERNAL);
	} else if (ctap_cbor_key_is(k, "authData")) {
		if (a->ad != NULL || !cbor_isa_bytestring(v) ||
		    !cbor_bytestring_is_definite(v) ||
		    (len = cbor_bytestring_length(v)) < CTAP_AUTHDATA_MIN)
			return (CTAP_ERR_PROTOCOL);
		if ((a->ad = malloc(len)) == NULL)
			return (CTAP_ERR_INTERNAL);
		memcpy(a->ad, cbor_bytestring_handle(v), len);
		a->ad_len = len;
	} else
		return (CTAP_ERR_PROTOCOL);

	return (CTAP_OK);
}

int
ctap_attobj_parse(ctap_attobj_t *a, const unsigned char *ptr, size_t len)
{
	struct cbor_load_result	 res;
	cbor_item_t		*item = NULL;
	struct cbor_pair	*pairs;
	size_t			 i;
	int			 r;

	if (a == NULL || ptr == NULL)
		return (CTAP_ERR_ARG);
	attobj_reset(a);
	if (len == 0 || len > CTAP_ATTOBJ_MAX)
		return (CTAP_ERR_PROTOCOL);
	if ((item = ctap_cbor_load(ptr, len, &res)) == NULL) {
		r = res.error.code == CBOR_ERR_MEMERROR ? CTAP_ERR_INTERNAL :
		    CTAP_ERR_PROTOCOL;
		goto fail;
	}
	r = CTAP_ERR_PROTOCOL;
	if (res.read != len || !cbor_isa_map(item) ||
	    !cbor_map_is_definite(item) || cbor_map_size(item) != 3 ||
	    (pairs = cbor_map_handle(item)) == NULL)
		goto fail;
	for (i = 0; i < 3; i++)
		if ((r = take(a, pairs[i].key, pairs[i].value)) != CTAP_OK)
			goto fail;
	/* three pairs, three different keys: all are there */
	r = CTAP_OK;
fail:
	if (item != NULL)
		cbor_decref(&item);
	if (r != CTAP_OK)
		attobj_reset(a);

	return (r);
}

const char *
ctap_attobj_fmt(const ctap_attobj_t *a)
{
	return (a->fmt[0] != '\0' ? a->fmt : NULL);
}

const unsigned char *
ctap_attobj_stmt_ptr(const ctap_attobj_t *a)
{
	return (a->stmt);
}

size_t
ctap_attobj_stmt_len(const ctap_attobj_t *a)
{
	return (a->stmt_len);
}

const unsigned char *
ctap_attobj_authdata_ptr(const ctap_attobj_t *a)
{
	return (a->ad);
}

size_t
ctap_attobj_authdata_len(const ctap_attobj_t *a)
{
	return (a->ad_len);
}

const unsigned char *
ctap_attobj_cred_id_ptr(const ctap_attobj_t *a)
{
	size_t off, len;

	if (ctap_authdata_cred_id(a->ad, a->ad_len, &off, &len) < 0)
		return (NULL);

	return (a->ad + off);
}

size_t
ctap_attobj_cred_id_len(const ctap_attobj_t *a)
{
	size_t off, len;

	if (ctap_authdata_cred_id(a->ad, a->ad_len, &off, &len) < 0)
		return (0);

	return (len);
}

/* attStmt handed to the encoder: one definite map, nothing more */
static bool
stmt_ok(const unsigned char *p, size_t len)
{
	struct cbor_load_result	 res;
	cbor_item_t		*item;
	bool			 ok;

	if (len == 0 || len > CTAP_ATTOBJ_MAX ||
	    (item = ctap_cbor_load(p, len, &res)) == NULL)
		return (false);
	ok = res.read == len && cbor_isa_map(item) &&
	    cbor_map_is_definite(item);
	cbor_decref(&item);

	return (ok);
}

/* w: what a cbor_encode_*_start() wrote, 0 if it did not fit */
static int
put_head(size_t cap, size_t *n, size_t w)
{
	if (w == 0 || w > cap - *n)
		return (-1);
	*n += w;

	return (0);
}

static int
put_bytes(unsigned char *p, size_t cap, size_t *n, const void *s,
    size_t len)
{
	if (len > cap - *n)
		return (-1);
	memcpy(p + *n, s, len);
	*n += len;

	return (0);
}

static int
put_text(unsigned char *p, size_t cap, size_t *n, const char *s, size_t len)
{
	if (put_head(cap, n, cbor_encode_string_start(len, p + *n,
	    cap - *n)) < 0)
		return (-1);

	return (put_bytes(p, cap, n, s, len));
}

/*
 * Keys in CTAP2 canonical order (shorter first: fmt, attStmt,
 * authData), every head in its shortest form.  attStmt is copied as
 * given; authData's bytes are what the signature covers, so they are
 * copied too, never re-encoded.
 */
int
ctap_attobj_encode(const char *fmt, const unsigned char *stmt,
    size_t stmt_len, const unsigned char *ad, size_t ad_len,
    unsigned char **out, size_t *outlen)
{
	static const unsigned char	 empty[] = { 0xa0 };	/* {} */
	unsigned char			*p = NULL;
	size_t				 fmt_len, cap, n = 0;
	int				 r = CTAP_ERR_ARG;

	if (out != NULL)
		*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (fmt == NULL || ad == NULL || out == NULL || outlen == NULL ||
	    (stmt == NULL && stmt_len != 0))
		return (CTAP_ERR_ARG);
	if (stmt == NULL) {
		stmt = empty;
		stmt_len = sizeof(empty);
	}
	fmt_len = strlen(fmt);
	if (!fmt_ok((const unsigned char *)fmt, fmt_len) ||
	    !stmt_ok(stmt, stmt_len) || ad_len < CTAP_AUTHDATA_MIN ||
	    ad_len > CTAP_ATTOBJ_MAX)
		return (CTAP_ERR_ARG);
	/* map head, three keys, the fmt string, the authData head */
	cap = 1 + (1 + 3) + (1 + 7) + (1 + 8) + (2 + fmt_len) + stmt_len +
	    (3 + ad_len);
	if ((p = malloc(cap)) == NULL)
		return (CTAP_ERR_INTERNAL);
	if (put_head(cap, &n, cbor_encode_map_start(3, p, cap)) < 0 ||
	    put_text(p, cap, &n, "fmt", 3) < 0 ||
	    put_text(p, cap, &n, fmt, fmt_len) < 0 ||
	    put_text(p, cap, &n, "attStmt", 7) < 0 ||
	    put_bytes(p, cap, &n, stmt, stmt_len) < 0 ||
	    put_text(p, cap, &n, "authData", 8) < 0 ||
	    put_head(cap, &n, cbor_encode_bytestring_start(ad_len, p + n,
	    cap - n)) < 0 ||
	    put_bytes(p, cap, &n, ad, ad_len) < 0) {
		r = CTAP_ERR_INTERNAL;
		goto fail;
	}
	/* what we write must pass our own parser */
	if (n > CTAP_ATTOBJ_MAX)
		goto fail;
	*out = p;
	*outlen = n;
	p = NULL;
	r = CTAP_OK;
fail:
	free(p);

	return (r);
}
