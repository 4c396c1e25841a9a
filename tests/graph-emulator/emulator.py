#!/usr/bin/python3
"""Local Microsoft Graph + Microsoft identity platform emulator (HTTPS).

usage: emulator.py --config FILE.json --dir DIR [--port N] [--latency MS]
                   [--fault SPEC]... [--log FILE] [--resume]

See README.md in this directory.
"""

import argparse
import html
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True      # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import challenge  # noqa: E402
import control  # noqa: E402
import faults  # noqa: E402
import graph  # noqa: E402
import h2front  # noqa: E402
import oauth  # noqa: E402
import state  # noqa: E402
import tls  # noqa: E402
import tokens  # noqa: E402
from common import (GRAPH_CT, HTML_CT, JSON_CT, GraphError, HttpError,  # noqa
                    OAuthError, PageError, Req, Resp, graph_error_body, guid,
                    html_page, iso, json_resp, oauth_error_body)

MAX_BODY = 8 * 1024 * 1024
TRANSPORT_FAULTS = ("drop", "truncated", "malformed", "oversized")
OVERSIZED_LEN = 11 * 1024 * 1024
_oversized_body = None
# the same on every response
AGS_DIAGNOSTIC = json.dumps({"ServerInfo": {
    "DataCenter": "Local", "Slice": "E", "Ring": "5", "ScaleUnit": "000",
    "RoleInstance": "EMU"}}, separators=(",", ":"))
ONE_WRITE_MAX = 65536       # a body up to this goes out with its headers


class App:
    """Everything a request handler needs."""

    def __init__(self, args):
        self.dir = os.path.abspath(args.dir)
        os.makedirs(self.dir, exist_ok=True)
        with open(args.config) as f:
            cfg = json.load(f)
        self.ca, cert, key = tls.ensure_certs(self.dir)
        self.cert, self.key = cert, key
        self.ssl_ctx = tls.server_context(cert, key)
        self.keys = tokens.Keys(self.dir)
        self.store = state.Store(cfg, os.path.dirname(os.path.abspath(
            args.config)), os.path.join(self.dir, "state.json"))
        self.faults = faults.FaultSet([faults.parse_spec(s)
                                       for s in args.fault or []])
        self.store.faults = self.faults
        if args.resume and os.path.exists(self.store.state_path):
            self.store.resume_from(self.store.state_path)
        ders = []
        for p in (cert, self.ca):
            with open(p, "rb") as f:
                ders.append(ssl.PEM_cert_to_DER_cert(f.read().decode()))
        self.codec = challenge.ChallengeCodec(self.keys, ders)
        self.oauth = oauth.OAuth(self.store, self.keys)
        self.graph = graph.Graph(self.store, self.oauth, self.codec,
                                 self.faults, self.keys)
        self.control = control.Control(self.store, self.oauth, self.faults)
        self.latency = (args.latency or 0) / 1000.0
        self.log_lock = threading.Lock()
        self.log = open(args.log, "a", buffering=1) if args.log else None

    def logline(self, text):
        if self.log:
            with self.log_lock:
                self.log.write("%s %s\n" % (iso(time.time()), text))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, addr, app, tls_on=True):
        self.app = app
        self.tls_on = tls_on
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        """TLS handshake in the worker thread, then serve the connection.

        Behind the HTTP/2 front (h2front) the socket is plain: the front
        terminates TLS and is the only one listening on a public port."""
        request.settimeout(30)
        if not self.tls_on:
            conn = request
        else:
            try:
                conn = self.app.ssl_ctx.wrap_socket(request,
                                                    server_side=True)
            except (ssl.SSLError, OSError):
                return
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout,
                            TimeoutError)):
            return
        self.app.logline("connection error: %s" % type(exc).__name__)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "graph-emulator"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, fmt, *args):   # keep request lines out of stderr
        pass

    def do_GET(self):
        self._serve()

    do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = do_GET

    # --- request reading ---------------------------------------------------

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(1024)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                if len(out) + size > MAX_BODY:
                    raise ValueError("body too large")
                out += self.rfile.read(size)
                self.rfile.readline(8)
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY or n < 0:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def _base(self):
        host = self.headers.get("Host") or ""
        if not host or any(c not in "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-[]"
                           for c in host):
            host = "127.0.0.1:%d" % self.server.server_address[1]
        return "https://" + host

    # --- main ------------------------------------------------------------------

    def _serve(self):
        app = self.server.app
        t0 = time.time()
        path, _, qs = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._read_body()
        except ValueError:
            self.close_connection = True
            req = Req(self.command, path, qs, headers, b"", self._base())
            return self._send(req, json_resp(413, graph_error_body(
                "RequestEntityTooLarge", "The request body is too large.",
                req.request_id, req.client_request_id, time.time())))
        req = Req(self.command, path, qs, headers, body, self._base())
        if req.segs[:1] == ["_emu"]:
            return self._send(req, app.control.handle(req))
        if app.latency:
            time.sleep(app.latency)
        is_graph = bool(req.segs) and req.segs[0].lower() in ("v1.0", "beta")
        full = path + ("?" + qs if qs else "")
        template = "other"
        rule = app.faults.match(self.command, full)
        try:
            if rule is not None and rule["kind"] in TRANSPORT_FAULTS:
                default = "after" if rule["kind"] == "truncated" else "before"
                if rule.get("when", default) == "before":
                    return self._transport_fault(req, rule, None, t0, full)
            elif rule is not None and rule["kind"] in faults.REWRITE_KINDS:
                pass                            # answered, then rewritten
            elif rule is not None:
                resp = (graph.fault_response(rule, app.store, req)
                        if is_graph else oauth_fault(rule, app.store, req))
                if resp is not None:
                    return self._finish(req, resp, "fault:" + rule["kind"],
                                        t0, full)
                rule = None                     # "slow": answer normally
            if is_graph:
                resp, template = app.graph.handle(req)
            else:
                resp = app.oauth.handle(req)
                template = _oauth_template(req)
                if resp is None:
                    raise GraphError(404, "NotFound", "No such endpoint: %s"
                                     % path)
        except HttpError as e:
            resp = render_error(e, req, app.store.now())
            template = getattr(req, "template", template)
        except Exception as e:
            app.logline("internal error on %s %s: %s\n%s" % (
                self.command, graph.redact(full), type(e).__name__,
                traceback.format_exc()))
            template = getattr(req, "template", template)
            resp = render_error(GraphError(500, "generalException",
                                           "Internal emulator error: %s"
                                           % type(e).__name__), req,
                                app.store.now())
        if rule is not None and rule["kind"] in faults.REWRITE_KINDS:
            if rule.get("delay_ms"):
                time.sleep(rule["delay_ms"] / 1000.0)
            resp = faults.rewrite(rule, resp, self._base(), full)
            rule = None
        if rule is not None:
            return self._transport_fault(req, rule, resp, t0, full, template)
        return self._finish(req, resp, template, t0, full)

    def _finish(self, req, resp, template, t0, full):
        app = self.server.app
        self._send(req, resp)
        ms = int((time.time() - t0) * 1000)
        path = graph.redact(full)
        app.store.count_request({
            "time": iso(time.time()), "method": req.method,
            "path": path, "status": resp.status,
            "headers": sorted(req.headers.keys()), "ms": ms},
            "%s %s %d" % (req.method, template, resp.status))
        if app.log:
            app.logline("%s %s %d %dms" % (req.method, path, resp.status, ms))

    def _send(self, req, resp, fake_length=None, body=None):
        body = resp.body if body is None else body
        self.send_response(resp.status)
        if resp.ctype and body:
            self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(
            fake_length if fake_length is not None else len(body)))
        self.send_header("request-id", req.request_id)
        self.send_header("client-request-id", req.client_request_id)
        self.send_header("x-ms-ags-diagnostic", AGS_DIAGNOSTIC)
        if resp.ctype == GRAPH_CT:
            self.send_header("OData-Version", "4.0")
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        if body and self.command != "HEAD" and len(body) <= ONE_WRITE_MAX \
                and self.request_version != "HTTP/0.9":
            # end_headers() and the body in one write: one send
            self._headers_buffer.append(b"\r\n")
            self._headers_buffer.append(body)
            self.flush_headers()
        else:
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)
        self.wfile.flush()

    def _transport_fault(self, req, rule, resp, t0, full, template="other"):
        """drop / truncated / malformed / oversized."""
        global _oversized_body
        kind = rule["kind"]
        if rule.get("delay_ms"):
            time.sleep(rule["delay_ms"] / 1000.0)
        status = resp.status if resp is not None else 200
        self.server.app.store.count_request({
            "time": iso(time.time()), "method": req.method,
            "path": graph.redact(full), "status": "fault:" + kind,
            "headers": sorted(req.headers.keys()),
            "ms": int((time.time() - t0) * 1000)},
            "%s %s fault:%s" % (req.method, template, kind))
        self.server.app.logline("%s %s fault:%s" % (req.method,
                                                    graph.redact(full), kind))
        if kind == "drop":
            self.close_connection = True
            return
        if kind == "truncated":
            self.close_connection = True
            if resp is None:
                resp = Resp(200, b'{"value":[{"id":"00000000-0000-0000-0000-'
                            b'000000000000","displayName":"trunc', ctype=GRAPH_CT)
            body = resp.body or b'{"value":[]}'
            return self._send(req, resp, fake_length=len(body) + 4096,
                              body=body[:max(1, len(body) // 2)])
        if kind == "malformed":
            return self._send(req, Resp(status if resp else 200,
                                        b'{"value": [{"id": "x", "display'
                                        b'Name": tru]}, <html>', ctype=GRAPH_CT))
        if kind == "oversized":
            if _oversized_body is None:
                pad = OVERSIZED_LEN
                _oversized_body = b'{"value":[],"padding":"' + b"A" * pad + b'"}'
            return self._send(req, Resp(200, _oversized_body, ctype=GRAPH_CT))


def _oauth_template(req):
    segs = [s.lower() for s in req.segs]
    if len(segs) >= 2:
        return "/{tenant}/" + "/".join(segs[1:])
    return "/" + "/".join(segs)


def oauth_fault(rule, store, req):
    """429/503/500/expire_token on the identity endpoints (OAuth envelope)."""
    if rule["kind"] == "slow":
        time.sleep((rule.get("delay_ms") or 2000) / 1000.0)
        return None
    if rule.get("delay_ms"):
        time.sleep(rule["delay_ms"] / 1000.0)
    status = {"429": 429, "503": 503, "500": 500}.get(rule["kind"], 400)
    err = "temporarily_unavailable" if status in (429, 503) else \
        "server_error" if status == 500 else "invalid_grant"
    e = OAuthError(status, err, 90055 if status == 429 else 90033,
                   "The service is busy or temporarily unavailable. Please "
                   "try again later.")
    if status in (429, 503) and rule.get("retry_after") is not None:
        e.headers["Retry-After"] = str(rule["retry_after"])
    return render_error(e, req, store.now())


def render_error(e, req, now):
    if isinstance(e, OAuthError):
        return json_resp(e.status, oauth_error_body(
            e.code, e.aadsts, e.message, now, guid(), req.client_request_id),
            headers=dict(e.headers), ctype=JSON_CT)
    if isinstance(e, PageError):
        return Resp(e.status, html_page("Sign in error", "<h1>Sorry, but "
                    "we're having trouble signing you in.</h1><p>AADSTS%d: %s"
                    "</p>" % (e.aadsts, html.escape(e.message))), ctype=HTML_CT)
    return json_resp(e.status, graph_error_body(
        e.code, e.message, req.request_id, req.client_request_id, now),
        headers=dict(e.headers))


def parse_args(argv):
    p = argparse.ArgumentParser(description="Graph + Entra emulator")
    p.add_argument("--config", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--latency", type=float, default=0,
                   help="milliseconds added to every request")
    p.add_argument("--fault", action="append", default=[],
                   help="fault rule, key=value,... or JSON (repeatable)")
    p.add_argument("--log", help="request log file (never holds secrets)")
    p.add_argument("--resume", action="store_true",
                   help="reload users/methods/policy from DIR/state.json")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        app = App(args)
    except (OSError, ValueError, KeyError) as e:
        print("emulator: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 2
    front = None
    use_h2 = h2front.wanted()
    if use_h2 and h2front.exe() is None:
        if os.environ.get("GRAPH_EMULATOR_H2") == "1":
            print("emulator: GRAPH_EMULATOR_H2=1 but nghttpx (Debian "
                  "nghttp2-proxy) is not installed", file=sys.stderr)
            return 2
        print("emulator: nghttpx not found (Debian nghttp2-proxy): "
              "serving HTTP/1.1 only", file=sys.stderr)
        use_h2 = False
    server = Server(("127.0.0.1", 0 if use_h2 else args.port), app,
                    tls_on=not use_h2)
    port = server.server_address[1]
    if use_h2:
        try:
            front = h2front.start(app.dir, server.server_address[1],
                                  args.port, app.cert, app.key)
        except RuntimeError as e:
            server.server_close()
            print("emulator: %s" % e, file=sys.stderr)
            return 2
        port = front.port
    app.store.persist()
    tmp = os.path.join(app.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    with open(os.path.join(app.dir, "transport"), "w") as f:
        f.write("h2\n" if front else "http/1.1\n")
    os.replace(tmp, os.path.join(app.dir, "port"))
    app.logline("listening on https://127.0.0.1:%d (%s, dir %s)" % (
        port, "h2+http/1.1 via nghttpx" if front else "http/1.1", app.dir))

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("READY %d %s" % (port, "h2" if front else "http/1.1"), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if front is not None:
            front.stop()
        server.server_close()
        app.store.persist()
        try:
            os.unlink(os.path.join(app.dir, "port"))
        except OSError:
            pass
        app.logline("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
