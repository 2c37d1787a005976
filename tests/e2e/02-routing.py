#!/usr/bin/env python3
"""Routing into aggregation groups, proven on Alertmanager 0.25 (COMPAT 3.6, 3.7, 4.4,
5.1, 5.2, 9.2): every matcher form on routes, continue, nested routes with inherited
receiver/group_by, group_by '...', group_by labels missing from the alert, and the exact
group keys, group labels and full webhook payloads that result. One webhook sink per
case; each receiver posts to its own path /<receiver>."""

import datetime
import json
import socket
import time

from harness import (Fail, Suite, alert, now_utc, check, deliveries, eq, payload_diff, wh_alert,
                     wh_payload, norm_payload, alert_names)

suite = Suite("02-routing")

# startsAt two minutes ahead: not "old" (COMPAT 5.3), so each group waits for its
# group_wait and flushes once with all its alerts; nanoseconds and a +02:00 offset
# check that times pass through as Go prints them.
_T = now_utc() + datetime.timedelta(minutes=2)   # before the 5m resolve_timeout end
STARTS = _T.strftime("%Y-%m-%dT%H:%M:%S") + ".201460419Z"
STARTS2 = (_T.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
           .strftime("%Y-%m-%dT%H:%M:%S") + ".5+02:00")


def receivers_yaml(sink, names):
    out = ["receivers:"]
    for n in names:
        out.append("- name: %s\n  webhook_configs:\n  - url: '%s'" % (n, sink.url("/" + n)))
    return "\n".join(out) + "\n"


def collect(sink, n, quiet=1.5, timeout=15.0):
    """Waits for n bodies, then for a quiet period in which nothing else may arrive;
    returns {path: [payload, ...]} in arrival order."""
    sink.wait_for(n, timeout)
    time.sleep(quiet)
    got = deliveries(sink)
    if len(got) != n:
        raise Fail("expected %d notifications, got %d: %s"
                   % (n, len(got), [(p.get("receiver"), alert_names(p)) for _, p in got]))
    by = {}
    with sink.cond:
        rec = list(sink.received)
    for (_t, path, _b, parsed) in rec:
        by.setdefault(path, []).append(parsed)
    return by


def check_payloads(by, expected):
    """expected: {path: [payload, ...]} compared in any order within a path (one per
    group key), full payloads with externalURL normalised."""
    eq(sorted(by), sorted(expected), "receiver paths that got notifications")
    for path, exps in expected.items():
        got = {p["groupKey"]: norm_payload(p) for p in by[path]}
        eq(len(got), len(by[path]), "distinct group keys at %s" % path)
        want = {e["groupKey"]: e for e in exps}
        eq(sorted(got), sorted(want), "group keys at %s" % path)
        for k, e in want.items():
            if got[k] != e:
                raise Fail("%s group %s: %s" % (path, k, payload_diff(e, got[k])))


def A(labels, **kw):
    kw.setdefault("starts", STARTS)
    return alert(labels, **kw)


def WA(labels, **kw):
    kw.setdefault("starts", STARTS)
    return wh_alert(labels, **kw)


HEAD = """\
route:
  receiver: root
  group_by: [alertname]
  group_wait: 300ms
  group_interval: 1h
  repeat_interval: 1h
"""


@suite.case("matcher-forms")
def matcher_forms(ctx):
    sink = ctx.sink()
    names = ["root", "match-eq", "match-re", "m-neq", "m-nre", "mixed", "unquoted", "listed"]
    cfg = HEAD + """\
  routes:
  - receiver: match-eq
    match: {team: a}
  - receiver: match-re
    match_re: {team: 'b|c'}
  - receiver: m-neq
    matchers: ['team="d"', 'env!="dev"']
  - receiver: m-nre
    matchers: ['team="e"', 'severity!~"crit.*"']
  - receiver: mixed
    match: {svc: x}
    matchers: ['tier=~"1|2"']
  - receiver: unquoted
    matchers: [team=u, 'zone != z0']
  - receiver: listed
    matchers: ['{rack="r1",row!~"9.*"}']
""" + receivers_yaml(sink, names)
    srv = ctx.server(cfg)
    L = {
        "a1": {"alertname": "a1", "team": "a"},
        "a2": {"alertname": "a2", "team": "c"},
        "a3": {"alertname": "a3", "team": "d", "env": "prod"},
        "a4": {"alertname": "a4", "team": "d", "env": "dev"},
        "a5": {"alertname": "a5", "team": "e", "severity": "warning"},
        "a6": {"alertname": "a6", "team": "e", "severity": "critical"},
        "a7": {"alertname": "a7", "team": "bb"},
        "a8": {"alertname": "a8", "svc": "x", "tier": "2"},
        "a9": {"alertname": "a9", "svc": "x", "tier": "3"},
        "a10": {"alertname": "a10", "team": "u", "zone": "z1"},
        "a11": {"alertname": "a11", "rack": "r1", "row": "1"},
        "a12": {"alertname": "a12", "rack": "r1", "row": "99"},
    }
    srv.post_ok([A(l) for l in L.values()])
    by = collect(sink, len(L))

    def P(recv, key, name):
        return wh_payload(recv, key, {"alertname": name}, [WA(L[name])])
    check_payloads(by, {
        "/match-eq": [P("match-eq", '{}/{team="a"}:{alertname="a1"}', "a1")],
        # 0.25 prints a match_re value as the anchored regex it compiles
        "/match-re": [P("match-re", '{}/{team=~"^(?:b|c)$"}:{alertname="a2"}', "a2")],
        "/m-neq": [P("m-neq", '{}/{env!="dev",team="d"}:{alertname="a3"}', "a3")],
        "/m-nre": [P("m-nre", '{}/{severity!~"crit.*",team="e"}:{alertname="a5"}', "a5")],
        "/mixed": [P("mixed", '{}/{svc="x",tier=~"1|2"}:{alertname="a8"}', "a8")],
        "/unquoted": [P("unquoted", '{}/{team="u",zone!="z0"}:{alertname="a10"}', "a10")],
        "/listed": [P("listed", '{}/{rack="r1",row!~"9.*"}:{alertname="a11"}', "a11")],
        "/root": [P("root", '{}:{alertname="%s"}' % n, n) for n in ("a4", "a6", "a7", "a9", "a12")],
    })


@suite.case("continue")
def continue_(ctx):
    sink = ctx.sink()
    cfg = HEAD + """\
  routes:
  - receiver: c1
    matchers: [team=~"f|g"]
    continue: true
  - receiver: c2
    matchers: [team="f"]
  - receiver: c3
    matchers: [team=~".+"]
    continue: true
  - receiver: c3
    matchers: [prio="p1"]
    continue: true
""" + receivers_yaml(sink, ["root", "c1", "c2", "c3"])
    srv = ctx.server(cfg)
    f = {"alertname": "F", "team": "f"}
    g = {"alertname": "G", "team": "g", "prio": "p1"}
    z = {"alertname": "Z", "team": "z"}
    n = {"alertname": "N"}
    srv.post_ok([A(f), A(g), A(z), A(n)])
    by = collect(sink, 7)
    check_payloads(by, {
        # f: c1 (continue) then c2, which stops the walk
        "/c1": [wh_payload("c1", '{}/{team=~"f|g"}:{alertname="F"}', {"alertname": "F"}, [WA(f)]),
                wh_payload("c1", '{}/{team=~"f|g"}:{alertname="G"}', {"alertname": "G"}, [WA(g)])],
        "/c2": [wh_payload("c2", '{}/{team="f"}:{alertname="F"}', {"alertname": "F"}, [WA(f)])],
        # g reaches c3 through two routes: two groups, same receiver, different keys
        "/c3": [wh_payload("c3", '{}/{team=~".+"}:{alertname="G"}', {"alertname": "G"}, [WA(g)]),
                wh_payload("c3", '{}/{prio="p1"}:{alertname="G"}', {"alertname": "G"}, [WA(g)]),
                wh_payload("c3", '{}/{team=~".+"}:{alertname="Z"}', {"alertname": "Z"}, [WA(z)])],
        # no child matched: the root itself
        "/root": [wh_payload("root", '{}:{alertname="N"}', {"alertname": "N"}, [WA(n)])],
    })


@suite.case("nested-routes")
def nested(ctx):
    sink = ctx.sink()
    cfg = HEAD + """\
  routes:
  - receiver: svc
    matchers: [service="db"]
    group_by: [alertname, instance]
    routes:
    - receiver: svc-crit
      matchers: [severity="critical"]
    - matchers: [severity="warning"]
      group_by: []
      routes:
      - receiver: deep
        matchers: [dc="eu"]
        group_by: ['...']
  - receiver: other
    matchers: [service="web"]
    routes:
    - matchers: [severity="critical"]
""" + receivers_yaml(sink, ["root", "svc", "svc-crit", "deep", "other"])
    srv = ctx.server(cfg)
    n1 = {"alertname": "N", "service": "db", "severity": "critical", "instance": "i1"}
    n1b = {"alertname": "N", "service": "db", "severity": "critical", "instance": "i1", "x": "2"}
    n2 = {"alertname": "N", "service": "db", "severity": "warning", "instance": "i1"}
    n3 = {"alertname": "N", "service": "db", "severity": "warning", "instance": "i2", "dc": "eu"}
    n4 = {"alertname": "N", "service": "db", "severity": "info"}
    n5 = {"alertname": "M", "service": "web", "severity": "critical"}
    n6 = {"alertname": "M", "service": "web", "severity": "info"}
    srv.post_ok([A(l) for l in (n1, n1b, n2, n3, n4, n5, n6)])
    by = collect(sink, 6)
    check_payloads(by, {
        "/svc-crit": [wh_payload("svc-crit", '{}/{service="db"}/{severity="critical"}:{alertname="N", instance="i1"}',
                                 {"alertname": "N", "instance": "i1"}, [WA(n1), WA(n1b)])],
        # receiver inherited; group_by: [] is "not set" in 0.25 and inherits [alertname, instance]
        "/svc": [wh_payload("svc", '{}/{service="db"}/{severity="warning"}:{alertname="N", instance="i1"}',
                            {"alertname": "N", "instance": "i1"}, [WA(n2)]),
                 # no child matched: the parent route; group_by label missing is just absent
                 wh_payload("svc", '{}/{service="db"}:{alertname="N"}', {"alertname": "N"}, [WA(n4)])],
        "/deep": [wh_payload("deep", '{}/{service="db"}/{severity="warning"}/{dc="eu"}:'
                                     '{alertname="N", dc="eu", instance="i2", service="db", severity="warning"}',
                             n3, [WA(n3)])],
        "/other": [wh_payload("other", '{}/{service="web"}/{severity="critical"}:{alertname="M"}',
                              {"alertname": "M"}, [WA(n5)]),
                   wh_payload("other", '{}/{service="web"}:{alertname="M"}', {"alertname": "M"}, [WA(n6)])],
    })


@suite.case("group-by-all-and-escaping")
def group_by_all(ctx):
    """group_by '...' and group-key quoting of awkward values; the raw body is compared
    byte for byte with Go's encoding (<>& escaped, raw UTF-8, trailing newline)."""
    sink = ctx.sink()
    cfg = """\
route:
  receiver: all
  group_by: ['...']
  group_wait: 300ms
  group_interval: 1h
  repeat_interval: 1h
  routes:
  - receiver: esc
    matchers: ['q!=""']
    group_by: [alertname, q, missing]
""" + receivers_yaml(sink, ["all", "esc"])
    srv = ctx.server(cfg)
    l1 = {"alertname": "A", "q": 'x"y\\z\nw \u00e9\u2603', "sev": "<b>&"}
    l2 = {"alertname": "A", "q": 'x"y\\z\nw \u00e9\u2603', "sev": "low", "job": "j"}
    l3 = {"alertname": "B", "zone": "a b", "inst": "h:1"}
    ann = {"summary": "a <b> & c \u00e9", "z": "1"}
    url = "http://prom:9090/graph?g0.expr=up&x=<1>"
    srv.post_ok([A(l1, annotations=ann, url=url), A(l2, annotations=ann, url=url), A(l3, starts=STARTS2)])
    by = collect(sink, 2)
    q = 'x\\"y\\\\z\\nw \u00e9\u2603'
    exp_esc = wh_payload("esc", '{}/{q!=""}:{alertname="A", q="%s"}' % q,
                         {"alertname": "A", "q": l1["q"]},
                         [WA(l1, annotations=ann, url=url), WA(l2, annotations=ann, url=url)])
    exp_all = wh_payload("all", '{}:{alertname="B", inst="h:1", zone="a b"}', l3,
                         [WA(l3, starts=STARTS2)])
    check_payloads(by, {"/esc": [exp_esc], "/all": [exp_all]})
    # Raw bytes: Go's encoding/json of the 0.25 struct, field order as declared.
    with sink.cond:
        raw = {p: b for (_t, p, b, _j) in sink.received}
    for path, exp in (("/esc", exp_esc), ("/all", exp_all)):
        got = json.loads(raw[path])
        e = dict(exp)
        e["externalURL"] = got["externalURL"]
        s = json.dumps(e, separators=(",", ":"), ensure_ascii=False)
        s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        want = (s + "\n").encode("utf-8")
        if raw[path] != want:
            i = next((i for i in range(min(len(want), len(raw[path]))) if want[i] != raw[path][i]),
                     min(len(want), len(raw[path])))
            raise Fail("%s raw body differs at byte %d: expected ...%r..., got ...%r..."
                       % (path, i, want[max(0, i - 40):i + 40], raw[path][max(0, i - 40):i + 40]))


@suite.case("default-external-url")
def default_external_url(ctx):
    """Without --web.external-url the payload carries http://<hostname>:<port>,
    no trailing slash (COMPAT 8.2)."""
    sink = ctx.sink()
    srv = ctx.server(HEAD + receivers_yaml(sink, ["root"]))
    srv.post_ok([A({"alertname": "E"})])
    p = sink.wait_for(1)[0][3]
    eq(p["externalURL"], "http://%s:%d" % (socket.gethostname(), srv.port), "externalURL")


@suite.case("explicit-external-url")
def explicit_external_url(ctx):
    sink = ctx.sink()
    srv = ctx.server(HEAD + receivers_yaml(sink, ["root"]), external_url_path="/am/")
    srv.post_ok([A({"alertname": "E"})])
    p = sink.wait_for(1)[0][3]
    eq(p["externalURL"], "http://127.0.0.1:%d/am" % srv.port, "externalURL")


if __name__ == "__main__":
    suite.main(jobs=4)
