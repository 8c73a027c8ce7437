import type { IcebergField } from '../parquet';
import fc from 'fast-check';
import { compareUtf8, computeColumnStats } from './stats';

const fields: IcebergField[] = [
  { id: 1, name: 's', type: 'string', required: false },
  { id: 2, name: 'n', type: 'long', required: false },
  { id: 3, name: 'd', type: 'double', required: false },
  { id: 4, name: 't', type: 'timestamptz', required: false },
  { id: 5, name: 'b', type: 'boolean', required: false },
];

describe('column statistics', () => {
  it('counts values, nulls and NaNs and finds bounds by type', () => {
    const columns = [
      ['b', 'é', 'a', null],
      [5, 9007199254740993n, -1, null],
      [1.5, NaN, -2, null],
      ['2026-11-27T10:00:00.000Z', null, '2026-11-26T10:00:00.000Z', null],
      [true, false, null, null],
    ];
    const stats = computeColumnStats(fields, columns, 4);
    expect([...stats.valueCounts]).toEqual([1, 2, 3, 4, 5].map((id) => [id, 4]));
    expect([...stats.nullCounts]).toEqual([[1, 1], [2, 1], [3, 1], [4, 2], [5, 2]]);
    expect([...stats.nanCounts]).toEqual([[3, 1]]);
    // UTF-8 byte order: 'é' (c3 a9) sorts after 'b'.
    expect(stats.lowerBounds.get(1)?.toString()).toBe('a');
    expect(stats.upperBounds.get(1)?.toString()).toBe('é');
    expect(stats.lowerBounds.get(2)?.readBigInt64LE()).toBe(-1n);
    expect(stats.upperBounds.get(2)?.readBigInt64LE()).toBe(9007199254740993n);
    expect(stats.lowerBounds.get(3)?.readDoubleLE()).toBe(-2);
    expect(stats.upperBounds.get(3)?.readDoubleLE()).toBe(1.5);
    expect(stats.lowerBounds.get(4)?.readBigInt64LE()).toBe(BigInt(Date.parse('2026-11-26T10:00:00.000Z')) * 1000n);
    expect(stats.upperBounds.get(5)?.[0]).toBe(1);
  });

  it('cuts long string lower bounds and leaves out upper bounds it cannot state exactly', () => {
    const long = 'x'.repeat(40);
    const stats = computeColumnStats([fields[0] as IcebergField], [['a'.repeat(20), long]], 2);
    expect(stats.lowerBounds.get(1)?.toString()).toBe('a'.repeat(16));
    expect(stats.upperBounds.has(1)).toBe(false);
  });

  it('finds the smallest and largest value in UTF-8 byte order and in number order, for any column', () => {
    // Up to 8 code points, supplementary ones included, so the upper bound is always kept.
    const short = fc.string({ unit: 'binary', maxLength: 8 });
    // The bounds compare with < and >, which do not tell -0 from 0.
    const number = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (d === 0 ? 0 : d));
    fc.assert(
      fc.property(fc.array(fc.option(short), { minLength: 1, maxLength: 30 }), fc.array(fc.option(number), { minLength: 1, maxLength: 30 }), (texts, numbers) => {
        const stats = computeColumnStats([fields[0] as IcebergField, fields[2] as IcebergField], [texts, numbers], Math.max(texts.length, numbers.length));
        const present = texts.filter((t): t is string => t !== null).map((t) => Buffer.from(t)).sort(Buffer.compare);
        expect(stats.lowerBounds.get(1)?.toString()).toBe(present[0] === undefined ? undefined : Array.from(present[0].toString()).slice(0, 16).join(''));
        expect(stats.upperBounds.get(1)?.toString()).toBe(present.at(-1)?.toString());
        const values = numbers.filter((n): n is number => n !== null);
        expect(stats.lowerBounds.get(3)?.readDoubleLE()).toBe(values.length === 0 ? undefined : Math.min(...values));
        expect(stats.upperBounds.get(3)?.readDoubleLE()).toBe(values.length === 0 ? undefined : Math.max(...values));
      }),
    );
  });

  it('has no bounds for an all-null column', () => {
    const stats = computeColumnStats([fields[1] as IcebergField], [[null, null]], 2);
    expect(stats.lowerBounds.size + stats.upperBounds.size).toBe(0);
    expect(stats.nullCounts.get(2)).toBe(2);
  });
});

describe('compareUtf8', () => {
  it('orders like the UTF-8 bytes, surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }),
    );
    expect(compareUtf8('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
  });
});
