#!/usr/bin/env python3
"""Silences in the notification pipeline (COMPAT 5.6, 6.2) proven on Alertmanager 0.25:
upstream's Silencing and SilenceDelete scenarios with full webhook payloads, silencedBy
in the API (pending silences do not count), and a group silenced when it resolves never
sending a resolved notification."""

from harness import (Suite, Timeline, alert, check_sequence, deliveries, eq, fingerprint,
                     norm_payload, wh_alert_t, wh_payload, Fail, poll)

suite = Suite("05-silencing-pipeline")


def silence_body(tl, start, end, matchers):
    return {"matchers": [{"name": n, "value": v, "isRegex": r} for n, v, r in matchers],
            "startsAt": tl.ts(start), "endsAt": tl.ts(end), "createdBy": "e2e", "comment": "test"}


def set_silence(srv, body):
    r = srv.post_json("/api/v2/silences", body)
    if r.status != 200:
        raise Fail("POST silence: %d %s" % (r.status, r.text()[:300]))
    return r.json()["silenceID"]


def del_silence(srv, sid):
    r = srv.request("DELETE", "/api/v2/silence/" + sid)
    if r.status != 200:
        raise Fail("DELETE silence: %d %s" % (r.status, r.text()[:300]))


def conf(sink, route="  group_by: []\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1ms\n"):
    return ("route:\n  receiver: default\n" + route +
            "receivers:\n- name: default\n  webhook_configs:\n  - url: '%s'\n" % sink.url())


def got_of(sink, tl, upto):
    return [(t, norm_payload(p)) for t, p in deliveries(sink, tl) if t <= upto]


@suite.case("Silencing")
def silencing(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink))
    tl = Timeline()
    t1, t2 = {"alertname": "test1"}, {"alertname": "test2"}
    tl.at(1)
    srv.post_ok([alert(t1, starts=tl.ts(1)), alert(t2, starts=tl.ts(1))])
    # A silence for the first alert, from 2.5s to 4.5s.
    tl.at(2.3)
    set_silence(srv, silence_body(tl, 2.5, 4.5, [("alertname", "test1", False)]))
    tl.at(5.7)
    W1, W2 = wh_alert_t(t1, starts=tl.ts(1)), wh_alert_t(t2, starts=tl.ts(1))
    both = wh_payload("default", "{}:{}", {}, [W1, W2])
    only2 = wh_payload("default", "{}:{}", {}, [W2])
    check_sequence(got_of(sink, tl, 5.7), [(2, 2.5, both), (3, 3.5, only2), (4, 4.5, only2),
                                           (5, 5.5, both)])


@suite.case("SilenceDelete")
def silence_delete(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink))
    tl = Timeline()
    t1, t2 = {"alertname": "test1"}, {"alertname": "test2"}
    tl.at(1)
    srv.post_ok([alert(t1, starts=tl.ts(1)), alert(t2, starts=tl.ts(1))])
    # Silence everything for a long time, delete it after two ticks.
    tl.at(1.3)
    sid = set_silence(srv, silence_body(tl, 1.5, 100, [("alertname", ".+", True)]))
    tl.at(3.5)
    del_silence(srv, sid)
    tl.at(4.7)
    check_sequence(got_of(sink, tl, 4.7), [
        (3.5, 4.5, wh_payload("default", "{}:{}", {}, [wh_alert_t(t1, starts=tl.ts(1)),
                                                       wh_alert_t(t2, starts=tl.ts(1))]))])


@suite.case("silencedBy-in-api")
def silenced_by_api(ctx):
    sink = ctx.sink()
    srv = ctx.server(conf(sink, route="  group_by: [alertname]\n  group_wait: 1s\n"
                                      "  group_interval: 1h\n  repeat_interval: 1h\n"))
    tl = Timeline()
    a = {"alertname": "A", "sev": "warning"}
    b = {"alertname": "A", "sev": "critical"}
    c = {"alertname": "C"}
    # not old (startsAt + group_wait ahead): the first flush comes after the silences
    srv.post_ok([alert(l, starts=tl.ts(0)) for l in (a, b, c)])
    active = set_silence(srv, silence_body(tl, -1, 60, [("sev", "warn.*", True)]))
    set_silence(srv, silence_body(tl, 30, 60, [("alertname", "C", False)]))   # pending
    al = srv.alerts_by_fp()
    eq(al[fingerprint(a)]["status"], {"inhibitedBy": [], "silencedBy": [active], "state": "suppressed"},
       "silenced alert status")
    for l in (b, c):
        eq(al[fingerprint(l)]["status"], {"inhibitedBy": [], "silencedBy": [], "state": "active"},
           "status of %s" % l)
    eq([x["fingerprint"] for x in srv.alerts({"silenced": "false"})],
       sorted([fingerprint(b), fingerprint(c)]), "silenced=false")
    sink.wait_for(2)
    tl.at(tl.now() + 1.0)
    got = {p["groupKey"]: norm_payload(p) for _t, p in deliveries(sink)}
    eq(len(deliveries(sink)), 2, "notifications")
    eq(got['{}:{alertname="A"}'], wh_payload("default", '{}:{alertname="A"}', {"alertname": "A"},
                                             [wh_alert_t(b, starts=tl.ts(0))]), "group A (silenced one left out)")
    eq(got['{}:{alertname="C"}'], wh_payload("default", '{}:{alertname="C"}', {"alertname": "C"},
                                             [wh_alert_t(c, starts=tl.ts(0))]), "group C (pending silence)")


@suite.case("silenced-when-resolving")
def silenced_when_resolving(ctx):
    """Silenced alerts are removed from resolved notifications too: a group entirely
    silenced when it resolves never sends a resolved message."""
    sink = ctx.sink()
    srv = ctx.server(conf(sink, route="  group_by: [alertname]\n  group_wait: 500ms\n"
                                      "  group_interval: 1s\n  repeat_interval: 1h\n"))
    tl = Timeline()
    x = {"alertname": "X", "i": "1"}
    y = {"alertname": "X", "i": "2"}
    srv.post_ok([alert(x, starts=tl.ts(0)), alert(y, starts=tl.ts(0))])
    tl.at(1.0)
    set_silence(srv, silence_body(tl, 0.9, 60, [("alertname", "X", False)]))
    tl.at(1.2)
    srv.post_ok([alert(x, starts=tl.ts(0), ends=tl.ts(1.2)), alert(y, starts=tl.ts(0), ends=tl.ts(1.2))])
    tl.at(4.0)
    check_sequence(got_of(sink, tl, 4.0), [
        (0.5, 0.6, wh_payload("default", '{}:{alertname="X"}', {"alertname": "X"},
                              [wh_alert_t(x, starts=tl.ts(0)), wh_alert_t(y, starts=tl.ts(0))]))])


API_CONF = """\
route:
  receiver: default
  group_by: []
  group_wait: 1s
  group_interval: 10m
  repeat_interval: 1h
inhibit_rules:
  - source_match:
      severity: 'critical'
    target_match:
      severity: 'warning'
    equal: ['alertname']
receivers:
- name: default
  webhook_configs:
  - url: '%s'
"""


@suite.case("AlertGetReturnsCurrentAlertStatus")
def alert_get_current_status(ctx):
    """The API shows the current status at read time: active, then silenced, then also
    inhibited by a new critical alert; after the silence is deleted the critical one is
    active and the warning one stays suppressed (inhibited)."""
    sink = ctx.sink()
    srv = ctx.server(API_CONF % sink.url())
    tl = Timeline()
    warn = {"alertname": "test1", "severity": "warning"}
    crit = {"alertname": "test1", "severity": "critical"}
    fw, fc = fingerprint(warn), fingerprint(crit)
    srv.post_ok([alert(warn, starts=tl.ts(0), ends=tl.ts(300))])

    def status():
        return {a["fingerprint"]: a["status"] for a in srv.alerts()}
    eq(status(), {fw: {"inhibitedBy": [], "silencedBy": [], "state": "active"}}, "before silence")
    # in the group_interval period, when no flush updates the status
    sink.wait_for(1, timeout=5)
    sid = set_silence(srv, silence_body(tl, 0, 300, [("alertname", "test1", False)]))
    eq(status(), {fw: {"inhibitedBy": [], "silencedBy": [sid], "state": "suppressed"}}, "silenced")
    srv.post_ok([alert(crit, starts=tl.ts(0), ends=tl.ts(300))])
    want = {fw: {"inhibitedBy": [fc], "silencedBy": [sid], "state": "suppressed"},
            fc: {"inhibitedBy": [], "silencedBy": [sid], "state": "suppressed"}}
    if ctx.is_am:
        # Alertmanager's inhibitor learns of the new source alert through an asynchronous
        # subscription, so a read right after the POST may not show the inhibition yet.
        poll(lambda: status() == want, timeout=3, what="inhibition to show in the API")
    # alertrouter marks the inhibition before the POST is answered: checked at once.
    eq(status(), want, "silenced and inhibited")
    del_silence(srv, sid)
    eq(status(), {fw: {"inhibitedBy": [fc], "silencedBy": [], "state": "suppressed"},
                  fc: {"inhibitedBy": [], "silencedBy": [], "state": "active"}}, "after deleting the silence")


@suite.case("FilterAlertRequest")
def filter_alert_request(ctx):
    sink = ctx.sink()
    srv = ctx.server(API_CONF % sink.url())
    tl = Timeline()
    a1 = {"alertname": "test1", "severity": "warning"}
    a2 = {"system": "foo", "severity": "critical"}
    srv.post_ok([alert(a1, starts=tl.ts(0), ends=tl.ts(300)), alert(a2, starts=tl.ts(0), ends=tl.ts(300))])
    got = srv.alerts([("filter", "alertname=test1"), ("filter", "severity=warning")])
    eq([(a["fingerprint"], a["status"]["state"]) for a in got], [(fingerprint(a1), "active")],
       "filtered alerts")


if __name__ == "__main__":
    suite.main(jobs=4)
