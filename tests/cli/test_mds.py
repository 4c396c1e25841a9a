#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""provisioning mds update|show against BLOBs signed by a test PKI.

mds_gen.py makes the PKI and the BLOBs (with vauth's attestation root,
exported by `vauth --export-ca`, in vauth's entry); this test runs the
real binary on them in one state directory, in order, and checks after
every refused BLOB that the stored metadata is byte for byte the same.
"""

import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

SRCDIR = os.environ.get("SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR") or os.path.join(SRCDIR, "build")
PROV = os.environ.get("PROVISIONING") or os.path.join(
    BINDIR, "src", "cli", "provisioning")
VAUTH = os.environ.get("VAUTH") or os.path.join(BINDIR, "vauth", "vauth")
GEN = os.path.join(SRCDIR, "tests", "cli", "mds_gen.py")
sys.path.insert(0, os.path.join(SRCDIR, "tests", "graph-emulator"))
import tls  # noqa: E402  (the emulator's test CA and server certificate)

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
                          ("otherhost", "not issued to "
                           "mds.fidoalliance.org"),
                          ("private", "not issued to "
                           "mds.fidoalliance.org"),
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

        # private metadata: another signer host, only with --mds-root
        rc, _, err = self.run_prov("mds", "update", "--signer",
                                   "metadata.corp.example", "private.jwt",
                                   roots=None)
        self.assertEqual(rc, 2)
        self.assertIn("--signer needs --mds-root", err)
        rc, _, err = self.run_prov("mds", "update", "--signer", "a/b",
                                   "private.jwt")
        self.assertEqual(rc, 2)
        self.assertIn("not a host name", err)
        self.assertEqual(self.no(), 14)
        rc, out, err = self.run_prov("mds", "update", "--signer",
                                     "metadata.corp.example", "private.jwt")
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 16", out)

        # a lower no is a replay: refused, no 16 kept
        self.refused("lower", why="lower than the stored no 16")
        self.assertEqual(self.no(), 16)

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
        rc, _, err = self.run_prov("mds", "show", "--signer", "x",
                                   VAUTH_AAGUID, roots=None)
        self.assertEqual(rc, 2)


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /NAME.jwt serves that BLOB; anything else is a 404."""

    def do_GET(self):
        self.server.paths.append(self.path)
        path = os.path.join(self.server.root, self.path.lstrip("/"))
        if "/" in self.path.lstrip("/") or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class Download(unittest.TestCase):
    """mds update without FILE: over HTTPS, verified as a FILE is."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="mds-dl.")
        cls.gen = os.path.join(cls.tmp, "gen")
        cls.state = os.path.join(cls.tmp, "state")
        subprocess.run([sys.executable, GEN, cls.gen], check=True,
                       timeout=120)
        os.makedirs(os.path.join(cls.tmp, "tls"))
        cls.ca, cert, key = tls.ensure_certs(os.path.join(cls.tmp, "tls"))
        cls.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                    Handler)
        cls.httpd.socket = tls.server_context(cert, key).wrap_socket(
            cls.httpd.socket, server_side=True)
        cls.httpd.root = cls.gen
        cls.httpd.paths = []
        cls.port = cls.httpd.server_address[1]
        cls.thread = threading.Thread(target=cls.httpd.serve_forever,
                                      daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls):
        cls.httpd.shutdown()
        cls.httpd.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def fetch(self, url, ca=True, roots="roots.pem", retries="0"):
        pre = ["--state-dir", self.state]
        if ca:
            pre += ["--ca-bundle", self.ca]
        if roots:
            pre += ["--mds-root", os.path.join(self.gen, roots)]
        env = dict(os.environ, LC_ALL="C", PROVISIONING_HTTP_RETRIES=retries)
        env.pop("PROVISIONING_MDS_URL", None)
        if url is not None:
            env["PROVISIONING_MDS_URL"] = url
        r = subprocess.run([PROV] + pre + ["mds", "update"],
                           capture_output=True, text=True, timeout=120,
                           env=env)
        return r.returncode, r.stdout, r.stderr

    def url(self, name):
        return "https://127.0.0.1:%d/%s.jwt" % (self.port, name)

    def stored(self):
        with open(os.path.join(self.state, "mds.json"), "rb") as f:
            return f.read()

    def test_download(self):
        # the test CA is not trusted without --ca-bundle: nothing stored
        rc, _, err = self.fetch(self.url("valid"), ca=False)
        self.assertEqual(rc, 5, err)
        self.assertIn("untrusted issuer", err)
        self.assertFalse(os.path.exists(os.path.join(self.state,
                                                     "mds.json")))

        rc, out, err = self.fetch(self.url("valid"))
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 10: 3 entries", out)
        self.assertIn("/valid.jwt", self.httpd.paths)
        before = self.stored()

        # a BLOB with a bad signature, or signed for another host, from
        # the URL is refused as a FILE would be: the stored one is kept
        for name, why in (("badsig", "signature does not verify"),
                          ("otherhost", "not issued to "
                           "mds.fidoalliance.org"),
                          ("lower", "lower than the stored no 10")):
            with self.subTest(blob=name):
                rc, _, err = self.fetch(self.url(name))
                self.assertEqual(rc, 2, err)
                self.assertIn("mds update: %s: refused: " % self.url(name),
                              err)
                self.assertIn(why, err)
                self.assertEqual(self.stored(), before)

        # the pinned GlobalSign roots do not trust the test PKI
        rc, _, err = self.fetch(self.url("r46only"), roots=None)
        self.assertEqual(rc, 2, err)
        self.assertIn("certificate chain", err)
        self.assertEqual(self.stored(), before)

        # 404: the status named, nothing stored
        rc, _, err = self.fetch(self.url("absent"))
        self.assertEqual(rc, 5, err)
        self.assertIn("answered HTTP 404", err)
        self.assertIn("stored metadata is unchanged", err)
        self.assertEqual(self.stored(), before)

        rc, out, err = self.fetch(self.url("r46only"))
        self.assertEqual(rc, 0, err)
        self.assertIn("metadata no 11", out)

    def test_unreachable(self):
        # a port nobody listens on: one retry announced, then the host
        # and the fix named, exit 5, no metadata written
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        state = os.path.join(self.tmp, "state-unreachable")
        r = subprocess.run(
            [PROV, "--state-dir", state, "--ca-bundle", self.ca,
             "--mds-root", os.path.join(self.gen, "roots.pem"), "mds",
             "update"], capture_output=True, text=True, timeout=120,
            env=dict(os.environ, LC_ALL="C", PROVISIONING_HTTP_RETRIES="1",
                     PROVISIONING_MDS_URL="https://127.0.0.1:%d/" % port))
        self.assertEqual(r.returncode, 5, r.stderr)
        self.assertIn("cannot reach 127.0.0.1:%d: no connection" % port,
                      r.stderr)
        self.assertIn("retry 1 of 1", r.stderr)
        self.assertIn("cannot download the FIDO metadata", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(state, "mds.json")))
        # and an http:// URL is refused before anything is sent
        r = subprocess.run(
            [PROV, "--state-dir", state, "mds", "update"],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, LC_ALL="C",
                     PROVISIONING_MDS_URL="http://127.0.0.1:%d/" % port))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("not an https:// URL", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
