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
  makeData,
  makeVector,
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

/**
 * Builds an Arrow table whose fields carry Iceberg field ids, so the Parquet file maps to the
 * table's columns by id. Rows are plain objects keyed by column name.
 */
export function buildArrowTable(fields: IcebergField[], rows: Array<Record<string, unknown>>): Table {
  return buildArrowTableFromColumns(
    fields,
    fields.map((f) => rows.map((row) => row[f.name])),
  );
}

/** Validity bitmap (bit set = value present) and the null count of a column. */
function validity(values: readonly unknown[]): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nulls++;
    else bitmap[i >> 3] = (bitmap[i >> 3] as number) | (1 << (i & 7));
  }
  return { bitmap, nulls };
}

function epochMs(value: unknown): number {
  return value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number(value);
}

/** Longest string column joined into one string before encoding (V8 strings stop at about 2^29 units). */
const MAX_JOINED_CHARS = 64 * 1024 * 1024;

/** The UTF-8 bytes of `parts` one after another. */
function utf8Concat(parts: readonly string[]): Buffer {
  let bytes = 0;
  for (const text of parts) bytes += Buffer.byteLength(text, 'utf8');
  const data = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const text of parts) at += data.write(text, at, 'utf8');
  return data;
}

/**
 * Builds one column's Arrow data straight into typed buffers (the builders behind
 * `vectorFromArray` cost several times more per value, and this is the compactor's hot path).
 */
function columnVector(f: IcebergField, type: DataType, values: readonly unknown[]): Vector {
  const length = values.length;
  const { bitmap, nulls } = validity(values);
  const base = { type, length, nullCount: nulls, nullBitmap: bitmap } as const;
  switch (f.type) {
    case 'string': {
      const offsets = new Int32Array(length + 1);
      const parts: string[] = [];
      let chars = 0;
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) {
          const text = typeof v === 'string' ? v : String(v);
          parts.push(text);
          chars += text.length;
        }
        offsets[i + 1] = chars;
      }
      // One UTF-8 encoding of the whole column. A string's UTF-8 bytes equal its UTF-16 units only
      // when it is all ASCII; then the offsets in units are the offsets in bytes. Otherwise (or
      // for a column too long to join) each value is measured.
      const data = chars <= MAX_JOINED_CHARS ? Buffer.from(parts.join(''), 'utf8') : utf8Concat(parts);
      if (data.length !== chars) {
        let bytes = 0;
        let p = 0;
        for (let i = 0; i < length; i++) {
          const v = values[i];
          if (v !== null && v !== undefined) bytes += Buffer.byteLength(parts[p++] as string, 'utf8');
          offsets[i + 1] = bytes;
        }
      }
      return makeVector(makeData({ ...base, type: type as Utf8, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, data.length) }));
    }
    case 'long': {
      const data = new BigInt64Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = typeof v === 'bigint' ? v : BigInt(v as number | string);
      }
      return makeVector(makeData({ ...base, type: type as Int64, data }));
    }
    case 'timestamptz': {
      // Iceberg timestamptz is microseconds since the epoch, UTC.
      const data = new BigInt64Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = BigInt(Math.round(epochMs(v) * 1000));
      }
      return makeVector(makeData({ ...base, type: type as Timestamp, data }));
    }
    case 'int': {
      const data = new Int32Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = Number(v);
      }
      return makeVector(makeData({ ...base, type: type as Int32, data }));
    }
    case 'date': {
      const data = new Int32Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = typeof v === 'number' ? v : Math.floor(epochMs(v) / 86_400_000);
      }
      return makeVector(makeData({ ...base, type: type as DateDay, data }));
    }
    case 'double': {
      const data = new Float64Array(length);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v !== null && v !== undefined) data[i] = Number(v);
      }
      return makeVector(makeData({ ...base, type: type as Float64, data }));
    }
    case 'boolean': {
      const data = new Uint8Array((length + 7) >> 3);
      for (let i = 0; i < length; i++) if (values[i] === true) data[i >> 3] = (data[i >> 3] as number) | (1 << (i & 7));
      return makeVector(makeData({ ...base, type: type as Bool, data }));
    }
  }
}

/**
 * Like {@link buildArrowTable} from column arrays (one per field, same length): the compactor
 * collects columns as it decodes, which skips building a row object per event. Values: strings,
 * numbers or BigInt for `long`, epoch ms / ISO strings / Dates for `timestamptz`, day numbers or
 * dates for `date`; null or undefined for null.
 */
export function buildArrowTableFromColumns(fields: readonly IcebergField[], columns: ReadonlyArray<readonly unknown[]>): Table {
  const arrowFields = fields.map(
    (f) => new Field(f.name, arrowType(f.type), !f.required, new Map([[PARQUET_FIELD_ID_KEY, String(f.id)]])),
  );
  const vectors: Record<string, Vector> = {};
  fields.forEach((f, i) => {
    vectors[f.name] = columnVector(f, (arrowFields[i] as Field).type, columns[i] ?? []);
  });
  return new Table(new Schema(arrowFields), vectors);
}

export interface ParquetOptions {
  /** Rows per row group (default 128 Ki). */
  maxRowGroupSize?: number;
  /** Columns left without dictionary encoding (high-cardinality ids); all others use it. */
  plainColumns?: string[];
}

/** Writer settings as plain data (they cross to the encoder's worker thread). */
export interface ParquetWriterSettings {
  maxRowGroupSize: number;
  plainColumns: string[];
}

export function writerSettings(opts: ParquetOptions = {}): ParquetWriterSettings {
  return { maxRowGroupSize: opts.maxRowGroupSize ?? 128 * 1024, plainColumns: opts.plainColumns ?? [] };
}

/**
 * Arrow IPC stream to Parquet bytes with zstd, dictionary encoding (except `plainColumns`) and page
 * statistics. Self-contained (parquet-wasm is passed in): the encoder's worker runs this same
 * function's source.
 */
export function writeParquetIpc(wasm: typeof parquet, ipc: Uint8Array, settings: ParquetWriterSettings): Uint8Array {
  let props = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression.ZSTD)
    .setDictionaryEnabled(true)
    .setStatisticsEnabled(wasm.EnabledStatistics.Page)
    .setMaxRowGroupSize(settings.maxRowGroupSize)
    .setCreatedBy('event-pipeline');
  for (const column of settings.plainColumns) props = props.setColumnDictionaryEnabled(column, false);
  return wasm.writeParquet(wasm.Table.fromIPCStream(ipc), props.build());
}

/** Encodes an Arrow table as Parquet in this thread (see {@link ParquetEncoder} for a worker thread). */
export function encodeParquet(table: Table, opts: ParquetOptions = {}): Uint8Array {
  return writeParquetIpc(parquet, tableToIPC(table, 'stream'), writerSettings(opts));
}
