/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * mds/: the BLOB verifier (chain, alg, signature, format), the payload
 * parser, the stored file and the update rule, and the attestation
 * chain check.  The fixtures come from tests/cli/mds_gen.py, run once
 * into a temporary directory.
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"
#include "mds_int.h"

#define VAUTH	"76617574-682d-7465-7374-2d6b65790001"
#define REVOKED	"0badc0de-0000-4000-8000-00000000dead"
#define ATT	"a77e57ed-0000-4000-8000-000000000a77"

static char dir[PATH_MAX];

static void
fixture(const char *name, unsigned char **buf, size_t *len)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(read_file_max(path, MDS_BLOB_MAX, buf, len), 0);
}

static mds_roots_t *
roots(const char *name)
{
	mds_roots_t	*r = NULL;
	unsigned char	*buf;
	size_t		 len;

	assert_int_equal(mds_roots_new(&r), MDS_OK);
	fixture(name, &buf, &len);
	assert_int_equal(mds_roots_add_pem(r, buf, len), MDS_OK);
	free(buf);

	return (r);
}

/* verify BLOB name.jwt against the roots in file rname */
static int
verify(const char *rname, const char *name, mds_t **out)
{
	mds_roots_t	*r = roots(rname);
	mds_t		*m = NULL;
	unsigned char	*buf;
	char		 file[128], err[512];
	size_t		 len;
	int		 rv;

	snprintf(file, sizeof(file), "%s.jwt", name);
	fixture(file, &buf, &len);
	rv = mds_blob_verify(r, buf, len, &m, err, sizeof(err));
	if (rv != MDS_OK)
		assert_non_null(m == NULL ? err : NULL);	/* a reason */
	if (out != NULL)
		*out = m;
	else
		mds_free(&m);
	free(buf);
	mds_roots_free(&r);

	return (rv);
}

static int
setup(void **state)
{
	const char	*py = getenv("PYTHON3");
	char		 cmd[PATH_MAX * 3];

	snprintf(dir, sizeof(dir), "%s/mds-unit.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL)
		return (-1);
	snprintf(cmd, sizeof(cmd), "'%s' '%s/tests/cli/mds_gen.py' '%s'",
	    py != NULL ? py : PYTHON3, SRCDIR, dir);

	return (system(cmd) == 0 ? 0 : -1);
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);

	return (system(cmd) == 0 ? 0 : -1);
}

static void
test_valid(void **state)
{
	mds_t			*m = NULL;
	const mds_entry_t	*e;
	const char		*st, *dt;

	assert_int_equal(verify("roots.pem", "valid", &m), MDS_OK);
	assert_int_equal(mds_no(m), 10);
	/* UAF and U2F entries (no aaguid) are left out */
	assert_int_equal(mds_entry_count(m), 3);
	assert_false(mds_stale(m, time(NULL)));
	assert_non_null(e = mds_entry_find(m, VAUTH));
	assert_ptr_equal(mds_entry_find(m,
	    "76617574-682D-7465-7374-2D6B65790001"), e);
	assert_string_equal(mds_entry_aaguid(e), VAUTH);
	assert_string_equal(mds_entry_description(e),
	    "vauth virtual authenticator");
	assert_string_equal(mds_entry_status(e), "FIDO_CERTIFIED_L1");
	assert_string_equal(mds_entry_certification_level(e),
	    "FIDO_CERTIFIED_L1");
	assert_false(mds_entry_is_revoked_or_compromised(e));
	assert_int_equal(mds_entry_report_count(e), 2);
	mds_entry_report(e, 0, &st, &dt);
	assert_string_equal(st, "NOT_FIDO_CERTIFIED");
	assert_string_equal(dt, "2024-01-01");
	assert_int_equal(mds_entry_root_count(e), 1);
	assert_non_null(strstr(mds_entry_root_subject(e, 0),
	    "CN=vauth test attestation root"));
	/* the BLOB had it in upper case; REVOKED stays the worst */
	assert_non_null(e = mds_entry_find(m, REVOKED));
	assert_string_equal(mds_entry_status(e), "REVOKED");
	assert_true(mds_entry_is_revoked_or_compromised(e));
	assert_string_equal(mds_entry_certification_level(e),
	    "FIDO_CERTIFIED_L2");
	assert_null(mds_entry_find(m, "00000000-0000-0000-0000-000000000000"));
	assert_null(mds_entry_find(m, "76617574"));
	assert_null(mds_entry_find(m, NULL));
	mds_free(&m);
	assert_null(m);
	mds_free(&m);
}

static void
test_chain(void **state)
{
	/* path building: each root alone, and the cross-sign to R3 */
	assert_int_equal(verify("roots.pem", "r46only", NULL), MDS_OK);
	assert_int_equal(verify("root-r46.pem", "r46only", NULL), MDS_OK);
	assert_int_equal(verify("root-r3.pem", "r46only", NULL),
	    MDS_ERR_CHAIN);
	assert_int_equal(verify("root-r3.pem", "cross", NULL), MDS_OK);
	assert_int_equal(verify("root-r46.pem", "cross", NULL), MDS_OK);
	assert_int_equal(verify("roots.pem", "wrongroot", NULL),
	    MDS_ERR_CHAIN);
	assert_int_equal(verify("wrong-root.pem", "valid", NULL),
	    MDS_ERR_CHAIN);
}

/* the leaf must be issued to the signer host, whatever it chains to */
static void
test_signer(void **state)
{
	mds_roots_t	*r = roots("roots.pem");
	mds_t		*m = NULL;
	unsigned char	*buf;
	char		 err[512];
	size_t		 len;

	assert_int_equal(verify("roots.pem", "otherhost", NULL),
	    MDS_ERR_SIGNER);
	assert_int_equal(verify("roots.pem", "private", NULL),
	    MDS_ERR_SIGNER);
	assert_string_equal(mds_roots_signer(r), MDS_SIGNER);
	assert_int_equal(mds_roots_set_signer(r, ""), MDS_ERR_ARG);
	assert_int_equal(mds_roots_set_signer(r, "a b"), MDS_ERR_ARG);
	assert_int_equal(mds_roots_set_signer(r, "metadata.corp.example"),
	    MDS_OK);
	fixture("private.jwt", &buf, &len);
	assert_int_equal(mds_blob_verify(r, buf, len, &m, err, sizeof(err)),
	    MDS_OK);
	assert_int_equal(mds_no(m), 16);
	mds_free(&m);
	free(buf);
	/* and then the public service's own leaf is not that signer */
	fixture("valid.jwt", &buf, &len);
	assert_int_equal(mds_blob_verify(r, buf, len, &m, err, sizeof(err)),
	    MDS_ERR_SIGNER);
	assert_non_null(strstr(err, "not issued to metadata.corp.example"));
	free(buf);
	mds_roots_free(&r);
}

static void
test_pinned(void **state)
{
	mds_roots_t	*r = NULL;
	mds_t		*m = NULL;
	unsigned char	*buf;
	size_t		 len;

	assert_int_equal(mds_roots_new(&r), MDS_OK);
	assert_int_equal(mds_roots_add_pinned(r), MDS_OK);
	assert_int_equal(mds_roots_count(r), 2);
	fixture("valid.jwt", &buf, &len);
	assert_int_equal(mds_blob_verify(r, buf, len, &m, NULL, 0),
	    MDS_ERR_CHAIN);
	assert_null(m);
	assert_int_equal(mds_roots_add_pem(r, "garbage", 7), MDS_ERR_ROOTS);
	free(buf);
	mds_roots_free(&r);
	assert_int_equal(mds_roots_new(&r), MDS_OK);
	/* no roots at all */
	fixture("valid.jwt", &buf, &len);
	assert_int_equal(mds_blob_verify(r, buf, len, &m, NULL, 0),
	    MDS_ERR_ROOTS);
	free(buf);
	mds_roots_free(&r);
}

static void
test_alg(void **state)
{
	assert_int_equal(verify("roots.pem", "es256", NULL), MDS_OK);
	assert_int_equal(verify("roots.pem", "ps256", NULL), MDS_OK);
	assert_int_equal(verify("roots.pem", "algnone", NULL), MDS_ERR_ALG);
	assert_int_equal(verify("roots.pem", "algnone_empty", NULL),
	    MDS_ERR_ALG);
	assert_int_equal(verify("roots.pem", "alghs256", NULL), MDS_ERR_ALG);
	assert_int_equal(verify("roots.pem", "algmismatch", NULL),
	    MDS_ERR_ALG);
}

static void
test_signature(void **state)
{
	assert_int_equal(verify("roots.pem", "badsig", NULL),
	    MDS_ERR_SIGNATURE);
	assert_int_equal(verify("roots.pem", "tampered", NULL),
	    MDS_ERR_SIGNATURE);
}

static void
test_format(void **state)
{
	mds_roots_t	*r = roots("roots.pem");
	mds_t		*m = NULL;
	unsigned char	*buf, *big;
	size_t		 len;

	assert_int_equal(verify("roots.pem", "truncated", NULL),
	    MDS_ERR_FORMAT);
	assert_int_equal(verify("roots.pem", "garbage", NULL),
	    MDS_ERR_FORMAT);
	assert_int_equal(verify("roots.pem", "nox5c", NULL), MDS_ERR_FORMAT);
	assert_int_equal(verify("roots.pem", "crit", NULL), MDS_ERR_FORMAT);
	assert_int_equal(verify("roots.pem", "payload", NULL),
	    MDS_ERR_FORMAT);
	assert_int_equal(mds_blob_verify(r, "", 0, &m, NULL, 0),
	    MDS_ERR_FORMAT);
	assert_int_equal(mds_blob_verify(r, "a.b.c.d", 7, &m, NULL, 0),
	    MDS_ERR_FORMAT);
	assert_non_null(big = calloc(1, MDS_BLOB_MAX + 1));
	assert_int_equal(mds_blob_verify(r, big, MDS_BLOB_MAX + 1, &m, NULL,
	    0), MDS_ERR_TOO_BIG);
	free(big);
	/* a saved download's trailing newline is fine */
	fixture("valid.jwt", &buf, &len);
	assert_non_null(big = malloc(len + 2));
	memcpy(big, buf, len);
	memcpy(big + len, "\r\n", 2);
	assert_int_equal(mds_blob_verify(r, big, len + 2, &m, NULL, 0),
	    MDS_OK);
	mds_free(&m);
	free(big);
	free(buf);
	mds_roots_free(&r);
}

static void
test_payload(void **state)
{
	static const char deep[] = "{\"no\":1,\"nextUpdate\":\"2030-01-01\","
	    "\"entries\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]]]]]]]]}";
	static const char leap[] = "{\"no\":1,\"nextUpdate\":"
	    "\"2024-02-29\",\"entries\":[]}";
	static const char *const bad[] = {
	    "[]",
	    "{\"no\":-1,\"nextUpdate\":\"2030-01-01\",\"entries\":[]}",
	    "{\"no\":\"1\",\"nextUpdate\":\"2030-01-01\",\"entries\":[]}",
	    "{\"no\":1,\"nextUpdate\":\"2030-1-01\",\"entries\":[]}",
	    "{\"no\":1,\"nextUpdate\":\"2030-01-01\",\"entries\":{}}",
	    "{\"no\":1,\"nextUpdate\":\"2030-01-01\",\"entries\":[1]}",
	    "{\"no\":1,\"nextUpdate\":\"2030-01-01\",\"entries\":[{\"aaguid\":"
	    "\"xyz\"}]}",
	    "{\"no\":1,\"nextUpdate\":\"2030-01-01\",\"entries\":[{\"aaguid\":"
	    "\"76617574-682d-7465-7374-2d6b65790001\",\"statusReports\":"
	    "[{\"effectiveDate\":\"2020-01-01\"}]}]}",
	    "{\"no\":1,\"no\":2,\"nextUpdate\":\"2030-01-01\",\"entries\":[]}",
	    "{\"format\":\"other\",\"no\":1,\"nextUpdate\":\"2030-01-01\","
	    "\"entries\":{}}",
	    NULL };
	mds_t	*m = NULL;
	char	*dump;
	time_t	 t;
	size_t	 i;

	assert_int_equal(mds_parse_json(deep, strlen(deep), &m, NULL, 0),
	    MDS_ERR_TOO_BIG);
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_not_equal(mds_parse_json(bad[i], strlen(bad[i]), &m,
		    NULL, 0), MDS_OK);
		assert_null(m);
	}
	assert_int_equal(mds_parse_date("2024-02-29", &t), 0);
	assert_int_equal(t, 1709164800);
	assert_int_equal(mds_parse_date("2025-02-29", &t), -1);
	assert_int_equal(mds_parse_date("2025-13-01", &t), -1);
	assert_int_equal(mds_parse_date("2025-04-31", &t), -1);
	assert_int_equal(mds_parse_date("2025-04-3a", &t), -1);
	assert_int_equal(mds_parse_date("2025-04-300", &t), -1);
	/* stale only once the nextUpdate day is over (UTC) */
	assert_int_equal(mds_parse_json(leap, strlen(leap), &m, NULL, 0),
	    MDS_OK);
	assert_false(mds_stale(m, 1709164800 + 86399));
	assert_true(mds_stale(m, 1709164800 + 86400));
	assert_int_equal(mds_entry_count(m), 0);
	assert_null(mds_entry_find(m, VAUTH));
	/* no legalHeader: the stored form reads back (found by fuzzing) */
	assert_non_null(dump = mds_dump(m));
	mds_free(&m);
	assert_int_equal(mds_load_buf(dump, strlen(dump), &m), MDS_OK);
	assert_int_equal(mds_no(m), 1);
	free(dump);
	mds_free(&m);
}

static void
test_store(void **state)
{
	mds_roots_t		*r = roots("roots.pem");
	mds_t			*m = NULL, *l = NULL;
	const mds_entry_t	*a, *b;
	const unsigned char	*da, *db;
	unsigned char		*buf, *s1, *s2;
	char			 path[PATH_MAX * 2], err[512];
	size_t			 len, la, lb, n1, n2;
	struct stat		 st;
	bool			 up;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	(void)unlink(path);
	assert_int_equal(mds_load(path, &l), MDS_ERR_NOT_FOUND);
	fixture("valid.jwt", &buf, &len);
	assert_int_equal(mds_update(r, buf, len, path, &m, &up, err,
	    sizeof(err)), MDS_OK);
	assert_true(up);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* the stored file reads back as the same metadata */
	assert_int_equal(mds_load(path, &l), MDS_OK);
	assert_int_equal(mds_no(l), 10);
	assert_string_equal(mds_next_update(l), mds_next_update(m));
	assert_int_equal(mds_entry_count(l), mds_entry_count(m));
	a = mds_entry_find(m, VAUTH);
	b = mds_entry_find(l, VAUTH);
	mds_entry_root(a, 0, &da, &la);
	mds_entry_root(b, 0, &db, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	assert_string_equal(mds_entry_status(mds_entry_find(l, REVOKED)),
	    "REVOKED");
	mds_free(&l);
	mds_free(&m);
	/* the same no again: nothing written */
	assert_int_equal(mds_update(r, buf, len, path, &m, &up, NULL, 0),
	    MDS_OK);
	assert_false(up);
	assert_int_equal(mds_no(m), 10);
	mds_free(&m);
	free(buf);
	fixture("ps256.jwt", &buf, &len);
	assert_int_equal(mds_update(r, buf, len, path, NULL, &up, NULL, 0),
	    MDS_OK);
	assert_true(up);
	free(buf);
	/* lower, and bad: refused, the file unchanged */
	assert_int_equal(read_file_max(path, MDS_BLOB_MAX, &s1, &n1), 0);
	fixture("lower.jwt", &buf, &len);
	assert_int_equal(mds_update(r, buf, len, path, &m, &up, err,
	    sizeof(err)), MDS_ERR_ROLLBACK);
	assert_null(m);
	assert_non_null(strstr(err, "lower than the stored no 14"));
	free(buf);
	fixture("badsig.jwt", &buf, &len);
	assert_int_equal(mds_update(r, buf, len, path, &m, &up, NULL, 0),
	    MDS_ERR_SIGNATURE);
	free(buf);
	assert_int_equal(read_file_max(path, MDS_BLOB_MAX, &s2, &n2), 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(s1, s2, n1);
	free(s1);
	free(s2);
	/* stale: accepted; the caller warns */
	fixture("stale.jwt", &buf, &len);
	assert_int_equal(mds_update(r, buf, len, path, &m, &up, NULL, 0),
	    MDS_OK);
	assert_true(up);
	assert_true(mds_stale(m, time(NULL)));
	assert_string_equal(mds_next_update(m), "2020-01-01");
	mds_free(&m);
	free(buf);
	/* a corrupt stored file is replaced by good metadata */
	assert_int_equal(write_file_atomic(path, "{", 1, 0600), 0);
	assert_int_equal(mds_load(path, &l), MDS_ERR_FORMAT);
	fixture("valid.jwt", &buf, &len);
	assert_int_equal(mds_update(r, buf, len, path, NULL, &up, NULL, 0),
	    MDS_OK);
	assert_true(up);
	free(buf);
	mds_roots_free(&r);
}

static void
test_attestation(void **state)
{
	mds_t			*m = NULL;
	const mds_entry_t	*att, *va;
	unsigned char		*leaf, *other, *oroot;
	const unsigned char	*der[2];
	size_t			 ll, lo, lr, lens[2];

	assert_int_equal(verify("roots.pem", "valid", &m), MDS_OK);
	assert_non_null(att = mds_entry_find(m, ATT));
	assert_non_null(va = mds_entry_find(m, VAUTH));
	fixture("att-leaf.der", &leaf, &ll);
	fixture("att-other-leaf.der", &other, &lo);
	fixture("att-other-root.der", &oroot, &lr);
	der[0] = leaf;
	lens[0] = ll;
	assert_int_equal(mds_verify_attestation_chain(att, der, lens, 1, NULL,
	    0), MDS_OK);
	/* the roots of another model do not do */
	assert_int_equal(mds_verify_attestation_chain(va, der, lens, 1, NULL,
	    0), MDS_ERR_CHAIN);
	/* nor does a leaf under another root, even with that root sent */
	der[0] = other;
	lens[0] = lo;
	der[1] = oroot;
	lens[1] = lr;
	assert_int_equal(mds_verify_attestation_chain(att, der, lens, 2, NULL,
	    0), MDS_ERR_CHAIN);
	der[0] = (const unsigned char *)"junk";
	lens[0] = 4;
	assert_int_equal(mds_verify_attestation_chain(att, der, lens, 1, NULL,
	    0), MDS_ERR_FORMAT);
	free(leaf);
	free(other);
	free(oroot);
	mds_free(&m);
}

/* WebAuthn 8.2.1: the leaf's id-fido-gen-ce-aaguid against authData */
static void
test_aaguid_ext(void **state)
{
	unsigned char	*der;
	char		 err[256];
	size_t		 len;

	fixture("att-leaf.der", &der, &len);
	assert_int_equal(mds_attestation_aaguid(der, len, ATT, err,
	    sizeof(err)), MDS_OK);
	assert_int_equal(mds_attestation_aaguid(der, len,
	    "A77E57ED-0000-4000-8000-000000000A77", NULL, 0), MDS_OK);
	assert_int_equal(mds_attestation_aaguid(der, len, VAUTH, err,
	    sizeof(err)), MDS_ERR_AAGUID);
	assert_non_null(strstr(err, "for AAGUID " ATT ", but the key says "
	    VAUTH));
	assert_int_equal(mds_attestation_aaguid(der, len, "nonsense", NULL,
	    0), MDS_ERR_ARG);
	free(der);
	fixture("att-leaf-otheraaguid.der", &der, &len);
	assert_int_equal(mds_attestation_aaguid(der, len, ATT, NULL, 0),
	    MDS_ERR_AAGUID);
	free(der);
	fixture("att-leaf-critical.der", &der, &len);
	assert_int_equal(mds_attestation_aaguid(der, len, ATT, err,
	    sizeof(err)), MDS_ERR_FORMAT);
	assert_non_null(strstr(err, "critical"));
	free(der);
	fixture("att-leaf-badext.der", &der, &len);
	assert_int_equal(mds_attestation_aaguid(der, len, ATT, NULL, 0),
	    MDS_ERR_FORMAT);
	free(der);
	/* no extension: optional, and said so */
	fixture("att-other-leaf.der", &der, &len);
	assert_int_equal(mds_attestation_aaguid(der, len, ATT, NULL, 0),
	    MDS_ERR_NOT_FOUND);
	assert_int_equal(mds_attestation_aaguid(der, len - 1, ATT, NULL, 0),
	    MDS_ERR_FORMAT);
	free(der);
}

static void
test_strerr(void **state)
{
	int r;

	for (r = MDS_OK; r >= MDS_ERR_AAGUID; r--)
		assert_string_not_equal(mds_strerr(r), "unknown error");
	assert_string_equal(mds_strerr(-100), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_signer),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_alg),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_payload),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_attestation),
		cmocka_unit_test(test_aaguid_ext),
		cmocka_unit_test(test_strerr),
	};

	return (cmocka_run_group_tests(tests, setup, teardown));
}
