/* The benchmark report page: draws what report.json (inlined as #report-data) describes. */
/* global uPlot */
(function report() {
  'use strict';

  const COLORS = ['#2e90fa', '#f79009', '#12b76a', '#9e77ed', '#f04438', '#0ba5ec', '#ee46bc', '#667085'];
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const main = document.getElementById('report');

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function formatNumber(v) {
    if (v === null || v === undefined) return 'n/a';
    if (Number.isInteger(v)) return v.toLocaleString('en-US');
    return String(Math.round(v * 1000) / 1000);
  }

  /** What a chart holds, from the uPlot instance's own data: checked against report.json by the tests. */
  function summarize(u, chart) {
    const series = {};
    chart.series.forEach((s, i) => {
      const values = u.data[i + 1] || [];
      let count = 0;
      let sum = 0;
      for (const v of values) {
        if (v === null || v === undefined) continue;
        count++;
        sum += v;
      }
      series[s.label] = { count, sum: Math.round(sum * 1000) / 1000 };
    });
    const xs = u.data[0] || [];
    return { points: xs.length, first: xs.length ? xs[0] : null, last: xs.length ? xs[xs.length - 1] : null, series };
  }

  /** Vertical dashed lines with labels at each mark (phase changes, percentiles). */
  function marksPlugin(marks) {
    return {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const { top, height } = u.bbox;
            ctx.save();
            ctx.strokeStyle = '#98a2b3';
            ctx.fillStyle = '#475467';
            ctx.setLineDash([4, 4]);
            ctx.lineWidth = devicePixelRatio;
            ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
            marks.forEach((m, i) => {
              const x = Math.round(u.valToPos(m.x, 'x', true));
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, top + height);
              ctx.stroke();
              ctx.fillText(m.label, x + 3 * devicePixelRatio, top + (12 + (i % 3) * 12) * devicePixelRatio);
            });
            ctx.restore();
          },
        ],
      },
    };
  }

  function renderChart(container, chart) {
    const box = el('div', { class: 'chart', 'data-chart-id': chart.id, 'data-state': 'loading' }, el('h3', {}, chart.title));
    const body = el('div', { class: 'plot' });
    box.append(body, el('p', { class: 'caption' }, chart.caption || ''));
    container.append(box);
    if (chart.x.length === 0) {
      box.dataset.state = 'empty';
      body.append(el('p', { class: 'empty' }, 'no samples'));
      box.dataset.summary = JSON.stringify({ points: 0, first: null, last: null, series: {} });
      return;
    }
    // Own colours in order, skipping series that take another's colour (a fitted line and its data).
    const own = chart.series.filter((s) => !s.sameColorAs).map((s) => s.label);
    const colors = chart.series.map((s) => COLORS[Math.max(0, own.indexOf(s.sameColorAs || s.label)) % COLORS.length]);
    box.dataset.colors = JSON.stringify(colors);
    const bars = chart.kind === 'bars' && uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 40] }) : undefined;
    const width = Math.max(360, (box.clientWidth || 600) - 24);
    const u = new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: chart.xLabel }, { label: chart.yLabel, size: 64 }],
        legend: { live: false },
        series: [
          { label: chart.xLabel },
          ...chart.series.map((s, i) => ({
            label: s.label,
            stroke: colors[i],
            width: s.dash ? 1.5 : 2,
            dash: s.dash ? [6, 4] : undefined,
            fill: chart.kind === 'bars' ? `${colors[i]}aa` : undefined,
            paths: bars,
            points: { show: false },
            spanGaps: false,
          })),
        ],
        plugins: [marksPlugin(chart.marks || [])],
      },
      [chart.x, ...chart.series.map((s) => s.values)],
      body,
    );
    box.dataset.summary = JSON.stringify(summarize(u, chart));
    box.dataset.state = 'ready';
  }

  function renderRatios() {
    const section = el('section', { id: 'ratios' }, el('h2', {}, 'Ratios and targets'));
    const sources = data.sources
      .map((s) => `${s.file} (${s.date ? s.date.slice(0, 16).replace('T', ' ') : 'no date'}${s.loadAverage ? `, load ${s.loadAverage.join(' / ')}` : ''})`)
      .join(' · ');
    section.append(el('p', { class: 'source' }, `From ${sources || 'no result files'}.`));
    const table = el('table', {});
    table.append(el('thead', {}, el('tr', {}, ...['bench', 'figure', 'kind', 'value', 'target', 'verdict'].map((h) => el('th', {}, h)))));
    const tbody = el('tbody', {});
    for (const r of data.ratios) {
      const verdict = r.pass === null ? '—' : r.pass ? 'pass' : 'fail';
      const row = el(
        'tr',
        { 'data-bench': r.bench, 'data-key': r.key },
        el('td', {}, r.bench),
        el('td', {}, r.key),
        el('td', {}, r.kind),
        el('td', { class: 'num' }, formatNumber(r.value)),
        el('td', {}, r.target ? `${r.target.op} ${r.target.value}` : '—'),
        el('td', { class: r.pass === null ? 'none' : r.pass ? 'pass' : 'fail' }, verdict),
      );
      tbody.append(row);
    }
    table.append(tbody);
    section.append(table);
    main.append(section);
  }

  function renderSection(s) {
    const section = el('section', { id: s.id }, el('h2', {}, s.title));
    if (s.source) section.append(el('p', { class: 'source' }, `bench/results/${s.source}`));
    main.append(section);
    if (s.empty) {
      section.append(el('p', { class: 'empty' }, s.empty));
      return;
    }
    if (s.figures.length > 0) {
      const dl = el('dl', { class: 'figures' });
      for (const [k, v] of s.figures) dl.append(el('dt', {}, k), el('dd', {}, v));
      section.append(dl);
    }
    const charts = el('div', { class: 'charts' });
    section.append(charts);
    for (const chart of s.charts) renderChart(charts, chart);
  }

  try {
    renderRatios();
    for (const s of data.sections) renderSection(s);
  } finally {
    main.setAttribute('aria-busy', 'false');
  }
})();
