"""Microsoft identity platform v2.0 endpoints (authorize, token, devicecode,
discovery) and access-token checking for the Graph side."""

import base64
import datetime
import hashlib
import hmac
import html
import json
import secrets
import threading
import urllib.parse

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from common import (GraphError, HTML_CT, JSON_CT, OAuthError, PageError, Resp,
                    b64u, b64u_dec, guid, html_page, json_resp, rand_token)
from state import DEFAULT_USER_ROLE, DELEGATED_SCOPES
from tokens import TokenInvalid

GRAPH_AUD = "https://graph.microsoft.com"
GRAPH_APPID = "00000003-0000-0000-c000-000000000000"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
APP_WIDS = ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"]
CODE_LIFETIME = 60
_SCOPE_CANON = {s.lower(): s for s in DELEGATED_SCOPES}


class Principal:
    """Who an access token speaks for."""

    __slots__ = ("claims", "is_app", "user", "scopes", "roles", "wids")

    def __init__(self, claims, user):
        self.claims = claims
        self.is_app = claims.get("idtyp") == "app"
        self.user = user
        self.scopes = set(claims.get("scp", "").split())
        self.roles = set(claims.get("roles", []))
        self.wids = set(claims.get("wids", []))


class OAuth:
    def __init__(self, store, keys):
        self.s = store
        self.keys = keys
        self.codes = {}
        self.device_codes = {}
        self._lock = threading.Lock()

    # --- dispatch ------------------------------------------------------------

    def handle(self, req):
        segs = req.segs
        if len(segs) == 1 and segs[0].lower() == "devicelogin":
            return Resp(200, html_page("Device login", "<p>The emulator approves "
                                       "device codes by itself.</p>"),
                        ctype=HTML_CT)
        if len(segs) < 3:
            return None
        tenant, rest = segs[0], [s.lower() for s in segs[1:]]
        if rest[:2] == ["oauth2", "v2.0"] and len(rest) == 3:
            ep = rest[2]
            if ep not in ("authorize", "token", "devicecode"):
                return None
            if not self._tenant_ok(tenant):
                if ep == "authorize":
                    raise PageError(400, 90002, "Tenant '%s' not found."
                                    % tenant)
                raise OAuthError(400, "invalid_request", 90002,
                                 "Tenant '%s' not found. Check to make sure "
                                 "you have the correct tenant ID." % tenant)
            return getattr(self, "ep_" + ep)(req, tenant)
        known = rest in (["v2.0", ".well-known", "openid-configuration"],
                         ["discovery", "v2.0", "keys"])
        if known and not self._tenant_ok(tenant):
            raise OAuthError(400, "invalid_tenant", 90002, "Tenant '%s' not "
                             "found." % tenant)
        if rest[0] == "v2.0" and known:
            return self.discovery(req, tenant)
        if known:
            return json_resp(200, {"keys": [self.keys.jwk]}, ctype=JSON_CT)
        return None

    def _tenant_ok(self, t):
        return t.lower() in (self.s.tenant["id"], self.s.tenant["domain"].lower(),
                             "organizations", "common")

    def discovery(self, req, tenant):
        b, tid = req.base, self.s.tenant["id"]
        return json_resp(200, {
            "token_endpoint": "%s/%s/oauth2/v2.0/token" % (b, tenant),
            "token_endpoint_auth_methods_supported": [
                "client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": "%s/%s/discovery/v2.0/keys" % (b, tenant),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token",
                                         "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": "%s/%s/v2.0" % (b, tid),
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": GRAPH_AUD + "/oidc/userinfo",
            "authorization_endpoint": "%s/%s/oauth2/v2.0/authorize" % (b, tenant),
            "device_authorization_endpoint":
                "%s/%s/oauth2/v2.0/devicecode" % (b, tenant),
            "http_logout_supported": True, "frontchannel_logout_supported": True,
            "end_session_endpoint": "%s/%s/oauth2/v2.0/logout" % (b, tenant),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time",
                                 "acr", "nonce", "preferred_username", "name",
                                 "tid", "ver", "oid"],
            "kerberos_endpoint": "%s/%s/kerberos" % (b, tenant),
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": req.base.split("://", 1)[1],
            "rbac_url": "https://pas.windows.net"}, ctype=JSON_CT)

    # --- authorize -----------------------------------------------------------

    def ep_authorize(self, req, tenant):
        if req.method == "POST":
            params = dict(req.query)
            params.update(req.form())
        elif req.method == "GET":
            params = dict(req.query)
        else:
            raise PageError(405, 900561, "The endpoint only accepts GET and "
                            "POST requests.")
        cid = params.get("client_id", "")
        client = self.s.clients.get(cid)
        if client is None:
            raise PageError(400, 700016, "Application with identifier '%s' "
                            "was not found in the directory '%s'."
                            % (cid, self.s.tenant["domain"]))
        ruri = params.get("redirect_uri", "")
        if not _loopback_ok(ruri):
            raise PageError(400, 50011, "The redirect URI '%s' specified in "
                            "the request does not match the redirect URIs "
                            "configured for the application '%s'."
                            % (ruri, cid))
        state = params.get("state")

        def fail(error, aadsts, desc):
            q = {"error": error, "error_description":
                 "AADSTS%d: %s" % (aadsts, desc)}
            if state is not None:
                q["state"] = state
            return _redirect(ruri, q)

        if params.get("response_type") != "code":
            return fail("unsupported_response_type", 700054,
                        "response_type '%s' is not enabled for the "
                        "application." % params.get("response_type", ""))
        if not params.get("code_challenge") or \
                params.get("code_challenge_method") != "S256":
            return fail("invalid_request", 9002325, "Proof Key for Code "
                        "Exchange with code_challenge_method S256 is required.")
        if not params.get("scope"):
            return fail("invalid_request", 900144, "The request body must "
                        "contain the following parameter: 'scope'.")
        try:
            self.parse_scopes(params["scope"])
        except OAuthError as e:
            return fail(e.code, e.aadsts, e.message)

        with self.s.lock:
            user, cap, amr = self._signin_user(req, tenant, params)
            if isinstance(user, Resp):
                return user
            if not user["accountEnabled"]:
                raise PageError(400, 50057, "The user account is disabled.")
            if cap is not None:
                self.s.persist()
        code = rand_token(48)
        with self._lock:
            self._gc_codes()
            self.codes[code] = {
                "client_id": cid, "redirect_uri": ruri,
                "challenge": params["code_challenge"], "scope": params["scope"],
                "uid": user["id"], "exp": self.s.now() + CODE_LIFETIME,
                "auth_time": int(self.s.now()), "cap": cap, "amr": amr,
                "nonce": params.get("nonce"), "prompt": params.get("prompt")}
        q = {"code": code}
        if state is not None:
            q["state"] = state
        q["session_state"] = guid()
        return _redirect(ruri, q)

    def _signin_user(self, req, tenant, params):
        """Who signs in: (user, token cap or None, amr) or (form Resp, ..).

        No login_hint, or the signin_user's own: signin_user, at once. A hint
        naming someone else: that user must present a TAP or a password on
        the form (GET shows it, POST checks it).
        """
        default = self.s.find_user(self.s.signin_user or "")
        hint = params.get("login_hint")
        if not hint or (default and self.s.find_user(hint) is default):
            if default is None:
                raise PageError(400, 50034, "The signin_user of the emulator "
                                "config does not exist in the directory.")
            return default, None, ["pwd", "mfa"]
        user = self.s.find_user(hint)
        if user is None:
            raise PageError(400, 50034, "The user account %s does not exist in "
                            "the %s directory." % (hint, self.s.tenant["domain"]))
        tap_ok = bool(user["tap"]) and self.s.tap_status(user["tap"])[0]
        if not tap_ok and not user.get("password"):
            raise PageError(400, 50126, "The user %s has no usable sign-in "
                            "method (the Temporary Access Pass is missing, "
                            "expired or used)." % user["userPrincipalName"])
        if req.method == "GET":
            return self._signin_form(req, tenant, params, user, tap_ok), 0, 0
        return self._check_credentials(user, params)

    def _signin_form(self, req, tenant, params, user, tap_ok):
        hidden = "".join('<input type="hidden" name="%s" value="%s">'
                         % (html.escape(k), html.escape(v))
                         for k, v in params.items() if k not in ("tap",
                                                                 "password"))
        fields = ('<label>Temporary Access Pass <input name="tap" '
                  'autocomplete="off"></label>' if tap_ok else "")
        if user.get("password"):
            fields += ('<label>Password <input name="password" '
                       'type="password"></label>')
        body = ('<h1>Sign in</h1><p>%s</p><form method="post" action="/%s/'
                'oauth2/v2.0/authorize">%s%s<button type="submit">Sign in'
                '</button></form>' % (html.escape(user["userPrincipalName"]),
                                      html.escape(tenant), hidden, fields))
        return Resp(200, html_page("Sign in to your account", body),
                    ctype=HTML_CT)

    def _check_credentials(self, user, params):
        """Validate a TAP or password from the sign-in form (lock held)."""
        tap, pw = params.get("tap"), params.get("password")
        if tap and user["tap"]:
            t = user["tap"]
            usable, reason = self.s.tap_status(t)
            good = hmac.compare_digest(
                hashlib.sha256(tap.strip().encode()).hexdigest(), t["sha256"])
            if good and usable:
                if t["isUsableOnce"]:
                    t["used"] = True
                cap = t["startDateTime"] + t["lifetimeInMinutes"] * 60
                return user, cap, ["mfa"]
            if good:
                raise PageError(400, 130503, "The Temporary Access Pass is "
                                "not usable (%s)." % reason)
        elif pw and user.get("password") and hmac.compare_digest(
                pw.encode(), user["password"].encode()):
            return user, None, ["pwd", "mfa"]
        raise PageError(400, 50126, "Error validating credentials due to "
                        "invalid username or password or Temporary Access "
                        "Pass.")

    def _gc_codes(self):
        now = self.s.now()
        if len(self.codes) > 1000:
            for k in [k for k, v in self.codes.items() if v["exp"] < now - 600]:
                del self.codes[k]

    # --- device code ---------------------------------------------------------

    def ep_devicecode(self, req, tenant):
        if req.method != "POST":
            raise OAuthError(400, "invalid_request", 900561,
                             "The endpoint only accepts POST requests.")
        form = req.form()
        cid = form.get("client_id", "")
        self._client(cid)
        if not form.get("scope"):
            raise OAuthError(400, "invalid_request", 900144, "The request body "
                             "must contain the following parameter: 'scope'.")
        self.parse_scopes(form["scope"])
        dev = self.s.device
        dcode = rand_token(48)
        ucode = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                        for _ in range(9))
        uri = dev.get("verification_uri") or req.base + "/devicelogin"
        with self._lock:
            self.device_codes[dcode] = {
                "client_id": cid, "scope": form["scope"], "polls": 0,
                "last": None, "exp": self.s.now() + int(dev["expires_in"]),
                "done": False}
        return json_resp(200, {
            "user_code": ucode, "device_code": dcode, "verification_uri": uri,
            "expires_in": int(dev["expires_in"]),
            "interval": int(dev["interval"]),
            "message": "To sign in, use a web browser to open the page %s and "
                       "enter the code %s to authenticate." % (uri, ucode)},
            ctype=JSON_CT)

    def _grant_device(self, form, client):
        dev = self.s.device
        now = self.s.now()
        with self._lock:
            dc = self.device_codes.get(form.get("device_code", ""))
            if dc is None or dc["client_id"] != client["client_id"]:
                raise OAuthError(400, "bad_verification_code", 70019,
                                 "The provided value for the input parameter "
                                 "'device_code' is not valid.")
            if dc["done"]:
                raise OAuthError(400, "invalid_grant", 54005, "The device code "
                                 "was already redeemed.")
            if now >= dc["exp"] or dev["mode"] == "expire":
                raise OAuthError(400, "expired_token", 70020, "The provided "
                                 "value for the input parameter 'device_code' "
                                 "is not valid. This device code has expired.")
            last, dc["last"] = dc["last"], now
            if dev.get("slow_down") and last is not None \
                    and now - last < float(dev["interval"]) - 0.25:
                raise OAuthError(400, "slow_down", 70016, "OAuth 2.0 device "
                                 "flow error. Polling too fast; slow down.")
            dc["polls"] += 1
            if dev["mode"] == "decline":
                raise OAuthError(400, "authorization_declined", 65004,
                                 "User declined to consent to access the app.")
            if dev["mode"] == "pending" or \
                    dc["polls"] <= int(dev["pending_polls"]):
                raise OAuthError(400, "authorization_pending", 70016,
                                 "OAuth 2.0 device flow error. Authorization "
                                 "is pending. Continue polling.")
            dc["done"] = True
        user = self.s.find_user(dev.get("user") or self.s.signin_user or "")
        if user is None or not user["accountEnabled"]:
            raise OAuthError(400, "invalid_grant", 50057,
                             "The user account is disabled or does not exist.")
        return self.issue_delegated(client, user, dc["scope"], int(now), None,
                                    ["pwd", "mfa"], "device_code")

    # --- token -----------------------------------------------------------------

    def ep_token(self, req, tenant):
        if req.method != "POST":
            raise OAuthError(400, "invalid_request", 900561,
                             "The endpoint only accepts POST requests. "
                             "Received a %s request." % req.method)
        form = req.form()
        grant = form.get("grant_type")
        if not grant:
            raise OAuthError(400, "invalid_request", 900144, "The request body "
                             "must contain the following parameter: "
                             "'grant_type'.")
        handlers = {"authorization_code": self._grant_code,
                    "client_credentials": self._grant_client,
                    "refresh_token": self._grant_refresh,
                    DEVICE_GRANT: self._grant_device}
        if grant not in handlers:
            raise OAuthError(400, "unsupported_grant_type", 70003, "The app "
                             "requested an unsupported grant type '%s'." % grant)
        client, acr = self.auth_client(req, form, tenant)
        if grant == "client_credentials":
            return self._grant_client(form, client, acr)
        return handlers[grant](form, client)

    def _client(self, cid):
        c = self.s.clients.get(cid)
        if c is None:
            raise OAuthError(400, "unauthorized_client", 700016,
                             "Application with identifier '%s' was not found "
                             "in the directory '%s'. This can happen if the "
                             "application has not been installed by the "
                             "administrator of the tenant."
                             % (cid, self.s.tenant["domain"]))
        return c

    def auth_client(self, req, form, tenant):
        """Authenticate the client; returns (client, appidacr)."""
        cid, secret = form.get("client_id"), form.get("client_secret")
        auth = req.headers.get("authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                dec = base64.b64decode(auth[6:].strip()).decode()
                bid, _, bsec = dec.partition(":")
                cid = urllib.parse.unquote_plus(bid)
                secret = urllib.parse.unquote_plus(bsec)
            except (ValueError, UnicodeDecodeError):
                raise OAuthError(401, "invalid_client", 50027,
                                 "Invalid HTTP Basic authorization header.")
        if not cid:
            raise OAuthError(400, "invalid_request", 900144, "The request body "
                             "must contain the following parameter: "
                             "'client_id'.")
        client = self._client(cid)
        assertion = form.get("client_assertion")
        if client["public"]:
            if secret or assertion:
                raise OAuthError(401, "invalid_client", 700025, "Client is "
                                 "public so neither 'client_assertion' nor "
                                 "'client_secret' should be presented.")
            return client, "0"
        if assertion:
            self._check_assertion(req, form, client, tenant)
            return client, "2"
        if secret:
            if any(hmac.compare_digest(secret.encode(), s.encode())
                   for s in client["_secrets"]):
                return client, "1"
            raise OAuthError(401, "invalid_client", 7000215, "Invalid client "
                             "secret provided. Ensure the secret being sent in "
                             "the request is the client secret value, not the "
                             "client secret ID, for a secret added to app "
                             "'%s'." % cid)
        raise OAuthError(401, "invalid_client", 7000218, "The request body must "
                         "contain the following parameter: 'client_assertion' "
                         "or 'client_secret'.")

    def _check_assertion(self, req, form, client, tenant):
        def bad(code, msg):
            return OAuthError(401, "invalid_client", code, msg)
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError(400, "invalid_request", 50027, "Invalid "
                             "client_assertion_type; expected '%s'."
                             % ASSERTION_TYPE)
        parts = form["client_assertion"].split(".")
        try:
            if len(parts) != 3:
                raise ValueError()
            header = json.loads(b64u_dec(parts[0], strict=True))
            claims = json.loads(b64u_dec(parts[1], strict=True))
            sig = b64u_dec(parts[2], strict=True)
        except (ValueError, UnicodeDecodeError):
            raise bad(50027, "JWT token is invalid or malformed.")
        alg = header.get("alg")
        if alg not in ("PS256", "RS256"):
            raise bad(5002738, "Invalid JWT token. '%s' is not a supported "
                      "signature algorithm." % alg)
        der = None
        for d in client["_cert_ders"]:
            if header.get("x5t#S256") == b64u(hashlib.sha256(d).digest()) or \
                    header.get("x5t") == b64u(hashlib.sha1(d).digest()):
                der = d
        if der is None:
            raise bad(700027, "Client assertion failed signature validation. "
                      "The certificate with identifier used to sign the client "
                      "assertion is not registered on application.")
        pub = x509.load_der_x509_certificate(der).public_key()
        pad = (padding.PSS(padding.MGF1(hashes.SHA256()), 32)
               if alg == "PS256" else padding.PKCS1v15())
        try:
            pub.verify(sig, (parts[0] + "." + parts[1]).encode(), pad,
                       hashes.SHA256())
        except (InvalidSignature, TypeError, ValueError):
            raise bad(700027, "Client assertion failed signature validation.")
        cid, now = client["client_id"], self.s.now()
        if claims.get("iss") != cid or claims.get("sub") != cid:
            raise bad(700021, "Client assertion application identifier doesn't "
                      "match 'client_id' parameter (iss and sub must be the "
                      "client id).")
        auds = set()
        tid, dom = self.s.tenant["id"], self.s.tenant["domain"]
        for b in (req.base, "https://login.microsoftonline.com"):
            for t in (tenant, tid, dom):
                auds.add("%s/%s/oauth2/v2.0/token" % (b, t))
        aud = claims.get("aud")
        if (aud if isinstance(aud, str) else None) not in auds:
            raise bad(700212, "No matching federated identity record found for "
                      "presented assertion audience '%s'." % aud)
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if not isinstance(exp, (int, float)) or exp <= now or \
                (isinstance(nbf, (int, float)) and nbf > now + 300):
            raise bad(700024, "Client assertion is not within its valid time "
                      "range.")
        jti = claims.get("jti")
        if not jti:
            raise bad(50027, "JWT token is invalid or malformed: no jti claim.")
        with self.s.lock:
            if jti in self.s.used_jtis:
                raise bad(7000273, "Client assertion jti has already been used.")
            self.s.used_jtis.add(jti)

    def _grant_code(self, form, client):
        code = form.get("code", "")
        with self._lock:
            c = self.codes.get(code)
            if c is None:
                raise OAuthError(400, "invalid_grant", 70000, "The provided "
                                 "value for the 'code' parameter is not valid.")
            if c.get("used"):
                raise OAuthError(400, "invalid_grant", 54005, "OAuth2 "
                                 "Authorization code was already redeemed, "
                                 "please retry with a new valid code or use an "
                                 "existing refresh token.")
            c["used"] = True
        if c["client_id"] != client["client_id"]:
            raise OAuthError(400, "invalid_grant", 70000, "The provided value "
                             "for the 'code' parameter is not valid (issued to "
                             "another client).")
        if self.s.now() > c["exp"]:
            raise OAuthError(400, "invalid_grant", 70008, "The provided "
                             "authorization code or refresh token has expired "
                             "due to inactivity. Send a new interactive "
                             "authorization request for this user and "
                             "resource.")
        if form.get("redirect_uri") != c["redirect_uri"]:
            raise OAuthError(400, "invalid_grant", 50148, "The redirect_uri "
                             "parameter does not match the one used in the "
                             "authorization request.")
        verifier = form.get("code_verifier", "")
        if not verifier:
            raise OAuthError(400, "invalid_grant", 50148, "The code_verifier "
                             "parameter is missing (PKCE).")
        if b64u(hashlib.sha256(verifier.encode()).digest()) != c["challenge"]:
            raise OAuthError(400, "invalid_grant", 501481, "The Code_Verifier "
                             "does not match the code_challenge supplied in the "
                             "authorization request.")
        user = self.s.users.get(c["uid"])
        if user is None or not user["accountEnabled"]:
            raise OAuthError(400, "invalid_grant", 50057,
                             "The user account is disabled.")
        return self.issue_delegated(client, user, c["scope"], c["auth_time"],
                                    c["cap"], c["amr"], "authorization_code",
                                    c.get("nonce"))

    def _grant_client(self, form, client, acr):
        if client["public"]:
            raise OAuthError(401, "invalid_client", 7000218, "The request body "
                             "must contain the following parameter: "
                             "'client_assertion' or 'client_secret'.")
        scope = form.get("scope", "")
        if scope.strip() not in (GRAPH_AUD + "/.default", GRAPH_APPID
                                 + "/.default", GRAPH_AUD + "//.default"):
            raise OAuthError(400, "invalid_scope", 1002012, "The provided value "
                             "for scope %s is not valid. Client credential "
                             "flows must have a scope value with /.default "
                             "suffixed to the resource identifier (application "
                             "ID URI)." % scope)
        now = int(self.s.now())
        life = self.s.access_lifetime
        claims = {
            "aud": GRAPH_AUD, "iss": "https://sts.windows.net/%s/"
            % self.s.tenant["id"], "iat": now, "nbf": now, "exp": now + life,
            "aio": rand_token(12), "app_displayname": client["display_name"],
            "appid": client["client_id"], "appidacr": acr,
            "idp": "https://sts.windows.net/%s/" % self.s.tenant["id"],
            "idtyp": "app", "oid": client["sp_id"], "rh": "0.A",
            "roles": list(client.get("app_roles", [])), "sub": client["sp_id"],
            "tenant_region_scope": "EU", "tid": self.s.tenant["id"],
            "uti": rand_token(16), "ver": "1.0", "wids": APP_WIDS,
            "xms_tcdt": 1700000000, "xms_emu_iat": self.s.now()}
        tok = self.keys.sign_jwt(claims)
        with self.s.lock:
            self.s.tokens["access_issued"] += 1
            self.s.tokens["by_grant"]["client_credentials"] += 1
        return json_resp(200, {"token_type": "Bearer", "expires_in": life,
                               "ext_expires_in": life, "access_token": tok},
                         ctype=JSON_CT)

    def _grant_refresh(self, form, client):
        rt = self.keys.open_str(form.get("refresh_token", ""), "1.AR.")
        if rt is None or rt.get("c") != client["client_id"]:
            raise OAuthError(400, "invalid_grant", 9002313, "Invalid request. "
                             "Request is malformed or invalid (refresh_token).")
        now = self.s.now()
        if rt["iat"] < self.s.tokens["refresh_revoked_before"]:
            raise OAuthError(400, "invalid_grant", 50173, "The provided grant "
                             "has expired due to it being revoked, a fresh auth "
                             "token is needed. The user might have changed or "
                             "reset their password. The grant was issued on "
                             "'%s' and the TokensValidFrom date (before which "
                             "tokens are not valid) for this user is '%s'."
                             % (_ts(rt["iat"]), _ts(
                                 self.s.tokens["refresh_revoked_before"])))
        if now >= rt["exp"]:
            raise OAuthError(400, "invalid_grant", 700082, "The refresh token "
                             "has expired due to inactivity.")
        user = self.s.users.get(rt["u"])
        if user is None or not user["accountEnabled"]:
            raise OAuthError(400, "invalid_grant", 50057,
                             "The user account is disabled.")
        return self.issue_delegated(client, user, form.get("scope") or rt["s"],
                                    rt["at"], rt.get("cap"), rt.get("amr"),
                                    "refresh_token")

    # --- minting -------------------------------------------------------------

    def parse_scopes(self, scope):
        """Split a scope string: (graph scopes, oidc scopes, .default?)."""
        graph, oidc, default = set(), set(), False
        for s in scope.split():
            low = s.lower()
            if low in OIDC_SCOPES:
                oidc.add(low)
                continue
            for prefix in (GRAPH_AUD + "/", GRAPH_APPID + "/"):
                if low.startswith(prefix):
                    s, low = s[len(prefix):], low[len(prefix):]
                    break
            else:
                if "/" in s or ":" in s:
                    raise OAuthError(400, "invalid_resource", 500011,
                                     "The resource principal named %s was not "
                                     "found in the tenant named %s."
                                     % (s, self.s.tenant["domain"]))
            if low == ".default":
                default = True
            elif low in _SCOPE_CANON:
                graph.add(_SCOPE_CANON[low])
            else:
                raise OAuthError(400, "invalid_scope", 70011, "The provided "
                                 "value for the input parameter 'scope' is not "
                                 "valid. The scope '%s' does not exist." % s)
        return graph, oidc, default

    def issue_delegated(self, client, user, scope, auth_time, cap, amr, grant,
                        nonce=None):
        graph, oidc, default = self.parse_scopes(scope)
        granted = user.get("scopes_granted")
        granted = set(DELEGATED_SCOPES if granted is None else granted)
        scp = granted if default else (graph & granted)
        if not scp:
            scp = {"User.Read"} & granted or {"User.Read"}
        now = int(self.s.now())
        exp = now + self.s.access_lifetime
        if cap:
            exp = min(exp, int(cap))
        tid = self.s.tenant["id"]
        upn = user["userPrincipalName"]
        claims = {
            "aud": GRAPH_AUD, "iss": "https://sts.windows.net/%s/" % tid,
            "iat": now, "nbf": now, "exp": exp, "acr": "1", "amr": amr or ["pwd"],
            "app_displayname": client["display_name"],
            "appid": client["client_id"], "appidacr": "0" if client["public"]
            else "1", "auth_time": int(auth_time),
            "family_name": user.get("surname"), "given_name":
            user.get("givenName"), "idtyp": "user", "ipaddr": "127.0.0.1",
            "name": user["displayName"], "oid": user["id"], "platf": "14",
            "puid": hashlib.sha256(user["id"].encode()).hexdigest()[:16].upper(),
            "scp": " ".join(sorted(scp)),
            "sub": b64u(hashlib.sha256((user["id"] + client["client_id"])
                                       .encode()).digest()),
            "tenant_region_scope": "EU", "tid": tid, "unique_name": upn,
            "upn": upn, "uti": rand_token(16), "ver": "1.0",
            "wids": list(user["roles"]) + [DEFAULT_USER_ROLE],
            "xms_tcdt": 1700000000, "xms_emu_iat": self.s.now()}
        out = {"token_type": "Bearer",
               "scope": " ".join(sorted(GRAPH_AUD + "/" + s for s in scp)
                                 + sorted(oidc - {"offline_access"})),
               "expires_in": exp - now, "ext_expires_in": exp - now,
               "access_token": self.keys.sign_jwt(claims)}
        counts = {"access_issued": 1}
        if "offline_access" in oidc:
            rexp = now + self.s.refresh_lifetime
            if cap:
                rexp = min(rexp, int(cap))
            out["refresh_token"] = self.keys.seal_str({
                "u": user["id"], "c": client["client_id"], "s": scope,
                "at": int(auth_time), "iat": self.s.now(), "exp": rexp, "cap": cap,
                "amr": amr, "n": rand_token(8)}, "1.AR.")
            counts["refresh_issued"] = 1
        if "openid" in oidc:
            idc = {"aud": client["client_id"],
                   "iss": "https://login.microsoftonline.com/%s/v2.0" % tid,
                   "iat": now, "nbf": now, "exp": now + 3600,
                   "name": user["displayName"], "oid": user["id"],
                   "preferred_username": upn, "sub": claims["sub"], "tid": tid,
                   "ver": "2.0", "rh": "0.A", "uti": claims["uti"]}
            if nonce:
                idc["nonce"] = nonce
            out["id_token"] = self.keys.sign_jwt(idc)
            counts["id_issued"] = 1
        with self.s.lock:
            for k, v in counts.items():
                self.s.tokens[k] += v
            self.s.tokens["by_grant"][grant] += 1
        return json_resp(200, out, ctype=JSON_CT)

    # --- access-token check for Graph ------------------------------------------

    def principal(self, req):
        """The Principal of the request's bearer token, or a 401 GraphError."""
        auth = req.headers.get("authorization", "")
        if not auth[:7].lower() == "bearer " or not auth[7:].strip():
            raise _unauth("Access token is empty.")
        tok = auth[7:].strip()
        try:
            claims = self.keys.verify_jwt(tok)
        except TokenInvalid as e:
            raise _unauth(str(e))
        if claims.get("aud") not in (GRAPH_AUD, GRAPH_APPID, GRAPH_AUD + "/"):
            raise _unauth("Access token validation failure. Invalid audience.")
        if claims.get("tid") != self.s.tenant["id"]:
            raise _unauth("Access token validation failure. Invalid issuer.")
        now = self.s.now()
        if now >= claims.get("exp", 0) or \
                claims.get("xms_emu_iat", 0) < self.s.tokens["access_expired_before"]:
            raise _unauth("Lifetime validation failed, the token is expired.")
        user = None
        if claims.get("idtyp") != "app":
            user = self.s.users.get(claims.get("oid"))
            if user is None or not user["accountEnabled"]:
                raise _unauth("Access token validation failure: the user is "
                              "disabled or was deleted.")
        return Principal(claims, user)


def _unauth(msg):
    return GraphError(401, "InvalidAuthenticationToken", msg, {
        "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://'
        'login.microsoftonline.com/common/oauth2/authorize", client_id="%s"'
        % GRAPH_APPID})


def _ts(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%m/%d/%Y %H:%M:%S")


def _loopback_ok(uri):
    try:
        u = urllib.parse.urlsplit(uri)
        port_ok = u.port is None or 0 < u.port < 65536
    except ValueError:
        return False
    return u.scheme == "http" and u.hostname in ("127.0.0.1", "localhost") \
        and port_ok and not u.fragment and u.username is None


def _redirect(uri, params):
    sep = "&" if urllib.parse.urlsplit(uri).query else "?"
    return Resp(302, b"", {"Location": uri + sep + urllib.parse.urlencode(
        params), "Cache-Control": "no-store"})

