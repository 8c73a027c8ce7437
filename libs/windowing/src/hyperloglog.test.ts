import fc from 'fast-check';
import {
  addToHyperLogLog,
  createHyperLogLog,
  estimateHyperLogLog,
  hyperLogLogFromJson,
  hyperLogLogStandardError,
  hyperLogLogToJson,
  mergeHyperLogLog,
  type HyperLogLog,
} from './hyperloglog';

function sketchOf(values: Iterable<string>, precision = 14): HyperLogLog {
  const sketch = createHyperLogLog(precision);
  for (const v of values) addToHyperLogLog(sketch, v);
  return sketch;
}

function range(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `${prefix}${from + i}`);
}

describe('HyperLogLog', () => {
  it('estimates 0 when empty and small sets almost exactly', () => {
    expect(estimateHyperLogLog(createHyperLogLog(14))).toBe(0);
    expect(Math.round(estimateHyperLogLog(sketchOf(['a'])))).toBe(1);
    expect(Math.round(estimateHyperLogLog(sketchOf(range('u', 0, 100))))).toBe(100);
  });

  // Documented bound: relative error within 3 standard errors (1.04 / sqrt(2^p)); the hash is fixed,
  // so these cases are deterministic.
  it.each([
    [14, 1_000],
    [14, 10_001],
    [14, 50_000],
    [14, 250_000],
    [12, 30_000],
    [16, 100_000],
  ])('precision %d, %d distinct values: error within 3 standard errors', (precision, n) => {
    const estimate = estimateHyperLogLog(sketchOf(range('user-', 0, n), precision));
    expect(Math.abs(estimate - n) / n).toBeLessThan(3 * hyperLogLogStandardError(precision));
  });

  it('ignores duplicates', () => {
    const once = sketchOf(range('x', 0, 5000));
    const twice = sketchOf([...range('x', 0, 5000), ...range('x', 0, 5000)]);
    expect(twice.registers).toEqual(once.registers);
  });

  it('merging two sketches equals the sketch of the union', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 200 }), fc.array(fc.string(), { maxLength: 200 }), (a, b) => {
        const merged = sketchOf(a, 8);
        mergeHyperLogLog(merged, sketchOf(b, 8));
        expect(merged.registers).toEqual(sketchOf([...a, ...b], 8).registers);
      }),
    );
  });

  it('round-trips through JSON', () => {
    const sketch = sketchOf(range('k', 0, 20_000));
    const restored = hyperLogLogFromJson(JSON.parse(JSON.stringify(hyperLogLogToJson(sketch))));
    expect(restored.registers).toEqual(sketch.registers);
    expect(estimateHyperLogLog(restored)).toBe(estimateHyperLogLog(sketch));
  });

  it('refuses mismatched precisions and corrupt registers', () => {
    expect(() => mergeHyperLogLog(createHyperLogLog(10), createHyperLogLog(11))).toThrow(RangeError);
    expect(() => createHyperLogLog(3)).toThrow(RangeError);
    expect(() => hyperLogLogFromJson({ precision: 4, registers: 'AAAA' })).toThrow(/expected 16 bytes/);
    expect(() => hyperLogLogFromJson({ precision: 4, registers: Buffer.alloc(16, 40).toString('base64') })).toThrow(/above 33/);
  });
});
