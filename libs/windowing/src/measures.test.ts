import type { MeasureSpec } from './config';
import { hyperLogLogStandardError } from './hyperloglog';
import {
  accumulatorFromJson,
  accumulatorToJson,
  accumulatorValues,
  addToAccumulator,
  compileMeasures,
  createAccumulator,
  mergeAccumulators,
  type Accumulator,
} from './measures';

const specs: MeasureSpec[] = [
  { kind: 'count', name: 'count' },
  { kind: 'sum', name: 'sum_v', field: 'v' },
  { kind: 'min', name: 'min_v', field: 'v' },
  { kind: 'max', name: 'max_v', field: 'p.v' },
  { kind: 'distinct', name: 'users', field: 'u', exactLimit: 100, precision: 12 },
  { kind: 'duration', name: 'duration_ms' },
];
const measures = compileMeasures(specs);

function accOf(events: { t: number; v?: unknown; u?: unknown }[]): Accumulator {
  const [first, ...rest] = events.map((e) => ({ ...e, p: { v: e.v } }));
  if (first === undefined) throw new Error('accOf needs at least one event');
  const acc = createAccumulator(measures, [], first, first.t);
  for (const e of rest) addToAccumulator(measures, acc, e, e.t);
  return acc;
}

describe('measures', () => {
  it('computes every measure kind and ignores non-numeric values', () => {
    const acc = accOf([
      { t: 100, v: 5, u: 'a' },
      { t: 40, v: -2, u: 'b' },
      { t: 70, v: 'not a number', u: 'a' },
      { t: 90, v: Number.NaN, u: null },
      { t: 95, u: 7 },
    ]);
    expect(accumulatorValues(measures, acc)).toEqual({
      measures: { count: 5, sum_v: 3, min_v: -2, max_v: 5, users: 3, duration_ms: 60 },
      estimated: [],
    });
  });

  it('min and max are null when no event carried a number; sum is 0', () => {
    expect(accumulatorValues(measures, accOf([{ t: 1 }])).measures).toMatchObject({ sum_v: 0, min_v: null, max_v: null, users: 0, duration_ms: 0 });
  });

  it('distinct is exact up to exactLimit and a sketch estimate beyond it', () => {
    const atLimit = accOf(Array.from({ length: 100 }, (_, i) => ({ t: i, u: `user-${i}` })));
    expect(accumulatorValues(measures, atLimit)).toMatchObject({ measures: { users: 100 }, estimated: [] });

    const n = 20_000;
    const beyond = accOf(Array.from({ length: n }, (_, i) => ({ t: i, u: `user-${i}` })));
    const { measures: values, estimated } = accumulatorValues(measures, beyond);
    expect(estimated).toEqual(['users']);
    expect(Math.abs((values['users'] ?? 0) - n) / n).toBeLessThan(3 * hyperLogLogStandardError(12));
  });

  it('merging exact with exact, exact with sketch and sketch with sketch matches adding everything to one', () => {
    const events = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ({ t: from + i, v: 1, u: `u${from + i}` }));
    const cases: [number, number, number][] = [
      [0, 40, 80], // exact + exact stays exact
      [0, 60, 120], // exact + exact crosses the limit
      [0, 500, 520], // sketch + exact
      [0, 500, 1_000], // sketch + sketch
      [0, 5, 1_000], // exact + sketch
    ];
    for (const [a, b, c] of cases) {
      const left = accOf(events(a, b));
      mergeAccumulators(measures, left, accOf(events(b, c)));
      expect(accumulatorValues(measures, left)).toEqual(accumulatorValues(measures, accOf(events(a, c))));
    }
  });

  it('round-trips exact and sketch states through JSON and rejects states of the wrong shape', () => {
    for (const n of [3, 500]) {
      const acc = accOf(Array.from({ length: n }, (_, i) => ({ t: i, v: i, u: `u${i}` })));
      const restored = accumulatorFromJson(measures, JSON.parse(JSON.stringify(accumulatorToJson(acc))));
      expect(accumulatorValues(measures, restored)).toEqual(accumulatorValues(measures, acc));
    }
    const good = accumulatorToJson(accOf([{ t: 1, v: 1, u: 'a' }]));
    expect(() => accumulatorFromJson(measures, { ...good, states: good.states.slice(1) })).toThrow(/expected 6 measure states/);
    expect(() => accumulatorFromJson(measures, { ...good, states: ['x', ...good.states.slice(1)] })).toThrow(/measure "count"/);
  });
});
