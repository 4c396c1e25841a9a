/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The FIDO Metadata Service (MDS3), offline: verify a metadata BLOB (a
 * compact JWS whose x5c chains to pinned roots), keep its entries in
 * the state directory, and answer what is known of a model by AAGUID.
 * No network here: the caller hands over the BLOB's bytes.
 */

#ifndef PROV_MDS_H
#define PROV_MDS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define MDS_OK			 0
#define MDS_ERR_ARG		-1	/* bad argument */
#define MDS_ERR_NOMEM		-2
#define MDS_ERR_IO		-3	/* cannot read or write a file */
#define MDS_ERR_FORMAT		-4	/* not a JWS, bad JSON, bad field */
#define MDS_ERR_TOO_BIG		-5	/* past MDS_BLOB_MAX or the depth */
#define MDS_ERR_ALG		-6	/* alg none/HS*, unknown, wrong key */
#define MDS_ERR_CHAIN		-7	/* x5c does not reach a trusted root */
#define MDS_ERR_SIGNATURE	-8	/* the signature does not verify */
#define MDS_ERR_ROLLBACK	-9	/* `no` lower than the stored one */
#define MDS_ERR_NOT_FOUND	-10	/* no stored metadata / no such entry */
#define MDS_ERR_ROOTS		-11	/* no usable root certificate */
#define MDS_ERR_CRYPTO		-12	/* OpenSSL failed */
#define MDS_ERR_SIGNER		-13	/* the signing leaf is not the signer's */
#define MDS_ERR_AAGUID		-14	/* attestation cert names another model */

#define MDS_BLOB_MAX		(32 * 1024 * 1024)
#define MDS_JSON_DEPTH		32
#define MDS_URL			"https://mds3.fidoalliance.org/"
#define MDS_SIGNER		"mds.fidoalliance.org"	/* the signing leaf's host */
#define MDS_STORE_FILE		"mds.json"	/* in the state directory */

typedef struct mds_roots	mds_roots_t;
typedef struct mds		mds_t;
typedef struct mds_entry	mds_entry_t;	/* owned by its mds_t */

const char	*mds_strerr(int);

/*
 * Trust anchors for the BLOB's x5c chain.  mds_roots_add_pinned() adds
 * GlobalSign Root CA - R3 and GlobalSign Root R46 (the service moved
 * to R46 in 2026, with an R46 cross-signed by R3); mds_roots_add_pem()
 * adds every certificate of a PEM buffer (--mds-root).
 */
int	mds_roots_new(mds_roots_t **);
void	mds_roots_free(mds_roots_t **);
int	mds_roots_add_pinned(mds_roots_t *);
int	mds_roots_add_pem(mds_roots_t *, const void *, size_t);
size_t	mds_roots_count(const mds_roots_t *);
/*
 * The host name the BLOB's signing certificate must carry (checked as
 * TLS checks a server's: SAN dNSName, else CN): MDS_SIGNER unless set.
 * A chain to GlobalSign alone proves only a GlobalSign customer.
 */
int	mds_roots_set_signer(mds_roots_t *, const char *);
const char *mds_roots_signer(const mds_roots_t *);

/*
 * Verify a BLOB: JWS syntax, the header's alg (RS256, PS256, ES256;
 * never none or HS*), x5c to a root by path building, the leaf issued
 * to the signer host (mds_roots_set_signer()), the signature
 * with the header's alg and the leaf's key, then the payload.  On
 * MDS_OK *out holds the entries; err (may be NULL) says why not.
 */
int	mds_blob_verify(const mds_roots_t *, const void *, size_t, mds_t **,
	    char *, size_t);

/* the stored metadata: a compact JSON, written atomically, mode 0600 */
int	mds_load(const char *, mds_t **);	/* MDS_ERR_NOT_FOUND: none */
int	mds_load_buf(const void *, size_t, mds_t **);
int	mds_store(const mds_t *, const char *);

/*
 * mds_blob_verify(), then against the stored metadata at path: a
 * higher `no` replaces it (*updated true), the same `no` leaves it
 * (*updated false), a lower one is MDS_ERR_ROLLBACK.  Nothing is
 * written unless everything verified.  *out (may be NULL) is the new
 * metadata, or the stored one on a no-op.
 */
int	mds_update(const mds_roots_t *, const void *, size_t, const char *,
	    mds_t **, bool *, char *, size_t);

void		 mds_free(mds_t **);
long long	 mds_no(const mds_t *);
const char	*mds_next_update(const mds_t *);	/* "YYYY-MM-DD" */
/* true when now (UTC) is past the nextUpdate day: warn, never pass */
bool		 mds_stale(const mds_t *, time_t);
size_t		 mds_entry_count(const mds_t *);
const mds_entry_t *mds_entry_at(const mds_t *, size_t);
/* by AAGUID (8-4-4-4-12, any case); NULL if none */
const mds_entry_t *mds_entry_find(const mds_t *, const char *);

const char	*mds_entry_aaguid(const mds_entry_t *);	/* lower case */
const char	*mds_entry_description(const mds_entry_t *);	/* or "" */
/* the latest FIDO_CERTIFIED* status ("FIDO_CERTIFIED_L1"), or NULL */
const char	*mds_entry_certification_level(const mds_entry_t *);
/*
 * The status that counts: the latest revocation or compromise if any
 * report has one (a later update does not heal keys in the field),
 * else the latest report's; NULL without reports.
 */
const char	*mds_entry_status(const mds_entry_t *);
/* REVOKED, ATTESTATION_KEY_COMPROMISE, USER_KEY_*_COMPROMISE, UV bypass */
bool		 mds_entry_is_revoked_or_compromised(const mds_entry_t *);
bool		 mds_status_is_bad(const char *);
size_t		 mds_entry_report_count(const mds_entry_t *);
/* report i: status and effectiveDate ("" if absent) */
void		 mds_entry_report(const mds_entry_t *, size_t, const char **,
		    const char **);
/* attestation root certificates (DER) and their subjects (one line) */
size_t		 mds_entry_root_count(const mds_entry_t *);
void		 mds_entry_root(const mds_entry_t *, size_t,
		    const unsigned char **, size_t *);
const char	*mds_entry_root_subject(const mds_entry_t *, size_t);

/*
 * A packed attestation's x5c (DER, leaf first) against the entry's
 * attestation roots: path building with the roots as the only anchors.
 */
int	mds_verify_attestation_chain(const mds_entry_t *,
	    const unsigned char *const *, const size_t *, size_t, char *,
	    size_t);
/*
 * WebAuthn 8.2.1: the attestation certificate's id-fido-gen-ce-aaguid
 * extension (1.3.6.1.4.1.45724.1.1.4, non-critical, an OCTET STRING
 * holding the 16-byte AAGUID) against the AAGUID of authData (8-4-4-
 * 4-12).  MDS_OK: equal; MDS_ERR_NOT_FOUND: no such extension (it is
 * optional); MDS_ERR_AAGUID: another AAGUID; MDS_ERR_FORMAT: not a
 * certificate, a critical or malformed extension.  err says which.
 */
int	mds_attestation_aaguid(const unsigned char *, size_t, const char *,
	    char *, size_t);

#endif /* PROV_MDS_H */
