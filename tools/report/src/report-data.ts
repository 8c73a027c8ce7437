/**
 * Turns the bench result files (bench/results/*.json) into the report's data: one table row per
 * ratio or targeted metric of every file (target and pass/fail worked out here, whatever form the
 * file wrote its target in), and chart definitions for the end-to-end run, the soak and the fault
 * runs. The page draws exactly these charts, so report.json is the single source of the HTML.
 */
import { histogramQuantile, round, type Histogram } from './stats';

export interface ResultFile {
  /** File name inside the results directory, e.g. e2e.json. */
  file: string;
  json: unknown;
}

export interface Mark {
  x: number;
  label: string;
}

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** Drawn dashed (fitted lines, reference levels). */
  dash?: boolean;
  /** Label of the series whose colour this one takes (a fitted line and its data). */
  sameColorAs?: string;
}

export interface Chart {
  id: string;
  title: string;
  kind: 'line' | 'bars';
  xLabel: string;
  yLabel: string;
  x: number[];
  series: ChartSeries[];
  marks: Mark[];
  caption: string;
}

export interface Section {
  id: string;
  title: string;
  source: string | null;
  /** Shown instead of charts when the section has no data. */
  empty: string | null;
  figures: Array<[string, string]>;
  charts: Chart[];
}

export type Comparison = '>=' | '<=' | '==';

export interface RatioRow {
  bench: string;
  key: string;
  kind: 'ratio' | 'metric';
  value: number | null;
  target: { op: Comparison; value: number } | null;
  pass: boolean | null;
  date: string | null;
}

export interface ReportData {
  generatedAt: string;
  sources: Array<{ file: string; name: string; date: string | null; loadAverage: number[] | null }>;
  ratios: RatioRow[];
  sections: Section[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const numbers = (v: unknown): Array<number | null> => (Array.isArray(v) ? v.map(asNumber) : []);
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((at, key) => (isObject(at) ? at[key] : undefined), o);

/**
 * A target in any of the forms the bench files use: `{min}`/`{max}` objects, strings such as
 * ">= 0.25" or "<= 10", or a bare number (equality for counts; `_min`/`_max` key suffixes make it a bound).
 */
export function parseTarget(key: string, raw: unknown): { key: string; target: { op: Comparison; value: number } } | null {
  const bare = key.replace(/_(min|max)$/, '');
  if (isObject(raw)) {
    if (asNumber(raw['min']) !== null) return { key: bare, target: { op: '>=', value: raw['min'] as number } };
    if (asNumber(raw['max']) !== null) return { key: bare, target: { op: '<=', value: raw['max'] as number } };
    return null;
  }
  if (typeof raw === 'string') {
    const m = /^\s*(>=|<=|==|=)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(raw);
    if (!m) return null;
    return { key: bare, target: { op: m[1] === '=' ? '==' : (m[1] as Comparison), value: Number(m[2]) } };
  }
  if (asNumber(raw) !== null) {
    if (key.endsWith('_min')) return { key: bare, target: { op: '>=', value: raw as number } };
    if (key.endsWith('_max')) return { key: bare, target: { op: '<=', value: raw as number } };
    return { key, target: { op: '==', value: raw as number } };
  }
  return null;
}

export function meets(value: number, target: { op: Comparison; value: number }): boolean {
  if (target.op === '>=') return value >= target.value;
  if (target.op === '<=') return value <= target.value;
  return value === target.value;
}

/** Every ratio of a result file, then every targeted metric that is not a ratio, each with its target and verdict. */
export function ratioRows(file: ResultFile): RatioRow[] {
  const json = file.json;
  const bench = typeof get(json, 'name') === 'string' ? (get(json, 'name') as string) : file.file.replace(/\.json$/, '');
  const date = typeof get(json, 'date') === 'string' ? (get(json, 'date') as string) : null;
  const ratios = isObject(get(json, 'ratios')) ? (get(json, 'ratios') as Json) : {};
  const metrics = isObject(get(json, 'metrics')) ? (get(json, 'metrics') as Json) : {};
  const targets = new Map<string, { op: Comparison; value: number }>();
  for (const [key, raw] of Object.entries(isObject(get(json, 'targets')) ? (get(json, 'targets') as Json) : {})) {
    const parsed = parseTarget(key, raw);
    if (parsed) targets.set(parsed.key, parsed.target);
  }
  const row = (key: string, kind: RatioRow['kind'], value: number | null): RatioRow => {
    const target = targets.get(key) ?? null;
    return { bench, key, kind, value, target, pass: target === null || value === null ? null : meets(value, target), date };
  };
  const rows = Object.entries(ratios).map(([key, v]) => row(key, 'ratio', asNumber(v)));
  for (const key of targets.keys()) if (!(key in ratios)) rows.push(row(key, 'metric', asNumber(metrics[key])));
  return rows;
}

/** Evenly spaced bucket edges 0..max with a count for every bucket (zeros filled), from a sparse histogram. */
export function denseHistogram(h: Histogram): { x: number[]; counts: number[] } {
  const last = h.buckets.length === 0 ? -1 : (h.buckets[h.buckets.length - 1] as [number, number])[0];
  const counts = new Array<number>(last + 1).fill(0);
  for (const [bucket, n] of h.buckets) if (bucket >= 0) counts[bucket] = (counts[bucket] as number) + n;
  return { x: counts.map((_, i) => round(((i + 1) * h.width) / 1000, 3)), counts };
}

/** The samples of a series whose x lies in [from, to]. */
export function crop(x: readonly number[], series: ReadonlyArray<ReadonlyArray<number | null>>, from: number, to: number): { x: number[]; series: Array<Array<number | null>> } {
  const keep = x.map((v, i) => (v >= from && v <= to ? i : -1)).filter((i) => i >= 0);
  return { x: keep.map((i) => x[i] as number), series: series.map((s) => keep.map((i) => s[i] ?? null)) };
}

const APPS = ['producer', 'stream-processor', 'compactor', 'query-api'] as const;

const fmt = (v: unknown, unit = ''): string => {
  if (typeof v === 'number') return `${Number.isInteger(v) ? v.toLocaleString('en-US') : round(v, 3)}${unit}`;
  if (v === null || v === undefined) return 'n/a';
  return String(v);
};

/** Cores each process used at each ramp step (bench:e2e `metrics.ramp[].cores`), by offered rate. */
export function coresChart(ramp: unknown): Chart | null {
  const steps = (Array.isArray(ramp) ? ramp : []).filter((s): s is Json => isObject(s) && isObject(s['cores']) && asNumber(s['rate']) !== null && s['disturbed'] !== true);
  if (steps.length === 0) return null;
  steps.sort((a, b) => (a['rate'] as number) - (b['rate'] as number));
  const names = [...new Set(steps.flatMap((s) => Object.keys(s['cores'] as Json)))].filter((n) => n !== 'machine');
  // Busiest first (by their most loaded step); processes that never reach 0.02 cores are left out.
  const peak = (n: string) => Math.max(...steps.map((s) => asNumber(get(s, 'cores', n)) ?? 0));
  const shown = names.filter((n) => peak(n) >= 0.02).sort((a, b) => peak(b) - peak(a));
  return {
    id: 'e2e-cores',
    title: 'Where the cores go: CPU per process at each ramp step',
    kind: 'line',
    xLabel: 'offered events/s',
    yLabel: 'cores',
    x: steps.map((s) => s['rate'] as number),
    series: [
      ...shown.map((n) => ({ label: n, values: steps.map((s) => asNumber(get(s, 'cores', n))) })),
      { label: 'whole machine', values: steps.map((s) => asNumber(get(s, 'cores', 'machine'))), dash: true },
    ],
    marks: [],
    caption: `User + system CPU time of each process tree (/proc) after each step's first quarter, divided by wall time; "other" is the machine's busy time outside them. Steps: ${steps.map((s) => `${fmt(s['rate'])}/s ${s['sustained'] === true ? 'sustained' : 'not sustained'}`).join(', ')}.`,
  };
}

function e2eSection(file: ResultFile | undefined): Section {
  const section: Section = { id: 'e2e', title: 'End to end: collector → Kafka → processor → compactor → Trino', source: file?.file ?? null, empty: null, figures: [], charts: [] };
  if (!file) return { ...section, empty: 'no end-to-end run recorded (npm run bench:e2e writes bench/results/e2e.json)' };
  const j = file.json;
  const m = (k: string) => get(j, 'metrics', k);
  section.figures = [
    ['sustained pipeline', `${fmt(m('pipeline_events_per_sec'))} events/s visible in the lake`],
    ['kafka-producer-perf-test', `${fmt(m('perf_test_records_per_sec'))} records/s (${fmt(m('perf_test_record_bytes'))} B, acks=all, ${fmt(m('perf_test_compression'))})`],
    ['pipeline / perf-test', fmt(get(j, 'ratios', 'pipeline_vs_perf_test'))],
    ['freshness at that rate', `p50 ${fmt(m('freshness_p50_s'))} s, p95 ${fmt(m('freshness_p95_s'))} s, max ${fmt(m('freshness_max_s'))} s`],
    ['2xx after received_at (markers)', `p50 ${fmt(m('ack_after_received_p50_ms'))} ms, p95 ${fmt(m('ack_after_received_p95_ms'))} ms`],
    ['burst', `${fmt(m('burst_base_events_per_sec'))}/s → ${fmt(m('burst_peak_events_per_sec'))}/s for ${fmt(m('burst_seconds'))} s; lag drained in ${fmt(m('lag_drain_s'))} s, freshness back under target after ${fmt(m('freshness_recovered_s'))} s`],
    ['acknowledged / lost / duplicates', `${fmt(m('acked_events'))} / ${fmt(m('lost'))} / ${fmt(m('duplicates'))}`],
    ['max RSS', `${fmt(m('max_rss_mb'))} MB (${APPS.map((a) => `${a} ${fmt(get(j, 'metrics', 'max_rss_mb_by_app', a))}/${fmt(get(j, 'metrics', 'rss_cap_mb_by_app', a))}`).join(', ')} MB of cap)`],
  ];
  const perEvent = m('sustained_cpu_us_per_event_by_process');
  if (isObject(perEvent)) {
    const busiest = Object.entries(perEvent).filter(([name, v]) => name !== 'machine' && asNumber(v) !== null && (v as number) > 0).sort((a, b) => (b[1] as number) - (a[1] as number));
    section.figures.push(['CPU per event at that rate', `${fmt(perEvent['machine'])} µs on the whole machine: ${busiest.map(([name, v]) => `${name} ${fmt(v)}`).join(', ')} µs`]);
  }
  const phases = Array.isArray(get(j, 'series', 'phases')) ? (get(j, 'series', 'phases') as Json[]) : [];
  const phaseMarks: Mark[] = phases.filter((p) => asNumber(p['start']) !== null && p['name'] !== 'warm-up').map((p) => ({ x: p['start'] as number, label: String(p['name']) }));
  const burst = get(j, 'series', 'burst_window');
  const burstMarks: Mark[] = isObject(burst)
    ? [
        { x: asNumber(burst['burst_start']) ?? 0, label: 'burst ×10' },
        { x: asNumber(burst['burst_end']) ?? 0, label: 'burst end' },
      ]
    : [];

  const tp = get(j, 'series', 'throughput');
  if (isObject(tp)) {
    section.charts.push({
      id: 'e2e-throughput',
      title: 'Throughput over time',
      kind: 'line',
      xLabel: 's since the load started',
      yLabel: 'events/s',
      x: numbers(tp['t']) as number[],
      series: [
        { label: 'offered (load generator)', values: numbers(tp['offered']) },
        { label: 'acknowledged (collector 2xx)', values: numbers(tp['acked']) },
        { label: 'visible in the lake (commits)', values: numbers(tp['lake']) },
      ],
      marks: [...phaseMarks.filter((mk) => !mk.label.startsWith('burst')), ...burstMarks],
      caption: `Per ${fmt(tp['bucket_s'])} s: ramp steps of rising rate, then the burst. "visible" counts rows by the commit time of the snapshot that added them.`,
    });
  }

  const cores = coresChart(m('ramp'));
  if (cores !== null) section.charts.push(cores);

  const fh = get(j, 'series', 'freshness_histogram');
  if (isObject(fh) && Array.isArray(fh['sustained'])) {
    const h: Histogram = { width: asNumber(fh['bucket_ms']) ?? 100, buckets: (fh['sustained'] as Array<[number, number]>).filter((p) => Array.isArray(p) && p.length === 2) };
    const dense = denseHistogram(h);
    section.charts.push({
      id: 'e2e-freshness-histogram',
      title: 'Freshness at the sustained rate',
      kind: 'bars',
      xLabel: 'seconds from received_at to commit (bucket upper edge)',
      yLabel: 'events',
      x: dense.x,
      series: [{ label: `events (rate ${fmt(m('sustained_step_offered_per_sec'))}/s)`, values: dense.counts }],
      marks: [
        { x: round(histogramQuantile(h, 0.5) / 1000, 3), label: 'p50' },
        { x: round(histogramQuantile(h, 0.95) / 1000, 3), label: 'p95' },
      ],
      caption: `${fmt(m('freshness_events'))} events of the sustained step, ${h.width} ms buckets; target p95 ≤ 10 s.`,
    });
  }

  const lag = get(j, 'series', 'lag');
  if (isObject(lag) && isObject(burst)) {
    const from = (asNumber(burst['start']) ?? 0) - 10;
    const to = (asNumber(burst['end']) ?? 0) + 10;
    const cropped = crop(numbers(lag['t']) as number[], [numbers(lag['processor']), numbers(lag['compactor']), numbers(lag['compactor_buffered_rows']), numbers(lag['backlog'])], from, to);
    const drain = asNumber(m('lag_drain_s'));
    section.charts.push({
      id: 'e2e-burst-lag',
      title: 'Consumer lag during the burst',
      kind: 'line',
      xLabel: 's since the load started',
      yLabel: 'records',
      x: cropped.x,
      series: [
        { label: 'stream processor lag', values: cropped.series[0] as Array<number | null> },
        { label: 'compactor lag', values: cropped.series[1] as Array<number | null> },
        { label: 'compactor buffered rows', values: cropped.series[2] as Array<number | null> },
        { label: 'backlog (acknowledged − committed)', values: cropped.series[3] as Array<number | null>, dash: true },
      ],
      marks: [...burstMarks, ...(drain !== null && isObject(burst) ? [{ x: round((asNumber(burst['burst_end']) ?? 0) + drain, 1), label: 'lag drained' }] : [])],
      caption: `From /metrics every second. Drained (lag + buffered back under ${fmt(m('lag_drain_threshold'))} records) ${fmt(drain)} s after the burst; backlog back to its level before the burst after ${fmt(m('backlog_drain_s'))} s.`,
    });
  }

  const rss = get(j, 'series', 'rss');
  if (isObject(rss)) {
    section.charts.push({
      id: 'e2e-rss',
      title: 'RSS per process',
      kind: 'line',
      xLabel: 's since the load started',
      yLabel: 'MB',
      x: numbers(rss['t']) as number[],
      series: APPS.filter((a) => Array.isArray(rss[a])).map((a) => ({ label: `${a} (cap ${fmt(get(rss, 'caps', a))} MB)`, values: numbers(rss[a]) })),
      marks: burstMarks,
      caption: 'Resident set size from /proc every second; caps are the Helm chart’s memory limits.',
    });
  }

  const fot = get(j, 'series', 'freshness_over_time');
  if (isObject(fot)) {
    const x = numbers(fot['t']) as number[];
    section.charts.push({
      id: 'e2e-freshness-over-time',
      title: 'Freshness over time',
      kind: 'line',
      xLabel: 's since the load started (received_at)',
      yLabel: 's',
      x,
      series: [
        { label: 'p50', values: numbers(fot['p50']) },
        { label: 'p95', values: numbers(fot['p95']) },
        { label: 'target (p95)', values: x.map(() => 10), dash: true },
      ],
      marks: burstMarks,
      caption: `Per ${fmt(fot['bucket_s'])} s of received_at. Back under target ${fmt(m('freshness_recovered_s'))} s after the burst.`,
    });
  }
  return section;
}

function soakSection(file: ResultFile | undefined): Section {
  const section: Section = { id: 'soak', title: 'Soak: steady rate, memory and lag trends', source: file?.file ?? null, empty: null, figures: [], charts: [] };
  if (!file) return { ...section, empty: 'no soak run recorded (npm run bench:soak writes bench/results/soak.json)' };
  const j = file.json;
  const m = (k: string) => get(j, 'metrics', k);
  const upward = get(j, 'metrics', 'upward_trends');
  section.figures = [
    ['run', `${m('warmup_minutes') === undefined ? '' : `${fmt(m('warmup_minutes'))} min warm-up, then `}${fmt(m('minutes'))} min at ${fmt(m('rate_events_per_sec'))} events/s`],
    ['upward trends', Array.isArray(upward) ? (upward.length === 0 ? 'none' : upward.join(', ')) : 'n/a'],
    ['rule', fmt(m('trend_rule'))],
    ['freshness', `p50 ${fmt(m('freshness_p50_s'))} s, p95 ${fmt(m('freshness_p95_s'))} s`],
    ['lost / duplicates', `${fmt(m('lost'))} / ${fmt(m('duplicates'))}`],
  ];
  const t = numbers(get(j, 'series', 't')) as number[];
  const fitFrom = asNumber(get(j, 'series', 'fit_from_s')) ?? 0;
  const line = (fit: unknown) => {
    const slope = asNumber(get(fit, 'slope_per_s'));
    const intercept = asNumber(get(fit, 'intercept'));
    return t.map((x) => (slope === null || intercept === null || x < fitFrom ? null : round(intercept + slope * x, 2)));
  };
  const rss = get(j, 'series', 'rss');
  if (isObject(rss)) {
    section.charts.push({
      id: 'soak-rss',
      title: 'RSS per process, with fitted trends',
      kind: 'line',
      xLabel: 's',
      yLabel: 'MB',
      x: t,
      series: APPS.filter((a) => Array.isArray(rss[a])).flatMap((a) => [
        { label: `${a} (cap ${fmt(get(rss, 'caps', a))} MB)`, values: numbers(rss[a]) },
        { label: `${a} trend`, values: line(get(j, 'series', 'fits', 'rss', a)), dash: true, sameColorAs: `${a} (cap ${fmt(get(rss, 'caps', a))} MB)` },
      ]),
      marks: [{ x: fitFrom, label: 'fit from' }],
      caption: `Slopes (MB/h): ${APPS.map((a) => `${a} ${fmt(get(j, 'metrics', 'rss_trend_mb', a, 'slope_per_hour'))}`).join(', ')}.`,
    });
  }
  const lag = get(j, 'series', 'lag');
  if (isObject(lag)) {
    const processor = numbers(lag['processor']);
    const compactor = numbers(lag['compactor']);
    section.charts.push({
      id: 'soak-lag',
      title: 'Consumer lag, with fitted trend',
      kind: 'line',
      xLabel: 's',
      yLabel: 'records',
      x: t,
      series: [
        { label: 'stream processor lag', values: processor },
        { label: 'compactor lag', values: compactor },
        { label: 'total lag trend', values: line(get(j, 'series', 'fits', 'lag')), dash: true },
      ],
      marks: [{ x: fitFrom, label: 'fit from' }],
      caption: `Slope ${fmt(get(j, 'metrics', 'lag_trend_messages', 'slope_per_hour'))} records/h (relative growth ${fmt(get(j, 'metrics', 'lag_trend_messages', 'relative_growth'))}).`,
    });
  }
  const fresh = get(j, 'series', 'freshness');
  if (isObject(fresh)) {
    section.charts.push({
      id: 'soak-freshness',
      title: 'Freshness per 10 s',
      kind: 'line',
      xLabel: 's (received_at)',
      yLabel: 's',
      x: numbers(fresh['t']) as number[],
      series: [
        { label: 'p50', values: numbers(fresh['p50']) },
        { label: 'p95', values: numbers(fresh['p95']) },
      ],
      marks: [],
      caption: 'Commit time of each row’s file minus received_at, per 10 s of received_at.',
    });
  }
  return section;
}

/**
 * Fault runs (bench/results/faults.json, written by a fault-injection bench): each entry of
 * `timelines` (top level or under `series`) is `{ name, t: number[], series: { <label>: number[] }, marks?: [{ t, label }] }`.
 */
function faultsSection(file: ResultFile | undefined): Section {
  const section: Section = { id: 'faults', title: 'Fault timelines', source: file?.file ?? null, empty: null, figures: [], charts: [] };
  if (!file) return { ...section, empty: 'no fault run recorded' };
  const raw = get(file.json, 'timelines') ?? get(file.json, 'series', 'timelines');
  const timelines = Array.isArray(raw) ? raw.filter(isObject) : [];
  timelines.forEach((tl, i) => {
    const name = String(tl['name'] ?? tl['title'] ?? `fault ${i + 1}`);
    const series = isObject(tl['series']) ? Object.entries(tl['series']).filter(([, v]) => Array.isArray(v)) : [];
    const marks = Array.isArray(tl['marks']) ? tl['marks'].filter(isObject).map((mk) => ({ x: asNumber(mk['t'] ?? mk['x']) ?? 0, label: String(mk['label'] ?? '') })) : [];
    section.charts.push({
      id: `fault-${i + 1}`,
      title: name,
      kind: 'line',
      xLabel: typeof tl['x_label'] === 'string' ? tl['x_label'] : 's',
      yLabel: typeof tl['y_label'] === 'string' ? tl['y_label'] : '',
      x: numbers(tl['t']) as number[],
      series: series.map(([label, values]) => ({ label, values: numbers(values) })),
      marks,
      caption: typeof tl['caption'] === 'string' ? tl['caption'] : '',
    });
  });
  if (section.charts.length === 0) section.empty = `${file.file} has no timelines to draw`;
  return section;
}

/** The report: every result file's ratios, and the charts of the end-to-end, soak and fault runs. */
export function buildReport(files: readonly ResultFile[], generatedAt: Date): ReportData {
  const byName = new Map(files.map((f) => [f.file, f]));
  return {
    generatedAt: generatedAt.toISOString(),
    sources: files.map((f) => ({
      file: f.file,
      name: typeof get(f.json, 'name') === 'string' ? (get(f.json, 'name') as string) : f.file,
      date: typeof get(f.json, 'date') === 'string' ? (get(f.json, 'date') as string) : null,
      loadAverage: Array.isArray(get(f.json, 'machine', 'load_average_at_start')) ? (numbers(get(f.json, 'machine', 'load_average_at_start')) as number[]) : null,
    })),
    ratios: files.flatMap(ratioRows),
    sections: [e2eSection(byName.get('e2e.json')), soakSection(byName.get('soak.json')), faultsSection(byName.get('faults.json'))],
  };
}
