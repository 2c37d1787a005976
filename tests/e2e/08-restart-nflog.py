#!/usr/bin/env python3
"""Restarts and the notification log (COMPAT 5.7, 5.9; alertrouter only: Alertmanager
keeps alerts in memory, alertrouter persists alerts and the log in SQLite). After a
flush, kill -9 and restart send no duplicate; a group still inside its group_wait at
kill time is delivered after the restart, once; a resolution after a restart is sent;
repeat_interval keeps counting from the send before the restart. Sibling routes whose
groups share a group key keep their own groups, log entries and deliveries across a
restart. kill -9 in the middle of a fan-out: every group is notified, and a group is notified
twice only if its first send was already on the wire at the kill (COMPAT 5.9)."""

from harness import (Suite, Timeline, alert, check, check_sequence, deliveries, eq,
                     norm_payload, poll, wh_alert_t, wh_payload)

suite = Suite("08-restart-nflog")


def conf(sink, gw, gi, ri):
    return """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
- name: default
  webhook_configs:
  - url: '%s'
""" % (gw, gi, ri, sink.url())


def got_of(sink, tl):
    return [(t, norm_payload(p)) for t, p in deliveries(sink, tl)]


K = '{}:{alertname="A"}'
L = {"alertname": "A"}


def flushed_then_restart(ctx, kill):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, "1s", "2s", "1h"))
    tl = Timeline()
    srv.post_ok([alert(L, starts=tl.ts(0))])
    sink.wait_for(1, timeout=5)
    tl.at(tl.now() + 0.5)          # the flush (and its log entry) is complete
    t_restart = tl.now()
    srv.restart(kill=kill)
    # restored group: old alert -> immediate flush, caught by the log; then two ticks
    tl.at(tl.now() + 4.5)
    b = {"alertname": "A", "i": "b"}
    t_b = tl.now()
    srv.post_ok([alert(b, starts=tl.ts(t_b))])
    tl.at(t_b + 3.0)
    one = wh_payload("default", K, L, [wh_alert_t(L, starts=tl.ts(0))])
    both = wh_payload("default", K, L, [wh_alert_t(L, starts=tl.ts(0)), wh_alert_t(b, starts=tl.ts(t_b))])
    check_sequence(got_of(sink, tl), [(1, 1.1, one), (t_b, t_b + 2.1, both)],
                   "notifications (restart at %.2fs)" % t_restart)


@suite.case("flushed-then-kill9", only="alertrouter")
def flushed_kill9(ctx):
    flushed_then_restart(ctx, True)


@suite.case("flushed-then-sigterm", only="alertrouter")
def flushed_sigterm(ctx):
    flushed_then_restart(ctx, False)


@suite.case("pending-group-wait-at-kill9", only="alertrouter")
def pending_group_wait(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, "3s", "2s", "1h"))
    tl = Timeline()
    srv.post_ok([alert(L, starts=tl.ts(0))])
    tl.at(1)
    eq(len(deliveries(sink)), 0, "notifications before group_wait")
    srv.restart(kill=True)
    t_up = tl.now()
    tl.at(t_up + 6.0)
    check_sequence(got_of(sink, tl), [(t_up, t_up + 3.0, wh_payload("default", K, L, [wh_alert_t(L, starts=tl.ts(0))]))],
                   "notifications (restarted at %.2fs)" % t_up)


@suite.case("resolved-after-kill9", only="alertrouter")
def resolved_after_restart(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, "500ms", "1s", "1h"))
    tl = Timeline()
    srv.post_ok([alert(L, starts=tl.ts(0))])
    sink.wait_for(1, timeout=5)
    tl.at(1.5)
    srv.restart(kill=True)
    t_r = tl.now()
    srv.post_ok([alert(L, starts=tl.ts(0), ends=tl.ts(t_r))])
    tl.at(t_r + 3.0)
    check_sequence(got_of(sink, tl), [
        (0.5, 0.6, wh_payload("default", K, L, [wh_alert_t(L, starts=tl.ts(0))])),
        (t_r, t_r + 1.5, wh_payload("default", K, L, [wh_alert_t(L, starts=tl.ts(0), ends=tl.ts(t_r))])),
    ])


@suite.case("repeat-interval-across-kill9", only="alertrouter")
def repeat_across_restart(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, "500ms", "1s", "4s"))
    tl = Timeline()
    srv.post_ok([alert(L, starts=tl.ts(0))])
    sink.wait_for(1, timeout=5)
    tl.at(1.5)
    srv.restart(kill=True)
    tl.at(6.4)
    one = wh_payload("default", K, L, [wh_alert_t(L, starts=tl.ts(0))])
    # the repeat is due 4s after the first send (0.5s), at the first tick after that
    check_sequence(got_of(sink, tl), [(0.5, 0.6, one), (4.5, 5.6, one)])


SAME_KEY = """\
route:
  receiver: chat
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
  - receiver: chat
    matchers: ['severity="critical"']
    continue: true
  - receiver: email
    matchers: ['severity="critical"']
    continue: true
receivers:
- name: chat
  webhook_configs:
  - url: '%s'
- name: email
  webhook_configs:
  - url: '%s'
"""


@suite.case("same-key-sibling-routes-across-kill9", only="alertrouter")
def same_key_across_restart(ctx):
    # COMPAT 5.2: both routes print {}/{severity="critical"}; each group is its own
    sink = ctx.sink()
    srv = ctx.server(SAME_KEY % (sink.url("/chat"), sink.url("/email")))
    tl = Timeline()
    lab = {"alertname": "A", "severity": "critical"}
    key = '{}/{severity="critical"}:{alertname="A"}'
    srv.post_ok([alert(lab, starts=tl.ts(0))])
    sink.wait_for(2, timeout=5)
    tl.at(1.5)
    dl = srv.get_json("/api/x/deliveries", {"state": "delivered"})
    eq(sorted((d["receiver"], d["groupKey"]) for d in dl),
       [("chat", key), ("email", key)], "deliveries in the outbox")
    srv.restart(kill=True)
    t_r = tl.now()
    tl.at(t_r + 2.5)  # rebuilt groups flush at once; the log says nothing is new
    t_end = tl.now()
    srv.post_ok([alert(lab, starts=tl.ts(0), ends=tl.ts(t_end))])
    tl.at(t_end + 2.5)
    for path, recv in (("/chat", "chat"), ("/email", "email")):
        got = [(t, norm_payload(p)) for t, p in deliveries(sink, tl, path=path)]
        check_sequence(got, [
            (0.5, 0.6, wh_payload(recv, key, {"alertname": "A"},
                                  [wh_alert_t(lab, starts=tl.ts(0))])),
            (t_end, t_end + 1.5, wh_payload(recv, key, {"alertname": "A"},
                                            [wh_alert_t(lab, starts=tl.ts(0), ends=tl.ts(t_end))])),
        ], "notifications to " + recv)


@suite.case("kill9-mid-fanout-sends-each-group-once", only="alertrouter")
def kill9_mid_fanout(ctx):
    n = 400
    slow = {"on": True}
    # each send takes 0.3 s while "slow": at the kill some groups are delivered, some on
    # the wire, most still waiting in the outbox
    sink = ctx.sink(delay_fn=lambda path, idx: 0.3 if slow["on"] else 0)
    srv = ctx.server(conf(sink, "200ms", "1s", "1h"))
    tl = Timeline()
    srv.post_ok([alert({"alertname": "G%03d" % i}, starts=tl.ts(0)) for i in range(n)])
    sink.wait_for(100, timeout=10)
    tl.at(tl.now() + 0.45)
    srv.kill9()
    tl.at(tl.now() + 0.5)  # requests written before the kill reach the sink's handlers
    with sink.cond:
        on_wire = {p["groupKey"] for (_t, _path, _b, p) in sink.received}
    slow["on"] = False
    srv.start()
    want = {'{}:{alertname="G%03d"}' % i for i in range(n)}

    def all_notified():
        with sink.cond:
            keys = {p["groupKey"] for (_t, _path, _b, p) in sink.received}
        return want <= keys or None
    poll(all_notified, timeout=30, what="every group notified after the restart")
    tl.at(tl.now() + 2.5)  # two group_interval ticks: nothing more may come
    counts = {}
    with sink.cond:
        for (_t, _path, _b, p) in sink.received:
            counts[p["groupKey"]] = counts.get(p["groupKey"], 0) + 1
    twice = sorted(k for k, c in counts.items() if c > 1)
    ctx.note("%d groups, %d on the wire at the kill, %d notified twice"
             % (n, len(on_wire), len(twice)))
    eq(set(counts), want, "groups notified")
    eq([k for k in twice if counts[k] > 2], [], "groups notified three times or more")
    eq([k for k in twice if k not in on_wire], [],
       "groups notified twice although not on the wire at the kill")


if __name__ == "__main__":
    suite.main(jobs=5)
