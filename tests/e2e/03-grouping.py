#!/usr/bin/env python3
"""Aggregation groups, timers and the notification log, as upstream's acceptance
scenarios (COMPAT 13: MergeAlerts, Repeat, Retry, Batching, Resolved, ResolvedFilter)
plus group_wait/group_interval/repeat_interval timing, old alerts flushing at once,
max_alerts/truncatedAlerts and send_resolved (COMPAT 5.3-5.8, 9.2). Times are seconds
after the server became ready; full webhook payloads are compared, arrival windows are
upstream's widened by harness.check_sequence. Both targets run side by side.

WebhookTimeout is not here: Alertmanager 0.25 has no webhook `timeout` field."""

from harness import (Suite, Timeline, alert, check, check_sequence, deliveries, eq,
                     norm_payload, wh_alert_t, wh_payload)

suite = Suite("03-grouping")


def conf(route, urls, global_=""):
    out = global_ + "route:\n  receiver: default\n" + route + "receivers:\n- name: default\n  webhook_configs:\n"
    for u in urls:
        out += "  - " + u + "\n"
    return out


def got_of(sink, tl, path=None, upto=None):
    return [(t, norm_payload(p)) for t, p in deliveries(sink, tl, path)
            if upto is None or t <= upto]


def K(name):
    return '{}:{alertname="%s"}' % name


@suite.case("MergeAlerts")
def merge_alerts(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1ms
""", ["url: '%s'\n    send_resolved: true" % sink.url()]))
    tl = Timeline()
    L = {"alertname": "test"}
    # Refreshed several times, the start stays at the earliest point in time.
    tl.at(1)
    srv.post_ok([alert(L, starts=tl.ts(1.1))])
    tl.at(1.2)
    srv.post_ok([alert(L, starts=tl.ts(1))])
    tl.at(2.4)        # upstream 2.1: kept clear of a late 2s tick on a loaded machine
    srv.post_ok([alert(L, {"ann": "v1"}, starts=tl.ts(2))])
    # Annotations always come from the alert that arrived last.
    tl.at(3.6)
    srv.post_ok([alert(L, {"ann": "v2"}, starts=tl.ts(1.5))])
    # Resolved twice: the latest end wins.
    tl.at(4.6)
    srv.post_ok([alert(L, {"ann": "v2"}, starts=tl.ts(3), ends=tl.ts(4.5))])
    tl.at(4.8)
    srv.post_ok([alert(L, {"ann": "v3"}, starts=tl.ts(2.9), ends=tl.ts(4.8))])
    srv.post_ok([alert(L, {"ann": "v3"}, starts=tl.ts(2.9), ends=tl.ts(4.1))])
    # Reactivated after the resolution: no overlap, no merge.
    tl.at(5.5)        # upstream 5.3
    srv.post_ok([alert(L)])
    tl.at(6.8)

    def P(**kw):
        return wh_payload("default", K("test"), L, [wh_alert_t(L, **kw)])
    check_sequence(got_of(sink, tl), [
        (2, 2.5, P(starts=tl.ts(1))),
        (3, 3.5, P(annotations={"ann": "v1"}, starts=tl.ts(1))),
        (4, 4.5, P(annotations={"ann": "v2"}, starts=tl.ts(1))),
        (5, 5.5, P(annotations={"ann": "v3"}, starts=tl.ts(1), ends=tl.ts(4.8))),
        (6, 6.5, P(starts=tl.approx(5.5))),
    ])


@suite.case("MergeAlerts-explicit-ends")
def merge_alerts_explicit(ctx):
    """MergeAlerts with explicit end times on every post, as Prometheus sends them:
    the stored endsAt follows COMPAT 2.3 (an older explicit end that is later is kept
    while firing), payloads still show firing alerts with the zero endsAt."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1ms
""", ["url: '%s'\n    send_resolved: true" % sink.url()]))
    tl = Timeline()
    L = {"alertname": "test"}

    def stored_ends():
        return [a["endsAt"] for a in srv.alerts()]
    tl.at(1)
    srv.post_ok([alert(L, starts=tl.ts(1.1), ends=tl.ts(101))])
    tl.at(1.2)
    srv.post_ok([alert(L, starts=tl.ts(1), ends=tl.ts(51))])
    eq(stored_ends(), [tl.ts(101)], "endsAt after an earlier explicit end")
    tl.at(2.4)        # upstream 2.1: kept clear of a late 2s tick on a loaded machine
    srv.post_ok([alert(L, {"ann": "v1"}, starts=tl.ts(2), ends=tl.ts(61))])
    tl.at(3.6)
    srv.post_ok([alert(L, {"ann": "v2"}, starts=tl.ts(1.5), ends=tl.ts(200))])
    eq(stored_ends(), [tl.ts(200)], "endsAt after a later explicit end")
    tl.at(4.6)
    srv.post_ok([alert(L, {"ann": "v2"}, starts=tl.ts(3), ends=tl.ts(4.5))])
    tl.at(4.8)
    srv.post_ok([alert(L, {"ann": "v3"}, starts=tl.ts(2.9), ends=tl.ts(4.8))])
    srv.post_ok([alert(L, {"ann": "v3"}, starts=tl.ts(2.9), ends=tl.ts(4.1))])
    tl.at(5.5)
    srv.post_ok([alert(L, starts=tl.ts(5.5), ends=tl.ts(105.5))])
    tl.at(6.8)

    def P(**kw):
        return wh_payload("default", K("test"), L, [wh_alert_t(L, **kw)])
    check_sequence(got_of(sink, tl), [
        (2, 2.5, P(starts=tl.ts(1))),
        (3, 3.5, P(annotations={"ann": "v1"}, starts=tl.ts(1))),
        (4, 4.5, P(annotations={"ann": "v2"}, starts=tl.ts(1))),
        (5, 5.5, P(annotations={"ann": "v3"}, starts=tl.ts(1), ends=tl.ts(4.8))),
        (6, 6.5, P(starts=tl.ts(5.5))),
    ])


@suite.case("Repeat")
def repeat(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1ms
""", ["url: '%s'" % sink.url()]))
    tl = Timeline()
    L = {"alertname": "test"}
    tl.at(1)
    srv.post_ok([alert(L, starts=tl.ts(1))])
    tl.at(3.5)
    srv.post_ok([alert(L, starts=tl.ts(1), ends=tl.ts(3))])
    tl.at(5.5)
    firing = wh_payload("default", K("test"), L, [wh_alert_t(L, starts=tl.ts(1))])
    check_sequence(got_of(sink, tl), [
        (2, 2.5, firing),
        (3, 3.5, firing),
        (4, 4.5, wh_payload("default", K("test"), L, [wh_alert_t(L, starts=tl.ts(1), ends=tl.ts(3))])),
    ])


@suite.case("Retry")
def retry(ctx):
    """Two webhooks, the second answers 500 until 4.5s. The first gets its notification
    at 2s and nothing more until repeat_interval (3s) has elapsed; the failing one gets
    retries within the same flush and succeeds after 4.5s, exactly once."""
    holder = {}

    def failing(path, idx):
        return 500 if holder["tl"].now() < 4.5 else 200
    sink1 = ctx.sink()
    sink2 = ctx.sink(status_fn=failing)
    holder["tl"] = Timeline()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 3s
""", ["url: '%s'" % sink1.url(), "url: '%s'" % sink2.url()]))
    tl = Timeline()
    holder["tl"] = tl
    L = {"alertname": "test1"}
    tl.at(1)
    srv.post_ok([alert(L, starts=tl.ts(1))])
    tl.at(7.3)
    exp = wh_payload("default", K("test1"), L, [wh_alert_t(L, starts=tl.ts(1))])
    got1 = got_of(sink1, tl)
    # The second one depends on when the retried flush ends (backoff with jitter):
    # the first tick at which 3s have elapsed since 2s, 5s at the earliest.
    check_sequence(got1, [(2, 2.5, exp), (5, 6.5, exp)], "first webhook")
    got2 = got_of(sink2, tl)
    fails = [(t, p) for t, p in got2 if t < 4.5]
    oks = [(t, p) for t, p in got2 if t >= 4.5]
    check(len(fails) >= 2, "failing webhook: expected retries before 4.5s, got %d attempts" % len(fails))
    check(fails[0][0] >= 1.8 and fails[0][0] <= 3.3, "first attempt at %.2fs" % fails[0][0])
    for t, p in fails:
        eq(p, exp, "failed attempt at %.2fs" % t)
    check_sequence(oks, [(4.5, 6.5, exp)], "failing webhook after 4.5s")


@suite.case("WebhookTimeout", only="alertrouter")
def webhook_timeout(ctx):
    """Newest's webhook `timeout` (alertrouter supports it; Alertmanager 0.25 rejects
    the field, so this runs on alertrouter only, with upstream's newest expectations):
    requests before 3s take 1s and hit the 500ms timeout, retries deliver at 3-4s."""
    holder = {}

    def slow(path, idx):
        return 1.0 if holder["tl"].now() < 3 else 0

    def status(path, idx):
        return 500 if holder["tl"].now() < 3 else 200
    holder["tl"] = Timeline()
    sink = ctx.sink(status_fn=status, delay_fn=slow)
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1m
""", ["url: '%s'\n    timeout: 500ms" % sink.url()]))
    tl = Timeline()
    holder["tl"] = tl
    L = {"alertname": "test1"}
    tl.at(1)
    srv.post_ok([alert(L, starts=tl.ts(1))])
    tl.at(5)
    got = got_of(sink, tl)
    early = [(t, p) for t, p in got if t < 3]
    check(len(early) >= 1 and 1.8 <= early[0][0] <= 2.8,
          "first attempt (timed out) at 2s: got %s" % [round(t, 2) for t, _p in early])
    check_sequence([(t, p) for t, p in got if t >= 3], [
        (3, 4, wh_payload("default", K("test1"), L, [wh_alert_t(L, starts=tl.ts(1))]))],
        "deliveries from 3s on")


@suite.case("Batching")
def batching(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: []
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 4900ms
""", ["url: '%s'" % sink.url()]))
    tl = Timeline()
    tl.at(1.1)
    srv.post_ok([alert({"alertname": "test1"}, starts=tl.ts(1))])
    tl.at(1.7)
    srv.post_ok([alert({"alertname": "test5"}, starts=tl.ts(1))])
    tl.at(3.6)        # upstream 3.3: clear of a late 3.1s tick
    srv.post_ok([alert({"alertname": "test2"}, starts=tl.ts(1.5)),
                 alert({"alertname": "test3"}, starts=tl.ts(1.5)),
                 alert({"alertname": "test4"}, starts=tl.ts(1.6))])
    tl.at(9.8)

    def W(n, s):
        return wh_alert_t({"alertname": n}, starts=tl.ts(s))
    two = wh_payload("default", "{}:{}", {}, [W("test1", 1), W("test5", 1)])
    five = wh_payload("default", "{}:{}", {}, [W("test1", 1), W("test5", 1), W("test2", 1.5),
                                               W("test3", 1.5), W("test4", 1.6)])
    check_sequence(got_of(sink, tl), [(2, 2.5, two), (4, 4.5, five), (9.0, 9.5, five)])


@suite.case("Resolved")
@suite.case("Resolved-again")
def resolved(ctx):
    """resolve_timeout 10s: alerts posted without end resolve at 11s and go out at the
    12s tick with that end time (registered twice, as upstream runs it repeatedly)."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
""", ["url: '%s'" % sink.url()], "global:\n  resolve_timeout: 10s\n"))
    tl = Timeline()
    labels = [{"alertname": "test", "lbl": v} for v in ("v1", "v2", "v3")]
    tl.at(1)
    srv.post_ok([alert(l) for l in labels])
    tl.at(13.3)
    check_sequence(got_of(sink, tl), [
        (2, 2.5, wh_payload("default", K("test"), {"alertname": "test"},
                            [wh_alert_t(l, starts=tl.approx(1)) for l in labels])),
        (12, 13, wh_payload("default", K("test"), {"alertname": "test"},
                            [wh_alert_t(l, starts=tl.approx(1), ends=tl.approx(11)) for l in labels])),
    ])


@suite.case("ResolvedFilter")
def resolved_filter(ctx):
    """Resolved alerts are recorded as notified even for send_resolved: false, which
    gets only firing alerts and nothing when only resolutions changed."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
""", ["url: '%s'\n    send_resolved: true" % sink.url("/1"),
      "url: '%s'\n    send_resolved: false" % sink.url("/2")], "global:\n  resolve_timeout: 10s\n"))
    tl = Timeline()
    v = {n: {"alertname": "test", "lbl": n} for n in ("v1", "v2", "v3")}
    tl.at(1)
    srv.post_ok([alert(v["v1"]), alert(v["v2"])])
    tl.at(3)
    srv.post_ok([alert(v["v1"], starts=tl.ts(1), ends=tl.ts(4)), alert(v["v3"])])
    tl.at(8)
    srv.post_ok([alert(v["v3"], starts=tl.ts(3))])
    tl.at(13.3)

    def P(*alerts):
        return wh_payload("default", K("test"), {"alertname": "test"}, list(alerts))
    v1f = wh_alert_t(v["v1"], starts=tl.approx(1))
    v2f = wh_alert_t(v["v2"], starts=tl.approx(1))
    v3f = wh_alert_t(v["v3"], starts=tl.approx(3))
    check_sequence(got_of(sink, tl, "/1"), [
        (2, 2.5, P(v1f, v2f)),
        (7, 7.5, P(wh_alert_t(v["v1"], starts=tl.approx(1), ends=tl.ts(4)), v2f, v3f)),
        # v2 resolved by the timeout
        (12, 12.5, P(wh_alert_t(v["v2"], starts=tl.approx(1), ends=tl.approx(11)), v3f)),
    ], "send_resolved: true")
    check_sequence(got_of(sink, tl, "/2"), [
        (2, 2.5, P(v1f, v2f)),
        (7, 7.5, P(v2f, v3f)),
    ], "send_resolved: false")


@suite.case("timers")
def timers(ctx):
    """group_wait counts from the group's creation (not startsAt); a later alert waits
    for the next group_interval tick; an unchanged group repeats at the first tick where
    repeat_interval has elapsed (rounded up to the group_interval grid)."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 1500ms
  group_interval: 2s
  repeat_interval: 3s
""", ["url: '%s'" % sink.url()]))
    tl = Timeline()
    a = {"alertname": "T", "i": "a"}
    b = {"alertname": "T", "i": "b"}
    tl.at(0.5)
    srv.post_ok([alert(a, starts=tl.ts(0.3))])
    tl.at(2.5)
    srv.post_ok([alert(b, starts=tl.ts(-0.5))])
    tl.at(9.6)
    one = wh_payload("default", K("T"), {"alertname": "T"}, [wh_alert_t(a, starts=tl.ts(0.3))])
    both = wh_payload("default", K("T"), {"alertname": "T"},
                      [wh_alert_t(a, starts=tl.ts(0.3)), wh_alert_t(b, starts=tl.ts(-0.5))])
    check_sequence(got_of(sink, tl), [(2.0, 2.1, one), (4.0, 4.1, both), (8.0, 8.1, both)])


@suite.case("old-alert-flushes-immediately")
def old_alert(ctx):
    """An alert whose startsAt + group_wait is already past flushes its new group at
    once; 0.25 makes the same check for every alert added before the first flush."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 4s
  group_interval: 20s
  repeat_interval: 1h
""", ["url: '%s'" % sink.url()]))
    tl = Timeline()
    old = {"alertname": "old"}
    a = {"alertname": "mixed", "i": "a"}
    b = {"alertname": "mixed", "i": "b"}
    tl.at(0.5)
    srv.post_ok([alert(old, starts=tl.ts(-3600)), alert(a, starts=tl.ts(0.5))])
    tl.at(1.5)
    srv.post_ok([alert(b, starts=tl.ts(-60))])
    tl.at(6)
    check_sequence(got_of(sink, tl), [
        (0.5, 0.6, wh_payload("default", K("old"), {"alertname": "old"},
                              [wh_alert_t(old, starts=tl.ts(-3600))])),
        (1.5, 1.6, wh_payload("default", K("mixed"), {"alertname": "mixed"},
                              [wh_alert_t(a, starts=tl.ts(0.5)), wh_alert_t(b, starts=tl.ts(-60))])),
    ])


@suite.case("max-alerts")
def max_alerts(ctx):
    """max_alerts keeps the first N of the sorted alerts, counts the rest in
    truncatedAlerts; common labels/annotations come from the kept ones only."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1h
  repeat_interval: 1h
""", ["url: '%s'\n    max_alerts: 2" % sink.url("/max2"),
      "url: '%s'\n    max_alerts: 0" % sink.url("/all")]))
    tl = Timeline()
    labels = [
        {"alertname": "M", "sev": "x"},
        {"alertname": "M", "instance": "h2", "sev": "x"},
        {"alertname": "M", "job": "b", "sev": "y"},
        {"alertname": "M", "job": "a", "instance": "h9", "sev": "y"},
        {"alertname": "M", "job": "a", "instance": "h1", "sev": "y"},
    ]
    st = tl.ts(0)     # not old: one flush after group_wait with all five
    srv.post_ok([alert(l, {"s": "same", "d": l.get("instance", "-")}, starts=st) for l in labels])
    tl.at(2.5)
    alerts = [wh_alert_t(l, {"s": "same", "d": l.get("instance", "-")}, starts=st) for l in labels]
    full = wh_payload("default", K("M"), {"alertname": "M"}, alerts)
    eq([a["labels"] for a in full["alerts"]], [labels[4], labels[3], labels[2], labels[1], labels[0]],
       "sort order (job, instance, label set)")
    kept = wh_payload("default", K("M"), {"alertname": "M"}, full["alerts"][:2], truncated=3, sort=False)
    eq(kept["commonLabels"], {"alertname": "M", "job": "a", "sev": "y"}, "common labels of kept alerts")
    check_sequence(got_of(sink, tl, "/all"), [(0.5, 0.6, full)], "max_alerts: 0")
    check_sequence(got_of(sink, tl, "/max2"), [(0.5, 0.6, kept)], "max_alerts: 2")


@suite.case("send-resolved-false-refire")
def send_resolved_refire(ctx):
    """send_resolved: false gets nothing when the group resolves, but the log forgets
    the firing set (dedup row 4), so the same alert firing again is sent again."""
    sink = ctx.sink()
    srv = ctx.server(conf("""\
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
""", ["url: '%s'" % sink.url("/1"), "url: '%s'\n    send_resolved: false" % sink.url("/2")]))
    tl = Timeline()
    L = {"alertname": "R"}
    tl.at(0.2)
    srv.post_ok([alert(L, starts=tl.ts(0.2))])
    tl.at(2.2)
    srv.post_ok([alert(L, starts=tl.ts(0.2), ends=tl.ts(2.0))])
    tl.at(3.2)
    srv.post_ok([alert(L, starts=tl.ts(3.2))])
    tl.at(4.6)
    f1 = wh_payload("default", K("R"), L, [wh_alert_t(L, starts=tl.ts(0.2))])
    r1 = wh_payload("default", K("R"), L, [wh_alert_t(L, starts=tl.ts(0.2), ends=tl.ts(2.0))])
    f2 = wh_payload("default", K("R"), L, [wh_alert_t(L, starts=tl.ts(3.2))])
    check_sequence(got_of(sink, tl, "/1"), [(0.7, 0.8, f1), (2.7, 2.8, r1), (3.7, 3.8, f2)],
                   "send_resolved: true")
    check_sequence(got_of(sink, tl, "/2"), [(0.7, 0.8, f1), (3.7, 3.8, f2)], "send_resolved: false")


if __name__ == "__main__":
    suite.main(jobs=6)
