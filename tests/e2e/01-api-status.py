#!/usr/bin/env python3
"""/api/v2/status, /api/v2/receivers, /-/healthy, /-/ready, CORS and route prefixes
(COMPAT 1.1, 1.7-1.9)."""

import os
import re
import time

from harness import (AMTOOL, UTC_MS_TS_RE, Suite, alert, check, epoch, eq, free_port, http_request,
                     poll, pg_mode, Fail)

suite = Suite("01-api-status")

SECRET_CONFIG = """\
global:
  resolve_timeout: 5m
  slack_api_url: https://hooks.slack.com/services/T000/B000/GLOBALSECRET
route:
  receiver: slack
  group_by: [alertname]
receivers:
- name: slack
  slack_configs:
  - channel: '#alerts'
    api_url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
- name: unused
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:9/hook
"""


def expected_disabled_cluster(srv, got):
    """The cluster block of an instance started with --cluster.listen-address="": disabled,
    except under AR_E2E_STORAGE=postgresql, where --storage.url makes every instance a peer
    of the PostgreSQL cluster even without a gossip address (docs/ha.md): then it is ready,
    named by its data directory's ULID, its HTTP address the peer address, and alone (each
    data directory of the suite has its own database)."""
    if not pg_mode():
        return {"peers": [], "status": "disabled"}
    name = got.get("name") if isinstance(got, dict) else None
    check(isinstance(name, str) and re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", name),
          "cluster.name not a ULID: %r" % (name,))
    return {"name": name, "peers": [{"address": "127.0.0.1:%d" % srv.port, "name": name}],
            "status": "ready"}


@suite.case("status-shape")
def status_shape(ctx):
    t0 = time.time()
    srv = ctx.server()
    t1 = time.time()
    r = srv.get("/api/v2/status")
    eq(r.status, 200, "status")
    ct = r.headers.get("Content-Type", "")
    check(ct.split(";")[0].strip() == "application/json", "Content-Type %r" % ct)
    keys = [k for k, _ in r.json_ordered()]
    eq(keys, ["cluster", "config", "uptime", "versionInfo"], "top-level field order")
    st = r.json()
    eq(st["cluster"], expected_disabled_cluster(srv, st["cluster"]), "cluster")
    eq(list(st["config"]), ["original"], "config keys")
    orig = st["config"]["original"]
    check(isinstance(orig, str) and "route:" in orig and "receiver: team" in orig,
          "config.original lacks the route: %r" % orig[:300])
    check("resolve_timeout: 5m" in orig, "config.original lacks the default resolve_timeout: %r" % orig[:300])
    check("receivers:\n- name: team" in orig, "config.original lacks receivers: %r" % orig[-300:])
    check(UTC_MS_TS_RE.match(st["uptime"]), "uptime not RFC 3339 UTC ms: %r" % st["uptime"])
    up = epoch(st["uptime"])
    check(t0 - 1 <= up <= t1 + 0.01, "uptime %s not the start time (%f..%f)" % (st["uptime"], t0, t1))
    vi = st["versionInfo"]
    eq(sorted(vi), ["branch", "buildDate", "buildUser", "goVersion", "revision", "version"], "versionInfo keys")
    eq([k for k, _ in dict(r.json_ordered())["versionInfo"]],
       ["branch", "buildDate", "buildUser", "goVersion", "revision", "version"], "versionInfo order")
    for k, v in vi.items():
        check(isinstance(v, str), "versionInfo.%s not a string: %r" % (k, v))
    check(vi["version"][:1].isdigit(), "versionInfo.version %r does not start with a digit" % vi["version"])


@suite.case("status-secrets")
def status_secrets(ctx):
    srv = ctx.server(SECRET_CONFIG)
    orig = srv.get_json("/api/v2/status")["config"]["original"]
    check("SECRET" not in orig, "a secret leaked into config.original:\n%s" % orig)
    check("slack_api_url: <secret>" in orig, "global slack_api_url not shown as <secret>:\n%s" % orig)
    check("api_url: <secret>" in orig.replace("slack_api_url", ""), "slack api_url not <secret>:\n%s" % orig)
    check("channel: '#alerts'" in orig, "slack channel missing:\n%s" % orig)
    check("url: http://127.0.0.1:9/hook" in orig, "webhook url (clear text in 0.25) missing:\n%s" % orig)


@suite.case("receivers")
def receivers(ctx):
    srv = ctx.server(SECRET_CONFIG)
    r = srv.get("/api/v2/receivers")
    eq(r.status, 200, "status")
    got = r.json()
    names = [x["name"] for x in got]
    eq(names, ["slack", "unused", "hook"], "receiver names in config order")
    for x in got:
        check(set(x) <= {"name", "labels"}, "receiver object keys %r" % sorted(x))


@suite.case("healthy-ready")
def healthy_ready(ctx):
    srv = ctx.server()
    for p in ("/-/healthy", "/-/ready"):
        r = srv.get(p)
        eq(r.status, 200, "GET %s" % p)
        eq(r.body, b"OK", "GET %s body" % p)
        r = srv.request("HEAD", p)
        eq(r.status, 200, "HEAD %s" % p)
        eq(r.body, b"", "HEAD %s body" % p)


@suite.case("cors")
def cors(ctx):
    srv = ctx.server()
    r = srv.request("GET", "/api/v2/receivers", headers={"Origin": "http://ui.example"})
    eq(r.status, 200, "status")
    eq(r.headers.get("Access-Control-Allow-Origin"), "*", "Access-Control-Allow-Origin")
    check("Origin" in ",".join(r.headers.get_all("Vary") or []), "Vary: Origin missing: %r"
          % r.headers.get_all("Vary"))
    r = srv.request("GET", "/api/v2/alerts")
    check("Origin" in ",".join(r.headers.get_all("Vary") or []), "Vary: Origin missing without Origin")
    # a POST from another origin: Alertmanager takes it; alertrouter refuses it as a
    # cross-site request (README "Web UI"; tests/e2e/24-web-ui.py), a same-origin one passes
    r = srv.request("POST", "/api/v2/alerts", body="[]",
                    headers={"Origin": "http://ui.example", "Content-Type": "application/json"})
    eq(r.status, 200 if ctx.is_am else 403, "POST with another Origin")
    if ctx.is_am:
        eq(r.headers.get("Access-Control-Allow-Origin"), "*", "ACAO on POST")
    r = srv.request("POST", "/api/v2/alerts", body="[]",
                    headers={"Origin": "http://127.0.0.1:%d" % srv.port,
                             "Content-Type": "application/json"})
    eq(r.status, 200, "POST with the server's Origin")
    eq(r.headers.get("Access-Control-Allow-Origin"), "*", "ACAO on POST")
    # OPTIONS without the preflight headers is an ordinary unknown method.
    r = srv.request("OPTIONS", "/api/v2/status")
    eq(r.status, 405, "plain OPTIONS")
    for method in ("GET", "POST"):
        r = srv.request("OPTIONS", "/api/v2/alerts",
                        headers={"Origin": "http://ui.example", "Access-Control-Request-Method": method,
                                 "Access-Control-Request-Headers": "content-type"})
        eq(r.status, 200, "preflight %s" % method)
        eq(r.headers.get("Access-Control-Allow-Origin"), "*", "preflight ACAO %s" % method)
        allowed = (r.headers.get("Access-Control-Allow-Methods") or "").upper()
        check(method in allowed, "preflight Access-Control-Allow-Methods %r lacks %s" % (allowed, method))


@suite.case("route-prefix")
def route_prefix(ctx):
    srv = ctx.server(route_prefix="/foo")
    eq(srv.prefix, "/foo", "harness prefix")
    eq(srv.get("/api/v2/status").status, 200, "GET /foo/api/v2/status")
    srv.post_ok([alert({"alertname": "pfx"})])
    eq([a["labels"]["alertname"] for a in srv.alerts()], ["pfx"], "alerts under /foo")
    eq(srv.get("/-/ready").body, b"OK", "/foo/-/ready")
    r = srv.request("GET", "/", prefix=False)
    eq(r.status, 302, "GET / redirects")
    eq(r.headers.get("Location"), "/foo", "Location")
    eq(srv.request("GET", "/api/v2/status", prefix=False).status, 404, "unprefixed API path")


@suite.case("external-url-prefix")
def external_url_prefix(ctx):
    srv = ctx.server(external_url_path="/am/")
    eq(srv.prefix, "/am", "harness prefix")
    eq(srv.get("/api/v2/receivers").json(), [{"name": "team"}], "receivers under /am")
    r = srv.request("GET", "/", prefix=False)
    eq(r.status, 302, "GET / redirects")
    eq(r.headers.get("Location"), "/am", "Location")


ULID_RE = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
# Settling takes 3 polls of 10 gossip intervals on Alertmanager: 10 ms keeps it short.
FAST_SETTLE = ["--cluster.gossip-interval=10ms"]


def ready_cluster(srv):
    """/api/v2/status's cluster once "ready" (Alertmanager says "settling" at first;
    alertrouter, with no gossip to settle, is ready at once)."""
    def get():
        c = srv.get_json("/api/v2/status")["cluster"]
        check(c["status"] in ("settling", "ready"), "cluster.status %r" % c["status"])
        return c if c["status"] == "ready" else None
    return poll(get, timeout=30, interval=0.1, what="cluster status ready")


def metric_value(text, line_prefix):
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


@suite.case("cluster-of-one")
def cluster_of_one(ctx):
    port = free_port()
    srv = ctx.server(cluster_listen="127.0.0.1:%d" % port, args=FAST_SETTLE)
    c = ready_cluster(srv)
    keys = [k for k, _ in dict(srv.get("/api/v2/status").json_ordered())["cluster"]]
    eq(keys, ["name", "peers", "status"], "cluster field order")
    name = c["name"]
    check(ULID_RE.match(name), "cluster.name %r is not a ULID" % name)
    eq(c["peers"], [{"address": "127.0.0.1:%d" % port, "name": name}], "peers: itself only")
    eq([k for k, _ in dict(srv.get("/api/v2/status").json_ordered())["cluster"][1][1][0]],
       ["address", "name"], "peer field order")
    m = srv.get("/metrics").body.decode()
    eq(metric_value(m, "alertmanager_cluster_enabled"), 1.0, "alertmanager_cluster_enabled")
    eq(metric_value(m, "alertmanager_cluster_members"), 1.0, "alertmanager_cluster_members")
    eq(metric_value(m, "alertmanager_cluster_failed_peers"), 0.0, "failed peers")
    eq(metric_value(m, "alertmanager_cluster_health_score"), 0.0, "health score")
    eq(metric_value(m, "alertmanager_peer_position"), 0.0, "peer position")
    eq(metric_value(m, 'alertmanager_cluster_peer_info{peer="%s"}' % name), 1.0, "peer_info")
    eq(metric_value(m, "alertmanager_cluster_peers_joined_total"), 1.0, "peers joined (itself)")
    if not os.path.exists(AMTOOL):
        ctx.note("amtool not installed: cluster show not checked")
        return
    rc, out, err = srv.amtool("cluster", "show", "-o", "extended", check_rc=0)
    check("Cluster Status:  ready" in out, "amtool cluster show: %r" % out)
    check("Node Name:       " + name in out, "amtool cluster show lacks the name: %r" % out)
    check(re.search(r"127\.0\.0\.1:%d\s+%s" % (port, name), out),
          "amtool cluster show -o extended lacks the peer row: %r" % out)


@suite.case("cluster-advertise-address")
def cluster_advertise(ctx):
    port = free_port()
    shown = free_port()
    srv = ctx.server(cluster_listen="127.0.0.1:%d" % port,
                     args=FAST_SETTLE + ["--cluster.advertise-address=127.0.0.1:%d" % shown])
    c = ready_cluster(srv)
    eq(c["peers"], [{"address": "127.0.0.1:%d" % shown, "name": c["name"]}],
       "the peer shows the advertise address")


@suite.case("cluster-disabled")
def cluster_disabled(ctx):
    srv = ctx.server(cluster_listen="")
    got = srv.get_json("/api/v2/status")["cluster"]
    eq(got, expected_disabled_cluster(srv, got), "cluster")
    # under AR_E2E_STORAGE=postgresql the instance is a peer of one (see above)
    status = "ready" if pg_mode() else "disabled"
    if os.path.exists(AMTOOL):
        rc, out, err = srv.amtool("cluster", "show", check_rc=0)
        check("Cluster Status:  %s" % status in out, "amtool cluster show: %r" % out)
    m = srv.get("/metrics").body.decode()
    eq(metric_value(m, "alertmanager_cluster_enabled"), 1.0 if pg_mode() else 0.0,
       "alertmanager_cluster_enabled")
    eq(metric_value(m, "alertmanager_cluster_members"), 1.0 if pg_mode() else None,
       "members gauge (none when disabled)")


# Alertmanager mints a new name per process; alertrouter keeps one per data directory.
@suite.case("cluster-name-kept-across-restarts", only="alertrouter")
def cluster_name_kept(ctx):
    port = free_port()
    srv = ctx.server(cluster_listen="127.0.0.1:%d" % port)
    name = ready_cluster(srv)["name"]
    srv.restart()
    eq(ready_cluster(srv)["name"], name, "peer name after a restart")
    other = ctx.server(cluster_listen="127.0.0.1:%d" % port)
    check(ready_cluster(other)["name"] != name, "another data directory got the same name")


# Only alertrouter may run with the default 0.0.0.0:9094: it opens no port there.
@suite.case("cluster-default-listen-address", only="alertrouter")
def cluster_default(ctx):
    srv = ctx.server(cluster_listen=None)
    c = ready_cluster(srv)
    eq(len(c["peers"]), 1, "one peer")
    addr = c["peers"][0]["address"]
    check(addr.endswith(":9094") and not addr.startswith("0.0.0.0"),
          "advertised %r: want this machine's address on port 9094" % addr)


if __name__ == "__main__":
    suite.main()
