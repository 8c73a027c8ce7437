/**
 * A fast-append commit into an Iceberg v2 table of a JDBC catalog: one manifest for the new data
 * files, a manifest list that adds it to the parent snapshot's manifests, a new metadata.json, and a
 * compare-and-set of the table's metadata location in PostgreSQL, retried on conflict. This is what
 * Iceberg's `AppendFiles` does; PyIceberg's writer and the spec were the references.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client as S3Client } from 'minio';
import { PipelineError, sleep } from '@pipeline/runtime';
import { parseS3Location } from '../iceberg-metadata';
import { readObject } from '../object-store';
import type { IcebergField } from '../parquet';
import { readAvroContainer, writeAvroContainer } from './avro';
import type { JdbcCatalog } from './catalog';
import { stringifyJsonBig } from './json';
import { MANIFEST_FILE_SCHEMA, manifestEntrySchema, type ManifestFile } from './manifest-schemas';
import type { ColumnStats } from './stats';
import {
  currentFields,
  currentSnapshot,
  defaultSpec,
  readTableMetadata,
  type LoadedTable,
  type SnapshotJson,
  type TableMetadataJson,
} from './table-metadata';
import { partitionFieldType, serializeBound, type PartitionSpecField } from './values';

/** A Parquet data file already uploaded, to be added to a table. */
export interface DataFile {
  /** `s3://bucket/key`. */
  path: string;
  sizeBytes: number;
  recordCount: number;
  /** Partition tuple by partition field name, already transformed (e.g. a day number for `day`). */
  partition: Record<string, unknown>;
  stats?: ColumnStats;
}

export interface AppendOptions {
  catalog: JdbcCatalog;
  s3: S3Client;
  namespace: string;
  table: string;
  files: readonly DataFile[];
  /**
   * Extra snapshot summary properties, computed from the table as it is at each attempt (so
   * cumulative values such as Kafka offsets merge with what concurrent writers committed).
   * Throwing aborts the commit (e.g. a fencing check).
   */
  summary?: (table: LoadedTable) => Record<string, string>;
  /** Table properties to set in the same commit (they outlive snapshot expiry), computed per attempt like `summary`. */
  properties?: (table: LoadedTable) => Record<string, string>;
  /** Attempts on a lost compare-and-set (default 10). */
  maxConflictRetries?: number;
  signal?: AbortSignal;
  now?: () => number;
}

export interface AppendResult {
  snapshotId: bigint;
  sequenceNumber: number;
  metadataLocation: string;
  /** Compare-and-set attempts used (1 when there was no conflict). */
  attempts: number;
}

/** Loads a table's current metadata through the catalog; `undefined` when the table does not exist. */
export async function loadTable(catalog: JdbcCatalog, s3: S3Client, namespace: string, table: string): Promise<LoadedTable | undefined> {
  const metadataLocation = await catalog.metadataLocation(namespace, table);
  if (!metadataLocation) return undefined;
  return { metadataLocation, metadata: await readTableMetadata(s3, metadataLocation) };
}

function randomSnapshotId(): bigint {
  // Positive 63-bit id, as Iceberg makes them.
  return randomBytes(8).readBigUInt64BE() & 0x7fffffffffffffffn;
}

function mapEntries(m: Map<number, number | Buffer> | undefined): Array<{ key: number; value: bigint | Buffer }> | null {
  if (!m || m.size === 0) return null;
  return [...m].map(([key, value]) => ({ key, value: typeof value === 'number' ? BigInt(value) : value }));
}

function partitionAvroValue(field: PartitionSpecField, source: IcebergField, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  const t = partitionFieldType(field, source).avro;
  if (t === 'long') return BigInt(value as number);
  if (t === 'string') return String(value);
  return value;
}

function boundBytes(field: PartitionSpecField, source: IcebergField, value: unknown): Buffer {
  const t = partitionFieldType(field, source).avro;
  if (t === 'string') return serializeBound('string', value);
  if (t === 'long') return serializeBound('partition-long', value);
  if (t === 'boolean') return serializeBound('boolean', value);
  if (t === 'double') return serializeBound('double', value);
  return serializeBound('partition-int', value);
}

function compareValues(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Writes the manifest of `files` (entries inherit snapshot id and sequence number, so it survives retries). */
async function writeManifest(s3: S3Client, metadata: TableMetadataJson, files: readonly DataFile[]): Promise<{ path: string; length: number; specId: number; summaries: ManifestFile['partitions'] }> {
  const fields = currentFields(metadata);
  const byId = new Map(fields.map((f) => [f.id, f]));
  const spec = defaultSpec(metadata);
  const sources = spec.fields.map((pf) => {
    const source = byId.get(pf['source-id']);
    if (!source) throw new PipelineError('schema_incompatible', `partition field ${pf.name} has no source column`);
    return source;
  });
  const partitionTypes = spec.fields.map((pf, i) => partitionFieldType(pf, sources[i] as IcebergField));
  const entries = files.map((f) => ({
    status: 1,
    snapshot_id: null,
    sequence_number: null,
    file_sequence_number: null,
    data_file: {
      content: 0,
      file_path: f.path,
      file_format: 'PARQUET',
      partition: Object.fromEntries(spec.fields.map((pf, i) => [pf.name, partitionAvroValue(pf, sources[i] as IcebergField, f.partition[pf.name])])),
      record_count: BigInt(f.recordCount),
      file_size_in_bytes: BigInt(f.sizeBytes),
      column_sizes: null,
      value_counts: mapEntries(f.stats?.valueCounts),
      null_value_counts: mapEntries(f.stats?.nullCounts),
      nan_value_counts: mapEntries(f.stats?.nanCounts),
      lower_bounds: mapEntries(f.stats?.lowerBounds),
      upper_bounds: mapEntries(f.stats?.upperBounds),
      key_metadata: null,
      split_offsets: null,
      equality_ids: null,
      // 0 is the unsorted order, every table's default; Trino's $entries table fails on a null.
      sort_order_id: 0,
    },
  }));
  const schema = metadata.schemas.find((s) => s['schema-id'] === metadata['current-schema-id']);
  const bytes = writeAvroContainer(manifestEntrySchema(partitionTypes), entries, {
    schema: JSON.stringify({ type: 'struct', ...schema }),
    'schema-id': String(metadata['current-schema-id']),
    'partition-spec': JSON.stringify(spec.fields),
    'partition-spec-id': String(spec.specId),
    'format-version': '2',
    content: 'data',
  });
  const path = `${metadata.location}/metadata/${randomUUID()}-m0.avro`;
  const { bucket, key } = parseS3Location(path);
  await s3.putObject(bucket, key, bytes, bytes.length);

  const summaries = spec.fields.map((pf, i) => {
    const source = sources[i] as IcebergField;
    const values = files.map((f) => f.partition[pf.name]);
    const present = values.filter((v) => v !== null && v !== undefined);
    const sorted = [...present].sort(compareValues);
    return {
      contains_null: present.length < values.length,
      contains_nan: false,
      lower_bound: sorted.length ? boundBytes(pf, source, sorted[0]) : null,
      upper_bound: sorted.length ? boundBytes(pf, source, sorted[sorted.length - 1]) : null,
    };
  });
  return { path, length: bytes.length, specId: spec.specId, summaries };
}

async function readManifestList(s3: S3Client, location: string): Promise<ManifestFile[]> {
  const { bucket, key } = parseS3Location(location);
  return readAvroContainer(await readObject(s3, bucket, key)).records as unknown as ManifestFile[];
}

function nextMetadataLocation(metadata: TableMetadataJson, current: string): string {
  const match = /\/(\d+)-[^/]*\.metadata\.json$/.exec(current);
  const version = match ? Number(match[1]) + 1 : 0;
  return `${metadata.location}/metadata/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
}

function num(summary: Record<string, string> | undefined, key: string): bigint {
  const v = summary?.[key];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : 0n;
}

/** Keep at most this many previous metadata files in `metadata-log` (Iceberg's default). */
const METADATA_LOG_MAX = 100;

async function removeQuietly(s3: S3Client, location: string): Promise<void> {
  const { bucket, key } = parseS3Location(location);
  await s3.removeObject(bucket, key).catch(() => undefined);
}

/**
 * Appends `files` to the table in one atomic snapshot. Retries a lost compare-and-set up to
 * `maxConflictRetries` times, re-reading the table each time; transport failures are thrown as
 * they are (callers retry with backoff). An ambiguous swap (connection lost after sending it) is
 * resolved by re-reading the catalog.
 */
export async function appendFiles(opts: AppendOptions): Promise<AppendResult> {
  const { catalog, s3, namespace, table } = opts;
  const maxRetries = opts.maxConflictRetries ?? 10;
  const now = opts.now ?? Date.now;
  let manifest: Awaited<ReturnType<typeof writeManifest>> | undefined;
  let manifestSchemaId: number | undefined;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new PipelineError('aborted', 'commit aborted');
    const loaded = await loadTable(catalog, s3, namespace, table);
    if (!loaded) throw new PipelineError('invalid_input', `table ${namespace}.${table} does not exist`, { retriable: false });
    const { metadata, metadataLocation } = loaded;
    const extra = opts.summary?.(loaded) ?? {};
    const properties = opts.properties?.(loaded);
    // The manifest records the writer's schema; write it again only if the schema moved meanwhile.
    if (opts.files.length > 0 && (!manifest || manifestSchemaId !== metadata['current-schema-id'])) {
      if (manifest) await removeQuietly(s3, manifest.path);
      manifest = await writeManifest(s3, metadata, opts.files);
      manifestSchemaId = metadata['current-schema-id'];
    }
    const parent = currentSnapshot(metadata);
    const snapshotId = randomSnapshotId();
    const sequenceNumber = metadata['last-sequence-number'] + 1;
    const timestamp = Math.max(now(), metadata['last-updated-ms'] + 1);
    const previous = parent ? await readManifestList(s3, parent['manifest-list']) : [];
    const addedRows = opts.files.reduce((n, f) => n + BigInt(f.recordCount), 0n);
    const addedSize = opts.files.reduce((n, f) => n + BigInt(f.sizeBytes), 0n);
    const manifests: ManifestFile[] = manifest
      ? [
          {
            manifest_path: manifest.path,
            manifest_length: BigInt(manifest.length),
            partition_spec_id: manifest.specId,
            content: 0,
            sequence_number: BigInt(sequenceNumber),
            min_sequence_number: BigInt(sequenceNumber),
            added_snapshot_id: snapshotId,
            added_files_count: opts.files.length,
            existing_files_count: 0,
            deleted_files_count: 0,
            added_rows_count: addedRows,
            existing_rows_count: 0n,
            deleted_rows_count: 0n,
            partitions: manifest.summaries,
            key_metadata: null,
          },
          ...previous,
        ]
      : previous;
    const listLocation = `${metadata.location}/metadata/snap-${snapshotId}-1-${randomUUID()}.avro`;
    const listBytes = writeAvroContainer(MANIFEST_FILE_SCHEMA, manifests, {
      'snapshot-id': String(snapshotId),
      'parent-snapshot-id': parent ? String(parent['snapshot-id']) : 'null',
      'sequence-number': String(sequenceNumber),
      'format-version': '2',
    });
    const listPath = parseS3Location(listLocation);
    await s3.putObject(listPath.bucket, listPath.key, listBytes, listBytes.length);

    const partitions = new Set(opts.files.map((f) => JSON.stringify(f.partition)));
    const ps = parent?.summary;
    const summary: Record<string, string> = {
      operation: 'append',
      'added-data-files': String(opts.files.length),
      'added-records': String(addedRows),
      'added-files-size': String(addedSize),
      'changed-partition-count': String(partitions.size),
      'total-records': String(num(ps, 'total-records') + addedRows),
      'total-files-size': String(num(ps, 'total-files-size') + addedSize),
      'total-data-files': String(num(ps, 'total-data-files') + BigInt(opts.files.length)),
      'total-delete-files': String(num(ps, 'total-delete-files')),
      'total-position-deletes': String(num(ps, 'total-position-deletes')),
      'total-equality-deletes': String(num(ps, 'total-equality-deletes')),
      'engine-name': 'event-pipeline',
      ...extra,
    };
    const snapshot: SnapshotJson = {
      'sequence-number': sequenceNumber,
      'snapshot-id': snapshotId,
      ...(parent ? { 'parent-snapshot-id': BigInt(parent['snapshot-id']) } : {}),
      'timestamp-ms': timestamp,
      summary,
      'manifest-list': listLocation,
      'schema-id': metadata['current-schema-id'],
    };
    const next: TableMetadataJson = {
      ...metadata,
      ...(properties ? { properties: { ...(metadata.properties ?? {}), ...properties } } : {}),
      'last-sequence-number': sequenceNumber,
      'last-updated-ms': timestamp,
      'current-snapshot-id': snapshotId,
      refs: { ...(metadata.refs ?? {}), main: { 'snapshot-id': snapshotId, type: 'branch' } },
      snapshots: [...(metadata.snapshots ?? []), snapshot],
      'snapshot-log': [...(metadata['snapshot-log'] ?? []), { 'timestamp-ms': timestamp, 'snapshot-id': snapshotId }],
      'metadata-log': [...(metadata['metadata-log'] ?? []), { 'timestamp-ms': metadata['last-updated-ms'], 'metadata-file': metadataLocation }].slice(-METADATA_LOG_MAX),
    };
    const nextLocation = nextMetadataLocation(metadata, metadataLocation);
    const body = Buffer.from(stringifyJsonBig(next));
    const nextPath = parseS3Location(nextLocation);
    await s3.putObject(nextPath.bucket, nextPath.key, body, body.length, { 'Content-Type': 'application/json' });

    let swapped: boolean;
    try {
      swapped = await catalog.swapMetadataLocation(namespace, table, metadataLocation, nextLocation);
    } catch (err) {
      // The UPDATE may have landed before the connection broke: the catalog tells.
      const actual = await catalog.metadataLocation(namespace, table).catch(() => undefined);
      if (actual === nextLocation) swapped = true;
      else throw err;
    }
    if (swapped) return { snapshotId, sequenceNumber, metadataLocation: nextLocation, attempts: attempt };
    await Promise.all([removeQuietly(s3, listLocation), removeQuietly(s3, nextLocation)]);
    if (attempt >= maxRetries) {
      throw new PipelineError('conflict', `commit to ${namespace}.${table} lost the compare-and-set ${attempt} times`);
    }
    await sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2), opts.signal);
  }
}
