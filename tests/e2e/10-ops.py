#!/usr/bin/env python3
"""Operations: /metrics scraped by Debian's real Prometheus, reload by SIGHUP and
POST /-/reload (a bad file keeps the old config, reports why and sets
alertmanager_config_last_reload_successful 0), graceful SIGTERM, per-client rate limiting
(429) and the template CLI. Cases shared with Alertmanager run on both to prove them."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import (DEFAULT_CONFIG, Suite, alert, ar_binary, check, eq, free_port, poll, Skip,
                     _register, _unregister)

suite = Suite("10-ops")
PROMETHEUS = "/usr/bin/prometheus"


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{}"):
            return float(line.split()[-1])
    return None


@suite.case("prometheus-scrapes-metrics")
def prometheus_scrape(ctx):
    if not os.path.exists(PROMETHEUS):
        raise Skip("prometheus not installed")
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "scraped", "job": "x"})])
    d = tempfile.mkdtemp(prefix="ar-prom-")
    port = free_port()
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n- job_name: router\n  static_configs:\n"
                "  - targets: ['127.0.0.1:%d']\n" % srv.port)
    p = subprocess.Popen([PROMETHEUS, "--config.file=" + os.path.join(d, "prometheus.yml"),
                          "--storage.tsdb.path=" + os.path.join(d, "data"),
                          "--web.listen-address=127.0.0.1:%d" % port],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    _register(p)
    try:
        import urllib.parse
        import urllib.request

        def query(q):
            url = "http://127.0.0.1:%d/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    res = json.load(r)["data"]["result"]
                    return res
            except Exception:
                return None

        res = poll(lambda: (lambda r: r if r else None)(query('up{job="router"} == 1')),
                   timeout=30, what="prometheus scraped the router successfully")
        eq(len(res), 1, "up series")
        res = poll(lambda: (lambda r: r if r else None)(
            query('alertmanager_alerts_received_total{status="firing",version="v2"}')),
            timeout=30, what="alertmanager_alerts_received_total scraped")
        check(float(res[0]["value"][1]) >= 1, "received counter %s" % res)
        # Alertmanager counts an alert "unprocessed" until its first flush; alertrouter
        # evaluates the state at scrape time: either way one alert, not suppressed.
        res = poll(lambda: (lambda r: r if r else None)(
            query('sum(alertmanager_alerts{state!="suppressed"})')), timeout=30,
            what="alerts gauge")
        eq(float(res[0]["value"][1]), 1.0, "alerts gauge (active + unprocessed)")
    finally:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        _unregister(p)
        shutil.rmtree(d, ignore_errors=True)


def families(text):
    """{name: type} from the # TYPE lines of an exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            out[name] = typ
    return out


def samples(text, name):
    """[(labels dict, value)] of the samples of one series name."""
    res = []
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        if head == name:
            res.append(({}, float(value)))
        elif head.startswith(name + "{") and head.endswith("}"):
            labels = {}
            for part in head[len(name) + 1:-1].split('",'):
                k, v = part.split("=", 1)
                labels[k] = v.strip('"')
            res.append((labels, float(value)))
    return res


def sample(text, name, **labels):
    hits = [v for l, v in samples(text, name) if l == labels]
    return hits[0] if hits else None


# Measured on Debian's Alertmanager 0.25: the families a single instance exports besides
# go_* (Go runtime) and the cluster/gossip, nflog/silences internals and dispatcher summary.
HTTP_FAMILIES = {
    "alertmanager_http_request_duration_seconds": "histogram",
    "alertmanager_http_response_size_bytes": "histogram",
    "alertmanager_http_requests_in_flight": "gauge",
    "alertmanager_http_concurrency_limit_exceeded_total": "counter",
    "process_cpu_seconds_total": "counter",
    "process_max_fds": "gauge",
    "process_open_fds": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_start_time_seconds": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_virtual_memory_max_bytes": "gauge",
    "promhttp_metric_handler_requests_in_flight": "gauge",
    "promhttp_metric_handler_requests_total": "counter",
    "alertmanager_cluster_enabled": "gauge",
}
DURATION_LE = ["0.05", "0.1", "0.25", "0.5", "0.75", "1", "2", "5", "20", "60", "+Inf"]
SIZE_LE = ["100", "1000", "10000", "100000", "1e+06", "1e+07", "1e+08", "+Inf"]


@suite.case("metrics-http-process-families")
def metrics_families(ctx):
    t0 = time.time()
    srv = ctx.server()
    eq(srv.request("GET", "/-/healthy")[0], 200, "GET /-/healthy")
    eq(srv.request("HEAD", "/-/ready")[0], 200, "HEAD /-/ready")
    eq(srv.request("POST", "/-/reload")[0], 200, "POST /-/reload")
    eq(srv.request("POST", "/-/healthy")[0], 405, "POST /-/healthy")
    eq(srv.request("GET", "/no-such-path")[0], 404, "GET /no-such-path")
    srv.post_ok([alert({"alertname": "observed"})])
    eq(srv.get("/api/v2/alerts")[0], 200, "GET /api/v2/alerts")
    first = srv.get("/metrics")[2].decode()
    text = srv.get("/metrics")[2].decode()
    fams = families(text)
    for name, typ in HTTP_FAMILIES.items():
        eq(fams.get(name), typ, "# TYPE of %s" % name)
    dur = "alertmanager_http_request_duration_seconds"
    size = "alertmanager_http_response_size_bytes"
    for handler, method in (("/-/healthy", "get"), ("/-/ready", "head"), ("/-/ready", "get"),
                            ("/-/reload", "post"), ("/metrics", "get")):
        n = sample(text, dur + "_count", handler=handler, method=method)
        check(n is not None and n >= 1, "%s_count{handler=%r,method=%r} = %r"
              % (dur, handler, method, n))
        eq(sample(text, size + "_count", handler=handler, method=method), n,
           "%s_count{handler=%r,method=%r}" % (size, handler, method))
        les = [l["le"] for l, _ in samples(text, dur + "_bucket")
               if l.get("handler") == handler and l.get("method") == method]
        eq(les, DURATION_LE, "duration buckets of %s %s" % (method, handler))
        les = [l["le"] for l, _ in samples(text, size + "_bucket")
               if l.get("handler") == handler and l.get("method") == method]
        eq(les, SIZE_LE, "size buckets of %s %s" % (method, handler))
        eq(sample(text, dur + "_bucket", handler=handler, method=method, le="+Inf"), n,
           "+Inf bucket = count for %s %s" % (method, handler))
    # a 200 "OK" body is 2 bytes, one request, in the first size bucket
    eq(sample(text, size + "_sum", handler="/-/healthy", method="get"), 2.0, "/-/healthy bytes")
    eq(sample(text, size + "_bucket", handler="/-/healthy", method="get", le="100"), 1.0,
       "/-/healthy in le=100")
    # refused methods and unknown paths are not observed
    handlers = {(l.get("handler"), l.get("method")) for l, _ in samples(text, dur + "_count")}
    check(("/-/healthy", "post") not in handlers, "the 405 was observed: %s" % sorted(handlers))
    check(not any("no-such-path" in (h or "") for h, _ in handlers),
          "the 404 was observed: %s" % sorted(handlers))
    v2 = sorted(h for h, _ in handlers if h.startswith("/api/v2"))
    if ctx.is_am:
        # 0.25 does not instrument its API v2; alertrouter does (documented extension)
        eq(v2, [], "API v2 handlers observed by Alertmanager 0.25")
    else:
        check("/api/v2/alerts" in v2, "GET/POST /api/v2/alerts not observed: %s" % v2)
        check(sample(text, dur + "_count", handler="/api/v2/alerts", method="post") == 1,
              "POST /api/v2/alerts count")
    # this scrape is a GET in flight; earlier scrapes are counted once written
    check(sample(text, "alertmanager_http_requests_in_flight", method="get") >= 1,
          "in-flight GETs during a scrape")
    eq(sample(text, "promhttp_metric_handler_requests_in_flight"), 1.0, "scrapes in flight")
    eq(sample(text, "promhttp_metric_handler_requests_total", code="200")
       - sample(first, "promhttp_metric_handler_requests_total", code="200"), 1.0,
       "scrape counter step")
    eq(sample(text, "alertmanager_http_concurrency_limit_exceeded_total", method="get"), 0.0,
       "concurrency limit refusals")
    started = sample(text, "process_start_time_seconds")
    check(t0 - 5 <= started <= time.time() + 1, "process_start_time_seconds %r, test began %r"
          % (started, t0))
    check(sample(text, "process_open_fds") >= 3, "process_open_fds")
    check(sample(text, "process_max_fds") >= sample(text, "process_open_fds"), "process_max_fds")
    check(sample(text, "process_resident_memory_bytes") > 1e6, "process_resident_memory_bytes")
    check(sample(text, "process_virtual_memory_bytes") >= sample(text, "process_resident_memory_bytes"),
          "virtual >= resident")
    check(sample(text, "process_cpu_seconds_total") >= 0, "process_cpu_seconds_total")
    eq(sample(text, "alertmanager_cluster_enabled"), 0.0, "cluster disabled by the harness")
    check("alertmanager_cluster_members" not in fams, "cluster families while disabled")


GOOD = DEFAULT_CONFIG
BAD = "route:\n  receiver: nobody\nreceivers:\n- name: team\n"


def config_path(srv):
    for a in srv.command():
        if a.startswith("--config.file="):
            return a.split("=", 1)[1]
    raise Skip("no config file flag")


@suite.case("reload-bad-config-keeps-old")
def reload_bad(ctx):
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "kept"})])
    path = config_path(srv)
    with open(path, "w") as f:
        f.write(BAD)
    st, hdr, body = srv.request("POST", "/-/reload", prefix=True)
    eq(st, 500, "status of a failed reload")
    text = body.decode()
    check(text.startswith("failed to reload config: "), "reload error body %r" % text)
    check("nobody" in text, "the error names the undefined receiver: %r" % text)
    m = srv.get("/metrics")[2].decode()
    eq(metric(m, "alertmanager_config_last_reload_successful"), 0.0, "reload gauge after failure")
    # still serving with the old config, alerts intact
    eq([a["labels"]["alertname"] for a in srv.alerts()], ["kept"], "alerts after failed reload")
    with open(path, "w") as f:
        f.write(GOOD)
    os.kill(srv.pid, signal.SIGHUP)
    poll(lambda: metric(srv.get("/metrics")[2].decode(),
                        "alertmanager_config_last_reload_successful") == 1.0,
         timeout=10, what="SIGHUP reload succeeded")
    eq([a["labels"]["alertname"] for a in srv.alerts()], ["kept"], "alerts after good reload")


@suite.case("reload-swaps-config", only="alertrouter")
def reload_swaps(ctx):
    srv = ctx.server()
    path = config_path(srv)
    with open(path, "w") as f:
        f.write("route:\n  receiver: other\nreceivers:\n- name: other\n")
    st = srv.request("POST", "/-/reload")[0]
    eq(st, 200, "reload status")
    names = [r["name"] for r in srv.get_json("/api/v2/receivers")]
    eq(names, ["other"], "receivers after reload")


@suite.case("sigterm-graceful", only="alertrouter")
def sigterm(ctx):
    srv = ctx.server()
    srv.post_ok([alert({"alertname": "before-stop"})])
    srv.stop()
    log = srv.log_text()
    check("stopped cleanly" in log, "no clean-stop line in the log:\n%s" % log[-2000:])
    srv.restart()
    eq([a["labels"]["alertname"] for a in srv.alerts()], ["before-stop"], "alerts after restart")


@suite.case("rate-limit-429", only="alertrouter")
def rate_limit(ctx):
    srv = ctx.server(args=["--web.rate-limit=1", "--web.rate-limit-burst=5"])
    time.sleep(1.0)  # refill what the readiness polling used
    codes = [srv.request("GET", "/-/healthy")[0] for _ in range(20)]
    check(codes[0] == 200, "first request refused: %s" % codes)
    check(codes.count(200) <= 8, "more than the burst allowed: %s" % codes)
    check(429 in codes, "no 429 after the burst: %s" % codes)
    st, hdr, body = srv.request("GET", "/-/healthy")
    if st == 429:
        eq(body.decode(), "Too Many Requests\n", "429 body")
    time.sleep(2.2)
    eq(srv.request("GET", "/-/healthy")[0], 200, "allowed again after refill")
    m = srv.get("/metrics")
    if m[0] == 200:
        check(metric(m[2].decode(), "alertrouter_http_rate_limited_total") >= 1, "counter")


@suite.case("template-cli", only="alertrouter")
def template_cli(ctx):
    d = tempfile.mkdtemp(prefix="ar-tmplcli-")
    try:
        data = os.path.join(d, "alerts.json")
        with open(data, "w") as f:
            json.dump({"receiver": "team", "status": "firing", "alerts": [
                {"status": "firing", "labels": {
                    "alertname": "monitor_service_down", "instance": "cadvisor:8080",
                    "job": "cadvisor", "monitor": "docker-host-alpha", "severity": "critical"},
                 "annotations": {}, "startsAt": "2026-11-27T09:21:50Z",
                 "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": ""}],
                "groupLabels": {"alertname": "monitor_service_down"},
                "commonLabels": {
                    "alertname": "monitor_service_down", "instance": "cadvisor:8080",
                    "job": "cadvisor", "monitor": "docker-host-alpha", "severity": "critical"},
                "commonAnnotations": {}, "externalURL": "http://x",
                "version": "4", "groupKey": "{}"}, f)
        p = subprocess.run([ar_binary(), "template", "render",
                            "--template.text={{ template \"slack.default.title\" . }}",
                            "--data=" + data], capture_output=True, timeout=20)
        eq(p.returncode, 0, "render exit status (stderr %r)" % p.stderr)
        eq(p.stdout.decode().strip(),
           "[FIRING:1] monitor_service_down (cadvisor:8080 cadvisor docker-host-alpha critical)",
           "rendered Slack title")
        bad = os.path.join(d, "bad.tmpl")
        with open(bad, "w") as f:
            f.write("{{ define \"x\" }}{{ if }}{{ end }}")
        p = subprocess.run([ar_binary(), "template", "check", bad], capture_output=True,
                           timeout=20)
        check(p.returncode != 0, "check of a broken template succeeded")
        check(b"bad.tmpl:1:" in p.stdout + p.stderr, "error names file and line: %r"
              % (p.stdout + p.stderr))
    finally:
        shutil.rmtree(d, ignore_errors=True)


def silence(matchers, comment="t"):
    now = time.time()
    return {"matchers": matchers,
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 1)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
            "createdBy": "e2e", "comment": comment}


@suite.case("hostile-regex-bounded")
def hostile_regex(ctx):
    """Catastrophic-backtracking patterns in a silence and in API filters: with RE2
    semantics (Alertmanager) they are linear; alertrouter's PCRE2 translation runs under match
    limits, so reads stay fast and the server stays responsive."""
    srv = ctx.server()
    evil = "a" * 40 + "!"
    srv.post_ok([alert({"alertname": evil, "job": "x"})])
    st = srv.post_json("/api/v2/silences",
                       silence([{"name": "alertname", "value": "(a+)+$", "isRegex": True}]))[0]
    eq(st, 200, "silence with a nested-quantifier regex accepted")
    t0 = time.monotonic()
    alerts = srv.alerts()
    eq(len(alerts), 1, "alerts listed")
    st, _, body = srv.get("/api/v2/alerts", {"filter": 'alertname=~"(a|aa)+(b|c)"'})
    eq(st, 200, "filter with an exponential-backtracking pattern")
    st, _, body = srv.get("/api/v2/alerts/groups", {"filter": 'job=~"((x*)*)*y"'})
    eq(st, 200, "groups filter")
    elapsed = time.monotonic() - t0
    check(elapsed < 10, "hostile regexes took %.1fs" % elapsed)
    eq(srv.get("/-/healthy")[0], 200, "still healthy")


@suite.case("max-silences", only="alertrouter")
def max_silences(ctx):
    srv = ctx.server(args=["--silences.max-silences=2"])
    for i in range(2):
        st = srv.post_json("/api/v2/silences", silence(
            [{"name": "alertname", "value": "a%d" % i, "isRegex": False}]))[0]
        eq(st, 200, "silence %d" % i)
    st, _, body = srv.post_json("/api/v2/silences", silence(
        [{"name": "alertname", "value": "a3", "isRegex": False}]))
    eq(st, 400, "third silence refused")
    eq(json.loads(body), "exceeded maximum number of silences: 3 (limit: 2)", "message")


@suite.case("test-receiver", only="alertrouter")
def test_receiver(ctx):
    """POST /api/x/receivers/{name}/test and the CLI: a sample notification through each
    integration, each outcome reported; secrets in URLs never shown."""
    sink = ctx.sink(status_fn=lambda path, idx: 404 if path.startswith("/bad") else 200)
    cfg = ("route:\n  receiver: team\nreceivers:\n- name: team\n  webhook_configs:\n"
           "  - url: '%s'\n  - url: '%s'\n" % (sink.url("/good?token=SECRET123"),
                                                sink.url("/bad")))
    srv = ctx.server(cfg)
    st, _, body = srv.request("POST", "/api/x/receivers/team/test")
    eq(st, 200, "test status")
    res = json.loads(body)
    eq([r["integration"] for r in res["results"]], ["webhook[0]", "webhook[1]"], "integrations")
    eq([r["ok"] for r in res["results"]], [True, False], "outcomes")
    eq(res["results"][1]["status"], 404, "status of the failing one")
    check("SECRET123" not in body.decode(), "a URL secret leaked: %s" % body)
    got = sink.wait_for(2)
    alerts = [json.loads(b)["alerts"][0]["labels"]["alertname"] for _t, _p, b, *_ in got[:1]]
    eq(alerts, ["monitor_service_down"], "sample alert delivered")
    p = subprocess.run([ar_binary(), "test-receiver", "team",
                        "--alertmanager.url=http://127.0.0.1:%d" % srv.port],
                       capture_output=True, timeout=60)
    eq(p.returncode, 1, "CLI exit status with one failing integration")
    out = p.stdout.decode()
    check("webhook[0]" in out and "webhook[1]" in out and "404" in out, "CLI output:\n" + out)
    check("SECRET123" not in out + p.stderr.decode(), "CLI leaked a secret")
    eq(srv.request("POST", "/api/x/receivers/nope/test")[0], 404, "unknown receiver")


if __name__ == "__main__":
    suite.main()
