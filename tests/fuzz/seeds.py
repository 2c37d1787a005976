#!/usr/bin/env python3
# Writes the seed inputs of the fuzz corpora (tests/fuzz/corpus/<target>/): templates from the
# template test data and templates/, configurations from tests/data, hand-written alert bodies
# and matcher strings. Run once to (re)seed; scripts/fuzz.sh --campaign grows and minimises them.
import json, os, hashlib, glob, shutil
root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))
out = os.path.join(root, 'tests/fuzz/corpus')
def put(target, data):
    if isinstance(data, str): data = data.encode()
    if len(data) > 4096: return
    d = os.path.join(out, target); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, hashlib.sha1(data).hexdigest()), 'wb').write(data)
# tmpl
for f in ['tests/data/tmpl/funcs/texts.json', 'tests/data/tmpl/html/texts.json']:
    for t in json.load(open(os.path.join(root, f))): put('fuzz_tmpl', t)
for f in glob.glob(root + '/templates/*.tmpl'):
    txt = open(f, 'rb').read()
    # split into define blocks so each fits max_len
    parts = txt.split(b'{{ define')
    for p in parts[1:]: put('fuzz_tmpl', b'{{ define' + p)
    put('fuzz_tmpl', txt[:4096])
# config
for f in glob.glob(root + '/tests/data/config/*.yml') + glob.glob(root + '/tests/data/config/invalid/*.yml') + glob.glob(root + '/tests/data/notify/*.yml'):
    put('fuzz_config', open(f, 'rb').read())
# ingest
A = [
 '[]', '{}', 'null', '[{}]',
 '[{"labels":{"alertname":"a"}}]',
 '[{"labels":{"alertname":"HighCPU","instance":"web-1:9100","job":"node","severity":"critical"},"annotations":{"summary":"CPU > 90%","description":"caf\\u00e9 \\"q\\" \\\\ x"},"startsAt":"2026-11-27T09:21:50Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prometheus:9090/graph?g0.expr=up"}]',
 '[{"labels":{"alertname":"A","x":"1"},"startsAt":"2026-11-27T09:21:50.201460419+02:00","endsAt":"2026-11-27T10:21:50Z"},{"labels":{"alertname":"B"},"endsAt":"2020-01-01T00:00:00Z"}]',
 '[{"labels":{"alertname":"A"},"startsAt":"2026-13-40T99:99:99Z"}]',
 '[{"labels":{"":"x"}}]', '[{"labels":{"a b":"x","__name__":"y"}}]',
 '[{"labels":{"alertname":"\\ud800"}}]', '[{"labels":{"alertname":"a","alertname":"b"}}]',
 '[{"labels":{"alertname":1}}]', '[{"labels":[]}]', '[{"labels":{"alertname":"a"},"annotations":{"k":null}}]',
 '[{"labels":{"alertname":"a"},"generatorURL":"::not a url"}]',
 '[{"labels":{"alertname":"a"},"startsAt":"2026-11-27T09:21:50Z","endsAt":"2026-11-27T09:21:49Z"}]',
 '[{"labels":{"alertname":"a"},"startsAt":"1970-01-01T00:00:00Z"},{"labels":{"alertname":"a"},"startsAt":"9999-12-31T23:59:59.999999999Z"}]',
 '[{"labels":{"alertname":"a"},"extra":{"nested":[1,2,{"x":true}]}}]',
 '[' + ','.join('{"labels":{"alertname":"a%d"}}' % i for i in range(20)) + ']',
 '[{"labels":{' + ','.join('"l%d":"v"' % i for i in range(30)) + '}}]',
]
for a in A: put('fuzz_ingest', a)
for f in glob.glob(root + '/tests/data/notify/*.json'):
    try:
        d = json.load(open(f))
    except Exception: continue
    if isinstance(d, dict) and 'alerts' in d:
        al = [{k: v for k, v in x.items() if k in ('labels','annotations','startsAt','endsAt','generatorURL')} for x in d['alerts']]
        put('fuzz_ingest', json.dumps(al, ensure_ascii=False))
# matcher
M = ['a=1', '{b=2,c=~3}', 'd=4,e=~"("', 'alertname="monitor_service_down"', '{alertname="monitor_service_down", instance=~"cadvisor:.*"}',
 'instance!~"[a-z]+:80[0-9]{2}"', 'a!=b', '{}', '', '{a="b\\"c\\\\d\\n"}', 'foo=~"(?i)Ab|cd"', 'x=~"^.*$"', 'x=~"\\\\d+\\\\pL\\\\p{Greek}[[:alpha:]]"',
 'instance=~"([a-z]+-?)+-prod|.*-staging"', 'fn=~"(a+)+b|.*c"', 'a=~"x{2,5}?y*+"', 'a=~"(?P<n>a)(?:b)\\\\Q.*\\\\E"', 'a=~"\\\\x{263a}[^\\\\x00-\\\\x7f]"',
 'alertname=~"monitor_.*",instance!="x",job=~""', '{a="1",}', 'a="é日本"', 'a=~"a|b|c|d|e|f|g"', 'a=~"[\\\\w\\\\s\\\\S\\\\b]\\\\B\\\\A\\\\z"', 'a=~"(a)\\\\1"', 'a=~"(?=x)"']
for m in M: put('fuzz_matcher', m)
for t in sorted(os.listdir(out)): print(t, len(os.listdir(os.path.join(out, t))))
