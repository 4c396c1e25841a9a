#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Hostile servers: paging, waits, tokens and TLS.

Against the emulator with rewrite faults (faults.py): a self-referencing
and an off-host @odata.nextLink end the group listing with an error (not
a loop growing memory), distinct pages forever end on SIGTERM, a
Retry-After of 100000 s gives up at once naming the wait (also inside
$batch), and an access token with CR/LF from the token endpoint is
refused.  Against a TLS server of the test's own (certificates made here
with python3-cryptography): an untrusted issuer, a certificate for
another host name, an expired one; an unreadable --ca-bundle and
http:// endpoints are refused before anything is sent.  Each case checks
the exit status by value and the message by content.
"""

import datetime
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import e2e  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

EXIT_USAGE, EXIT_NET, EXIT_INTR = 2, 5, 130
BULK = "b0000000-0000-4000-8000-000000000003"      # 1200 members, 2 pages
PILOT = "b0000000-0000-4000-8000-000000000001"
ALICE = "alice@contoso.example"


# --- a TLS server with certificates of our making -------------------------

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn="hostile CA"):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(_name(cn))
            .issuer_name(_name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, san, expired=False):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = (now - datetime.timedelta(days=10),
                  now - datetime.timedelta(days=1)) if expired else \
        (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    try:
        alt = x509.IPAddress(ipaddress.ip_address(san))
    except ValueError:
        alt = x509.DNSName(san)
    cert = (x509.CertificateBuilder().subject_name(_name(san))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([alt]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def write_pem(path, obj):
    with open(path, "wb") as f:
        if isinstance(obj, x509.Certificate):
            f.write(obj.public_bytes(serialization.Encoding.PEM))
        else:
            f.write(obj.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


class TLSServer:
    """Accepts TLS handshakes (and answers 500 to anything after)."""

    def __init__(self, certfile, keyfile):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(certfile, keyfile)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.done = False
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.done:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            try:
                c.settimeout(5)
                with self.ctx.wrap_socket(c, server_side=True) as t:
                    t.recv(4096)
                    t.sendall(b"HTTP/1.1 500 x\r\nContent-Length: 0\r\n\r\n")
            except (OSError, ssl.SSLError):
                pass
            finally:
                c.close()

    def close(self):
        self.done = True
        self.t.join()
        self.sock.close()


class Hostile(unittest.TestCase):
    def env(self, **kw):
        return e2e.Env(self, name="hostile", **kw)

    def assert_fails(self, r, rc, *needles, quick=None):
        self.assertEqual(r.rc, rc, r)
        for n in needles:
            self.assertIn(n, r.err, r)
        if quick is not None:
            self.assertLess(r.secs, quick, r)

    # --- paging ----------------------------------------------------------

    def test_nextlink_self(self):
        env = self.env()
        env.emu.set_faults([{"kind": "nextlink", "link": "self",
                             "path": "transitiveMembers"}])
        r = env.run("enroll", "--group", BULK, "--dry-run", timeout=60)
        self.assert_fails(r, EXIT_NET, "@odata.nextLink repeats a page",
                          quick=30)

    def test_nextlink_off_host(self):
        env = self.env()
        env.emu.set_faults([{"kind": "nextlink",
                             "link": "https://evil.example/v1.0/groups",
                             "path": "transitiveMembers"}])
        r = env.run("enroll", "--group", BULK, "--dry-run", timeout=60)
        self.assert_fails(r, EXIT_NET, "@odata.nextLink points off the "
                          "Graph host", quick=30)
        # and no request ever reached another host with our token: the
        # emulator saw exactly one page
        pages = [q for q in env.emu.requests(200)
                 if "transitiveMembers" in q["path"]]
        self.assertEqual(len(pages), 1, pages)

    def test_endless_pages_sigterm(self):
        env = self.env()
        env.emu.set_faults([{"kind": "nextlink", "link": "unique",
                             "delay_ms": 100,
                             "path": "transitiveMembers"}])
        p = env.spawn("enroll", "--group", BULK, "--dry-run")
        e2e.wait_for(lambda: sum("transitiveMembers" in q["path"] for q in
                                 env.emu.requests(200)) >= 5, 30,
                     what="five pages")
        p.send_signal(signal.SIGTERM)
        t0 = time.time()
        r = env.finish(p, timeout=20)
        self.assertLess(time.time() - t0, 10, r)
        self.assertEqual(r.rc, EXIT_INTR, r)

    # --- waits -----------------------------------------------------------

    def test_retry_after_huge(self):
        env = self.env()
        env.emu.set_faults([{"kind": "429", "retry_after": 100000,
                             "path": "fido2Methods"}])
        r = env.run("list", ALICE, timeout=60)
        self.assert_fails(r, EXIT_NET, "100000 s", "Retry-After", quick=20)

    def test_retry_after_huge_login(self):
        env = self.env(login=False)
        env.emu.set_faults([{"kind": "503", "retry_after": 100000,
                             "path": "/oauth2/v2.0/token$"}])
        r = env.run("login", "--client-credentials", timeout=60,
                    env=env.env(PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET))
        self.assert_fails(r, EXIT_NET, "100000 s", "Retry-After", quick=20)

    def test_retry_after_huge_in_batch(self):
        env = self.env()
        env.emu.set_faults([{"kind": "429", "retry_after": 100000,
                             "batch": True}])
        p = env.spawn("-v", "enroll", "--group", PILOT, "--dry-run")
        e2e.wait_for(lambda: "$batch" in env.read(p.err_path), 30,
                     what="the $batch message")
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        r = env.finish(p, timeout=20)
        self.assertIn("asks to wait 100000 s (Retry-After in $batch)",
                      r.err, r)
        self.assertLess(r.secs, 40, r)

    # --- tokens ----------------------------------------------------------

    def test_crlf_in_access_token(self):
        env = self.env(login=False)
        env.emu.set_faults([{"kind": "token_value",
                             "value": "eyJhbGciOi.eyJzdWIi.sig\r\n"
                                      "X-Injected: 1",
                             "path": "/oauth2/v2.0/token$"}])
        r = env.run("login", "--client-credentials", timeout=60,
                    env=env.env(PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET))
        self.assert_fails(r, EXIT_NET, "control character")
        self.assertFalse(any("x-injected" in q.get("headers", [])
                             for q in env.emu.requests(200)))

    # --- TLS -------------------------------------------------------------

    def tls_case(self, san, expired=False, trusted=True):
        d = self.tmp_dir()
        ca_key, ca = make_ca()
        key, cert = make_leaf(ca_key, ca, san, expired)
        for name, obj in (("ca.pem", ca), ("cert.pem", cert),
                          ("key.pem", key)):
            write_pem(os.path.join(d, name), obj)
        if not trusted:
            other_key, other = make_ca("another CA")
            write_pem(os.path.join(d, "ca.pem"), other)
        srv = TLSServer(os.path.join(d, "cert.pem"),
                        os.path.join(d, "key.pem"))
        self.addCleanup(srv.close)
        url = "https://127.0.0.1:%d" % srv.port
        env = self.env(login=False)
        e = env.env(PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET,
                    PROVISIONING_AUTHORITY_URL=url,
                    PROVISIONING_GRAPH_URL=url)
        argv = env.argv("login", "--client-credentials")
        argv[argv.index("--ca-bundle") + 1] = os.path.join(d, "ca.pem")
        return self._run_argv(env, argv, e)

    def _run_argv(self, env, argv, e):
        p = subprocess.run(argv, env=e, capture_output=True, text=True,
                           timeout=60, cwd=env.work)
        r = e2e.Result(p.returncode, p.stdout, p.stderr, 0)
        env.check_sanitizers(r)
        return r

    def tmp_dir(self):
        d = tempfile.mkdtemp(prefix="hostile-tls.")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def test_tls_untrusted_issuer(self):
        r = self.tls_case("127.0.0.1", trusted=False)
        self.assert_fails(r, EXIT_NET, "untrusted issuer", "--ca-bundle")

    def test_tls_wrong_host(self):
        r = self.tls_case("wrong.example")
        self.assert_fails(r, EXIT_NET, "host-name mismatch")

    def test_tls_expired(self):
        r = self.tls_case("127.0.0.1", expired=True)
        self.assert_fails(r, EXIT_NET, "has expired")

    def test_ca_bundle_unreadable(self):
        env = self.env(login=False)
        d = self.tmp_dir()
        bad = os.path.join(d, "not-pem.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        for path, why in ((os.path.join(d, "missing.pem"),
                           "No such file or directory"),
                          (bad, "holds no PEM certificate"),
                          (d, "")):
            argv = env.argv("login", "--client-credentials")
            argv[argv.index("--ca-bundle") + 1] = path
            r = self._run_argv(env, argv, env.env(
                PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET))
            self.assert_fails(r, EXIT_USAGE, "--ca-bundle " + path, why)
        self.assertEqual(env.emu.requests(200), [])

    def test_http_endpoints_refused(self):
        env = self.env(login=False)
        plain = env.emu.base_url.replace("https://", "http://")
        for var, what in (("PROVISIONING_GRAPH_URL", "--graph-url"),
                          ("PROVISIONING_AUTHORITY_URL", "--authority-url")):
            r = env.run("login", "--client-credentials", env=env.env(
                PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET,
                **{var: plain}))
            self.assert_fails(r, EXIT_USAGE, "http:// URL: refused", what,
                              var)


if __name__ == "__main__":
    unittest.main(verbosity=2)
