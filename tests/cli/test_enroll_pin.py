#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""PINs in the enroll pipeline.

- --pin keep with the wrong PIN for one of two keys: that key is set
  aside after ONE wrong try (the message names the wrong PIN and the
  retries left), and every user is enrolled on the other key.  A key
  whose PIN is blocked is set aside the same way.
- --pin random --pins-out F on blank keys: F is mode 0600 with one PIN
  per key, each PIN really is the key's PIN (a later --pin keep run with
  it succeeds), and no PIN appears anywhere else: stdout, stderr (also
  with -v -v), report, failures or the journal.
"""

import os
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

GOOD = "24680135"
WRONG = "97531864"


def config(prefix, n):
    cfg = e2e.basic_config()
    cfg["users"] += [e2e.member("%s%d" % (prefix, i))
                     for i in range(1, n + 1)]
    return cfg


class EnrollPin(unittest.TestCase):
    def one_bad_key(self, name, block=False, **bad):
        env = e2e.Env(self, config("pin", 6), name=name)
        badk = env.add_key("key1", presence="delay:100", **bad)
        good = env.add_key("key2", pin=GOOD, presence="delay:100")
        if block:
            # spend all 8 retries, one connection each (a reconnect
            # clears the three-in-a-row block, never the count)
            for i in range(8):
                r = env.run("--device", badk.path, "pin", "change",
                            "--old-pin-env", "E2E_PIN", "--pin-env", "NEW",
                            env=env.env(E2E_PIN=GOOD, NEW="13572468"))
                self.assertNotEqual(r.rc, 0, r)
            self.assertEqual(env.read(badk.log).count("-> 0x31"), 7)
            self.assertEqual(env.read(badk.log).count("-> 0x32"), 1)
        upns = ["pin%d@contoso.example" % i for i in range(1, 7)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        r = env.run("enroll", "--csv", env.path("users.csv"), "--parallel",
                    "--pin", "keep", "--pin-env", "E2E_PIN",
                    env=env.env(E2E_PIN=GOOD))
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(upns)
        rows = env.report()
        env.assert_report_matches(rows, methods)
        self.assertEqual({x["device"] for x in rows}, {good.path})
        self.assertEqual(env.failures(), [])
        self.assertNotIn(GOOD, r.out + r.err)
        return env, badk, r

    def test_wrong_pin_key_set_aside(self):
        env, bad, r = self.one_bad_key("wrongpin", pin=WRONG)
        self.assertRegex(r.err, r"key %s set aside: wrong PIN \(7 retries "
                         r"left\)" % bad.name)
        self.assertNotIn(WRONG, r.out + r.err)
        # exactly one wrong PIN was spent on it (0x31 PIN_INVALID)
        log = env.read(bad.log)
        self.assertEqual(log.count("-> 0x31"), 1, log)
        self.assertEqual(env.key_commands(bad).count("0x01"), 0)

    def test_blocked_pin_key_set_aside(self):
        env, bad, r = self.one_bad_key("blockedpin", block=True, pin=WRONG)
        self.assertRegex(r.err, r"key %s set aside: PIN blocked" % bad.name)
        self.assertEqual(env.key_commands(bad).count("0x01"), 0)

    def test_random_pins_out(self):
        env = e2e.Env(self, config("rnd", 6), name="pinsout")
        keys = env.add_keys(2, presence="delay:50")
        upns = ["rnd%d@contoso.example" % i for i in range(1, 5)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        pins = env.path("pins.csv")
        r = env.run("-v", "-v", "enroll", "--csv", env.path("users.csv"),
                    "--parallel", "--pin", "random", "--pins-out", pins)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(stat.S_IMODE(os.stat(pins).st_mode), 0o600)
        rows = env.read_csv(pins)
        self.assertEqual(len(rows), 2, rows)
        self.assertEqual(sorted(x["device"] for x in rows),
                         sorted(k.path for k in keys))
        secrets = [x["pin"] for x in rows]
        for p in secrets:
            self.assertRegex(p, r"^\S{8,}$")
        self.assertNotEqual(secrets[0], secrets[1])
        methods = env.assert_one_passkey(upns)
        env.assert_report_matches(env.report(), methods)

        def leaks(r):
            blobs = {"stdout": r.out, "stderr": r.err}
            for name in ("report.csv", "failures.csv"):
                if os.path.exists(env.path(name)):
                    blobs[name] = env.read(env.path(name))
            blobs["journal"] = env.journal_bytes().decode("latin-1")
            return [(p, where) for p in secrets
                    for where, text in blobs.items() if p in text]

        self.assertEqual(leaks(r), [])
        # each PIN is the key's: --pin keep with it enrolls one more user
        for row, upn in zip(rows, ("rnd5@contoso.example",
                                   "rnd6@contoso.example")):
            r2 = env.run("-v", "--device", row["device"], "enroll", upn,
                         "--same-key", "--pin", "keep", "--pin-env",
                         "E2E_PIN", env=env.env(E2E_PIN=row["pin"]))
            self.assertEqual(r2.rc, 0, r2)
            self.assertEqual(env.report()[-1]["device"], row["device"])
            self.assertEqual(leaks(r2), [])
        env.assert_one_passkey(upns + ["rnd5", "rnd6"])
        # a failure row does not leak either: a user that does not exist
        r3 = env.run("-v", "-v", "--device", rows[0]["device"], "enroll",
                     "ghost@contoso.example", "--same-key", "--pin", "keep",
                     "--pin-env", "E2E_PIN",
                     env=env.env(E2E_PIN=rows[0]["pin"]))
        self.assertEqual(r3.rc, 1, r3)
        self.assertEqual(len(env.failures()), 1)
        self.assertEqual(leaks(r3), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
