/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * CBOR helpers: a well-formedness check that bounds every declared size
 * before libcbor allocates anything, and a CTAP2 canonical encoder.
 *
 * Canonical (CTAP2 §8): integers and lengths in their shortest form,
 * definite lengths only, map keys sorted by major type, then by encoded
 * length, then bytewise. libcbor's own serializer keeps insertion order
 * and the declared integer width, so every reply goes through
 * cbu_encode() instead.
 */

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extern.h"

/* state files included: a struct buf, as those hold private keys */
#define ENC_MAX (4 * 1024 * 1024)

static int
read_head(const unsigned char *p, size_t len, size_t *off, uint8_t *mt,
    uint8_t *ai, uint64_t *val)
{
	size_t n, i;

	if (*off >= len)
		return (-1);
	*mt = p[*off] >> 5;
	*ai = p[*off] & 0x1f;
	(*off)++;
	if (*ai < 24) {
		*val = *ai;
		return (0);
	}
	if (*ai > 27)
		return (-1); /* reserved, or indefinite length */
	n = (size_t)1 << (*ai - 24);
	if (len - *off < n)
		return (-1);
	*val = 0;
	for (i = 0; i < n; i++)
		*val = (*val << 8) | p[(*off)++];

	return (0);
}

static int
skip_item(const unsigned char *p, size_t len, size_t *off, int depth,
    int maxdepth)
{
	uint8_t mt, ai;
	uint64_t val, i;

	if (depth > maxdepth || read_head(p, len, off, &mt, &ai, &val) < 0)
		return (-1);

	switch (mt) {
	case 0:
	case 1:
		return (0);
	case 2:
	case 3:
		if (val > len - *off)
			return (-1);
		*off += (size_t)val;
		return (0);
	case 4:
		if (val > len - *off)
			return (-1);
		for (i = 0; i < val; i++)
			if (skip_item(p, len, off, depth + 1, maxdepth) < 0)
				return (-1);
		return (0);
	case 5:
		if (val > (len - *off) / 2)
			return (-1);
		for (i = 0; i < val; i++)
			if (skip_item(p, len, off, depth + 1, maxdepth) < 0 ||
			    skip_item(p, len, off, depth + 1, maxdepth) < 0)
				return (-1);
		return (0);
	case 6:
		return (skip_item(p, len, off, depth + 1, maxdepth));
	default:
		/* simple values and floats; 0xf8 < 32 is not well-formed */
		if (ai == 24 && val < 32)
			return (-1);
		return (0);
	}
}

/*
 * Is buf exactly one well-formed, definite-length CBOR item no deeper than
 * maxdepth? Every array/map count and string length is bounded by the
 * bytes left, so libcbor never allocates more than a few times len.
 */
int
cbu_check(const unsigned char *buf, size_t len, int maxdepth)
{
	size_t off = 0;

	if (buf == NULL || len == 0)
		return (-1);
	if (skip_item(buf, len, &off, 0, maxdepth) < 0 || off != len)
		return (-1);

	return (0);
}

/*
 * Find the raw encoding of the value stored under integer key `key' in the
 * top-level map of buf (already checked by cbu_check). Returns 0 and the
 * span, 1 if absent, -1 if buf is not a map.
 */
int
cbu_map_raw(const unsigned char *buf, size_t len, int64_t key, size_t *voff,
    size_t *vlen)
{
	size_t off = 0, start;
	uint8_t mt, ai;
	uint64_t n, i, kv;
	int64_t k;

	if (read_head(buf, len, &off, &mt, &ai, &n) < 0 || mt != 5)
		return (-1);
	for (i = 0; i < n; i++) {
		start = off;
		if (read_head(buf, len, &off, &mt, &ai, &kv) < 0)
			return (-1);
		off = start;
		if (skip_item(buf, len, &off, 0, CBOR_MAX_DEPTH) < 0)
			return (-1);
		k = -1;
		if (mt == 0 && kv <= INT64_MAX)
			k = (int64_t)kv;
		else if (mt == 1 && kv <= INT64_MAX)
			k = -1 - (int64_t)kv;
		start = off;
		if (skip_item(buf, len, &off, 0, CBOR_MAX_DEPTH) < 0)
			return (-1);
		if ((mt == 0 || mt == 1) && k == key && kv <= INT64_MAX) {
			*voff = start;
			*vlen = off - start;
			return (0);
		}
	}

	return (1);
}

static int
put_head(struct buf *b, uint8_t mt, uint64_t v)
{
	unsigned char h[9];
	size_t n, i;

	mt = (uint8_t)(mt << 5);
	if (v < 24) {
		h[0] = (unsigned char)(mt | v);
		n = 1;
	} else if (v <= 0xff) {
		h[0] = mt | 24;
		n = 2;
	} else if (v <= 0xffff) {
		h[0] = mt | 25;
		n = 3;
	} else if (v <= 0xffffffffULL) {
		h[0] = mt | 26;
		n = 5;
	} else {
		h[0] = mt | 27;
		n = 9;
	}
	for (i = n - 1; i > 0; i--) {
		h[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}

	return (buf_append(b, h, n));
}

struct enc_key {
	struct buf kb;
	size_t idx;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct enc_key *x = a, *y = b;
	int mx = x->kb.ptr[0] >> 5, my = y->kb.ptr[0] >> 5;

	if (mx != my)
		return (mx < my ? -1 : 1);
	if (x->kb.len != y->kb.len)
		return (x->kb.len < y->kb.len ? -1 : 1);

	return (memcmp(x->kb.ptr, y->kb.ptr, x->kb.len));
}

static int enc_item(struct buf *, const cbor_item_t *, int, int);

static int
enc_string(struct buf *b, uint8_t mt, const cbor_item_t *it)
{
	const unsigned char *p;
	size_t n;

	if (mt == 2) {
		if (!cbor_bytestring_is_definite(it))
			return (-1);
		p = cbor_bytestring_handle(it);
		n = cbor_bytestring_length(it);
	} else {
		if (!cbor_string_is_definite(it))
			return (-1);
		p = cbor_string_handle(it);
		n = cbor_string_length(it);
	}
	if (n > 0 && p == NULL)
		return (-1);
	if (put_head(b, mt, n) < 0 || buf_append(b, p, n) < 0)
		return (-1);

	return (0);
}

static int
enc_map(struct buf *b, const cbor_item_t *it, int flags, int depth)
{
	struct cbor_pair *pairs = cbor_map_handle(it);
	struct enc_key *keys = NULL;
	size_t n = cbor_map_size(it), i, j;
	int r = -1;

	if (n > 0 && pairs == NULL)
		return (-1);
	if (n > 0 && (keys = calloc(n, sizeof(*keys))) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		keys[i].idx = i;
		buf_init(&keys[i].kb, ENC_MAX);
		if (enc_item(&keys[i].kb, pairs[i].key, 0, depth + 1) < 0 ||
		    keys[i].kb.len == 0)
			goto fail;
	}
	if (n > 1)
		qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 1; i < n; i++)
		if (key_cmp(&keys[i - 1], &keys[i]) == 0)
			goto fail; /* duplicate key */
	if (put_head(b, 5, n) < 0)
		goto fail;
	for (i = 0; i < n; i++) {
		/* fault injection: reverse the order of the top-level map */
		j = (flags & CBU_NONCANONICAL) && depth == 0 ? n - 1 - i : i;
		if (buf_append(b, keys[j].kb.ptr, keys[j].kb.len) < 0 ||
		    enc_item(b, pairs[keys[j].idx].value, 0, depth + 1) < 0)
			goto fail;
	}

	r = 0;
fail:
	for (i = 0; keys != NULL && i < n; i++)
		buf_reset(&keys[i].kb);
	free(keys);

	return (r);
}

static int
enc_item(struct buf *b, const cbor_item_t *it, int flags, int depth)
{
	size_t i, n;

	if (it == NULL || depth > CBOR_MAX_DEPTH)
		return (-1);

	switch (cbor_typeof(it)) {
	case CBOR_TYPE_UINT:
		return (put_head(b, 0, cbor_get_int(it)));
	case CBOR_TYPE_NEGINT:
		return (put_head(b, 1, cbor_get_int(it)));
	case CBOR_TYPE_BYTESTRING:
		return (enc_string(b, 2, it));
	case CBOR_TYPE_STRING:
		return (enc_string(b, 3, it));
	case CBOR_TYPE_ARRAY:
		n = cbor_array_size(it);
		if (put_head(b, 4, n) < 0)
			return (-1);
		for (i = 0; i < n; i++)
			if (enc_item(b, cbor_array_handle(it)[i], 0,
				depth + 1) < 0)
				return (-1);
		return (0);
	case CBOR_TYPE_MAP:
		return (enc_map(b, it, flags, depth));
	case CBOR_TYPE_TAG:
		if (put_head(b, 6, cbor_tag_value(it)) < 0)
			return (-1);
		return (enc_item(b, cbor_tag_item(it), 0, depth + 1));
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_float_get_width(it) != CBOR_FLOAT_0 ||
		    cbor_ctrl_value(it) >= 24)
			return (-1); /* no floats in CTAP */
		return (put_head(b, 7, cbor_ctrl_value(it)));
	default:
		return (-1);
	}
}

/* Serialise it canonically into a fresh buffer. */
int
cbu_encode(const cbor_item_t *it, int flags, unsigned char **out,
    size_t *outlen)
{
	struct buf b;

	buf_init(&b, ENC_MAX);
	*out = NULL;
	*outlen = 0;
	if (enc_item(&b, it, flags, 0) < 0 || b.len == 0) {
		buf_reset(&b);
		return (-1);
	}
	if ((*out = buf_release(&b, outlen)) == NULL)
		return (-1);

	return (0);
}

/* builders */

cbor_item_t *
cbu_uint(uint64_t v)
{
	return (cbor_build_uint64(v));
}

cbor_item_t *
cbu_int(int64_t v)
{
	if (v >= 0)
		return (cbor_build_uint64((uint64_t)v));

	return (cbor_build_negint64((uint64_t)(-(v + 1))));
}

cbor_item_t *
cbu_bytes(const void *p, size_t n)
{
	static const unsigned char empty[1];

	if (p == NULL)
		p = empty;

	return (cbor_build_bytestring(p, n));
}

cbor_item_t *
cbu_text(const char *s)
{
	if (s == NULL)
		return (NULL);

	return (cbor_build_string(s));
}

cbor_item_t *
cbu_bool(int v)
{
	return (cbor_build_bool(v != 0));
}

cbor_item_t *
cbu_map(void)
{
	return (cbor_new_indefinite_map());
}

cbor_item_t *
cbu_array(void)
{
	return (cbor_new_indefinite_array());
}

/* Add k => v to map; always consumes k and v (NULL means failure). */
int
cbu_put(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
	int ok = 0;

	if (map != NULL && k != NULL && v != NULL)
		ok =
		    cbor_map_add(map, (struct cbor_pair){.key = k, .value = v});
	if (k != NULL)
		cbor_decref(&k);
	if (v != NULL)
		cbor_decref(&v);

	return (ok ? 0 : -1);
}

int
cbu_put_int(cbor_item_t *map, int64_t k, cbor_item_t *v)
{
	return (cbu_put(map, cbu_int(k), v));
}

int
cbu_put_str(cbor_item_t *map, const char *k, cbor_item_t *v)
{
	return (cbu_put(map, cbu_text(k), v));
}

/* Like cbu_put_int/cbu_put_str, but take *v and set it to NULL. */
int
cbu_put_intp(cbor_item_t *map, int64_t k, cbor_item_t **v)
{
	cbor_item_t *t = *v;

	*v = NULL;

	return (cbu_put(map, cbu_int(k), t));
}

int
cbu_put_strp(cbor_item_t *map, const char *k, cbor_item_t **v)
{
	cbor_item_t *t = *v;

	*v = NULL;

	return (cbu_put(map, cbu_text(k), t));
}

int
cbu_pushp(cbor_item_t *arr, cbor_item_t **v)
{
	cbor_item_t *t = *v;

	*v = NULL;

	return (cbu_push(arr, t));
}

/* Append v to array; always consumes v. */
int
cbu_push(cbor_item_t *arr, cbor_item_t *v)
{
	int ok = 0;

	if (arr != NULL && v != NULL)
		ok = cbor_array_push(arr, v);
	if (v != NULL)
		cbor_decref(&v);

	return (ok ? 0 : -1);
}

/* readers */

const cbor_item_t *
cbu_get(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *p;
	size_t i, n;
	int64_t k;

	if (map == NULL || !cbor_isa_map(map))
		return (NULL);
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		if (cbu_as_int(p[i].key, &k) == 0 && k == key)
			return (p[i].value);
	}

	return (NULL);
}

const cbor_item_t *
cbu_get_str(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *p;
	size_t i, n, kl = strlen(key);

	if (map == NULL || !cbor_isa_map(map))
		return (NULL);
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++) {
		if (cbor_isa_string(p[i].key) &&
		    cbor_string_is_definite(p[i].key) &&
		    cbor_string_length(p[i].key) == kl &&
		    (kl == 0 ||
			memcmp(cbor_string_handle(p[i].key), key, kl) == 0))
			return (p[i].value);
	}

	return (NULL);
}

int
cbu_as_bytes(const cbor_item_t *it, const unsigned char **p, size_t *n)
{
	static const unsigned char empty[1];

	if (it == NULL || !cbor_isa_bytestring(it) ||
	    !cbor_bytestring_is_definite(it))
		return (-1);
	*n = cbor_bytestring_length(it);
	*p = *n ? cbor_bytestring_handle(it) : empty;
	if (*p == NULL)
		return (-1);

	return (0);
}

/* Copy a text string; no embedded NUL, at most maxlen bytes. */
int
cbu_as_text(const cbor_item_t *it, char **s, size_t maxlen)
{
	const unsigned char *p;
	size_t n;

	*s = NULL;
	if (it == NULL || !cbor_isa_string(it) || !cbor_string_is_definite(it))
		return (-1);
	n = cbor_string_length(it);
	p = cbor_string_handle(it);
	if (n > maxlen || (n > 0 && p == NULL) ||
	    (n > 0 && memchr(p, 0, n) != NULL))
		return (-1);
	if ((*s = calloc(1, n + 1)) == NULL)
		return (-1);
	if (n > 0)
		memcpy(*s, p, n);

	return (0);
}

int
cbu_as_uint(const cbor_item_t *it, uint64_t *v)
{
	if (it == NULL || !cbor_isa_uint(it))
		return (-1);
	*v = cbor_get_int(it);

	return (0);
}

int
cbu_as_int(const cbor_item_t *it, int64_t *v)
{
	uint64_t u;

	if (it == NULL || (!cbor_isa_uint(it) && !cbor_isa_negint(it)))
		return (-1);
	u = cbor_get_int(it);
	if (u > INT64_MAX)
		return (-1);
	*v = cbor_isa_uint(it) ? (int64_t)u : -1 - (int64_t)u;

	return (0);
}

int
cbu_as_bool(const cbor_item_t *it, int *v)
{
	if (it == NULL || !cbor_is_bool(it))
		return (-1);
	*v = cbor_get_bool(it);

	return (0);
}

/* COSE_Key for a P-256 key: {1:2, 3:alg, -1:1, -2:x, -3:y} */
cbor_item_t *
cbu_cose_es256(const unsigned char *x, const unsigned char *y, int alg)
{
	cbor_item_t *m;

	if ((m = cbu_map()) == NULL)
		return (NULL);
	if (cbu_put_int(m, 1, cbu_int(2)) < 0 ||
	    cbu_put_int(m, 3, cbu_int(alg)) < 0 ||
	    cbu_put_int(m, -1, cbu_int(1)) < 0 ||
	    cbu_put_int(m, -2, cbu_bytes(x, 32)) < 0 ||
	    cbu_put_int(m, -3, cbu_bytes(y, 32)) < 0) {
		cbor_decref(&m);
		return (NULL);
	}

	return (m);
}
