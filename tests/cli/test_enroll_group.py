#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""enroll --group and auto.

- "Bulk 1200" (1,200 generated members, two pages of transitiveMembers)
  with --dry-run: every member is resolved and gets creationOptions, no
  key is used, nothing is registered.
- A real enrollment of a 1,006-member group (two pages; Graph's $top
  is 999): the 995 members who already hold a passkey are left out by
  the $batch check, the guest and the disabled member are skipped, and
  exactly the 9 others get one passkey each, spread over both pages.
- `auto --group G --interval 1` enrolls the members who need it, then
  picks up a user added to the group while it runs; Ctrl+C ends it with
  exit 130; nobody ever gets a second passkey.
"""

import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "14142135"
PAGED = "b0000000-0000-4000-8000-0000000000f1"
NEED = (3, 250, 500, 998, 999, 1000, 1001, 1004, 1006)  # no passkey yet
GUEST, DISABLED = 7, 1002


def paged_config(n=1006):
    cfg = e2e.basic_config()
    for i in range(1, n + 1):
        u = e2e.member("paged%04d" % i)
        if i == GUEST:
            u["userType"] = "Guest"
        elif i == DISABLED:
            u["accountEnabled"] = False
        elif i not in NEED:
            u["fido2Methods"] = 1
        cfg["users"].append(u)
    cfg["groups"].append({"id": PAGED, "displayName": "Paged",
                          "generate_members": {"count": n,
                                               "upn_prefix": "paged"}})
    return cfg


def count(env, what):
    """Requests the emulator answered, by "METHOD /path STATUS" prefix."""
    return sum(n for k, n in env.state()["requests"]["counts"].items()
               if k.startswith(what))


def group_pages(env):
    return count(env, "GET /v1.0/groups/{id}/transitiveMembers")


class EnrollGroup(unittest.TestCase):
    def test_bulk_1200_dry_run(self):
        env = e2e.Env(self, name="bulk")
        key = env.add_key(pin=PIN)
        r = env.run("enroll", "--group", "Bulk 1200", "--dry-run",
                    "--parallel", timeout=200)
        self.assertEqual(r.rc, 0, r)
        ready = set(re.findall(r"(bulk\d{4}@contoso\.example): ready "
                               r"\(dry run", r.err))
        self.assertEqual(ready, {"bulk%04d@contoso.example" % i
                                 for i in range(1, 1201)})
        self.assertIn("1200 skipped, of 1200 users", r.err)
        self.assertEqual(group_pages(env), 2)
        st = env.state()
        self.assertEqual(st["registrations"], 0)
        self.assertGreaterEqual(st["challenges"]["issued"], 1200)
        self.assertEqual(env.key_commands(key), [])
        self.assertFalse(os.path.exists(os.path.join(env.state_dir,
                                                     "journal.sqlite")))

    def test_paged_group_real(self):
        env = e2e.Env(self, paged_config(), name="paged")
        env.add_keys(2, pin=PIN)
        before = env.users()
        r = env.run("enroll", "--group", "Paged", "--parallel", "--pin",
                    "keep", "--pin-env", "E2E_PIN", "-v",
                    env=env.env(E2E_PIN=PIN), timeout=150)
        self.assertEqual(r.rc, 0, r)
        need = ["paged%04d" % i for i in NEED]
        methods = env.assert_one_passkey(need)
        env.assert_report_matches(env.report(), methods)
        after = env.users()
        for upn, u in after.items():
            if upn in methods:
                continue
            # nobody else got one; seeded passkeys are untouched
            self.assertEqual(env.added(u), [], upn)
            self.assertEqual(u["fido2Methods"],
                             before[upn]["fido2Methods"], upn)
        self.assertIn("1006 members, 995 with a passkey already, 2 guests "
                      "or disabled, 9 to enroll", r.err)
        self.assertEqual(group_pages(env), 2)
        # 1,004 enrollable members, 20 per $batch
        self.assertGreaterEqual(count(env, "POST /v1.0/$batch 200"), 51)
        self.assertEqual(count(env, "$batch:GET /v1.0/users/{id}/"
                               "authentication/fido2Methods 200"), 1004)
        self.assertEqual(env.failures(), [])

    def test_auto_picks_up_new_member(self):
        env = e2e.Env(self, name="auto")
        env.add_key(pin=PIN)
        p = env.spawn("auto", "--group", "Pilot", "--interval", "1",
                      "--parallel", "--pin", "keep", "--pin-env", "E2E_PIN",
                      env=env.env(E2E_PIN=PIN), tag="auto")
        try:
            # first round: alice and dave (nested); bob has passkeys,
            # frank is disabled
            e2e.wait_for(lambda: all(env.added(env.users()[u]) for u in (
                "alice@contoso.example", "dave@contoso.example")), 60,
                what="the first round")
            self.assertIsNone(p.poll(), env.read(p.err_path))
            env.emu.add_user(e2e.member("newbie"), groups=["Pilot Nested"])
            e2e.wait_for(lambda: env.added(env.users()[
                "newbie@contoso.example"]), 30, what="the new member")
            # let it go round a few more times: no second passkey
            time.sleep(2.5)
            self.assertIsNone(p.poll(), env.read(p.err_path))
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        r = env.finish(p, timeout=30)
        self.assertEqual(r.rc, 130, r)
        methods = env.assert_one_passkey(["alice", "dave", "newbie"])
        users = env.users()
        self.assertEqual(env.added(users["bob@contoso.example"]), [])
        self.assertEqual(len(users["bob@contoso.example"]["fido2Methods"]),
                         3)
        self.assertEqual(env.added(users["frank@contoso.example"]), [])
        self.assertEqual(env.total_added(), 3)
        # it went round several times (one group walk per round)
        self.assertGreaterEqual(group_pages(env), 4)
        # the report is rewritten each round; the last round enrolled
        # nobody, yet every row is one of ours and matches Graph
        for row in env.report():
            self.assertEqual(row["method_id"],
                             methods[row["user"].lower()]["id"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
