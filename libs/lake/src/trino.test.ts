import { quoteIdent, quoteLiteral } from './trino';

describe('Trino quoting', () => {
  it.each([
    ['events', '"events"'],
    ['we"ird', '"we""ird"'],
  ])('quotes identifier %s', (input, expected) => expect(quoteIdent(input)).toBe(expected));

  it.each([
    ["it's", "'it''s'"],
    ["'; DROP TABLE x; --", "'''; DROP TABLE x; --'"],
  ])('quotes literal %s', (input, expected) => expect(quoteLiteral(input)).toBe(expected));
});
