#!/usr/bin/env python3
"""Annotations stored compressed (alertrouter's memory saving, src/textpack.c) read back
exactly everywhere an alert's annotations appear: GET /api/v2/alerts, GET
/api/v2/alerts/groups, webhook payloads (annotations and commonAnnotations), templates of
a chat integration, and after kill -9 and a restart (the replay packs them again).

alertrouter learns its dictionary from the first ~32 KiB of annotation sets it sees, so
the cases post a few hundred templated alerts (~400 bytes of annotations each, with JSON
escapes and non-ASCII text): most of them end up packed, which the alertrouter run proves
with its /metrics counter. The same cases run against Alertmanager, which stores them as
they are, so every expectation is checked on the reference too."""

from harness import Suite, alert, check, eq, ts

suite = Suite("15-packed-annotations")

N = 400
CHAT = 5  # the last CHAT alerts also go to a Slack receiver with annotation templates

CONF = """\
route:
  receiver: hook
  group_by: ['...']
  group_wait: 0s
  group_interval: 1h
  repeat_interval: 1h
  routes:
  - receiver: chat
    matchers: ['chat="yes"']
    continue: true
  - receiver: hook
receivers:
- name: hook
  webhook_configs:
  - url: '%s'
- name: chat
  slack_configs:
  - api_url: '%s'
    channel: '#ops'
    title: '{{ .CommonAnnotations.summary }}'
    text: '{{ range .Alerts }}{{ .Annotations.description }}{{ end }}'
"""


def annotations(i):
    ip = "10.%d.%d.%d:9100" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    return {
        "summary": "Instance %s of job node-exporter is down" % ip,
        "description": ("%s of job \"node-exporter\" in namespace ns-%d has been down for more "
                        "than 5 minutes.\nCheck the node, the kubelet & the <network policy>;\t"
                        "contact team-%d (équipe %d, 团队) if it lasts longer than 30 minutes."
                        % (ip, i % 97, i % 13, i % 13)),
        "runbook_url": "https://runbooks.example.com/node-exporter/InstanceDown",
    }


def labels(i):
    l = {"alertname": "InstanceDown", "instance": "host-%d" % i, "job": "node-exporter"}
    if i >= N - CHAT:
        l["chat"] = "yes"
    return l


def post_all(srv):
    starts, ends = ts(-60), ts(3600)
    for k in range(0, N, 50):
        srv.post_ok([alert(labels(i), annotations(i), starts=starts, ends=ends)
                     for i in range(k, min(N, k + 50))])


def by_instance(alerts):
    return {a["labels"]["instance"]: a for a in alerts}


def check_api(srv, what):
    got = by_instance(srv.alerts())
    eq(len(got), N, "%s: alerts listed" % what)
    bad = [i for i in range(N) if got["host-%d" % i]["annotations"] != annotations(i)]
    eq(bad[:5], [], "%s: alerts whose annotations differ (first 5)" % what)
    groups = srv.get_json("/api/v2/alerts/groups")
    seen = 0
    for g in groups:
        for a in g["alerts"]:
            i = int(a["labels"]["instance"].split("-")[1])
            eq(a["annotations"], annotations(i), "%s: annotations in GET groups" % what)
            seen += 1
    eq(seen, N + CHAT, "%s: alerts in GET groups (chat alerts in two groups)" % what)


def packed_total(srv):
    for line in srv.get("/metrics")[2].decode().splitlines():
        if line.startswith("alertrouter_annotations_packed_total "):
            return float(line.split()[1])
    return None


@suite.case("api-and-notifications")
def api_and_notifications(ctx):
    hook = ctx.sink()
    chat = ctx.sink(reply=("text/plain; charset=utf-8", b"ok"))
    srv = ctx.server(CONF % (hook.url("/hook"), chat.url("/services/T0/B0/X")))
    post_all(srv)
    if not ctx.is_am:
        n = packed_total(srv)
        check(n is not None and n >= N / 2, "most annotation sets packed (metric: %s)" % n)
    check_api(srv, "after POST")

    rec = hook.wait_for(N, timeout=60)
    payloads = [p for (_t, path, _b, p) in rec if path == "/hook"]
    eq(len(payloads), N, "webhook notifications (one group per alert)")
    for p in payloads:
        eq(len(p["alerts"]), 1, "alerts per notification")
        a = p["alerts"][0]
        i = int(a["labels"]["instance"].split("-")[1])
        eq(a["annotations"], annotations(i), "annotations in the webhook payload")
        eq(p["commonAnnotations"], annotations(i), "commonAnnotations in the webhook payload")

    rec = chat.wait_for(CHAT, timeout=30)
    texts = {}
    for (_t, _path, _b, p) in rec:
        att = p["attachments"][0]
        texts[att["title"]] = att["text"]
    want = {annotations(i)["summary"]: annotations(i)["description"] for i in range(N - CHAT, N)}
    eq(texts, want, "Slack title/text rendered from the annotations")


@suite.case("kill9-restart", only="alertrouter")
def kill9_restart(ctx):
    hook = ctx.sink()
    chat = ctx.sink(reply=("text/plain; charset=utf-8", b"ok"))
    srv = ctx.server(CONF % (hook.url("/hook"), chat.url("/services/T0/B0/X")))
    post_all(srv)
    check_api(srv, "before kill -9")
    hook.wait_for(N, timeout=60)  # no delivery in flight: the sinks see no reset connection
    chat.wait_for(CHAT, timeout=30)
    srv.kill9()
    srv.start()
    # the replay of the alert log learns a dictionary again and packs what it loads
    n = packed_total(srv)
    check(n is not None and n >= N / 2, "annotation sets packed by the replay (metric: %s)" % n)
    check_api(srv, "after kill -9 and restart")


if __name__ == "__main__":
    suite.main(jobs=2)
