#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""webauthn create between the Graph emulator and vauth.

creationOptions come from the emulator exactly as Graph shapes them (6.9 KB
challenge, excluded ids rotating through all three encodings), the body
`provisioning webauthn create` prints is POSTed back and must be accepted
(201), and checked by tests/verify/verify_registration.py.  The new
credential then shows up in later creationOptions in each encoding, and
every one of them makes the key refuse a second registration (exit 4).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SRCDIR = os.environ.get("SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR") or os.path.join(SRCDIR, "build")
PROVISIONING = os.environ.get("PROVISIONING") or os.path.join(
    BINDIR, "src", "cli", "provisioning")
VAUTH = os.environ.get("VAUTH") or os.path.join(BINDIR, "vauth",
                                                 "vauth")
PYTHON3 = os.environ.get("PYTHON3") or "/usr/bin/python3"
EMUDIR = os.path.join(SRCDIR, "tests", "graph-emulator")
VERIFIER = os.path.join(SRCDIR, "tests", "verify", "verify_registration.py")
sys.dont_write_bytecode = True    # nothing of ours in the source tree
sys.path.insert(0, EMUDIR)
import emuctl  # noqa: E402

CLIENT_ID = "5b7e2c1a-0f4d-4c3b-9a8e-6d5f4e3c2b1a"
CLIENT_SECRET = "emulator-test-secret"
USER = "bob@contoso.example"
PIN = "24681357"


class WebauthnEmulator(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="webauthn-emu.")
        cls.emu = emuctl.start(os.path.join(cls.tmp, "emu"),
                               os.path.join(EMUDIR, "configs", "basic.json"))
        cls.sock = os.path.join(cls.tmp, "key.sock")
        cls.vlog = open(os.path.join(cls.tmp, "vauth.log"), "wb")
        cls.vauth = subprocess.Popen(
            [VAUTH, "--socket", cls.sock, "--attestation", "packed",
             "--ca", os.path.join(cls.tmp, "ca.pem")],
            env=dict(os.environ, VAUTH_PIN=PIN), stderr=cls.vlog,
            stdin=subprocess.DEVNULL)
        for _ in range(200):
            if os.path.exists(cls.sock):
                break
            cls.vauth.poll()
            if cls.vauth.returncode is not None:
                raise RuntimeError("vauth exited")
            time.sleep(0.05)
        status, tok = cls.emu.json(
            "POST", "/contoso.example/oauth2/v2.0/token",
            form={"grant_type": "client_credentials", "client_id": CLIENT_ID,
                  "client_secret": CLIENT_SECRET,
                  "scope": "https://graph.microsoft.com/.default"})
        assert status == 200, tok
        cls.token = tok["access_token"]
        status, user = cls.emu.json("GET", "/v1.0/users/" + USER,
                                    token=cls.token)
        assert status == 200, user
        cls.user_id = user["id"]

    @classmethod
    def tearDownClass(cls):
        cls.vauth.terminate()
        cls.vauth.wait(10)
        cls.vlog.close()
        cls.emu.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def options(self, name):
        status, _, raw = self.emu.request(
            "GET", "/v1.0/users/%s/authentication/fido2Methods/"
            "creationOptions" % USER, token=self.token)
        self.assertEqual(status, 200, raw[:300])
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(raw)
        return path, json.loads(raw)

    def create(self, options):
        return subprocess.run(
            [PROVISIONING, "--device", "unix:" + self.sock, "webauthn",
             "create", "--options", options, "--pin-env", "WA_EMU_PIN",
             "--display-name", "{model} {serial}"],
            env=dict(os.environ, WA_EMU_PIN=PIN), capture_output=True,
            timeout=120)

    def test_register_then_excluded(self):
        opts, doc = self.options("options.json")
        self.assertGreater(len(doc["publicKey"]["challenge"]), 6000)
        r = self.create(opts)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertNotIn(PIN.encode(), r.stdout + r.stderr)
        body_path = os.path.join(self.tmp, "body.json")
        with open(body_path, "wb") as f:
            f.write(r.stdout)
        body = json.loads(r.stdout)

        v = subprocess.run([PYTHON3, VERIFIER, "--expect-attestation",
                            "basic", opts, body_path], capture_output=True)
        self.assertEqual(v.returncode, 0, v.stdout.decode() +
                         v.stderr.decode())
        v = subprocess.run([PROVISIONING, "webauthn", "verify", "--options",
                            opts, "--body", body_path], capture_output=True)
        self.assertEqual(v.returncode, 0, v.stdout.decode())

        status, m = self.emu.json(
            "POST", "/v1.0/users/%s/authentication/fido2Methods" %
            self.user_id, body=body, token=self.token)
        self.assertEqual(status, 201, m)
        cid = body["publicKeyCredential"]["id"]
        self.assertEqual(m["id"], cid + str(-len(cid) % 4))
        self.assertEqual(m["displayName"], body["displayName"])
        reg = [x for u in self.emu.state()["users"]
               if u.get("userPrincipalName") == USER
               for x in u.get("fido2Methods", [])
               if x.get("credentialId") == cid]
        self.assertEqual(len(reg), 1, "registration not in emulator state")
        ver = reg[0].get("verification", {})
        self.assertEqual(ver.get("fmt"), "packed")
        self.assertEqual(ver.get("credProtect"), 1)
        self.assertTrue(ver.get("hmacSecret"))

        # the same options again: the challenge is spent, but the key does
        # not care; what matters is that each later exclude list, in each
        # of Graph's encodings, stops the key from registering twice
        digit = cid + str(-len(cid) % 4)
        forms = set()
        for n in range(3):
            opts2, doc2 = self.options("options-%d.json" % n)
            ids = [e["id"] for e in doc2["publicKey"]["excludeCredentials"]]
            self.assertEqual(len(ids), 4)
            forms.update(i for i in ids if i == digit or i.rstrip("=")
                         .replace("+", "-").replace("/", "_") == cid)
            r = self.create(opts2)
            self.assertEqual(r.returncode, 4, r.stderr.decode())
            self.assertIn(b"already holds a passkey", r.stderr)
            self.assertEqual(r.stdout, b"")
        # the padding-digit form and at least one other were exercised
        self.assertIn(digit, forms)
        self.assertGreaterEqual(len(forms), 2, forms)


if __name__ == "__main__":
    unittest.main(verbosity=2)
