import type { Client as S3Client } from 'minio';
import { PipelineError } from '@pipeline/runtime';
import { readObject } from '../object-store';
import type { IcebergField } from '../parquet';
import { parseCurrentSchema, parseS3Location } from '../iceberg-metadata';
import { parseJsonBig } from './json';
import type { PartitionSpecField } from './values';

export interface SnapshotJson {
  'snapshot-id': bigint | number;
  'parent-snapshot-id'?: bigint | number;
  'sequence-number'?: number;
  'timestamp-ms': number;
  summary: Record<string, string>;
  'manifest-list': string;
  'schema-id'?: number;
}

/** The parts of a v2 `metadata.json` the writer reads; everything else is carried over untouched. */
export interface TableMetadataJson {
  'format-version': number;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  'current-schema-id': number;
  schemas: Array<{ 'schema-id': number; fields: Array<{ id: number; name: string; type: unknown; required: boolean }> }>;
  'default-spec-id': number;
  'partition-specs': Array<{ 'spec-id': number; fields: PartitionSpecField[] }>;
  properties?: Record<string, string>;
  'current-snapshot-id'?: bigint | number | null;
  refs?: Record<string, { 'snapshot-id': bigint | number; type: string }>;
  snapshots?: SnapshotJson[];
  'snapshot-log'?: Array<{ 'timestamp-ms': number; 'snapshot-id': bigint | number }>;
  'metadata-log'?: Array<{ 'timestamp-ms': number; 'metadata-file': string }>;
  [key: string]: unknown;
}

/** A loaded table: its metadata file location and content. */
export interface LoadedTable {
  metadataLocation: string;
  metadata: TableMetadataJson;
}

/** Reads and parses a metadata.json (64-bit ids kept exact). */
export async function readTableMetadata(s3: S3Client, location: string): Promise<TableMetadataJson> {
  const { bucket, key } = parseS3Location(location);
  const text = (await readObject(s3, bucket, key)).toString('utf8');
  const metadata = parseJsonBig(text) as TableMetadataJson;
  if (metadata['format-version'] !== 2) throw new PipelineError('schema_incompatible', `table at ${location} is format v${metadata['format-version']}; the writer supports v2`);
  return metadata;
}

/** The current schema's columns. */
export function currentFields(metadata: TableMetadataJson): IcebergField[] {
  return parseCurrentSchema(metadata as Parameters<typeof parseCurrentSchema>[0]);
}

/** The default partition spec's fields. */
export function defaultSpec(metadata: TableMetadataJson): { specId: number; fields: PartitionSpecField[] } {
  const spec = metadata['partition-specs'].find((s) => s['spec-id'] === metadata['default-spec-id']);
  if (!spec) throw new PipelineError('invalid_input', 'metadata.json has no default partition spec');
  return { specId: spec['spec-id'], fields: spec.fields };
}

/** The current snapshot, if the table has one. */
export function currentSnapshot(metadata: TableMetadataJson): SnapshotJson | undefined {
  const id = metadata['current-snapshot-id'];
  if (id === undefined || id === null || BigInt(id) === -1n) return undefined;
  return metadata.snapshots?.find((s) => BigInt(s['snapshot-id']) === BigInt(id));
}

/** Walks from the current snapshot to its ancestors (newest first). */
export function* snapshotAncestry(metadata: TableMetadataJson): Generator<SnapshotJson> {
  const byId = new Map((metadata.snapshots ?? []).map((s) => [BigInt(s['snapshot-id']), s]));
  let snap = currentSnapshot(metadata);
  const seen = new Set<bigint>();
  while (snap && !seen.has(BigInt(snap['snapshot-id']))) {
    seen.add(BigInt(snap['snapshot-id']));
    yield snap;
    const parent = snap['parent-snapshot-id'];
    snap = parent === undefined ? undefined : byId.get(BigInt(parent));
  }
}
