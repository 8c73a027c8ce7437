import { buildReport, coresChart, crop, denseHistogram, meets, parseTarget, ratioRows, type ResultFile } from './report-data';

describe('parseTarget', () => {
  it.each([
    ['vs_perf_test', { min: 0.3, ok: false }, { key: 'vs_perf_test', target: { op: '>=', value: 0.3 } }],
    ['rss_burst_mb', { max: 300, ok: true }, { key: 'rss_burst_mb', target: { op: '<=', value: 300 } }],
    ['encode_vs_duckdb', '>= 0.25', { key: 'encode_vs_duckdb', target: { op: '>=', value: 0.25 } }],
    ['freshness_p95_s', '<= 10', { key: 'freshness_p95_s', target: { op: '<=', value: 10 } }],
    ['lost', 0, { key: 'lost', target: { op: '==', value: 0 } }],
    ['tx_vs_noop_min', 0.4, { key: 'tx_vs_noop', target: { op: '>=', value: 0.4 } }],
    ['tx_cost_vs_at_least_once_max', 0.4, { key: 'tx_cost_vs_at_least_once', target: { op: '<=', value: 0.4 } }],
    ['x', '= 3', { key: 'x', target: { op: '==', value: 3 } }],
  ])('reads %s: %j', (key, raw, expected) => {
    expect(parseTarget(key, raw)).toEqual(expected);
  });

  it.each([['x', 'about ten'], ['x', { ok: true }], ['x', null], ['x', [1]]])('ignores %s: %j', (key, raw) => {
    expect(parseTarget(key, raw)).toBeNull();
  });

  it('compares inclusively', () => {
    expect([meets(0.3, { op: '>=', value: 0.3 }), meets(10, { op: '<=', value: 10 }), meets(0, { op: '==', value: 0 }), meets(1, { op: '==', value: 0 })]).toEqual([true, true, true, false]);
  });
});

describe('ratioRows', () => {
  it('lists every ratio, then targeted metrics, with verdicts from the values (not the file’s own ok)', () => {
    const file: ResultFile = {
      file: 'collector.json',
      json: {
        name: 'collector',
        date: '2026-11-27T05:49:36.033Z',
        metrics: { rss_burst_mb: 232.4, lost_acked_events: 0 },
        ratios: { vs_perf_test: 0.225, vs_bare_kafkajs: 0.741 },
        targets: { vs_perf_test: { min: 0.3, ok: true }, rss_burst_mb: { max: 300 }, lost_acked_events: { max: 0 } },
      },
    };
    expect(ratioRows(file)).toEqual([
      { bench: 'collector', key: 'vs_perf_test', kind: 'ratio', value: 0.225, target: { op: '>=', value: 0.3 }, pass: false, date: '2026-11-27T05:49:36.033Z' },
      { bench: 'collector', key: 'vs_bare_kafkajs', kind: 'ratio', value: 0.741, target: null, pass: null, date: '2026-11-27T05:49:36.033Z' },
      { bench: 'collector', key: 'rss_burst_mb', kind: 'metric', value: 232.4, target: { op: '<=', value: 300 }, pass: true, date: '2026-11-27T05:49:36.033Z' },
      { bench: 'collector', key: 'lost_acked_events', kind: 'metric', value: 0, target: { op: '<=', value: 0 }, pass: true, date: '2026-11-27T05:49:36.033Z' },
    ]);
  });

  it('reads suffixed targets of ratios and metrics, and leaves a verdict open when the value is missing', () => {
    const rows = ratioRows({
      file: 'processor.json',
      json: { name: 'processor', metrics: { tx_events_per_s_per_core: 15874 }, ratios: { tx_vs_noop: 0.08 }, targets: { tx_vs_noop_min: 0.4, tx_events_per_s_per_core_min: 25000, nowhere_max: 3 } },
    });
    expect(rows.map((r) => [r.key, r.kind, r.value, r.pass])).toEqual([
      ['tx_vs_noop', 'ratio', 0.08, false],
      ['tx_events_per_s_per_core', 'metric', 15874, false],
      ['nowhere', 'metric', null, null],
    ]);
  });

  it('names the bench after the file when the result has no name, and survives a result without ratios', () => {
    expect(ratioRows({ file: 'odd.json', json: { targets: { lost: 0 }, metrics: { lost: 2 } } })).toEqual([{ bench: 'odd', key: 'lost', kind: 'metric', value: 2, target: { op: '==', value: 0 }, pass: false, date: null }]);
    expect(ratioRows({ file: 'empty.json', json: [] })).toEqual([]);
  });
});

describe('chart helpers', () => {
  it('fills the empty buckets of a sparse histogram and labels buckets by their upper edge in seconds', () => {
    expect(denseHistogram({ width: 100, buckets: [[0, 2], [3, 5]] })).toEqual({ x: [0.1, 0.2, 0.3, 0.4], counts: [2, 0, 0, 5] });
    expect(denseHistogram({ width: 100, buckets: [] })).toEqual({ x: [], counts: [] });
  });

  it('crops every series to the x range, inclusive', () => {
    expect(crop([0, 1, 2, 3, 4], [[10, 11, 12, 13, 14], [null, 1, null, 3, 4]], 1, 3)).toEqual({ x: [1, 2, 3], series: [[11, 12, 13], [1, null, 3]] });
  });
});

/** A small end-to-end result in the shape bench/e2e/run.ts writes. */
function e2eResult(): ResultFile {
  const t = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  return {
    file: 'e2e.json',
    json: {
      name: 'e2e',
      date: '2026-11-27T09:00:00.000Z',
      machine: { load_average_at_start: [3.1, 2.5, 2] },
      metrics: { pipeline_events_per_sec: 5200, freshness_p95_s: 4.2, lost: 0, duplicates: 0, max_rss_mb: 410, lag_drain_s: 2, lag_drain_threshold: 900 },
      ratios: { pipeline_vs_perf_test: 0.04, max_rss_vs_cap: 0.3 },
      targets: { pipeline_vs_perf_test: { min: 0.15 }, freshness_p95_s: { max: 10 }, lost: { max: 0 }, duplicates: { max: 0 } },
      series: {
        phases: [
          { name: 'warm-up', start: 0, end: 1, rate: 500 },
          { name: 'ramp-2000', start: 1, end: 4, rate: 2000 },
          { name: 'burst', start: 4, end: 9, rate: 200 },
        ],
        burst_window: { start: 4, burst_start: 5, burst_end: 7, end: 9 },
        throughput: { bucket_s: 5, t: [0, 5], offered: [1000, 2000], acked: [990, 1990], lake: [900, 2100] },
        lag: { t, processor: t.map((x) => x * 10), compactor: t.map(() => 3), compactor_buffered_rows: t.map(() => 100), backlog: t.map((x) => x * 100) },
        rss: { t, producer: t.map(() => 200), 'stream-processor': t.map(() => 250), compactor: t.map((x) => 400 + x), 'query-api': t.map(() => 120), caps: { producer: 512, 'stream-processor': 768, compactor: 2048, 'query-api': 512 } },
        freshness_histogram: { bucket_ms: 100, sustained: [[20, 5], [45, 1]], burst: [[90, 2]] },
        freshness_over_time: { bucket_s: 5, t: [0, 5], p50: [2, null], p95: [4, null], max: [5, null], events: [10, 0] },
      },
    },
  };
}

describe('buildReport', () => {
  it('says what is missing when there is no end-to-end, soak or fault run', () => {
    const report = buildReport([], new Date('2026-11-27T10:00:00Z'));
    expect(report.sections.map((s) => [s.id, s.empty, s.charts.length])).toEqual([
      ['e2e', 'no end-to-end run recorded (npm run bench:e2e writes bench/results/e2e.json)', 0],
      ['soak', 'no soak run recorded (npm run bench:soak writes bench/results/soak.json)', 0],
      ['faults', 'no fault run recorded', 0],
    ]);
    expect(report.generatedAt).toBe('2026-11-27T10:00:00.000Z');
  });

  it('charts an end-to-end run from its series', () => {
    const report = buildReport([e2eResult()], new Date());
    const e2e = report.sections[0];
    expect(e2e?.empty).toBeNull();
    const charts = Object.fromEntries((e2e?.charts ?? []).map((c) => [c.id, c]));
    expect(Object.keys(charts)).toEqual(['e2e-throughput', 'e2e-freshness-histogram', 'e2e-burst-lag', 'e2e-rss', 'e2e-freshness-over-time']);
    expect(charts['e2e-throughput']).toMatchObject({ x: [0, 5], series: [{ values: [1000, 2000] }, { values: [990, 1990] }, { values: [900, 2100] }] });
    expect(charts['e2e-throughput']?.marks).toEqual([
      { x: 1, label: 'ramp-2000' },
      { x: 5, label: 'burst ×10' },
      { x: 7, label: 'burst end' },
    ]);
    const hist = charts['e2e-freshness-histogram'];
    expect(hist?.x).toHaveLength(46);
    expect(hist?.series[0]?.values.reduce((a, b) => (a as number) + (b as number), 0)).toBe(6);
    expect(hist?.marks).toEqual([
      { x: 2.1, label: 'p50' },
      { x: 4.6, label: 'p95' },
    ]);
    const lag = charts['e2e-burst-lag'];
    expect(lag?.x).toEqual(t(0, 9));
    expect(lag?.series.map((s) => s.label)).toEqual(['stream processor lag', 'compactor lag', 'compactor buffered rows', 'backlog (acknowledged − committed)']);
    expect(lag?.marks.at(-1)).toEqual({ x: 9, label: 'lag drained' });
    expect(charts['e2e-rss']?.series.map((s) => s.label)).toEqual(['producer (cap 512 MB)', 'stream-processor (cap 768 MB)', 'compactor (cap 2,048 MB)', 'query-api (cap 512 MB)']);
    expect(charts['e2e-freshness-over-time']?.series[2]).toEqual({ label: 'target (p95)', values: [10, 10], dash: true });
    expect(report.ratios.map((r) => [r.key, r.pass])).toEqual([
      ['pipeline_vs_perf_test', false],
      ['max_rss_vs_cap', null],
      ['freshness_p95_s', true],
      ['lost', true],
      ['duplicates', true],
    ]);
    expect(report.sources).toEqual([{ file: 'e2e.json', name: 'e2e', date: '2026-11-27T09:00:00.000Z', loadAverage: [3.1, 2.5, 2] }]);
  });

  it('draws fitted trend lines of a soak from the fit start on', () => {
    const report = buildReport(
      [
        {
          file: 'soak.json',
          json: {
            name: 'soak',
            metrics: { minutes: 3, warmup_minutes: 0.2, rate_events_per_sec: 100, upward_trends: [] },
            ratios: {},
            series: {
              t: [0, 10, 20, 30],
              fit_from_s: 10,
              rss: { producer: [100, 110, 120, 130], caps: { producer: 512 } },
              lag: { processor: [0, 1, 2, 3], compactor: [0, 0, 0, 0] },
              freshness: { t: [0, 10, 20, 30], p50: [1, 1, 1, 1], p95: [2, 2, 2, 2] },
              fits: { rss: { producer: { slope_per_s: 1, intercept: 100 } }, lag: { slope_per_s: 0.1, intercept: 0 } },
            },
          },
        },
      ],
      new Date(),
    );
    const soak = report.sections.find((s) => s.id === 'soak');
    expect(soak?.figures).toContainEqual(['upward trends', 'none']);
    expect(soak?.figures).toContainEqual(['run', '0.2 min warm-up, then 3 min at 100 events/s']);
    const rss = soak?.charts.find((c) => c.id === 'soak-rss');
    expect(rss?.series).toEqual([
      { label: 'producer (cap 512 MB)', values: [100, 110, 120, 130] },
      { label: 'producer trend', values: [null, 110, 120, 130], dash: true, sameColorAs: 'producer (cap 512 MB)' },
    ]);
    expect(soak?.charts.find((c) => c.id === 'soak-lag')?.series[2]?.values).toEqual([null, 1, 2, 3]);
  });

  it('draws each timeline of a faults.json, and says so when it has none', () => {
    const faults = (json: unknown) => buildReport([{ file: 'faults.json', json }], new Date()).sections.find((s) => s.id === 'faults');
    const drawn = faults({ name: 'faults', timelines: [{ name: 'broker restart', t: [0, 1], series: { lag: [0, 5] }, marks: [{ t: 1, label: 'down' }] }] });
    expect(drawn?.empty).toBeNull();
    expect(drawn?.charts).toEqual([{ id: 'fault-1', title: 'broker restart', kind: 'line', xLabel: 's', yLabel: '', x: [0, 1], series: [{ label: 'lag', values: [0, 5] }], marks: [{ x: 1, label: 'down' }], caption: '' }]);
    expect(faults({ name: 'faults', series: { timelines: [{ t: [0], series: { a: [1] } }] } })?.charts[0]?.title).toBe('fault 1');
    expect(faults({ name: 'faults', metrics: {} })?.empty).toBe('faults.json has no timelines to draw');
  });
});

function t(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('coresChart', () => {
  it('plots each process by offered rate, busiest first, without disturbed steps or idle processes', () => {
    const ramp = [
      { rate: 4000, sustained: false, disturbed: false, cores: { kafka: 0.3, 'stream-processor': 0.9, postgres: 0.01, machine: 1.3, other: 0.09 } },
      { rate: 1000, sustained: true, disturbed: false, cores: { kafka: 0.2, 'stream-processor': 0.2, postgres: 0.0, machine: 0.5, other: 0.1 } },
      { rate: 2000, sustained: false, disturbed: true, cores: { kafka: 1, 'stream-processor': 1, machine: 2 } },
      { rate: 3000, sustained: true, disturbed: false },
    ];
    const chart = coresChart(ramp);
    expect(chart?.x).toEqual([1000, 4000]);
    expect(chart?.series.map((s) => [s.label, s.values])).toEqual([
      ['stream-processor', [0.2, 0.9]],
      ['kafka', [0.2, 0.3]],
      ['other', [0.1, 0.09]],
      ['whole machine', [0.5, 1.3]],
    ]);
    expect(chart?.caption).toContain('1,000/s sustained, 4,000/s not sustained');
  });

  it('is absent for a run recorded before the cores were sampled', () => {
    expect(coresChart([{ rate: 1000, sustained: true }])).toBeNull();
    expect(coresChart(undefined)).toBeNull();
  });
});
