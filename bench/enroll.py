#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Bulk enrollment throughput: `provisioning enroll --csv --parallel`.

For each key count, a fresh Graph emulator (--latency 50), fresh vauth
keys (--presence delay:200, no PIN: --pin random sets one), a fresh
state dir; N users from a generated tenant.  Prints wall time,
users/minute, the ideal (keys x 300/min: one 200 ms touch per user per
key), the ratio, and the provisioning process's own CPU per user and
peak RSS (wait4 rusage of that process only).  Never fails on time.

    /usr/bin/python3 bench/enroll.py            1,000 users; 1, 4, 8, 16 keys
    QUICK=1 /usr/bin/python3 bench/enroll.py    100 users
    /usr/bin/python3 bench/enroll.py --json     also one JSON object per row
    /usr/bin/python3 bench/enroll.py --memory   peak RSS, 100 vs 100,000 rows
    /usr/bin/python3 bench/enroll.py --startup  exec to the first key I/O
                                                (5 users, 1 key, strace)
The emulator's HTTP/2 front (nghttpx) logs one line per request with its
client port and whether the TLS session was resumed: graph_requests_per_user
counts every request that reached it (the token request included) over the
users enrolled; tls_handshakes counts the connections (distinct client
ports) whose session was not resumed, tls_resumed those that were.
Environment: USERS=N, KEYS="1 4 8", LATENCY=50 (ms per Graph request),
PRESENCE=200 (ms per touch), BUILD=build-bench, VERBOSE=1 (-v; 2: -vv;
log kept),
KEEP=1 (keep the temporary directories), STATE=1 (vauth --state files),
WARM=1 (the journal and PIN file made beforehand by another user's
enrollment on a key of its own: the start-up of a run that is not the
state directory's first),
PERF=FILE (enroll under perf record --call-graph dwarf; no figures),
WRAP="CMD ARGS" (enroll under CMD, e.g. WRAP="heaptrack -o FILE"; no
figures),
SMAPS=1 (with the peak sample, each mapped object's resident kB from
/proc/PID/smaps),
NO_VERIFY=1 (enroll --no-verify), EMU_LOG=1 (emulator --log
requests.log, kept: one line per request with its server time).
"""

import datetime
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMU = os.path.join(TOP, "tests", "graph-emulator")
DOMAIN = "contoso.example"
CLIENT_ID = "be0c0000-0000-4000-8000-000000000001"
CLIENT_SECRET = "bench-client-secret"   # the emulator's test app


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


def build_dir():
    b = os.environ.get("BUILD", "build-bench")
    if not os.path.isabs(b):
        b = os.path.join(TOP, b)
    prov = os.path.join(b, "src", "cli", "provisioning")
    vauth = os.path.join(b, "vauth", "vauth")
    if not (os.access(prov, os.X_OK) and os.access(vauth, os.X_OK)):
        subprocess.run(["cmake", "-S", TOP, "-B", b,
                        "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["cmake", "--build", b, "-j%d" % os.cpu_count(),
                        "--target", "provisioning", "vauth"], check=True,
                       stdout=subprocess.DEVNULL)
    return b, prov, vauth


def write_tenant(work, nusers, extra=0):
    """A config with an admin, our app and N (+ extra) enrollable
    members; a CSV of the N."""
    cfg = {
        "tenant": {"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "bench")),
                   "domain": DOMAIN, "displayName": "Bench"},
        "clients": [{"client_id": CLIENT_ID, "secret": CLIENT_SECRET,
                     "display_name": "provisioning bench",
                     "app_roles": ["UserAuthenticationMethod.ReadWrite.All",
                                   "Group.Read.All", "User.Read.All",
                                   "Policy.Read.All"]}],
        "signin_user": "admin@" + DOMAIN,
        "users": [{"userPrincipalName": "admin@" + DOMAIN,
                   "displayName": "Bench Admin",
                   "roles": ["Authentication Administrator"]}],
        "groups": [{"id": str(uuid.uuid5(uuid.NAMESPACE_DNS, "bench-group")),
                    "displayName": "Bench",
                    "generate_members": {"count": nusers + extra,
                                         "upn_prefix": "bench",
                                         "start": 1}}],
    }
    path = os.path.join(work, "tenant.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    csv = os.path.join(work, "users.csv")
    with open(csv, "w") as f:
        f.write("userPrincipalName\n")
        for n in range(1, nusers + 1):
            f.write("bench%04d@%s\n" % (n, DOMAIN))
    return path, csv


def proc_cpu_s(pid):
    """user+sys seconds of a live process, from /proc/PID/stat."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class HighWater:
    """The peak RSS of a running process, and its threads' CPU by role.

    The peak is its VmHWM, read every 20 ms, not wait4's ru_maxrss: that
    counts the pages of the forked Python that exec'd the program (16 MB
    or so here), a floor under every figure.  VmHWM is the program's own
    high-water mark; growth in its last 20 ms is missed.  0 if the
    process was never seen (a WRAP).  With it, from the sample of the
    highest VmRSS: RssAnon (heap, stacks: the program's own) and RssFile
    (the mapped libraries' pages: what the libraries cost to load).

    Every 40 ms, each thread's utime+stime and name (comm: "key 3",
    "prefetch 1", "post 2", ...): at the end, CPU by role, the number
    dropped.  A thread's last 40 ms are missed (the rows say how much of
    the process's CPU the roles cover), and ticks are 10 ms.
    """

    def __init__(self, pid):
        self.pid, self.kb, self.done = pid, 0, threading.Event()
        self.rss, self.anon, self.file = 0, 0, 0
        self.objects = {}
        self.tasks = {}
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def read(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                v = {}
                for ln in f:
                    k, _, rest = ln.partition(":")
                    if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                        v[k] = int(rest.split()[0])
            self.kb = max(self.kb, v.get("VmHWM", 0))
            if v.get("VmRSS", 0) > self.rss:
                self.rss = v["VmRSS"]
                self.anon = v.get("RssAnon", 0)
                self.file = v.get("RssFile", 0)
                if os.environ.get("SMAPS") == "1":
                    self.objects = self.read_smaps()
        except (OSError, ValueError):
            pass

    def read_smaps(self):
        """{object: [Rss kB, Anonymous kB]} at this sample: a mapped
        library's pages, its relocated and written ones among them."""
        out, cur = {}, None
        with open("/proc/%d/smaps" % self.pid) as f:
            for ln in f:
                w = ln.split()
                if not w[0].endswith(":"):
                    cur = os.path.basename(w[5]) if len(w) > 5 else \
                        "[anonymous]"
                    out.setdefault(cur, [0, 0])
                elif w[0] == "Rss:":
                    out[cur][0] += int(w[1])
                elif w[0] == "Anonymous:":
                    out[cur][1] += int(w[1])
        return out

    def read_tasks(self):
        base = "/proc/%d/task" % self.pid
        try:
            tids = os.listdir(base)
        except OSError:
            return
        for tid in tids:
            try:
                with open("%s/%s/stat" % (base, tid)) as f:
                    st = f.read()
            except OSError:
                continue
            comm = st[st.index("(") + 1:st.rindex(")")]
            f = st[st.rindex(")") + 2:].split()
            self.tasks[tid] = (comm, int(f[11]) + int(f[12]))

    def roles(self):
        """{role: CPU seconds}, a role being the name without its number."""
        tck = os.sysconf("SC_CLK_TCK")
        out = {}
        for comm, ticks in self.tasks.values():
            role = comm.rstrip("0123456789 ") or comm
            if role == "provisioning":
                role = "main"
            out[role] = out.get(role, 0) + ticks / tck
        return out

    def run(self):
        n = 0
        while not self.done.wait(0.02):
            self.read()
            n += 1
            if n % 2 == 0:
                self.read_tasks()

    def stop(self):
        self.done.set()
        self.t.join()


def count_rows(path):
    try:
        with open(path) as f:
            return max(0, sum(1 for _ in f) - 1)
    except OSError:
        return 0


def tls_counts(path):
    """(requests, connections, full handshakes) from nghttpx's log."""
    reqs, conns, full = 0, {}, 0
    try:
        with open(path) as f:
            for line in f:
                w = line.split()
                if len(w) < 2:
                    continue
                reqs += 1
                if w[0] not in conns:
                    conns[w[0]] = w[1]
                    full += w[1] != "r"
    except OSError:
        return None
    return reqs, len(conns), full


def show(argv, env_keys=(), tail=""):
    pre = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env_keys)
    print("  $ " + (pre + " " if pre else "") +
          " ".join(shlex.quote(a) for a in argv) + tail)


def run_one(prov, vauth, nkeys, nusers, latency, presence):
    work = tempfile.mkdtemp(prefix="bench-enroll-%dk." % nkeys)
    emu_dir = os.path.join(work, "emu")
    keys_dir = os.path.join(work, "keys")
    os.mkdir(keys_dir)
    vpids = []
    res = {"keys": nkeys, "users": nusers}
    try:
        warm = os.environ.get("WARM") == "1"
        config, csv = write_tenant(work, nusers, 1 if warm else 0)
        start = ["sh", os.path.join(EMU, "start.sh"), emu_dir, config,
                 "--latency", str(latency)]
        if os.environ.get("EMU_LOG") == "1":
            start += ["--log", os.path.join(work, "requests.log")]
        show(start)
        port = subprocess.run(start, check=True, capture_output=True,
                              text=True).stdout.strip()
        with open(os.path.join(emu_dir, "pid")) as f:
            emu_pid = int(f.read())
        for i in range(1, nkeys + 1):
            argv = [vauth, "--socket", os.path.join(keys_dir, "key%d" % i),
                    "--ca", os.path.join(work, "attestation-ca.pem"),
                    "--presence", "delay:%d" % presence,
                    "--max-creds", "1000"]
            if os.environ.get("STATE") == "1":
                argv += ["--state", os.path.join(work, "key%d.state" % i)]
            if i == 1 or i == nkeys:
                show(argv, tail=" &")
            elif i == 2:
                print("  ... (one vauth per key)")
            vpids.append(subprocess.Popen(argv, stdin=subprocess.DEVNULL))
            # the first creates the shared CA: let it finish first
            if i == 1:
                wait_socket(os.path.join(keys_dir, "key1"))
        for i in range(1, nkeys + 1):
            wait_socket(os.path.join(keys_dir, "key%d" % i))

        env = dict(os.environ)
        base = "https://127.0.0.1:%s" % port
        env.update({"PROVISIONING_AUTHORITY_URL": base,
                    "PROVISIONING_GRAPH_URL": base,
                    "PROVISIONING_TENANT": DOMAIN,
                    "PROVISIONING_STATE_DIR": os.path.join(work, "state"),
                    "PROVISIONING_VIRTUAL_KEYS": keys_dir})
        shown_env = [(k, env[k]) for k in ("PROVISIONING_AUTHORITY_URL",
                     "PROVISIONING_GRAPH_URL", "PROVISIONING_TENANT",
                     "PROVISIONING_STATE_DIR", "PROVISIONING_VIRTUAL_KEYS")]
        g = [prov, "--ca-bundle", os.path.join(emu_dir, "ca.pem"),
             "--client-id", CLIENT_ID]
        login = g + ["login", "--client-credentials"]
        show(login, [("PROVISIONING_CLIENT_SECRET", CLIENT_SECRET)])
        lenv = dict(env, PROVISIONING_CLIENT_SECRET=CLIENT_SECRET)
        subprocess.run(login, env=lenv, check=True,
                       stdout=subprocess.DEVNULL)
        login_tc = tls_counts(os.path.join(emu_dir, "access.log")) or \
            (0, 0, 0)
        if warm:
            # the journal and the PIN file made beforehand, by another
            # user enrolled on a key of its own: start-up as most runs of
            # a station see it, not its first
            wdir = os.path.join(work, "warmkeys")
            os.mkdir(wdir)
            vpids.append(subprocess.Popen(
                [vauth, "--socket", os.path.join(wdir, "w1"), "--ca",
                 os.path.join(work, "attestation-ca.pem"), "--presence",
                 "delay:%d" % presence], stdin=subprocess.DEVNULL))
            wait_socket(os.path.join(wdir, "w1"))
            wcsv = os.path.join(work, "warm.csv")
            with open(wcsv, "w") as f:
                f.write("userPrincipalName\nbench%04d@%s\n" % (nusers + 1,
                                                               DOMAIN))
            # in the work directory: its default report.csv goes there
            subprocess.run(g + ["enroll", "--csv", wcsv, "--pin", "random",
                                "--pins-out", os.path.join(work,
                                                           "pins.csv")],
                           env=dict(env, PROVISIONING_VIRTUAL_KEYS=wdir),
                           cwd=work,
                           check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        verbose = {"1": ["-v"], "2": ["-vv"]}.get(os.environ.get("VERBOSE"),
                                                  [])
        enroll = g + verbose + [
            "enroll", "--csv", csv, "--parallel", "--pin", "random",
            "--pins-out", os.path.join(work, "pins.csv"),
            "--report", os.path.join(work, "report.csv"),
            "--failures", os.path.join(work, "failures.csv")]
        if os.environ.get("NO_VERIFY") == "1":
            enroll.append("--no-verify")
        trace = os.path.join(work, "strace.out")
        if os.environ.get("STARTUP") == "1":
            # timestamps only on the calls that mark the start-up
            enroll = ["strace", "-f", "--seccomp-bpf", "-ttt", "-o", trace,
                      "-e", os.environ.get("STRACE_E", "trace=execve,connect,fdatasync,fsync")] + enroll
        if os.environ.get("PERF"):
            # a profile, not figures: rusage then counts perf too
            enroll = ["perf", "record", "-e", "cpu-clock", "--call-graph",
                      "dwarf", "-o", os.environ["PERF"], "--"] + enroll
        if os.environ.get("WRAP"):
            enroll = os.environ["WRAP"].split() + enroll
        show(enroll, shown_env)
        log = os.path.join(work, "enroll.log")
        emu0 = proc_cpu_s(emu_pid)
        vauth0 = sum(proc_cpu_s(p.pid) or 0 for p in vpids)
        with open(log, "w") as lf:
            t0 = time.monotonic()
            spawned = time.time()
            p = subprocess.Popen(enroll, env=env, stdin=subprocess.DEVNULL,
                                 stdout=lf, stderr=subprocess.STDOUT)
            # wait4: the rusage of provisioning alone (its threads
            # included), not of the emulator or the keys
            hwm = HighWater(p.pid)
            _, status, ru = os.wait4(p.pid, 0)
            wall = time.monotonic() - t0
            hwm.stop()
            p.returncode = os.waitstatus_to_exitcode(status)
        res.update({
            "rc": p.returncode, "wall": wall,
            "cpu": ru.ru_utime + ru.ru_stime, "user": ru.ru_utime,
            "sys": ru.ru_stime, "maxrss_kb": hwm.kb or ru.ru_maxrss,
            "anon_kb": hwm.anon, "file_kb": hwm.file, "roles": hwm.roles(),
            "objects": hwm.objects,
            "csw": ru.ru_nvcsw + ru.ru_nivcsw,
            "enrolled": count_rows(os.path.join(work, "report.csv")),
            "failed": count_rows(os.path.join(work, "failures.csv")),
            "emu_cpu": (proc_cpu_s(emu_pid) or 0) - (emu0 or 0),
            "vauth_cpu": sum(proc_cpu_s(q.pid) or 0 for q in vpids) - vauth0,
            "log": log, "work": work})
        res.update(first_credentials(os.path.join(work, "state",
                                                  "journal.sqlite"), spawned))
        if os.environ.get("STARTUP") == "1":
            res.update(startup_marks(trace, keys_dir))
        # the login before the timed run is not counted
        tc = tls_counts(os.path.join(emu_dir, "access.log"))
        if tc is not None:
            res.update({"requests": tc[0] - login_tc[0],
                        "connections": tc[1] - login_tc[1],
                        "tls_full": tc[2] - login_tc[2]})
        if res["rc"] != 0:
            print("  enroll exited %d; last lines of %s:" % (res["rc"], log))
            with open(log) as f:
                for line in f.readlines()[-8:]:
                    print("    " + line.rstrip())
    finally:
        for q in vpids:
            q.terminate()
        for q in vpids:
            try:
                q.wait(timeout=5)
            except subprocess.TimeoutExpired:
                q.kill()
        subprocess.run(["sh", os.path.join(EMU, "stop.sh"), emu_dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if os.environ.get("KEEP") == "1" or \
                os.environ.get("VERBOSE") in ("1", "2") or \
                os.environ.get("EMU_LOG") == "1":
            print("  kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return res


def first_credentials(journal, spawned):
    """Spawn to the run's first credential, and to the moment every key
    had made its first (each includes that touch): how long the keys
    waited for the run to start.  From the journal's millisecond stamps
    (the wall clock, as spawned is)."""
    try:
        db = sqlite3.connect("file:%s?mode=ro" % journal, uri=True)
        firsts = [r[0] for r in db.execute(
            "SELECT min(t.at) FROM transitions t JOIN enrollments e "
            "ON e.user_id = t.user_id WHERE t.to_state = 'key_touched' "
            "GROUP BY e.device")]
        db.close()
    except sqlite3.Error:
        return {}
    if not firsts:
        return {}
    at = [datetime.datetime.strptime(f, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() for f in firsts]
    return {"first_credential_ms": round(1000 * (min(at) - spawned)),
            "every_key_ms": round(1000 * (max(at) - spawned))}


def startup_marks(trace, keys_dir):
    """From an strace -ttt log: exec to the first Graph connect, to the
    first connect to a key's socket, and the fsyncs before that."""
    t_exec = t_graph = t_key = None
    syncs = 0
    with open(trace) as f:
        for line in f:
            parts = line.split(None, 2)
            if len(parts) < 3:
                continue
            t, call = float(parts[1]), parts[2]
            if call.startswith("execve(") and t_exec is None:
                t_exec = t
            elif t_key is None and call.startswith(("fsync(",
                                                      "fdatasync(")):
                syncs += 1
            elif call.startswith("connect("):
                if keys_dir in call and t_key is None:
                    t_key = t
                elif "AF_INET" in call and t_graph is None:
                    t_graph = t
    ms = lambda t: round(1000 * (t - t_exec), 1) \
        if t is not None and t_exec is not None else None
    return {"exec_to_graph_ms": ms(t_graph), "exec_to_key_ms": ms(t_key),
            "fsyncs_before_key": syncs}


def startup():
    """Start-up to the first key I/O, under strace (RUNS times)."""
    b, prov, vauth = build_dir()
    print("# %s, build %s; %d users, 1 key, strace -f --seccomp-bpf" % (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), b,
        env_int("USERS", 5)))
    os.environ["STARTUP"] = "1"
    for _ in range(env_int("RUNS", 3)):
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        r = run_one(prov, vauth, 1, env_int("USERS", 5),
                    env_int("LATENCY", 50), env_int("PRESENCE", 200))
        print(json.dumps({k: r.get(k) for k in (
            "exec_to_graph_ms", "exec_to_key_ms", "fsyncs_before_key",
            "rc")} | {"load_before": load}, sort_keys=True), flush=True)
    return 0


def wait_socket(path):
    for _ in range(100):
        if os.path.exists(path):
            return
        time.sleep(0.1)
    raise RuntimeError("vauth did not create %s" % path)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def json_row(r):
    n = max(1, r["enrolled"])
    return {
        "keys": r["keys"], "users": r["users"], "enrolled": r["enrolled"],
        "failed": r["failed"], "rc": r["rc"], "wall_s": round(r["wall"], 2),
        "users_per_min": round(r["upm"], 1),
        "ideal_per_min": round(r["ideal"], 1),
        "ratio": round(r["ratio"], 4),
        "cpu_ms_per_user": round(1000 * r["cpu"] / n, 2),
        "user_ms_per_user": round(1000 * r["user"] / n, 2),
        "sys_ms_per_user": round(1000 * r["sys"] / n, 2),
        "context_switches_per_user": round(r["csw"] / n, 1),
        "maxrss_mb": round(r["maxrss_kb"] / 1024.0, 1),
        "rss_anon_mb": round(r["anon_kb"] / 1024.0, 1),
        "rss_file_mb": round(r["file_kb"] / 1024.0, 1),
        "cpu_ms_per_user_by_role": {k: round(1000 * v / n, 2)
                                    for k, v in sorted(r["roles"].items())},
        "graph_requests_per_user":
            round(r["requests"] / n, 2) if "requests" in r else None,
        "tls_connections": r.get("connections"),
        "tls_handshakes": r.get("tls_full"),
        "tls_resumed": (r["connections"] - r["tls_full"])
            if "connections" in r else None,
        "first_credential_ms": r.get("first_credential_ms"),
        "every_key_ms": r.get("every_key_ms"),
        "emulator_cpu_s": round(r["emu_cpu"], 2),
        "vauth_cpu_s": round(r["vauth_cpu"], 2),
        "load_before": r.get("load")}


def memory(latency_default):
    """Peak RSS against the number of input rows.

    `enroll --csv FILE --dry-run` (no key, no registration) over a CSV
    of 100 and of 100,000 rows against an emulator tenant of 100 users:
    rows past the 100th are "not found" failures.  The dry run resolves
    every row, so the 100,000-row run is stopped by SIGINT after
    MEM_SECONDS (10) seconds: the peak it reached by then covers reading
    the input and whatever per-row state the pipeline holds from the
    start; a pipeline holding all rows in memory shows it there.
    """
    b, prov, vauth = build_dir()
    secs = env_int("MEM_SECONDS", 10)
    rows = [int(n) for n in os.environ.get("ROWS", "100 100000").split()]
    out = []
    for n in rows:
        work = tempfile.mkdtemp(prefix="bench-mem-%d." % n)
        emu_dir = os.path.join(work, "emu")
        try:
            config, _ = write_tenant(work, 100)
            csv = os.path.join(work, "rows.csv")
            with open(csv, "w") as f:
                f.write("userPrincipalName\n")
                for i in range(1, n + 1):
                    f.write("bench%04d@%s\n" % (i, DOMAIN))
            port = subprocess.run(["sh", os.path.join(EMU, "start.sh"),
                                   emu_dir, config, "--latency",
                                   str(latency_default)], check=True,
                                  capture_output=True, text=True
                                  ).stdout.strip()
            base = "https://127.0.0.1:%s" % port
            env = dict(os.environ, PROVISIONING_AUTHORITY_URL=base,
                       PROVISIONING_GRAPH_URL=base,
                       PROVISIONING_TENANT=DOMAIN,
                       PROVISIONING_STATE_DIR=os.path.join(work, "state"),
                       PROVISIONING_VIRTUAL_KEYS=os.path.join(work, "none"))
            g = [prov, "--ca-bundle", os.path.join(emu_dir, "ca.pem"),
                 "--client-id", CLIENT_ID]
            subprocess.run(g + ["login", "--client-credentials"],
                           env=dict(env,
                                    PROVISIONING_CLIENT_SECRET=CLIENT_SECRET),
                           check=True, stdout=subprocess.DEVNULL)
            argv = g + ["enroll", "--csv", csv, "--dry-run",
                        "--report", os.path.join(work, "report.csv"),
                        "--failures", os.path.join(work, "failures.csv")]
            show(argv)
            with open(os.path.join(work, "enroll.log"), "w") as lf:
                p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                     stdout=lf, stderr=subprocess.STDOUT)
                t0 = time.monotonic()
                hwm = HighWater(p.pid)
                stopped = False
                # wait4, not poll(): poll() would reap it, rusage lost
                while True:
                    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                    if pid == p.pid:
                        break
                    if not stopped and time.monotonic() - t0 >= secs:
                        p.send_signal(2)
                        stopped = True
                    time.sleep(0.05)
                p.returncode = os.waitstatus_to_exitcode(status)
            hwm.stop()
            r = {"rows": n, "maxrss_mb": round((hwm.kb or ru.ru_maxrss) /
                                               1024.0, 1),
                 "stopped_after_s": secs if stopped else None,
                 "rows_done": count_rows(os.path.join(work, "failures.csv"))
                 + count_rows(os.path.join(work, "report.csv"))}
            print(json.dumps(r, sort_keys=True), flush=True)
            out.append(r)
        finally:
            subprocess.run(["sh", os.path.join(EMU, "stop.sh"), emu_dir],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            if os.environ.get("KEEP") != "1":
                shutil.rmtree(work, ignore_errors=True)
    if len(out) == 2:
        print("# peak RSS %.1f MB for %d rows, %.1f MB for %d rows: "
              "+%.1f MB" % (out[0]["maxrss_mb"], out[0]["rows"],
                            out[1]["maxrss_mb"], out[1]["rows"],
                            out[1]["maxrss_mb"] - out[0]["maxrss_mb"]))
    return 0


def main():
    quick = os.environ.get("QUICK") == "1"
    nusers = env_int("USERS", 100 if quick else 1000)
    keys = [int(k) for k in os.environ.get("KEYS", "1 4 8 16").split()]
    as_json = "--json" in sys.argv[1:]
    if "--startup" in sys.argv[1:]:
        return startup()
    if "--memory" in sys.argv[1:]:
        return memory(latency_default=env_int("LATENCY", 0))
    latency = env_int("LATENCY", 50)
    presence = env_int("PRESENCE", 200)
    b, prov, vauth = build_dir()
    print("# %s, nproc %d, %s; build %s" % (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(),
        cpu_model(), b))
    print("# %d users, Graph latency %d ms, touch %d ms, keys %s%s" % (
        nusers, latency, presence, " ".join(map(str, keys)),
        ", --no-verify" if os.environ.get("NO_VERIFY") == "1" else ""))
    rows = []
    for k in keys:
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        print("== %d key(s), %d users (load average before: %s)" % (
            k, nusers, load))
        r = run_one(prov, vauth, k, nusers, latency, presence)
        r["load"] = load
        ideal = k * 60000.0 / presence
        upm = r["enrolled"] * 60.0 / r["wall"] if r["wall"] > 0 else 0
        r.update({"upm": upm, "ideal": ideal, "ratio": upm / ideal})
        print("  wall %.1f s, %d enrolled, %d failed, exit %d; "
              "users/min %.0f (ideal %.0f, %.0f%%); provisioning CPU "
              "%.2f ms/user (user %.1f s + sys %.1f s), maxrss %.1f MB; "
              "emulator CPU %.1f s, vauth CPU %.1f s" % (
                  r["wall"], r["enrolled"], r["failed"], r["rc"], upm,
                  ideal, 100 * r["ratio"],
                  1000 * r["cpu"] / max(1, nusers), r["user"], r["sys"],
                  r["maxrss_kb"] / 1024.0, r["emu_cpu"], r["vauth_cpu"]))
        if "every_key_ms" in r:
            print("  first credential %d ms after the spawn, every key's "
                  "first by %d ms (a %d ms touch each)" % (
                      r["first_credential_ms"], r["every_key_ms"],
                      presence))
        if "requests" in r:
            print("  Graph requests %d (%.2f/user), TLS connections %d, "
                  "full handshakes %d" % (r["requests"], r["requests"] /
                                          max(1, r["enrolled"]),
                                          r["connections"], r["tls_full"]))
        if r.get("roles"):
            n = max(1, r["enrolled"])
            print("  CPU ms/user by thread: " + ", ".join(
                "%s %.2f" % (k, 1000 * v / n)
                for k, v in sorted(r["roles"].items())) +
                " (sampled: %.0f%% of the process's)" % (
                    100 * sum(r["roles"].values()) / max(r["cpu"], 1e-9)))
        if r.get("anon_kb"):
            print("  RSS at its peak sample: %.1f MB anonymous (heap, "
                  "stacks) + %.1f MB of mapped files (libraries)" % (
                      r["anon_kb"] / 1024.0, r["file_kb"] / 1024.0))
        if r.get("objects"):
            print("  by object at that sample (SMAPS=1), kB resident "
                  "(of it anonymous): " + ", ".join(
                      "%s %d (%d)" % (o, v[0], v[1]) for o, v in sorted(
                          r["objects"].items(), key=lambda x: -x[1][0])
                      if v[0] >= 64))
        rows.append(r)
        if as_json:
            print(json.dumps(json_row(r), sort_keys=True), flush=True)
    print()
    print("| keys | users | wall s | users/min | ideal/min | ratio | "
          "prov CPU ms/user | prov maxrss MB | emulator CPU s | "
          "vauth CPU s | ok/failed |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print("| %d | %d | %.1f | %.0f | %.0f | %.0f%% | %.2f | %.1f | "
              "%.1f | %.1f | %d/%d |" % (
                  r["keys"], r["users"], r["wall"], r["upm"], r["ideal"],
                  100 * r["ratio"], 1000 * r["cpu"] / max(1, r["users"]),
                  r["maxrss_kb"] / 1024.0, r["emu_cpu"], r["vauth_cpu"],
                  r["enrolled"], r["failed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
