import fc from 'fast-check';
import { histogramCount, histogramOf, histogramQuantile, judgeStep, linearFit, percentile, round, timeToRecover, timeToSettle, trend, type FlowSample } from './stats';

describe('percentile', () => {
  it.each([
    ['five values', [5, 1, 4, 2, 3], 0.5, 3],
    ['five values', [5, 1, 4, 2, 3], 0.95, 5],
    ['five values', [5, 1, 4, 2, 3], 0, 1],
    ['one value', [7], 0.99, 7],
    ['1..100', Array.from({ length: 100 }, (_, i) => i + 1), 0.95, 95],
  ])('of %s at %d is %d', (_name, values, q, expected) => {
    expect(percentile(values, q)).toBe(expected);
  });

  it('is NaN for no values and leaves its input alone', () => {
    expect(percentile([], 0.5)).toBeNaN();
    const values = [3, 1, 2];
    percentile(values, 0.5);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('histograms', () => {
  it('merges repeated buckets and sorts them', () => {
    expect(histogramOf(100, [[3, 2], [1, 1], [3, 4]])).toEqual({ width: 100, buckets: [[1, 1], [3, 6]] });
  });

  it('answers the upper edge of the bucket that holds the quantile', () => {
    const h = histogramOf(100, [[0, 50], [9, 45], [30, 5]]);
    expect(histogramQuantile(h, 0.5)).toBe(100);
    expect(histogramQuantile(h, 0.51)).toBe(1000);
    expect(histogramQuantile(h, 0.95)).toBe(1000);
    expect(histogramQuantile(h, 0.96)).toBe(3100);
    expect(histogramQuantile(h, 1)).toBe(3100);
    expect(histogramQuantile(histogramOf(100, []), 0.5)).toBeNaN();
  });

  it('errs high by less than one bucket against the exact percentile', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }), (ms, q) => {
        const h = histogramOf(100, ms.map((v) => [Math.floor(v / 100), 1] as const));
        expect(histogramCount(h)).toBe(ms.length);
        const exact = percentile(ms, q);
        const approx = histogramQuantile(h, q);
        expect(approx).toBeGreaterThan(exact);
        expect(approx - exact).toBeLessThanOrEqual(100);
      }),
    );
  });
});

describe('linearFit and trend', () => {
  it('recovers a line exactly', () => {
    const xs = [0, 10, 20, 30];
    const fit = linearFit(xs, xs.map((x) => 5 + 0.5 * x));
    expect(fit.slope).toBeCloseTo(0.5, 12);
    expect(fit.intercept).toBeCloseTo(5, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
  });

  it('has slope 0 for a flat series or a single x', () => {
    expect(linearFit([0, 1, 2], [4, 4, 4])).toMatchObject({ slope: 0, intercept: 4, r2: 0 });
    expect(linearFit([3, 3], [1, 2])).toMatchObject({ slope: 0, intercept: 1.5 });
    expect(linearFit([], [])).toMatchObject({ slope: 0, n: 0 });
  });

  it('flags growth above the share of the mean, and not noise around a flat line', () => {
    const xs = Array.from({ length: 181 }, (_, i) => i * 10);
    const rising = trend(xs, xs.map((x) => 200 + x / 60), { maxRelativeGrowth: 0.1, floor: 50 });
    expect(rising.slopePerHour).toBeCloseTo(60, 6);
    expect(rising.growth).toBeCloseTo(30, 6);
    expect(rising.relativeGrowth).toBeCloseTo(30 / 215, 6);
    expect(rising.upward).toBe(true);
    const flat = trend(xs, xs.map((_, i) => 200 + (i % 2 === 0 ? 5 : -5)), { maxRelativeGrowth: 0.1, floor: 50 });
    expect(flat.upward).toBe(false);
    expect(Math.abs(flat.growth)).toBeLessThan(1);
  });

  it('measures small series against the floor, not their own near-zero mean', () => {
    const xs = [0, 10, 20, 30];
    const t = trend(xs, [0, 1, 2, 3], { maxRelativeGrowth: 0.1, floor: 100 });
    expect(t.relativeGrowth).toBeCloseTo(0.03, 6);
    expect(t.upward).toBe(false);
  });

  it('never flags a falling series', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { minLength: 2, maxLength: 50 }), (ys) => {
        const sorted = [...ys].sort((a, b) => b - a);
        const t = trend(sorted.map((_, i) => i), sorted, { maxRelativeGrowth: 0.1, floor: 1 });
        expect(t.upward).toBe(false);
      }),
    );
  });
});

describe('judgeStep', () => {
  const flow = (rate: number, visibleRate: number, seconds = 20, jitter = 0): FlowSample[] =>
    Array.from({ length: seconds + 1 }, (_, t) => ({ t, acked: rate * t, visible: visibleRate * t - (t % 2 === 0 ? jitter : 0) }));

  it('calls a step sustained when acknowledged, visible and backlog keep pace', () => {
    expect(judgeStep(flow(1000, 1000), 1000)).toMatchObject({ sustained: true, ackedRate: 1000, visibleRate: 1000 });
  });

  it('tolerates the saw-tooth of periodic flushes', () => {
    expect(judgeStep(flow(1000, 1000, 20, 2000), 1000).sustained).toBe(true);
  });

  it.each([
    ['the collector fell behind', flow(800, 800), /acknowledged 800\/s of 1000\/s/],
    ['the lake fell behind', flow(1000, 700), /lake took 700\/s of 1000\/s/],
  ])('rejects a step where %s', (_what, samples, reason) => {
    const verdict = judgeStep(samples, 1000);
    expect(verdict.sustained).toBe(false);
    expect(verdict.reason).toMatch(reason);
  });

  it('rejects a step whose backlog grows although rates look close', () => {
    const samples = Array.from({ length: 21 }, (_, t) => ({ t, acked: 1000 * t, visible: 1000 * t - 3 * t * t }));
    const verdict = judgeStep(samples, 1000);
    expect(verdict.sustained).toBe(false);
    expect(verdict.reason).toMatch(/backlog grew/);
  });

  it('refuses to judge on too few samples', () => {
    expect(judgeStep(flow(1000, 1000, 1), 1000)).toMatchObject({ sustained: false, reason: 'too few samples' });
  });
});

describe('timeToSettle and timeToRecover', () => {
  const ts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  it('finds the first run of settled samples after the start', () => {
    const lag = [0, 0, 900, 800, 50, 900, 40, 30, 20, 10];
    expect(timeToSettle(ts, lag, 2, 100, 3)).toBe(4);
    expect(timeToSettle(ts, lag, 2, 100, 1)).toBe(2);
    expect(timeToSettle(ts, lag, 0, 100, 2)).toBe(0);
    expect(timeToSettle(ts, [0, 0, 900, 900, 900, 900, 900, 900, 10, 10], 2, 100, 3)).toBeNull();
  });

  it('finds when a series goes below its limit for good', () => {
    const p95 = [3, 3, 12, 30, 9, 14, 8, 7, 6, 5];
    expect(timeToRecover(ts, p95, 2, 10)).toBe(4);
    expect(timeToRecover(ts, [3, 3, 2, 2, 2, 2, 2, 2, 2, 2], 1.5, 10)).toBe(0);
    expect(timeToRecover(ts, [...p95.slice(0, 9), 11], 2, 10)).toBeNull();
    expect(timeToRecover(ts, p95, 20, 10)).toBeNull();
  });
});

describe('round', () => {
  it('rounds to the digits and passes non-finite values', () => {
    expect(round(1.23456, 2)).toBe(1.23);
    expect(round(1.235, 0)).toBe(1);
    expect(round(Number.NaN)).toBeNaN();
  });
});
