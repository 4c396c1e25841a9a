/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Struct bodies and helpers shared inside ctap/ only.
 */

#ifndef PROV_CTAP_INT_H
#define PROV_CTAP_INT_H

#include <cbor.h>
#include <fido.h>
#include <pthread.h>

#include "common.h"
#include "ctap.h"

#define CTAP_TOUCH_TIMEOUT_MS	120000	/* IDmelon phones are slow */
#define CTAP_CMD_TIMEOUT_MS	15000	/* commands without a touch */
#define CTAP_CDATA_MAX		(64 * 1024)
#define CTAP_MAX_EXCLUDE	64

struct ctap_dev {
	fido_dev_t	*dev;
	char		*path;
	int		 timeout_ms;
	int		 retries;	/* after the last PIN error, or -1 */
	int		 last_fido;	/* raw libfido2 code, for messages */
	pthread_mutex_t	 lock;		/* guards dev against cancel/close */
	bool		 open;
};

struct ctap_info {
	fido_cbor_info_t *ci;
	char		 aaguid[37];
};

struct ctap_cred {
	/* parameters */
	char		*rp_id;
	char		*rp_name;
	unsigned char	*user_id;
	size_t		 user_id_len;
	char		*user_name;
	char		*user_display;
	unsigned char	*cdata;
	size_t		 cdata_len;
	unsigned char	*excl[CTAP_MAX_EXCLUDE];
	size_t		 excl_len[CTAP_MAX_EXCLUDE];
	size_t		 nexcl;
	bool		 rk;
	bool		 uv;
	int		 prot;
	bool		 hmac_secret;
	/* result */
	fido_cred_t	*fc;
	unsigned char	*attobj;
	size_t		 attobj_len;
	char		 aaguid[37];
	const char	*attestation;	/* "basic", "self", "none" */
	unsigned char	*x5c[CTAP_X5C_MAX];	/* the statement's x5c */
	size_t		 x5c_len[CTAP_X5C_MAX];
	size_t		 nx5c;
};

/* err.c */
int	ctap_from_fido(ctap_dev_t *, int, long long elapsed_ms);

/* pin.c: map a PIN-path error, refreshing the retry count */
int	ctap_pin_fail(ctap_dev_t *, int, long long);

/* io_unix.c: fido_dev_io_t for vauth sockets */
extern const fido_dev_io_t ctap_unix_io;

/* dev.c */
void	ctap_dev_begin(ctap_dev_t *, int timeout_ms);

/* util */
void	ctap_aaguid_str(const unsigned char *, size_t, char out[37]);

/* authData flags, and where the attested credential id starts */
#define CTAP_AD_UP		0x01
#define CTAP_AD_UV		0x04
#define CTAP_AD_AT		0x40
#define CTAP_AD_ED		0x80
#define CTAP_AD_CREDID_OFF	(32 + 1 + 4 + 16 + 2)

/* attobj.c: cbor_load() that first refuses counts the input cannot
 * hold; is k the definite text string s; the credential id's offset
 * and length in authData, -1 if there is none */
cbor_item_t *ctap_cbor_load(const unsigned char *, size_t,
	    struct cbor_load_result *);
bool	ctap_cbor_key_is(const cbor_item_t *, const char *);
int	ctap_authdata_cred_id(const unsigned char *, size_t, size_t *,
	    size_t *);

/* x5c.c: the packed signature under the leaf's key (parsed once) */
#define CTAP_CDH_LEN	32	/* SHA-256(clientDataJSON) */
int	ctap_x5c_verify(const unsigned char *, size_t, const unsigned char *,
	    size_t, const unsigned char *cdh, const unsigned char *, size_t);

/*
 * verify.c: ctap_attobj_verify() given the clientDataJSON's hash, for
 * a caller that has it already (the key's own request)
 */
int	ctap_attobj_verify_cdh(const unsigned char *, size_t,
	    const unsigned char *cdh, const char *rp_id, bool uv, int prot,
	    bool hmac, char **fmt_out);

#endif /* PROV_CTAP_INT_H */
