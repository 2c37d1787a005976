#!/usr/bin/env python3
"""Silences end to end (COMPAT 1.6, 1.10, 6.2): create/get/list shapes, list filter and sort
order, the 0.25 update-in-place versus new-id rules, DELETE of active/pending/expired/unknown
silences, validation and body-shape errors (exact bodies), amtool's silence commands, and
persistence across kill -9 (alertrouter only). Every case runs against alertrouter and, when
installed, the real Alertmanager 0.25."""

import json
import os
import tempfile
import time

import datetime

from harness import AMTOOL, UTC_MS_TS_RE, Fail, Skip, Suite, check, eq, epoch, iso, ts

suite = Suite("05-silences")

UNKNOWN = "5e510a03-8d98-42ea-b1dd-46fad73c1350"


def m(name, value, regex=False, equal=True):
    return {"name": name, "value": value, "isRegex": regex, "isEqual": equal}


def body(matchers=None, starts=None, ends=None, created_by="e2e", comment="c", sid=None):
    b = {"matchers": matchers if matchers is not None else [m("alertname", "x")],
         "startsAt": starts if starts is not None else ts(0),
         "endsAt": ends if ends is not None else ts(3600),
         "createdBy": created_by, "comment": comment}
    if sid is not None:
        b["id"] = sid
    return b


def post(srv, b, expect=200):
    r = srv.post_json("/api/v2/silences", b)
    if expect is not None and r.status != expect:
        raise Fail("POST silences: expected %d, got %d %s" % (expect, r.status, r.text()))
    return r


def create(srv, **kw):
    r = post(srv, body(**kw))
    return r.json()["silenceID"]


def get(srv, sid):
    return srv.get_json("/api/v2/silence/" + sid)


def expire(srv, sid):
    r = srv.request("DELETE", "/api/v2/silence/" + sid)
    eq((r.status, r.body), (200, b""), "DELETE %s" % sid)


def shift(s, seconds):
    return iso(datetime.datetime.fromtimestamp(epoch(s) + seconds, datetime.timezone.utc))


@suite.case("create-get-shape")
def create_get(ctx):
    srv = ctx.server()
    before = time.time()
    r = post(srv, body([m("alertname", "x"), m("job", "a.*", regex=True, equal=False)],
                       starts=ts(-60), comment="<maint>", created_by="ops"))
    eq(r.headers.get("Content-Type"), "application/json", "content type")
    check(r.body.endswith(b"}\n"), "reply ends with a newline: %r" % r.body)
    sid = r.json()["silenceID"]
    check(len(sid) == 36 and sid[14] == "4", "UUID v4: %r" % sid)
    g = srv.get("/api/v2/silence/" + sid)
    eq(g.status, 200, "GET status")
    check(g.body.endswith(b"}\n"), "GET ends with a newline")
    check(b'"comment":"\\u003cmaint\\u003e"' in g.body, "Go HTML escaping: %r" % g.body)
    pairs = g.json_ordered()
    eq([k for k, _ in pairs], ["id", "status", "updatedAt", "comment", "createdBy", "endsAt",
                               "matchers", "startsAt"], "key order")
    s = g.json()
    eq(s["id"], sid, "id")
    eq(s["status"], {"state": "active"}, "status")
    eq(s["matchers"], [{"isEqual": True, "isRegex": False, "name": "alertname", "value": "x"},
                       {"isEqual": False, "isRegex": True, "name": "job", "value": "a.*"}],
       "matchers in posted order")
    for k in ("updatedAt", "startsAt", "endsAt"):
        check(UTC_MS_TS_RE.match(s[k]), "%s format: %r" % (k, s[k]))
    # a start in the past is clamped to the creation time
    check(epoch(s["startsAt"]) >= before - 1, "startsAt clamped: %s" % s["startsAt"])
    eq(s["startsAt"], s["updatedAt"], "startsAt = updatedAt at creation")
    # offsets of client times are kept
    sid2 = create(srv, starts="2030-01-01T00:00:00.123456+02:00", ends="2030-01-02T00:00:00+02:00")
    s2 = get(srv, sid2)
    eq((s2["startsAt"], s2["endsAt"], s2["status"]["state"]),
       ("2030-01-01T00:00:00.123+02:00", "2030-01-02T00:00:00.000+02:00", "pending"), "offsets")
    # Go's zero start means now
    s3 = get(srv, create(srv, starts="0001-01-01T00:00:00Z"))
    eq(s3["status"]["state"], "active", "zero start")


@suite.case("list-sort-order")
def list_sort(ctx):
    srv = ctx.server()
    eq(srv.get("/api/v2/silences").body, b"[]\n", "empty list")
    a2 = create(srv, ends=ts(7200))
    a1 = create(srv, ends=ts(3600))
    p2 = create(srv, starts=ts(3600), ends=ts(7200))
    p1 = create(srv, starts=ts(1800), ends=ts(7200))
    e1 = create(srv, ends=ts(3600))
    expire(srv, e1)
    time.sleep(0.05)
    e2 = create(srv, ends=ts(3600))
    expire(srv, e2)
    got = [(s["id"], s["status"]["state"]) for s in srv.get_json("/api/v2/silences")]
    eq(got, [(a1, "active"), (a2, "active"), (p1, "pending"), (p2, "pending"),
             (e2, "expired"), (e1, "expired")], "order")


@suite.case("list-filter-not-evaluated")
def list_filter(ctx):
    srv = ctx.server()
    s1 = create(srv, matchers=[m("a", "b"), m("c", "d.*", regex=True)])
    s2 = create(srv, matchers=[m("a", "b", equal=False)])
    s3 = create(srv, matchers=[m("a", "bb")])

    def ids(*filters):
        return sorted(s["id"] for s in srv.get_json("/api/v2/silences",
                                                    [("filter", f) for f in filters]))
    eq(ids('a="b"'), [s1], 'a="b"')
    eq(ids('a!="b"'), [s2], 'a!="b" (same operator needed)')
    eq(ids('a=~"b.*"'), [], "regex filter is not evaluated")
    eq(ids('c=~"d.*"'), [s1], "same regex string")
    eq(ids('c=~"dx"'), [], "other regex string")
    eq(ids('a="b"', 'c=~"d.*"'), [s1], "ANDed")
    eq(ids('a="b"', 'c="d.*"'), [], "operator differs")
    eq(ids('x=""'), [], "silence without the name")
    eq(ids("a=bb"), [s3], "unquoted value")
    eq(ids(), sorted([s1, s2, s3]), "no filter")
    r = srv.get("/api/v2/silences", {"filter": "bad"})
    eq((r.status, r.body), (400, b'"bad matcher format: bad"\n'), "bad filter")
    r = srv.get("/api/v2/silences", {"filter": 'a=~"("'})
    eq((r.status, r.body), (400, b'"error parsing regexp: missing closing ): `^(?:()$`"\n'),
       "bad filter regex")


@suite.case("update-rules")
def update_rules(ctx):
    srv = ctx.server()
    sid = create(srv, starts=ts(-30))
    s = get(srv, sid)
    # echoing the stored start (ms) keeps the id; comment and end change in place
    new_end = ts(7200)
    eq(create(srv, sid=sid, starts=s["startsAt"], ends=new_end, comment="upd"), sid, "in place")
    u = get(srv, sid)
    eq((u["comment"], u["endsAt"], u["status"]["state"]), ("upd", new_end, "active"), "updated")
    check(epoch(u["updatedAt"]) >= epoch(s["updatedAt"]), "updatedAt moves")
    # the original requested start (before the clamp) is another second: new id
    old = shift(s["startsAt"], -30)
    sid2 = create(srv, sid=sid, starts=old, ends=new_end)
    check(sid2 != sid, "new id for a changed start")
    eq(get(srv, sid)["status"]["state"], "expired", "replaced silence expired")
    eq(get(srv, sid2)["status"]["state"], "active", "replacement active")
    # changed matchers: new id, old expired
    s2 = get(srv, sid2)
    sid3 = create(srv, sid=sid2, matchers=[m("alertname", "y")], starts=s2["startsAt"], ends=new_end)
    check(sid3 not in (sid, sid2), "new id for changed matchers")
    eq(get(srv, sid2)["status"]["state"], "expired", "old expired after matcher change")
    # expired silences are never updated in place
    sid4 = create(srv, sid=sid, starts=ts(0), ends=new_end)
    check(sid4 != sid, "expired silence gets a new id")
    # pending: in place when the new start is not in the past
    p = create(srv, starts=ts(3600), ends=ts(7200))
    eq(create(srv, sid=p, starts=ts(1800), ends=ts(7200)), p, "pending in place")
    eq(get(srv, p)["status"]["state"], "pending", "still pending")
    # 0.25: an invalid replacement fails, but the old silence is already expired
    r = post(srv, body([m("a-b", "x")], starts=ts(1800), ends=ts(7200), sid=p), expect=400)
    eq(r.body, b'"silence invalid: invalid label matcher 0: invalid label name \\"a-b\\""\n',
       "invalid replacement")
    g = get(srv, p)
    eq(g["status"]["state"], "expired", "pending silence expired by the failed replacement")
    eq(g["startsAt"], g["endsAt"], "pending expiry sets start = end")
    # unknown ids (also upper case of a known one) are 404
    for bad in (UNKNOWN, sid4.upper(), "nope"):
        r = post(srv, body(sid=bad), expect=404)
        eq(r.body, b'"silence not found"\n', "unknown id %s" % bad)


@suite.case("delete-states")
def delete_states(ctx):
    srv = ctx.server()
    a = create(srv)
    p = create(srv, starts=ts(3600), ends=ts(7200))
    t0 = time.time()
    expire(srv, a)
    g = get(srv, a)
    eq(g["status"]["state"], "expired", "active -> expired")
    check(abs(epoch(g["endsAt"]) - t0) < 5, "endsAt = now")
    eq(g["endsAt"], g["updatedAt"], "updatedAt = endsAt = now")
    expire(srv, p)
    g = get(srv, p)
    eq(g["status"]["state"], "expired", "pending -> expired")
    eq(g["startsAt"], g["endsAt"], "pending: start = end = now")
    # expired: nothing changes, still 200
    g1 = get(srv, a)
    time.sleep(0.01)
    expire(srv, a)
    eq(get(srv, a), g1, "expiring an expired silence changes nothing")
    r = srv.request("DELETE", "/api/v2/silence/" + UNKNOWN)
    eq((r.status, r.body), (500, b'"silence not found"\n'), "unknown id (0.25: 500)")
    r = srv.get("/api/v2/silence/" + UNKNOWN)
    eq((r.status, r.body), (404, b""), "GET unknown")
    eq(srv.get("/api/v2/silence/" + UNKNOWN.upper()).status, 404, "upper-case uuid is a uuid")
    eq(srv.get("/api/v2/silence/" + UNKNOWN.replace("-", "")).status, 404, "hyphens optional")
    for method in ("GET", "DELETE"):
        r = srv.request(method, "/api/v2/silence/x")
        eq((r.status, r.body), (422, b'{"code":601,"message":"silenceID in path must be of type '
                                      b'uuid: \\"x\\""}'), "%s non-uuid" % method)
    # Alertmanager lists the allowed methods in map order: either order is right
    r = srv.request("PUT", "/api/v2/silence/" + UNKNOWN)
    eq((r.status, sorted(r.headers.get("Allow", "").split(","))), (405, ["DELETE", "GET"]),
       "PUT one")
    check(r.body in (b'{"code":405,"message":"method PUT is not allowed, but [GET,DELETE] are"}',
                     b'{"code":405,"message":"method PUT is not allowed, but [DELETE,GET] are"}'),
          "405 body: %r" % r.body)
    r = srv.request("PUT", "/api/v2/silences")
    check(r.body in (b'{"code":405,"message":"method PUT is not allowed, but [GET,POST] are"}',
                     b'{"code":405,"message":"method PUT is not allowed, but [POST,GET] are"}'),
          "405 list: %r" % r.body)
    r = srv.get("/api/v2/silence/")
    eq((r.status, r.body), (404, b'{"code":404,"message":"path /api/v2/silence/ was not found"}'),
       "no id")


VALIDATION = [
    # (raw body or dict, status, exact reply)
    ("", 422, b'{"code":602,"message":"silence in body is required"}'),
    ("{", 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because unexpected EOF"}'),
    ('{"a":1,}', 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because invalid character \'}\' looking for beginning of object key string"}'),
    ("[]", 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal array into Go value of type struct { ID string \\"json:\\\\\\"id,omitempty\\\\\\"\\" }"}'),
    ("null", 422, b'{"code":602,"message":"comment in body is required"}'),
    ("{}", 422, b'{"code":602,"message":"comment in body is required"}'),
    (lambda: dict(body(), createdBy=None), 422, b'{"code":602,"message":"createdBy in body is required"}'),
    (lambda: dict(body(), endsAt=None), 422, b'{"code":602,"message":"endsAt in body is required"}'),
    (lambda: {k: v for k, v in body().items() if k != "matchers"}, 422, b'{"code":602,"message":"matchers in body is required"}'),
    (lambda: body(matchers=[]), 422, b'{"code":612,"message":"matchers in body should have at least 1 items"}'),
    (lambda: body(matchers=[{"name": "a"}]), 422, b'{"code":602,"message":"matchers.0.isRegex in body is required"}'),
    (lambda: body(matchers=[{"isRegex": False, "value": "a"}]), 422, b'{"code":602,"message":"matchers.0.name in body is required"}'),
    (lambda: {k: v for k, v in body().items() if k != "startsAt"}, 422, b'{"code":602,"message":"startsAt in body is required"}'),
    (lambda: dict(body(), matchers="x"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal string into Go struct field Silence.matchers of type models.Matchers"}'),
    (lambda: dict(body(), createdBy=5), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field Silence.createdBy of type string"}'),
    (lambda: dict(body(), id=5), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field .id of type string"}'),
    (lambda: body(matchers=[{"name": "a", "value": "b", "isRegex": "no"}]), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal string into Go struct field Matcher.matchers.isRegex of type bool"}'),
    (lambda: body(starts=ts(60), ends=ts(30)), 400, b'"Failed to create silence: start time must be before end time"\n'),
    (lambda: body(starts="2030-01-01T00:00:00Z", ends="2030-01-01T00:00:00Z"), 400, b'"Failed to create silence: start time must be before end time"\n'),
    (lambda: body(starts=ts(-120), ends=ts(-60)), 400, b'"Failed to create silence: end time can\'t be in the past"\n'),
    (lambda: body(matchers=[m("a-b", "x")]), 400, b'"silence invalid: invalid label matcher 0: invalid label name \\"a-b\\""\n'),
    (lambda: body(matchers=[m("", "x")]), 400, b'"silence invalid: invalid label matcher 0: invalid label name \\"\\""\n'),
    (lambda: body(matchers=[m("a", "(", regex=True)]), 400, b'"silence invalid: invalid label matcher 0: invalid regular expression \\"(\\": error parsing regexp: missing closing ): `(`"\n'),
    (lambda: body(matchers=[m("a", "b"), m("b", "a**", regex=True)]), 400, b'"silence invalid: invalid label matcher 1: invalid regular expression \\"a**\\": error parsing regexp: invalid nested repetition operator: `**`"\n'),
    (lambda: body(matchers=[m("a", "")]), 400, b'"silence invalid: at least one matcher must not match the empty string"\n'),
    (lambda: body(matchers=[m("a", ".*", regex=True), m("b", "")]), 400, b'"silence invalid: at least one matcher must not match the empty string"\n'),
    (lambda: body(sid=UNKNOWN), 404, b'"silence not found"\n'),
    # strfmt.DateTime: the last layout's error when no layout fits
    (lambda: body(starts="bad"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"bad\\" as \\"2006-01-02 15:04:05\\": cannot parse \\"bad\\" as \\"2006\\""}'),
    (lambda: body(starts="2030-01-01"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"2030-01-01\\" as \\"2006-01-02 15:04:05\\": cannot parse \\"\\" as \\"15\\""}'),
    (lambda: body(starts="2030-01-01 00:00:00Z"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"2030-01-01 00:00:00Z\\": extra text: \\"Z\\""}'),
    (lambda: body(starts="2030-01-01T00:00:00.5+0200"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"2030-01-01T00:00:00.5+0200\\" as \\"2006-01-02 15:04:05\\": cannot parse \\"T00:00:00.5+0200\\" as \\" \\""}'),
    (lambda: body(starts="2030-13-01 00:00:00"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"2030-13-01 00:00:00\\": month out of range"}'),
    (lambda: body(starts="2030-02-30 00:00:00"), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"2030-02-30 00:00:00\\": day out of range"}'),
    (lambda: dict(body(), startsAt=5), 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field Silence.startsAt of type string"}'),
    # encoding/json: the first type mismatch in document order; a bad time aborts at once
    ('{"createdBy":5,"comment":6}', 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field Silence.createdBy of type string"}'),
    ('{"matchers":[{"value":1,"name":2}]}', 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field Matcher.matchers.value of type string"}'),
    ('{"matchers":[5]}', 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field Silence.matchers of type models.Matcher"}'),
    ('{"comment":1,"startsAt":"bad"}', 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because parsing time \\"bad\\" as \\"2006-01-02 15:04:05\\": cannot parse \\"bad\\" as \\"2006\\""}'),
    ('{"comment":2,"id":1}', 400, b'{"code":400,"message":"parsing silence body from \\"\\" failed, because json: cannot unmarshal number into Go struct field .id of type string"}'),
    (lambda: body(ends=""), 400, b'"Failed to create silence: start time must be before end time"\n'),
]

# strfmt.DateTime spellings that are accepted, and the start they give (None: now)
TIME_FORMS = [
    ("", None),
    ("2030-01-01T00:00:00", "2030-01-01T00:00:00.000Z"),
    ("2030-01-01T00:00", "2030-01-01T00:00:00.000Z"),
    ("2030-01-01T00:00Z", "2030-01-01T00:00:00.000Z"),
    ("2030-01-01 00:00:00.25", "2030-01-01T00:00:00.250Z"),
    ("2030-01-01T00:00:00.123+0200", "2030-01-01T00:00:00.123+02:00"),
    ("2030-01-01T00:00:00.123456-0130", "2030-01-01T00:00:00.123-01:30"),
    ("2030-01-01T00:00:00.1234567+02:00", "2030-01-01T00:00:00.123+02:00"),
    ("2030-01-01T00:00:00,5Z", "2030-01-01T00:00:00.500Z"),
    # time.Parse reads a .000000 fraction with atoi, which takes a sign (as 0.25 does)
    ("2030-01-01T00:00:00.+23456+0200", "2030-01-01T00:00:00.023+02:00"),
    ("2030-01-01T00:00:00.-00+25:00", "2030-01-01T00:00:00.000+25:00"),
]


@suite.case("validation-errors")
def validation(ctx):
    srv = ctx.server()
    for i, (b, status, reply) in enumerate(VALIDATION):
        if callable(b):
            b = json.dumps(b())
        r = srv.post_json("/api/v2/silences", b)
        eq((r.status, r.body), (status, reply), "case %d %s" % (i, b[:80]))
        eq(r.headers.get("Content-Type"), "application/json", "case %d content type" % i)
    # accepted: != never counts as matching the empty string; unknown fields and trailing
    # data after the object are ignored; a missing isEqual means true
    post(srv, body(matchers=[m("a", ".*", regex=True), m("b", "x", equal=False)]))
    r = post(srv, json.dumps(dict(body(), extra=1)) + " trailing")
    eq(get(srv, r.json()["silenceID"])["status"]["state"], "active", "extra fields ignored")
    post(srv, body(matchers=[{"name": "a", "value": "b", "isRegex": False}]))
    # keys match fields case-insensitively; the last one for a field wins
    raw = ('{"Matchers":[{"NAME":"a","value":"b","isregex":false}],"startsAt":"%s",'
           '"endsAt":"2031-01-01T00:00:00Z","CreatedBy":"x","comment":"c","COMMENT":"d",'
           '"Comment":"e","createdby":"y"}' % ts(0))
    g = get(srv, post(srv, raw).json()["silenceID"])
    eq((g["comment"], g["createdBy"], g["matchers"][0]["name"]), ("e", "y", "a"), "key case")
    expire(srv, g["id"])
    for form, want in TIME_FORMS:
        r = post(srv, body(starts=form, ends="2031-01-01T00:00:00Z"))
        g = get(srv, r.json()["silenceID"])
        if want is None:
            eq(g["status"]["state"], "active", "start %r" % form)
        else:
            eq(g["startsAt"], want, "start %r" % form)
        expire(srv, g["id"])
    r = srv.post_json("/api/v2/silences", body(), content_type="text/plain")
    eq((r.status, r.body), (415, b'{"code":415,"message":"unsupported media type \\"text/plain\\", '
                                 b'only [application/json] are allowed"}'), "415")
    r = srv.request("POST", "/api/v2/silences", body=json.dumps(body()))
    eq((r.status, r.body), (415, b'{"code":415,"message":"unsupported media type '
                                 b'\\"application/octet-stream\\", only [application/json] are '
                                 b'allowed"}'), "415 without a content type")
    eq(len(srv.get_json("/api/v2/silences")), 4 + len(TIME_FORMS), "only accepted ones stored")


def need_amtool():
    if not os.path.exists(AMTOOL):
        raise Skip("amtool not installed")


@suite.case("amtool-silences")
def amtool_silences(ctx):
    need_amtool()
    srv = ctx.server()
    rc, out, err = srv.amtool("silence", "add", "foo=bar", "-c", "e2e", "-d", "1h", check_rc=0)
    sid = out.strip()
    eq(len(sid), 36, "id printed (%r)" % out)
    rc, out, err = srv.amtool("silence", "add", "job=~web.*", "-c", "two", "-d", "2h", check_rc=0)
    sid2 = out.strip()
    rc, out, err = srv.amtool("silence", "query", "-q", check_rc=0)
    eq(out.split(), [sid, sid2], "query -q (sorted by end)")
    rc, out, err = srv.amtool("silence", "query", "-q", "foo=bar", check_rc=0)
    eq(out.split(), [sid], "query with matcher")
    rc, out, err = srv.amtool("silence", "query", check_rc=0)
    check('foo="bar"' in out and "e2e" in out, "table output: %r" % out)
    # update keeps the id (amtool echoes the stored start)
    rc, out, err = srv.amtool("silence", "update", sid, "--comment=changed", "-d", "3h", check_rc=0)
    g = get(srv, sid)
    eq(g["comment"], "changed", "comment updated")
    eq(g["status"]["state"], "active", "still active")
    rc, out, err = srv.amtool("silence", "query", "-q", check_rc=0)
    eq(out.split(), [sid2, sid], "update kept the id; new end sorts last")
    # export and re-import: same ids, updated in place
    rc, out, err = srv.amtool("silence", "query", "-o", "json", check_rc=0)
    path = os.path.join(tempfile.mkdtemp(prefix="ar-e2e-sil-"), "export.json")
    with open(path, "w") as f:
        f.write(out)
    rc, out, err = srv.amtool("silence", "import", path, check_rc=0)
    rc, out, err = srv.amtool("silence", "query", "-q", check_rc=0)
    eq(sorted(out.split()), sorted([sid, sid2]), "import updated in place")
    # into an empty server: ids unknown -> 404 -> amtool retries without id
    other = ctx.server()
    rc, out, err = other.amtool("silence", "import", path, check_rc=0)
    got = other.get_json("/api/v2/silences")
    eq(len(got), 2, "imported into another server")
    check(not {s["id"] for s in got} & {sid, sid2}, "new ids on the other server")
    eq(sorted(s["comment"] for s in got), ["changed", "two"], "comments imported")
    # expire
    rc, out, err = srv.amtool("silence", "expire", sid, check_rc=0)
    rc, out, err = srv.amtool("silence", "query", "-q", check_rc=0)
    eq(out.split(), [sid2], "expired one hidden")
    rc, out, err = srv.amtool("silence", "query", "--expired", "-q", check_rc=0)
    eq(out.split(), [sid], "query --expired")
    rc, out, err = srv.amtool("silence", "expire", UNKNOWN)
    check(rc != 0 and "silence not found" in err, "expire unknown: rc=%d %r" % (rc, err))


@suite.case("persistence-kill9", only="alertrouter")
def persistence(ctx):
    srv = ctx.server()
    a = create(srv, matchers=[m("a", "b"), m("c", "d|e", regex=True, equal=False)],
               comment="x\u2028<y>", created_by="\u00e9")
    p = create(srv, starts="2030-01-01T00:00:00.123+02:00", ends="2030-01-02T00:00:00Z")
    e = create(srv)
    expire(srv, e)
    u = create(srv)
    eq(create(srv, sid=u, starts=get(srv, u)["startsAt"], ends=ts(7200), comment="v2"), u, "upd")
    before = srv.get("/api/v2/silences").body
    srv.restart(kill=True)
    eq(srv.get("/api/v2/silences").body, before, "same list after kill -9")
    eq(get(srv, p)["startsAt"], "2030-01-01T00:00:00.123+02:00", "offset kept")
    eq(get(srv, u)["comment"], "v2", "latest version")
    # still usable after the restart
    expire(srv, a)
    srv.restart(kill=True)
    eq(get(srv, a)["status"]["state"], "expired", "expiry durable")


if __name__ == "__main__":
    suite.main()
