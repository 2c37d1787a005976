/* alertrouter web UI (web/app.js): a hash-routed single page over the HTTP API.
 *
 * Rules this file keeps (README "Web UI"):
 * - Data from the server is only ever put in the page as text (textContent, createTextNode);
 *   innerHTML is never used. A value becomes a link only when it parses as an http(s) URL.
 * - Everything is fetched from this server, under the route prefix the page was served with.
 * - A page is a PAGES entry: { id, title, render(main, query), refresh() }. render builds the
 *   page (controls and an empty results area); refresh, when present, reloads the results and
 *   is called every POLL_MS while the tab is visible. The navigation is built from the list.
 * - Reports (HTML written by templates) are shown only in a sandboxed iframe (no scripts).
 */
'use strict';

(function () {
  const POLL_MS = 5000;
  const CHUNK = 20; /* groups painted at once on the alerts page; the rest follow in slices */

  /* ".../<prefix>/ui/app.js" -> "<prefix>" ("" at the root) */
  const BASE = new URL('..', document.currentScript.src).pathname.replace(/\/$/, '');

  /* ---------------------------------------------------------------- helpers */

  /* el('div', {class: 'x', onclick: fn}, 'text', child, ...): children that are strings
   * become text nodes; null/false children are skipped. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'checked' || k === 'value' || k === 'disabled') e[k] = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    append(e, children);
    return e;
  }

  function append(parent, children) {
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      if (Array.isArray(c)) append(parent, c);
      else parent.appendChild(typeof c === 'string' || typeof c === 'number'
        ? document.createTextNode(String(c)) : c);
    }
  }

  /* An http(s) URL as an absolute string, else null (javascript:, data:, relative...). */
  function httpUrl(v) {
    if (typeof v !== 'string' || !/^https?:\/\//i.test(v.trim())) return null;
    try {
      const u = new URL(v.trim());
      return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  /* The value as a link when it is an http(s) URL, else as text. */
  function linkOrText(v, text) {
    const href = httpUrl(v);
    if (href === null) return el('span', {class: 'text'}, text || v);
    return el('a', {href: href, target: '_blank', rel: 'noopener noreferrer'}, text || v);
  }

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  function fmtTime(s) {
    const d = new Date(s);
    if (isNaN(d)) return s || '';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function fmtDuration(ms) {
    let s = Math.round(Math.abs(ms) / 1000);
    const parts = [];
    for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]]) {
      if (s >= n) {
        parts.push(Math.floor(s / n) + unit);
        s %= n;
      }
    }
    if (parts.length < 2 && (s > 0 || parts.length === 0)) parts.push(s + 's');
    return parts.slice(0, 2).join(' ');
  }

  function ago(s) {
    const ms = Date.now() - new Date(s).getTime();
    return ms >= 0 ? fmtDuration(ms) + ' ago' : 'in ' + fmtDuration(ms);
  }

  /* "1h30m", "2d", "45m" -> milliseconds, or NaN */
  function parseDuration(s) {
    const re = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/g;
    const units = {ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8};
    let total = 0;
    let used = 0;
    let m;
    s = String(s).trim();
    while ((m = re.exec(s)) !== null) {
      total += parseFloat(m[1]) * units[m[2]];
      used += m[0].length;
    }
    return used === s.length && used > 0 ? total : NaN;
  }

  /* Alertmanager's matcher text for one matcher object of the API. */
  function quote(v) {
    return '"' + String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') + '"';
  }

  function matcherOp(m) {
    if (m.isRegex) return m.isEqual === false ? '!~' : '=~';
    return m.isEqual === false ? '!=' : '=';
  }

  function matcherText(m) {
    return m.name + matcherOp(m) + quote(m.value);
  }

  /* Splits a filter bar text ("{a=\"x\", b=~\"y\"}" or "a=x, b!=y") into one matcher text
   * each, for the API's repeated filter parameter, which checks the syntax. */
  function splitMatchers(text) {
    let t = text.trim();
    if (t.startsWith('{') && t.endsWith('}')) t = t.slice(1, -1);
    const out = [];
    let cur = '';
    let inq = false;
    for (let i = 0; i < t.length; i++) {
      const c = t[i];
      if (inq && c === '\\' && i + 1 < t.length) {
        cur += c + t[++i];
        continue;
      }
      if (c === '"') inq = !inq;
      if (c === ',' && !inq) {
        if (cur.trim()) out.push(cur.trim());
        cur = '';
        continue;
      }
      cur += c;
    }
    if (cur.trim()) out.push(cur.trim());
    return out;
  }

  /* The API's error as a sentence: a JSON string, or {code, message}, or the raw text. */
  async function errorText(r) {
    const t = await r.text();
    try {
      const j = JSON.parse(t);
      if (typeof j === 'string') return j;
      if (j && typeof j.message === 'string') return j.message;
    } catch (e) { /* not JSON */ }
    return (t.trim() || r.statusText) + ' (HTTP ' + r.status + ')';
  }

  class ApiError extends Error {}

  /* fetch under the prefix; JSON in and out; throws ApiError with the server's text. */
  async function api(method, path, body) {
    const opt = {method: method, credentials: 'same-origin', cache: 'no-cache', headers: {}};
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    let r;
    try {
      r = await fetch(BASE + path, opt);
    } catch (e) {
      throw new ApiError('cannot reach the server: ' + e.message);
    }
    if (!r.ok) throw new ApiError(await errorText(r));
    const t = await r.text();
    return t === '' ? null : JSON.parse(t);
  }

  /* GET returning the raw text too, so an unchanged answer can skip repainting. */
  async function apiText(path) {
    let r;
    try {
      r = await fetch(BASE + path, {credentials: 'same-origin', cache: 'no-cache'});
    } catch (e) {
      throw new ApiError('cannot reach the server: ' + e.message);
    }
    if (!r.ok) throw new ApiError(await errorText(r));
    return r.text();
  }

  /* GET of a JSON array, calling onItem with each element as soon as its bytes arrived;
   * returns the whole text. A small scanner finds the elements' ends (strings and nesting);
   * JSON.parse checks each element. */
  async function streamArray(path, onItem) {
    let r;
    try {
      r = await fetch(BASE + path, {credentials: 'same-origin', cache: 'no-cache'});
    } catch (e) {
      throw new ApiError('cannot reach the server: ' + e.message);
    }
    if (!r.ok) throw new ApiError(await errorText(r));
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    const parts = [];
    let pending = '';
    let start = -1;
    let depth = 0;
    let inStr = false;
    let esc = false;
    for (;;) {
      const {done, value} = await reader.read();
      if (done) break;
      const chunk = dec.decode(value, {stream: true});
      parts.push(chunk);
      start = depth >= 2 ? 0 : -1;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (inStr) {
          if (esc) esc = false;
          else if (c === 92) esc = true; /* \ */
          else if (c === 34) inStr = false;
        } else if (c === 34) {
          inStr = true;
        } else if (c === 123 || c === 91) { /* { [ */
          if (++depth === 2) start = i;
        } else if ((c === 125 || c === 93) && --depth === 1) { /* } ] */
          onItem(JSON.parse(pending + chunk.slice(start, i + 1)));
          pending = '';
          start = -1;
        }
      }
      if (depth >= 2) pending += chunk.slice(start);
    }
    parts.push(dec.decode());
    return parts.join('');
  }

  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of params) u.append(k, v);
    const s = u.toString();
    return s ? '?' + s : '';
  }

  function notice(box, kind, text) {
    box.replaceChildren();
    if (text) box.appendChild(el('p', {class: 'notice ' + kind, role: kind === 'error' ? 'alert' : 'status'}, text));
  }

  function labelChip(name, value, onPick) {
    const text = name + '=' + quote(value);
    if (!onPick) return el('span', {class: 'chip'}, text);
    return el('button', {type: 'button', class: 'chip', title: 'Filter by ' + text,
      onclick: () => onPick(name, value)}, text);
  }

  function setLive(text, bad) {
    const live = document.getElementById('live');
    live.textContent = text;
    live.classList.toggle('bad', !!bad);
  }

  /* ---------------------------------------------------------------- alerts */

  const alertsPage = {
    id: 'alerts',
    title: 'Alerts',
    state: null,

    render(main, query) {
      const filterText = query.get('filter') || '';
      const silenced = query.get('silenced') === '1';
      const inhibited = query.get('inhibited') === '1';
      const input = el('input', {id: 'filter', type: 'search', value: filterText,
        placeholder: '{alertname="Disk", severity=~"crit.*"}', autocomplete: 'off',
        spellcheck: 'false'});
      const cbS = el('input', {id: 'show-silenced', type: 'checkbox', checked: silenced});
      const cbI = el('input', {id: 'show-inhibited', type: 'checkbox', checked: inhibited});
      const apply = () => {
        const p = [];
        if (input.value.trim()) p.push(['filter', input.value.trim()]);
        if (cbS.checked) p.push(['silenced', '1']);
        if (cbI.checked) p.push(['inhibited', '1']);
        go('#/alerts' + qs(p));
      };
      const form = el('form', {class: 'filterbar', role: 'search', onsubmit: (e) => {
        e.preventDefault();
        apply();
      }},
      el('label', {for: 'filter'}, 'Filter'), input,
      el('button', {type: 'submit'}, 'Apply'),
      el('span', {class: 'checks'},
        el('label', {}, cbS, ' Show silenced'),
        el('label', {}, cbI, ' Show inhibited')));
      cbS.addEventListener('change', apply);
      cbI.addEventListener('change', apply);
      const msg = el('div', {id: 'alerts-msg'});
      const summary = el('p', {id: 'alerts-summary', class: 'summary'});
      const list = el('div', {id: 'groups'});
      append(main, [el('h1', {}, 'Alerts'), form, msg, summary, list]);
      this.state = {filterText, silenced, inhibited, input, cbS, cbI, msg, summary, list,
        lastText: null, gen: 0, expanded: new Set(), paintToken: 0, addFilter: (name, value) => {
          const parts = splitMatchers(input.value);
          parts.push(name + '=' + quote(value));
          input.value = '{' + parts.join(', ') + '}';
          apply();
        }};
    },

    /* Another filter on the same page: keep the page, reload the list (no teardown). */
    update(query, sub) {
      const st = this.state;
      if (sub.length > 0 || st === null) return false;
      st.filterText = query.get('filter') || '';
      st.silenced = query.get('silenced') === '1';
      st.inhibited = query.get('inhibited') === '1';
      st.input.value = st.filterText;
      st.cbS.checked = st.silenced;
      st.cbI.checked = st.inhibited;
      st.gen++;
      st.lastText = null;
      return true;
    },

    async refresh() {
      const st = this.state;
      const gen = st.gen;
      const p = [['silenced', String(st.silenced)], ['inhibited', String(st.inhibited)]];
      for (const m of splitMatchers(st.filterText)) p.push(['filter', m]);
      const url = '/api/v2/alerts/groups' + qs(p);
      const stale = () => this.state !== st || st.gen !== gen;
      /* a first load or a new filter paints the groups as they arrive; a poll compares the
       * whole answer with the last one and repaints only when it changed */
      const fresh = st.lastText === null;
      const painter = fresh ? this.painter() : null;
      /* incident links: with a new filter or page, then every 30 s (titles cost the server a
       * template each) */
      const incidents = fresh || Date.now() - (st.incidentsAt || 0) >= 30000 ? this.openIncidents() : null;
      let text;
      performance.mark('ar-groups-request');
      try {
        text = fresh ? await streamArray(url, (g) => stale() || painter.add(g)) : await apiText(url);
      } catch (e) {
        if (stale()) return;
        notice(st.msg, 'error', e.message);
        st.summary.textContent = '';
        st.list.replaceChildren();
        st.lastText = null;
        throw e;
      }
      await incidents;
      if (stale() || text === st.lastText) return;
      performance.mark('ar-groups-received');
      st.lastText = text;
      notice(st.msg, '', '');
      if (fresh) {
        painter.end();
        return;
      }
      const pt = this.painter();
      for (const g of JSON.parse(text)) pt.add(g);
      pt.end();
    },

    /* The open and acknowledged incidents by receiver and group labels (st.incidents), and
     * the links of the groups already painted updated. A failure leaves the links out. */
    async openIncidents() {
      const st = this.state;
      st.incidentsAt = Date.now();
      let rows;
      try {
        const [o, a] = await Promise.all([api('GET', '/api/x/incidents?state=open&limit=10000'),
          api('GET', '/api/x/incidents?state=acknowledged&limit=10000')]);
        rows = o.concat(a);
      } catch (e) {
        return;
      }
      const map = new Map(rows.map((i) => [i.receiver + '\0' + groupKeyText({labels: i.groupLabels || {}}), i]));
      const same = st.incidents && st.incidents.size === map.size &&
        [...map].every(([k, i]) => st.incidents.has(k) && st.incidents.get(k).id === i.id && st.incidents.get(k).state === i.state);
      st.incidents = map;
      if (same) return;
      for (const sec of st.list.querySelectorAll('section.group')) {
        const old = sec.querySelector('.group-head .incident-link');
        const now = this.incidentLink(sec.dataset.key);
        if (old) old.remove();
        if (now) sec.querySelector('.group-head .count').before(now);
      }
    },

    incidentLink(key) {
      const i = this.state.incidents && this.state.incidents.get(key);
      if (!i) return null;
      return el('a', {class: 'incident-link button small', href: '#/incidents/' + i.id,
        title: 'Incident #' + i.id + ' (' + i.state + ')'}, 'Incident #' + i.id + (i.state === 'acknowledged' ? ' (acked)' : ''));
    },

    /* Paints groups as they are added, in the server's order (group labels, then receiver:
     * COMPAT 1.5): the first CHUNK at once, the rest in slices of ~10 ms between which the
     * browser paints and handles input, so a page with thousands of groups is usable at
     * once (off-screen groups also skip layout: content-visibility in app.css). */
    painter() {
      const st = this.state;
      const token = ++st.paintToken;
      const groups = [];
      let shown = 0;
      let first = true;
      let ended = false;
      let scheduled = false;
      const live = () => token === st.paintToken && this.state === st;
      const finish = () => {
        const n = groups.reduce((k, g) => k + g.alerts.length, 0);
        st.summary.textContent = n + (n === 1 ? ' alert' : ' alerts') + ' in ' +
          groups.length + (groups.length === 1 ? ' group' : ' groups');
        if (groups.length === 0) st.list.replaceChildren(el('p', {class: 'empty'}, 'No alerts.'));
        st.list.setAttribute('data-complete', '1');
      };
      const flush = () => {
        scheduled = false;
        if (!live()) return;
        const part = document.createDocumentFragment();
        const t = performance.now();
        while (shown < groups.length && (first || performance.now() - t < 10)) {
          part.appendChild(this.group(groups[shown++]));
        }
        if (first) {
          first = false;
          /* Element Timing: when the first group's heading is painted (bench/ui.js) */
          const head = part.querySelector('.receiver');
          if (head) head.setAttribute('elementtiming', 'ar-first-group');
          st.list.replaceChildren(part);
          performance.mark('ar-groups-first');
          requestAnimationFrame(() => setTimeout(() => performance.mark('ar-groups-painted'), 0));
        } else {
          st.list.appendChild(part);
        }
        if (shown < groups.length) schedule();
        else if (ended) finish();
      };
      const schedule = () => {
        if (!scheduled) {
          scheduled = true;
          setTimeout(flush, 0);
        }
      };
      st.list.removeAttribute('data-complete');
      return {
        add(g) {
          g.key = g.receiver.name + '\0' + groupKeyText(g);
          groups.push(g);
          if (first && groups.length === CHUNK) flush();
          else if (!first) schedule();
        },
        end() {
          ended = true;
          if (!live()) return;
          if (first) flush();
          else if (!scheduled && shown === groups.length) finish();
        },
      };
    },

    group(g) {
      const st = this.state;
      const key = g.key;
      const open = st.expanded.has(key) || g.alerts.length <= 5;
      const body = el('div', {class: 'alerts'});
      const shown = open ? g.alerts : g.alerts.slice(0, 5);
      for (const a of shown) body.appendChild(this.alert(a));
      if (!open) {
        body.appendChild(el('button', {type: 'button', class: 'more', onclick: (e) => {
          st.expanded.add(key);
          e.target.replaceWith(...g.alerts.slice(5).map((a) => this.alert(a)));
        }}, 'Show ' + (g.alerts.length - 5) + ' more'));
      }
      const labels = Object.keys(g.labels).sort().map((k) => labelChip(k, g.labels[k], st.addFilter));
      return el('section', {class: 'group', 'data-receiver': g.receiver.name, 'data-key': key},
        el('h2', {class: 'group-head'},
          el('span', {class: 'receiver'}, g.receiver.name),
          labels.length ? labels : el('span', {class: 'muted'}, '(all alerts)'),
          this.incidentLink(key),
          el('span', {class: 'count'}, String(g.alerts.length))),
        body);
    },

    alert(a) {
      const st = this.state;
      const state = a.status.state;
      const names = Object.keys(a.labels).sort();
      const annos = Object.keys(a.annotations || {}).sort();
      const silenceMatchers = names.map((k) => ({name: k, value: a.labels[k], isRegex: false, isEqual: true}));
      return el('article', {class: 'alert state-' + state, 'data-fingerprint': a.fingerprint},
        el('div', {class: 'alert-head'},
          el('span', {class: 'badge ' + state}, state),
          el('time', {datetime: a.startsAt, title: a.startsAt}, fmtTime(a.startsAt) + ' (' + ago(a.startsAt) + ')'),
          a.generatorURL ? linkOrText(a.generatorURL, 'Source') : null,
          el('a', {class: 'button small', href: '#/silences/new' + qs([['matchers', JSON.stringify(silenceMatchers)]])}, 'Silence')),
        el('div', {class: 'labels'}, names.map((k) => labelChip(k, a.labels[k], st.addFilter))),
        annos.length ? el('dl', {class: 'annotations'}, annos.map((k) => [
          el('dt', {}, k), el('dd', {}, linkOrText(a.annotations[k]))])) : null,
        a.status.silencedBy.length ? el('p', {class: 'why'}, 'Silenced by ',
          a.status.silencedBy.map((id) => el('a', {href: '#/silences/' + encodeURIComponent(id) + '/edit', class: 'mono'}, id))) : null,
        a.status.inhibitedBy.length ? el('p', {class: 'why'}, 'Inhibited by ',
          a.status.inhibitedBy.map((fp) => el('span', {class: 'mono'}, fp))) : null);
    },
  };

  function groupKeyText(g) {
    return Object.keys(g.labels).sort().map((k) => k + '=' + g.labels[k]).join(',');
  }

  /* ---------------------------------------------------------------- silences */

  const silencesPage = {
    id: 'silences',
    title: 'Silences',
    state: null,

    render(main, query, sub) {
      if (sub.length > 0) {
        this.state = null;
        silenceForm(main, sub[0] === 'new' ? null : sub[0], query);
        return;
      }
      const msg = el('div', {id: 'silences-msg'});
      const lists = el('div', {id: 'silence-lists'});
      append(main, [el('div', {class: 'title-row'}, el('h1', {}, 'Silences'),
        el('a', {class: 'button', href: '#/silences/new'}, 'New silence')), msg, lists]);
      if (query.get('saved')) notice(msg, 'ok', 'Silence ' + query.get('saved') + ' saved.');
      this.state = {msg, lists, lastText: null};
    },

    async refresh() {
      const st = this.state;
      if (st === null) return;
      const text = await apiText('/api/v2/silences');
      if (this.state !== st || text === st.lastText) return;
      st.lastText = text;
      const all = JSON.parse(text);
      const by = {active: [], pending: [], expired: []};
      for (const s of all) (by[s.status.state] || by.expired).push(s);
      by.active.sort((a, b) => a.endsAt.localeCompare(b.endsAt));
      by.pending.sort((a, b) => a.startsAt.localeCompare(b.startsAt));
      by.expired.sort((a, b) => b.endsAt.localeCompare(a.endsAt));
      st.lists.replaceChildren(...['active', 'pending', 'expired'].map((k) =>
        el('section', {class: 'silences', id: 'silences-' + k},
          el('h2', {}, k[0].toUpperCase() + k.slice(1) + ' (' + by[k].length + ')'),
          by[k].length ? by[k].map((s) => this.silence(s)) : el('p', {class: 'empty'}, 'None.'))));
    },

    silence(s) {
      const st = this.state;
      const expire = async (e) => {
        e.target.disabled = true;
        try {
          await api('DELETE', '/api/v2/silence/' + encodeURIComponent(s.id));
          notice(st.msg, 'ok', 'Silence ' + s.id + ' expired.');
          await this.refresh();
        } catch (err) {
          notice(st.msg, 'error', err.message);
          e.target.disabled = false;
        }
      };
      const state = s.status.state;
      return el('article', {class: 'silence', 'data-id': s.id},
        el('div', {class: 'matchers'}, s.matchers.map((m) => el('span', {class: 'chip'}, matcherText(m)))),
        el('p', {class: 'meta'},
          el('span', {class: 'badge ' + state}, state), ' ',
          fmtTime(s.startsAt) + ' → ' + fmtTime(s.endsAt),
          state === 'active' ? ' (ends ' + ago(s.endsAt) + ')' : ''),
        el('p', {class: 'meta'}, 'Created by ', el('strong', {}, s.createdBy), ': ', el('span', {class: 'comment'}, s.comment)),
        el('p', {class: 'meta mono'}, s.id),
        el('div', {class: 'actions'},
          el('a', {class: 'button small', href: '#/silences/' + encodeURIComponent(s.id) + '/edit'},
            state === 'expired' ? 'Recreate' : 'Edit'),
          state !== 'expired' ? el('button', {type: 'button', class: 'small danger', onclick: expire}, 'Expire') : null));
    },
  };

  /* The create/edit form: matcher rows, times, author, comment, a preview of the alerts the
   * matchers select (GET /api/v2/alerts with them as filters), and save. */
  async function silenceForm(main, id, query) {
    const msg = el('div', {id: 'silence-msg'});
    const rows = el('div', {id: 'matcher-rows'});
    const now = new Date();
    const start = el('input', {id: 'sil-start', type: 'text', value: now.toISOString(), spellcheck: 'false'});
    const dur = el('input', {id: 'sil-duration', type: 'text', value: '2h', spellcheck: 'false'});
    const end = el('input', {id: 'sil-end', type: 'text', value: new Date(now.getTime() + 7.2e6).toISOString(), spellcheck: 'false'});
    const by = el('input', {id: 'sil-createdby', type: 'text', value: localStorage.getItem('ar.createdBy') || '', required: true});
    const comment = el('textarea', {id: 'sil-comment', rows: 3, required: true});
    const preview = el('div', {id: 'preview', 'aria-live': 'polite'});
    let original = null; /* the silence being edited; an expired one is recreated */

    const syncEnd = () => {
      const ms = parseDuration(dur.value);
      const s = new Date(start.value);
      if (!isNaN(ms) && !isNaN(s)) end.value = new Date(s.getTime() + ms).toISOString();
    };
    const syncDur = () => {
      const s = new Date(start.value);
      const e = new Date(end.value);
      if (!isNaN(s) && !isNaN(e) && e > s) dur.value = fmtDuration(e - s).replace(/ /g, '');
    };
    dur.addEventListener('change', syncEnd);
    start.addEventListener('change', syncEnd);
    end.addEventListener('change', syncDur);

    function row(m) {
      const n = rows.children.length;
      const name = el('input', {type: 'text', class: 'm-name', value: m.name || '', 'aria-label': 'Label name', spellcheck: 'false'});
      const op = el('select', {class: 'm-op', 'aria-label': 'Operator'},
        ['=', '!=', '=~', '!~'].map((o) => el('option', {value: o}, o)));
      op.value = matcherOp(m);
      const value = el('input', {type: 'text', class: 'm-value', value: m.value || '', 'aria-label': 'Value', spellcheck: 'false'});
      const r = el('div', {class: 'matcher-row', 'data-index': n}, name, op, value,
        el('button', {type: 'button', class: 'small', 'aria-label': 'Remove matcher', onclick: () => r.remove()}, 'Remove'));
      rows.appendChild(r);
    }

    function matchers() {
      return [...rows.querySelectorAll('.matcher-row')].map((r) => {
        const op = r.querySelector('.m-op').value;
        return {name: r.querySelector('.m-name').value.trim(), value: r.querySelector('.m-value').value,
          isRegex: op.endsWith('~'), isEqual: op[0] !== '!'};
      }).filter((m) => m.name !== '');
    }

    async function runPreview() {
      const ms = matchers();
      if (ms.length === 0) {
        notice(preview, 'error', 'Add at least one matcher.');
        return;
      }
      const p = [['silenced', 'true'], ['inhibited', 'true']];
      for (const m of ms) p.push(['filter', matcherText(m)]);
      preview.replaceChildren(el('p', {class: 'muted'}, 'Loading…'));
      try {
        const alerts = await api('GET', '/api/v2/alerts' + qs(p));
        preview.replaceChildren(
          el('h2', {id: 'preview-count'}, alerts.length + (alerts.length === 1 ? ' alert matches' : ' alerts match')),
          el('ul', {class: 'preview-list'}, alerts.slice(0, 100).map((a) =>
            el('li', {'data-fingerprint': a.fingerprint}, Object.keys(a.labels).sort().map((k) => labelChip(k, a.labels[k]))))),
          alerts.length > 100 ? el('p', {class: 'muted'}, '… and ' + (alerts.length - 100) + ' more') : null);
      } catch (e) {
        notice(preview, 'error', e.message);
      }
    }

    async function save(e) {
      e.preventDefault();
      const body = {matchers: matchers(), startsAt: start.value.trim(), endsAt: end.value.trim(),
        createdBy: by.value.trim(), comment: comment.value};
      if (original && original.status.state !== 'expired') body.id = original.id;
      localStorage.setItem('ar.createdBy', body.createdBy);
      try {
        const r = await api('POST', '/api/v2/silences', body);
        go('#/silences' + qs([['saved', r.silenceID]]));
      } catch (err) {
        notice(msg, 'error', err.message);
      }
    }

    const heading = el('h1', {}, id ? 'Edit silence' : 'New silence');
    const form = el('form', {id: 'silence-form', class: 'silence-form', onsubmit: save},
      el('fieldset', {}, el('legend', {}, 'Matchers'), rows,
        el('div', {class: 'actions'},
          el('button', {type: 'button', onclick: () => row({isEqual: true})}, 'Add matcher'),
          el('button', {type: 'button', id: 'preview-button', onclick: runPreview}, 'Preview matching alerts'))),
      el('div', {class: 'grid'},
        el('label', {for: 'sil-start'}, 'Start'), start,
        el('label', {for: 'sil-duration'}, 'Duration'), dur,
        el('label', {for: 'sil-end'}, 'End'), end,
        el('label', {for: 'sil-createdby'}, 'Created by'), by,
        el('label', {for: 'sil-comment'}, 'Comment'), comment),
      el('div', {class: 'actions'},
        el('button', {type: 'submit', class: 'primary', id: 'save-silence'}, 'Save'),
        el('a', {class: 'button', href: '#/silences'}, 'Cancel')));
    append(main, [heading, msg, form, preview]);

    let initial = [];
    if (id) {
      try {
        original = await api('GET', '/api/v2/silence/' + encodeURIComponent(id));
      } catch (e) {
        notice(msg, 'error', e.message);
        return;
      }
      initial = original.matchers;
      auditTrail(main, id);
      by.value = original.createdBy;
      comment.value = original.comment;
      if (original.status.state !== 'expired') {
        start.value = original.startsAt;
        end.value = original.endsAt;
        syncDur();
      } else {
        heading.textContent = 'Recreate silence';
      }
    } else if (query.get('matchers')) {
      try {
        initial = JSON.parse(query.get('matchers'));
      } catch (e) {
        initial = [];
      }
    }
    if (!Array.isArray(initial) || initial.length === 0) initial = [{isEqual: true}];
    initial.forEach((m) => row({name: String(m.name || ''), value: String(m.value || ''),
      isRegex: !!m.isRegex, isEqual: m.isEqual !== false}));
    if (matchers().length > 0) runPreview();
  }

  /* The silence's entries of the audit trail (/api/x/audit: who created, changed or expired
   * it, from which client, under which basic-auth user), newest first. */
  async function auditTrail(main, id) {
    const box = el('section', {id: 'audit', class: 'audit'}, el('h2', {}, 'Audit trail'));
    main.appendChild(box);
    try {
      const rows = (await api('GET', '/api/x/audit?limit=10000')).filter((e) => e.objectID === id);
      box.appendChild(rows.length ? el('div', {class: 'table-wrap'}, el('table', {},
        el('thead', {}, el('tr', {}, ['Time', 'Action', 'User', 'Client', 'Comment'].map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', {}, rows.map((e) => el('tr', {'data-action': e.action},
          el('td', {}, fmtTime(e.time)), el('td', {}, e.action), el('td', {}, e.user || '—'),
          el('td', {}, e.client), el('td', {class: 'comment'}, (e.detail && e.detail.comment) || '')))))) :
        el('p', {class: 'empty'}, 'No entries.'));
    } catch (e) {
      notice(box, 'error', e.message);
    }
  }

  /* ---------------------------------------------------------------- deliveries */

  const deliveriesPage = {
    id: 'deliveries',
    title: 'Deliveries',
    state: null,

    render(main) {
      const msg = el('div', {id: 'deliveries-msg'});
      const lists = el('div', {id: 'delivery-lists'});
      append(main, [el('h1', {}, 'Deliveries'),
        el('p', {class: 'muted'}, 'The durable outbox: notifications being sent, retried, or dead after their deadline.'),
        msg, lists]);
      this.state = {msg, lists, lastText: null, open: new Set()};
    },

    async refresh() {
      const st = this.state;
      const [pending, dead, delivered] = await Promise.all([
        apiText('/api/x/deliveries?state=pending&limit=500'),
        apiText('/api/x/deliveries?state=dead&limit=500'),
        apiText('/api/x/deliveries?state=delivered&limit=20')]);
      const text = pending + dead + delivered;
      if (this.state !== st || text === st.lastText) return;
      st.lastText = text;
      const p = JSON.parse(pending);
      const sections = [
        ['pending', 'Pending', p.filter((d) => d.attempts === 0)],
        ['retrying', 'Retrying', p.filter((d) => d.attempts > 0)],
        ['dead', 'Dead letters', JSON.parse(dead)],
        ['delivered', 'Recently delivered', JSON.parse(delivered)]];
      st.lists.replaceChildren(...sections.map(([id, title, rows]) =>
        el('section', {class: 'deliveries', id: 'deliveries-' + id},
          el('h2', {}, title + ' (' + rows.length + ')'),
          rows.length ? this.table(rows) : el('p', {class: 'empty'}, 'None.'))));
    },

    table(rows) {
      return el('div', {class: 'table-wrap'}, el('table', {},
        el('thead', {}, el('tr', {}, ['ID', 'Receiver', 'Group', 'Attempts', 'Last error', 'Updated', ''].map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', {}, rows.map((d) => this.row(d)))));
    },

    row(d) {
      const st = this.state;
      const details = el('tr', {class: 'log', hidden: !st.open.has(d.id)}, el('td', {colspan: 7}));
      const loadLog = async () => {
        const cell = details.firstChild;
        try {
          const one = await api('GET', '/api/x/deliveries/' + d.id);
          cell.replaceChildren(el('table', {class: 'attempts'},
            el('thead', {}, el('tr', {}, ['At', 'Outcome', 'HTTP', 'Attempts', 'Error'].map((h) => el('th', {scope: 'col'}, h)))),
            el('tbody', {}, (one.log || []).map((l) => el('tr', {},
              el('td', {}, fmtTime(l.at)), el('td', {}, l.outcome), el('td', {}, String(l.httpStatus || '')),
              el('td', {}, String(l.attempts)), el('td', {class: 'err'}, l.error || ''))))));
        } catch (e) {
          notice(cell, 'error', e.message);
        }
      };
      if (st.open.has(d.id)) loadLog();
      const toggle = el('button', {type: 'button', class: 'small', 'aria-expanded': String(st.open.has(d.id)), onclick: () => {
        const show = details.hidden;
        details.hidden = !show;
        toggle.setAttribute('aria-expanded', String(show));
        if (show) {
          st.open.add(d.id);
          loadLog();
        } else {
          st.open.delete(d.id);
        }
      }}, 'Attempts');
      const replay = async (e) => {
        e.target.disabled = true;
        try {
          await api('POST', '/api/x/deliveries/' + d.id + '/replay');
          notice(st.msg, 'ok', 'Delivery ' + d.id + ' replayed: it is pending again.');
          await this.refresh();
        } catch (err) {
          notice(st.msg, 'error', err.message);
          e.target.disabled = false;
        }
      };
      return [el('tr', {'data-id': d.id, class: 'state-' + d.state},
        el('td', {class: 'mono'}, String(d.id)),
        el('td', {}, d.receiver + ' / ' + d.integration),
        el('td', {class: 'mono small'}, d.groupKey),
        el('td', {}, String(d.attempts)),
        el('td', {class: 'err'}, d.lastError || ''),
        el('td', {}, el('time', {datetime: d.updatedAt}, ago(d.updatedAt))),
        el('td', {class: 'actions'}, toggle,
          d.state === 'dead' ? el('button', {type: 'button', class: 'small primary replay', onclick: replay}, 'Replay') : null)),
      details];
    },
  };

  /* ---------------------------------------------------------------- status */

  const statusPage = {
    id: 'status',
    title: 'Status',
    state: null,

    render(main) {
      const msg = el('div', {id: 'status-msg'});
      const body = el('div', {id: 'status-body'});
      append(main, [el('h1', {}, 'Status'), msg, body]);
      this.state = {msg, body, lastText: null, results: new Map()};
    },

    async refresh() {
      const st = this.state;
      const [status, receivers] = await Promise.all([apiText('/api/v2/status'), apiText('/api/v2/receivers')]);
      const text = status + receivers;
      if (this.state !== st || text === st.lastText) return;
      st.lastText = text;
      const s = JSON.parse(status);
      const v = s.versionInfo || {};
      const peers = (s.cluster && s.cluster.peers) || [];
      st.body.replaceChildren(
        el('section', {id: 'status-version'}, el('h2', {}, 'Build and uptime'),
          el('dl', {class: 'kv'},
            ['version', 'revision', 'branch', 'buildDate', 'goVersion'].map((k) => [el('dt', {}, k), el('dd', {}, String(v[k] || ''))]),
            el('dt', {}, 'up since'), el('dd', {}, fmtTime(s.uptime) + ' (' + fmtDuration(Date.now() - new Date(s.uptime)) + ')'))),
        el('section', {id: 'status-cluster'}, el('h2', {}, 'Cluster'),
          el('p', {}, 'Status: ', el('strong', {}, (s.cluster && s.cluster.status) || 'unknown')),
          peers.length ? el('ul', {}, peers.map((p) => el('li', {}, p.name + ' ' + p.address))) : null),
        el('section', {id: 'status-receivers'}, el('h2', {}, 'Receivers'),
          el('ul', {class: 'receivers'}, JSON.parse(receivers).map((r) => this.receiver(r.name)))),
        el('section', {id: 'status-config'}, el('h2', {}, 'Configuration'),
          el('p', {class: 'muted'}, 'As loaded, with secrets masked.'),
          el('pre', {class: 'config'}, (s.config && s.config.original) || '')));
    },

    receiver(name) {
      const st = this.state;
      const out = el('div', {class: 'test-result', 'aria-live': 'polite'});
      if (st.results.has(name)) append(out, [st.results.get(name)]);
      const test = async (e) => {
        e.target.disabled = true;
        out.replaceChildren(el('span', {class: 'muted'}, 'Sending…'));
        let res;
        try {
          const r = await api('POST', '/api/x/receivers/' + encodeURIComponent(name) + '/test');
          const results = r.results || [];
          res = el('ul', {}, results.length ? results.map((x) => el('li', {class: x.ok ? 'good' : 'bad'},
            x.integration + ': ' + (x.ok ? 'sent' : 'failed: ' + x.error))) : el('li', {}, 'This receiver has no integrations.'));
        } catch (err) {
          res = el('p', {class: 'notice error'}, err.message);
        }
        st.results.set(name, res);
        out.replaceChildren(res);
        e.target.disabled = false;
      };
      return el('li', {'data-receiver': name}, el('span', {class: 'receiver'}, name), ' ',
        el('button', {type: 'button', class: 'small', onclick: test}, 'Send test notification'), out);
    },
  };

  /* ---------------------------------------------------------------- incidents */

  const SECTIONS = ['identification', 'mitigation', 'post_incident_analysis', 'reporting',
    'action_plan', 'conclusions', 'recommendations'];
  const REPORT_EXT = {markdown: 'md', html: 'html', json: 'json'};

  function sectionTitle(s) {
    const t = s.replace(/_/g, ' ');
    return t[0].toUpperCase() + t.slice(1);
  }

  function labelsText(o) {
    return '{' + Object.keys(o || {}).sort().map((k) => k + '=' + quote(o[k])).join(', ') + '}';
  }

  /* GET of a report as text (any content type). */
  async function reportText(id, format) {
    return apiText('/api/x/incidents/' + id + '/report' + qs([['format', format]]));
  }

  const incidentsPage = {
    id: 'incidents',
    title: 'Incidents',
    state: null,

    render(main, query, sub) {
      if (sub.length > 0) {
        const st = {detail: null};
        this.state = st;
        incidentView(main, sub[0], st);
        return;
      }
      const stateSel = el('select', {id: 'incident-state'},
        ['', 'open', 'acknowledged', 'resolved'].map((s) => el('option', {value: s}, s || 'any state')));
      stateSel.value = query.get('state') || '';
      const input = el('input', {id: 'filter', type: 'search', value: query.get('filter') || '',
        placeholder: '{alertname="Disk"}', autocomplete: 'off', spellcheck: 'false'});
      const apply = () => {
        const p = [];
        if (stateSel.value) p.push(['state', stateSel.value]);
        if (input.value.trim()) p.push(['filter', input.value.trim()]);
        go('#/incidents' + qs(p));
      };
      stateSel.addEventListener('change', apply);
      const form = el('form', {class: 'filterbar', role: 'search', onsubmit: (e) => {
        e.preventDefault();
        apply();
      }}, el('label', {for: 'incident-state'}, 'State'), stateSel,
      el('label', {for: 'filter'}, 'Filter'), input, el('button', {type: 'submit'}, 'Apply'));
      const msg = el('div', {id: 'incidents-msg'});
      const list = el('div', {id: 'incident-list'});
      append(main, [el('h1', {}, 'Incidents'), form, msg, list]);
      this.state = {msg, list, state: stateSel.value, filter: input.value.trim(), lastText: null};
    },

    async refresh() {
      const st = this.state;
      if (st === null) return;
      if ('detail' in st) {
        if (st.detail) await st.detail();
        return;
      }
      const p = [['limit', '500']];
      if (st.state) p.push(['state', st.state]);
      for (const m of splitMatchers(st.filter)) p.push(['filter', m]);
      let text;
      try {
        text = await apiText('/api/x/incidents' + qs(p));
      } catch (e) {
        if (this.state === st) notice(st.msg, 'error', e.message);
        st.lastText = null;
        return;
      }
      if (this.state !== st || text === st.lastText) return;
      st.lastText = text;
      notice(st.msg, '', '');
      const rows = JSON.parse(text);
      st.list.replaceChildren(rows.length ? el('div', {class: 'table-wrap'}, el('table', {},
        el('thead', {}, el('tr', {}, ['ID', 'Title', 'State', 'Severity', 'Receiver', 'Group', 'Alerts', 'Opened', 'Resolved']
          .map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', {}, rows.map((r) => el('tr', {'data-id': r.id, class: 'incident state-' + r.state},
          el('td', {class: 'mono'}, el('a', {href: '#/incidents/' + r.id}, '#' + r.id)),
          el('td', {class: 'title'}, el('a', {href: '#/incidents/' + r.id}, r.title || '(untitled)')),
          el('td', {}, el('span', {class: 'badge ' + r.state}, r.state),
            r.acknowledgedBy ? el('span', {class: 'muted small'}, ' by ' + r.acknowledgedBy) : null),
          el('td', {}, r.severity || ''),
          el('td', {}, r.receiver),
          el('td', {class: 'mono small'}, labelsText(r.groupLabels)),
          el('td', {}, String(r.alertCount)),
          el('td', {}, el('time', {datetime: r.openedAt, title: r.openedAt}, ago(r.openedAt))),
          el('td', {}, r.resolvedAt ? el('time', {datetime: r.resolvedAt, title: r.resolvedAt}, ago(r.resolvedAt)) : '—')))))) :
        el('p', {class: 'empty'}, 'No incidents.'));
    },
  };

  /* One incident: summary, acknowledgement, timeline, notes by section, report. st.detail
   * becomes its reload, which the poll calls (repainting only when the incident changed). */
  async function incidentView(main, idText, st) {
    const id = /^\d+$/.test(idText) ? idText : '0';
    const msg = el('div', {id: 'incident-msg'});
    const head = el('div', {id: 'incident-head'});
    const ackBox = el('section', {id: 'incident-ack', class: 'panel'});
    const notesBox = el('section', {id: 'incident-notes', class: 'panel'});
    const reportBox = el('section', {id: 'incident-report', class: 'panel'});
    const timeline = el('section', {id: 'incident-timeline', class: 'panel'});
    append(main, [el('p', {}, el('a', {href: '#/incidents'}, '← Incidents')), msg, head, ackBox,
      timeline, notesBox, reportBox]);
    let inc;
    let lastText = null;

    async function load() {
      let text;
      try {
        text = await apiText('/api/x/incidents/' + id);
      } catch (e) {
        notice(msg, 'error', e.message);
        return false;
      }
      if (text === lastText) return true;
      lastText = text;
      inc = JSON.parse(text);
      notice(msg, '', '');
      head.replaceChildren(
        el('h1', {id: 'incident-title'}, '#' + inc.id + ' ', el('span', {class: 'text'}, inc.title || '(untitled)')),
        el('dl', {class: 'kv'},
          el('dt', {}, 'state'), el('dd', {}, el('span', {id: 'incident-state', class: 'badge ' + inc.state}, inc.state)),
          el('dt', {}, 'severity'), el('dd', {}, inc.severity || ''),
          el('dt', {}, 'receiver'), el('dd', {}, inc.receiver),
          el('dt', {}, 'group'), el('dd', {class: 'mono'}, labelsText(inc.groupLabels)),
          el('dt', {}, 'opened'), el('dd', {}, fmtTime(inc.openedAt)),
          inc.acknowledgedAt ? [el('dt', {}, 'acknowledged'), el('dd', {id: 'incident-acked'},
            fmtTime(inc.acknowledgedAt) + ' by ' + inc.acknowledgedBy + (inc.ackComment ? ': ' + inc.ackComment : ''))] : null,
          inc.resolvedAt ? [el('dt', {}, 'resolved'), el('dd', {}, fmtTime(inc.resolvedAt))] : null,
          el('dt', {}, 'alerts'), el('dd', {}, el('ul', {class: 'plain'}, (inc.alerts || []).map((a) =>
            el('li', {}, Object.keys(a.labels || {}).sort().map((k) => labelChip(k, a.labels[k]))))))));
      paintTimeline();
      paintNotes();
      return true;
    }

    function paintTimeline() {
      timeline.replaceChildren(el('h2', {}, 'Timeline'), el('div', {class: 'table-wrap'}, el('table', {},
        el('thead', {}, el('tr', {}, ['Time', 'Event', 'Detail'].map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', {}, inc.timeline.map((e) => el('tr', {'data-kind': e.kind},
          el('td', {}, fmtTime(e.at)), el('td', {}, e.kind),
          el('td', {class: 'mono small'}, eventDetail(e))))))));
    }

    function eventDetail(e) {
      const d = e.detail || {};
      const parts = [];
      for (const k of Object.keys(d)) {
        const v = d[k];
        if (v === null || v === '' || k === 'text') continue;
        if (k === 'deliveryID') parts.push(el('a', {href: '#/deliveries'}, 'delivery ' + v));
        else parts.push(k + ': ' + (typeof v === 'object' ? labelsText(v) : String(v)));
      }
      return parts.flatMap((p, i) => (i ? ['; ', p] : [p]));
    }

    /* acknowledgement: who and why; a 409 (already acknowledged, or resolved) is shown */
    const by = el('input', {id: 'ack-by', type: 'text', value: localStorage.getItem('ar.createdBy') || '', autocomplete: 'off'});
    const why = el('input', {id: 'ack-comment', type: 'text', autocomplete: 'off'});
    const ackMsg = el('div', {id: 'ack-msg'});
    ackBox.replaceChildren(el('h2', {}, 'Acknowledge'),
      el('p', {class: 'muted'}, 'Holds back repeat notifications until a new alert joins or the group resolves; it is not a silence.'),
      el('form', {class: 'inline-form', onsubmit: async (e) => {
        e.preventDefault();
        localStorage.setItem('ar.createdBy', by.value.trim());
        try {
          await api('POST', '/api/x/incidents/' + id + '/ack', {by: by.value.trim(), comment: why.value});
          notice(ackMsg, 'ok', 'Acknowledged.');
          await load();
        } catch (err) {
          notice(ackMsg, 'error', err.message);
        }
      }}, el('label', {for: 'ack-by'}, 'By'), by, el('label', {for: 'ack-comment'}, 'Comment'), why,
      el('button', {type: 'submit', id: 'ack-button', class: 'primary'}, 'Acknowledge')), ackMsg);

    /* notes: the latest version of each note by section, its earlier versions folded */
    const noteList = el('div', {id: 'note-list'});
    const section = el('select', {id: 'note-section'}, SECTIONS.map((s) => el('option', {value: s}, sectionTitle(s))));
    const author = el('input', {id: 'note-author', type: 'text', value: localStorage.getItem('ar.createdBy') || '', autocomplete: 'off'});
    const text = el('textarea', {id: 'note-text', rows: 4});
    const replaces = el('input', {id: 'note-replaces', type: 'hidden', value: ''});
    const editing = el('span', {id: 'note-editing', class: 'muted'});
    const noteMsg = el('div', {id: 'note-msg'});
    const noteForm = el('form', {id: 'note-form', class: 'grid', onsubmit: async (e) => {
      e.preventDefault();
      const body = {section: section.value, author: author.value.trim(), text: text.value};
      if (replaces.value) body.replaces = Number(replaces.value);
      localStorage.setItem('ar.createdBy', body.author);
      try {
        await api('POST', '/api/x/incidents/' + id + '/notes', body);
        text.value = '';
        replaces.value = '';
        editing.textContent = '';
        notice(noteMsg, 'ok', 'Note saved.');
        await load();
      } catch (err) {
        notice(noteMsg, 'error', err.message);
      }
    }}, el('label', {for: 'note-section'}, 'Section'), section,
    el('label', {for: 'note-author'}, 'Author'), author,
    el('label', {for: 'note-text'}, 'Text'), text, replaces,
    el('span', {}), el('span', {class: 'actions'}, el('button', {type: 'submit', id: 'note-save', class: 'primary'}, 'Add note'), editing));

    function paintNotes() {
      const notes = inc.notes || [];
      const replaced = new Set(notes.filter((n) => n.replaces).map((n) => n.replaces));
      const byId = new Map(notes.map((n) => [n.id, n]));
      const versions = (n) => {
        const out = [];
        for (let p = byId.get(n.replaces); p; p = byId.get(p.replaces)) out.push(p);
        return out;
      };
      const noteEl = (n, cls) => el('article', {class: cls, 'data-note': n.id},
        el('p', {class: 'meta'}, el('strong', {}, n.author), ' · ', fmtTime(n.at),
          n.replaces ? el('span', {class: 'muted'}, ' · replaces #' + n.replaces) : null),
        el('p', {class: 'note-text'}, n.text));
      noteList.replaceChildren(...SECTIONS.map((s) => {
        const latest = notes.filter((n) => n.section === s && !replaced.has(n.id));
        return el('section', {class: 'note-section', 'data-section': s},
          el('h3', {}, sectionTitle(s) + ' (' + latest.length + ')'),
          latest.length ? latest.map((n) => {
            const old = versions(n);
            return el('div', {class: 'note'}, noteEl(n, 'note-latest'),
              el('button', {type: 'button', class: 'small note-edit', onclick: () => {
                section.value = n.section;
                text.value = n.text;
                replaces.value = String(n.id);
                editing.textContent = 'editing note #' + n.id + ' (saves a new version)';
                text.focus();
              }}, 'Edit'),
              old.length ? el('details', {class: 'versions'}, el('summary', {}, old.length + (old.length === 1 ? ' earlier version' : ' earlier versions')),
                old.map((o) => noteEl(o, 'note-old'))) : null);
          }) : el('p', {class: 'empty'}, 'None.'));
      }));
    }
    notesBox.replaceChildren(el('h2', {}, 'Notes'), noteList, el('h3', {}, 'Add a note'), noteMsg, noteForm);

    /* report: the HTML in a sandboxed frame (no scripts, own origin), markdown and JSON as text;
     * each downloadable as a file */
    const fmt = el('select', {id: 'report-format'}, ['html', 'markdown', 'json'].map((f) => el('option', {value: f}, f)));
    const view = el('div', {id: 'report-view'});
    const reportMsg = el('div', {id: 'report-msg'});
    const show = async () => {
      try {
        const t = await reportText(id, fmt.value);
        if (fmt.value === 'html') {
          view.replaceChildren(el('iframe', {id: 'report-frame', sandbox: '', title: 'Incident report', srcdoc: t,
            referrerpolicy: 'no-referrer'}));
        } else {
          view.replaceChildren(el('pre', {id: 'report-text', class: 'report'}, t));
        }
        notice(reportMsg, '', '');
      } catch (e) {
        notice(reportMsg, 'error', e.message);
      }
    };
    const download = async () => {
      try {
        const f = fmt.value;
        const t = await reportText(id, f);
        const type = f === 'html' ? 'text/html' : f === 'json' ? 'application/json' : 'text/markdown';
        const url = URL.createObjectURL(new Blob([t], {type: type + ';charset=utf-8'}));
        const a = el('a', {href: url, download: 'incident-' + id + '.' + REPORT_EXT[f], hidden: true});
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      } catch (e) {
        notice(reportMsg, 'error', e.message);
      }
    };
    reportBox.replaceChildren(el('h2', {}, 'Report'),
      el('div', {class: 'actions'}, el('label', {for: 'report-format'}, 'Format'), fmt,
        el('button', {type: 'button', id: 'report-view-button', onclick: show}, 'View'),
        el('button', {type: 'button', id: 'report-download', onclick: download}, 'Download')),
      reportMsg, view);

    if (await load()) st.detail = load;
  }

  /* ---------------------------------------------------------------- history */

  const WINDOWS = {'1h': 3.6e6, '6h': 2.16e7, '24h': 8.64e7, '7d': 6.048e8};
  const HISTORY_PAGES = 10; /* at most 10 pages of 1000 events per window */
  const HISTORY_POLL_MS = 30000; /* the poll reloads the window at most this often */
  const COLORS = ['#1f5fbf', '#b3261e', '#1e7a3c', '#8a5a00', '#6b3fa0', '#007c89', '#c2185b', '#5b6375'];

  /* dygraphs (Debian's libjs-dygraphs, embedded at build time as ui/dygraph.min.js when the
   * package was installed), loaded once on the History page; null when it is not there. */
  let dygraphsPromise = null;
  function loadDygraphs() {
    if (window.Dygraph) return Promise.resolve(window.Dygraph);
    if (!dygraphsPromise) {
      dygraphsPromise = new Promise((resolve) => {
        document.head.appendChild(el('link', {rel: 'stylesheet', href: BASE + '/ui/dygraph.min.css'}));
        const s = document.createElement('script');
        s.src = BASE + '/ui/dygraph.min.js';
        s.onload = () => {
          const D = window.Dygraph || null;
          /* its legend writes HTML and an inline style attribute (refused by our CSP): this
           * page draws its own legend as text */
          if (D && D.PLUGINS && D.Plugins) D.PLUGINS = D.PLUGINS.filter((p) => p !== D.Plugins.Legend);
          resolve(D);
        };
        s.onerror = () => resolve(null);
        document.head.appendChild(s);
      });
    }
    return dygraphsPromise;
  }

  const historyPage = {
    id: 'history',
    title: 'History',
    state: null,

    render(main, query) {
      const win = WINDOWS[query.get('window')] ? query.get('window') : '6h';
      const by = query.get('by') === 'severity' ? 'severity' : 'alertname';
      const winSel = el('select', {id: 'history-window'}, Object.keys(WINDOWS).map((w) => el('option', {value: w}, 'last ' + w)));
      winSel.value = win;
      const bySel = el('select', {id: 'history-by'}, ['alertname', 'severity'].map((b) => el('option', {value: b}, 'per ' + b)));
      bySel.value = by;
      const input = el('input', {id: 'filter', type: 'search', value: query.get('filter') || '',
        placeholder: '{alertname="Disk"}', autocomplete: 'off', spellcheck: 'false'});
      const apply = () => {
        const p = [['window', winSel.value], ['by', bySel.value]];
        if (input.value.trim()) p.push(['filter', input.value.trim()]);
        go('#/history' + qs(p));
      };
      winSel.addEventListener('change', apply);
      bySel.addEventListener('change', apply);
      const form = el('form', {class: 'filterbar', role: 'search', onsubmit: (e) => {
        e.preventDefault();
        apply();
      }}, el('label', {for: 'history-window'}, 'Window'), winSel, bySel,
      el('label', {for: 'filter'}, 'Filter'), input, el('button', {type: 'submit'}, 'Apply'));
      const msg = el('div', {id: 'history-msg'});
      const plot = el('div', {id: 'history-plot', class: 'plot', role: 'img', 'aria-label': 'Firing alerts over time'});
      const legend = el('ul', {id: 'history-legend', class: 'legend'});
      const summary = el('p', {id: 'history-summary', class: 'summary'});
      const table = el('div', {id: 'history-events'});
      append(main, [el('h1', {}, 'History'), form, msg,
        el('section', {class: 'panel'}, el('h2', {}, 'Firing alerts per ' + by + ', last ' + win), plot, legend),
        summary, table]);
      this.state = {win, by, filter: input.value.trim(), msg, plot, legend, summary, table, fetchedAt: 0, graph: null};
    },

    /* Pages through /api/x/history/alerts (oldest first, bounded), then paints; polls reload
     * it every HISTORY_POLL_MS rather than every POLL_MS (a 7d window is up to 10 requests). */
    async refresh() {
      const st = this.state;
      const to = Date.now();
      if (st.fetchedAt && to - st.fetchedAt < HISTORY_POLL_MS) return;
      st.fetchedAt = to;
      const from = to - WINDOWS[st.win];
      const base = [['from', new Date(from).toISOString()], ['order', 'oldest'], ['limit', '1000']];
      for (const m of splitMatchers(st.filter)) base.push(['filter', m]);
      const events = [];
      let cursor = null;
      let truncated = false;
      try {
        for (let i = 0; ; i++) {
          const p = base.slice();
          if (cursor) p.push(['cursor', cursor]);
          const r = await api('GET', '/api/x/history/alerts' + qs(p));
          events.push(...r.events);
          cursor = r.nextCursor;
          if (!cursor) break;
          if (i + 1 >= HISTORY_PAGES) {
            truncated = true;
            break;
          }
        }
      } catch (e) {
        if (this.state === st) notice(st.msg, 'error', e.message);
        st.fetchedAt = 0;
        return;
      }
      if (this.state !== st) return;
      let incidents = [];
      try {
        incidents = await api('GET', '/api/x/incidents' + qs([['from', new Date(from).toISOString()], ['limit', '1000']]));
      } catch (e) { /* the table still shows without links */ }
      if (this.state !== st) return;
      notice(st.msg, truncated ? 'error' : '', truncated ? 'More than ' + (HISTORY_PAGES * 1000) +
        ' events in this window: the plot and table show the oldest ' + events.length + '. Narrow the filter or the window.' : '');
      await this.plot(events, from, to);
      this.table(events, incidents);
    },

    /* Firing alerts per key at 120 points of the window: an alert fires from its firing (or
     * updated) event until its resolved or deleted one; an alert whose first event in the
     * window is resolved/deleted was firing since the window's start. */
    async plot(events, from, to) {
      const st = this.state;
      const N = 120;
      const step = (to - from) / N;
      const byFp = new Map();
      for (const e of events) {
        if (!byFp.has(e.fingerprint)) byFp.set(e.fingerprint, []);
        byFp.get(e.fingerprint).push(e);
      }
      const keys = new Map(); /* key -> counts per point */
      for (const evs of byFp.values()) {
        const key = (evs[evs.length - 1].labels || {})[st.by] || '(none)';
        if (!keys.has(key)) keys.set(key, new Array(N + 1).fill(0));
        const counts = keys.get(key);
        let firing = evs[0].event === 'resolved' || evs[0].event === 'deleted';
        let since = from;
        const mark = (until) => {
          if (!firing) return;
          for (let i = Math.max(0, Math.ceil((since - from) / step)); i <= N && from + i * step < until; i++) counts[i]++;
        };
        for (const e of evs) {
          const at = new Date(e.at).getTime();
          const now = e.event === 'firing' || e.event === 'updated';
          if (now === firing) continue;
          if (firing) mark(at);
          firing = now;
          since = at;
        }
        mark(to + 1);
      }
      const names = [...keys.keys()].sort();
      st.legend.replaceChildren(...names.map((k, i) => {
        const sw = el('span', {class: 'swatch'});
        sw.style.background = COLORS[i % COLORS.length];
        return el('li', {'data-key': k}, sw, k + ' (max ' + Math.max(...keys.get(k)) + ')');
      }));
      if (names.length === 0) {
        if (st.graph) st.graph.destroy();
        st.graph = null;
        st.plot.replaceChildren(el('p', {class: 'empty'}, 'No alerts fired in this window.'));
        st.plot.removeAttribute('data-drawn');
        return;
      }
      const Dygraph = await loadDygraphs();
      if (this.state !== st) return;
      if (!Dygraph) {
        st.plot.replaceChildren(el('p', {class: 'empty', id: 'history-noplot'},
          'No plot: this build has no chart library (install libjs-dygraphs and rebuild).'));
        return;
      }
      const data = [];
      for (let i = 0; i <= N; i++) data.push([new Date(from + i * step), ...names.map((k) => keys.get(k)[i])]);
      const opts = {labels: ['time', ...names], colors: names.map((k, i) => COLORS[i % COLORS.length]),
        stepPlot: true, fillGraph: true, includeZero: true, legend: 'never', height: 260,
        axes: {y: {valueFormatter: (v) => String(v), axisLabelFormatter: (v) => (Number.isInteger(v) ? String(v) : '')}},
        drawCallback: () => st.plot.setAttribute('data-drawn', String(names.length))};
      if (st.graph) {
        st.graph.updateOptions(Object.assign({file: data}, opts));
      } else {
        st.plot.replaceChildren();
        st.graph = new Dygraph(st.plot, data, opts);
      }
    },

    table(events, incidents) {
      const st = this.state;
      /* the incident of an event: one of the alert's receivers, its group labels a subset of
       * the alert's labels, and open at the event's time */
      const incidentOf = (e) => {
        const at = new Date(e.at).getTime();
        const receivers = e.receivers || [];
        return incidents.find((i) => (receivers.length === 0 || receivers.includes(i.receiver)) &&
          Object.keys(i.groupLabels || {}).every((k) => (e.labels || {})[k] === i.groupLabels[k]) &&
          new Date(i.openedAt).getTime() <= at + 1000 && (!i.resolvedAt || new Date(i.resolvedAt).getTime() >= at - 1000));
      };
      const shown = events.slice(-500).reverse();
      st.summary.textContent = events.length + (events.length === 1 ? ' event' : ' events') +
        (shown.length < events.length ? ', the newest ' + shown.length + ' below' : '');
      st.table.replaceChildren(shown.length ? el('div', {class: 'table-wrap'}, el('table', {},
        el('thead', {}, el('tr', {}, ['Time', 'Event', 'Labels', 'Receivers', 'Incident'].map((h) => el('th', {scope: 'col'}, h)))),
        el('tbody', {}, shown.map((e) => {
          const inc = incidentOf(e);
          return el('tr', {'data-event': e.event, 'data-fingerprint': e.fingerprint},
            el('td', {}, fmtTime(e.at)), el('td', {}, el('span', {class: 'badge ev-' + e.event}, e.event)),
            el('td', {}, Object.keys(e.labels || {}).sort().map((k) => labelChip(k, e.labels[k]))),
            el('td', {}, (e.receivers || []).join(', ')),
            el('td', {}, inc ? el('a', {class: 'incident-link', href: '#/incidents/' + inc.id}, '#' + inc.id) : ''));
        })))) : el('p', {class: 'empty'}, 'No events.'));
    },
  };

  /* ---------------------------------------------------------------- shell */

  const PAGES = [alertsPage, incidentsPage, historyPage, silencesPage, deliveriesPage, statusPage];
  let current = null;
  let timer = null;
  let inflight = false;

  function go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  }

  function parseHash() {
    const h = location.hash.replace(/^#\/?/, '');
    const q = h.indexOf('?');
    const path = (q < 0 ? h : h.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
    return {path, query: new URLSearchParams(q < 0 ? '' : h.slice(q + 1))};
  }

  async function tick() {
    if (!current || !current.refresh || inflight || document.visibilityState !== 'visible') return;
    inflight = true;
    const page = current;
    try {
      await page.refresh();
      setLive('Updated ' + fmtTime(new Date()).slice(11), false);
    } catch (e) {
      setLive('Update failed', true);
      const box = document.querySelector('#main [id$="-msg"]');
      if (box && page === current && !(page === alertsPage)) notice(box, 'error', e.message);
    } finally {
      inflight = false;
    }
  }

  /* The page for the hash: a new render, or update() when the page can keep itself. */
  function route() {
    const {path, query} = parseHash();
    const page = PAGES.find((p) => p.id === path[0]) || PAGES[0];
    const main = document.getElementById('main');
    if (page === current && page.update && page.update(query, path.slice(1))) {
      inflight = false;
      tick();
      return;
    }
    main.replaceChildren();
    current = page;
    inflight = false;
    for (const a of document.querySelectorAll('#nav a')) {
      if (a.dataset.page === page.id) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = page.title + ' · alertrouter';
    page.render(main, query, path.slice(1));
    tick();
  }

  function start() {
    const nav = document.getElementById('nav');
    nav.replaceChildren(...PAGES.map((p) => el('li', {}, el('a', {href: '#/' + p.id, 'data-page': p.id}, p.title))));
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') tick();
      else setLive('Paused', false);
    });
    timer = setInterval(tick, POLL_MS);
    /* keyboard: "/" focuses the filter bar (as in Alertmanager's and karma's UIs) */
    document.addEventListener('keydown', (e) => {
      const f = document.getElementById('filter');
      if (e.key === '/' && f && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName)) {
        e.preventDefault();
        f.focus();
      }
    });
    route();
  }

  window.alertrouterUI = {splitMatchers, httpUrl, parseDuration, pollNow: tick, get timer() { return timer; }};
  start();
})();
