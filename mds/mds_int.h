/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Inside mds/ only (and its unit and fuzz tests): the struct bodies
 * and the helpers the files share.
 */

#ifndef PROV_MDS_INT_H
#define PROV_MDS_INT_H

#include <openssl/x509.h>

#include <jansson.h>

#include "mds.h"

struct mds_roots {
	STACK_OF(X509)	*certs;
	char		 signer[256];	/* host the signing leaf names */
};

struct mds_report {
	char	*status;
	char	*date;		/* effectiveDate, "" if absent */
};

struct mds_root {
	unsigned char	*der;
	size_t		 len;
	char		*subject;
};

struct mds_entry {
	char			 aaguid[37];
	const char		*description;	/* points into json */
	struct mds_report	*reports;
	size_t			 nreports;
	struct mds_root		*roots;
	size_t			 nroots;
	json_t			*json;		/* what is stored (no icon) */
};

struct mds {
	long long	 no;
	char		 next_update[11];
	time_t		 next_update_t;	/* 00:00 UTC of that day */
	char		*legal_header;
	mds_entry_t	*entries;	/* sorted by aaguid */
	size_t		 nentries;
};

extern const char mds_pinned_roots_pem[];

/*
 * A payload (the BLOB's, entries an array) or a stored file (entries
 * an object keyed by AAGUID) into an mds_t.
 */
int	mds_parse_json(const char *, size_t, mds_t **, char *, size_t);
/* the stored form (compact JSON, entries keyed by AAGUID); free() it */
char	*mds_dump(const mds_t *);
/* the JWS alone: header, chain, signature; *payload is its JSON */
int	mds_jws_verify(const mds_roots_t *, const char *, size_t, char **,
	    size_t *, char *, size_t);
/* leaf + untrusted chain to anchors, by X509_verify_cert */
int	mds_chain_verify(STACK_OF(X509) *, X509 *, STACK_OF(X509) *, char *,
	    size_t);
/* the subject, one line (RFC 2253); free() it; NULL on ENOMEM */
char	*mds_subject_of(X509 *);
/* "YYYY-MM-DD", strictly, to 00:00 UTC of that day */
int	mds_parse_date(const char *, time_t *);

#endif /* PROV_MDS_INT_H */
