"""Fault injection rules.

A rule is a dict:
  path         regex searched in the request path incl. query (default ".*");
               inner $batch requests are matched as "/v1.0/<url>" / "/beta/<url>"
  method       "GET", "POST", ... or "*" (default)
  kind         429 | 503 | 500 | 400 | slow | drop | malformed | truncated |
               oversized | expire_token
  retry_after  seconds (int) or an HTTP-date string; null = no header
               (default 1, for 429/503)
  delay_ms     for "slow" (default 2000); also a delay before any other kind
  count        fire at most N times (default: unlimited)
  after        let the first N matching requests through first (default 0)
  probability  0..1 chance to fire on a match (default 1)
  seed         seed for the rule's random generator (default 0)
  batch        true: only inner $batch requests; false: only direct requests;
               absent: both
  code/message the Graph error.code / error.message of a 429/503/500/400
               (default: Graph's usual words)
  link         for "nextlink": the @odata.nextLink put into a JSON reply:
               "self" (the request's own URL), "unique" (its own URL with a
               new _emu_page=N each time: distinct pages forever), or a URL
  field, value for "token_value": the reply's JSON field (default
               access_token) is set to value (e.g. one holding CR/LF)

Rewrite kinds ("nextlink", "token_value") let the request through and
change the JSON reply: a hostile server's paging loop or token.

CLI form: --fault 'kind=429,path=/fido2Methods$,method=POST,count=3'
(comma-separated key=value; a value may not contain a comma; use the JSON
form --fault '{"kind": ...}' for that).
"""

import json
import random
import re
import threading

KINDS = ("429", "503", "500", "400", "slow", "drop", "malformed", "truncated",
         "oversized", "expire_token", "nextlink", "token_value")
REWRITE_KINDS = ("nextlink", "token_value")
# Kinds that make sense for an inner $batch response.
BATCH_KINDS = ("429", "503", "500", "400", "slow", "expire_token")
_INT_KEYS = ("count", "after", "delay_ms", "seed")


def parse_spec(spec):
    """Parse a --fault argument into a rule dict (ValueError on error)."""
    spec = spec.strip()
    if spec.startswith("{"):
        rule = json.loads(spec)
    else:
        rule = {}
        for item in spec.split(","):
            if not item.strip():
                continue
            k, sep, v = item.partition("=")
            if not sep:
                raise ValueError("fault item %r is not key=value" % item)
            rule[k.strip()] = v.strip()
    return normalize(rule)


def normalize(rule):
    if not isinstance(rule, dict):
        raise ValueError("a fault rule must be an object")
    r = dict(rule)
    r["kind"] = str(r.get("kind", ""))
    if r["kind"] not in KINDS:
        raise ValueError("fault kind must be one of %s" % ", ".join(KINDS))
    r.setdefault("path", ".*")
    r["method"] = str(r.get("method", "*")).upper()
    for k in _INT_KEYS:
        if k in r and r[k] is not None:
            r[k] = int(r[k])
    if "probability" in r:
        r["probability"] = float(r["probability"])
    ra = r.get("retry_after", 1)
    if isinstance(ra, str) and ra.isdigit():
        ra = int(ra)
    if isinstance(ra, str) and ra.lower() in ("", "none", "null"):
        ra = None
    r["retry_after"] = ra
    if isinstance(r.get("batch"), str):
        r["batch"] = r["batch"].lower() in ("1", "true", "yes")
    re.compile(r["path"])
    return r


class FaultSet:
    """Thread-safe list of rules with per-rule counters."""

    def __init__(self, rules=()):
        self._lock = threading.Lock()
        self.replace(rules)

    def replace(self, rules):
        compiled = []
        for r in rules:
            r = normalize(r)
            compiled.append({"rule": r, "re": re.compile(r["path"]),
                             "rng": random.Random(r.get("seed", 0)),
                             "seen": 0, "fired": 0})
        with self._lock:
            self._rules = compiled

    def clear(self):
        self.replace([])

    def describe(self):
        with self._lock:
            return [dict(c["rule"], matched=c["seen"], fired=c["fired"])
                    for c in self._rules]

    def match(self, method, path, in_batch=False):
        """Return the rule that fires for this request, or None."""
        with self._lock:
            for c in self._rules:
                r = c["rule"]
                if r["method"] not in ("*", method):
                    continue
                if "batch" in r and r["batch"] is not None \
                        and bool(r["batch"]) != in_batch:
                    continue
                if in_batch and r["kind"] not in BATCH_KINDS:
                    continue
                if not c["re"].search(path):
                    continue
                c["seen"] += 1
                if c["seen"] <= r.get("after", 0):
                    continue
                if r.get("count") is not None and c["fired"] >= r["count"]:
                    continue
                p = r.get("probability", 1.0)
                if p < 1.0 and c["rng"].random() >= p:
                    continue
                c["fired"] += 1
                return r
        return None


_page_counter = [0]
_page_lock = threading.Lock()


def rewrite(rule, resp, base, full):
    """Apply a rewrite rule to a JSON reply (base: https://host:port)."""
    try:
        obj = json.loads(resp.body)
    except ValueError:
        return resp
    if not isinstance(obj, dict):
        return resp
    if rule["kind"] == "nextlink":
        link = rule.get("link", "self")
        if link in ("self", "unique"):
            link = base + full
            if rule.get("link") == "unique":
                with _page_lock:
                    _page_counter[0] += 1
                    n = _page_counter[0]
                link = re.sub(r"[?&]_emu_page=\d+", "", link)
                link += ("&" if "?" in link else "?") + "_emu_page=%d" % n
        obj["@odata.nextLink"] = link
    else:
        obj[rule.get("field") or "access_token"] = rule.get("value", "")
    resp.body = json.dumps(obj, separators=(",", ":")).encode()
    return resp
