import type { IcebergField } from '../parquet';
import { serializeBound, toEpochDay, toEpochMs } from './values';

/** Per-column metrics of one data file, keyed by field id (what manifests carry for pruning). */
export interface ColumnStats {
  valueCounts: Map<number, number>;
  nullCounts: Map<number, number>;
  nanCounts: Map<number, number>;
  lowerBounds: Map<number, Buffer>;
  upperBounds: Map<number, Buffer>;
}

/** Longest string bound kept (Iceberg's default `truncate(16)` metrics mode), in code points. */
export const STRING_BOUND_LENGTH = 16;

/**
 * Compares strings in UTF-8 byte order without encoding them: UTF-16 code-unit order agrees with it
 * except that surrogates (supplementary characters) must sort above U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x <= 0xdfff ? x + 0x2000 : x - 0x800;
    if (y >= 0xd800) y = y <= 0xdfff ? y + 0x2000 : y - 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Computes value, null and NaN counts and lower/upper bounds of each column. String bounds are
 * compared as UTF-8 bytes; a lower bound is cut to 16 code points (still a lower bound), and an
 * upper bound longer than that is left out rather than guessed.
 */
export function computeColumnStats(fields: readonly IcebergField[], columns: ReadonlyArray<readonly unknown[]>, rowCount: number): ColumnStats {
  const stats: ColumnStats = { valueCounts: new Map(), nullCounts: new Map(), nanCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map() };
  fields.forEach((field, i) => {
    const column = columns[i] ?? [];
    const { nulls, nans, min, max } = field.type === 'string' ? stringRange(column, rowCount) : valueRange(field.type, column, rowCount);
    stats.valueCounts.set(field.id, rowCount);
    stats.nullCounts.set(field.id, nulls);
    if (field.type === 'double') stats.nanCounts.set(field.id, nans);
    if (min === undefined) return;
    if (field.type === 'string') {
      const lower = Array.from(min as string).slice(0, STRING_BOUND_LENGTH).join('');
      stats.lowerBounds.set(field.id, serializeBound('string', lower));
      if (Array.from(max as string).length <= STRING_BOUND_LENGTH) stats.upperBounds.set(field.id, serializeBound('string', max));
      return;
    }
    const conv = (x: unknown) => (field.type === 'timestamptz' ? BigInt(x as number) * 1000n : x);
    stats.lowerBounds.set(field.id, serializeBound(field.type, conv(min)));
    stats.upperBounds.set(field.id, serializeBound(field.type, conv(max)));
  });
  return stats;
}

interface Range {
  nulls: number;
  nans: number;
  /** Undefined when the column has no value. */
  min: unknown;
  max: unknown;
}

/** Bounds of a string column in UTF-8 byte order; an equal value (the common case) is not compared. */
function stringRange(column: readonly unknown[], rowCount: number): Range {
  let nulls = 0;
  let min: string | undefined;
  let max: string | undefined;
  for (let r = 0; r < rowCount; r++) {
    const v = column[r];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    const s = typeof v === 'string' ? v : String(v);
    if (min === undefined || max === undefined) min = max = s;
    else if (s !== min && compareUtf8(s, min) < 0) min = s;
    else if (s !== max && compareUtf8(s, max) > 0) max = s;
  }
  return { nulls, nans: 0, min, max };
}

/** Bounds of a column of another type, each value taken as its type's comparable form. */
function valueRange(type: IcebergField['type'], column: readonly unknown[], rowCount: number): Range {
  let nulls = 0;
  let nans = 0;
  let min: unknown;
  let max: unknown;
  let any = false;
  for (let r = 0; r < rowCount; r++) {
    let v = column[r];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    switch (type) {
      case 'timestamptz': {
        const ms = typeof v === 'number' ? v : toEpochMs(v);
        if (ms === null) {
          nulls++;
          continue;
        }
        v = ms;
        break;
      }
      case 'date':
        v = toEpochDay(v);
        break;
      case 'long':
        v = typeof v === 'bigint' ? v : BigInt(v as number);
        break;
      case 'double':
        if (Number.isNaN(v)) {
          nans++;
          continue;
        }
        break;
      case 'boolean':
        v = Boolean(v);
        break;
      default:
        break;
    }
    if (!any) {
      min = v;
      max = v;
      any = true;
    } else if ((v as number) < (min as number)) min = v;
    else if ((v as number) > (max as number)) max = v;
  }
  return { nulls, nans, min, max };
}
