/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The authenticator layer.  The only code that calls libfido2 or hidapi;
 * callers see opaque types, CTAP_OK / CTAP_ERR_* and ctap_strerr().
 *
 * Device paths: "/dev/hidrawN" (USB, through libfido2's hidraw backend)
 * or "unix:PATH" (a vauth socket, attached with fido_dev_set_io_functions).
 */

#ifndef PROV_CTAP_H
#define PROV_CTAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* errors: 0 ok, negative = what the operator must know */
#define CTAP_OK			  0
#define CTAP_ERR_INTERNAL	 -1	/* bug or out of memory */
#define CTAP_ERR_ARG		 -2	/* bad parameter from the caller */
#define CTAP_ERR_NO_DEVICE	 -3	/* no such key / cannot open it */
#define CTAP_ERR_NOT_FIDO2	 -4	/* U2F-only or not CTAP2 */
#define CTAP_ERR_IO		 -5	/* key pulled out, or transport broken */
#define CTAP_ERR_TIMEOUT	 -6	/* no touch in time */
#define CTAP_ERR_CANCELLED	 -7	/* cancelled (Ctrl+C) */
#define CTAP_ERR_DENIED		 -8	/* user or key refused */
#define CTAP_ERR_PIN_INVALID	 -9	/* wrong PIN; ctap_dev_retries() */
#define CTAP_ERR_PIN_BLOCKED	-10	/* no retries left: reset needed */
#define CTAP_ERR_PIN_AUTH_BLOCKED -11	/* 3 wrong in a row: replug */
#define CTAP_ERR_PIN_NOT_SET	-12
#define CTAP_ERR_PIN_REQUIRED	-13
#define CTAP_ERR_PIN_POLICY	-14	/* PIN breaks length/complexity rules */
#define CTAP_ERR_EXCLUDED	-15	/* key already holds this user's passkey */
#define CTAP_ERR_KEY_FULL	-16	/* no room for another resident key */
#define CTAP_ERR_UNSUPPORTED	-17	/* option/extension/alg not supported */
#define CTAP_ERR_NOT_ALLOWED	-18	/* e.g. reset later than 10 s after plug */
#define CTAP_ERR_PROTOCOL	-19	/* malformed reply from the key */
#define CTAP_ERR_VERIFY		-20	/* self-check of a result failed */
#define CTAP_ERR_NO_CREDENTIALS	-21
#define CTAP_ERR_PIN_CHANGE	-22	/* key demands a PIN change first */

const char	*ctap_strerr(int);

/* call once per thread that uses this module */
void		 ctap_init(void);

/* discovery */
typedef struct ctap_devlist ctap_devlist_t;

ctap_devlist_t	*ctap_devlist_new(void);
void		 ctap_devlist_free(ctap_devlist_t **);
/* USB keys, `device` ("unix:..." or hidraw path, may be NULL) and every
 * socket in `vdir` (may be NULL); each entry is probed (INIT + getInfo) */
int		 ctap_devlist_scan(ctap_devlist_t *, const char *device,
		    const char *vdir, bool probe);
size_t		 ctap_devlist_len(const ctap_devlist_t *);
const char	*ctap_devlist_path(const ctap_devlist_t *, size_t);
const char	*ctap_devlist_manufacturer(const ctap_devlist_t *, size_t);
const char	*ctap_devlist_product(const ctap_devlist_t *, size_t);
const char	*ctap_devlist_serial(const ctap_devlist_t *, size_t); /* "" */
uint16_t	 ctap_devlist_vendor(const ctap_devlist_t *, size_t);
uint16_t	 ctap_devlist_product_id(const ctap_devlist_t *, size_t);
bool		 ctap_devlist_virtual(const ctap_devlist_t *, size_t);
/* CTAP_OK if usable, else why not (e.g. CTAP_ERR_NOT_FIDO2) */
int		 ctap_devlist_status(const ctap_devlist_t *, size_t);

/* an open key */
typedef struct ctap_dev ctap_dev_t;

ctap_dev_t	*ctap_dev_new(void);
void		 ctap_dev_free(ctap_dev_t **);
int		 ctap_dev_open(ctap_dev_t *, const char *path);
int		 ctap_dev_close(ctap_dev_t *);
const char	*ctap_dev_path(const ctap_dev_t *);
/* per-call budget for operations that wait for a touch; -1 = forever */
void		 ctap_dev_set_timeout(ctap_dev_t *, int ms);
/* from any thread: abort an operation waiting for a touch */
int		 ctap_dev_cancel(ctap_dev_t *);
/* PIN retries left after the last PIN error, or -1 */
int		 ctap_dev_retries(const ctap_dev_t *);

/* getInfo summary */
typedef struct ctap_info ctap_info_t;

ctap_info_t	*ctap_info_new(void);
void		 ctap_info_free(ctap_info_t **);
int		 ctap_dev_get_info(ctap_dev_t *, ctap_info_t *);
const char	*ctap_info_aaguid(const ctap_info_t *); /* "xxxxxxxx-xxxx-..." */
size_t		 ctap_info_versions_len(const ctap_info_t *);
const char	*ctap_info_version(const ctap_info_t *, size_t);
size_t		 ctap_info_extensions_len(const ctap_info_t *);
const char	*ctap_info_extension(const ctap_info_t *, size_t);
size_t		 ctap_info_options_len(const ctap_info_t *);
const char	*ctap_info_option_name(const ctap_info_t *, size_t);
bool		 ctap_info_option_value(const ctap_info_t *, size_t);
/* -1 absent, 0 false, 1 true */
int		 ctap_info_option(const ctap_info_t *, const char *);
size_t		 ctap_info_algorithms_len(const ctap_info_t *);
int		 ctap_info_algorithm(const ctap_info_t *, size_t); /* COSE */
size_t		 ctap_info_protocols_len(const ctap_info_t *);
int		 ctap_info_protocol(const ctap_info_t *, size_t);
uint64_t	 ctap_info_min_pin_length(const ctap_info_t *); /* 4 if absent */
int64_t		 ctap_info_remaining_rk(const ctap_info_t *);	/* -1 absent */
bool		 ctap_info_force_pin_change(const ctap_info_t *);
uint64_t	 ctap_info_firmware(const ctap_info_t *);
uint64_t	 ctap_info_max_msg_size(const ctap_info_t *);
bool		 ctap_info_has_pin(const ctap_info_t *);
bool		 ctap_info_ctap21(const ctap_info_t *);	/* FIDO_2_1 */

/* PIN */
#define CTAP_PIN_MIN	4
#define CTAP_PIN_MAX	63

/* local checks before any round trip: UTF-8, 4..63 bytes, >= minlen */
int	ctap_pin_check(const char *pin, size_t minlen);
/* random digits PIN obeying vendor rules (no runs, sequences,
 * palindromes); out has room for len + 1 bytes */
int	ctap_pin_random(char *out, size_t len);
/* does a PIN obey the strict vendor rules ctap_pin_random() follows */
bool	ctap_pin_strong(const char *pin);
int	ctap_dev_pin_status(ctap_dev_t *, bool *has_pin, int *retries);
int	ctap_dev_pin_set(ctap_dev_t *, const char *pin);
int	ctap_dev_pin_change(ctap_dev_t *, const char *oldpin,
	    const char *newpin);

/* reset and authenticatorConfig */
int	ctap_dev_reset(ctap_dev_t *);
/* resident credentials on the key (credMgmt; needs the PIN) */
int	ctap_dev_cred_count(ctap_dev_t *, const char *pin, size_t *);
int	ctap_dev_force_pin_change(ctap_dev_t *, const char *pin);
int	ctap_dev_set_min_pin_length(ctap_dev_t *, size_t, const char *pin);

/* makeCredential and its WebAuthn result */
typedef struct ctap_cred ctap_cred_t;

#define CTAP_PROT_UV_OPTIONAL		1
#define CTAP_PROT_UV_OPTIONAL_WITH_ID	2
#define CTAP_PROT_UV_REQUIRED		3

ctap_cred_t	*ctap_cred_new(void);
void		 ctap_cred_free(ctap_cred_t **);
int		 ctap_cred_set_rp(ctap_cred_t *, const char *id,
		    const char *name);
int		 ctap_cred_set_user(ctap_cred_t *, const unsigned char *id,
		    size_t idlen, const char *name, const char *display_name);
/* the exact clientDataJSON bytes; the key signs SHA-256 of them */
int		 ctap_cred_set_clientdata(ctap_cred_t *,
		    const unsigned char *, size_t);
int		 ctap_cred_exclude(ctap_cred_t *, const unsigned char *,
		    size_t);
int		 ctap_cred_set_rk(ctap_cred_t *, bool);
int		 ctap_cred_set_uv(ctap_cred_t *, bool);
int		 ctap_cred_set_prot(ctap_cred_t *, int);	/* 0 = none */
int		 ctap_cred_set_hmac_secret(ctap_cred_t *, bool);

/* creates the credential and self-checks the attestation */
int		 ctap_dev_make_cred(ctap_dev_t *, ctap_cred_t *,
		    const char *pin);
/* proves a just-made credential signs with the PIN (getAssertion) */
int		 ctap_dev_check_cred(ctap_dev_t *, const ctap_cred_t *,
		    const char *pin);

/* does the key hold credential id for rp (silent getAssertion)?
 * CTAP_OK yes, CTAP_ERR_NO_CREDENTIALS no, else an error */
int		 ctap_dev_has_cred(ctap_dev_t *, const char *rp_id,
		    const unsigned char *id, size_t len, const char *pin);

const char	*ctap_cred_fmt(const ctap_cred_t *);
const unsigned char *ctap_cred_id_ptr(const ctap_cred_t *);
size_t		 ctap_cred_id_len(const ctap_cred_t *);
const char	*ctap_cred_aaguid(const ctap_cred_t *); /* dashed string */
/* WebAuthn attestationObject: canonical CBOR {fmt, attStmt, authData} */
const unsigned char *ctap_cred_attobj_ptr(const ctap_cred_t *);
size_t		 ctap_cred_attobj_len(const ctap_cred_t *);
const unsigned char *ctap_cred_clientdata_ptr(const ctap_cred_t *);
size_t		 ctap_cred_clientdata_len(const ctap_cred_t *);
/* "basic" (packed with x5c), "self" (packed, no x5c), or "none" */
const char	*ctap_cred_attestation(const ctap_cred_t *);
uint8_t		 ctap_cred_flags(const ctap_cred_t *);
/* the attestation certificate (DER, x5c[0]); NULL without one */
const unsigned char *ctap_cred_x5c_ptr(const ctap_cred_t *);
size_t		 ctap_cred_x5c_len(const ctap_cred_t *);
/*
 * The whole x5c as the key sent it (0: the leaf, then the chain it
 * names).  libfido2 1.12 hands out x5c[0] only; the rest is read from
 * the attestation statement's CBOR (fido_cred_attstmt_ptr), which it
 * keeps whole.  0 without x5c; ctap_cred_x5c_at() returns -1 past it.
 */
#define CTAP_X5C_MAX		8
size_t		 ctap_cred_x5c_count(const ctap_cred_t *);
int		 ctap_cred_x5c_at(const ctap_cred_t *, size_t,
		    const unsigned char **, size_t *);

/*
 * The WebAuthn attestationObject {fmt, attStmt, authData}: one encoder
 * (canonical CTAP2 order) and one parser, with the same rules for what
 * we make and what we are handed; the rules are spelled out in attobj.c.
 */
#define CTAP_ATTOBJ_MAX		8192	/* > CTAPHID's 7609-byte message */
#define CTAP_FMT_MAX		32	/* WebAuthn: fmt identifiers */
#define CTAP_AUTHDATA_MIN	37	/* rpIdHash, flags, signCount */
#define CTAP_CREDID_MAX		1023	/* WebAuthn: credential ids */

typedef struct ctap_attobj ctap_attobj_t;

ctap_attobj_t	*ctap_attobj_new(void);
void		 ctap_attobj_free(ctap_attobj_t **);
/* CTAP_ERR_PROTOCOL if malformed; the object is then empty */
int		 ctap_attobj_parse(ctap_attobj_t *, const unsigned char *,
		    size_t);
const char	*ctap_attobj_fmt(const ctap_attobj_t *);
/* attStmt: one CBOR map, as libcbor re-encodes what was parsed */
const unsigned char *ctap_attobj_stmt_ptr(const ctap_attobj_t *);
size_t		 ctap_attobj_stmt_len(const ctap_attobj_t *);
/* authData's raw bytes */
const unsigned char *ctap_attobj_authdata_ptr(const ctap_attobj_t *);
size_t		 ctap_attobj_authdata_len(const ctap_attobj_t *);
/* the credential id in authData; NULL without attested credential data */
const unsigned char *ctap_attobj_cred_id_ptr(const ctap_attobj_t *);
size_t		 ctap_attobj_cred_id_len(const ctap_attobj_t *);
/* stmt is one CBOR map, copied as given (NULL, 0: {}); *out is free()d
 * by the caller; CTAP_ERR_ARG if a piece breaks the parser's rules */
int		 ctap_attobj_encode(const char *fmt,
		    const unsigned char *stmt, size_t stmt_len,
		    const unsigned char *authdata, size_t authdata_len,
		    unsigned char **out, size_t *outlen);

/* verify an attestationObject against clientDataJSON, rp id, flags */
int		 ctap_attobj_verify(const unsigned char *attobj, size_t,
		    const unsigned char *clientdata, size_t, const char *rp_id,
		    bool uv, int prot, bool hmac_secret, char **fmt_out);

#endif /* PROV_CTAP_H */
