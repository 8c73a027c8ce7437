/**
 * PyIceberg as a second, independent reader of the lake: its SQL catalog on the same JDBC catalog
 * database Trino and the compactor use (read only), PyArrow's S3 file IO on the same store. The
 * Python side is `pyiceberg/read-table.py`; its venv comes from `pyiceberg/requirements.txt`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readConfig } from '../../src/config';
import { ensurePythonEnv, type PythonEnv } from './python-env';

const HERE = __dirname;
export const PYICEBERG_REQUIREMENTS = join(HERE, 'pyiceberg', 'requirements.txt');
const SCRIPT = join(HERE, 'pyiceberg', 'read-table.py');

/** Installs (first run) or reuses the PyIceberg venv. */
export function ensurePyIceberg(): Promise<PythonEnv> {
  return ensurePythonEnv({
    name: 'pyiceberg',
    requirements: PYICEBERG_REQUIREMENTS,
    imports: ['pyiceberg.catalog.sql', 'pyiceberg.io.pyarrow', 'pyarrow.parquet', 'psycopg2'],
  });
}

export interface PyIcebergField {
  id: number;
  name: string;
  type: string;
  required: boolean;
}

export interface PyIcebergSnapshot {
  snapshot_id: string;
  parent_snapshot_id: string | null;
  sequence_number: number;
  timestamp_ms: number;
  schema_id: number | null;
  operation: string | null;
  summary: Record<string, string>;
}

export interface PyIcebergFile {
  path: string;
  record_count: number;
  spec_id: number;
  partition: Record<string, unknown>;
  /** Column name → the field id in the file's own Parquet schema. */
  parquet_field_ids: Record<string, number | null>;
}

/** What read-table.py prints before the rows. */
export interface PyIcebergHeader {
  format_version: number;
  table_uuid: string;
  location: string;
  metadata_location: string;
  current_schema_id: number;
  schema: { schema_id: number; fields: PyIcebergField[] };
  schemas: Array<{ schema_id: number; fields: PyIcebergField[] }>;
  partition_spec: { spec_id: number; fields: Array<{ source_id: number; field_id: number; name: string; transform: string }> };
  current_snapshot_id: string | null;
  snapshots: PyIcebergSnapshot[];
  properties: Record<string, string>;
  scan: { snapshot_id: string | null; filter: string | null; columns: string[]; files: PyIcebergFile[]; row_count: number };
}

export interface PyIcebergRead {
  table: PyIcebergHeader;
  /** Rows as read-table.py prints them: longs as decimal strings, timestamps as ISO 8601 UTC with microseconds. */
  rows: Array<Record<string, unknown>>;
}

export interface ReadOptions {
  /** PyIceberg row filter, e.g. `event_type = 'click' AND occurred_at >= '2026-01-01T00:00:00+00:00'`. */
  filter?: string;
  columns?: string[];
  snapshotId?: string;
}

/** The compactor's own catalog and store settings, in the form read-table.py takes them. */
function lakeEnv(): Record<string, string> {
  const config = readConfig(process.env);
  const url = new URL(config.CATALOG_JDBC_URL);
  if (config.CATALOG_JDBC_PASSWORD) url.password = encodeURIComponent(config.CATALOG_JDBC_PASSWORD);
  return {
    LAKE_CATALOG_URI: url.toString().replace(/^postgres(ql)?:/, 'postgresql+psycopg2:'),
    LAKE_CATALOG_NAME: config.CATALOG_NAME,
    LAKE_WAREHOUSE: `s3://${config.S3_BUCKET}/warehouse`,
    LAKE_S3_ENDPOINT: config.S3_ENDPOINT,
    LAKE_S3_REGION: config.S3_REGION,
    LAKE_S3_ACCESS_KEY: config.S3_ACCESS_KEY,
    LAKE_S3_SECRET_KEY: config.S3_SECRET_KEY,
  };
}

/** Reads `namespace.table` with PyIceberg; rejects with the script's stderr when it fails. */
export function readWithPyIceberg(env: PythonEnv, namespace: string, table: string, opts: ReadOptions = {}): Promise<PyIcebergRead> {
  const args = [SCRIPT, `${namespace}.${table}`];
  if (opts.filter) args.push('--filter', opts.filter);
  if (opts.columns) args.push('--columns', opts.columns.join(','));
  if (opts.snapshotId) args.push('--snapshot-id', opts.snapshotId);
  return new Promise((resolveRead, reject) => {
    const child = spawn(env.python, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', PYTHONUTF8: '1', PYTHONIOENCODING: 'utf-8', ...lakeEnv() },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`read-table.py ${args.slice(1).join(' ')} exited ${code}:\n${Buffer.concat(err).toString('utf8').slice(-4000)}`));
        return;
      }
      const lines = Buffer.concat(out).toString('utf8').split('\n').filter((l) => l.length > 0);
      const [head, ...rest] = lines;
      if (!head) {
        reject(new Error('read-table.py printed nothing'));
        return;
      }
      resolveRead({ table: JSON.parse(head) as PyIcebergHeader, rows: rest.map((l) => JSON.parse(l) as Record<string, unknown>) });
    });
  });
}
