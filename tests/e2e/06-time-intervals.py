#!/usr/bin/env python3
"""Time intervals on routes (COMPAT 7, 5.6) proven on Alertmanager 0.25:
mute_time_intervals / active_time_intervals covering "now" or not (times, location,
weekdays, negative days_of_month, months, years), combinations, intervals not inherited
by child routes, the groups API of a muted group, and a muted flush not being logged
(after a reload that lifts the mute the alert is sent as a first notification).

Intervals are built from the current time (two adjacent hours, so a run across an hour
boundary still holds)."""

import calendar
import datetime
import time
import zoneinfo

from harness import (Fail, Suite, Timeline, alert, check, check_sequence, deliveries, eq,
                     norm_payload, wh_alert_t, wh_payload)

suite = Suite("06-time-intervals")

DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]


def hour_ranges(hours):
    """times entries covering the listed hours (each [h:00, h+1:00))."""
    return "\n".join("    - {start_time: '%02d:00', end_time: '%02d:00'}" % (h, h + 1) for h in sorted(hours))


def intervals_yaml():
    now = datetime.datetime.now(datetime.timezone.utc)
    tokyo = now.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    th = tokyo.hour
    days_in_month = calendar.monthrange(now.year, now.month)[1]
    neg_today = -(days_in_month - now.day + 1)
    neg_end = min(neg_today + 1, -1)
    return """\
time_intervals:
- name: always
  time_intervals:
  - times:
    - {start_time: '00:00', end_time: '24:00'}
- name: never
  time_intervals:
  - years: ['2000:2001']
- name: tokyo-now
  time_intervals:
  - location: Asia/Tokyo
    times:
%s
- name: tokyo-not
  time_intervals:
  - location: Asia/Tokyo
    times:
%s
- name: negday-now
  time_intervals:
  - days_of_month: ['%d:%d']
    months: ['%s']
    years: ['%d']
- name: weekday-not
  time_intervals:
  - weekdays: ['%s']
""" % (hour_ranges({th, (th + 1) % 24}), hour_ranges({(th + 12) % 24}),
       neg_today, neg_end, MONTHS[now.month - 1], now.year,
       DAYS[(now.weekday() + 3) % 7])


# (route name, mute list, active list, sent?)
ROUTES = [
    ("mute-always", ["always"], [], False),
    ("mute-never", ["never"], [], True),
    ("active-always", [], ["always"], True),
    ("active-never", [], ["never"], False),
    ("active-tokyo-now", [], ["tokyo-now"], True),
    ("mute-tokyo-now", ["tokyo-now"], [], False),
    ("mute-tokyo-not", ["tokyo-not"], [], True),
    ("mute-negday-now", ["negday-now"], [], False),
    ("active-weekday-not", [], ["weekday-not"], False),
    ("mute-weekday-not", ["weekday-not"], [], True),
    ("both-allow", ["never"], ["always"], True),
    ("both-mute", ["always"], ["always"], False),
    ("mute-any", ["never", "always"], [], False),
    ("active-any", [], ["never", "tokyo-not", "always"], True),
]


def route_yaml(name, mute, active):
    s = "  - receiver: default\n    matchers: [alertname=\"%s\"]\n" % name
    if mute:
        s += "    mute_time_intervals: [%s]\n" % ", ".join(mute)
    if active:
        s += "    active_time_intervals: [%s]\n" % ", ".join(active)
    return s


HEAD = """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 300ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
"""


def receivers(sink):
    return "receivers:\n- name: default\n  webhook_configs:\n  - url: '%s'\n" % sink.url()


@suite.case("mute-and-active-intervals")
def mute_active(ctx):
    sink = ctx.sink()
    cfg = HEAD + "".join(route_yaml(*r[:3]) for r in ROUTES) + """\
  - receiver: default
    matchers: [alertname=~"inh.*"]
    mute_time_intervals: [always]
    routes:
    - matchers: [alertname="inh-child"]
""" + receivers(sink) + intervals_yaml()
    srv = ctx.server(cfg)
    tl = Timeline()
    names = [r[0] for r in ROUTES] + ["inh-child", "inh-parent"]
    srv.post_ok([alert({"alertname": n}, starts=tl.ts(0)) for n in names])
    sent = sorted([r[0] for r in ROUTES if r[3]] + ["inh-child"])
    sink.wait_for(len(sent), timeout=10)
    # muted groups get two more ticks to show nothing goes out
    tl.at(tl.now() + 2.5)
    got = deliveries(sink, tl)
    eq(sorted(p["groupLabels"]["alertname"] for _t, p in got), sent, "groups notified")
    for t, p in got:
        n = p["groupLabels"]["alertname"]
        key = ('{}/{alertname="%s"}:{alertname="%s"}' % (n, n) if not n.startswith("inh") else
               '{}/{alertname=~"inh.*"}/{alertname="inh-child"}:{alertname="inh-child"}')
        eq(norm_payload(p), wh_payload("default", key, {"alertname": n},
                                       [wh_alert_t({"alertname": n}, starts=tl.ts(0))]), "payload of %s" % n)
    # 0.25's groups API: muted groups are listed with active alerts
    groups = srv.get_json("/api/v2/alerts/groups")
    eq(sorted(g["labels"]["alertname"] for g in groups), sorted(names), "groups listed")
    for g in groups:
        for a in g["alerts"]:
            eq(a["status"], {"inhibitedBy": [], "silencedBy": [], "state": "active"},
               "groups API status of %s" % a["labels"]["alertname"])


@suite.case("muted-flush-not-logged")
def muted_not_logged(ctx):
    """A muted flush leaves no notification-log entry: once the mute is lifted (by a
    reload, which keeps the log) the alert goes out as a first notification."""
    sink = ctx.sink()
    muted = HEAD + route_yaml("M", ["always"], []) + receivers(sink) + intervals_yaml()
    srv = ctx.server(muted)
    tl = Timeline()
    a = {"alertname": "M"}
    srv.post_ok([alert(a, starts=tl.ts(0))])
    tl.at(2.6)
    eq(len(deliveries(sink)), 0, "notifications while muted")
    with open(srv.config_path, "w") as f:
        f.write(HEAD + route_yaml("M", ["never"], []) + receivers(sink) + intervals_yaml())
    r = srv.request("POST", "/-/reload")
    eq(r.status, 200, "reload")
    tl.at(4.5)
    check_sequence([(t, norm_payload(p)) for t, p in deliveries(sink, tl)], [
        (2.6, 2.8, wh_payload("default", '{}/{alertname="M"}:{alertname="M"}', {"alertname": "M"},
                              [wh_alert_t(a, starts=tl.ts(0))]))])


if __name__ == "__main__":
    suite.main(jobs=4)
