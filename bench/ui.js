/* The web UI at scale in headless Chromium (bench/ui.py starts the server and reads this
 * script's output). Prints JSON lines:
 *   {"paint_first_ms", "paint_all_ms"}  page load until the first group is painted, and until
 *                                       every group is in the DOM
 *   {"filter_ms"}                       Enter in the filter bar until the narrowed list is
 *                                       painted (median of AR_FILTER_RUNS runs)
 *   {"hold": "start"|"end"}             around AR_HOLD_S seconds with the alerts page open
 *                                       and polling (the server's CPU is read by ui.py)
 * Environment: AR_URL (with the route prefix), AR_CHROMIUM, AR_EXPECT_GROUPS, AR_HOLD_S. */
'use strict';

const path = require('path');
const puppeteer = require(path.join(__dirname, '..', 'tests', 'browser', 'node_modules', 'puppeteer-core'));

const URL_ = process.env.AR_URL;
const GROUPS = parseInt(process.env.AR_EXPECT_GROUPS || '1000', 10);
const HOLD_S = parseFloat(process.env.AR_HOLD_S || '60');
const RUNS = parseInt(process.env.AR_FILTER_RUNS || '5', 10);

function out(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: process.env.AR_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-dev-shm-usage'],
    headless: true,
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 1400, height: 900});
    /* first paint: from navigation start (the page's own clock) to the frame after the
     * first groups went into the DOM (app.js marks ar-groups-painted); and until all groups
     * are in the DOM */
    await page.evaluateOnNewDocument(() => {
      window.__arPaint = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__arPaint.push({name: e.identifier || e.name, t: e.renderTime || e.startTime});
      }).observe({type: 'element', buffered: true});
    });
    await page.goto(URL_ + '/#/alerts', {waitUntil: 'domcontentloaded'});
    await page.waitForFunction((n) => document.querySelector('#groups[data-complete]') &&
      document.querySelectorAll('#groups .group').length === n, {timeout: 120000, polling: 100}, GROUPS);
    const marks = await page.evaluate(() => {
      const m = {};
      for (const e of performance.getEntriesByType('mark')) if (!(e.name in m)) m[e.name] = e.startTime;
      m.complete = performance.now(); /* an upper bound: when the wait noticed */
      const p = (window.__arPaint || []).find((e) => e.name === 'ar-first-group');
      m.element = p ? p.t : null;
      return m;
    });
    const counts = await page.$eval('#alerts-summary', (e) => e.textContent);
    out({paint_first_ms: Math.round(marks.element !== null ? marks.element : marks['ar-groups-painted']),
      paint_first_source: marks.element !== null ? 'element timing' : 'rAF mark',
      dom_first_ms: Math.round(marks['ar-groups-first']),
      received_ms: Math.round(marks['ar-groups-received']), request_ms: Math.round(marks['ar-groups-request']),
      summary: counts});

    /* filter: measured in the page, from the submit to the frame after the list changed */
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      const value = i % 2 === 0 ? '{alertname="Bench0042"}' : '{alertname=~"Bench004.*"}';
      const ms = await page.evaluate((v) => new Promise((resolve) => {
        /* the route re-renders the page: watch for the new summary differing from the old */
        const before = document.querySelector('#alerts-summary').textContent;
        const input = document.querySelector('#filter');
        input.value = v;
        const t = performance.now();
        const obs = new MutationObserver(() => {
          const s = document.querySelector('#alerts-summary');
          if (s && s.textContent !== '' && s.textContent !== before && document.querySelector('#groups[data-complete]')) {
            obs.disconnect();
            requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t)));
          }
        });
        obs.observe(document.querySelector('main'), {childList: true, subtree: true, characterData: true, attributes: true});
        input.form.requestSubmit();
      }), value);
      times.push(ms);
    }
    times.sort((a, b) => a - b);
    out({filter_ms: times[Math.floor(times.length / 2)], filter_runs_ms: times.map((x) => Math.round(x))});

    /* hold the unfiltered page open: it polls every 5 s */
    await page.goto(URL_ + '/#/alerts', {waitUntil: 'domcontentloaded'});
    await page.waitForFunction((n) => document.querySelectorAll('#groups .group').length === n,
      {timeout: 120000, polling: 50}, GROUPS);
    out({hold: 'start'});
    await new Promise((r) => setTimeout(r, HOLD_S * 1000));
    out({hold: 'end'});
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
