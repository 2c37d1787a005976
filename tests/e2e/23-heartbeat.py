#!/usr/bin/env python3
"""The extensions file (--extensions.file, alertrouter only: alertmanager.yml stays
Alertmanager's format) and the heartbeat it configures. check-config validates the file
with located errors; the daemon refuses to start on a bad one, and a reload with a bad one
keeps the running configuration. A heartbeat (dead-man's switch) whose Watchdog re-posts stop
raises AlertrouterHeartbeatMissing, notified through the usual route and listed by
/api/v2/alerts, and resolves when the Watchdog returns or the heartbeat is removed."""

import json
import os
import re
import subprocess
import time
import urllib.parse

from harness import (DEFAULT_CONFIG, UTC_MS_TS_RE, Fail, Server, Suite, ar_binary, check, eq,
                     poll)

suite = Suite("23-heartbeat")

GOOD_EXT = """\
heartbeats:
  - name: prometheus-watchdog
    matchers: ['alertname="Watchdog"']
    timeout: 5m
    labels: {severity: critical}
    annotations: {summary: "alerting pipeline is down"}
incidents:
  report_template: report.tmpl
  ack_message: true
"""

BAD_EXTS = {
    "unknown key": ("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1m\n"
                    "    severity: x\n",
                    "ext.yml:5: heartbeats[0]: field severity not found in type HeartbeatConfig"),
    "bad matcher": ("heartbeats:\n  - name: a\n    matchers: ['a=~\"(\"']\n    timeout: 1m\n",
                    "ext.yml:3: heartbeats[0].matchers[0]: error parsing regexp"),
    "bad duration": ("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 5x\n",
                     "ext.yml:4: heartbeats[0].timeout: not a valid duration string: \"5x\""),
    "duplicate": ("heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1m\n"
                  "  - name: a\n    matchers: [a=c]\n    timeout: 1m\n",
                  "ext.yml:5: heartbeats[1]: heartbeat name \"a\" is not unique"),
    "missing template": ("incidents:\n  report_template: nope.tmpl\n",
                         "ext.yml:2: incidents.report_template: template: open "),
}


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def check_config(cwd, *args):
    p = subprocess.run([ar_binary(), "check-config"] + list(args), cwd=cwd,
                       capture_output=True, timeout=30)
    return p.returncode, p.stdout.decode() + p.stderr.decode()


@suite.case("check-config-extensions", only="alertrouter")
def check_config_ext(ctx):
    srv = Server("alertrouter", DEFAULT_CONFIG, start=False)
    ctx.servers.append(srv)  # for its temporary directory's cleanup
    d = srv.tmp
    write(d, "am.yml", DEFAULT_CONFIG)
    write(d, "report.tmpl", '{{ define "report" }}# {{ .Title }}{{ end }}\n')
    write(d, "ext.yml", GOOD_EXT)
    rc, out = check_config(d, "am.yml", "--extensions.file=ext.yml")
    eq(rc, 0, "check-config exit status with a good file:\n" + out)
    check("Checking 'am.yml'  SUCCESS" in out, "main file reported:\n" + out)
    check("Checking 'ext.yml'  SUCCESS" in out, "extensions file reported:\n" + out)
    check(" - 1 heartbeats\n" in out and "prometheus-watchdog" in out and "timeout 5m" in out,
          "heartbeat summary:\n" + out)
    check("report template: report.tmpl" in out and "ack message: on" in out,
          "incidents summary:\n" + out)
    # the spelling with a separate value
    rc, out = check_config(d, "am.yml", "--extensions.file", "ext.yml")
    eq(rc, 0, "check-config --extensions.file FILE:\n" + out)

    for what, (text, want) in BAD_EXTS.items():
        write(d, "ext.yml", text)
        rc, out = check_config(d, "am.yml", "--extensions.file=ext.yml")
        eq(rc, 1, "check-config exit status with %s:\n%s" % (what, out))
        check("Checking 'ext.yml'  FAILED: " + want in out, "%s: output:\n%s" % (what, out))

    rc, out = check_config(d, "am.yml", "--extensions.file=absent.yml")
    eq(rc, 1, "missing extensions file:\n" + out)
    check("FAILED: open absent.yml: No such file or directory" in out, "output:\n" + out)


@suite.case("daemon-start-and-reload", only="alertrouter")
def daemon_ext(ctx):
    probe = Server("alertrouter", DEFAULT_CONFIG, start=False)
    ctx.servers.append(probe)
    ext = write(probe.tmp, "ext.yml", BAD_EXTS["bad duration"][0])

    # a bad extensions file: the daemon does not start, and says why
    srv = Server("alertrouter", DEFAULT_CONFIG, args=["--extensions.file=" + ext], start=False,
                 ready_timeout=5)
    ctx.servers.append(srv)
    try:
        srv.start()
        raise Fail("started with a bad extensions file")
    except Fail as e:
        if "started with" in str(e):
            raise
    check('not a valid duration string: \\"5x\\"' in srv.log_text() or
          'not a valid duration string: "5x"' in srv.log_text(),
          "start-up error names the problem:\n" + srv.log_tail())

    # a good one: starts; a reload with a bad one keeps running and answers 500
    write(probe.tmp, "ext.yml", "heartbeats:\n  - name: a\n    matchers: [a=b]\n    timeout: 1h\n")
    srv = ctx.server(DEFAULT_CONFIG, args=["--extensions.file=" + ext])
    write(probe.tmp, "ext.yml", BAD_EXTS["unknown key"][0])
    r = srv.request("POST", "/-/reload")
    eq(r.status, 500, "reload with a bad extensions file")
    check("field severity not found" in r.text(), "reload error: %r" % r.text())
    check(srv.alive(), "still running after the failed reload")
    eq(srv.get("/-/ready").status, 200, "still ready")
    write(probe.tmp, "ext.yml", "incidents:\n  ack_message: true\n")
    r = srv.request("POST", "/-/reload")
    eq(r.status, 200, "reload with a good extensions file: %r" % r.text())
    poll(lambda: "extensions reloaded from" in srv.log_text(), timeout=10,
         what="the reload logged")


HB_NAME = "prometheus-watchdog"
HB_FILTER = 'alertname="AlertrouterHeartbeatMissing"'
WATCHDOG = {"labels": {"alertname": "Watchdog", "prometheus": "k8s/main"}}


def hb_conf(sink):
    """The Watchdog goes to a receiver without integrations (as kube-prometheus does); the
    heartbeat alert reaches the webhook."""
    return """\
route:
  receiver: team
  group_by: [alertname, heartbeat]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
  - matchers: ['alertname="Watchdog"']
    receiver: blackhole
receivers:
- name: team
  webhook_configs:
  - url: '%s'
    send_resolved: true
- name: blackhole
""" % sink.url("/hook")


def hb_ext(timeout="2s"):
    return """\
heartbeats:
  - name: %s
    matchers: ['alertname="Watchdog"']
    timeout: %s
    labels: {severity: critical, team: sre}
    annotations: {runbook_url: "https://runbooks.example/watchdog"}
""" % (HB_NAME, timeout)


def hb_alerts(srv):
    return srv.alerts({"filter": HB_FILTER})


def hb_notifications(sink, status):
    """Webhook bodies carrying the heartbeat alert with the given status."""
    out = []
    for _, path, _, body in list(sink.received):
        if not body:
            continue
        for a in body.get("alerts", []):
            if a["labels"].get("alertname") == "AlertrouterHeartbeatMissing" and \
                    a["status"] == status:
                out.append((body, a))
    return out


def metric(srv, name):
    text = srv.get("/metrics").text()
    m = re.search(r'^%s\{heartbeat="%s"\} (\S+)$' % (re.escape(name), re.escape(HB_NAME)), text,
                  re.M)
    return float(m.group(1)) if m else None


def want_labels():
    return {"alertname": "AlertrouterHeartbeatMissing", "heartbeat": HB_NAME,
            "severity": "critical", "team": "sre"}


@suite.case("heartbeat-lost-and-back", only="alertrouter")
def lost_and_back(ctx):
    sink = ctx.sink()
    srv = Server("alertrouter", hb_conf(sink), start=False)
    ctx.servers.append(srv)
    ext = write(srv.tmp, "ext.yml", hb_ext("2s"))
    srv.extra_args.append("--extensions.file=" + ext)
    srv.start()

    # Re-posted every 0.3 s for 4 s (twice the timeout): nothing is raised meanwhile. The
    # check holds only while no two posts were further apart than the timeout allows, which a
    # stalled machine could break: then it is skipped with a note instead of failing.
    end = time.monotonic() + 4
    prev_start = None
    worst = 0.0
    while time.monotonic() < end:
        t0 = time.monotonic()
        srv.post_ok([WATCHDOG])
        if prev_start is not None:
            worst = max(worst, time.monotonic() - prev_start)
        prev_start = t0
        listed = hb_alerts(srv)
        if worst < 1.5:
            eq(listed, [], "heartbeat alerts while the Watchdog is re-posted")
        time.sleep(0.3)
    if worst < 1.5:
        eq(hb_notifications(sink, "firing"), [], "heartbeat notifications while re-posted")
    else:
        ctx.note("posts %.1f s apart: the no-alert check was skipped" % worst)
    seen = metric(srv, "alertrouter_heartbeat_last_seen_timestamp_seconds")
    check(seen is not None and abs(seen - time.time()) < 60, "last seen metric: %r" % seen)
    eq(metric(srv, "alertrouter_heartbeat_missing"), 0, "missing gauge while re-posted")

    # The re-posts stop: the heartbeat alert fires, listed and notified with its labels.
    listed = poll(lambda: hb_alerts(srv), timeout=30, what="the heartbeat alert listed")
    eq(len(listed), 1, "heartbeat alerts listed")
    a = listed[0]
    eq(a["labels"], want_labels(), "labels of the raised alert")
    eq(a["status"]["state"], "active", "state of the raised alert")
    ann = a["annotations"]
    check(UTC_MS_TS_RE.match(ann.get("last_seen", "")), "last_seen annotation: %r" % ann)
    eq(ann.get("runbook_url"), "https://runbooks.example/watchdog", "configured annotation")
    check(HB_NAME in ann.get("summary", ""), "default summary: %r" % ann)
    check('alertname="Watchdog"' in ann.get("description", ""), "default description: %r" % ann)
    fired = poll(lambda: hb_notifications(sink, "firing"), timeout=30,
                 what="the heartbeat alert notified firing")
    body, na = fired[0]
    eq(body["receiver"], "team", "receiver of the heartbeat notification")
    eq(na["labels"], want_labels(), "notified labels")
    eq(body["groupLabels"], {"alertname": "AlertrouterHeartbeatMissing", "heartbeat": HB_NAME},
       "group labels")
    eq(metric(srv, "alertrouter_heartbeat_missing"), 1, "missing gauge")
    hist = srv.get_json("/api/v2/alerts/groups")
    check(any(g["receiver"]["name"] == "team" and
              any(x["labels"].get("heartbeat") == HB_NAME for x in g["alerts"]) for g in hist),
          "heartbeat alert grouped: %r" % hist)

    # The Watchdog returns: the heartbeat alert resolves and is notified resolved.
    srv.post_ok([WATCHDOG])
    resolved = poll(lambda: hb_notifications(sink, "resolved"), timeout=30,
                    what="the heartbeat alert notified resolved")
    eq(resolved[0][1]["labels"], want_labels(), "resolved labels")
    eq(resolved[0][0]["status"], "resolved", "resolved group status")
    poll(lambda: hb_alerts(srv) == [], timeout=15, what="the heartbeat alert no longer listed")
    eq(metric(srv, "alertrouter_heartbeat_missing"), 0, "missing gauge after the return")
    eq(len(hb_notifications(sink, "firing")), len(fired), "no new firing notification")


@suite.case("heartbeat-never-seen-then-removed", only="alertrouter")
def never_then_removed(ctx):
    sink = ctx.sink()
    srv = Server("alertrouter", hb_conf(sink), start=False)
    ctx.servers.append(srv)
    ext = write(srv.tmp, "ext.yml", hb_ext("3s"))
    srv.extra_args.append("--extensions.file=" + ext)
    srv.start()
    if srv.startup_seconds() < 1.0:
        # the timeout counts from start: nothing is raised before it elapsed
        eq(hb_alerts(srv), [], "heartbeat alerts right after start")
    eq(metric(srv, "alertrouter_heartbeat_last_seen_timestamp_seconds"), 0,
       "last seen before any Watchdog")

    listed = poll(lambda: hb_alerts(srv), timeout=30, what="the heartbeat alert listed")
    eq(listed[0]["labels"], want_labels(), "labels")
    eq(listed[0]["annotations"].get("last_seen"), "never since start", "last_seen annotation")
    poll(lambda: hb_notifications(sink, "firing"), timeout=30, what="the firing notification")

    # A reload with a bad extensions file keeps the heartbeat; one without it resolves it.
    write(srv.tmp, "ext.yml", "heartbeats: [1]\n")
    eq(srv.request("POST", "/-/reload").status, 500, "reload with a bad extensions file")
    eq(len(hb_alerts(srv)), 1, "heartbeat alert kept by the failed reload")
    write(srv.tmp, "ext.yml", "incidents:\n  ack_message: false\n")
    r = srv.request("POST", "/-/reload")
    eq(r.status, 200, "reload without the heartbeat: %r" % r.text())
    resolved = poll(lambda: hb_notifications(sink, "resolved"), timeout=30,
                    what="the removed heartbeat's alert notified resolved")
    eq(resolved[0][1]["labels"], want_labels(), "resolved labels")
    poll(lambda: hb_alerts(srv) == [], timeout=15, what="the heartbeat alert no longer listed")
    check("alertrouter_heartbeat_missing" not in srv.get("/metrics").text(),
          "no heartbeat series once none is configured")


@suite.case("heartbeat-survives-restart", only="alertrouter")
def survives_restart(ctx):
    """kill -9 while missing: after the restart the stored alert stays firing (no resolved
    notification) until the Watchdog returns."""
    sink = ctx.sink()
    srv = Server("alertrouter", hb_conf(sink), start=False)
    ctx.servers.append(srv)
    ext = write(srv.tmp, "ext.yml", hb_ext("2s"))
    srv.extra_args.append("--extensions.file=" + ext)
    srv.start()
    fp = poll(lambda: hb_alerts(srv), timeout=30, what="the heartbeat alert")[0]["fingerprint"]
    poll(lambda: hb_notifications(sink, "firing"), timeout=30, what="the firing notification")
    # the alert is durable once its history event is readable: both are written in the same
    # transaction, and the history is read from the database (a slow writer, as under ASan,
    # may commit after the notification went out)
    poll(lambda: srv.get_json("/api/x/history/alerts?filter=" +
                              urllib.parse.quote('alertname="AlertrouterHeartbeatMissing"'))
         ["events"], timeout=30, what="the heartbeat alert committed")
    srv.restart(kill=True)
    listed = hb_alerts(srv)
    eq([x["fingerprint"] for x in listed], [fp], "heartbeat alert after the restart")
    eq(metric(srv, "alertrouter_heartbeat_missing"), 1, "missing gauge after the restart")
    eq(hb_notifications(sink, "resolved"), [], "no resolved notification from the restart")
    srv.post_ok([WATCHDOG])
    poll(lambda: hb_notifications(sink, "resolved"), timeout=30,
         what="the resolved notification after the restart")
    poll(lambda: hb_alerts(srv) == [], timeout=15, what="the heartbeat alert no longer listed")


if __name__ == "__main__":
    suite.main()
