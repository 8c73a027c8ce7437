import type { PipelineApp } from '@pipeline/testing';
import { FAULT_IDS, faultSpec } from './faults';
import { findRecovery, judge, lagThreshold, notReadySummary, quantile, readinessChanges, timelineChart, type AppProbe, type Expectation, type FaultMetrics, type Sample } from './samples';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const ok: AppProbe = { answered: true, ready: true, failing: {} };
const down: AppProbe = { answered: false, ready: false, failing: {} };
const failing = (check: string, detail = 'ECONNREFUSED'): AppProbe => ({ answered: true, ready: false, failing: { [check]: detail } });

const METRICS: FaultMetrics = {
  spoolDepth: 0,
  kafkaConnected: 1,
  spooledEvents: 0,
  processorLag: 10,
  processorEvents: 1_000,
  compactorLag: 10,
  compactorBuffered: 200,
  compactorRetries: 0,
  compactorRows: 1_000,
  queryTrinoUnavailable: 0,
};

function sample(i: number, over: { apps?: Partial<Record<PipelineApp, AppProbe>>; metrics?: Partial<FaultMetrics>; query?: Sample['query']; acked?: number } = {}): Sample {
  return {
    at: T0 + i * 500,
    acked: over.acked ?? i * 100,
    apps: { producer: ok, 'stream-processor': ok, compactor: ok, 'query-api': ok, ...over.apps },
    metrics: { ...METRICS, ...over.metrics },
    ...(over.query === undefined ? {} : { query: over.query }),
  };
}

const compactorDown: Expectation = { kind: 'state', what: 'compactor down', holds: (s) => !s.apps.compactor.answered };

describe('quantile and lagThreshold', () => {
  it('takes the nearest rank and ignores NaN', () => {
    expect(quantile([5, 1, 4, 2, 3, Number.NaN], 0.5)).toBe(3);
    expect(quantile([5, 1, 4, 2, 3], 0.95)).toBe(5);
    expect(quantile([], 0.95)).toBe(0);
  });

  it('is twice the 95th percentile of the total lag, at least one second of load', () => {
    const quiet = [sample(0), sample(1)];
    expect(lagThreshold(quiet, 300)).toBe(300);
    const busy = Array.from({ length: 20 }, (_, i) => sample(i, { metrics: { processorLag: 100 + i, compactorLag: 200 } }));
    expect(lagThreshold(busy, 300)).toBe(2 * (118 + 200));
  });
});

describe('judge', () => {
  it('sees a state that held during the fault and clears it when the last sample no longer holds it', () => {
    const window = [sample(0), sample(1, { apps: { compactor: down } }), sample(2, { apps: { compactor: down } }), sample(3)];
    expect(judge([compactorDown], window)).toEqual([{ what: 'compactor down', kind: 'state', seen: true, cleared: true, count: 2 }]);
    expect(judge([compactorDown], window.slice(0, 3))[0]).toMatchObject({ seen: true, cleared: false });
    expect(judge([compactorDown], [sample(0), sample(1)])[0]).toMatchObject({ seen: false, cleared: true, count: 0 });
  });

  it('sees a counter grow from its first value in the window, skipping samples without metrics', () => {
    const retries: Expectation = { kind: 'growth', what: 'retries', value: (s) => s.metrics.compactorRetries };
    const window = [sample(0, { metrics: { compactorRetries: 4 } }), sample(1, { metrics: { compactorRetries: Number.NaN } }), sample(2, { metrics: { compactorRetries: 9 } })];
    expect(judge([retries], window)[0]).toEqual({ what: 'retries', kind: 'growth', seen: true, cleared: true, count: 5 });
    expect(judge([retries], [sample(0, { metrics: { compactorRetries: 4 } }), sample(1, { metrics: { compactorRetries: 4 } })])[0]?.seen).toBe(false);
  });
});

describe('findRecovery', () => {
  const rule = { states: [compactorDown], lagThreshold: 300 };

  it('waits for readiness, cleared states, lag under the threshold and both consumers moving, for two samples', () => {
    const end = T0 + 500;
    const samples = [
      sample(0, { apps: { compactor: down } }),
      sample(1, { apps: { compactor: down }, metrics: { compactorRows: Number.NaN, compactorLag: Number.NaN } }),
      // Back and ready, a fresh process: its counter starts again at 0 and has not moved yet.
      sample(2, { metrics: { compactorRows: 0, compactorLag: 5_000, processorEvents: 1_100 } }),
      sample(3, { metrics: { compactorRows: 400, compactorLag: 2_000, processorEvents: 1_200 } }),
      sample(4, { metrics: { compactorRows: 900, compactorLag: 100, processorEvents: 1_300 } }),
      sample(5, { metrics: { compactorRows: 900, compactorLag: 50, processorEvents: 1_400 } }),
    ];
    expect(findRecovery(samples, end, rule)).toEqual({ readyAt: T0 + 1_000, recoveredAt: T0 + 2_000 });
    expect(findRecovery(samples.slice(0, 5), end, rule)).toEqual({ readyAt: T0 + 1_000 });
  });

  it('does not take a stale lag gauge for recovery while a consumer is not moving', () => {
    const samples = Array.from({ length: 6 }, (_, i) => sample(i, { metrics: { processorEvents: 1_000, compactorRows: 500 + i } }));
    expect(findRecovery(samples, T0, rule).recoveredAt).toBeUndefined();
    expect(findRecovery(samples, T0, rule).readyAt).toBe(T0);
  });

  it('requires the fault-specific condition too', () => {
    const moving = (i: number, status: number) => sample(i, { metrics: { processorEvents: 1_000 + i, compactorRows: 1_000 + i }, query: { status } });
    const samples = [moving(0, 0), moving(1, 0), moving(2, 200), moving(3, 200)];
    expect(findRecovery(samples, T0, { ...rule, also: (s) => s.query?.status === 200 })).toEqual({ readyAt: T0 + 1_000, recoveredAt: T0 + 1_000 });
  });
});

describe('faultSpec', () => {
  const d = { outageMs: 30_000, restartDownMs: 10_000 };

  it('names each fault with its duration and targets an app or a stack service', () => {
    expect(FAULT_IDS.map((id) => faultSpec(id, d, 300).name)).toEqual([
      'SIGKILL producer',
      'SIGKILL stream-processor',
      'SIGKILL compactor',
      'SIGKILL query-api',
      'broker restart (down 10 s)',
      'object store down 30 s',
      'Trino down 30 s',
      'PostgreSQL restart (down 10 s)',
    ]);
    expect(faultSpec('kill-compactor', d, 300).target).toEqual({ app: 'compactor' });
    expect(faultSpec('trino-down', d, 300).target).toEqual({ service: 'trino', downMs: 30_000 });
  });

  it('expects a killed consumer to be silent, then up but not ready until it joins its group', () => {
    const spec = faultSpec('kill-compactor', d, 300);
    const window = [sample(0, { apps: { compactor: down } }), sample(1, { apps: { compactor: failing('consumer', 'starting') } }), sample(2)];
    expect(judge(spec.expectations, window).map((r) => [r.seen, r.cleared])).toEqual([
      [true, true],
      [true, true],
    ]);
    // Ready as soon as it answers (not yet in its group) is what must not pass.
    expect(judge(spec.expectations, [window[0] as Sample, sample(1)])[1]?.seen).toBe(false);
  });

  it('expects the object store outage as a 503 naming object-store, growing retries and lag over the threshold', () => {
    const spec = faultSpec('object-store-down', d, 300);
    const during = [sample(0), sample(1, { apps: { compactor: failing('object-store') }, metrics: { compactorRetries: 3, compactorLag: 2_000 } })];
    expect(judge(spec.expectations, [...during, sample(2, { metrics: { compactorRetries: 3 } })]).map((r) => [r.seen, r.cleared])).toEqual([
      [true, true],
      [true, true],
      [true, true],
    ]);
    // A failing check of another dependency does not count.
    expect(judge(spec.expectations, [sample(0, { apps: { compactor: failing('catalog') } })])[0]?.seen).toBe(false);
  });

  it('expects the Trino outage in the query API: readiness naming trino and 503 trino_unavailable answers', () => {
    const spec = faultSpec('trino-down', d, 300);
    const outage = sample(1, { apps: { 'query-api': failing('trino') }, query: { status: 503, code: 'trino_unavailable' }, metrics: { queryTrinoUnavailable: 2 } });
    expect(judge(spec.expectations, [sample(0), outage, sample(2, { query: { status: 200 }, metrics: { queryTrinoUnavailable: 2 } })]).every((r) => r.seen && r.cleared)).toBe(true);
    expect(judge(spec.expectations, [sample(0), sample(1, { query: { status: 503, code: 'trino_error' } })])[1]?.seen).toBe(false);
    expect(spec.recovered?.(sample(3, { query: { status: 503, code: 'trino_unavailable' } }))).toBe(false);
  });

  it('expects the broker restart in the collector spool and in a consumer readiness check', () => {
    const spec = faultSpec('broker-restart', d, 300);
    const window = [
      sample(0, { metrics: { spooledEvents: 0 } }),
      sample(1, { apps: { 'stream-processor': failing('kafka') }, metrics: { kafkaConnected: 0, spoolDepth: 400, spooledEvents: 400 } }),
      sample(2, { metrics: { spoolDepth: 0, kafkaConnected: 1, spooledEvents: 400 } }),
    ];
    expect(judge(spec.expectations, window).map((r) => [r.what.split(' ')[0], r.seen, r.cleared])).toEqual([
      ['collector', true, true],
      ['pipeline_producer_events_accepted_total{via="spool"}', true, true],
      ['stream-processor', true, true],
    ]);
  });

  it('expects the PostgreSQL restart as the compactor catalog check failing', () => {
    const spec = faultSpec('postgres-restart', d, 300);
    expect(judge(spec.expectations, [sample(0, { apps: { compactor: failing('catalog') } }), sample(1)])[0]).toMatchObject({ seen: true, cleared: true });
  });
});

describe('readinessChanges and timelineChart', () => {
  const samples = [
    sample(0),
    sample(1, { apps: { compactor: failing('object-store') } }),
    sample(2, { apps: { compactor: failing('object-store') } }),
    sample(3, { apps: { 'query-api': down }, query: { status: 0 } }),
    sample(4),
  ];

  it('keeps one entry per change of what is not ready, with the query answer', () => {
    expect(notReadySummary(samples[1] as Sample)).toBe('compactor: object-store');
    expect(readinessChanges(samples, T0)).toEqual([
      { t: 0, not_ready: '' },
      { t: 0.5, not_ready: 'compactor: object-store' },
      { t: 1.5, not_ready: 'query-api: down', query: 'no answer' },
      { t: 2, not_ready: '' },
    ]);
  });

  it('draws seconds since the fault with marks for its end and recovery, and no value where an app did not answer', () => {
    const chart = timelineChart('x', samples, { start: T0 + 500, end: T0 + 1_000, recovered: T0 + 2_000 }, 'c');
    expect(chart.t).toEqual([-0.5, 0, 0.5, 1, 1.5]);
    expect(chart.marks).toEqual([
      { t: 0, label: 'fault' },
      { t: 0.5, label: 'fault ends' },
      { t: 1.5, label: 'recovered' },
    ]);
    expect(chart.series['apps not ready']).toEqual([0, 1, 1, 1, 0]);
    expect(chart.series['acked events/s']).toEqual([null, 200, 200, 200, 200]);
    const gap = timelineChart('x', [sample(0, { metrics: { processorLag: Number.NaN } })], { start: T0, end: T0 }, '');
    expect(gap.series['processor lag']).toEqual([null]);
  });
});
