#!/usr/bin/env python3
"""--web.config.file (COMPAT 11): TLS, client-certificate policies, TLS version limits,
basic auth with bcrypt hashes, extra response headers, validation at start and reload.

Every case runs on alertrouter and on the reference Alertmanager (exporter-toolkit), so
each expectation is proven upstream. A CA, a server certificate, a client certificate and
a client certificate from another CA are generated with openssl in a temporary directory.
Clients: Python's ssl module (exact control of versions and client certificates), curl and
amtool (--http.config.file with tls_config and basic_auth).

The harness's readiness probe speaks plain HTTP without credentials, so servers here are a
subclass whose probe uses the case's TLS context and credentials."""

import base64
import http.client
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import threading
import time

from harness import (AMTOOL, Fail, Server, Skip, Suite, check, eq, poll)

suite = Suite("09-web-config")

# bcrypt (cost 10) of "secret"; Alertmanager's Go bcrypt accepting it proves the hash.
HASH_SECRET = "$2b$10$abcdefghijklmnopqrstuuqflPDzB6gcMhKa1rZqKiun2YGL5sa2u"

_PKI = None
_PKI_LOCK = threading.Lock()


def sh(cmd, cwd=None, timeout=30):
    p = subprocess.run(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def pki():
    """Generates (once) ca, server (localhost, 127.0.0.1), client and a foreign client."""
    global _PKI
    with _PKI_LOCK:
        if _PKI is None:
            _PKI = _make_pki()
    return _PKI


def _make_pki():
    if shutil.which("openssl") is None:
        raise Skip("openssl not installed (scripts/bootstrap.sh installs it)")
    d = tempfile.mkdtemp(prefix="ar-e2e-pki-")

    def run(*args):
        rc, out, err = sh(["openssl"] + list(args), cwd=d)
        if rc != 0:
            raise Fail("openssl %s: %s" % (" ".join(args), err))

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=alertrouter test CA")
    for name, cn, ext in (("server", "localhost",
                           "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                           "extendedKeyUsage=serverAuth\n"),
                          ("client", "client", "extendedKeyUsage=clientAuth\n")):
        run("req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext)
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")
    run("req", "-x509", *ec, "-keyout", "other.key", "-out", "other.crt", "-days", "2",
        "-subj", "/CN=stranger", "-addext", "extendedKeyUsage=clientAuth")
    return d


def p(name):
    return os.path.join(pki(), name)


class WebServer(Server):
    """A server started with --web.config.file; readiness is probed with its TLS/auth."""

    def __init__(self, kind, web_yaml, tls=True, auth=None, **kw):
        self.web_tls = tls
        self.web_auth = auth
        super().__init__(kind, start=False, **kw)
        self.web_path = os.path.join(self.tmp, "web.yml")
        self.write_web(web_yaml)
        self.extra_args.append("--web.config.file=" + self.web_path)

    def write_web(self, text):
        with open(self.web_path, "w") as f:
            f.write(text)

    def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Fail("process exited with status %s" % self.proc.returncode)
            try:
                r = self.fetch("/-/ready", auth=self.web_auth,
                               cert=("client.crt", "client.key"))
                if r.status == 200:
                    self.ready_at = time.monotonic()
                    return
                last = "status %d" % r.status
            except (OSError, http.client.HTTPException) as e:
                last = repr(e)
            time.sleep(0.05)
        raise Fail("not ready after %.1fs (%s)" % (timeout, last))

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.web_tls else "http", self.port)

    def fetch(self, path, auth=None, cert=None, version=None, headers=None, timeout=10,
              method="GET"):
        """GET (or method) path; auth (user, password) or a raw Authorization value; cert a pair of
        file names in the PKI dir; version (min, max) ssl.TLSVersion. Returns
        (status, headers dict lower-cased, body bytes); raises on TLS/connection errors."""
        hdrs = dict(headers or {})
        if isinstance(auth, tuple):
            hdrs["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % auth).encode()).decode()
        elif isinstance(auth, str):
            hdrs["Authorization"] = auth
        if self.web_tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(p("ca.crt"))
            if cert:
                ctx.load_cert_chain(p(cert[0]), p(cert[1]))
            if version:
                ctx.minimum_version, ctx.maximum_version = version
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx,
                                               timeout=timeout)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=hdrs)
            r = conn.getresponse()
            body = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, body)
        finally:
            conn.close()

    def attempt(self, path="/-/ready", **kw):
        """Status code, or the name of the error when no HTTP response came back."""
        try:
            return self.fetch(path, **kw).status
        except ssl.SSLError as e:
            return "ssl:" + (e.reason or type(e).__name__)
        except (OSError, http.client.HTTPException) as e:
            return type(e).__name__


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body


def start(ctx, web_yaml, **kw):
    s = WebServer(ctx.kind, web_yaml, **kw)
    ctx.servers.append(s)
    s.start()
    return s


def tls_yaml(extra="", client_auth=None, ca=False, users=True, headers=True):
    y = "tls_server_config:\n  cert_file: %s\n  key_file: %s\n" % (p("server.crt"),
                                                                  p("server.key"))
    if client_auth:
        y += "  client_auth_type: %s\n" % client_auth
    if ca:
        y += "  client_ca_file: %s\n" % p("ca.crt")
    y += extra
    if headers:
        y += "http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
    if users:
        y += "basic_auth_users:\n  alice: '%s'\n" % HASH_SECRET
    return y


GOOD = ("alice", "secret")


def is_handshake_failure(result):
    return not isinstance(result, int)


# ---------------------------------------------------------------------------
# basic auth and headers over TLS


@suite.case("tls-basic-auth")
def tls_basic_auth(ctx):
    s = start(ctx, tls_yaml(), auth=GOOD)
    for path in ("/-/ready", "/api/v2/status", "/api/v2/alerts"):
        r = s.fetch(path, auth=GOOD)
        eq(r.status, 200, "GET %s with correct credentials" % path)
        eq(r.headers.get("x-frame-options"), "deny", "configured header on 200 of %s" % path)
    cases = {
        "wrong password": ("alice", "wrong"),
        "unknown user": ("bob", "secret"),
        "missing": None,
        "not basic": "Bearer secret",
        "bad base64": "Basic !!!",
        "no colon": "Basic " + base64.b64encode(b"alicesecret").decode(),
    }
    for what, auth in cases.items():
        r = s.fetch("/api/v2/status", auth=auth)
        eq(r.status, 401, "status with %s credentials" % what)
        eq(r.body, b"Unauthorized\n", "401 body with %s credentials" % what)
        eq(r.headers.get("www-authenticate"), "Basic", "WWW-Authenticate with %s" % what)
        eq(r.headers.get("content-type"), "text/plain; charset=utf-8", "401 Content-Type")
        eq(r.headers.get("x-content-type-options"), "nosniff", "401 X-Content-Type-Options")
        eq(r.headers.get("x-frame-options"), "deny", "configured header on 401")
    # COMPAT: Go's BasicAuth accepts the scheme in any case
    raw = base64.b64encode(b"alice:secret").decode()
    eq(s.fetch("/-/ready", auth="basic " + raw).status, 200, "lower-case 'basic' scheme")
    r = s.fetch("/-/ready", auth=("alice", ""))
    eq(r.status, 401, "empty password")


@suite.case("curl")
def curl_case(ctx):
    if shutil.which("curl") is None:
        raise Skip("curl not installed")
    s = start(ctx, tls_yaml(), auth=GOOD)
    url = "https://127.0.0.1:%d/api/v2/status" % s.port
    rc, out, err = sh(["curl", "-sS", "--cacert", p("ca.crt"), "-u", "alice:secret",
                       "-o", "/dev/null", "-w", "%{http_code}", url])
    eq((rc, out), (0, "200"), "curl with credentials (stderr %r)" % err)
    # --http1.1: Alertmanager would negotiate HTTP/2 (http2: true); alertrouter speaks 1.1
    rc, out, err = sh(["curl", "-sS", "--http1.1", "--cacert", p("ca.crt"), "-u", "alice:nope",
                       "-D", "-", url])
    eq(rc, 0, "curl exit status with wrong password")
    head, _, body = out.replace("\r\n", "\n").partition("\n\n")
    check(head.startswith("HTTP/1.1 401"), "curl status line: %r" % head[:80])
    check("\nwww-authenticate: basic\n" in head.lower() + "\n",
          "curl headers lack WWW-Authenticate: Basic: %r" % head)
    eq(body, "Unauthorized\n", "curl 401 body")
    rc, out, err = sh(["curl", "-sS", "-o", "/dev/null", url])
    check(rc != 0, "curl without the CA must refuse the server certificate")


def amtool_cfg(ctx, s, password="secret", cert=False):
    path = os.path.join(s.tmp, "amtool-http-%s.yml" % password)
    y = "basic_auth:\n  username: alice\n  password: %s\ntls_config:\n  ca_file: %s\n" % (
        password, p("ca.crt"))
    if cert:
        y += "  cert_file: %s\n  key_file: %s\n" % (p("client.crt"), p("client.key"))
    with open(path, "w") as f:
        f.write(y)
    return path


def amtool(s, cfg, *args):
    return sh([AMTOOL, "--alertmanager.url=https://127.0.0.1:%d" % s.port,
               "--http.config.file=" + cfg] + list(args))


@suite.case("amtool")
def amtool_case(ctx):
    if not os.path.exists(AMTOOL):
        raise Skip("amtool not installed")
    s = start(ctx, tls_yaml(client_auth="RequireAndVerifyClientCert", ca=True), auth=GOOD)
    rc, out, err = amtool(s, amtool_cfg(ctx, s, cert=True), "alert", "query")
    eq(rc, 0, "amtool alert query over TLS with basic auth (stderr %r)" % err)
    rc, out, err = amtool(s, amtool_cfg(ctx, s, cert=True), "silence", "query")
    eq(rc, 0, "amtool silence query (stderr %r)" % err)
    rc, out, err = amtool(s, amtool_cfg(ctx, s, password="wrong", cert=True), "alert", "query")
    check(rc != 0, "amtool with a wrong password must fail")
    check("401" in err or "nauthorized" in err, "amtool error names the 401: %r" % err)
    rc, out, err = amtool(s, amtool_cfg(ctx, s, cert=False), "alert", "query")
    check(rc != 0, "amtool without a client certificate must fail (out %r)" % out)


# ---------------------------------------------------------------------------
# TLS versions and client certificates


@suite.case("tls-versions")
def tls_versions(ctx):
    V = ssl.TLSVersion
    s = start(ctx, tls_yaml(extra="  min_version: TLS13\n", users=False))
    eq(s.attempt(version=(V.TLSv1_3, V.TLSv1_3)), 200, "TLS 1.3 client, min_version TLS13")
    check(is_handshake_failure(s.attempt(version=(V.TLSv1_2, V.TLSv1_2))),
          "a TLS 1.2-only client must fail against min_version TLS13")
    s2 = start(ctx, tls_yaml(extra="  max_version: TLS12\n", users=False))
    eq(s2.attempt(version=(V.TLSv1_2, V.TLSv1_2)), 200, "TLS 1.2 client, max_version TLS12")
    check(is_handshake_failure(s2.attempt(version=(V.TLSv1_3, V.TLSv1_3))),
          "a TLS 1.3-only client must fail against max_version TLS12")
    s3 = start(ctx, tls_yaml(users=False))
    eq(s3.attempt(version=(V.TLSv1_2, V.TLSv1_2)), 200, "default accepts TLS 1.2")
    eq(s3.attempt(version=(V.TLSv1_3, V.TLSv1_3)), 200, "default accepts TLS 1.3")


POLICIES = {
    # policy: (needs CA, expected with no cert, with a CA-signed cert, with a foreign cert)
    "NoClientCert": (False, True, True, True),
    "RequestClientCert": (False, True, True, True),
    "RequireAnyClientCert": (False, False, True, True),
    "VerifyClientCertIfGiven": (True, True, True, False),
    "RequireAndVerifyClientCert": (True, False, True, False),
}


def make_policy_case(policy, want):
    def fn(ctx):
        ca, none_ok, good_ok, other_ok = want
        s = start(ctx, tls_yaml(client_auth=policy, ca=ca, users=False))
        for what, cert, ok in (("no certificate", None, none_ok),
                               ("a certificate from the client CA", ("client.crt", "client.key"),
                                good_ok),
                               ("a certificate from another CA", ("other.crt", "other.key"),
                                other_ok)):
            got = s.attempt(cert=cert)
            if ok:
                eq(got, 200, "%s with %s" % (policy, what))
            else:
                check(is_handshake_failure(got),
                      "%s with %s: the handshake must fail, got %r" % (policy, what, got))
    fn.__name__ = "client-auth-" + policy
    return fn


for _policy, _want in POLICIES.items():
    suite.case("client-auth-" + _policy)(make_policy_case(_policy, _want))


@suite.case("curl-client-cert-required")
def curl_client_cert(ctx):
    if shutil.which("curl") is None:
        raise Skip("curl not installed")
    s = start(ctx, tls_yaml(client_auth="RequireAndVerifyClientCert", ca=True, users=False))
    url = "https://127.0.0.1:%d/-/ready" % s.port
    rc, out, err = sh(["curl", "-sS", "--cacert", p("ca.crt"), "-o", "/dev/null", "-w",
                       "%{http_code}", url])
    check(rc != 0 and out in ("", "000"), "curl without a client certificate: rc %d out %r"
          % (rc, out))
    rc, out, err = sh(["curl", "-sS", "--cacert", p("ca.crt"), "--cert", p("client.crt"),
                       "--key", p("client.key"), "-o", "/dev/null", "-w", "%{http_code}", url])
    eq((rc, out), (0, "200"), "curl with a client certificate (stderr %r)" % err)


# ---------------------------------------------------------------------------
# plain HTTP with basic auth, validation, reload


@suite.case("http-basic-auth")
def http_basic_auth(ctx):
    y = "basic_auth_users:\n  alice: '%s'\n" % HASH_SECRET
    s = start(ctx, y, tls=False, auth=GOOD)
    eq(s.fetch("/-/ready", auth=GOOD).status, 200, "plain HTTP with credentials")
    r = s.fetch("/-/healthy")
    eq((r.status, r.body), (401, b"Unauthorized\n"), "plain HTTP without credentials")


INVALID = {
    "unknown-key": "tls_server_config:\n  cert_file: x\n  bogus: 1\n",
    "unknown-top": "basic_auth:\n  alice: x\n",
    "bad-hash": "basic_auth_users:\n  alice: plaintext\n",
    "header-not-allowed": "http_server_config:\n  headers:\n    Server: evil\n",
    "header-bad-value": "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
    "missing-key": "tls_server_config:\n  cert_file: %(crt)s\n",
    "missing-cert-file": "tls_server_config:\n  cert_file: /nonexistent.crt\n"
                         "  key_file: /nonexistent.key\n",
    "bad-client-auth": "tls_server_config:\n  cert_file: %(crt)s\n  key_file: %(key)s\n"
                       "  client_auth_type: Sometimes\n",
    "ca-without-policy": "tls_server_config:\n  cert_file: %(crt)s\n  key_file: %(key)s\n"
                         "  client_ca_file: %(ca)s\n",
    "bad-version": "tls_server_config:\n  cert_file: %(crt)s\n  key_file: %(key)s\n"
                   "  min_version: TLS14\n",
}


@suite.case("invalid-config-refused-at-start")
def invalid(ctx):
    from harness import AM_BINARY, ar_binary, DEFAULT_CONFIG, free_port
    binary = AM_BINARY if ctx.is_am else ar_binary()
    d = tempfile.mkdtemp(prefix="ar-e2e-webbad-")
    with open(os.path.join(d, "am.yml"), "w") as f:
        f.write(DEFAULT_CONFIG)
    subs = {"crt": p("server.crt"), "key": p("server.key"), "ca": p("ca.crt")}
    failures = []
    for name, text in INVALID.items():
        wp = os.path.join(d, name + ".yml")
        with open(wp, "w") as f:
            f.write(text % subs)
        args = [binary, "--config.file=" + os.path.join(d, "am.yml"),
                "--storage.path=" + os.path.join(d, "data-" + name),
                "--web.listen-address=127.0.0.1:%d" % free_port(), "--web.config.file=" + wp]
        if ctx.is_am:
            args.append("--cluster.listen-address=")
        try:
            rc, out, err = sh(args, timeout=15)
        except subprocess.TimeoutExpired:
            failures.append("%s: still running after 15s" % name)
            continue
        if rc == 0:
            failures.append("%s: exit status 0" % name)
        elif not ctx.is_am and "web" not in (out + err).lower():
            failures.append("%s: message does not name the web config: %r" % (name, err[-300:]))
    shutil.rmtree(d, ignore_errors=True)
    check(not failures, "invalid web configs accepted: %s" % "; ".join(failures))


NEW_HASH = "$2b$10$ZYXWVUTSRQPONMLKJIHGFe15uL8e9RmRsZpcQu0hHbaBcLwfSOGoK"  # "newsecret"


@suite.case("reload-users-on-sighup")
def reload_users(ctx):
    s = start(ctx, tls_yaml(), auth=GOOD)
    eq(s.fetch("/-/ready", auth=GOOD).status, 200, "before reload")
    s.write_web(tls_yaml(users=False) + "basic_auth_users:\n  alice: '%s'\n" % NEW_HASH)
    os.kill(s.pid, signal.SIGHUP)
    poll(lambda: s.fetch("/-/ready", auth=("alice", "newsecret")).status == 200, timeout=10,
         what="new password accepted after SIGHUP")
    eq(s.fetch("/-/ready", auth=GOOD).status, 401, "old password after reload")


@suite.case("reload-invalid-keeps-running-config", only="alertrouter")
def reload_invalid(ctx):
    # Alertmanager re-reads the file on every request and answers 500 while it is invalid;
    # alertrouter validates on SIGHUP and keeps the configuration in force.
    s = start(ctx, tls_yaml(), auth=GOOD)
    s.write_web("basic_auth_users:\n  alice: plaintext\n")
    os.kill(s.pid, signal.SIGHUP)
    poll(lambda: "web configuration reload failed" in s.log_text(), timeout=10,
         what="reload failure logged")
    check("plaintext" not in s.log_text(), "the log must not echo the secret")
    eq(s.fetch("/-/ready", auth=GOOD).status, 200, "old configuration still in force")
    eq(s.fetch("/-/ready").status, 401, "still protected")
    # the same through /-/reload: the failed part makes the whole reload fail, by name,
    # and the configuration-reload metric says so
    r = s.fetch("/-/reload", method="POST", auth=GOOD)
    eq(r.status, 500, "/-/reload with an invalid web configuration")
    check(b"web configuration" in r.body and b"plaintext" not in r.body,
          "reply names the web configuration, not the secret: %r" % r.body)
    m = s.fetch("/metrics", auth=GOOD).body.decode()
    check("alertmanager_config_last_reload_successful 0" in m,
          "alertmanager_config_last_reload_successful after the failed reload")


@suite.case("reload-rotates-certificate", only="alertrouter")
def reload_cert(ctx):
    s = start(ctx, tls_yaml(users=False))
    eq(s.attempt(), 200, "before rotation")
    # new server key+cert from the same CA, swapped in on SIGHUP
    d = pki()
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "server2.key", "-out", "server2.csr", "-subj", "/CN=localhost"], cwd=d)
    sh(["openssl", "x509", "-req", "-in", "server2.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server2.crt", "-days", "2", "-extfile", "server.ext",
        "-set_serial", "4242"], cwd=d)
    s.write_web(tls_yaml(users=False).replace("server.crt", "server2.crt")
                .replace("server.key", "server2.key"))
    os.kill(s.pid, signal.SIGHUP)
    poll(lambda: "web configuration reloaded" in s.log_text(), timeout=10, what="reload")
    ctxs = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctxs.load_verify_locations(p("ca.crt"))
    import socket
    with socket.create_connection(("127.0.0.1", s.port), timeout=5) as raw:
        with ctxs.wrap_socket(raw, server_hostname="localhost") as tls:
            serial = tls.getpeercert()["serialNumber"]
    eq(int(serial, 16), 4242, "serial of the certificate served after SIGHUP")


if __name__ == "__main__":
    suite.main(jobs=4)
