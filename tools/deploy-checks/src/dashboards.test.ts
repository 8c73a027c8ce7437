import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PROMETHEUS_SERIES, renderDashboards, seriesIndex } from './dashboards';
import { IMPLICIT_LABELS, definedMetrics, metricsInSource, promqlRefs, type MetricDef } from './metrics';
import { GRAFANA_DIR } from './paths';

interface Dashboard {
  uid: string;
  panels: { title: string; targets: { expr: string }[] }[];
}

/** Problems of dashboard JSON against the metrics the apps define: unknown series, unknown labels. */
function dashboardProblems(dashboards: Dashboard[], defs: Map<string, MetricDef>): string[] {
  const series = seriesIndex(defs);
  const problems: string[] = [];
  for (const d of dashboards) {
    for (const panel of d.panels) {
      for (const target of panel.targets) {
        const refs = promqlRefs(target.expr);
        const known = refs.metrics.filter((m) => series.has(m));
        for (const m of refs.metrics) {
          if (!series.has(m) && !PROMETHEUS_SERIES.has(m)) problems.push(`${d.uid} / ${panel.title}: no app defines ${m}`);
        }
        for (const { metric, label } of refs.labels) {
          const candidates = metric === '*' ? known : [metric];
          const allowed = new Set([...IMPLICIT_LABELS, ...candidates.flatMap((m) => series.get(m)?.labels ?? []), ...(candidates.some((m) => m.endsWith('_bucket')) ? ['le'] : [])]);
          if (candidates.length && !allowed.has(label)) problems.push(`${d.uid} / ${panel.title}: label ${label} is not a label of ${candidates.join(', ')}`);
        }
      }
    }
  }
  return problems;
}

const committed = (): Dashboard[] =>
  readdirSync(join(GRAFANA_DIR, 'dashboards')).map((f) => JSON.parse(readFileSync(join(GRAFANA_DIR, 'dashboards', f), 'utf8')) as Dashboard);

describe('Grafana dashboards', () => {
  const defs = definedMetrics();

  it('query only metrics and labels the apps define', () => {
    expect(dashboardProblems(committed(), defs)).toEqual([]);
  });

  it('use exactly the metrics listed in deploy/grafana/metrics.json, each defined by an app', () => {
    const listed = (JSON.parse(readFileSync(join(GRAFANA_DIR, 'metrics.json'), 'utf8')) as { used: { metric: string }[] }).used.map((u) => u.metric);
    const used = new Set(committed().flatMap((d) => d.panels.flatMap((p) => p.targets.flatMap((t) => promqlRefs(t.expr).metrics))));
    expect([...used].sort()).toEqual([...listed].sort());
    const series = seriesIndex(defs);
    expect(listed.filter((m) => !series.has(m) && !PROMETHEUS_SERIES.has(m))).toEqual([]);
  });

  it('cover lag, throughput, freshness, DLQ rate and errors once the apps define them', () => {
    const all = renderDashboards(defs);
    const titles = [...all.files.values()].flatMap((text) => (JSON.parse(text) as Dashboard).panels.map((p) => p.title));
    const pending = (JSON.parse(all.metricsJson) as { pending: { panel: string }[] }).pending.map((p) => p.panel);
    for (const topic of [/lag/i, /per second/i, /freshness/i, /DLQ/i, /errors/i]) {
      expect([topic.source, [...titles, ...pending].some((t) => topic.test(t))]).toEqual([topic.source, true]);
    }
  });

  it('fail when a dashboard queries a metric no app defines (regression: a renamed metric)', () => {
    const broken: Dashboard = { uid: 'x', panels: [{ title: 'lag', targets: [{ expr: 'sum by (topic) (pipeline_processor_consumer_lagg)' }] }] };
    expect(dashboardProblems([broken], defs)).toEqual(['x / lag: no app defines pipeline_processor_consumer_lagg']);
  });

  it('fail when a dashboard groups by a label the metric does not have', () => {
    const broken: Dashboard = { uid: 'x', panels: [{ title: 'p', targets: [{ expr: 'sum by (event_id) (rate(pipeline_producer_events_accepted_total[5m]))' }] }] };
    expect(dashboardProblems([broken], defs)).toEqual(['x / p: label event_id is not a label of pipeline_producer_events_accepted_total']);
  });

  it('leave out a panel until its metric exists, then add it', () => {
    const without = renderDashboards(new Map([...defs].filter(([name]) => name !== 'pipeline_producer_kafka_connected')));
    expect(without.metricsJson).toContain('"pipeline_producer_kafka_connected"');
    const withLag = new Map(defs);
    withLag.set('pipeline_compactor_freshness_seconds', { name: 'pipeline_compactor_freshness_seconds', type: 'gauge', labels: [], help: '', source: 'test' });
    const flow = JSON.parse(renderDashboards(withLag).files.get('event-pipeline-flow.json') ?? '{}') as Dashboard;
    expect(flow.panels.map((p) => p.title)).toContain('Lake freshness');
  });
});

describe('metric and PromQL parsing', () => {
  it('finds prom-client metrics with their labels in TypeScript source', () => {
    const source = `const c = new Counter({ name: 'pipeline_x_events_total', help: 'h', labelNames: ['outcome'] as const, registers });
      const g = new client.Gauge({ name: "pipeline_x_lag", help: 'h' });`;
    expect(metricsInSource(source, 'x.ts').map((m) => [m.name, m.type, m.labels])).toEqual([
      ['pipeline_x_events_total', 'counter', ['outcome']],
      ['pipeline_x_lag', 'gauge', []],
    ]);
  });

  it.each([
    ['sum by (topic) (rate(a_total{app=~"$app", outcome="ok"}[$__rate_interval]))', ['a_total'], ['topic', 'app', 'outcome']],
    ['histogram_quantile(0.99, sum by (le) (rate(b_bucket[5m])))', ['b_bucket'], ['le']],
    ['max(c_seconds) offset 5m / on (job) group_left d', ['c_seconds', 'd'], ['job']],
    ['changes(process_start_time_seconds{app=~"$app"}[1h])', ['process_start_time_seconds'], ['app']],
  ])('reads %s', (expr, metrics, labels) => {
    const refs = promqlRefs(expr);
    expect(refs.metrics.sort()).toEqual([...metrics].sort());
    expect(refs.labels.map((l) => l.label).sort()).toEqual([...labels].sort());
  });
});
