/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Attestations made with OpenSSL and libcbor (packed self attestation),
 * independent of any key and of the codec under test; shared by
 * test_attobj (the codec) and test_regbody (the body and its checks).
 */

#ifndef ATTFIX_H
#define ATTFIX_H

#include <openssl/evp.h>

#include <cbor.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webauthn.h"

#define RPID		"login.microsoft.com"
#define CHALLENGE	"ZXlKaGJHY2lPaUpTVTBFdFQwRkZVQzB5TlRZaUxDSmxibU1pT2lK"
#define F_UP		0x01
#define F_UV		0x04
#define F_AT		0x40
#define F_ED		0x80

extern const char options_json[];

struct att {
	webauthn_options_t	*o;
	EVP_PKEY		*key;
	unsigned char		 id[32];
	char			*cd;
	size_t			 cdlen;
	unsigned char		*ad;
	size_t			 adlen;
	unsigned char		*obj;
	size_t			 objlen;
	char			*body;
};

/* CBOR helpers */
unsigned char	*cbor_bytes(cbor_item_t *, size_t *);
void		 map_put(cbor_item_t *, cbor_item_t *, cbor_item_t *);
cbor_item_t	*cbor_int(int);
/* an attestationObject of n (key, value) pairs of cbor_item_t * */
unsigned char	*obj_of(size_t *, size_t, ...);
/* parse, encode again: want's bytes */
void		 reencode_is(const unsigned char *, size_t,
		    const unsigned char *, size_t);

/* a packed self attestation for options json: a->cd, ad, obj, body */
void		 make_authdata(struct att *, const char *rp_id, uint8_t flags,
		    int prot, bool hmac);
void		 make_attobj(struct att *);
void		 att_make(struct att *, const char *json, uint8_t flags,
		    int prot, bool hmac);
void		 att_free(struct att *);

/* the fido2Methods body from its parts; base64url of p */
char		*body_of(const char *dn, const char *id, const char *cd,
		    const char *obj, const char *extra_key);
char		*enc(const void *, size_t);
/* webauthn_verify_body() refuses body with want, naming words */
void		 verify_fails(const webauthn_options_t *, const char *body,
		    int want, const char *words);

#endif /* ATTFIX_H */
