#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Passkey profiles (2026): what doctor says of two key models.

The tenant has two profiles: the default one (for all_users) blocks the
vauth AAGUID; "Engineering keys" (for the Pilot group) allows only the
other model; the Pilot Nested group is excluded.  With one vauth key of
each model attached:

- `doctor` lists both profiles with what they admit and their targets;
- `doctor alice` (Pilot) names both of her profiles, refuses the vauth
  model naming the default profile's block list, and accepts the other;
- `doctor carol` (not in Pilot) has the default profile only;
- `doctor dave` (excluded) has none, and both keys are refused;
- the emulator, like Entra, refuses the registration of a blocked
  model (400 naming the profiles); the other model registers;
- enroll reads the policy while it resolves its first users: a held
  policy request is answered after the user lookup, and before the
  user's profiles, the challenge or the key.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "27182818"
D = "@contoso.example"
VAUTH_AAGUID = "76617574-682d-7465-7374-2d6b65790001"
OTHER_AAGUID = "0bb43545-fd2c-4185-87dd-feb0b2916ace"
DEFAULT = "00000000-0000-0000-0000-000000000001"
PILOT = "b0000000-0000-4000-8000-000000000001"
NESTED = "b0000000-0000-4000-8000-000000000002"


def config():
    cfg = e2e.basic_config()
    cfg["policy"] = {
        "state": "enabled", "isSelfServiceRegistrationAllowed": True,
        "includeTargets": [
            {"targetType": "group", "id": "all_users",
             "allowedPasskeyProfiles": [DEFAULT]},
            {"targetType": "group", "id": PILOT,
             "allowedPasskeyProfiles": ["p-eng"]}],
        "excludeTargets": [{"targetType": "group", "id": NESTED}],
        "passkeyProfiles": [
            {"id": DEFAULT, "name": "Default passkey profile",
             "passkeyTypes": "deviceBound,synced",
             "attestationEnforcement": "disabled",
             "keyRestrictions": {"isEnforced": True,
                                 "enforcementType": "block",
                                 "aaGuids": [VAUTH_AAGUID]}},
            {"id": "p-eng", "name": "Engineering keys",
             "passkeyTypes": "deviceBound",
             "attestationEnforcement": "disabled",
             "keyRestrictions": {"isEnforced": True,
                                 "enforcementType": "allow",
                                 "aaGuids": [OTHER_AAGUID]}}]}
    return cfg


def lines(out, name):
    return [ln for ln in out.splitlines() if name in ln]


class Profiles(unittest.TestCase):
    def setUp(self):
        self.env = e2e.Env(self, config(), name="profiles")
        self.k1 = self.env.add_key("k1", pin=PIN)
        self.k2 = self.env.add_key("k2", "--aaguid", OTHER_AAGUID, pin=PIN)

    def doctor(self, *args):
        r = self.env.run("doctor", *args)
        return r

    def test_doctor_lists_profiles(self):
        r = self.doctor()
        prof = lines(r.out, "policy.profile ")
        self.assertEqual(len(prof), 2, r)
        self.assertIn("'Default passkey profile': deviceBound,synced "
                      "passkeys; attestation not enforced; block list of "
                      "1 AAGUID; for all_users", prof[0])
        self.assertIn("'Engineering keys': deviceBound passkeys; "
                      "attestation not enforced; allow list of 1 AAGUID; "
                      "for " + PILOT, prof[1])
        self.assertNotIn("policy.keys", r.out)
        k1 = [ln for ln in lines(r.out, self.k1.path) if "AAGUID" not in
              ln or "refused" in ln]
        self.assertTrue(any(ln.startswith("FAIL") and "refused" in ln
                            for ln in k1), r.out)
        self.assertTrue(any(ln.startswith("ok") and "accepted by" in ln
                            for ln in lines(r.out, self.k2.path)), r.out)

    def test_doctor_user(self):
        r = self.doctor("alice" + D)
        self.assertIn("passkey profiles for the user: 'Default passkey "
                      "profile', 'Engineering keys'", r.out)
        k1 = [ln for ln in lines(r.out, self.k1.path) if "refused" in ln]
        self.assertEqual(len(k1), 1, r.out)
        self.assertTrue(k1[0].startswith("FAIL"))
        self.assertIn("refused for alice" + D + ": AAGUID " + VAUTH_AAGUID +
                      " is in the block list of passkey profile 'Default "
                      "passkey profile'", k1[0])
        self.assertTrue(any("accepted for alice" + D + " by passkey "
                            "profile 'Default passkey profile'" in ln
                            for ln in lines(r.out, self.k2.path)), r.out)
        self.assertEqual(r.rc, 1, r)

        r = self.doctor("carol" + D)
        self.assertIn("passkey profiles for the user: 'Default passkey "
                      "profile'\n", r.out)

        r = self.doctor("dave" + D)
        self.assertIn("no passkey profile applies to the user", r.out)
        refused = [ln for ln in r.out.splitlines() if "refused for dave" in
                   ln]
        self.assertEqual(len(refused), 2, r.out)
        for ln in refused:
            self.assertIn("no passkey profile applies to the user", ln)

    def test_emulator_enforces_profiles(self):
        pe = self.env.env(E2E_PIN=PIN)
        r = self.env.run("--device", self.k1.path, "enroll", "carol" + D,
                         "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertNotEqual(r.rc, 0, r)
        # refused before the touch, naming the profile
        self.assertIn("is in the block list of passkey profile 'Default "
                      "passkey profile'", r.err)
        self.assertEqual(self.env.key_commands(self.k1).count("0x01"), 0)
        self.assertEqual(self.env.passkeys("carol" + D), [])
        r = self.env.run("--device", self.k2.path, "enroll", "carol" + D,
                         "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(self.env.passkeys("carol" + D)), 1)

    def test_users_resolved_while_the_policy_is_read(self):
        """The policy is read alongside the first $batch; keys wait for it."""
        env = self.env
        env.write("users.csv", "upn\ncarol%s\n" % D)
        env.emu.set_faults([{"path": "authenticationMethodsPolicy",
                             "method": "GET", "kind": "slow",
                             "delay_ms": 1500, "count": 1}])
        r = env.run("--device", self.k2.path, "enroll", "--csv",
                    env.path("users.csv"), "--pin", "keep", "--pin-env",
                    "E2E_PIN", env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        # the emulator logs a request as it answers it
        paths = [q["path"] for q in env.emu.requests()]

        def first(pat):
            hits = [i for i, p in enumerate(paths) if pat in p]
            self.assertTrue(hits, (pat, paths))
            return hits[0]
        policy = first("authenticationMethodsPolicy")
        self.assertLess(first("/users/carol%40"), policy, paths)
        # the user's profiles, the challenge and the key waited for it
        self.assertLess(policy, first("/transitiveMemberOf"), paths)
        self.assertLess(policy, first("/creationOptions"), paths)
        self.assertEqual(env.key_commands(self.k2).count("0x01"), 1)
        self.assertEqual(len(env.passkeys("carol" + D)), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
