import { MISFIT, columnConflict, columnName, convertValue, misfitReason, rowsToColumns, toRow, trinoType } from './columns';

describe('lake columns', () => {
  it.each([
    ['prop_', 'Price-USD', 'prop_price_usd'],
    ['g_', 'event.type', 'g_event_type'],
  ])('names %s%s', (prefix, name, expected) => expect(columnName(prefix, name)).toBe(expected));

  it('widens integers into double columns and refuses every other change of type', () => {
    expect(columnConflict({ id: 1, name: 'prop_x', type: 'double', required: false }, 'long')).toBeUndefined();
    expect(columnConflict({ id: 1, name: 'prop_x', type: 'string', required: false }, 'json')).toBeUndefined();
    expect(columnConflict({ id: 1, name: 'prop_x', type: 'long', required: false }, 'double')).toBe('column prop_x is long in the table, the schema makes it double');
    expect(columnConflict({ id: 1, name: 'prop_x', type: 'string', required: false }, 'long')).toMatch(/string in the table/);
  });

  it.each([
    ['string', 'string', 'a', 'a'],
    ['string', 'json', 'a', '"a"'],
    ['string', 'json', { a: [1] }, '{"a":[1]}'],
    ['string', 'string', 5, '5'],
    ['long', 'long', 5, 5],
    ['long', 'long', 5n, 5n],
    ['long', 'long', 5.5, MISFIT],
    ['double', 'long', 5, 5],
    ['double', 'double', '5', MISFIT],
    ['boolean', 'boolean', 'true', MISFIT],
    ['timestamptz', 'timestamptz', '2026-11-27T10:00:00.000Z', Date.parse('2026-11-27T10:00:00.000Z')],
    ['timestamptz', 'timestamptz', 'yesterday', MISFIT],
    ['long', 'long', null, null],
  ] as const)('converts into %s (%s) %j', (type, kind, value, expected) => expect(convertValue(type, kind, value)).toEqual(expected));

  it('lays out a row by the table fields and names the first misfit', () => {
    const fields = [
      { id: 1, name: 'a', type: 'string', required: false },
      { id: 2, name: 'n', type: 'long', required: false },
    ] as const;
    const kinds = new Map([['n', 'long' as const]]);
    expect(toRow([...fields], kinds, { n: 3, other: 'x' })).toEqual([null, 3]);
    expect(toRow([...fields], kinds, { a: 'x', n: 'three' })).toBe('n: expected an integer, got string');
    expect(misfitReason('double', true)).toBe('expected a number, got boolean');
  });

  it('has a Trino type for each kind', () => expect(trinoType('timestamptz')).toBe('timestamp(6) with time zone'));

  it('turns rows into columns, a short row giving undefined in the columns it lacks', () => {
    const rows = [{ values: ['a', 1, null] }, { values: ['b', 2] }, { values: [] }];
    expect(rowsToColumns(3, rows, (r) => r.values)).toEqual([
      ['a', 'b', undefined],
      [1, 2, undefined],
      [null, undefined, undefined],
    ]);
    expect(rowsToColumns(2, [], (r: unknown[]) => r)).toEqual([[], []]);
  });
});
