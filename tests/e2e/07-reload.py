#!/usr/bin/env python3
"""Configuration reload (COMPAT 5.9) proven on Alertmanager 0.25: upstream's Reload
scenario (groups are rebuilt and their timers restart, the notification log survives,
so nothing is sent twice right after a reload), the same through SIGHUP, and a bad
configuration that is refused (POST /-/reload -> 500 "failed to reload config: ...")
while the old one keeps routing."""

import os
import signal

from harness import (Fail, Suite, Timeline, alert, check, check_sequence, deliveries, eq,
                     norm_payload, poll, wh_alert_t, wh_payload)

suite = Suite("07-reload")

CONF = """\
route:
  receiver: default
  group_by: []
  group_wait: 1s
  group_interval: 6s
  repeat_interval: 10m
receivers:
- name: default
  webhook_configs:
  - url: '%s'
"""


def got_of(sink, tl, upto, path=None):
    return [(t, norm_payload(p)) for t, p in deliveries(sink, tl, path) if t <= upto]


def reload_scenario(ctx, how):
    sink = ctx.sink()
    srv = ctx.server(CONF % sink.url())
    tl = Timeline()
    t1, t2 = {"alertname": "test1"}, {"alertname": "test2"}
    tl.at(1)
    srv.post_ok([alert(t1, starts=tl.ts(1))])
    tl.at(3)
    if how == "http":
        r = srv.request("POST", "/-/reload")
        eq(r.status, 200, "POST /-/reload status")
    else:
        os.kill(srv.pid, signal.SIGHUP)
    tl.at(4)
    srv.post_ok([alert(t2, starts=tl.ts(4))])
    tl.at(10)
    # Timers restart on reload: the 6s group interval counts from 3s on.
    check_sequence(got_of(sink, tl, 10), [
        (2, 2.5, wh_payload("default", "{}:{}", {}, [wh_alert_t(t1, starts=tl.ts(1))])),
        (9, 9.5, wh_payload("default", "{}:{}", {}, [wh_alert_t(t1, starts=tl.ts(1)),
                                                     wh_alert_t(t2, starts=tl.ts(4))])),
    ])


@suite.case("Reload")
def reload_http(ctx):
    reload_scenario(ctx, "http")


@suite.case("Reload-SIGHUP")
def reload_sighup(ctx):
    reload_scenario(ctx, "sighup")


GOOD = """\
route:
  receiver: old
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1h
  repeat_interval: 1h
receivers:
- name: old
  webhook_configs:
  - url: '%s'
"""

BAD = GOOD + """\
- name: new
  webhook_configs:
  - url: '%s'
inhibit_rules: []
route_typo: 1
"""

BAD_ROUTE = GOOD.replace("receiver: old\n", "receiver: nope\n")


@suite.case("bad-config-keeps-old")
def bad_config(ctx):
    sink = ctx.sink()
    srv = ctx.server(GOOD % sink.url("/old"))
    status_before = srv.get_json("/api/v2/status")["config"]
    cases = [
        (BAD % (sink.url("/old"), sink.url("/new")),
         "failed to reload config: yaml: unmarshal errors:\n  line 15: field route_typo not found in type config.plain\n"),
        (BAD_ROUTE % sink.url("/old"),
         'failed to reload config: undefined receiver "nope" used in route\n'),
    ]
    wrong = []     # message mismatches reported at the end, after the behaviour checks
    for text, want in cases:
        with open(srv.config_path, "w") as f:
            f.write(text)
        r = srv.request("POST", "/-/reload")
        eq(r.status, 500, "POST /-/reload status with a bad config")
        got = r.text()
        if ctx.is_am:
            ok = got == want
        else:
            # alertrouter's messages locate the problem ("<file>:<line>: <key path>: ...")
            # where Alertmanager gives a bare sentence (or only "line N" for unknown keys):
            # same prefix, same Go sentence, same line.
            prefix = "failed to reload config: "
            sentence = want[len(prefix):].rstrip("\n")
            line = None
            if sentence.startswith("yaml: unmarshal errors:\n  line "):
                rest = sentence.split("line ", 1)[1]
                line, sentence = rest.split(": ", 1)
            ok = (got.startswith(prefix) and got.endswith(sentence + "\n") and
                  ".yml:" in got and (line is None or (":%s:" % line) in got))
        if not ok:
            wrong.append("POST /-/reload body: expected %r, got %r" % (want, got))
    # SIGHUP with a bad file: the process stays up.
    os.kill(srv.pid, signal.SIGHUP)
    poll(lambda: srv.get("/-/ready").status == 200, 5, what="ready after SIGHUP")
    check(srv.alive(), "server exited after SIGHUP with a bad config")
    eq(srv.get_json("/api/v2/status")["config"], status_before, "config after failed reloads")
    # The old configuration still routes.
    tl = Timeline()
    a = {"alertname": "A"}
    srv.post_ok([alert(a, starts=tl.ts(0))])
    sink.wait_for(1)
    tl.at(tl.now() + 0.7)
    check_sequence(got_of(sink, tl, 1e9), [
        (0.2, 0.3, wh_payload("old", '{}:{alertname="A"}', {"alertname": "A"}, [wh_alert_t(a, starts=tl.ts(0))]))
    ], "old receiver after failed reload")
    eq([p for _t, p, _b, _j in sink.received], ["/old"], "paths")
    # A good reload afterwards works.
    with open(srv.config_path, "w") as f:
        f.write((GOOD % sink.url("/new")).replace("receiver: old", "receiver: new")
                .replace("name: old", "name: new"))
    r = srv.request("POST", "/-/reload")
    eq(r.status, 200, "POST /-/reload with a good config")
    b = {"alertname": "B"}
    srv.post_ok([alert(b, starts=tl.ts(tl.now()))])
    sink.wait_for(3)
    by = sorted((p, j["receiver"], j["groupKey"]) for _t, p, _b, j in sink.received)
    # the new receiver is a new integration with its own log: A goes out to it as well
    eq(by, [("/new", "new", '{}:{alertname="A"}'), ("/new", "new", '{}:{alertname="B"}'),
            ("/old", "old", '{}:{alertname="A"}')], "notifications after the good reload")
    if wrong:
        raise Fail("; ".join(wrong))


if __name__ == "__main__":
    suite.main(jobs=6)
