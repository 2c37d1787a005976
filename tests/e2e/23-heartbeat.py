#!/usr/bin/env python3
"""The extensions file (--extensions.file, alertrouter only: alertmanager.yml stays
Alertmanager's format) and the heartbeat it configures. check-config validates the file
with located errors; the daemon refuses to start on a bad one, and a reload with a bad one
keeps the running configuration."""

import os
import subprocess

from harness import DEFAULT_CONFIG, Fail, Server, Suite, ar_binary, check, eq, poll

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


if __name__ == "__main__":
    suite.main()
