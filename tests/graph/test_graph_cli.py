#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""login / logout / whoami / list / remove / doctor, end to end: the real
`provisioning` binary against the Graph emulator over HTTPS.

Every command runs with --verbose (some with -vv); at the end, everything
they printed and every file they wrote (but the token cache itself) is
searched for tokens, secrets and TAPs.

Environment (set by ctest): SRCDIR, PROVISIONING, and optionally VAUTH.
"""

import glob
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

SRCDIR = os.environ.get("SRCDIR", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "graph-emulator"))
import emuctl  # noqa: E402

PROV = os.environ.get("PROVISIONING", "provisioning")
APP_ID = "5b7e2c1a-0f4d-4c3b-9a8e-6d5f4e3c2b1a"
APP_SECRET = "emulator-test-secret"
RO_APP = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
RO_SECRET = "limited-app-secret"
CERT_APP = "c0c0c0c0-0000-4000-8000-00000000cafe"
BOB = "55555555-5555-4555-8555-555555555555"
DAVE_TAP = "Tap+Test=1"
BROWSER = os.path.join(SRCDIR, "tests", "graph", "browser.py")


class GraphCli(unittest.TestCase):
    secrets = {APP_SECRET, RO_SECRET, DAVE_TAP}
    outputs = []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="graphcli")
        cls.cert = os.path.join(cls.tmp, "app.pem")
        cls.key = os.path.join(cls.tmp, "app.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", cls.key, "-out", cls.cert,
                        "-days", "2", "-subj", "/CN=provisioning-cli-test"],
                       check=True, capture_output=True)
        with open(cls.key) as f:
            cls.secrets.add(f.read().splitlines()[1])
        with open(os.path.join(SRCDIR, "tests", "graph-emulator", "configs",
                               "basic.json")) as f:
            cfg = json.load(f)
        cfg["clients"].append({
            "client_id": CERT_APP, "certificate_file": cls.cert,
            "display_name": "cert app",
            "app_roles": ["UserAuthenticationMethod.ReadWrite.All",
                          "User.Read.All", "Policy.Read.All",
                          "Group.Read.All"]})
        cfg["device_code"] = {"interval": 1, "pending_polls": 1}
        cls.emu = emuctl.start(os.path.join(cls.tmp, "emu"), cfg)

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.emu.clear_faults()
        self.state = tempfile.mkdtemp(prefix="state", dir=self.tmp)

    # --- helpers -----------------------------------------------------------

    def prov(self, *args, client=None, env=None, verbose="-v", rc=0,
             state=None):
        cmd = [PROV, "--authority-url", self.emu.base_url, "--graph-url",
               self.emu.base_url, "--ca-bundle", self.emu.ca, "--tenant",
               "contoso.example", "--state-dir", state or self.state]
        if client:
            cmd += ["--client-id", client]
        if verbose:
            cmd.append(verbose)
        e = dict(os.environ)
        for k in ("PROVISIONING_CLIENT_SECRET", "BROWSER", "https_proxy",
                  "HTTPS_PROXY"):
            e.pop(k, None)
        e.update(env or {})
        p = subprocess.run(cmd + list(args), capture_output=True, text=True,
                           env=e, timeout=120)
        GraphCli.outputs.append((" ".join(args), p.stdout, p.stderr))
        if rc is not None:
            self.assertEqual(p.returncode, rc, "%s\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), p.stdout, p.stderr))
        return p

    def remember_tokens(self, state=None):
        """The cache holds our tokens: note them for the leak check."""
        path = os.path.join(state or self.state, "tokens.json")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        with open(path) as f:
            for e in json.load(f)["entries"]:
                for k in ("access_token", "refresh_token"):
                    if e.get(k):
                        GraphCli.secrets.add(e[k])

    def app_login(self, **kw):
        p = self.prov("login", "--client-credentials", client=APP_ID,
                      env={"PROVISIONING_CLIENT_SECRET": APP_SECRET}, **kw)
        self.remember_tokens()
        return p

    # --- the "Done when" --------------------------------------------

    def done_when(self):
        p = self.app_login()
        self.assertIn("app-only", p.stdout)
        p = self.prov("whoami", client=APP_ID)
        self.assertIn("UserAuthenticationMethod.ReadWrite.All", p.stdout)
        p = self.prov("--json", "list", "bob@contoso.example", client=APP_ID)
        rows = [json.loads(x) for x in p.stdout.splitlines()]
        self.assertGreaterEqual(len(rows), 1)
        self.assertEqual(rows[0]["userId"], BOB)
        p = self.prov("remove", "bob@contoso.example", rows[-1]["methodId"],
                      client=APP_ID)
        self.assertIn("Removed passkey", p.stdout)
        p = self.prov("--json", "list", "bob@contoso.example", client=APP_ID)
        self.assertNotIn(rows[-1]["methodId"], p.stdout)
        p = self.prov("doctor", "alice@contoso.example", client=APP_ID)
        self.assertIn("policy.self-service", p.stdout)
        self.assertIn("ok: 0 failed", p.stdout)
        return p

    def test_done_when(self):
        self.done_when()

    def test_done_when_storm(self):
        """Half the requests get a 429 or a 503: everything still works,
        and --verbose says what was retried."""
        self.emu.set_faults([
            {"kind": "429", "probability": 0.25, "seed": 7},
            {"kind": "503", "probability": 0.34, "seed": 8}])
        self.done_when()
        err = "".join(o[2] for o in GraphCli.outputs[-6:])
        self.assertRegex(err, r"429 from (Graph|login), retrying in")
        self.assertRegex(err, r"503 from (Graph|login), retrying in")
        self.assertIn("request-id", err)
        fired = sum(f["fired"] for f in self.emu.state()["faults"])
        self.assertGreater(fired, 3)

    # --- login flows --------------------------------------------------------

    def test_device_code(self):
        self.emu.set_device(mode="approve", pending_polls=1, interval=1)
        p = self.prov("login", "--device-code")
        self.assertIn("enter the code", p.stderr)
        self.remember_tokens()
        p = self.prov("--json", "whoami")
        me = json.loads(p.stdout)
        self.assertEqual(me["account"], "admin@contoso.example")
        self.assertEqual(me["kind"], "user")
        self.assertIn("Authentication Administrator", me["roles"])
        self.emu.set_device(mode="decline")
        p = self.prov("login", "--device-code", rc=3)
        self.assertIn("authorization_declined", p.stderr)
        self.emu.set_device(mode="approve")

    def test_browser(self):
        # the browser's environment is scrubbed: the CA goes as an option
        browser = "%s --ca %s" % (BROWSER, self.emu.ca)
        p = self.prov("login", env={"BROWSER": browser}, verbose="-vv")
        self.assertIn("oauth2/v2.0/authorize?", p.stderr)
        self.assertIn("Signed in as admin@contoso.example", p.stdout)
        self.remember_tokens()
        # the seed's spelling
        p = self.prov("--login", env={"BROWSER": browser})
        self.remember_tokens()
        self.prov("doctor", rc=0)

    def test_certificate(self):
        p = self.prov("login", "--certificate", self.cert, "--private-key",
                      self.key, client=CERT_APP)
        self.assertIn("app-only", p.stdout)
        self.remember_tokens()
        # renewed from the certificate once the token is gone
        self.emu.expire_tokens()
        self.prov("list", "bob@contoso.example", client=CERT_APP)
        self.remember_tokens()
        self.prov("login", "--certificate", self.cert, client=CERT_APP, rc=2)

    def test_secret_sources(self):
        p = self.prov("login", "--client-credentials", "--client-secret",
                      APP_SECRET, client=APP_ID, rc=2)
        self.assertIn("PROVISIONING_CLIENT_SECRET", p.stderr)
        p = self.prov("login", "--client-credentials", client=APP_ID, rc=2)
        path = os.path.join(self.tmp, "secret.txt")
        with open(path, "w") as f:
            f.write(APP_SECRET + "\n")
        os.chmod(path, 0o644)
        p = self.prov("login", "--client-secret-file", path, client=APP_ID)
        self.assertIn("readable by others", p.stderr)
        self.remember_tokens()
        os.chmod(path, 0o600)
        p = self.prov("login", "--client-credentials", "--client-secret-file",
                      path, client=APP_ID)
        self.assertNotIn("readable by others", p.stderr)
        p = self.prov("login", "--client-credentials", client=APP_ID,
                      env={"PROVISIONING_CLIENT_SECRET": "wrong"}, rc=3)
        self.assertIn("invalid_client", p.stderr)
        self.assertIn("request-id", p.stderr)

    # --- the token cache ----------------------------------------------------

    def test_cache_permissions(self):
        self.app_login()
        path = os.path.join(self.state, "tokens.json")
        for mode in (0o640, 0o604, 0o644):
            os.chmod(path, mode)
            p = self.prov("whoami", client=APP_ID, rc=3)
            self.assertIn("chmod 600", p.stderr)
        os.chmod(path, 0o600)
        self.prov("whoami", client=APP_ID)

    def test_logout(self):
        self.app_login()
        path = os.path.join(self.state, "tokens.json")
        self.assertTrue(os.path.exists(path))
        self.prov("logout", client=APP_ID)
        self.assertFalse(os.path.exists(path))
        p = self.prov("whoami", client=APP_ID, rc=3)
        self.assertIn("login", p.stderr)
        # two sessions, --all forgets both
        self.app_login()
        self.emu.set_device(mode="approve", pending_polls=1, interval=1)
        self.prov("login", "--device-code")
        self.remember_tokens()
        self.prov("logout", "--all")
        self.assertFalse(os.path.exists(path))

    def test_expired_and_revoked(self):
        self.emu.set_device(mode="approve", pending_polls=1, interval=1)
        self.prov("login", "--device-code")
        self.remember_tokens()
        self.emu.expire_tokens()
        p = self.prov("list", "alice@contoso.example")
        self.assertIn("renewing", p.stderr)
        self.remember_tokens()
        self.emu.revoke_tokens()
        self.emu.expire_tokens()
        p = self.prov("list", "alice@contoso.example", rc=3)
        self.assertIn("login' again", p.stderr)
        self.assertIn("invalid_grant", p.stderr)

    def test_session_hours(self):
        p = self.prov("login", "--client-credentials", "--session-hours", "2",
                      client=APP_ID,
                      env={"PROVISIONING_CLIENT_SECRET": APP_SECRET})
        self.remember_tokens()
        path = os.path.join(self.state, "tokens.json")
        with open(path) as f:
            doc = json.load(f)
        e = doc["entries"][0]
        self.assertAlmostEqual(e["session_expires_at"] - e["login_at"],
                               7200, delta=5)
        # the session ends: no silent renewal, whatever the token says
        e["session_expires_at"] = int(time.time()) - 1
        with open(path, "w") as f:
            json.dump(doc, f)
        p = self.prov("whoami", client=APP_ID, rc=3)
        self.assertIn("login session has ended", p.stderr)
        self.prov("login", "--session-hours", "0", client=APP_ID, rc=2)

    # --- verbs ----------------------------------------------------------

    def test_list_remove_errors(self):
        self.app_login()
        p = self.prov("list", "nobody@contoso.example", client=APP_ID, rc=2)
        self.assertIn("no user 'nobody@contoso.example'", p.stderr)
        self.assertIn("request-id", p.stderr)
        p = self.prov("remove", "alice@contoso.example", "nosuchmethod",
                      client=APP_ID, rc=2)
        self.assertIn("nosuchmethod", p.stderr)
        self.prov("list", client=APP_ID, rc=2)
        self.prov("remove", "x", client=APP_ID, rc=2)
        # not signed in at all
        p = self.prov("list", "alice@contoso.example", rc=3,
                      state=tempfile.mkdtemp(dir=self.tmp))
        self.assertIn("provisioning login", p.stderr)
        # a read-only app: 403 names the permission
        self.prov("login", "--client-credentials", client=RO_APP,
                  env={"PROVISIONING_CLIENT_SECRET": RO_SECRET})
        self.remember_tokens()
        p = self.prov("list", "bob@contoso.example", client=RO_APP, rc=3)
        self.assertIn("UserAuthMethod-Passkey", p.stderr)

    def test_doctor(self):
        self.emu.set_device(mode="approve", pending_polls=1, interval=1)
        self.prov("login", "--device-code")
        self.remember_tokens()
        p = self.prov("--json", "doctor", "bob@contoso.example")
        doc = json.loads(p.stdout)
        self.assertEqual(doc["result"], "ok")
        checks = {c["check"]: c for c in doc["checks"]}
        self.assertEqual(checks["role"]["status"], "warn")
        self.assertEqual(checks["user.targeted"]["status"], "ok")
        # policy problems are failures (exit 1) with the fix named
        self.emu.set_policy(isSelfServiceRegistrationAllowed=False)
        try:
            p = self.prov("doctor", "erin_fabrikam.example#EXT#@contoso."
                          "example", rc=1)
        finally:
            self.emu.set_policy(isSelfServiceRegistrationAllowed=True)
        self.assertRegex(p.stdout, r"FAIL +policy.self-service")
        self.assertRegex(p.stdout, r"FAIL +user.type")
        # missing permissions and roles: exit 3
        self.prov("login", "--client-credentials", client=RO_APP,
                  env={"PROVISIONING_CLIENT_SECRET": RO_SECRET})
        self.remember_tokens()
        p = self.prov("doctor", client=RO_APP, rc=3)
        self.assertRegex(p.stdout, r"FAIL +permission.passkeys")
        self.assertIn("UserAuthMethod-Passkey.ReadWrite.All", p.stdout)
        p = self.prov("doctor", client=APP_ID, rc=3,
                      state=tempfile.mkdtemp(dir=self.tmp))
        self.assertRegex(p.stdout, r"FAIL +session")

    @unittest.skipUnless(os.access(os.environ.get("VAUTH", "/nonexistent"),
                                   os.X_OK), "vauth not built")
    def test_doctor_keys(self):
        vdir = tempfile.mkdtemp(prefix="keys", dir=self.tmp)
        aaguid = "a1b2c3d4-0000-4000-8000-00000000beef"
        vp = subprocess.Popen([os.environ["VAUTH"], "--socket",
                               os.path.join(vdir, "k1.sock"), "--aaguid",
                               aaguid], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            for _ in range(50):
                if os.path.exists(os.path.join(vdir, "k1.sock")):
                    break
                time.sleep(0.1)
            self.app_login()
            p = self.prov("--virtual-keys", vdir, "doctor", client=APP_ID)
            self.assertIn(aaguid, p.stdout)
            self.assertIn("accepted by the tenant-wide FIDO2 policy", p.stdout)
            self.emu.set_policy(keyRestrictions={
                "isEnforced": True, "enforcementType": "block",
                "aaGuids": [aaguid.upper()]})
            try:
                p = self.prov("--virtual-keys", vdir, "doctor",
                              client=APP_ID, rc=1)
            finally:
                self.emu.set_policy(keyRestrictions={
                    "isEnforced": False, "enforcementType": "block",
                    "aaGuids": []})
            self.assertIn("block list", p.stdout)
        finally:
            vp.terminate()
            vp.wait()

    # --- last: nothing secret escaped ---------------------------------------

    def test_zz_no_secrets(self):
        self.assertGreater(len(GraphCli.outputs), 20)
        secrets = [s for s in GraphCli.secrets if s and len(s) >= 8]
        self.assertGreater(len(secrets), 6)
        for args, out, err in GraphCli.outputs:
            for s in secrets:
                self.assertNotIn(s, out, "secret on stdout of: " + args)
                self.assertNotIn(s, err, "secret on stderr of: " + args)
            # nothing that looks like a bearer token either
            self.assertNotIn("Bearer ey", out + err, args)
            self.assertNotRegex(out + err, r"eyJ[A-Za-z0-9_-]{20,}\.eyJ",
                                args)
        # files we wrote: everything in the state dirs but the cache
        for path in glob.glob(os.path.join(self.tmp, "state*", "**"),
                              recursive=True):
            if os.path.isdir(path) or path.endswith("tokens.json"):
                continue
            with open(path, "rb") as f:
                data = f.read()
            for s in secrets:
                self.assertNotIn(s.encode(), data, path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
