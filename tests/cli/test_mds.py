#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""provisioning mds update|show against BLOBs signed by a test PKI.

mds_gen.py makes the PKI and the BLOBs (with vauth's attestation root,
exported by `vauth --export-ca`, in vauth's entry); this test runs the
real binary on them in one state directory, in order, and checks after
every refused BLOB that the stored metadata is byte for byte the same.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SRCDIR = os.environ.get("SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR") or os.path.join(SRCDIR, "build")
PROV = os.environ.get("PROVISIONING") or os.path.join(
    BINDIR, "src", "cli", "provisioning")
VAUTH = os.environ.get("VAUTH") or os.path.join(BINDIR, "vauth", "vauth")
GEN = os.path.join(SRCDIR, "tests", "cli", "mds_gen.py")

VAUTH_AAGUID = "76617574-682d-7465-7374-2d6b65790001"
REVOKED_AAGUID = "0badc0de-0000-4000-8000-00000000dead"


class Mds(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mds-test.")
        cls.gen = os.path.join(cls.tmp, "gen")
        cls.state = os.path.join(cls.tmp, "state")
        ca = os.path.join(cls.tmp, "vauth-ca.pem")
        root = os.path.join(cls.tmp, "vauth-root-export.pem")
        subprocess.run([VAUTH, "--export-ca", root, "--ca", ca],
                       check=True, timeout=60)
        subprocess.run([sys.executable, GEN, cls.gen, "--vauth-root", root],
                       check=True, timeout=120)
        with open(root) as f:
            cls.vauth_root = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_prov(self, *args, roots="roots.pem"):
        pre = ["--state-dir", self.state]
        if roots:
            pre += ["--mds-root", os.path.join(self.gen, roots)]
        r = subprocess.run([PROV] + pre + list(args), capture_output=True,
                           text=True, timeout=60, cwd=self.gen,
                           env=dict(os.environ, LC_ALL="C"))
        return r.returncode, r.stdout, r.stderr

    def update(self, name, roots="roots.pem"):
        return self.run_prov("mds", "update", name + ".jwt", roots=roots)

    def stored(self):
        with open(os.path.join(self.state, "mds.json"), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def show(self, aaguid, json_out=False):
        args = (["--json"] if json_out else []) + ["mds", "show", aaguid]
        return self.run_prov(*args, roots=None)

    def refused(self, name, roots="roots.pem", why=None):
        before = self.stored()
        rc, out, err = self.update(name, roots)
        self.assertEqual(rc, 2, "%s: %s %s" % (name, out, err))
        self.assertIn("refused", err, name)
        if why:
            self.assertIn(why, err, name)
        self.assertEqual(self.stored(), before,
                         "%s replaced the stored metadata" % name)
        rc, out, _ = self.show(VAUTH_AAGUID)
        self.assertEqual(rc, 0, name)
        self.assertIn("vauth virtual authenticator", out, name)

    def no(self):
        rc, out, err = self.show(VAUTH_AAGUID, True)
        self.assertEqual(rc, 0, err)
        return json.loads(out)["no"]

    def test_sequence(self):
        # nothing stored yet
        rc, _, err = self.show(VAUTH_AAGUID)
        self.assertEqual(rc, 1)
        self.assertIn("no FIDO metadata stored", err)

        # the pinned GlobalSign roots do not trust the test PKI
        rc, _, err = self.update("valid", roots=None)
        self.assertEqual(rc, 2, err)
        self.assertFalse(os.path.exists(os.path.join(self.state,
                                                     "mds.json")))

        rc, out, err = self.update("valid")
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 10: 3 entries, nextUpdate ", out)
        self.assertNotIn("stale", err)
        st = os.stat(os.path.join(self.state, "mds.json"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        with open(os.path.join(self.state, "mds.json")) as f:
            self.assertNotIn("data:image/png", f.read())   # icons dropped

        # the same no: nothing changes
        before = self.stored()
        rc, out, err = self.update("valid")
        self.assertEqual(rc, 0, err)
        self.assertIn("already stored", out)
        self.assertEqual(self.stored(), before)

        # show: vauth's entry with vauth's attestation root
        rc, out, err = self.show(VAUTH_AAGUID.upper())
        self.assertEqual(rc, 0, err)
        self.assertIn("vauth virtual authenticator", out)
        self.assertIn("certification  FIDO_CERTIFIED_L1", out)
        self.assertIn("FIDO_CERTIFIED_L1 2025-03-01", out)
        self.assertIn("no 10, nextUpdate", out)
        rc, out, err = self.show(VAUTH_AAGUID, True)
        j = json.loads(out)
        self.assertEqual(j["attestationRootSubjects"], [
            subprocess.run(["openssl", "x509", "-noout", "-subject",
                            "-nameopt", "RFC2253"], input=self.vauth_root,
                           capture_output=True, text=True,
                           check=True).stdout.strip()[len("subject="):]])
        self.assertFalse(j["revokedOrCompromised"])
        self.assertEqual(j["status"], "FIDO_CERTIFIED_L1")

        # the revoked entry: a later UPDATE_AVAILABLE does not heal it
        rc, out, err = self.show(REVOKED_AAGUID, True)
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        self.assertEqual(j["status"], "REVOKED")
        self.assertTrue(j["revokedOrCompromised"])
        self.assertEqual([r["status"] for r in j["statusReports"]],
                         ["FIDO_CERTIFIED_L2", "REVOKED",
                          "UPDATE_AVAILABLE"])
        self.assertEqual(j["certificationLevel"], "FIDO_CERTIFIED_L2")
        rc, out, _ = self.show(REVOKED_AAGUID)
        self.assertIn("status         REVOKED (revoked or compromised", out)

        # unknown and malformed AAGUIDs
        rc, out, err = self.show("00000000-0000-0000-0000-000000000000")
        self.assertEqual(rc, 1)
        self.assertIn("is not in the FIDO metadata (no 10", err)
        rc, out, err = self.show("00000000-0000-0000-0000-000000000000",
                                 True)
        self.assertEqual(rc, 1)
        self.assertFalse(json.loads(out)["found"])
        rc, _, err = self.show("not-a-guid")
        self.assertEqual(rc, 2)

        # every bad BLOB is refused and the stored metadata is kept
        for name, why in (("badsig", "signature does not verify"),
                          ("tampered", "signature does not verify"),
                          ("wrongroot", "certificate chain"),
                          ("algnone", "alg none refused"),
                          ("algnone_empty", "alg none refused"),
                          ("alghs256", "alg HS256 refused"),
                          ("algmismatch", "key is not RSA"),
                          ("nox5c", "no x5c"),
                          ("crit", "crit extensions"),
                          ("payload", "nextUpdate"),
                          ("truncated", "not a compact JWS"),
                          ("garbage", "not a compact JWS")):
            with self.subTest(blob=name):
                self.refused(name, why=why)
        # a root file that is not PEM
        before = self.stored()
        rc, _, err = self.update("valid", roots="blobs.json")
        self.assertEqual(rc, 2)
        self.assertIn("no PEM certificate", err)
        self.assertEqual(self.stored(), before)
        self.assertEqual(self.no(), 10)

        # a chain to R46 only: R3 alone cannot trust it, R3 + R46 can
        self.refused("r46only", roots="root-r3.pem", why="certificate chain")
        rc, out, err = self.update("r46only")
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 11", out)
        # via the cross-sign, R3 alone is enough; R46 alone too
        rc, out, err = self.update("cross", roots="root-r3.pem")
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 12", out)
        rc, out, err = self.update("es256", roots="root-r46.pem")
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 13", out)
        rc, out, err = self.run_prov("--json", "mds", "update",
                                     "ps256.jwt")
        self.assertEqual(rc, 0, err)
        j = json.loads(out)
        self.assertEqual((j["no"], j["entries"], j["updated"], j["stale"]),
                         (14, 3, True, False))

        # a lower no is a replay: refused, no 14 kept
        self.refused("lower", why="lower than the stored no 14")
        self.assertEqual(self.no(), 14)

        # stale: accepted, and named on every use
        rc, out, err = self.update("stale")
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 30", out)
        self.assertIn("stale", err)
        self.assertIn("2020-01-01", err)
        rc, out, err = self.show(VAUTH_AAGUID)
        self.assertEqual(rc, 0)
        self.assertIn("warning: the FIDO metadata (no 30) is stale: its "
                      "nextUpdate 2020-01-01 has passed", err)
        self.assertIn("(stale)", out)

        # no FILE: not downloaded (yet), said so
        rc, _, err = self.run_prov("mds", "update")
        self.assertEqual(rc, 2)
        self.assertIn("downloading is not built in", err)

    def test_usage(self):
        rc, out, _ = self.run_prov("mds", "--help", roots=None)
        self.assertEqual(rc, 0)
        self.assertIn("mds update", out)
        self.assertIn("mds show", out)
        rc, out, _ = self.run_prov("mds", "update", "--help", roots=None)
        self.assertEqual(rc, 0)
        self.assertIn("--mds-root", out)
        rc, _, err = self.run_prov("mds", "show", roots=None)
        self.assertEqual(rc, 2)
        rc, _, err = self.run_prov("mds", "frob", roots=None)
        self.assertEqual(rc, 2)
        rc, _, err = self.run_prov("mds", "update", "a", "b", roots=None)
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
