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
        check('alertrouter_http_connections_closed_total{reason="evicted"} 0' not in metrics
              or 'alertrouter_http_connections_closed_total{reason="headers"} 0' not in metrics,
              "the guard closed attackers' connections")


if __name__ == "__main__":
    suite.main()
