"""The emulator's directory: tenant, clients, users, groups, methods, policy.

All mutable data lives in one Store guarded by Store.lock. After every
mutation the handler calls Store.persist(), which writes DIR/state.json
atomically (write temp + rename) before the response is sent.
"""

import collections
import copy
import hashlib
import json
import os
import threading
import time
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from common import b64u, b64u_dec, guid, iso, method_id_for

NS = uuid.UUID("6f1d3c52-6a4e-4a57-9a1e-5c0d6c2a9e11")

ROLE_IDS = {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Authentication Administrator":
        "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Authentication Policy Administrator":
        "0526716b-113d-4c15-b2c8-68e3c22b9f80",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "Groups Administrator": "fdd7a751-b60b-444a-984c-02652fe8fa1c",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
}
ROLE_NAMES = {v: k for k, v in ROLE_IDS.items()}
DEFAULT_USER_ROLE = "b79fbf4d-3ef9-4689-8143-76b194e85509"

DELEGATED_SCOPES = [
    "User.Read", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All",
    "Group.Read.All", "GroupMember.Read.All", "Organization.Read.All",
    "UserAuthenticationMethod.Read", "UserAuthenticationMethod.ReadWrite",
    "UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-Passkey.Read", "UserAuthMethod-Passkey.ReadWrite",
    "UserAuthMethod-Passkey.Read.All", "UserAuthMethod-Passkey.ReadWrite.All",
    "UserAuthMethod-TAP.Read.All", "UserAuthMethod-TAP.ReadWrite.All",
    "Policy.Read.All", "Policy.Read.AuthenticationMethod",
    "RoleManagement.Read.Directory", "AuditLog.Read.All",
]

MODELS = {
    "cb69481e-8ff7-4039-93ec-0a2729a154a8": "YubiKey 5 Series",
    "ee882879-721c-4913-9775-3dfcce97072a": "YubiKey 5 Series",
    "fa2b99dc-9e39-4257-8f92-4a30d23c4118": "YubiKey 5 Series with NFC",
    "2fc0579f-8113-47ea-b116-bb5a8db9202a": "YubiKey 5 Series with NFC",
    "de1e552d-db1d-4423-a619-566b625cdc84": "Security Key NFC by Yubico",
    "149a2021-8ef6-4133-96b8-81f8d5b7f1f5": "Security Key by Yubico with NFC",
    "73402251-f2a8-4f03-873e-3cb6db604b03": "uTrust FIDO2 Security Key",
    "ab32f0c6-2239-afbb-c470-d2ef4e254db7": "TOKEN2 FIDO2 Security Key",
}
UNKNOWN_MODEL = "vauth test key"

DEFAULT_SETTINGS = {
    "wrap_creation_options": False,    # {"value": {...}} like the beta doc
    "list_created_field": "createdDateTime",  # or "creationDateTime" (doc typo)
    "strict_advanced_queries": True,   # cast/$count needs ConsistencyLevel
    "strict_extensions": True,         # require credProtect=1 and hmac-secret
    "me_mfa_freshness_minutes": 10,    # /me writes need a recent sign-in; 0=off
    "beta_self_405": False,            # beta /users/{self} -> 405 (old bug)
    "me_registration": False,          # /me creationOptions and POST: 405
                                       # "not supported", as Entra in 2026
    "request_log_size": 1000,
    "report_lag_seconds": 0,           # userRegistrationDetails staleness
    "creation_options_rp_id": None,    # rp.id of creationOptions; None=Entra's
}

DEFAULT_POLICY = {
    "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
    "id": "Fido2",
    "state": "enabled",
    "isSelfServiceRegistrationAllowed": True,
    "isAttestationEnforced": False,
    "keyRestrictions": {"isEnforced": False, "enforcementType": "block",
                        "aaGuids": []},
    "includeTargets": [{"targetType": "group", "id": "all_users",
                        "isRegistrationRequired": False}],
    "excludeTargets": [],
}

DEFAULT_TAP_POLICY = {
    "@odata.type":
        "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
    "id": "TemporaryAccessPass",
    "state": "enabled",
    "defaultLifetimeInMinutes": 60,
    "defaultLength": 8,
    "minimumLifetimeInMinutes": 10,
    "maximumLifetimeInMinutes": 43200,
    "isUsableOnce": False,
    "includeTargets": [{"targetType": "group", "id": "all_users",
                        "isRegistrationRequired": False}],
    "excludeTargets": [],
}

DEFAULT_DEVICE = {"mode": "approve", "pending_polls": 2, "interval": 5,
                  "expires_in": 900, "slow_down": True, "user": None}

STATE_USER_FIELDS = ("id", "userPrincipalName", "displayName", "mail",
                     "userType", "accountEnabled")
USER_FIELDS = ("id", "userPrincipalName", "displayName", "mail", "givenName",
               "surname", "jobTitle", "userType", "accountEnabled",
               "businessPhones", "mobilePhone", "officeLocation",
               "preferredLanguage", "createdDateTime")


def _same(x):
    return x


_IOV_MAX = 1024


def _write_file(path, chunks):
    """Create/truncate path (mode 0666 & ~umask, as open(path, "w")) and
    write the byte strings in chunks to it, in order (os.writev: no
    joined copy)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                 0o666)
    try:
        for k in range(0, len(chunks), _IOV_MAX):
            batch = chunks[k:k + _IOV_MAX]
            n = os.writev(fd, batch)
            want = sum(map(len, batch))
            if n < want:                    # short write: the rest plainly
                rest = memoryview(b"".join(batch))[n:]
                while rest:
                    rest = rest[os.write(fd, rest):]
    finally:
        os.close(fd)


def deep_merge(dst, src):
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict):
            deep_merge(dst[k], v)
        else:
            dst[k] = copy.deepcopy(v)
    return dst


def role_id(name):
    if name in ROLE_IDS:
        return ROLE_IDS[name]
    if name in ROLE_NAMES:
        return name
    raise ValueError("unknown directory role %r" % name)


def load_cert_der(pem_or_path, base):
    """DER of a certificate given inline as PEM or as a path."""
    if "-----BEGIN" in pem_or_path:
        data = pem_or_path.encode()
    else:
        with open(os.path.join(base, pem_or_path), "rb") as f:
            data = f.read()
    if b"-----BEGIN" in data:
        cert = x509.load_pem_x509_certificate(data)
    else:
        cert = x509.load_der_x509_certificate(data)
    return cert.public_bytes(serialization.Encoding.DER)


class Store:
    def __init__(self, cfg, cfg_dir, state_path):
        self.lock = threading.RLock()
        self._frag = {}
        # persist(): the users' JSON fragments in order, kept while
        # _users_gen (bumped by add_user and resume_from) is unchanged;
        # those of the users touched (or given a TAP) since are redone
        self._users_gen = 0
        self._users_cache = None
        self._users_dirty = set()
        # every credentialId a user was given (seeded, registered or
        # resumed), a superset of those held now: a registration whose
        # id is not in it needs no search of every user's methods
        self.cred_ids = set()
        self._write_lock = threading.Lock()
        self.state_path = state_path
        self.gen = 0
        self.written_gen = -1
        self.clock_offset = 0.0
        self.cfg = cfg
        self.cfg_dir = cfg_dir
        t = cfg.get("tenant", {})
        self.tenant = {"id": t.get("id", "8a1f2b3c-4d5e-4f60-8172-93a4b5c6d7e8"),
                       "domain": t.get("domain", "contoso.example"),
                       "displayName": t.get("displayName", "Contoso (emulated)"),
                       "license": t.get("license", "P1")}
        self.settings = deep_merge(copy.deepcopy(DEFAULT_SETTINGS),
                                   cfg.get("settings", {}))
        self.access_lifetime = int(cfg.get("access_token_lifetime", 3600))
        self.refresh_lifetime = int(cfg.get("refresh_token_lifetime",
                                            90 * 86400))
        self.challenge_minutes = int(cfg.get("challenge_timeout_minutes", 5))
        self.page_size = int(cfg.get("page_size", 100))
        self.device = deep_merge(copy.deepcopy(DEFAULT_DEVICE),
                                 cfg.get("device_code", {}))
        if "device_code_pending_polls" in cfg:
            self.device["pending_polls"] = int(cfg["device_code_pending_polls"])
        if "device_code_interval" in cfg:
            self.device["interval"] = int(cfg["device_code_interval"])
        self.models = dict(MODELS, **cfg.get("models", {}))
        self.policy = deep_merge(copy.deepcopy(DEFAULT_POLICY),
                                 self._norm_policy(cfg.get("policy", {})))
        self.tap_policy = deep_merge(copy.deepcopy(DEFAULT_TAP_POLICY),
                                     cfg.get("tap_policy", {}))
        self.attestation_roots = [load_cert_der(p, cfg_dir)
                                  for p in cfg.get("attestation_roots", [])]
        self.clients = {}
        for c in cfg.get("clients", []):
            self._add_client(c)
        self.users = collections.OrderedDict()
        self.upn_index = {}
        self.groups = collections.OrderedDict()
        for u in cfg.get("users", []):
            self.add_user(u, persist=False)
        for g in cfg.get("groups", []):
            self.add_group(g)
        self.signin_user = cfg.get("signin_user")
        self.used_nonces = set()
        self.challenges_issued = 0
        self.registrations = 0
        self.tokens = {"access_issued": 0, "refresh_issued": 0, "id_issued": 0,
                       "by_grant": collections.Counter(),
                       "access_expired_before": 0.0,
                       "refresh_revoked_before": 0.0}
        self.used_jtis = set()
        self.request_counts = collections.Counter()
        self.requests = collections.deque(
            maxlen=int(self.settings["request_log_size"]))
        self.request_total = 0
        self.faults = None   # set by the server (FaultSet)

    # --- config helpers ------------------------------------------------------

    @staticmethod
    def _norm_policy(p):
        p = copy.deepcopy(p)
        kr = p.get("keyRestrictions")
        if isinstance(kr, dict) and "isEnforcementEnabled" in kr:
            kr["isEnforced"] = kr.pop("isEnforcementEnabled")
        return p

    def _add_client(self, c):
        c = dict(c)
        cid = c["client_id"]
        certs = list(c.get("certificates", []))
        for k in ("certificate_pem", "certificate_file"):
            if c.get(k):
                certs.append(c[k])
        c["_cert_ders"] = [load_cert_der(x, self.cfg_dir) for x in certs]
        secrets = list(c.get("secrets", []))
        if c.get("secret"):
            secrets.append(c["secret"])
        c["_secrets"] = secrets
        c.setdefault("public", not secrets and not certs)
        c.setdefault("display_name", "provisioning test app" if not c["public"]
                     else "Microsoft Graph Command Line Tools")
        c.setdefault("sp_id", str(uuid.uuid5(NS, "sp:" + cid)))
        c.setdefault("app_roles", [])
        self.clients[cid] = c

    def add_user(self, u, persist=True):
        """Add a user from a config-style dict; returns the stored record."""
        u = dict(u)
        upn = u["userPrincipalName"]
        uid = u.get("id") or str(uuid.uuid5(NS, upn.lower()))
        if uid in self.users or upn.lower() in self.upn_index:
            raise ValueError("user %s already exists" % upn)
        local = upn.split("@")[0]
        rec = {
            "id": uid, "userPrincipalName": upn,
            "displayName": u.get("displayName", local),
            "mail": u.get("mail", upn if "#EXT#" not in upn else None),
            "givenName": u.get("givenName"), "surname": u.get("surname"),
            "jobTitle": u.get("jobTitle"),
            "userType": u.get("userType", "Member"),
            "accountEnabled": bool(u.get("accountEnabled", True)),
            "businessPhones": [], "mobilePhone": None, "officeLocation": None,
            "preferredLanguage": None,
            "createdDateTime": iso(u.get("created", 1700000000)),
            "roles": [role_id(r) for r in u.get("roles", [])],
            "scopes_granted": u.get("scopes_granted"),
            "password": u.get("password"),
            "fido2Methods": [], "tap": None,
        }
        seeded = u.get("fido2Methods", [])
        if isinstance(seeded, int):
            seeded = [{"credentialId": b64u(os.urandom((16, 32, 48)[i % 3]))}
                      for i in range(seeded)]
        for i, m in enumerate(seeded):
            rec["fido2Methods"].append(self._seed_method(m, i))
        self.cred_ids.update(m["credentialId"] for m in rec["fido2Methods"])
        tap = u.get("tap")
        if tap:
            self.set_tap(rec, tap.get("value"),
                         tap.get("startDateTime_epoch", 0) or 0,
                         int(tap.get("lifetimeInMinutes", 60)),
                         bool(tap.get("isUsableOnce", True)))
        self.users[uid] = rec
        self.upn_index[upn.lower()] = uid
        self._users_gen += 1
        for g in u.get("groups", []):
            grp = self.find_group(g)
            if grp is None:
                raise ValueError("unknown group %r" % g)
            grp["members"].append(uid)
        if persist:
            self.persist()
        return rec

    def _seed_method(self, m, i):
        cred = b64u_dec(m["credentialId"])
        aaguid = m.get("aaGuid", "00000000-0000-0000-0000-000000000000")
        return {"id": method_id_for(cred), "credentialId": b64u(cred),
                "displayName": m.get("displayName", "Seeded key %d" % (i + 1)),
                "createdDateTime": m.get("createdDateTime",
                                         "2024-01-0%dT10:00:00Z" % (i % 9 + 1)),
                "aaGuid": aaguid,
                "model": m.get("model", self.model_for(aaguid)),
                "attestationCertificates": m.get("attestationCertificates", []),
                "attestationLevel": m.get("attestationLevel", "attested"),
                "passkeyType": "deviceBound",
                "transports": m.get("transports", [[], ["usb"],
                                                   ["usb", "nfc"]][i % 3]),
                "seeded": True}

    def add_group(self, g):
        gid = g.get("id") or str(uuid.uuid5(NS, "group:" + g["displayName"]))
        rec = {"id": gid, "displayName": g["displayName"],
               "description": g.get("description"),
               "mailEnabled": False, "securityEnabled": True, "groupTypes": [],
               "mail": None, "members": []}
        self.groups[gid] = rec
        for m in g.get("members", []):
            rec["members"].append(self._member_ref(m))
        gen = g.get("generate_members")
        if gen:
            prefix = gen.get("upn_prefix", "bulk")
            start = int(gen.get("start", 1))
            domain = gen.get("domain", self.tenant["domain"])
            for n in range(start, start + int(gen["count"])):
                upn = "%s%04d@%s" % (prefix, n, domain)
                uid = self.upn_index.get(upn.lower())
                if uid is None:
                    uid = self.add_user({
                        "userPrincipalName": upn,
                        "displayName": "%s user %04d" % (prefix.title(), n),
                        "givenName": prefix.title(), "surname": "%04d" % n},
                        persist=False)["id"]
                rec["members"].append(uid)
        return rec

    def _member_ref(self, m):
        if m in self.users or m in self.groups:
            return m
        uid = self.upn_index.get(str(m).lower())
        if uid:
            return uid
        g = self.find_group(m)
        if g:
            return g["id"]
        # Forward reference to a group defined later: keep as-is.
        return m

    def set_tap(self, user, value, start, lifetime_min, once):
        user["tap"] = {"id": guid(), "sha256": hashlib.sha256(
            value.encode()).hexdigest(), "createdDateTime": self.now(),
            "startDateTime": start or self.now(),
            "lifetimeInMinutes": lifetime_min, "isUsableOnce": once,
            "used": False}
        self._users_dirty.add(user["id"])
        return user["tap"]

    # --- lookups -------------------------------------------------------------

    def now(self):
        return time.time() + self.clock_offset

    def find_user(self, ref):
        ref = str(ref)
        u = self.users.get(ref) or self.users.get(ref.lower())
        if u is not None:
            return u
        uid = self.upn_index.get(ref.lower())
        return self.users.get(uid) if uid else None

    def find_group(self, ref):
        g = self.groups.get(ref) or self.groups.get(str(ref).lower())
        if g is not None:
            return g
        for g in self.groups.values():
            if g["displayName"] == ref:
                return g
        return None

    def model_for(self, aaguid):
        return self.models.get(aaguid, UNKNOWN_MODEL)

    def transitive(self, gid, seen=None):
        """(users, groups) reachable from group gid, in stable order."""
        seen = seen if seen is not None else set()
        users, groups = [], []
        for m in self.groups[gid]["members"]:
            if m in seen:
                continue
            seen.add(m)
            if m in self.users:
                users.append(m)
            elif m in self.groups:
                groups.append(m)
                u2, g2 = self.transitive(m, seen)
                users.extend(u2)
                groups.extend(g2)
        return users, groups

    def groups_of(self, uid):
        return [g for g in self.groups if uid in self.transitive(g)[0]]

    def tap_status(self, tap):
        """(isUsable, methodUsabilityReason)."""
        if self.tap_policy.get("state") != "enabled":
            return False, "DisabledByPolicy"
        now = self.now()
        if tap["isUsableOnce"] and tap["used"]:
            return False, "OneTimeUsed"
        if now < tap["startDateTime"]:
            return False, "NotYetValid"
        if now >= tap["startDateTime"] + tap["lifetimeInMinutes"] * 60:
            return False, "Expired"
        return True, "EnabledByPolicy"

    def user_in_targets(self, uid, targets):
        for t in targets:
            if t.get("id") == "all_users":
                return True
            if t.get("targetType") == "group" and t.get("id") in self.groups \
                    and uid in self.transitive(t["id"])[0]:
                return True
            if t.get("targetType") == "user" and t.get("id") == uid:
                return True
        return False

    # --- snapshot / persistence ---------------------------------------------

    def user_snapshot(self, u):
        d = {k: u[k] for k in STATE_USER_FIELDS if u.get(k) is not None}
        d["roles"] = [ROLE_NAMES.get(r, r) for r in u["roles"]]
        d["fido2Methods"] = [dict(m) for m in u["fido2Methods"]]
        tap = u["tap"]
        if tap:
            usable, reason = self.tap_status(tap)
            d["temporaryAccessPass"] = {
                "id": tap["id"], "createdDateTime": iso(tap["createdDateTime"]),
                "startDateTime": iso(tap["startDateTime"]),
                "lifetimeInMinutes": tap["lifetimeInMinutes"],
                "isUsableOnce": tap["isUsableOnce"], "used": tap["used"],
                "isUsable": usable, "methodUsabilityReason": reason}
        return d

    def touch(self, user):
        """Mark a user record changed (invalidates its cached JSON)."""
        user["_v"] = user.get("_v", 0) + 1
        self._users_dirty.add(user["id"])

    def _user_json(self, u):
        if u["tap"] is not None:       # time-dependent fields: never cached
            return json.dumps(self.user_snapshot(u), separators=(",", ":"))
        hit = self._frag.get(u["id"])
        if hit is not None and hit[0] == u.get("_v", 0):
            return hit[1]
        text = json.dumps(self.user_snapshot(u), separators=(",", ":"))
        self._frag[u["id"]] = (u.get("_v", 0), text)
        return text

    def snapshot(self, users=True, copies=True):
        """The state document (also GET /_emu/state). Holds no secrets.

        copies=False shares the policy/settings dicts instead of deep
        copies: only for a caller that serialises it under self.lock."""
        cp = copy.deepcopy if copies else _same
        with self.lock:
            doc = {
                "version": 1,
                "time": iso(self.now()),
                "clock_offset": self.clock_offset,
                "tenant": dict(self.tenant),
                "users": [self.user_snapshot(u) for u in self.users.values()]
                if users else [],
                "groups": [dict(g, members=list(g["members"]))
                           for g in self.groups.values()],
                "policy": cp(self.policy),
                "tap_policy": cp(self.tap_policy),
                "device_code": cp(self.device),
                "settings": cp(self.settings),
                "challenges": {"issued": self.challenges_issued,
                               "used": len(self.used_nonces)},
                "registrations": self.registrations,
                "tokens": {k: (dict(v) if isinstance(v, collections.Counter)
                               else v) for k, v in self.tokens.items()},
                "requests": {"total": self.request_total,
                             "counts": dict(self.request_counts)},
                "faults": self.faults.describe() if self.faults else [],
                "_used_nonces": sorted(self.used_nonces),
            }
            return doc

    def _frag_bytes(self, u, i):
        """The i-th user's JSON as bytes, after a comma unless the first."""
        return (b"," if i else b"") + self._user_json(u).encode()

    def _users_parts(self):
        """[self._frag_bytes(u, i) for i, u in enumerate(self.users.values())]
        (under self.lock): the users' array in state.json is their join.

        Keeps the last list while no user was added: only the users
        touched (or given a TAP) since are rendered again, and those
        holding a TAP every time (their isUsable depends on the time)."""
        c = self._users_cache
        if c is None or c[0] != self._users_gen or c[1] != len(self.users):
            parts, index, taps = [], {}, {}
            for i, u in enumerate(self.users.values()):
                parts.append(self._frag_bytes(u, i))
                index[u["id"]] = i
                if u["tap"] is not None:
                    taps[i] = u
            self._users_cache = (self._users_gen, len(self.users), parts,
                                 index, taps)
            self._users_dirty.clear()
            return list(parts)
        _, _, parts, index, taps = c
        if not self._users_dirty <= index.keys():
            self._users_cache = None            # not ours: start again
            return self._users_parts()
        for uid in self._users_dirty:
            i = index[uid]
            u = self.users[uid]
            taps.pop(i, None)
            if u["tap"] is not None:
                taps[i] = u
            else:
                parts[i] = self._frag_bytes(u, i)
        self._users_dirty.clear()
        out = list(parts)
        for i, u in taps.items():
            out[i] = self._frag_bytes(u, i)
        return out

    def persist(self):
        """Write state.json atomically; coalesces concurrent writers."""
        with self.lock:
            self.gen += 1
            my_gen = self.gen
            head = json.dumps(self.snapshot(users=False, copies=False),
                              separators=(",", ":")).encode()
            users = self._users_parts()
        # the bytes of head.replace(b'"users":[]', b'"users":[' +
        # b",".join(users) + b"]", 1), gathered by writev, not built
        at = head.index(b'"users":[]') + len(b'"users":[')
        iov = [head[:at]] + users + [head[at:]]
        with self._write_lock:
            if self.written_gen >= my_gen:
                return
            tmp = self.state_path + ".tmp"
            _write_file(tmp, iov)
            os.replace(tmp, self.state_path)
            self.written_gen = my_gen

    def resume_from(self, path):
        """Reload mutable data (methods, TAPs, users, policy...) from state.json."""
        with open(path) as f:
            snap = json.load(f)
        with self.lock:
            self.users.clear()
            self.upn_index.clear()
            for d in snap["users"]:
                old = d
                rec = self.add_user({k: old[k] for k in USER_FIELDS
                                     if k in old and k != "fido2Methods"}
                                    | {"roles": old.get("roles", [])},
                                    persist=False)
                cfg_user = next((u for u in self.cfg.get("users", [])
                                 if u["userPrincipalName"].lower()
                                 == rec["userPrincipalName"].lower()), {})
                rec["password"] = cfg_user.get("password")
                rec["scopes_granted"] = cfg_user.get("scopes_granted")
                rec["fido2Methods"] = old["fido2Methods"]
            self.groups.clear()
            for g in snap["groups"]:
                self.groups[g["id"]] = g
            self.policy = snap["policy"]
            self.tap_policy = snap["tap_policy"]
            self.used_nonces = set(snap.get("_used_nonces", []))
            self.challenges_issued = snap["challenges"]["issued"]
            self.registrations = snap.get("registrations", 0)
            t = snap["tokens"]
            self.tokens["access_expired_before"] = t["access_expired_before"]
            self.tokens["refresh_revoked_before"] = t["refresh_revoked_before"]
            self.clock_offset = snap.get("clock_offset", 0.0)
            self._users_gen += 1
            self.cred_ids.update(m["credentialId"]
                                 for u in self.users.values()
                                 for m in u["fido2Methods"])

    # --- request accounting --------------------------------------------------

    def count_request(self, entry, key):
        with self.lock:
            self.request_total += 1
            self.request_counts[key] += 1
            self.requests.append(entry)
