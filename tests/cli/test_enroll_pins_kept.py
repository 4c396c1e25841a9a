#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Keys this tool gave a random PIN stay usable.

- `auto --parallel --pin random`: a key given a PIN in the first round
  enrolls the user added for the second round (it is not set aside as
  "the key already has a PIN").
- a second run of `enroll --parallel --pin random --pins-out F` on the
  same keys takes their PINs from F, the file the first run wrote.
- a PIN file that others can read is not used (and says so).
"""

import csv
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

D = "@contoso.example"


def pins_of(path):
    with open(path, newline="") as f:
        return {r["device"]: r["pin"] for r in csv.DictReader(f)}


class PinsKept(unittest.TestCase):
    def csv(self, env, name, users):
        return env.write(name, "userPrincipalName\n" +
                         "".join(u + D + "\n" for u in users))

    def test_auto_next_round(self):
        env = e2e.Env(self, name="pinsauto")
        env.add_key()                       # blank: no PIN
        pins = env.path("pins.csv")
        p = env.spawn("auto", "--group", "Pilot", "--interval", "1",
                      "--parallel", "--pin", "random", "--pins-out", pins,
                      tag="auto")
        try:
            e2e.wait_for(lambda: all(env.added(env.users()[u]) for u in (
                "alice" + D, "dave" + D)), 60, what="the first round")
            self.assertEqual(len(pins_of(pins)), 1)
            env.emu.add_user(e2e.member("newbie"), groups=["Pilot Nested"])
            e2e.wait_for(lambda: env.added(env.users()["newbie" + D]), 30,
                         what="the second round's user")
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        r = env.finish(p, timeout=30)
        self.assertNotIn("already has a PIN", r.err)
        env.assert_one_passkey(["alice", "dave", "newbie"])
        # one key, one PIN, set once
        self.assertEqual(len(pins_of(pins)), 1)

    def test_rerun_reads_pins_file(self):
        env = e2e.Env(self, name="pinsrerun")
        env.add_key()
        env.add_key()
        pins = env.path("pins.csv")

        def enroll(path, pinfile=pins):
            return env.run("enroll", "--csv", path, "--parallel", "--pin",
                           "random", "--pins-out", pinfile)

        r = enroll(self.csv(env, "a.csv", ["alice", "helpdesk"]))
        self.assertEqual(r.rc, 0, r)
        first = pins_of(pins)
        self.assertEqual(len(first), 2)

        r = enroll(self.csv(env, "b.csv", ["carol", "dave"]))
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("already has a PIN", r.err)
        self.assertIn("2 enrolled, 0 failed", r.err)
        # the keys kept their PINs: no new row
        self.assertEqual(pins_of(pins), first)
        env.assert_one_passkey(["alice", "helpdesk", "carol", "dave"])

        # a PIN file others can read is refused, its PINs unused
        os.chmod(pins, 0o644)
        r = enroll(self.csv(env, "c.csv", ["erin2"]))
        self.assertNotEqual(r.rc, 0, r)
        self.assertIn(pins, r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
