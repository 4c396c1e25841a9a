#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The kiosk hands out blank keys only.

Through the real binary against the emulator and vauth keys: a key that
already holds a passkey is refused (no makeCredential on it) unless
--reset-keys, which wipes it and goes on; a key with a PIN the station
cannot know is refused with "reset it (--reset-keys) or use --pin keep",
or wiped with --reset-keys.  The user of a refused key waits for the
next key and is enrolled once.
"""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "80246813"
USER = "alice@contoso.example"


def events(text):
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def make_credentials(log):
    with open(log) as f:
        return sum(1 for x in f if "makeCredential" in x and "ok" in x)


class Hygiene(unittest.TestCase):
    def used_key(self, env, name):
        """A key that holds carol's passkey, with PIN set."""
        k = env.add_key(name, pin=PIN)
        r = env.run("enroll", "carol@contoso.example", "--device",
                    "unix:" + k.sock, "--pin", "keep", "--pin-env",
                    "KEY_PIN", env=env.env(KEY_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        return k

    def kiosk(self, env, *extra, pin=("--pin", "keep", "--pin-env",
                                      "KEY_PIN")):
        env.write("users.csv", "upn\n%s\n" % USER)
        return env.spawn("--json", "kiosk", "--csv", "users.csv", *pin,
                         "--pins-out", "pins.csv", *extra,
                         env=env.env(KEY_PIN=PIN))

    def refused(self, env, p, slot):
        e2e.wait_for(lambda: any(
            e["slot"] == slot and e["state"] == "refused"
            for e in events(env.read(p.out_path))), 30, what="refused")
        return [e for e in events(env.read(p.out_path))
                if e["slot"] == slot and e["state"] == "refused"][0]

    def test_key_with_passkeys_refused(self):
        env = e2e.Env(self, name="hyg-used")
        k = self.used_key(env, "used")
        before = make_credentials(k.log)
        p = self.kiosk(env)
        ev = self.refused(env, p, "used")
        self.assertIn("holds 1 passkey", ev["message"])
        self.assertIn("--reset-keys", ev["message"])
        self.assertEqual(make_credentials(k.log), before)
        # the user waits for a good key
        env.add_key("fresh", pin=PIN)
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([USER])
        done = [e["slot"] for e in events(env.read(p.out_path))
                if e["state"] == "done"]
        self.assertEqual(done, ["fresh"])
        self.assertEqual(make_credentials(k.log), before)

    def test_reset_keys_wipes_a_used_key(self):
        env = e2e.Env(self, name="hyg-reset")
        k = self.used_key(env, "used2")
        p = self.kiosk(env, "--reset-keys")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([USER])
        self.assertIn("reset: PIN and credentials wiped", env.read(k.log))
        msgs = [e["message"] for e in events(env.read(p.out_path))]
        self.assertTrue(any("resetting it" in m for m in msgs), msgs)

    def test_unknown_pin_refused(self):
        env = e2e.Env(self, name="hyg-pin")
        k = env.add_key("locked", pin="11223344")
        p = self.kiosk(env, pin=("--pin", "random"))
        ev = self.refused(env, p, "locked")
        self.assertIn("reset it (--reset-keys) or use --pin keep",
                      ev["message"])
        self.assertEqual(make_credentials(k.log), 0)
        env.add_key("blank")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([USER])

    def test_unknown_pin_reset(self):
        env = e2e.Env(self, name="hyg-pin-reset")
        k = env.add_key("locked2", pin="11223344")
        p = self.kiosk(env, "--reset-keys", pin=("--pin", "random"))
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([USER])
        self.assertIn("reset: PIN and credentials wiped", env.read(k.log))

    def test_reset_keys_is_for_kiosk(self):
        env = e2e.Env(self, name="hyg-usage")
        r = env.run("enroll", USER, "--reset-keys")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--reset-keys is for kiosk", r.err)


if __name__ == "__main__":
    unittest.main()
