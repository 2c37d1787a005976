#!/usr/bin/env python3
"""WeChat, SNS, Jira and incident.io (COMPAT 9.14-9.17): each integration pointed at a local
fake of its service (an HTTP server on 127.0.0.1 that answers as the service does), the seed
alert posted, and the captured requests checked: method, path and query, the headers that
matter (Content-Type, Authorization, User-Agent) and the body fields. Alertmanager 0.25 has
no Jira nor incident.io and cannot sign SNS requests for a local endpoint without AWS
credentials of its own, so these cases run on alertrouter only, against the payloads the
newest Alertmanager sends."""

import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
import urllib.parse

from harness import (AM_BINARY, SEED_LABELS, FakeService, Server, Skip, Suite, alert, check,
                     check_no_secret, eq, finished_delivery, poll, targets, ts)

suite = Suite("20-wechat-sns-jira-incidentio")

EXTERNAL = "http://am.example:9093"
STARTS = "2026-11-27T09:21:50.201460419Z"
SUBJECT = "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)"
GROUP_KEY = '{}:{alertname="monitor_service_down"}'


def json_reply(obj, status=200):
    return status, "application/json", json.dumps(obj).encode()


def seed_alert(labels=None):
    return alert(labels or SEED_LABELS, {"summary": "down"}, starts=STARTS,
                 ends="2099-01-01T00:00:00Z", url="http://prometheus:9090/graph")


def config(receivers, glob=""):
    return glob + """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1h
  repeat_interval: 4h
receivers:
- name: team
""" + receivers


def start(ctx, receivers, glob=""):
    return ctx.server(config(receivers, glob), args=["--web.external-url=" + EXTERNAL,
                                               "--log.level=debug"])


def common_headers(r, what, ctype="application/json"):
    eq(r["headers"].get("Content-Type"), ctype, what + " Content-Type")
    check(r["headers"].get("User-Agent", "").startswith("Alertmanager/"),
          "%s User-Agent %r", what, r["headers"].get("User-Agent"))


# ---- incident.io ------------------------------------------------------------------------

@suite.case("IncidentioWebhookMessage", only="alertrouter")
def incidentio_message(ctx):
    svc = FakeService(lambda m, p, b, n: json_reply({"status": "success"}, 202))
    tmp = tempfile.mkdtemp(prefix="ar-e2e-incidentio-")
    url_file = os.path.join(tmp, "url")
    with open(url_file, "w") as f:
        f.write("  %s/v2/alert_events/http/from-file \n" % svc.url())
    try:
        srv = start(ctx, """\
  incidentio_configs:
  - url: %s/v2/alert_events/http/01SOURCE
    alert_source_token: inc-secret-token
    max_alerts: 1
  - url_file: %s
    http_config:
      authorization:
        credentials: http-cred
""" % (svc.url(), url_file), glob="global:\n  http_config:\n    authorization: {credentials: g-cred}\n")
        other = dict(SEED_LABELS, instance="cadvisor:8081")
        srv.post_ok([seed_alert(), seed_alert(other)])
        reqs = {r["path"]: r for r in svc.wait(2)}
        r = reqs.get("/v2/alert_events/http/01SOURCE")
        check(r is not None, "no request to url (got %s)", list(reqs))
        eq(r["method"], "POST", "method")
        common_headers(r, "incidentio[0]")
        # the token replaces the (inherited, global) http_config authorization
        eq(r["headers"].get("Authorization"), "Bearer inc-secret-token",
           "Authorization from alert_source_token")
        eq(sum(1 for k, _ in r["header_list"] if k.lower() == "authorization"), 1,
           "Authorization headers")
        check(r["body"].endswith(b"}\n"), "no trailing newline")
        body = json.loads(r["body"])
        eq(list(body.keys()), ["receiver", "status", "alerts", "groupLabels", "commonLabels",
                               "commonAnnotations", "externalURL", "version", "groupKey",
                               "truncatedAlerts"], "field order")
        eq(body["version"], "1", "version")
        eq(body["groupKey"], GROUP_KEY, "groupKey")
        eq(body["receiver"], "team", "receiver")
        eq(body["status"], "firing", "status")
        eq(body["externalURL"], EXTERNAL, "externalURL")
        eq(body["groupLabels"], {"alertname": "monitor_service_down"}, "groupLabels")
        eq(len(body["alerts"]), 1, "alerts kept by max_alerts: 1")
        eq(body["truncatedAlerts"], 1, "truncatedAlerts")
        eq(body["alerts"][0]["labels"], SEED_LABELS, "first alert's labels")
        eq(body["alerts"][0]["startsAt"], STARTS, "startsAt")
        r = reqs.get("/v2/alert_events/http/from-file")
        check(r is not None, "no request to the url_file URL (got %s)", list(reqs))
        eq(r["headers"].get("Authorization"), "Bearer http-cred",
           "Authorization from http_config without a token")
        body = json.loads(r["body"])
        eq(len(body["alerts"]), 2, "alerts without max_alerts")
        eq(body["truncatedAlerts"], 0, "truncatedAlerts")
        for i in (0, 1):
            eq(finished_delivery(srv, "incidentio[%d]" % i)["state"], "delivered", "delivery state")
        check_no_secret(srv, "inc-secret-token")
    finally:
        svc.close()


@suite.case("IncidentioRetries429", only="alertrouter")
def incidentio_429(ctx):
    # 429 then 202: retried, one delivery with 2 attempts; 400 is final
    def reply(method, path, body, n):
        if path == "/bad":
            return json_reply({"message": "invalid payload"}, 400)
        if n == 0:
            return json_reply({"message": "rate limited"}, 429)
        return json_reply({"status": "success"}, 202)
    svc = FakeService(reply)
    try:
        srv = start(ctx, """\
  incidentio_configs:
  - url: %s/ok
    alert_source_token: t1
  - url: %s/bad
    alert_source_token: t2
""" % (svc.url(), svc.url()))
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, "incidentio[0]")
        eq((d["state"], d["attempts"]), ("delivered", 2), "429 retried")
        d = finished_delivery(srv, "incidentio[1]")
        eq((d["state"], d["attempts"]), ("dead", 1), "400 final")
        check("unexpected status code 400" in d["lastError"], "lastError %r", d["lastError"])
    finally:
        svc.close()


# ---- SNS ----------------------------------------------------------------------------------

SNS_REPLY = (200, "text/xml", b'<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
             b"<PublishResult><MessageId>94f20ce6-13c5-43a0-9a9e-ca52d816e90b</MessageId>"
             b"</PublishResult><ResponseMetadata><RequestId>f187a3c1-376f-11df-8963-01868b7c937a"
             b"</RequestId></ResponseMetadata></PublishResponse>")


def sigv4_check(r, key_id, secret, region, service):
    """Recomputes the AWS Signature Version 4 of captured request r from the headers it
    names as signed, and compares it with the one sent."""
    auth = r["headers"].get("Authorization", "")
    check(auth.startswith("AWS4-HMAC-SHA256 "), "Authorization %r is not SigV4", auth)
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    amz_date = r["headers"].get("X-Amz-Date", "")
    check(len(amz_date) == 16 and amz_date.endswith("Z"), "X-Amz-Date %r", amz_date)
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    eq(fields.get("Credential"), key_id + "/" + scope, "SigV4 credential scope")
    signed = fields["SignedHeaders"].split(";")
    for h in ("host", "x-amz-date", "content-type"):
        check(h in signed, "%s not signed (%s)", h, signed)
    lower = {k.lower(): v for k, v in r["headers"].items()}
    path, _, query = r["path"].partition("?")
    canonical = "\n".join([
        r["method"], path, "&".join(sorted(query.split("&"))) if query else "",
        "".join("%s:%s\n" % (h, " ".join(lower[h].split())) for h in signed),
        fields["SignedHeaders"], hashlib.sha256(r["body"]).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    eq(fields.get("Signature"), hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(),
       "SigV4 signature")


@suite.case("SnsPublishSigned", only="alertrouter")
def sns_publish(ctx):
    svc = FakeService(lambda m, p, b, n: SNS_REPLY)
    long_text = "x" * 1700
    try:
        srv = start(ctx, """\
  sns_configs:
  - api_url: %s/
    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts.fifo
    sigv4: {region: eu-west-1, access_key: AKIDEXAMPLE, secret_key: sns-secret-key}
    attributes: {severity: '{{ .CommonLabels.severity }}', team: ops}
  - api_url: %s/sms/
    phone_number: '+15555550100'
    subject: 'ignored by SMS'
    message: '%s'
    sigv4: {region: us-east-1, access_key: AKIDSMS, secret_key: sms-secret-key}
""" % (svc.url(), svc.url(), long_text))
        srv.post_ok([seed_alert()])
        reqs = {r["path"]: r for r in svc.wait(2)}
        r = reqs.get("/")
        check(r is not None, "no Publish to api_url (got %s)", list(reqs))
        eq(r["method"], "POST", "method")
        common_headers(r, "sns[0]", "application/x-www-form-urlencoded; charset=utf-8")
        sigv4_check(r, "AKIDEXAMPLE", "sns-secret-key", "eu-west-1", "sns")
        form = urllib.parse.parse_qs(r["body"].decode(), keep_blank_values=True)
        form = {k: v[0] for k, v in form.items()}
        keys = [kv.split("=", 1)[0] for kv in r["body"].decode().split("&")]
        eq(keys, sorted(keys), "parameters sorted by name")
        eq(form["Action"], "Publish", "Action")
        eq(form["Version"], "2010-03-31", "Version")
        eq(form["TopicArn"], "arn:aws:sns:eu-west-1:123456789012:alerts.fifo", "TopicArn")
        gk_hash = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
        eq(form["MessageGroupId"], gk_hash, "MessageGroupId of a FIFO topic")
        eq(form["MessageDeduplicationId"], gk_hash, "MessageDeduplicationId")
        eq(form["Subject"], SUBJECT, "Subject")
        check("Alerts Firing:" in form["Message"] and "summary = down" in form["Message"],
              "Message %r", form["Message"])
        attrs = {}
        for k, v in form.items():
            if k.startswith("MessageAttributes.entry."):
                n, field = k[len("MessageAttributes.entry."):].split(".", 1)
                attrs.setdefault(n, {})[field] = v
        eq(sorted((a["Name"], a["Value.DataType"], a["Value.StringValue"])
                  for a in attrs.values()),
           [("severity", "String", "critical"), ("team", "String", "ops")], "attributes")
        r = reqs.get("/sms/")
        check(r is not None, "no Publish to the SMS api_url (got %s)", list(reqs))
        sigv4_check(r, "AKIDSMS", "sms-secret-key", "us-east-1", "sns")
        form = {k: v[0] for k, v in urllib.parse.parse_qs(r["body"].decode()).items()}
        eq(form["PhoneNumber"], "+15555550100", "PhoneNumber")
        check("TopicArn" not in form, "TopicArn sent with a phone number")
        eq(form["Message"], "x" * 1600, "SMS message cut to 1600 bytes")
        eq((form["MessageAttributes.entry.1.Name"],
            form["MessageAttributes.entry.1.Value.StringValue"]), ("truncated", "true"),
           "truncated attribute")
        for i in (0, 1):
            eq(finished_delivery(srv, "sns[%d]" % i)["state"], "delivered", "delivery state")
        check_no_secret(srv, "sns-secret-key")
    finally:
        svc.close()


@suite.case("SnsSameAsAlertmanager", only="alertrouter")
def sns_same(ctx):
    # the Publish parameters equal 0.25's (both sign; signatures and dates differ)
    if "alertmanager" not in targets():
        raise Skip("reference Alertmanager not installed (%s)" % AM_BINARY)
    ar_svc, am_svc = FakeService(lambda m, p, b, n: SNS_REPLY), \
        FakeService(lambda m, p, b, n: SNS_REPLY)
    receivers = """\
  sns_configs:
  - api_url: %s/
    topic_arn: arn:aws:sns:eu-west-1:123456789012:alerts.fifo
    sigv4: {region: eu-west-1, access_key: AKIDEXAMPLE, secret_key: sns-secret-key}
    attributes: {severity: '{{ .CommonLabels.severity }}'}
"""
    try:
        for kind, svc in (("alertrouter", ar_svc), ("alertmanager", am_svc)):
            srv = Server(kind, config(receivers % svc.url()),
                         args=["--web.external-url=" + EXTERNAL], start=False)
            ctx.servers.append(srv)
            srv.start()
            srv.post_ok([seed_alert()])
        got, want = ar_svc.wait(1)[0], am_svc.wait(1)[0]
        eq((got["method"], got["path"]), (want["method"], want["path"]), "method and path")
        eq(got["headers"].get("Content-Type"), want["headers"].get("Content-Type"),
           "Content-Type")
        eq(urllib.parse.parse_qs(got["body"].decode()), urllib.parse.parse_qs(want["body"].decode()),
           "Publish parameters")
        eq([kv.split("=", 1)[0] for kv in got["body"].decode().split("&")],
           [kv.split("=", 1)[0] for kv in want["body"].decode().split("&")], "parameter order")
        sigv4_check(want, "AKIDEXAMPLE", "sns-secret-key", "eu-west-1", "sns")
    finally:
        ar_svc.close()
        am_svc.close()


@suite.case("SnsErrorReply", only="alertrouter")
def sns_error(ctx):
    # SNS answers a bad request 400 with an XML error: final; 500 is retried
    err = (b'<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code>'
           b'<Message>Invalid parameter: TopicArn</Message></Error></ErrorResponse>')
    svc = FakeService(lambda m, p, b, n: (400, "text/xml", err) if p == "/bad/"
                      else (500, "text/xml", b"") if n == 0 else SNS_REPLY)
    try:
        srv = start(ctx, """\
  sns_configs:
  - api_url: %s/bad/
    topic_arn: arn:aws:sns:eu-west-1:123456789012:nope
    sigv4: {region: eu-west-1, access_key: AK, secret_key: SK}
  - api_url: %s/flaky/
    target_arn: arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/1
    sigv4: {region: eu-west-1, access_key: AK, secret_key: SK}
""" % (svc.url(), svc.url()))
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, "sns[0]")
        eq((d["state"], d["attempts"]), ("dead", 1), "400 is final")
        check("InvalidParameter" in d["lastError"], "lastError %r", d["lastError"])
        d = finished_delivery(srv, "sns[1]")
        eq((d["state"], d["attempts"]), ("delivered", 2), "500 retried")
        form = {k: v[0] for k, v in
                urllib.parse.parse_qs(svc.wait(1, "/flaky/")[0]["body"].decode()).items()}
        eq(form["TargetArn"], "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/1",
           "TargetArn")
    finally:
        svc.close()


# ---- WeChat -------------------------------------------------------------------------------

def wechat_service(expire_first=False):
    """A fake WeChat Work API: each gettoken path hands out tok-1, tok-2, ... in turn;
    message/send answers errcode 0, or 42001 (token expired) to the first send of a path
    when expire_first."""
    def reply(method, path, body, n):
        base = path.split("?", 1)[0]
        if method == "GET" and base.endswith("/gettoken"):
            return json_reply({"errcode": 0, "errmsg": "ok", "access_token": "tok-%d" % (n + 1),
                               "expires_in": 7200})
        if method == "POST" and base.endswith("/message/send"):
            if expire_first and n == 0:
                return json_reply({"errcode": 42001, "errmsg": "access_token expired"})
            return json_reply({"errcode": 0, "errmsg": "ok"})
        return json_reply({"errcode": 404, "errmsg": "no such API"}, 404)
    return FakeService(reply)


def wechat_config(svc):
    return """\
  wechat_configs:
  - to_user: '@all'
    agent_id: '1000002'
  - message_type: markdown
    to_party: '2'
    api_url: %s/second/
    corp_id: corp2
""" % svc.url(), "global:\n  wechat_api_url: %s/cgi-bin/\n  wechat_api_secret: wx-secret\n" \
        "  wechat_api_corp_id: corp1\n" % svc.url()


def query(path):
    return {k: v[0] for k, v in urllib.parse.parse_qs(path.split("?", 1)[1]).items()}


@suite.case("WechatTokenThenSend", only="alertrouter")
def wechat_send(ctx):
    svc = wechat_service()
    try:
        receivers, glob = wechat_config(svc)
        srv = start(ctx, receivers, glob)
        srv.post_ok([seed_alert()])
        got = svc.wait(2, "/cgi-bin/")
        eq([(r["method"], r["base"]) for r in got],
           [("GET", "/cgi-bin/gettoken"), ("POST", "/cgi-bin/message/send")], "requests")
        eq(query(got[0]["path"]), {"corpid": "corp1", "corpsecret": "wx-secret"},
           "gettoken query")
        check("Content-Type" not in got[0]["headers"], "Content-Type on a GET")
        eq(query(got[1]["path"]), {"access_token": "tok-1"}, "message/send query")
        common_headers(got[1], "message/send")
        check(got[1]["body"].endswith(b"}\n"), "no trailing newline")
        msg = json.loads(got[1]["body"])
        eq(list(msg.keys()), ["text", "touser", "agentid", "safe", "msgtype", "markdown"],
           "fields (empty ones left out)")
        eq((msg["touser"], msg["agentid"], msg["safe"], msg["msgtype"]),
           ("@all", "1000002", "0", "text"), "fields")
        eq(msg["markdown"], {"content": ""}, "markdown of a text message")
        check(msg["text"]["content"].startswith(SUBJECT + "\ndown\nAlerts Firing:\n"), "text %r",
              msg["text"]["content"])
        check("AlertmanagerUrl:\n" + EXTERNAL in msg["text"]["content"],
              "no AlertmanagerUrl in %r", msg["text"]["content"])
        got = svc.wait(2, "/second/")
        eq(query(got[0]["path"]), {"corpid": "corp2", "corpsecret": "wx-secret"},
           "second gettoken: its own corp_id, the global secret")
        msg = json.loads(got[1]["body"])
        eq((msg["msgtype"], msg["toparty"], msg["text"]), ("markdown", "2", {"content": ""}),
           "markdown message")
        check(msg["markdown"]["content"].startswith(SUBJECT + "\ndown\nAlerts Firing:"),
              "markdown %r",
              msg["markdown"]["content"])
        for i in (0, 1):
            eq(finished_delivery(srv, "wechat[%d]" % i)["state"], "delivered", "delivery state")
        # a second group: the token is kept (two hours), only message/send is called
        other = dict(SEED_LABELS, alertname="other_alert")
        srv.post_ok([seed_alert(other)])
        got = svc.wait(3, "/cgi-bin/")
        eq((got[2]["method"], got[2]["base"], query(got[2]["path"])),
           ("POST", "/cgi-bin/message/send", {"access_token": "tok-1"}), "token kept")
        time.sleep(0.5)
        eq(sum(1 for r in svc.requests if r["base"] == "/cgi-bin/gettoken"), 1, "gettoken calls")
        check_no_secret(srv, "wx-secret")
        check_no_secret(srv, "tok-1")
    finally:
        svc.close()


@suite.case("WechatExpiredTokenRefetched", only="alertrouter")
def wechat_expired(ctx):
    svc = wechat_service(expire_first=True)
    try:
        srv = start(ctx, "  wechat_configs:\n  - to_user: ops\n",
                    "global:\n  wechat_api_url: %s/cgi-bin/\n  wechat_api_secret: s\n"
                    "  wechat_api_corp_id: c\n" % svc.url())
        srv.post_ok([seed_alert()])
        d = finished_delivery(srv, "wechat[0]")
        eq(d["state"], "delivered", "state (error %r)" % d.get("lastError"))
        got = svc.requests
        eq([(r["method"], r["base"], query(r["path"]).get("access_token")) for r in got],
           [("GET", "/cgi-bin/gettoken", None), ("POST", "/cgi-bin/message/send", "tok-1"),
            ("GET", "/cgi-bin/gettoken", None), ("POST", "/cgi-bin/message/send", "tok-2")],
           "42001: a new token, then the message again")
    finally:
        svc.close()


@suite.case("WechatSameAsAlertmanager", only="alertrouter")
def wechat_same(ctx):
    if "alertmanager" not in targets():
        raise Skip("reference Alertmanager not installed (%s)" % AM_BINARY)
    ar_svc, am_svc = wechat_service(), wechat_service()
    try:
        for kind, svc in (("alertrouter", ar_svc), ("alertmanager", am_svc)):
            receivers, glob = wechat_config(svc)
            srv = Server(kind, config(receivers, glob),
                         args=["--web.external-url=" + EXTERNAL], start=False)
            ctx.servers.append(srv)
            srv.start()
            srv.post_ok([seed_alert()])
        for prefix in ("/cgi-bin/", "/second/"):
            got, want = ar_svc.wait(2, prefix), am_svc.wait(2, prefix)
            for g, w in zip(got, want):
                what = "%s %s" % (w["method"], w["base"])
                eq((g["method"], g["path"]), (w["method"], w["path"]), what)
                for h in ("Content-Type", "User-Agent"):
                    eq(g["headers"].get(h), w["headers"].get(h), what + " " + h)
                eq(g["body"].decode(), w["body"].decode(), what + " body")
    finally:
        ar_svc.close()
        am_svc.close()


# ---- Jira ---------------------------------------------------------------------------------

class FakeJira:
    """A stateful fake of Jira's REST API v2 under /rest/api/2: search by the ALERT label,
    create (OPS-1, OPS-2, ... in status category "new"), update, and the transitions
    "Done" (id 21, category done) and "Reopen" (id 31, category indeterminate)."""

    TRANSITIONS = {"21": ("Done", "done"), "31": ("Reopen", "indeterminate")}

    def __init__(self):
        self.issues = {}  # key -> {"labels": [...], "category": ...}
        self.lock = threading.Lock()
        self.svc = FakeService(self.reply)

    def reply(self, method, path, body, n):
        p = path.split("?", 1)[0]
        with self.lock:
            if method == "POST" and p == "/rest/api/2/search":
                jql = json.loads(body)["jql"]
                label = jql.split('labels="', 1)[1].split('"', 1)[0]
                found = [{"id": "1", "key": k, "fields": {"status": {
                          "name": v["category"], "statusCategory": {"key": v["category"]}}}}
                         for k, v in sorted(self.issues.items()) if label in v["labels"]
                         and (v["category"] != "done" or "statusCategory != Done" not in jql)]
                return json_reply({"startAt": 0, "maxResults": 2, "total": len(found),
                                   "issues": found})
            if method == "POST" and p == "/rest/api/2/issue":
                key = "OPS-%d" % (len(self.issues) + 1)
                self.issues[key] = {"labels": json.loads(body)["fields"]["labels"],
                                    "category": "new"}
                return json_reply({"id": "1000%d" % len(self.issues), "key": key,
                                   "self": self.svc.url("/rest/api/2/issue/" + key)}, 201)
            parts = p.split("/")
            if len(parts) >= 6 and parts[4] == "issue" and parts[5] in self.issues:
                key = parts[5]
                if method == "PUT" and len(parts) == 6:
                    return 204, None, b""
                if method == "GET" and parts[6:] == ["transitions"]:
                    return json_reply({"transitions": [{"id": i, "name": v[0]} for i, v in
                                                       sorted(self.TRANSITIONS.items())]})
                if method == "POST" and parts[6:] == ["transitions"]:
                    tid = json.loads(body)["transition"]["id"]
                    self.issues[key]["category"] = self.TRANSITIONS[tid][1]
                    return 204, None, b""
            return json_reply({"errorMessages": ["not found"], "errors": {}}, 404)


JIRA_RECEIVER = """\
  jira_configs:
  - api_url: %s/rest/api/2/
    project: OPS
    issue_type: Bug
    labels: ['{{ .CommonLabels.job }}', alertmanager]
    resolve_transition: Done
    description:
      enable_update: false
    fields:
      customfield_10001: '{{ .CommonLabels.instance }}'
      customfield_10002: {value: '{{ .Status }}', n: 2, on: true}
    http_config:
      basic_auth: {username: jira-user, password: jira-secret}
"""


@suite.case("JiraCreateUpdateResolve", only="alertrouter")
def jira_flow(ctx):
    jira = FakeJira()
    svc = jira.svc
    try:
        srv = ctx.server(config(JIRA_RECEIVER % svc.url()).replace("group_interval: 1h",
                                                                   "group_interval: 1s"),
                         args=["--web.external-url=" + EXTERNAL, "--log.level=debug"])
        starts = ts(-60)
        firing = alert(SEED_LABELS, {"summary": "down"}, starts=starts,
                       url="http://prometheus:9090/graph")
        srv.post_ok([firing])
        got = svc.wait(2)
        eq([(r["method"], r["base"]) for r in got],
           [("POST", "/rest/api/2/search"), ("POST", "/rest/api/2/issue")],
           "a new group: search, then create")
        label = "ALERT{%s}" % hashlib.sha256(GROUP_KEY.encode()).hexdigest()
        for r in got:
            common_headers(r, r["method"] + " " + r["base"])
            eq(r["headers"].get("Accept-Language"), "en", "Accept-Language")
            eq(r["headers"].get("Authorization"), "Basic amlyYS11c2VyOmppcmEtc2VjcmV0",
               "basic auth from http_config")
            check(r["body"].endswith(b"}\n"), "no trailing newline")
        search = json.loads(got[0]["body"])
        eq(list(search.keys()), ["fields", "jql", "maxResults"], "search fields")
        eq((search["fields"], search["maxResults"]), (["status"], 2), "search")
        eq(search["jql"], 'statusCategory != Done and project="OPS" and labels="%s" '
           'order by status ASC,resolutiondate DESC' % label, "jql")
        fields = json.loads(got[1]["body"])["fields"]
        eq(list(fields.keys()), sorted(fields.keys()), "fields sorted")
        eq(sorted(fields.keys()), ["customfield_10001", "customfield_10002", "description",
                                   "issuetype", "labels", "priority", "project", "summary"],
           "issue fields")
        eq(fields["summary"], SUBJECT, "summary")
        check("# Alerts Firing:" in fields["description"], "description %r",
              fields["description"])
        eq(fields["issuetype"], {"name": "Bug"}, "issuetype")
        eq(fields["project"], {"key": "OPS"}, "project")
        eq(fields["priority"], {"name": "High"}, "priority of a critical alert")
        eq(fields["labels"], sorted(["cadvisor", "alertmanager", label]), "labels, sorted")
        eq(fields["customfield_10001"], "cadvisor:8080", "templated custom field")
        eq(fields["customfield_10002"], {"value": "firing", "n": 2, "on": True},
           "structured custom field")
        eq(finished_delivery(srv, "jira[0]")["state"], "delivered", "create delivered")

        # resolved: the open issue is updated (without its description: enable_update off)
        # and moved with the "Done" transition
        resolved = dict(firing, endsAt=ts(-1))
        srv.post_ok([resolved])
        got = svc.wait(6)[2:]
        eq([(r["method"], r["base"]) for r in got],
           [("POST", "/rest/api/2/search"), ("PUT", "/rest/api/2/issue/OPS-1"),
            ("GET", "/rest/api/2/issue/OPS-1/transitions"),
            ("POST", "/rest/api/2/issue/OPS-1/transitions")], "resolve: update, transition")
        fields = json.loads(got[1]["body"])["fields"]
        check("description" not in fields, "description updated although enable_update is off")
        eq(fields["summary"], SUBJECT.replace("[FIRING:1]", "[RESOLVED]"), "updated summary")
        eq(fields["customfield_10002"]["value"], "resolved", "custom field re-rendered")
        check("Content-Type" not in got[2]["headers"], "Content-Type on the GET")
        eq(json.loads(got[3]["body"]), {"transition": {"id": "21"}}, "transition by name")
        eq(jira.issues["OPS-1"]["category"], "done", "issue resolved")
        check_no_secret(srv, "jira-secret")
    finally:
        svc.close()


@suite.case("JiraResolvedWithoutIssueAndErrors", only="alertrouter")
def jira_edge(ctx):
    # the search never finds the issue: a resolved group creates none (its delivery ends
    # after the search); a 400 on create is final
    def reply(method, path, body, n):
        if path.endswith("/search"):
            return json_reply({"issues": []})
        if path.startswith("/bad/"):
            return json_reply({"errorMessages": [],
                               "errors": {"project": "project is required"}}, 400)
        return json_reply({"id": "10001", "key": "OPS-1"}, 201)
    svc = FakeService(reply)
    try:
        receivers = (JIRA_RECEIVER % (svc.url() + "/good")) + """\
  - api_url: %s/bad/rest/api/2/
    project: OPS
    issue_type: Bug
""" % svc.url()
        srv = ctx.server(config(receivers).replace("group_interval: 1h", "group_interval: 1s"),
                         args=["--web.external-url=" + EXTERNAL, "--log.level=debug"])
        firing = alert(SEED_LABELS, {"summary": "down"}, starts=ts(-60))
        srv.post_ok([firing])
        d = finished_delivery(srv, "jira[1]")
        # two requests of one chain (search, create); the create is not tried again
        eq((d["state"], d["attempts"]), ("dead", 2), "a 400 on create is final")
        check("unexpected status code 400" in d["lastError"], "lastError %r", d["lastError"])
        eq(len([r for r in svc.requests if r["path"].startswith("/bad/")]), 2,
           "requests to the failing Jira")
        eq(finished_delivery(srv, "jira[0]")["state"], "delivered", "created")
        srv.post_ok([dict(firing, endsAt=ts(-1))])

        def resolved_done():
            rows = [d for d in srv.get_json("/api/x/deliveries")
                    if d["integration"] == "jira[0]" and d["state"] == "delivered"]
            return rows if len(rows) == 2 else None
        poll(resolved_done, timeout=20, what="the resolved delivery of jira[0]")
        time.sleep(0.3)
        eq([(r["method"], r["base"]) for r in svc.requests if r["path"].startswith("/good/")],
           [("POST", "/good/rest/api/2/search"), ("POST", "/good/rest/api/2/issue"),
            ("POST", "/good/rest/api/2/search")], "no issue created for the resolved group")
    finally:
        svc.close()


if __name__ == "__main__":
    suite.main(jobs=2)
