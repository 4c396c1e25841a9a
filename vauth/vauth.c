/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* vauth_t lifecycle and configuration */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

/* "vauth-test-key" + 0001: 76617574-682d-7465-7374-2d6b65790001 */
static const unsigned char default_aaguid[16] = {
    0x76,
    0x61,
    0x75,
    0x74,
    0x68,
    0x2d,
    0x74,
    0x65,
    0x73,
    0x74,
    0x2d,
    0x6b,
    0x65,
    0x79,
    0x00,
    0x01,
};

vauth_t *
vauth_new(void)
{
	vauth_t *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return (NULL);
	memcpy(v->aaguid, default_aaguid, sizeof(v->aaguid));
	v->att_mode = VAUTH_ATT_PACKED;
	v->up_mode = VAUTH_UP_AUTO;
	v->up_timeout_ms = 1500;
	v->protocols = VAUTH_PROTO_1 | VAUTH_PROTO_2;
	v->max_creds = VAUTH_DEFAULT_MAX_CREDS;
	v->min_pin_default = PIN_MIN_LEN;
	v->min_pin_len = PIN_MIN_LEN;
	v->pin_retries = PIN_RETRIES_MAX;
	v->fw_version = 1;

	return (v);
}

void
vauth_free(vauth_t **vp)
{
	vauth_t *v;
	size_t i;

	if (vp == NULL || (v = *vp) == NULL)
		return;
	ga_clear(v);
	credman_clear(v);
	for (i = 0; i < v->ncreds; i++)
		rcred_clear(&v->creds[i]);
	free(v->creds);
	free(v->ca_path);
	free(v->state_path);
	free(v->token_rpid);
	EVP_PKEY_free(v->ca_key);
	EVP_PKEY_free(v->att_key);
	EVP_PKEY_free(v->ka_key);
	X509_free(v->ca_cert);
	X509_free(v->att_cert);
	EVP_PKEY_free(v->int_key);
	X509_free(v->int_cert);
	explicit_bzero(v, sizeof(*v));
	free(v);
	*vp = NULL;
}

const char *
vauth_strerr(int r)
{
	switch (r) {
	case VAUTH_OK:
		return ("success");
	case VAUTH_ERR_INTERNAL:
		return ("internal error");
	case VAUTH_ERR_INVALID_ARGUMENT:
		return ("invalid argument");
	case VAUTH_ERR_NOMEM:
		return ("out of memory");
	case VAUTH_ERR_CRYPTO:
		return ("cryptographic operation failed");
	case VAUTH_ERR_IO:
		return ("cannot read or write a state or CA file");
	case VAUTH_ERR_STATE:
		return ("state or CA file is corrupt");
	case VAUTH_ERR_FAULT_SPEC:
		return ("bad fault spec");
	case VAUTH_ERR_DISCONNECT:
		return ("connection closed");
	case VAUTH_ERR_PIN_POLICY:
		return ("PIN violates the PIN policy");
	case VAUTH_ERR_NOT_STARTED:
		return ("vauth_start() not called");
	default:
		return ("unknown error");
	}
}

int
vauth_parse_aaguid(const char *s, unsigned char *out, size_t len)
{
	size_t i, n = 0;
	int hi = -1, d;

	if (s == NULL || out == NULL || len != 16)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '-' && (i == 8 || i == 13 || i == 18 || i == 23))
			continue;
		if (!isxdigit((unsigned char)s[i]) || n == 16)
			return (VAUTH_ERR_INVALID_ARGUMENT);
		d = isdigit((unsigned char)s[i]) ?
		    s[i] - '0' :
		    tolower((unsigned char)s[i]) - 'a' + 10;
		if (hi < 0)
			hi = d;
		else {
			out[n++] = (unsigned char)(hi << 4 | d);
			hi = -1;
		}
	}
	if (n != 16 || hi >= 0 || (i != 32 && i != 36))
		return (VAUTH_ERR_INVALID_ARGUMENT);

	return (VAUTH_OK);
}

static int
set_path(char **dst, const char *src)
{
	char *p = NULL;

	if (src != NULL && (p = strdup(src)) == NULL)
		return (VAUTH_ERR_NOMEM);
	free(*dst);
	*dst = p;

	return (VAUTH_OK);
}

int
vauth_set_aaguid(vauth_t *v, const unsigned char *aaguid, size_t len)
{
	if (v == NULL || aaguid == NULL || len != 16 || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	memcpy(v->aaguid, aaguid, 16);
	v->aaguid_set = 1;

	return (VAUTH_OK);
}

int
vauth_set_cert_aaguid(vauth_t *v, const unsigned char *aaguid, size_t len)
{
	if (v == NULL || aaguid == NULL || len != 16 || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	memcpy(v->cert_aaguid, aaguid, 16);
	v->cert_aaguid_set = 1;

	return (VAUTH_OK);
}

int
vauth_set_att_intermediate(vauth_t *v, int on)
{
	if (v == NULL || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->att_intermediate = on != 0;

	return (VAUTH_OK);
}

int
vauth_set_attestation(vauth_t *v, int mode)
{
	if (v == NULL ||
	    (mode != VAUTH_ATT_PACKED && mode != VAUTH_ATT_SELF &&
		mode != VAUTH_ATT_NONE))
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->att_mode = mode;

	return (VAUTH_OK);
}

int
vauth_set_ca_file(vauth_t *v, const char *path)
{
	if (v == NULL || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);

	return (set_path(&v->ca_path, path));
}

int
vauth_set_state_file(vauth_t *v, const char *path)
{
	if (v == NULL || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);

	return (set_path(&v->state_path, path));
}

int
vauth_set_presence(vauth_t *v, int mode, int ms)
{
	if (v == NULL || ms < 0 || ms > 3600000 ||
	    (mode != VAUTH_UP_AUTO && mode != VAUTH_UP_DELAY &&
		mode != VAUTH_UP_DENY))
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->up_mode = mode;
	v->up_delay_ms = ms;

	return (VAUTH_OK);
}

int
vauth_set_up_timeout(vauth_t *v, int ms)
{
	if (v == NULL || ms < 0 || ms > 3600000)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->up_timeout_ms = ms;

	return (VAUTH_OK);
}

int
vauth_set_protocols(vauth_t *v, int mask)
{
	if (v == NULL || mask == 0 ||
	    (mask & ~(VAUTH_PROTO_1 | VAUTH_PROTO_2)) != 0)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->protocols = mask;

	return (VAUTH_OK);
}

int
vauth_set_faults(vauth_t *v, const char *spec, const char **why)
{
	struct fault f[VAUTH_MAX_FAULTS];
	const char *w = NULL;
	size_t n = 0;

	if (why != NULL)
		*why = NULL;
	if (v == NULL)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if (fault_parse(spec, f, &n, &w) < 0) {
		if (why != NULL)
			*why = w;
		return (VAUTH_ERR_FAULT_SPEC);
	}
	memcpy(v->faults, f, n * sizeof(f[0]));
	v->nfaults = n;

	return (VAUTH_OK);
}

int
vauth_set_max_creds(vauth_t *v, size_t n)
{
	if (v == NULL || n > VAUTH_HARD_MAX_CREDS)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->max_creds = n;

	return (VAUTH_OK);
}

int
vauth_set_min_pin_length(vauth_t *v, size_t n)
{
	if (v == NULL || n < PIN_MIN_LEN || n > PIN_MAX_LEN || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->min_pin_default = n;
	v->min_pin_len = n;

	return (VAUTH_OK);
}

int
vauth_set_fw_version(vauth_t *v, uint64_t fw)
{
	if (v == NULL)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	v->fw_version = fw;

	return (VAUTH_OK);
}

void
vauth_set_log(vauth_t *v, vauth_log_t *cb, void *ctx)
{
	if (v == NULL)
		return;
	v->log = cb;
	v->log_ctx = ctx;
}

int
vauth_start(vauth_t *v)
{
	int loaded = 0, r;

	if (v == NULL || v->started)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if ((r = state_load(v, &loaded)) != VAUTH_OK)
		return (r);
	if (!loaded && state_fresh(v) < 0)
		return (VAUTH_ERR_CRYPTO);
	if (v->min_pin_len < v->min_pin_default)
		v->min_pin_len = v->min_pin_default;
	if ((r = attest_init(v)) != VAUTH_OK)
		return (r);
	if (pin_power_up(v) < 0)
		return (VAUTH_ERR_CRYPTO);
	v->started = 1;
	if (state_save(v) < 0) {
		v->started = 0;
		return (VAUTH_ERR_IO);
	}
	vlog(v, "start: %s state, %zu resident credential(s), PIN %s",
	    loaded ? "loaded" : "new", v->ncreds,
	    v->has_pin ? "set" : "not set");

	return (VAUTH_OK);
}

int
vauth_preset_pin(vauth_t *v, const char *pin)
{
	size_t n;

	if (v == NULL || pin == NULL)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if (!v->started)
		return (VAUTH_ERR_NOT_STARTED);
	if (v->has_pin) {
		vlog(v, "pin: a PIN is already set; preset ignored");
		return (VAUTH_OK);
	}
	n = strlen(pin);
	if (n < PIN_MIN_LEN || n > PIN_MAX_LEN ||
	    pin_codepoints((const unsigned char *)pin, n) < v->min_pin_len)
		return (VAUTH_ERR_PIN_POLICY);
	if (pin_set_hash(v, (const unsigned char *)pin, n) < 0)
		return (VAUTH_ERR_CRYPTO);
	if (state_save(v) < 0)
		return (VAUTH_ERR_IO);
	vlog(v, "pin: preset PIN set");

	return (VAUTH_OK);
}

int
vauth_export_ca(vauth_t *v, const char *path)
{
	if (v == NULL || path == NULL)
		return (VAUTH_ERR_INVALID_ARGUMENT);
	if (!v->started || v->ca_cert == NULL)
		return (VAUTH_ERR_NOT_STARTED);
	if (attest_write_pem_cert(path, v->ca_cert) < 0)
		return (VAUTH_ERR_IO);

	return (VAUTH_OK);
}

const unsigned char *
vauth_aaguid(const vauth_t *v)
{
	return (v == NULL ? NULL : v->aaguid);
}

/*
 * A client disconnected: reset the channels, and treat it as a power cycle
 * for the "3 wrong PINs in a row" block only. PIN retries, credentials,
 * the key agreement key and the token survive.
 */
void
vauth_reconnect(vauth_t *v)
{
	if (v == NULL)
		return;
	hid_reset(v);
	ga_clear(v);
	credman_clear(v);
	v->pin_consecutive = 0;
}
