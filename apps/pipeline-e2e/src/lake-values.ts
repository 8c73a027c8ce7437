/** Values as the query API hands them out: Trino's JSON encoding (timestamps and JSON columns as text). */

const TRINO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,12}))? UTC$/;

/**
 * Epoch milliseconds of Trino's text for a `timestamp(p) with time zone` in UTC
 * (`2026-01-31 12:00:00.123456 UTC`); digits below the millisecond are dropped. Throws on any
 * other text, so a changed encoding fails loudly instead of comparing as NaN.
 */
export function trinoTimestampMs(text: unknown): number {
  const m = typeof text === 'string' ? TRINO_TIMESTAMP.exec(text) : null;
  if (!m) throw new Error(`not a Trino UTC timestamp: ${JSON.stringify(text)}`);
  const ms = Date.parse(`${m[1]}T${m[2]}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}Z`);
  // Date.parse rolls 2026-02-30 over into March: a real date prints back the same.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== `${m[1]}T${m[2]}`) throw new Error(`not a real date: ${JSON.stringify(text)}`);
  return ms;
}

/** JSON text of a varchar column parsed; null stays null. Throws on text that is not JSON. */
export function jsonColumn(text: unknown): unknown {
  if (text === null) return null;
  if (typeof text !== 'string') throw new Error(`expected JSON text, got ${JSON.stringify(text)}`);
  return JSON.parse(text) as unknown;
}

export interface ResultColumn {
  name: string;
  type: string;
}

/** Rows of a result as objects keyed by column name. */
export function rowObjects(columns: readonly ResultColumn[], rows: readonly unknown[][]): Array<Record<string, unknown>> {
  return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c.name, row[i]])));
}
