#!/usr/bin/env python3
"""Inhibition (COMPAT 6.1, 5.6) proven on Alertmanager 0.25: upstream's Inhibiting,
AlwaysInhibiting and EmptyInhibitionRule scenarios with full webhook payloads, and the
inhibitedBy/state fields of GET /api/v2/alerts and /api/v2/alerts/groups (equal labels,
labels missing on both sides, alerts matching both sides, resolved sources)."""

from harness import (Fail, Suite, Timeline, alert, check, check_sequence, deliveries, eq,
                     fingerprint, norm_payload, payload_diff, poll, wh_alert_t, wh_payload)

suite = Suite("04-inhibit")

RULE = """
inhibit_rules:
- source_match:
    alertname: JobDown
  target_match:
    alertname: InstanceDown
  equal:
    - job
    - zone
"""


def conf(sink, rules=RULE, route="  group_by: []\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1s\n"):
    return ("route:\n  receiver: default\n" + route +
            "receivers:\n- name: default\n  webhook_configs:\n  - url: '%s'\n" % sink.url() + rules)


def got_of(sink, tl, upto):
    return [(t, norm_payload(p)) for t, p in deliveries(sink, tl) if t <= upto]


@suite.case("Inhibiting")
def inhibiting(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink))
    tl = Timeline()
    t1 = {"alertname": "test1", "job": "testjob", "zone": "aa"}
    ia = {"alertname": "InstanceDown", "job": "testjob", "zone": "aa"}
    ib = {"alertname": "InstanceDown", "job": "testjob", "zone": "ab"}
    jd = {"alertname": "JobDown", "job": "testjob", "zone": "aa"}
    tl.at(1)
    srv.post_ok([alert(t1, starts=tl.ts(1)), alert(ia, starts=tl.ts(1)), alert(ib, starts=tl.ts(1))])
    # JobDown in zone aa inhibits InstanceDown in zone aa in the second batch ...
    tl.at(2.5)        # upstream 2.2: clear of a late 2s tick on a loaded machine
    srv.post_ok([alert(jd, starts=tl.ts(2.2))])
    # ... which fires again in the third once JobDown is resolved.
    tl.at(3.6)
    srv.post_ok([alert(jd, starts=tl.ts(2.2), ends=tl.ts(3.6))])
    tl.at(4.7)

    def W(l, s, e=None):
        return wh_alert_t(l, starts=tl.ts(s), ends=tl.ts(e) if e else None)

    def P(*alerts):
        return wh_payload("default", "{}:{}", {}, list(alerts))
    check_sequence(got_of(sink, tl, 4.7), [
        (2, 2.5, P(W(t1, 1), W(ia, 1), W(ib, 1))),
        (3, 3.5, P(W(t1, 1), W(ib, 1), W(jd, 2.2))),
        (4, 4.5, P(W(t1, 1), W(ia, 1), W(ib, 1), W(jd, 2.2, 3.6))),
    ])


@suite.case("AlwaysInhibiting")
def always_inhibiting(ctx):
    """Inhibiting and inhibited alerts resolved at the same time both go out resolved."""
    sink = ctx.sink()
    srv = ctx.server(conf(sink))
    tl = Timeline()
    ia = {"alertname": "InstanceDown", "job": "testjob", "zone": "aa"}
    jd = {"alertname": "JobDown", "job": "testjob", "zone": "aa"}
    tl.at(1)
    srv.post_ok([alert(ia, starts=tl.ts(1))])
    srv.post_ok([alert(jd, starts=tl.ts(1))])
    tl.at(2.6)
    srv.post_ok([alert(jd, starts=tl.ts(1), ends=tl.ts(2.6))])
    srv.post_ok([alert(ia, starts=tl.ts(1), ends=tl.ts(2.6))])
    tl.at(3.7)
    check_sequence(got_of(sink, tl, 3.7), [
        (2, 2.5, wh_payload("default", "{}:{}", {}, [wh_alert_t(jd, starts=tl.ts(1))])),
        (3, 3.5, wh_payload("default", "{}:{}", {}, [
            wh_alert_t(ia, starts=tl.ts(1), ends=tl.ts(2.6)),
            wh_alert_t(jd, starts=tl.ts(1), ends=tl.ts(2.6))])),
    ])


@suite.case("EmptyInhibitionRule", only="alertrouter")
def empty_rule(ctx):
    """A null entry in inhibit_rules loads and inhibits nothing (upstream's newer
    scenario; Alertmanager 0.25 itself panics on it in inhibit.NewInhibitRule, so this
    runs on alertrouter only)."""
    sink = ctx.sink()
    srv = ctx.server(conf(sink, rules="\ninhibit_rules:\n-\n"))
    tl = Timeline()
    a = {"alertname": "test1", "job": "testjob", "zone": "aa"}
    b = {"alertname": "InstanceDown", "job": "testjob", "zone": "aa"}
    tl.at(1)
    srv.post_ok([alert(a, starts=tl.ts(1)), alert(b, starts=tl.ts(1))])
    tl.at(2.7)
    check_sequence(got_of(sink, tl, 2.7), [
        (2, 2.5, wh_payload("default", "{}:{}", {}, [wh_alert_t(a, starts=tl.ts(1)),
                                                     wh_alert_t(b, starts=tl.ts(1))]))])


API_RULES = """
inhibit_rules:
- source_matchers: ['alertname="NodeDown"']
  target_matchers: ['severity=~"warning|info"']
  equal: [instance]
"""


@suite.case("inhibitedBy-in-api")
def inhibited_by_api(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, rules=API_RULES, route="  group_by: [alertname]\n  group_wait: 1s\n"
                                                         "  group_interval: 1h\n  repeat_interval: 1h\n"))
    tl = Timeline()
    st = tl.ts(0)
    S = {"alertname": "NodeDown", "instance": "h1"}
    T1 = {"alertname": "Disk", "severity": "warning", "instance": "h1"}      # inhibited by S
    T2 = {"alertname": "Disk", "severity": "warning", "instance": "h2"}      # other instance
    S2 = {"alertname": "NodeDown"}                                           # no instance
    T4 = {"alertname": "Disk", "severity": "info"}                           # missing both sides
    M1 = {"alertname": "NodeDown", "severity": "warning", "instance": "h3", "x": "1"}
    M2 = {"alertname": "NodeDown", "severity": "warning", "instance": "h3", "x": "2"}
    S3 = {"alertname": "NodeDown", "instance": "h5"}                         # resolved source
    T5 = {"alertname": "Disk", "severity": "warning", "instance": "h5"}
    T6 = {"alertname": "Disk", "severity": "critical", "instance": "h1"}     # not a target
    firing = [S, T1, T2, S2, T4, M1, M2, T5, T6]
    srv.post_ok([alert(l, starts=st) for l in firing] + [alert(S3, starts=tl.ts(-5), ends=tl.ts(-0.1))])
    inhibited = {fingerprint(T1): fingerprint(S), fingerprint(T4): fingerprint(S2)}

    def status_of(l):
        fp = fingerprint(l)
        if fp in inhibited:
            return {"inhibitedBy": [inhibited[fp]], "silencedBy": [], "state": "suppressed"}
        return {"inhibitedBy": [], "silencedBy": [], "state": "active"}

    if ctx.is_am:
        # Alertmanager's inhibitor sees new alerts through an asynchronous subscription;
        # alertrouter's marks are in place when the POST is answered and are read at once.
        poll(lambda: all(srv.alerts_by_fp().get(fp, {}).get("status", {}).get("inhibitedBy")
                         for fp in inhibited), timeout=3, what="inhibition to show in the API")
    alerts = srv.alerts_by_fp()
    # resolved alerts are not listed
    eq(sorted(alerts), sorted(fingerprint(l) for l in firing), "alerts listed")
    for l in firing:
        eq(alerts[fingerprint(l)]["status"], status_of(l), "status of %s" % l)
    eq(sorted(a["fingerprint"] for a in srv.alerts({"inhibited": "false"})),
       sorted(fingerprint(l) for l in firing if fingerprint(l) not in inhibited),
       "inhibited=false")
    eq(sorted(a["fingerprint"] for a in srv.alerts({"active": "false"})),
       sorted(inhibited), "active=false")

    groups = srv.get_json("/api/v2/alerts/groups")
    eq([g["labels"] for g in groups], [{"alertname": "Disk"}, {"alertname": "NodeDown"}], "group labels")
    for g in groups:
        eq(g["receiver"], {"name": "default"}, "group receiver")
        for a in g["alerts"]:
            eq(a["status"], status_of(a["labels"]), "groups: status of %s" % a["labels"])
    disk = groups[0]
    eq(sorted(a["fingerprint"] for a in disk["alerts"]),
       sorted(fingerprint(l) for l in (T1, T2, T4, T5, T6)), "Disk group alerts")
    g2 = srv.get_json("/api/v2/alerts/groups", {"inhibited": "false"})
    eq(sorted(a["fingerprint"] for a in g2[0]["alerts"]),
       sorted(fingerprint(l) for l in (T2, T5, T6)), "groups inhibited=false: Disk alerts")

    # The notifications leave the inhibited alerts out.
    sink.wait_for(2)
    tl.at(tl.now() + 1.0)
    got = {p["groupKey"]: norm_payload(p) for _t, p in deliveries(sink)}
    eq(len(deliveries(sink)), 2, "notifications")
    exp = {
        '{}:{alertname="Disk"}': wh_payload("default", '{}:{alertname="Disk"}', {"alertname": "Disk"},
                                            [wh_alert_t(l, starts=st) for l in (T2, T5, T6)]),
        '{}:{alertname="NodeDown"}': wh_payload(
            "default", '{}:{alertname="NodeDown"}', {"alertname": "NodeDown"},
            [wh_alert_t(l, starts=st) for l in (S, S2, M1, M2)] +
            [wh_alert_t(S3, starts=tl.ts(-5), ends=tl.ts(-0.1))]),
    }
    eq(sorted(got), sorted(exp), "group keys notified")
    for k in exp:
        if got[k] != exp[k]:
            raise Fail("notification %s: %s" % (k, payload_diff(exp[k], got[k])))


if __name__ == "__main__":
    suite.main(jobs=4)
