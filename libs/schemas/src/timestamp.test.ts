import fc from 'fast-check';
import { formatTimestamp, isCanonicalTimestamp, parseRfc3339 } from './timestamp';

describe('parseRfc3339', () => {
  it.each([
    ['2024-05-01T12:00:00Z', '2024-05-01T12:00:00.000Z'],
    ['2024-05-01T12:00:00.5Z', '2024-05-01T12:00:00.500Z'],
    ['2024-05-01T12:00:00.123456789Z', '2024-05-01T12:00:00.123Z'],
    ['2024-05-01T14:00:00+02:00', '2024-05-01T12:00:00.000Z'],
    ['2024-05-01T07:30:00-04:30', '2024-05-01T12:00:00.000Z'],
    ['2024-05-01t12:00:00z', '2024-05-01T12:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00.000Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'],
    ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    const ms = parseRfc3339(text);
    expect(ms).toBeDefined();
    expect(formatTimestamp(ms as number)).toBe(iso);
  });

  it.each([
    ['no offset', '2024-05-01T12:00:00'],
    ['space separator', '2024-05-01 12:00:00Z'],
    ['date only', '2024-05-01'],
    ['month 13', '2024-13-01T00:00:00Z'],
    ['day 0', '2024-05-00T00:00:00Z'],
    ['April 31st', '2024-04-31T00:00:00Z'],
    ['February 29th of a common year', '2023-02-29T00:00:00Z'],
    ['February 29th of 1900', '1900-02-29T00:00:00Z'],
    ['hour 24', '2024-05-01T24:00:00Z'],
    ['minute 60', '2024-05-01T12:60:00Z'],
    ['second 61', '2024-05-01T12:00:61Z'],
    ['offset hour 24', '2024-05-01T12:00:00+24:00'],
    ['offset without colon', '2024-05-01T12:00:00+0200'],
    ['empty fraction', '2024-05-01T12:00:00.Z'],
    ['two-digit year', '24-05-01T12:00:00Z'],
    ['trailing text', '2024-05-01T12:00:00Z trailing'],
    ['epoch digits', '1714564800000'],
    ['empty', ''],
  ])('refuses %s', (_name, text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });

  it('reads back any instant written with any offset and fraction length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9998, 11, 31) }),
        fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
        (ms, offset) => {
          const local = new Date(ms + offset * 60_000).toISOString();
          const sign = offset < 0 ? '-' : '+';
          const abs = Math.abs(offset);
          const text = `${local.slice(0, 23)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseRfc3339(text)).toBe(ms);
          expect(parseRfc3339(`${local.slice(0, 23)}999Z`)).toBe(ms + offset * 60_000);
        },
      ),
    );
  });
});

describe('isCanonicalTimestamp', () => {
  it.each([
    ['2024-05-01T12:00:00.000Z', true],
    ['2024-05-01T12:00:00Z', false],
    ['2024-05-01t12:00:00.000Z', false],
    ['2024-05-01T12:00:00.000z', false],
    ['2024-05-01T12:00:00.0000', false],
    ['2016-12-31T23:59:60.000Z', false],
  ])('%s -> %s', (text, expected) => {
    expect(isCanonicalTimestamp(text)).toBe(expected);
  });

  it('agrees with formatTimestamp for every parsable canonical-looking text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.UTC(9998, 0, 1) }), (ms) => {
        const text = formatTimestamp(ms);
        expect(isCanonicalTimestamp(text)).toBe(true);
        expect(formatTimestamp(parseRfc3339(text) as number)).toBe(text);
      }),
    );
  });
});
