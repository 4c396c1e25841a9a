#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""The kiosk station's throughput: every slot of a hub busy at once.

A fresh Graph emulator (--latency 50), SLOTS vauth keys (--presence
delay:300, blank: --pin random sets a PIN), N users from a CSV, and
`provisioning --json kiosk --no-board`.  A simulated operator reads the
events: when a slot is done (or failed, or refused) it pulls that key
(the vauth is killed and its socket removed) and, once the station has
seen it go, plugs a new blank key into the same slot: one started
beforehand, whose socket is renamed into the keys' directory (SPARES=0:
started there when plugged, the old way).  The ideal is
SLOTS / presence (10 / 0.3 s = 2,000 users a minute): every slot always
in its touch.  Printed: users per minute, the ratio to the ideal, each
slot's idle share (the time it was not waiting for a touch), the touch
share of slot time leaving out the operator's swaps (done -> removed ->
inserted), and where a user's cycle goes (the mean time in each state).
The provisioning process's own CPU per user and peak RSS come from
wait4.  Never fails on time.

    /usr/bin/python3 bench/kiosk.py           200 users, 10 slots
    QUICK=1 /usr/bin/python3 bench/kiosk.py   50 users
    /usr/bin/python3 bench/kiosk.py --json    also one JSON object
Environment: USERS=N, SLOTS=10, LATENCY=50, PRESENCE=300, SPARES=1,
BUILD=build-bench,
KEEP=1 (keep the temporary directory).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import enroll as common  # noqa: E402  (tenant, emulator, build helpers)


def start_key(vauth, work, keys_dir, name, presence):
    argv = [vauth, "--socket", os.path.join(keys_dir, name), "--ca",
            os.path.join(work, "attestation-ca.pem"), "--presence",
            "delay:%d" % presence]
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def spare_key(vauth, work, spare_dir, name, presence):
    """A blank key started beforehand, ready to plug: the operator's
    swap is then the rename into the keys' directory, not a vauth
    start-up (SPARES=0 starts each key when it is plugged)."""
    p = start_key(vauth, work, spare_dir, name, presence)
    common.wait_socket(os.path.join(spare_dir, name))
    return p


def pull_key(p, sock):
    p.kill()
    p.wait()
    try:
        os.unlink(sock)
    except FileNotFoundError:
        pass


def mean(v):
    return sum(v) / len(v) if v else 0.0


def run(prov, vauth, nslots, nusers, latency, presence):
    work = tempfile.mkdtemp(prefix="bench-kiosk.")
    emu_dir = os.path.join(work, "emu")
    keys_dir = os.path.join(work, "keys")
    spare_dir = os.path.join(work, "spare")
    os.mkdir(keys_dir)
    os.mkdir(spare_dir)
    spares = os.environ.get("SPARES", "1") == "1"
    keys = {}
    spare = {}
    res = {"slots": nslots, "users": nusers, "presence_ms": presence,
           "latency_ms": latency}
    try:
        config, csv = common.write_tenant(work, nusers)
        start = ["sh", os.path.join(common.EMU, "start.sh"), emu_dir, config,
                 "--latency", str(latency)]
        common.show(start)
        port = subprocess.run(start, check=True, capture_output=True,
                              text=True).stdout.strip()
        with open(os.path.join(emu_dir, "pid")) as f:
            emu_pid = int(f.read())
        names = ["slot%02d" % i for i in range(1, nslots + 1)]
        for i, n in enumerate(names):
            keys[n] = start_key(vauth, work, keys_dir, n, presence)
            if i == 0:      # the first makes the shared attestation CA
                common.wait_socket(os.path.join(keys_dir, n))
        for n in names:
            common.wait_socket(os.path.join(keys_dir, n))
            if spares:
                spare[n] = spare_key(vauth, work, spare_dir, n, presence)
        base = "https://127.0.0.1:%s" % port
        env = dict(os.environ,
                   PROVISIONING_AUTHORITY_URL=base,
                   PROVISIONING_GRAPH_URL=base,
                   PROVISIONING_TENANT=common.DOMAIN,
                   PROVISIONING_STATE_DIR=os.path.join(work, "state"),
                   PROVISIONING_VIRTUAL_KEYS=keys_dir)
        g = [prov, "--ca-bundle", os.path.join(emu_dir, "ca.pem"),
             "--client-id", common.CLIENT_ID]
        subprocess.run(g + ["login", "--client-credentials"],
                       env=dict(env, PROVISIONING_CLIENT_SECRET=common.
                                CLIENT_SECRET),
                       check=True, stdout=subprocess.DEVNULL)
        kiosk = g + ["--json", "kiosk", "--csv", csv, "--no-board", "--pin",
                     "random", "--pins-out", os.path.join(work, "pins.csv"),
                     "--report", os.path.join(work, "report.jsonl"),
                     "--failures", os.path.join(work, "failures.csv")]
        common.show(kiosk, [(k, env[k]) for k in (
            "PROVISIONING_GRAPH_URL", "PROVISIONING_VIRTUAL_KEYS")])
        emu0 = common.proc_cpu_s(emu_pid) or 0
        log = open(os.path.join(work, "kiosk.err"), "w")
        t0 = time.monotonic()
        p = subprocess.Popen(kiosk, env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=log, text=True)
        starters = []

        def respare(name):
            spare[name] = spare_key(vauth, work, spare_dir, name, presence)

        since = {}              # slot -> (state, t)
        in_state = {}           # state -> [seconds], per user cycle
        touch_s = {n: 0.0 for n in names}
        pulled = set()
        done = failed = 0
        for line in p.stdout:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            now = time.monotonic()
            s, st = e["slot"], e["state"]
            if e.get("key_removed"):
                # a key already pulled: counted, its slot left alone
                done += st == "done"
                failed += st == "failed"
                continue
            if s in since:
                prev, t = since[s]
                in_state.setdefault(prev, []).append(now - t)
                if prev == "touch":
                    touch_s[s] = touch_s.get(s, 0.0) + now - t
            since[s] = (st, now)
            if st in ("done", "failed", "refused") and s not in pulled:
                done += st == "done"
                failed += st == "failed"
                pulled.add(s)
                pull_key(keys[s], os.path.join(keys_dir, s))
            elif st == "removed" and s in pulled:
                pulled.discard(s)
                if spares and s in spare:
                    os.rename(os.path.join(spare_dir, s),
                              os.path.join(keys_dir, s))
                    keys[s] = spare.pop(s)
                    # the next spare starts off the reader's path: a
                    # fork here would delay the events read after it
                    t = threading.Thread(target=respare, args=(s,))
                    t.start()
                    starters.append(t)
                else:
                    keys[s] = start_key(vauth, work, keys_dir, s, presence)
        _, status, ru = os.wait4(p.pid, 0)
        for t in starters:
            t.join()
        wall = time.monotonic() - t0
        log.close()
        ideal = nslots * 60000.0 / presence
        per_min = done / wall * 60.0 if wall > 0 else 0.0
        idle = {n: 1.0 - touch_s[n] / wall for n in names}
        # the operator's swap (done -> removed -> the new key inserted) is
        # hands, not station: the station's own share leaves it out
        swap = sum(in_state.get("done", [])) + sum(in_state.get("removed",
                                                                 []))
        busy = nslots * wall - swap
        res.update({
            "rc": os.waitstatus_to_exitcode(status), "wall_s": wall,
            "done": done, "failed": failed,
            "users_per_min": per_min, "ideal_per_min": ideal,
            "ratio": per_min / ideal,
            "slowest_slot_idle": max(idle.values()),
            "mean_slot_idle": mean(list(idle.values())),
            "ratio_without_swaps": sum(touch_s.values()) / busy
            if busy > 0 else 0.0,
            "cpu_ms_per_user": (ru.ru_utime + ru.ru_stime) * 1000.0 /
            max(done, 1),
            "maxrss_mb": ru.ru_maxrss / 1024.0,
            "emulator_cpu_s": (common.proc_cpu_s(emu_pid) or 0) - emu0,
            # the mean time in each state, ms: where a cycle goes
            "state_ms": {k: round(mean(v) * 1000.0, 1)
                         for k, v in sorted(in_state.items())},
            "work": work})
    finally:
        for q in list(keys.values()) + list(spare.values()):
            if q.poll() is None:
                q.kill()
                q.wait()
        subprocess.run(["sh", os.path.join(common.EMU, "stop.sh"), emu_dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("KEEP") == "1":
            print("  kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def main():
    quick = os.environ.get("QUICK") == "1"
    nusers = common.env_int("USERS", 50 if quick else 200)
    nslots = common.env_int("SLOTS", 10)
    latency = common.env_int("LATENCY", 50)
    presence = common.env_int("PRESENCE", 300)
    _, prov, vauth = common.build_dir()
    print("kiosk bench: %d users, %d slots, presence %d ms, Graph latency "
          "%d ms; load %s" % (nusers, nslots, presence, latency,
                              " ".join("%.2f" % x for x in os.getloadavg())))
    r = run(prov, vauth, nslots, nusers, latency, presence)
    print("| slots | users | wall s | users/min | ideal/min | ratio | "
          "slowest slot idle | mean slot idle | prov CPU ms/user | "
          "maxrss MB | emulator CPU s | done/failed |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("| %d | %d | %.1f | %.0f | %.0f | %.0f%% | %.0f%% | %.0f%% | %.2f | "
          "%.1f | %.1f | %d/%d |" % (
              r["slots"], r["users"], r["wall_s"], r["users_per_min"],
              r["ideal_per_min"], 100 * r["ratio"],
              100 * r["slowest_slot_idle"], 100 * r["mean_slot_idle"],
              r["cpu_ms_per_user"], r["maxrss_mb"], r["emulator_cpu_s"],
              r["done"], r["failed"]))
    print("touch share of slot time without the operator's swaps: %.0f%%" %
          (100 * r["ratio_without_swaps"]))
    print("mean ms per state (a slot's cycle): " + ", ".join(
        "%s %.0f" % kv for kv in r["state_ms"].items()))
    if r["rc"] != 0:
        print("kiosk exited %d" % r["rc"])
    if "--json" in sys.argv:
        r.pop("work", None)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
