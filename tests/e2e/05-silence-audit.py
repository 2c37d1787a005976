#!/usr/bin/env python3
"""Audit trail (alertrouter extension, /api/x/audit): every silence creation, update and
expiry is recorded in SQLite with time, client address and the authenticated user, survives
a restart, and is queryable through the API. Alertrouter only (Alertmanager keeps none)."""

import base64
import json
import os
import time

from harness import DEFAULT_CONFIG, Fail, Server, Suite, check, eq, http_request

suite = Suite("05-silence-audit")

# bcrypt (cost 10) of "secret", as in 09-web-config.py
HASH_SECRET = "$2b$10$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u"
AUTH = {"Authorization": "Basic " + base64.b64encode(b"ops-admin:secret").decode()}


class AuthServer(Server):
    """A server whose web config requires basic auth; readiness probed with credentials."""

    def __init__(self, kind, **kw):
        super().__init__(kind, start=False, **kw)
        path = os.path.join(self.tmp, "web.yml")
        with open(path, "w") as f:
            f.write("basic_auth_users:\n  ops-admin: '%s'\n" % HASH_SECRET)
        self.extra_args.append("--web.config.file=" + path)

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail("process exited with status %s" % self.proc.returncode)
            try:
                if http_request("127.0.0.1", self.port, "GET", "/-/ready", headers=AUTH)[0] == 200:
                    self.ready_at = time.monotonic()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise Fail("not ready")

    def req(self, method, path, body=None):
        hdrs = dict(AUTH)
        data = None
        if body is not None:
            hdrs["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        return http_request("127.0.0.1", self.port, method, path, data, hdrs)


def silence_body(comment, sid=None):
    now = time.time()
    b = {"matchers": [{"name": "alertname", "value": "intrusion", "isRegex": False}],
         "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 1)),
         "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
         "createdBy": "mallory", "comment": comment}
    if sid:
        b["id"] = sid
    return b


@suite.case("audit-records-who-and-what", only="alertrouter")
def audit(ctx):
    srv = AuthServer("alertrouter", config=DEFAULT_CONFIG)
    ctx.servers.append(srv)
    srv.start()
    st, _, body = srv.req("POST", "/api/v2/silences", silence_body("nothing to see"))
    eq(st, 200, "create silence")
    sid = json.loads(body)["silenceID"]
    st, _, body = srv.req("GET", "/api/v2/silence/" + sid)
    stored = json.loads(body)
    stored["comment"] = "still nothing"
    st, _, body = srv.req("POST", "/api/v2/silences", stored)
    eq(st, 200, "update silence in place")
    eq(json.loads(body)["silenceID"], sid, "updated in place")
    eq(srv.req("DELETE", "/api/v2/silence/" + sid)[0], 200, "expire silence")
    # unauthenticated requests never reach the trail
    eq(http_request("127.0.0.1", srv.port, "GET", "/api/x/audit")[0], 401, "audit needs auth")
    srv.kill9()
    srv.restart()
    st, _, body = srv.req("GET", "/api/x/audit")
    eq(st, 200, "GET /api/x/audit")
    rows = json.loads(body)
    eq([r["action"] for r in rows], ["silence.expire", "silence.update", "silence.create"],
       "actions, newest first")
    for r in rows:
        eq(r["objectID"], sid, "object id")
        eq(r["user"], "ops-admin", "authenticated user")
        eq(r["client"], "127.0.0.1", "client address")
        check(r["time"].endswith("Z"), "time %r" % r["time"])
    eq(rows[2]["detail"]["createdBy"], "mallory", "createdBy kept")
    eq(rows[2]["detail"]["comment"], "nothing to see", "comment kept")
    eq(rows[2]["detail"]["matchers"],
       [{"name": "alertname", "op": "=", "value": "intrusion"}], "matchers kept")
    st, _, body = srv.req("GET", "/api/x/audit?limit=1")
    eq(len(json.loads(body)), 1, "limit")


if __name__ == "__main__":
    suite.main()
