import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  Schema,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  vectorFromArray,
  tableToIPC,
  type DataType,
  type Vector,
} from 'apache-arrow';
import * as parquet from 'parquet-wasm';

/** Iceberg primitive types the lake writes. */
export type IcebergPrimitive = 'boolean' | 'int' | 'long' | 'double' | 'string' | 'date' | 'timestamptz';

/** One top-level column of an Iceberg schema, with its field id. */
export interface IcebergField {
  id: number;
  name: string;
  type: IcebergPrimitive;
  required: boolean;
}

/** The Arrow field metadata key that arrow-rs (inside parquet-wasm) turns into a Parquet field id. */
export const PARQUET_FIELD_ID_KEY = 'PARQUET:field_id';

function arrowType(type: IcebergPrimitive): DataType {
  switch (type) {
    case 'boolean':
      return new Bool();
    case 'int':
      return new Int32();
    case 'long':
      return new Int64();
    case 'double':
      return new Float64();
    case 'string':
      return new Utf8();
    case 'date':
      return new DateDay();
    case 'timestamptz':
      // Iceberg timestamptz is microseconds, adjusted to UTC.
      return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  }
}

/** Converts a JS value to what the Arrow builder of `type` accepts; null stays null. */
function toArrowValue(type: IcebergPrimitive, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'long':
      return typeof value === 'bigint' ? value : BigInt(value as number | string);
    case 'timestamptz': {
      // Arrow JS takes timestamps as epoch milliseconds and scales them to the column's unit.
      const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number(value);
      return ms;
    }
    case 'date':
      return value instanceof Date ? value : new Date(value as string);
    default:
      return value;
  }
}

/**
 * Builds an Arrow table whose fields carry Iceberg field ids, so the Parquet file maps to the
 * table's columns by id. Rows are plain objects keyed by column name.
 */
export function buildArrowTable(fields: IcebergField[], rows: Array<Record<string, unknown>>): Table {
  const arrowFields = fields.map(
    (f) => new Field(f.name, arrowType(f.type), !f.required, new Map([[PARQUET_FIELD_ID_KEY, String(f.id)]])),
  );
  const columns: Record<string, Vector> = {};
  for (const [i, f] of fields.entries()) {
    const values = rows.map((row) => toArrowValue(f.type, row[f.name]));
    const field = arrowFields[i];
    if (!field) continue;
    columns[f.name] = vectorFromArray(values, field.type) as Vector;
  }
  const schema = new Schema(arrowFields);
  return new Table(schema, columns);
}

export interface ParquetOptions {
  /** Rows per row group (default 128 Ki). */
  maxRowGroupSize?: number;
  /** Columns left without dictionary encoding (high-cardinality ids); all others use it. */
  plainColumns?: string[];
}

/** Encodes an Arrow table as Parquet with zstd, dictionary encoding and page statistics. */
export function encodeParquet(table: Table, opts: ParquetOptions = {}): Uint8Array {
  const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
  let props = new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.ZSTD)
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(parquet.EnabledStatistics.Page)
    .setMaxRowGroupSize(opts.maxRowGroupSize ?? 128 * 1024)
    .setCreatedBy('event-pipeline');
  for (const column of opts.plainColumns ?? []) props = props.setColumnDictionaryEnabled(column, false);
  return parquet.writeParquet(wasmTable, props.build());
}
