#!/usr/bin/env python3
"""Request framing as RFC 9112 and Go's server have it, checked once the headers are in and
before any body is read: a transfer coding other than chunked gets 501, two Content-Length
headers that disagree get 400 (request smuggling behind a proxy), identical ones and plain
chunked bodies are fine. alertrouter only: a declared body larger than --api.max-body-bytes
gets 413 at once instead of "100 Continue" (Alertmanager has no body limit and answers 100).
Also alertrouter's graceful stop: SIGTERM while bodies are still uploading cuts none of
them off; each gets its 200 once committed, and the alerts are there after the restart.
Raw sockets on loopback, since HTTP client libraries refuse to send such requests."""

import json
import os
import signal
import socket
import time

from harness import Suite, check, eq

suite = Suite("18-http-framing")

HEAD = b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def exchange(srv, data, timeout=5.0):
    """Sends data; returns (status, body, seconds) of the first response."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    t0 = time.monotonic()
    try:
        s.sendall(data)
        out = b""
        while b"\r\n\r\n" not in out:
            d = s.recv(4096)
            if not d:
                break
            out += d
        head, _, body = out.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else None
        if status is not None and status != 100:
            s.settimeout(1.0)
            try:
                while True:
                    d = s.recv(4096)
                    if not d:
                        break
                    body += d
            except socket.timeout:
                pass
        return status, body, time.monotonic() - t0
    finally:
        s.close()


@suite.case("unsupported-transfer-encoding-501")
def te_501(ctx):
    srv = ctx.server()
    for te in (b"gzip, chunked", b"identity", b"chunked, chunked"):
        status, body, took = exchange(srv, HEAD + b"Transfer-Encoding: " + te + b"\r\n\r\n"
                                      b"2\r\n[]\r\n0\r\n\r\n")
        eq(status, 501, "Transfer-Encoding: %s" % te.decode())
        check(b"Unsupported transfer encoding" in body and took < 2.0,
              "501 at once with Go's text: %r in %.2fs" % (body, took))


@suite.case("conflicting-content-length-400")
def cl_400(ctx):
    srv = ctx.server()
    status, body, _ = exchange(srv, HEAD + b"Content-Length: 2\r\nContent-Length: 5\r\n\r\n[]xxx")
    eq(status, 400, "two different Content-Length headers")
    status, _, _ = exchange(srv, HEAD + b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n[]")
    eq(status, 200, "two identical Content-Length headers")
    status, _, _ = exchange(srv, HEAD + b"Transfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n")
    eq(status, 200, "a chunked body")


@suite.case("oversized-content-length-413-without-100-continue", only="alertrouter")
def cl_413(ctx):
    srv = ctx.server(args=["--api.max-body-bytes=1048576"])
    status, body, took = exchange(srv, HEAD + b"Content-Length: 1073741824\r\n"
                                  b"Expect: 100-continue\r\n\r\n")
    eq(status, 413, "1 GiB declared with Expect: 100-continue")
    check(b"request body too large" in body and took < 2.0, "413 at once: %r" % body)
    status, _, _ = exchange(srv, HEAD + b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n")
    eq(status, 100, "a small declared body still gets 100 Continue")


@suite.case("sigterm-during-uploads-finishes-them", only="alertrouter")
def sigterm_uploads(ctx):
    srv = ctx.server()
    n = 12
    socks = []
    for i in range(n):
        body = json.dumps([{"labels": {"alertname": "Upload", "i": str(i)}}]).encode()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
        s.sendall(HEAD + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
        socks.append((s, body[10:]))
    time.sleep(0.3)  # every request's headers are in: the uploads are in flight
    os.kill(srv.proc.pid, signal.SIGTERM)
    time.sleep(0.3)
    statuses = []
    for s, rest in socks:
        try:
            s.sendall(rest)
            head = s.recv(4096)
            statuses.append(int(head.split(b" ", 2)[1]) if head else None)
        except OSError as e:
            statuses.append(type(e).__name__)
        finally:
            s.close()
    eq(statuses, [200] * n, "uploads in flight at SIGTERM")
    eq(srv.proc.wait(timeout=20), 0, "exit status")
    srv.start()
    got = sorted(int(a["labels"]["i"]) for a in srv.alerts() if a["labels"]["alertname"] == "Upload")
    eq(got, list(range(n)), "alerts stored")
    check(srv.post_alerts([{"labels": {"alertname": "After"}}]).status == 200, "serves again")


if __name__ == "__main__":
    suite.main()
