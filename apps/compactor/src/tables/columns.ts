import type { IcebergField, IcebergPrimitive } from '@pipeline/lake';

/** How a lake column stores values: `json` is a string column holding JSON text. */
export type ColumnKind = 'string' | 'long' | 'double' | 'boolean' | 'json' | 'int' | 'timestamptz';

/** One column the compactor may need in a table, with its Trino type for DDL. */
export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}

const TRINO_TYPES: Record<ColumnKind, string> = {
  string: 'varchar',
  json: 'varchar',
  long: 'bigint',
  int: 'integer',
  double: 'double',
  boolean: 'boolean',
  timestamptz: 'timestamp(6) with time zone',
};

const ICEBERG_TYPES: Record<ColumnKind, IcebergPrimitive> = {
  string: 'string',
  json: 'string',
  long: 'long',
  int: 'int',
  double: 'double',
  boolean: 'boolean',
  timestamptz: 'timestamptz',
};

export function trinoType(kind: ColumnKind): string {
  return TRINO_TYPES[kind];
}

export function icebergType(kind: ColumnKind): IcebergPrimitive {
  return ICEBERG_TYPES[kind];
}

/** Lake column names: lower case, `[a-z0-9_]`, at most 128 characters (Trino folds names to lower case). */
export function columnName(prefix: string, name: string): string {
  return (prefix + name.toLowerCase().replace(/[^a-z0-9_]/g, '_')).slice(0, 128);
}

/**
 * Whether values of `kind` can go into an existing column: `undefined` when they can, else the
 * reason they cannot. An integer may go into a double column (widening); nothing else changes type.
 */
export function columnConflict(existing: IcebergField, kind: ColumnKind): string | undefined {
  const want = icebergType(kind);
  if (existing.type === want) return undefined;
  if (existing.type === 'double' && want === 'long') return undefined;
  return `column ${existing.name} is ${existing.type} in the table, the schema makes it ${want}`;
}

/** What {@link convertValue} returns for a value that does not fit its column. */
export const MISFIT: unique symbol = Symbol('misfit');

/**
 * Converts a JSON value for a column of Iceberg type `type` (the table's actual type), or returns
 * {@link MISFIT} when it does not fit (a record that disagrees with its own schema; see
 * {@link misfitReason}). Allocation-free: this runs once per column per row.
 */
export function convertValue(type: IcebergPrimitive, kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      if (kind !== 'json' && typeof value === 'string') return value;
      return JSON.stringify(value);
    case 'long':
    case 'int':
      return (typeof value === 'number' && Number.isInteger(value)) || typeof value === 'bigint' ? value : MISFIT;
    case 'double':
      return typeof value === 'number' ? value : MISFIT;
    case 'boolean':
      return typeof value === 'boolean' ? value : MISFIT;
    case 'timestamptz': {
      if (typeof value !== 'string') return MISFIT;
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? MISFIT : ms;
    }
    default:
      return MISFIT;
  }
}

/** Why `value` does not fit a column of `type`. */
export function misfitReason(type: IcebergPrimitive, value: unknown): string {
  switch (type) {
    case 'long':
    case 'int':
      return `expected an integer, got ${typeof value}`;
    case 'double':
      return `expected a number, got ${typeof value}`;
    case 'boolean':
      return `expected a boolean, got ${typeof value}`;
    case 'timestamptz':
      return 'expected an RFC 3339 timestamp';
    default:
      return `columns of type ${type} are not written`;
  }
}

/**
 * Lays out named values as a row aligned with `fields`, converting each; returns the reason of the
 * first value that does not fit instead.
 */
export function toRow(fields: readonly IcebergField[], kinds: ReadonlyMap<string, ColumnKind>, named: Record<string, unknown>): unknown[] | string {
  const values = new Array<unknown>(fields.length);
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i] as IcebergField;
    const raw = named[f.name];
    if (raw === undefined || raw === null) {
      values[i] = null;
      continue;
    }
    const v = convertValue(f.type, kinds.get(f.name) ?? 'string', raw);
    if (v === MISFIT) return `${f.name}: ${misfitReason(f.type, raw)}`;
    values[i] = v;
  }
  return values;
}

/**
 * Rows to `width` columns, row by row: one pass over each row's values. Column by column over the
 * rows would fetch every row once per column, which for a flush of wide rows is mostly cache misses.
 */
export function rowsToColumns<T>(width: number, rows: readonly T[], valuesOf: (row: T) => readonly unknown[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: width }, () => new Array<unknown>(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const values = valuesOf(rows[r] as T);
    for (let i = 0; i < width; i++) (columns[i] as unknown[])[r] = values[i];
  }
  return columns;
}
