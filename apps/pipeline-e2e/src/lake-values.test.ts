import { jsonColumn, rowObjects, trinoTimestampMs } from './lake-values';

describe('trinoTimestampMs', () => {
  it.each([
    ['2026-01-31 12:00:00.123456 UTC', Date.parse('2026-01-31T12:00:00.123Z')],
    ['2026-01-31 12:00:00.1 UTC', Date.parse('2026-01-31T12:00:00.100Z')],
    ['2026-01-31 12:00:00 UTC', Date.parse('2026-01-31T12:00:00.000Z')],
    ['1999-12-31 23:59:59.999999999 UTC', Date.parse('1999-12-31T23:59:59.999Z')],
  ])('reads %s', (text, ms) => {
    expect(trinoTimestampMs(text)).toBe(ms);
  });

  it.each([['2026-01-31T12:00:00Z'], ['2026-01-31 12:00:00.000 Europe/Berlin'], ['2026-02-30 12:00:00 UTC'], [null], [1_700_000_000_000]])('refuses %p', (text) => {
    expect(() => trinoTimestampMs(text)).toThrow(/not a (Trino UTC timestamp|real date)/);
  });
});

describe('jsonColumn', () => {
  it('parses JSON text and keeps null', () => {
    expect(jsonColumn('{"a":[1,{"b":true}]}')).toEqual({ a: [1, { b: true }] });
    expect(jsonColumn(null)).toBeNull();
  });

  it('refuses what is not JSON text', () => {
    expect(() => jsonColumn(3)).toThrow(/expected JSON text/);
    expect(() => jsonColumn('{oops')).toThrow(SyntaxError);
  });
});

describe('rowObjects', () => {
  it('keys each row by the column names', () => {
    expect(rowObjects([{ name: 'a', type: 'bigint' }, { name: 'b', type: 'varchar' }], [[1, 'x'], [2, null]])).toEqual([{ a: 1, b: 'x' }, { a: 2, b: null }]);
  });
});
