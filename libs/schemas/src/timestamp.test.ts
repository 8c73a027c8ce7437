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

describe('canonical fast paths', () => {
  /** The regular-expression reading, for comparison (what parseRfc3339 did before its fast path). */
  function reference(text: string): number | undefined {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$/.exec(text);
    if (m === null) return undefined;
    const [year, month, day, hour, minute, second, millis] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
    const days = [31, (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (month < 1 || month > 12 || day < 1 || day > (days[month - 1] as number) || hour > 23 || minute > 59 || second > 60) return undefined;
    const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
    return date.setUTCFullYear(year);
  }

  it('formats every instant exactly as toISOString, across day boundaries and outside four-digit years', () => {
    const instant = fc.oneof(
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
      fc.integer({ min: 0, max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }),
      fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2026, 0, 3) }),
      fc.double({ min: 0, max: 2e12, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(instant, { minLength: 1, maxLength: 20 }), (values) => {
        for (const ms of values) expect(formatTimestamp(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2_000 },
    );
    expect(() => formatTimestamp(Number.NaN)).toThrow(RangeError);
  });

  it('reads canonical-shaped text (valid or not) as the regular expression does', () => {
    const digits = (n: number, max: number) =>
      fc.oneof(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join('')),
        fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0')),
      );
    const text = fc
      .tuple(digits(4, 9999), digits(2, 13), digits(2, 32), digits(2, 24), digits(2, 60), digits(2, 61), digits(3, 999))
      .map(([y, mo, d, h, mi, s, f]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${f}Z`);
    fc.assert(
      fc.property(text, (t) => {
        expect(parseRfc3339(t)).toBe(reference(t));
      }),
      { numRuns: 5_000 },
    );
    expect(parseRfc3339('2024-05-01T12:00:00.00xZ')).toBeUndefined();
    expect(parseRfc3339('2024-05-01T12:00:00.000+')).toBeUndefined();
  });
});
