#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""auto --queue and kiosk --queue through the real binary, against the
Graph emulator, vauth keys and a throwaway PostgreSQL: both keep
waiting for work when the queue is empty (enroll --queue would stop),
take users added while they run, and stop on SIGINT (exit 130) with
nothing left in flight.
"""

import json
import os
import signal
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
import pgcluster  # noqa: E402
import e2e  # noqa: E402

PIN = "57721566"


class Modes(unittest.TestCase):
    def setUp(self):
        self.pg = pgcluster.started(self)

    def setup_env(self, name, n):
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("%s%02d" % (name, i))
                         for i in range(1, n + 1)]
        env = e2e.Env(self, cfg, name=name)
        upns = ["%s%02d@contoso.example" % (name, i)
                for i in range(1, n + 1)]
        qenv = env.env(**dict(self.pg.env(), E2E_PIN=PIN))
        r = env.run("queue", "init", env=qenv)
        self.assertEqual(r.rc, 0, r)
        return env, upns, qenv

    def count(self, state):
        return int(self.pg.psql("SELECT count(*) FROM provisioning_users"
                                " WHERE state = '%s'" % state)[0][0])

    def in_flight(self):
        return int(self.pg.psql(
            "SELECT count(*) FROM provisioning_users WHERE state NOT IN"
            " ('queued', 'done', 'failed', 'skipped')")[0][0])

    def test_auto_queue_waits_for_work(self):
        env, upns, qenv = self.setup_env("autoq", 6)
        env.add_keys(2, pin=PIN, presence="delay:100")
        r = env.run("queue", "add", *upns[:4], env=qenv)
        self.assertEqual(r.rc, 0, r)
        p = env.spawn("--station", "auto1", "auto", "--parallel",
                      "--interval", "1", "--pin", "keep", "--pin-env",
                      "E2E_PIN", tag="auto", env=qenv)
        e2e.wait_for(lambda: self.count("done") == 4, 60,
                     what="the first four users")
        # an empty queue does not end auto: users added now are taken
        self.assertIsNone(p.poll(), env.read(p.err_path))
        r = env.run("queue", "add", *upns[4:], env=qenv)
        self.assertEqual(r.rc, 0, r)
        e2e.wait_for(lambda: self.count("done") == 6, 60,
                     what="the two users added later")
        self.assertIsNone(p.poll())
        p.send_signal(signal.SIGINT)
        res = env.finish(p, timeout=30)
        self.assertEqual(res.rc, 130, res)
        self.assertIn("station auto1: 6 enrolled", res.err)
        self.assertEqual(self.in_flight(), 0)
        env.assert_one_passkey(upns)
        r = env.run("queue", "status", "--json", env=qenv)
        st = json.loads(r.out)
        self.assertEqual(st["states"]["done"], 6, st)
        self.assertEqual([s["name"] for s in st["stations"]], ["auto1"], st)

    def test_kiosk_queue_one_user_per_key(self):
        env, upns, qenv = self.setup_env("kioskq", 3)
        r = env.run("queue", "add", *upns, env=qenv)
        self.assertEqual(r.rc, 0, r)
        p = env.spawn("--json", "--station", "kiosk1", "kiosk",
                      "--interval", "1", "--pin", "random", "--pins-out",
                      "pins.csv", "--status-file", "status.json",
                      tag="kiosk", env=qenv)
        for i, n in enumerate(("slotA", "slotB", "slotC")):
            env.add_key(n)
            try:
                e2e.wait_for(lambda: self.count("done") == i + 1, 60,
                             what="a user on " + n)
            except AssertionError:
                p.kill()
                raise AssertionError(env.read(p.err_path)[-3000:] +
                                     env.read(p.out_path)[-2000:])
        self.assertIsNone(p.poll(), env.read(p.err_path))
        p.send_signal(signal.SIGINT)
        res = env.finish(p, timeout=30)
        self.assertEqual(res.rc, 130, res)
        self.assertEqual(self.in_flight(), 0)
        env.assert_one_passkey(upns)
        # one event line per step, each done one a user of the queue
        evs = [json.loads(ln) for ln in res.out.splitlines()
               if ln.startswith("{")]
        done = sorted(e["user"].lower() for e in evs
                      if e.get("state") == "done")
        self.assertEqual(done, sorted(upns), evs)
        # each user on a key of its own: a key left in after its user
        # is not handed the next claim too
        slots = [e["slot"] for e in evs if e.get("state") == "done"]
        self.assertEqual(sorted(slots), ["slotA", "slotB", "slotC"], evs)
        rows = self.pg.psql("SELECT DISTINCT station FROM provisioning_users")
        self.assertEqual(rows, [["kiosk1"]])
        # the PINs went to the PIN file only
        with open(env.path("pins.csv")) as f:
            got = f.read()
        self.assertEqual(len([ln for ln in got.splitlines()
                              if ln.strip()]), 4, got + res.err[-3000:])

    def test_added_by_upn_and_by_object_id(self):
        """The same user added once by UPN and once by object id:
        two rows until a station resolves them, then one is skipped
        and the user gets one passkey; added again by either, nothing
        is added."""
        env, upns, qenv = self.setup_env("twice", 1)
        oid = env.emu.user(upns[0])["id"]
        env.add_keys(1, pin=PIN, presence="delay:50")
        for ref in (upns[0], oid.upper()):
            r = env.run("queue", "add", ref, env=qenv)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("1 user added", r.out)
        r = env.run("--station", "s1", "enroll", "--pin", "keep",
                    "--pin-env", "E2E_PIN", env=qenv)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)
        rows = self.pg.psql("SELECT state, coalesce(last_error, '')"
                            " FROM provisioning_users ORDER BY state")
        self.assertEqual([x[0] for x in rows], ["done", "skipped"], rows)
        self.assertIn("the same user as", rows[1][1])
        for ref in (upns[0].upper(), oid):
            r = env.run("queue", "add", ref, env=qenv)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("0 users added", r.out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
