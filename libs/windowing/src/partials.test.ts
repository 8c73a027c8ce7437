import fc from 'fast-check';
import { batchAggregate, sortResults } from '../test/batch-reference';
import { parseAggregateConfig, type WindowingConfig } from './config';
import { createWindowEngine } from './engine';
import { createPartialMerger, type PartialSum } from './partials';
import type { WindowResult, WindowState } from './types';

type Ev = { t: number; k: string; v?: number; u: string };

function configFor(windows: unknown[], exactLimit = 10_000): WindowingConfig {
  const parsed = parseAggregateConfig({
    timeField: 't',
    watermark: { maxOutOfOrderness: 0, allowedLateness: 0, maxFuture: '1d' },
    aggregates: windows.map((window, i) => ({
      name: `agg_${i}`,
      window,
      groupBy: i % 2 === 0 ? ['k'] : [],
      measures: [
        { kind: 'count' },
        { kind: 'sum', field: 'v' },
        { kind: 'min', field: 'v' },
        { kind: 'max', field: 'v' },
        { kind: 'distinct', field: 'u', exactLimit, precision: 10 },
        { kind: 'duration' },
      ],
    })),
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

/** Runs one engine per part (each sees only its own events, in time order), then merges results by window and group. */
/** Each part's results with their states (one engine per part, events in time order), keyed by window and group. */
function partialResults(config: WindowingConfig, parts: Ev[][]): Array<{ key: string; result: WindowResult; state: WindowState }> {
  return parts.flatMap((events, partition) => {
    const engine = createWindowEngine<Ev>(config, undefined, { resultState: true });
    const results = [...[...events].sort((a, b) => a.t - b.t).flatMap((e) => engine.process(e, partition, 0).results), ...engine.flush().results];
    return results.map((r) => {
      if (r.state === undefined) throw new Error('result without state');
      return { key: `${r.aggregate}|${r.windowStartMs}|${JSON.stringify(r.group)}`, result: r, state: r.state };
    });
  });
}

function mergedResults(config: WindowingConfig, parts: Ev[][]): WindowResult[] {
  const merger = createPartialMerger(config);
  const merged = new Map<string, { aggregate: string; startMs: number; endMs: number; state: WindowState }>();
  for (const { key, result: r, state } of partialResults(config, parts)) {
    const existing = merged.get(key);
    merged.set(key, {
      aggregate: r.aggregate,
      startMs: r.windowStartMs,
      endMs: r.windowEndMs,
      state: existing === undefined ? state : merger.merge(r.aggregate, existing.state, state),
    });
  }
  return sortResults([...merged.values()].map((m) => merger.result(m.aggregate, { startMs: m.startMs, endMs: m.endMs }, m.state)));
}

/** The per-part results folded with running sums (`open` + `add`), as states and as results. */
function summedResults(config: WindowingConfig, parts: Ev[][]): { states: Array<{ aggregate: string; state: WindowState }>; results: WindowResult[] } {
  const merger = createPartialMerger(config);
  const sums = new Map<string, { aggregate: string; startMs: number; endMs: number; sum: PartialSum }>();
  for (const { key, result: r, state } of partialResults(config, parts)) {
    const existing = sums.get(key);
    if (existing === undefined) sums.set(key, { aggregate: r.aggregate, startMs: r.windowStartMs, endMs: r.windowEndMs, sum: merger.open(r.aggregate, state) });
    else existing.sum.add(state);
  }
  const all = [...sums.values()];
  return { states: all.map((m) => ({ aggregate: m.aggregate, state: m.sum.state() })), results: sortResults(all.map((m) => m.sum.result({ startMs: m.startMs, endMs: m.endMs }))) };
}

const eventArb: fc.Arbitrary<Ev> = fc
  .record({ t: fc.nat(3_000), k: fc.constantFrom('a', 'b', 'c'), v: fc.option(fc.integer({ min: -50, max: 50 })), u: fc.constantFrom('u1', 'u2', 'u3', 'u4') })
  .map(({ v, ...rest }) => (v === null ? rest : { ...rest, v }));

const fixedWindowArb = fc.oneof(
  fc.integer({ min: 20, max: 800 }).map((size) => ({ type: 'tumbling', size })),
  fc.tuple(fc.integer({ min: 10, max: 200 }), fc.integer({ min: 1, max: 4 })).map(([slide, factor]) => ({ type: 'hopping', size: slide * factor, slide })),
);

describe('createPartialMerger', () => {
  it('merging per-part results of fixed windows equals a batch computation over all events, whatever the split', () => {
    fc.assert(
      fc.property(fc.array(fixedWindowArb, { minLength: 1, maxLength: 2 }), fc.array(fc.tuple(eventArb, fc.nat(2)), { maxLength: 120 }), (windows, placed) => {
        const config = configFor(windows);
        const parts: Ev[][] = [[], [], []];
        for (const [event, part] of placed) parts[part]?.push(event);
        const expected = sortResults(batchAggregate(config, placed.map(([e]) => e)));
        expect(mergedResults(config, parts)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('a running sum gives the same states and results as merging pairwise', () => {
    fc.assert(
      fc.property(fc.array(fixedWindowArb, { minLength: 1, maxLength: 2 }), fc.array(fc.tuple(eventArb, fc.nat(2)), { maxLength: 120 }), fc.integer({ min: 2, max: 40 }), (windows, placed, exactLimit) => {
        const config = configFor(windows, exactLimit);
        const parts: Ev[][] = [[], [], []];
        for (const [event, part] of placed) parts[part]?.push(event);
        const summed = summedResults(config, parts);
        expect(summed.results).toEqual(mergedResults(config, parts));
        const merger = createPartialMerger(config);
        // state() round-trips: reopening it gives the same result again.
        for (const { aggregate, state } of summed.states) expect(merger.open(aggregate, state).state()).toEqual(state);
      }),
      { numRuns: 100 },
    );
  });

  it('gives the same distinct estimate as one engine once merged sets pass exactLimit (sketch registers are order-free)', () => {
    const config = configFor([{ type: 'tumbling', size: 1_000 }], 5);
    const events: Ev[] = Array.from({ length: 60 }, (_, i) => ({ t: i * 10, k: 'a', u: `user-${i}` }));
    const single = createWindowEngine<Ev>(config);
    const whole = sortResults([...events.flatMap((e) => single.process(e, 0, 0).results), ...single.flush().results]);
    const merged = mergedResults(config, [events.filter((_, i) => i % 3 === 0), events.filter((_, i) => i % 3 === 1), events.filter((_, i) => i % 3 === 2)]);
    expect(merged).toEqual(whole);
    expect(merged[0]?.estimated).toEqual(['distinct_u']);
  });

  it('leaves results without state unless asked, and rejects unknown aggregates and foreign states', () => {
    const config = configFor([{ type: 'tumbling', size: 100 }]);
    const engine = createWindowEngine<Ev>(config);
    engine.process({ t: 1, k: 'a', u: 'u1' }, 0, 0);
    expect(engine.flush().results[0]).not.toHaveProperty('state');
    const merger = createPartialMerger(config);
    const withState = createWindowEngine<Ev>(config, undefined, { resultState: true });
    withState.process({ t: 1, k: 'a', u: 'u1' }, 0, 0);
    const state = withState.flush().results[0]?.state as WindowState;
    expect(() => merger.merge('nope', state, state)).toThrow(/not in the config/);
    expect(() => merger.merge('agg_0', state, { ...state, states: [1] })).toThrow(/expected 6 measure states/);
    expect(() => merger.open('nope', state)).toThrow(/not in the config/);
    expect(() => merger.open('agg_0', state).add({ ...state, states: [1] })).toThrow(/expected 6 measure states/);
  });

  it('attaches state only to the results of the aggregates named in resultState', () => {
    const config = configFor([{ type: 'tumbling', size: 100 }, { type: 'tumbling', size: 50 }]);
    const engine = createWindowEngine<Ev>(config, undefined, { resultState: new Set(['agg_1']) });
    engine.process({ t: 1, k: 'a', u: 'u1' }, 0, 0);
    const results = engine.flush().results;
    expect(results.map((r) => [r.aggregate, r.state !== undefined]).sort()).toEqual([
      ['agg_0', false],
      ['agg_1', true],
    ]);
    const merger = createPartialMerger(config);
    const state = results.find((r) => r.aggregate === 'agg_1')?.state as WindowState;
    expect(merger.merge('agg_1', state, state)).toMatchObject({ count: 2 });
  });
});
