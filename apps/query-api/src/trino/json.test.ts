import fc from 'fast-check';
import { parseJsonExact, stringifyJsonExact } from './json';

describe('exact JSON', () => {
  it('keeps integers beyond 2^53 exact through a round trip', () => {
    const text = '{"data":[[9007199254740993,"9007199254740993",1.5,-12345678901234567890,12,1234567890123456.5,1e300]]}';
    const parsed = parseJsonExact(text) as { data: unknown[][] };
    expect(parsed.data[0]).toEqual([9007199254740993n, '9007199254740993', 1.5, -12345678901234567890n, 12, 1234567890123456.5, 1e300]);
    expect(stringifyJsonExact(parsed)).toBe(text.replace('1e300', '1e+300'));
  });

  it('leaves digits inside strings alone, escaped quotes included', () => {
    const text = '["a\\"12345678901234567890\\"", 12345678901234567890]';
    expect(parseJsonExact(text)).toEqual(['a"12345678901234567890"', 12345678901234567890n]);
  });

  it('keeps safe integers as numbers, and huge ones exact', () => {
    expect(parseJsonExact('[1234567890123456, 9007199254740991, 9007199254740992]')).toEqual([1234567890123456, 9007199254740991, 9007199254740992n]);
    const huge = '9'.repeat(400);
    expect(stringifyJsonExact(parseJsonExact(`[${huge}]`))).toBe(`[${huge}]`);
  });

  it('writes a string that looks like the marker as a string', () => {
    expect(stringifyJsonExact(['\u0000abc:123', 5n])).toBe('["\\u0000abc:123",5]');
  });

  it('agrees with JSON.parse and JSON.stringify on JSON without unsafe integers', () => {
    fc.assert(
      // Trino writes doubles in exponent form past 1e7, so a run of 16+ digits is always an integer.
      fc.property(fc.json().filter((text) => !/\d{16}/.test(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'))), (text) => {
        const value = parseJsonExact(text);
        expect(value).toEqual(JSON.parse(text));
        expect(stringifyJsonExact(value)).toBe(JSON.stringify(JSON.parse(text)));
      }),
    );
  });

  it('round-trips any 64-bit integer', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const text = `[${n.toString()},"${n.toString()}"]`;
        expect(stringifyJsonExact(parseJsonExact(text))).toBe(text);
      }),
    );
  });
});
