import { applyTransform, partitionPathValue, serializeBound } from './values';

describe('partition transforms', () => {
  it.each([
    ['day', 'timestamptz', '2026-11-27T23:59:59.999Z', 20784],
    ['day', 'timestamptz', '1969-12-31T23:00:00.000Z', -1],
    ['day', 'date', '2026-11-27', 20784],
    ['hour', 'timestamptz', '1970-01-01T05:30:00Z', 5],
    ['month', 'timestamptz', '2026-11-27T00:00:00Z', (2026 - 1970) * 12 + 10],
    ['year', 'timestamptz', '2026-11-27T00:00:00Z', 56],
    ['identity', 'string', 'click', 'click'],
    ['identity', 'timestamptz', '1970-01-01T00:00:01.000Z', 1_000_000n],
  ] as const)('%s(%s) of %s', (transform, type, value, expected) => {
    expect(applyTransform(transform, type, value)).toBe(expected);
  });

  it('keeps null as null', () => expect(applyTransform('day', 'timestamptz', null)).toBeNull());

  it.each([
    ['day', 20784, '2026-11-27'],
    ['hour', 5, '1970-01-01-05'],
    ['month', 682, '2026-11'],
    ['year', 56, '2026'],
    ['identity', 'a b/c', 'a%20b%2Fc'],
    ['identity', null, 'null'],
  ])('path of %s %s', (transform, value, path) => expect(partitionPathValue(transform, value)).toBe(path));
});

describe('bound serialisation', () => {
  it.each([
    ['int', 1, '01000000'],
    ['long', 1n, '0100000000000000'],
    ['timestamptz', -1n, 'ffffffffffffffff'],
    ['double', 1.5, '000000000000f83f'],
    ['boolean', true, '01'],
    ['string', 'é', 'c3a9'],
  ] as const)('%s %s', (type, value, hex) => expect(serializeBound(type, value).toString('hex')).toBe(hex));
});
