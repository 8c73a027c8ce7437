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

/** The digit at `i` of `text`, or -1 when it is not an ASCII digit. */
function digitAt(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

function toEpochMs(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number, offsetMinutes: number): number | undefined {
  if (month < 1 || month > 12 || day < 1) return undefined;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 31);
  if (day > maxDay || hour > 23 || minute > 59 || second > 60) return undefined;
  let utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  if (year < 100) {
    // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear does not.
    const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
    utc = date.setUTCFullYear(year);
  }
  return utc - offsetMinutes * 60_000;
}

/**
 * The canonical form `YYYY-MM-DDTHH:MM:SS.mmmZ` (what nearly every record carries) read digit by
 * digit: its epoch ms, undefined when it is not a valid date-time, or null when `text` has another
 * shape (the regular expression decides then).
 */
function parseCanonical(text: string): number | undefined | null {
  if (text.length !== 24 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84) return null;
  if (text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return null;
  const y1 = digitAt(text, 0);
  const y2 = digitAt(text, 1);
  const y3 = digitAt(text, 2);
  const y4 = digitAt(text, 3);
  const m1 = digitAt(text, 5);
  const m2 = digitAt(text, 6);
  const d1 = digitAt(text, 8);
  const d2 = digitAt(text, 9);
  const h1 = digitAt(text, 11);
  const h2 = digitAt(text, 12);
  const n1 = digitAt(text, 14);
  const n2 = digitAt(text, 15);
  const s1 = digitAt(text, 17);
  const s2 = digitAt(text, 18);
  const f1 = digitAt(text, 20);
  const f2 = digitAt(text, 21);
  const f3 = digitAt(text, 22);
  if ((y1 | y2 | y3 | y4 | m1 | m2 | d1 | d2 | h1 | h2 | n1 | n2 | s1 | s2 | f1 | f2 | f3) < 0) return null;
  return toEpochMs(y1 * 1000 + y2 * 100 + y3 * 10 + y4, m1 * 10 + m2, d1 * 10 + d2, h1 * 10 + h2, n1 * 10 + n2, s1 * 10 + s2, f1 * 100 + f2 * 10 + f3, 0);
}

/**
 * Parses an RFC 3339 timestamp with offset to epoch milliseconds (fraction truncated to ms);
 * returns `undefined` when the text is not a valid RFC 3339 date-time.
 * A leap second (`:60`) is accepted and lands on the next second, as in `Date`.
 */
export function parseRfc3339(text: string): number | undefined {
  const canonical = parseCanonical(text);
  if (canonical !== null) return canonical;
  // Longest sensible form is ~35 chars; a cap keeps the regex cheap on hostile input.
  if (text.length < 20 || text.length > 64) return undefined;
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const fraction = m[7];
  const millis = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offHours = Number(m[10]);
    const offMinutes = Number(m[11]);
    if (offHours > 23 || offMinutes > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offHours * 60 + offMinutes);
  }
  return toEpochMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), millis, offsetMinutes);
}

const DAY_MS = 86_400_000;
/** Year 10000: from there on toISOString prints six-digit years. */
const FOUR_DIGIT_YEARS_END_MS = 253_402_300_800_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
let cachedDayStartMs = NaN;
let cachedDayPrefix = '';

/**
 * Formats epoch milliseconds as the canonical envelope timestamp: UTC, millisecond precision, `Z`
 * (e.g. `2024-05-01T12:00:00.000Z`), exactly as `Date#toISOString`; throws RangeError outside the Date range.
 */
export function formatTimestamp(epochMs: number): string {
  // Timestamps come in runs within one day: the date part is formatted once per day, the time from tables.
  if (!(epochMs >= cachedDayStartMs && epochMs < cachedDayStartMs + DAY_MS && Number.isInteger(epochMs))) {
    if (!(epochMs >= 0 && epochMs < FOUR_DIGIT_YEARS_END_MS && Number.isInteger(epochMs))) return new Date(epochMs).toISOString();
    cachedDayStartMs = epochMs - (epochMs % DAY_MS);
    cachedDayPrefix = new Date(cachedDayStartMs).toISOString().slice(0, 11);
  }
  let rest = epochMs - cachedDayStartMs;
  const millis = rest % 1000;
  rest = (rest - millis) / 1000;
  const seconds = rest % 60;
  rest = (rest - seconds) / 60;
  const minutes = rest % 60;
  const hours = (rest - minutes) / 60;
  return `${cachedDayPrefix}${TWO_DIGITS[hours] as string}:${TWO_DIGITS[minutes] as string}:${TWO_DIGITS[seconds] as string}.${THREE_DIGITS[millis] as string}Z`;
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
