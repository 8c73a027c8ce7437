/**
 * RFC 3339 `date-time` (section 5.6): `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`.
 * `t` and `z` may be lower case (RFC 3339 note to section 5.6); the space separator
 * some libraries emit is not accepted. A time without an offset is not accepted either,
 * because its instant is unknown.
 */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Parses an RFC 3339 timestamp with offset to epoch milliseconds (fraction truncated to ms);
 * returns `undefined` when the text is not a valid RFC 3339 date-time.
 * A leap second (`:60`) is accepted and lands on the next second, as in `Date`.
 */
export function parseRfc3339(text: string): number | undefined {
  // Longest sensible form is ~35 chars; a cap keeps the regex cheap on hostile input.
  if (text.length < 20 || text.length > 64) return undefined;
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1) return undefined;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day > maxDay || hour > 23 || minute > 59 || second > 60) return undefined;
  const fraction = m[7];
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear does not.
    const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
    utc = date.setUTCFullYear(year);
  }
  return utc - offsetMinutes * 60_000;
}

/** Formats epoch milliseconds as the canonical envelope timestamp: UTC, millisecond precision, `Z` (e.g. `2024-05-01T12:00:00.000Z`). */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** True when `text`, already accepted by {@link parseRfc3339}, is exactly what {@link formatTimestamp} would print for it. */
export function isCanonicalTimestamp(text: string): boolean {
  return (
    text.length === 24 &&
    text.charCodeAt(10) === 84 && // 'T', not 't'
    text.charCodeAt(17) !== 54 && // not a leap second (':60' prints as the next minute)
    text.charCodeAt(19) === 46 && // '.', so exactly three fraction digits
    text.charCodeAt(23) === 90 // 'Z', not 'z' or an offset
  );
}
