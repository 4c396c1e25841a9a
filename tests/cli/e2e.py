# SPDX-License-Identifier: BSD-2-Clause
"""Shared harness of the enroll end-to-end tests (test_enroll_*.py).

One `Env` is one isolated world: a Graph emulator on its own temp dir and
port, a --virtual-keys dir of vauth sockets, a state dir (token cache,
journal) and a work dir (report, failures, pins).  `Env.run()` runs the
real `provisioning` binary with a timeout; `Env.spawn()` starts it in the
background (for kills and signals).  The emulator's state is the ground
truth: `Env.passkeys(upn)` lists the methods the tool registered.

Every child (emulator, vauth, provisioning) gets PR_SET_PDEATHSIG=SIGKILL
and is killed by Env.close() (registered with addCleanup), so nothing
outlives a failed, killed or timed-out test.
"""

import csv
import ctypes
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import types

SRCDIR = os.environ.get("SRCDIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BINDIR = os.environ.get("BINDIR") or os.path.join(SRCDIR, "build")
PROVISIONING = os.environ.get("PROVISIONING") or os.path.join(
    BINDIR, "src", "cli", "provisioning")
VAUTH = os.environ.get("VAUTH") or os.path.join(BINDIR, "vauth",
                                                 "vauth")
EMUDIR = os.path.join(SRCDIR, "tests", "graph-emulator")
BASIC = os.path.join(EMUDIR, "configs", "basic.json")

CLIENT_ID = "5b7e2c1a-0f4d-4c3b-9a8e-6d5f4e3c2b1a"
CLIENT_SECRET = "emulator-test-secret"
DOMAIN = "contoso.example"

sys.dont_write_bytecode = True    # nothing of ours in the source tree
sys.path.insert(0, EMUDIR)
import emuctl  # noqa: E402

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: the child is SIGKILLed if the test process dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() == 1:
        os._exit(1)


class _Popen(subprocess.Popen):
    def __init__(self, *a, **kw):
        kw.setdefault("preexec_fn", _die_with_parent)
        super().__init__(*a, **kw)


# emuctl starts the emulator with subprocess.Popen: give it ours
emuctl.subprocess = types.SimpleNamespace(
    **{k: getattr(subprocess, k) for k in dir(subprocess)
       if not k.startswith("__")})
emuctl.subprocess.Popen = _Popen

# every process we started and have not reaped yet: killed at exit
_children = set()
_children_lock = threading.Lock()


def _track(p):
    with _children_lock:
        _children.add(p)
    return p


def _kill_all():
    with _children_lock:
        procs = list(_children)
        _children.clear()
    for p in procs:
        try:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        except Exception:
            pass


def _on_term(signum, frame):
    _kill_all()
    os._exit(128 + signum)


signal.signal(signal.SIGTERM, _on_term)
import atexit  # noqa: E402
atexit.register(_kill_all)


def csv_formula_lead(s):
    """A cell a spreadsheet would run (after any apostrophes)."""
    t = s.lstrip("'")
    return t != "" and t[0] in "=+-@\t\r"


def csv_unescape(s):
    """One "'" off a cell we prefixed, exactly as the C side does."""
    if isinstance(s, str) and s.startswith("'") and csv_formula_lead(s):
        return s[1:]
    return s


def basic_config():
    """configs/basic.json as a dict, to adjust per test."""
    with open(BASIC) as f:
        return json.load(f)


def member(upn, **kw):
    """A config user (id derived by the emulator from the UPN)."""
    u = {"userPrincipalName": upn if "@" in upn else "%s@%s" % (upn, DOMAIN),
         "displayName": kw.pop("displayName", upn.split("@")[0].title())}
    u.update(kw)
    return u


class Result:
    def __init__(self, rc, out, err, secs):
        self.rc = rc
        self.out = out
        self.err = err
        self.secs = secs

    def __repr__(self):
        return "exit %s after %.1f s\n--- stdout\n%s\n--- stderr\n%s" % (
            self.rc, self.secs, self.out[-3000:], self.err[-6000:])


class Key:
    def __init__(self, name, sock, state, proc, log):
        self.name = name
        self.sock = sock
        self.state = state
        self.proc = proc
        self.log = log

    @property
    def path(self):
        return "unix:" + self.sock


class Env:
    """One emulator + keys + state dir; close() tears it all down."""

    def __init__(self, test, config=None, name="enroll", login=True,
                 emu_args=(), latency=None):
        self.test = test
        self.tmp = tempfile.mkdtemp(prefix="e2e-%s." % name)
        self.keys_dir = os.path.join(self.tmp, "keys")
        self.state_dir = os.path.join(self.tmp, "state")
        self.work = os.path.join(self.tmp, "work")
        for d in (self.keys_dir, self.work):
            os.makedirs(d)
        self.keys = {}
        self.procs = []
        self.emu = None
        test.addCleanup(self.close)
        self.emu = emuctl.start(os.path.join(self.tmp, "emu"),
                                config if config is not None else BASIC,
                                latency=latency, extra_args=emu_args)
        _track(self.emu.proc)
        self.base_env = dict(
            os.environ,
            PROVISIONING_AUTHORITY_URL=self.emu.base_url,
            PROVISIONING_GRAPH_URL=self.emu.base_url,
            PROVISIONING_TENANT=DOMAIN,
            PROVISIONING_STATE_DIR=self.state_dir,
            PROVISIONING_VIRTUAL_KEYS=self.keys_dir,
            LC_ALL="C")
        for k in ("PROVISIONING_CLIENT_SECRET", "PROVISIONING_GROUP",
                  "FIDO_DEBUG"):
            self.base_env.pop(k, None)
        if login:
            self.login()

    # --- processes --------------------------------------------------------

    def argv(self, *args):
        return [PROVISIONING, "--ca-bundle", self.emu.ca, "--client-id",
                CLIENT_ID] + [str(a) for a in args]

    def env(self, **extra):
        e = dict(self.base_env)
        for k, v in extra.items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        return e

    def run(self, *args, timeout=120, env=None, stdin=None):
        """Run provisioning to completion (killed after `timeout`)."""
        t0 = time.time()
        p = _track(_Popen(self.argv(*args), cwd=self.work,
                          env=env or self.env(),
                          stdin=subprocess.PIPE if stdin else
                          subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        try:
            out, err = p.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            self.test.fail("provisioning %s timed out after %d s\n%s" % (
                " ".join(args), timeout, err.decode(errors="replace")[-4000:]))
        finally:
            with _children_lock:
                _children.discard(p)
        res = Result(p.returncode, out.decode(errors="replace"),
                     err.decode(errors="replace"), time.time() - t0)
        self.check_sanitizers(res)
        return res

    def spawn(self, *args, env=None, tag="bg", **kw):
        """Start provisioning in the background; output to files."""
        n = len(self.procs)
        outp = os.path.join(self.tmp, "%s-%d.out" % (tag, n))
        errp = os.path.join(self.tmp, "%s-%d.err" % (tag, n))
        with open(outp, "wb") as o, open(errp, "wb") as e:
            kw.setdefault("stdin", subprocess.DEVNULL)
            p = _track(_Popen(self.argv(*args), cwd=self.work,
                              env=env or self.env(), stdout=o, stderr=e,
                              **kw))
        p.out_path, p.err_path, p.t0 = outp, errp, time.time()
        self.procs.append(p)
        return p

    def finish(self, p, timeout=120):
        """Wait for a spawned run; returns a Result."""
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            self.test.fail("provisioning did not finish in %d s:\n%s" % (
                timeout, self.read(p.err_path)[-4000:]))
        with _children_lock:
            _children.discard(p)
        res = Result(p.returncode, self.read(p.out_path),
                     self.read(p.err_path), time.time() - p.t0)
        self.check_sanitizers(res)
        return res

    def check_sanitizers(self, res):
        """An ASan/UBSan report fails the test even if the exit status
        looks right (UBSan goes on after reporting)."""
        for mark in ("runtime error:", "ERROR: AddressSanitizer",
                     "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer"):
            if mark in res.err:
                self.test.fail("sanitizer report:\n%s" % res.err[-6000:])

    @staticmethod
    def read(path):
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")

    def login(self):
        r = self.run("login", "--client-credentials",
                     env=self.env(PROVISIONING_CLIENT_SECRET=CLIENT_SECRET))
        self.test.assertEqual(r.rc, 0, r)
        return r

    # --- keys -------------------------------------------------------------

    def add_key(self, name=None, *args, pin=None, presence=None, fail=None,
                wait=True):
        """Start a vauth key whose socket is in the --virtual-keys dir."""
        name = name or "key%d" % (len(self.keys) + 1)
        sock = os.path.join(self.keys_dir, name)
        state = os.path.join(self.tmp, name + ".state")
        log = os.path.join(self.tmp, name + ".log")
        argv = [VAUTH, "--socket", sock, "--state", state, "--verbose",
                "--ca", os.path.join(self.tmp, "attestation-ca.pem")]
        if presence:
            argv += ["--presence", presence]
        if fail:
            argv += ["--fail", fail]
        argv += list(args)
        env = dict(os.environ)
        env.pop("VAUTH_PIN", None)
        if pin is not None:
            env["VAUTH_PIN"] = pin      # not on argv
        with open(log, "ab") as lf:
            p = _track(_Popen(argv, env=env, stdin=subprocess.DEVNULL,
                              stdout=lf, stderr=lf))
        k = Key(name, sock, state, p, log)
        self.keys[name] = k
        if wait:
            self.wait_key(k)
        return k

    def wait_key(self, k, timeout=15):
        end = time.time() + timeout
        while time.time() < end:
            if os.path.exists(k.sock):
                return
            if k.proc.poll() is not None:
                self.test.fail("vauth %s exited %s: %s" % (
                    k.name, k.proc.returncode, self.read(k.log)))
            time.sleep(0.02)
        self.test.fail("vauth %s did not create its socket" % k.name)

    def add_keys(self, n, **kw):
        # the first creates the shared attestation CA; the rest reuse it
        first = self.add_key(**kw)
        rest = [self.add_key(wait=False, **kw) for _ in range(n - 1)]
        for k in rest:
            self.wait_key(k)
        return [first] + rest

    def key_commands(self, k):
        """CTAP2 commands the key answered so far (from its -v log)."""
        return re.findall(r"ctap2: cmd (0x[0-9a-f]{2})", self.read(k.log))

    def kill_key(self, k, sig=signal.SIGKILL):
        """Pull a key: the daemon dies, its socket goes away."""
        if k.proc.poll() is None:
            k.proc.send_signal(sig)
            k.proc.wait(10)
        with _children_lock:
            _children.discard(k.proc)
        if os.path.exists(k.sock):
            os.unlink(k.sock)

    # --- ground truth -----------------------------------------------------

    def state(self):
        return self.emu.state()

    def users(self):
        return {u["userPrincipalName"].lower(): u
                for u in self.state()["users"]}

    @staticmethod
    def added(u):
        """The passkeys a run registered (not seeded by the config)."""
        return [m for m in u.get("fido2Methods", []) if not m.get("seeded")]

    def passkeys(self, upn):
        upn = upn if "@" in upn else "%s@%s" % (upn, DOMAIN)
        u = self.emu.user(upn)
        self.test.assertIsNotNone(u, upn)
        return self.added(u)

    def assert_one_passkey(self, upns, users=None):
        """Each user holds exactly one passkey this suite registered,
        verified by the emulator (python-fido2) with the expected
        extensions; returns {upn: method}."""
        users = users or self.users()
        out = {}
        for upn in upns:
            upn = (upn if "@" in upn else "%s@%s" % (upn, DOMAIN)).lower()
            ms = self.added(users[upn])
            self.test.assertEqual(len(ms), 1, "%s has %d passkeys: %s" % (
                upn, len(ms), [m["id"] for m in ms]))
            v = ms[0].get("verification") or {}
            self.test.assertEqual(v.get("fmt"), "packed", upn)
            self.test.assertEqual(v.get("credProtect"), 1, upn)
            self.test.assertTrue(v.get("hmacSecret"), upn)
            self.test.assertEqual(v.get("origin"),
                                  "https://login.microsoft.com", upn)
            out[upn] = ms[0]
        return out

    def total_added(self):
        return sum(len(self.added(u)) for u in self.state()["users"])

    # --- files ------------------------------------------------------------

    def path(self, name):
        return os.path.join(self.work, name)

    def read_csv(self, name, raw=False):
        """Rows as dicts, with our formula prefix taken off each cell
        (csv_unescape() in common/text.c); raw=True leaves it on."""
        p = name if os.path.isabs(name) else self.path(name)
        if not os.path.exists(p):
            return []
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        if raw:
            return rows
        return [{k: csv_unescape(v) for k, v in r.items()} for r in rows]

    def report(self, name="report.csv"):
        return self.read_csv(name)

    def failures(self, name="failures.csv"):
        return self.read_csv(name)

    def _journal_db(self):
        # read only by use, not by mode: after a SIGKILL the first reader
        # must be able to recover the WAL index, as the next run would
        p = os.path.join(self.state_dir, "journal.sqlite")
        if not os.path.exists(p):
            raise FileNotFoundError(p)
        con = sqlite3.connect(p, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def journal(self):
        """{upn (lower case) or object id: enrollment row}."""
        con = self._journal_db()
        try:
            return {(r["upn_lower"] or r["object_id"]): dict(r)
                    for r in con.execute(
                        "SELECT u.upn_lower, u.object_id, e.* FROM users u "
                        "LEFT JOIN enrollments e ON e.user_id = u.id")}
        finally:
            con.close()

    def journal_runs(self):
        con = self._journal_db()
        try:
            return [dict(r) for r in con.execute(
                "SELECT * FROM runs ORDER BY id")]
        finally:
            con.close()

    def journal_bytes(self):
        out = b""
        for f in os.listdir(self.state_dir):
            if f.startswith("journal"):
                with open(os.path.join(self.state_dir, f), "rb") as fh:
                    out += fh.read()
        return out

    def assert_report_matches(self, rows, methods):
        """The report lists exactly these users once each, and its method
        and credential ids are the emulator's."""
        byu = {}
        for r in rows:
            u = r["user"].lower()
            self.test.assertNotIn(u, byu, "%s twice in the report" % u)
            byu[u] = r
        self.test.assertEqual(sorted(byu), sorted(methods))
        for u, m in methods.items():
            self.test.assertEqual(byu[u]["method_id"], m["id"], u)
            self.test.assertEqual(byu[u]["credential_id"],
                                  m["credentialId"], u)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return p

    # --- teardown ---------------------------------------------------------

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
            with _children_lock:
                _children.discard(p)
        for k in self.keys.values():
            if k.proc.poll() is None:
                k.proc.terminate()
                try:
                    k.proc.wait(5)
                except subprocess.TimeoutExpired:
                    k.proc.kill()
                    k.proc.wait()
            with _children_lock:
                _children.discard(k.proc)
        if self.emu is not None:
            self.emu.stop()
            with _children_lock:
                _children.discard(self.emu.proc)
        if os.environ.get("E2E_KEEP"):
            sys.stderr.write("e2e: kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(pred, timeout, step=0.1, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("timed out after %s s waiting for %s" % (
        timeout, what))
