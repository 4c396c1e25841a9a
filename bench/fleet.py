#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""A fleet on one queue: STATIONS provisioning processes with KEYS vauth
keys each (--presence delay:200) work one PostgreSQL queue (a throwaway
cluster, tests/queue/pgcluster.py) against one Graph emulator
(--latency 50).  Never fails on time.

    /usr/bin/python3 bench/fleet.py             2,000 users, 4 x 4 keys
    QUICK=1 /usr/bin/python3 bench/fleet.py     200 users
    /usr/bin/python3 bench/fleet.py --json      also one JSON object

Prints users/minute against the ideal (all keys touched back to back:
STATIONS x KEYS x 60,000 / PRESENCE), the ratio, the database's share of
the stations' time, measured two ways:

  queue_ms      what each station says it spent holding its database
                connection (`station NAME: queue N calls, T ms on the
                database connection in W ms`, the queue's own counter:
                round trips, the server's work, libpq), over the
                stations' wall time summed
  db_cpu_s      the PostgreSQL server processes' CPU (/proc, every
                process of the cluster) against the provisioners' CPU
                (wait4 rusage of each station)
  exec_ms       pg_stat_statements' total_exec_time, when the extension
                loads (the server's execution time alone)

double claims, from the queue's history (provisioning_events, in commit
order per user): a claim of a user that another station still held
(claimed, not yet done/failed/skipped/released), with "lease takeovers"
(a claim of an expired lease: none expected, nobody is killed) apart;
and users holding more than one passkey in the emulator; both must be
0.  Emulator CPU from /proc.

Environment: USERS (2000; 200 with QUICK=1), STATIONS (4), KEYS (4 per
station), LATENCY (50), PRESENCE (200), LEASE (60, --lease-seconds),
FSYNC (1: the cluster with fsync on, as a real database; 0: the test
suite's fsync off), BUILD (build-bench), KEEP=1 (keep the directory).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "queue"))
import enroll as single  # noqa: E402  (the single-station bench's helpers)
import pgcluster  # noqa: E402

EMU = single.EMU
DOMAIN = single.DOMAIN
CLIENT_ID = single.CLIENT_ID
CLIENT_SECRET = single.CLIENT_SECRET
INFLIGHT = ("claimed", "reconcile", "resolved", "options_fetched",
            "key_touched")


def cluster_cpu_s(pg):
    """CPU seconds of every process of the cluster (postmaster + children)."""
    try:
        with open(os.path.join(pg.data, "postmaster.pid")) as f:
            root = int(f.readline())
    except (OSError, ValueError):
        return 0.0
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        w = s[s.rindex(")") + 2:].split()
        if int(d) == root or int(w[1]) == root:
            # utime stime of the process, and of its reaped children
            # (backends that exited count in the postmaster's cutime)
            ticks = int(w[11]) + int(w[12])
            if int(d) == root:
                ticks += int(w[13]) + int(w[14])
            total += ticks / os.sysconf("SC_CLK_TCK")
    return total


def stat_statements(pg):
    """pg_stat_statements loaded (a restart): True if it works."""
    with open(os.path.join(pg.data, "postgresql.conf"), "a") as f:
        f.write("shared_preload_libraries = 'pg_stat_statements'\n")
    try:
        pg.restart()
        pg.psql("CREATE EXTENSION pg_stat_statements")
        return True
    except RuntimeError as e:
        print("  (no pg_stat_statements: %s)" % e)
        with open(os.path.join(pg.data, "postgresql.conf"), "a") as f:
            f.write("shared_preload_libraries = ''\n")
        pg.restart()
        return False


def history(pg):
    """(double claims, lease takeovers, users claimed more than once)."""
    rows = pg.psql("SELECT user_id, station, state, coalesce(detail, '')"
                   " FROM provisioning_events ORDER BY user_id, id")
    holder, doubles, takeovers, claims = {}, 0, 0, {}
    for uid, station, state, detail in rows:
        if state in ("claimed", "reconcile") and (
                detail == "" or detail.startswith("lease of")):
            claims[uid] = claims.get(uid, 0) + 1
            if detail.startswith("lease of"):
                takeovers += 1
            elif holder.get(uid) not in (None, station):
                doubles += 1
            holder[uid] = station
        elif state in ("done", "failed", "skipped") or (
                state == "queued" and detail in ("released", "retry")):
            holder[uid] = None
    again = sum(1 for n in claims.values() if n > 1)
    return doubles, takeovers, again


def emulator_passkeys(emu_dir, port):
    """users with more than one passkey, and the total registered."""
    sys.path.insert(0, EMU)
    import emuctl
    emu = emuctl.Emulator(emu_dir, None, int(port))
    over, total = 0, 0
    for u in emu.state()["users"]:
        n = len([m for m in u.get("fido2Methods", [])
                 if not m.get("seeded")])
        total += n
        over += n > 1
    return over, total


def run(prov, vauth, nusers, nst, nkeys, latency, presence, lease):
    work = tempfile.mkdtemp(prefix="bench-fleet.")
    emu_dir = os.path.join(work, "emu")
    vpids, pg = [], None
    res = {"stations": nst, "keys_per_station": nkeys, "users": nusers}
    try:
        pg = pgcluster.Cluster()
        pg.start()
        if os.environ.get("FSYNC", "1") == "1":
            pg.psql("ALTER SYSTEM SET fsync = on")
            pg.psql("SELECT pg_reload_conf()")
        res["fsync"] = pg.psql("SHOW fsync")[0][0]
        pss = stat_statements(pg)
        config, csv = single.write_tenant(work, nusers)
        start = ["sh", os.path.join(EMU, "start.sh"), emu_dir, config,
                 "--latency", str(latency)]
        single.show(start)
        port = subprocess.run(start, check=True, capture_output=True,
                              text=True).stdout.strip()
        with open(os.path.join(emu_dir, "pid")) as f:
            emu_pid = int(f.read())
        base = "https://127.0.0.1:%s" % port
        env = dict(os.environ, PROVISIONING_AUTHORITY_URL=base,
                   PROVISIONING_GRAPH_URL=base, PROVISIONING_TENANT=DOMAIN,
                   **pg.env())
        g = [prov, "--ca-bundle", os.path.join(emu_dir, "ca.pem"),
             "--client-id", CLIENT_ID]
        first = True
        for s in range(1, nst + 1):
            kd = os.path.join(work, "keys-st%d" % s)
            os.mkdir(kd)
            for k in range(1, nkeys + 1):
                argv = [vauth, "--socket", os.path.join(kd, "key%d" % k),
                        "--ca", os.path.join(work, "attestation-ca.pem"),
                        "--presence", "delay:%d" % presence,
                        "--max-creds", "1000"]
                if first:
                    single.show(argv, tail=" &   (one per key, %d keys)" %
                                (nst * nkeys))
                vpids.append(subprocess.Popen(argv,
                                              stdin=subprocess.DEVNULL))
                if first:       # it creates the shared CA
                    single.wait_socket(os.path.join(kd, "key1"))
                    first = False
        for s in range(1, nst + 1):
            for k in range(1, nkeys + 1):
                single.wait_socket(os.path.join(work, "keys-st%d" % s,
                                                "key%d" % k))
        shown = [("PROVISIONING_QUEUE", pg.conninfo())]
        q = g + ["queue", "init"]
        single.show(q, shown)
        subprocess.run(q, env=env, check=True, stdout=subprocess.DEVNULL)
        q = g + ["queue", "add", "--csv", csv]
        single.show(q, shown)
        subprocess.run(q, env=env, check=True, stdout=subprocess.DEVNULL)
        argvs, envs = [], []
        for s in range(1, nst + 1):
            name = "st%d" % s
            senv = dict(env, PROVISIONING_STATE_DIR=os.path.join(
                work, "state-" + name))
            login = g + ["login", "--client-credentials"]
            subprocess.run(login, env=dict(
                senv, PROVISIONING_CLIENT_SECRET=CLIENT_SECRET),
                check=True, stdout=subprocess.DEVNULL)
            argv = g + ["--station", name, "--virtual-keys",
                        os.path.join(work, "keys-" + name), "enroll",
                        "--parallel", "--pin", "random", "--pins-out",
                        os.path.join(work, name + "-pins.csv"),
                        "--lease-seconds", str(lease), "--report",
                        os.path.join(work, name + "-report.csv"),
                        "--failures",
                        os.path.join(work, name + "-failures.csv")]
            if s == 1:
                single.show(argv, shown + [
                    ("PROVISIONING_STATE_DIR", senv[
                        "PROVISIONING_STATE_DIR"])],
                    tail=" &   (and st2.. likewise, at once)")
            argvs.append(argv)
            envs.append(senv)
        if pss:
            pg.psql("SELECT pg_stat_statements_reset()")
        # the logins above are not counted
        tc0 = single.tls_counts(os.path.join(emu_dir, "access.log"))
        emu0 = single.proc_cpu_s(emu_pid) or 0
        vauth0 = sum(single.proc_cpu_s(p.pid) or 0 for p in vpids)
        db0 = cluster_cpu_s(pg)
        logs, procs = [], []
        t0 = time.monotonic()
        for i, argv in enumerate(argvs):
            lf = open(os.path.join(work, "st%d.log" % (i + 1)), "w")
            logs.append(lf)
            procs.append(subprocess.Popen(argv, env=envs[i],
                                          stdin=subprocess.DEVNULL,
                                          stdout=lf,
                                          stderr=subprocess.STDOUT))
        cpu, rcs = 0.0, []
        for p in procs:
            # wait4: each station's own rusage, its threads included
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            rcs.append(p.returncode)
            cpu += ru.ru_utime + ru.ru_stime
        wall = time.monotonic() - t0
        for lf in logs:
            lf.close()
        res.update({"wall": wall, "cpu": cpu, "rcs": rcs,
                    "emu_cpu": (single.proc_cpu_s(emu_pid) or 0) - emu0,
                    "vauth_cpu": sum(single.proc_cpu_s(p.pid) or 0
                                     for p in vpids) - vauth0,
                    "db_cpu": cluster_cpu_s(pg) - db0})
        tc = single.tls_counts(os.path.join(emu_dir, "access.log"))
        if tc is not None and tc0 is not None:
            res.update({"requests": tc[0] - tc0[0],
                        "connections": tc[1] - tc0[1],
                        "tls_full": tc[2] - tc0[2]})
        qcalls = qms = swall = 0
        for i in range(nst):
            with open(os.path.join(work, "st%d.log" % (i + 1))) as f:
                for line in f:
                    w = line.split()
                    # station NAME: queue N calls, T ms on the ... in W ms
                    if len(w) >= 11 and w[0] == "station" and \
                            w[2] == "queue" and w[4] == "calls,":
                        qcalls += int(w[3])
                        qms += int(w[5])
                        swall += int(w[-2])
        res.update({"queue_calls": qcalls, "queue_ms": qms,
                    "stations_wall_ms": swall})
        if pss:
            r = pg.psql("SELECT coalesce(sum(total_exec_time), 0),"
                        " coalesce(sum(calls), 0) FROM pg_stat_statements")
            res["exec_ms"] = float(r[0][0])
            res["exec_calls"] = int(float(r[0][1]))
        st = dict(pg.psql("SELECT state, count(*) FROM provisioning_users"
                          " GROUP BY state"))
        res["states"] = {k: int(v) for k, v in st.items()}
        res["done"] = res["states"].get("done", 0)
        res["double_claims"], res["takeovers"], res["claimed_again"] = \
            history(pg)
        res["two_passkeys"], res["passkeys"] = emulator_passkeys(emu_dir,
                                                                 port)
        for i, rc in enumerate(rcs):
            if rc != 0:
                print("  st%d exited %d; last lines of its log:" % (i + 1,
                                                                     rc))
                with open(os.path.join(work, "st%d.log" % (i + 1))) as f:
                    for line in f.readlines()[-6:]:
                        print("    " + line.rstrip())
    finally:
        for p in vpids:
            p.terminate()
        for p in vpids:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        subprocess.run(["sh", os.path.join(EMU, "stop.sh"), emu_dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if pg is not None:
            pg.close()
        if os.environ.get("KEEP") == "1":
            print("  kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def main():
    quick = os.environ.get("QUICK") == "1"
    nusers = single.env_int("USERS", 200 if quick else 2000)
    nst = single.env_int("STATIONS", 4)
    nkeys = single.env_int("KEYS", 4)
    latency = single.env_int("LATENCY", 50)
    presence = single.env_int("PRESENCE", 200)
    lease = single.env_int("LEASE", 60)
    b, prov, vauth = single.build_dir()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print("# %s, nproc %d, %s; build %s; load average before: %s" % (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(),
        single.cpu_model(), b, load))
    print("# %d users, %d stations x %d keys, Graph latency %d ms, touch "
          "%d ms, lease %d s" % (nusers, nst, nkeys, latency, presence,
                                 lease))
    r = run(prov, vauth, nusers, nst, nkeys, latency, presence, lease)
    with open("/proc/loadavg") as f:
        r["load_after"] = " ".join(f.read().split()[:3])
    r["load_before"] = load
    ideal = nst * nkeys * 60000.0 / presence
    upm = r["done"] * 60.0 / r["wall"] if r["wall"] > 0 else 0
    n = max(1, r["done"])
    share_conn = r["queue_ms"] / max(1, r["stations_wall_ms"])
    share_cpu = r["db_cpu"] / max(0.001, r["cpu"])
    print("  wall %.1f s, %d done of %d, exits %s; users/min %.0f (ideal "
          "%.0f, %.0f%%)" % (r["wall"], r["done"], nusers, r["rcs"], upm,
                             ideal, 100 * upm / ideal))
    print("  database: %d queue calls (%.1f/user), %.1f s on the stations' "
          "connections = %.1f%% of their %.1f s of wall time (%.2f ms/user);"
          " server CPU %.1f s = %.0f%% of the provisioners' %.1f s" % (
              r["queue_calls"], r["queue_calls"] / n, r["queue_ms"] / 1000.0,
              100 * share_conn, r["stations_wall_ms"] / 1000.0,
              r["queue_ms"] / n, r["db_cpu"], 100 * share_cpu, r["cpu"]))
    if "exec_ms" in r:
        print("  pg_stat_statements: %d statements, %.1f s executing "
              "(%.2f ms/user)" % (r["exec_calls"], r["exec_ms"] / 1000.0,
                                  r["exec_ms"] / n))
    print("  double claims %d, lease takeovers %d, users claimed more than "
          "once %d; users with two passkeys %d (%d passkeys for %d users)"
          % (r["double_claims"], r["takeovers"], r["claimed_again"],
             r["two_passkeys"], r["passkeys"], r["done"]))
    if "requests" in r:
        print("  Graph requests %d (%.2f/user), TLS connections %d, full "
              "handshakes %d" % (r["requests"], r["requests"] / n,
                                 r["connections"], r["tls_full"]))
    print("  provisioners CPU %.1f s (%.2f ms/user), emulator CPU %.1f s, "
          "vauth CPU %.1f s; load average after: %s" % (
              r["cpu"], 1000 * r["cpu"] / n, r["emu_cpu"], r["vauth_cpu"],
              r["load_after"]))
    if "--json" in sys.argv[1:]:
        print(json.dumps({
            "stations": nst, "keys_per_station": nkeys, "users": nusers,
            "done": r["done"], "states": r["states"], "rcs": r["rcs"],
            "wall_s": round(r["wall"], 2), "users_per_min": round(upm, 1),
            "ideal_per_min": round(ideal, 1),
            "ratio": round(upm / ideal, 4),
            "queue_calls": r["queue_calls"],
            "queue_ms": r["queue_ms"],
            "queue_share_of_station_wall": round(share_conn, 4),
            "db_server_cpu_s": round(r["db_cpu"], 2),
            "provisioners_cpu_s": round(r["cpu"], 2),
            "db_cpu_share_of_provisioners": round(share_cpu, 4),
            "pg_exec_ms": round(r["exec_ms"], 1) if "exec_ms" in r
            else None,
            "double_claims": r["double_claims"],
            "lease_takeovers": r["takeovers"],
            "claimed_again": r["claimed_again"],
            "users_with_two_passkeys": r["two_passkeys"],
            "passkeys": r["passkeys"],
            "graph_requests_per_user": round(r["requests"] / n, 2)
            if "requests" in r else None,
            "tls_connections": r.get("connections"),
            "tls_handshakes": r.get("tls_full"),
            "emulator_cpu_s": round(r["emu_cpu"], 2),
            "vauth_cpu_s": round(r["vauth_cpu"], 2),
            "fsync": r.get("fsync"),
            "load_before": r["load_before"],
            "load_after": r["load_after"]}, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
