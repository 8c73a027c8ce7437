import type { Client as S3Client } from 'minio';
import type { Trino } from 'trino-client';
import { PipelineError } from '@pipeline/runtime';
import type { IcebergField, IcebergPrimitive } from './parquet';
import { queryAll, quoteIdent } from './trino';

interface MetadataJson {
  'format-version': number;
  'current-schema-id'?: number;
  schemas?: Array<{ 'schema-id': number; fields: Array<{ id: number; name: string; type: unknown; required: boolean }> }>;
  schema?: { fields: Array<{ id: number; name: string; type: unknown; required: boolean }> };
}

const PRIMITIVES: Record<string, IcebergPrimitive> = {
  boolean: 'boolean',
  int: 'int',
  long: 'long',
  double: 'double',
  string: 'string',
  date: 'date',
  timestamptz: 'timestamptz',
};

/**
 * The current schema's top-level columns from an Iceberg `metadata.json`. Fails with
 * `schema_incompatible` on a column type the lake does not write (nested, decimal, ...).
 */
export function parseCurrentSchema(metadata: MetadataJson): IcebergField[] {
  const current = metadata.schemas?.find((s) => s['schema-id'] === metadata['current-schema-id']) ?? metadata.schema;
  if (!current) throw new PipelineError('schema_incompatible', 'metadata.json has no current schema');
  return current.fields.map((f) => {
    const type = typeof f.type === 'string' ? PRIMITIVES[f.type] : undefined;
    if (!type) throw new PipelineError('schema_incompatible', `column ${f.name} has unsupported type ${JSON.stringify(f.type)}`);
    return { id: f.id, name: f.name, type, required: f.required };
  });
}

/** Splits an `s3://bucket/key` location. */
export function parseS3Location(location: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(location);
  if (!match?.[1] || !match[2]) throw new PipelineError('invalid_input', `not an s3:// location: ${location}`);
  return { bucket: match[1], key: match[2] };
}

/** Reads a table's current metadata.json (located through Trino's `$metadata_log_entries`) from the object store. */
export async function loadTableMetadata(trino: Trino, s3: S3Client, schema: string, table: string): Promise<MetadataJson & { location: string }> {
  const result = await queryAll(
    trino,
    `SELECT file FROM ${quoteIdent(schema)}.${quoteIdent(`${table}$metadata_log_entries`)} ORDER BY timestamp DESC LIMIT 1`,
  );
  const file = result.rows[0]?.[0];
  if (typeof file !== 'string') throw new PipelineError('invalid_input', `no metadata for ${schema}.${table}`);
  const { bucket, key } = parseS3Location(file);
  const stream = await s3.getObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MetadataJson), location: file };
}
