#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""One key per user, as a kiosk or a help desk swapping keys.

`kiosk --csv` (and plain `enroll` without --same-key/--parallel) give
each user their own key: the run waits for a key it has not used yet,
notices a key that was pulled out and a new one plugged in (even at the
same path), and never puts a second user on a key.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "62831853"
USERS = ["alice@contoso.example", "dave@contoso.example",
         "carol@contoso.example"]


class Kiosk(unittest.TestCase):
    def test_one_key_per_user_with_swaps(self):
        env = e2e.Env(self, name="kiosk")
        env.write("users.csv", "upn\n" + "\n".join(USERS) + "\n")
        # nothing plugged in yet: the kiosk waits for the first key
        p = env.spawn("kiosk", "--csv", "users.csv", "--pin", "random",
                      "--pins-out", "pins.csv", env=env.env())
        time.sleep(1.0)
        self.assertIsNone(p.poll(), "kiosk ended without a key")
        self.assertEqual(env.total_added(), 0)
        k1 = env.add_key("first")
        e2e.wait_for(lambda: env.total_added() == 1, 30, what="user 1")
        # the same key stays plugged in: no second user goes on it
        time.sleep(1.0)
        self.assertEqual(env.total_added(), 1)
        self.assertIn("insert a new security key",
                      env.read(p.err_path))
        k2 = env.add_key("second")
        e2e.wait_for(lambda: env.total_added() == 2, 30, what="user 2")
        # pull the first key and plug a new one in at the same path
        env.kill_key(k1)
        os.unlink(k1.state)     # a new, blank key
        time.sleep(0.6)         # the kiosk polls every 300 ms
        k3 = env.add_key("first")
        try:
            e2e.wait_for(lambda: env.total_added() == 3, 30, what="user 3")
        except AssertionError:
            self.fail(env.read(p.err_path))
        r = env.finish(p, timeout=30)
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(USERS)
        rows = env.report()
        self.assertEqual(sorted(x["user"] for x in rows), sorted(USERS))
        devices = [x["device"] for x in rows]
        # three users, three distinct keys (k3 reuses k1's path)
        self.assertEqual(sorted(devices), sorted(
            [k1.path, k2.path, k3.path]))
        self.assertEqual(len(methods), 3)
        # one PIN per key, each written once
        with open(env.path("pins.csv")) as f:
            self.assertEqual(len(f.read().strip().splitlines()), 1 + 3)
        self.assertEqual(os.stat(env.path("pins.csv")).st_mode & 0o777,
                         0o600)


if __name__ == "__main__":
    unittest.main()
