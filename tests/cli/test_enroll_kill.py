#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""enroll survives SIGKILL and Ctrl+C at any point.

A 50-user CSV run on two slow keys (--presence delay:100) is SIGKILLed at
random moments several times, then run to completion.  Graph (the
emulator's state) must then hold exactly one passkey per user, and the
report must list exactly those 50 users once each with Graph's method and
credential ids: whatever step a kill interrupted, the journal let the next
run reconcile instead of registering twice or losing a user.

Ctrl+C during a long touch wait must stop the run with exit 130, leave the
journal consistent (no user half-done), and a re-run completes it.
"""

import os
import random
import sqlite3
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "31415926"
N = 50


def config(n):
    cfg = e2e.basic_config()
    cfg["users"] += [e2e.member("kill%02d" % i) for i in range(1, n + 1)]
    return cfg


class EnrollKill(unittest.TestCase):
    def enroll(self, env, *extra):
        return ("enroll", "--csv", env.path("users.csv"), "--parallel",
                "--pin", "keep", "--pin-env", "E2E_PIN",
                "--report", env.path("report.csv"),
                "--failures", env.path("failures.csv")) + extra

    def in_flight(self, env):
        """Users the journal has between makeCredential and Graph."""
        try:
            return {u: r["credential_id"] for u, r in env.journal().items()
                    if r.get("state") in ("key_touched", "registered")}
        except Exception:       # not created yet, or busy
            return {}

    def test_sigkill_random_points(self):
        seed = int(os.environ.get("E2E_SEED") or time.time())
        rnd = random.Random(seed)
        # Graph answers in 30 ms or more: a POST is often in flight
        env = e2e.Env(self, config(N), name="kill", latency=30)
        env.add_keys(2, pin=PIN, presence="delay:100")
        upns = ["kill%02d@contoso.example" % i for i in range(1, N + 1)]
        env.write("users.csv", "userPrincipalName\n" + "\n".join(upns) +
                  "\n")
        pe = env.env(E2E_PIN=PIN)
        kills, caught = [], {}
        for i in range(6):
            if i in (1, 3):
                # Graph holds the next two POSTs for 600 ms, then stores
                # them: the run dies in between
                env.emu.set_faults([{"path": "/fido2Methods$",
                                     "method": "POST", "kind": "slow",
                                     "delay_ms": 600, "count": 2}])
            old = set(self.in_flight(env).values())
            p = env.spawn(*self.enroll(env), env=pe, tag="killed")
            if i in (1, 3):
                # aimed: a credential of this run was journalled and its
                # POST is in Graph's hands; it lands after we are gone
                hit = e2e.wait_for(lambda: p.poll() is not None or {
                    u: c for u, c in self.in_flight(env).items()
                    if c not in old}, 30, step=0.005,
                    what="a POST in flight")
                time.sleep(0.2)
                delay = "aimed"
            else:
                delay = round(rnd.uniform(0.15, 0.5) if i == 0 else
                              rnd.uniform(0.3, 1.0), 2)
                time.sleep(delay)
                hit = None
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            r = env.finish(p, timeout=30)
            kills.append((delay, r.rc))
            self.assertIn(r.rc, (-signal.SIGKILL, 0), r)
            if isinstance(hit, dict):
                caught.update({u: c for u, c in self.in_flight(env).items()
                               if c not in old})
                time.sleep(0.6)
                env.emu.clear_faults()
            # at every point Graph holds at most one passkey per user
            for u, rec in env.users().items():
                self.assertLessEqual(len(env.added(rec)), 1,
                                     "seed %d, kill %d: %s" % (seed, i, u))
        msg = "seed %d, kills %s" % (seed, kills)
        self.assertGreaterEqual([rc for _, rc in kills].count(
            -signal.SIGKILL), 3, msg)
        self.assertTrue(caught, "no kill hit a POST in flight: " + msg)
        landed = {u: c for u, c in caught.items()
                  if any(m["credentialId"] == c for m in
                         env.added(env.users()[u] if "@" in u else
                                   [x for x in env.users().values()
                                    if x["id"] == u][0]))}
        if os.environ.get("E2E_DEBUG"):
            print(kills, caught, landed)
        r = env.run(*self.enroll(env), env=pe, timeout=150)
        msg += "\n%r" % r
        self.assertEqual(r.rc, 0, msg)
        methods = env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), N, msg)
        env.assert_report_matches(env.report(), methods)
        # a credential whose POST landed after the kill was found again
        # on resume (not replaced by a second one)
        byid = {m["credentialId"]: u for u, m in methods.items()}
        self.assertTrue(landed, "no POST landed after a kill: " + msg)
        for u, c in landed.items():
            self.assertIn(c, byid, (u, msg))
        # the journal agrees: every user done, with Graph's method id
        j = env.journal()
        for u, m in methods.items():
            row = j.get(u) or [x for x in j.values()
                               if x["upn_lower"] == u][0]
            self.assertEqual(row["state"], "done", u)
            self.assertEqual(row["method_id"], m["id"], u)
        # no failure rows: kills are not failures, the last run is clean
        self.assertEqual(env.failures(), [], msg)
        # and one more run changes nothing
        r = env.run(*self.enroll(env), env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(env.total_added(), N)
        env.assert_report_matches(env.report(), methods)

    def kill_while_held(self, env, pe, hold_ms, kind="slow"):
        """Start a run, SIGKILL it once Graph holds its POST (stored
        hold_ms after it arrived; kind "500": failed then); returns (the
        credential the journal recorded, when the held request is
        answered)."""
        env.emu.set_faults([{"path": "/fido2Methods$", "method": "POST",
                             "kind": kind, "delay_ms": hold_ms,
                             "count": 1}])
        p = env.spawn(*self.enroll(env), env=pe, tag="killed")

        def held():
            return p.poll() is not None or any(
                r.get("fired") for r in env.emu.control("GET", "faults"))
        e2e.wait_for(held, 30, step=0.005, what="a POST held by Graph")
        lands = time.time() + hold_ms / 1000.0
        self.assertIsNone(p.poll(), "the run ended before its POST")
        p.send_signal(signal.SIGKILL)
        r = env.finish(p, timeout=30)
        self.assertEqual(r.rc, -signal.SIGKILL, r)
        env.emu.clear_faults()
        cred = self.in_flight(env)["kill01@contoso.example"]
        # the held POST was sent: its credential is not in Graph yet
        self.assertEqual(env.passkeys("kill01"), [])
        return cred, lands

    def one_user(self, name):
        env = e2e.Env(self, config(1), name=name)
        key = env.add_key("key1", pin=PIN)
        env.write("users.csv", "upn\nkill01@contoso.example\n")
        return env, key, env.env(E2E_PIN=PIN)

    def assert_started_over(self, env, key, pe, cred):
        """A re-run gives the user one passkey, a new credential made on
        the key, not `cred`; returns the run."""
        r = env.run(*self.enroll(env, "-v"), env=pe)
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(["kill01"])
        self.assertNotEqual(methods["kill01@contoso.example"]
                            ["credentialId"], cred)
        self.assertEqual(env.key_commands(key).count("0x01"), 2)
        env.assert_report_matches(env.report(), methods)
        return r

    def test_resume_while_graph_holds_the_post(self):
        """The re-run starts while Graph still holds the killed run's
        POST: it sends that registration again instead of making a
        second credential, and the held request, stored or refused when
        it ends, leaves the user with one passkey."""
        env, key, pe = self.one_user("held")
        cred, lands = self.kill_while_held(env, pe, 2500)
        r = env.run(*self.enroll(env, "-v"), env=pe)
        self.assertEqual(r.rc, 0, r)
        self.assertLess(time.time(), lands, "the held POST ended before "
                        "the re-run: nothing was tested")
        time.sleep(max(0, lands - time.time()) + 1.0)
        methods = env.assert_one_passkey(["kill01"])
        m = methods["kill01@contoso.example"]
        self.assertEqual(m["credentialId"], cred)
        # the key was not asked for a second credential
        self.assertEqual(env.key_commands(key).count("0x01"), 1)
        env.assert_report_matches(env.report(), methods)
        row = env.journal()["kill01@contoso.example"]
        self.assertEqual((row["state"], row["method_id"], row["body"]),
                         ("done", m["id"], None))
        self.assertEqual(env.failures(), [])
        self.assertIn("sending it again", r.err)

    def test_resume_after_the_challenge_ran_out(self):
        """The killed run's registration, sent again after its challenge
        ran out, is refused; the held request is refused too, so the user
        starts over on a fresh challenge and holds one passkey."""
        env, key, pe = self.one_user("expired")
        cred, lands = self.kill_while_held(env, pe, 1500)
        # v1.0 challenges last 5 minutes
        env.emu.advance_clock(600)
        time.sleep(max(0, lands - time.time()) + 0.5)
        self.assertEqual(env.passkeys("kill01"), [])
        r = self.assert_started_over(env, key, pe, cred)
        self.assertIn("sending it again", r.err)
        self.assertIn("starts over with a new challenge", r.err)

    def test_resume_long_after(self):
        """A credential recorded longer ago than a request can be pending
        in Graph is not sent again (its key may have been reset since):
        the user starts over."""
        env, key, pe = self.one_user("late")
        cred, lands = self.kill_while_held(env, pe, 300, kind="500")
        time.sleep(max(0, lands - time.time()) + 0.3)
        con = env._journal_db()
        with con:
            con.execute("UPDATE enrollments SET updated = strftime("
                        "'%Y-%m-%dT%H:%M:%fZ', 'now', '-1200 seconds')")
        con.close()
        r = self.assert_started_over(env, key, pe, cred)
        self.assertNotIn("sending it again", r.err)
        self.assertIn("from 20 minutes ago is not in Graph; starting over",
                      r.err)

    def test_resume_cannot_send_again(self):
        """Graph fails the registration sent again (500s): whether the
        held request lands is unknown, so the user is not started over;
        a later run finds the passkey once that request is stored."""
        env, key, pe = self.one_user("unsure")
        cred, lands = self.kill_while_held(env, pe, 8000)
        env.emu.set_faults([{"path": "/fido2Methods$", "method": "POST",
                             "kind": "500"}])
        r = env.run(*self.enroll(env), env=pe)
        self.assertNotEqual(r.rc, 0, r)
        self.assertLess(time.time(), lands, "the held POST ended first")
        self.assertEqual(env.key_commands(key).count("0x01"), 1)
        self.assertEqual([(f["user"].lower(), f["error_code"])
                          for f in env.failures()],
                         [("kill01@contoso.example", "outcome_unknown")])
        self.assertIn("cannot tell whether", r.err)
        env.emu.clear_faults()
        time.sleep(max(0, lands - time.time()) + 0.5)
        r = env.run(*self.enroll(env), env=pe)
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(["kill01"])
        self.assertEqual(methods["kill01@contoso.example"]["credentialId"],
                         cred)
        self.assertEqual(env.key_commands(key).count("0x01"), 1)

    def test_sigint_during_touch(self):
        env = e2e.Env(self, config(6), name="sigint")
        env.add_keys(1, pin=PIN, presence="delay:4000")
        upns = ["kill%02d@contoso.example" % i for i in range(1, 7)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        pe = env.env(E2E_PIN=PIN)
        p = env.spawn(*self.enroll(env), env=pe, tag="sigint")
        # the first user is waiting for a touch that takes 4 s
        def waiting():
            try:
                return any(r.get("state") == "options_fetched"
                           for r in env.journal().values())
            except (FileNotFoundError, sqlite3.OperationalError):
                return False    # the journal is being created
        e2e.wait_for(waiting, 20, what="a user waiting for the key")
        time.sleep(1.0)
        t0 = time.time()
        p.send_signal(signal.SIGINT)
        r = env.finish(p, timeout=30)
        self.assertEqual(r.rc, 130, r)
        self.assertLess(time.time() - t0, 10, "Ctrl+C did not cancel the "
                        "touch wait")
        # consistent: nobody registered, nobody left between the key and
        # Graph; the run is marked interrupted
        self.assertEqual(env.total_added(), 0)
        for u, row in env.journal().items():
            self.assertNotIn(row["state"], ("key_touched", "registered",
                                             "verified"), u)
            self.assertNotEqual(row["state"], "done", u)
        self.assertEqual(env.journal_runs()[-1]["status"], "interrupted")
        self.assertEqual(env.failures(), [], "an interrupted user is not a "
                         "failure")
        # the key goes fast now; the re-run completes every user once
        env.kill_key(env.keys["key1"], signal.SIGTERM)
        k = env.add_key("key1", pin=PIN)
        self.assertTrue(os.path.exists(k.sock))
        r = env.run(*self.enroll(env), env=pe)
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(upns)
        env.assert_report_matches(env.report(), methods)


if __name__ == "__main__":
    unittest.main(verbosity=2)
