/*
 * Copyright (c) 2025 provisioning authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/*
 * vauth: a virtual CTAP 2.1 authenticator.
 *
 * The library has no sockets and no threads. The caller feeds it raw
 * 64-byte CTAPHID reports with vauth_hid_input(); replies (and keepalives)
 * go out through the tx callback of a struct vauth_io. When a command has
 * to wait (user presence, injected faults), the library sends keepalives
 * and reads further reports through the rx callback so that it can see a
 * CTAPHID_CANCEL. Without an rx callback every wait ends at once, which is
 * what unit tests and fuzzers want.
 */

#ifndef VAUTH_H
#define VAUTH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VAUTH_OK		   0
#define VAUTH_ERR_INTERNAL	   -1
#define VAUTH_ERR_INVALID_ARGUMENT -2
#define VAUTH_ERR_NOMEM		   -3
#define VAUTH_ERR_CRYPTO	   -4
#define VAUTH_ERR_IO		   -5 /* state/CA file I/O */
#define VAUTH_ERR_STATE		   -6 /* state/CA file corrupt */
#define VAUTH_ERR_FAULT_SPEC	   -7 /* bad --fail spec */
#define VAUTH_ERR_DISCONNECT	   -8 /* close the connection */
#define VAUTH_ERR_PIN_POLICY	   -9 /* preset PIN rejected */
#define VAUTH_ERR_NOT_STARTED	   -10 /* vauth_start() missing */

#define VAUTH_PACKET_LEN 64 /* one CTAPHID report, no report id */
#define VAUTH_MAX_MSG	 7609 /* 57 + 128 * 59 */

/* attestation formats */
#define VAUTH_ATT_PACKED 0 /* packed, basic (x5c) */
#define VAUTH_ATT_SELF	 1 /* packed, self */
#define VAUTH_ATT_NONE	 2 /* none */

/* user presence */
#define VAUTH_UP_AUTO  0 /* touched at once */
#define VAUTH_UP_DELAY 1 /* touched after a delay */
#define VAUTH_UP_DENY  2 /* user refuses: 0x27 */

/* pinUvAuthProtocols, as a mask */
#define VAUTH_PROTO_1 0x01
#define VAUTH_PROTO_2 0x02

typedef struct vauth vauth_t;

/*
 * tx: send one 64-byte report; return 0, or -1 if the peer is gone.
 * rx: wait at most ms milliseconds (ms >= 0) for one 64-byte report;
 *     return 1 and fill pkt, 0 on timeout, -1 if the peer is gone or the
 *     process is stopping. May be NULL: waits then end at once.
 */
typedef int vauth_tx_t(void *ctx, const unsigned char *pkt);
typedef int vauth_rx_t(void *ctx, unsigned char *pkt, int ms);
typedef void vauth_log_t(void *ctx, const char *msg);

typedef struct vauth_io {
	vauth_tx_t *tx;
	vauth_rx_t *rx;
	void *ctx;
} vauth_io_t;

vauth_t *vauth_new(void);
void vauth_free(vauth_t **);
const char *vauth_strerr(int);

/* configuration, before vauth_start() */
int vauth_set_aaguid(vauth_t *, const unsigned char *, size_t);
int vauth_parse_aaguid(const char *, unsigned char *, size_t);
/* tests: the AAGUID the attestation certificate names, if not the key's */
int vauth_set_cert_aaguid(vauth_t *, const unsigned char *, size_t);
/* tests: sign the attestation cert by an intermediate, sent in x5c[1] */
int vauth_set_att_intermediate(vauth_t *, int);
int vauth_set_attestation(vauth_t *, int);
int vauth_set_ca_file(vauth_t *, const char *);
int vauth_set_state_file(vauth_t *, const char *);
int vauth_set_presence(vauth_t *, int, int);
int vauth_set_up_timeout(vauth_t *, int);
int vauth_set_protocols(vauth_t *, int);
int vauth_set_faults(vauth_t *, const char *, const char **);
int vauth_set_max_creds(vauth_t *, size_t);
int vauth_set_min_pin_length(vauth_t *, size_t);
int vauth_set_fw_version(vauth_t *, uint64_t);
void vauth_set_log(vauth_t *, vauth_log_t *, void *);

/* load (or create) state and keys */
int vauth_start(vauth_t *);

/* after vauth_start() */
int vauth_preset_pin(vauth_t *, const char *);
int vauth_export_ca(vauth_t *, const char *);
const unsigned char *vauth_aaguid(const vauth_t *);
void vauth_reconnect(vauth_t *);

/* one CTAPHID report in; replies through io->tx */
int vauth_hid_input(vauth_t *, const unsigned char *, const vauth_io_t *);

/*
 * One CTAP2 request (command byte || CBOR) in, one reply (status || CBOR)
 * out, with no transport and no waits. *resplen is the size of resp on
 * entry (at least VAUTH_MAX_MSG is always enough).
 */
int
vauth_cbor(vauth_t *, const unsigned char *, size_t, unsigned char *, size_t *);

#ifdef __cplusplus
}
#endif

#endif /* !VAUTH_H */
