import { randomBytes } from 'node:crypto';

/**
 * JSON that keeps integers beyond 2^53 exact. Trino sends BIGINT and DECIMAL-free integers as JSON
 * numbers; JSON.parse would round 9007199254740993 to ...992. Such integers become BigInt on the
 * way in and are written back as plain JSON numbers on the way out.
 */

// A string or an integer of 16+ digits not followed by a fraction or exponent. Strings are matched
// first so digits inside them are never touched.
const STRING_OR_LONG_INTEGER = /"(?:[^"\\]|\\.)*"|-?\d{16,}(?![\d.eE])/g;
const LONG_DIGITS = /\d{16}/;
// Per-process random marker: no value Trino returns can imitate it.
const MARK = `\u0000${randomBytes(8).toString('hex')}:`;
const MARKED = new RegExp(`"\\\\u0000${MARK.slice(1, -1)}:(-?\\d+)"`, 'g');

/** Parses JSON text; integers that do not fit a double exactly become BigInt. Throws SyntaxError like JSON.parse. */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  let found = false;
  const marked = text.replace(STRING_OR_LONG_INTEGER, (token) => {
    if (token.startsWith('"')) return token;
    // Beyond 2^53 a double may hold the value exactly yet print it differently: BigInt from there on.
    if (Number.isSafeInteger(Number(token))) return token;
    found = true;
    return `"\\u0000${MARK.slice(1)}${token}"`;
  });
  if (!found) return JSON.parse(text);
  return JSON.parse(marked, (_key, value: unknown) => (typeof value === 'string' && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value));
}

const replacer = (_key: string, value: unknown) => (typeof value === 'bigint' ? `${MARK}${value.toString()}` : value);

/** JSON.stringify that writes BigInt values as exact JSON numbers. */
export function stringifyJsonExact(value: unknown): string {
  try {
    // The common case has no BigInt and needs no replacer (several times faster).
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  const text = JSON.stringify(value, replacer);
  return text.includes('\\u0000') ? text.replace(MARKED, '$1') : text;
}
