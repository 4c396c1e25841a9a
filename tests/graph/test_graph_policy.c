/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * graph/policy_obj.c without a network: passkey profiles parsed from a
 * policy document, which include target allows which profile (named,
 * or the default one), and the verdict on a key for a set of profiles
 * (block and allow lists, passkey types, attestation, none applying),
 * and the tenant-wide fields when there are no profiles.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "graph_int.h"

#define DEF	"00000000-0000-0000-0000-000000000001"

static const char doc[] =
    "{\"state\":\"enabled\",\"isSelfServiceRegistrationAllowed\":true,"
    "\"includeTargets\":["
    "{\"targetType\":\"group\",\"id\":\"all_users\"},"
    "{\"targetType\":\"group\",\"id\":\"g-eng\","
    "\"allowedPasskeyProfiles\":[\"p-eng\",\"p-att\"]}],"
    "\"excludeTargets\":[{\"targetType\":\"group\",\"id\":\"g-out\"}],"
    "\"passkeyProfiles\":["
    "{\"id\":\"" DEF "\",\"name\":\"Default\",\"passkeyTypes\":"
    "\"deviceBound,synced\",\"attestationEnforcement\":\"disabled\","
    "\"keyRestrictions\":{\"isEnforced\":true,\"enforcementType\":"
    "\"block\",\"aaGuids\":[\"bad\"]}},"
    "{\"id\":\"p-eng\",\"name\":\"Engineering\",\"passkeyTypes\":"
    "\"synced\",\"attestationEnforcement\":\"disabled\"},"
    "{\"id\":\"p-att\",\"passkeyTypes\":\"deviceBound\","
    "\"attestationEnforcement\":\"registrationOnly\","
    "\"keyRestrictions\":{\"isEnforced\":true,\"enforcementType\":"
    "\"allow\",\"aaGuids\":[\"bad\",\"good\"]}}]}";

static graph_policy_t *
load(const char *text)
{
	graph_policy_t	*p = NULL;
	json_t		*j;

	assert_non_null(j = json_loads(text, 0, NULL));
	assert_int_equal(parse_policy(j, &p), 0);
	json_decref(j);

	return (p);
}

static void
test_profiles_parsed(void **state)
{
	graph_policy_t	*p = load(doc);
	char		 d[256];

	(void)state;
	assert_int_equal(graph_policy_profiles_len(p), 3);
	assert_string_equal(graph_policy_profile_name(p, 0), "Default");
	/* no name: the id */
	assert_string_equal(graph_policy_profile_name(p, 2), "p-att");
	assert_true(graph_policy_profile_attestation(p, 2));
	assert_false(graph_policy_profile_attestation(p, 1));
	graph_policy_profile_describe(p, 0, d, sizeof(d));
	assert_string_equal(d, "deviceBound,synced passkeys; attestation not "
	    "enforced; block list of 1 AAGUID");
	graph_policy_profile_describe(p, 1, d, sizeof(d));
	assert_string_equal(d, "synced passkeys; attestation not enforced; "
	    "no key restrictions");
	/* all_users names none: the default profile only */
	assert_true(graph_policy_target_allows(p, 0, 0));
	assert_false(graph_policy_target_allows(p, 0, 1));
	assert_false(graph_policy_target_allows(p, 1, 0));
	assert_true(graph_policy_target_allows(p, 1, 1));
	assert_true(graph_policy_target_allows(p, 1, 2));
	assert_false(graph_policy_target_allows(p, 5, 0));
	graph_policy_free(&p);
}

static void
test_key_verdicts(void **state)
{
	graph_policy_t			*p = load(doc);
	struct graph_key_verdict	 v;

	(void)state;
	/* the default profile alone: blocks "bad", admits the rest */
	assert_false(graph_policy_key_check(p, 1, "bad", &v));
	assert_string_equal(v.profile, "Default");
	assert_non_null(strstr(v.why, "block list"));
	assert_true(graph_policy_key_check(p, 1, "other", &v));
	assert_false(v.attestation);
	assert_string_equal(v.why, "");

	/* engineering (synced only) and p-att: only p-att can admit */
	assert_false(graph_policy_key_check(p, 2, "good", &v));
	assert_non_null(strstr(v.why, "only synced passkeys"));
	assert_true(graph_policy_key_check(p, 6, "good", &v));
	assert_string_equal(v.profile, "p-att");
	assert_true(v.attestation);
	assert_false(graph_policy_key_check(p, 6, "other", &v));
	assert_non_null(strstr(v.why, "'Engineering'"));

	/* all three: "bad" passes p-att (with attestation) */
	assert_true(graph_policy_key_check(p, 7, "bad", &v));
	assert_true(v.attestation);
	/* "good": admitted by the default without attestation, preferred */
	assert_true(graph_policy_key_check(p, 7, "good", &v));
	assert_false(v.attestation);
	assert_string_equal(v.profile, "Default");

	/* no profile applies */
	assert_false(graph_policy_key_check(p, 0, "good", &v));
	assert_string_equal(v.why, "no passkey profile applies to the user");
	graph_policy_free(&p);
}

static void
test_tenant_wide(void **state)
{
	graph_policy_t			*p;
	struct graph_key_verdict	 v;

	(void)state;
	p = load("{\"state\":\"enabled\",\"isAttestationEnforced\":true,"
	    "\"keyRestrictions\":{\"isEnforced\":true,\"enforcementType\":"
	    "\"allow\",\"aaGuids\":[\"ok\"]}}");
	assert_true(graph_policy_key_check(p, 0, "OK", &v));
	assert_true(v.attestation);
	assert_string_equal(v.profile, "the tenant-wide FIDO2 policy");
	assert_false(graph_policy_key_check(p, UINT32_MAX, "no", &v));
	assert_non_null(strstr(v.why, "not in the policy's allow list"));
	graph_policy_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles_parsed),
		cmocka_unit_test(test_key_verdicts),
		cmocka_unit_test(test_tenant_wide),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
