import { definedMetrics, promqlRefs, seriesNames, type MetricDef } from './metrics';

/** Series Prometheus makes itself for every target; no app defines them. */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

interface Query {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Width in Grafana grid units (24 = full row). */
  width?: number;
}

interface DashboardSpec {
  uid: string;
  title: string;
  file: string;
  description: string;
  panels: PanelSpec[];
}

const R = '$__rate_interval';
const APP = 'app=~"$app"';

/**
 * Every panel the pipeline's dashboards can show. A panel whose metrics no app defines yet is left
 * out of the generated JSON (and listed as pending in deploy/grafana/metrics.json), so a dashboard
 * never shows a metric that does not exist; once an app registers it, `npm run deploy:generate`
 * adds the panel and the drift test asks for exactly that.
 */
export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'event-pipeline-flow',
    title: 'Event pipeline: flow',
    file: 'event-pipeline-flow.json',
    description: 'Throughput, consumer lag, freshness, DLQ rate and errors of the four apps.',
    panels: [
      {
        title: 'Collector: events accepted per second',
        description: 'Events acknowledged to clients, by destination (events or dlq) and where they were durable first (kafka or spool).',
        unit: 'ops',
        queries: [{ expr: `sum by (topic, via) (rate(pipeline_producer_events_accepted_total[${R}]))`, legend: '{{topic}} via {{via}}' }],
      },
      {
        title: 'Collector: events rejected per second',
        description: 'Events rejected inside a batch, by reason.',
        unit: 'ops',
        queries: [{ expr: `sum by (reason) (rate(pipeline_producer_events_rejected_total[${R}]))`, legend: '{{reason}}' }],
      },
      {
        title: 'Collector: requests per second by status',
        description: 'HTTP requests by status code.',
        unit: 'reqps',
        queries: [{ expr: `sum by (status) (rate(pipeline_producer_http_requests_total[${R}]))`, legend: '{{status}}' }],
      },
      {
        title: 'Collector: produce latency (p50, p99)',
        description: 'Time from handing a micro-batch to Kafka until acks=all.',
        unit: 's',
        queries: [
          { expr: `histogram_quantile(0.5, sum by (le) (rate(pipeline_producer_produce_latency_seconds_bucket[${R}])))`, legend: 'p50' },
          { expr: `histogram_quantile(0.99, sum by (le) (rate(pipeline_producer_produce_latency_seconds_bucket[${R}])))`, legend: 'p99' },
        ],
      },
      {
        title: 'Processor: events per second by outcome',
        description: 'Events the stream processor handled: ok, dlq, dropped.',
        unit: 'ops',
        queries: [{ expr: `sum by (outcome) (rate(pipeline_processor_events_total[${R}]))`, legend: '{{outcome}}' }],
      },
      {
        title: 'Consumer lag by topic',
        description: 'Messages behind the end of each topic, summed over partitions.',
        unit: 'short',
        queries: [
          { expr: 'sum by (topic) (pipeline_processor_consumer_lag)', legend: 'processor {{topic}}' },
          { expr: 'sum by (topic) (pipeline_compactor_consumer_lag)', legend: 'compactor {{topic}}' },
        ],
      },
      {
        title: 'Processor consumer lag by topic',
        description: 'Messages the stream processor is behind, summed over partitions.',
        unit: 'short',
        queries: [{ expr: 'sum by (topic) (pipeline_processor_consumer_lag)', legend: '{{topic}}' }],
      },
      {
        title: 'Compactor consumer lag by topic',
        description: 'Messages the compactor is behind, summed over partitions.',
        unit: 'short',
        queries: [{ expr: 'sum by (topic) (pipeline_compactor_consumer_lag)', legend: '{{topic}}' }],
      },
      {
        title: 'Lake freshness',
        description: 'Age of the newest event committed to the lake: end-to-end delay from event to SQL.',
        unit: 's',
        queries: [{ expr: 'max(pipeline_compactor_freshness_seconds)', legend: 'freshness' }],
      },
      {
        title: 'DLQ rate',
        description: 'Events sent to events.dlq per second, by the app that sent them.',
        unit: 'ops',
        queries: [
          { expr: `sum(rate(pipeline_producer_events_accepted_total{topic="dlq"}[${R}]))`, legend: 'producer' },
          { expr: `sum(rate(pipeline_processor_events_total{outcome="dlq"}[${R}]))`, legend: 'stream-processor' },
        ],
      },
      {
        title: 'Collector DLQ rate',
        description: 'Events the collector accepted into events.dlq per second (unknown event types with UNKNOWN_EVENT_TYPES=dlq).',
        unit: 'ops',
        queries: [{ expr: `sum(rate(pipeline_producer_events_accepted_total{topic="dlq"}[${R}]))`, legend: 'producer' }],
      },
      {
        title: 'Errors per app',
        description: 'Collector: 5xx responses and whole-request rejections; processor: events that failed.',
        unit: 'ops',
        queries: [
          { expr: `sum(rate(pipeline_producer_http_requests_total{status=~"5.."}[${R}]))`, legend: 'producer 5xx' },
          { expr: `sum by (code) (rate(pipeline_producer_requests_rejected_total[${R}]))`, legend: 'producer rejected: {{code}}' },
          { expr: `sum(rate(pipeline_processor_events_total{outcome="error"}[${R}]))`, legend: 'stream-processor errors' },
        ],
      },
      {
        title: 'Collector errors',
        description: '5xx responses and whole-request rejections by error code.',
        unit: 'ops',
        queries: [
          { expr: `sum(rate(pipeline_producer_http_requests_total{status=~"5.."}[${R}]))`, legend: '5xx' },
          { expr: `sum by (code) (rate(pipeline_producer_requests_rejected_total[${R}]))`, legend: '{{code}}' },
        ],
      },
      {
        title: 'Collector spool',
        description: 'Events waiting in the local spool (Kafka slow or down) and the age of the oldest.',
        unit: 'short',
        queries: [
          { expr: 'sum(pipeline_producer_spool_depth_records)', legend: 'records' },
          { expr: 'max(pipeline_producer_spool_oldest_age_seconds)', legend: 'oldest age (s)' },
        ],
      },
      {
        title: 'Collector Kafka connection',
        description: '1 while every collector replica can produce to Kafka.',
        unit: 'short',
        queries: [{ expr: 'min(pipeline_producer_kafka_connected)', legend: 'connected' }],
      },
    ],
  },
  {
    uid: 'event-pipeline-runtime',
    title: 'Event pipeline: app runtime',
    file: 'event-pipeline-runtime.json',
    description: 'Process health of every app: scrape status, CPU, memory, event loop lag, GC and restarts.',
    panels: [
      { title: 'Targets up', description: 'Scrape status of every app instance (1 = up).', unit: 'short', queries: [{ expr: `up{${APP}}`, legend: '{{app}} {{instance}}' }] },
      {
        title: 'CPU',
        description: 'CPU seconds per second, by app.',
        unit: 'percentunit',
        queries: [{ expr: `sum by (app) (rate(process_cpu_seconds_total{${APP}}[${R}]))`, legend: '{{app}}' }],
      },
      {
        title: 'Resident memory',
        description: 'RSS by app and instance.',
        unit: 'bytes',
        queries: [{ expr: `process_resident_memory_bytes{${APP}}`, legend: '{{app}} {{instance}}' }],
      },
      {
        title: 'Event loop lag p99',
        description: 'A busy event loop delays every request and consumer batch.',
        unit: 's',
        queries: [{ expr: `max by (app) (nodejs_eventloop_lag_p99_seconds{${APP}})`, legend: '{{app}}' }],
      },
      {
        title: 'Heap used',
        description: 'V8 heap in use, by app.',
        unit: 'bytes',
        queries: [{ expr: `sum by (app) (nodejs_heap_size_used_bytes{${APP}})`, legend: '{{app}}' }],
      },
      {
        title: 'GC time per second',
        description: 'Share of time spent in garbage collection, by app and kind.',
        unit: 'percentunit',
        queries: [{ expr: `sum by (app, kind) (rate(nodejs_gc_duration_seconds_sum{${APP}}[${R}]))`, legend: '{{app}} {{kind}}' }],
      },
      {
        title: 'Restarts (last hour)',
        description: 'Process starts seen in the last hour, by app.',
        unit: 'short',
        queries: [{ expr: `sum by (app) (changes(process_start_time_seconds{${APP}}[1h]))`, legend: '{{app}}' }],
      },
      {
        title: 'Open file descriptors',
        description: 'Open file descriptors against the limit.',
        unit: 'short',
        queries: [
          { expr: `max by (app) (process_open_fds{${APP}})`, legend: '{{app}} open' },
          { expr: `max by (app) (process_max_fds{${APP}})`, legend: '{{app}} limit' },
        ],
      },
    ],
  },
];

/** Which series names the defined metrics expose, mapped back to their definition. */
export function seriesIndex(defs: Map<string, MetricDef>): Map<string, MetricDef> {
  const index = new Map<string, MetricDef>();
  for (const def of defs.values()) for (const series of seriesNames(def)) index.set(series, def);
  return index;
}

function panelMetrics(panel: PanelSpec): string[] {
  return [...new Set(panel.queries.flatMap((q) => promqlRefs(q.expr).metrics))];
}

/** Panels whose metrics all exist, and the pending ones with what they wait for. */
export function selectPanels(spec: DashboardSpec, series: Map<string, MetricDef>) {
  const shown: PanelSpec[] = [];
  const pending: { panel: string; missing: string[] }[] = [];
  for (const panel of spec.panels) {
    const missing = panelMetrics(panel).filter((m) => !series.has(m) && !PROMETHEUS_SERIES.has(m));
    if (missing.length) pending.push({ panel: panel.title, missing });
    else shown.push(panel);
  }
  return { shown: dropSuperseded(shown), pending };
}

/**
 * A narrower panel (one app's lag, the collector's DLQ rate or errors) stands in while the wider
 * one (all apps) waits for metrics; once the wider one is shown the narrow one goes.
 */
const SUPERSEDED_BY: Record<string, string[]> = {
  'Processor consumer lag by topic': ['Consumer lag by topic'],
  'Compactor consumer lag by topic': ['Consumer lag by topic'],
  'Collector DLQ rate': ['DLQ rate'],
  'Collector errors': ['Errors per app'],
};

function dropSuperseded(panels: PanelSpec[]): PanelSpec[] {
  const titles = new Set(panels.map((p) => p.title));
  return panels.filter((p) => !(SUPERSEDED_BY[p.title] ?? []).some((wider) => titles.has(wider)));
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

/** The Grafana dashboard JSON model of one dashboard. */
export function renderDashboard(spec: DashboardSpec, panels: PanelSpec[]): string {
  let x = 0;
  let y = 0;
  const gridPanels = panels.map((panel, i) => {
    const w = panel.width ?? 12;
    if (x + w > 24) {
      x = 0;
      y += 8;
    }
    const gridPos = { h: 8, w, x, y };
    x += w;
    return {
      id: i + 1,
      type: 'timeseries',
      title: panel.title,
      description: panel.description,
      datasource: DATASOURCE,
      gridPos,
      fieldConfig: { defaults: { unit: panel.unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
      targets: panel.queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), datasource: DATASOURCE, expr: q.expr, legendFormat: q.legend })),
    };
  });
  const dashboard = {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['event-pipeline'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: '',
    links: [],
    annotations: { list: [] },
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, options: [] },
        {
          name: 'app',
          label: 'App',
          type: 'query',
          datasource: DATASOURCE,
          definition: 'label_values(process_cpu_seconds_total, app)',
          query: { query: 'label_values(process_cpu_seconds_total, app)', refId: 'app' },
          includeAll: true,
          multi: true,
          current: {},
          refresh: 2,
          options: [],
          hide: 0,
        },
      ],
    },
    panels: gridPanels,
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}

export interface DashboardOutput {
  files: Map<string, string>;
  /** deploy/grafana/metrics.json: every metric the dashboards use, and the panels still waiting. */
  metricsJson: string;
}

/** Generates the dashboards from the catalog above and the metrics the apps define now. */
export function renderDashboards(defs: Map<string, MetricDef> = definedMetrics()): DashboardOutput {
  const series = seriesIndex(defs);
  const files = new Map<string, string>();
  const used = new Map<string, { metric: string; type: string; labels: string[]; definedIn: string; dashboards: string[] }>();
  const pendingAll: { dashboard: string; panel: string; missing: string[] }[] = [];
  for (const spec of DASHBOARDS) {
    const { shown, pending } = selectPanels(spec, series);
    files.set(spec.file, renderDashboard(spec, shown));
    for (const p of pending) pendingAll.push({ dashboard: spec.uid, ...p });
    for (const panel of shown) {
      for (const name of panelMetrics(panel)) {
        const def = series.get(name);
        const entry = used.get(name) ?? {
          metric: name,
          type: def?.type ?? 'prometheus',
          labels: def?.labels ?? [],
          definedIn: def?.source ?? 'Prometheus (per scrape target)',
          dashboards: [],
        };
        if (!entry.dashboards.includes(spec.uid)) entry.dashboards.push(spec.uid);
        used.set(name, entry);
      }
    }
  }
  const metricsJson = {
    generatedBy: 'npm run deploy:generate (tools/deploy-checks/src/dashboards.ts)',
    note: 'Every series the dashboards query. A test checks each against the metrics the apps register; pending panels appear once their metrics exist.',
    used: [...used.values()].sort((a, b) => a.metric.localeCompare(b.metric)),
    pending: pendingAll,
  };
  return { files, metricsJson: `${JSON.stringify(metricsJson, null, 2)}\n` };
}
