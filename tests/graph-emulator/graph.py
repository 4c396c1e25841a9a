"""Microsoft Graph endpoints (/v1.0 and /beta) used by the provisioner."""

import hashlib
import json
import random
import re
import secrets
import time
import urllib.parse
import uuid

import webauthn_verify
from common import (GraphError, Req, Resp, b64std, b64u, b64u_dec, b64u_suffix,
                    graph_error_body, iso, iso_frac, json_resp, parse_iso)
from state import NS, ROLE_IDS, ROLE_NAMES, USER_FIELDS

# --- permissions (reference §2) ----------------------------------------------

USER_READ = {"User.Read.All", "User.ReadBasic.All", "Directory.Read.All",
             "User.ReadWrite.All", "Directory.ReadWrite.All"}
GROUP_READ = {"Group.Read.All", "GroupMember.Read.All", "Directory.Read.All",
              "Group.ReadWrite.All", "Directory.ReadWrite.All"}
AM_READ_ALL = {"UserAuthenticationMethod.Read.All",
               "UserAuthenticationMethod.ReadWrite.All",
               "UserAuthMethod-Passkey.Read.All",
               "UserAuthMethod-Passkey.ReadWrite.All"}
AM_READ_SELF = AM_READ_ALL | {"UserAuthenticationMethod.Read",
                              "UserAuthenticationMethod.ReadWrite",
                              "UserAuthMethod-Passkey.Read",
                              "UserAuthMethod-Passkey.ReadWrite"}
AM_WRITE_ALL = {"v1.0": {"UserAuthMethod-Passkey.ReadWrite.All",
                         "UserAuthenticationMethod.ReadWrite.All"},
                "beta": {"UserAuthenticationMethod.ReadWrite.All"}}
AM_WRITE_SELF = {"v1.0": AM_WRITE_ALL["v1.0"] | {
    "UserAuthMethod-Passkey.ReadWrite", "UserAuthenticationMethod.ReadWrite"},
    "beta": AM_WRITE_ALL["beta"] | {"UserAuthenticationMethod.ReadWrite"}}
TAP_WRITE = {"UserAuthenticationMethod.ReadWrite.All",
             "UserAuthMethod-TAP.ReadWrite.All"}
TAP_READ = TAP_WRITE | {"UserAuthenticationMethod.Read.All",
                        "UserAuthMethod-TAP.Read.All"}
POLICY_READ = {"Policy.Read.All", "Policy.Read.AuthenticationMethod",
               "Policy.ReadWrite.AuthenticationMethod"}
REPORT_READ = {"AuditLog.Read.All"}
REPORT_ROLES = {ROLE_IDS["Global Administrator"], ROLE_IDS["Global Reader"],
                ROLE_IDS["Security Reader"], ROLE_IDS["Reports Reader"],
                ROLE_IDS["Security Administrator"]}
ROLE_READ = {"RoleManagement.Read.Directory", "RoleManagement.Read.All",
             "Directory.Read.All", "RoleManagement.ReadWrite.Directory"}

GA = ROLE_IDS["Global Administrator"]
PAA = ROLE_IDS["Privileged Authentication Administrator"]
AA = ROLE_IDS["Authentication Administrator"]
GR = ROLE_IDS["Global Reader"]

V1_USER_DEFAULT = ("businessPhones", "displayName", "givenName", "jobTitle",
                   "mail", "mobilePhone", "officeLocation", "preferredLanguage",
                   "surname", "userPrincipalName", "id")
GROUP_FIELDS = ("id", "displayName", "description", "mail", "mailEnabled",
                "securityEnabled", "groupTypes")
TAP_CHARS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789+-=@#%"
SKIP_PREFIX = "RFNwdAIAAQAAA"
MISSING = ("Resource '%s' does not exist or one of its queried "
           "reference-property objects are not present.")


def denied_am():
    return GraphError(403, "accessDenied", "Request Authorization failed")


def denied_dir():
    return GraphError(403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")


class Ctx:
    """One Graph call: request, API version, caller, /me or not."""

    def __init__(self, req, version, who, is_me):
        self.req = req
        self.version = version
        self.who = who
        self.is_me = is_me
        self.base = req.base + "/" + version


class Graph:
    def __init__(self, store, oauth, codec, faults, keys):
        self.s = store
        self.oauth = oauth
        self.codec = codec
        self.faults = faults
        self.keys = keys
        self.routes = [
            ("GET", "users", self.list_users),
            ("GET", "users/*", self.get_user),
            ("GET", "users/*/authentication/methods", self.list_methods),
            ("GET", "users/*/authentication/fido2Methods", self.list_fido2),
            ("POST", "users/*/authentication/fido2Methods", self.post_fido2),
            ("GET", "users/*/authentication/fido2Methods/creationOptions",
             self.creation_options),
            ("GET", "users/*/authentication/fido2Methods/*", self.get_fido2),
            ("DELETE", "users/*/authentication/fido2Methods/*",
             self.delete_fido2),
            ("GET", "users/*/authentication/temporaryAccessPassMethods",
             self.list_tap),
            ("POST", "users/*/authentication/temporaryAccessPassMethods",
             self.post_tap),
            ("GET", "users/*/authentication/temporaryAccessPassMethods/*",
             self.get_tap),
            ("DELETE", "users/*/authentication/temporaryAccessPassMethods/*",
             self.delete_tap),
            ("GET", "users/*/memberOf", self.member_of),
            ("GET", "users/*/transitiveMemberOf", self.member_of),
            ("GET", "groups", self.list_groups),
            ("GET", "groups/*", self.get_group),
            ("GET", "groups/*/members", self.group_members),
            ("GET", "groups/*/members/microsoft.graph.user", self.group_members),
            ("GET", "groups/*/transitiveMembers", self.group_members),
            ("GET", "groups/*/transitiveMembers/microsoft.graph.user",
             self.group_members),
            ("GET", "policies/authenticationMethodsPolicy", self.policy_root),
            ("GET", "policies/authenticationMethodsPolicy/"
             "authenticationMethodConfigurations/*", self.policy_config),
            ("GET", "roleManagement/directory/roleAssignments",
             self.role_assignments),
            ("GET", "organization", self.organization),
            ("GET", "reports/authenticationMethods/userRegistrationDetails",
             self.registration_report),
        ]
        self.routes = [(m, p.lower().split("/"), h, p)
                       for m, p, h in self.routes]

    # --- dispatch ------------------------------------------------------------

    def handle(self, req):
        """Entry for /v1.0/... and /beta/...; returns (Resp, template)."""
        version = req.segs[0].lower()
        version = "v1.0" if version == "v1.0" else "beta"
        rest = req.segs[1:]
        if [s.lower() for s in rest] == ["$batch"]:
            if req.method != "POST":
                raise GraphError(405, "Request_BadRequest", "Specified HTTP "
                                 "method is not allowed for the request target.")
            who = self.oauth.principal(req)
            return self.batch(req, version, who), "/%s/$batch" % version
        who = self.oauth.principal(req)
        return self.route(req, version, rest, who)

    def route(self, req, version, rest, who):
        if not rest:
            raise GraphError(400, "BadRequest", "Invalid request.")
        is_me = rest[0].lower() == "me"
        if is_me:
            if who.is_app:
                raise GraphError(400, "BadRequest", "/me request is only valid "
                                 "with delegated authentication flow.")
            rest = ["users", who.user["id"]] + rest[1:]
        low = [s.lower() for s in rest]
        # creationOptions(challengeTimeoutInMinutes=N) function syntax
        fn_arg = None
        if len(low) == 5 and low[4].startswith("creationoptions("):
            fn_arg = rest[4][len("creationOptions("):]
            low[4] = "creationoptions"
        args, allowed = None, []
        for method, pat, handler, text in self.routes:
            got = _match(pat, low, rest)
            if got is None:
                continue
            if method == req.method:
                args, fn = got, handler
                break
            allowed.append(method)
        if args is None:
            if allowed:
                raise GraphError(405, "Request_BadRequest", "Specified HTTP "
                                 "method is not allowed for the request target.")
            raise GraphError(400, "BadRequest", "Resource not found for the "
                             "segment '%s'." % rest[-1])
        template = "/%s/%s" % (version, text.replace("*", "{id}"))
        if is_me:
            template = template.replace("/users/{id}", "/me", 1)
        req.template = template
        ctx = Ctx(req, version, who, is_me)
        if fn_arg is not None:
            ctx.fn_arg = fn_arg
        with self.s.lock:       # handlers iterate shared dicts/lists
            return fn(ctx, *args), template

    # --- helpers -------------------------------------------------------------

    def _user(self, ref):
        u = self.s.find_user(ref)
        if u is None:
            raise GraphError(404, "Request_ResourceNotFound", MISSING % ref)
        return u

    def _need(self, ctx, scopes, app_roles=None):
        """Scope (delegated) or app-role check; 403 Authorization_RequestDenied."""
        w = ctx.who
        have = w.roles if w.is_app else w.scopes
        if not (have & (app_roles if (w.is_app and app_roles) else scopes)):
            raise denied_dir()

    def _am_check(self, ctx, user, write, scopes_all, scopes_self, tap=False):
        """Authentication-method permission + role checks; 403 accessDenied."""
        w = ctx.who
        if w.is_app:
            if not (w.roles & scopes_all):
                raise denied_am()
            return
        is_self = user["id"] == w.user["id"]
        if is_self and not tap:
            if not (w.scopes & scopes_self):
                raise denied_am()
            if (self.s.settings.get("beta_self_405") and ctx.version == "beta"
                    and not ctx.is_me):
                raise GraphError(405, "methodNotAllowed",
                                 "The method is not supported for this URL.")
            return
        if not (w.scopes & scopes_all):
            raise denied_am()
        if is_self and tap:
            raise GraphError(403, "accessDenied", "Administrators cannot "
                             "manage a Temporary Access Pass for themselves.")
        wids = w.wids
        target_admin = bool(user["roles"])
        if GA in wids or PAA in wids:
            return
        if AA in wids and not target_admin:
            return
        if not write and GR in wids:
            return
        raise denied_am()

    def _mfa_fresh(self, ctx):
        mins = self.s.settings.get("me_mfa_freshness_minutes", 0)
        if ctx.is_me and mins and not ctx.who.is_app:
            at = ctx.who.claims.get("auth_time", 0)
            if self.s.now() - at > mins * 60:
                raise GraphError(403, "accessDenied", "Multifactor "
                                 "authentication freshness requirement not "
                                 "met: the user signed in more than %d minutes "
                                 "ago. Sign in again." % mins)

    def _passkey_eligible(self, user):
        if user["userType"] == "Guest":
            raise GraphError(400, "badRequest", "Registration of passkey "
                             "(FIDO2) credentials isn't supported for internal "
                             "or external guest users.")
        if not user["accountEnabled"]:
            raise GraphError(400, "badRequest", "The user account is disabled; "
                             "passkeys cannot be provisioned for a disabled "
                             "account.")
        pol = self.s.policy
        if pol.get("state") != "enabled":
            raise GraphError(400, "badRequest", "The passkey (FIDO2) "
                             "authentication method is disabled in the "
                             "authentication methods policy.")
        if not pol.get("isSelfServiceRegistrationAllowed"):
            raise GraphError(400, "badRequest", "Passkey provisioning requires "
                             "'Allow self-service set up' "
                             "(isSelfServiceRegistrationAllowed) to be enabled "
                             "in the passkey (FIDO2) policy.")
        if not self.s.user_in_targets(user["id"], pol.get("includeTargets", [])) \
                or self.s.user_in_targets(user["id"],
                                          pol.get("excludeTargets", [])):
            raise GraphError(400, "badRequest", "The user is not enabled for "
                             "passkey (FIDO2) by the authentication methods "
                             "policy (includeTargets/excludeTargets).")

    def _ctx_url(self, ctx, frag):
        return "%s/$metadata#%s" % (ctx.base, frag)

    # --- users ---------------------------------------------------------------

    def _project_user(self, ctx, u, select):
        fields = select or (V1_USER_DEFAULT if ctx.version == "v1.0"
                            else USER_FIELDS)
        return {f: u[f] for f in fields}

    def _select(self, ctx, allowed, typename):
        sel = ctx.req.query.get("$select")
        if not sel:
            return None
        out = []
        for f in sel.split(","):
            f = f.strip()
            canon = next((a for a in allowed if a.lower() == f.lower()), None)
            if canon is None:
                raise GraphError(400, "Request_BadRequest", "Could not find a "
                                 "property named '%s' on type "
                                 "'microsoft.graph.%s'." % (f, typename))
            if canon not in out:
                out.append(canon)
        if "id" not in out:
            out.append("id")
        return out

    def get_user(self, ctx, ref=None):
        w = ctx.who
        if ctx.is_me:
            ref = w.user["id"]
        u = self._user(ref)
        if w.is_app or u["id"] != w.user["id"]:
            self._need(ctx, USER_READ)
        else:
            self._need(ctx, USER_READ | {"User.Read"})
        select = self._select(ctx, USER_FIELDS, "user")
        body = {"@odata.context": self._ctx_url(
            ctx, "users/$entity" if not select else
            "users(%s)/$entity" % ",".join(select))}
        body.update(self._project_user(ctx, u, select))
        return json_resp(200, body)

    def list_users(self, ctx):
        self._need(ctx, USER_READ)
        select = self._select(ctx, USER_FIELDS, "user")
        flt = ctx.req.query.get("$filter")
        users = list(self.s.users.values())
        if flt:
            m = re.match(r"^\s*(userPrincipalName|mail|id|displayName)\s+eq\s+"
                         r"'((?:[^']|'')*)'\s*$", flt, re.I)
            m2 = re.match(r"^\s*startswith\((userPrincipalName|displayName|"
                          r"mail)\s*,\s*'((?:[^']|'')*)'\)\s*$", flt, re.I)
            if m:
                field = next(f for f in USER_FIELDS if f.lower()
                             == m.group(1).lower())
                val = m.group(2).replace("''", "'").lower()
                users = [u for u in users if str(u.get(field) or "").lower()
                         == val]
            elif m2:
                field = next(f for f in USER_FIELDS if f.lower()
                             == m2.group(1).lower())
                val = m2.group(2).replace("''", "'").lower()
                users = [u for u in users if str(u.get(field) or "").lower()
                         .startswith(val)]
            else:
                raise GraphError(400, "Request_UnsupportedQuery",
                                 "Unsupported or invalid query filter clause "
                                 "specified for property or is not valid.")
        items = [(u["id"], None) for u in users]
        return self._page(ctx, items, lambda ref: self._project_user(
            ctx, self.s.users[ref[0]], select), "users")

    # --- paging --------------------------------------------------------------

    def _page(self, ctx, items, render, ctx_frag, count_ok=False):
        q = ctx.req.query
        top = q.get("$top")
        if top is not None:
            try:
                top = int(top)
            except ValueError:
                top = -1
            if not 1 <= top <= 999:
                raise GraphError(400, "Request_BadRequest", "Invalid page size "
                                 "specified: '%s'. Must be between 1 and 999 "
                                 "inclusive." % q.get("$top"))
        else:
            top = self.s.page_size
        offset = 0
        tok = q.get("$skiptoken")
        if tok is not None:
            try:
                if not tok.startswith(SKIP_PREFIX):
                    raise ValueError()
                offset = int(json.loads(b64u_dec(tok[len(SKIP_PREFIX):]))["o"])
            except (ValueError, KeyError, TypeError):
                raise GraphError(400, "Request_BadRequest",
                                 "Invalid '$skiptoken' value.")
        chunk = items[offset:offset + top]
        body = {"@odata.context": self._ctx_url(ctx, ctx_frag)}
        if count_ok and q.get("$count", "").lower() == "true" and tok is None:
            body["@odata.count"] = len(items)
        if offset + top < len(items):
            nxt = b64u(json.dumps({"o": offset + top,
                                   "r": secrets.token_hex(4)}).encode())
            params = [(k, v) for k, v in ctx.req.query_pairs
                      if k != "$skiptoken"]
            params.append(("$skiptoken", SKIP_PREFIX + nxt))
            body["@odata.nextLink"] = "%s%s?%s" % (
                ctx.req.base, ctx.req.path, "&".join(
                    urllib.parse.quote(k, safe="$") + "=" + urllib.parse.quote(
                        v, safe="$,()':@") for k, v in params))
        body["value"] = [render(i) for i in chunk]
        return json_resp(200, body)

    # --- groups --------------------------------------------------------------

    def _group(self, gid):
        g = self.s.groups.get(gid) or self.s.groups.get(gid.lower())
        if g is None:
            raise GraphError(404, "Request_ResourceNotFound", MISSING % gid)
        return g

    def _project_group(self, g, select):
        return {f: g[f] for f in (select or GROUP_FIELDS)}

    def list_groups(self, ctx):
        self._need(ctx, GROUP_READ)
        select = self._select(ctx, GROUP_FIELDS, "group")
        flt = ctx.req.query.get("$filter")
        groups = list(self.s.groups.values())
        if flt:
            m = re.match(r"^\s*(displayName|id|mail)\s+eq\s+'((?:[^']|'')*)'\s*$",
                         flt, re.I)
            m2 = re.match(r"^\s*startswith\(displayName\s*,\s*'((?:[^']|'')*)'"
                          r"\)\s*$", flt, re.I)
            if m:
                field = next(f for f in GROUP_FIELDS
                             if f.lower() == m.group(1).lower())
                val = m.group(2).replace("''", "'")
                groups = [g for g in groups
                          if str(g.get(field) or "").lower() == val.lower()]
            elif m2:
                val = m2.group(1).replace("''", "'").lower()
                groups = [g for g in groups
                          if g["displayName"].lower().startswith(val)]
            else:
                raise GraphError(400, "Request_UnsupportedQuery",
                                 "Unsupported or invalid query filter clause "
                                 "specified for property or is not valid.")
        return self._page(ctx, [g["id"] for g in groups],
                          lambda gid: self._project_group(self.s.groups[gid],
                                                          select), "groups")

    def get_group(self, ctx, gid):
        self._need(ctx, GROUP_READ)
        select = self._select(ctx, GROUP_FIELDS, "group")
        body = {"@odata.context": self._ctx_url(ctx, "groups/$entity")}
        body.update(self._project_group(self._group(gid), select))
        return json_resp(200, body)

    def group_members(self, ctx, gid):
        self._need(ctx, GROUP_READ)
        low = [s.lower() for s in ctx.req.segs]
        cast = low[-1] == "microsoft.graph.user"
        transitive = "transitivemembers" in low
        q = ctx.req.query
        if (self.s.settings.get("strict_advanced_queries") and "$skiptoken"
                not in q and (cast or "$count" in q)):
            if ctx.req.headers.get("consistencylevel", "").lower() != \
                    "eventual" or (cast and q.get("$count", "").lower()
                                   != "true"):
                raise GraphError(400, "Request_UnsupportedQuery",
                                 "The OData cast / $count on directory objects "
                                 "is an advanced query: send the header "
                                 "'ConsistencyLevel: eventual' and "
                                 "'$count=true'.")
        with self.s.lock:
            g = self._group(gid)
            if transitive:
                users, groups = self.s.transitive(gid)
            else:
                users = [m for m in g["members"] if m in self.s.users]
                groups = [m for m in g["members"] if m in self.s.groups]
            items = [("u", u) for u in users]
            if not cast:
                items += [("g", x) for x in groups]
        uselect = self._select(ctx, USER_FIELDS, "user") if cast else None
        if not cast and q.get("$select"):
            allowed = tuple(dict.fromkeys(USER_FIELDS + GROUP_FIELDS))
            uselect = self._select(ctx, allowed, "directoryObject")

        def render(item):
            kind, ref = item
            if kind == "u":
                u = self.s.users[ref]
                sel = [f for f in uselect if f in USER_FIELDS] if uselect \
                    else None
                d = {"@odata.type": "#microsoft.graph.user"}
                d.update(self._project_user(ctx, u, sel))
            else:
                sel = [f for f in uselect if f in GROUP_FIELDS] if uselect \
                    else None
                d = {"@odata.type": "#microsoft.graph.group"}
                d.update(self._project_group(self.s.groups[ref], sel))
            return d
        frag = "users" if cast else "directoryObjects"
        return self._page(ctx, items, render, frag, count_ok=True)

    def member_of(self, ctx, ref):
        w = ctx.who
        u = self._user(ref)
        if w.is_app or u["id"] != w.user["id"]:
            self._need(ctx, USER_READ | GROUP_READ)
        else:
            self._need(ctx, USER_READ | GROUP_READ | {"User.Read"})
        transitive = ctx.req.segs[-1].lower() == "transitivememberof"
        if transitive:
            gids = self.s.groups_of(u["id"])
        else:
            gids = [g for g, rec in self.s.groups.items()
                    if u["id"] in rec["members"]]
        items = [("g", g) for g in gids] + [("r", r) for r in u["roles"]]

        def render(item):
            kind, ref2 = item
            if kind == "g":
                d = {"@odata.type": "#microsoft.graph.group"}
                d.update(self._project_group(self.s.groups[ref2], None))
                return d
            return {"@odata.type": "#microsoft.graph.directoryRole",
                    "id": str(uuid.uuid5(NS, "role:" + ref2)),
                    "displayName": ROLE_NAMES.get(ref2, ref2),
                    "description": None, "roleTemplateId": ref2}
        return self._page(ctx, items, render, "directoryObjects")

    def role_assignments(self, ctx):
        self._need(ctx, ROLE_READ)
        flt = ctx.req.query.get("$filter", "")
        m = re.match(r"^\s*principalId\s+eq\s+'([^']*)'\s*$", flt, re.I)
        if flt and not m:
            raise GraphError(400, "Request_UnsupportedQuery",
                             "Only $filter=principalId eq '...' is supported.")
        if ctx.who.is_app:
            pass
        elif not m or m.group(1) != ctx.who.user["id"]:
            # Reading other principals' assignments needs a directory role.
            if not ctx.who.wids & {GA, GR, PAA,
                                   ROLE_IDS["Privileged Role Administrator"]}:
                raise denied_dir()
        items = []
        for u in self.s.users.values():
            if m and u["id"] != m.group(1):
                continue
            for r in u["roles"]:
                items.append({"id": b64u(hashlib.sha256(
                    (u["id"] + r).encode()).digest()[:24]),
                    "principalId": u["id"], "roleDefinitionId": r,
                    "directoryScopeId": "/"})
        return self._page(ctx, items, lambda x: x,
                          "roleManagement/directory/roleAssignments")

    def organization(self, ctx):
        t = self.s.tenant
        return json_resp(200, {
            "@odata.context": self._ctx_url(ctx, "organization"),
            "value": [{"id": t["id"], "displayName": t["displayName"],
                       "tenantType": "AAD", "verifiedDomains": [{
                           "name": t["domain"], "isDefault": True,
                           "isInitial": True, "type": "Managed",
                           "capabilities": "Email, OfficeCommunicationsOnline"
                       }]}]})

    # --- registration report (reference §5.3) -------------------------------

    def registration_report(self, ctx):
        self._need(ctx, REPORT_READ)
        if not ctx.who.is_app and not ctx.who.wids & REPORT_ROLES:
            raise denied_dir()
        if self.s.tenant.get("license", "P1") not in ("P1", "P2"):
            raise GraphError(403, "Authentication_RequestFromNonPremiumTenant"
                             "OrB2CTenant", "Tenant does not have a SKU "
                             "required to access this report.")
        lag = float(self.s.settings.get("report_lag_seconds", 0))
        cutoff = self.s.now() - lag
        rows = [self._report_row(u, cutoff) for u in self.s.users.values()]
        flt = ctx.req.query.get("$filter")
        if flt:
            for clause in re.split(r"\s+and\s+", flt.strip(), flags=re.I):
                rows = [r for r in rows if _report_match(clause, r)]
        return self._page(ctx, rows, lambda r: r, "reports/authenticationMethods/"
                          "userRegistrationDetails")

    def _report_row(self, u, cutoff):
        fido = [m for m in u["fido2Methods"] if m.get("seeded") or
                parse_iso(m["createdDateTime"]) <= cutoff]
        methods = ["passKeyDeviceBound"] if fido else []
        if u["tap"]:
            methods.append("temporaryAccessPass")
        return {"id": u["id"], "userPrincipalName": u["userPrincipalName"],
                "userDisplayName": u["displayName"], "userType":
                u["userType"].lower(), "isAdmin": bool(u["roles"]),
                "isMfaCapable": bool(fido), "isMfaRegistered": bool(fido),
                "isPasswordlessCapable": bool(fido), "isSsprCapable": False,
                "isSsprEnabled": False, "isSsprRegistered": False,
                "isSystemPreferredAuthenticationMethodEnabled": False,
                "methodsRegistered": methods, "defaultMfaMethod": "none",
                "lastUpdatedDateTime": iso(cutoff)}

    # --- policy --------------------------------------------------------------

    def _fido2_policy_view(self, ctx):
        # passkey profiles are in v1.0 as well since 2026
        return json.loads(json.dumps(self.s.policy))

    def policy_root(self, ctx):
        self._need(ctx, POLICY_READ)
        return json_resp(200, {
            "@odata.context": self._ctx_url(
                ctx, "policies/authenticationMethodsPolicy/$entity"),
            "id": "authenticationMethodsPolicy",
            "displayName": "Authentication Methods Policy",
            "description": "The tenant-wide policy that controls which "
                           "authentication methods are allowed in the tenant.",
            "policyVersion": "1.5", "policyMigrationState": "migrationComplete",
            "authenticationMethodConfigurations": [
                self._fido2_policy_view(ctx), dict(self.s.tap_policy)]})

    def policy_config(self, ctx, which):
        self._need(ctx, POLICY_READ)
        if which.lower() == "fido2":
            body = self._fido2_policy_view(ctx)
        elif which.lower() == "temporaryaccesspass":
            body = dict(self.s.tap_policy)
        else:
            raise GraphError(404, "Request_ResourceNotFound", MISSING % which)
        body["@odata.context"] = self._ctx_url(
            ctx, "policies/authenticationMethodsPolicy/"
            "authenticationMethodConfigurations/$entity")
        return json_resp(200, body)

    # --- fido2 methods -------------------------------------------------------

    def _user_handle(self, user):
        return b"OF:" + hashlib.sha512(self.keys.seal_key + b"handle:"
                                       + user["id"].encode()).digest()[:48]

    def _self_service(self, ctx):
        """Entra (2026) refuses passkey registration through /me."""
        if ctx.is_me and not self.s.settings.get("me_registration"):
            raise GraphError(405, "methodNotAllowed",
                             "The method is not supported for this URL. "
                             "Self-service operations aren't currently "
                             "supported.")

    def creation_options(self, ctx, ref):
        self._self_service(ctx)
        user = self._user(ref)
        self._am_check(ctx, user, True, AM_WRITE_ALL[ctx.version],
                       AM_WRITE_SELF[ctx.version])
        self._mfa_fresh(ctx)
        self._passkey_eligible(user)
        minutes = self.s.challenge_minutes
        fn_arg = getattr(ctx, "fn_arg", None)
        if ctx.version == "v1.0":
            if fn_arg not in (None, ")"):
                raise GraphError(400, "BadRequest", "The parameter "
                                 "'challengeTimeoutInMinutes' is not in scope "
                                 "(custom challenge timeouts are only "
                                 "supported on beta).")
        else:
            raw = ctx.req.query.get("challengeTimeoutInMinutes")
            if fn_arg not in (None, ")"):
                m = re.match(r"^\s*challengeTimeoutInMinutes\s*=\s*([^)]*)\)$",
                             urllib.parse.unquote(fn_arg), re.I)
                if not m:
                    raise GraphError(400, "BadRequest", "Bad Request - Error "
                                     "in query syntax.")
                raw = m.group(1).strip()
            if raw is not None:
                try:
                    minutes = int(raw)
                except ValueError:
                    minutes = -1
                if not 5 <= minutes <= 43200:
                    raise GraphError(400, "badRequest", "The value of "
                                     "challengeTimeoutInMinutes must be between "
                                     "5 and 43200 minutes.")
        now = self.s.now()
        exp = int(now) + minutes * 60
        chal, _ = self.codec.issue(user["id"], self.s.tenant["id"], exp,
                                   ctx.version)
        with self.s.lock:
            self.s.challenges_issued += 1
            n = user.get("_co_count", 0)
            user["_co_count"] = n + 1
            methods = list(user["fido2Methods"])
        encoders = (b64std, b64u, b64u_suffix)
        exclude = []
        for i, m in enumerate(methods):
            cid = b64u_dec(m["credentialId"])
            exclude.append({"type": "public-key",
                            "id": encoders[(i + n) % 3](cid),
                            "transports": list(m.get("transports", []))})
        pk = {
            "rp": {"id": self.s.settings.get("creation_options_rp_id") or
                   webauthn_verify.RP_ID, "name": "Microsoft"},
            "user": {"id": b64u(self._user_handle(user)),
                     "name": user["userPrincipalName"],
                     "displayName": user["displayName"]},
            "challenge": chal,
            "pubKeyCredParams": [{"type": "public-key", "alg": -7},
                                 {"type": "public-key", "alg": -257}],
            "timeout": 60000 if n % 2 == 0 else 0,
            "excludeCredentials": exclude,
            "authenticatorSelection": {
                "authenticatorAttachment": "cross-platform",
                "requireResidentKey": True, "userVerification": "required"},
            "attestation": "direct",
            "extensions": {"hmacCreateSecret": True,
                           "enforceCredentialProtectionPolicy": True,
                           "credentialProtectionPolicy":
                               "userVerificationOptional"}}
        body = {"@odata.context": self._ctx_url(
            ctx, "microsoft.graph.webauthnCredentialCreationOptions"),
            "challengeTimeoutDateTime": iso(exp), "publicKey": pk}
        if self.s.settings.get("wrap_creation_options"):
            body = {"@odata.context": body.pop("@odata.context"), "value": body}
        return json_resp(200, body)

    def _method_view(self, m, field="createdDateTime"):
        return {"id": m["id"], "displayName": m["displayName"],
                field: m["createdDateTime"], "aaGuid": m["aaGuid"],
                "model": m["model"],
                "attestationCertificates": list(m["attestationCertificates"]),
                "attestationLevel": m["attestationLevel"],
                "passkeyType": m.get("passkeyType", "deviceBound")}

    def post_fido2(self, ctx, ref):
        self._self_service(ctx)
        user = self._user(ref)
        self._am_check(ctx, user, True, AM_WRITE_ALL[ctx.version],
                       AM_WRITE_SELF[ctx.version])
        self._mfa_fresh(ctx)
        body = ctx.req.json()
        webauthn_verify.check_body(body, ctx.version)
        self._passkey_eligible(user)
        try:
            rec = webauthn_verify.verify(body, user, ctx.version, self.s,
                                         self.codec, self.s.attestation_roots)
        except GraphError:
            self.s.persist()        # a consumed challenge stays consumed
            raise
        with self.s.lock:
            # (an id never given to anyone cannot be registered already)
            for u in (self.s.users.values()
                      if rec["credentialId"] in self.s.cred_ids else ()):
                for m in u["fido2Methods"]:
                    if m["credentialId"] == rec["credentialId"]:
                        raise GraphError(400, "badRequest", "This passkey "
                                         "(credential id) is already "
                                         "registered%s." % (
                                             "" if u is user else
                                             " to another user"))
            if rec["displayName"] is None:
                rec["displayName"] = rec["model"]
            w = ctx.who
            rec["transports"] = ["usb"]
            rec["verification"].update({
                "graphVersion": ctx.version,
                "path": "me" if ctx.is_me else "users",
                "callerType": "app" if w.is_app else "user",
                "caller": w.claims.get("appid") if w.is_app
                else w.user["userPrincipalName"],
                "appid": w.claims.get("appid")})
            user["fido2Methods"].append(rec)
            self.s.cred_ids.add(rec["credentialId"])
            self.s.touch(user)
            self.s.registrations += 1
        self.s.persist()
        out = {"@odata.context": self._ctx_url(
            ctx, "users('%s')/authentication/fido2Methods/$entity" % user["id"]),
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethod"}
        out.update(self._method_view(rec))
        return json_resp(201, out)

    def list_fido2(self, ctx, ref):
        user = self._user(ref)
        self._am_check(ctx, user, False, AM_READ_ALL, AM_READ_SELF)
        field = self.s.settings.get("list_created_field", "createdDateTime")
        return json_resp(200, {
            "@odata.context": self._ctx_url(
                ctx, "users('%s')/authentication/fido2Methods" % user["id"]),
            "value": [self._method_view(m, field)
                      for m in list(user["fido2Methods"])]})

    def _find_method(self, user, mid):
        for m in user["fido2Methods"]:
            if m["id"] == mid:
                return m
        raise GraphError(404, "itemNotFound", "The requested passkey (FIDO2) "
                         "authentication method '%s' was not found." % mid)

    def get_fido2(self, ctx, ref, mid):
        user = self._user(ref)
        self._am_check(ctx, user, False, AM_READ_ALL, AM_READ_SELF)
        out = {"@odata.context": self._ctx_url(
            ctx, "users('%s')/authentication/fido2Methods/$entity" % user["id"])}
        out.update(self._method_view(self._find_method(user, mid)))
        return json_resp(200, out)

    def delete_fido2(self, ctx, ref, mid):
        user = self._user(ref)
        self._am_check(ctx, user, True, AM_WRITE_ALL["v1.0"],
                       AM_WRITE_SELF["v1.0"])
        self._mfa_fresh(ctx)
        with self.s.lock:
            m = self._find_method(user, mid)
            user["fido2Methods"].remove(m)
            self.s.touch(user)
        self.s.persist()
        return Resp(204)

    def list_methods(self, ctx, ref):
        user = self._user(ref)
        self._am_check(ctx, user, False, AM_READ_ALL | TAP_READ, AM_READ_SELF)
        vals = [{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
                 "id": "28c10230-6103-485e-b985-444c60001490",
                 "password": None, "createdDateTime": user["createdDateTime"]}]
        for m in user["fido2Methods"]:
            d = {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod"}
            d.update(self._method_view(m))
            vals.append(d)
        if user["tap"]:
            vals.append(self._tap_view(user["tap"]))
        return json_resp(200, {"@odata.context": self._ctx_url(
            ctx, "users('%s')/authentication/methods" % user["id"]),
            "value": vals})

    # --- temporary access pass -----------------------------------------------

    def _tap_view(self, tap, value=None):
        usable, reason = self.s.tap_status(tap)
        return {"@odata.type":
                "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
                "id": tap["id"], "temporaryAccessPass": value,
                "createdDateTime": iso_frac(tap["createdDateTime"]),
                "startDateTime": iso(tap["startDateTime"]),
                "lifetimeInMinutes": tap["lifetimeInMinutes"],
                "isUsableOnce": tap["isUsableOnce"], "isUsable": usable,
                "methodUsabilityReason": reason}

    def post_tap(self, ctx, ref):
        user = self._user(ref)
        self._am_check(ctx, user, True, TAP_WRITE, set(), tap=True)
        pol = self.s.tap_policy
        if pol.get("state") != "enabled" or not self.s.user_in_targets(
                user["id"], pol.get("includeTargets", [])):
            raise GraphError(403, "accessDenied", "Temporary Access Pass is "
                             "not enabled for this user by the authentication "
                             "methods policy.")
        body = ctx.req.json()
        if not isinstance(body, dict):
            raise GraphError(400, "badRequest", "Invalid request body.")
        life = body.get("lifetimeInMinutes", pol["defaultLifetimeInMinutes"])
        lo, hi = pol["minimumLifetimeInMinutes"], pol["maximumLifetimeInMinutes"]
        if not isinstance(life, int) or not lo <= life <= hi:
            raise GraphError(400, "badRequest", "lifetimeInMinutes must be "
                             "between %d and %d." % (lo, hi))
        once = body.get("isUsableOnce", pol["isUsableOnce"])
        if not isinstance(once, bool) or (pol["isUsableOnce"] and not once):
            raise GraphError(400, "badRequest", "The policy only allows "
                             "one-time Temporary Access Passes.")
        start = self.s.now()
        if body.get("startDateTime"):
            try:
                start = parse_iso(body["startDateTime"])
            except (ValueError, AttributeError):
                raise GraphError(400, "badRequest", "Invalid startDateTime.")
        value = "".join(secrets.choice(TAP_CHARS)
                        for _ in range(int(pol.get("defaultLength", 8))))
        with self.s.lock:
            tap = self.s.set_tap(user, value, start, life, once)
            out = {"@odata.context": self._ctx_url(
                ctx, "users('%s')/authentication/temporaryAccessPassMethods/"
                "$entity" % user["id"])}
            out.update(self._tap_view(tap, value))
        self.s.persist()
        return json_resp(201, out)

    def list_tap(self, ctx, ref):
        user = self._user(ref)
        self._am_check(ctx, user, False, TAP_READ, set(), tap=True)
        vals = [self._tap_view(user["tap"])] if user["tap"] else []
        return json_resp(200, {"@odata.context": self._ctx_url(
            ctx, "users('%s')/authentication/temporaryAccessPassMethods"
            % user["id"]), "value": vals})

    def _find_tap(self, user, tid):
        if user["tap"] and user["tap"]["id"] == tid:
            return user["tap"]
        raise GraphError(404, "itemNotFound", "The Temporary Access Pass '%s' "
                         "was not found." % tid)

    def get_tap(self, ctx, ref, tid):
        user = self._user(ref)
        self._am_check(ctx, user, False, TAP_READ, set(), tap=True)
        out = {"@odata.context": self._ctx_url(
            ctx, "users('%s')/authentication/temporaryAccessPassMethods/"
            "$entity" % user["id"])}
        out.update(self._tap_view(self._find_tap(user, tid)))
        return json_resp(200, out)

    def delete_tap(self, ctx, ref, tid):
        user = self._user(ref)
        self._am_check(ctx, user, True, TAP_WRITE, set(), tap=True)
        with self.s.lock:
            self._find_tap(user, tid)
            user["tap"] = None
            self.s.touch(user)
        self.s.persist()
        return Resp(204)

    # --- $batch ----------------------------------------------------------------

    def batch(self, req, version, who):
        body = req.json()
        reqs = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(reqs, list):
            raise GraphError(400, "BadRequest", "Invalid batch payload format.")
        if len(reqs) > 20:
            raise GraphError(400, "BadRequest", "The number of requests in the "
                             "batch (%d) exceeds the limit of 20." % len(reqs))
        ids = set()
        for r in reqs:
            if not isinstance(r, dict) or not all(
                    isinstance(r.get(k), str) and r.get(k)
                    for k in ("id", "method", "url")):
                raise GraphError(400, "BadRequest", "Each batch request must "
                                 "have string id, method and url.")
            if r["id"] in ids:
                raise GraphError(400, "BadRequest", "Batch request contains "
                                 "duplicate Id '%s'." % r["id"])
            ids.add(r["id"])
            hdrs = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
            if "body" in r and "content-type" not in hdrs:
                raise GraphError(400, "BadRequest", "Write request id : %s "
                                 "does not contain Content-Type header or "
                                 "body." % r["id"])
        results = {}
        for r in reqs:
            results[r["id"]] = self._batch_one(req, version, who, r, results)
        out = list(results.values())
        random.shuffle(out)
        return json_resp(200, {"responses": out})

    def _batch_one(self, outer, version, who, r, done):
        deps = r.get("dependsOn") or []
        for d in deps:
            if d not in done or not 200 <= done[d]["status"] < 300:
                return {"id": r["id"], "status": 424, "headers": {
                    "Content-Type": "application/json"}, "body": graph_error_body(
                    "FailedDependency", "Request failed due to a failed "
                    "dependency.", outer.request_id, outer.client_request_id,
                    self.s.now())}
        url = r["url"]
        if url.lower().startswith(("http://", "https://")):
            return self._inner_error(outer, r, GraphError(
                400, "BadRequest", "Invalid request URL: batch request URLs "
                "must be relative."))
        path, _, qs = url.lstrip("/").partition("?")
        hdrs = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
        hdrs["authorization"] = outer.headers.get("authorization", "")
        raw = r.get("body")
        data = b"" if raw is None else (raw.encode() if isinstance(raw, str)
                                        else json.dumps(raw).encode())
        inner = Req(r["method"].upper(), "/%s/%s" % (version, path), qs, hdrs,
                    data, outer.base)
        inner.in_batch = True
        inner.request_id = outer.request_id
        inner.client_request_id = outer.client_request_id
        full = inner.path + ("?" + qs if qs else "")
        template = "/%s/?" % version
        t0 = time.time()
        rule = self.faults.match(inner.method, full, in_batch=True) \
            if self.faults else None
        try:
            if rule is not None:
                resp = fault_response(rule, self.s, inner)
                if resp is None:   # "slow": fall through after the delay
                    rule = None
            if rule is None:
                resp, template = self.route(inner, version, inner.segs[1:], who)
        except GraphError as e:
            resp = self._error_resp(inner, e)
        except ValueError as e:
            resp = self._error_resp(inner, GraphError(400, "BadRequest", str(e)))
        self.s.count_request({"time": iso(time.time()), "method": inner.method,
                              "path": "$batch:" + _redact(full),
                              "status": resp.status,
                              "headers": sorted(hdrs.keys()),
                              "ms": int((time.time() - t0) * 1000)},
                             "$batch:%s %s %d" % (inner.method, template,
                                                  resp.status))
        out = {"id": r["id"], "status": resp.status, "headers": {}}
        for k, v in resp.headers.items():
            if k.lower() in ("retry-after", "location", "www-authenticate"):
                out["headers"][k] = v
        if resp.body:
            out["headers"]["Content-Type"] = resp.ctype or "application/json"
            try:
                out["body"] = json.loads(resp.body)
            except ValueError:
                out["body"] = resp.body.decode("utf-8", "replace")
        return out

    def _error_resp(self, req, e):
        return json_resp(e.status, graph_error_body(
            e.code, e.message, req.request_id, req.client_request_id,
            self.s.now()), headers=dict(e.headers))

    def _inner_error(self, req, r, e):
        return {"id": r["id"], "status": e.status,
                "headers": {"Content-Type": "application/json"},
                "body": graph_error_body(e.code, e.message, req.request_id,
                                         req.client_request_id, self.s.now())}


# --- faults producing a Graph-style response ---------------------------------

FAULT_ERRORS = {"429": (429, "TooManyRequests", "Too many requests. Please "
                        "retry after the time given in Retry-After."),
                "503": (503, "serviceNotAvailable", "The service is "
                        "temporarily unavailable. Please retry later."),
                "500": (500, "generalException", "An unexpected error "
                        "occurred while processing the request."),
                # refused outright: never retried by a client
                "400": (400, "badRequest", "The request is invalid.")}


def fault_response(rule, store, req):
    """Resp for status-type faults (429/503/500/expire_token); None if the
    rule only delays ("slow"). Other kinds are transport-level (emulator.py)."""
    delay = rule.get("delay_ms")
    kind = rule["kind"]
    if kind == "slow":
        time.sleep((delay if delay is not None else 2000) / 1000.0)
        return None
    if delay:
        time.sleep(delay / 1000.0)
    if kind == "expire_token":
        with store.lock:
            store.tokens["access_expired_before"] = store.now()
        e = GraphError(401, "InvalidAuthenticationToken",
                       "Lifetime validation failed, the token is expired.")
    else:
        status, code, msg = FAULT_ERRORS[kind]
        # a hostile server's words, for the terminal-safety tests
        code = rule.get("code") or code
        msg = rule.get("message") or msg
        headers = {}
        if kind in ("429", "503") and rule.get("retry_after") is not None:
            headers["Retry-After"] = str(rule["retry_after"])
        e = GraphError(status, code, msg, headers)
    return json_resp(e.status, graph_error_body(
        e.code, e.message, req.request_id, req.client_request_id, store.now()),
        headers=dict(e.headers))


def _report_match(clause, row):
    """One $filter clause of the registration report."""
    m = re.match(r"^\s*(not\s*\(\s*)?methodsRegistered/any\(\s*(\w+)\s*:\s*"
                 r"\2\s+eq\s+'([^']*)'\s*\)\s*(\))?\s*$", clause, re.I)
    if m:
        has = m.group(3) in row["methodsRegistered"]
        return not has if m.group(1) else has
    m = re.match(r"^\s*(\w+)\s+eq\s+(true|false|'((?:[^']|'')*)')\s*$", clause,
                 re.I)
    if m and m.group(1) in row:
        want = m.group(2).lower() == "true" if m.group(3) is None and \
            m.group(2).lower() in ("true", "false") else \
            (m.group(3) or "").replace("''", "'")
        val = row[m.group(1)]
        return val == want if isinstance(want, bool) else \
            str(val).lower() == want.lower()
    raise GraphError(400, "BadRequest", "Invalid filter clause: %s" % clause)


def _match(pat, low, rest):
    if len(pat) != len(low):
        return None
    args = []
    for p, l, r in zip(pat, low, rest):
        if p == "*":
            args.append(r)
        elif p != l:
            return None
    return args


_SECRET_PARAMS = ("code", "tap", "password", "client_secret", "client_assertion",
                  "refresh_token", "device_code", "code_verifier",
                  "access_token", "id_token", "assertion")


def _redact(path):
    """Path with secret-looking query values replaced (for logs)."""
    p, sep, q = path.partition("?")
    if not sep:
        return p
    pairs = urllib.parse.parse_qsl(q, keep_blank_values=True)
    return p + "?" + "&".join(
        "%s=%s" % (k, "REDACTED" if k.lower() in _SECRET_PARAMS else
                   urllib.parse.quote(v, safe="$,()'=:@/ ")) for k, v in pairs)


redact = _redact
