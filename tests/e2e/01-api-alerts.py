#!/usr/bin/env python3
"""POST/GET /api/v2/alerts: ingest, fingerprints, GET shape and order, time
defaulting, resolve_timeout, updatedAt, merge rules (COMPAT 1.3, 1.4, 2.2-2.4, 3)."""

import json
import random
import time

from harness import (SEED_FINGERPRINT, SEED_LABELS, MS_TS_RE, UTC_MS_TS_RE, Suite, alert,
                     check, eq, epoch, fingerprint, iso, now_utc, parse_time, poll, ts, Fail)
import datetime

suite = Suite("01-api-alerts")

ROUTES_CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: default
  routes:
  - matchers: ['team="a"']
    receiver: team-a
  - matchers: ['team="b"']
    receiver: team-b
    continue: true
  - matchers: ['team=~"b|c"']
    receiver: team-bc
receivers:
- name: default
- name: team-a
- name: team-b
- name: team-bc
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: ['cluster']
"""

ALERT_KEYS = ["annotations", "endsAt", "fingerprint", "receivers", "startsAt", "status",
              "updatedAt", "generatorURL", "labels"]


def only_alert(srv, params=None):
    al = srv.alerts(params)
    eq(len(al), 1, "number of alerts listed")
    return al[0]


@suite.case("post-success-empty-body")
def post_success(ctx):
    srv = ctx.server()
    r = srv.post_alerts([alert(SEED_LABELS, {"summary": "down"})])
    eq(r.status, 200, "status")
    eq(r.body, b"", "body")
    r = srv.post_alerts([])
    eq(r.status, 200, "status for []")
    eq(r.body, b"", "body for []")
    # Content-Type with a charset parameter is fine.
    r = srv.post_alerts([alert({"alertname": "x"})], content_type="application/json; charset=utf-8")
    eq(r.status, 200, "status with charset parameter")
    eq(len(srv.alerts()), 2, "alerts stored")


@suite.case("fingerprints")
def fingerprints(ctx):
    srv = ctx.server()
    srv.post_ok([alert(SEED_LABELS), alert({"alertname": "monitor_service_down"})])
    fps = sorted(a["fingerprint"] for a in srv.alerts())
    eq(fps, ["32ada29572191a25", SEED_FINGERPRINT], "fingerprints")
    eq(fingerprint(SEED_LABELS), SEED_FINGERPRINT, "harness fingerprint()")
    # UTF-8 values, long values: server and harness agree.
    labels = {"alertname": "ünïcødé ✓", "x": "y" * 300, "_a": "\u00e9"}
    srv.post_ok([alert(labels)])
    got = srv.alerts({"filter": 'x=~"y+"'})
    eq(len(got), 1, "utf-8 alert listed")
    eq(got[0]["fingerprint"], fingerprint(labels), "utf-8 fingerprint")
    eq(got[0]["labels"], labels, "utf-8 labels round trip")


@suite.case("get-shape-and-field-order")
def get_shape(ctx):
    srv = ctx.server(ROUTES_CONFIG)
    srv.post_ok([alert(SEED_LABELS, {"summary": "down", "description": "cadvisor is down"},
                       url="http://prometheus:9090/graph?g0.expr=up")])
    r = srv.get("/api/v2/alerts")
    eq(r.status, 200, "status")
    ct = r.headers.get("Content-Type", "")
    check(ct.split(";")[0].strip() == "application/json", "Content-Type: %r" % ct)
    arr = r.json_ordered()
    eq(len(arr), 1, "alerts")
    keys = [k for k, _ in arr[0]]
    eq(keys, ALERT_KEYS, "field order")
    d = dict(arr[0])
    status_keys = [k for k, _ in d["status"]]
    check(status_keys in (["inhibitedBy", "silencedBy", "state"],
                          ["inhibitedBy", "mutedBy", "silencedBy", "state"]),
          "status field order: %r" % status_keys)
    a = r.json()[0]
    eq(a["fingerprint"], SEED_FINGERPRINT, "fingerprint")
    eq(a["labels"], SEED_LABELS, "labels")
    eq(a["annotations"], {"summary": "down", "description": "cadvisor is down"}, "annotations")
    eq(a["generatorURL"], "http://prometheus:9090/graph?g0.expr=up", "generatorURL")
    eq(a["receivers"], [{"name": "default"}], "receivers")
    eq(a["status"]["state"], "active", "state")
    eq(a["status"]["silencedBy"], [], "silencedBy")
    eq(a["status"]["inhibitedBy"], [], "inhibitedBy")
    for k in ("startsAt", "endsAt", "updatedAt"):
        check(UTC_MS_TS_RE.match(a[k]), "%s not RFC 3339 UTC with ms: %r" % (k, a[k]))
    # Without annotations / generatorURL: annotations {} and generatorURL omitted.
    srv.post_ok([alert({"alertname": "bare"})])
    bare = [a for a in srv.alerts() if a["labels"] == {"alertname": "bare"}][0]
    eq(bare["annotations"], {}, "annotations of a bare alert")
    check("generatorURL" not in bare, "generatorURL must be omitted when empty: %r" % bare)
    # Routing with continue: receivers of every matching route, route order.
    srv.post_ok([alert({"alertname": "r", "team": "b"}), alert({"alertname": "r", "team": "a"}),
                 alert({"alertname": "r", "team": "c"})])
    by_team = {a["labels"].get("team"): a for a in srv.alerts({"filter": 'alertname="r"'})}
    eq(by_team["a"]["receivers"], [{"name": "team-a"}], "receivers team=a")
    eq(by_team["b"]["receivers"], [{"name": "team-b"}, {"name": "team-bc"}], "receivers team=b")
    eq(by_team["c"]["receivers"], [{"name": "team-bc"}], "receivers team=c")


@suite.case("sorted-by-fingerprint")
def sorted_by_fp(ctx):
    srv = ctx.server()
    rnd = random.Random(7)
    batch = [alert({"alertname": "sort", "i": str(i), "r": str(rnd.random())}) for i in range(40)]
    rnd.shuffle(batch)
    srv.post_ok(batch[:20])
    srv.post_ok(batch[20:])
    fps = [a["fingerprint"] for a in srv.alerts()]
    eq(len(fps), 40, "count")
    eq(fps, sorted(fps), "order")
    eq(sorted(fps), sorted(fingerprint(a["labels"]) for a in batch), "fingerprint set")


@suite.case("time-defaulting")
def time_defaulting(ctx):
    srv = ctx.server("global:\n  resolve_timeout: 7m\n" + "route:\n  receiver: team\nreceivers:\n- name: team\n")
    t0 = time.time()
    srv.post_ok([alert({"alertname": "none"})])
    t1 = time.time()
    a = only_alert(srv, {"filter": 'alertname="none"'})
    s = epoch(a["startsAt"])
    check(t0 - 0.002 <= s <= t1 + 0.002, "startsAt %s not within the request (%f..%f)" % (a["startsAt"], t0, t1))
    eq(a["updatedAt"], a["startsAt"], "updatedAt of a new alert without times")
    eq(round(epoch(a["endsAt"]) - s, 3), 420.0, "endsAt - startsAt (resolve_timeout 7m)")
    # Only endsAt (in the future): startsAt = endsAt.
    end = ts(600)
    srv.post_ok([alert({"alertname": "endonly"}, ends=end)])
    a = only_alert(srv, {"filter": 'alertname="endonly"'})
    eq(a["endsAt"], end, "endsAt")
    eq(a["startsAt"], end, "startsAt defaults to endsAt")
    # Only startsAt: endsAt = now + resolve_timeout.
    start = ts(-3600)
    t0 = time.time()
    srv.post_ok([alert({"alertname": "startonly"}, starts=start)])
    t1 = time.time()
    a = only_alert(srv, {"filter": 'alertname="startonly"'})
    eq(a["startsAt"], start, "startsAt")
    e = epoch(a["endsAt"])
    check(t0 + 420 - 0.002 <= e <= t1 + 420 + 0.002, "endsAt %s is not now+7m" % a["endsAt"])
    # Go's zero time (what amtool sends) means unset.
    t0 = time.time()
    srv.post_ok([alert({"alertname": "zero"}, starts="0001-01-01T00:00:00.000Z",
                       ends="0001-01-01T00:00:00.000Z")])
    t1 = time.time()
    a = only_alert(srv, {"filter": 'alertname="zero"'})
    s = epoch(a["startsAt"])
    check(t0 - 0.002 <= s <= t1 + 0.002, "zero startsAt not replaced by now: %s" % a["startsAt"])
    eq(round(epoch(a["endsAt"]) - s, 3), 420.0, "zero endsAt replaced by now+resolve_timeout")


@suite.case("resolve-timeout-expires")
def resolve_timeout(ctx):
    srv = ctx.server("global:\n  resolve_timeout: 2s\nroute:\n  receiver: team\nreceivers:\n- name: team\n")
    srv.post_ok([alert({"alertname": "rt"}), alert({"alertname": "explicit"}, ends=ts(3600))])
    a = only_alert(srv, {"filter": 'alertname="rt"'})
    eq(round(epoch(a["endsAt"]) - epoch(a["startsAt"]), 3), 2.0, "endsAt - startsAt")
    t_end = epoch(a["endsAt"])
    poll(lambda: not srv.alerts({"filter": 'alertname="rt"'}), timeout=8, what="alert to resolve")
    check(time.time() >= t_end - 0.05, "alert vanished before its endsAt")
    eq([x["labels"]["alertname"] for x in srv.alerts()], ["explicit"], "remaining alerts")
    # A re-post pushes the guess forward.
    srv.post_ok([alert({"alertname": "rt2"})])
    first = only_alert(srv, {"filter": 'alertname="rt2"'})
    time.sleep(1.2)
    srv.post_ok([alert({"alertname": "rt2"})])
    second = only_alert(srv, {"filter": 'alertname="rt2"'})
    eq(second["startsAt"], first["startsAt"], "startsAt kept on re-post")
    check(epoch(second["endsAt"]) > epoch(first["endsAt"]) + 1.0, "endsAt not pushed forward: %s -> %s"
          % (first["endsAt"], second["endsAt"]))


@suite.case("updated-at")
def updated_at(ctx):
    srv = ctx.server()
    start = ts(-120)
    srv.post_ok([alert({"alertname": "u"}, {"v": "1"}, starts=start)])
    a1 = only_alert(srv)
    time.sleep(0.05)
    t0 = time.time()
    srv.post_ok([alert({"alertname": "u"}, {"v": "2"}, starts=start)])
    t1 = time.time()
    a2 = only_alert(srv)
    u = epoch(a2["updatedAt"])
    check(t0 - 0.002 <= u <= t1 + 0.002, "updatedAt %s not the time of the last post" % a2["updatedAt"])
    check(u > epoch(a1["updatedAt"]), "updatedAt did not advance")
    eq(a2["startsAt"], start, "startsAt")
    eq(a2["annotations"], {"v": "2"}, "annotations")


@suite.case("merge-overlap")
def merge_overlap(ctx):
    srv = ctx.server()
    L = {"alertname": "merge"}
    s1 = ts(-60)
    srv.post_ok([alert(L, {"a": "1", "b": "2"}, starts=s1, url="http://one/")])
    # Later start inside the interval: start kept, annotations replaced (not merged), url replaced.
    srv.post_ok([alert(L, {"c": "3"}, starts=ts(-30), url="http://two/")])
    a = only_alert(srv)
    eq(a["startsAt"], s1, "startsAt keeps the earlier start")
    eq(a["annotations"], {"c": "3"}, "annotations replaced as a whole")
    eq(a["generatorURL"], "http://two/", "generatorURL of the newer alert")
    # Earlier start: the earlier of the two.
    s0 = ts(-120)
    srv.post_ok([alert(L, {"c": "4"}, starts=s0)])
    a = only_alert(srv)
    eq(a["startsAt"], s0, "startsAt moves to the earlier start")
    check("generatorURL" not in a, "generatorURL of newer (empty) alert must win: %r" % a.get("generatorURL"))


@suite.case("merge-ends-at")
def merge_ends_at(ctx):
    srv = ctx.server()
    # Older explicit end later than the newer firing (timeout) alert's end: older end kept.
    L1 = {"alertname": "m1"}
    e1 = ts(3600)
    srv.post_ok([alert(L1, starts=ts(-60), ends=e1)])
    srv.post_ok([alert(L1, starts=ts(-30))])  # endsAt = now + 5m, timeout flag
    eq(only_alert(srv, {"filter": 'alertname="m1"'})["endsAt"], e1, "explicit later end kept")
    # The merged alert carries the newer's timeout flag: a later explicit (earlier) end wins now.
    e_new = ts(600)
    srv.post_ok([alert(L1, starts=ts(-30), ends=e_new)])
    eq(only_alert(srv, {"filter": 'alertname="m1"'})["endsAt"], e_new, "timeout flag taken from newer")
    # Older explicit end later than the newer explicit end: older kept.
    L3 = {"alertname": "m3"}
    e3 = ts(3600)
    srv.post_ok([alert(L3, starts=ts(-60), ends=e3)])
    srv.post_ok([alert(L3, starts=ts(-30), ends=ts(600))])
    eq(only_alert(srv, {"filter": 'alertname="m3"'})["endsAt"], e3, "explicit later end kept (2)")
    # Newer resolved: its end, even though the older ends later.
    srv.post_ok([alert(L3, ends=ts(-1))])
    eq(srv.alerts({"filter": 'alertname="m3"'}), [], "alert resolved by a post with an end in the past")
    # Older end was a timeout guess: the newer (earlier) explicit end wins.
    L2 = {"alertname": "m2"}
    srv.post_ok([alert(L2, starts=ts(-60))])
    e2 = ts(60)
    srv.post_ok([alert(L2, starts=ts(-60), ends=e2)])
    eq(only_alert(srv, {"filter": 'alertname="m2"'})["endsAt"], e2, "guess replaced by explicit end")


@suite.case("resolve-keeps-starts-at")
def resolve_keeps_start(ctx):
    srv = ctx.server()
    L = {"alertname": "res"}
    s1 = ts(-60)
    srv.post_ok([alert(L, {"v": "firing"}, starts=s1)])
    # Resolving post (end in 3s so it is still listed for a moment), with a later start.
    end = ts(3)
    srv.post_ok([alert(L, {"v": "resolving"}, starts=ts(-10), ends=end)])
    a = only_alert(srv)
    eq(a["startsAt"], s1, "startsAt kept by the resolve")
    eq(a["endsAt"], end, "endsAt of the resolve")
    eq(a["annotations"], {"v": "resolving"}, "annotations")
    poll(lambda: srv.alerts() == [], timeout=10, what="resolved alert to leave the list")


@suite.case("reactivation")
def reactivation(ctx):
    srv = ctx.server()
    L = {"alertname": "react"}
    srv.post_ok([alert(L, starts=ts(-120), ends=ts(-60))])
    eq(srv.alerts(), [], "resolved alert listed")
    s_new = ts(-30)
    srv.post_ok([alert(L, starts=s_new)])
    a = only_alert(srv)
    eq(a["startsAt"], s_new, "reactivated alert restarts with the new startsAt")


@suite.case("resolved-not-listed")
def resolved_not_listed(ctx):
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "gone"}, starts=ts(-60), ends=ts(-1)),
                 alert({"alertname": "here"}, starts=ts(-60), ends=ts(600))])
    eq([a["labels"]["alertname"] for a in srv.alerts()], ["here"], "listed")
    eq([a["labels"]["alertname"] for a in srv.alerts({"active": "true", "silenced": "true"})],
       ["here"], "listed with explicit params")


@suite.case("empty-labels-dropped")
def empty_labels_dropped(ctx):
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "monitor_service_down", "empty": "", "also": ""})])
    a = only_alert(srv)
    eq(a["labels"], {"alertname": "monitor_service_down"}, "labels")
    eq(a["fingerprint"], "32ada29572191a25", "fingerprint without the empty labels")
    # Same identity as the alert posted without them.
    srv.post_ok([alert({"alertname": "monitor_service_down"}, {"x": "y"})])
    a = only_alert(srv)
    eq(a["annotations"], {"x": "y"}, "merged into the same alert")


def _filter_alerts(srv):
    srv.post_ok([
        alert({"alertname": "f", "job": "api", "env": "prod", "team": "a"}),
        alert({"alertname": "f", "job": "api-gw", "env": "dev", "team": "b"}),
        alert({"alertname": "f", "job": "db", "env": "prod", "team": "c"}),
        alert({"alertname": "g", "job": "db", "env": "staging"}),
    ])


def _names(al):
    return sorted("%s/%s" % (a["labels"]["alertname"], a["labels"]["job"]) for a in al)


@suite.case("filter-matchers")
def filter_matchers(ctx):
    srv = ctx.server(ROUTES_CONFIG)
    _filter_alerts(srv)
    cases = [
        (['job="api"'], ["f/api"]),
        (["job=api"], ["f/api"]),
        (['job=~"api.*"'], ["f/api", "f/api-gw"]),
        (['job=~"api"'], ["f/api"]),                     # anchored
        (['job=~"pi"'], []),
        (['job!="api"'], ["f/api-gw", "f/db", "g/db"]),
        (['job!~"api.*"'], ["f/db", "g/db"]),
        (['env="prod"', 'alertname="f"'], ["f/api", "f/db"]),
        (['team=""'], ["g/db"]),                         # missing label = ""
        (['team!=""'], ["f/api", "f/api-gw", "f/db"]),
        ([' job = "db" '], ["f/db", "g/db"]),
        (['job=~"a.*|d.*"', 'env!~"prod|dev"'], ["g/db"]),
    ]
    for filters, want in cases:
        got = _names(srv.alerts([("filter", f) for f in filters]))
        eq(got, want, "filter %r" % filters)
    bad = [
        ("bad", "bad matcher format: bad"),
        ('a="b', 'matcher value contains unescaped double quote: "b'),
        ('a=~"("', "error parsing regexp: missing closing ): `^(?:()$`"),
        ('{a="b"}', 'bad matcher format: {a="b"}'),
    ]
    for f, msg in bad:
        r = srv.get("/api/v2/alerts", {"filter": f})
        eq(r.status, 400, "status for filter %r" % f)
        eq(r.json(), msg, "body for filter %r" % f)


@suite.case("filter-receiver")
def filter_receiver(ctx):
    srv = ctx.server(ROUTES_CONFIG)
    _filter_alerts(srv)
    eq(_names(srv.alerts({"receiver": "team-a"})), ["f/api"], "receiver=team-a")
    eq(_names(srv.alerts({"receiver": "team-b.*"})), ["f/api-gw", "f/db"], "receiver=team-b.*")
    eq(_names(srv.alerts({"receiver": "team"})), [], "receiver regex is anchored")
    eq(_names(srv.alerts({"receiver": "default|team-a"})), ["f/api", "g/db"], "alternation")
    eq(_names(srv.alerts({"receiver": "team-bc", "filter": 'env="prod"'})), ["f/db"], "receiver+filter")
    r = srv.get("/api/v2/alerts", {"receiver": "("})
    eq(r.status, 400, "status for bad receiver regex")
    eq(r.json(), "failed to parse receiver param: error parsing regexp: missing closing ): `^(?:()$`",
       "bad receiver regex body")


def _silence(srv, name, value):
    r = srv.post_json("/api/v2/silences", {
        "matchers": [{"name": name, "value": value, "isRegex": False, "isEqual": True}],
        "startsAt": ts(0), "endsAt": ts(3600), "createdBy": "e2e", "comment": "test"})
    eq(r.status, 200, "silence POST status (%s)" % r.text()[:200])
    return r.json()["silenceID"]


def _keys(srv, params):
    return sorted(a["labels"]["alertname"] + "/" + a["labels"].get("cluster", "-")
                  for a in srv.alerts(params))


@suite.case("active-and-inhibited-params")
def inhibited_params(ctx):
    srv = ctx.server(ROUTES_CONFIG)
    crit = {"alertname": "src", "severity": "critical", "cluster": "c1"}
    warn = {"alertname": "tgt", "severity": "warning", "cluster": "c1"}
    other = {"alertname": "tgt", "severity": "warning", "cluster": "c2"}
    srv.post_ok([alert(crit), alert(warn), alert(other)])

    def state():
        return {a["labels"]["alertname"] + "/" + a["labels"].get("cluster", "-"): a
                for a in srv.alerts()}

    st = poll(lambda: (lambda s: s if s["tgt/c1"]["status"]["inhibitedBy"] else None)(state()),
              timeout=10, what="inhibitedBy on the target alert")
    eq(st["tgt/c1"]["status"], {**st["tgt/c1"]["status"], "state": "suppressed",
                                "inhibitedBy": [fingerprint(crit)], "silencedBy": []}, "target status")
    eq(st["tgt/c2"]["status"]["state"], "active", "other cluster not inhibited")
    eq(st["src/c1"]["status"]["state"], "active", "source state")
    allk = ["src/c1", "tgt/c1", "tgt/c2"]
    eq(_keys(srv, {}), allk, "no params")
    eq(_keys(srv, {"inhibited": "false"}), ["src/c1", "tgt/c2"], "inhibited=false")
    eq(_keys(srv, {"silenced": "false"}), allk, "silenced=false (nothing silenced)")
    eq(_keys(srv, {"active": "false"}), ["tgt/c1"], "active=false")
    eq(_keys(srv, {"active": "false", "inhibited": "false"}), [], "active=false inhibited=false")
    eq(_keys(srv, {"unprocessed": "false"}), allk, "unprocessed ignored")
    # The source resolves: the target is active again.
    srv.post_ok([alert(crit, ends=ts(-1))])
    poll(lambda: state()["tgt/c1"]["status"]["state"] == "active", timeout=10,
         what="target to become active after the source resolved")


@suite.case("silenced-param")
def silenced_params(ctx):
    srv = ctx.server(ROUTES_CONFIG)
    crit = {"alertname": "src", "severity": "critical", "cluster": "c1"}
    warn = {"alertname": "tgt", "severity": "warning", "cluster": "c1"}
    quiet = {"alertname": "quiet"}
    srv.post_ok([alert(crit), alert(warn), alert(quiet)])
    sid = _silence(srv, "alertname", "quiet")
    st = poll(lambda: (lambda s: s if s["tgt/c1"]["status"]["inhibitedBy"] else None)(
        {a["labels"]["alertname"] + "/" + a["labels"].get("cluster", "-"): a for a in srv.alerts()}),
        timeout=10, what="inhibitedBy on the target alert")
    eq(st["quiet/-"]["status"]["silencedBy"], [sid], "silencedBy")
    eq(st["quiet/-"]["status"]["inhibitedBy"], [], "inhibitedBy of the silenced alert")
    eq(st["quiet/-"]["status"]["state"], "suppressed", "silenced state")
    allk = ["quiet/-", "src/c1", "tgt/c1"]
    eq(_keys(srv, {}), allk, "no params")
    eq(_keys(srv, {"silenced": "false"}), ["src/c1", "tgt/c1"], "silenced=false")
    eq(_keys(srv, {"silenced": "false", "inhibited": "false"}), ["src/c1"], "both false")
    eq(_keys(srv, {"active": "false"}), ["quiet/-", "tgt/c1"], "active=false")
    eq(_keys(srv, {"active": "false", "silenced": "false"}), ["tgt/c1"], "active=false silenced=false")
    # amtool's default query.
    eq(_keys(srv, [("active", "true"), ("inhibited", "false"), ("silenced", "false"), ("unprocessed", "false")]),
       ["src/c1"], "amtool default query")
    # Expiring the silence makes the alert active again.
    r = srv.request("DELETE", "/api/v2/silence/" + sid)
    eq(r.status, 200, "DELETE silence")
    eq(_keys(srv, {"silenced": "false"}), allk, "silenced=false after expiry")


@suite.case("boolean-params")
def boolean_params(ctx):
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "b"})])
    for v in ["true", "TRUE", "True", "1", "yes", "Y", "on", "t", "ok", "enabled", "checked", "selected"]:
        eq(len(srv.alerts({"active": v})), 1, "active=%s is true" % v)
    for v in ["false", "FALSE", "0", "no", "off", "f", "junk", "2", "tru"]:
        eq(len(srv.alerts({"active": v})), 0, "active=%s is false" % v)
    r = srv.get("/api/v2/alerts?active=")
    eq(r.status, 200, "empty value status")


@suite.case("client-offsets-and-ms-precision")
def offsets(ctx):
    srv = ctx.server()
    plus2 = datetime.timezone(datetime.timedelta(hours=2))
    minus530 = datetime.timezone(-datetime.timedelta(hours=5, minutes=30))
    start = (now_utc() - datetime.timedelta(hours=1)).astimezone(plus2).replace(microsecond=123000)
    end = (now_utc() + datetime.timedelta(hours=1)).astimezone(minus530).replace(microsecond=0)
    s_in = start.strftime("%Y-%m-%dT%H:%M:%S.123+02:00")
    e_in = end.strftime("%Y-%m-%dT%H:%M:%S-05:30")
    srv.post_ok([alert({"alertname": "tz"}, starts=s_in, ends=e_in)])
    a = only_alert(srv)
    eq(a["startsAt"], s_in, "startsAt with +02:00 kept")
    eq(a["endsAt"], end.strftime("%Y-%m-%dT%H:%M:%S.000-05:30"), "endsAt with -05:30 kept, ms added")
    check(UTC_MS_TS_RE.match(a["updatedAt"]), "updatedAt is server time in UTC: %r" % a["updatedAt"])
    # Sub-millisecond digits are truncated, not rounded; no fraction gets .000.
    base = (now_utc() - datetime.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")
    for frac, want in [(".123456789", ".123"), (".999999", ".999"), ("", ".000"), (".5", ".500")]:
        L = {"alertname": "ms", "f": frac or "none"}
        srv.post_ok([alert(L, starts=base + frac + "Z", ends=ts(600))])
        got = [x for x in srv.alerts() if x["labels"] == L][0]
        eq(got["startsAt"], base + want + "Z", "startsAt for fraction %r" % frac)
        check(MS_TS_RE.match(got["endsAt"]), "endsAt format %r" % got["endsAt"])


LARGE_CONFIG = """\
route:
  receiver: default
  group_by: [grp]
  group_wait: 1h
receivers:
- name: default
"""


@suite.case("large-responses-streamed")
def large_responses(ctx):
    """Bodies of several MB leave in many pieces (the server streams them): every alert and
    group arrives once, as valid JSON, groups in label-set order, each group's alerts in
    COMPAT 2.7 order."""
    import functools
    from harness import _label_set_before, sort_alerts
    srv = ctx.server(LARGE_CONFIG)
    note = "x" * 1500 + " <&> \u2028 \"quoted\" \u00e9"
    posted = {}
    for b in range(30):
        batch = []
        for i in range(b * 100, b * 100 + 100):
            labels = {"alertname": "Large%d" % i, "grp": "g%03d" % (i % 250),
                      "instance": "host-%d:9100" % i, "job": "node"}
            batch.append(alert(labels, {"summary": note, "n": str(i)}))
            posted[fingerprint(labels)] = labels
        srv.post_ok(batch)
    st, _, body = srv.get("/api/v2/alerts")
    eq(st, 200, "GET /api/v2/alerts status")
    check(len(body) > 4 * 1024 * 1024, "a multi-MB body (%d bytes)" % len(body))
    al = json.loads(body)
    eq(sorted(a["fingerprint"] for a in al), sorted(posted), "every alert listed once")
    for a in al:
        eq(a["labels"], posted[a["fingerprint"]], "labels of %s" % a["fingerprint"])
        eq(a["annotations"]["summary"], note, "annotation survives escaping")
    st, _, body = srv.get("/api/v2/alerts/groups")
    eq(st, 200, "GET /api/v2/alerts/groups status")
    groups = json.loads(body)
    eq(len(groups), 250, "number of groups")
    seen = [a["fingerprint"] for g in groups for a in g["alerts"]]
    eq(sorted(seen), sorted(posted), "every alert in exactly one group")
    for g in groups:
        eq(g["receiver"], {"name": "default"}, "group receiver")
        eq([a["fingerprint"] for a in g["alerts"]],
           [a["fingerprint"] for a in sort_alerts(g["alerts"])], "alert order in a group")
        eq({a["labels"]["grp"] for a in g["alerts"]}, {g["labels"]["grp"]}, "group labels")
    order = sorted(groups, key=functools.cmp_to_key(
        lambda x, y: -1 if _label_set_before(x["labels"], y["labels"])
        else (1 if _label_set_before(y["labels"], x["labels"]) else 0)))
    eq([g["labels"] for g in groups], [g["labels"] for g in order], "group order")


if __name__ == "__main__":
    suite.main()
