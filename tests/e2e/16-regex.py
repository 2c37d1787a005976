#!/usr/bin/env python3
"""Regex matchers that make a backtracking matcher give up (issue 17, COMPAT 3.2): routes and
silences must decide as Alertmanager 0.25 (Go's linear-time regexp) does, whatever the
pattern. Cases: the route ([a-z]+-?)+-prod|.*-staging, the silences (a+)+b|.*c on a x 40 + c
and .*foo.* on a 2 MB value, and 10 such silences x 50 alerts with a POST and a GET checked
for the right answers (their durations are printed as notes, never asserted). Every case runs
against alertrouter and, when installed, the real Alertmanager."""

import time

from harness import Fail, Suite, alert, eq, fingerprint, poll, ts

suite = Suite("16-regex")

ROUTE_CONFIG = """\
route:
  receiver: default
  group_wait: 1h
  routes:
  - receiver: staging
    matchers: ['instance=~"([a-z]+-?)+-prod|.*-staging"']
receivers:
- name: default
- name: staging
"""


def silence(srv, name, pattern):
    b = {"matchers": [{"name": name, "value": pattern, "isRegex": True, "isEqual": True}],
         "startsAt": ts(0), "endsAt": ts(3600), "createdBy": "e2e", "comment": "issue 17"}
    r = srv.post_json("/api/v2/silences", b)
    if r.status != 200:
        raise Fail("POST silence %s=~%s: %d %s" % (name, pattern, r.status, r.text()[:200]))
    return r.json()["silenceID"]


def statuses(srv):
    return {a["fingerprint"]: a["status"] for a in srv.alerts()}


def wait_status(srv, want, what):
    """Polls GET /api/v2/alerts until every fingerprint in want has that status."""
    last = {}

    def ok():
        last.clear()
        last.update(statuses(srv))
        return all(last.get(fp) == st for fp, st in want.items())
    try:
        poll(ok, timeout=10.0, what=what)
    except Fail:
        diff = {fp[:8]: (last.get(fp), st) for fp, st in want.items() if last.get(fp) != st}
        raise Fail("%s: (got, want) %s" % (what, diff))


def suppressed(*sids):
    return {"inhibitedBy": [], "silencedBy": list(sids), "state": "suppressed"}


ACTIVE = {"inhibitedBy": [], "silencedBy": [], "state": "active"}


@suite.case("route-nested-repeat")
def route_nested_repeat(ctx):
    srv = ctx.server(ROUTE_CONFIG)
    staging = {"alertname": "A", "instance": "web-frontend-server-eu-west-staging"}
    prod = {"alertname": "A", "instance": "web-frontend-server-eu-west-prod"}
    dev = {"alertname": "A", "instance": "web-frontend-server-eu-west-dev"}
    srv.post_ok([alert(staging), alert(prod), alert(dev)])
    got = {a["fingerprint"]: [r["name"] for r in a["receivers"]] for a in srv.alerts()}
    eq(got, {fingerprint(staging): ["staging"], fingerprint(prod): ["staging"],
             fingerprint(dev): ["default"]}, "receivers")


@suite.case("silence-nested-repeat")
def silence_nested_repeat(ctx):
    srv = ctx.server()
    sid = silence(srv, "fn", "(a+)+b|.*c")
    hit = {"alertname": "A", "fn": "a" * 40 + "c"}
    miss = {"alertname": "A", "fn": "a" * 40}
    srv.post_ok([alert(hit), alert(miss)])
    wait_status(srv, {fingerprint(hit): suppressed(sid), fingerprint(miss): ACTIVE},
                "silenced by (a+)+b|.*c")


@suite.case("silence-2mb-value")
def silence_2mb_value(ctx):
    srv = ctx.server()
    sid = silence(srv, "long", ".*foo.*")
    hit = {"alertname": "A", "long": "foo" + "x" * ((2 << 20) - 3)}
    miss = {"alertname": "A", "long": "x" * (2 << 20)}
    srv.post_ok([alert(hit), alert(miss)])
    wait_status(srv, {fingerprint(hit): suppressed(sid), fingerprint(miss): ACTIVE},
                "silenced by .*foo.* on 2 MB")


@suite.case("many-pathological-silences")
def many_pathological_silences(ctx):
    """10 silences whose first alternative backtracks exponentially, 50 alerts each checked
    against all of them: every alert is silenced by exactly the silence its suffix names.
    The POST of one more alert and a GET of all 51 must answer (and right); how long they
    took is a note."""
    srv = ctx.server()
    sids = [silence(srv, "fn", "(a+)+b|.*-%d" % i) for i in range(10)]
    labels = [{"alertname": "A", "n": str(j), "fn": "a" * 40 + "-%d" % (j % 10)}
              for j in range(50)]
    srv.post_ok([alert(l) for l in labels])
    want = {fingerprint(l): suppressed(sids[j % 10]) for j, l in enumerate(labels)}
    wait_status(srv, want, "50 alerts silenced")

    extra = {"alertname": "A", "n": "50", "fn": "a" * 40 + "-7"}
    t0 = time.monotonic()
    srv.post_ok([alert(extra)])
    post_ms = (time.monotonic() - t0) * 1000
    want[fingerprint(extra)] = suppressed(sids[7])
    t0 = time.monotonic()
    got = statuses(srv)
    get_ms = (time.monotonic() - t0) * 1000
    eq(len(got), 51, "alerts listed")
    if got != want:
        wait_status(srv, want, "51 alerts silenced")
    ctx.note("POST %.1f ms, GET %.1f ms" % (post_ms, get_ms))


if __name__ == "__main__":
    suite.main(jobs=2)
