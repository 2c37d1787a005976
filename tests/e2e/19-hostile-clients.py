#!/usr/bin/env python3
"""Hostile clients (issue 16): a slowloris attack with twice --web.max-connections
connections, each sending one header byte every second and reconnecting whenever the
server closes it, while a Prometheus-like client posts alerts five times a second over a
kept-alive connection. The client must see no error and a p99 under 50 ms, and
alertrouter's thread count must not grow with the attackers. Against Alertmanager (Go, no
connection limit) the same client expectations hold. Loopback only; bounded to ~12 s of
attack and 256 sockets."""

import http.client
import json
import math
import multiprocessing
import os
import socket
import time

from harness import Suite, check, eq

suite = Suite("19-hostile-clients")

MAX_CONNS = 64
ATTACKERS = 2 * MAX_CONNS
ATTACK_S = 12.0


class Slowloris:
    """ATTACKERS sockets dribbling a request's headers, one byte per second each, in a
    process of its own (so the client's timings do not include waiting for this one)."""

    def __init__(self, port):
        self.port = port
        self.stop = multiprocessing.Event()
        self.count = multiprocessing.Value("i", 0)
        self.proc = multiprocessing.Process(target=self.run, daemon=True)

    @property
    def reconnects(self):
        return self.count.value

    def connect(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            s.setblocking(False)
            s.send(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\n")
            return s
        except OSError:
            return None

    def run(self):
        socks = [self.connect() for _ in range(ATTACKERS)]
        while not self.stop.wait(1.0):
            for i, s in enumerate(socks):
                try:
                    if s is None:
                        raise OSError("not connected")
                    try:
                        if s.recv(4096) == b"":
                            raise OSError("closed by the server")
                    except BlockingIOError:
                        pass
                    s.send(b"X")
                except OSError:
                    if s is not None:
                        s.close()
                    socks[i] = self.connect()
                    with self.count.get_lock():
                        self.count.value += 1
        for s in socks:
            if s is not None:
                s.close()


def threads_of(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return None


@suite.case("slowloris-while-prometheus-posts")
def slowloris(ctx):
    args = [] if ctx.is_am else ["--web.max-connections=%d" % MAX_CONNS,
                                 "--web.read-timeout=5"]
    srv = ctx.server(args=args)
    attack = Slowloris(srv.port)
    attack.proc.start()
    time.sleep(2.0)  # every slot is taken by now
    lat, errors, most_threads = [], [], 0
    conn = None
    body = json.dumps([{"labels": {"alertname": "Prometheus", "job": "node"}}])
    t_end = time.monotonic() + ATTACK_S - 2.0
    try:
        while time.monotonic() < t_end:
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
                conn.request("POST", "/api/v2/alerts", body=body,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append("status %d" % r.status)
                lat.append(time.monotonic() - t0)
            except (OSError, http.client.HTTPException) as e:
                errors.append("%s: %s" % (type(e).__name__, e))
                if conn is not None:
                    conn.close()
                conn = None
            if not ctx.is_am:
                most_threads = max(most_threads, threads_of(srv.proc.pid) or 0)
            time.sleep(max(0.0, 0.1 - (time.monotonic() - t0)))
    finally:
        attack.stop.set()
        attack.proc.join(5)
        if attack.proc.is_alive():
            attack.proc.kill()
        if conn is not None:
            conn.close()
    lat.sort()
    p99 = lat[max(0, math.ceil(len(lat) * 0.99) - 1)] if lat else None
    ctx.note("%d posts, p50 %.1f ms, p99 %.1f ms, attacker reconnects %d%s" % (
        len(lat), 1000 * lat[len(lat) // 2] if lat else -1, 1000 * p99 if p99 else -1,
        attack.reconnects, "" if ctx.is_am else ", threads at most %d" % most_threads))
    eq(errors, [], "errors seen by the Prometheus-like client")
    check(len(lat) >= 80, "posts completed: %d" % len(lat))
    check(p99 is not None and p99 < 0.050, "p99 %.1f ms under the attack" % (1000 * (p99 or 9)))
    if not ctx.is_am:
        check(most_threads <= 24, "threads do not follow the attackers: %d" % most_threads)
        metrics = srv.get("/metrics").text()
        closed = sum(int(float(l.split()[-1])) for l in metrics.splitlines()
                     if l.startswith("alertrouter_http_connections_closed_total{reason=")
                     and any('"%s"' % r in l for r in ("evicted", "headers", "per_address")))
        check(closed > 0, "the guard closed attackers' connections")


def open_from(source, port):
    """A connection to the server from the loopback address source (Linux routes all of
    127.0.0.0/8 to lo, so each address is a separate client)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, wait):
    """True once the server has closed s (EOF or reset) within wait seconds."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


def get_over(s):
    """A GET /-/healthy on the already connected socket s; the status line's code."""
    s.settimeout(5)
    s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None


@suite.case("per-address-limit", only="alertrouter")
def per_address(ctx):
    """One address beyond --web.max-connections-per-address: its slow and idle connections
    give way to its newer ones; a connection that is mid-request is never cut; other
    addresses are not touched."""
    cap = 4
    srv = ctx.server(args=["--web.max-connections=64",
                           "--web.max-connections-per-address=%d" % cap])
    other = [open_from("127.0.0.3", srv.port) for _ in range(2)]
    # a proven client of 127.0.0.2: one completed request, then idle
    proven = open_from("127.0.0.2", srv.port)
    eq(get_over(proven), 200, "the proven client's first request")
    # then cap slowloris-like connections from the same address, one by one
    slow = []
    for _ in range(cap):
        s = open_from("127.0.0.2", srv.port)
        s.sendall(b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\n")
        slow.append(s)
        time.sleep(0.1)
    # 1 + cap connections were opened from 127.0.0.2, one beyond the cap: exactly one was
    # closed, and it is the oldest of those sending headers, not the proven idle client
    check(closed_by_server(slow[0], 3.0), "the oldest header-incomplete connection was closed")
    for i, s in enumerate(slow[1:], 1):
        check(not closed_by_server(s, 0.2), "slow connection %d stays (within the cap)" % i)
    check(not closed_by_server(proven, 0.2), "the proven client stays")
    eq(get_over(proven), 200, "the proven client's second request")
    for i, s in enumerate(other):
        check(not closed_by_server(s, 0.2), "connection %d from another address stays" % i)
        eq(get_over(s), 200, "a request from another address")
    metrics = srv.get("/metrics").text()
    check('alertrouter_http_connections_closed_total{reason="per_address"} 1\n' in metrics,
          "one connection counted as closed for the per-address limit: %s" %
          [l for l in metrics.splitlines() if "connections_closed" in l])
    for s in other + slow + [proven]:
        s.close()


if __name__ == "__main__":
    suite.main()
