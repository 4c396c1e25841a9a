/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * Persistent state (--state FILE): a canonical CBOR map with text keys,
 * written atomically (temporary file in the same directory, fsync, rename,
 * fsync of the directory), mode 0600, after every change.
 *
 *   "v": 1, "aaguid": bstr16, "wrap": bstr32, "pin": bstr16 (if set),
 *   "pincp": PIN length in code points, "retries", "force": bool,
 *   "minpin", "count": sign counter, "seq": credential sequence,
 *   "ca"/"cakey": root certificate (DER) and private scalar (no --ca),
 *   "att"/"attkey": attestation certificate and private scalar,
 *   "creds": [{"id", "rp", "rpname"?, "uid", "uname"?, "udisp"?, "prot",
 *              "seq"}]
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "extern.h"

#define STATE_VERSION 1
#define STATE_MAX     (8 * 1024 * 1024)

void
rcred_clear(struct rcred *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->rp_id);
	free(c->rp_name);
	free(c->user_id);
	free(c->user_name);
	free(c->user_display);
	memset(c, 0, sizeof(*c));
}

/* Read a whole file of at most max bytes: 0 ok, 1 missing, -1 error. */
int
file_read(const char *path, unsigned char **out, size_t *outlen, size_t max)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r = -1;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (errno == ENOENT ? 1 : -1);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 0 ||
	    (size_t)st.st_size > max)
		goto fail;
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (got < (size_t)st.st_size) {
		if ((n = read(fd, buf + got, (size_t)st.st_size - got)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*out = buf;
	*outlen = got;
	buf = NULL;

	r = 0;
fail:
	close(fd);
	if (buf != NULL) {
		explicit_bzero(buf, (size_t)st.st_size + 1);
		free(buf);
	}

	return (r);
}

/* factory state: no PIN, no credentials, new wrapping key */
int
state_fresh(vauth_t *v)
{
	size_t i;

	for (i = 0; i < v->ncreds; i++)
		rcred_clear(&v->creds[i]);
	free(v->creds);
	v->creds = NULL;
	v->ncreds = 0;
	ga_clear(v);
	credman_clear(v);
	v->has_pin = 0;
	explicit_bzero(v->pin_hash, sizeof(v->pin_hash));
	v->pin_codepoints = 0;
	v->pin_retries = PIN_RETRIES_MAX;
	v->force_pin_change = 0;
	v->min_pin_len = v->min_pin_default;

	return (vc_random(v->wrap_key, sizeof(v->wrap_key)));
}

static int
put_cert(cbor_item_t *m, const char *k, X509 *x)
{
	unsigned char *der = NULL;
	int n, r;

	if ((n = i2d_X509(x, &der)) <= 0)
		return (-1);
	r = cbu_put_str(m, k, cbu_bytes(der, (size_t)n));
	OPENSSL_free(der);

	return (r);
}

static int
put_key(cbor_item_t *m, const char *k, EVP_PKEY *pk)
{
	unsigned char d[32];
	int r;

	if (vc_p256_priv(pk, d) < 0)
		return (-1);
	r = cbu_put_str(m, k, cbu_bytes(d, sizeof(d)));
	explicit_bzero(d, sizeof(d));

	return (r);
}

static cbor_item_t *
cred_item(const struct rcred *c)
{
	cbor_item_t *m;

	if ((m = cbu_map()) == NULL)
		return (NULL);
	if (cbu_put_str(m, "id", cbu_bytes(c->id, c->id_len)) < 0 ||
	    cbu_put_str(m, "rp", cbu_text(c->rp_id)) < 0 ||
	    (c->rp_name &&
		cbu_put_str(m, "rpname", cbu_text(c->rp_name)) < 0) ||
	    cbu_put_str(m, "uid", cbu_bytes(c->user_id, c->user_id_len)) < 0 ||
	    (c->user_name &&
		cbu_put_str(m, "uname", cbu_text(c->user_name)) < 0) ||
	    (c->user_display &&
		cbu_put_str(m, "udisp", cbu_text(c->user_display)) < 0) ||
	    cbu_put_str(m, "prot", cbu_uint((uint64_t)c->prot)) < 0 ||
	    cbu_put_str(m, "seq", cbu_uint(c->seq)) < 0) {
		cbor_decref(&m);
		return (NULL);
	}

	return (m);
}

int
state_save(vauth_t *v)
{
	cbor_item_t *m = NULL, *a = NULL, *c = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, i;
	int r = -1;

	if (v->state_path == NULL || !v->started)
		return (0);
	if ((m = cbu_map()) == NULL ||
	    cbu_put_str(m, "v", cbu_uint(STATE_VERSION)) < 0 ||
	    cbu_put_str(m, "aaguid", cbu_bytes(v->aaguid, 16)) < 0 ||
	    cbu_put_str(m, "wrap", cbu_bytes(v->wrap_key, 32)) < 0 ||
	    (v->has_pin &&
		cbu_put_str(m, "pin", cbu_bytes(v->pin_hash, 16)) < 0) ||
	    cbu_put_str(m, "pincp", cbu_uint(v->pin_codepoints)) < 0 ||
	    cbu_put_str(m, "retries",
		cbu_uint((uint64_t)(v->pin_retries > 0 ? v->pin_retries : 0))) <
		0 ||
	    cbu_put_str(m, "force", cbu_bool(v->force_pin_change)) < 0 ||
	    cbu_put_str(m, "minpin", cbu_uint(v->min_pin_len)) < 0 ||
	    cbu_put_str(m, "count", cbu_uint(v->sign_count)) < 0 ||
	    cbu_put_str(m, "seq", cbu_uint(v->cred_seq)) < 0)
		goto fail;
	if (v->ca_path == NULL && v->ca_cert != NULL &&
	    (put_cert(m, "ca", v->ca_cert) < 0 ||
		put_key(m, "cakey", v->ca_key) < 0))
		goto fail;
	if (v->att_cert != NULL &&
	    (put_cert(m, "att", v->att_cert) < 0 ||
		put_key(m, "attkey", v->att_key) < 0))
		goto fail;
	if ((a = cbu_array()) == NULL)
		goto fail;
	for (i = 0; i < v->ncreds; i++)
		if ((c = cred_item(&v->creds[i])) == NULL ||
		    cbu_pushp(a, &c) < 0)
			goto fail;
	if (cbu_put_strp(m, "creds", &a) < 0 ||
	    cbu_encode(m, 0, &buf, &len) < 0)
		goto fail;
	if (write_file_atomic(v->state_path, buf, len, 0600) != 0) {
		vlog(v, "state: cannot write %s", v->state_path);
		goto fail;
	}

	r = 0;
fail:
	if (m != NULL)
		cbor_decref(&m);
	if (a != NULL)
		cbor_decref(&a);
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}

	return (r);
}

static int
get_fixed(const cbor_item_t *m, const char *k, unsigned char *out, size_t n)
{
	const unsigned char *p;
	size_t len;

	if (cbu_as_bytes(cbu_get_str(m, k), &p, &len) < 0 || len != n)
		return (-1);
	memcpy(out, p, n);

	return (0);
}

static int
get_num(const cbor_item_t *m, const char *k, uint64_t max, uint64_t *out)
{
	if (cbu_as_uint(cbu_get_str(m, k), out) < 0 || *out > max)
		return (-1);

	return (0);
}

static int
get_cert_key(const cbor_item_t *m, const char *ck, const char *kk, X509 **cert,
    EVP_PKEY **key)
{
	const unsigned char *p;
	unsigned char d[32];
	size_t len;
	int r = -1;

	if (cbu_get_str(m, ck) == NULL && cbu_get_str(m, kk) == NULL)
		return (0);
	if (cbu_as_bytes(cbu_get_str(m, ck), &p, &len) < 0 || len > LONG_MAX ||
	    (*cert = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    get_fixed(m, kk, d, sizeof(d)) < 0 ||
	    (*key = vc_p256_from_priv(d)) == NULL)
		goto fail;

	r = 0;
fail:
	explicit_bzero(d, sizeof(d));

	return (r);
}

static int
get_dup(const cbor_item_t *m, const char *k, char **s, size_t max, int opt)
{
	const cbor_item_t *it;

	if ((it = cbu_get_str(m, k)) == NULL)
		return (opt ? 0 : -1);

	return (cbu_as_text(it, s, max));
}

static int
load_cred(const cbor_item_t *m, struct rcred *c)
{
	const unsigned char *p;
	size_t len;
	uint64_t n;

	if (!cbor_isa_map(m))
		return (-1);
	if (cbu_as_bytes(cbu_get_str(m, "id"), &p, &len) < 0 ||
	    len != VAUTH_CRED_ID_LEN || (c->id = malloc(len)) == NULL)
		return (-1);
	memcpy(c->id, p, len);
	c->id_len = len;
	if (cbu_as_bytes(cbu_get_str(m, "uid"), &p, &len) < 0 || len == 0 ||
	    len > VAUTH_MAX_USERID_LEN || (c->user_id = malloc(len)) == NULL)
		return (-1);
	memcpy(c->user_id, p, len);
	c->user_id_len = len;
	if (get_dup(m, "rp", &c->rp_id, VAUTH_MAX_RPID_LEN, 0) < 0 ||
	    get_dup(m, "rpname", &c->rp_name, VAUTH_MAX_NAME_LEN, 1) < 0 ||
	    get_dup(m, "uname", &c->user_name, VAUTH_MAX_NAME_LEN, 1) < 0 ||
	    get_dup(m, "udisp", &c->user_display, VAUTH_MAX_NAME_LEN, 1) < 0)
		return (-1);
	if (get_num(m, "prot", 3, &n) < 0 || n == 0)
		return (-1);
	c->prot = (int)n;
	if (get_num(m, "seq", UINT64_MAX, &c->seq) < 0)
		return (-1);

	return (0);
}

static int
parse_state(vauth_t *v, const cbor_item_t *m)
{
	const cbor_item_t *a;
	unsigned char aaguid[16];
	uint64_t n;
	size_t i;

	if (!cbor_isa_map(m) || get_num(m, "v", STATE_VERSION, &n) < 0 ||
	    n != STATE_VERSION)
		return (-1);
	if (get_fixed(m, "aaguid", aaguid, 16) < 0 ||
	    get_fixed(m, "wrap", v->wrap_key, 32) < 0)
		return (-1);
	if (!v->aaguid_set)
		memcpy(v->aaguid, aaguid, 16);
	if (cbu_get_str(m, "pin") != NULL) {
		if (get_fixed(m, "pin", v->pin_hash, 16) < 0)
			return (-1);
		v->has_pin = 1;
	}
	if (get_num(m, "pincp", PIN_MAX_LEN, &n) < 0)
		return (-1);
	v->pin_codepoints = (size_t)n;
	if (get_num(m, "retries", PIN_RETRIES_MAX, &n) < 0)
		return (-1);
	v->pin_retries = (int)n;
	if (cbu_as_bool(cbu_get_str(m, "force"), &v->force_pin_change) < 0)
		return (-1);
	if (get_num(m, "minpin", PIN_MAX_LEN, &n) < 0 || n < PIN_MIN_LEN)
		return (-1);
	v->min_pin_len = (size_t)n;
	if (get_num(m, "count", UINT32_MAX, &n) < 0)
		return (-1);
	v->sign_count = (uint32_t)n;
	if (get_num(m, "seq", UINT64_MAX, &v->cred_seq) < 0)
		return (-1);
	if (v->ca_path == NULL &&
	    get_cert_key(m, "ca", "cakey", &v->ca_cert, &v->ca_key) < 0)
		return (-1);
	if (get_cert_key(m, "att", "attkey", &v->att_cert, &v->att_key) < 0)
		return (-1);
	if ((a = cbu_get_str(m, "creds")) == NULL || !cbor_isa_array(a) ||
	    cbor_array_size(a) > VAUTH_HARD_MAX_CREDS)
		return (-1);
	if (cbor_array_size(a) > 0 &&
	    (v->creds = calloc(cbor_array_size(a), sizeof(*v->creds))) == NULL)
		return (-1);
	for (i = 0; i < cbor_array_size(a); i++) {
		v->ncreds++;
		if (load_cred(cbor_array_handle(a)[i], &v->creds[i]) < 0)
			return (-1);
	}

	return (0);
}

/* Load --state if it exists; *loaded says whether it did. */
int
state_load(vauth_t *v, int *loaded)
{
	struct cbor_load_result res;
	cbor_item_t *m = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	*loaded = 0;
	if (v->state_path == NULL)
		return (VAUTH_OK);
	if ((r = file_read(v->state_path, &buf, &len, STATE_MAX)) == 1)
		return (VAUTH_OK);
	if (r < 0) {
		vlog(v, "state: cannot read %s", v->state_path);
		return (VAUTH_ERR_IO);
	}
	r = VAUTH_ERR_STATE;
	memset(&res, 0, sizeof(res));
	if (cbu_check(buf, len, 8) < 0 ||
	    (m = cbor_load(buf, len, &res)) == NULL ||
	    res.error.code != CBOR_ERR_NONE || parse_state(v, m) < 0) {
		vlog(v, "state: %s is corrupt", v->state_path);
		goto fail;
	}
	*loaded = 1;

	r = VAUTH_OK;
fail:
	if (m != NULL)
		cbor_decref(&m);
	if (buf != NULL) {
		explicit_bzero(buf, len);
		free(buf);
	}

	return (r);
}
