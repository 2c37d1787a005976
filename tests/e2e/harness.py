"""End-to-end test harness for alertrouter (Python 3 standard library only).

Every test file under tests/e2e/ imports this module. It starts servers, drives
them over HTTP and reports results. Each expectation is run against
alertrouter and, when /usr/bin/prometheus-alertmanager is installed, against the
reference Alertmanager as well, so the suite proves what it expects.

Main pieces:
  Server(kind, config)   a server on a free 127.0.0.1 port with a temporary data dir;
                         start(), stop() (SIGTERM), kill9(), restart(), request(),
                         get_json(), post_alerts(), amtool(), rss_kb(), log_text()
  WebhookSink()          threaded HTTP sink recording POST bodies with arrival times
  poll(fn, timeout)      poll with a deadline instead of sleeping
  Suite(name)            the runner: @suite.case(...) registers cases, suite.main()
                         runs them for each target, prints one line per case and a
                         final "N passed, M failed" line, exits 1 on failure
  targets()              kinds to run: alertrouter always, alertmanager if installed

Environment:
  AR_BINARY        alertrouter binary (default build/alertrouter under the repo root)
  AR_E2E_TARGETS   comma list restricting the kinds (e.g. "alertmanager")
  AR_E2E_VERBOSE   1: print server logs of failed cases
  AR_E2E_STORAGE   "postgresql": every alertrouter started here also gets --storage.url
                   (issue 14: the suites run against both storages). One real PostgreSQL
                   (tests/e2e/pg.py) starts with the first instance and stops at exit; each
                   data directory has its own database, so a restart of the same data
                   directory finds its shared state again and unrelated instances share
                   nothing. Only alertrouter runs (Alertmanager has no such storage; the
                   plain run compares with it). Without PostgreSQL installed the suite
                   exits 77 (ctest's SKIP_RETURN_CODE).

Every process started here is recorded and killed by PID at exit, even on failure.
"""

import atexit
import calendar
import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AM_BINARY = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"
KINDS = ("alertrouter", "alertmanager")

DEFAULT_CONFIG = """\
route:
  receiver: team
receivers:
- name: team
"""

# The seed alert of COMPAT 2.2 and its fingerprint.
SEED_LABELS = {
    "alertname": "monitor_service_down",
    "instance": "cadvisor:8080",
    "job": "cadvisor",
    "monitor": "docker-host-alpha",
    "severity": "critical",
}
SEED_FINGERPRINT = "e960cfc9079ae255"


def ar_binary():
    b = os.environ.get("AR_BINARY") or os.path.join(REPO_ROOT, "build", "alertrouter")
    if not os.path.isabs(b):
        b = os.path.join(REPO_ROOT, b)
    return b


def targets():
    """Kinds to run: alertrouter always, alertmanager when installed."""
    kinds = ["alertrouter"]
    if os.path.exists(AM_BINARY):
        kinds.append("alertmanager")
    if pg_mode():
        kinds = ["alertrouter"]
    only = os.environ.get("AR_E2E_TARGETS")
    if only:
        wanted = [k.strip() for k in only.split(",") if k.strip()]
        kinds = [k for k in kinds if k in wanted]
    return kinds


# ---------------------------------------------------------------------------
# AR_E2E_STORAGE=postgresql: the shared store under every alertrouter


def pg_mode():
    return os.environ.get("AR_E2E_STORAGE", "") == "postgresql"


_PG = {"server": None, "dbs": {}}
_PG_LOCK = threading.Lock()


def pg_missing():
    """Why PostgreSQL mode cannot run here (a sentence), or None."""
    import pg  # tests/e2e/pg.py imports this module: imported on first use
    if pg.pg_bindir() is None:
        return "PostgreSQL is not installed (no %s/initdb; scripts/bootstrap.sh installs " \
               "Debian's postgresql)" % pg.PG_GLOB
    if os.geteuid() == 0:
        try:
            pg.pwd.getpwnam("postgres")
        except KeyError:
            return "there is no `postgres` user to run PostgreSQL as (initdb refuses root)"
    return None


def pg_url_for(data_dir):
    """The --storage.url of the instances on data_dir: a database of its own on the one
    PostgreSQL of this process (started on first use, stopped at exit by pg.py)."""
    import pg
    key = os.path.realpath(data_dir)
    with _PG_LOCK:
        if _PG["server"] is None:
            _PG["server"] = pg.Postgres().start()
        srv = _PG["server"]
        name = _PG["dbs"].get(key)
        if name is None:
            name = "ar_%d" % (len(_PG["dbs"]) + 1)
            srv.createdb(name)
            _PG["dbs"][key] = name
        return srv.url(name)


# ---------------------------------------------------------------------------
# process bookkeeping: everything we start is killed by PID at exit

_PROCS = {}
_PROCS_LOCK = threading.Lock()


def _register(proc):
    with _PROCS_LOCK:
        _PROCS[proc.pid] = proc


def _unregister(proc):
    with _PROCS_LOCK:
        _PROCS.pop(proc.pid, None)


def _kill_all():
    with _PROCS_LOCK:
        procs = list(_PROCS.values())
        _PROCS.clear()
    for p in procs:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                p.wait(timeout=5)
            except Exception:
                pass


atexit.register(_kill_all)


def _on_signal(signum, frame):
    _kill_all()
    sys.exit(128 + signum)


for _s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    try:
        signal.signal(_s, _on_signal)
    except (ValueError, OSError):
        pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


# ---------------------------------------------------------------------------
# time helpers


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(dt, ms=True):
    """RFC 3339 with millisecond precision, Z for UTC, offset kept otherwise."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=datetime.timezone.utc)
    off = dt.utcoffset()
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        base += ".%03d" % (dt.microsecond // 1000)
    if off == datetime.timedelta(0):
        return base + "Z"
    total = int(off.total_seconds())
    sign = "+" if total >= 0 else "-"
    total = abs(total)
    return "%s%s%02d:%02d" % (base, sign, total // 3600, (total % 3600) // 60)


def ts(offset_s=0.0):
    """ISO time offset_s seconds from now (UTC, ms precision)."""
    return iso(now_utc() + datetime.timedelta(seconds=offset_s))


_TS_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_time(s):
    """Parses RFC 3339 into an aware datetime (raises ValueError)."""
    m = _TS_RE.match(s)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % (s,))
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    us = int((frac[1:] + "000000")[:6]) if frac else 0
    tz = m.group(8)
    if tz == "Z":
        tzinfo = datetime.timezone.utc
    else:
        sign = 1 if tz[0] == "+" else -1
        tzinfo = datetime.timezone(sign * datetime.timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6])))
    return datetime.datetime(y, mo, d, h, mi, se, us, tzinfo=tzinfo)


def epoch(s):
    """Seconds since the epoch of an RFC 3339 string (float)."""
    return parse_time(s).timestamp()


MS_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")
UTC_MS_TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# ---------------------------------------------------------------------------
# assertions with readable messages


class Skip(Exception):
    pass


class Fail(AssertionError):
    pass


def check(cond, msg, *args):
    if not cond:
        raise Fail(msg % args if args else msg)


def eq(got, expected, what="value"):
    if got != expected:
        raise Fail("%s: expected %s, got %s" % (what, _short(expected), _short(got)))


def _short(v, limit=600):
    s = repr(v)
    if len(s) > limit:
        s = s[:limit] + "...(%d chars)" % len(s)
    return s


class FakeService:
    """A fake of a notification service (webhook sink, chat API, Jira, ...): an HTTP server on 127.0.0.1 recording method, path, headers and body of every request;
    reply_fn(method, path, body, n) -> (status, content type, body) answers it (n: how many
    earlier requests had the same method and path without query)."""

    def __init__(self, reply_fn):
        svc = self
        self.requests = []
        self.reply_fn = reply_fn
        self.cond = threading.Condition()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                base = self.path.split("?", 1)[0]
                with svc.cond:
                    n = sum(1 for r in svc.requests
                            if r["method"] == self.command and r["base"] == base)
                    svc.requests.append({"method": self.command, "path": self.path,
                                         "base": base, "headers": dict(self.headers.items()),
                                         "header_list": list(self.headers.items()),
                                         "body": body})
                    svc.cond.notify_all()
                status, ctype, reply = svc.reply_fn(self.command, self.path, body, n)
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = handle_any
            do_POST = handle_any
            do_PUT = handle_any

            def log_message(self, *a):
                pass

        class Quiet(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # a kept-alive connection reset when a server under test stops: not a failure
                # of the fake; anything else still prints its traceback
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait(self, n, prefix="", timeout=15.0):
        """The first n requests whose path starts with prefix, in arrival order."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if r["path"].startswith(prefix)]
                if len(got) >= n:
                    return got[:n]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail("%d request(s) under %r within %.0fs, wanted %d (%s)"
                               % (len(got), prefix, timeout, n,
                                  [(r["method"], r["path"]) for r in self.requests]))
                self.cond.wait(left)

    def under(self, prefix, n, timeout=15.0):
        """wait() with the prefix first."""
        return self.wait(n, prefix, timeout)

    def first(self, prefix, timeout=15.0):
        """The first request whose path starts with prefix."""
        return self.wait(1, prefix, timeout)[0]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def poll(fn, timeout=10.0, interval=0.05, what="condition"):
    """Calls fn() until it returns a truthy value or the deadline passes.
    Returns that value; on timeout raises Fail with the last value or exception."""
    deadline = time.monotonic() + timeout
    last = None
    last_exc = None
    while True:
        try:
            last = fn()
            last_exc = None
            if last:
                return last
        except Fail as e:
            last_exc = e
        except (OSError, http.client.HTTPException, ValueError) as e:
            last_exc = e
        if time.monotonic() >= deadline:
            raise Fail("timed out after %.1fs waiting for %s (last: %s)"
                       % (timeout, what, last_exc if last_exc else _short(last)))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# HTTP


class Response(tuple):
    """(status, headers, body) with convenience accessors."""

    def __new__(cls, status, headers, body):
        return tuple.__new__(cls, (status, headers, body))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    body = property(lambda self: self[2])

    def json(self):
        return json.loads(self[2].decode("utf-8"))

    def json_ordered(self):
        """Decodes keeping key order: objects become lists of (key, value) pairs."""
        return json.loads(self[2].decode("utf-8"), object_pairs_hook=lambda p: p)

    def text(self):
        return self[2].decode("utf-8", "replace")


def http_request(host, port, method, path, body=None, headers=None, timeout=10.0):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.headers, data)
    finally:
        conn.close()


def qs(params):
    """Query string from a dict or list of pairs ('?' included, '' when empty)."""
    if not params:
        return ""
    return "?" + urllib.parse.urlencode(params, doseq=True)


# ---------------------------------------------------------------------------
# servers


class Server:
    """One alertrouter or Alertmanager process on 127.0.0.1:<free port>."""

    def __init__(self, kind, config=DEFAULT_CONFIG, args=(), route_prefix=None,
                 external_url_path=None, data_dir=None, start=True, ready_timeout=20.0,
                 gc_interval=None, cwd=None, cluster_listen="", env=None):
        if kind not in KINDS:
            raise ValueError("unknown kind %r" % kind)
        self.kind = kind
        self.config = config
        self.extra_args = list(args)
        self.route_prefix = route_prefix
        self.external_url_path = external_url_path
        self.gc_interval = gc_interval
        # --cluster.listen-address for both kinds: "" (default) disables clustering, so the
        # real Alertmanager opens no gossip port; None leaves the binary's default
        # (0.0.0.0:9094, which only alertrouter may be given: it opens nothing there).
        self.cluster_listen = cluster_listen
        self.ready_timeout = ready_timeout
        self.tmp = tempfile.mkdtemp(prefix="ar-e2e-%s-" % kind)
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.config_path = os.path.join(self.tmp, "config.yml")
        self.cwd = cwd or self.tmp
        self.env = env  # extra environment variables for the process
        self.host = "127.0.0.1"
        self.port = None
        self.proc = None
        self.log_path = os.path.join(self.tmp, "server.log")
        self.starts = 0
        self.started_at = None
        self.ready_at = None
        with open(self.config_path, "w") as f:
            f.write(config)
        if start:
            self.start()

    # -- paths ------------------------------------------------------------
    @property
    def prefix(self):
        p = self.route_prefix
        if p is None and self.external_url_path:
            p = self.external_url_path
        if not p or p == "/":
            return ""
        return "/" + p.strip("/")

    @property
    def base_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def url(self):
        """URL including the route prefix (what amtool needs)."""
        return self.base_url + self.prefix

    def binary(self):
        return ar_binary() if self.kind == "alertrouter" else AM_BINARY

    def command(self):
        args = [self.binary(),
                "--config.file=" + self.config_path,
                "--storage.path=" + self.data_dir,
                "--web.listen-address=%s:%d" % (self.host, self.port)]
        if self.cluster_listen is not None:
            args.append("--cluster.listen-address=" + self.cluster_listen)
        if self.route_prefix is not None:
            args.append("--web.route-prefix=" + self.route_prefix)
        if self.external_url_path is not None:
            args.append("--web.external-url=http://%s:%d%s" % (self.host, self.port,
                                                               self.external_url_path))
        if self.gc_interval is not None:
            args.append("--alerts.gc-interval=" + self.gc_interval)
        args.extend(self.extra_args)
        if (self.kind == "alertrouter" and pg_mode() and
                not any(a.startswith("--storage.url") for a in args)):
            args.append("--storage.url=" + pg_url_for(self.data_dir))
        return args

    # -- lifecycle --------------------------------------------------------
    def start(self, keep_port=False):
        binary = self.binary()
        if not os.path.exists(binary):
            raise Fail("binary not found: %s" % binary)
        last_err = None
        for attempt in range(3):
            if not (keep_port and self.port):
                self.port = free_port()
            logf = open(self.log_path, "ab")
            logf.write(("=== start %d: %s\n" % (self.starts, " ".join(self.command()))).encode())
            logf.flush()
            self.started_at = time.monotonic()
            env = None
            if self.env:
                env = dict(os.environ)
                env.update(self.env)
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf,
                                         stderr=subprocess.STDOUT, cwd=self.cwd, env=env)
            logf.close()
            _register(self.proc)
            self.starts += 1
            try:
                self.wait_ready(self.ready_timeout)
                return self
            except Fail as e:
                last_err = e
                exited = self.proc.poll() is not None
                self._reap()
                if not exited or keep_port:
                    break
                # Port stolen between free_port() and bind: retry on another port.
                if "address already in use" not in self.log_text().lower():
                    break
        raise Fail("%s did not become ready: %s; log tail:\n%s"
                   % (self.kind, last_err, self.log_tail()))

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail("process exited with status %s" % self.proc.returncode)
            try:
                r = http_request(self.host, self.port, "GET", self.prefix + "/-/ready", timeout=2)
                if r.status == 200:
                    self.ready_at = time.monotonic()
                    return
                last = "status %d" % r.status
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.02)
        raise Fail("not ready after %.1fs (%s)" % (timeout, last))

    def startup_seconds(self):
        return self.ready_at - self.started_at

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _reap(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _unregister(self.proc)

    def stop(self, timeout=10.0):
        """SIGTERM and wait; SIGKILL after timeout. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
            except OSError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._reap()
                raise Fail("%s did not exit within %.0fs of SIGTERM" % (self.kind, timeout))
        rc = self.proc.returncode
        _unregister(self.proc)
        return rc

    def kill9(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._reap()

    def restart(self, kill=False, args=None, keep_port=False):
        """Stops (SIGTERM, or SIGKILL with kill=True) and starts again on the same data dir."""
        if kill:
            self.kill9()
        else:
            self.stop()
        if args is not None:
            self.extra_args = list(args)
        return self.start(keep_port=keep_port)

    def cleanup(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self.stop(timeout=5)
                except Fail:
                    pass
        finally:
            self._reap()
            self.final_log = self.log_text()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def sanitizer_report(self):
        """First lines of an ASan/LSan/UBSan report in the server output, or None."""
        text = getattr(self, "final_log", None)
        if text is None:
            text = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer"):
            i = text.find(marker)
            if i >= 0:
                start = text.rfind("\n", 0, i) + 1
                return "\n".join(text[start:].splitlines()[:25])
        return None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=30):
        return "\n".join(self.log_text().splitlines()[-n:])

    def rss_kb(self):
        """VmRSS of the server process in kB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    # -- HTTP -------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=10.0, prefix=True):
        """path is relative to the route prefix unless prefix=False."""
        p = (self.prefix + path) if prefix else path
        return http_request(self.host, self.port, method, p, body=body, headers=headers,
                            timeout=timeout)

    def get(self, path, params=None, **kw):
        return self.request("GET", path + qs(params), **kw)

    def post_json(self, path, obj, content_type="application/json", **kw):
        body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
        return self.request("POST", path, body=body, headers={"Content-Type": content_type}, **kw)

    def post_alerts(self, alerts, **kw):
        return self.post_json("/api/v2/alerts", alerts, **kw)

    def get_json(self, path, params=None, expect=200):
        r = self.get(path, params)
        if expect is not None and r.status != expect:
            raise Fail("GET %s%s: expected %d, got %d %s"
                       % (path, qs(params), expect, r.status, r.text()[:300]))
        return r.json()

    def alerts(self, params=None):
        return self.get_json("/api/v2/alerts", params)

    def alerts_by_fp(self, params=None):
        return {a["fingerprint"]: a for a in self.alerts(params)}

    def post_ok(self, alerts):
        r = self.post_alerts(alerts)
        if r.status != 200:
            raise Fail("POST alerts: expected 200, got %d %s" % (r.status, r.text()[:300]))
        return r

    def amtool(self, *args, timeout=30, check_rc=None):
        cmd = [AMTOOL, "--alertmanager.url=" + self.url] + list(args)
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        if check_rc is not None and p.returncode != check_rc:
            raise Fail("amtool %s: exit %d, expected %d; stdout=%r stderr=%r"
                       % (" ".join(args), p.returncode, check_rc, out, err))
        return p.returncode, out, err


# ---------------------------------------------------------------------------
# webhook sink


class WebhookSink:
    """Threaded HTTP server on 127.0.0.1 recording POST bodies.
    received: list of (monotonic_time, path, body_bytes, parsed_json_or_None).
    status_fn(path, n) may return a status code to answer (default 200).
    reply: (content_type, body_bytes) to answer instead of an empty body, e.g. what a Slack
    incoming webhook answers: ("text/plain; charset=utf-8", b"ok")."""

    def __init__(self, status_fn=None, delay_fn=None, reply=None):
        sink = self
        self.received = []
        self.reply = reply
        self.cond = threading.Condition()
        self.status_fn = status_fn
        self.delay_fn = delay_fn

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                t = time.monotonic()
                try:
                    parsed = json.loads(body.decode("utf-8"))
                except ValueError:
                    parsed = None
                with sink.cond:
                    idx = len(sink.received)
                    sink.received.append((t, self.path, body, parsed))
                    sink.cond.notify_all()
                if sink.delay_fn:
                    d = sink.delay_fn(self.path, idx)
                    if d:
                        time.sleep(d)
                code = sink.status_fn(self.path, idx) if sink.status_fn else 200
                self.send_response(code or 200)
                if sink.reply is not None:
                    self.send_header("Content-Type", sink.reply[0])
                    self.send_header("Content-Length", str(len(sink.reply[1])))
                    self.end_headers()
                    self.wfile.write(sink.reply[1])
                else:
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def wait_for(self, n, timeout=10.0):
        """Waits until at least n bodies arrived; returns the list."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Fail("webhook sink: expected %d bodies within %.1fs, got %d"
                               % (n, timeout, len(self.received)))
                self.cond.wait(left)
            return list(self.received)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------
# alerts


def alert(labels, annotations=None, starts=None, ends=None, url=None):
    a = {"labels": dict(labels)}
    if annotations is not None:
        a["annotations"] = dict(annotations)
    if starts is not None:
        a["startsAt"] = starts
    if ends is not None:
        a["endsAt"] = ends
    if url is not None:
        a["generatorURL"] = url
    return a


def fingerprint(labels):
    """COMPAT 2.2: FNV-1a 64 over sorted name 0xff value 0xff."""
    h = 0xcbf29ce484222325
    for k in sorted(labels, key=lambda s: s.encode("utf-8")):
        for part in (k.encode("utf-8"), b"\xff", labels[k].encode("utf-8"), b"\xff"):
            for b in part:
                h ^= b
                h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


# ---------------------------------------------------------------------------
# runner


class Context:
    """Per-case resources: servers and sinks are cleaned up when the case ends."""

    def __init__(self, kind):
        self.kind = kind
        self.servers = []
        self.sinks = []
        self.notes = []

    @property
    def is_am(self):
        return self.kind == "alertmanager"

    def server(self, config=DEFAULT_CONFIG, **kw):
        s = Server(self.kind, config, start=False, **kw)
        self.servers.append(s)
        s.start()
        return s

    def sink(self, **kw):
        s = WebhookSink(**kw)
        self.sinks.append(s)
        return s

    def note(self, msg):
        self.notes.append(msg)

    def cleanup(self):
        """Stops everything; returns sanitizer reports found in server output."""
        reports = []
        for s in self.servers:
            try:
                s.cleanup()
            except Exception:
                pass
            rep = s.sanitizer_report()
            if rep:
                reports.append(rep)
        for s in self.sinks:
            try:
                s.close()
            except Exception:
                pass
        return reports


class Suite:
    def __init__(self, name):
        self.name = name
        self.cases = []

    def case(self, name=None, only=None):
        """Registers fn(ctx). only: a kind or tuple of kinds the case applies to."""
        def deco(fn):
            kinds = (only,) if isinstance(only, str) else only
            self.cases.append((name or fn.__name__, fn, kinds))
            return fn
        return deco

    def main(self, jobs=1):
        """Runs the registered cases for each target. jobs > 1 runs that many cases at
        once (threads; each case has its own servers and sinks), so timing-bound files
        can run both targets side by side; AR_E2E_JOBS overrides. Lines are printed as
        cases finish."""
        if pg_mode():
            why = pg_missing()
            if why:
                print("skipped: AR_E2E_STORAGE=postgresql but %s" % why, flush=True)
                sys.exit(77)
        patterns = [a for a in sys.argv[1:] if not a.startswith("-")]
        verbose = os.environ.get("AR_E2E_VERBOSE") == "1" or "-v" in sys.argv
        if os.environ.get("AR_E2E_JOBS"):
            jobs = int(os.environ["AR_E2E_JOBS"])
        tally = {"passed": 0, "failed": 0, "skipped": 0}
        failures = []
        lock = threading.Lock()
        t_all = time.monotonic()
        work = []
        for kind in targets():
            for name, fn, kinds in self.cases:
                if kinds and kind not in kinds:
                    continue
                if patterns and not any(p in name for p in patterns):
                    continue
                work.append((kind, name, fn))

        def run_one(kind, name, fn):
            ctx = Context(kind)
            t0 = time.monotonic()
            status = "ok"
            detail = ""
            try:
                fn(ctx)
            except Skip as e:
                status = "skip"
                detail = str(e)
            except Exception as e:
                status = "FAIL"
                if isinstance(e, Fail):
                    detail = str(e)
                else:
                    detail = "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc())
                # the server's own account of a failure is kept in every run (CI included):
                # a timing failure there cannot be reproduced afterwards
                for s in ctx.servers:
                    detail += "\n--- %s log tail ---\n%s" % (s.kind, s.log_tail(40 if verbose else 15))
            finally:
                reports = ctx.cleanup()
            if reports and status != "FAIL":
                # A sanitizer report fails the case even when every check passed.
                status = "FAIL"
                detail = "sanitizer report in server output:\n" + reports[0]
            elif reports:
                detail += "\nsanitizer report in server output:\n" + reports[0]
            dt = time.monotonic() - t0
            line = "%-4s %-12s %s/%s (%.1fs)" % (status, kind, self.name, name, dt)
            if detail:
                line += ": " + detail
            if ctx.notes:
                line += " [note: " + "; ".join(ctx.notes) + "]"
            key = {"ok": "passed", "skip": "skipped", "FAIL": "failed"}[status]
            with lock:
                tally[key] += 1
                if status == "FAIL":
                    failures.append((kind, name))
                print(line, flush=True)

        if jobs <= 1:
            for w in work:
                run_one(*w)
        else:
            pending_work = list(work)

            def worker():
                while True:
                    with lock:
                        if not pending_work:
                            return
                        w = pending_work.pop(0)
                    run_one(*w)

            threads = [threading.Thread(target=worker, daemon=True)
                       for _ in range(min(jobs, len(work)))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        passed, failed = tally["passed"], tally["failed"]
        skipped = tally["skipped"]
        if skipped:
            print("%d skipped" % skipped)
        print("%d passed, %d failed" % (passed, failed), flush=True)
        print("(%s: %.1fs)" % (self.name, time.monotonic() - t_all), flush=True)
        _kill_all()
        sys.exit(1 if failed else 0)


# ---------------------------------------------------------------------------
# notification pipeline helpers (webhook payloads, scenario clock)

ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(s):
    """An RFC 3339 string as Go's time.MarshalJSON prints it: fraction trimmed of
    trailing zeros (and dropped when zero); the offset kept as given."""
    m = _TS_RE.match(s)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % (s,))
    frac = (m.group(7) or "").rstrip("0")
    if frac == ".":
        frac = ""
    return s[:19] + frac + m.group(8)


class Timeline:
    """Scenario clock like upstream's acceptance tests: t = 0 when created (create it
    once the servers are ready). at(t) waits until t (scheduled actions of a scenario
    are the only sleeps); ts(t) is the wall-clock time t as RFC 3339 with ms precision
    (what to post as startsAt/endsAt); rel(m) turns a monotonic arrival time into t."""

    def __init__(self):
        self.mono0 = time.monotonic()
        self.wall0 = time.time()

    def now(self):
        return time.monotonic() - self.mono0

    def at(self, t):
        d = self.mono0 + t - time.monotonic()
        if d > 0:
            time.sleep(d)

    def ts(self, t):
        return iso(datetime.datetime.fromtimestamp(self.wall0 + t, datetime.timezone.utc))

    def rel(self, mono):
        return mono - self.mono0


def _label_set_before(a, b):
    """COMPAT 2.7 label-set order: True when a sorts before b."""
    if len(a) != len(b):
        return len(a) < len(b)
    for name in sorted(set(a) | set(b), key=lambda s: s.encode("utf-8")):
        if name not in a:
            return True
        if name not in b:
            return False
        if a[name] != b[name]:
            return a[name].encode("utf-8") < b[name].encode("utf-8")
    return False


def sort_alerts(alerts, key=lambda a: a["labels"]):
    """COMPAT 2.7 order of alerts inside a notification (stable): by job (present
    first, then value), by instance likewise, then label-set order."""
    import functools

    def cmp(x, y):
        lx, ly = key(x), key(y)
        for name in ("job", "instance"):
            if name in lx and name not in ly:
                return -1
            if name in ly and name not in lx:
                return 1
            if name in lx and lx[name] != ly[name]:
                return -1 if lx[name].encode("utf-8") < ly[name].encode("utf-8") else 1
        if _label_set_before(lx, ly):
            return -1
        if _label_set_before(ly, lx):
            return 1
        return 0
    return sorted(alerts, key=functools.cmp_to_key(cmp))


def wh_alert(labels, annotations=None, starts=None, ends=None, url="", status=None):
    """One alert of an expected webhook payload. starts/ends are RFC 3339 strings as
    posted (printed the Go way); no ends means firing with the zero endsAt."""
    if status is None:
        status = "resolved" if ends else "firing"
    return {"status": status, "labels": _sorted_map(labels),
            "annotations": _sorted_map(annotations or {}),
            "startsAt": go_time(starts) if starts else None,
            "endsAt": go_time(ends) if ends else ZERO_TIME,
            "generatorURL": url, "fingerprint": fingerprint(labels)}


def _sorted_map(d):
    """Go encodes maps with keys sorted byte-wise: same order here, so an expected
    payload dumped with json.dumps has Go's layout."""
    return {k: d[k] for k in sorted(d, key=lambda s: s.encode("utf-8"))}


def _common(dicts):
    if not dicts:
        return {}
    out = dict(dicts[0])
    for d in dicts[1:]:
        out = {k: v for k, v in out.items() if d.get(k) == v}
    return out


def wh_payload(receiver, group_key, group_labels, alerts, truncated=0, sort=True):
    """An expected webhook payload (version 4, 0.25 field order). Alerts are sorted as
    Alertmanager sorts them unless sort=False; common labels/annotations and the status
    are derived from them. externalURL is set to None (see norm_payload)."""
    if sort:
        alerts = sort_alerts(alerts)
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {"receiver": receiver, "status": status, "alerts": list(alerts),
            "groupLabels": _sorted_map(group_labels),
            "commonLabels": _sorted_map(_common([a["labels"] for a in alerts])),
            "commonAnnotations": _sorted_map(_common([a["annotations"] for a in alerts])),
            "externalURL": None, "version": "4", "groupKey": group_key,
            "truncatedAlerts": truncated}


def norm_payload(p, starts=None, ends=None):
    """Copy of a received payload with externalURL set to None (checked non-empty), and,
    for alerts whose startsAt/endsAt the test cannot control, the value replaced by
    None: starts/ends are sets of alertname values (or True for all) to blank."""
    if not isinstance(p, dict):
        raise Fail("webhook body is not a JSON object: %s" % _short(p))
    q = dict(p)
    check(isinstance(q.get("externalURL"), str) and q["externalURL"].startswith("http"),
          "externalURL %r" % (q.get("externalURL"),))
    q["externalURL"] = None
    alerts = []
    for a in q.get("alerts") or []:
        a = dict(a)
        name = a.get("labels", {}).get("alertname")
        if starts is True or (starts and name in starts):
            a["startsAt"] = None
        if ends is True or (ends and name in ends):
            if a.get("endsAt") != ZERO_TIME:
                a["endsAt"] = None
        alerts.append(a)
    q["alerts"] = alerts
    return q


def deliveries(sink, tl=None, path=None):
    """[(t, payload)] received by a sink (t relative to tl when given), optionally
    only those POSTed to path."""
    with sink.cond:
        rec = list(sink.received)
    out = []
    for (t, p, _body, parsed) in rec:
        if path is not None and p != path:
            continue
        out.append((tl.rel(t) if tl else t, parsed))
    return out


def alert_names(payload):
    """Short description of a payload for messages: status and alerts (name:status)."""
    if not isinstance(payload, dict):
        return repr(payload)
    return "%s[%s]" % (payload.get("status"), ", ".join(
        "%s%s:%s" % (a["labels"].get("alertname"),
                     "".join("/%s=%s" % (k, v) for k, v in sorted(a["labels"].items())
                             if k != "alertname"),
                     a["status"]) for a in payload.get("alerts", [])))


def timeline_text(got):
    return "; ".join("%.2fs %s" % (t, alert_names(p)) for t, p in got)


def payload_diff(expected, got):
    """Readable difference between two payloads (top-level keys and per-alert fields)."""
    out = []
    for k in list(expected) + [k for k in got if k not in expected]:
        if k == "alerts":
            continue
        if expected.get(k, "<absent>") != got.get(k, "<absent>"):
            out.append("%s: expected %s, got %s" % (k, _short(expected.get(k, "<absent>"), 200),
                                                     _short(got.get(k, "<absent>"), 200)))
    ea, ga = expected.get("alerts", []), got.get("alerts", [])
    if len(ea) != len(ga):
        out.append("alerts: expected %d (%s), got %d (%s)" % (
            len(ea), alert_names(expected), len(ga), alert_names(got)))
    else:
        for i, (x, y) in enumerate(zip(ea, ga)):
            for k in list(x) + [k for k in y if k not in x]:
                if x.get(k, "<absent>") != y.get(k, "<absent>"):
                    out.append("alerts[%d].%s: expected %s, got %s" % (
                        i, k, _short(x.get(k, "<absent>"), 200), _short(y.get(k, "<absent>"), 200)))
    return "; ".join(out) or "(equal)"


class Approx:
    """An expected RFC 3339 time the test cannot control exactly: equal to any time
    string within tol seconds of the wall-clock epoch t."""

    def __init__(self, t, tol=0.5):
        self.t = t
        self.tol = tol

    def __eq__(self, other):
        if isinstance(other, Approx):
            return self.t == other.t and self.tol == other.tol
        try:
            return isinstance(other, str) and abs(epoch(other) - self.t) <= self.tol
        except ValueError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "~%s±%gs" % (iso(datetime.datetime.fromtimestamp(self.t, datetime.timezone.utc)),
                            self.tol)


def _tl_approx(self, t, tol=0.5):
    return Approx(self.wall0 + t, tol)


Timeline.approx = _tl_approx


def wh_alert_t(labels, annotations=None, starts=None, ends=None, url="", status=None):
    """wh_alert accepting Approx for starts/ends."""
    a = wh_alert(labels, annotations,
                 starts=None if isinstance(starts, Approx) else starts,
                 ends=None if isinstance(ends, Approx) else ends, url=url,
                 status=status or ("resolved" if ends else "firing"))
    if isinstance(starts, Approx):
        a["startsAt"] = starts
    if isinstance(ends, Approx):
        a["endsAt"] = ends
    return a


def finished_delivery(srv, integration, timeout=20):
    """The first delivery row of integration ("webhook[0]") that is no longer pending
    (delivered or dead), polled from /api/x/deliveries."""
    def done():
        rows = [d for d in srv.get_json("/api/x/deliveries")
                if d["integration"] == integration and d["state"] != "pending"]
        return rows[0] if rows else None
    return poll(done, timeout=timeout, what="a finished %s delivery" % integration)


def check_no_secret(srv, secret, *texts):
    """secret is in none of texts (API answers the test kept), the server log, the delivery
    rows (/api/x/deliveries) and the database files."""
    for t in texts:
        check(secret not in t, "secret %s leaked: %s", secret, t[:300])
    check(secret not in srv.log_text(), "secret %s in the server log", secret)
    check(secret not in json.dumps(srv.get_json("/api/x/deliveries")),
          "secret %s in the delivery rows", secret)
    for name in sorted(os.listdir(srv.data_dir)):
        if name.startswith("alertrouter.db"):
            with open(os.path.join(srv.data_dir, name), "rb") as f:
                check(secret.encode() not in f.read(), "secret %s stored in %s", secret, name)


def check_sequence(got, wants, what="notifications", early=0.2, late=0.8):
    """got: [(t, payload)] (payloads normalised by the caller); wants: [(lo, hi,
    expected_payload)]. The deliveries must be exactly the wanted ones, in order, each
    arriving within [lo - early, hi + late] (upstream windows widened for a loaded
    machine)."""
    def tl_text():
        return "got: %s; wanted: %s" % (
            timeline_text(got), "; ".join("%.1f-%.1fs %s" % (lo, hi, alert_names(e))
                                          for lo, hi, e in wants))
    if len(got) != len(wants):
        raise Fail("%s: expected %d, got %d (%s)" % (what, len(wants), len(got), tl_text()))
    for i, ((t, p), (lo, hi, e)) in enumerate(zip(got, wants)):
        if p != e:
            raise Fail("%s #%d at %.2fs: %s (%s)" % (what, i + 1, t, payload_diff(e, p), tl_text()))
        if not (lo - early <= t <= hi + late):
            raise Fail("%s #%d arrived at %.2fs, outside %.1f-%.1fs (+%.1f/-%.1f) (%s)"
                       % (what, i + 1, t, lo, hi, late, early, tl_text()))
