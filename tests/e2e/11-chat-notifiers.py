#!/usr/bin/env python3
"""Chat/HTTP integrations (COMPAT 9.3-9.13): a configuration with Slack, Discord,
Telegram, PagerDuty, Opsgenie, Webex and VictorOps pointed at local sinks, the seed alert
posted, and what alertrouter sends compared request by request (method, path,
Content-Type, Authorization, User-Agent, body bytes) with what the real Alertmanager 0.25
sends for the same configuration. Nothing needs normalising: both servers use the same
--web.external-url and the alert has fixed times, so links, keys and texts match.
Microsoft Teams (0.26+, unknown to 0.25) is checked against the COMPAT 9.4 body on
alertrouter.

Opsgenie update_alerts (COMPAT 9.11): the create POST and the two PUTs (message,
description) are compared with 0.25 request by request, in order; on alertrouter a PUT
answered 500 once is retried on its own and the delivery ends delivered.

Reply bodies (COMPAT 9.3, 9.8, newest Alertmanager; 0.25 takes any 2xx): Slack answers
text/plain "ok" (incoming webhooks) or JSON "ok":true (Web API) for success; "ok":false or
another text is a final failure whose error in the delivery log says what Slack answered;
Rocket.Chat "success":false likewise (outcome "failed" in the delivery log, one request). A
2xx JSON reply that does not decode is retried: two such replies then a good one give one
delivered row with 3 attempts and each failed attempt logged with its reason (a `retry`
entry in the delivery log and a debug line); one that never
decodes ends, at the notify deadline, as a dead letter (outcome "dead") whose error quotes
the reply. No token or webhook secret appears in the rows, their log or the server log. The
sinks answer as the real services do: Slack webhooks text/plain "ok" (an earlier sink
answered JSON {}, which real Slack never sends), Rocket.Chat {"success":true}."""

import hashlib
import json
import time

from harness import (AM_BINARY, SEED_LABELS, FakeService, Server, Skip, Suite, alert, check,
                     eq, finished_delivery, poll, targets)

suite = Suite("11-chat-notifiers")

EXTERNAL = "http://am.example:9093"
STARTS = "2026-11-27T09:21:50.201460419Z"
TG_REPLY = json.dumps({"ok": True, "result": {
    "message_id": 1, "date": 1, "chat": {"id": 4242, "type": "private"}}}).encode()


def default_reply(path, n):
    """(status, content type, body) as the real service answers a good request."""
    if "/telegram/" in path:
        return 200, "application/json", TG_REPLY
    if "/slack/" in path:
        return 200, "text/plain; charset=utf-8", b"ok"
    if "/rocketchat/" in path:
        return 200, "application/json", b'{"success":true}'
    return 200, "application/json", b"{}"


class RecordingSink(FakeService):
    """A fake answering like the services do (Telegram needs a JSON reply); reply_fn(path, n)
    overrides that."""

    def __init__(self, reply_fn=None):
        fn = reply_fn or default_reply
        super().__init__(lambda method, path, body, n: fn(path, n))


def config(sink, teams=False):
    u = sink.url("")
    text = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
- name: team
  slack_configs:
  - api_url: %(u)s/slack/services/T0/B0/slack-secret
    channel: '#alerts'
  discord_configs:
  - webhook_url: %(u)s/discord/api/webhooks/1/discord-secret
  telegram_configs:
  - api_url: %(u)s/telegram
    bot_token: '123:TGSECRET'
    chat_id: 4242
  pagerduty_configs:
  - routing_key: pd-secret
    url: %(u)s/pagerduty/v2/enqueue
  opsgenie_configs:
  - api_key: og-secret
    api_url: %(u)s/opsgenie/
  - api_key: og-upd-secret
    api_url: %(u)s/opsgenie-upd/
    update_alerts: true
    message: '{{ .CommonLabels.alertname }} <is> down'
    description: 'on {{ .CommonLabels.instance }} & more'
  - api_key: og-q-secret
    api_url: '%(u)s/opsgenie-q/?b=x+y&identifierType=id&a=%%41&c'
    update_alerts: true
  webex_configs:
  - api_url: %(u)s/webex/v1/messages
    room_id: room-1
    http_config:
      authorization:
        credentials: webex-secret
  victorops_configs:
  - api_key: vo-secret
    api_url: %(u)s/victorops/
    routing_key: team-rk
""" % {"u": u}
    if teams:
        text += """\
  msteams_configs:
  - webhook_url: %s/msteams/webhookb2/teams-secret
""" % u
    return text


# SHA-256 of the seed group's key {}:{alertname="monitor_service_down"}
OG_ALIAS = hashlib.sha256(b'{}:{alertname="monitor_service_down"}').hexdigest()

INTEGRATIONS = ["/slack/", "/discord/", "/telegram/", "/pagerduty/", "/opsgenie/", "/webex/",
                "/victorops/"]


def seed_alert():
    return alert(SEED_LABELS, {"summary": "down"}, starts=STARTS, ends="2099-01-01T00:00:00Z",
                 url="http://prometheus:9090/graph")


def run(ctx, kind, sink, teams=False):
    cfg = config(sink, teams)
    args = ["--web.external-url=" + EXTERNAL]
    if kind == ctx.kind:
        srv = ctx.server(cfg, args=args)
    else:
        srv = Server(kind, cfg, args=args, start=False)
        ctx.servers.append(srv)
        srv.start()
    srv.post_ok([seed_alert()])
    return srv


@suite.case("SameRequestsAsAlertmanager", only="alertrouter")
def same_requests(ctx):
    if "alertmanager" not in targets():
        raise Skip("reference Alertmanager not installed (%s)" % AM_BINARY)
    ar_sink, am_sink = RecordingSink(), RecordingSink()
    try:
        run(ctx, "alertrouter", ar_sink)
        run(ctx, "alertmanager", am_sink)
        for prefix in INTEGRATIONS:
            got, want = ar_sink.first(prefix), am_sink.first(prefix)
            eq(got["method"], want["method"], prefix + " method")
            eq(got["path"], want["path"], prefix + " path")
            for h in ("Content-Type", "Authorization", "User-Agent"):
                eq(got["headers"].get(h), want["headers"].get(h), prefix + " " + h)
            eq(got["body"].decode("utf-8"), want["body"].decode("utf-8"), prefix + " body")
        # update_alerts: create, then PUT message, then PUT description, same headers; with
        # a query in api_url (kept on the create, merged with identifierType on the PUTs)
        for prefix in ("/opsgenie-upd/", "/opsgenie-q/"):
            got, want = ar_sink.under(prefix, 3), am_sink.under(prefix, 3)
            for i, (g, w) in enumerate(zip(got, want)):
                what = "opsgenie update_alerts request %d under %s" % (i, prefix)
                eq((g["method"], g["path"]), (w["method"], w["path"]), what)
                for h in ("Content-Type", "Authorization", "User-Agent"):
                    eq(g["headers"].get(h), w["headers"].get(h), what + " " + h)
                eq(g["body"].decode("utf-8"), w["body"].decode("utf-8"), what + " body")
            eq([r["method"] for r in got], ["POST", "PUT", "PUT"], "update_alerts methods")
        eq([r["path"].split("/", 2)[2] for r in ar_sink.under("/opsgenie-q/", 3)],
           ["v2/alerts?b=x+y&identifierType=id&a=%41&c",
            "v2/alerts/%s/message?a=A&b=x+y&c=&identifierType=alias" % OG_ALIAS,
            "v2/alerts/%s/description?a=A&b=x+y&c=&identifierType=alias" % OG_ALIAS],
           "update_alerts URLs with a query in api_url")
    finally:
        ar_sink.close()
        am_sink.close()


@suite.case("SeedSlackTitle")
def seed_slack_title(ctx):
    sink = RecordingSink()
    try:
        run(ctx, ctx.kind, sink)
        body = json.loads(sink.first("/slack/")["body"])
        eq(body["attachments"][0]["title"],
           "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)",
           "slack title")
        eq(body["attachments"][0]["title_link"], EXTERNAL + "/#/alerts?receiver=team",
           "title_link")
        pd = json.loads(sink.first("/pagerduty/")["body"])
        eq(pd["event_action"], "trigger", "pagerduty event_action")
        check(len(pd["dedup_key"]) == 64, "dedup_key %r is not a SHA-256 hex", pd["dedup_key"])
    finally:
        sink.close()


@suite.case("TeamsMessageCard", only="alertrouter")
def teams_card(ctx):
    sink = RecordingSink()
    try:
        run(ctx, "alertrouter", sink, teams=True)
        r = sink.first("/msteams/")
        eq(r["headers"].get("Content-Type"), "application/json", "Content-Type")
        body = r["body"].decode("utf-8")
        check(body.endswith("}\n"), "no trailing newline: %r", body[-10:])
        card = json.loads(body)
        eq(list(card.keys()), ["@context", "type", "title", "summary", "text", "themeColor"],
           "field order")
        eq(card["@context"], "http://schema.org/extensions", "@context")
        eq(card["type"], "MessageCard", "type")
        subject = ("[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor "
                   "docker-host-alpha critical)")
        eq(card["title"], subject, "title")
        eq(card["summary"], subject, "summary")
        eq(card["themeColor"], "8C1A1A", "themeColor")
    finally:
        sink.close()


def single_config(sink, kind):
    u = sink.url("")
    body = {
        "slack": "  slack_configs:\n  - api_url: %s/slack/services/T0/B0/slack-secret\n"
                 "    channel: '#alerts'\n" % u,
        "rocketchat": "  rocketchat_configs:\n  - api_url: %s/rocketchat\n"
                      "    channel: '#ops'\n    token: rc-secret\n    token_id: rc-user\n" % u,
        "opsgenie": "  opsgenie_configs:\n  - api_key: og-secret\n"
                    "    api_url: %s/opsgenie-upd/\n    update_alerts: true\n" % u,
    }[kind]
    return """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1h
  repeat_interval: 4h
receivers:
- name: team
""" + body


def delivery_log(srv, d):
    """The outcomes recorded for delivery row d (GET /api/x/deliveries/<id>)."""
    return srv.get_json("/api/x/deliveries/%d" % d["id"])["log"]


def no_secrets(srv, d):
    for secret in ("slack-secret", "rc-secret", "rc-user"):
        check(secret not in json.dumps(d), "secret %s in the delivery row", secret)
        check(secret not in json.dumps(delivery_log(srv, d)), "secret %s in the delivery log",
              secret)
        check(secret not in srv.log_text(), "secret %s in the server log", secret)


def reply_case(ctx, kind, reply, want_state, want_error=None, prefix=None):
    sink = RecordingSink(lambda path, n: reply)
    try:
        srv = ctx.server(single_config(sink, kind), args=["--log.level=debug"])
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, kind + "[0]")
        eq(d["state"], want_state, "%s delivery state for reply %r (error %r)"
           % (kind, reply, d.get("lastError")))
        if want_error is not None:
            check(want_error in d["lastError"], "error %r lacks %r", d["lastError"], want_error)
            eq(d["attempts"], 1, "attempts (a failure reply is final)")
            # outcome "failed": given up at once as unrecoverable, not after retries
            eq([(e["outcome"], e["attempts"]) for e in delivery_log(srv, d)], [("failed", 1)],
               "delivery log")
            # nothing more is sent for this flush (group_interval is 1h)
            time.sleep(1.5)
            eq(len(sink.requests), 1, "requests")
        no_secrets(srv, d)
    finally:
        sink.close()


@suite.case("SlackWebhookOk", only="alertrouter")
def slack_webhook_ok(ctx):
    reply_case(ctx, "slack", (200, "text/plain; charset=utf-8", b"ok"), "delivered")


@suite.case("SlackApiOk", only="alertrouter")
def slack_api_ok(ctx):
    reply_case(ctx, "slack", (200, "application/json; charset=utf-8",
                              b'{"ok":true,"channel":"C1","ts":"1.2"}'), "delivered")


@suite.case("SlackApiOkFalse", only="alertrouter")
def slack_api_false(ctx):
    reply_case(ctx, "slack", (200, "application/json", b'{"ok":false,"error":"channel_not_found"}'),
               "dead", 'channel "#alerts": error response from Slack: channel_not_found')


@suite.case("SlackWebhookTextError", only="alertrouter")
def slack_text_error(ctx):
    reply_case(ctx, "slack", (200, "text/html", b"invalid_payload"), "dead",
               'channel "#alerts": received an error response from Slack: invalid_payload')


@suite.case("SlackEmptyReply", only="alertrouter")
def slack_empty(ctx):
    # COMPAT (newest): an empty body is not "ok"
    reply_case(ctx, "slack", (200, None, b""), "dead",
               "received an error response from Slack: ")


@suite.case("RocketChatSuccess", only="alertrouter")
def rocketchat_ok(ctx):
    reply_case(ctx, "rocketchat", (200, "application/json", b'{"success":true}'), "delivered")


@suite.case("RocketChatSuccessFalse", only="alertrouter")
def rocketchat_false(ctx):
    reply_case(ctx, "rocketchat", (200, "application/json",
                                   b'{"success":false,"error":"error-invalid-channel"}'),
               "dead", 'channel "#ops": error response from Rocketchat: error-invalid-channel')


# COMPAT 9.3/9.8 (newest): a 2xx JSON reply that does not decode is retried (only
# "ok":false / "success":false and, for Slack, a text reply other than "ok" are final).
GARBLED = (200, "application/json", b"<html>gateway busy</html>")


def retried_then_ok_case(ctx, kind, good):
    """The first two replies do not decode, the third is good: three identical requests,
    one delivered row with 3 attempts, each failure logged with its reason."""
    sink = RecordingSink(lambda path, n: GARBLED if n < 2 else good)
    try:
        srv = ctx.server(single_config(sink, kind), args=["--log.level=debug"])
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, kind + "[0]")
        eq(d["state"], "delivered", "state (error %r)" % d.get("lastError"))
        eq(d["attempts"], 3, "attempts of the delivery")
        eq(len(sink.requests), 3, "requests at the sink")
        eq(len({r["body"] for r in sink.requests}), 1, "the same request sent each time")
        # one entry per attempt: the two retried failures (status 200, the reply quoted),
        # then the delivery
        log = delivery_log(srv, d)
        eq([(e["outcome"], e["attempts"], e["httpStatus"]) for e in log],
           [("retry", 1, 200), ("retry", 2, 200), ("delivered", 3, 200)], "delivery log")
        check(all("gateway busy" in e["error"] for e in log[:2]), "retry errors: %r", log)
        # each failed attempt is logged with its reason (debug level)
        failed = [l for l in srv.log_text().splitlines()
                  if "failed, will retry" in l and "could not unmarshal JSON response" in l
                  and "gateway busy" in l]
        eq(len(failed), 2, "failed attempts logged with their reason")
        no_secrets(srv, d)
    finally:
        sink.close()


@suite.case("SlackUndecodableReplyRetried", only="alertrouter")
def slack_garbled_retried(ctx):
    retried_then_ok_case(ctx, "slack", (200, "application/json", b'{"ok":true}'))


@suite.case("RocketChatUndecodableReplyRetried", only="alertrouter")
def rocketchat_garbled_retried(ctx):
    retried_then_ok_case(ctx, "rocketchat", (200, "application/json", b'{"success":true}'))


@suite.case("SlackUndecodableReplyDeadAfterRetries", only="alertrouter")
def slack_garbled_dead(ctx):
    # the reply never decodes: retried until the notify deadline (3s here), then a dead
    # letter whose recorded error says what Slack answered
    sink = RecordingSink(lambda path, n: GARBLED)
    try:
        srv = ctx.server(single_config(sink, "slack"),
                         args=["--log.level=debug", "--notify.deadline=3s"])
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, "slack[0]")
        eq(d["state"], "dead", "state")
        check(d["attempts"] >= 3, "attempts %d: not retried", d["attempts"])
        want = ('notify retry canceled after %d attempts: channel "#alerts": could not '
                'unmarshal JSON response "<html>gateway busy</html>": ' % d["attempts"])
        check(d["lastError"].startswith(want), "lastError %r, wanted %r...", d["lastError"],
              want)
        eq(d["lastStatus"], 200, "lastStatus")
        # each failed attempt scheduled for a retry, then the dead letter (the deadline may
        # come while the last attempt waits for its retry, or end it)
        log = [(e["outcome"], e["attempts"]) for e in delivery_log(srv, d)]
        n = d["attempts"]
        check(log in ([("retry", i) for i in range(1, n)] + [("dead", n)],
                      [("retry", i) for i in range(1, n + 1)] + [("dead", n)]),
              "delivery log (retryable: dead, not failed): %r", log)
        eq(len(sink.requests), d["attempts"], "requests at the sink")
        no_secrets(srv, d)
    finally:
        sink.close()


@suite.case("RocketChatSuccessFalseWithOkTrue", only="alertrouter")
def rocketchat_ok_key_ignored(ctx):
    # Rocket.Chat is judged by "success" alone: a Slack-style "ok":true does not pass
    reply_case(ctx, "rocketchat", (200, "application/json", b'{"ok":true}'), "dead",
               'channel "#ops": error response from Rocketchat: ')


@suite.case("OpsgenieUpdateRetriedAlone", only="alertrouter")
def opsgenie_update_retry(ctx):
    # the PUT message answered 500 once: only it is sent again, then the description
    def reply(path, n):
        if path.endswith("/message?identifierType=alias") and n == 0:
            return 500, "application/json", b'{"message":"try later"}'
        return 202, "application/json", b'{"result":"Request will be processed"}'
    sink = RecordingSink(reply)
    try:
        srv = ctx.server(single_config(sink, "opsgenie"))
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, "opsgenie[0]")
        eq(d["state"], "delivered", "state (error %r)" % d.get("lastError"))
        got = [(r["method"], r["path"].split("/")[-1]) for r in sink.under("/opsgenie-upd/", 4)]
        eq(got, [("POST", "alerts"), ("PUT", "message?identifierType=alias"),
                 ("PUT", "message?identifierType=alias"),
                 ("PUT", "description?identifierType=alias")], "requests")
        eq(d["attempts"], 4, "attempts of the delivery")
        for r in sink.requests:
            eq(r["headers"].get("Authorization"), "GenieKey og-secret", "Authorization")
    finally:
        sink.close()


if __name__ == "__main__":
    suite.main(jobs=2)
