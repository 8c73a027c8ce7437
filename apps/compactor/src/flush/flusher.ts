import type { Client as S3Client } from 'minio';
import {
  appendFiles,
  applyTransform,
  buildArrowTableFromColumns,
  computeColumnStats,
  parseS3Location,
  partitionPathValue,
  uploadObject,
  type DataFile,
  type JdbcCatalog,
  type LoadedTable,
  type ParquetEncoder,
} from '@pipeline/lake';
import { PipelineError, isRetriable, retry, type Logger } from '@pipeline/runtime';
import type { AggregateRecord, CleanEvent } from '@pipeline/schemas';
import type { BufferedRecord, TakenBuffer } from '../buffer/buffers';
import type { CompactorMetrics } from '../metrics';
import { propertyColumns, type PropertyColumn } from '../schema/property-columns';
import type { SchemaById } from '../schema/registry';
import { columnConflict, rowsToColumns, toRow, type ColumnKind, type ColumnSpec } from '../tables/columns';
import { aggregateExtraColumns, aggregateValues } from '../tables/definitions';
import { dlqValues } from '../tables/dlq-rows';
import { createEventRowMapper } from '../tables/event-rows';
import { lateValues } from '../tables/late-rows';
import { OFFSETS_KEY, tableOffsets, type OffsetMap, type TableDefinition, type TableManager, type TableState } from '../tables/table-manager';
import type { DlqWriter, Rejected } from './dlq';
import type { Faults } from './faults';
import { checkOffsets, rangeKey, type OffsetRange } from './offsets';

/** The table already holds exactly this flush's offsets: an earlier attempt's commit landed. */
class AlreadyCommitted extends PipelineError {
  constructor() {
    super('conflict', 'the table already holds these offsets', { retriable: false });
  }
}

/** The table holds some of this flush's offsets but not all: another owner committed them. */
class Fenced extends PipelineError {
  constructor(readonly tableNext: Map<string, bigint>) {
    super('conflict', 'the table holds part of these offsets (another writer committed them)', { retriable: false });
  }
}

/** S3 error codes worth another attempt (throttling, server-side trouble). */
const TRANSIENT_S3 = new Set(['InternalError', 'ServiceUnavailable', 'SlowDown', 'RequestTimeout', 'RequestTimeTooSkewed', 'OperationAborted']);

export interface FlushDeps {
  log: Logger;
  metrics: CompactorMetrics;
  s3: S3Client;
  catalog: JdbcCatalog;
  namespace: string;
  tables: TableManager;
  schemas: SchemaById;
  dlq: DlqWriter;
  faults: Faults;
  definition: (table: string, kind: TakenBuffer['kind']) => TableDefinition;
  commitKafkaOffsets: (offsets: Array<{ topic: string; partition: number; offset: string }>) => Promise<void>;
  /** Called for each Kafka partition of a fenced flush with the table's next offset: re-read from there. */
  onFenced: (topic: string, partition: number, next: bigint) => void;
  /** Encodes Parquet off the event loop. */
  encoder: Pick<ParquetEncoder, 'encode'>;
  rowGroupRows: number;
  partSize: number;
  retryMaxDelayMs: number;
  signal: AbortSignal;
  now?: () => number;
}

interface Row {
  rec: BufferedRecord;
  values: unknown[];
  partition: Record<string, unknown>;
  partitionPath: string;
  receivedAtMs?: number;
}

export type FlushOutcome = 'committed' | 'already-committed' | 'fenced' | 'dlq-only';

/** Columns that hold high-cardinality values: dictionary encoding would only cost there. */
/** Longest data file name (before `.parquet`) that lists several Kafka partitions' ranges. */
const MAX_FILE_NAME = 200;

/** Rows mapped between turns of the event loop, so probes and heartbeats are answered during a large flush. */
const ROWS_PER_TURN = 2_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Table partitions (objects and paths) remembered per table layout. */
const MAX_KNOWN_PARTITIONS = 1_024;

/** Files uploaded at once by a flush. */
const UPLOAD_CONCURRENCY = 8;

const PLAIN_COLUMNS = ['event_id', '_kafka_offset', 'received_at', 'processed_at', 'occurred_at', 'group_json', 'failed_at', 'original_offset', 'payload', 'properties'];

/**
 * Flushes one table's buffer: maps records to rows (records the table cannot take go to the DLQ;
 * records of the DLQ topic itself always become rows), creates the table or adds columns when
 * needed, writes one Parquet file per table partition and Kafka partition under a deterministic
 * key, commits them in one snapshot whose properties and summary carry the Kafka high-water marks,
 * and then commits the Kafka offsets. Unavailable dependencies are retried with backoff until the
 * signal aborts, so nothing is dropped.
 */
export function createFlusher(deps: FlushDeps) {
  const now = deps.now ?? Date.now;
  let flushCount = 0;
  let encodeMs = 0;
  const failing = new Set<string>();

  /**
   * Runs a lake step until it succeeds. By default every error but the commit verdicts is retried
   * (an unknown failure must not drop data); `retryOn` narrows that for steps whose permanent
   * failures are the record's fault (the registry not knowing a schema id).
   */
  async function attempt<T>(operation: string, fn: () => Promise<T>, retryOn: (err: unknown) => boolean = () => true): Promise<T> {
    try {
      const result = await retry(fn, {
        attempts: Number.MAX_SAFE_INTEGER,
        initialDelayMs: 100,
        maxDelayMs: deps.retryMaxDelayMs,
        signal: deps.signal,
        retryOn: (err) =>
          !(err instanceof AlreadyCommitted || err instanceof Fenced) && !deps.signal.aborted && !(err instanceof PipelineError && err.code === 'aborted') && retryOn(err),
        onRetry: (err) => {
          deps.metrics.retries.inc({ operation });
          if (!failing.has(operation)) {
            failing.add(operation);
            const transient = isRetriable(err) || TRANSIENT_S3.has((err as { code?: string }).code ?? '');
            deps.log[transient ? 'warn' : 'error']({ err, operation }, 'lake operation failing; retrying with backoff');
          }
        },
      });
      if (failing.delete(operation)) deps.log.info({ operation }, 'lake operation recovered');
      return result;
    } catch (err) {
      failing.delete(operation);
      throw err;
    }
  }

  async function resolveSchemas(records: BufferedRecord[], rejected: Rejected[]): Promise<Map<number, PropertyColumn[]>> {
    const ids = new Set<number>();
    for (const r of records) if (r.schemaId !== undefined) ids.add(r.schemaId);
    const out = new Map<number, PropertyColumn[]>();
    const bad = new Map<number, { code: string; reason: string }>();
    for (const id of ids) {
      try {
        const schema = await attempt('registry', () => deps.schemas.get(id), (err) => !(err instanceof PipelineError) || err.retriable);
        const { columns, problems } = propertyColumns(schema);
        if (problems.length > 0) bad.set(id, { code: 'schema_incompatible', reason: problems.join('; ') });
        else out.set(id, columns);
      } catch (err) {
        if (deps.signal.aborted) throw err;
        const e = err as PipelineError;
        bad.set(id, { code: e.code ?? 'schema_incompatible', reason: e.message });
      }
    }
    if (bad.size > 0) {
      for (const r of records) {
        const b = r.schemaId !== undefined ? bad.get(r.schemaId) : undefined;
        if (b) rejected.push({ rec: r, code: b.code, reason: b.reason });
      }
    }
    return out;
  }

  /** Adds missing columns; on a DDL error that is not transient, rejects only the specs' owners. */
  async function ensureColumns(state: TableState, specs: ColumnSpec[]): Promise<{ state: TableState; failed: Map<string, string> }> {
    const failed = new Map<string, string>();
    try {
      const res = await deps.tables.ensureColumns(state, specs);
      return { state: res.state, failed };
    } catch (err) {
      if (deps.signal.aborted) throw err;
      let current = state;
      for (const spec of specs) {
        try {
          current = (await deps.tables.ensureColumns(current, [spec])).state;
        } catch (inner) {
          if (deps.signal.aborted) throw inner;
          failed.set(spec.name, (inner as Error).message);
        }
      }
      return { state: current, failed };
    }
  }

  function kindsOf(def: TableDefinition): Map<string, ColumnKind> {
    return new Map(def.columns.map((c) => [c.name, c.kind]));
  }

  /**
   * The table partition of a row, from its values. Rows of a flush fall into few partitions, so
   * each partition's object and path are made once per table layout and shared by its rows.
   */
  const partitioners = new WeakMap<TableState, (values: unknown[]) => { partition: Record<string, unknown>; path: string }>();
  function partitionOf(state: TableState, values: unknown[]): { partition: Record<string, unknown>; path: string } {
    let partitioner = partitioners.get(state);
    if (!partitioner) partitioners.set(state, (partitioner = createPartitioner(state)));
    return partitioner(values);
  }

  function createPartitioner(state: TableState): (values: unknown[]) => { partition: Record<string, unknown>; path: string } {
    const specs = state.spec.map((pf) => {
      const index = state.fields.findIndex((f) => f.id === pf['source-id']);
      const source = state.fields[index];
      if (!source) throw new PipelineError('schema_incompatible', `partition source ${pf['source-id']} missing`);
      return { pf, index, type: source.type, paths: new Map<unknown, string>() };
    });
    const known = new Map<string, { partition: Record<string, unknown>; path: string }>();
    const transformed: unknown[] = new Array(specs.length);
    return (values) => {
      let path = '';
      for (let k = 0; k < specs.length; k++) {
        const { pf, index, type, paths } = specs[k] as (typeof specs)[number];
        const v = applyTransform(pf.transform, type, values[index]);
        transformed[k] = v;
        let piece = paths.get(v);
        if (piece === undefined) paths.set(v, (piece = `${pf.name}=${partitionPathValue(pf.transform, v)}`));
        path = k === 0 ? piece : `${path}/${piece}`;
      }
      let hit = known.get(path);
      if (!hit) {
        // Bounded: a table written for years has more day partitions than are worth remembering.
        if (known.size >= MAX_KNOWN_PARTITIONS) {
          known.clear();
          for (const spec of specs) spec.paths.clear();
        }
        const partition: Record<string, unknown> = {};
        specs.forEach(({ pf }, k) => (partition[pf.name] = transformed[k]));
        known.set(path, (hit = { partition, path }));
      }
      return hit;
    };
  }

  async function mapEvents(taken: TakenBuffer, rejected: Rejected[]): Promise<{ state: TableState; rows: Row[] }> {
    const def = deps.definition(taken.table, taken.kind);
    const decodable = taken.records.filter((r) => {
      if (r.decodeError !== undefined) {
        rejected.push({ rec: r, code: 'invalid_input', reason: r.decodeError });
        return false;
      }
      if (r.schemaId === undefined) {
        rejected.push({ rec: r, code: 'invalid_input', reason: 'events value without a registry schema id (expected the wire-format framing)' });
        return false;
      }
      return true;
    });
    const schemaColumns = await resolveSchemas(decodable, rejected);
    const specs = new Map<string, ColumnSpec>();
    for (const cols of schemaColumns.values()) for (const c of cols) if (!specs.has(c.column)) specs.set(c.column, { name: c.column, kind: c.kind });
    // A new table gets the columns of the schemas at hand in its CREATE (one statement, not one per column).
    let state = await attempt('create-table', () => deps.tables.ensure({ ...def, columns: [...def.columns, ...[...specs.values()].filter((c) => !def.columns.some((d) => d.name === c.name))] }));
    const ensured = await attempt('add-columns', () => ensureColumns(state, [...specs.values()]));
    state = ensured.state;
    // A schema is rejected as a whole when one of its columns clashes with the table.
    const schemaProblems = new Map<number, string>();
    for (const [id, cols] of schemaColumns) {
      const problems: string[] = [];
      for (const c of cols) {
        const failed = ensured.failed.get(c.column);
        if (failed) problems.push(`adding column ${c.column} failed: ${failed}`);
        const field = state.byName.get(c.column);
        if (field) {
          const conflict = columnConflict(field, c.kind);
          if (conflict) problems.push(`property ${c.property}: ${conflict}`);
        }
      }
      if (problems.length > 0) schemaProblems.set(id, `schema id ${id} is incompatible with table ${state.name}: ${problems.join('; ')}`);
    }
    const rows: Row[] = [];
    const mappers = new Map<number, ReturnType<typeof createEventRowMapper>>();
    let mappedRows = 0;
    for (const rec of decodable) {
      if (++mappedRows % ROWS_PER_TURN === 0) await nextTurn();
      const id = rec.schemaId as number;
      if (!schemaColumns.has(id)) continue;
      const problem = schemaProblems.get(id);
      if (problem) {
        rejected.push({ rec, code: 'schema_incompatible', reason: problem });
        continue;
      }
      const e = rec.record as unknown as CleanEvent;
      let mapper = mappers.get(id);
      if (!mapper) mappers.set(id, (mapper = createEventRowMapper(state.fields, schemaColumns.get(id) ?? [])));
      const values = mapper(e, id, rec);
      if (typeof values === 'string') {
        rejected.push({ rec, code: 'invalid_input', reason: `value does not fit the table: ${values}` });
        continue;
      }
      const receivedAtMs = Date.parse(e.received_at);
      const { partition, path } = partitionOf(state, values);
      rows.push({ rec, values, partition, partitionPath: path, ...(Number.isNaN(receivedAtMs) ? {} : { receivedAtMs }) });
    }
    return { state, rows };
  }

  async function mapAggregates(taken: TakenBuffer, rejected: Rejected[]): Promise<{ state: TableState; rows: Row[] }> {
    const def = deps.definition(taken.table, taken.kind);
    const good = taken.records.filter((r) => {
      if (r.decodeError !== undefined) rejected.push({ rec: r, code: 'invalid_input', reason: r.decodeError });
      return r.decodeError === undefined;
    });
    const specs = new Map<string, ColumnSpec>();
    for (const r of good) for (const c of aggregateExtraColumns(r.record as unknown as AggregateRecord) as ColumnSpec[]) if (!specs.has(c.name)) specs.set(c.name, c);
    let state = await attempt('create-table', () => deps.tables.ensure({ ...def, columns: [...def.columns, ...specs.values()] }));
    const ensured = await attempt('add-columns', () => ensureColumns(state, [...specs.values()]));
    state = ensured.state;
    const kinds = kindsOf(def);
    for (const s of specs.values()) kinds.set(s.name, s.kind);
    const rows: Row[] = [];
    let mappedRows = 0;
    for (const rec of good) {
      if (++mappedRows % ROWS_PER_TURN === 0) await nextTurn();
      const agg = rec.record as unknown as AggregateRecord;
      const problems: string[] = [];
      for (const c of aggregateExtraColumns(agg)) {
        const failed = ensured.failed.get(c.name);
        if (failed) problems.push(`adding column ${c.name} failed: ${failed}`);
        const field = state.byName.get(c.name);
        const conflict = field ? columnConflict(field, c.kind) : undefined;
        if (conflict) problems.push(conflict);
      }
      if (problems.length > 0) {
        rejected.push({ rec, code: 'schema_incompatible', reason: problems.join('; ') });
        continue;
      }
      const named = aggregateValues(agg);
      named['_kafka_topic'] = rec.topic;
      named['_kafka_partition'] = rec.partition;
      named['_kafka_offset'] = rec.offset;
      const row = rowOf(state, kinds, rec, named);
      if (typeof row === 'string') rejected.push({ rec, code: 'invalid_input', reason: `value does not fit the table: ${row}` });
      else rows.push(row);
    }
    return { state, rows };
  }

  /** The row of `rec` in the table with its partition, or why its values do not fit the table. */
  function rowOf(state: TableState, kinds: Map<string, ColumnKind>, rec: BufferedRecord, named: Parameters<typeof toRow>[2]): Row | string {
    const values = toRow(state.fields, kinds, named);
    if (typeof values === 'string') return values;
    const { partition, path } = partitionOf(state, values);
    return { rec, values, partition, partitionPath: path };
  }

  /**
   * A table whose columns are all known up front (DLQ, late): created with them, or given the ones
   * it lacks. A column of another type is an operator's error (the table was made by hand): the
   * flush fails and is retried, nothing is dropped.
   */
  async function fixedTable(def: TableDefinition): Promise<TableState> {
    const created = await attempt('create-table', () => deps.tables.ensure(def));
    const { state, conflicts } = await attempt('add-columns', () => deps.tables.ensureColumns(created, def.columns));
    if (conflicts.size > 0) throw new PipelineError('schema_incompatible', `table ${def.name} does not have the compactor's layout: ${[...conflicts.values()].join('; ')}`);
    return state;
  }

  /**
   * Dead-lettered records. Every record becomes a row, whatever its value and headers: a record of
   * the DLQ topic never goes back to it (that would loop), so nothing here is rejected.
   */
  async function mapDlq(taken: TakenBuffer): Promise<{ state: TableState; rows: Row[] }> {
    const def = deps.definition(taken.table, taken.kind);
    const state = await fixedTable(def);
    const kinds = kindsOf(def);
    const rows: Row[] = [];
    let mappedRows = 0;
    for (const rec of taken.records) {
      if (++mappedRows % ROWS_PER_TURN === 0) await nextTurn();
      const row = rowOf(state, kinds, rec, dlqValues(rec));
      if (typeof row === 'string') throw new PipelineError('internal', `DLQ record ${rec.topic}/${rec.partition}/${rec.offset} does not fit table ${state.name}: ${row}`);
      rows.push(row);
    }
    return { state, rows };
  }

  /** Late events: cleaned events with their properties as one JSON column, so no registry lookup. */
  async function mapLate(taken: TakenBuffer, rejected: Rejected[]): Promise<{ state: TableState; rows: Row[] }> {
    const def = deps.definition(taken.table, taken.kind);
    const state = await fixedTable(def);
    const kinds = kindsOf(def);
    const rows: Row[] = [];
    let mappedRows = 0;
    for (const rec of taken.records) {
      if (++mappedRows % ROWS_PER_TURN === 0) await nextTurn();
      if (rec.decodeError !== undefined || !rec.record) {
        rejected.push({ rec, code: 'invalid_input', reason: rec.decodeError ?? 'undecodable value' });
        continue;
      }
      const row = rowOf(state, kinds, rec, lateValues(rec.record as unknown as CleanEvent, rec.schemaId, rec.headers, rec));
      if (typeof row === 'string') rejected.push({ rec, code: 'invalid_input', reason: `value does not fit the table: ${row}` });
      else rows.push(row);
    }
    return { state, rows };
  }

  function mapRows(taken: TakenBuffer, rejected: Rejected[]): Promise<{ state: TableState; rows: Row[] }> {
    switch (taken.kind) {
      case 'events':
        return mapEvents(taken, rejected);
      case 'aggregate':
        return mapAggregates(taken, rejected);
      case 'dlq':
        return mapDlq(taken);
      case 'late':
        return mapLate(taken, rejected);
    }
  }

  function rangesOf(records: BufferedRecord[]): Map<string, OffsetRange> {
    const ranges = new Map<string, OffsetRange>();
    for (const r of records) {
      const key = rangeKey(r.topic, r.partition);
      const range = ranges.get(key);
      if (!range) ranges.set(key, { topic: r.topic, partition: r.partition, min: r.offset, max: r.offset });
      else {
        if (r.offset < range.min) range.min = r.offset;
        if (r.offset > range.max) range.max = r.offset;
      }
    }
    return ranges;
  }

  /** The fencing check and the merged high-water marks, against the table as it is at this attempt. */
  function mergedOffsets(table: LoadedTable, ranges: ReadonlyMap<string, OffsetRange>): OffsetMap {
    const result = checkOffsets(tableOffsets(table), ranges);
    if (result.kind === 'already') throw new AlreadyCommitted();
    if (result.kind === 'fenced') throw new Fenced(result.tableNext);
    return result.merged;
  }

  async function writeFiles(state: TableState, rows: Row[], flushNo: number): Promise<DataFile[]> {
    // One file per table partition; its key names every Kafka partition and offset range in it, so
    // a retry of the same records overwrites. Past a key-length budget (many Kafka partitions), one
    // file per table partition and Kafka partition instead.
    const byPartition = new Map<string, Row[]>();
    for (const row of rows) {
      let g = byPartition.get(row.partitionPath);
      if (!g) byPartition.set(row.partitionPath, (g = []));
      g.push(row);
    }
    const groups: Array<{ rows: Row[]; name: string }> = [];
    for (const group of byPartition.values()) {
      const ranges = new Map<string, { topic: string; partition: number; min: bigint; max: bigint; rows: Row[] }>();
      for (const r of group) {
        const k = rangeKey(r.rec.topic, r.rec.partition);
        const range = ranges.get(k);
        if (!range) ranges.set(k, { topic: r.rec.topic, partition: r.rec.partition, min: r.rec.offset, max: r.rec.offset, rows: [r] });
        else {
          if (r.rec.offset < range.min) range.min = r.rec.offset;
          if (r.rec.offset > range.max) range.max = r.rec.offset;
          range.rows.push(r);
        }
      }
      const sorted = [...ranges.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
      const part = (r: (typeof sorted)[number]) => `${r.topic.replace(/[^A-Za-z0-9._-]/g, '_')}-${r.partition}-${r.min}-${r.max}`;
      const name = sorted.map(part).join('_');
      if (name.length <= MAX_FILE_NAME) groups.push({ rows: group, name });
      else for (const r of sorted) groups.push({ rows: r.rows, name: part(r) });
    }
    const { bucket, key: tableKey } = parseS3Location(`${state.location}/`);
    const encodeStarted = now();
    const encoded: Array<{ key: string; bytes: Uint8Array; file: DataFile }> = [];
    for (const { rows: group, name } of groups) {
      const first = group[0] as Row;
      const columns = rowsToColumns(state.fields.length, group, (r) => r.values);
      const bytes = await deps.encoder.encode(buildArrowTableFromColumns(state.fields, columns), {
        maxRowGroupSize: deps.rowGroupRows,
        plainColumns: PLAIN_COLUMNS.filter((c) => state.byName.has(c)),
      });
      // Deterministic: a retried flush of the same records overwrites instead of adding a copy.
      const key = `${tableKey.replace(/\/+$/, '')}/data/${first.partitionPath}/${name}.parquet`;
      encoded.push({
        key,
        bytes,
        file: { path: `s3://${bucket}/${key}`, sizeBytes: bytes.length, recordCount: group.length, partition: first.partition, stats: computeColumnStats(state.fields, columns, group.length) },
      });
    }
    encodeMs = now() - encodeStarted;
    // Uploads run a few at a time: a flush writes one file per table partition and Kafka partition.
    let next = 0;
    const worker = async () => {
      while (next < encoded.length) {
        const item = encoded[next++] as (typeof encoded)[number];
        const multipart = item.bytes.length > deps.partSize;
        await attempt('upload', () =>
          uploadObject(deps.s3, bucket, item.key, item.bytes, {
            contentType: 'application/vnd.apache.parquet',
            ...(multipart ? { onProgress: (sent: number) => sent > deps.partSize + 1024 * 1024 && deps.faults.hit('during-multipart', flushNo) } : {}),
          }),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(UPLOAD_CONCURRENCY, encoded.length) }, worker));
    const files = encoded.map((e) => e.file);
    return files;
  }

  async function removeFiles(files: DataFile[]): Promise<void> {
    for (const f of files) {
      const { bucket, key } = parseS3Location(f.path);
      await deps.s3.removeObject(bucket, key).catch(() => undefined);
    }
  }

  return {
    /** Flushes `taken`; resolves with what happened. Rejects only when the signal aborted (shutdown). */
    async flush(taken: TakenBuffer): Promise<FlushOutcome> {
      const started = now();
      const rejected: Rejected[] = [];
      const { state, rows } = await mapRows(taken, rejected);
      const mapped = now();
      const ranges = rangesOf(taken.records);
      const flushNo = rows.length > 0 ? ++flushCount : flushCount;
      const files = rows.length > 0 ? await writeFiles(state, rows, flushNo) : [];
      const written = now();
      if (files.length > 0) deps.faults.hit('after-upload', flushNo);

      if (rejected.length > 0) {
        await attempt('dlq', () => deps.dlq.send(rejected));
        for (const r of rejected) deps.metrics.dlqRecords.inc({ code: r.code });
        deps.log.warn({ table: state.name, records: rejected.length, reason: rejected[0]?.reason }, 'records sent to the DLQ');
      }

      let outcome: FlushOutcome = 'dlq-only';
      if (files.length > 0) {
        try {
          const result = await attempt('commit', async () => {
            const offsets = (t: LoadedTable) => ({ [OFFSETS_KEY]: JSON.stringify(mergedOffsets(t, ranges)) });
            return appendFiles({ catalog: deps.catalog, s3: deps.s3, namespace: deps.namespace, table: state.name, files, summary: offsets, properties: offsets, signal: deps.signal });
          });
          if (result.attempts > 1) deps.metrics.commitConflicts.inc(result.attempts - 1);
          outcome = 'committed';
        } catch (err) {
          if (err instanceof AlreadyCommitted) outcome = 'already-committed';
          else if (err instanceof Fenced) {
            outcome = 'fenced';
            deps.metrics.commitsFenced.inc();
            deps.log.warn({ table: state.name }, 'flush fenced: another writer committed these offsets; re-reading from the table high-water mark');
            await removeFiles(files);
            for (const [key, r] of ranges) deps.onFenced(r.topic, r.partition, err.tableNext.get(key) ?? -1n);
            return outcome;
          } else throw err;
        }
        const kind = taken.kind;
        deps.metrics.rowsWritten.inc({ table_kind: kind }, rows.length);
        deps.metrics.bytesWritten.inc({ table_kind: kind }, files.reduce((n, f) => n + f.sizeBytes, 0));
        deps.metrics.filesPerCommit.observe({ table_kind: kind }, files.length);
        deps.metrics.commitDuration.observe({ table_kind: kind }, (now() - started) / 1000);
        const committedAt = now();
        deps.log.debug({ table: state.name, rows: rows.length, files: files.length, mapMs: mapped - started, encodeMs, uploadMs: written - mapped - encodeMs, commitMs: committedAt - written }, 'flush committed');
        for (const r of rows) if (r.receivedAtMs !== undefined) deps.metrics.freshness.observe((committedAt - r.receivedAtMs) / 1000);
        deps.faults.hit('after-commit', flushNo);
      }

      try {
        await deps.commitKafkaOffsets([...ranges.values()].map((r) => ({ topic: r.topic, partition: r.partition, offset: String(r.max + 1n) })));
      } catch (err) {
        deps.metrics.offsetCommitFailures.inc();
        deps.log.warn({ err, table: state.name }, 'Kafka offset commit failed after the table commit; a restart skips by the table high-water mark');
      }
      return outcome;
    },
  };
}

export type Flusher = ReturnType<typeof createFlusher>;
