"""Self-tests of the Graph emulator (run with Debian's /usr/bin/python3).

    /usr/bin/python3 -m unittest -v test_emulator     (from this directory)
"""

import base64
import datetime
import hashlib
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True      # keep the source tree clean
sys.path.insert(0, HERE)

import emuctl  # noqa: E402
import softauthn  # noqa: E402
from common import b64u, b64u_dec  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

TENANT = "contoso.example"
TID = "8a1f2b3c-4d5e-4f60-8172-93a4b5c6d7e8"
PUBLIC = "14d82eec-204b-4c2f-b7e8-296a70dab67e"
APP = ("5b7e2c1a-0f4d-4c3b-9a8e-6d5f4e3c2b1a", "emulator-test-secret")
LIMITED = ("0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f", "limited-app-secret")
CERT_APP = "c3c3c3c3-0000-4000-8000-0000000000c3"
SCOPES = ("https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All "
          "https://graph.microsoft.com/User.Read.All "
          "https://graph.microsoft.com/GroupMember.Read.All "
          "offline_access openid profile")
REDIRECT = "http://127.0.0.1:53682/callback"
PASSWORDS = {"privadmin@contoso.example": "pw-priv",
             "helpdesk@contoso.example": "pw-help",
             "limited@contoso.example": "pw-limited",
             "alice@contoso.example": "pw-alice"}
ALICE = "44444444-4444-4444-8444-444444444444"
BOB = "55555555-5555-4555-8555-555555555555"
CAROL = "33333333-3333-4333-8333-333333333333"
GUEST = "77777777-7777-4777-8777-777777777777"
FRANK = "88888888-8888-4888-8888-888888888888"
BULK = "b0000000-0000-4000-8000-000000000003"
PILOT = "b0000000-0000-4000-8000-000000000001"
TOKEN_EP = "/%s/oauth2/v2.0/token" % TENANT
CO = "/v1.0/users/%s/authentication/fido2Methods/creationOptions"
F2 = "/v1.0/users/%s/authentication/fido2Methods"

EMU = None
TMP = None
CHAIN = None
CERT = None       # (rsa key, cert der) of CERT_APP


def claims_of(tok):
    return json.loads(b64u_dec(tok.split(".")[1]))


def make_client_cert():
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cert app")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return key, cert


def setUpModule():
    global EMU, TMP, CHAIN, CERT
    TMP = tempfile.mkdtemp(prefix="emu-selftest-")
    with open(os.path.join(HERE, "configs", "basic.json")) as f:
        cfg = json.load(f)
    for u in cfg["users"]:
        if u["userPrincipalName"] in PASSWORDS:
            u["password"] = PASSWORDS[u["userPrincipalName"]]
    CHAIN = softauthn.make_attestation_chain()
    root_path = os.path.join(TMP, "fido-root.pem")
    with open(root_path, "wb") as f:
        f.write(CHAIN[0])
    cfg["attestation_roots"] = [root_path]
    key, cert = make_client_cert()
    CERT = (key, cert.public_bytes(serialization.Encoding.DER))
    cfg["clients"].append({
        "client_id": CERT_APP, "certificate_pem": cert.public_bytes(
            serialization.Encoding.PEM).decode(),
        "app_roles": ["UserAuthenticationMethod.ReadWrite.All"]})
    cfg["groups"].append({"displayName": "O'Brien team", "members": [ALICE]})
    EMU = emuctl.start(os.path.join(TMP, "emu"), cfg,
                       log=os.path.join(TMP, "emu.log"))


def tearDownModule():
    EMU.stop()
    shutil.rmtree(TMP, ignore_errors=True)


# --- token helpers ------------------------------------------------------------

def app_token(client=APP):
    st, body = EMU.json("POST", TOKEN_EP, form={
        "grant_type": "client_credentials", "client_id": client[0],
        "client_secret": client[1],
        "scope": "https://graph.microsoft.com/.default"})
    assert st == 200, body
    return body["access_token"]


def authorize(login_hint=None, scope=SCOPES, client_id=PUBLIC,
              redirect=REDIRECT, method="S256", creds=None, extra=None):
    """Run /authorize; returns (status, headers, body, verifier, params)."""
    verifier = b64u(os.urandom(32))
    q = {"client_id": client_id, "response_type": "code",
         "redirect_uri": redirect, "scope": scope, "state": "st-42",
         "code_challenge": b64u(hashlib.sha256(verifier.encode()).digest()),
         "code_challenge_method": method, "prompt": "select_account"}
    if login_hint:
        q["login_hint"] = login_hint
    q.update(extra or {})
    path = "/%s/oauth2/v2.0/authorize" % TENANT
    st, h, body = EMU.request("GET", path + "?" + urllib.parse.urlencode(q))
    if st == 200 and creds:
        form = dict(q)
        form.update(creds)
        st, h, body = EMU.request("POST", path, form=form)
    return st, h, body, verifier, q


def redirect_params(h):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
        h["location"]).query))


def user_tokens(login_hint=None, scope=SCOPES, creds=None):
    if login_hint in PASSWORDS and creds is None:
        creds = {"password": PASSWORDS[login_hint]}
    st, h, body, verifier, q = authorize(login_hint, scope, creds=creds)
    assert st == 302, (st, body)
    code = redirect_params(h)["code"]
    st, tok = EMU.json("POST", TOKEN_EP, form={
        "grant_type": "authorization_code", "client_id": PUBLIC, "code": code,
        "redirect_uri": REDIRECT, "code_verifier": verifier, "scope": scope})
    assert st == 200, tok
    return tok


def user_token(login_hint=None, scope=SCOPES):
    return user_tokens(login_hint, scope)["access_token"]


def graph_error(body):
    return body["error"]["code"], body["error"]["message"]


class Base(unittest.TestCase):
    def tearDown(self):
        EMU.clear_faults()
        EMU.control("POST", "clock", {"offset": 0})
        EMU.set_policy(state="enabled", isSelfServiceRegistrationAllowed=True,
                       isAttestationEnforced=False,
                       keyRestrictions={"isEnforced": False,
                                        "enforcementType": "block",
                                        "aaGuids": []})
        EMU.control("POST", "policy", {"temporaryAccessPass":
                                       {"state": "enabled"}})
        EMU.set_settings(wrap_creation_options=False, strict_extensions=True)
        EMU.set_device(mode="approve", pending_polls=2, interval=1, user=None)

    def options(self, user, token, path=CO):
        st, body = EMU.json("GET", path % user, token=token)
        self.assertEqual(st, 200, body)
        return body

    def assertGraphError(self, st, body, status, code=None, msg=None):
        self.assertEqual(st, status, body)
        self.assertIn("innerError", body["error"])
        for k in ("date", "request-id", "client-request-id"):
            self.assertIn(k, body["error"]["innerError"])
        if code:
            self.assertEqual(body["error"]["code"], code, body)
        if msg:
            self.assertIn(msg, body["error"]["message"])


# --- OAuth ----------------------------------------------------------------------

class OAuthTests(Base):
    def test_discovery_for_each_tenant_form(self):
        for t in (TID, TENANT, "organizations", "common"):
            st, doc = EMU.json("GET", "/%s/v2.0/.well-known/openid-configuration"
                               % t)
            self.assertEqual(st, 200)
            self.assertTrue(doc["token_endpoint"].endswith(
                "/%s/oauth2/v2.0/token" % t))
            self.assertIn("device_authorization_endpoint", doc)
        st, body = EMU.json("POST", "/nosuch.example/oauth2/v2.0/token",
                            form={"grant_type": "client_credentials"})
        self.assertEqual((st, body["error_codes"]), (400, [90002]))

    def test_client_credentials_secret_form_and_basic(self):
        tok = app_token()
        c = claims_of(tok)
        self.assertEqual((c["aud"], c["idtyp"], c["tid"], c["appid"]),
                         ("https://graph.microsoft.com", "app", TID, APP[0]))
        self.assertIn("UserAuthenticationMethod.ReadWrite.All", c["roles"])
        self.assertNotIn("scp", c)
        basic = base64.b64encode(("%s:%s" % APP).encode()).decode()
        st, h, raw = EMU.request("POST", TOKEN_EP, form={
            "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default"},
            headers={"Authorization": "Basic " + basic})
        body = json.loads(raw)
        self.assertEqual(st, 200, body)
        self.assertNotIn("refresh_token", body)

    def test_client_credentials_errors(self):
        st, body = EMU.json("POST", TOKEN_EP, form={
            "grant_type": "client_credentials", "client_id": APP[0],
            "client_secret": "wrong", "scope":
            "https://graph.microsoft.com/.default"})
        self.assertEqual((st, body["error"]), (401, "invalid_client"))
        self.assertTrue(body["error_description"].startswith("AADSTS7000215:"))
        for k in ("error_codes", "timestamp", "trace_id", "correlation_id"):
            self.assertIn(k, body)
        st, body = EMU.json("POST", TOKEN_EP, form={
            "grant_type": "client_credentials", "client_id": APP[0],
            "client_secret": APP[1],
            "scope": "https://graph.microsoft.com/User.Read.All"})
        self.assertEqual((st, body["error"], body["error_codes"]),
                         (400, "invalid_scope", [1002012]))
        st, body = EMU.json("POST", TOKEN_EP, form={
            "grant_type": "client_credentials", "client_id": PUBLIC,
            "scope": "https://graph.microsoft.com/.default"})
        self.assertEqual((st, body["error"]), (401, "invalid_client"))
        st, body = EMU.json("POST", TOKEN_EP, form={
            "grant_type": "client_credentials", "client_id": str(uuid.uuid4()),
            "client_secret": "x"})
        self.assertEqual(body["error_codes"], [700016])

    def _assertion(self, aud=None, salt=32, alg="PS256", exp=300, jti=None,
                   iss=CERT_APP, der=None):
        key, cert_der = CERT
        now = int(time.time())
        header = {"alg": alg, "typ": "JWT", "x5t#S256": b64u(hashlib.sha256(
            der or cert_der).digest())}
        claims = {"aud": aud or EMU.base_url + TOKEN_EP, "iss": iss,
                  "sub": CERT_APP, "jti": jti or str(uuid.uuid4()), "nbf": now,
                  "iat": now, "exp": now + exp}
        si = (b64u(json.dumps(header).encode()) + "."
              + b64u(json.dumps(claims).encode()))
        pad = (padding.PSS(padding.MGF1(hashes.SHA256()), salt)
               if alg == "PS256" else padding.PKCS1v15())
        return si + "." + b64u(key.sign(si.encode(), pad, hashes.SHA256()))

    def _cc_assert(self, assertion):
        return EMU.json("POST", TOKEN_EP, form={
            "grant_type": "client_credentials", "client_id": CERT_APP,
            "client_assertion_type":
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
            "scope": "https://graph.microsoft.com/.default"})

    def test_client_assertion_ps256(self):
        jti = str(uuid.uuid4())
        st, body = self._cc_assert(self._assertion(jti=jti))
        self.assertEqual(st, 200, body)
        c = claims_of(body["access_token"])
        self.assertEqual((c["appid"], c["appidacr"]), (CERT_APP, "2"))
        st, body = self._cc_assert(self._assertion(jti=jti))   # replay
        self.assertEqual(st, 401, body)
        st, body = self._cc_assert(self._assertion(
            salt=padding.PSS.MAX_LENGTH))
        self.assertEqual((st, body["error_codes"]), (401, [700027]))
        st, body = self._cc_assert(self._assertion(
            aud="https://example.com/token"))
        self.assertEqual(st, 401, body)
        st, body = self._cc_assert(self._assertion(exp=-10))
        self.assertEqual((st, body["error_codes"]), (401, [700024]))
        st, body = self._cc_assert(self._assertion(iss="someone-else"))
        self.assertEqual(st, 401, body)
        st, body = self._cc_assert(self._assertion(der=b"not the cert"))
        self.assertEqual((st, body["error_codes"]), (401, [700027]))

    def test_auth_code_pkce(self):
        st, h, body, verifier, q = authorize()
        self.assertEqual(st, 302)
        p = redirect_params(h)
        self.assertEqual(p["state"], "st-42")
        self.assertTrue(h["location"].startswith(REDIRECT + "?"))
        form = {"grant_type": "authorization_code", "client_id": PUBLIC,
                "code": p["code"], "redirect_uri": REDIRECT,
                "code_verifier": "wrong" + verifier}
        st, bad = EMU.json("POST", TOKEN_EP, form=form)
        self.assertEqual((st, bad["error_codes"]), (400, [501481]))
        # a failed redemption burns the code, like Entra
        st, h, body, verifier, q = authorize()
        form.update(code=redirect_params(h)["code"], code_verifier=verifier)
        st, tok = EMU.json("POST", TOKEN_EP, form=form)
        self.assertEqual(st, 200, tok)
        for k in ("access_token", "refresh_token", "id_token", "scope",
                  "expires_in"):
            self.assertIn(k, tok)
        c = claims_of(tok["access_token"])
        self.assertEqual((c["idtyp"], c["upn"], c["aud"]),
                         ("user", "admin@contoso.example",
                          "https://graph.microsoft.com"))
        self.assertIn("UserAuthenticationMethod.ReadWrite.All", c["scp"].split())
        self.assertIn("c4e39bd9-1100-46d3-8c65-fb160da0071f", c["wids"])
        self.assertEqual(claims_of(tok["id_token"])["aud"], PUBLIC)
        st, again = EMU.json("POST", TOKEN_EP, form=form)
        self.assertEqual((st, again["error_codes"]), (400, [54005]))

    def test_auth_code_errors(self):
        st, h, _, _, _ = authorize(method="plain")
        self.assertEqual(st, 302)
        self.assertEqual(redirect_params(h)["error"], "invalid_request")
        st, h, body, _, _ = authorize(redirect="https://evil.example/cb")
        self.assertEqual(st, 400)
        self.assertIn(b"AADSTS50011", body)
        st, h, body, _, _ = authorize(client_id=str(uuid.uuid4()))
        self.assertEqual(st, 400)
        self.assertIn(b"AADSTS700016", body)
        st, h, body, verifier, _ = authorize()
        EMU.advance_clock(61)
        st, tok = EMU.json("POST", TOKEN_EP, form={
            "grant_type": "authorization_code", "client_id": PUBLIC,
            "code": redirect_params(h)["code"], "redirect_uri": REDIRECT,
            "code_verifier": verifier})
        self.assertEqual((st, tok["error_codes"]), (400, [70008]))

    def test_auth_code_with_temporary_access_pass(self):
        tok = user_token()
        st, tap = EMU.json("POST", "/v1.0/users/%s/authentication/"
                           "temporaryAccessPassMethods" % ALICE, token=tok,
                           body={"lifetimeInMinutes": 60, "isUsableOnce": True})
        self.assertEqual(st, 201, tap)
        st, h, body, _, _ = authorize("alice@contoso.example")
        self.assertEqual(st, 200)
        self.assertIn(b'name="tap"', body)
        st, h, body, _, _ = authorize("alice@contoso.example",
                                      creds={"tap": "not-the-tap"})
        self.assertEqual(st, 400)
        toks = user_tokens("alice@contoso.example",
                           creds={"tap": tap["temporaryAccessPass"]})
        c = claims_of(toks["access_token"])
        self.assertEqual(c["upn"], "alice@contoso.example")
        self.assertLessEqual(c["exp"], time.time() + 3600 + 5)
        st, me = EMU.json("GET", "/v1.0/me", token=toks["access_token"])
        self.assertEqual((st, me["id"]), (200, ALICE))
        st, _, body, _, _ = authorize("alice@contoso.example")
        self.assertEqual(st, 200)    # one-time TAP used: password form only
        self.assertNotIn(b'name="tap"', body)
        st, _, _, _, _ = authorize("alice@contoso.example",
                                   creds={"tap": tap["temporaryAccessPass"]})
        self.assertEqual(st, 400)
        self.assertEqual(EMU.user(ALICE)["temporaryAccessPass"]
                         ["methodUsabilityReason"], "OneTimeUsed")

    def test_device_code(self):
        st, dc = EMU.json("POST", "/%s/oauth2/v2.0/devicecode" % TENANT,
                          form={"client_id": PUBLIC, "scope": SCOPES})
        self.assertEqual(st, 200, dc)
        for k in ("device_code", "user_code", "verification_uri", "expires_in",
                  "interval", "message"):
            self.assertIn(k, dc)
        form = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "client_id": PUBLIC, "device_code": dc["device_code"]}
        seen = []
        for i in range(6):
            st, body = EMU.json("POST", TOKEN_EP, form=form)
            if st == 200:
                break
            seen.append(body["error"])
            if i == 0:   # poll again at once: too fast
                st, body = EMU.json("POST", TOKEN_EP, form=form)
                seen.append(body["error"])
            time.sleep(1.05)
        self.assertEqual(st, 200, body)
        self.assertEqual(seen, ["authorization_pending", "slow_down",
                                "authorization_pending"])
        self.assertEqual(claims_of(body["access_token"])["upn"],
                         "admin@contoso.example")
        for mode, err in (("decline", "authorization_declined"),
                          ("expire", "expired_token")):
            EMU.set_device(mode=mode)
            st, dc = EMU.json("POST", "/%s/oauth2/v2.0/devicecode" % TENANT,
                              form={"client_id": PUBLIC, "scope": SCOPES})
            form["device_code"] = dc["device_code"]
            st, body = EMU.json("POST", TOKEN_EP, form=form)
            self.assertEqual((st, body["error"]), (400, err))
        form["device_code"] = "nope"
        st, body = EMU.json("POST", TOKEN_EP, form=form)
        self.assertEqual(body["error"], "bad_verification_code")

    def test_refresh_and_revoke(self):
        toks = user_tokens()
        form = {"grant_type": "refresh_token", "client_id": PUBLIC,
                "refresh_token": toks["refresh_token"]}
        st, new = EMU.json("POST", TOKEN_EP, form=form)
        self.assertEqual(st, 200, new)
        self.assertIn("refresh_token", new)
        EMU.revoke_tokens()
        form["refresh_token"] = new["refresh_token"]
        st, body = EMU.json("POST", TOKEN_EP, form=form)
        self.assertEqual((st, body["error"], body["error_codes"]),
                         (400, "invalid_grant", [50173]))
        self.assertTrue(body["error_description"].startswith("AADSTS50173:"))
        toks = user_tokens()     # a fresh sign-in works again
        form["refresh_token"] = toks["refresh_token"]
        self.assertEqual(EMU.json("POST", TOKEN_EP, form=form)[0], 200)


# --- Graph basics ---------------------------------------------------------------

class GraphBasics(Base):
    def test_401_variants(self):
        st, body = EMU.json("GET", "/v1.0/me")
        self.assertGraphError(st, body, 401, "InvalidAuthenticationToken",
                              "empty")
        st, body = EMU.json("GET", "/v1.0/users/%s" % ALICE, token="garbage")
        self.assertGraphError(st, body, 401, "InvalidAuthenticationToken")
        tok = app_token()
        h, p, s = tok.split(".")
        forged = h + "." + b64u(json.dumps(dict(
            claims_of(tok), roles=["Directory.ReadWrite.All"])).encode()) + "." + s
        st, body = EMU.json("GET", "/v1.0/users/%s" % ALICE, token=forged)
        self.assertGraphError(st, body, 401, "InvalidAuthenticationToken")
        self.assertEqual(EMU.json("GET", "/v1.0/users/%s" % ALICE,
                                  token=tok)[0], 200)
        EMU.expire_tokens()
        st, body = EMU.json("GET", "/v1.0/users/%s" % ALICE, token=tok)
        self.assertGraphError(st, body, 401, "InvalidAuthenticationToken",
                              "expired")
        self.assertEqual(EMU.json("GET", "/v1.0/users/%s" % ALICE,
                                  token=app_token())[0], 200)

    def test_request_ids_and_keepalive(self):
        tok = app_token()
        conn = EMU.connection()
        try:
            for i in range(5):
                st, h, raw = EMU.request("GET", "/v1.0/users/%s" % ALICE,
                                         token=tok, conn=conn, headers={
                                             "client-request-id": "crid-%d" % i})
                self.assertEqual(st, 200)
                self.assertEqual(h["client-request-id"], "crid-%d" % i)
                self.assertTrue(h["request-id"])
                self.assertIn("odata.metadata=minimal", h["content-type"])
        finally:
            conn.close()

    def test_get_user_select_and_404(self):
        tok = app_token()
        st, u = EMU.json("GET", "/v1.0/users/alice@contoso.example", token=tok)
        self.assertEqual(st, 200)
        self.assertNotIn("accountEnabled", u)      # not a v1.0 default property
        st, u = EMU.json("GET", "/v1.0/users/%s?$select=id,userPrincipalName,"
                         "userType,accountEnabled" % FRANK, token=tok)
        self.assertEqual((u["accountEnabled"], u["userType"]), (False, "Member"))
        st, u = EMU.json("GET", "/v1.0/users/" + urllib.parse.quote(
            "erin_fabrikam.example#EXT#@contoso.example", safe="@")
            + "?$select=userType", token=tok)
        self.assertEqual((st, u["userType"]), (200, "Guest"))
        st, body = EMU.json("GET", "/v1.0/users/%s?$select=nope" % ALICE,
                            token=tok)
        self.assertGraphError(st, body, 400, "Request_BadRequest")
        st, body = EMU.json("GET", "/v1.0/users/ghost@contoso.example",
                            token=tok)
        self.assertGraphError(st, body, 404, "Request_ResourceNotFound")
        st, body = EMU.json("GET", "/v1.0/me", token=tok)
        self.assertGraphError(st, body, 400, "BadRequest", "/me request")

    def test_permissions_and_roles(self):
        lim = app_token(LIMITED)
        st, body = EMU.json("GET", CO % ALICE, token=lim)
        self.assertGraphError(st, body, 403, "accessDenied")
        st, body = EMU.json("GET", "/v1.0/groups", token=lim)
        self.assertGraphError(st, body, 403, "Authorization_RequestDenied")
        helpdesk = user_token("helpdesk@contoso.example")
        st, body = EMU.json("GET", CO % ALICE, token=helpdesk)
        self.assertGraphError(st, body, 403, "accessDenied")
        admin = user_token()                       # Authentication Administrator
        self.assertEqual(EMU.json("GET", CO % ALICE, token=admin)[0], 200)
        st, body = EMU.json("GET", CO % CAROL, token=admin)   # target is an admin
        self.assertGraphError(st, body, 403, "accessDenied")
        priv = user_token("privadmin@contoso.example")
        self.assertEqual(EMU.json("GET", CO % CAROL, token=priv)[0], 200)
        limited = user_tokens("limited@contoso.example")
        self.assertEqual(claims_of(limited["access_token"])["scp"], "User.Read")
        st, body = EMU.json("GET", CO % ALICE, token=limited["access_token"])
        self.assertGraphError(st, body, 403, "accessDenied")

    def test_registration_report(self):
        tok = app_token()
        path = ("/v1.0/reports/authenticationMethods/userRegistrationDetails?"
                "$top=999&$filter=")
        st, body = EMU.json("GET", path + urllib.parse.quote(
            "userPrincipalName eq 'bob@contoso.example'"), token=tok)
        self.assertEqual(st, 200, body)
        self.assertIn("passKeyDeviceBound", body["value"][0]["methodsRegistered"])
        st, body = EMU.json("GET", path + urllib.parse.quote(
            "not(methodsRegistered/any(m:m eq 'passKeyDeviceBound'))"),
            token=tok)
        self.assertNotIn(BOB, [r["id"] for r in body["value"]])
        st, body = EMU.json("GET", path + "x", token=user_token())
        self.assertGraphError(st, body, 403)    # needs a reports role

    def test_me_member_of_roles_and_policy(self):
        tok = user_token()
        st, body = EMU.json("GET", "/v1.0/me/transitiveMemberOf", token=tok)
        self.assertEqual(st, 200, body)
        roles = [x["roleTemplateId"] for x in body["value"]
                 if x["@odata.type"] == "#microsoft.graph.directoryRole"]
        self.assertEqual(roles, ["c4e39bd9-1100-46d3-8c65-fb160da0071f"])
        st, pol = EMU.json("GET", "/v1.0/policies/authenticationMethodsPolicy/"
                           "authenticationMethodConfigurations/fido2",
                           token=app_token())
        self.assertEqual(st, 200, pol)
        for k in ("state", "isSelfServiceRegistrationAllowed",
                  "isAttestationEnforced", "keyRestrictions", "includeTargets"):
            self.assertIn(k, pol)
        self.assertEqual(pol["keyRestrictions"]["enforcementType"], "block")


# --- creationOptions ---------------------------------------------------------------

class CreationOptionsTests(Base):
    def test_shape(self):
        tok = app_token()
        body = self.options(BOB, tok)
        self.assertEqual(set(body), {"@odata.context", "challengeTimeoutDateTime",
                                     "publicKey"})
        pk = body["publicKey"]
        self.assertEqual(pk["rp"], {"id": "login.microsoft.com",
                                    "name": "Microsoft"})
        uid = b64u_dec(pk["user"]["id"], strict=True)
        self.assertEqual((len(uid), uid[:3]), (51, b"OF:"))
        self.assertEqual(pk["user"]["name"], "bob@contoso.example")
        self.assertTrue(6800 <= len(pk["challenge"]) <= 7000,
                        len(pk["challenge"]))
        jwe = b64u_dec(pk["challenge"], strict=True).decode("ascii")
        self.assertEqual(len(jwe.split(".")), 5)
        hdr = json.loads(b64u_dec(jwe.split(".")[0]))
        self.assertEqual((hdr["alg"], hdr["enc"]), ("RSA-OAEP-256", "A256GCM"))
        self.assertEqual([p["alg"] for p in pk["pubKeyCredParams"]], [-7, -257])
        self.assertEqual(pk["attestation"], "direct")
        self.assertEqual(pk["authenticatorSelection"], {
            "authenticatorAttachment": "cross-platform",
            "requireResidentKey": True, "userVerification": "required"})
        self.assertEqual(pk["extensions"], {
            "hmacCreateSecret": True, "enforceCredentialProtectionPolicy": True,
            "credentialProtectionPolicy": "userVerificationOptional"})
        exp = datetime.datetime.strptime(body["challengeTimeoutDateTime"],
                                         "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(exp - time.time(), 300, delta=5)
        timeouts = {pk["timeout"], self.options(BOB, tok)["publicKey"]["timeout"]}
        self.assertEqual(timeouts, {0, 60000})

    def test_exclude_credentials_three_encodings(self):
        tok = app_token()
        creds = [b64u_dec(m["credentialId"]) for m in
                 EMU.user(BOB)["fido2Methods"]]
        pk = self.options(BOB, tok)["publicKey"]
        self.assertEqual(len(pk["excludeCredentials"]), len(creds))
        kinds = set()
        for e in pk["excludeCredentials"]:
            i = e["id"]
            if "+" in i or "/" in i or i.endswith("="):
                kinds.add("std")
                raw = base64.b64decode(i)
            elif len(i) % 4 == 1 or (i[-1] in "012" and len(i) % 4 in (0, 3)
                                      and base64.urlsafe_b64decode(
                                          i[:-1] + "=" * int(i[-1])) in creds):
                kinds.add("suffix")
                raw = base64.urlsafe_b64decode(i[:-1] + "=" * int(i[-1]))
            else:
                kinds.add("url")
                raw = b64u_dec(i)
            self.assertIn(raw, creds)
            self.assertEqual(e["type"], "public-key")
        self.assertEqual(kinds, {"std", "url", "suffix"})

    def test_timeouts_v1_and_beta(self):
        tok = app_token()
        beta = "/beta/users/%s/authentication/fido2Methods/creationOptions"
        for path in (beta + "(challengeTimeoutInMinutes=60)",
                     beta + "?challengeTimeoutInMinutes=60"):
            body = self.options(ALICE, tok, path)
            exp = datetime.datetime.strptime(
                body["challengeTimeoutDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            self.assertAlmostEqual(exp - time.time(), 3600, delta=5)
            self.assertIn("/beta/$metadata", body["@odata.context"])
        for bad in ("4", "43201", "x"):
            st, body = EMU.json("GET", (beta + "?challengeTimeoutInMinutes=%s")
                                % (ALICE, bad), token=tok)
            self.assertGraphError(st, body, 400)
        body = self.options(ALICE, tok, CO + "?challengeTimeoutInMinutes=600")
        exp = datetime.datetime.strptime(
            body["challengeTimeoutDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(exp - time.time(), 300, delta=5)   # v1.0 ignores
        st, body = EMU.json("GET", (CO[:-len("creationOptions")] +
                                    "creationOptions(challengeTimeoutInMinutes"
                                    "=60)") % ALICE, token=tok)
        self.assertGraphError(st, body, 400)

    def test_wrapped_option(self):
        EMU.set_settings(wrap_creation_options=True)
        body = self.options(ALICE, app_token())
        self.assertIn("publicKey", body["value"])

    def test_ineligible_users(self):
        tok = app_token()
        st, body = EMU.json("GET", CO % GUEST, token=tok)
        self.assertGraphError(st, body, 400, "badRequest", "guest")
        st, body = EMU.json("GET", CO % FRANK, token=tok)
        self.assertGraphError(st, body, 400, "badRequest", "disabled")
        st, body = EMU.json("GET", CO % "ghost@contoso.example", token=tok)
        self.assertGraphError(st, body, 404, "Request_ResourceNotFound")
        EMU.set_policy(isSelfServiceRegistrationAllowed=False)
        st, body = EMU.json("GET", CO % ALICE, token=tok)
        self.assertGraphError(st, body, 400, "badRequest", "self-service")


# --- registration -------------------------------------------------------------------

class RegistrationTests(Base):
    def register(self, user, token=None, auth=None, path=F2, **kw):
        token = token or app_token()
        opts = self.options(user, token, path + "/creationOptions")
        body = (auth or softauthn.SoftAuthenticator()).register(opts, **kw)
        return EMU.json("POST", path % user, token=token, body=body), body

    def test_packed_self_attestation_and_lifecycle(self):
        (st, res), body = self.register(ALICE, display_name="Alice key 1")
        self.assertEqual(st, 201, res)
        cred = b64u_dec(body["publicKeyCredential"]["id"])
        std = base64.urlsafe_b64encode(cred).decode()
        self.assertEqual(res["id"], std.rstrip("=") + str(std.count("=")))
        self.assertEqual((res["displayName"], res["aaGuid"], res["model"],
                          res["attestationLevel"], res["passkeyType"],
                          res["attestationCertificates"]),
                         ("Alice key 1", softauthn.TEST_AAGUID, "vauth test key",
                          "notAttested", "deviceBound", []))
        self.assertIn("createdDateTime", res)
        on_disk = [m for u in EMU.state_file()["users"] if u["id"] == ALICE
                   for m in u["fido2Methods"]]
        self.assertEqual(on_disk[-1]["verification"]["attestationType"], "self")
        self.assertEqual(on_disk[-1]["verification"]["credProtect"], 1)
        tok = app_token()
        st, lst = EMU.json("GET", F2 % ALICE, token=tok)
        self.assertIn(res["id"], [m["id"] for m in lst["value"]])
        st, one = EMU.json("GET", (F2 % ALICE) + "/" + res["id"], token=tok)
        self.assertEqual((st, one["id"]), (200, res["id"]))
        st, h, raw = EMU.request("DELETE", (F2 % ALICE) + "/" + res["id"],
                                 token=tok)
        self.assertEqual((st, raw), (204, b""))
        st, body = EMU.json("GET", (F2 % ALICE) + "/" + res["id"], token=tok)
        self.assertEqual(st, 404)

    def test_delegated_and_me_and_beta(self):
        (st, res), _ = self.register(ALICE, token=user_token(),
                                     path="/beta/users/%s/authentication/"
                                          "fido2methods")
        self.assertEqual(st, 201, res)
        alice = user_token("alice@contoso.example", scope=(
            "https://graph.microsoft.com/UserAuthMethod-Passkey.ReadWrite "
            "openid"))
        # Entra (2026): self-service operations are not supported
        st, body = EMU.json("GET", "/v1.0/me/authentication/fido2Methods/"
                            "creationOptions", token=alice)
        self.assertGraphError(st, body, 405, "methodNotAllowed")
        self.assertIn("not supported", body["error"]["message"])
        EMU.set_settings(me_registration=True)
        try:
            (st, res), _ = self.register("", token=alice,
                                         path="/v1.0/me%s/authentication/"
                                              "fido2Methods")
            self.assertEqual(st, 201, res)
            v = EMU.user(ALICE)["fido2Methods"][-1]["verification"]
            self.assertEqual((v["path"], v["caller"]),
                             ("me", "alice@contoso.example"))
            EMU.advance_clock(11 * 60)   # MFA freshness for /me writes
            st, body = EMU.json("GET", "/v1.0/me/authentication/"
                                "fido2Methods/creationOptions", token=alice)
            self.assertGraphError(st, body, 403, "accessDenied")
        finally:
            EMU.set_settings(me_registration=False)

    def test_basic_attestation_and_enforcement(self):
        auth = softauthn.SoftAuthenticator(attestation="basic", chain=CHAIN)
        (st, res), _ = self.register(ALICE, auth=auth)
        self.assertEqual(st, 201, res)
        self.assertEqual(res["attestationLevel"], "attested")
        self.assertEqual(res["attestationCertificates"],
                         [hashlib.sha1(CHAIN[1]).hexdigest()])
        EMU.set_policy(isAttestationEnforced=True)
        (st, res), _ = self.register(ALICE)            # self attestation
        self.assertGraphError(st, res, 400, "badRequest", "enforced")
        (st, res), _ = self.register(ALICE, auth=softauthn.SoftAuthenticator(
            attestation="basic"))                     # untrusted root
        self.assertGraphError(st, res, 400, "badRequest", "chain")
        (st, res), _ = self.register(ALICE, auth=auth)
        self.assertEqual(st, 201, res)

    def test_none_attestation(self):
        (st, res), _ = self.register(ALICE, auth=softauthn.SoftAuthenticator(
            attestation="none"))
        self.assertEqual((st, res["attestationLevel"]), (201, "notAttested"))

    def test_rejections(self):
        cases = [
            ({"origin": "https://login.microsoftonline.com"}, "origin"),
            ({"rp_id": "login.microsoftonline.com"}, "rpIdHash"),
            ({"flags": softauthn.UP | softauthn.AT | softauthn.ED}, "UV"),
            ({"flags": softauthn.UV | softauthn.AT | softauthn.ED}, "UP"),
            ({"cd_type": "webauthn.get"}, "type"),
            ({"cross_origin": True}, "Cross-origin"),
            ({"body_cred_id": os.urandom(32)}, "credential id"),
            ({"extensions": {"hmac-secret": True}}, "credProtect"),
            ({"extensions": {"credProtect": 2, "hmac-secret": True}},
             "credProtect"),
            ({"extensions": {"credProtect": 1}}, "hmac-secret"),
            ({"bad_sig": True}, "verification"),
            ({"fmt": "fido-u2f"}, "format"),
            ({"odata_type": True}, "missing a fido2AuthenticationMethod"),
            ({"challenge": b64u(b"forged challenge")}, "not issued"),
        ]
        for kw, msg in cases:
            with self.subTest(kw=list(kw)):
                (st, res), _ = self.register(ALICE, **kw)
                self.assertGraphError(st, res, 400, "badRequest", msg)

    def test_challenge_rules(self):
        tok = app_token()
        auth = softauthn.SoftAuthenticator()
        opts = self.options(ALICE, tok)
        st, res = EMU.json("POST", F2 % ALICE, token=tok,
                           body=auth.register(opts))
        self.assertEqual(st, 201, res)
        st, res = EMU.json("POST", F2 % ALICE, token=tok,
                           body=auth.register(opts))        # reused challenge
        self.assertGraphError(st, res, 400, "badRequest", "already been used")
        opts = self.options(ALICE, tok)
        st, res = EMU.json("POST", F2 % BOB, token=tok, body=auth.register(opts))
        self.assertGraphError(st, res, 400, "badRequest", "different user")
        opts = self.options(ALICE, tok)
        EMU.advance_clock(301)
        st, res = EMU.json("POST", F2 % ALICE, token=tok,
                           body=auth.register(opts))
        self.assertGraphError(st, res, 400, "badRequest", "expired")

    def test_duplicate_credential(self):
        tok = app_token()
        auth = softauthn.SoftAuthenticator()
        body = auth.register(self.options(ALICE, tok))
        self.assertEqual(EMU.json("POST", F2 % ALICE, token=tok, body=body)[0],
                         201)
        again = auth.register(self.options(ALICE, tok),
                              credential=auth.credentials[-1])
        st, res = EMU.json("POST", F2 % ALICE, token=tok, body=again)
        self.assertGraphError(st, res, 400, "badRequest", "already registered")
        other = auth.register(self.options(BOB, tok),
                              credential=auth.credentials[-1])
        st, res = EMU.json("POST", F2 % BOB, token=tok, body=other)
        self.assertGraphError(st, res, 400, "badRequest", "another user")

    def test_policy_rejections(self):
        tok = app_token()
        opts = self.options(ALICE, tok)
        EMU.set_policy(isSelfServiceRegistrationAllowed=False)
        st, res = EMU.json("POST", F2 % ALICE, token=tok,
                           body=softauthn.SoftAuthenticator().register(opts))
        self.assertGraphError(st, res, 400, "badRequest", "self-service")
        EMU.set_policy(isSelfServiceRegistrationAllowed=True, keyRestrictions={
            "isEnforced": True, "enforcementType": "block",
            "aaGuids": [softauthn.TEST_AAGUID]})
        (st, res), _ = self.register(ALICE)
        self.assertGraphError(st, res, 400, "badRequest", "blocked")
        EMU.set_policy(keyRestrictions={"enforcementType": "allow",
                                        "aaGuids": [str(uuid.uuid4())]})
        (st, res), _ = self.register(ALICE)
        self.assertGraphError(st, res, 400, "badRequest", "not allowed")
        EMU.set_policy(keyRestrictions={"aaGuids": [softauthn.TEST_AAGUID]})
        (st, res), _ = self.register(ALICE)
        self.assertEqual(st, 201, res)

    def test_guest_and_body_shape(self):
        tok = app_token()
        opts = self.options(ALICE, tok)
        body = softauthn.SoftAuthenticator().register(opts)
        st, res = EMU.json("POST", F2 % GUEST, token=tok, body=body)
        self.assertGraphError(st, res, 400, "badRequest", "guest")
        del body["displayName"]
        st, res = EMU.json("POST", "/beta/users/%s/authentication/fido2Methods"
                           % ALICE, token=tok, body=body)
        self.assertGraphError(st, res, 400, "badRequest",
                              "missing a fido2AuthenticationMethod")
        st, res = EMU.json("POST", F2 % ALICE, token=tok, body=b"{not json",
                           headers={"Content-Type": "application/json"})
        self.assertGraphError(st, res, 400, "BadRequest")


# --- TAP ---------------------------------------------------------------------------

class TapTests(Base):
    PATH = "/v1.0/users/%s/authentication/temporaryAccessPassMethods"

    def test_create_list_delete(self):
        tok = user_token()
        st, tap = EMU.json("POST", self.PATH % BOB, token=tok,
                           body={"lifetimeInMinutes": 30, "isUsableOnce": True})
        self.assertEqual(st, 201, tap)
        self.assertTrue(tap["temporaryAccessPass"])
        self.assertEqual((tap["isUsable"], tap["methodUsabilityReason"]),
                         (True, "EnabledByPolicy"))
        st, lst = EMU.json("GET", self.PATH % BOB, token=tok)
        self.assertEqual(lst["value"][0]["temporaryAccessPass"], None)
        st, body = EMU.json("POST", self.PATH % BOB, token=tok,
                            body={"lifetimeInMinutes": 5})
        self.assertGraphError(st, body, 400)
        st, body = EMU.json("POST", self.PATH % "admin@contoso.example",
                            token=tok, body={})
        self.assertGraphError(st, body, 403)        # not for themselves
        st, h, raw = EMU.request("DELETE", (self.PATH % BOB) + "/" + tap["id"],
                                 token=tok)
        self.assertEqual(st, 204)
        EMU.control("POST", "policy", {"temporaryAccessPass":
                                       {"state": "disabled"}})
        st, body = EMU.json("POST", self.PATH % BOB, token=tok, body={})
        self.assertGraphError(st, body, 403)


# --- groups, paging, batch ----------------------------------------------------

class GroupTests(Base):
    def test_filter_and_nested(self):
        tok = app_token()
        st, body = EMU.json("GET", "/v1.0/groups?$filter=" + urllib.parse.quote(
            "displayName eq 'O''Brien team'"), token=tok)
        self.assertEqual((st, len(body["value"])), (200, 1), body)
        st, body = EMU.json("GET", "/v1.0/groups/%s/transitiveMembers" % PILOT,
                            token=tok)
        types = sorted(x["@odata.type"] for x in body["value"])
        self.assertEqual(types, ["#microsoft.graph.group"]
                         + ["#microsoft.graph.user"] * 4)
        st, body = EMU.json("GET", "/v1.0/groups/%s" % str(uuid.uuid4()),
                            token=tok)
        self.assertGraphError(st, body, 404, "Request_ResourceNotFound")

    def _all_pages(self, path, tok, headers):
        pages, url = [], path
        while url:
            st, body = EMU.json("GET", url, token=tok, headers=headers)
            self.assertEqual(st, 200, body)
            pages.append(body)
            nxt = body.get("@odata.nextLink")
            if nxt:
                self.assertTrue(nxt.startswith(EMU.base_url + "/v1.0/"))
                self.assertIn("$skiptoken=", nxt)
                url = nxt[len(EMU.base_url):]
            else:
                url = None
        return pages

    def test_paging_1200_members(self):
        tok = app_token()
        hdr = {"ConsistencyLevel": "eventual"}
        path = ("/v1.0/groups/%s/transitiveMembers/microsoft.graph.user?"
                "$select=id,userPrincipalName,userType,accountEnabled&"
                "$count=true&$top=999" % BULK)
        pages = self._all_pages(path, tok, hdr)
        self.assertEqual([len(p["value"]) for p in pages], [999, 201])
        self.assertEqual(pages[0]["@odata.count"], 1200)
        self.assertNotIn("@odata.count", pages[1])
        ids = {u["id"] for p in pages for u in p["value"]}
        self.assertEqual(len(ids), 1200)
        u = pages[1]["value"][0]
        self.assertEqual(set(u), {"@odata.type", "id", "userPrincipalName",
                                  "userType", "accountEnabled"})
        pages = self._all_pages("/v1.0/groups/%s/transitiveMembers/"
                                "microsoft.graph.user?$count=true" % BULK,
                                tok, hdr)
        self.assertEqual(len(pages), 12)
        st, body = EMU.json("GET", "/v1.0/groups/%s/transitiveMembers/"
                            "microsoft.graph.user" % BULK, token=tok)
        self.assertGraphError(st, body, 400, "Request_UnsupportedQuery")
        st, body = EMU.json("GET", "/v1.0/groups/%s/transitiveMembers?$top=1000"
                            % BULK, token=tok)
        self.assertGraphError(st, body, 400)

    def test_user_added_while_running(self):
        tok = app_token()
        EMU.add_user({"userPrincipalName": "late@contoso.example",
                      "displayName": "Late Larry"}, groups=[PILOT])
        st, body = EMU.json("GET", "/v1.0/groups/%s/members" % PILOT, token=tok)
        self.assertIn("late@contoso.example",
                      [x.get("userPrincipalName") for x in body["value"]])


class BatchTests(Base):
    def test_batch(self):
        tok = app_token()
        reqs = [{"id": str(i), "method": "GET",
                 "url": "/users/%s/authentication/fido2Methods" % BOB}
                for i in range(21)]
        st, body = EMU.json("POST", "/v1.0/$batch", token=tok,
                            body={"requests": reqs})
        self.assertGraphError(st, body, 400)
        reqs = [{"id": "1", "method": "GET", "url": "/users/%s" % ALICE},
                {"id": "2", "method": "GET", "url": "/users/ghost@x.example"},
                {"id": "3", "method": "GET",
                 "url": "/users/%s/authentication/fido2Methods" % BOB},
                {"id": "4", "method": "GET", "url": "/users/%s" % ALICE,
                 "dependsOn": ["2"]}]
        EMU.set_faults([{"path": "/fido2Methods$", "kind": "429",
                         "retry_after": 7, "count": 1}])
        st, body = EMU.json("POST", "/v1.0/$batch", token=tok,
                            body={"requests": reqs})
        self.assertEqual(st, 200, body)
        by = {r["id"]: r for r in body["responses"]}
        self.assertEqual({k: v["status"] for k, v in by.items()},
                         {"1": 200, "2": 404, "3": 429, "4": 424})
        self.assertEqual(by["3"]["headers"]["Retry-After"], "7")
        self.assertEqual(by["3"]["body"]["error"]["code"], "TooManyRequests")
        self.assertEqual(by["1"]["body"]["id"], ALICE)

    def test_batch_registration(self):
        tok = app_token()
        reqs = [{"id": "a", "method": "GET", "url": "/users/%s/authentication/"
                 "fido2Methods/creationOptions" % ALICE}]
        st, body = EMU.json("POST", "/beta/$batch", token=tok,
                            body={"requests": reqs})
        opts = body["responses"][0]["body"]
        reg = softauthn.SoftAuthenticator().register(opts)
        st, body = EMU.json("POST", "/beta/$batch", token=tok, body={
            "requests": [{"id": "b", "method": "POST", "url": "/users/%s/"
                          "authentication/fido2Methods" % ALICE, "body": reg,
                          "headers": {"Content-Type": "application/json"}}]})
        self.assertEqual(body["responses"][0]["status"], 201, body)


# --- faults ---------------------------------------------------------------------------

class FaultTests(Base):
    ORG = "/v1.0/organization"

    def get(self, token, conn=None):
        return EMU.request("GET", self.ORG, token=token, conn=conn)

    def test_status_faults(self):
        tok = app_token()
        date = "Wed, 21 Oct 2037 07:28:00 GMT"
        for kind, status, code, ra in (("429", 429, "TooManyRequests", "2"),
                                       ("503", 503, "serviceNotAvailable", date),
                                       ("500", 500, "generalException", None)):
            EMU.set_faults([{"path": "^/v1.0/organization", "kind": kind,
                             "retry_after": ra, "count": 2}])
            for _ in range(2):
                st, h, raw = self.get(tok)
                self.assertEqual(st, status)
                self.assertEqual(json.loads(raw)["error"]["code"], code)
                self.assertEqual(h.get("retry-after"), ra)
            self.assertEqual(self.get(tok)[0], 200)

    def test_slow_and_probability(self):
        tok = app_token()
        EMU.set_faults([{"path": "organization", "kind": "slow",
                         "delay_ms": 400}])
        t0 = time.time()
        self.assertEqual(self.get(tok)[0], 200)
        self.assertGreaterEqual(time.time() - t0, 0.4)
        EMU.set_faults([{"path": "organization", "kind": "429",
                         "probability": 0.5, "seed": 7}])
        a = [self.get(tok)[0] for _ in range(20)]
        EMU.set_faults([{"path": "organization", "kind": "429",
                         "probability": 0.5, "seed": 7}])
        b = [self.get(tok)[0] for _ in range(20)]
        self.assertEqual(a, b)
        self.assertEqual(set(a), {200, 429})

    def test_transport_faults(self):
        tok = app_token()
        EMU.set_faults([{"path": "organization", "kind": "drop", "count": 1}])
        if EMU.h2:
            # the nghttpx front answers for a backend that hung up
            self.assertEqual(self.get(tok)[0], 502)
        else:
            with self.assertRaises((http.client.RemoteDisconnected,
                                    ConnectionError)):
                self.get(tok)
        EMU.set_faults([{"path": "organization", "kind": "truncated",
                         "count": 1}])
        # the front may hold the head back until the body is complete
        with self.assertRaises((http.client.IncompleteRead,) + (
                (http.client.RemoteDisconnected, ConnectionError)
                if EMU.h2 else ())):
            self.get(tok)
        EMU.set_faults([{"path": "organization", "kind": "malformed",
                         "count": 1}])
        st, h, raw = self.get(tok)
        with self.assertRaises(ValueError):
            json.loads(raw)
        EMU.set_faults([{"path": "organization", "kind": "oversized",
                         "count": 1}])
        st, h, raw = self.get(tok)
        self.assertGreater(len(raw), 10 * 1024 * 1024)
        self.assertEqual(self.get(tok)[0], 200)

    def test_expire_token_fault(self):
        tok = app_token()
        EMU.set_faults([{"path": "organization", "kind": "expire_token",
                         "count": 1}])
        st, h, raw = self.get(tok)
        self.assertEqual((st, json.loads(raw)["error"]["code"]),
                         (401, "InvalidAuthenticationToken"))
        self.assertEqual(self.get(tok)[0], 401)           # really expired
        self.assertEqual(self.get(app_token())[0], 200)

    def test_oauth_endpoint_fault(self):
        EMU.set_faults([{"path": "/oauth2/v2.0/token$", "kind": "503",
                         "count": 1, "retry_after": 1}])
        st, body = EMU.json("POST", TOKEN_EP, form={})
        self.assertEqual((st, body["error"]), (503, "temporarily_unavailable"))


# --- control API, hygiene, CLI ------------------------------------------------------

class ControlAndHygiene(Base):
    def test_requests_log_has_header_names_only(self):
        tok = app_token()
        EMU.request("GET", "/v1.0/users/%s" % ALICE, token=tok)
        reqs = EMU.requests(5)
        last = [r for r in reqs if r["path"].startswith("/v1.0/users/")][-1]
        self.assertIn("authorization", last["headers"])
        self.assertNotIn(tok, json.dumps(reqs))
        st = EMU.state()
        self.assertGreater(st["tokens"]["access_issued"], 0)
        self.assertIn("GET /v1.0/users/{id} 200", st["requests"]["counts"])

    def test_log_and_state_hold_no_secrets(self):
        toks = user_tokens()
        tap = EMU.json("POST", "/v1.0/users/%s/authentication/"
                       "temporaryAccessPassMethods" % BOB,
                       token=toks["access_token"],
                       body={"lifetimeInMinutes": 60})[1]["temporaryAccessPass"]
        st, h, body, verifier, q = authorize()
        code = redirect_params(h)["code"]
        time.sleep(0.2)
        with open(os.path.join(TMP, "emu.log")) as f:
            log = f.read()
        with open(os.path.join(EMU.dir, "state.json")) as f:
            state = f.read()
        for secret in (toks["access_token"], toks["refresh_token"],
                       toks["id_token"], tap, code, APP[1], "pw-priv"):
            self.assertNotIn(secret, log)
            self.assertNotIn(secret, state)
        self.assertIn("/oauth2/v2.0/token 200", log)


class DemoConfigTests(unittest.TestCase):
    def test_demo_config_and_csv(self):
        import csv
        d = tempfile.mkdtemp(prefix="emu-demo-")
        try:
            with open(os.path.join(HERE, "configs", "demo-users.csv"),
                      newline="") as f:
                rows = [r["userPrincipalName"] for r in csv.DictReader(f)]
            self.assertEqual(len(rows), 25)
            with open(os.path.join(HERE, "configs", "demo.json")) as f:
                cfg = json.load(f)
            app = [c for c in cfg["clients"] if c.get("secret")][0]
            with emuctl.start(d, os.path.join(HERE, "configs",
                                              "demo.json")) as emu:
                tok = emu.json("POST", "/%s/oauth2/v2.0/token"
                               % cfg["tenant"]["id"], form={
                                   "grant_type": "client_credentials",
                                   "client_id": app["client_id"],
                                   "client_secret": app["secret"],
                                   "scope": "https://graph.microsoft.com/"
                                            ".default"})[1]["access_token"]
                st, groups = emu.json("GET", "/v1.0/groups?$filter=" +
                                      urllib.parse.quote(
                                          "displayName eq 'Passkey rollout'"),
                                      token=tok)
                gid = groups["value"][0]["id"]
                members, url = [], "/v1.0/groups/%s/transitiveMembers" % gid
                while url:
                    body = emu.json("GET", url, token=tok)[1]
                    members += body["value"]
                    url = body.get("@odata.nextLink", "")[len(emu.base_url):]
                self.assertEqual(len(members), 24)
                statuses = {}
                for upn in rows:
                    st = emu.json("GET", CO % urllib.parse.quote(upn, safe="@"),
                                  token=tok)[0]
                    statuses[st] = statuses.get(st, 0) + 1
                self.assertEqual(statuses, {200: 22, 400: 2, 404: 1})
        finally:
            shutil.rmtree(d, ignore_errors=True)


class CliTests(unittest.TestCase):
    def test_cli_faults_latency_sigterm_resume(self):
        d = tempfile.mkdtemp(prefix="emu-cli-")
        try:
            cfg = os.path.join(HERE, "configs", "basic.json")
            emu = emuctl.start(d, cfg, latency=150, faults=[
                "kind=429,path=/v1.0/organization,count=1,retry_after=3"])
            with open(os.path.join(d, "port")) as f:
                self.assertEqual(int(f.read()), emu.port)
            t0 = time.time()
            st, body = emu.json("POST", TOKEN_EP, form={
                "grant_type": "client_credentials", "client_id": APP[0],
                "client_secret": APP[1],
                "scope": "https://graph.microsoft.com/.default"})
            self.assertGreaterEqual(time.time() - t0, 0.15)
            tok = body["access_token"]
            st, h, _ = emu.request("GET", "/v1.0/organization", token=tok)
            self.assertEqual((st, h["retry-after"]), (429, "3"))
            opts = emu.json("GET", CO % ALICE, token=tok)[1]
            reg = softauthn.SoftAuthenticator().register(opts)
            self.assertEqual(emu.json("POST", F2 % ALICE, token=tok,
                                      body=reg)[0], 201)
            emu.kill()                     # SIGKILL: state.json survives
            saved = emu.state_file()
            alice = [u for u in saved["users"] if u["id"] == ALICE][0]
            self.assertEqual(len(alice["fido2Methods"]), 1)
            emu2 = emuctl.start(d, cfg, resume=True)
            self.assertEqual(len(emu2.user(ALICE)["fido2Methods"]), 1)
            st, res = emu2.json("POST", F2 % ALICE, token=tok, body=reg)
            self.assertEqual(st, 400)      # same key/challenge after restart
            self.assertEqual(emu2.stop(), 0)
            self.assertFalse(os.path.exists(os.path.join(d, "port")))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_transport_h2_and_direct(self):
        """ALPN h2 through the nghttpx front by default, falling back to
        HTTP/1.1; GRAPH_EMULATOR_H2=0 serves TLS + HTTP/1.1 directly, where
        a dropped connection really is one."""
        def alpn(emu, offer):
            ctx = ssl.create_default_context(cafile=emu.ca)
            ctx.set_alpn_protocols(offer)
            with socket.create_connection(("127.0.0.1", emu.port)) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
                    return t.selected_alpn_protocol()
        if os.environ.get("GRAPH_EMULATOR_H2", "1") != "0":
            self.assertTrue(EMU.h2, "nghttpx (nghttp2-proxy) missing?")
            self.assertEqual(alpn(EMU, ["h2", "http/1.1"]), "h2")
            self.assertEqual(alpn(EMU, ["http/1.1"]), "http/1.1")
            self.assertEqual(EMU.json("GET", "/_emu/state")[0], 200)
        with tempfile.TemporaryDirectory() as d:
            with emuctl.start(d, os.path.join(HERE, "configs",
                                              "basic.json"), h2=False) as e:
                self.assertFalse(e.h2)
                self.assertIn(alpn(e, ["h2", "http/1.1"]),
                              (None, "http/1.1"))
                e.set_faults([{"path": "organization", "kind": "drop",
                               "count": 1}])
                with self.assertRaises((http.client.RemoteDisconnected,
                                        ConnectionError)):
                    e.request("GET", "/v1.0/organization")
                e.set_faults([{"path": "organization", "kind": "truncated",
                               "count": 1}])
                with self.assertRaises(http.client.IncompleteRead):
                    e.request("GET", "/v1.0/organization")

    def test_start_sh(self):
        d = tempfile.mkdtemp(prefix="emu-sh-")
        try:
            out = subprocess.run([os.path.join(HERE, "start.sh"), d,
                                  os.path.join(HERE, "configs", "basic.json")],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            port = int(out.stdout.strip())
            emu = emuctl.Emulator(d, None, port)
            self.assertEqual(emu.control("GET", "health"), {"ok": True})
            out = subprocess.run([os.path.join(HERE, "stop.sh"), d],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
