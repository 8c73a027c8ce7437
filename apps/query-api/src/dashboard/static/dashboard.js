/* The dashboard: one panel per saved query that has a `dashboard` block, refreshed together. */
/* global uPlot */
(function dashboard() {
  'use strict';

  const RANGES = { '15m': 15 * 60, '1h': 3600, '6h': 6 * 3600, '24h': 24 * 3600, '7d': 7 * 24 * 3600 };
  const BUCKET_SECONDS = { minute: 60, hour: 3600, day: 86400 };
  const COLORS = ['#2e90fa', '#f79009', '#12b76a', '#9e77ed', '#f04438', '#0ba5ec', '#ee46bc', '#667085', '#84cc16', '#b54708'];
  const TOKEN_KEY = 'queryApiToken';

  const $ = (id) => document.getElementById(id);
  const state = { token: '', queries: [], panels: new Map(), timer: undefined, running: false };

  function readToken() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const fromHash = hash.get('token');
    if (fromHash) {
      localStorage.setItem(TOKEN_KEY, fromHash);
      hash.delete('token');
      history.replaceState(null, '', location.pathname + location.search + (hash.toString() ? `#${hash}` : ''));
    }
    return localStorage.getItem(TOKEN_KEY) || '';
  }

  async function api(path, body) {
    // The panels load together, which can be more queries than the token may run at once (or more
    // than its rate): a refusal (429) is asked again after the time it names, for up to a minute.
    const giveUpAt = Date.now() + 60_000;
    let res;
    for (;;) {
      res = await fetch(path, {
        method: body ? 'POST' : 'GET',
        headers: { Authorization: `Bearer ${state.token}`, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const seconds = Math.min(Math.max(Number(res.headers.get('Retry-After')) || 1, 1), 10);
      if (res.status !== 429 || Date.now() + seconds * 1000 > giveUpAt) break;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
    const json = await res.json().catch(() => ({ error: { code: 'internal', message: `HTTP ${res.status}` } }));
    if (res.status === 401) showLogin('The token was refused.');
    if (!res.ok) throw Object.assign(new Error(json.error?.message || `HTTP ${res.status}`), { code: json.error?.code });
    return json;
  }

  function showLogin(message) {
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('panels').hidden = true;
  }

  /** The time window: presets end now (rounded up to 10 s, so concurrent viewers share cached results). */
  function timeWindow() {
    const range = $('range').value;
    if (range === 'custom' && $('from').value && $('to').value) {
      const from = new Date($('from').value);
      const to = new Date($('to').value);
      if (to > from) return { from, to, seconds: (to - from) / 1000 };
    }
    const seconds = RANGES[range] || RANGES['1h'];
    const to = new Date(Math.ceil(Date.now() / 10_000) * 10_000);
    return { from: new Date(to.getTime() - seconds * 1000), to, seconds };
  }

  function bucketFor(seconds) {
    if (seconds <= 6 * 3600) return 'minute';
    if (seconds <= 8 * 24 * 3600) return 'hour';
    return 'day';
  }

  /** Trino writes `2026-01-31 12:00:00.000 UTC`; epoch seconds for the charts. */
  function toEpochSeconds(value) {
    if (typeof value === 'number') return value;
    const text = String(value).replace(' UTC', 'Z').replace(' ', 'T');
    return Date.parse(text) / 1000;
  }

  function formatValue(value, unit) {
    if (value === null || value === undefined) return '–';
    if (unit === 'seconds' && typeof value === 'number') {
      if (value < 120) return `${value.toFixed(1)} s`;
      if (value < 7200) return `${(value / 60).toFixed(1)} min`;
      return `${(value / 3600).toFixed(1)} h`;
    }
    if (typeof value === 'number') return `${Number.isInteger(value) ? value : value.toFixed(2)}${unit === '%' ? ' %' : ''}`;
    return String(value);
  }

  function panelFor(query) {
    let panel = state.panels.get(query.name);
    if (panel) return panel;
    const el = document.createElement('section');
    el.className = `panel ${query.dashboard.chart}`;
    el.dataset.query = query.name;
    el.dataset.state = 'loading';
    el.innerHTML = '<h2><span class="title"></span><small class="meta"></small></h2><div class="body"><p class="message">Loading…</p></div>';
    el.querySelector('.title').textContent = query.dashboard.title;
    el.title = query.description;
    $('panels').appendChild(el);
    panel = { el, query, chart: undefined, seriesKey: '' };
    state.panels.set(query.name, panel);
    return panel;
  }

  function setMessage(panel, text, stateName) {
    if (panel.chart) {
      panel.chart.destroy();
      panel.chart = undefined;
    }
    const body = panel.el.querySelector('.body');
    body.innerHTML = '';
    const p = document.createElement('p');
    p.className = 'message';
    p.textContent = text;
    body.appendChild(p);
    panel.el.dataset.state = stateName;
  }

  /** Columns by name, rows as objects. */
  function records(result) {
    const names = result.columns.map((c) => c.name);
    return result.rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row[i]])));
  }

  /** uPlot data: one x array (every bucket of the window) and one y array per series. */
  function toSeries(panel, rows, win, bucket) {
    const d = panel.query.dashboard;
    const step = BUCKET_SECONDS[bucket];
    const xs = [];
    for (let t = Math.floor(win.from.getTime() / 1000 / step) * step; t < win.to.getTime() / 1000; t += step) xs.push(t);
    const index = new Map(xs.map((x, i) => [x, i]));
    const fill = d.missing === 'gap' ? null : 0;
    const series = new Map();
    const add = (name, x, value) => {
      if (!series.has(name)) series.set(name, xs.map(() => fill));
      const i = index.get(x);
      if (i !== undefined) series.get(name)[i] = value === null || value === undefined ? fill : Number(value);
    };
    for (const row of rows) {
      const x = toEpochSeconds(row[d.x]);
      if (d.series) add(String(row[d.series]), x, row[d.y[0]]);
      else for (const y of d.y) add(y, x, row[y]);
    }
    if (series.size === 0) for (const y of d.series ? [] : d.y) series.set(y, xs.map(() => fill));
    const names = [...series.keys()].sort();
    return { names, data: [xs, ...names.map((n) => series.get(n))] };
  }

  function renderChart(panel, rows, win, bucket) {
    const d = panel.query.dashboard;
    const { names, data } = toSeries(panel, rows, win, bucket);
    const summary = { rows: rows.length, series: {} };
    names.forEach((name, i) => (summary.series[name] = data[i + 1].reduce((s, v) => s + (v || 0), 0)));
    panel.el.dataset.summary = JSON.stringify(summary);
    if (names.length === 0) {
      setMessage(panel, 'No data in this range.', 'empty');
      return;
    }
    const body = panel.el.querySelector('.body');
    const width = Math.max(300, body.clientWidth || panel.el.clientWidth - 28);
    const key = `${d.chart}|${names.join(',')}`;
    if (panel.chart && panel.seriesKey === key) {
      panel.chart.setData(data);
    } else {
      if (panel.chart) panel.chart.destroy();
      body.innerHTML = '';
      const bars = d.chart === 'bar' && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
      panel.chart = new uPlot(
        {
          width,
          height: 240,
          scales: { x: { time: true } },
          axes: [{}, { label: d.unit || '', size: 60 }],
          series: [
            {},
            ...names.map((name, i) => ({
              label: name,
              stroke: COLORS[i % COLORS.length],
              width: 2,
              fill: d.chart === 'bar' ? `${COLORS[i % COLORS.length]}99` : undefined,
              paths: bars,
              value: (_u, v) => formatValue(v, d.unit),
              spanGaps: false,
            })),
          ],
        },
        data,
        body,
      );
      panel.seriesKey = key;
    }
    panel.el.dataset.state = 'ready';
  }

  function renderStat(panel, rows) {
    const d = panel.query.dashboard;
    const row = rows[0] || {};
    const [main, ...rest] = d.y;
    if (panel.chart) {
      panel.chart.destroy();
      panel.chart = undefined;
    }
    const body = panel.el.querySelector('.body');
    body.innerHTML = '';
    const value = document.createElement('div');
    value.className = 'value';
    const v = row[main];
    value.textContent = formatValue(v, d.unit);
    if (typeof v === 'number' && d.unit === 'seconds') value.classList.add(v > 600 ? 'bad' : v > 120 ? 'warn' : 'ok');
    body.appendChild(value);
    const details = document.createElement('div');
    details.className = 'details';
    details.textContent = rest.map((name) => `${name.replace(/_/g, ' ')}: ${formatValue(row[name])}`).join(' · ');
    body.appendChild(details);
    panel.el.dataset.summary = JSON.stringify(Object.fromEntries(d.y.map((name) => [name, row[name] ?? null])));
    panel.el.dataset.state = v === null || v === undefined ? 'empty' : 'ready';
  }

  async function refreshPanel(panel, win) {
    const declared = new Set(panel.query.parameters.map((p) => p.name));
    const bucket = bucketFor(win.seconds);
    const parameters = {};
    if (declared.has('from')) parameters.from = win.from.toISOString();
    if (declared.has('to')) parameters.to = win.to.toISOString();
    if (declared.has('bucket')) parameters.bucket = bucket;
    try {
      const result = await api(`/v1/queries/${encodeURIComponent(panel.query.name)}/run`, { parameters, format: 'json', pageSize: 100000 });
      const rows = records(result);
      panel.el.dataset.rows = String(rows.length);
      panel.el.querySelector('.meta').textContent = `${result.cache.status === 'hit' ? `cached ${result.cache.ageSeconds} s` : `${result.stats.elapsedMs} ms`}`;
      if (panel.query.dashboard.chart === 'stat') renderStat(panel, rows);
      else renderChart(panel, rows, win, bucket);
    } catch (err) {
      panel.el.dataset.rows = '0';
      setMessage(panel, `Unavailable: ${err.message}`, 'error');
    }
  }

  async function refresh() {
    if (state.running || !state.token) return;
    state.running = true;
    $('panels').setAttribute('aria-busy', 'true');
    try {
      const win = timeWindow();
      // The window every panel was asked for, for people (the footer) and for tests.
      document.body.dataset.window = JSON.stringify({ from: win.from.toISOString(), to: win.to.toISOString(), bucket: bucketFor(win.seconds) });
      await Promise.all([...state.panels.values()].map((panel) => refreshPanel(panel, win)));
      $('updated').textContent = `Updated ${new Date().toLocaleTimeString()} · ${win.from.toLocaleString()} – ${win.to.toLocaleString()}`;
    } finally {
      state.running = false;
      $('panels').setAttribute('aria-busy', 'false');
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    }
  }

  function schedule() {
    clearInterval(state.timer);
    const seconds = Number($('refresh').value);
    if (seconds > 0) state.timer = setInterval(refresh, seconds * 1000);
  }

  /** Controls follow the URL (?range=6h&refresh=0), so a view can be shared as a link. */
  function applyUrl() {
    const params = new URLSearchParams(location.search);
    if (params.get('range') && $('range').querySelector(`option[value="${CSS.escape(params.get('range'))}"]`)) $('range').value = params.get('range');
    if (params.get('refresh') && $('refresh').querySelector(`option[value="${CSS.escape(params.get('refresh'))}"]`)) $('refresh').value = params.get('refresh');
    if (params.get('from')) $('from').value = params.get('from');
    if (params.get('to')) $('to').value = params.get('to');
    $('custom-range').hidden = $('range').value !== 'custom';
  }

  function saveUrl() {
    const params = new URLSearchParams({ range: $('range').value, refresh: $('refresh').value });
    if ($('range').value === 'custom') {
      params.set('from', $('from').value);
      params.set('to', $('to').value);
    }
    history.replaceState(null, '', `${location.pathname}?${params}${location.hash}`);
  }

  async function start() {
    state.token = readToken();
    if (!state.token) return showLogin();
    $('login').hidden = true;
    $('panels').hidden = false;
    try {
      const { queries } = await api('/v1/queries');
      state.queries = queries.filter((q) => q.dashboard).sort((a, b) => a.dashboard.order - b.dashboard.order);
    } catch (err) {
      if (err.code !== 'invalid_token' && err.code !== 'unauthorized') showLogin(err.message);
      return;
    }
    state.queries.forEach(panelFor);
    schedule();
    await refresh();
  }

  $('range').addEventListener('change', () => {
    $('custom-range').hidden = $('range').value !== 'custom';
    saveUrl();
    if ($('range').value !== 'custom') void refresh();
  });
  $('refresh').addEventListener('change', () => {
    saveUrl();
    schedule();
  });
  $('controls').addEventListener('submit', (event) => {
    event.preventDefault();
    saveUrl();
    void refresh();
  });
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, $('token').value.trim());
    void start();
  });
  window.addEventListener('resize', () => {
    for (const panel of state.panels.values()) {
      if (panel.chart) panel.chart.setSize({ width: Math.max(300, panel.el.querySelector('.body').clientWidth), height: 240 });
    }
  });

  applyUrl();
  void start();
})();
