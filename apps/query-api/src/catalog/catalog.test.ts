import { rowTypeFields } from './catalog';

describe('rowTypeFields', () => {
  it.each([
    ['row(occurred_at_day date, event_type varchar)', [['occurred_at_day', 'date'], ['event_type', 'varchar']]],
    ['row("odd name" bigint, b decimal(10,2), c row(x integer, y varchar))', [['odd name', 'bigint'], ['b', 'decimal(10,2)'], ['c', 'row(x integer, y varchar)']]],
    ['bigint', []],
  ])('%s', (type, expected) => {
    expect(rowTypeFields(type).map((f) => [f.name, f.type])).toEqual(expected);
  });
});
