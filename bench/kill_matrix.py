#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The SIGKILL matrix, large: many users on several keys, killed many times.

The CI test (tests/cli/test_enroll_kill.py) kills a 50-user run six times.
This runs the same kind of storm for as long as you like: USERS users on
KEYS slow keys (vauth --presence delay:PRESENCE ms), the provisioner
SIGKILLed KILLS times at random moments (every fourth kill aimed at a POST
in flight, which Graph stores after the process is gone), then one run to
completion.  After every kill it checks that Graph holds at most one
passkey per user; at the end exactly one each, the report and the journal
agree with Graph, and one more run changes nothing.

It prints one line per kill and a summary; it exits 1 if a guarantee broke
(a second passkey, a user lost, a report that disagrees), never on time.

  /usr/bin/python3 bench/kill_matrix.py            # 120 users, 3 keys, 40 kills
  USERS=300 KEYS=4 KILLS=100 SEED=7 /usr/bin/python3 bench/kill_matrix.py

Needs a build (BINDIR=build by default, or PROVISIONING/VAUTH set).
"""

import os
import random
import signal
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "cli"))
import e2e  # noqa: E402

PIN = "27182818"


def knob(name, default):
    return int(os.environ.get(name) or default)


class KillMatrix(unittest.TestCase):
    def enroll(self, env):
        return ("enroll", "--csv", env.path("users.csv"), "--parallel",
                "--pin", "keep", "--pin-env", "E2E_PIN",
                "--report", env.path("report.csv"),
                "--failures", env.path("failures.csv"))

    def in_flight(self, env):
        try:
            return {u: r["credential_id"] for u, r in env.journal().items()
                    if r.get("state") == "key_touched"}
        except Exception:
            return {}

    def test_matrix(self):
        users, keys = knob("USERS", 120), knob("KEYS", 3)
        kills, presence = knob("KILLS", 40), knob("PRESENCE", 100)
        seed = knob("SEED", int(time.time()) % 100000)
        rnd = random.Random(seed)
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("km%04d" % i)
                         for i in range(1, users + 1)]
        env = e2e.Env(self, cfg, name="killmatrix", latency=30)
        # room for every user and the credentials killed runs left (a
        # vauth key holds at most 1000)
        cap = str(min(1000, 2 * users + kills + 100))
        for _ in range(keys):
            env.add_key(None, "--max-creds", cap, pin=PIN,
                        presence="delay:%d" % presence)
        upns = ["km%04d@contoso.example" % i for i in range(1, users + 1)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        pe = env.env(E2E_PIN=PIN)
        print("kill matrix: %d users, %d keys, %d kills, presence %d ms, "
              "seed %d" % (users, keys, kills, presence, seed))
        t0 = time.time()
        killed = aimed_hits = 0
        for i in range(kills):
            aimed = i % 4 == 3
            if aimed:
                env.emu.set_faults([{"path": "/fido2Methods$",
                                     "method": "POST", "kind": "slow",
                                     "delay_ms": 600, "count": 2}])
            old = set(self.in_flight(env).values())
            p = env.spawn(*self.enroll(env), env=pe, tag="killed")
            if aimed:
                hit = e2e.wait_for(lambda: p.poll() is not None or {
                    u: c for u, c in self.in_flight(env).items()
                    if c not in old}, 30, step=0.005,
                    what="a POST in flight")
                time.sleep(0.2)
                when = "aimed"
                aimed_hits += isinstance(hit, dict)
            else:
                delay = rnd.uniform(0.2, 1.5)
                time.sleep(delay)
                when = "%.2f s" % delay
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
            r = env.finish(p, timeout=60)
            killed += r.rc == -signal.SIGKILL
            if aimed:
                time.sleep(0.6)
                env.emu.clear_faults()
            done = twice = 0
            for u, rec in env.users().items():
                n = len(env.added(rec))
                done += n == 1
                twice += n > 1
            print("kill %3d  %-7s rc %4d  enrolled %4d/%d" % (
                i + 1, when, r.rc, done, users))
            self.assertEqual(twice, 0, "seed %d: a second passkey after "
                             "kill %d" % (seed, i + 1))
            if r.rc == 0:
                break
        r = env.run(*self.enroll(env), env=pe, timeout=1800)
        self.assertEqual(r.rc, 0, "seed %d\n%r" % (seed, r))
        methods = env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), users)
        env.assert_report_matches(env.report(), methods)
        self.assertEqual(env.failures(), [])
        r = env.run(*self.enroll(env), env=pe, timeout=600)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(env.total_added(), users)
        print("kill matrix: %d kills landed (%d aimed at a POST in "
              "flight); every user holds exactly one passkey; %.0f s "
              "(seed %d)" % (killed, aimed_hits, time.time() - t0, seed))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
