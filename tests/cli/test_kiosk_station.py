#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The kiosk station's slots: events (--json and plain), the status file.

Through the real binary against the emulator and vauth keys in a
--virtual-keys directory: each key is a slot named by its socket file,
going through the issue's states; a key pulled during its touch fails
its slot, is removed, and its user goes back to the queue; the status
file is a JSON snapshot of every slot; no PIN is in any of it.
"""

import csv
import datetime
import json
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

USERS = ["alice@contoso.example", "dave@contoso.example",
         "carol@contoso.example"]
STATES = {"inserted", "checking", "refused", "assigned", "pin", "touch",
          "registering", "verifying", "done", "failed", "removed"}


def events(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def per_slot(evs):
    out = {}
    for e in evs:
        out.setdefault(e["slot"], []).append(e["state"])
    return out


def pins(env):
    with open(env.path("pins.csv"), newline="") as f:
        rows = list(csv.reader(f))
    col = [i for i, h in enumerate(rows[0]) if h.lower() == "pin"][0]
    return [r[col] for r in rows[1:] if r]


class Station(unittest.TestCase):
    def start(self, env, *extra):
        env.write("users.csv", "upn\n" + "\n".join(USERS) + "\n")
        return env.spawn("--json", "kiosk", "--csv", "users.csv", "--pin",
                         "random", "--pins-out", "pins.csv",
                         "--status-file", "status.json", *extra,
                         env=env.env())

    def finish_all(self, env, p):
        """Every user enrolled once, the station ended well: its events."""
        try:
            e2e.wait_for(lambda: env.total_added() == len(USERS), 60,
                         what="%d users" % len(USERS))
        except AssertionError:
            self.fail(env.read(p.err_path) + env.read(p.out_path))
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(USERS)
        return events(env.read(p.out_path))

    def test_json_events_three_keys_and_status(self):
        env = e2e.Env(self, name="station")
        p = self.start(env)
        for n in ("slotA", "slotB", "slotC"):
            env.add_key(n)
            e2e.wait_for(lambda: env.total_added() ==
                         ["slotA", "slotB", "slotC"].index(n) + 1, 30,
                         what="user on " + n)
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(USERS)
        evs = events(env.read(p.out_path))
        seq = per_slot(evs)
        self.assertEqual(sorted(seq), ["slotA", "slotB", "slotC"])
        for slot, states in seq.items():
            self.assertEqual(states, ["inserted", "checking", "assigned",
                                      "pin", "touch", "verifying", "registering",
                                      "done"], slot)
        users = set()
        for e in evs:
            self.assertIn(e["state"], STATES)
            self.assertIn("message", e)
            t = e["time"]
            self.assertTrue(t.endswith("Z"), t)
            dt = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ")
            self.assertLess(abs((datetime.datetime.utcnow() - dt)
                                .total_seconds()), 600, t)
            if e["state"] in ("assigned", "touch", "done"):
                users.add(e["user"])
        self.assertEqual(users, set(USERS))
        st = json.loads(env.read(env.path("status.json")))
        self.assertEqual(sorted(s["slot"] for s in st["slots"]),
                         ["slotA", "slotB", "slotC"])
        self.assertTrue(all(s["state"] == "done" for s in st["slots"]))
        self.assertEqual(st["totals"]["done"], 3)
        self.assertEqual(st["totals"]["failed"], 0)
        self.assertEqual(st["totals"]["left"], 0)
        # written by rename: no temporary file left beside it
        self.assertEqual([f for f in os.listdir(env.work)
                          if f.startswith("status.json") and
                          f != "status.json"], [])
        # the PIN is nowhere but the PIN file
        got = pins(env)
        self.assertEqual(len(got), 3)
        out = env.read(p.out_path) + env.read(p.err_path) + \
            env.read(env.path("status.json"))
        for pin in got:
            self.assertNotIn(pin, out)

    def test_key_pulled_during_touch(self):
        env = e2e.Env(self, name="station-pull")
        p = self.start(env, "--timeout", "20")
        # a key that waits for a touch long enough to be pulled
        slow = env.add_key("slow", presence="delay:4000")
        e2e.wait_for(lambda: any(
            e["slot"] == "slow" and e["state"] == "touch"
            for e in events(env.read(p.out_path))), 30, what="touch")
        env.kill_key(slow)
        e2e.wait_for(lambda: any(
            e["slot"] == "slow" and e["state"] == "removed"
            for e in events(env.read(p.out_path))), 30, what="removed")
        for n in ("k1", "k2", "k3"):
            env.add_key(n)
            time.sleep(0.2)
        evs = self.finish_all(env, p)
        seq = per_slot(evs)
        self.assertEqual(seq["slow"][:5], ["inserted", "checking",
                                           "assigned", "pin", "touch"])
        self.assertIn("failed", seq["slow"])
        self.assertEqual(seq["slow"][-1], "removed")
        pulled = [e for e in evs if e["slot"] == "slow" and
                  e["state"] == "touch"][0]["user"]
        # the pulled key's user went back to the queue and is done
        done = [e["user"] for e in evs if e["state"] == "done"]
        self.assertIn(pulled, done)
        self.assertEqual(sorted(done), sorted(USERS))

    def test_key_pulled_while_registering(self):
        """The key leaves while Entra has its POST; another key takes
        the slot.  The first user is registered once and their done is
        told as a removed key's event: the new key's slot is never shown
        done for them (an operator would hand the wrong key over)."""
        env = e2e.Env(self, name="station-reg")
        post = r"/authentication/fido2Methods$"
        env.emu.set_faults([{"path": post, "method": "POST",
                             "kind": "slow", "delay_ms": 3000,
                             "count": 1}])
        p = self.start(env)
        k = env.add_key("s1")

        def seen(state, n=1):
            return len([e for e in events(env.read(p.out_path))
                        if e["slot"] == "s1" and e["state"] == state and
                        not e.get("key_removed")]) >= n

        e2e.wait_for(lambda: seen("registering"), 30, what="registering")
        first = [e for e in events(env.read(p.out_path))
                 if e["slot"] == "s1" and e["state"] == "registering"]
        env.kill_key(k)
        e2e.wait_for(lambda: seen("removed"), 30, what="removed")
        os.unlink(k.state)              # a blank key in the same port
        env.add_key("s1")
        e2e.wait_for(lambda: seen("assigned", 2), 30, what="next user")
        env.add_key("s2")
        evs = self.finish_all(env, p)
        users = [e.get("user") for e in evs if e["slot"] == "s1" and
                 e["state"] == "assigned"]
        self.assertEqual(len(users), 2, evs)
        slow_user = users[0]
        done = [e for e in evs if e["state"] == "done" and
                e.get("user") == slow_user]
        self.assertEqual(len(done), 1, evs)
        self.assertTrue(done[0].get("key_removed"), done)
        # what the slot showed: the second user's states only, after the
        # new key came
        later = [e for e in evs[evs.index(first[0]):] if e["slot"] == "s1"
                 and not e.get("key_removed")]
        states = [e["state"] for e in later]
        self.assertEqual(states[:3], ["registering", "removed",
                                      "inserted"], states)
        for e in later[3:]:
            self.assertIn(e.get("user", users[1]), (users[1],), later)
        self.assertEqual(later[-1]["state"], "done")
        self.assertEqual(later[-1]["user"], users[1])
        st = json.loads(env.read(env.path("status.json")))
        row = [s for s in st["slots"] if s["slot"] == "s1"][0]
        self.assertEqual((row["state"], row.get("user")),
                         ("done", users[1]), row)
        self.assertEqual(st["totals"]["done"], 3)

    def test_six_keys_worked_at_once(self):
        """Six keys plugged at once: six slots in touch together."""
        cfg = e2e.basic_config()
        six = ["hub%d" % i for i in range(1, 7)]
        cfg["users"] += [e2e.member(u) for u in six]
        env = e2e.Env(self, config=cfg, name="station-six")
        upns = ["%s@%s" % (u, e2e.DOMAIN) for u in six]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        env.add_keys(6, presence="delay:2500")
        p = env.spawn("--json", "kiosk", "--csv", "users.csv", "--pin",
                      "random", "--pins-out", "pins.csv", env=env.env())
        r = env.finish(p, timeout=90)
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)
        now, most = {}, 0
        for e in events(env.read(p.out_path)):
            now[e["slot"]] = e["state"]
            most = max(most, sum(1 for v in now.values() if v == "touch"))
        # a touch takes 2.5 s: one key at a time would never overlap
        self.assertGreaterEqual(most, 4, env.read(p.out_path))
        done = [e for e in events(env.read(p.out_path))
                if e["state"] == "done"]
        self.assertEqual(len({e["slot"] for e in done}), 6)
        self.assertEqual(sorted(e["user"] for e in done), sorted(upns))

    def test_skipped_user_is_not_a_failure(self):
        env = e2e.Env(self, name="station-skip")
        # bob already holds passkeys: skipped, not failed
        env.write("users.csv", "upn\nbob@contoso.example\n" + USERS[0] +
                  "\n")
        p = env.spawn("--json", "kiosk", "--csv", "users.csv", "--pin",
                      "random", "--pins-out", "pins.csv", "--status-file",
                      "status.json", env=env.env())
        env.add_key("one")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        st = json.loads(env.read(env.path("status.json")))
        self.assertEqual((st["totals"]["done"], st["totals"]["failed"],
                          st["totals"]["skipped"], st["totals"]["left"]),
                         (1, 0, 1, 0), st)

    def test_group_rounds_keep_one_station(self):
        """--group: new members are taken in the next round; the
        station (its status file's totals) lives across the rounds."""
        cfg = e2e.basic_config()
        cfg["users"] += [e2e.member("kg1"), e2e.member("kg2")]
        cfg["groups"].append({"id": "b0000000-0000-4000-8000-0000000000c1",
                              "displayName": "Kiosk Group",
                              "members": ["kg1@contoso.example"]})
        env = e2e.Env(self, cfg, name="station-group")
        p = env.spawn("--json", "kiosk", "--group", "Kiosk Group",
                      "--interval", "1", "--pin", "random", "--pins-out",
                      "pins.csv", "--status-file", "status.json",
                      env=env.env())
        env.add_key("g1")
        e2e.wait_for(lambda: env.total_added() == 1, 30, what="kg1")
        env.emu.add_user(e2e.member("kg3"), groups=["Kiosk Group"])
        env.add_key("g2")
        e2e.wait_for(lambda: env.total_added() == 2, 30, what="kg3")
        e2e.wait_for(lambda: json.loads(env.read(env.path(
            "status.json")))["totals"]["done"] == 2, 10, what="totals")
        p.send_signal(signal.SIGINT)
        r = env.finish(p, timeout=30)
        self.assertEqual(r.rc, 130, r)
        st = json.loads(env.read(env.path("status.json")))
        self.assertEqual(st["totals"]["done"], 2, st)
        self.assertEqual(sorted(x["slot"] for x in st["slots"]),
                         ["g1", "g2"])
        env.assert_one_passkey(["kg1@contoso.example",
                                "kg3@contoso.example"])
        # g1, left in after its user, is not tried again next round
        seq = per_slot(events(env.read(p.out_path)))
        self.assertEqual(seq["g1"].count("inserted"), 1, seq)
        self.assertNotIn("refused", seq["g1"], seq)

    def test_plain_lines(self):
        env = e2e.Env(self, name="station-plain")
        env.write("users.csv", "upn\n" + USERS[0] + "\n")
        p = env.spawn("kiosk", "--csv", "users.csv", "--pin", "random",
                      "--pins-out", "pins.csv", env=env.env())
        env.add_key("plain1")
        r = env.finish(p, timeout=60)
        self.assertEqual(r.rc, 0, r)
        lines = env.read(p.out_path).splitlines()
        self.assertTrue(any("slot plain1: touch " + USERS[0] in x
                            for x in lines), lines)
        self.assertTrue(any("slot plain1: done " + USERS[0] in x
                            for x in lines), lines)
        for pin in pins(env):
            self.assertNotIn(pin, env.read(p.out_path))

    def test_status_file_only_for_kiosk(self):
        env = e2e.Env(self, name="station-usage")
        r = env.run("enroll", USERS[0], "--status-file", "s.json")
        self.assertEqual(r.rc, 2, r)


if __name__ == "__main__":
    unittest.main()
