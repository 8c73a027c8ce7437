/**
 * What a fault run sees every ~500 ms (each app's /readyz and a few of its metrics, and an answer
 * of the query API), and the pure judgements over those samples: was the fault visible while it
 * lasted, did it clear, when did the pipeline recover, and the timeline the report draws.
 */
import type { PipelineApp } from '@pipeline/testing';

export const APPS: readonly PipelineApp[] = ['producer', 'stream-processor', 'compactor', 'query-api'];

export interface AppProbe {
  /** /readyz answered at all: the process is up and listening. */
  answered: boolean;
  ready: boolean;
  /** Readiness checks that failed, with their detail. */
  failing: Record<string, string>;
}

/** Metric values of one sample; NaN when the app's /metrics did not answer. */
export interface FaultMetrics {
  /** pipeline_producer_spool_depth_records */
  spoolDepth: number;
  /** pipeline_producer_kafka_connected */
  kafkaConnected: number;
  /** pipeline_producer_events_accepted_total{via="spool"} */
  spooledEvents: number;
  /** pipeline_processor_consumer_lag_messages, every partition */
  processorLag: number;
  /** pipeline_processor_events_total, every outcome */
  processorEvents: number;
  /** pipeline_compactor_consumer_lag_messages{kind="events"} */
  compactorLag: number;
  /** pipeline_compactor_buffered_rows */
  compactorBuffered: number;
  /** pipeline_compactor_retries_total, every operation */
  compactorRetries: number;
  /** pipeline_compactor_rows_written_total{table_kind="events"} */
  compactorRows: number;
  /** pipeline_query_api_queries_total{status="trino_unavailable"} */
  queryTrinoUnavailable: number;
}

export interface QueryProbe {
  /** HTTP status of `POST /v1/query`; 0 when nothing answered. */
  status: number;
  /** The API error code of a failed answer. */
  code?: string;
}

export interface Sample {
  /** Date.now() when the sample was taken. */
  at: number;
  /** Events acknowledged to the load generator so far. */
  acked: number;
  apps: Record<PipelineApp, AppProbe>;
  metrics: FaultMetrics;
  query?: QueryProbe;
}

/** A condition seen in the samples while the fault lasts: a state that must clear, or a counter that must grow. */
export type Expectation =
  | { kind: 'state'; what: string; holds: (s: Sample) => boolean }
  | { kind: 'growth'; what: string; value: (s: Sample) => number };

export interface ExpectationResult {
  what: string;
  kind: Expectation['kind'];
  /** The state held in at least one sample from the fault's start until recovery (a counter grew). */
  seen: boolean;
  /** The state no longer holds at recovery (always true for growth). */
  cleared: boolean;
  /** Samples in the window in which the state held (for growth: the counter's increase). */
  count: number;
}

/** Sum of the two consumers' lag: the stream processor's input and the compactor's events topic. */
export function totalLag(s: Sample): number {
  return (Number.isNaN(s.metrics.processorLag) ? 0 : s.metrics.processorLag) + (Number.isNaN(s.metrics.compactorLag) ? 0 : s.metrics.compactorLag);
}

export function allReady(s: Sample): boolean {
  return APPS.every((app) => s.apps[app].ready);
}

/** `p`-quantile (0..1) of a list of numbers (nearest rank); 0 for an empty list. */
export function quantile(values: readonly number[], p: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

/**
 * The lag counted as "back to about zero": twice the 95th percentile of the total lag in fault-free
 * samples, and never below one second of load (lag is measured per batch and per interval, so a
 * second's worth is noise at any rate).
 */
export function lagThreshold(baseline: readonly Sample[], ratePerSec: number): number {
  return Math.max(2 * quantile(baseline.map(totalLag), 0.95), ratePerSec);
}

export function within(samples: readonly Sample[], from: number, to: number): Sample[] {
  return samples.filter((s) => s.at >= from && s.at <= to);
}

/** Judges each expectation over the samples from the fault's start to its recovery (the last sample is the recovered one). */
export function judge(expectations: readonly Expectation[], window: readonly Sample[]): ExpectationResult[] {
  const last = window[window.length - 1];
  return expectations.map((e) => {
    if (e.kind === 'state') {
      const count = window.filter(e.holds).length;
      return { what: e.what, kind: e.kind, seen: count > 0, cleared: last !== undefined && !e.holds(last), count };
    }
    const values = window.map(e.value).filter((v) => !Number.isNaN(v));
    const first = values[0];
    const growth = first === undefined ? 0 : Math.max(0, ...values.map((v) => v - first));
    return { what: e.what, kind: e.kind, seen: growth > 0, cleared: true, count: growth };
  });
}

export interface Recovery {
  /** First sample at or after the end with every app ready, no fault state holding and `also` true. */
  readyAt?: number;
  /**
   * First of `stable` consecutive samples at or after the end that are ready, hold no fault state,
   * have the lag under the threshold, and show both consumers moving again since the end.
   */
  recoveredAt?: number;
}

/** The smallest value of a counter among the samples (NaN ignored). */
function lowest(samples: readonly Sample[], pick: (s: Sample) => number): number {
  let min = Infinity;
  for (const s of samples) if (!Number.isNaN(pick(s))) min = Math.min(min, pick(s));
  return min;
}

/**
 * When the pipeline recovered from a fault that ended at `endAt`. A gauge may be stale while a
 * consumer is stopped (the processor updates its lag per batch), so "lag back to about zero" only
 * counts once the processor's and the compactor's counters moved after the end: counters restart
 * at 0 with a killed process, so "moved" means above their lowest value since the end.
 */
export function findRecovery(
  samples: readonly Sample[],
  endAt: number,
  rule: { states: readonly Expectation[]; lagThreshold: number; also?: ((s: Sample) => boolean) | undefined; stable?: number },
): Recovery {
  const after = samples.filter((s) => s.at >= endAt);
  const states = rule.states.filter((e): e is Extract<Expectation, { kind: 'state' }> => e.kind === 'state');
  const clear = (s: Sample) => allReady(s) && !states.some((e) => e.holds(s)) && (rule.also?.(s) ?? true);
  const out: Recovery = {};
  const stable = rule.stable ?? 2;
  let run = 0;
  for (let i = 0; i < after.length; i++) {
    const s = after[i] as Sample;
    if (out.readyAt === undefined && clear(s)) out.readyAt = s.at;
    const seen = after.slice(0, i + 1);
    const moving = s.metrics.processorEvents > lowest(seen, (x) => x.metrics.processorEvents) && s.metrics.compactorRows > lowest(seen, (x) => x.metrics.compactorRows);
    run = clear(s) && moving && totalLag(s) <= rule.lagThreshold ? run + 1 : 0;
    if (run === stable) {
      out.recoveredAt = (after[i - stable + 1] as Sample).at;
      break;
    }
  }
  return out;
}

/** What was not ready in a sample, e.g. `compactor: object-store; query-api: down`; empty when all were. */
export function notReadySummary(s: Sample): string {
  return APPS.filter((app) => !s.apps[app].ready)
    .map((app) => `${app}: ${s.apps[app].answered ? Object.keys(s.apps[app].failing).join(',') || 'not ready' : 'down'}`)
    .join('; ');
}

export interface TimelineChart {
  name: string;
  /** Seconds since the fault started. */
  t: number[];
  series: Record<string, Array<number | null>>;
  marks: Array<{ t: number; label: string }>;
  x_label: string;
  caption: string;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);

/** The chart of one fault for the report: readiness and the metrics that show it, against seconds since its start. */
export function timelineChart(name: string, samples: readonly Sample[], at: { start: number; end: number; recovered?: number | undefined }, caption: string): TimelineChart {
  const rel = (ms: number) => Math.round((ms - at.start) / 100) / 10;
  return {
    name,
    t: samples.map((s) => rel(s.at)),
    series: {
      'apps not ready': samples.map((s) => APPS.filter((a) => !s.apps[a].ready).length),
      'processor lag': samples.map((s) => finite(s.metrics.processorLag)),
      'compactor lag (events)': samples.map((s) => finite(s.metrics.compactorLag)),
      'compactor buffered rows': samples.map((s) => finite(s.metrics.compactorBuffered)),
      'collector spool depth': samples.map((s) => finite(s.metrics.spoolDepth)),
      'compactor retries': samples.map((s) => finite(s.metrics.compactorRetries)),
      'acked events/s': samples.map((s, i) => {
        const prev = samples[i - 1];
        return prev === undefined || s.at === prev.at ? null : finite(((s.acked - prev.acked) * 1000) / (s.at - prev.at));
      }),
    },
    marks: [
      { t: 0, label: 'fault' },
      { t: rel(at.end), label: 'fault ends' },
      ...(at.recovered === undefined ? [] : [{ t: rel(at.recovered), label: 'recovered' }]),
    ],
    x_label: 's since the fault',
    caption,
  };
}

/** Readiness changes in a window: one entry per sample whose not-ready summary differs from the one before. */
export function readinessChanges(samples: readonly Sample[], startAt: number): Array<{ t: number; not_ready: string; query?: string }> {
  const out: Array<{ t: number; not_ready: string; query?: string }> = [];
  let last: string | undefined;
  for (const s of samples) {
    const query = s.query === undefined ? undefined : s.query.status === 0 ? 'no answer' : `${s.query.status}${s.query.code ? ` ${s.query.code}` : ''}`;
    const state = `${notReadySummary(s)}|${query ?? ''}`;
    if (state === last) continue;
    last = state;
    out.push({ t: Math.round((s.at - startAt) / 100) / 10, not_ready: notReadySummary(s), ...(query === undefined ? {} : { query }) });
  }
  return out;
}
