/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* Internal interfaces of vauthlib. Not installed. */

#ifndef VAUTH_EXTERN_H
#define VAUTH_EXTERN_H

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stdarg.h>
#include <stdint.h>

#include "vauth.h"

/* CTAPHID */
#define CTAPHID_BROADCAST	    0xffffffffU
#define CTAPHID_TYPE_INIT	    0x80
#define CTAPHID_PING		    0x01
#define CTAPHID_MSG		    0x03
#define CTAPHID_LOCK		    0x04
#define CTAPHID_INIT		    0x06
#define CTAPHID_WINK		    0x08
#define CTAPHID_CBOR		    0x10
#define CTAPHID_CANCEL		    0x11
#define CTAPHID_KEEPALIVE	    0x3b
#define CTAPHID_ERROR		    0x3f
#define CTAPHID_INIT_DATA	    57
#define CTAPHID_CONT_DATA	    59
#define CTAPHID_CAP_WINK	    0x01
#define CTAPHID_CAP_CBOR	    0x04
#define CTAPHID_CAP_NMSG	    0x08
#define CTAPHID_ERR_INVALID_CMD	    0x01
#define CTAPHID_ERR_INVALID_PAR	    0x02
#define CTAPHID_ERR_INVALID_LEN	    0x03
#define CTAPHID_ERR_INVALID_SEQ	    0x04
#define CTAPHID_ERR_CHANNEL_BUSY    0x06
#define CTAPHID_ERR_INVALID_CHANNEL 0x0b
#define KEEPALIVE_PROCESSING	    0x01
#define KEEPALIVE_UPNEEDED	    0x02
#define VAUTH_MAX_CIDS		    8

/* CTAP2 commands */
#define CTAP2_CMD_MAKECRED     0x01
#define CTAP2_CMD_GETASSERT    0x02
#define CTAP2_CMD_GETINFO      0x04
#define CTAP2_CMD_CLIENTPIN    0x06
#define CTAP2_CMD_RESET	       0x07
#define CTAP2_CMD_NEXTASSERT   0x08
#define CTAP2_CMD_CREDMGMT     0x0a
#define CTAP2_CMD_SELECTION    0x0b
#define CTAP2_CMD_CONFIG       0x0d
#define CTAP2_CMD_CREDMGMT_PRE 0x41

/* CTAP2 status codes */
#define CTAP2_OK			0x00
#define CTAP1_ERR_INVALID_COMMAND	0x01
#define CTAP1_ERR_INVALID_PARAMETER	0x02
#define CTAP1_ERR_INVALID_LENGTH	0x03
#define CTAP2_ERR_CBOR_UNEXPECTED_TYPE	0x11
#define CTAP2_ERR_INVALID_CBOR		0x12
#define CTAP2_ERR_MISSING_PARAMETER	0x14
#define CTAP2_ERR_LIMIT_EXCEEDED	0x15
#define CTAP2_ERR_CREDENTIAL_EXCLUDED	0x19
#define CTAP2_ERR_UNSUPPORTED_ALGORITHM 0x26
#define CTAP2_ERR_OPERATION_DENIED	0x27
#define CTAP2_ERR_KEY_STORE_FULL	0x28
#define CTAP2_ERR_UNSUPPORTED_OPTION	0x2b
#define CTAP2_ERR_INVALID_OPTION	0x2c
#define CTAP2_ERR_KEEPALIVE_CANCEL	0x2d
#define CTAP2_ERR_NO_CREDENTIALS	0x2e
#define CTAP2_ERR_USER_ACTION_TIMEOUT	0x2f
#define CTAP2_ERR_NOT_ALLOWED		0x30
#define CTAP2_ERR_PIN_INVALID		0x31
#define CTAP2_ERR_PIN_BLOCKED		0x32
#define CTAP2_ERR_PIN_AUTH_INVALID	0x33
#define CTAP2_ERR_PIN_AUTH_BLOCKED	0x34
#define CTAP2_ERR_PIN_NOT_SET		0x35
#define CTAP2_ERR_PUAT_REQUIRED		0x36
#define CTAP2_ERR_PIN_POLICY_VIOLATION	0x37
#define CTAP2_ERR_INVALID_SUBCOMMAND	0x3e
#define CTAP2_ERR_UNAUTHORIZED_PERM	0x40
#define CTAP1_ERR_OTHER			0x7f
#define VAUTH_ABORT			(-1) /* connection gone: no reply */

/* pinUvAuthToken permissions */
#define PERM_MC	  0x01
#define PERM_GA	  0x02
#define PERM_CM	  0x04
#define PERM_BE	  0x08
#define PERM_LBW  0x10
#define PERM_ACFG 0x20

#define PIN_RETRIES_MAX		8
#define PIN_MIN_LEN		4
#define PIN_MAX_LEN		63
#define VAUTH_DEFAULT_MAX_CREDS 50
#define VAUTH_HARD_MAX_CREDS	1000
#define VAUTH_MAX_LIST		64 /* allow/exclude list entries */
#define VAUTH_MAX_FAULTS	32
#define VAUTH_CRED_ID_LEN	63
#define VAUTH_MAX_RPID_LEN	256
#define VAUTH_MAX_USERID_LEN	64
#define VAUTH_MAX_NAME_LEN	64
#define CBOR_MAX_DEPTH		16

/* wait results */
#define WAIT_DONE   0
#define WAIT_CANCEL 1
#define WAIT_GONE   (-1)

/* fault kinds */
#define FAULT_TIMEOUT	    1
#define FAULT_DENY	    2
#define FAULT_DISCONNECT    3
#define FAULT_MALFORMED	    4
#define FAULT_NONCANONICAL  5
#define FAULT_SLOWKEEPALIVE 6
#define FAULT_STATUS	    7
#define FAULT_HANG	    8

/* fault command classes */
#define FCMD_INFO  0x001
#define FCMD_MC	   0x002
#define FCMD_GA	   0x004
#define FCMD_PIN   0x008
#define FCMD_RESET 0x010
#define FCMD_CM	   0x020
#define FCMD_CFG   0x040
#define FCMD_SEL   0x080
#define FCMD_ANY   0x0ff

struct fault {
	int kind;
	int cmds; /* FCMD_* mask */
	int arg; /* status byte or milliseconds */
	long remaining; /* -1: unlimited */
};

struct rcred { /* a resident (discoverable) credential */
	unsigned char *id;
	size_t id_len;
	char *rp_id;
	char *rp_name;
	unsigned char *user_id;
	size_t user_id_len;
	char *user_name;
	char *user_display;
	int prot;
	uint64_t seq; /* creation order */
};

struct hid_rx { /* CTAPHID reassembly */
	int busy;
	uint32_t cid;
	uint8_t cmd;
	uint8_t seq;
	size_t bcnt;
	size_t got;
	unsigned char buf[VAUTH_MAX_MSG];
};

struct hid_msg {
	uint32_t cid;
	uint8_t cmd;
	uint8_t err;
	const unsigned char *data;
	size_t len;
};

#define HID_RX_MORE   0
#define HID_RX_DONE   1
#define HID_RX_ERROR  2 /* send CTAPHID_ERROR err to cid, abort */
#define HID_RX_BUSY   3 /* send CTAPHID_ERROR err to cid, keep */
#define HID_RX_IGNORE 4

struct vauth {
	/* configuration */
	unsigned char aaguid[16];
	int aaguid_set;
	unsigned char cert_aaguid[16]; /* tests: the attestation cert's */
	int cert_aaguid_set;
	int att_mode;
	char *ca_path;
	char *state_path;
	int up_mode;
	int up_delay_ms;
	int up_timeout_ms;
	int protocols;
	size_t max_creds;
	size_t min_pin_default;
	uint64_t fw_version;
	struct fault faults[VAUTH_MAX_FAULTS];
	size_t nfaults;
	vauth_log_t *log;
	void *log_ctx;
	int started;

	/* persistent state */
	unsigned char wrap_key[32];
	int has_pin;
	unsigned char pin_hash[16];
	size_t pin_codepoints;
	int pin_retries;
	int force_pin_change;
	size_t min_pin_len;
	uint32_t sign_count;
	EVP_PKEY *ca_key;
	X509 *ca_cert;
	int att_intermediate;	/* tests: leaf under an intermediate CA */
	EVP_PKEY *int_key;	/* made at each start, never stored */
	X509 *int_cert;
	EVP_PKEY *att_key;
	X509 *att_cert;
	struct rcred *creds;
	size_t ncreds;
	uint64_t cred_seq;

	/* volatile (power cycle) state */
	EVP_PKEY *ka_key;
	unsigned char token[32];
	int token_in_use;
	int token_perms;
	char *token_rpid;
	int pin_consecutive;

	/* getNextAssertion */
	size_t *ga_list;
	size_t ga_n;
	size_t ga_next;
	unsigned char ga_cdh[32];
	int ga_flags;

	/* credential management enumeration */
	size_t *cm_rps;
	size_t cm_rps_n;
	size_t cm_rps_next;
	size_t *cm_creds;
	size_t cm_creds_n;
	size_t cm_creds_next;

	/* CTAPHID */
	uint32_t cids[VAUTH_MAX_CIDS];
	size_t ncids;
	struct hid_rx rx;
	const vauth_io_t *io;
	uint32_t cur_cid;
	int cur_cls; /* FCMD_* of the running command */
};

/* attest.c */
int attest_init(vauth_t *);
int attest_statement(vauth_t *, EVP_PKEY *, const unsigned char *, size_t,
    const unsigned char *, const char **, cbor_item_t **);
X509 *attest_make_root(EVP_PKEY *);
int attest_read_ca(const char *, X509 **, EVP_PKEY **);
int attest_write_pem_cert(const char *, X509 *);

/* cbor_util.c */
int cbu_check(const unsigned char *, size_t, int);
int cbu_map_raw(const unsigned char *, size_t, int64_t, size_t *, size_t *);
int cbu_encode(const cbor_item_t *, int, unsigned char **, size_t *);
#define CBU_NONCANONICAL 0x01
cbor_item_t *cbu_uint(uint64_t);
cbor_item_t *cbu_int(int64_t);
cbor_item_t *cbu_bytes(const void *, size_t);
cbor_item_t *cbu_text(const char *);
cbor_item_t *cbu_bool(int);
cbor_item_t *cbu_map(void);
cbor_item_t *cbu_array(void);
int cbu_put(cbor_item_t *, cbor_item_t *, cbor_item_t *);
int cbu_put_int(cbor_item_t *, int64_t, cbor_item_t *);
int cbu_put_str(cbor_item_t *, const char *, cbor_item_t *);
int cbu_push(cbor_item_t *, cbor_item_t *);
int cbu_put_intp(cbor_item_t *, int64_t, cbor_item_t **);
int cbu_put_strp(cbor_item_t *, const char *, cbor_item_t **);
int cbu_pushp(cbor_item_t *, cbor_item_t **);
const cbor_item_t *cbu_get(const cbor_item_t *, int64_t);
const cbor_item_t *cbu_get_str(const cbor_item_t *, const char *);
int cbu_as_bytes(const cbor_item_t *, const unsigned char **, size_t *);
int cbu_as_text(const cbor_item_t *, char **, size_t);
int cbu_as_uint(const cbor_item_t *, uint64_t *);
int cbu_as_int(const cbor_item_t *, int64_t *);
int cbu_as_bool(const cbor_item_t *, int *);
cbor_item_t *cbu_cose_es256(const unsigned char *, const unsigned char *, int);

/* config.c */
int ctap2_config(vauth_t *, const cbor_item_t *, const unsigned char *, size_t,
    cbor_item_t **);

/* credman.c */
int ctap2_credman(vauth_t *, const cbor_item_t *, const unsigned char *, size_t,
    cbor_item_t **);
void credman_clear(vauth_t *);

/* crypto.c */
int vc_random(void *, size_t);
int vc_sha256(const void *, size_t, unsigned char *);
int vc_hmac_sha256(const void *, size_t, const void *, size_t, unsigned char *);
int vc_hkdf_sha256(const unsigned char *, size_t, const char *, unsigned char *,
    size_t);
int vc_aes256_cbc(int, const unsigned char *, const unsigned char *,
    const unsigned char *, size_t, unsigned char *);
int vc_aes256_gcm(int, const unsigned char *, const unsigned char *,
    const unsigned char *, size_t, const unsigned char *, size_t,
    unsigned char *, unsigned char *);
EVP_PKEY *vc_p256_generate(void);
EVP_PKEY *vc_p256_from_priv(const unsigned char *);
EVP_PKEY *vc_p256_from_pub(const unsigned char *, const unsigned char *);
int vc_p256_priv(EVP_PKEY *, unsigned char *);
int vc_p256_pub(EVP_PKEY *, unsigned char *, unsigned char *);
int vc_ecdh(EVP_PKEY *, EVP_PKEY *, unsigned char *);
int vc_es256_sign(EVP_PKEY *, const unsigned char *, size_t,
    const unsigned char *, size_t, unsigned char **, size_t *);
int vc_memeq(const void *, const void *, size_t);

/* ctap2.c */
int ctap2_dispatch(vauth_t *, const unsigned char *, size_t, unsigned char *,
    size_t *, int *);
int ctap2_up(vauth_t *);
void vlog(const vauth_t *, const char *, ...)
    __attribute__((__format__(__printf__, 2, 3)));
char *vstrdup(const char *);

/* fault.c */
int fault_parse(const char *, struct fault *, size_t *, const char **);
int fault_cmd_class(uint8_t);
const struct fault *fault_take(vauth_t *, int, const int *, size_t);

/* ga.c */
int ctap2_get_assertion(vauth_t *, const cbor_item_t *, cbor_item_t **);
int ctap2_get_next_assertion(vauth_t *, cbor_item_t **);
void ga_clear(vauth_t *);

/* hid.c */
int hid_rx_push(struct hid_rx *, const unsigned char *, struct hid_msg *);
void hid_rx_reset(struct hid_rx *);
int hid_wait(vauth_t *, int, uint8_t, int, int);
void hid_reset(vauth_t *);

/* mc.c */
int ctap2_make_credential(vauth_t *, const cbor_item_t *, cbor_item_t **);
int cred_wrap(vauth_t *, const unsigned char *, int, int, EVP_PKEY *,
    unsigned char *);
EVP_PKEY *cred_unwrap(vauth_t *, const unsigned char *, size_t,
    const unsigned char *, int *, int *);
int parse_pin_uv(vauth_t *, const cbor_item_t *, const cbor_item_t *,
    const unsigned char **, size_t *, int *);
int touch_check(vauth_t *);
struct rcred *rcred_find(vauth_t *, const unsigned char *, size_t);
int check_cred_list(const cbor_item_t *);
int
cred_list_entry(const cbor_item_t *, size_t, const unsigned char **, size_t *);

/* pin.c */
int ctap2_client_pin(vauth_t *, const cbor_item_t *, cbor_item_t **);
int pin_verify_token(vauth_t *, int, const unsigned char *, size_t,
    const unsigned char *, size_t, const unsigned char *, size_t);
int pin_check_perm(vauth_t *, int, const char *);
int pin_set_hash(vauth_t *, const unsigned char *, size_t);
size_t pin_codepoints(const unsigned char *, size_t);
int pin_power_up(vauth_t *);
void pin_reset_token(vauth_t *);

/* state.c */
int state_load(vauth_t *, int *);
int state_save(vauth_t *);
int state_fresh(vauth_t *);
void rcred_clear(struct rcred *);
int file_read(const char *, unsigned char **, size_t *, size_t);

#endif /* !VAUTH_EXTERN_H */
