#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""rp.id is pinned to login.microsoft.com.

A Graph (or something posing as it) that serves creationOptions for
another relying party would have the key make a passkey for that party.
Such options are refused before any key is touched: the user fails at
stage "options" with the foreign rp.id named, the key makes no
credential, and nothing is registered.  A trailing dot or another case
is the same host and passes; a doubled dot does not.
"""

import hashlib
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "31415926"
ALICE = "alice@contoso.example"


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class EnrollRpId(unittest.TestCase):
    def test_foreign_rp_refused(self):
        env = e2e.Env(self, name="rpid")
        key = env.add_key(pin=PIN)
        pe = env.env(E2E_PIN=PIN)
        before = sha(key.state)
        nfail = 0

        for rp in ("login.microsoft.com.evil.example", "evil.example",
                   "login..microsoft.com"):
            env.emu.set_settings(creation_options_rp_id=rp)
            r = env.run("enroll", ALICE, "--parallel", "--pin", "keep",
                        "--pin-env", "E2E_PIN", env=pe)
            self.assertEqual(r.rc, 1, r)
            self.assertIn('relying party "%s", not login.microsoft.com'
                          % rp, r.err)
            rows = env.failures()[nfail:]
            nfail += len(rows)
            self.assertEqual([(x["user"], x["stage"], x["error_code"])
                              for x in rows],
                             [(ALICE, "options", "foreign_rp")], rows)
            self.assertIn('"%s"' % rp, rows[0]["message"])
            self.assertEqual(env.key_commands(key).count("0x01"), 0, rp)
            self.assertEqual(sha(key.state), before, rp)
            self.assertEqual(env.total_added(), 0)

        # the same host in another case is not foreign: it
        # reaches the key (and Entra's rpIdHash check decides)
        env.emu.set_settings(creation_options_rp_id="LOGIN.microsoft.com")
        r = env.run("enroll", ALICE, "--parallel", "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=pe)
        self.assertNotIn("relying party", r.err)
        self.assertGreater(env.key_commands(key).count("0x01"), 0, r)

        # Entra's own rp.id enrolls as always
        env.emu.set_settings(creation_options_rp_id=None)
        r = env.run("enroll", "helpdesk@contoso.example", "--parallel",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(["helpdesk"])

        # the tests' override moves the pin: Entra's is then foreign
        r = env.run("enroll", "carol@contoso.example", "--parallel",
                    "--pin", "keep", "--pin-env", "E2E_PIN",
                    env=env.env(E2E_PIN=PIN,
                                PROVISIONING_TEST_RP_ID="rp.test"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn('relying party "login.microsoft.com", not rp.test',
                      r.err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
