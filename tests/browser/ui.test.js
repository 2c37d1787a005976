/* The web UI in headless Chromium (puppeteer-core, test-only). Started by tests/browser/run.py,
 * which runs alertrouter under AR_PREFIX behind basic auth (AR_USER/AR_PASS) with the alerts
 * of run.py's ALERTS and a webhook sink at AR_SINK that answers 500 until GET /control/ok.
 * Each step prints "ok <name>"; the first failure prints "FAIL <name>: why" and exits 1.
 * With AR_SHOTS set, writes <AR_SHOTS>/ui-<page>.png. */
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const ORIGIN = process.env.AR_ORIGIN;
const PREFIX = process.env.AR_PREFIX || '';
const BASE = ORIGIN + PREFIX;
const USER = process.env.AR_USER;
const PASS = process.env.AR_PASS;
const SINK = process.env.AR_SINK;
const SHOTS = process.env.AR_SHOTS || '';
const WAIT = 30000; /* generous: CI machines are slow */
const AUTH = 'Basic ' + Buffer.from(USER + ':' + PASS).toString('base64');

let page;
const problems = []; /* page errors and CSP violations, checked at every step */

function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    check(problems.length === 0, 'page problems: ' + problems.join(' | '));
  } catch (e) {
    console.log('FAIL ' + name + ': ' + (e && e.stack || e));
    if (page) {
      try {
        const text = await page.evaluate(() => document.body.innerText);
        console.log('--- page text ---\n' + text.slice(0, 3000));
      } catch (e2) { /* page gone */ }
    }
    throw e;
  }
  console.log('ok   ' + name + ' (' + (Date.now() - t0) + ' ms)');
}

async function api(method, p, body) {
  const r = await fetch(BASE + p, {method, headers: {Authorization: AUTH, 'Content-Type': 'application/json'},
    body: body === undefined ? undefined : JSON.stringify(body)});
  const t = await r.text();
  check(r.ok, method + ' ' + p + ': ' + r.status + ' ' + t);
  return t ? JSON.parse(t) : null;
}

async function open(hash) {
  await page.goto(BASE + '/' + hash, {waitUntil: 'domcontentloaded'});
}

/* Waits until fn (run in the page) returns a truthy value. */
function until(fn, arg, what) {
  return page.waitForFunction(fn, {timeout: WAIT, polling: 100}, arg).catch((e) => {
    throw new Error('timed out waiting for ' + (what || fn.toString()) + ': ' + e.message);
  });
}

async function shot(name, width) {
  if (!SHOTS) return;
  await page.setViewport({width: width || 1400, height: 900});
  await new Promise((r) => setTimeout(r, 300));
  await page.screenshot({path: path.join(SHOTS, 'ui-' + name + '.png')});
  await page.setViewport({width: 1400, height: 900});
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.AR_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage'],
    headless: true,
  });
  let failed = false;
  try {
    page = await browser.newPage();
    await page.setViewport({width: 1400, height: 900});
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) problems.push('console: ' + m.text());
    });
    page.on('dialog', (d) => {
      problems.push('dialog opened: ' + d.message());
      d.dismiss();
    });

    await step('basic auth: the page and its assets need credentials', async () => {
      for (const p of ['/', '/ui/app.js']) {
        const r = await fetch(BASE + p);
        check(r.status === 401, p + ' without credentials: ' + r.status);
        const r2 = await fetch(BASE + p, {headers: {Authorization: AUTH}});
        check(r2.status === 200, p + ' with credentials: ' + r2.status);
      }
      await page.authenticate({username: USER, password: PASS});
    });

    await step('route prefix: the page loads its assets under it', async () => {
      const resp = await page.goto(BASE + '/#/alerts', {waitUntil: 'load'});
      check(resp.status() === 200, 'status ' + resp.status());
      const csp = resp.headers()['content-security-policy'] || '';
      check(/script-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), 'CSP ' + csp);
      const src = await page.evaluate(() => document.querySelector('script').src);
      check(src === BASE + '/ui/app.js', 'script src ' + src);
      const r = await fetch(ORIGIN + '/ui/app.js', {headers: {Authorization: AUTH}});
      check(r.status === 404, 'asset outside the prefix: ' + r.status);
    });

    await step('alerts appear grouped by receiver and group labels', async () => {
      await until(() => document.querySelector('#groups[data-complete]') &&
        document.querySelectorAll('#groups .group').length === 4, null, 'four groups');
      const groups = await page.$$eval('#groups .group', (gs) => gs.map((g) => ({
        receiver: g.dataset.receiver,
        labels: [...g.querySelectorAll('.group-head .chip')].map((c) => c.textContent),
        alerts: [...g.querySelectorAll('.alert')].map((a) => a.querySelector('.labels').textContent),
      })));
      const keys = groups.map((g) => g.receiver + ' ' + g.labels.join(',')).sort();
      check(JSON.stringify(keys) === JSON.stringify([
        'hook alertname="DiskFull"', 'team alertname="DiskFull"', 'team alertname="HighCPU"',
        'team alertname="Xss"']), 'groups ' + JSON.stringify(keys));
      const hook = groups.find((g) => g.receiver === 'hook');
      check(hook.alerts.length === 1 && hook.alerts[0].includes('instance="db1"'), 'hook group ' + JSON.stringify(hook));
      const summary = await page.$eval('#alerts-summary', (e) => e.textContent);
      check(summary === '4 alerts in 4 groups', 'summary ' + summary);
      const ann = await page.$$eval('.alert[data-fingerprint] dd a', (as) => as.map((a) => a.href));
      check(ann.includes('https://runbooks.example/disk'), 'runbook link missing: ' + ann);
      await shot('alerts');
      await shot('alerts-phone', 390);
    });

    await step('XSS payloads in labels and annotations render as text and are not clickable', async () => {
      const r = await page.evaluate(() => {
        const x = [...document.querySelectorAll('.alert')].find((a) => a.textContent.includes('alertname="Xss"'));
        const dd = {};
        for (const dt of x.querySelectorAll('dt')) dd[dt.textContent] = dt.nextElementSibling;
        return {
          pwned: window.__pwned,
          scripts: document.querySelectorAll('#main script, #main img, #main iframe').length,
          labelText: x.querySelector('.labels').textContent,
          summary: dd.summary.textContent,
          linkText: dd.link.textContent,
          linkAnchors: dd.link.querySelectorAll('a').length,
          runbook: dd.runbook.querySelector('a') && dd.runbook.querySelector('a').href,
          jsLinks: [...document.querySelectorAll('a')].filter((a) => !/^(https?:|#)/.test(a.getAttribute('href'))).map((a) => a.getAttribute('href')),
          source: [...x.querySelectorAll('.alert-head a')].map((a) => a.textContent),
        };
      });
      check(r.pwned === undefined, 'a payload ran: __pwned=' + r.pwned);
      check(r.scripts === 0, 'script/img/iframe elements in the page: ' + r.scripts);
      check(r.labelText.includes('payload="<script>window.__pwned=1</script>"'), 'label text ' + r.labelText);
      check(r.summary === '<img src=x onerror="window.__pwned=2">', 'summary text ' + r.summary);
      check(r.linkText === 'javascript:window.__pwned=3' && r.linkAnchors === 0, 'javascript: annotation is a link');
      check(r.runbook === 'https://runbooks.example/xss', 'http(s) annotation not a link: ' + r.runbook);
      check(r.jsLinks.length === 0, 'links that are not http(s) or in-page: ' + r.jsLinks);
      check(!r.source.includes('Source'), 'javascript: generator URL became a link');
    });

    await step('filter: matcher syntax narrows the groups; a bad filter shows the API error', async () => {
      await page.click('#filter', {clickCount: 3});
      await page.type('#filter', '{alertname="DiskFull", severity=~"crit.*"}');
      await page.keyboard.press('Enter');
      await until(() => document.querySelector('#alerts-summary').textContent === '1 alert in 1 group', null, 'one alert');
      const fp = await page.$eval('#groups .alert', (a) => a.querySelector('.labels').textContent);
      check(fp.includes('instance="db1"'), 'filtered alert ' + fp);
      check((await page.evaluate(() => location.hash)).includes('filter='), 'filter not in the URL');
      await page.click('#filter', {clickCount: 3});
      await page.type('#filter', 'alertname=~"("');
      await page.keyboard.press('Enter');
      await until(() => /error parsing regexp/.test((document.querySelector('#alerts-msg') || {}).textContent || ''), null, 'the API error text');
      await page.click('#filter', {clickCount: 3});
      await page.keyboard.press('Backspace');
      await page.keyboard.press('Enter');
      await until(() => document.querySelector('#alerts-summary').textContent === '4 alerts in 4 groups', null, 'all alerts back');
    });

    let silenceId;
    await step('silence from an alert: pre-filled form, preview, save, the alert turns silenced', async () => {
      const href = await page.evaluate(() => {
        const a = [...document.querySelectorAll('.alert')].find((x) => x.textContent.includes('alertname="HighCPU"'));
        return a.querySelector('.alert-head a.button').getAttribute('href');
      });
      check(href.startsWith('#/silences/new?'), 'silence link ' + href);
      await page.evaluate(() => {
        const a = [...document.querySelectorAll('.alert')].find((x) => x.textContent.includes('alertname="HighCPU"'));
        a.querySelector('.alert-head a.button').focus();
      });
      await page.keyboard.press('Enter'); /* keyboard use: the link is a real link */
      await until(() => document.querySelectorAll('#matcher-rows .matcher-row').length === 3, null, 'three matcher rows');
      const rows = await page.$$eval('#matcher-rows .matcher-row', (rs) => rs.map((r) =>
        r.querySelector('.m-name').value + r.querySelector('.m-op').value + r.querySelector('.m-value').value));
      check(JSON.stringify(rows) === JSON.stringify(['alertname=HighCPU', 'instance=web1', 'severity=warning']), 'rows ' + rows);
      await until(() => (document.querySelector('#preview-count') || {}).textContent === '1 alert matches', null, 'preview of one alert');
      /* widen the matchers: the preview follows before saving */
      await page.evaluate(() => {
        const rs = document.querySelectorAll('#matcher-rows .matcher-row');
        rs[2].querySelector('button').click();
        rs[1].querySelector('button').click();
        const first = document.querySelector('#matcher-rows .matcher-row');
        first.querySelector('.m-op').value = '=~';
        first.querySelector('.m-value').value = 'High.*|Disk.*';
      });
      await page.click('#preview-button');
      await until(() => (document.querySelector('#preview-count') || {}).textContent === '3 alerts match', null, 'preview of three alerts');
      await page.evaluate(() => {
        const first = document.querySelector('#matcher-rows .matcher-row');
        first.querySelector('.m-op').value = '=';
        first.querySelector('.m-value').value = 'HighCPU';
      });
      await page.click('#preview-button');
      await until(() => (document.querySelector('#preview-count') || {}).textContent === '1 alert matches', null, 'preview back to one');
      await page.type('#sil-createdby', 'browser-test');
      await page.type('#sil-comment', 'maintenance <b>window</b>');
      await shot('silence-new');
      await page.click('#save-silence');
      await until(() => location.hash.startsWith('#/silences?saved='), null, 'the saved silence');
      silenceId = decodeURIComponent((await page.evaluate(() => location.hash)).split('saved=')[1]);
      await until(() => document.querySelector('#silences-active .silence'), null, 'the active silence');
      const meta = await page.$eval('#silences-active .silence', (s) => s.textContent);
      check(meta.includes('browser-test') && meta.includes('maintenance <b>window</b>'), 'silence text ' + meta);
      await shot('silences');
      /* its edit page shows the audit trail: created under the basic-auth user */
      await open('#/silences/' + encodeURIComponent(silenceId) + '/edit');
      await until(() => document.querySelector('#audit tr[data-action="silence.create"]'), null, 'the audit trail');
      const audit = await page.$eval('#audit tr[data-action="silence.create"]', (r) => r.textContent);
      check(audit.includes(USER) && audit.includes('maintenance <b>window</b>'), 'audit row ' + audit);
      await open('#/alerts?silenced=1');
      await until(() => {
        const a = [...document.querySelectorAll('.alert')].find((x) => x.textContent.includes('alertname="HighCPU"'));
        return a && a.querySelector('.badge').textContent === 'suppressed' && a.querySelector('.why a');
      }, null, 'HighCPU suppressed');
      const by = await page.evaluate(() => [...document.querySelectorAll('.why a')].map((a) => a.textContent));
      check(by.includes(silenceId), 'silencedBy ' + by + ' lacks ' + silenceId);
      await open('#/alerts');
      await until(() => document.querySelector('#alerts-summary').textContent === '3 alerts in 3 groups', null, 'silenced alert hidden');
    });

    await step('the new-silence form opens empty', async () => {
      await open('#/silences/new');
      await until(() => document.querySelector('#matcher-rows .matcher-row'), null, 'the form');
      const r = await page.evaluate(() => ({rows: document.querySelectorAll('#matcher-rows .matcher-row').length,
        name: document.querySelector('.m-name').value, preview: document.querySelector('#preview').textContent,
        by: document.querySelector('#sil-createdby').value}));
      check(r.rows === 1 && r.name === '' && r.preview === '', 'new form ' + JSON.stringify(r));
      check(r.by === 'browser-test', 'the author is remembered: ' + r.by);
    });

    await step('expire the silence: it moves to expired and the alert is active again', async () => {
      await open('#/silences');
      await until(() => document.querySelector('#silences-active .silence .danger'), null, 'Expire button');
      await page.click('#silences-active .silence .danger');
      await until((id) => document.querySelector('#silences-expired .silence[data-id="' + id + '"]') &&
        !document.querySelector('#silences-active .silence'), silenceId, 'the silence expired');
      await open('#/alerts');
      await until(() => document.querySelector('#alerts-summary').textContent === '4 alerts in 4 groups', null, 'HighCPU active again');
    });

    await step('replay a dead letter once the receiver recovers', async () => {
      await open('#/deliveries');
      /* the page polls every 5 s: the dead letter appears after the 2 s deadline */
      await until(() => document.querySelector('#deliveries-dead tr[data-id] .replay'), null, 'a dead letter with Replay');
      const id = await page.$eval('#deliveries-dead tr[data-id]', (r) => r.dataset.id);
      await page.click('#deliveries-dead tr[data-id="' + id + '"] button[aria-expanded]');
      await until(() => /sink says no|500/.test((document.querySelector('#deliveries-dead tr.log:not([hidden])') || {}).textContent || ''), null, 'the attempt error');
      await shot('deliveries');
      const r = await fetch(SINK + '/control/ok');
      check(r.status === 200, 'sink control');
      await page.click('#deliveries-dead tr[data-id="' + id + '"] .replay');
      await until(() => /replayed/.test((document.querySelector('#deliveries-msg') || {}).textContent || ''), null, 'replay notice');
      await until((i) => document.querySelector('#deliveries-delivered tr[data-id="' + i + '"]'), id, 'the replayed delivery delivered');
      const one = await api('GET', '/api/x/deliveries/' + id);
      check(one.state === 'delivered', 'state ' + one.state);
      check(one.log.some((l) => l.outcome === 'replayed'), 'log ' + JSON.stringify(one.log));
    });

    await step('status: version, config, receivers, send a test notification', async () => {
      await open('#/status');
      await until(() => document.querySelector('#status-receivers li[data-receiver="hook"] button'), null, 'receivers');
      const text = await page.$eval('#status-body', (e) => e.textContent);
      check(/alertrouter/.test(text) && text.includes('webhook_configs'), 'status text');
      await page.click('#status-receivers li[data-receiver="hook"] button');
      await until(() => /sent/.test(document.querySelector('#status-receivers li[data-receiver="hook"] .test-result').textContent), null, 'test sent');
      await shot('status');
    });

    let cpuIncident;
    await step('incidents: the list by state and matchers; a title with a payload is text', async () => {
      await open('#/incidents');
      await until(() => document.querySelectorAll('#incident-list tr.incident').length >= 4, null, 'four incidents');
      const rows = await page.$$eval('#incident-list tr.incident', (rs) => rs.map((r) => ({id: r.dataset.id, text: r.textContent})));
      cpuIncident = rows.find((r) => r.text.includes('HighCPU')).id;
      const xss = rows.find((r) => r.text.includes('Xss'));
      check(xss && xss.text.includes('<script>window.__pwned=1</script>'), 'Xss incident title ' + JSON.stringify(xss));
      check(await page.evaluate(() => window.__pwned) === undefined, 'a payload ran');
      await shot('incidents');
      await page.type('#filter', 'alertname="DiskFull"');
      await page.keyboard.press('Enter');
      await until(() => [...document.querySelectorAll('#incident-list tr.incident')].length === 2 &&
        [...document.querySelectorAll('#incident-list tr.incident')].every((r) => r.textContent.includes('DiskFull')), null, 'the two DiskFull incidents');
      await page.select('#incident-state', 'resolved');
      await until(() => document.querySelector('#incident-list .empty'), null, 'no resolved DiskFull incident');
      check((await page.evaluate(() => location.hash)).includes('state=resolved'), 'state not in the URL');
    });

    await step('incident: acknowledge with a comment; a second acknowledgement shows the 409', async () => {
      await open('#/incidents/' + cpuIncident);
      await until(() => document.querySelector('#incident-timeline tr[data-kind="opened"]'), null, 'the timeline');
      await page.click('#ack-by', {clickCount: 3});
      await page.type('#ack-by', 'alice');
      await page.type('#ack-comment', 'on it <b>now</b>');
      await page.click('#ack-button');
      await until(() => document.querySelector('#incident-state').textContent === 'acknowledged', null, 'acknowledged');
      const acked = await page.$eval('#incident-acked', (e) => e.textContent);
      check(acked.includes('by alice: on it <b>now</b>'), 'acknowledged ' + acked);
      await until(() => document.querySelector('#incident-timeline tr[data-kind="acknowledged"]'), null, 'the ack in the timeline');
      await page.click('#ack-button');
      await until(() => /already acknowledged by alice/.test(document.querySelector('#ack-msg').textContent), null, 'the 409 text');
    });

    const payload = '<img src=x onerror="window.__pwned=5">';
    await step('notes: add by section, edit as a new version; payloads are text', async () => {
      await page.select('#note-section', 'mitigation');
      await page.type('#note-text', 'restarted web1 ' + payload);
      await page.click('#note-save');
      await until(() => /restarted web1/.test((document.querySelector('[data-section="mitigation"] .note-latest') || {}).textContent || ''), null, 'the note');
      const t = await page.$eval('[data-section="mitigation"] .note-latest .note-text', (e) => e.textContent);
      check(t === 'restarted web1 ' + payload, 'note text ' + t);
      await page.click('[data-section="mitigation"] .note-edit');
      check(await page.$eval('#note-text', (e) => e.value) === t, 'the edit form holds the text');
      await page.type('#note-text', ' (and scaled out)');
      await page.click('#note-save');
      await until(() => /scaled out/.test((document.querySelector('[data-section="mitigation"] .note-latest') || {}).textContent || '') &&
        document.querySelectorAll('[data-section="mitigation"] .note-latest').length === 1, null, 'the new version');
      const r = await page.evaluate(() => ({
        versions: document.querySelector('[data-section="mitigation"] .versions summary').textContent,
        old: document.querySelector('[data-section="mitigation"] .note-old .note-text').textContent,
        imgs: document.querySelectorAll('#main img').length, pwned: window.__pwned,
        empty: document.querySelector('[data-section="conclusions"]').textContent}));
      check(r.versions === '1 earlier version' && r.old.endsWith(payload), 'versions ' + JSON.stringify(r));
      check(r.imgs === 0 && r.pwned === undefined, 'a payload became markup: ' + JSON.stringify(r));
      check(r.empty.includes('Conclusions (0)'), 'empty section ' + r.empty);
      await page.evaluate(() => window.scrollTo(0, 0));
      await shot('incident');
    });

    await step('incident page: a note added elsewhere appears without a reload', async () => {
      await api('POST', '/api/x/incidents/' + cpuIncident + '/notes', {section: 'conclusions', author: 'bob', text: 'capacity was short'});
      await until(() => /capacity was short/.test(document.querySelector('[data-section="conclusions"]').textContent) &&
        document.querySelector('#incident-timeline').textContent.includes('author: bob'), null, 'the note from the API');
    });

    await step('report: HTML in a sandboxed frame, markdown as text, downloads as files', async () => {
      await page.select('#report-format', 'html');
      await page.click('#report-view-button');
      await until(() => document.querySelector('#report-frame'), null, 'the report frame');
      const f = await page.$eval('#report-frame', (e) => ({sandbox: e.getAttribute('sandbox'), doc: e.srcdoc}));
      check(f.sandbox === '', 'sandbox attribute ' + JSON.stringify(f.sandbox));
      check(f.doc.includes('scaled out') && f.doc.includes('&lt;img'), 'report html ' + f.doc.slice(0, 500));
      /* the frame shows the report (DevTools may read a sandboxed frame; the page may not) */
      let shown = '';
      for (let i = 0; i < 50 && !shown.includes('scaled out'); i++) {
        const fr = page.frames().find((x) => x !== page.mainFrame());
        shown = fr ? await fr.evaluate(() => document.body ? document.body.innerText : '').catch(() => '') : '';
        if (!shown.includes('scaled out')) await new Promise((r) => setTimeout(r, 100));
      }
      check(/Incident report #/.test(shown) && shown.includes('restarted web1 ' + payload), 'the frame shows ' + shown.slice(0, 300));
      check(await page.evaluate(() => window.__pwned) === undefined, 'a payload ran');
      await page.select('#report-format', 'markdown');
      await page.click('#report-view-button');
      await until(() => /^# Incident report #/.test((document.querySelector('#report-text') || {}).textContent || ''), null, 'the markdown');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ar-dl-'));
      try {
        const cdp = await page.createCDPSession();
        await cdp.send('Browser.setDownloadBehavior', {behavior: 'allow', downloadPath: dir});
        for (const [format, ext] of [['markdown', 'md'], ['json', 'json']]) {
          await page.select('#report-format', format);
          await page.click('#report-download');
          const file = path.join(dir, 'incident-' + cpuIncident + '.' + ext);
          const t0 = Date.now();
          while (!fs.existsSync(file) && Date.now() - t0 < WAIT) await new Promise((r) => setTimeout(r, 100));
          check(fs.existsSync(file), 'no download ' + file + ': ' + fs.readdirSync(dir));
          const got = fs.readFileSync(file, 'utf8');
          const want = await (await fetch(BASE + '/api/x/incidents/' + cpuIncident + '/report?format=' + format,
            {headers: {Authorization: AUTH}})).text();
          check(got === want, format + ' download differs from the API: ' + got.slice(0, 200));
          check(got.includes('scaled out'), format + ' download lacks the note');
        }
        const j = JSON.parse(fs.readFileSync(path.join(dir, 'incident-' + cpuIncident + '.json'), 'utf8'));
        check(String(j.id) === String(cpuIncident), 'json report id ' + j.id);
      } finally {
        fs.rmSync(dir, {recursive: true, force: true});
      }
    });

    await step('alerts: a group links to its open incident', async () => {
      await open('#/alerts');
      await until((id) => {
        const g = [...document.querySelectorAll('#groups .group')].find((x) => x.textContent.includes('alertname="HighCPU"'));
        const a = g && g.querySelector('.incident-link');
        return a && a.getAttribute('href') === '#/incidents/' + id;
      }, cpuIncident, 'the HighCPU group linked to its incident');
      const n = await page.$$eval('#groups .group .incident-link', (as) => as.length);
      check(n === 4, 'groups with an incident link: ' + n);
    });

    await step('history: a plot of firing alerts and the events, linked to incidents', async () => {
      const now = Date.now();
      await api('POST', '/api/v2/alerts', [{labels: {alertname: 'Flappy', severity: 'info'},
        startsAt: new Date(now - 60000).toISOString()}]);
      await api('POST', '/api/v2/alerts', [{labels: {alertname: 'Flappy', severity: 'info'},
        startsAt: new Date(now - 60000).toISOString(), endsAt: new Date(now - 1000).toISOString()}]);
      const lib = (await fetch(BASE + '/ui/dygraph.min.js', {headers: {Authorization: AUTH}})).status === 200;
      await open('#/history?window=1h&by=alertname');
      await until(() => document.querySelector('#history-events tr[data-event="resolved"]') &&
        /Flappy/.test(document.querySelector('#history-events tr[data-event="resolved"]').textContent), null, 'the resolved Flappy event');
      const legend = await page.$$eval('#history-legend li', (ls) => ls.map((l) => l.dataset.key));
      check(JSON.stringify(legend) === JSON.stringify(['DiskFull', 'Flappy', 'HighCPU', 'Xss']), 'legend ' + legend);
      if (lib) {
        await until(() => document.querySelector('#history-plot[data-drawn="4"] canvas'), null, 'the plot');
      } else {
        await until(() => document.querySelector('#history-noplot'), null, 'the no-plot message');
      }
      const link = await page.evaluate(() => {
        const r = [...document.querySelectorAll('#history-events tr')].find((x) => x.textContent.includes('alertname="HighCPU"'));
        const a = r && r.querySelector('a.incident-link');
        return a && a.getAttribute('href');
      });
      check(link === '#/incidents/' + cpuIncident, 'HighCPU event incident link ' + link);
      /* DiskFull is grouped alike for "hook" and "team": each event links to an incident of
       * one of its own receivers, never the other's */
      const wrong = await page.evaluate(async () => {
        const url = new URL('api/x/incidents?limit=1000', location.href.split('#')[0]);
        const list = await (await fetch(url, {credentials: 'same-origin'})).json();
        const receiverOf = new Map(list.map((i) => [String(i.id), i.receiver]));
        return [...document.querySelectorAll('#history-events tr')].filter((r) => r.querySelector('a.incident-link')).map((r) => {
          const id = r.querySelector('a.incident-link').getAttribute('href').split('/').pop();
          const receivers = r.children[3].textContent.split(', ');
          return receivers.includes(receiverOf.get(id)) ? null : r.textContent + ' -> ' + receiverOf.get(id);
        }).filter(Boolean);
      });
      check(wrong.length === 0, 'history events link to their own receiver\'s incident: ' + JSON.stringify(wrong));
      await shot('history');
      await page.select('#history-by', 'severity');
      await until(() => [...document.querySelectorAll('#history-legend li')].map((l) => l.dataset.key).join() === 'critical,info,warning', null, 'the legend per severity');
      await page.click('#history-events a.incident-link');
      await until(() => document.querySelector('#incident-title'), null, 'the incident page');
    });

    await step('the page polls while visible', async () => {
      await open('#/alerts');
      await until(() => document.querySelector('#alerts-summary').textContent === '4 alerts in 4 groups', null, 'four alerts');
      await api('POST', '/api/v2/alerts', [{labels: {alertname: 'LateComer', severity: 'info'}}]);
      await until(() => document.querySelector('#alerts-summary').textContent === '5 alerts in 5 groups', null, 'the new alert without reload');
    });

    await step('keyboard: "/" focuses the filter, Tab reaches the links with a visible focus', async () => {
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      await page.keyboard.press('/');
      check(await page.evaluate(() => document.activeElement.id) === 'filter', '"/" did not focus the filter');
      await page.evaluate(() => document.querySelector('.brand').focus());
      const seen = [];
      for (let i = 0; i < 4; i++) {
        await page.keyboard.press('Tab');
        seen.push(await page.evaluate(() => {
          const a = document.activeElement;
          return {text: a.textContent, tag: a.tagName, outline: getComputedStyle(a).outlineStyle};
        }));
      }
      check(seen.some((x) => x.tag === 'A' && x.text === 'Silences'), 'Tab order ' + JSON.stringify(seen));
      check(seen.every((x) => x.outline !== 'none'), 'a focused element without outline: ' + JSON.stringify(seen));
    });
  } catch (e) {
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.log('FAIL: ' + (e && e.stack || e));
  process.exit(1);
});
