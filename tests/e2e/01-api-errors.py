#!/usr/bin/env python3
"""Error replies of the API (COMPAT 1.1, 1.3) and robustness: malformed bodies,
validation messages, content type, unknown paths/methods, oversized bodies,
slow or half-closed clients, concurrent posters, best-effort batches."""

import json
import socket
import threading
import time

from harness import Suite, alert, check, eq, fingerprint, poll, ts, Fail

suite = Suite("01-api-errors")


def expect_obj(r, status, code=None, message=None, prefix=None, what=""):
    """A request-validation error: JSON object {code, message}."""
    eq(r.status, status, "%s status (body %r)" % (what, r.body[:200]))
    try:
        obj = r.json()
    except ValueError:
        raise Fail("%s: body is not JSON: %r" % (what, r.body[:200]))
    check(isinstance(obj, dict) and set(obj) == {"code", "message"},
          "%s: expected {code,message} object, got %r" % (what, obj))
    eq(obj["code"], status if code is None else code, "%s code" % what)
    check(isinstance(obj["message"], str), "%s: message not a string" % what)
    if message is not None:
        eq(obj["message"], message, "%s message" % what)
    if prefix is not None:
        check(obj["message"].startswith(prefix), "%s: message %r does not start with %r"
              % (what, obj["message"], prefix))
    ct = r.headers.get("Content-Type", "")
    check(ct.split(";")[0].strip() == "application/json", "%s Content-Type %r" % (what, ct))
    return obj


def expect_str(r, status, message, what=""):
    """A handler error: bare JSON string."""
    eq(r.status, status, "%s status (body %r)" % (what, r.body[:300]))
    try:
        got = r.json()
    except ValueError:
        raise Fail("%s: body is not JSON: %r" % (what, r.body[:200]))
    check(isinstance(got, str), "%s: expected a JSON string, got %r" % (what, got))
    eq(got, message, "%s message" % what)


def raw(srv, data):
    return srv.request("POST", "/api/v2/alerts", body=data,
                       headers={"Content-Type": "application/json"})


@suite.case("malformed-json")
def malformed(ctx):
    srv = ctx.server()
    expect_obj(raw(srv, b"["), 400,
               message='parsing alerts body from "" failed, because unexpected EOF', what="'['")
    expect_obj(raw(srv, b'[{"labels":{"a":"b"}'), 400, prefix='parsing alerts body from "" failed, because ',
               what="truncated")
    expect_obj(raw(srv, b"[{labels:1}]"), 400, prefix='parsing alerts body from "" failed, because ',
               what="not JSON")
    # Empty body: required.
    expect_obj(raw(srv, b""), 422, code=602, message="alerts in body is required", what="empty body")
    eq(srv.alerts(), [], "nothing stored")


@suite.case("wrong-types")
def wrong_types(ctx):
    srv = ctx.server()
    pfx = 'parsing alerts body from "" failed, because '
    expect_obj(raw(srv, b"{}"), 400, prefix=pfx, what="object instead of array")
    expect_obj(raw(srv, b'{"labels":{"a":"b"}}'), 400, prefix=pfx, what="single alert object")
    expect_obj(raw(srv, b"[1]"), 400, prefix=pfx, what="number element")
    expect_obj(raw(srv, b'[{"labels":"x"}]'), 400, prefix=pfx, what="labels string")
    expect_obj(raw(srv, b'[{"labels":{"a":1}}]'), 400, prefix=pfx, what="label value number")
    expect_obj(raw(srv, b'[{"labels":{"a":"b"},"annotations":[]}]'), 400, prefix=pfx, what="annotations array")
    expect_obj(raw(srv, b'[{"labels":{"a":"b"},"startsAt":5}]'), 400, prefix=pfx, what="startsAt number")
    expect_obj(raw(srv, b'[{"labels":{"a":"b"},"startsAt":"notatime"}]'), 400, prefix=pfx,
               what="startsAt not a time")
    expect_obj(raw(srv, b'[{"labels":{"a":"b"},"endsAt":"2026-01-01"}]'), 400, prefix=pfx,
               what="endsAt date only")
    # Unknown fields are ignored.
    eq(raw(srv, b'[{"labels":{"a":"b"},"unknownField":{"x":[1,2]}}]').status, 200, "unknown field")
    eq(len(srv.alerts()), 1, "the alert with an unknown field was stored")


@suite.case("missing-labels")
def missing_labels(ctx):
    srv = ctx.server()
    expect_obj(raw(srv, b"[{}]"), 422, code=602, message="0.labels in body is required", what="[{}]")
    expect_obj(raw(srv, b'[{"labels":{"a":"b"}},{"annotations":{"x":"y"}}]'), 422, code=602,
               message="1.labels in body is required", what="second element")
    expect_obj(raw(srv, b'[{"labels":null}]'), 422, code=602, message="0.labels in body is required",
               what="labels null")
    eq(srv.alerts(), [], "schema errors store nothing")


@suite.case("null-element", only="alertrouter")
def null_element(ctx):
    # Alertmanager 0.25 panics on [null] (the connection is dropped); we only ask for a rejection.
    srv = ctx.server()
    r = raw(srv, b"[null]")
    check(400 <= r.status < 500, "[null]: expected a 4xx, got %d %r" % (r.status, r.body[:200]))
    eq(srv.get("/-/ready").status, 200, "server still ready")


@suite.case("validation-messages")
def validation(ctx):
    srv = ctx.server()
    batch = [
        alert({"bad-name": "x"}),
        alert({"a": ""}),
        alert({"a": "b"}, starts="2026-01-02T00:00:00Z", ends="2026-01-01T00:00:00Z"),
        alert({}),
    ]
    expect_str(srv.post_alerts(batch), 400,
               'invalid label set: invalid name "bad-name"; at least one label pair required; '
               'start time must be before end time; at least one label pair required',
               what="four bad alerts")
    expect_str(srv.post_alerts([alert({"1a": "b", "a": "c"}), alert({"a": "b"}, {"1x": "y"})]), 400,
               'invalid label set: invalid name "1a"; invalid annotations: invalid name "1x"',
               what="bad label and annotation names")
    # 0.25 order: end time is checked before labels.
    expect_str(srv.post_alerts([alert({"bad-name": "x"}, starts=ts(60), ends=ts(0))]), 400,
               "start time must be before end time", what="end before start and bad name")
    for name in ["a-b", "a.b", "1", "a b", "é"]:
        expect_str(srv.post_alerts([alert({name: "v"})]), 400,
                   'invalid label set: invalid name %s' % json.dumps(name, ensure_ascii=False),
                   what="label name %r" % name)
    # Names starting with __ and with colons: __ accepted, colon rejected (classic names).
    eq(srv.post_alerts([alert({"__x": "v"})]).status, 200, "__x accepted")
    expect_str(srv.post_alerts([alert({"a:b": "v"})]), 400, 'invalid label set: invalid name "a:b"',
               what="colon in name")
    eq([a["labels"] for a in srv.alerts()], [{"__x": "v"}], "stored")


@suite.case("invalid-utf8")
def invalid_utf8(ctx):
    srv = ctx.server()
    # Alertmanager's JSON decoder replaces invalid bytes by U+FFFD: a value then is valid...
    r = raw(srv, b'[{"labels":{"alertname":"u","v":"a\xffb"}}]')
    if r.status == 200:
        got = srv.alerts()
        eq([a["labels"] for a in got], [{"alertname": "u", "v": "a\ufffdb"}], "value with U+FFFD")
    else:
        check(400 <= r.status < 500, "invalid UTF-8 value: expected 200 (U+FFFD) or 4xx, got %d" % r.status)
        json.loads(r.body.decode("utf-8"))
        ctx.note("invalid UTF-8 value rejected with %d %s (Alertmanager stores U+FFFD)" % (r.status, r.text()[:120]))
    # ... and a name becomes an invalid name.
    r = raw(srv, b'[{"labels":{"a\xff":"b"}}]')
    if r.status == 400 and isinstance(r.json(), str):
        eq(r.json(), 'invalid label set: invalid name "a\ufffd"', "invalid UTF-8 name message")
    else:
        check(400 <= r.status < 500, "invalid UTF-8 name: got %d" % r.status)
        ctx.note("invalid UTF-8 name rejected with %d %s" % (r.status, r.text()[:120]))
    eq(srv.get("/-/ready").status, 200, "still ready")


@suite.case("generator-url")
def generator_url(ctx):
    srv = ctx.server()
    for url in ["::bad", "http://x y", "relative/path"]:
        expect_obj(srv.post_alerts([alert({"a": "b"}, url=url)]), 422, code=601,
                   message='0.generatorURL in body must be of type uri: %s' % json.dumps(url),
                   what="generatorURL %r" % url)
    for url in ["http://prometheus:9090/graph?g0.expr=up%3D%3D0&g0.tab=1", "https://x/", "/graph", ""]:
        eq(srv.post_alerts([alert({"a": "b"}, url=url)]).status, 200, "generatorURL %r" % url)


@suite.case("content-type-415")
def content_type(ctx):
    srv = ctx.server()
    body = json.dumps([alert({"a": "b"})])
    r = srv.request("POST", "/api/v2/alerts", body=body, headers={"Content-Type": "text/plain"})
    expect_obj(r, 415, message='unsupported media type "text/plain", only [application/json] are allowed',
               what="text/plain")
    r = srv.request("POST", "/api/v2/alerts", body=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_obj(r, 415, message='unsupported media type "application/x-www-form-urlencoded", '
                               'only [application/json] are allowed', what="form")
    r = srv.request("POST", "/api/v2/alerts", body=body, headers={"Content-Type": "Application/JSON"})
    eq(r.status, 200, "Application/JSON accepted")
    eq(len(srv.alerts()), 1, "stored once")


@suite.case("unknown-path-and-method")
def not_found(ctx):
    srv = ctx.server()
    expect_obj(srv.get("/api/v2/x"), 404, message="path /api/v2/x was not found", what="GET /api/v2/x")
    expect_obj(srv.get("/api/v2/"), 404, message="path /api/v2/ was not found", what="GET /api/v2/")
    # Alertmanager lists the allowed methods in map order: GET,POST or POST,GET.
    for method in ("PUT", "DELETE"):
        r = srv.request(method, "/api/v2/alerts", body=b"[]", headers={"Content-Type": "application/json"})
        obj = expect_obj(r, 405, what="%s alerts" % method)
        check(obj["message"] in ("method %s is not allowed, but [GET,POST] are" % method,
                                 "method %s is not allowed, but [POST,GET] are" % method),
              "%s alerts message: %r" % (method, obj["message"]))
        check(r.headers.get("Allow") in ("GET,POST", "POST,GET"), "Allow header %r" % r.headers.get("Allow"))
    r = srv.request("POST", "/api/v2/status", body=b"{}", headers={"Content-Type": "application/json"})
    expect_obj(r, 405, message="method POST is not allowed, but [GET] are", what="POST status")
    eq(r.headers.get("Allow"), "GET", "Allow header for status")
    eq(srv.get("/no/such/page").status, 404, "non-API 404")


@suite.case("oversized-body", only="alertrouter")
def oversized(ctx):
    srv = ctx.server()
    size = 64 << 20
    head = b'[{"labels":{"alertname":"big","v":"'
    tail = b'"}}]'
    total = len(head) + size + len(tail)
    s = socket.create_connection((srv.host, srv.port), timeout=20)
    s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n" % total)
    resp = bytearray()
    errors = []

    def sender():
        try:
            s.sendall(head)
            chunk = b"x" * (1 << 20)
            for _ in range(size >> 20):
                s.sendall(chunk)
            s.sendall(tail)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except OSError as e:
                errors.append(e)
                break
            if not data:
                break
            resp += data
    finally:
        t.join(10)
        s.close()
    if not resp:
        raise Fail("no HTTP response to a %d MiB body (send error: %r)" % (size >> 20, errors[:1]))
    head_end = resp.find(b"\r\n\r\n")
    status_line = bytes(resp[:resp.find(b"\r\n")]).decode("latin-1")
    code = int(status_line.split()[1])
    check(code in (400, 413), "oversized body: expected 413 or 400, got %r" % status_line)
    body = bytes(resp[head_end + 4:])
    try:
        json.loads(body.decode("utf-8"))
    except ValueError:
        raise Fail("oversized body reply is not JSON: %r" % body[:200])
    poll(lambda: srv.get("/-/ready").status == 200, timeout=10, what="server ready after oversized body")
    eq(srv.alerts(), [], "nothing stored")
    srv.post_ok([alert({"alertname": "after"})])
    eq(len(srv.alerts()), 1, "a normal post works afterwards")


@suite.case("slow-and-half-closed-clients")
def slow_clients(ctx):
    srv = ctx.server()
    socks = []
    try:
        # Half-closed: partial request, then shutdown the write side and close.
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n[{\"lab")
        s.shutdown(socket.SHUT_WR)
        s.close()
        # Slow: partial headers, kept open.
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Ty")
        socks.append(s)
        # Slow: headers complete, body partial, kept open.
        s = socket.create_connection((srv.host, srv.port), timeout=5)
        s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000\r\n\r\n[{\"labels\":")
        socks.append(s)
        # Idle connections that never send anything.
        for _ in range(20):
            socks.append(socket.create_connection((srv.host, srv.port), timeout=5))
        # Meanwhile the server answers other clients promptly.
        t0 = time.monotonic()
        r = srv.post_alerts([alert({"alertname": "during"})], timeout=5)
        eq(r.status, 200, "POST while slow clients are connected")
        eq([a["labels"]["alertname"] for a in srv.alerts()], ["during"], "GET while slow clients")
        check(time.monotonic() - t0 < 5, "requests were delayed by slow clients")
    finally:
        for s in socks:
            s.close()
    # Abrupt close in the middle of a body (RST).
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 50\r\n\r\n[{")
    s.close()
    r = srv.post_alerts([alert({"alertname": "after"})], timeout=5)
    eq(r.status, 200, "POST after aborted clients")
    eq(sorted(a["labels"]["alertname"] for a in srv.alerts()), ["after", "during"],
       "partial requests stored nothing")


@suite.case("keep-alive-and-pipelined")
def keep_alive(ctx):
    srv = ctx.server()
    body = json.dumps([alert({"alertname": "ka"})]).encode()
    req = (b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    get = b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
    s = socket.create_connection((srv.host, srv.port), timeout=5)
    try:
        s.sendall(req + get)
        buf = b""
        deadline = time.monotonic() + 5
        while buf.count(b"HTTP/1.1 200") < 2 or not buf.endswith(b"OK"):
            if time.monotonic() > deadline:
                break
            d = s.recv(65536)
            if not d:
                break
            buf += d
        eq(buf.count(b"HTTP/1.1 200"), 2, "two responses on one connection (got %r)" % buf[:300])
    finally:
        s.close()


@suite.case("concurrent-posters")
def concurrent(ctx):
    srv = ctx.server()
    threads, per = 8, 50
    errors = []
    expected = []
    for t in range(threads):
        for i in range(per):
            expected.append({"alertname": "conc", "thread": str(t), "i": str(i)})

    def worker(t):
        import http.client
        conn = http.client.HTTPConnection(srv.host, srv.port, timeout=20)
        try:
            for i in range(per):
                body = json.dumps([alert({"alertname": "conc", "thread": str(t), "i": str(i)},
                                         {"summary": "s%d" % i})])
                conn.request("POST", "/api/v2/alerts", body=body,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append((t, i, r.status))
        except Exception as e:
            errors.append((t, repr(e)))
        finally:
            conn.close()

    ths = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    t0 = time.monotonic()
    for th in ths:
        th.start()
    for th in ths:
        th.join(60)
    check(not errors, "errors from posters: %r" % errors[:5])
    got = srv.alerts()
    eq(len(got), threads * per, "alerts listed (%.1fs of posting)" % (time.monotonic() - t0))
    eq(sorted(a["fingerprint"] for a in got), sorted(fingerprint(l) for l in expected), "fingerprints")
    eq(sorted(json.dumps(a["labels"], sort_keys=True) for a in got),
       sorted(json.dumps(l, sort_keys=True) for l in expected), "label sets")


@suite.case("mixed-batch-best-effort")
def mixed_batch(ctx):
    srv = ctx.server()
    batch = [alert({"alertname": "ok1"}, {"summary": "one"}),
             alert({"bad-name": "x"}),
             alert({"alertname": "ok2"}, starts=ts(-60), ends=ts(600)),
             alert({"alertname": "bad"}, starts=ts(60), ends=ts(0))]
    expect_str(srv.post_alerts(batch), 400,
               'invalid label set: invalid name "bad-name"; start time must be before end time',
               what="mixed batch")
    got = {a["labels"]["alertname"]: a for a in srv.alerts()}
    eq(sorted(got), ["ok1", "ok2"], "valid alerts of the batch stored")
    eq(got["ok1"]["annotations"], {"summary": "one"}, "annotations of a stored alert")


if __name__ == "__main__":
    suite.main()
