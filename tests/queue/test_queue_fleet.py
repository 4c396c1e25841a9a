#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A fleet: three stations, two vauth keys each, one queue of 60 users,
against one Graph emulator and a throwaway PostgreSQL (pgcluster.py).

One station is SIGKILLed while it holds users in flight (waited for in
the database, not guessed with a sleep); its leases (5 s) run out, the
other two reconcile what it left (the credential it recorded, looked
up among the user's passkeys) and finish the queue.  Afterwards every
user holds exactly one passkey in the emulator, verified by
python-fido2, and `queue status` says 60 done.
"""

import json
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
N = 60
STATIONS = ("st1", "st2", "st3")
LEASE = 5


class Fleet(unittest.TestCase):
    def setUp(self):
        self.pg = pgcluster.started(self)

    def in_flight(self, station, states=("claimed", "reconcile",
                                         "resolved", "options_fetched",
                                         "key_touched")):
        rows = self.pg.psql(
            "SELECT count(*) FROM provisioning_users WHERE station = '%s'"
            " AND state IN (%s)" % (station, ",".join(
                "'%s'" % s for s in states)))
        return int(rows[0][0])

    def test_fleet_station_killed(self):
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("fleet%02d" % i)
                         for i in range(1, N + 1)]
        env = e2e.Env(self, cfg, name="fleet")
        upns = ["fleet%02d@contoso.example" % i for i in range(1, N + 1)]
        qenv = dict(self.pg.env(), E2E_PIN=PIN)
        # two keys per station, each station its own --virtual-keys dir
        keydirs = {}
        base_keys = env.keys_dir
        for s in STATIONS:
            env.keys_dir = os.path.join(env.tmp, "keys-" + s)
            os.makedirs(env.keys_dir)
            keydirs[s] = env.keys_dir
            for i in (1, 2):
                env.add_key("%s-k%d" % (s, i), pin=PIN,
                            presence="delay:250")
        env.keys_dir = base_keys
        r = env.run("queue", "init", env=env.env(**qenv))
        self.assertEqual(r.rc, 0, r)
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        r = env.run("queue", "add", "--csv", env.path("users.csv"),
                    env=env.env(**qenv))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("60 users added", r.out)

        def station(s):
            return env.spawn(
                "--station", s, "--virtual-keys", keydirs[s], "enroll",
                "--parallel", "--pin", "keep", "--pin-env", "E2E_PIN",
                "--lease-seconds", str(LEASE), "--report",
                env.path(s + "-report.csv"), "--failures",
                env.path(s + "-failures.csv"), tag=s,
                env=env.env(**qenv))

        procs = {s: station(s) for s in STATIONS}
        # st1 holds users in flight, one with its key touched and not
        # yet done (the reconcile path): stopped when the database says
        # so, checked again while it cannot move, then killed
        victim = procs["st1"]
        end = time.time() + 30
        touched = False
        while time.time() < end and victim.poll() is None:
            if self.in_flight("st1", ("key_touched",)) > 0:
                victim.send_signal(signal.SIGSTOP)
                time.sleep(0.2)     # a commit already sent lands
                if self.in_flight("st1", ("key_touched",)) > 0:
                    touched = True
                    break
                victim.send_signal(signal.SIGCONT)
            time.sleep(0.01)
        if not touched:
            e2e.wait_for(lambda: self.in_flight("st1") > 0, 10,
                         what="st1 holding users")
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        held = self.in_flight("st1")
        self.assertGreater(held, 0)
        for s in ("st2", "st3"):
            res = env.finish(procs[s], timeout=90)
            self.assertEqual(res.rc, 0, res)
        # every user once, on some station's key
        env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), N)
        r = env.run("queue", "status", "--json", env=env.env(**qenv))
        self.assertEqual(r.rc, 0, r)
        st = json.loads(r.out)
        self.assertEqual(st["states"]["done"], N, st)
        self.assertEqual(st["total"], N)
        # what st1 held came back: claimed again, by another station
        again = self.pg.psql(
            "SELECT count(*) FROM provisioning_events WHERE"
            " detail = 'lease of st1 expired'")
        self.assertGreaterEqual(int(again[0][0]), held)
        # a user left with its key touched was reconciled with Graph
        rec = int(self.pg.psql("SELECT count(*) FROM provisioning_events"
                               " WHERE state = 'reconcile'")[0][0])
        sys.stderr.write("st1 killed holding %d user(s)%s; %d "
                         "reconciled\n" % (held, ", one key touched" if
                                            touched else "", rec))
        if touched:
            self.assertGreaterEqual(rec, 1)
        # the fleet report has every user, with the queue's method ids
        r = env.run("queue", "report", "--report", env.path("fleet.csv"),
                    "--failures", env.path("fleet-failures.csv"),
                    env=env.env(**qenv))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(env.read_csv("fleet.csv")), N)
        ms = {u: m["id"] for u, m in env.assert_one_passkey(upns).items()}
        for row in env.read_csv("fleet.csv"):
            self.assertEqual(ms[row["user"].lower()], row["method_id"],
                             row)

    def test_database_restarted(self):
        """The database goes away under a running station and comes
        back: the station stops taking work, reconnects, and finishes;
        nobody is registered twice."""
        n = 16
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("dbr%02d" % i)
                         for i in range(1, n + 1)]
        env = e2e.Env(self, cfg, name="dbrestart")
        upns = ["dbr%02d@contoso.example" % i for i in range(1, n + 1)]
        qenv = dict(self.pg.env(), E2E_PIN=PIN)
        env.add_keys(2, pin=PIN, presence="delay:250")
        r = env.run("queue", "init", env=env.env(**qenv))
        self.assertEqual(r.rc, 0, r)
        r = env.run("queue", "add", *upns, env=env.env(**qenv))
        self.assertEqual(r.rc, 0, r)
        p = env.spawn("--station", "solo", "enroll", "--parallel",
                      "--pin", "keep", "--pin-env", "E2E_PIN",
                      "--lease-seconds", str(LEASE), tag="solo",
                      env=env.env(**qenv))
        e2e.wait_for(lambda: int(self.pg.psql(
            "SELECT count(*) FROM provisioning_users WHERE state ="
            " 'done'")[0][0]) >= 3, 30, what="three users done")
        self.pg.restart(pause=1.5)
        res = env.finish(p, timeout=90)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("queue", res.err)
        env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), n)
        done = self.pg.psql("SELECT count(*) FROM provisioning_users"
                            " WHERE state = 'done'")
        self.assertEqual(int(done[0][0]), n)


if __name__ == "__main__":
    unittest.main(verbosity=2)
