#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Leases against slow registrations: a station's heartbeat (its own
thread) keeps the lease while a POST takes longer than the lease, so no
other station claims the user; and a station whose database stops
answering (its backend SIGSTOPped, so the heartbeat hangs) sends no
POST once its lease may have run out, so the station that claims the
user after it reconciles and registers the only passkey; and when
Graph stored A's POST but its answer never came, A aborts it before
its lease ends and B finds A's credential and records it.
"""

import os
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import pgcluster  # noqa: E402
import e2e  # noqa: E402

PIN = "57721566"
LEASE = 12
UPN = "lease01@contoso.example"


class Lease(unittest.TestCase):
    def setUp(self):
        self.pg = pgcluster.started(self)
        cfg = e2e.basic_config()
        cfg["users"].append(e2e.member("lease01"))
        self.env = e2e.Env(self, cfg, name="lease")
        self.qenv = dict(self.pg.env(), E2E_PIN=PIN)
        self.keydirs = {}
        base = self.env.keys_dir
        for s in ("A", "B"):
            self.env.keys_dir = os.path.join(self.env.tmp, "keys-" + s)
            os.makedirs(self.env.keys_dir)
            self.keydirs[s] = self.env.keys_dir
            self.env.add_key("%s-k1" % s, pin=PIN, presence="delay:100")
        self.env.keys_dir = base
        r = self.env.run("queue", "init", env=self.env.env(**self.qenv))
        self.assertEqual(r.rc, 0, r)
        r = self.env.run("queue", "add", UPN, env=self.env.env(**self.qenv))
        self.assertEqual(r.rc, 0, r)

    def station(self, s):
        return self.env.spawn(
            "-v", "--station", s, "--virtual-keys", self.keydirs[s],
            "enroll", "--pin", "keep", "--pin-env", "E2E_PIN",
            "--lease-seconds", str(LEASE), "--report",
            self.env.path(s + "-report.csv"), "--failures",
            self.env.path(s + "-failures.csv"), tag=s,
            env=self.env.env(**self.qenv))

    def state(self):
        return self.pg.psql("SELECT state FROM provisioning_users")[0][0]

    def events(self):
        return self.pg.psql("SELECT station, state, coalesce(detail, '')"
                            " FROM provisioning_events ORDER BY id")

    def test_slow_post_keeps_the_lease(self):
        """A POST of 2.5 leases: A's heartbeat renews the lease all
        along; B, started meanwhile, never claims the user."""
        slow = LEASE * 2500
        self.env.emu.set_faults([{"kind": "slow", "method": "POST",
                                  "path": "fido2Methods$",
                                  "delay_ms": slow, "count": 1}])
        a = self.station("A")
        e2e.wait_for(lambda: self.state() == "key_touched", 30,
                     what="A's key touched")
        t0 = time.time()
        b = self.station("B")
        ra = self.env.finish(a, timeout=90)
        self.assertEqual(ra.rc, 0, ra)
        self.assertGreater(time.time() - t0, LEASE * 2)
        rb = self.env.finish(b, timeout=60)
        self.assertEqual(rb.rc, 0, rb)
        ev = self.events()
        claims = [e for e in ev if e[1] in ("claimed", "reconcile")]
        self.assertEqual(claims, [["A", "claimed", ""]], ev)
        self.assertFalse([e for e in ev if e[0] == "B"], ev)
        self.assertEqual(self.state(), "done")
        self.env.assert_one_passkey([UPN])

    def backend(self):
        """the pid of A's connection, if it is idle (no lock held)"""
        rows = self.pg.psql("SELECT pid, state FROM pg_stat_activity"
                            " WHERE application_name = 'provisioning'"
                            " AND backend_type = 'client backend'")
        return [int(p) for p, st in rows if st == "idle"]

    def freeze(self):
        """SIGSTOP A's database backend while it is idle"""
        frozen = None
        end = time.time() + 10
        while frozen is None and time.time() < end:
            for pid in self.backend():
                os.kill(pid, signal.SIGSTOP)
                # still idle once stopped: no transaction, no row lock
                if pid in self.backend():
                    frozen = pid
                    break
                os.kill(pid, signal.SIGCONT)
            time.sleep(0.02)
        self.assertIsNotNone(frozen, "A's database connection never idle")
        return frozen

    def test_post_landed_then_abandoned(self):
        """Graph stores A's POST but its answer never comes, and A's
        database stops answering: A aborts the POST before its lease
        ends; B claims the user after the lease, finds A's credential
        among the user's passkeys and records it, touching no key."""
        self.env.emu.set_faults([{"kind": "drop", "when": "after",
                                  "method": "POST",
                                  "path": "fido2Methods$",
                                  "delay_ms": LEASE * 2500, "count": 1}])
        a = self.station("A")
        e2e.wait_for(lambda: self.state() == "key_touched", 30,
                     step=0.02, what="A's key touched")
        frozen = self.freeze()
        try:
            b = self.station("B")
            rb = self.env.finish(b, timeout=90)
            self.assertEqual(rb.rc, 0, rb)
            e2e.wait_for(lambda: "abandoned here" in self.env.read(
                a.err_path), 10, what="A abandoning the POST")
        finally:
            os.kill(frozen, signal.SIGCONT)
        self.env.finish(a, timeout=60)
        ev = self.events()
        self.assertIn(["B", "reconcile", "lease of A expired"], ev)
        self.assertFalse([e for e in ev if e[0] == "B" and e[1] in
                          ("claimed", "key_touched")], ev)
        self.assertEqual(ev[-1][:2], ["B", "done"], ev)
        ms = self.env.assert_one_passkey([UPN])
        cred = self.pg.psql("SELECT credential_id, method_id FROM"
                            " provisioning_users")[0]
        self.assertEqual(ms[UPN]["id"], cred[1])
        self.assertIn("was registered by A before its lease ran out",
                      rb.err)

    def test_held_post_sent_again(self):
        """Graph holds A's POST for two leases, and A's database stops
        answering: A hangs up on the POST before its lease ends, but
        Graph still stores it later.  B claims the user after the
        lease, does not find A's credential yet, and sends A's recorded
        registration again instead of touching its key: Graph keeps one
        of the two, and the user ends with A's credential only."""
        hold = LEASE * 2
        self.env.emu.set_faults([{"kind": "slow", "method": "POST",
                                  "path": "fido2Methods$",
                                  "delay_ms": hold * 1000, "count": 1}])
        a = self.station("A")
        e2e.wait_for(lambda: self.state() == "key_touched", 30,
                     step=0.02, what="A's key touched")
        lands = time.time() + hold
        frozen = self.freeze()
        try:
            b = self.station("B")
            rb = self.env.finish(b, timeout=90)
            self.assertEqual(rb.rc, 0, rb)
            self.assertLess(time.time(), lands, "A's POST was stored "
                            "before B reconciled: nothing was tested")
            time.sleep(max(0, lands - time.time()) + 2)
            e2e.wait_for(lambda: "abandoned here" in self.env.read(
                a.err_path), 10, what="A abandoning the POST")
        finally:
            os.kill(frozen, signal.SIGCONT)
        self.env.finish(a, timeout=60)
        ms = self.env.assert_one_passkey([UPN])
        cred = self.pg.psql("SELECT credential_id, method_id,"
                            " body IS NULL FROM provisioning_users")[0]
        self.assertEqual(ms[UPN]["credentialId"], cred[0])
        self.assertEqual(ms[UPN]["id"], cred[1])
        self.assertEqual(cred[2], "t")
        self.assertEqual(self.state(), "done")
        ev = self.events()
        self.assertIn(["B", "reconcile", "lease of A expired"], ev)
        self.assertFalse([e for e in ev if e[0] == "B" and e[1] in
                          ("claimed", "key_touched")], ev)
        self.assertIn("sending it again", rb.err)

    def test_post_not_sent_past_the_lease(self):
        """A's POST gets a 429 asking for 2.5 leases; meanwhile A's
        database stops answering (its backend stopped: the heartbeat
        hangs), so A's lease runs out.  A must not send the POST again:
        B claims the user after the lease, finds nothing registered,
        registers its own key; a retry of A's would be a second
        passkey."""
        self.env.emu.set_faults([{"kind": "429", "method": "POST",
                                  "path": "fido2Methods$",
                                  "retry_after": LEASE * 5 // 2,
                                  "count": 1}])
        a = self.station("A")
        e2e.wait_for(lambda: self.state() == "key_touched", 30,
                     step=0.02, what="A's key touched")
        retry_at = time.time() + LEASE * 5 // 2
        frozen = self.freeze()
        try:
            b = self.station("B")
            rb = self.env.finish(b, timeout=90)
            self.assertEqual(rb.rc, 0, rb)
            # A's retry is due after B's registration: wait it out
            time.sleep(max(0, retry_at + 4 - time.time()))
            self.env.assert_one_passkey([UPN])
            e2e.wait_for(lambda: "abandoned here" in self.env.read(
                a.err_path), 10, what="A abandoning the POST")
        finally:
            os.kill(frozen, signal.SIGCONT)
        ra = self.env.finish(a, timeout=60)
        self.assertIn("registration is abandoned here", ra.err)
        ev = self.events()
        self.assertIn(["B", "reconcile", "lease of A expired"], ev)
        self.assertEqual(self.state(), "done")
        self.env.assert_one_passkey([UPN])
        # only the one 429'd POST of A's reached Graph, and B's
        posts = [q for q in self.env.emu.requests(500)
                 if q.get("method") == "POST" and
                 q.get("path", "").endswith("fido2Methods")]
        self.assertEqual(len(posts), 2, posts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
