/**
 * Takes a {@link Sample} of a running pipeline on a timer: every app's /readyz (with the failing
 * checks), the metrics that show a fault, and, when asked, one query through the query API.
 */
import { metricValue, type Pipeline, type PipelineApp } from '@pipeline/testing';
import { APPS, type AppProbe, type FaultMetrics, type QueryProbe, type Sample } from './samples';

// A busy machine stretches answers; the apps' own dependency probes give up after 3 s too.
const ANSWER_TIMEOUT_MS = 3_000;
const QUERY_TIMEOUT_MS = 5_000;

async function readiness(url: string): Promise<AppProbe> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
    const body = (await res.json()) as { checks?: Record<string, { ok: boolean; detail?: string }> };
    const failing: Record<string, string> = {};
    for (const [name, check] of Object.entries(body.checks ?? {})) if (!check.ok) failing[name] = check.detail ?? '';
    return { answered: true, ready: res.status === 200, failing };
  } catch {
    return { answered: false, ready: false, failing: {} };
  }
}

async function scrape(url: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

function metricsOf(texts: Partial<Record<PipelineApp, string | undefined>>): FaultMetrics {
  const read = (app: PipelineApp, name: string, labels?: Record<string, string>) => {
    const text = texts[app];
    return text === undefined ? Number.NaN : metricValue(text, name, labels);
  };
  return {
    spoolDepth: read('producer', 'pipeline_producer_spool_depth_records'),
    kafkaConnected: read('producer', 'pipeline_producer_kafka_connected'),
    spooledEvents: read('producer', 'pipeline_producer_events_accepted_total', { via: 'spool' }),
    processorLag: read('stream-processor', 'pipeline_processor_consumer_lag_messages'),
    processorEvents: read('stream-processor', 'pipeline_processor_events_total'),
    compactorLag: read('compactor', 'pipeline_compactor_consumer_lag_messages', { kind: 'events' }),
    compactorBuffered: read('compactor', 'pipeline_compactor_buffered_rows'),
    compactorRetries: read('compactor', 'pipeline_compactor_retries_total'),
    compactorRows: read('compactor', 'pipeline_compactor_rows_written_total', { table_kind: 'events' }),
    queryTrinoUnavailable: read('query-api', 'pipeline_query_api_queries_total', { status: 'trino_unavailable' }),
  };
}

/**
 * One ad-hoc query through the query API (never from its cache): the answer's status and error code.
 * `SHOW TABLES` needs Trino and its catalog database but reads no data files, so it stays cheap as the table grows.
 */
async function probeQuery(p: Pipeline): Promise<QueryProbe> {
  try {
    const res = await fetch(`${p.url('query-api')}/v1/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${p.queryToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SHOW TABLES', cache: { bypass: true } }),
      signal: AbortSignal.timeout(QUERY_TIMEOUT_MS),
    });
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    return body.error?.code === undefined ? { status: res.status } : { status: res.status, code: body.error.code };
  } catch {
    return { status: 0 };
  }
}

export class Sampler {
  readonly samples: Sample[] = [];
  /** Ask the query API one query per sample (turned on for the faults that concern it). */
  probeQueries = false;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly p: Pipeline,
    private readonly acked: () => number,
    private readonly intervalMs = 500,
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (skipped while the previous one is still being taken). */
  async tick(): Promise<Sample | undefined> {
    if (this.busy) return undefined;
    this.busy = true;
    try {
      const at = Date.now();
      const [ready, texts, query] = await Promise.all([
        Promise.all(APPS.map((app) => readiness(this.p.url(app)))),
        Promise.all(APPS.map((app) => scrape(this.p.url(app)))),
        this.probeQueries ? probeQuery(this.p) : Promise.resolve(undefined),
      ]);
      const sample: Sample = {
        at,
        acked: this.acked(),
        apps: Object.fromEntries(APPS.map((app, i) => [app, ready[i] as AppProbe])) as Record<PipelineApp, AppProbe>,
        metrics: metricsOf(Object.fromEntries(APPS.map((app, i) => [app, texts[i]]))),
        ...(query === undefined ? {} : { query }),
      };
      this.samples.push(sample);
      return sample;
    } finally {
      this.busy = false;
    }
  }

  last(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }
}
