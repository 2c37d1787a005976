#!/usr/bin/env python3
"""amtool against the server (COMPAT 1.10): alert add/query, config show, cluster show,
silence add + query -s; config checking (real amtool check-config, and
`alertrouter check-config FILE`)."""

import json
import os
import subprocess
import tempfile

from harness import AMTOOL, Suite, ar_binary, check, eq, Skip, Fail

suite = Suite("01-amtool")

GOOD = """\
global:
  resolve_timeout: 5m
route:
  receiver: team
  group_by: [alertname]
  routes:
  - matchers: ['severity="critical"']
    receiver: pager
receivers:
- name: team
- name: pager
  webhook_configs:
  - url: http://127.0.0.1:9/hook
"""

BAD_UNDEFINED_RECEIVER = """\
route:
  receiver: nope
receivers:
- name: team
"""

BAD_UNKNOWN_KEY = """\
route:
  receiver: team
  foo: bar
receivers:
- name: team
"""

BAD_YAML = """\
route:
  receiver: [team
"""


def need_amtool():
    if not os.path.exists(AMTOOL):
        raise Skip("amtool not installed")


@suite.case("alert-add-and-query")
def alert_add_query(ctx):
    need_amtool()
    srv = ctx.server()
    srv.amtool("alert", "add", "test_alert", "sev=warn", "instance=host:1", "--annotation=summary=hello",
               "--generator-url=http://gen/x", check_rc=0)
    got = srv.alerts()
    eq(len(got), 1, "alerts after amtool alert add")
    a = got[0]
    eq(a["labels"], {"alertname": "test_alert", "sev": "warn", "instance": "host:1"}, "labels")
    eq(a["annotations"], {"summary": "hello"}, "annotations")
    eq(a["generatorURL"], "http://gen/x", "generatorURL")
    check(not a["startsAt"].startswith("0001"), "zero startsAt stored: %r" % a["startsAt"])
    rc, out, err = srv.amtool("alert", "query", check_rc=0)
    check("test_alert" in out and "hello" in out and "active" in out, "query output: %r" % out)
    rc, out, err = srv.amtool("alert", "query", "-o", "json", check_rc=0)
    eq([x["fingerprint"] for x in json.loads(out)], [a["fingerprint"]], "query -o json")
    rc, out, err = srv.amtool("alert", "query", "sev=warn", "-o", "extended", check_rc=0)
    check('alertname="test_alert"' in out and "http://gen/x" in out, "extended output: %r" % out)
    rc, out, err = srv.amtool("alert", "query", "sev=other", check_rc=0)
    check("test_alert" not in out, "filtered query still shows the alert: %r" % out)
    rc, out, err = srv.amtool("alert", "query", "test_alert", check_rc=0)
    check("test_alert" in out, "query by alertname: %r" % out)
    # Explicit start/end.
    srv.amtool("alert", "add", "timed", "--start=2026-01-01T00:00:00Z", "--end=2099-01-01T00:00:00Z", check_rc=0)
    t = [x for x in srv.alerts() if x["labels"]["alertname"] == "timed"]
    eq([(x["startsAt"], x["endsAt"]) for x in t],
       [("2026-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z")], "explicit times")


@suite.case("silence-add-and-suppressed-query")
def silence(ctx):
    need_amtool()
    srv = ctx.server()
    srv.amtool("alert", "add", "quiet", "sev=warn", check_rc=0)
    rc, out, err = srv.amtool("silence", "add", "alertname=quiet", "-c", "e2e", "-d", "1h", check_rc=0)
    sid = out.strip()
    eq(len(sid), 36, "silence id printed (%r)" % out)
    rc, out, err = srv.amtool("alert", "query", check_rc=0)
    check("quiet" not in out, "silenced alert shown by default query: %r" % out)
    rc, out, err = srv.amtool("alert", "query", "-s", check_rc=0)
    check("quiet" in out and "suppressed" in out, "query -s: %r" % out)
    rc, out, err = srv.amtool("silence", "query", "-q", check_rc=0)
    eq(out.split(), [sid], "silence query -q")


@suite.case("config-and-cluster-show")
def config_show(ctx):
    need_amtool()
    srv = ctx.server(GOOD)
    rc, out, err = srv.amtool("config", "show", check_rc=0)
    for s in ("route:", "receiver: team", "group_by:", "- alertname", "name: pager",
              "url: http://127.0.0.1:9/hook", "resolve_timeout: 5m"):
        check(s in out, "config show lacks %r:\n%s" % (s, out))
    rc, out, err = srv.amtool("cluster", "show", check_rc=0)
    check("Cluster Status:  disabled" in out, "cluster show: %r" % out)


def write(tmpdir, name, text):
    p = os.path.join(tmpdir, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def run(cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")


@suite.case("check-config")
def check_config(ctx):
    tmp = tempfile.mkdtemp(prefix="ar-e2e-cc-")
    try:
        good = write(tmp, "good.yml", GOOD)
        bad_recv = write(tmp, "bad-receiver.yml", BAD_UNDEFINED_RECEIVER)
        bad_key = write(tmp, "bad-key.yml", BAD_UNKNOWN_KEY)
        bad_yaml = write(tmp, "bad-yaml.yml", BAD_YAML)
        if ctx.is_am:
            need_amtool()
            cmd = [AMTOOL, "check-config"]
        else:
            if not os.path.exists(ar_binary()):
                raise Fail("binary not found: %s" % ar_binary())
            cmd = [ar_binary(), "check-config"]
        rc, out = run(cmd + [good])
        eq(rc, 0, "check-config good file exit status (output %r)" % out)
        rc, out = run(cmd + [bad_recv])
        check(rc != 0, "undefined receiver accepted: %r" % out)
        check('undefined receiver "nope"' in out, "message lacks 'undefined receiver \"nope\"': %r" % out)
        check("bad-receiver.yml" in out, "message lacks the file name: %r" % out)
        rc, out = run(cmd + [bad_key])
        check(rc != 0, "unknown key accepted: %r" % out)
        check("bad-key.yml" in out and "foo" in out and "3" in out,
              "message lacks file, key or line 3: %r" % out)
        rc, out = run(cmd + [bad_yaml])
        check(rc != 0, "broken YAML accepted: %r" % out)
        check("bad-yaml.yml" in out and "2" in out, "message lacks file or line 2: %r" % out)
        rc, out = run(cmd + [os.path.join(tmp, "missing.yml")])
        check(rc != 0, "missing file accepted: %r" % out)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    suite.main()
