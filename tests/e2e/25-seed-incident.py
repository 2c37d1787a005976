#!/usr/bin/env python3
"""The seed incident of issue 12 replayed end to end with Debian's real Prometheus
(alertrouter only: Alertmanager has no incidents). A scrape target (job cadvisor) is down,
Prometheus fires monitor_service_down (up == 0 for 2s, scrape and evaluation every second),
the router notifies the team's chat (a Slack-compatible sink) and the on-call's e-mail (a
real SMTP server, aiosmtpd); GET /api/x/incidents shows one open incident titled like the
chat message; it is acknowledged and noted under every report section; alertrouter is
killed with SIGKILL and restarted, keeping the incident, the acknowledgement and the notes;
the target comes back, the resolved notification goes to chat and e-mail, the incident is
resolved, and its report (markdown from the API and from `alertrouter incident report`,
and JSON) is checked section by section.

Also incidents.ack_message of the extensions file: with it on, an acknowledgement posts
"[ACK] <incident title>" / "acknowledged by <who>: <comment>" to the group's chat
integrations (never to webhook, e-mail or paging ones), each outcome in the timeline; with
it off, nothing is sent."""

import datetime
import email
import email.policy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import Skip, Suite, ar_binary, check, eq, free_port, parse_time, poll

_spec = importlib.util.spec_from_file_location(
    "prom14", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "14-prometheus-slack-email.py"))
prom14 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prom14)

suite = Suite("25-seed-incident")
TITLE = prom14.TITLE
RESOLVED = TITLE.replace("[FIRING:1]", "[RESOLVED]")
RULE = """\
  - alert: monitor_service_down
    expr: up{job="cadvisor"} == 0
    for: 2s
"""
SECTIONS = ["identification", "mitigation", "post_incident_analysis", "reporting",
            "action_plan", "conclusions", "recommendations"]
TITLES = ["Identification", "Mitigation", "Post-incident analysis", "Reporting",
          "Action plan", "Conclusions", "Recommendations"]
NOTES = {
    "identification": "Paged in #security and by e-mail; cadvisor:8080 stopped answering.",
    "mitigation": "Restarted the cadvisor container on docker-host-alpha.",
    "post_incident_analysis": "The container was OOM-killed after a memory limit change.",
    "reporting": "Reported to the CISO at the daily stand-up.",
    "action_plan": "Raise the memory limit; alert on container restarts.",
    "conclusions": "Monitoring gap of a few minutes, no data lost.",
    "recommendations": "Review memory limits of all monitoring containers.",
}
CONFIG = prom14.GLOBAL + """\
route:
  receiver: security
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: security
  slack_configs:
  - api_url: '%s'
    channel: '#security'
    send_resolved: true
  email_configs:
  - to: 'oncall@example.org'
    send_resolved: true
"""


def slack_titles(slack):
    with slack.cond:
        got = list(slack.received)
    return [json.loads(r[2])["attachments"][0]["title"] for r in got]


@suite.case("seed-incident-prometheus-chat-email-ack-notes-kill9-report", only="alertrouter")
def seed_incident(ctx):
    if not os.path.exists(prom14.PROMETHEUS):
        raise Skip("prometheus not installed")
    slack = ctx.sink(reply=("text/plain; charset=utf-8", b"ok"))
    box, smtp_port, ctl = prom14.smtp_box()
    srv = ctx.server(CONFIG % (smtp_port, slack.url("/services/T000/B000/XXXX")))
    target_port = free_port()
    prom = prom14.Prometheus(srv.port, RULE, target_port=target_port)
    target = None
    try:
        target = run(srv, slack, box, prom, target_port)
    finally:
        prom.stop()
        if target is not None:
            target.stop()
        ctl.stop()


def run(srv, slack, box, prom, target_port):
    # the exporter is down: chat and e-mail
    poll(lambda: TITLE in slack_titles(slack) or None, timeout=60, what="the firing chat message")
    poll(lambda: TITLE in prom14.subjects(box) or None, timeout=30, what="the firing e-mail")
    incs = poll(lambda: srv.get_json("/api/x/incidents", {"state": "open"}), timeout=20,
                what="an open incident")
    eq(len(incs), 1, "open incidents")
    inc = incs[0]
    iid = inc["id"]
    eq(inc["title"], TITLE, "incident title = chat title")
    eq((inc["severity"], inc["receiver"]), ("critical", "security"), "severity, receiver")
    # both firing notifications recorded in the timeline before the ack
    def notified(i, want):
        got = sorted(e["detail"]["integration"] for e in i["timeline"]
                     if e["kind"] == "notification" and e["detail"]["outcome"] == "delivered")
        return got if got == want else None
    poll(lambda: notified(srv.get_json("/api/x/incidents/%d" % iid), ["email[0]", "slack[0]"]),
         timeout=30, what="both firing deliveries in the timeline")
    # acknowledge, then notes under every section
    r = srv.post_json("/api/x/incidents/%d/ack" % iid,
                      {"by": "alice", "comment": "looking at docker-host-alpha"})
    eq(r.status, 200, "ack: %s" % r.text())
    eq(r.json()["state"], "acknowledged", "state after ack")
    for i, key in enumerate(SECTIONS):
        r = srv.post_json("/api/x/incidents/%d/notes" % iid,
                          {"section": key, "author": "bob" if i % 2 else "alice",
                           "text": NOTES[key]})
        eq(r.status, 201, "note %s: %s" % (key, r.text()))
    # SIGKILL in the middle; Prometheus keeps sending to the same port
    srv.restart(kill=True, keep_port=True)
    inc = srv.get_json("/api/x/incidents/%d" % iid)
    eq((inc["state"], inc["acknowledgedBy"], inc["ackComment"]),
       ("acknowledged", "alice", "looking at docker-host-alpha"), "ack kept over kill -9")
    eq(sorted(n["section"] for n in inc["notes"]), sorted(SECTIONS), "notes kept over kill -9")
    eq([i["id"] for i in srv.get_json("/api/x/incidents")], [iid], "one incident after restart")
    # the exporter comes back: resolved by chat and e-mail, the incident resolved
    target = prom14.MetricsTarget(target_port)
    poll(lambda: RESOLVED in slack_titles(slack) or None, timeout=60,
         what="the resolved chat message")
    poll(lambda: RESOLVED in prom14.subjects(box) or None, timeout=30,
         what="the resolved e-mail")
    inc = poll(lambda: [i for i in [srv.get_json("/api/x/incidents/%d" % iid)]
                        if i["state"] == "resolved"], timeout=30, what="incident resolved")[0]
    eq(slack_titles(slack).count(TITLE), 1, "one firing chat message (no repeat while acked)")
    eq(sorted(prom14.subjects(box)), sorted([TITLE, RESOLVED]), "e-mails: firing, resolved")
    # the resolved deliveries land in the timeline once their outcome is known
    def all_delivered():
        i = srv.get_json("/api/x/incidents/%d" % iid)
        n = [(e["detail"]["integration"], e["detail"]["resolved"]) for e in i["timeline"]
             if e["kind"] == "notification" and e["detail"]["outcome"] == "delivered"]
        return i if sorted(n) == [("email[0]", 0), ("email[0]", 1),
                                  ("slack[0]", 0), ("slack[0]", 1)] else None
    inc = poll(all_delivered, timeout=30, what="four delivered notifications in the timeline")
    check_report(srv, inc)


def check_report(srv, inc):
    iid = inc["id"]
    opened = parse_time(inc["openedAt"]).astimezone(datetime.timezone.utc)
    md = srv.get("/api/x/incidents/%d/report" % iid, {"format": "markdown"})
    eq(md.status, 200, "markdown report")
    text = md.text()
    check(text.startswith("# Incident report #%d: %s\n" % (iid, TITLE)), "header: %r" % text[:200])
    heads = re.findall(r"^## (.+)$", text, re.M)
    eq(heads, ["Description", "Timeline", "Notifications", "Response times"] + TITLES,
       "markdown sections")
    sec = dict(zip(heads, re.split(r"^## .+$", text, flags=re.M)[1:]))
    desc = sec["Description"]
    for row in ("| Date (UTC) | %s |" % opened.strftime("%Y-%m-%d"),
                "| Time (UTC) | %s |" % opened.strftime("%H:%M:%S"),
                "| State | resolved |", "| Severity | critical |", "| Receiver | security |",
                "| Impact | Monitor service non-operational |",
                "| Acknowledged | %s" % opened.strftime("%Y-%m-%d"),
                "by alice |"):
        check(row in desc, "description has %r: %r" % (row, desc))
    svc = re.search(r"^\| Affected services \| (.*) \|$", desc, re.M)
    check(svc is not None and "cadvisor" in svc.group(1) and "cadvisor:8080" in svc.group(1),
          "affected services from job and instance: %r" % desc)
    check(re.search(r"^\| Resolved \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \|$", desc, re.M),
          "resolved time in UTC: %r" % desc)
    # timeline rows in order: opened, firing, notifications, ack, notes, resolution
    tl = sec["Timeline"]
    rows = re.findall(r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC) \| (.*) \|$", tl, re.M)
    events = [e for _, e in rows]
    check(events and events[0].startswith("Incident opened for receiver security"),
          "first row: %r" % events[:1])

    def index(prefix, start=0):
        for i in range(start, len(events)):
            if events[i].startswith(prefix):
                return i
        raise AssertionError("timeline has no %r after row %d: %r" % (prefix, start, events))
    i_fire = index("Alert firing: monitor_service_down {")
    check('instance="cadvisor:8080"' in events[i_fire] and 'job="cadvisor"' in events[i_fire],
          "firing row labels: %r" % events[i_fire])
    i_slack = index("Notification to security/slack[0] (delivery ", i_fire)
    i_mail = index("Notification to security/email[0] (delivery ", i_fire)
    for i in (i_slack, i_mail):
        check(events[i].endswith("1 firing, 0 resolved): delivered"), "outcome: %r" % events[i])
    i_ack = index("Acknowledged by alice: looking at docker-host-alpha", max(i_slack, i_mail))
    i_note = index("Note ", i_ack)
    eq(len([e for e in events if e.startswith("Note ")]), len(SECTIONS), "note rows")
    i_res = index("Alert resolved: monitor_service_down {", i_note)
    i_rs = index("Notification to security/slack[0] (delivery ", i_res)
    i_rm = index("Notification to security/email[0] (delivery ", i_res)
    for i in (i_rs, i_rm):
        check(events[i].endswith("0 firing, 1 resolved): delivered"), "outcome: %r" % events[i])
    index("Incident resolved: every alert of the group resolved", i_note)
    times = [t for t, _ in rows]
    eq(times, sorted(times), "timeline in time order")
    # who was notified and when
    nrows = re.findall(r"^\| (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC) \| security \| (\w+\[0\]) \| "
                       r"(\d+) \| (\w+) \| (\d+) \|$", sec["Notifications"], re.M)
    eq(sorted((r[1], r[3]) for r in nrows),
       [("email[0]", "delivered")] * 2 + [("slack[0]", "delivered")] * 2,
       "notifications: %r" % sec["Notifications"])
    # response times
    rt = sec["Response times"]
    check(re.search(r"^- Time to acknowledge: (\d+m)?\d+s$", rt, re.M), "ack time: %r" % rt)
    check(re.search(r"^- Time to resolve: (\d+m)?\d+s$", rt, re.M), "resolve time: %r" % rt)
    # every note under its own section, with author and time
    for key, title in zip(SECTIONS, TITLES):
        body = sec[title]
        check(NOTES[key] in body, "%s has its note: %r" % (title, body))
        for other in SECTIONS:
            if other != key:
                check(NOTES[other] not in body, "%s lacks the %s note" % (title, other))
        check(re.search(r"_(alice|bob), \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC_", body),
              "author and time under %s: %r" % (title, body))
    # the CLI prints the same report
    p = subprocess.run([ar_binary(), "incident", "report", str(iid), "--format", "markdown",
                        "--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    eq(p.returncode, 0, "cli exit: %s" % p.stderr.decode())
    eq(p.stdout.decode().rstrip("\n"), text.rstrip("\n"), "cli report = API report")
    # JSON, section by section
    j = srv.get_json("/api/x/incidents/%d/report" % iid, {"format": "json"})
    eq((j["id"], j["title"], j["state"], j["severity"], j["receiver"]),
       (iid, TITLE, "resolved", "critical", "security"), "json header")
    eq((j["date"], j["time"]), (opened.strftime("%Y-%m-%d"), opened.strftime("%H:%M:%S")),
       "json date and time (UTC)")
    check("cadvisor:8080" in j["services"] and "cadvisor" in j["services"],
          "json services: %r" % j["services"])
    eq(j["impact"], ["Monitor service non-operational"], "json impact")
    eq([(a["by"], a["comment"], a["effective"]) for a in j["acknowledgements"]],
       [("alice", "looking at docker-host-alpha", True)], "json acknowledgements")
    eq(sorted((n["integration"], n["firing"], n["resolved"], n["outcome"])
              for n in j["notifications"]),
       [("email[0]", 0, 1, "delivered"), ("email[0]", 1, 0, "delivered"),
        ("slack[0]", 0, 1, "delivered"), ("slack[0]", 1, 0, "delivered")], "json notifications")
    kinds = [e["kind"] for e in j["timeline"]]
    for want in ("opened", "alert_firing", "notification", "acknowledged", "note",
                 "alert_resolved", "resolved"):
        check(want in kinds, "json timeline has %s: %r" % (want, kinds))
    eq([s["key"] for s in j["sections"]], SECTIONS, "json sections")
    for s in j["sections"]:
        eq([n["text"] for n in s["notes"]], [NOTES[s["key"]]], "json notes of %s" % s["key"])
    check(parse_time(j["acknowledgedAt"]) <= parse_time(j["resolvedAt"]), "ack before resolution")
    check(j["timeToAcknowledge"] and j["timeToResolve"], "json response times")
    p = subprocess.run([ar_binary(), "incident", "report", str(iid), "--format=json",
                        "--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    eq(p.returncode, 0, "cli json exit: %s" % p.stderr.decode())
    eq(json.loads(p.stdout), j, "cli json = API json")


ACK_CHAT = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: team
  slack_configs:
  - api_url: %(u)s/slack/services/T0/B0/XXXX
    channel: '#security'
  mattermost_configs:
  - webhook_url: %(u)s/mattermost/hooks/xyz
  rocketchat_configs:
  - api_url: %(u)s/rocketchat
    channel: '#ops'
    token: rc-secret
    token_id: rc-user
  discord_configs:
  - webhook_url: %(u)s/discord/api/webhooks/1/secret
  msteams_configs:
  - webhook_url: %(u)s/msteams/webhookb2/secret
  msteamsv2_configs:
  - webhook_url: %(u)s/msteamsv2/workflow
  webex_configs:
  - api_url: %(u)s/webex/v1/messages
    room_id: room-1
    http_config:
      authorization:
        credentials: webex-secret
  telegram_configs:
  - api_url: %(u)s/telegram
    bot_token: '123:TGSECRET'
    chat_id: 4242
  webhook_configs:
  - url: %(u)s/webhook
  pagerduty_configs:
  - routing_key: pd-secret
    url: %(u)s/pagerduty/v2/enqueue
"""
CHATS = ["slack", "mattermost", "rocketchat", "discord", "msteams", "msteamsv2", "webex",
         "telegram"]
SEED = {"alertname": "monitor_service_down", "instance": "cadvisor:8080", "job": "cadvisor",
        "monitor": "docker-host-alpha", "severity": "critical"}


def bodies(sink):
    """{first path segment: [parsed JSON bodies]}"""
    out = {}
    with sink.cond:
        got = list(sink.received)
    for _, path, body, parsed in got:
        out.setdefault(path.split("/")[1], []).append(parsed)
    return out


def ack_message_text(kind, body):
    """The title and text an ack message carries in each integration's payload."""
    if kind == "slack":
        a = body["attachments"][0]
        return a["title"] + "\n" + a["text"]
    if kind == "rocketchat":
        a = body["attachments"][0]
        return a["title"] + "\n" + a["text"]
    if kind == "discord":
        e = body["embeds"][0]
        return e["title"] + "\n" + e["description"]
    if kind == "msteams":
        return body["title"] + "\n" + body["text"]
    if kind == "msteamsv2":
        return json.dumps(body)
    if kind in ("mattermost", "telegram"):
        return body["text"]
    if kind == "webex":
        return body["markdown"]
    raise AssertionError(kind)


def ack_message_server(ctx, d, on):
    # what Slack (ok) and Rocket.Chat (success) answer in JSON; the others take any 2xx
    sink = ctx.sink(reply=("application/json", b'{"ok":true,"success":true}'))
    ext = os.path.join(d, "ext.yml")
    with open(ext, "w") as f:
        f.write("incidents:\n  ack_message: %s\n" % ("true" if on else "false"))
    srv = ctx.server(ACK_CHAT % {"u": sink.url("").rstrip("/")},
                     args=["--extensions.file=" + ext])
    srv.post_ok([{"labels": SEED}])
    inc = poll(lambda: srv.get_json("/api/x/incidents", {"state": "open"}), timeout=20,
               what="an open incident")[0]
    eq(inc["title"], TITLE, "incident title")
    # the firing notification reached every integration before the ack
    poll(lambda: len(bodies(sink)) == len(CHATS) + 2 or None, timeout=30,
         what="the firing notification to every integration: %r" % sorted(bodies(sink)))
    before = {k: len(v) for k, v in bodies(sink).items()}
    r = srv.post_json("/api/x/incidents/%d/ack" % inc["id"],
                      {"by": "alice", "comment": "restarting <cadvisor> & co"})
    eq(r.status, 200, "ack: %s" % r.text())
    return srv, sink, inc["id"], before


@suite.case("ack-message-to-chat-receivers", only="alertrouter")
def ack_message_on(ctx):
    d = tempfile.mkdtemp(prefix="ar-e2e-ackmsg-")
    try:
        srv, sink, iid, before = ack_message_server(ctx, d, True)
        want_title = "[ACK] " + TITLE
        want_text = "acknowledged by alice: restarting <cadvisor> & co"

        def arrived():
            b = bodies(sink)
            return b if all(len(b.get(k, [])) == before[k] + 1 for k in CHATS) else None
        got = poll(arrived, timeout=30, what="the ack message on every chat integration")
        for k in CHATS:
            text = ack_message_text(k, got[k][-1])
            check(want_title in text and "acknowledged by alice: restarting" in text,
                  "%s ack message: %r" % (k, got[k][-1]))
        for k in ("slack", "rocketchat", "discord", "msteams", "mattermost", "telegram"):
            text = ack_message_text(k, got[k][-1])
            eq(text, want_title + "\n" + want_text, "%s title and text" % k)
        check("parse_mode" not in got["telegram"][-1], "telegram ack message is plain text")
        eq((len(got["webhook"]), len(got["pagerduty"])), (before["webhook"], before["pagerduty"]),
           "nothing more to webhook and PagerDuty")
        inc = poll(lambda: [i for i in [srv.get_json("/api/x/incidents/%d" % iid)]
                            if len([e for e in i["timeline"] if e["kind"] == "ack_message"])
                            == len(CHATS)], timeout=20, what="ack message outcomes")[0]
        outs = sorted((e["detail"]["integration"], e["detail"]["outcome"])
                      for e in inc["timeline"] if e["kind"] == "ack_message")
        eq(outs, sorted((k + "[0]", "delivered") for k in CHATS), "ack message outcomes")
        md = srv.get("/api/x/incidents/%d/report" % iid).text()
        check("Acknowledgement message to team/slack[0]: delivered" in md, "report: %r" % md)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@suite.case("ack-message-off-sends-nothing", only="alertrouter")
def ack_message_off(ctx):
    d = tempfile.mkdtemp(prefix="ar-e2e-ackmsg-")
    try:
        srv, sink, iid, before = ack_message_server(ctx, d, False)
        # with ack_message on, the messages go out right after the ack (the on case sees
        # them within a second or two); off, nothing may come, nor be recorded
        inc = srv.get_json("/api/x/incidents/%d" % iid)
        eq(inc["state"], "acknowledged", "acknowledged")
        eq([e for e in inc["timeline"] if e["kind"] == "ack_message"], [],
           "no ack message in the timeline")
        time.sleep(2)
        eq({k: len(v) for k, v in bodies(sink).items()}, before, "no message after the ack")
        inc = srv.get_json("/api/x/incidents/%d" % iid)
        eq([e for e in inc["timeline"] if e["kind"] == "ack_message"], [],
           "still no ack message in the timeline")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    suite.main()
