import fc from 'fast-check';
import { batchAggregate, sortResults } from '../test/batch-reference';
import { parseAggregateConfig, type WindowingConfig } from './config';
import { createWindowEngine } from './engine';
import type { EngineOutput, WindowResult } from './types';
import { assignWindows } from './windows';

type Ev = { t: number; k?: string; n?: { k?: string }; v?: number; u: string };

const MEASURES = [
  { kind: 'count' },
  { kind: 'sum', field: 'v' },
  { kind: 'min', field: 'v' },
  { kind: 'max', field: 'v' },
  { kind: 'distinct', field: 'u' },
  { kind: 'duration' },
];

const windowArb = fc.oneof(
  fc.integer({ min: 20, max: 1_000 }).map((size) => ({ type: 'tumbling' as const, size })),
  fc
    .tuple(fc.integer({ min: 5, max: 200 }), fc.integer({ min: 1, max: 6 }), fc.nat(199))
    .map(([slide, factor, extra]) => ({ type: 'hopping' as const, size: slide * factor + (extra % slide), slide })),
  fc.integer({ min: 5, max: 500 }).map((gap) => ({ type: 'session' as const, gap })),
);

const settingsArb = fc.record({
  windows: fc.array(fc.record({ window: windowArb, groupBy: fc.constantFrom([], ['k'], ['n.k'], ['k', 'n.k']) }), { minLength: 1, maxLength: 3 }),
  maxOutOfOrderness: fc.nat(300),
  allowedLateness: fc.nat(300),
  idleTimeout: fc.integer({ min: 1, max: 2_000 }),
});
type Settings = typeof settingsArb extends fc.Arbitrary<infer T> ? T : never;

function configFor(s: Settings): WindowingConfig {
  const result = parseAggregateConfig({
    timeField: 't',
    watermark: { maxOutOfOrderness: s.maxOutOfOrderness, allowedLateness: s.allowedLateness, idleTimeout: s.idleTimeout, maxFuture: '1d' },
    aggregates: s.windows.map((w, i) => ({ name: `agg_${i}`, window: w.window, groupBy: w.groupBy, measures: MEASURES })),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const eventArb: fc.Arbitrary<Ev> = fc
  .record({
    t: fc.nat(5_000),
    k: fc.constantFrom('a', 'b', 'c', undefined),
    nk: fc.constantFrom('x', 'y', undefined),
    v: fc.option(fc.integer({ min: -100, max: 100 })),
    u: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'u6'),
  })
  .map(({ t, k, nk, v, u }) => ({ t, u, ...(k === undefined ? {} : { k }), n: nk === undefined ? {} : { k: nk }, ...(v === null ? {} : { v }) }));

const arrivalArb = fc.record({
  event: eventArb,
  partition: fc.nat(2),
  jitter: fc.nat(10_000),
  clockStep: fc.nat(3_000),
  advanceAfter: fc.boolean(),
});
type Arrival = typeof arrivalArb extends fc.Arbitrary<infer T> ? T : never;

/** Orders arrivals by t + jitter with jitter reduced into [0, maxDisorder]. */
function arrivalOrder(arrivals: readonly Arrival[], maxDisorder: number): Arrival[] {
  const key = (a: Arrival) => a.event.t + (a.jitter % (maxDisorder + 1));
  return [...arrivals].sort((a, b) => key(a) - key(b));
}

type Output = EngineOutput<Ev>;

/** Runs arrivals through an engine; `restartAt` snapshots, JSON round-trips and resumes before that arrival. */
function run(config: WindowingConfig, arrivals: readonly Arrival[], restartAt = -1): Output[] {
  let engine = createWindowEngine<Ev>(config);
  const outputs: Output[] = [];
  let now = 1_000_000;
  arrivals.forEach((a, i) => {
    if (i === restartAt) engine = createWindowEngine<Ev>(config, JSON.parse(JSON.stringify(engine.snapshot())));
    now += a.clockStep;
    outputs.push(engine.process(a.event, a.partition, now));
    if (a.advanceAfter) {
      now += a.clockStep;
      outputs.push(engine.advance(now));
    }
  });
  outputs.push(engine.flush());
  return outputs;
}

const resultsOf = (outputs: readonly Output[]): WindowResult[] => outputs.flatMap((o) => o.results);

describe('window engine properties', () => {
  it('with disorder within maxOutOfOrderness + allowedLateness, streaming equals a batch recomputation', () => {
    fc.assert(
      fc.property(settingsArb, fc.array(arrivalArb, { minLength: 1, maxLength: 120 }), (settings, arrivals) => {
        const config = configFor(settings);
        const ordered = arrivalOrder(arrivals, settings.maxOutOfOrderness + settings.allowedLateness);
        const outputs = run(config, ordered);
        expect(outputs.flatMap((o) => o.late)).toEqual([]);
        expect(outputs.flatMap((o) => o.rejected)).toEqual([]);
        expect(sortResults(resultsOf(outputs))).toEqual(batchAggregate(config, ordered.map((a) => a.event)));
      }),
      { numRuns: 300 },
    );
  });

  it('in any arrival order, every event is counted in a window or reported late for it, never dropped', () => {
    fc.assert(
      fc.property(settingsArb, fc.array(arrivalArb, { minLength: 1, maxLength: 120 }), (settings, arrivals) => {
        const config = configFor(settings);
        const outputs = run(config, arrivalOrder(arrivals, 10_000));
        for (const aggregate of config.aggregates) {
          const memberships = arrivals.reduce((sum, a) => sum + assignWindows(aggregate.window, a.event.t).length, 0);
          const counted = resultsOf(outputs)
            .filter((r) => r.aggregate === aggregate.name)
            .reduce((sum, r) => sum + r.eventCount, 0);
          const late = outputs
            .flatMap((o) => o.late)
            .filter((l) => l.aggregate === aggregate.name)
            .reduce((sum, l) => sum + l.windows.length, 0);
          expect(counted + late).toBe(memberships);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('snapshot, JSON round-trip and restore at any point yields exactly the same outputs', () => {
    fc.assert(
      fc.property(settingsArb, fc.array(arrivalArb, { minLength: 1, maxLength: 120 }), fc.nat(), (settings, arrivals, cut) => {
        const config = configFor(settings);
        const ordered = arrivalOrder(arrivals, 2_000);
        expect(run(config, ordered, cut % (ordered.length + 1))).toEqual(run(config, ordered));
      }),
      { numRuns: 200 },
    );
  });

  it('each window is emitted at most once', () => {
    fc.assert(
      fc.property(settingsArb, fc.array(arrivalArb, { minLength: 1, maxLength: 120 }), (settings, arrivals) => {
        const keys = resultsOf(run(configFor(settings), arrivalOrder(arrivals, 3_000))).map((r) =>
          JSON.stringify([r.aggregate, r.windowStartMs, r.windowEndMs, r.group]),
        );
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 200 },
    );
  });

  it.each(['reject', 'clamp'] as const)('with futurePolicy %s, no event time can push the watermark past now + maxFuture', (futurePolicy) => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.integer({ min: -1e12, max: 1e13 }), partition: fc.nat(3), clockStep: fc.nat(1_000) }), { maxLength: 60 }),
        (events) => {
          const result = parseAggregateConfig({
            timeField: 't',
            watermark: { maxOutOfOrderness: 100, maxFuture: 5_000, futurePolicy },
            aggregates: [{ name: 'a', window: { type: 'tumbling', size: 1_000 }, measures: [{ kind: 'count' }] }],
          });
          if (!result.ok) throw new Error('bad config');
          const engine = createWindowEngine(result.config);
          let now = 1_700_000_000_000;
          for (const e of events) {
            now += e.clockStep;
            const out = engine.process({ t: e.t }, e.partition, now);
            const tooFar = e.t > now + 5_000;
            expect(out.rejected.length).toBe(futurePolicy === 'reject' && tooFar ? 1 : 0);
            expect(out.clamped).toBe(futurePolicy === 'clamp' && tooFar ? 1 : 0);
            expect(engine.stats().watermarkMs).toBeLessThanOrEqual(now + 5_000 - 100);
          }
        },
      ),
    );
  });
});
