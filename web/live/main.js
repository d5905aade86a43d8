// The live page: polls live.json every second (only the history points it has not seen; the
// target makes new figures every 2 s), keeps the last 3,600 points, and redraws the gauges, charts and tables. Everything it shows comes from that
// one document, so each figure on the page equals the JSON of the same refresh.
import './live.css';
import { Charts } from './charts.js';
import { bytes, count, frame, since } from './format.js';

const REFRESH_MS = 1000;
const KEEP_POINTS = 3600;
const GAUGES = [
  ['heap_alloc', 'Heap in use', bytes],
  ['heap_objects', 'Heap objects', count],
  ['sys', 'Sys', bytes],
  ['rss', 'RSS', bytes],
  ['tasks', 'Tasks', count],
  ['threads', 'Threads', count],
  ['leaked_tasks', 'Leaked tasks', count],
  ['leaked_threads', 'Leaked threads', count],
];
const COLUMNS = ['unix_ms', 'heap_alloc', 'heap_objects', 'sys', 'rss', 'tasks', 'threads', 'leaked_tasks', 'leaked_threads'];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function stackList(frames) {
  if (!frames.length) return el('p', { class: 'hint' }, 'no stack');
  return el('ol', { class: 'stack' }, ...frames.map((f) => el('li', {}, frame(f))));
}

class LivePage {
  constructor() {
    this.history = Object.fromEntries(COLUMNS.map((c) => [c, []]));
    this.openLeaks = new Set();
    this.charts = new Charts(document);
    const gauges = document.getElementById('gauges');
    for (const [key, label] of GAUGES) {
      gauges.append(el('div', { class: 'gauge', id: 'gauge-' + key }, el('span', { class: 'label' }, label), el('span', { class: 'value' }, '–')));
    }
    document.getElementById('pprof-command').textContent = 'go tool pprof -http=: ' + location.origin + '/debug/pprof/heap';
  }

  lastMs() {
    const t = this.history.unix_ms;
    return t.length ? t[t.length - 1] : 0;
  }

  async refresh() {
    const status = document.getElementById('status');
    try {
      const r = await fetch('live.json?since=' + this.lastMs(), { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status + ': ' + (await r.text()));
      const doc = await r.json();
      this.show(doc);
      status.textContent = 'updated ' + new Date(doc.time_unix_ms).toLocaleTimeString();
      status.className = '';
    } catch (e) {
      status.textContent = 'cannot read live.json (' + e.message + '); retrying';
      status.className = 'error';
    }
  }

  show(doc) {
    this.doc = doc;
    document.getElementById('program').textContent = 'pid ' + doc.pid;
    document.body.dataset.time = String(doc.time_unix_ms);
    for (const [key, , format] of GAUGES) {
      const g = document.getElementById('gauge-' + key);
      g.dataset.value = String(doc.now[key]);
      g.querySelector('.value').textContent = format(doc.now[key]);
      g.classList.toggle('alarm', key.startsWith('leaked') && doc.now[key] > 0);
    }
    for (const c of COLUMNS) {
      this.history[c].push(...doc.history[c]);
      if (this.history[c].length > KEEP_POINTS) this.history[c].splice(0, this.history[c].length - KEEP_POINTS);
    }
    this.charts.draw(this.history);
    document.body.dataset.points = String(this.charts.points());
    this.groups('tasks', doc.tasks);
    this.groups('threads', doc.threads);
    this.sites(doc);
    this.leaks(doc);
    this.profiles(doc.profiles);
  }

  groups(id, rows) {
    const body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren(
      ...rows.map((g) =>
        el('tr', { class: g.leaked > 0 ? 'alarm' : '' }, el('td', {}, g.state), el('td', {}, g.wait_reason), el('td', { class: 'n' }, count(g.count)), el('td', { class: 'n' }, count(g.leaked)))
      )
    );
    if (!rows.length) body.append(el('tr', {}, el('td', { colspan: '4', class: 'hint' }, 'none')));
  }

  sites(doc) {
    document.getElementById('sites-count').textContent = doc.top_sites.length + ' of ' + count(doc.heap_sites_total);
    const body = document.querySelector('#sites tbody');
    body.replaceChildren(
      ...doc.top_sites.map((s) => {
        const details = el('details', {}, el('summary', {}, s.stack.length ? frame(s.stack[0]) : '??'), stackList(s.stack));
        return el('tr', {}, el('td', { class: 'n', 'data-value': String(s.inuse_bytes) }, bytes(s.inuse_bytes)), el('td', { class: 'n' }, count(s.inuse_objects)), el('td', { class: 'n' }, bytes(s.alloc_bytes)), el('td', {}, details));
      })
    );
  }

  leaks(doc) {
    const total = doc.leaked_tasks_total + doc.leaked_threads_total;
    document.getElementById('leaks-count').textContent = total ? doc.leaks.length + ' shown of ' + count(total) : 'none';
    const box = document.getElementById('leaks');
    box.replaceChildren(
      ...doc.leaks.map((l) => {
        const key = l.kind + ':' + l.id;
        const title = l.kind + ' ' + l.id + (l.name ? ' (' + l.name + ')' : '') + ' [' + l.wait_reason + ', ' + since(l.wait_since_unix_ms, doc.time_unix_ms) + ']';
        const d = el(
          'details',
          { class: 'leak', 'data-key': key },
          el('summary', {}, el('strong', {}, title), ' ', l.reason),
          el('h3', {}, 'waiting in'),
          stackList(l.stack),
          el('h3', {}, 'created at'),
          stackList(l.created_at)
        );
        d.open = this.openLeaks.has(key);
        d.addEventListener('toggle', () => (d.open ? this.openLeaks.add(key) : this.openLeaks.delete(key)));
        return d;
      })
    );
  }

  profiles(list) {
    const ul = document.getElementById('profiles');
    ul.replaceChildren(
      ...list.map((p) => el('li', {}, el('a', { href: '/debug/pprof/' + p.name + '?debug=1' }, p.name), ' ', el('span', { class: 'count' }, count(p.count))))
    );
  }
}

function start() {
  const page = new LivePage();
  window.leakwatchLive = page;  // for scripts that read what the page shows
  const tick = async () => {
    await page.refresh();
    setTimeout(tick, REFRESH_MS);
  };
  tick();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
