"""The HTTP/2 front of the emulator: Debian's nghttpx (nghttp2-proxy).

Microsoft Graph and Entra negotiate HTTP/2, and libcurl behaves
differently over it (its -vv trace prints request headers as
"h2h3 [name: value]" info lines), so the suite runs over HTTP/2 by
default: nghttpx terminates TLS with the emulator's certificate, offers
ALPN h2 and http/1.1, and forwards HTTP/1.1 to the emulator listening
in plain text on a loopback port of its own; DIR/access.log has a line
per request (client port, "r" if the TLS session was resumed, ALPN,
method, path, status), which bench/enroll.py counts.  GRAPH_EMULATOR_H2=0 makes
the emulator serve TLS + HTTP/1.1 directly, as before.

Transport faults pass through the front changed: a "drop" before the
reply reaches the client as a 502 from nghttpx, a "truncated" reply as
a reset stream (HTTP/2) or a short body (HTTP/1.1).  Tests that need a
real dropped connection set GRAPH_EMULATOR_H2=0.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time

_PR_SET_PDEATHSIG = 1


def wanted():
    return os.environ.get("GRAPH_EMULATOR_H2", "1") != "0"


def exe():
    return shutil.which("nghttpx") or next(
        (p for p in ("/usr/sbin/nghttpx", "/usr/bin/nghttpx")
         if os.access(p, os.X_OK)), None)


def _die_with_parent():
    # a SIGKILLed emulator must not leave its front listening
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG,
                                                signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class Front:
    def __init__(self, proc, port):
        self.proc = proc
        self.port = port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(d, backend_port, port, cert, key, timeout=10):
    """Start nghttpx on 127.0.0.1:port (0: any free one) -> backend."""
    log = os.path.join(d, "nghttpx.log")
    deadline = time.time() + timeout
    while True:
        p = port or _free_port()
        args = [exe(), "--conf=/dev/null", "--single-process",
                "--workers=1",
                "--frontend=127.0.0.1,%d" % p,
                "--backend=127.0.0.1,%d" % backend_port,
                "--no-via", "--no-ocsp", "--no-server-rewrite",
                "--no-location-rewrite",
                "--backend-connections-per-host=512",
                "--backend-keep-alive-timeout=2s",
                # the emulator's "slow" faults outlast nghttpx's defaults
                "--backend-read-timeout=10m", "--backend-write-timeout=10m",
                "--frontend-read-timeout=10m",
                "--frontend-write-timeout=10m",
                "--frontend-http2-read-timeout=10m",
                "--errorlog-file=" + log,
                # one line per request: client port (one per connection)
                # and "r" for a resumed TLS session ("." a full handshake)
                "--accesslog-file=" + os.path.join(d, "access.log"),
                "--accesslog-format=$remote_port $tls_session_reused "
                "$alpn $method $path_without_query $status",
                key, cert]
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)
        while proc.poll() is None and time.time() < deadline:
            if _listening(p):
                return Front(proc, p)
            time.sleep(0.05)
        Front(proc, p).stop()
        if time.time() >= deadline:
            raise RuntimeError("nghttpx did not start on port %d; see %s"
                               % (p, log))
        time.sleep(0.1)      # the port was taken: try another (or again)
