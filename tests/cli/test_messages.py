#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""What the operator reads: each message said once, naming the fix.

- without a sign-in: one message naming 'provisioning login', no
  summary of 0 users, no failures file; nor one when nobody failed;
- a missing CSV is named once ("F: No such file or directory"), not twice;
- a setting that can never work (--cloud usgov for enroll, --same-key
  with --parallel, --same-key with --as-user) is one usage error before
  any Graph request, key command or output file;
- a re-run of a finished CSV counts its users as skipped, "by an earlier
  run", and says so once per line;
- progress lines are numbered by input position and short (key name, a
  short method id); -v shows the full ids;
- doctor does not say it cannot read the policy and then print it;
- a sign-in host that cannot be reached: each retry is announced with
  the host and what failed, and the error names the host and the proxy
  setting, instead of a quiet minute and "network error".
"""

import os
import re
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "16180339"
D = "@contoso.example"
LIMITED_ID = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f"
LIMITED_SECRET = "limited-app-secret"


def requests(env):
    return env.state()["requests"]["total"]


class Messages(unittest.TestCase):
    def csv(self, env, name, users):
        return env.write(name, "userPrincipalName\n" +
                         "".join(u + D + "\n" for u in users))

    def test_refused_up_front(self):
        env = e2e.Env(self, name="msg-upfront")
        key = env.add_key(pin=PIN)
        good = self.csv(env, "good.csv", ["alice", "bob"])
        before = requests(env)

        r = env.run("enroll", "--csv", "nosuch.csv")
        self.assertEqual(r.rc, 2, r)
        self.assertEqual(r.err.count("nosuch.csv"), 1, r)
        self.assertIn("No such file or directory", r.err)

        r = env.run("enroll", "--csv", good, "--parallel", "--same-key")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--same-key and --parallel contradict", r.err)
        self.assertNotIn("or use --parallel", r.err)
        self.assertNotIn("sign-in", r.err)

        r = env.run("enroll", "--csv", good, "--as-user", "--same-key")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--same-key does not go with --as-user", r.err)

        r = env.run("--cloud", "usgov", "enroll", "--csv", good)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--cloud usgov", r.err)
        self.assertIn("global cloud only", r.err)
        self.assertEqual(r.err.count("global cloud only"), 1, r)

        self.assertEqual(requests(env), before)
        self.assertEqual(env.key_commands(key), [])
        self.assertFalse(os.path.exists(env.path("failures.csv")))
        self.assertFalse(os.path.exists(env.path("report.csv")))

        # a CSV with no usable row: its rows failed, and nothing ran
        bad = env.write("bad.csv", "userPrincipalName\nnot a user\n")
        r = env.run("enroll", "--csv", bad)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("nothing to enroll: no usable row in the CSV file",
                      r.err)
        self.assertIn("1 CSV row not enrolled: see failures.csv", r.err)
        self.assertNotIn("of 0 users", r.err)
        self.assertEqual(len(env.failures()), 1)
        self.assertEqual(requests(env), before)

    def test_not_signed_in(self):
        env = e2e.Env(self, name="msg-nosignin", login=False)
        key = env.add_key(pin=PIN)
        one = self.csv(env, "one.csv", ["alice"])
        r = env.run("enroll", "--csv", one)
        self.assertEqual(r.rc, 3, r)
        self.assertEqual(r.err.count("provisioning login"), 1, r)
        self.assertNotIn("of 0 users", r.err)
        self.assertEqual(env.key_commands(key), [])
        self.assertFalse(os.path.exists(env.path("failures.csv")))

    def test_unreachable_sign_in(self):
        env = e2e.Env(self, name="msg-noroute", login=False)
        with socket.socket() as s:      # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        host = "127.0.0.1:%d" % port
        base = env.env(PROVISIONING_HTTP_RETRIES="2")
        for name in ("https_proxy", "HTTPS_PROXY", "all_proxy",
                     "ALL_PROXY"):
            base.pop(name, None)
        for proxy in (None, "http://127.0.0.1:%d" % port):
            pe = dict(base)
            if proxy is not None:
                pe["https_proxy"] = proxy
                pe["no_proxy"] = ""
            r = env.run("--authority-url", "https://" + host, "login",
                        "--device-code", env=pe)
            self.assertEqual(r.rc, 5, r)
            retries = [ln for ln in r.err.splitlines()
                       if ln.startswith("warning: cannot reach ")]
            self.assertEqual(len(retries), 2, r)
            self.assertIn("retry 1 of 2 in ", retries[0])
            self.assertIn("retry 2 of 2 in ", retries[1])
            self.assertEqual(r.err.count("provisioning: login: "), 1, r)
            if proxy is None:
                self.assertIn("cannot reach %s: no connection" % host,
                              r.err)
                self.assertIn("behind a proxy, set https_proxy", r.err)
            else:
                self.assertIn("the proxy in https_proxy", r.err)

    def test_rerun_and_lines(self):
        env = e2e.Env(self, name="msg-rerun")
        env.add_key(pin=PIN, presence="delay:150")
        env.add_key(pin=PIN)
        users = ["alice", "helpdesk", "carol", "dave"]
        path = self.csv(env, "u.csv", users)
        pe = env.env(E2E_PIN=PIN)

        def enroll(*extra):
            return env.run("enroll", "--csv", path, "--parallel", "--pin",
                           "keep", "--pin-env", "E2E_PIN", *extra, env=pe)

        r = enroll()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("4 enrolled, 0 failed, 0 skipped, of 4 users", r.err)
        # nobody failed: no failures file left behind
        self.assertFalse(os.path.exists(env.path("failures.csv")))
        lines = [ln for ln in r.err.splitlines() if ln.startswith("[")]
        self.assertEqual(len(lines), 4, r)
        for ln in lines:
            m = re.match(r"\[(\d+)/4\] (\S+): enrolled on key[12] "
                         r"\((\w+), method (\S+)\)$", ln)
            self.assertIsNotNone(m, ln)
            # numbered by the user's place in the CSV, not completion
            self.assertEqual(users[int(m.group(1)) - 1] + D, m.group(2))
            self.assertLessEqual(len(ln), 100, ln)
            self.assertNotIn("unix:", ln)
        rows = env.report()
        self.assertEqual(len(rows), 4)
        for row in rows:
            mid = row["method_id"].lstrip("'")
            self.assertGreater(len(mid), 20)
            self.assertNotIn(mid, r.err)
            self.assertIn(mid[:8] + "...", r.err)

        r = enroll()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("0 enrolled, 0 failed, 4 skipped (4 by an earlier "
                      "run), of 4 users", r.err)
        self.assertNotIn("already enrolled (already", r.err)
        lines = [ln for ln in r.err.splitlines() if ln.startswith("[")]
        self.assertEqual(sorted(lines), sorted(
            "[%d/4] %s%s: skipped (enrolled by an earlier run)" %
            (i + 1, u, D) for i, u in enumerate(users)))
        env.assert_one_passkey([u + D for u in users])

        # one user, one line of summary in the singular
        one = self.csv(env, "one.csv", ["erin2"])
        r = env.run("enroll", "--csv", one, "--dry-run")
        self.assertIn("of 1 user\n", r.err + "\n")

    def test_verbose_full_ids(self):
        env = e2e.Env(self, name="msg-verbose")
        env.add_key(pin=PIN)
        r = env.run("-v", "enroll", "alice" + D, "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        mid = env.report()[0]["method_id"].lstrip("'")
        self.assertIn("method " + mid + ")", r.err)
        self.assertIn("enrolled on unix:" + env.keys_dir, r.err)

    def test_doctor_agrees_with_itself(self):
        env = e2e.Env(self, name="msg-doctor")
        r = env.run("doctor")
        self.assertIn("can read the FIDO2 policy", r.out)
        self.assertIn("policy.enabled", r.out)
        self.assertNotIn("Policy.Read.AuthenticationMethod", r.out)

        # an app without any policy permission: one warning, no policy
        r = env.run("--client-id", LIMITED_ID, "login",
                    "--client-credentials",
                    env=env.env(PROVISIONING_CLIENT_SECRET=LIMITED_SECRET))
        self.assertEqual(r.rc, 0, r)
        r = env.run("--client-id", LIMITED_ID, "doctor")
        pol = [ln for ln in r.out.splitlines() if "policy" in ln.lower()]
        self.assertEqual(len(pol), 1, r)
        self.assertTrue(pol[0].startswith("warn"), pol)
        self.assertIn("cannot read the FIDO2 policy", pol[0])
        self.assertNotIn("can read the FIDO2 policy", r.out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
