"""Shared helpers: base64 variants, time formatting, HTTP errors and responses."""

import base64
import binascii
import datetime
import json
import os
import urllib.parse
import uuid

GRAPH_CT = ("application/json;odata.metadata=minimal;odata.streaming=true;"
            "IEEE754Compatible=false;charset=utf-8")
JSON_CT = "application/json; charset=utf-8"
HTML_CT = "text/html; charset=utf-8"


# --- base64 -----------------------------------------------------------------

def b64u(data):
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64std(data):
    """Standard base64 with '+', '/' and '=' padding."""
    return base64.b64encode(data).decode("ascii")


def b64u_suffix(data):
    """base64url with the ASP.NET UrlTokenEncode padding-count suffix digit."""
    std = base64.urlsafe_b64encode(data).decode("ascii")
    pad = len(std) - len(std.rstrip("="))
    return std.rstrip("=") + str(pad)


def b64u_dec(s, strict=False):
    """Decode base64url; unless strict, also accept padding and '+/'.

    Raises ValueError on bad input.
    """
    if not isinstance(s, str):
        raise ValueError("not a string")
    if strict:
        if "=" in s or "+" in s or "/" in s:
            raise ValueError("not unpadded base64url")
    else:
        s = s.replace("+", "-").replace("/", "_").rstrip("=")
    if len(s) % 4 == 1:
        raise ValueError("bad base64url length")
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (binascii.Error, ValueError) as e:
        raise ValueError(str(e))


def method_id_for(cred_id):
    """fido2AuthenticationMethod.id as Entra shows it: base64url + padding digit."""
    return b64u_suffix(cred_id)


# --- time / ids -------------------------------------------------------------

def iso(t):
    """RFC 3339 UTC without fractions: 2024-06-13T11:26:35Z."""
    return datetime.datetime.fromtimestamp(
        int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_frac(t):
    """RFC 3339 UTC with microseconds (Graph's createdDateTime style)."""
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(s):
    """Parse an RFC 3339 timestamp into epoch seconds."""
    s = s.strip().replace("Z", "+00:00")
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d.timestamp()


def guid():
    return str(uuid.uuid4())


def rand_token(nbytes=32):
    return b64u(os.urandom(nbytes))


# --- errors and responses ---------------------------------------------------

class Resp:
    """An HTTP response produced by a route handler."""

    __slots__ = ("status", "body", "headers", "ctype")

    def __init__(self, status, body=b"", headers=None, ctype=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.ctype = ctype


def json_resp(status, obj, headers=None, ctype=GRAPH_CT):
    body = b"" if obj is None else json.dumps(
        obj, separators=(",", ":")).encode()
    return Resp(status, body, headers, ctype if obj is not None else None)


class HttpError(Exception):
    """Base of errors a handler raises to end a request."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class GraphError(HttpError):
    """Rendered as the Graph envelope {"error":{code,message,innerError}}."""


class OAuthError(HttpError):
    """Rendered as the Entra token-endpoint envelope (AADSTS codes)."""

    def __init__(self, status, error, aadsts, description, headers=None):
        super().__init__(status, error, description, headers)
        self.aadsts = aadsts


class PageError(HttpError):
    """Rendered as a small HTML error page (authorize endpoint)."""

    def __init__(self, status, aadsts, description):
        super().__init__(status, "page", description)
        self.aadsts = aadsts


def graph_error_body(code, message, request_id, client_request_id, now):
    date = datetime.datetime.fromtimestamp(
        now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return {"error": {"code": code, "message": message, "innerError": {
        "date": date, "request-id": request_id,
        "client-request-id": client_request_id}}}


def oauth_error_body(error, aadsts, description, now, trace_id, corr_id):
    ts = datetime.datetime.fromtimestamp(
        now, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s "
                             "Timestamp: %s" % (aadsts, description, trace_id,
                                                corr_id, ts),
        "error_codes": [aadsts],
        "timestamp": ts,
        "trace_id": trace_id,
        "correlation_id": corr_id,
        "error_uri": "https://login.microsoftonline.com/error?code=%d" % aadsts,
    }


def html_page(title, body_html):
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s"
            "</title></head><body>%s</body></html>" % (title, body_html)
            ).encode()


class Req:
    """A parsed request (also used for inner $batch requests)."""

    def __init__(self, method, path, qs, headers, body, base):
        self.method = method
        self.path = path                 # raw (percent-encoded) path
        self.qs = qs                     # raw query string
        self.headers = headers           # lower-case names
        self.body = body
        self.base = base                 # https://127.0.0.1:PORT
        self.segs = [urllib.parse.unquote(s) for s in path.split("/") if s]
        self.query_pairs = urllib.parse.parse_qsl(qs, keep_blank_values=True)
        self.query = {}
        for k, v in self.query_pairs:
            self.query.setdefault(k, v)
        self.in_batch = False
        self.request_id = guid()
        self.client_request_id = headers.get("client-request-id") or guid()

    def json(self):
        ct = self.headers.get("content-type", "")
        if not self.body:
            raise GraphError(400, "BadRequest",
                             "Empty Payload. JSON content expected.")
        if "json" not in ct.lower():
            raise GraphError(400, "BadRequest", "Unable to read JSON request "
                             "payload. Please ensure Content-Type header is "
                             "set and payload is of valid JSON format.")
        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except (ValueError, UnicodeDecodeError):
            raise GraphError(400, "BadRequest", "Unable to read JSON request "
                             "payload. Please ensure Content-Type header is "
                             "set and payload is of valid JSON format.")

    def form(self):
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise OAuthError(400, "invalid_request", 900144,
                             "The request body is not valid UTF-8.")
        out = {}
        for k, v in urllib.parse.parse_qsl(text, keep_blank_values=True):
            out.setdefault(k, v)
        return out
