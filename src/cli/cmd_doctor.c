/*
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * doctor [USER]: the preflight that says, before any key is touched,
 * whether enrollment can work (session, permissions, roles, FIDO2
 * policy, user, keys).
 */

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "ctap.h"
#include "enroll.h"
#include "extern.h"
#include "graph.h"
#include "mds.h"


enum { ST_OK, ST_INFO, ST_WARN, ST_FAIL };

struct doc {
	const struct prov_ctx	*ctx;
	json_t			*checks;
	int			 fails;
	int			 auth_fails;
	int			 net_fails;
	int			 warns;
	bool			 user_given;	/* looked up: says itself */
	char			*user;		/* UPN, once found */
	uint32_t		 profiles;	/* the user's, or all */
	bool			 policy_listed;	/* the token lists a
						   policy permission */
	mds_t			*mds;		/* stored FIDO metadata */
	bool			 mds_stale;
};

static void __attribute__((format(printf, 4, 5)))
check(struct doc *d, int st, const char *name, const char *fmt, ...)
{
	static const char	*tag[] = { "ok", "info", "warn", "fail" };
	char			 buf[1024];
	va_list			 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (st == ST_FAIL)
		d->fails++;
	else if (st == ST_WARN)
		d->warns++;
	if (d->ctx->json)
		json_array_append_new(d->checks, json_pack("{s:s,s:s,s:s}",
		    "check", name, "status", tag[st], "detail", buf));
	else	/* details quote Graph and the keys: made safe here */
		printf("%-4s  %-22s %s\n", st == ST_FAIL ? "FAIL" : tag[st],
		    cli_safe(name), cli_safe(buf));
}

static void
check_graph_error(struct doc *d, graph_client_t *c, const char *name, int r)
{
	const char *rid = graph_last_request_id(c), *hint = graph_last_hint(c);

	check(d, ST_FAIL, name, "%s%s%s%s%s%s%s", graph_strerr(r),
	    *graph_last_message(c) ? ": " : "", graph_last_message(c),
	    *hint ? "; " : "", hint, *rid ? "; request-id " : "", rid);
	if (graph_err_is_auth(r))
		d->auth_fails++;
	else if (cli_graph_exit(r) == EXIT_NET && r != GRAPH_ERR_NOT_FOUND &&
	    r != GRAPH_ERR_BAD_REQUEST)
		d->net_fails++;
}

static bool
has_any(const graph_identity_t *id, const char *const *perms)
{
	for (; *perms != NULL; perms++)
		if (graph_identity_has_permission(id, *perms))
			return (true);

	return (false);
}

static void
doctor_identity(struct doc *d, const graph_identity_t *id)
{
	static const char *const write[] = {
		"UserAuthMethod-Passkey.ReadWrite.All",
		"UserAuthenticationMethod.ReadWrite.All", NULL };
	static const char *const users[] = { "User.Read.All",
		"User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All",
		"Directory.ReadWrite.All", NULL };
	static const char *const policy[] = {
		"Policy.Read.AuthenticationMethod", "Policy.Read.All",
		"Policy.ReadWrite.AuthenticationMethod", NULL };
	static const char *const groups[] = { "GroupMember.Read.All",
		"Group.Read.All", "Directory.Read.All", NULL };
	bool app = graph_identity_app_only(id);

	check(d, ST_OK, "session", "signed in as %s (%s)",
	    graph_identity_account(id), app ? "app-only" : "delegated");
	if (*graph_identity_permissions(id) == '\0') {
		check(d, ST_WARN, "permissions", "the token does not list its "
		    "permissions; they are checked when used");
		return;
	}
	if (has_any(id, write))
		check(d, ST_OK, "permission.passkeys", "can register passkeys");
	else {
		check(d, ST_FAIL, "permission.passkeys", "missing Graph "
		    "permission UserAuthMethod-Passkey.ReadWrite.All: grant it "
		    "(%s, admin consent) and log in again", app ? "application" :
		    "delegated");
		d->auth_fails++;
	}
	/*
	 * A role can grant what the token does not list: what is tried
	 * below (the policy, the user) is reported by its outcome, not
	 * guessed here.
	 */
	if (has_any(id, users))
		check(d, ST_OK, "permission.users", "can read users");
	else if (!d->user_given)
		check(d, ST_WARN, "permission.users", "User.Read.All is not "
		    "among the token's permissions: users may not be found "
		    "by UPN ('doctor USER' tries)");
	d->policy_listed = has_any(id, policy);
	check(d, has_any(id, groups) ? ST_OK : ST_WARN, "permission.groups",
	    has_any(id, groups) ? "can read group members" : "missing "
	    "GroupMember.Read.All: 'enroll --group' will not work");
	if (app)
		return;
	if (graph_identity_has_role(id, "Privileged Authentication "
	    "Administrator") || graph_identity_has_role(id, "Global "
	    "Administrator"))
		check(d, ST_OK, "role", "%s: can provision every user",
		    graph_identity_roles(id));
	else if (graph_identity_has_role(id, "Authentication Administrator"))
		check(d, ST_WARN, "role", "Authentication Administrator: "
		    "cannot provision administrators (needs Privileged "
		    "Authentication Administrator)");
	else {
		check(d, ST_FAIL, "role", "no Authentication Administrator or "
		    "Privileged Authentication Administrator role (activate it "
		    "in PIM if eligible, then log in again)");
		d->auth_fails++;
	}
}

/* each passkey profile, and the include targets that allow it */
static void
doctor_profiles(struct doc *d, const graph_policy_t *p)
{
	char	desc[256], used[512];
	size_t	i, t, len;

	check(d, ST_INFO, "policy.profiles", "%zu passkey profile%s (the "
	    "tenant-wide attestation and key restriction fields are "
	    "deprecated and not used)", graph_policy_profiles_len(p),
	    graph_policy_profiles_len(p) == 1 ? "" : "s");
	for (i = 0; i < graph_policy_profiles_len(p); i++) {
		graph_policy_profile_describe(p, i, desc, sizeof(desc));
		used[0] = '\0';
		for (t = 0; t < graph_policy_targets_len(p, false); t++) {
			if (!graph_policy_target_allows(p, t, i))
				continue;
			len = strlen(used);
			snprintf(used + len, sizeof(used) - len, "%s%s",
			    len ? ", " : "", graph_policy_target_id(p, false,
			    t));
		}
		check(d, ST_INFO, "policy.profile", "'%s': %s; for %s",
		    graph_policy_profile_name(p, i), desc, used[0] ? used :
		    "no target");
	}
}

static void
doctor_policy(struct doc *d, const graph_policy_t *p)
{
	size_t n;

	check(d, graph_policy_enabled(p) ? ST_OK : ST_FAIL, "policy.enabled",
	    graph_policy_enabled(p) ? "passkeys (FIDO2) are enabled" :
	    "the passkey (FIDO2) method is disabled in the authentication "
	    "methods policy");
	check(d, graph_policy_self_service(p) ? ST_OK : ST_FAIL,
	    "policy.self-service", graph_policy_self_service(p) ?
	    "'Allow self-service setup' is on" : "'Allow self-service setup' "
	    "is off: Graph refuses provisioning until it is on (Entra admin "
	    "center > Authentication methods > Passkey (FIDO2))");
	if ((n = graph_policy_profiles_len(p)) > 0) {
		doctor_profiles(d, p);
		return;
	}
	check(d, ST_INFO, "policy.attestation", "attestation %s",
	    graph_policy_attestation_enforced(p) ? "enforced: keys must send "
	    "packed attestation chaining to FIDO MDS roots" : "not enforced");
	n = graph_policy_aaguids_len(p);
	if (!graph_policy_keys_enforced(p))
		check(d, ST_INFO, "policy.keys", "no key restrictions");
	else
		check(d, ST_INFO, "policy.keys", "key restrictions: %s list of "
		    "%zu AAGUID%s", graph_policy_keys_allow(p) ? "allow" :
		    "block", n, n == 1 ? "" : "s");
}

static void
doctor_user_profiles(struct doc *d, const graph_policy_t *p)
{
	char	names[512];
	size_t	i, len;

	if (graph_policy_profiles_len(p) == 0)
		return;
	names[0] = '\0';
	for (i = 0; i < graph_policy_profiles_len(p) && i < 32; i++) {
		if ((d->profiles & (UINT32_C(1) << i)) == 0)
			continue;
		len = strlen(names);
		snprintf(names + len, sizeof(names) - len, "%s'%s'",
		    len ? ", " : "", graph_policy_profile_name(p, i));
	}
	check(d, names[0] ? ST_INFO : ST_FAIL, "user.profiles", "%s%s",
	    names[0] ? "passkey profiles for the user: " : "no passkey "
	    "profile applies to the user", names);
}

/* the stored FIDO metadata: number, age, and whether it is stale */
static void
doctor_mds(struct doc *d)
{
	char	path[4096];
	int	r;

	snprintf(path, sizeof(path), "%s/%s", d->ctx->state_dir,
	    MDS_STORE_FILE);
	if ((r = mds_load(path, &d->mds)) == MDS_ERR_NOT_FOUND) {
		check(d, ST_INFO, "mds", "no FIDO metadata stored: keys are "
		    "not checked against it ('provisioning mds update')");
		return;
	}
	if (r != MDS_OK) {
		check(d, ST_WARN, "mds", "the stored FIDO metadata is "
		    "unusable: %s", mds_strerr(r));
		return;
	}
	if ((d->mds_stale = mds_stale(d->mds, time(NULL))))
		check(d, ST_WARN, "mds", "FIDO metadata no %lld, %zu entries, "
		    "stale: its nextUpdate %s has passed ('provisioning mds "
		    "update')", mds_no(d->mds), mds_entry_count(d->mds),
		    mds_next_update(d->mds));
	else
		check(d, ST_OK, "mds", "FIDO metadata no %lld, %zu entries, "
		    "next update %s", mds_no(d->mds), mds_entry_count(d->mds),
		    mds_next_update(d->mds));
}

static void
doctor_user(struct doc *d, graph_client_t *c, const char *ref,
    const graph_policy_t *p)
{
	graph_user_t	*u = NULL;
	graph_methods_t	*l = NULL;
	int		 r, in;

	if ((r = graph_user_get(c, ref, &u)) != GRAPH_OK) {
		check_graph_error(d, c, "user", r);
		return;
	}
	check(d, ST_OK, "user", "%s (%s)", graph_user_upn(u), graph_user_id(u));
	if (strcmp(graph_user_type(u), "Guest") == 0)
		check(d, ST_FAIL, "user.type", "guests cannot hold passkeys");
	if (!graph_user_enabled(u))
		check(d, ST_FAIL, "user.enabled", "the account is disabled");
	if (p != NULL) {
		if ((r = graph_policy_user_profiles(c, p, graph_user_id(u),
		    &d->profiles, &in)) != GRAPH_OK)
			check(d, ST_WARN, "user.targeted", "cannot read group "
			    "memberships (%s)", graph_strerr(r));
		else {
			check(d, in ? ST_OK : ST_FAIL, "user.targeted", in ?
			    "the FIDO2 policy includes the user" : "the FIDO2 "
			    "policy does not include the user (or excludes "
			    "them): add them to an included group");
			if ((d->user = strdup(graph_user_upn(u))) == NULL)
				d->profiles = 0;
			doctor_user_profiles(d, p);
		}
	}
	if ((r = graph_fido2_list(c, graph_user_id(u), &l)) != GRAPH_OK)
		check_graph_error(d, c, "user.passkeys", r);
	else
		check(d, ST_INFO, "user.passkeys", "%zu passkey%s registered",
		    graph_methods_len(l), graph_methods_len(l) == 1 ? "" : "s");
	graph_methods_free(&l);
	graph_user_free(&u);
}

static bool
has_ext(const ctap_info_t *ci, const char *name)
{
	size_t i;

	for (i = 0; i < ctap_info_extensions_len(ci); i++)
		if (strcmp(ctap_info_extension(ci, i), name) == 0)
			return (true);

	return (false);
}

static bool
has_es256(const ctap_info_t *ci)
{
	size_t i;

	if (ctap_info_algorithms_len(ci) == 0)
		return (true);	/* CTAP 2.0 keys: ES256 is implied */
	for (i = 0; i < ctap_info_algorithms_len(ci); i++)
		if (ctap_info_algorithm(ci, i) == -7)
			return (true);

	return (false);
}

static void
doctor_key(struct doc *d, const char *path, const graph_policy_t *p)
{
	ctap_dev_t	*dev = NULL;
	ctap_info_t		*ci = NULL;
	struct enroll_verdict	 v;
	const char		*aaguid;
	char			 name[64];
	int		 r;

	snprintf(name, sizeof(name), "key %s", path);
	if ((dev = ctap_dev_new()) == NULL || (ci = ctap_info_new()) == NULL ||
	    (r = ctap_dev_open(dev, path)) != CTAP_OK ||
	    (r = ctap_dev_get_info(dev, ci)) != CTAP_OK) {
		check(d, ST_FAIL, name, "cannot read the key: %s",
		    dev == NULL || ci == NULL ? "out of memory" :
		    ctap_strerr(r));
		goto out;
	}
	aaguid = ctap_info_aaguid(ci);
	check(d, ST_INFO, name, "AAGUID %s", aaguid);
	if (ctap_info_option(ci, "rk") != 1)
		check(d, ST_FAIL, name, "no discoverable credentials (rk): "
		    "Entra passkeys need them");
	else if (ctap_info_remaining_rk(ci) == 0)
		check(d, ST_FAIL, name, "no room for another passkey");
	if (!has_es256(ci))
		check(d, ST_FAIL, name, "does not offer ES256");
	if (!has_ext(ci, "hmac-secret"))
		check(d, ST_WARN, name, "no hmac-secret: offline Windows "
		    "sign-in will not work");
	if (!has_ext(ci, "credProtect"))
		check(d, ST_WARN, name, "no credProtect extension");
	if (p == NULL)
		goto out;
	if (enroll_key_verdict(p, d->profiles, d->mds, d->mds_stale, aaguid,
	    &v))
		check(d, ST_OK, name, "accepted%s%s by %s%s%s%s", d->user ?
		    " for " : "", d->user ? d->user : "",
		    graph_policy_profiles_len(p) ? "passkey profile '" : "",
		    v.profile, graph_policy_profiles_len(p) ? "'" : "",
		    v.attestation ? " (attestation enforced: checked after "
		    "the touch)" : "");
	else
		check(d, ST_FAIL, name, "refused%s%s: %s", d->user ?
		    " for " : "", d->user ? d->user : "", v.why);
	if (v.note[0] != '\0')
		check(d, ST_WARN, name, "%s", v.note);
	else if (v.allowed && v.attestation)
		check(d, ST_INFO, name, "attestation is enforced: the key's "
		    "FIDO metadata entry is usable; its attestation chain is "
		    "checked after the touch");
out:
	if (dev != NULL)
		ctap_dev_close(dev);
	ctap_info_free(&ci);
	ctap_dev_free(&dev);
}

static void
doctor_keys(struct doc *d, const graph_policy_t *p)
{
	ctap_devlist_t	*l = NULL;
	size_t		 i, n, usable = 0;
	int		 st;

	if ((l = ctap_devlist_new()) == NULL ||
	    ctap_devlist_scan(l, d->ctx->device, d->ctx->virtual_keys,
	    true) != CTAP_OK) {
		check(d, ST_WARN, "keys", "cannot list security keys");
		goto out;
	}
	n = ctap_devlist_len(l);
	for (i = 0; i < n; i++) {
		if ((st = ctap_devlist_status(l, i)) != CTAP_OK) {
			check(d, ST_WARN, "keys", "%s: %s",
			    ctap_devlist_path(l, i), ctap_strerr(st));
			continue;
		}
		usable++;
		doctor_key(d, ctap_devlist_path(l, i), p);
	}
	if (usable == 0)
		check(d, ST_INFO, "keys", "no key attached: key checks "
		    "skipped");
out:
	ctap_devlist_free(&l);
}

int
cmd_doctor(struct prov_ctx *ctx, int argc, char **argv)
{
	static const struct optdef defs[] = { { NULL, NULL, 0, 0 } };
	struct opts		 op;
	struct doc		 d;
	graph_client_t		*c = NULL;
	graph_identity_t	*id = NULL;
	graph_policy_t		*p = NULL;
	int			 n, o, r, ex;

	opts_init(&op, "doctor", defs, 0, argc, argv);
	while ((o = opts_next(&op)) != OPTS_END) {
		if (o != OPTS_HELP)
			return (EXIT_USAGE);
		printf("usage: provisioning doctor [USER]\n"
		    "  preflight: sign-in, permissions and roles, the FIDO2 "
		    "policy,\n  USER (exists, member, enabled, targeted), "
		    "attached keys\n  exit 0 all passed, 1 some check "
		    "failed, 3 sign-in or permission, 5 Graph\n");
		return (EXIT_OK);
	}
	if ((n = opts_operands(&op, 0, 1, "at most one USER")) < 0)
		return (EXIT_USAGE);
	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	d.user_given = n == 1;
	d.profiles = UINT32_MAX;	/* no user: does any profile admit */
	if ((d.checks = json_array()) == NULL)
		return (EXIT_USAGE);
	if ((ex = cli_graph_open(ctx, &c)) != EXIT_OK)
		goto out;
	if ((r = graph_whoami(c, &id)) != GRAPH_OK) {
		check_graph_error(&d, c, "session", r);
		goto done;
	}
	doctor_identity(&d, id);
	if ((r = graph_policy_get(c, &p)) != GRAPH_OK) {
		if (r == GRAPH_ERR_FORBIDDEN)
			check(&d, ST_WARN, "permission.policy", "cannot read "
			    "the FIDO2 policy%s: %s", d.policy_listed ? "" :
			    " (Policy.Read.AuthenticationMethod missing)",
			    graph_last_hint(c));
		else
			check_graph_error(&d, c, "policy", r);
	} else {
		check(&d, ST_OK, "permission.policy", "can read the FIDO2 "
		    "policy");
		doctor_policy(&d, p);
	}
	doctor_mds(&d);
	if (n == 1)
		doctor_user(&d, c, argv[op.ind], p);
	doctor_keys(&d, p);
done:
	if (d.auth_fails > 0)
		ex = EXIT_AUTH;
	else if (d.net_fails > 0)
		ex = EXIT_NET;
	else if (d.fails > 0)
		ex = EXIT_PARTIAL;
	else
		ex = EXIT_OK;
	if (ctx->json)
		cli_print_json(json_pack("{s:s,s:i,s:i,s:O}", "result",
		    d.fails ? "fail" : "ok", "failures", d.fails, "warnings",
		    d.warns, "checks", d.checks));
	else
		printf("%s: %d failed, %d warning%s\n", d.fails ? "FAIL" :
		    "ok", d.fails, d.warns, d.warns == 1 ? "" : "s");
out:
	json_decref(d.checks);
	mds_free(&d.mds);
	graph_policy_free(&p);
	graph_identity_free(&id);
	free(d.user);
	graph_client_free(&c);

	return (ex);
}
