/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The metadata itself: a verified BLOB payload ({no, nextUpdate,
 * legalHeader, entries[]}) or the stored file (the same, entries keyed
 * by AAGUID), into entries sorted by AAGUID.  Only FIDO2 entries (with
 * an aaguid) are kept; UAF and U2F ones have nothing to look up by.
 * Types are checked strictly; an attestation root that does not decode
 * is dropped (that model then simply fails attestation) rather than
 * failing the whole update.
 */

#include <openssl/err.h>
#include <openssl/x509.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "mds_int.h"

#define STORE_FORMAT	"provisioning-mds/1"

static const char *const bad_status[] = {
	"REVOKED",
	"ATTESTATION_KEY_COMPROMISE",
	"USER_KEY_PHYSICAL_COMPROMISE",
	"USER_KEY_REMOTE_COMPROMISE",
	"USER_VERIFICATION_BYPASS",
	NULL,
};

int
mds_parse_date(const char *s, time_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	struct tm	tm;
	int		i, y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return (-1);
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return (-1);
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 ||
	    y % 400 == 0))))
		return (-1);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*out = timegm(&tm);

	return (0);
}

static void
entry_reset(mds_entry_t *e)
{
	size_t i;

	for (i = 0; i < e->nreports; i++) {
		free(e->reports[i].status);
		free(e->reports[i].date);
	}
	free(e->reports);
	for (i = 0; i < e->nroots; i++) {
		free(e->roots[i].der);
		free(e->roots[i].subject);
	}
	free(e->roots);
	json_decref(e->json);
	memset(e, 0, sizeof(*e));
}

void
mds_free(mds_t **mp)
{
	size_t i;

	if (mp == NULL || *mp == NULL)
		return;
	for (i = 0; i < (*mp)->nentries; i++)
		entry_reset(&(*mp)->entries[i]);
	free((*mp)->entries);
	free((*mp)->legal_header);
	free(*mp);
	*mp = NULL;
}

/* one line, RFC 2253 ("CN=...,O=..."), for `mds show` and errors */
char *
mds_subject_of(X509 *x)
{
	BIO	*b;
	char	*p, *s = NULL;
	long	 n;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return (NULL);
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) >= 0 && (n = BIO_get_mem_data(b, &p)) >= 0)
		s = strndup(p, (size_t)n);
	BIO_free(b);

	return (s);
}

static int
add_root(mds_entry_t *e, const char *b64)
{
	struct mds_root		*nr, *rt;
	const unsigned char	*p;
	unsigned char		*der = NULL;
	X509			*x = NULL;
	size_t			 len;
	int			 r = MDS_OK;

	if (b64_decode(b64, &der, &len) < 0 || len > 64 * 1024)
		goto fail;
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len)
		goto fail;
	if ((nr = reallocarray(e->roots, e->nroots + 1,
	    sizeof(*nr))) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	e->roots = nr;
	rt = &e->roots[e->nroots];
	if ((rt->subject = mds_subject_of(x)) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	rt->der = der;
	rt->len = len;
	e->nroots++;
	der = NULL;
fail:
	if (x == NULL)
		log_debug("mds: %s: an attestation root does not decode; "
		    "dropped", e->aaguid);
	X509_free(x);
	free(der);
	ERR_clear_error();

	return (r);
}

static int
add_reports(mds_entry_t *e, json_t *a, char *err, size_t errlen)
{
	json_t	*o, *st, *dt;
	size_t	 i;

	if (a == NULL)
		return (MDS_OK);
	if (!json_is_array(a)) {
		errf(err, errlen, "entry %s: statusReports is not an array",
		    e->aaguid);
		return (MDS_ERR_FORMAT);
	}
	if (json_array_size(a) == 0)
		return (MDS_OK);
	if ((e->reports = calloc(json_array_size(a),
	    sizeof(*e->reports))) == NULL)
		return (MDS_ERR_NOMEM);
	json_array_foreach(a, i, o) {
		st = json_object_get(o, "status");
		dt = json_object_get(o, "effectiveDate");
		if (!json_is_object(o) || !json_is_string(st) ||
		    (dt != NULL && !json_is_string(dt))) {
			errf(err, errlen, "entry %s: statusReports[%zu] has "
			    "no status", e->aaguid, i);
			return (MDS_ERR_FORMAT);
		}
		if ((e->reports[i].status = strdup(json_string_value(st))) ==
		    NULL || (e->reports[i].date = strdup(dt != NULL ?
		    json_string_value(dt) : "")) == NULL) {
			e->nreports = i + 1;
			return (MDS_ERR_NOMEM);
		}
		e->nreports = i + 1;
	}

	return (MDS_OK);
}

/*
 * One entry.  1 if it has no aaguid (skipped), else 0 or an error.
 * The kept JSON drops the icon: it is most of a real BLOB's size.
 */
static int
parse_entry(json_t *o, const char *key, mds_entry_t *e, char *err,
    size_t errlen)
{
	json_t		*ag, *ms, *roots, *v;
	const char	*s;
	size_t		 i;
	int		 r;

	memset(e, 0, sizeof(*e));
	if (!json_is_object(o)) {
		errf(err, errlen, "an entry is not an object");
		return (MDS_ERR_FORMAT);
	}
	if ((ag = json_object_get(o, "aaguid")) == NULL && key == NULL)
		return (1);
	if (!json_is_string(ag) || !guid_valid(json_string_value(ag),
	    strlen(json_string_value(ag)))) {
		errf(err, errlen, "an entry's aaguid is not a GUID");
		return (MDS_ERR_FORMAT);
	}
	s = json_string_value(ag);
	for (i = 0; i < 36; i++)
		e->aaguid[i] = (char)tolower((unsigned char)s[i]);
	if (key != NULL && strcmp(key, e->aaguid) != 0) {
		errf(err, errlen, "entry %s is stored under %.40s", e->aaguid,
		    key);
		return (MDS_ERR_FORMAT);
	}
	if ((e->json = json_deep_copy(o)) == NULL)
		return (MDS_ERR_NOMEM);
	if (json_object_set_new(e->json, "aaguid",
	    json_string(e->aaguid)) != 0)
		return (MDS_ERR_NOMEM);
	ms = json_object_get(e->json, "metadataStatement");
	if (ms != NULL && !json_is_object(ms)) {
		errf(err, errlen, "entry %s: metadataStatement is not an "
		    "object", e->aaguid);
		return (MDS_ERR_FORMAT);
	}
	e->description = "";
	if (ms != NULL) {
		(void)json_object_del(ms, "icon");
		if ((v = json_object_get(ms, "description")) != NULL) {
			if (!json_is_string(v)) {
				errf(err, errlen, "entry %s: description is "
				    "not a string", e->aaguid);
				return (MDS_ERR_FORMAT);
			}
			e->description = json_string_value(v);
		}
		roots = json_object_get(ms, "attestationRootCertificates");
		if (roots != NULL && !json_is_array(roots)) {
			errf(err, errlen, "entry %s: attestationRoot"
			    "Certificates is not an array", e->aaguid);
			return (MDS_ERR_FORMAT);
		}
		json_array_foreach(roots, i, v) {
			if (!json_is_string(v)) {
				errf(err, errlen, "entry %s: an attestation "
				    "root is not a string", e->aaguid);
				return (MDS_ERR_FORMAT);
			}
			if ((r = add_root(e, json_string_value(v))) != MDS_OK)
				return (r);
		}
	}

	return (add_reports(e, json_object_get(e->json, "statusReports"),
	    err, errlen));
}

/* by aaguid, then by position, so the first of duplicates stays */
struct slot {
	mds_entry_t	e;
	size_t		pos;
};

static int
slot_cmp(const void *a, const void *b)
{
	const struct slot	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->e.aaguid, y->e.aaguid)) != 0)
		return (c);

	return (x->pos < y->pos ? -1 : x->pos > y->pos);
}

static int
parse_entries(mds_t *m, json_t *entries, char *err, size_t errlen)
{
	struct slot	*slots = NULL;
	json_t		*o;
	const char	*key;
	size_t		 n, i, k = 0;
	int		 r;

	n = json_is_array(entries) ? json_array_size(entries) :
	    json_object_size(entries);
	if (n == 0)
		return (MDS_OK);
	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		return (MDS_ERR_NOMEM);
	if (json_is_array(entries)) {
		json_array_foreach(entries, i, o) {
			if ((r = parse_entry(o, NULL, &slots[k].e, err,
			    errlen)) == 1)
				continue;
			slots[k].pos = k;
			k++;
			if (r != MDS_OK)
				goto fail;
		}
	} else {
		json_object_foreach(entries, key, o) {
			r = parse_entry(o, key, &slots[k].e, err, errlen);
			slots[k].pos = k;
			k++;
			if (r != MDS_OK)
				goto fail;
		}
	}
	qsort(slots, k, sizeof(*slots), slot_cmp);
	if (k > 0 && (m->entries = calloc(k, sizeof(*m->entries))) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	for (i = 0; i < k; i++) {
		if (m->nentries > 0 && strcmp(slots[i].e.aaguid,
		    m->entries[m->nentries - 1].aaguid) == 0) {
			log_debug("mds: duplicate entry %s: the first is kept",
			    slots[i].e.aaguid);
			entry_reset(&slots[i].e);
			continue;
		}
		m->entries[m->nentries++] = slots[i].e;
		memset(&slots[i].e, 0, sizeof(slots[i].e));
	}
	r = MDS_OK;
fail:
	for (i = 0; i < k; i++)
		entry_reset(&slots[i].e);
	free(slots);

	return (r);
}

int
mds_parse_json(const char *s, size_t len, mds_t **out, char *err,
    size_t errlen)
{
	mds_t		*m = NULL;
	json_t		*j = NULL, *v, *entries;
	json_error_t	 jerr;
	int		 r;

	*out = NULL;
	if (!json_depth_ok(s, len, MDS_JSON_DEPTH)) {
		errf(err, errlen, "metadata nested deeper than %d",
		    MDS_JSON_DEPTH);
		return (MDS_ERR_TOO_BIG);
	}
	if ((j = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || !json_is_object(j)) {
		errf(err, errlen, "metadata: not a JSON object");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = MDS_ERR_NOMEM;
		goto fail;
	}
	if (!json_is_integer(v = json_object_get(j, "no")) ||
	    json_integer_value(v) < 0) {
		errf(err, errlen, "metadata: no serial number (no)");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	m->no = (long long)json_integer_value(v);
	if (!json_is_string(v = json_object_get(j, "nextUpdate")) ||
	    mds_parse_date(json_string_value(v), &m->next_update_t) < 0) {
		errf(err, errlen, "metadata: nextUpdate is not a date "
		    "(YYYY-MM-DD)");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	memcpy(m->next_update, json_string_value(v), 11);
	if ((v = json_object_get(j, "legalHeader")) != NULL) {
		if (!json_is_string(v)) {
			errf(err, errlen, "metadata: legalHeader is not a "
			    "string");
			r = MDS_ERR_FORMAT;
			goto fail;
		}
		if ((m->legal_header = strdup(json_string_value(v))) ==
		    NULL) {
			r = MDS_ERR_NOMEM;
			goto fail;
		}
	}
	entries = json_object_get(j, "entries");
	/* a stored file says what it is: then entries are keyed */
	v = json_object_get(j, "format");
	if (v != NULL && !(json_is_string(v) &&
	    strcmp(json_string_value(v), STORE_FORMAT) == 0 &&
	    json_is_object(entries))) {
		errf(err, errlen, "metadata: unknown stored format");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if (v == NULL && !json_is_array(entries)) {
		errf(err, errlen, "metadata: entries is not an array");
		r = MDS_ERR_FORMAT;
		goto fail;
	}
	if ((r = parse_entries(m, entries, err, errlen)) != MDS_OK)
		goto fail;
	*out = m;
	m = NULL;
	r = MDS_OK;
fail:
	mds_free(&m);
	json_decref(j);

	return (r);
}

/* the stored form: compact, entries keyed by AAGUID */
char *
mds_dump(const mds_t *m)
{
	json_t	*j, *entries;
	char	*s = NULL;
	size_t	 i;

	if ((entries = json_object()) == NULL)
		return (NULL);
	for (i = 0; i < m->nentries; i++)
		if (json_object_set(entries, m->entries[i].aaguid,
		    m->entries[i].json) != 0) {
			json_decref(entries);
			return (NULL);
		}
	if ((j = json_pack("{s:s, s:I, s:s, s:s*, s:o}", "format",
	    STORE_FORMAT, "no", (json_int_t)m->no, "nextUpdate",
	    m->next_update, "legalHeader", m->legal_header, "entries",
	    entries)) == NULL)
		return (NULL);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);

	return (s);
}

long long
mds_no(const mds_t *m)
{
	return (m == NULL ? -1 : m->no);
}

const char *
mds_next_update(const mds_t *m)
{
	return (m == NULL ? "" : m->next_update);
}

bool
mds_stale(const mds_t *m, time_t now)
{
	/* nextUpdate names a day: it is over at the next midnight UTC */
	return (m == NULL || now >= m->next_update_t + 86400);
}

size_t
mds_entry_count(const mds_t *m)
{
	return (m == NULL ? 0 : m->nentries);
}

const mds_entry_t *
mds_entry_at(const mds_t *m, size_t i)
{
	return (m == NULL || i >= m->nentries ? NULL : &m->entries[i]);
}

static int
entry_cmp(const void *key, const void *elt)
{
	return (strcmp(key, ((const mds_entry_t *)elt)->aaguid));
}

const mds_entry_t *
mds_entry_find(const mds_t *m, const char *aaguid)
{
	char	key[37];
	size_t	i;

	if (m == NULL || aaguid == NULL || m->nentries == 0 ||
	    !guid_valid(aaguid, strlen(aaguid)))
		return (NULL);
	for (i = 0; i < 36; i++)
		key[i] = (char)tolower((unsigned char)aaguid[i]);
	key[36] = '\0';

	return (bsearch(key, m->entries, m->nentries, sizeof(*m->entries),
	    entry_cmp));
}

const char *
mds_entry_aaguid(const mds_entry_t *e)
{
	return (e->aaguid);
}

const char *
mds_entry_description(const mds_entry_t *e)
{
	return (e->description);
}

bool
mds_status_is_bad(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && bad_status[i] != NULL; i++)
		if (strcmp(s, bad_status[i]) == 0)
			return (true);

	return (false);
}

/* the latest report (by effectiveDate, then order) that pick accepts */
static const struct mds_report *
latest(const mds_entry_t *e, bool (*pick)(const char *))
{
	const struct mds_report	*best = NULL;
	size_t			 i;

	for (i = 0; i < e->nreports; i++)
		if ((pick == NULL || pick(e->reports[i].status)) &&
		    (best == NULL || strcmp(e->reports[i].date,
		    best->date) >= 0))
			best = &e->reports[i];

	return (best);
}

static bool
is_certified(const char *s)
{
	return (strncmp(s, "FIDO_CERTIFIED", 14) == 0);
}

const char *
mds_entry_certification_level(const mds_entry_t *e)
{
	const struct mds_report *r = latest(e, is_certified);

	return (r == NULL ? NULL : r->status);
}

const char *
mds_entry_status(const mds_entry_t *e)
{
	const struct mds_report *r;

	if ((r = latest(e, mds_status_is_bad)) == NULL)
		r = latest(e, NULL);

	return (r == NULL ? NULL : r->status);
}

bool
mds_entry_is_revoked_or_compromised(const mds_entry_t *e)
{
	return (latest(e, mds_status_is_bad) != NULL);
}

size_t
mds_entry_report_count(const mds_entry_t *e)
{
	return (e->nreports);
}

void
mds_entry_report(const mds_entry_t *e, size_t i, const char **status,
    const char **date)
{
	*status = i < e->nreports ? e->reports[i].status : "";
	*date = i < e->nreports ? e->reports[i].date : "";
}

size_t
mds_entry_root_count(const mds_entry_t *e)
{
	return (e->nroots);
}

void
mds_entry_root(const mds_entry_t *e, size_t i, const unsigned char **der,
    size_t *len)
{
	*der = i < e->nroots ? e->roots[i].der : NULL;
	*len = i < e->nroots ? e->roots[i].len : 0;
}

const char *
mds_entry_root_subject(const mds_entry_t *e, size_t i)
{
	return (i < e->nroots ? e->roots[i].subject : "");
}
