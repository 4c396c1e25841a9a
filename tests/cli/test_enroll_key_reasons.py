#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""failures.csv says why the key failed.

A key that fails (wrong PIN, PIN blocked, pulled out, a garbled reply,
the touch refused, no touch) is set aside and its user goes back for
another key; when none is left, the user's failures.csv row must carry
the real reason (and a code that says it), not "no usable security key
left (see the messages above)".  A user no key ever tried gets the
run's last key failure.  The faults come from vauth's --fail.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "14142135"
D = "@contoso.example"
USERS = ["reason1", "reason2"]

# (vauth fault, PIN the run gives, words of the reason, failures code)
CASES = [
    (None, "99999999", "wrong PIN", "pin_invalid"),
    ("status:mc=0x32", PIN, "PIN blocked", "pin_blocked"),
    ("disconnect:mc", PIN, "the key stopped answering (pulled out?)",
     "key_gone"),
    ("malformed:mc", PIN, "the key sent a malformed or unexpected reply",
     "key_malformed"),
    ("deny:mc", PIN, "the key refused the operation", None),
    ("timeout:mc", PIN, "no touch in time", "no_touch"),
]


class EnrollKeyReasons(unittest.TestCase):
    def test_reasons(self):
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member(u) for u in USERS]
        env = e2e.Env(self, cfg, name="reasons")
        csvp = env.write("users.csv", "upn\n" + "".join(
            u + D + "\n" for u in USERS))
        seen = 0
        for i, (fault, pin, words, code) in enumerate(CASES):
            key = env.add_key("k%d" % i, pin=PIN, fail=fault)
            r = env.run("enroll", "--csv", csvp, "--parallel", "--device",
                        key.path, "--pin", "keep", "--pin-env", "E2E_PIN",
                        "--timeout", "3", env=env.env(E2E_PIN=pin))
            msg = "%s\n%r" % (fault, r)
            self.assertEqual(r.rc, 1, msg)
            rows = env.failures()[seen:]
            seen += len(rows)
            self.assertEqual(sorted(x["user"] for x in rows),
                             sorted(u + D for u in USERS), msg)
            for x in rows:
                self.assertEqual(x["stage"], "key", x)
                self.assertIn(words, x["message"], x)
                self.assertNotIn("see the messages above", x["message"], x)
                if code is not None:
                    self.assertEqual(x["error_code"], code, x)
            self.assertEqual(env.total_added(), 0)
            env.kill_key(key)

    def test_lying_exclude(self):
        """CTAP2_ERR_CREDENTIAL_EXCLUDED (0x19) to an empty exclude list
        is a lie: the user fails with that reason (exit 1), not "skipped,
        already registered" (exit 0).  To a non-empty list it still means
        the key holds the user's passkey."""
        env = e2e.Env(self, name="lying")
        liar = env.add_key("liar", pin=PIN, fail="status:mc=0x19")
        pe = env.env(E2E_PIN=PIN)
        alice = "alice" + D
        r = env.run("enroll", alice, "--parallel", "--device", liar.path,
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 1, r)
        self.assertNotIn("already registered", r.err)
        self.assertIn("none was excluded", r.err)
        rows = env.failures()
        self.assertEqual([(x["user"], x["stage"], x["error_code"])
                          for x in rows],
                         [(alice, "key", "key_false_excluded")], rows)
        self.assertIn("the key claims to hold this user's passkey, but "
                      "none was excluded", rows[0]["message"])
        self.assertEqual(env.total_added(), 0)
        self.assertNotEqual(env.journal()[alice]["state"], "skipped")

        # an honest key enrolls her; then, with her passkey excluded,
        # 0x19 from a key is believed: skipped, nothing added
        honest = env.add_key("honest", pin=PIN)
        r = env.run("enroll", alice, "--parallel", "--device", honest.path,
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([alice])
        r = env.run("enroll", alice, "--another", "--replace", "--parallel",
                    "--device", liar.path, "--pin", "keep", "--pin-env",
                    "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("already registered", r.err)
        env.assert_one_passkey([alice])


if __name__ == "__main__":
    unittest.main(verbosity=2)
