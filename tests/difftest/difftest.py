#!/usr/bin/env python3
"""Randomised differential testing of alertrouter against Alertmanager 0.25.

A seeded generator writes a configuration (routing tree, receivers, inhibit rules, time
intervals) and a stream of timed events (alert posts, silence changes, a reload, API reads).
The runner starts both servers side by side, each with its own webhook sink, feeds both the
same stream at the same moments and compares what they did: per webhook path the multiset of
notifications (content and arrival time within a tolerance) and, at quiet points, the
normalised answers of GET /api/v2/alerts, /alerts/groups and /silences. A disagreement is
shrunk to a small case that still disagrees and can be saved as a regression case
(tests/difftest/cases/*.json, run by regress.py in the normal suite).

Timing (the crux; see docs/difftest.md): times are in seconds after the case clock starts.
Events happen on "event slots" (whole seconds; half seconds after a reload), group_wait is
0.5s or 1.5s and group_interval 1s or 2s, so every flush tick of every group falls half a
second away from any event. Alert and silence expiries fall on quarter slots, repeat
intervals are m + 0.25 or m + 0.75 seconds, reads happen 0.75s after an event slot and are
skipped when an expiry falls at the same instant. Every pair of things whose order matters
is thus at least 0.25s apart.

Usage:
  difftest.py --cases N [--seed S] [--jobs J]        random cases, shrink and save failures
  difftest.py --seed S --case N [--show]             rerun (or just print) one case
  difftest.py --case-file F [--shrink --name X]      run (or shrink and save) one saved case
  difftest.py --regress                              every case in tests/difftest/cases (ctest)
  difftest.py --self-check --cases N                 Alertmanager against Alertmanager (noise)
Environment: AR_BINARY as for tests/e2e.
"""

import argparse
import concurrent.futures
import copy
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import harness as H  # noqa: E402

# The sinks' listen backlog: Python's default of 5 drops connection attempts when several groups
# flush at the same tick, and the dropped client retries its SYN a second later: a notification
# one second late that neither server caused (seen as 1s-late sends on either side).
H.http.server.ThreadingHTTPServer.request_queue_size = 256

CASES_DIR = os.path.join(HERE, "cases")
OPEN_DIR = os.path.join(HERE, "open")

# ---------------------------------------------------------------------------
# named expected differences and shapes left out on purpose

EXPECTED_DIFFERENCES = [
    ("restart-alert-persistence",
     "alertrouter keeps alerts across a restart (SQLite); Alertmanager 0.25 loses them until "
     "Prometheus re-sends. Random streams contain no restart; tests/e2e/08-* cover restarts."),
    ("external-url",
     "externalURL carries each server's own port: removed from payloads before comparing."),
    ("silence-ids",
     "silence ids are random UUIDs: replaced by the stream's silence index (and version after "
     "an update that made a new id) on both sides."),
    ("server-clock-times",
     "times a server stamps itself (updatedAt, resolve_timeout ends, clamped silence starts, "
     "expiry by DELETE) are compared within TIME_TOL seconds, not exactly."),
]

EXCLUDED_SHAPES = [
    ("am-reload-inhibitor-race",
     "after a reload Alertmanager 0.25 starts a new inhibitor that learns the stored alerts "
     "through an asynchronous subscription while the new dispatcher flushes old groups at once; "
     "whether that first flush sees the inhibition is a race inside Alertmanager. A reloaded "
     "configuration therefore has no inhibit rules."),
    ("am-async-inhibitor-reads",
     "Alertmanager's inhibitor also sees newly posted alerts asynchronously: API reads happen "
     "0.75s after the last event, never right after a POST."),
    ("old-alert-immediate-flush-in-batch",
     "an alert older than group_wait that creates a group flushes at once (COMPAT 5.3); if other "
     "alerts of that group arrive in the same POST, whether they are in that flush is a race in "
     "Alertmanager. Streams never post a group-creating alert with an old startsAt (except at a "
     "reload, where no other event happens at that instant)."),
    ("am-reload-regroup-race",
     "at a reload Alertmanager 0.25 re-inserts every stored alert (resolved ones too, until "
     "garbage collection) into new groups one by one, and a group of old alerts flushes as soon "
     "as its first alert is in: that flush races the insertion of the group's other alerts "
     "(seen in the Alertmanager-against-Alertmanager self-check: a resolved notification for a "
     "lone resolved alert at the reload on one instance, none on the other). A reload is kept "
     "only when no group of the reloaded configuration receives two stored alerts."),
    ("am-shared-nflog-entry",
     "two routes whose printed route keys are equal (same matchers under equal parents) and "
     "that notify the same receiver make groups with equal group keys, and Alertmanager keys the "
     "notification log by group key and receiver: both groups tick at the same instants and "
     "whichever logs first silences the other (seen in the self-check). The generator gives such "
     "a second route another receiver."),
    ("am-inhibitedby-first-source",
     "inhibitedBy holds one inhibiting source, the first Alertmanager's rule cache yields; with "
     "several sources the choice follows Go map order (seen in the self-check). Compared as "
     "'inhibited or not'."),
    ("tick-boundaries",
     "events closer than 0.25s to a flush tick, an expiry or a read (see module docstring)."),
]

TIME_TOL = 0.3       # seconds, timestamps a server sets itself
ARRIVAL_TOL = 0.4    # seconds, arrival of a notification

# ---------------------------------------------------------------------------
# generator

LABEL_POOL = {
    "alertname": ["A", "B", "C"],
    "severity": ["critical", "warning", "info"],
    "team": ["a", "b", "café"],
    "instance": ["i1", "i2"],
    "env": ["prod", "dev"],
}
NAMES = list(LABEL_POOL)
NAME_WEIGHTS = [3, 4, 3, 1, 1]
REGEXES = {
    "alertname": ["A|B", "[AB]", "C", "B|C", ".*", ".+"],
    "severity": ["critical|warning", "crit.*", "warn.*|info", "(critical)?", ".*", "info"],
    "team": ["a|b", "caf.", "café|a", "[ab]", "b?", ".+"],
    "instance": ["i[0-9]", "i1", "i.*"],
    "env": ["prod", "p.*|d.*", "dev?"],
}
# Generator version: a seed reproduces its cases only with the version it ran with (--gen).
# 1: first version. 2: team value a"b (escaping in keys and matchers), generatorURL.
GEN = 2


def set_generator(version):
    global GEN
    GEN = version
    if version >= 2:
        LABEL_POOL["team"] = ["a", "b", "café", 'a"b']
        REGEXES["team"] = ["a|b", "caf.", "café|a", "[ab]", "b?", ".+", "a.b"]


set_generator(GEN)

GROUP_WAITS = ["500ms", "1500ms"]
GROUP_INTERVALS = ["1s", "2s"]
REPEATS = ["1250ms", "2750ms", "1h"]
RESOLVE_TIMEOUTS = [2.25, 3.25]
TIME_INTERVALS = [
    {"name": "always", "time_intervals": [{"weekdays": ["sunday:saturday"]}]},
    {"name": "allday", "time_intervals": [{"times": [{"start_time": "00:00", "end_time": "24:00"}]}]},
    {"name": "never", "time_intervals": [{"years": ["2001"]}]},
    {"name": "never2", "time_intervals": [{"months": ["february"], "days_of_month": ["30:31"]}]},
]


def gen_matcher(r):
    name = r.choices(NAMES, weights=NAME_WEIGHTS)[0]
    op = r.choices(["=", "!=", "=~", "!~"], weights=[6, 2, 3, 1])[0]
    if op in ("=", "!="):
        value = "" if r.random() < 0.08 else r.choice(LABEL_POOL[name])
    else:
        value = r.choice(REGEXES[name])
    return [name, op, value]


def matcher_text(m, r):
    name, op, value = m
    sp = " " if r.random() < 0.15 else ""
    simple = value and all(c not in value for c in ' ,"{}\\=!~|()[]?')
    if simple and r.random() < 0.3:
        return "%s%s%s%s%s" % (name, sp, op, sp, value)
    q = value.replace("\\", "\\\\").replace('"', '\\"')
    return '%s%s%s%s"%s"' % (name, sp, op, sp, q)


def set_matchers(r, obj, ms, prefix=""):
    """Writes matchers ms onto a route (prefix "") or an inhibit rule side (prefix source_ /
    target_), in a random mixture of the legacy maps and the matchers list forms."""
    strs = []
    for m in ms:
        name, op, value = m
        c = r.random()
        if op == "=" and c < 0.3 and name not in obj.get(prefix + "match", {}):
            obj.setdefault(prefix + "match", {})[name] = value
        elif op == "=~" and c < 0.3 and name not in obj.get(prefix + "match_re", {}):
            obj.setdefault(prefix + "match_re", {})[name] = value
        else:
            strs.append(matcher_text(m, r))
    if strs:
        if len(strs) > 1 and r.random() < 0.35:
            strs = ["{" + ",".join(strs) + "}"]
        obj[prefix + "matchers"] = strs


def matcher_keys(obj, prefix=""):
    return {k: copy.deepcopy(obj[k]) for k in (prefix + "match", prefix + "match_re", prefix + "matchers")
            if k in obj}


def gen_group_by(r, root=False):
    c = r.random()
    if c < (0.25 if root else 0.45):
        return None
    if c < 0.85:
        return r.sample(["alertname", "severity", "team", "instance", "env"], r.randint(1, 2))
    if c < 0.93:
        return ["..."]
    return []


def gen_route(r, depth, receivers, budget):
    route = {}
    k = r.choices([0, 1, 2], weights=[1, 5, 2])[0]
    set_matchers(r, route, [gen_matcher(r) for _ in range(k)])
    if r.random() < 0.7:
        route["receiver"] = r.choice(receivers)
    gb = gen_group_by(r)
    if gb is not None:
        route["group_by"] = gb
    if r.random() < 0.25:
        route["group_wait"] = r.choice(GROUP_WAITS)
    if r.random() < 0.25:
        route["group_interval"] = r.choice(GROUP_INTERVALS)
    if r.random() < 0.25:
        route["repeat_interval"] = r.choice(REPEATS)
    if r.random() < 0.4:
        route["continue"] = True
    if r.random() < 0.1:
        route["mute_time_intervals"] = [r.choice(TIME_INTERVALS)["name"]]
    if r.random() < 0.1:
        route["active_time_intervals"] = [r.choice(TIME_INTERVALS)["name"]]
    if depth < 3 and budget[0] > 0 and r.random() < 0.35:
        route["routes"] = gen_children(r, depth + 1, receivers, budget, route)
    return route


def gen_children(r, depth, receivers, budget, parent):
    kids = []
    for _ in range(r.randint(1, 3)):
        if budget[0] <= 0:
            break
        budget[0] -= 1
        kids.append(gen_route(r, depth, receivers, budget))
    # the shape of issue 11: siblings with identical matchers and different receivers
    if kids and budget[0] > 0 and r.random() < 0.35:
        i = r.randrange(len(kids))
        twin = matcher_keys(kids[i])
        twin["receiver"] = r.choice(receivers)
        if r.random() < 0.3:
            twin["group_by"] = kids[i].get("group_by", ["alertname"])
        if r.random() < 0.75:
            kids[i]["continue"] = True
        if r.random() < 0.4:
            twin["continue"] = True
        kids.insert(i + 1, twin)
        budget[0] -= 1
    # overlapping matchers across levels: a child repeating its parent's matchers
    if kids and parent is not None and r.random() < 0.2:
        kids[-1].update(matcher_keys(parent))
    return kids


def gen_config(r):
    receivers = ["r%d" % i for i in range(r.randint(2, 4))]
    root = {"receiver": r.choice(receivers)}
    gb = gen_group_by(r, root=True)
    if gb is not None:
        root["group_by"] = gb
    root["group_wait"] = r.choice(GROUP_WAITS)
    root["group_interval"] = r.choice(GROUP_INTERVALS)
    root["repeat_interval"] = r.choice(REPEATS)
    budget = [r.randint(2, 8)]
    root["routes"] = gen_children(r, 1, receivers, budget, None)
    recs = []
    for name in receivers:
        rec = {"name": name}
        n = r.choices([0, 1, 2], weights=[1, 7, 2])[0]
        if n:
            rec["webhook_configs"] = []
            for j in range(n):
                wc = {"url": "@SINK@/%s/%d" % (name, j)}
                c = r.random()
                if c < 0.3:
                    wc["send_resolved"] = False
                elif c < 0.5:
                    wc["send_resolved"] = True
                if r.random() < 0.2:
                    wc["max_alerts"] = r.choice([1, 2])
                rec["webhook_configs"].append(wc)
        recs.append(rec)
    conf = {"global": {"resolve_timeout": "%dms" % int(r.choice(RESOLVE_TIMEOUTS) * 1000)},
            "route": root, "receivers": recs}
    rules = []
    for _ in range(r.choices([0, 1, 2], weights=[4, 4, 2])[0]):
        rule = {}
        src = [gen_matcher(r) for _ in range(r.randint(1, 2))]
        tgt = [gen_matcher(r) for _ in range(r.randint(1, 2))]
        set_matchers(r, rule, src, "source_")
        set_matchers(r, rule, tgt, "target_")
        c = r.random()
        if c < 0.6:
            rule["equal"] = r.sample(["alertname", "team", "instance", "env"], r.randint(1, 2))
        elif c < 0.7:
            rule["equal"] = []
        rules.append(rule)
    if rules:
        conf["inhibit_rules"] = rules
    conf["time_intervals"] = copy.deepcopy(TIME_INTERVALS)
    return conf


def all_routes(route):
    out = [route]
    for c in route.get("routes", []):
        out.extend(all_routes(c))
    return out


def mutate_config(r, conf):
    """The configuration written before the reload: a few edits of the first one, and no
    inhibit rules (am-reload-inhibitor-race)."""
    new = copy.deepcopy(conf)
    new.pop("inhibit_rules", None)
    receivers = [x["name"] for x in new["receivers"]]
    routes = all_routes(new["route"])
    for _ in range(r.randint(1, 3)):
        c = r.random()
        rt = r.choice(routes)
        if c < 0.3:
            rt["receiver"] = r.choice(receivers)
        elif c < 0.5:
            gb = gen_group_by(r, root=rt is new["route"])
            if gb is None:
                rt.pop("group_by", None)
            else:
                rt["group_by"] = gb
        elif c < 0.7 and rt is not new["route"]:
            for k in ("match", "match_re", "matchers"):
                rt.pop(k, None)
            set_matchers(r, rt, [gen_matcher(r) for _ in range(r.randint(1, 2))])
        elif c < 0.85:
            rt["group_interval"] = r.choice(GROUP_INTERVALS)
        else:
            rt.setdefault("routes", []).insert(0, {"receiver": r.choice(receivers),
                                                   "continue": r.random() < 0.5,
                                                   "matchers": [matcher_text(gen_matcher(r), r)]})
    return new


def gen_labels(r):
    lab = {"alertname": r.choice(LABEL_POOL["alertname"])}
    for n in NAMES[1:]:
        if r.random() < 0.6:
            lab[n] = r.choice(LABEL_POOL[n])
    return lab


def fp(labels):
    return H.fingerprint(labels)


def is_quarter(x):
    return abs((x * 4) % 2 - 1) < 1e-6


def gen_stream(r, conf):
    rt = int(conf["global"]["resolve_timeout"][:-2]) / 1000.0
    events = []
    expiries = []             # instants where an alert or a silence changes state by time
    alerts = {}               # fp -> model
    silences = {}             # sid -> {"ends": t, "expired": bool}
    n_pre = r.randint(2, 4)
    reload_at = None
    post_slots = []
    slots = [float(k) for k in range(n_pre)]
    if r.random() < 0.3:
        reload_at = float(n_pre + 1)              # one empty slot: every alert is old by then
        post_slots = [reload_at + 0.5 + j for j in range(1, r.randint(2, 3))]
        slots += post_slots
    else:
        slots += [float(n_pre + j) for j in range(r.randint(0, 2))]
    nsid = 0
    for E in slots:
        if reload_at is not None and E > reload_at and not any(e["op"] == "reload" for e in events):
            events.append({"t": reload_at, "op": "reload"})
        batch = []
        seen = set()

        def expired(a):
            return a["expiry"] is not None and a["expiry"] <= E

        firing = [a for a in alerts.values() if not a["resolved"] and not expired(a)]
        done = [a for a in alerts.values() if a["resolved"] or expired(a)]
        for _ in range(r.choices([0, 1, 2, 3], weights=[1, 4, 3, 2])[0]):
            kinds = ["new"] + (["repost", "repost", "resolve", "relabel"] if firing else []) + \
                    (["refire"] if done else [])
            kind = r.choice(kinds)
            if kind in ("repost", "resolve", "relabel"):
                a = r.choice(firing)
            elif kind == "refire":
                a = r.choice(done)
            else:
                a = {"labels": gen_labels(r)}
            if fp(a["labels"]) in seen:
                continue
            if kind == "relabel":
                a = {"labels": dict(a["labels"])}
                n = r.choice(NAMES[1:])
                a["labels"][n] = r.choice([v for v in LABEL_POOL[n] if v != a["labels"].get(n)])
                if fp(a["labels"]) in seen:
                    continue
                kind = "new"
            f = fp(a["labels"])
            if kind == "new" and f in alerts:
                old = alerts[f]
                kind = "refire" if (old["resolved"] or expired(old)) else "repost"
                a = old
            seen.add(f)
            out = {"labels": a["labels"]}
            if r.random() < 0.3:
                out["annotations"] = {"summary": r.choice(["x", "y", "ü"])}
            if GEN >= 2 and r.random() < 0.15:
                out["generatorURL"] = r.choice(["http://prom/graph?g0.expr=up", "http://other/x"])
            if kind == "resolve":
                out["startsAt"] = a["starts"]
                out["endsAt"] = E
                a["resolved"] = True
                a["expiry"] = None
            else:
                if kind in ("new", "refire"):
                    a["starts"] = E
                    a["resolved"] = False
                    alerts[f] = a
                out["startsAt"] = a["starts"]
                if r.random() < 0.5:
                    a["expiry"] = E + rt              # resolve_timeout
                else:
                    a["expiry"] = E + r.choice([2.25, 3.25])
                    out["endsAt"] = a["expiry"]
                expiries.append(a["expiry"])
            batch.append(out)
        if batch:
            if len(batch) > 1 and r.random() < 0.25:
                k = r.randint(1, len(batch) - 1)
                events.append({"t": E, "op": "alerts", "alerts": batch[:k]})
                events.append({"t": E, "op": "alerts", "alerts": batch[k:]})
            else:
                events.append({"t": E, "op": "alerts", "alerts": batch})
        # silences
        live = [s for s, m in silences.items() if m["ends"] > E and not m["expired"]]
        c = r.random()
        if c < 0.2:
            ms = [[r.choice(["alertname", "severity", "team"]), "=", None]]
            ms[0][2] = r.choice(LABEL_POOL[ms[0][0]])
            if r.random() < 0.4:
                extra = gen_matcher(r)
                if extra[0] != ms[0][0]:
                    ms.append(extra)
            starts = E if r.random() < 0.8 else E + r.choice([0.25, 1.25])
            ends = starts + r.choice([1.5, 2.0, 3.0, 100.0]) if starts != E else \
                E + r.choice([1.75, 2.25, 3.25, 100.25])
            events.append({"t": E, "op": "silence", "sid": nsid, "matchers": ms,
                           "startsAt": starts, "endsAt": ends})
            silences[nsid] = {"ends": ends, "expired": False, "matchers": ms}
            expiries.extend([starts, ends])
            nsid += 1
        elif c < 0.3 and live:
            s = r.choice(live)
            ev = {"t": E, "op": "silence_update", "sid": s, "endsAt": E + r.choice([1.25, 2.75, 50.25])}
            if r.random() < 0.3:
                ms = copy.deepcopy(silences[s]["matchers"])
                ms[0][2] = r.choice(LABEL_POOL[ms[0][0]])
                ev["matchers"] = ms
                silences[s]["matchers"] = ms
            silences[s]["ends"] = ev["endsAt"]
            expiries.append(ev["endsAt"])
            events.append(ev)
        elif c < 0.4 and live:
            s = r.choice(live)
            events.append({"t": E, "op": "silence_expire", "sid": s})
            silences[s]["expired"] = True
        # reads
        if r.random() < 0.35 and E != slots[-1]:
            t = E + 0.75
            if not any(abs(x - t) < 0.2 for x in expiries):
                events.append({"t": t, "op": "read", "query": gen_query(r)})
    end = slots[-1] + r.choice([2.0, 3.0])
    events.append({"t": end, "op": "read", "query": {}})
    return events, end


def gen_query(r):
    q = {}
    c = r.random()
    if c < 0.5:
        return q
    for k in ("active", "silenced", "inhibited"):
        if r.random() < 0.3:
            q[k] = r.choice(["true", "false"])
    if r.random() < 0.3:
        m = gen_matcher(r)
        q["filter"] = '%s%s"%s"' % (m[0], m[1], m[2])
    if r.random() < 0.2:
        q["receiver"] = r.choice(["r0", "r[12]", "r.*"])
    return q


def generate(seed, n):
    r = random.Random("%s/%s" % (seed, n))
    conf = gen_config(r)
    if not fix_shared_nflog(conf):
        conf["route"]["routes"] = conf["route"]["routes"][:1]
    case = {"seed": seed, "case": n, "config": conf, "reload_config": None}
    events, end = gen_stream(r, conf)
    if any(e["op"] == "reload" for e in events):
        case["reload_config"] = mutate_config(r, conf)
        if not fix_shared_nflog(case["reload_config"]):
            case["reload_config"]["route"]["routes"] = case["reload_config"]["route"]["routes"][:1]
    case["events"] = events
    case["end"] = end
    if not reload_is_deterministic(case):
        # am-reload-regroup-race: the same stream without its reload (later events move to
        # whole seconds, as the shrinker's "drop reload" does)
        case = dict(case, events=[dict(e) for e in events])
        case = drop_reload_events(case)
    return case


# ---------------------------------------------------------------------------
# a small model of routing, used only to keep reloads deterministic (am-reload-regroup-race)

_CLASSIC = re.compile(r'^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*(.*?)\s*$', re.S)


def _split_list(s):
    s = s.strip()
    if s.startswith("{"):
        s = s[1:]
    if s.endswith("}"):
        s = s[:-1]
    out, cur, inq, esc = [], "", False, False
    for ch in s:
        if esc:
            cur += ch
            esc = False
        elif ch == "\\":
            cur += ch
            esc = True
        elif ch == '"':
            cur += ch
            inq = not inq
        elif ch == "," and not inq:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur)
    return out


def parse_matchers(obj, prefix=""):
    ms = [[k, "=", v] for k, v in obj.get(prefix + "match", {}).items()]
    ms += [[k, "=~", v] for k, v in obj.get(prefix + "match_re", {}).items()]
    for s in obj.get(prefix + "matchers", []):
        for piece in _split_list(s):
            m = _CLASSIC.match(piece)
            name, op, v = m.group(1), m.group(2), m.group(3)
            if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
                v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            ms.append([name, op, v])
    return ms


def matches(ms, labels):
    for name, op, v in ms:
        lv = labels.get(name, "")
        if op == "=" and lv != v or op == "!=" and lv == v:
            return False
        if op in ("=~", "!~") and (re.fullmatch("(?:%s)" % v, lv, re.S) is not None) != (op == "=~"):
            return False
    return True


def route_groups(route, labels, path=(), group_by=None, empty_inherits=True):
    """[(route path, group labels)] the alert lands in."""
    gb = route.get("group_by")
    if gb is None or (gb == [] and empty_inherits):
        gb = group_by if group_by is not None else []
    out = []
    for i, c in enumerate(route.get("routes", [])):
        if matches(parse_matchers(c), labels):
            out.extend(route_groups(c, labels, path + (i,), gb, empty_inherits))
            if not c.get("continue"):
                break
    if out:
        return out
    keys = sorted(labels) if "..." in gb else sorted(k for k in gb if k in labels)
    return [(path, tuple((k, labels[k]) for k in keys))]


def route_keys(route, key=(), receiver=None):
    """[(printed-key equivalent, effective receiver, route dict)] of every route."""
    recv = route.get("receiver", receiver)
    out = [(key, recv, route)]
    for c in route.get("routes", []):
        ck = key + (tuple(sorted(tuple(m) for m in parse_matchers(c))),)
        out.extend(route_keys(c, ck, recv))
    return out


def shared_nflog_routes(conf):
    """Pairs of routes with equal keys and the same receiver (am-shared-nflog-entry)."""
    seen = {}
    out = []
    for k, recv, r in route_keys(conf["route"], ("root",)):
        if (k, recv) in seen:
            out.append((seen[(k, recv)], r))
        else:
            seen[(k, recv)] = r
    return out


def fix_shared_nflog(conf):
    names = [x["name"] for x in conf["receivers"]]
    for _ in range(20):
        pairs = shared_nflog_routes(conf)
        if not pairs:
            return True
        _first, second = pairs[0]
        keys = route_keys(conf["route"], ("root",))
        second_key = [k for k, _recv, r in keys if r is second][0]
        used = {recv for k, recv, _r in keys if k == second_key}
        free = [n for n in names if n not in used]
        if not free:
            return False
        second["receiver"] = free[0]
    return not shared_nflog_routes(conf)


def reload_is_deterministic(case):
    """At a reload Alertmanager re-inserts every stored alert into new groups and flushes
    groups of old alerts at once, racing the insertion of the group's other alerts. Only a
    reload where no new group receives two stored alerts is free of that race."""
    rl = [e for e in case["events"] if e["op"] == "reload"]
    if not rl or not case.get("reload_config"):
        return True
    stored = {}
    for e in case["events"]:
        if e["op"] == "alerts" and e["t"] < rl[0]["t"]:
            for a in e["alerts"]:
                stored[fp(a["labels"])] = a["labels"]
    for inherit in (True, False):
        seen = set()
        for labels in stored.values():
            for g in set(route_groups(case["reload_config"]["route"], labels, empty_inherits=inherit)):
                if g in seen:
                    return False
                seen.add(g)
    return True


# ---------------------------------------------------------------------------
# YAML (block style, every string double-quoted as JSON, which YAML reads the same)

def _scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[]"
    if isinstance(v, dict):
        return "{}"
    return json.dumps(v, ensure_ascii=False)


def _key(k):
    if k.replace("_", "").isalnum() and k.isascii():
        return k
    return json.dumps(k, ensure_ascii=False)


def yaml_lines(obj, ind):
    lines = []
    pad = " " * ind
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(pad + _key(k) + ":")
                lines.extend(yaml_lines(v, ind + 2))
            else:
                lines.append(pad + _key(k) + ": " + _scalar(v))
    else:
        for item in obj:
            if isinstance(item, (dict, list)) and item:
                sub = yaml_lines(item, ind + 2)
                lines.append(pad + "- " + sub[0][ind + 2:])
                lines.extend(sub[1:])
            else:
                lines.append(pad + "- " + _scalar(item))
    return lines


def to_yaml(conf, sink_url):
    text = "\n".join(yaml_lines(conf, 0)) + "\n"
    return text.replace("@SINK@", sink_url)


# ---------------------------------------------------------------------------
# normalisation and comparison

class Clock:
    def __init__(self, lead=0.3):
        self.mono0 = time.monotonic() + lead
        self.wall0 = time.time() + lead

    def at(self, t):
        d = self.mono0 + t - time.monotonic()
        if d > 0:
            time.sleep(d)

    def now(self):
        return time.monotonic() - self.mono0

    def ts(self, t):
        return H.iso(H.datetime.datetime.fromtimestamp(self.wall0 + t, H.datetime.timezone.utc))

    def rel_wall(self, s):
        return round(H.epoch(s) - self.wall0, 3)


class T(float):
    """A time (seconds on the case clock) compared within TIME_TOL."""

    def __repr__(self):
        return "t%.2f" % self


ZERO = "0001-01-01T00:00:00Z"


def norm_time(clock, s):
    if s is None:
        return None
    if s.startswith("0001-01-01"):
        return "zero"
    return T(clock.rel_wall(s))


def same(a, b, tol=TIME_TOL):
    if isinstance(a, T) and isinstance(b, T):
        return abs(a - b) <= tol
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, tol) for x, y in zip(a, b))
    return type(a) == type(b) and a == b


def norm_payload(clock, p):
    if not isinstance(p, dict):
        return {"unparsable": repr(p)}
    q = {k: v for k, v in p.items() if k not in ("externalURL", "alerts")}
    q["alerts"] = [{"status": a.get("status"), "labels": a.get("labels"),
                    "annotations": a.get("annotations"), "fingerprint": a.get("fingerprint"),
                    "generatorURL": a.get("generatorURL"),
                    "startsAt": norm_time(clock, a.get("startsAt")),
                    "endsAt": norm_time(clock, a.get("endsAt"))} for a in p.get("alerts", [])]
    return q


def norm_api_alert(clock, a, sidmap):
    st = a.get("status", {})
    return {"fingerprint": a.get("fingerprint"), "labels": a.get("labels"),
            "annotations": a.get("annotations"), "receivers": a.get("receivers"),
            "generatorURL": a.get("generatorURL", ""),
            "startsAt": norm_time(clock, a.get("startsAt")),
            "endsAt": norm_time(clock, a.get("endsAt")),
            "updatedAt": norm_time(clock, a.get("updatedAt")),
            "status": {"state": st.get("state"),
                       # am-inhibitedby-first-source
                       "inhibitedBy": ["<source>"] if st.get("inhibitedBy") else st.get("inhibitedBy"),
                       "silencedBy": sorted(sidmap.get(x, "?" + x) for x in st.get("silencedBy") or [])}}


def norm_silence(clock, s, sidmap):
    return {"id": sidmap.get(s.get("id"), "?"), "state": (s.get("status") or {}).get("state"),
            "matchers": s.get("matchers"), "createdBy": s.get("createdBy"),
            "comment": s.get("comment"),
            "startsAt": norm_time(clock, s.get("startsAt")),
            "endsAt": norm_time(clock, s.get("endsAt")),
            "updatedAt": norm_time(clock, s.get("updatedAt"))}


def short(v, n=900):
    s = json.dumps(v, ensure_ascii=False, default=repr)
    return s if len(s) <= n else s[:n] + "...(%d)" % len(s)


# ---------------------------------------------------------------------------
# runner

class Side:
    def __init__(self, kind, case, tag):
        self.kind = kind
        self.tag = tag
        self.sink = H.WebhookSink()
        self.case = case
        self.sids = {}       # stream sid -> current server id
        self.sidmap = {}     # server id -> "s<sid>" / "s<sid>.<n>"
        self.server = None

    def start(self):
        conf = to_yaml(self.case["config"], "http://127.0.0.1:%d" % self.sink.port)
        self.server = H.Server(self.kind, conf, start=False,
                               ready_timeout=30)
        self.server.start()

    def close(self):
        try:
            if self.server:
                self.server.cleanup()
        finally:
            self.sink.close()


def apply_event(side, clock, ev):
    """Applies one event to one server; returns a comparable outcome (status codes)."""
    srv = side.server
    op = ev["op"]
    if op == "alerts":
        body = []
        for a in ev["alerts"]:
            x = {"labels": a["labels"], "startsAt": clock.ts(a["startsAt"])}
            if a.get("annotations"):
                x["annotations"] = a["annotations"]
            if a.get("generatorURL"):
                x["generatorURL"] = a["generatorURL"]
            if a.get("endsAt") is not None:
                x["endsAt"] = clock.ts(a["endsAt"])
            body.append(x)
        r = srv.post_alerts(body)
        return r.status
    if op == "silence":
        body = {"matchers": [{"name": n, "value": v, "isRegex": o in ("=~", "!~"),
                              "isEqual": o in ("=", "=~")} for n, o, v in ev["matchers"]],
                "startsAt": clock.ts(ev["startsAt"]), "endsAt": clock.ts(ev["endsAt"]),
                "createdBy": "difftest", "comment": "s%d" % ev["sid"]}
        r = srv.post_json("/api/v2/silences", body)
        if r.status == 200:
            sid = r.json().get("silenceID")
            side.sids[ev["sid"]] = sid
            side.sidmap[sid] = "s%d" % ev["sid"]
        return r.status
    if op in ("silence_update", "silence_expire"):
        sid = side.sids.get(ev["sid"])
        if sid is None:
            return "no-such-silence"
        if op == "silence_expire":
            return srv.request("DELETE", "/api/v2/silence/" + sid).status
        g = srv.get("/api/v2/silence/" + sid)
        if g.status != 200:
            return "get %d" % g.status
        cur = g.json()
        body = {"id": sid, "matchers": cur["matchers"], "startsAt": cur["startsAt"],
                "endsAt": clock.ts(ev["endsAt"]), "createdBy": cur.get("createdBy", ""),
                "comment": cur.get("comment", "")}
        if ev.get("matchers"):
            body["matchers"] = [{"name": n, "value": v, "isRegex": o in ("=~", "!~"),
                                 "isEqual": o in ("=", "=~")} for n, o, v in ev["matchers"]]
        r = srv.post_json("/api/v2/silences", body)
        if r.status == 200:
            new = r.json().get("silenceID")
            if new != sid:
                n = sum(1 for v in side.sidmap.values() if v.startswith("s%d" % ev["sid"]))
                side.sidmap[new] = "s%d.%d" % (ev["sid"], n)
                side.sids[ev["sid"]] = new
            return "200 %s" % ("same-id" if new == sid else "new-id")
        return r.status
    if op == "reload":
        conf = to_yaml(side.case["reload_config"], "http://127.0.0.1:%d" % side.sink.port)
        with open(srv.config_path, "w") as f:
            f.write(conf)
        return srv.request("POST", "/-/reload").status
    if op == "read":
        q = ev.get("query") or {}
        out = {}
        a = srv.get("/api/v2/alerts", q)
        out["alerts"] = [norm_api_alert(clock, x, side.sidmap) for x in a.json()] \
            if a.status == 200 else a.status
        g = srv.get("/api/v2/alerts/groups", q)
        if g.status == 200:
            groups = [{"labels": x.get("labels"), "receiver": x.get("receiver"),
                       "alerts": [norm_api_alert(clock, y, side.sidmap) for y in x.get("alerts", [])]}
                      for x in g.json()]
            out["groups"] = groups
        else:
            out["groups"] = g.status
        s = srv.get("/api/v2/silences")
        out["silences"] = sorted([norm_silence(clock, x, side.sidmap) for x in s.json()],
                                 key=lambda z: z["id"]) if s.status == 200 else s.status
        return out
    raise ValueError("unknown op %r" % op)


def group_sort_key(g):
    # no times here: they differ by milliseconds between the servers and would order
    # groups with equal labels and receiver differently (seen as a flaky difference)
    return (json.dumps(g["labels"], sort_keys=True, ensure_ascii=False),
            json.dumps(g["receiver"], sort_keys=True),
            [(a["fingerprint"], a["status"]["state"]) for a in g["alerts"]])


def compare_read(t, a, b, names):
    diffs = []
    for what in ("alerts", "groups", "silences"):
        x, y = a[what], b[what]
        if what == "groups" and isinstance(x, list) and isinstance(y, list):
            # order of groups with equal labels and receiver is not defined by Alertmanager
            if [(g["labels"], g["receiver"]) for g in x] != [(g["labels"], g["receiver"]) for g in y]:
                diffs.append(("api:groups", "t=%.2f groups order/keys: %s=%s %s=%s" % (
                    t, names[0], short([(g["labels"], g["receiver"]["name"]) for g in x]),
                    names[1], short([(g["labels"], g["receiver"]["name"]) for g in y]))))
                continue
            x = sorted(x, key=group_sort_key)
            y = sorted(y, key=group_sort_key)
        if not same(x, y):
            detail = first_difference(x, y)
            diffs.append(("api:" + what, "t=%.2f %s: %s" % (t, what, detail.replace(
                "A=", names[0] + "=").replace("B=", names[1] + "="))))
    return diffs


def first_difference(x, y, path=""):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in list(x) + [k for k in y if k not in x]:
            if k not in x or k not in y or not same(x[k], y[k]):
                if k in x and k in y:
                    return first_difference(x[k], y[k], path + "." + str(k))
                return "%s.%s: A=%s B=%s" % (path, k, short(x.get(k, "<absent>")),
                                              short(y.get(k, "<absent>")))
    if isinstance(x, list) and isinstance(y, list):
        if len(x) != len(y):
            return "%s: A has %d, B has %d: A=%s B=%s" % (path, len(x), len(y), short(x), short(y))
        for i, (p, q) in enumerate(zip(x, y)):
            if not same(p, q):
                return first_difference(p, q, "%s[%d]" % (path, i))
    return "%s: A=%s B=%s" % (path, short(x), short(y))


def compare_notifications(a, b, names):
    """a, b: {path: [(t, payload)]}. Multiset match within ARRIVAL_TOL."""
    diffs = []
    for path in sorted(set(a) | set(b)):
        xs = list(a.get(path, []))
        ys = list(b.get(path, []))
        used = [False] * len(ys)
        missing = []
        for (t, p) in xs:
            hit = None
            for i, (u, q) in enumerate(ys):
                if not used[i] and abs(u - t) <= ARRIVAL_TOL and same(p, q):
                    hit = i
                    break
            if hit is None:
                missing.append((t, p))
            else:
                used[hit] = True
        extra = [ys[i] for i in range(len(ys)) if not used[i]]
        if missing or extra:
            def desc(lst):
                return "; ".join("%.2fs %s %s %s" % (t, p.get("status"), p.get("groupKey"),
                                                     short([(x["labels"], x["status"]) for x in p.get("alerts", [])], 300))
                                 for t, p in lst)
            diffs.append(("notify", "%s: only %s: [%s]; only %s: [%s]" % (
                path, names[0], desc(missing), names[1], desc(extra))))
    return diffs


def collect(side, clock, end):
    out = {}
    with side.sink.cond:
        rec = list(side.sink.received)
    for (t, path, _body, parsed) in rec:
        rel = t - clock.mono0
        if rel <= end:
            out.setdefault(path, []).append((rel, norm_payload(clock, parsed)))
    return out


def run_case(case, kinds=("alertmanager", "alertrouter")):
    """Runs one case on both kinds. Returns {"diffs": [(category, text)], "notifications": n,
    "seconds": s}. A sanitizer report in a server's output is a difference too."""
    sides = []
    res = run_case_sides(case, kinds, sides)
    for s in sides:
        rep = s.server.sanitizer_report() if s.server is not None else None
        if rep:
            res.setdefault("diffs", []).append(("sanitizer", "%s: %s" % (s.tag, rep)))
    return res


def run_case_sides(case, kinds, out_sides):
    t_start = time.monotonic()
    names = ["%s#%d" % (k, i) if kinds[0] == kinds[1] else k for i, k in enumerate(kinds)]
    sides = [Side(k, case, n) for k, n in zip(kinds, names)]
    out_sides.extend(sides)
    diffs = []
    try:
        errs = [None, None]

        def start(i):
            try:
                sides[i].start()
            except Exception as e:  # noqa: BLE001 - reported as a difference below
                errs[i] = str(e).splitlines()[0][:300]
        th = [threading.Thread(target=start, args=(i,)) for i in range(2)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        if errs[0] or errs[1]:
            if errs[0] and errs[1]:
                return {"diffs": [], "invalid": "both failed to start: %s" % errs[0],
                        "seconds": time.monotonic() - t_start, "notifications": 0}
            return {"diffs": [("start", "%s: %s; %s: %s" % (names[0], errs[0] or "started",
                                                            names[1], errs[1] or "started"))],
                    "seconds": time.monotonic() - t_start, "notifications": 0}
        clock = Clock()
        late = 0.0
        for ev in sorted(case["events"], key=lambda e: e["t"]):
            clock.at(ev["t"])
            lag = clock.now() - ev["t"]
            late = max(late, lag)
            res = [apply_event(s, clock, ev) for s in sides]
            # a read answered late may cross an expiry 0.25s away (seed 20261209 case 190
            # read a silence as expired once while the machine was also compiling)
            late = max(late, clock.now() - ev["t"])
            if ev["op"] == "read":
                diffs.extend(compare_read(ev["t"], res[0], res[1], names))
            elif res[0] != res[1]:
                diffs.append(("status", "t=%.2f %s: %s=%s %s=%s" % (ev["t"], ev["op"], names[0], res[0],
                                                                   names[1], res[1])))
        clock.at(case["end"] + 0.05)
        got = [collect(s, clock, case["end"]) for s in sides]
        diffs.extend(compare_notifications(got[0], got[1], names))
        n = sum(len(v) for v in got[0].values())
        res = {"diffs": diffs, "notifications": n, "seconds": time.monotonic() - t_start,
               "late": late}
        if diffs:
            res["logs"] = {s.tag: s.server.log_tail(25) for s in sides}
        # an event applied late can move it across a tick: such a run proves nothing
        if late > 0.2:
            res["unreliable"] = "event applied or answered %.2fs late" % late
        return res
    finally:
        for s in sides:
            try:
                s.close()
            except Exception:  # noqa: BLE001
                pass


# ---------------------------------------------------------------------------
# shrinker

def drop_reload_events(c):
    """Removes the reload of a case; events after it move by half a second onto whole
    seconds, where ticks of groups made without a reload do not fall."""
    rt = [e for e in c["events"] if e["op"] == "reload"][0]["t"]
    c["events"] = [dict(e, t=e["t"] + 0.5) if e["t"] > rt else e
                   for e in c["events"] if e["op"] != "reload"]
    for e in c["events"]:
        if e["op"] == "alerts":
            e["alerts"] = [dict(a) for a in e["alerts"]]
        for a in e.get("alerts", []):
            if a["startsAt"] > rt:
                a["startsAt"] += 0.5
            if a.get("endsAt") is not None and a["endsAt"] > rt:
                a["endsAt"] += 0.5
        for k in ("startsAt", "endsAt"):
            if e["op"].startswith("silence") and k in e and e[k] > rt:
                e[k] += 0.5
    c["end"] += 0.5
    c["reload_config"] = None
    return c


def repair(case):
    """Keeps a reduced case inside the generator's timing rules: the first post of an alert
    starts at its own slot (never 'old'), a resolve of an alert never posted is dropped,
    silence changes of a silence never created are dropped."""
    seen = set()
    created = set()
    evs = []
    for ev in sorted(case["events"], key=lambda e: e["t"]):
        if ev["op"] == "alerts":
            keep = []
            for a in ev["alerts"]:
                f = fp(a["labels"])
                if f not in seen:
                    if a.get("endsAt") is not None and a["endsAt"] <= ev["t"]:
                        continue
                    if a["startsAt"] < ev["t"]:
                        a = dict(a, startsAt=ev["t"])
                    seen.add(f)
                keep.append(a)
            if not keep:
                continue
            ev = dict(ev, alerts=keep)
        elif ev["op"] == "silence":
            created.add(ev["sid"])
        elif ev["op"] in ("silence_update", "silence_expire") and ev["sid"] not in created:
            continue
        evs.append(ev)
    case["events"] = evs
    if not reload_is_deterministic(case):
        return None
    for k in ("config", "reload_config"):
        if case.get(k) and shared_nflog_routes(case[k]):
            return None
    return case


def route_paths(route, path=()):
    out = [path]
    for i, c in enumerate(route.get("routes", [])):
        out.extend(route_paths(c, path + (i,)))
    return out


def route_at(conf, path):
    r = conf["route"]
    for i in path:
        r = r["routes"][i]
    return r


def candidates(case):
    """Smaller variants of a case, biggest cuts first."""
    def variant(fn):
        c = copy.deepcopy(case)
        if fn(c) is False:
            return None
        return repair(c)

    out = []
    if case.get("reload_config"):
        out.append(("drop reload", drop_reload_events))

        def drop_after_reload(c):
            rt = [e for e in c["events"] if e["op"] == "reload"][0]["t"]
            c["events"] = [e for e in c["events"] if e["t"] < rt]
            c["reload_config"] = None
            c["end"] = rt + 0.0
            c["events"].append({"t": c["end"], "op": "read", "query": {}})
        out.append(("drop reload and what follows", drop_after_reload))
    droppable = [i for i, e in enumerate(case["events"])
                 if e["op"] != "reload" and not (e["op"] == "read" and e["t"] == case["end"])]
    if len(droppable) >= 4:
        # halves and quarters first: fewer runs than one event at a time
        n = len(droppable)
        for lo, hi in ((0, n // 2), (n // 2, n), (0, n // 4), (n // 4, n // 2), (n // 2, 3 * n // 4),
                       (3 * n // 4, n)):
            part = set(droppable[lo:hi])
            if part:
                out.append(("drop events %s" % sorted(part),
                            lambda c, part=part: c.update(events=[e for k, e in enumerate(c["events"])
                                                                  if k not in part]) and None))
    for i, e in enumerate(case["events"]):
        if e["op"] == "reload" or (e["op"] == "read" and e["t"] == case["end"]):
            continue
        out.append(("drop event %d (%s at %.2f)" % (i, e["op"], e["t"]),
                    lambda c, i=i: c["events"].pop(i) and None))
    for i, e in enumerate(case["events"]):
        if e["op"] == "alerts" and len(e["alerts"]) > 1:
            for j in range(len(e["alerts"])):
                out.append(("drop alert %d of event %d" % (j, i),
                            lambda c, i=i, j=j: c["events"][i]["alerts"].pop(j) and None))
    confs = ["config"] + (["reload_config"] if case.get("reload_config") else [])
    for ck in confs:
        conf = case[ck]
        for i in range(len(conf.get("inhibit_rules", []))):
            out.append(("%s: drop inhibit rule %d" % (ck, i),
                        lambda c, i=i, ck=ck: c[ck]["inhibit_rules"].pop(i) and None))
        for p in route_paths(conf["route"]):
            if not p:
                continue
            def drop_route(c, p=p, ck=ck):
                parent = route_at(c[ck], p[:-1])
                parent["routes"].pop(p[-1])
                if not parent["routes"]:
                    del parent["routes"]
            out.append(("%s: drop route %s" % (ck, p), drop_route))
        for p in route_paths(conf["route"]):
            r = route_at(conf, p)
            for k in ("match", "match_re"):
                for name in list(r.get(k, {})):
                    def f(c, p=p, k=k, name=name, ck=ck):
                        rr = route_at(c[ck], p)
                        del rr[k][name]
                        if not rr[k]:
                            del rr[k]
                    out.append(("%s: route %s drop %s.%s" % (ck, p, k, name), f))
            for j in range(len(r.get("matchers", []))):
                def f(c, p=p, j=j, ck=ck):
                    rr = route_at(c[ck], p)
                    rr["matchers"].pop(j)
                    if not rr["matchers"]:
                        del rr["matchers"]
                out.append(("%s: route %s drop matcher %d" % (ck, p, j), f))
            for k in ("group_by", "group_wait", "group_interval", "repeat_interval", "continue",
                      "mute_time_intervals", "active_time_intervals", "receiver"):
                if k in r and (p or k not in ("receiver", "group_wait", "group_interval",
                                              "repeat_interval")):
                    def f(c, p=p, k=k, ck=ck):
                        del route_at(c[ck], p)[k]
                    out.append(("%s: route %s drop %s" % (ck, p, k), f))
        used = set()
        for c2 in confs:
            for r in all_routes(case[c2]["route"]):
                if "receiver" in r:
                    used.add(r["receiver"])
        for i, rec in enumerate(conf["receivers"]):
            if rec["name"] not in used:
                out.append(("%s: drop receiver %s" % (ck, rec["name"]),
                            lambda c, i=i, ck=ck: c[ck]["receivers"].pop(i) and None))
            for j, wc in enumerate(rec.get("webhook_configs", [])):
                if len(rec["webhook_configs"]) > 1:
                    out.append(("%s: drop webhook %s/%d" % (ck, rec["name"], j),
                                lambda c, i=i, j=j, ck=ck: c[ck]["receivers"][i]["webhook_configs"].pop(j) and None))
                for k in ("max_alerts", "send_resolved"):
                    if k in wc:
                        def f(c, i=i, j=j, k=k, ck=ck):
                            del c[ck]["receivers"][i]["webhook_configs"][j][k]
                        out.append(("%s: %s/%d drop %s" % (ck, rec["name"], j, k), f))
    names = set()
    for e in case["events"]:
        for a in e.get("alerts", []):
            names.update(a["labels"])
    for n in sorted(names - {"alertname"}):
        def f(c, n=n):
            for e in c["events"]:
                for a in e.get("alerts", []):
                    a["labels"].pop(n, None)
        out.append(("drop label %s everywhere" % n, f))
    if any(a.get("annotations") for e in case["events"] for a in e.get("alerts", [])):
        def f(c):
            for e in c["events"]:
                for a in e.get("alerts", []):
                    a.pop("annotations", None)
        out.append(("drop annotations", f))
    res = []
    for desc, fn in out:
        v = variant(fn)
        if v is not None and v != case:
            res.append((desc, v))
    return res


def categories(result):
    return {d[0] for d in result.get("diffs", [])}


def shrink(case, first_result, run_many, max_runs=120, log=print):
    """Greedy reduction: keeps the first candidate (in order) that still shows a difference of
    a category the original showed. run_many(list_of_cases) -> list_of_results."""
    want = categories(first_result)
    runs = 0
    cur = case
    cur_res = first_result
    progress = True
    while progress and runs < max_runs:
        progress = False
        cands = candidates(cur)
        batch = max(1, run_many.jobs)
        for k in range(0, len(cands), batch):
            if runs >= max_runs:
                break
            chunk = cands[k:k + batch]
            results = run_many([c for _, c in chunk])
            runs += len(chunk)
            for (desc, c), r in zip(chunk, results):
                if r.get("diffs") and categories(r) & want and not r.get("unreliable"):
                    log("  shrink: %s (%d diffs, %d runs)" % (desc, len(r["diffs"]), runs))
                    cur, cur_res = c, r
                    progress = True
                    break
            if progress:
                break
    return cur, cur_res, runs


# ---------------------------------------------------------------------------
# workers: each case runs in its own process (own servers, own sinks, no shared GIL)

def run_in_subprocess(case, kinds, timeout=120):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(case, f, ensure_ascii=False)
        path = f.name
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--run-file", path,
                            "--kinds", ",".join(kinds)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        for line in reversed(p.stdout.decode("utf-8", "replace").splitlines()):
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        return {"diffs": [], "invalid": "worker failed: rc=%d %s" % (
            p.returncode, p.stderr.decode("utf-8", "replace")[-800:])}
    except subprocess.TimeoutExpired:
        return {"diffs": [], "invalid": "worker timed out"}
    finally:
        os.unlink(path)


class Runner:
    def __init__(self, jobs, kinds):
        self.jobs = jobs
        self.kinds = kinds
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)

    def __call__(self, cases):
        return list(self.pool.map(lambda c: run_in_subprocess(c, self.kinds), cases))


def case_summary(case):
    routes = len(all_routes(case["config"]["route"]))
    return "%d routes, %d receivers, %d inhibit rules, %d events%s" % (
        routes, len(case["config"]["receivers"]), len(case["config"].get("inhibit_rules", [])),
        len(case["events"]), ", reload" if case.get("reload_config") else "")


def save_case(case, result, name, directory, note=""):
    os.makedirs(directory, exist_ok=True)
    out = {"name": name, "note": note,
           "found": {"seed": case.get("seed"), "case": case.get("case")},
           "differences_when_found": [list(d) for d in result.get("diffs", [])],
           "config": case["config"], "reload_config": case.get("reload_config"),
           "events": case["events"], "end": case["end"]}
    path = os.path.join(directory, name + ".json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=0)
    ap.add_argument("--seed", default="1")
    ap.add_argument("--case", type=int, default=None)
    ap.add_argument("--first", type=int, default=0, help="number of the first case")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--show", action="store_true", help="print the case and its YAML, do not run")
    ap.add_argument("--case-file")
    ap.add_argument("--run-file", help=argparse.SUPPRESS)
    ap.add_argument("--kinds", default="alertmanager,alertrouter")
    ap.add_argument("--self-check", action="store_true", help="Alertmanager against Alertmanager")
    ap.add_argument("--no-shrink", action="store_true")
    ap.add_argument("--save-dir", default=None, help="where shrunk cases go (default tests/difftest/open)")
    ap.add_argument("--max-shrink-runs", type=int, default=120)
    ap.add_argument("--max-failures", type=int, default=5, help="stop shrinking after this many")
    ap.add_argument("--stats", help="write a JSON summary here")
    ap.add_argument("--gen", type=int, default=GEN, help="generator version (default %(default)s)")
    ap.add_argument("--regress", action="store_true",
                    help="run every saved case in tests/difftest/cases (the ctest entry)")
    ap.add_argument("--shrink", action="store_true", help="with --case/--case-file: shrink a difference")
    ap.add_argument("--name", help="with --shrink: file name of the saved case")
    ap.add_argument("--note", default="", help="with --shrink: note saved in the case")
    args = ap.parse_args()
    kinds = tuple(args.kinds.split(","))
    if args.gen != GEN:
        LABEL_POOL["team"] = ["a", "b", "café"]
        REGEXES["team"] = ["a|b", "caf.", "café|a", "[ab]", "b?", ".+"]
        set_generator(args.gen)
    if args.self_check:
        kinds = ("alertmanager", "alertmanager")

    if args.run_file:
        with open(args.run_file) as f:
            case = json.load(f)
        res = run_case(case, kinds)
        print("RESULT " + json.dumps(res, ensure_ascii=False, default=float), flush=True)
        H._kill_all()
        return 0

    if args.seed == "week":
        # CI: the seed rotates weekly, printed so that a failure can be rerun anywhere
        args.seed = time.strftime("ci-%G-W%V", time.gmtime())
        print("seed %s (rerun one case: scripts/difftest.sh --seed %s --case N)" % (args.seed, args.seed))

    if args.regress:
        files = sorted(f for f in os.listdir(CASES_DIR) if f.endswith(".json"))
        runner = Runner(args.jobs, kinds)
        cases = []
        for f in files:
            with open(os.path.join(CASES_DIR, f)) as fh:
                cases.append(json.load(fh))
        t0 = time.monotonic()
        results = runner(cases)
        failed = 0
        for f, case, res in zip(files, cases, results):
            if res.get("unreliable") and res.get("diffs"):
                # the harness itself was late (a loaded machine): run that case again, once
                res = run_in_subprocess(case, kinds)
            bad = bool(res.get("diffs") or res.get("invalid"))
            failed += bad
            print("%-4s %s (%d notifications, %.1fs)%s" % (
                "FAIL" if bad else "ok", f, res.get("notifications", 0), res.get("seconds", 0),
                "" if not bad else ": " + case.get("note", "")), flush=True)
            for c, d in res.get("diffs", []):
                print("   %s: %s" % (c, d[:1000]))
            if res.get("invalid"):
                print("   invalid: %s" % res["invalid"])
        print("%d passed, %d failed (%.1fs)" % (len(files) - failed, failed, time.monotonic() - t0))
        return 1 if failed else 0

    if args.case_file or args.case is not None:
        if args.case_file:
            with open(args.case_file) as f:
                case = json.load(f)
        else:
            case = generate(args.seed, args.case)
        if args.show:
            print(json.dumps(case, indent=1, ensure_ascii=False))
            print(to_yaml(case["config"], "http://SINK"))
            return 0
        if args.shrink:
            runner = Runner(args.jobs, kinds)
            res = run_in_subprocess(case, kinds)
            print_result(case, res)
            if not res["diffs"]:
                return 0
            small, sres, runs = shrink(case, res, runner, args.max_shrink_runs)
            path = save_case(small, sres, args.name or "seed%s-case%s" % (args.seed, args.case),
                             args.save_dir or OPEN_DIR, args.note)
            print("%d runs; minimal case (%s) saved to %s" % (runs, case_summary(small), path))
            print_result(small, sres)
            return 1
        res = run_case(case, kinds)
        print_result(case, res)
        return 1 if res["diffs"] else 0

    if not args.cases:
        ap.error("give --cases N, --case N or --case-file F")
    runner = Runner(args.jobs, kinds)
    t0 = time.monotonic()
    stats = {"seed": args.seed, "cases": 0, "agree": 0, "disagree": 0, "invalid": 0,
             "unreliable": 0, "flaky": 0, "notifications": 0, "kinds": list(kinds), "jobs": args.jobs}
    failures = []
    lock = threading.Lock()
    numbers = list(range(args.first, args.first + args.cases))

    def one(n):
        case = generate(args.seed, n)
        res = run_in_subprocess(case, kinds)
        if res.get("diffs") and not res.get("invalid"):
            # a difference must show twice: one that does not is counted and printed as
            # flaky (timing noise on a loaded machine, or a race in one of the servers)
            again = run_in_subprocess(case, kinds)
            if not again.get("diffs"):
                res["flaky"] = True
        with lock:
            stats["cases"] += 1
            stats["notifications"] += res.get("notifications", 0)
            if res.get("invalid"):
                stats["invalid"] += 1
                print("INVALID seed=%s case=%d: %s" % (args.seed, n, res["invalid"]), flush=True)
            elif res.get("flaky"):
                stats["flaky"] += 1
                print("FLAKY seed=%s case=%d (differed once, agreed on the rerun): %s" % (
                    args.seed, n, "; ".join("%s: %s" % (c, d[:300]) for c, d in res["diffs"][:3])), flush=True)
            elif res["diffs"]:
                if res.get("unreliable"):
                    stats["unreliable"] += 1
                stats["disagree"] += 1
                failures.append((n, case, res))
                print("DIFF seed=%s case=%d (%s)%s" % (args.seed, n, case_summary(case),
                                                      " [%s]" % res["unreliable"] if res.get("unreliable") else ""),
                      flush=True)
                for c, d in res["diffs"][:6]:
                    print("   %s: %s" % (c, d[:600]), flush=True)
            else:
                stats["agree"] += 1
            if stats["cases"] % 50 == 0:
                el = time.monotonic() - t0
                print("... %d cases in %.0fs (%.2f cases/s), %d disagree" % (
                    stats["cases"], el, stats["cases"] / el, stats["disagree"]), flush=True)
        return res

    list(runner.pool.map(one, numbers))
    wall = time.monotonic() - t0
    stats["wall_seconds"] = round(wall, 1)
    print("%d cases (seed %s, cases %d..%d, %s vs %s, %d jobs) in %.0fs: %d agree, %d disagree, "
          "%d invalid, %d flaky; %d notifications compared" % (
              stats["cases"], args.seed, numbers[0], numbers[-1], kinds[0], kinds[1], args.jobs, wall,
              stats["agree"], stats["disagree"], stats["invalid"], stats["flaky"],
              stats["notifications"]), flush=True)
    shrunk = []
    if failures and not args.no_shrink:
        save_dir = args.save_dir or OPEN_DIR
        for n, case, res in sorted(failures, key=lambda x: x[0])[:args.max_failures]:
            print("shrinking seed=%s case=%d: %s" % (args.seed, n, sorted(categories(res))), flush=True)
            small, sres, runs = shrink(case, res, runner, args.max_shrink_runs)
            name = "seed%s-case%d" % (args.seed, n)
            path = save_case(small, sres, name, save_dir)
            shrunk.append(path)
            print("  %d runs; minimal case (%s) saved to %s" % (runs, case_summary(small), path), flush=True)
            for c, d in sres["diffs"][:6]:
                print("   %s: %s" % (c, d[:800]), flush=True)
    stats["shrunk"] = shrunk
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(stats, f, indent=1)
    return 1 if stats["disagree"] or stats["invalid"] else 0


def print_result(case, res):
    print("case: %s" % case_summary(case))
    if res.get("invalid"):
        print("INVALID: %s" % res["invalid"])
    for c, d in res["diffs"]:
        print("%s: %s" % (c, d))
    if res.get("unreliable"):
        print("unreliable run: %s" % res["unreliable"])
    if res["diffs"] and os.environ.get("AR_DIFFTEST_LOGS") == "1":
        for k, v in res.get("logs", {}).items():
            print("--- %s log tail ---\n%s" % (k, v))
    print("%s (%d notifications, %.1fs)" % ("DISAGREE" if res["diffs"] else "agree",
                                           res.get("notifications", 0), res.get("seconds", 0)))


if __name__ == "__main__":
    sys.exit(main())
