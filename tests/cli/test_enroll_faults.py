#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""enroll through 429/5xx storms.

The emulator throttles and fails a third to a half of the Graph calls the
pipeline makes (user lookups, creationOptions, fido2Methods lists), and
POST fido2Methods is answered 503 or loses its connection *after* the
registration was stored.  Every user must still end up with exactly one
passkey: a POST whose reply was lost is found among the user's methods,
never sent again as a second credential.  The report agrees with Graph.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "69314718"
N = 12


def storm(seed):
    users = r"^/v1\.0/users/[^/]+$"
    opts = r"/fido2Methods/creationOptions"
    post = r"/authentication/fido2Methods$"
    rules = [
        (users, "GET", "429", {}, 0.3),
        (users, "GET", "503", {}, 0.2),
        (opts, "GET", "429", {}, 0.3),
        (opts, "GET", "500", {}, 0.2),
        # the registration was stored, but its reply is lost, cut short
        # or garbled (the emulator's 503 is always "before": refused);
        # the first three POSTs for certain, then at random
        (post, "POST", "drop", {"when": "after", "count": 1}, 1),
        (post, "POST", "truncated", {"when": "after", "count": 1}, 1),
        (post, "POST", "malformed", {"when": "after", "count": 1}, 1),
        (post, "POST", "drop", {"when": "after"}, 0.3),
        (post, "POST", "truncated", {"when": "after"}, 0.15),
        (post, "POST", "malformed", {"when": "after"}, 0.15),
        # refused outright: a repeat counts against the three POSTs a
        # credential gets, so this stays rare enough for all to land
        (post, "POST", "503", {}, 0.1),
        (post, "POST", "429", {}, 0.3),
        # the list that tells whether a lost POST landed
        (post, "GET", "503", {}, 0.3),
        (post, "GET", "drop", {}, 0.1),
    ]
    out = []
    for i, (path, method, kind, extra, p) in enumerate(rules):
        r = {"path": path, "method": method, "kind": kind,
             "probability": p, "seed": seed + i}
        if kind in ("429", "503"):
            r["retry_after"] = 0
        r.update(extra)
        out.append(r)
    return out


class EnrollFaults(unittest.TestCase):
    def test_storm(self):
        seed = int(os.environ.get("E2E_SEED") or time.time()) % 100000
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("storm%02d" % i)
                         for i in range(1, N + 1)]
        env = e2e.Env(self, cfg, name="storm")
        env.add_keys(2, pin=PIN)
        upns = ["storm%02d@contoso.example" % i for i in range(1, N + 1)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        env.emu.set_faults(storm(seed))
        r = env.run("enroll", "--csv", env.path("users.csv"), "--parallel",
                    "--pin", "keep", "--pin-env", "E2E_PIN", "-v",
                    env=env.env(E2E_PIN=PIN), timeout=180)
        msg = "seed %d\n%r" % (seed, r)
        if os.environ.get("E2E_DEBUG"):
            print(r)
        self.assertEqual(r.rc, 0, msg)
        env.emu.clear_faults()
        st = env.state()
        counts = st["requests"]["counts"]
        fired = {k: n for k, n in counts.items() if "fault:" in k}
        # the storm really hit: throttling, errors and lost POST replies
        self.assertGreater(sum(fired.values()), 10, counts)
        lost = sum(n for k, n in fired.items() if k.startswith("POST") and
                   any(x in k for x in ("drop", "truncated", "malformed")))
        self.assertGreaterEqual(lost, 3, fired)
        methods = env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), N, msg)
        env.assert_report_matches(env.report(), methods)
        self.assertEqual(env.failures(), [], msg)
        # every challenge issued was used at most once; no credential
        # was stored twice (the emulator refuses that, so a second
        # passkey would need a second makeCredential: none registered)
        self.assertEqual(st["registrations"], N, (msg, fired))

    def test_three_posts_at_most(self):
        """Graph refuses every POST: the credential is sent three times
        in all, each repeat after a look at the user's methods; a re-run
        then registers it once."""
        cfg = e2e.basic_config()
        cfg["users"].append(e2e.member("tries1"))
        env = e2e.Env(self, cfg, name="tries")
        k1 = env.add_key("key1", pin=PIN)
        post = r"/authentication/fido2Methods$"
        env.emu.set_faults([{"path": post, "method": "POST", "kind": "503",
                             "retry_after": 0}])
        pe = env.env(E2E_PIN=PIN)
        user = "tries1@contoso.example"
        r = env.run("--device", k1.path, "enroll", user, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", "-v", env=pe)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(env.passkeys(user), [])
        calls = [(q["method"], q["status"]) for q in env.emu.requests(500)
                 if q["path"].split("?")[0].endswith(
                     "/authentication/fido2Methods")]
        self.assertEqual(sorted(calls), [("GET", 200)] * 3 +
                         [("POST", 503)] * 3, calls)
        # every repeat, and the end, follows a look at the user's methods
        # (the emulator's log may swap neighbours: read the tool's own)
        steps = [ln for ln in r.err.splitlines()
                 if "checking whether Graph holds" in ln or
                 "sending it again" in ln]
        self.assertEqual(["again" in ln for ln in steps],
                         [False, True, False, True, False], r.err)
        rows = env.failures()
        self.assertEqual([(x["user"], x["stage"]) for x in rows],
                         [(user, "register")], rows)

        env.emu.clear_faults()
        r = env.run("--device", k1.path, "enroll", user, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey([user])

    def test_reused_connection_dies_after_post(self):
        """The second POST goes out on the connection of the first;
        Graph stores it and the connection closes before the reply.
        libcurl would resend such a request by itself: the body cannot
        be rewound, so it gives up, and the pipeline finds the passkey
        among the user's methods instead of posting it again."""
        cfg = e2e.basic_config()
        upns = ["reuse%d@contoso.example" % i for i in range(3)]
        cfg["users"] += [e2e.member(u) for u in upns]
        env = e2e.Env(self, cfg, name="reuse")
        env.add_key("key1", pin=PIN)
        post = r"/authentication/fido2Methods$"
        env.emu.set_faults([{"path": post, "method": "POST",
                             "kind": "drop", "when": "after",
                             "after": 1, "count": 1}])
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        r = env.run("-v", "enroll", "--csv", env.path("users.csv"),
                    "--parallel", "--pin", "keep", "--pin-env", "E2E_PIN",
                    env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("not sent again", r.err)
        self.assertIn("checking whether Graph holds the credential", r.err)
        posts = [x for x in env.emu.requests(1000)
                 if x["method"] == "POST" and
                 x["path"].endswith("/authentication/fido2Methods")]
        self.assertEqual(len(posts), 3, posts)
        env.assert_one_passkey(upns)

    def test_unknown_outcome_not_doubled(self):
        """A POST landed but Graph cannot be asked about it: neither this
        run nor the next may start the user over on another key."""
        cfg = e2e.basic_config()
        cfg["users"].append(e2e.member("lost1"))
        env = e2e.Env(self, cfg, name="lost")
        k1 = env.add_key("key1", pin=PIN)
        k2 = env.add_key("key2", pin=PIN)
        post = r"/authentication/fido2Methods$"
        blind = [{"path": post, "method": "POST", "kind": "drop",
                  "when": "after"},
                 {"path": post, "method": "GET", "kind": "503",
                  "retry_after": 0}]
        pe = env.env(E2E_PIN=PIN)
        user = "lost1@contoso.example"

        # 1: the passkey is stored, the reply lost, the check refused
        env.emu.set_faults(blind)
        r = env.run("--device", k1.path, "enroll", user, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 1, r)
        first = env.passkeys(user)
        self.assertEqual(len(first), 1)
        rows = env.failures()
        self.assertEqual([(x["user"], x["stage"]) for x in rows],
                         [(user, "register")], rows)

        # 2: on the other key, Graph still cannot be asked: the user is
        # not enrolled again (that would be a second passkey)
        r = env.run("--device", k2.path, "enroll", user, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(env.passkeys(user), first)
        self.assertEqual(env.key_commands(k2).count("0x01"), 0)
        rows = env.failures()
        self.assertEqual([(x["user"], x["stage"], x["error_code"])
                          for x in rows[1:]],
                         [(user, "resume", "outcome_unknown")], rows)

        # 3: Graph answers again: the resume finds the passkey, done
        env.emu.clear_faults()
        r = env.run("--device", k2.path, "enroll", user, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey([user])
        self.assertEqual(methods[user]["id"], first[0]["id"])
        env.assert_report_matches(env.report(), methods)
        self.assertEqual(env.report()[0]["device"], k1.path)

    def test_options_unreadable(self):
        """A creationOptions reply that is not JSON fails its user alone,
        before any key is touched, with Graph's request-id; the others
        are enrolled and a re-run enrolls the first."""
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("garb%d" % i) for i in (1, 2)]
        env = e2e.Env(self, cfg, name="garbled")
        k1 = env.add_key("key1", pin=PIN)
        upns = ["garb1@contoso.example", "garb2@contoso.example"]
        opts = r"/users/[^/]+/authentication/fido2Methods/creationOptions"
        env.emu.set_faults([{"path": opts, "method": "GET",
                             "kind": "malformed", "count": 1}])
        pe = env.env(E2E_PIN=PIN)
        r = env.run("--device", k1.path, "enroll", *upns, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 1, r)
        rows = env.failures()
        self.assertEqual([(x["stage"], x["error_code"]) for x in rows],
                         [("options", "bad_options")], rows)
        self.assertIn("not valid JSON", rows[0]["message"])
        self.assertRegex(rows[0]["request_id"], r"^[0-9a-f-]{36}$", rows)
        bad = rows[0]["user"]
        good = [u for u in upns if u != bad]
        env.assert_one_passkey(good)
        self.assertEqual(env.passkeys(bad), [])
        self.assertEqual(env.key_commands(k1).count("0x01"), 1)
        env.emu.clear_faults()
        r = env.run("--device", k1.path, "enroll", *upns, "--same-key",
                    "--pin", "keep", "--pin-env", "E2E_PIN", env=pe)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)


if __name__ == "__main__":
    unittest.main(verbosity=2)
