"""Start/stop/control the Graph emulator from Python tests.

    import emuctl
    emu = emuctl.start(tmpdir, "configs/basic.json", latency=0)
    status, headers, body = emu.request("GET", "/v1.0/me", token=tok)
    emu.set_faults([{"path": "fido2Methods$", "kind": "429", "count": 2}])
    emu.state()["users"]
    emu.stop()
"""

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
EMULATOR = os.path.join(HERE, "emulator.py")
PYTHON = "/usr/bin/python3"


class Emulator:
    def __init__(self, d, proc, port, files=()):
        self.dir = d
        self.proc = proc
        self._files = list(files)
        self.port = port
        self.base_url = "https://127.0.0.1:%d" % port
        self.ca = os.path.join(d, "ca.pem")
        self.ctx = ssl.create_default_context(cafile=self.ca)
        # "h2": behind the nghttpx front (h2front.py); "http/1.1": direct
        try:
            with open(os.path.join(d, "transport")) as f:
                self.transport = f.read().strip()
        except OSError:
            self.transport = "http/1.1"
        self.h2 = self.transport == "h2"

    # --- raw HTTP ------------------------------------------------------------

    def request(self, method, path, body=None, headers=None, token=None,
                form=None, conn=None):
        """One HTTPS request; returns (status, headers dict lower-case, bytes).

        body: dict/list (sent as JSON) or bytes; form: dict (urlencoded).
        """
        hdrs = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif body is not None:
            data = body
        if token:
            hdrs["Authorization"] = "Bearer " + token
        own = conn is None
        if own:
            conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            r = conn.getresponse()
            raw = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, raw
        finally:
            if own:
                conn.close()

    def connection(self, timeout=30):
        return http.client.HTTPSConnection("127.0.0.1", self.port,
                                           context=self.ctx, timeout=timeout)

    def json(self, method, path, **kw):
        status, headers, raw = self.request(method, path, **kw)
        return status, (json.loads(raw) if raw else None)

    # --- control API -------------------------------------------------------------

    def control(self, method, path, body=None):
        status, _, raw = self.request(method, "/_emu/" + path.lstrip("/"),
                                      body=body if body is not None else None)
        out = json.loads(raw) if raw else None
        if status >= 300:
            raise RuntimeError("control %s %s: %d %s" % (method, path, status,
                                                          out))
        return out

    def state(self):
        return self.control("GET", "state")

    def state_file(self):
        """state.json as last written (also readable after the emulator died)."""
        with open(os.path.join(self.dir, "state.json")) as f:
            return json.load(f)

    def user(self, upn_or_id):
        for u in self.state()["users"]:
            if upn_or_id in (u["id"], u["userPrincipalName"]):
                return u
        return None

    def requests(self, n=100):
        return self.control("GET", "requests?n=%d" % n)["requests"]

    def set_faults(self, rules):
        return self.control("POST", "faults", {"rules": rules})

    def clear_faults(self):
        return self.control("DELETE", "faults")

    def add_user(self, user, groups=None):
        u = dict(user)
        if groups:
            u["groups"] = list(groups)
        return self.control("POST", "users", u)

    def add_members(self, group_id, ids):
        return self.control("POST", "groups/%s/members" % group_id,
                            {"ids": list(ids)})

    def set_policy(self, **fields):
        return self.control("POST", "policy", fields)

    def set_settings(self, **fields):
        return self.control("POST", "settings", fields)

    def expire_tokens(self):
        return self.control("POST", "tokens/expire", {})

    def revoke_tokens(self):
        return self.control("POST", "tokens/revoke", {})

    def set_device(self, **fields):
        return self.control("POST", "device", fields)

    def advance_clock(self, seconds):
        return self.control("POST", "clock", {"advance": seconds})

    # --- lifecycle ---------------------------------------------------------------

    def _close_files(self):
        for f in self._files:
            f.close()
        self._files = []

    def stop(self, timeout=10):
        """SIGTERM and wait; returns the exit status (0 = clean)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close_files()
        return self.proc.returncode

    def kill(self):
        """SIGKILL (state.json stays as last written)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_files()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(d, config, port=0, latency=None, faults=(), log=None, resume=False,
          extra_args=(), timeout=15, stderr=None, h2=None):
    """Start an emulator on directory d; config is a path or a dict.

    h2: None follows GRAPH_EMULATOR_H2 (default on: HTTP/2 through the
    nghttpx front); False serves TLS + HTTP/1.1 directly, for tests
    that need a really dropped connection."""
    os.makedirs(d, exist_ok=True)
    if isinstance(config, dict):
        path = os.path.join(d, "config.json")
        with open(path, "w") as f:
            json.dump(config, f)
        config = path
    portfile = os.path.join(d, "port")
    if os.path.exists(portfile):
        os.unlink(portfile)
    args = [PYTHON, EMULATOR, "--config", config, "--dir", d,
            "--port", str(port)]
    if latency:
        args += ["--latency", str(latency)]
    for f in faults:
        args += ["--fault", f if isinstance(f, str) else json.dumps(f)]
    if log:
        args += ["--log", log]
    if resume:
        args.append("--resume")
    args += list(extra_args)
    own_err = stderr is None
    errf = open(os.path.join(d, "emulator.stderr"), "ab") if own_err \
        else stderr
    env = None
    if h2 is not None:
        env = dict(os.environ, GRAPH_EMULATOR_H2="1" if h2 else "0")
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=errf,
                            stdin=subprocess.DEVNULL, env=env)
    deadline = time.time() + timeout
    line = b""
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith(b"READY "):
            return Emulator(d, proc, int(line.split()[1]),
                            [proc.stdout] + ([errf] if own_err else []))
        if not line and proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    proc.stdout.close()
    if own_err:
        errf.close()
    raise RuntimeError("emulator did not start (exit %s): see %s" % (
        proc.poll(), os.path.join(d, "emulator.stderr")))


if __name__ == "__main__":
    print(__doc__, file=sys.stderr)
