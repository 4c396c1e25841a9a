#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""enroll --parallel over several keys, and keys that fail.

- Four slow keys, 24 users: everyone enrolled once, and the report's
  device column (which agrees with Graph's method ids) shows every key
  did a share of the work.
- A key that drops the connection in the middle of its first
  makeCredential (vauth --fail disconnect:mc@1) is set aside; its user
  is retried on the other key and enrolled, and the run goes on.
- A key whose daemon dies mid-run (SIGKILL, socket gone): the run
  finishes on the remaining key, nobody is lost or doubled.
- The run's threads carry their role's name (key N, prefetch N,
  post N), as top -H and /proc/PID/task/TID/comm show them.
- Eight users, one $batch, four keys, Graph answering in 300 ms: the
  chunk's creationOptions are fetched side by side by the prefetchers,
  not one after the other by the one that resolved the chunk (the
  journal's options_fetched stamps of the first four lie within two
  answers of each other, not four), still with one $batch.
- Threads that cannot start (1 GiB stacks under a 5 GiB address-space
  limit) stop the run with one message, before any key is touched and
  without hanging; a run without the limit then enrolls everyone once.
- Graph answering in 300 ms to a key that needs no touch: the key waits
  for users and credentials wait for a POST, so both pools grow (the
  log says so, and more post threads than the one a key starts with
  show in /proc), and everyone is enrolled once.  The same key at a
  400 ms touch against a Graph answering at once: no pool grows.
- The same slow Graph, but its first $batch refused once with a 429: no
  pool grows for the rest of the run (more requests would only slow a
  throttled Graph), and everyone is still enrolled once.
"""

import collections
import datetime
import os
import re
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e  # noqa: E402

PIN = "57721566"


def config(prefix, n):
    cfg = e2e.basic_config()
    cfg["users"] += [e2e.member("%s%02d" % (prefix, i))
                     for i in range(1, n + 1)]
    return cfg


class EnrollParallel(unittest.TestCase):
    def start(self, prefix, n, keys, name, **kw):
        env = e2e.Env(self, config(prefix, n), name=name)
        ks = env.add_keys(keys, pin=PIN, **kw)
        upns = ["%s%02d@contoso.example" % (prefix, i)
                for i in range(1, n + 1)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        return env, ks, upns

    def enroll(self, env):
        return ("enroll", "--csv", env.path("users.csv"), "--parallel",
                "--pin", "keep", "--pin-env", "E2E_PIN")

    def test_four_keys(self):
        env, keys, upns = self.start("par", 24, 4, "par4",
                                     presence="delay:150")
        r = env.run(*self.enroll(env), env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), 24)
        rows = env.report()
        env.assert_report_matches(rows, methods)
        per = collections.Counter(x["device"] for x in rows)
        self.assertEqual(sorted(per), sorted(k.path for k in keys), per)
        for dev, n in per.items():
            self.assertGreaterEqual(n, 3, per)
        # each key made exactly the credentials the report gives it
        for k in keys:
            self.assertEqual(env.key_commands(k).count("0x01"), per[k.path],
                             k.name)

    def test_thread_names(self):
        # more users than the ready queue holds: the prefetchers live
        env, keys, upns = self.start("thr", 12, 2, "thr",
                                     presence="delay:400")
        p = env.spawn(*self.enroll(env), env=env.env(E2E_PIN=PIN))
        # the users fit one $batch: whichever prefetcher takes it lives
        want = {"key 1", "key 2", "post 1", "signals"}
        names = set()

        def prefetchers():
            return [n for n in names if re.fullmatch(r"prefetch \d+", n)]
        deadline = time.time() + 20
        while not (want <= names and prefetchers()) and \
                time.time() < deadline:
            time.sleep(0.05)
            task = "/proc/%d/task" % p.pid
            try:
                tids = os.listdir(task)
            except OSError:
                break
            for t in tids:
                try:
                    with open(os.path.join(task, t, "comm")) as f:
                        names.add(f.read().strip())
                except OSError:
                    pass        # the thread ended meanwhile
        r = env.finish(p)
        self.assertEqual(r.rc, 0, r)
        self.assertLessEqual(want, names, names)
        self.assertTrue(prefetchers(), names)
        env.assert_one_passkey(upns)

    def test_one_chunk_fetched_side_by_side(self):
        latency = 300
        env = e2e.Env(self, config("chk", 8), name="chunk", latency=latency)
        env.add_keys(4, pin=PIN, presence="delay:100")
        upns = ["chk%02d@contoso.example" % i for i in range(1, 9)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        r = env.run(*self.enroll(env), env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)
        batches = [q for q in env.emu.requests(500)
                   if q["path"].endswith("$batch")]
        self.assertEqual(len(batches), 1, batches)
        con = sqlite3.connect(os.path.join(env.state_dir, "journal.sqlite"))
        try:
            at = sorted(datetime.datetime.strptime(
                a, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
                for (a,) in con.execute("SELECT at FROM transitions "
                                        "WHERE to_state = "
                                        "'options_fetched'"))
        finally:
            con.close()
        self.assertEqual(len(at), 8, at)
        # one after the other, four answers take 4 x 300 ms at least
        span = 1000 * (at[3] - at[0])
        self.assertLess(span, 2 * latency, at)

    def test_key_disconnects_mid_makecredential(self):
        env = e2e.Env(self, config("dis", 10), name="disc")
        bad = env.add_key("key1", pin=PIN, presence="delay:100",
                          fail="disconnect:mc@1")
        good = env.add_key("key2", pin=PIN, presence="delay:100")
        upns = ["dis%02d@contoso.example" % i for i in range(1, 11)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        r = env.run(*self.enroll(env), env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        self.assertIn("fault: disconnect", env.read(bad.log))
        self.assertRegex(r.err, r"key %s set aside" % bad.name)
        methods = env.assert_one_passkey(upns)
        rows = env.report()
        env.assert_report_matches(rows, methods)
        # the pulled key's user went to the other key; the pulled key's
        # half-made credential was never registered
        self.assertEqual({x["device"] for x in rows}, {good.path})
        self.assertEqual(env.failures(), [])

    def test_key_dies_mid_run(self):
        env, (k1, k2), upns = self.start("die", 12, 2, "die",
                                         presence="delay:250")
        p = env.spawn(*self.enroll(env), env=env.env(E2E_PIN=PIN),
                      tag="die")
        e2e.wait_for(lambda: env.total_added() >= 3, 60,
                     what="a few registrations")
        env.kill_key(k1)
        r = env.finish(p, timeout=120)
        self.assertEqual(r.rc, 0, r)
        methods = env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), 12)
        rows = env.report()
        env.assert_report_matches(rows, methods)
        per = collections.Counter(x["device"] for x in rows)
        self.assertGreaterEqual(per[k2.path], 6, per)
        self.assertEqual(env.failures(), [])


    def slow_graph(self, prefix, n, presence, latency, faults=()):
        env = e2e.Env(self, config(prefix, n), name=prefix,
                      latency=latency)
        env.add_keys(1, pin=PIN, presence=presence)
        upns = ["%s%02d@contoso.example" % (prefix, i)
                for i in range(1, n + 1)]
        env.write("users.csv", "upn\n" + "\n".join(upns) + "\n")
        if faults:
            env.emu.set_faults(list(faults))
        return env, upns

    def grown(self, err):
        return re.findall(r"Graph is slow to answer: (\d+) (\w+) threads "
                          r"now", err)

    def test_pools_grow_with_latency(self):
        env, upns = self.slow_graph("slo", 16, "auto", 300)
        p = env.spawn("-v", *self.enroll(env), env=env.env(E2E_PIN=PIN))
        posters = set()
        while p.poll() is None:
            try:
                for t in os.listdir("/proc/%d/task" % p.pid):
                    with open("/proc/%d/task/%s/comm" % (p.pid, t)) as f:
                        name = f.read().strip()
                    if re.fullmatch(r"post \d+", name):
                        posters.add(name)
            except OSError:
                pass        # a thread or the process ended meanwhile
            time.sleep(0.05)
        r = env.finish(p)
        self.assertEqual(r.rc, 0, r)
        grown = self.grown(r.err)
        kinds = {k for _, k in grown}
        self.assertEqual(kinds, {"prefetch", "post"}, r.err)
        # one key starts one poster and two prefetchers
        self.assertGreater(max(int(n) for n, k in grown if k == "post"), 1)
        self.assertGreater(max(int(n) for n, k in grown
                               if k == "prefetch"), 2)
        self.assertGreater(len(posters), 1, posters)
        env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), 16)
        env.assert_report_matches(env.report(), env.assert_one_passkey(upns))

    def test_pools_stay_when_the_key_is_slower(self):
        env, upns = self.slow_graph("fst", 6, "delay:400", None)
        r = env.run("-v", *self.enroll(env), env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.grown(r.err), [], r.err)
        env.assert_one_passkey(upns)

    def test_no_growth_once_graph_throttles(self):
        env, upns = self.slow_graph("thr", 12, "auto", 300, faults=[
            {"kind": "429", "path": "/\\$batch$", "method": "POST",
             "count": 1, "retry_after": 1, "batch": False}])
        r = env.run("-v", *self.enroll(env), env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.grown(r.err), [], r.err)
        counts = env.state()["requests"]["counts"]
        self.assertEqual(counts.get("POST fault:429 429"), 1, counts)
        self.assertEqual(counts.get("POST /v1.0/$batch 200"), 1, counts)
        env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), 12)

    @unittest.skipIf("ASAN_OPTIONS" in os.environ,
                     "ASan reserves more address space than the limit")
    def test_threads_cannot_start(self):
        env, keys, upns = self.start("lim", 6, 4, "lim")
        gib = 1 << 30
        # a thread's stack is RLIMIT_STACK: the fifth or so cannot map it
        p = subprocess.run(["prlimit", "--stack=%d" % gib,
                            "--as=%d" % (5 * gib), "--"] +
                           env.argv(*self.enroll(env)),
                           cwd=env.work, env=env.env(E2E_PIN=PIN),
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        err = p.stderr.decode(errors="replace")
        self.assertNotEqual(p.returncode, 0, err)
        self.assertEqual(err.count("cannot start a thread"), 1, err)
        self.assertIn("ulimit", err)
        self.assertEqual(env.total_added(), 0)
        for k in keys:
            self.assertEqual(env.key_commands(k).count("0x01"), 0, k.name)
        r = env.run(*self.enroll(env), env=env.env(E2E_PIN=PIN))
        self.assertEqual(r.rc, 0, r)
        env.assert_one_passkey(upns)
        self.assertEqual(env.total_added(), 6)


if __name__ == "__main__":
    unittest.main(verbosity=2)
