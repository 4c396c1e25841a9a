#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A challenge close to its challengeTimeoutDateTime is fetched again
before the key is touched, so a slow operator never
spends a touch on a challenge Graph will refuse."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "73914682"


def options_fetches(env):
    return sum(n for k, n in env.state()["requests"]["counts"].items()
               if "creationOptions" in k and k.endswith(" 200"))


class Challenge(unittest.TestCase):
    def test_fresh_challenge_is_used_once(self):
        env = e2e.Env(self, name="chal-fresh")
        k = env.add_key(pin=PIN)
        r = env.run("--device", k.path, "enroll", "alice@contoso.example",
                    "--pin", "keep", "--pin-env", "PIN",
                    env=env.env(PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(options_fetches(env), 1)

    def test_nearly_expired_challenge_is_refetched(self):
        env = e2e.Env(self, name="chal-stale")
        k = env.add_key(pin=PIN)
        # Graph's clock 260 s behind ours: every challenge it hands out
        # expires 40 s from now by our clock, inside the safety margin
        env.emu.control("POST", "clock", {"offset": -260})
        r = env.run("--device", k.path, "-v", "enroll",
                    "alice@contoso.example", "--pin", "keep", "--pin-env",
                    "PIN", env=env.env(PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(options_fetches(env), 2, r.err)
        env.assert_one_passkey(["alice@contoso.example"])


if __name__ == "__main__":
    unittest.main()
