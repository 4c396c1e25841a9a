#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Know before the touch: passkey profiles and FIDO metadata decide
whether a key is used, before any PIN is set or credential made.

The tenant has two passkey profiles: "Attested keys" (for all_users,
attestation enforced) and "Blocked models" (for the Pilot group, which
blocks one AAGUID).  A test MDS BLOB (mds_gen.py) lists vauth's model
with vauth's attestation root, a revoked model, and a model whose root
is another CA; the emulator, like Entra, trusts vauth's root.  vauth
keys of each model are attached and their CTAP logs counted:

- a blocked model, a revoked model and a model not in the metadata
  are refused before the touch: no makeCredential (0x01) and no
  clientPIN (0x06) on the key, the reason and the profile's name on
  the line and in failures.csv;
- self attestation, and a model whose attestation does not chain to
  the metadata's root, are touched but not POSTed;
- vauth's own model (packed, root in the metadata) registers, and the
  emulator's python-fido2 verifies its attestation;
- stale metadata is a warning, missing metadata is said clearly;
- --dry-run and doctor USER say the same of the attached keys.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "27182818"
D = "@contoso.example"
GEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mds_gen.py")
VAUTH_AAGUID = "76617574-682d-7465-7374-2d6b65790001"
REVOKED_AAGUID = "0badc0de-0000-4000-8000-00000000dead"
ATT_AAGUID = "a77e57ed-0000-4000-8000-000000000a77"
OTHER_AAGUID = "0bb43545-fd2c-4185-87dd-feb0b2916ace"
BLOCKED_AAGUID = "b10cced0-0000-4000-8000-00000000b10c"
DEFAULT = "00000000-0000-0000-0000-000000000001"
PILOT = "b0000000-0000-4000-8000-000000000001"


class Pki:
    """vauth's attestation CA and the test BLOBs, made once."""
    tmp = None

    @classmethod
    def make(cls):
        if cls.tmp is not None:
            return cls
        cls.tmp = tempfile.mkdtemp(prefix="preflight-pki.")
        cls.ca = os.path.join(cls.tmp, "attestation-ca.pem")
        cls.root = os.path.join(cls.tmp, "vauth-root.pem")
        subprocess.run([e2e.VAUTH, "--export-ca", cls.root, "--ca", cls.ca],
                       check=True, timeout=60)
        cls.root_der = os.path.join(cls.tmp, "vauth-root.der")
        subprocess.run(["openssl", "x509", "-in", cls.root, "-outform",
                        "DER", "-out", cls.root_der], check=True,
                       timeout=60)
        cls.gen = os.path.join(cls.tmp, "gen")
        subprocess.run([sys.executable, GEN, cls.gen, "--vauth-root",
                        cls.root], check=True, timeout=120)
        return cls


def config(pki):
    cfg = e2e.basic_config()
    cfg["attestation_roots"] = [pki.root_der]
    cfg["users"] += [e2e.member(u) for u in ("pf1", "pf2", "pf3", "pf4",
                                             "pf5")]
    cfg["policy"] = {
        "state": "enabled", "isSelfServiceRegistrationAllowed": True,
        "includeTargets": [
            {"targetType": "group", "id": "all_users",
             "allowedPasskeyProfiles": [DEFAULT]},
            {"targetType": "group", "id": PILOT,
             "allowedPasskeyProfiles": ["p-block"]}],
        "excludeTargets": [],
        "passkeyProfiles": [
            {"id": DEFAULT, "name": "Attested keys",
             "passkeyTypes": "deviceBound",
             "attestationEnforcement": "registrationOnly",
             "keyRestrictions": {"isEnforced": False,
                                 "enforcementType": "block",
                                 "aaGuids": []}},
            {"id": "p-block", "name": "Blocked models",
             "passkeyTypes": "deviceBound",
             "attestationEnforcement": "disabled",
             "keyRestrictions": {"isEnforced": True,
                                 "enforcementType": "block",
                                 "aaGuids": [BLOCKED_AAGUID]}}]}
    return cfg


class Preflight(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pki = Pki.make()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki.tmp, ignore_errors=True)
        Pki.tmp = None

    def setUp(self):
        self.env = e2e.Env(self, config(self.pki), name="preflight")
        shutil.copy(self.pki.ca, os.path.join(self.env.tmp,
                                              "attestation-ca.pem"))

    def mds(self, blob="valid"):
        r = self.env.run("--mds-root", os.path.join(self.pki.gen,
                                                   "roots.pem"),
                         "mds", "update", os.path.join(self.pki.gen,
                                                       blob + ".jwt"))
        self.assertEqual(r.rc, 0, r)
        return r

    def enroll(self, key, user, *extra):
        return self.env.run("--device", key.path, "enroll", user + D,
                            "--pin", "random", "--pins-out", "pins.csv",
                            *extra)

    def untouched(self, key):
        cmds = self.env.key_commands(key)
        self.assertEqual(cmds.count("0x01"), 0, cmds)   # makeCredential
        self.assertEqual(cmds.count("0x06"), 0, cmds)   # clientPIN

    def refused(self, key, user, *what):
        r = self.enroll(key, user)
        self.assertEqual(r.rc, 1, r)
        self.untouched(key)
        self.assertEqual(self.env.passkeys(user + D), [])
        rows = [f for f in self.env.failures() if f["user"] == user + D]
        self.assertEqual(len(rows), 1, self.env.failures())
        for w in what:
            self.assertIn(w, rows[0]["message"], rows[0])
            self.assertIn(w, r.err, r)
        return r, rows[0]

    def test_refused_before_the_touch(self):
        self.mds()
        rev = self.env.add_key("rev", "--aaguid", REVOKED_AAGUID)
        unk = self.env.add_key("unk", "--aaguid", OTHER_AAGUID)
        r, row = self.refused(rev, "pf1", "REVOKED", "'Attested keys'")
        self.assertEqual(row["error_code"], "key_revoked", row)
        r, row = self.refused(unk, "pf2", "not in the FIDO metadata",
                              "'Attested keys'", OTHER_AAGUID)
        self.assertEqual(row["error_code"], "key_not_in_mds", row)
        # and the right model registers, verified by the emulator
        good = self.env.add_key("good")
        r = self.enroll(good, "pf3")
        self.assertEqual(r.rc, 0, r)
        pk = self.env.passkeys("pf3" + D)
        self.assertEqual(len(pk), 1)
        self.assertEqual(pk[0]["aaGuid"], VAUTH_AAGUID)
        self.assertEqual(pk[0]["attestationLevel"], "attested")
        self.assertNotIn("Entra recorded", r.err)
        self.assertEqual(self.env.key_commands(good).count("0x01"), 1)

    def test_blocked_by_profile(self):
        # carol is not in Pilot; alice is: "Blocked models" applies
        # to her, "Attested keys" refuses the model (not in the MDS)
        self.mds()
        blk = self.env.add_key("blk", "--aaguid", BLOCKED_AAGUID)
        r, row = self.refused(blk, "alice", "'Blocked models'",
                              "block list")
        self.assertEqual(row["error_code"], "key_not_in_mds", row)

    def test_attestation_checked_after_the_touch(self):
        self.mds()
        selfk = self.env.add_key("self", "--attestation", "self")
        att = self.env.add_key("att", "--aaguid", ATT_AAGUID)
        for k, user, what in ((selfk, "pf1", "self attestation"),
                              (att, "pf2", "does not chain")):
            r = self.enroll(k, user)
            self.assertEqual(r.rc, 1, r)
            self.assertEqual(self.env.key_commands(k).count("0x01"), 1)
            self.assertEqual(self.env.passkeys(user + D), [])
            rows = [f for f in self.env.failures() if f["user"] ==
                    user + D]
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows[0]["stage"], "attestation", rows[0])
            self.assertIn(what, rows[0]["message"])
            self.assertIn("'Attested keys'", rows[0]["message"])
            self.assertIn("not registered", r.err)

    def test_attestation_certificate_aaguid(self):
        # WebAuthn 8.2.1: vauth's model, its root in the metadata, but
        # the attestation certificate's AAGUID extension names another
        # model: under an enforcing profile it is not POSTed
        self.mds()
        k = self.env.add_key("certaaguid", "--cert-aaguid", ATT_AAGUID)
        r = self.enroll(k, "pf1")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(self.env.key_commands(k).count("0x01"), 1)
        self.assertEqual(self.env.passkeys("pf1" + D), [])
        rows = [f for f in self.env.failures() if f["user"] == "pf1" + D]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["stage"], "attestation", rows[0])
        self.assertEqual(rows[0]["error_code"], "attestation_refused")
        why = ("the attestation certificate is for AAGUID %s, but the key "
               "says %s" % (ATT_AAGUID, VAUTH_AAGUID))
        self.assertIn(why, rows[0]["message"])
        self.assertIn("'Attested keys'", rows[0]["message"])
        self.assertIn(why, r.err)
        self.assertIn("not registered", r.err)
        # attestation not enforced: a warning, and the credential is
        # sent (the emulator's python-fido2 refuses it, as a verifying
        # server would)
        profiles = config(self.pki)["policy"]["passkeyProfiles"]
        profiles[0]["attestationEnforcement"] = "disabled"
        self.env.emu.set_policy(passkeyProfiles=profiles)
        k2 = self.env.add_key("certaaguid2", "--cert-aaguid", ATT_AAGUID)
        r = self.enroll(k2, "pf2")
        self.assertIn(why, r.err)
        self.assertIn("registered all the same", r.err)
        self.assertNotIn("not registered", r.err)
        rows = [f for f in self.env.failures() if f["user"] == "pf2" + D]
        self.assertEqual([f["stage"] for f in rows], ["register"], rows)
        # and a key whose certificate is right passes both ways
        good = self.env.add_key("good")
        r = self.enroll(good, "pf3")
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("WebAuthn 8.2.1", r.err)

    def test_recorded_in_the_report(self):
        # what Entra recorded goes into the report: attestation_level and
        # passkey_type at the end of the old columns, and a warning when
        # it is not what the key made (also in the log)
        self.mds()
        k = self.env.add_key("k1")
        r = self.enroll(k, "pf1", "--report", "report.csv")
        self.assertEqual(r.rc, 0, r)
        with open(self.env.path("report.csv")) as f:
            self.assertTrue(f.readline().endswith(
                ",device,attestation_level,passkey_type,warning\n"))
        row = [x for x in self.env.report() if x["user"] == "pf1" + D][0]
        self.assertEqual((row["attestation_level"], row["passkey_type"],
                          row["warning"]), ("attested", "deviceBound", ""))
        self.assertEqual(row["aaguid"], VAUTH_AAGUID)
        # Entra answers with another passkey type / another AAGUID
        for user, field, value, want in (
                ("pf2", "passkeyType", "synced",
                 "passkey type synced, not deviceBound"),
                ("pf3", "aaGuid", OTHER_AAGUID,
                 "AAGUID %s, not the key's %s" % (OTHER_AAGUID,
                                                   VAUTH_AAGUID))):
            self.env.emu.set_faults([{
                "kind": "token_value", "path": "/fido2Methods$",
                "method": "POST", "field": field, "value": value}])
            k = self.env.add_key("k" + user)
            r = self.enroll(k, user, "--report", "report.csv")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("warning: %s%s: Entra recorded %s" % (user, D,
                                                                want), r.err)
            row = [x for x in self.env.report() if x["user"] == user + D][0]
            self.assertEqual(row["warning"], want, row)
            if field == "passkeyType":
                self.assertEqual(row["passkey_type"], "synced")
        # JSON Lines: the same fields
        self.env.emu.set_faults([{
            "kind": "token_value", "path": "/fido2Methods$",
            "method": "POST", "field": "passkeyType", "value": "synced"}])
        k = self.env.add_key("k4")
        r = self.env.run("--json", "--device", k.path, "enroll", "pf4" + D,
                         "--pin", "random", "--pins-out", "pins.csv",
                         "--report", "report.jsonl")
        self.assertEqual(r.rc, 0, r)
        self.env.emu.clear_faults()
        with open(self.env.path("report.jsonl")) as f:
            rows = [json.loads(ln) for ln in f]
        self.assertEqual([(x["user"], x["attestation_level"],
                           x["passkey_type"], x["warning"]) for x in rows],
                         [("pf4" + D, "attested", "synced",
                           "passkey type synced, not deviceBound")])

    def test_attestation_intermediate(self):
        # x5c[1..] are the untrusted chain: the leaf is signed by an
        # intermediate under the root the metadata lists, and only the
        # intermediate the key sends connects them (libfido2 1.12 hands
        # out x5c[0] alone; the rest is read from the statement)
        self.mds()
        k = self.env.add_key("inter", "--att-intermediate")
        r = self.enroll(k, "pf1")
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("does not chain", r.err)
        pk = self.env.passkeys("pf1" + D)
        self.assertEqual(len(pk), 1)
        self.assertEqual(pk[0]["attestationLevel"], "attested")

    def test_stale_and_missing_metadata(self):
        good = self.env.add_key("good")
        r = self.enroll(good, "pf1")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("no FIDO metadata is stored", r.err)
        self.mds("stale")
        good2 = self.env.add_key("good2")
        r = self.enroll(good2, "pf2")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("stale", r.err)
        self.assertIn("nextUpdate 2020-01-01", r.err)

    def test_dry_run_and_doctor(self):
        self.mds()
        good = self.env.add_key("good")
        rev = self.env.add_key("rev", "--aaguid", REVOKED_AAGUID)
        r = self.env.run("enroll", "pf1" + D, "--dry-run")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("key %s (AAGUID %s): accepted by passkey profile "
                      "'Attested keys'" % (good.name, VAUTH_AAGUID), r.err)
        self.assertIn("key %s (AAGUID %s): refused: " % (rev.name,
                                                          REVOKED_AAGUID),
                      r.err)
        self.assertIn("REVOKED", r.err)
        r = self.env.run("doctor", "pf1" + D)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("FIDO metadata no 10", r.out)
        ok = [ln for ln in r.out.splitlines() if good.path in ln and
              "accepted for pf1" in ln]
        self.assertEqual(len(ok), 1, r.out)
        self.assertIn("'Attested keys'", ok[0])
        bad = [ln for ln in r.out.splitlines() if rev.path in ln and
               "refused for pf1" in ln]
        self.assertEqual(len(bad), 1, r.out)
        self.assertTrue(bad[0].startswith("FAIL"))
        self.assertIn("REVOKED", bad[0])
        self.assertIn("'Attested keys'", bad[0])
        for k in (good, rev):
            self.untouched(k)


class NoPolicyPermission(unittest.TestCase):
    """doctor and enroll when the token may not read the FIDO2 policy."""

    def test_doctor_without_policy_read(self):
        pki = Pki.make()
        self.addCleanup(lambda: (shutil.rmtree(pki.tmp, ignore_errors=True),
                                 setattr(Pki, "tmp", None)))
        cfg = config(pki)
        for c in cfg["clients"]:
            if c["client_id"] == e2e.CLIENT_ID:
                c["app_roles"] = [r for r in c["app_roles"]
                                  if not r.startswith("Policy.")]
        env = e2e.Env(self, cfg, name="nopolicy")
        r = env.run("--mds-root", os.path.join(pki.gen, "roots.pem"), "mds",
                    "update", os.path.join(pki.gen, "valid.jwt"))
        self.assertEqual(r.rc, 0, r)
        rev = env.add_key("rev", "--aaguid", REVOKED_AAGUID)
        r = env.run("doctor", "pf1" + D)
        # a warning, not a failure: Entra still decides at registration
        self.assertEqual(r.rc, 0, r)
        line = [ln for ln in r.out.splitlines()
                if "permission.policy" in ln]
        self.assertEqual(len(line), 1, r.out)
        self.assertTrue(line[0].startswith("warn "), line[0])
        self.assertIn("cannot read the FIDO2 policy (Policy.Read."
                      "AuthenticationMethod missing)", line[0])
        self.assertNotIn("Attested keys", r.out)
        self.assertIn("FIDO metadata no 10", r.out)
        r = env.run("--json", "doctor", "pf1" + D)
        self.assertEqual(r.rc, 0, r)
        checks = {c["check"]: c for c in json.loads(r.out)["checks"]}
        self.assertEqual(checks["permission.policy"]["status"], "warn")
        # enroll says once that the check is skipped, and the key the
        # metadata reports revoked is used: Entra decides
        r = env.run("--device", rev.path, "enroll", "pf1" + D, "--pin",
                    "random", "--pins-out", "pins.csv")
        self.assertEqual(r.err.count("cannot read the FIDO2 policy (it "
                                     "needs Policy.Read.AuthenticationMethod)"),
                         1, r.err)
        self.assertEqual(env.key_commands(rev).count("0x01"), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
