/**
 * Compares lake rows read by different engines (Trino, PyIceberg) and against what was produced.
 * Values are normalised by the column's Iceberg type: integers as decimal strings (exact past
 * 2^53), timestamps as microseconds since the epoch in UTC, JSON text columns parsed when compared
 * with produced values.
 */
import { isDeepStrictEqual } from 'node:util';
import { quoteIdent } from '@pipeline/lake';

export type Row = Record<string, unknown>;

/** Iceberg primitive → the type Trino reports in information_schema.columns. */
export const TRINO_TYPE_OF: Record<string, string> = {
  string: 'varchar',
  long: 'bigint',
  int: 'integer',
  double: 'double',
  boolean: 'boolean',
  timestamptz: 'timestamp(6) with time zone',
  date: 'date',
};

/** Epoch milliseconds, or an ISO 8601 / Trino (`2026-01-02 03:04:05.123456 UTC`) timestamp in UTC → microseconds as a decimal string. */
export function micros(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return String(BigInt(value) * 1000n);
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?\s*(?:Z|UTC|\+00:00)$/.exec(String(value));
  if (!m) throw new Error(`not a UTC timestamp: ${String(value)}`);
  const seconds = BigInt(Date.parse(`${m[1]}T${m[2]}Z`) / 1000);
  const fraction = BigInt((m[3] ?? '').padEnd(6, '0').slice(0, 6));
  return String(seconds * 1_000_000n + fraction);
}

/** One value in its comparable form for a column of Iceberg type `type`. */
export function normalize(type: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'long':
    case 'int':
      return typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string' ? BigInt(value).toString() : value;
    case 'timestamptz':
      return micros(value);
    case 'double':
      return typeof value === 'string' ? Number(value) : value;
    default:
      return value;
  }
}

/** Trino SELECT list for `columns`: bigints as varchar, so no value passes through a JavaScript double. */
export function trinoSelectList(columns: ReadonlyArray<{ name: string; type: string }>): string {
  return columns.map((c) => (c.type === 'long' ? `CAST(${quoteIdent(c.name)} AS varchar) AS ${quoteIdent(c.name)}` : quoteIdent(c.name))).join(', ');
}

/** Positional Trino rows → objects keyed by column name, normalised. */
export function trinoRows(columns: ReadonlyArray<{ name: string; type: string }>, rows: unknown[][]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c, i) => [c.name, normalize(c.type, r[i])])));
}

/** PyIceberg rows (read-table.py output) → normalised objects. */
export function pyRows(columns: ReadonlyArray<{ name: string; type: string }>, rows: Row[]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, normalize(c.type, r[c.name])])));
}

/**
 * Differences between two row sets keyed by `key`: missing and unexpected keys, then every column
 * whose values differ (`json` columns compared parsed). Empty when they agree.
 */
export function diffRows(
  expected: readonly Row[],
  actual: readonly Row[],
  opts: { key: string; columns: readonly string[]; json?: ReadonlySet<string>; limit?: number },
): string[] {
  const out: string[] = [];
  const byKey = new Map(actual.map((r) => [String(r[opts.key]), r]));
  const seen = new Set<string>();
  for (const want of expected) {
    const k = String(want[opts.key]);
    seen.add(k);
    const got = byKey.get(k);
    if (!got) {
      out.push(`${k}: missing`);
      continue;
    }
    for (const c of opts.columns) {
      let a = want[c] ?? null;
      let b = got[c] ?? null;
      if (opts.json?.has(c)) {
        a = typeof a === 'string' ? JSON.parse(a) : a;
        b = typeof b === 'string' ? JSON.parse(b) : b;
      }
      if (!isDeepStrictEqual(a, b)) out.push(`${k}.${c}: expected ${JSON.stringify(a)}, got ${JSON.stringify(b)}`);
    }
  }
  for (const k of byKey.keys()) if (!seen.has(k)) out.push(`${k}: unexpected`);
  if (actual.length !== byKey.size) out.push(`${actual.length - byKey.size} rows share a key`);
  return out.slice(0, opts.limit ?? 50);
}
