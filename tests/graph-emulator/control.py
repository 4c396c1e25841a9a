"""Control API under /_emu/ (no auth; the server only listens on 127.0.0.1)."""

import json

from common import JSON_CT, Resp, json_resp
from state import deep_merge


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Control:
    def __init__(self, store, oauth, faults):
        self.s = store
        self.oauth = oauth
        self.faults = faults

    def handle(self, req):
        segs = req.segs[1:]
        path = "/".join(segs)
        if len(segs) == 3 and segs[0] == "groups" and segs[2] == "members":
            path = "groups/*/members"
        routes = {
            ("GET", "health"): lambda: {"ok": True},
            ("GET", "state"): self.s.snapshot,
            ("GET", "requests"): self.requests,
            ("GET", "faults"): self.faults.describe,
            ("POST", "faults"): self.set_faults,
            ("DELETE", "faults"): self.clear_faults,
            ("POST", "users"): self.add_user,
            ("POST", "groups/*/members"): lambda: self.add_members(segs[1]),
            ("POST", "policy"): self.set_policy,
            ("POST", "settings"): self.set_settings,
            ("POST", "tokens/expire"): self.expire_tokens,
            ("POST", "tokens/revoke"): self.revoke_tokens,
            ("POST", "device"): self.set_device,
            ("POST", "clock"): self.clock,
        }
        fn = routes.get((req.method, path))
        self.req = req
        try:
            if fn is None:
                raise ControlError(404, "no such control endpoint")
            out = fn()
        except ControlError as e:
            return json_resp(e.status, {"error": str(e)}, ctype=JSON_CT)
        except (ValueError, KeyError, TypeError) as e:
            return json_resp(400, {"error": "%s: %s" % (type(e).__name__, e)},
                             ctype=JSON_CT)
        if isinstance(out, Resp):
            return out
        return json_resp(200, out, ctype=JSON_CT)

    def _body(self):
        if not self.req.body:
            return {}
        try:
            return json.loads(self.req.body)
        except ValueError:
            raise ControlError(400, "body is not JSON")

    def requests(self):
        n = int(self.req.query.get("n", "100"))
        with self.s.lock:
            items = list(self.s.requests)[-n:] if n > 0 else []
        return {"requests": items, "total": self.s.request_total}

    def set_faults(self):
        body = self._body()
        rules = body.get("rules", []) if isinstance(body, dict) else body
        self.faults.replace(rules)
        self.s.persist()
        return {"rules": self.faults.describe()}

    def clear_faults(self):
        self.faults.clear()
        self.s.persist()
        return {"rules": []}

    def add_user(self):
        body = self._body()
        with self.s.lock:
            rec = self.s.add_user(body, persist=False)
        self.s.persist()
        return json_resp(201, self.s.user_snapshot(rec), ctype=JSON_CT)

    def add_members(self, gid):
        body = self._body()
        ids = body.get("ids") or ([body["id"]] if "id" in body else [])
        with self.s.lock:
            g = self.s.find_group(gid)
            if g is None:
                raise ControlError(404, "no such group %s" % gid)
            for m in ids:
                ref = self.s._member_ref(m)
                if ref not in self.s.users and ref not in self.s.groups:
                    raise ControlError(404, "no such user or group %s" % m)
                if ref not in g["members"]:
                    g["members"].append(ref)
            members = list(g["members"])
        self.s.persist()
        return {"id": g["id"], "members": members}

    def set_policy(self):
        body = self._body()
        with self.s.lock:
            if "fido2" in body or "temporaryAccessPass" in body:
                deep_merge(self.s.policy,
                           self.s._norm_policy(body.get("fido2", {})))
                deep_merge(self.s.tap_policy, body.get("temporaryAccessPass", {}))
            else:
                deep_merge(self.s.policy, self.s._norm_policy(body))
            out = {"fido2": dict(self.s.policy),
                   "temporaryAccessPass": dict(self.s.tap_policy)}
        self.s.persist()
        return out

    def set_settings(self):
        body = self._body()
        with self.s.lock:
            deep_merge(self.s.settings, body)
            out = dict(self.s.settings)
        self.s.persist()
        return out

    def expire_tokens(self):
        with self.s.lock:
            self.s.tokens["access_expired_before"] = self.s.now()
        self.s.persist()
        return {"access_expired_before": self.s.tokens["access_expired_before"]}

    def revoke_tokens(self):
        with self.s.lock:
            self.s.tokens["refresh_revoked_before"] = self.s.now()
        self.s.persist()
        return {"refresh_revoked_before":
                self.s.tokens["refresh_revoked_before"]}

    def set_device(self):
        body = self._body()
        if "mode" in body and body["mode"] not in ("approve", "pending",
                                                   "decline", "expire"):
            raise ControlError(400, "mode must be approve|pending|decline|"
                               "expire")
        with self.s.lock:
            self.s.device.update(body)
            out = dict(self.s.device)
        self.s.persist()
        return out

    def clock(self):
        body = self._body()
        with self.s.lock:
            if "advance" in body:
                self.s.clock_offset += float(body["advance"])
            if "offset" in body:
                self.s.clock_offset = float(body["offset"])
            out = {"clock_offset": self.s.clock_offset}
        self.s.persist()
        return out
