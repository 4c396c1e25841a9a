#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Two journals, one CSV: one passkey per user, not two.

Two stations (here: two state directories) enroll the same CSV.  The
second run must see, from the users' creationOptions, that Entra already
holds a passkey for each of them and skip them before any key is
touched: "already holds a passkey (1); use --another to add one",
counted as skipped, journalled as skipped, exit 0, Entra still holding
exactly one passkey per user.  `--another` enrolls anyway, on another
key (the exclude list still goes to the key: the key that holds the
user's passkey makes no second one).  `--another` with `--group` (and
so with auto) is a usage error naming both.
"""

import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "27182818"
D = "@contoso.example"
USERS = ["two%d" % i for i in range(1, 4)]


def mc_pin(env, key):
    """makeCredential and clientPIN commands the key answered so far."""
    c = env.key_commands(key)
    return c.count("0x01"), c.count("0x06")


class EnrollAnother(unittest.TestCase):
    def test_two_state_dirs_one_csv(self):
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member(u) for u in USERS]
        env = e2e.Env(self, cfg, name="another")
        key1, key2 = env.add_keys(2, pin=PIN)
        csvp = env.write("users.csv", "upn\n" + "".join(
            u + D + "\n" for u in USERS))

        def station(name):
            """Another state dir: the same sign-in, no journal."""
            d = os.path.join(env.tmp, name)
            shutil.copytree(env.state_dir, d)
            for f in os.listdir(d):
                if f.startswith("journal"):
                    os.unlink(os.path.join(d, f))
            return d

        def enroll(*extra, state=None):
            e = env.env(E2E_PIN=PIN)
            if state is not None:
                e["PROVISIONING_STATE_DIR"] = state
            return env.run("enroll", "--csv", csvp, "--parallel", "--pin",
                           "keep", "--pin-env", "E2E_PIN", *extra, env=e)

        # station 1 enrolls everyone
        r = enroll("--device", key1.path)
        self.assertEqual(r.rc, 0, r)
        first = env.assert_one_passkey(USERS)

        # station 2 (its own journal and key, signed in there too) sees
        # that every user holds a passkey: skipped, its key never asked
        other = station("station2")
        before = mc_pin(env, key2)
        r = enroll("--device", key2.path, state=other)
        self.assertEqual(r.rc, 0, r)
        for u in USERS:
            self.assertIn("%s%s: skipped (already holds a passkey (1); "
                          "use --another to add one)" % (u, D), r.err)
        self.assertIn("0 enrolled, 0 failed, 3 skipped, of 3 users", r.err)
        self.assertEqual(mc_pin(env, key2), before, "the key was touched")
        self.assertEqual(env.assert_one_passkey(USERS), first)
        self.assertEqual(env.failures(), [])
        env.state_dir, saved = other, env.state_dir
        j = env.journal()
        env.state_dir = saved
        for u in USERS:
            row = j[(u + D).lower()]
            self.assertEqual(row["state"], "skipped", row)
            self.assertIn("already holds a passkey", row["reason"], row)

        # --another on the key that holds their passkeys: the exclude
        # list still reaches it, so nothing is registered twice
        r = enroll("--another", "--device", key1.path, state=other)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("already registered", r.err)
        self.assertEqual(env.assert_one_passkey(USERS), first)

        # --another on a second key: a second passkey each, on purpose
        r = enroll("--another", "--device", key2.path, state=other)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("3 enrolled, 0 failed, 0 skipped", r.err)
        users = env.users()
        for u in USERS:
            ms = env.added(users[(u + D).lower()])
            self.assertEqual(len(ms), 2, ms)
            self.assertIn(first[(u + D).lower()], ms)
            for m in ms:
                v = m.get("verification") or {}
                self.assertEqual(v.get("fmt"), "packed", m)
                self.assertEqual(v.get("origin"),
                                 "https://login.microsoft.com", m)

        # a USER run skips as well (one user on the command line)
        r = env.run("enroll", USERS[0] + D, "--parallel", "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=env.env(
                        E2E_PIN=PIN,
                        PROVISIONING_STATE_DIR=station("station3")))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("already holds a passkey (2)", r.err)
        self.assertEqual(len(env.passkeys(USERS[0])), 2)

    def test_kiosk_csv(self):
        """kiosk --csv decides as enroll does: bob (three passkeys) is
        skipped before any key is asked for; with --another he gets one
        more."""
        env = e2e.Env(self, name="anotherkiosk")
        env.add_key("k1")
        env.write("users.csv", "upn\nbob" + D + "\nalice" + D + "\n")
        r = env.run("kiosk", "--csv", "users.csv", "--pin", "random",
                    "--pins-out", "pins.csv", timeout=60)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("bob%s: skipped (already holds a passkey (3); use "
                      "--another to add one)" % D, r.err)
        self.assertIn("1 enrolled, 0 failed, 1 skipped, of 2 users", r.err)
        env.assert_one_passkey(["alice"])
        self.assertEqual(env.passkeys("bob"), [])
        self.assertEqual(len(env.users()["bob" + D]["fido2Methods"]), 3)
        env.write("bob.csv", "upn\nbob" + D + "\n")
        env.add_key("k2")
        r = env.run("kiosk", "--csv", "bob.csv", "--another", "--pin",
                    "random", "--pins-out", "pins.csv", timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(["bob"])
        self.assertEqual(len(env.users()["bob" + D]["fido2Methods"]), 4)

    def test_another_group_usage(self):
        env = e2e.Env(self, name="anothergrp", login=False)
        regs = None
        for argv in (["enroll", "--group", "Pilot", "--another"],
                     ["auto", "--group", "Pilot", "--another"],
                     ["kiosk", "--another", "--group", "Pilot"]):
            regs = env.state()["requests"]["total"]
            r = env.run(*argv)
            self.assertEqual(r.rc, 2, r)
            self.assertIn("--another", r.err)
            self.assertIn("--group", r.err)
            self.assertEqual(env.state()["requests"]["total"], regs)
        # PROVISIONING_GROUP is a group too
        r = env.run("auto", "--another",
                    env=env.env(PROVISIONING_GROUP="Pilot"))
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--group", r.err)
        # the help says what --another is for
        r = env.run("enroll", "--help")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("--another", r.out)
        self.assertIn("already holds a passkey", r.out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
