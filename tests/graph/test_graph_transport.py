#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The -vv trace over HTTP/2, as Entra and Graph really speak it.

The emulator runs behind its nghttpx front (ALPN h2), so libcurl
negotiates HTTP/2 and prints request headers as "h2h3 [name: value]"
info lines.  Real commands with -vv (app-only login with a client
secret, device-code login, whoami, list, an enroll on a vauth key) must
show that HTTP/2 was used, that the credential headers were seen and
redacted, and no secret value (client secret, access and refresh
tokens, the PIN set on the key) may appear in anything printed or
written but the token cache.

test_posts_reuse_connection: an enroll of six users on one key sends
its six POSTs of a credential over one connection (libcurl cannot
resend one blindly: its body cannot be rewound, see
test_enroll_faults.py), and no connection of the run needs more than
one full TLS handshake (nghttpx's access log has each connection's
client port and whether its TLS session was resumed).
"""

import glob
import json
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import e2e  # noqa: E402

ALICE = "alice@contoso.example"
PUBLIC = "14d82eec-204b-4c2f-b7e8-296a70dab67e"    # a public client


class Transport(unittest.TestCase):
    def setUp(self):
        if os.environ.get("GRAPH_EMULATOR_H2") == "0":
            self.skipTest("GRAPH_EMULATOR_H2=0: no HTTP/2 front")
        self.env = e2e.Env(self, login=False, name="transport")
        self.outputs = []
        self.secrets = {e2e.CLIENT_SECRET}

    def run_vv(self, *args, rc=0, **kw):
        r = self.env.run("-vv", *args, **kw)
        self.outputs.append((" ".join(args), r))
        if rc is not None:
            self.assertEqual(r.rc, rc, r)
        return r

    def remember_tokens(self):
        with open(os.path.join(self.env.state_dir, "tokens.json")) as f:
            for e in json.load(f)["entries"]:
                for k in ("access_token", "refresh_token"):
                    if e.get(k):
                        self.secrets.add(e[k])

    def test_posts_reuse_connection(self):
        cfg = e2e.basic_config()
        upns = ["tls%d@contoso.example" % i for i in range(6)]
        cfg["users"] += [e2e.member(u) for u in upns]
        env = e2e.Env(self, cfg, name="tlsresume")
        self.assertTrue(env.emu.h2, "no HTTP/2 front")
        # a key slower than Graph: one poster (an instant key outruns
        # the POSTs on a loaded machine, and the posters grow)
        env.add_key(presence="delay:150")
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        r = env.run("enroll", "--csv", env.path("users.csv"), "--parallel",
                    "--pin", "random", "--pins-out", env.path("pins.csv"))
        self.assertEqual(r.rc, 0, r)
        with open(os.path.join(env.tmp, "emu", "access.log")) as f:
            rows = [line.split() for line in f if line.strip()]
        posts = [x for x in rows if x[3] == "POST" and
                 x[4].endswith("/authentication/fido2Methods")]
        self.assertEqual(len(posts), 6, rows)
        ports = set(x[0] for x in posts)
        self.assertEqual(len(ports), 1, posts)
        # a port's first request says whether its handshake was full;
        # the token request was the login's, another process.  The
        # policy read and the first $batch start together, before
        # either has a session to resume: two full handshakes, and every
        # other connection resumed
        first = {}
        for x in rows:
            first.setdefault(x[0], x)
        full = [x for x in first.values() if x[1] != "r" and
                "/oauth2/" not in x[4]]
        self.assertLessEqual(len(full), 2, rows)
        self.assertTrue([x for x in first.values() if x[1] == "r"], rows)

    def test_h2_trace_has_no_secrets(self):
        env = self.env
        self.assertTrue(env.emu.h2, "the emulator has no HTTP/2 front "
                        "(nghttpx from nghttp2-proxy missing?)")
        r = self.run_vv("login", "--client-credentials",
                        env=env.env(PROVISIONING_CLIENT_SECRET=e2e.
                                    CLIENT_SECRET))
        self.remember_tokens()
        self.assertIn("HTTP/2", r.err)
        r = self.run_vv("list", ALICE)
        self.assertIn("HTTP/2", r.err)
        # the bearer header went out over HTTP/2 and was seen, redacted
        self.assertRegex(r.err, r"h2h3 \[authorization: \[redacted\]\]")

        env.add_key()
        pins = env.path("pins.csv")
        r = self.run_vv("enroll", ALICE, "--pin", "random", "--pins-out",
                        pins)
        env.assert_one_passkey([ALICE])
        pin = env.read_csv(pins)[0]["pin"]
        self.assertGreaterEqual(len(pin), 4)
        self.secrets.add(pin)

        env.emu.set_device(mode="approve", pending_polls=1, interval=1)
        pub = ("--client-id", PUBLIC)
        r = self.run_vv(*pub, "login", "--device-code")
        self.assertIn("HTTP/2", r.err)
        self.remember_tokens()
        r = self.run_vv(*pub, "whoami")
        self.assertIn("admin@contoso.example", r.out)
        r = self.run_vv(*pub, "list", ALICE)
        self.assertIn("HTTP/2", r.err)

        secrets = sorted(s for s in self.secrets if s and len(s) >= 4)
        self.assertGreaterEqual(len(secrets), 5)
        for args, res in self.outputs:
            text = res.out + res.err
            for s in secrets:
                if s == pin:
                    # a short PIN may occur by chance in ids: match it
                    # only where a secret would be printed
                    self.assertNotRegex(text, r"(?i)pin\W{0,3}" + s,
                                        args)
                    continue
                self.assertNotIn(s, text, "secret in the output of: " +
                                 args)
            self.assertNotRegex(text, r"(?i)bearer +[A-Za-z0-9]", args)
            self.assertNotRegex(text, r"eyJ[A-Za-z0-9_-]{10,}\.", args)
        # every file we wrote but the cache (and the PIN output)
        for path in glob.glob(os.path.join(env.tmp, "**"), recursive=True):
            if os.path.isdir(path) or path.endswith("tokens.json") or \
                    path == pins or path.startswith(env.emu.dir) or \
                    path.endswith(".state") or path.endswith(".sock"):
                continue
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            for s in secrets:
                if s != pin:
                    self.assertNotIn(s.encode(), data, path)
            self.assertIsNone(re.search(rb"eyJ[A-Za-z0-9_-]{10,}\.", data),
                              path)


if __name__ == "__main__":
    unittest.main(verbosity=2)
