#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A kiosk shift: Graph storms, and a station killed and restarted.

Through the real binary against the emulator and vauth keys, with a
simulated operator who takes each finished (or failed, or refused) key
out and plugs a new blank one into the same slot:
- through 429/500/503 storms and lost POST replies, every user ends
  with exactly one passkey and the station exits 0;
- an access token that expires mid-shift is renewed;
- SIGKILL of the station while keys are in their touch, then a restart
  on the same journal: every user ends with exactly one passkey.
"""

import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402
from test_enroll_faults import storm  # noqa: E402


def events(path):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass        # a line being written
    return out


class Operator:
    """Swaps a slot's key when the station is done with it."""

    def __init__(self, env, presence):
        self.env = env
        self.presence = presence
        self.seen = 0
        self.pulled = set()

    def plug(self, name):
        state = os.path.join(self.env.tmp, name + ".state")
        if os.path.exists(state):
            os.unlink(state)        # a new, blank key
        return self.env.add_key(name, presence=self.presence, wait=False)

    def step(self, path):
        evs = events(path)
        for e in evs[self.seen:]:
            s, st = e["slot"], e["state"]
            if st in ("done", "failed", "refused") and s not in self.pulled:
                self.pulled.add(s)
                self.env.kill_key(self.env.keys[s])
            elif st == "removed" and s in self.pulled:
                self.pulled.discard(s)
                self.plug(s)
        self.seen = len(evs)
        return evs

    def work(self, p, timeout):
        end = time.time() + timeout
        while p.poll() is None and time.time() < end:
            self.step(p.out_path)
            time.sleep(0.05)


def users_cfg(prefix, n):
    cfg = e2e.basic_config()
    cfg["users"] += [e2e.member("%s%02d" % (prefix, i))
                     for i in range(1, n + 1)]
    upns = ["%s%02d@%s" % (prefix, i, e2e.DOMAIN) for i in range(1, n + 1)]
    return cfg, upns


class Shift(unittest.TestCase):
    def kiosk(self, env, upns, **extra_env):
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        return env.spawn("--json", "kiosk", "--csv", "users.csv", "--pin",
                         "random", "--pins-out", "pins.csv", "-v",
                         env=env.env(**extra_env))

    def test_storm_during_a_shift(self):
        seed = int(os.environ.get("E2E_SEED") or time.time()) % 100000
        cfg, upns = users_cfg("shift", 8)
        env = e2e.Env(self, cfg, name="kiosk-storm")
        op = Operator(env, None)
        for n in ("s1", "s2", "s3"):
            op.plug(n)
        for k in env.keys.values():
            env.wait_key(k)
        env.emu.set_faults(storm(seed))
        p = self.kiosk(env, upns)
        op.work(p, 240)
        r = env.finish(p, timeout=30)
        env.emu.clear_faults()
        self.assertEqual(r.rc, 0, "seed %d\n%r" % (seed, r))
        env.assert_one_passkey(upns)

    def test_access_token_expires_mid_shift(self):
        """A long shift outlives its access token: the station (signed
        in app-only, the secret in its environment as the service has
        it) gets a new one and goes on."""
        cfg, upns = users_cfg("tok", 4)
        env = e2e.Env(self, cfg, name="kiosk-token")
        op = Operator(env, None)
        op.plug("t1")
        p = self.kiosk(env, upns,
                       PROVISIONING_CLIENT_SECRET=e2e.CLIENT_SECRET)
        e2e.wait_for(lambda: sum(1 for e in op.step(p.out_path)
                                 if e["state"] == "done") >= 1, 60,
                     what="a first user done")
        env.emu.expire_tokens()
        op.work(p, 120)
        r = env.finish(p, timeout=30)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)

    def test_sigkill_and_restart(self):
        cfg, upns = users_cfg("kill", 6)
        env = e2e.Env(self, cfg, name="kiosk-kill")
        op = Operator(env, "delay:1500")
        for n in ("k1", "k2", "k3"):
            op.plug(n)
        p = self.kiosk(env, upns)
        # kill it while keys are in their touch, after some are done
        e2e.wait_for(lambda: sum(1 for e in op.step(p.out_path)
                                 if e["state"] == "done") >= 2 and
                     any(e["state"] == "touch"
                         for e in events(p.out_path)[-3:]), 60,
                     what="a touch after two users done")
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        first = env.total_added()
        self.assertLess(first, len(upns))
        # the keys the killed station had are used: the operator swaps
        # them all before the restart
        for name in list(env.keys):
            env.kill_key(env.keys[name])
            op.plug(name)
        op.seen, op.pulled = 0, set()
        p2 = self.kiosk(env, upns)
        op.work(p2, 120)
        r = env.finish(p2, timeout=30)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)


if __name__ == "__main__":
    unittest.main()
