/**
 * The faults of issue #8 item 3 and what each must show while it lasts: which readiness check
 * fails, which metric moves, what the query API answers. Pure data over {@link Sample}s.
 */
import type { PipelineApp, StackService } from '@pipeline/testing';
import type { Expectation, Sample } from './samples';

export const FAULT_IDS = ['kill-producer', 'kill-stream-processor', 'kill-compactor', 'kill-query-api', 'broker-restart', 'object-store-down', 'trino-down', 'postgres-restart'] as const;
export type FaultId = (typeof FAULT_IDS)[number];

export interface FaultSpec {
  id: FaultId;
  name: string;
  /** An app of the run is SIGKILLed and started again, or a shared service is stopped for `downMs` and started. */
  target: { app: PipelineApp } | { service: StackService; downMs: number };
  /** Ask the query API a query in every sample while the fault lasts. */
  queryProbe: boolean;
  expectations: Expectation[];
  /** Holds once the fault is over from the outside (beyond readiness and lag). */
  recovered?: (s: Sample) => boolean;
}

export interface FaultDurations {
  /** How long the object store and Trino stay stopped. */
  outageMs: number;
  /** How long the broker and PostgreSQL stay stopped before they start again. */
  restartDownMs: number;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
const failing = (s: Sample, app: PipelineApp, check: string) => s.apps[app].failing[check] !== undefined;
const silent = (app: PipelineApp): Expectation => ({ kind: 'state', what: `${app} /readyz does not answer`, holds: (s) => !s.apps[app].answered });
const queryAnswered = (s: Sample) => s.query?.status === 200;

/** The fault `id` with its expectations; `lagThreshold` is the lag counted as about zero (see lagThreshold in samples.ts). */
export function faultSpec(id: FaultId, d: FaultDurations, lagThreshold: number): FaultSpec {
  switch (id) {
    case 'kill-producer':
      return { id, name: 'SIGKILL producer', target: { app: 'producer' }, queryProbe: false, expectations: [silent('producer')] };
    case 'kill-stream-processor':
    case 'kill-compactor': {
      const app = id.slice('kill-'.length) as PipelineApp;
      // The restarted consumer waits for the killed member's session to expire before it gets partitions.
      const joining: Expectation = { kind: 'state', what: `${app} /readyz 503 naming consumer until it joins its group`, holds: (s) => s.apps[app].answered && failing(s, app, 'consumer') };
      return { id, name: `SIGKILL ${app}`, target: { app }, queryProbe: false, expectations: [silent(app), joining] };
    }
    case 'kill-query-api':
      return {
        id,
        name: 'SIGKILL query-api',
        target: { app: 'query-api' },
        queryProbe: true,
        expectations: [silent('query-api'), { kind: 'state', what: 'queries get no answer', holds: (s) => s.query?.status === 0 }],
        recovered: queryAnswered,
      };
    case 'broker-restart':
      return {
        id,
        name: `broker restart (down ${seconds(d.restartDownMs)})`,
        target: { service: 'kafka', downMs: d.restartDownMs },
        queryProbe: false,
        expectations: [
          {
            kind: 'state',
            what: 'collector spools (pipeline_producer_kafka_connected 0 or pipeline_producer_spool_depth_records > 0)',
            holds: (s) => s.metrics.kafkaConnected === 0 || s.metrics.spoolDepth > 0,
          },
          { kind: 'growth', what: 'pipeline_producer_events_accepted_total{via="spool"} grows', value: (s) => s.metrics.spooledEvents },
          {
            kind: 'state',
            what: 'stream-processor or compactor /readyz fails on kafka',
            holds: (s) => failing(s, 'stream-processor', 'kafka') || failing(s, 'compactor', 'kafka'),
          },
        ],
      };
    case 'object-store-down':
      return {
        id,
        name: `object store down ${seconds(d.outageMs)}`,
        target: { service: 'object-store', downMs: d.outageMs },
        queryProbe: false,
        expectations: [
          { kind: 'state', what: 'compactor /readyz 503 naming object-store', holds: (s) => !s.apps.compactor.ready && failing(s, 'compactor', 'object-store') },
          { kind: 'growth', what: 'pipeline_compactor_retries_total grows', value: (s) => s.metrics.compactorRetries },
          { kind: 'state', what: `pipeline_compactor_consumer_lag_messages{kind="events"} above ${Math.round(lagThreshold)}`, holds: (s) => s.metrics.compactorLag > lagThreshold },
        ],
      };
    case 'trino-down':
      return {
        id,
        name: `Trino down ${seconds(d.outageMs)}`,
        target: { service: 'trino', downMs: d.outageMs },
        queryProbe: true,
        expectations: [
          { kind: 'state', what: 'query-api /readyz 503 naming trino', holds: (s) => !s.apps['query-api'].ready && failing(s, 'query-api', 'trino') },
          { kind: 'state', what: 'queries answered 503 trino_unavailable', holds: (s) => s.query?.status === 503 && s.query.code === 'trino_unavailable' },
          { kind: 'growth', what: 'pipeline_query_api_queries_total{status="trino_unavailable"} grows', value: (s) => s.metrics.queryTrinoUnavailable },
        ],
        recovered: queryAnswered,
      };
    case 'postgres-restart':
      return {
        id,
        name: `PostgreSQL restart (down ${seconds(d.restartDownMs)})`,
        target: { service: 'postgres', downMs: d.restartDownMs },
        queryProbe: true,
        expectations: [{ kind: 'state', what: 'compactor /readyz 503 naming catalog', holds: (s) => !s.apps.compactor.ready && failing(s, 'compactor', 'catalog') }],
        recovered: queryAnswered,
      };
  }
}
