#!/usr/bin/env python3
"""Command line (COMPAT 11): --version, --help, unknown flags, both flag spellings,
accepted-and-ignored cluster flags, log flags, defaults when started without flags.
Cases that need alertrouter-specific behaviour run only on alertrouter; the generic
flag-parsing ones also run on Alertmanager to prove them."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

from harness import (AM_BINARY, DEFAULT_CONFIG, Server, Suite, ar_binary, check, eq, free_port,
                     http_request, poll, Skip, Fail, _register, _unregister)

suite = Suite("01-cli")

FLAGS = ["--config.file", "--storage.path", "--web.listen-address", "--web.external-url",
         "--web.route-prefix", "--data.retention", "--alerts.gc-interval", "--log.level",
         "--log.format"]


def binary(ctx):
    b = AM_BINARY if ctx.is_am else ar_binary()
    if not os.path.exists(b):
        raise Fail("binary not found: %s" % b)
    return b


def run(cmd, cwd=None, timeout=20):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, cwd=cwd)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


@suite.case("version")
def version(ctx):
    rc, out, err = run([binary(ctx), "--version"])
    eq(rc, 0, "exit status of --version")
    text = out + err
    check(any(c.isdigit() for c in text), "--version prints no version number: %r" % text)
    check(len(text.strip()) > 0, "--version printed nothing")


@suite.case("help-lists-flags")
def help_flags(ctx):
    rc, out, err = run([binary(ctx), "--help"])
    eq(rc, 0, "exit status of --help")
    text = out + err
    missing = [f for f in FLAGS if f not in text]
    check(not missing, "--help does not list %s:\n%s" % (missing, text[:2000]))
    if "--cluster.listen-address" not in text:
        ctx.note("--help does not mention --cluster.listen-address")


@suite.case("unknown-flag")
def unknown_flag(ctx):
    rc, out, err = run([binary(ctx), "--bogus-flag=1"])
    check(rc != 0, "unknown flag accepted (exit 0)")
    check("bogus-flag" in err, "stderr does not name the unknown flag: %r" % err)
    check("usage" in err.lower() or "--help" in err, "stderr has no usage hint: %r" % err)
    rc, out, err = run([binary(ctx), "--config.file"])
    check(rc != 0, "flag without its value accepted")


# Values for the flags whose --help shows a placeholder instead of a default.
PLACEHOLDER_VALUES = {
    "web.external-url": "http://127.0.0.1:9093/",
    "web.route-prefix": "/",
    "cluster.advertise-address": "127.0.0.1:9094",
    "cluster.peer": "127.0.0.1:9095",
}


@suite.case("accepts-every-alertmanager-flag", only="alertrouter")
def every_am_flag(ctx):
    """Every flag Debian's Alertmanager 0.25 lists in --help, with its default (or a value
    of its form), is accepted: a service file written for it starts alertrouter."""
    if not os.path.exists(AM_BINARY):
        raise Skip("Alertmanager not installed")
    rc, out, err = run([AM_BINARY, "--help"])
    flags = re.findall(r"^ {2,8}(?:-\w, )?--([a-z][\w.-]*)(?:=(\S*))?", out + err, re.M)
    names = [n for n, _ in flags]
    check(len(names) >= 25, "parsed only %d flags from Alertmanager's --help: %r" % (len(names), names))
    args = []
    for name, default in flags:
        if name in ("help", "version", "help-long", "help-man"):
            continue
        if name in PLACEHOLDER_VALUES:
            args.append("--%s=%s" % (name, PLACEHOLDER_VALUES[name]))
        elif default is None or default == "":
            args.append("--" + name)  # a boolean
        else:
            args.append("--%s=%s" % (name, default.strip('"')))
    for extra in ([], ["--help-long"], ["--help-man"]):
        rc, out, err = run([ar_binary()] + args + (extra or ["--version"]))
        eq(rc, 0, "exit status with %s: stderr %r" % (" ".join(args + extra), err[-500:]))
    for name in ("web.ui-path", "cluster.listen-address", "cluster.advertise-address"):
        check(name in names, "Alertmanager's --help lacks %s (parse error?)" % name)
    rc, out, err = run([ar_binary(), "--help"])
    missing = [n for n in names if "--" + n not in out]
    check(not missing, "alertrouter --help does not list %s" % missing)


class RawServer:
    """A process with an exact argument list (for flag-spelling cases)."""

    def __init__(self, ctx, args, cwd, port, host="127.0.0.1"):
        self.ctx = ctx
        self.port = port
        self.host = host
        self.log_path = os.path.join(cwd, "server.log")
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=cwd)
        _register(self.proc)

    def wait_ready(self, timeout=20):
        def ready():
            if self.proc.poll() is not None:
                raise Fail("exited with %s: %s" % (self.proc.returncode, self.log()[-1000:]))
            return http_request(self.host, self.port, "GET", "/-/ready", timeout=2).status == 200
        poll(ready, timeout=timeout, what="/-/ready")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        _unregister(self.proc)
        self.logf.close()
        return self.proc.returncode


@suite.case("flag-spellings")
def flag_spellings(ctx):
    b = binary(ctx)
    d = tempfile.mkdtemp(prefix="ar-e2e-cli-")
    srv = None
    try:
        cfg = os.path.join(d, "c.yml")
        with open(cfg, "w") as f:
            f.write(DEFAULT_CONFIG)
        port = free_port()
        args = [b, "--config.file", cfg, "--storage.path=" + os.path.join(d, "data"),
                "--web.listen-address", "127.0.0.1:%d" % port, "--web.route-prefix", "/pre",
                "--log.level=debug", "--alerts.gc-interval", "1m", "--data.retention=1h"]
        if ctx.is_am:
            args.append("--cluster.listen-address=")
        srv = RawServer(ctx, args, d, port)
        def ready():
            if srv.proc.poll() is not None:
                raise Fail("exited: " + srv.log()[-1000:])
            return http_request("127.0.0.1", port, "GET", "/pre/-/ready", timeout=2).status == 200
        poll(ready, timeout=20, what="/pre/-/ready with space-separated flags")
        r = http_request("127.0.0.1", port, "GET", "/pre/api/v2/receivers")
        eq(r.status, 200, "receivers under the space-spelled prefix")
        if ctx.is_am:
            # Alertmanager installs its SIGTERM handler after it starts serving: a SIGTERM
            # right after the first ready answer can still kill it (-15), a race of the
            # reference seen once in CI, not a behaviour under test
            time.sleep(1.0)
        rc = srv.stop()
        eq(rc, 0, "exit status after SIGTERM%s" % ("" if rc == 0 else
                                                  "; log ends: " + srv.log()[-2000:]))
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(d, ignore_errors=True)


@suite.case("cluster-flags-accepted-with-warning", only="alertrouter")
def cluster_flags(ctx):
    srv = ctx.server(cluster_listen="0.0.0.0:9094",
                     args=["--cluster.peer=127.0.0.1:9095", "--cluster.peer-timeout=15s",
                           "--cluster.settle-timeout=1m", "--cluster.gossip-interval", "200ms",
                           "--cluster.allow-insecure-public-advertise-address-discovery",
                           "--web.ui-path", "/usr/share/prometheus/alertmanager/ui/",
                           "--no-web.systemd-socket"])
    # a cluster of one (no gossip): ready, itself the only peer
    c = srv.get("/api/v2/status").json()["cluster"]
    eq(c["status"], "ready", "cluster.status")
    eq([p["name"] for p in c["peers"]], [c["name"]], "the only peer is itself")
    log = srv.log_text().lower()
    check("cluster" in log and ("warn" in log), "no warning about cluster flags in the log:\n%s" % srv.log_tail())
    # Nothing listens on the cluster port because of us.
    s = socket.socket()
    try:
        s.settimeout(0.5)
        rc = s.connect_ex(("127.0.0.1", 9094))
    finally:
        s.close()
    if rc == 0:
        ctx.note("something listens on 9094 (maybe not us)")


@suite.case("log-format-json", only="alertrouter")
def log_json(ctx):
    srv = ctx.server(args=["--log.format=json", "--log.level=debug"])
    srv.post_ok([{"labels": {"alertname": "x"}}])
    srv.stop()
    lines = [l for l in srv.log_text().splitlines() if l.strip() and not l.startswith("=== start")]
    check(lines, "no log lines")
    bad = []
    for l in lines:
        try:
            obj = json.loads(l)
            if not isinstance(obj, dict) or "level" not in obj:
                bad.append(l)
        except ValueError:
            bad.append(l)
    check(not bad, "non-JSON log lines with --log.format=json: %r" % bad[:3])


@suite.case("bad-flag-values")
def bad_values(ctx):
    b = binary(ctx)
    d = tempfile.mkdtemp(prefix="ar-e2e-cli-")
    try:
        cfg = os.path.join(d, "c.yml")
        with open(cfg, "w") as f:
            f.write(DEFAULT_CONFIG)
        base = [b, "--config.file=" + cfg, "--storage.path=" + os.path.join(d, "data"),
                "--web.listen-address=127.0.0.1:%d" % free_port()]
        if ctx.is_am:
            base.append("--cluster.listen-address=")
        own = [] if ctx.is_am else [["--web.max-connections=99999999999999999999"]]
        for extra in [["--log.level=loud"], ["--log.format=xml"], ["--alerts.gc-interval=soon"],
                      ["--web.external-url=ftp://x/"]] + own:
            try:
                rc, out, err = run(base + extra, timeout=5)
            except subprocess.TimeoutExpired:
                raise Fail("%s: started instead of failing" % extra)
            check(rc != 0, "%s accepted" % extra)
            check(err.strip(), "%s: nothing on stderr" % extra)
        rc, out, err = run(base[:1] + ["--config.file=" + os.path.join(d, "missing.yml"),
                                       "--storage.path=" + os.path.join(d, "data"),
                                       "--web.listen-address=127.0.0.1:%d" % free_port()]
                           + (["--cluster.listen-address="] if ctx.is_am else []), timeout=5)
        check(rc != 0, "missing config file accepted")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@suite.case("defaults-without-flags", only="alertrouter")
def defaults(ctx):
    b = binary(ctx)
    probe = socket.socket()
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("0.0.0.0", 9093))
    except OSError:
        raise Skip("port 9093 is busy")
    finally:
        probe.close()
    d = tempfile.mkdtemp(prefix="ar-e2e-cli-")
    srv = None
    try:
        # No config file either: the README promises built-in defaults.
        srv = RawServer(ctx, [b], d, 9093)
        srv.wait_ready()
        check(os.path.isdir(os.path.join(d, "data")), "./data/ not created in the working directory")
        eq(http_request("127.0.0.1", 9093, "GET", "/api/v2/status").status, 200, "GET status on :9093")
        eq(http_request("127.0.0.1", 9093, "POST", "/api/v2/alerts", body=b'[{"labels":{"a":"b"}}]',
                        headers={"Content-Type": "application/json"}).status, 200, "POST on :9093")
        eq(srv.stop(), 0, "exit status after SIGTERM")
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(d, ignore_errors=True)


NO_SENDER = """\
route:
  receiver: team
receivers:
- name: team
  sns_configs:
  - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
    sigv4:
      region: us-east-1
      role_arn: arn:aws:iam::123456789012:role/alerts
"""


@suite.case("integration-without-sender-refused-at-load", only="alertrouter")
def no_sender(ctx):
    # An SNS config that assumes an AWS role decodes and validates as in Alertmanager, but
    # alertrouter cannot send it (no STS): check-config, start and reload refuse it instead
    # of failing every send
    d = tempfile.mkdtemp(prefix="ar-e2e-nosender-")
    try:
        bad = os.path.join(d, "sns.yml")
        with open(bad, "w") as f:
            f.write(NO_SENDER)
        p = subprocess.run([ar_binary(), "check-config", bad], capture_output=True, timeout=20)
        out = p.stdout.decode()
        check(p.returncode != 0 and "FAILED" in out and "sns_configs[0]" in out
              and "receiver team" in out and "role_arn" in out,
              "check-config: rc %d %r" % (p.returncode, out))
        p = subprocess.run([ar_binary(), "--config.file=" + bad,
                            "--storage.path=" + os.path.join(d, "data"),
                            "--web.listen-address=127.0.0.1:%d" % free_port()],
                           capture_output=True, timeout=20)
        check(p.returncode != 0 and b"sns_configs" in p.stdout + p.stderr,
              "start refused: rc %d" % p.returncode)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    srv = ctx.server()
    with open(srv.config_path, "w") as f:
        f.write(NO_SENDER)
    r = srv.request("POST", "/-/reload")
    check(r[0] == 500 and "sns_configs" in r.text(), "reload refused: %r" % (r,))
    eq(srv.get("/api/v2/status").json()["config"]["original"].count("sns_configs"), 0,
       "the running configuration stays")


if __name__ == "__main__":
    suite.main()
