import type { TrinoClient } from '../trino/client';

/**
 * What `GET /v1/tables` reports of each Iceberg table, read through Trino as the read-only user:
 * columns from information_schema, and from Iceberg's metadata tables the partitions
 * (`$partitions`), the latest snapshot (`$snapshots`) and the schema versions
 * (`$metadata_log_entries`, which records the current schema id of every metadata file).
 */

export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
}

export interface PartitionInfo {
  values: Record<string, unknown>;
  records: number;
  files: number;
  bytes: number;
}

export interface TableInfo {
  catalog: string;
  schema: string;
  name: string;
  kind: 'table' | 'view';
  columns: ColumnInfo[];
  /** Partition fields as Iceberg names them (`occurred_at_day`, `event_type`); empty when unpartitioned. */
  partitionFields: Array<{ name: string; type: string }>;
  partitions?: { count: number; records: number; files: number; bytes: number; latest: PartitionInfo[] };
  snapshot?: { id: string; committedAt: string; operation: string } | null;
  /** Schema ids that commits were written with, and since when (`$metadata_log_entries`); a column added after the last commit shows in `columns` first. */
  schemaVersions?: Array<{ schemaId: number; since: string }>;
  /** Schema id of the latest snapshot. */
  snapshotSchemaId?: number | null;
  /** Set when part of the metadata could not be read (the table may have been dropped meanwhile). */
  error?: string;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** Rows of one metadata statement, at most `maxRows` (the rest is cancelled). */
async function rowsOf(trino: TrinoClient, sql: string, schema: string, maxRows = 10_000): Promise<{ columns: Array<{ name: string; type: string }>; rows: unknown[][] }> {
  const statement = await trino.submit(sql, { schema, signal: AbortSignal.timeout(30_000) });
  let columns: Array<{ name: string; type: string }> = [];
  const rows: unknown[][] = [];
  for await (const page of statement) {
    if (page.columns && columns.length === 0) columns = page.columns;
    for (const row of page.data ?? []) {
      rows.push(row);
      if (rows.length >= maxRows) return { columns, rows };
    }
  }
  return { columns, rows };
}

/** Parses the field list of a Trino row type: `row(occurred_at_day date, event_type varchar)`. */
export function rowTypeFields(type: string): Array<{ name: string; type: string }> {
  const inner = /^row\((.*)\)$/s.exec(type.trim())?.[1];
  if (!inner) return [];
  const fields: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of inner) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      fields.push(current);
      current = '';
    } else current += c;
  }
  if (current.trim()) fields.push(current);
  return fields.flatMap((f) => {
    const [, name, type] = /^\s*("(?:[^"]|"")*"|\S+)\s+(.*)$/s.exec(f) ?? [];
    return name && type ? [{ name: name.replace(/^"|"$/g, '').replace(/""/g, '"'), type: type.trim() }] : [];
  });
}

const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

export class Catalog {
  private readonly cache = new Map<string, { at: number; tables: TableInfo[] }>();

  constructor(
    private readonly deps: { trino: TrinoClient; catalog: string; cacheMs: number; now?: () => number; parallelism?: number },
  ) {}

  /** Tables of `schema`, with metadata; served from memory for `cacheMs`. */
  async tables(schema: string, opts: { partitions: number }): Promise<TableInfo[]> {
    const now = this.deps.now?.() ?? Date.now();
    const key = `${schema}\u0000${opts.partitions}`;
    const cached = this.cache.get(key);
    if (cached && now - cached.at < this.deps.cacheMs) return cached.tables;
    const tables = await this.read(schema, opts.partitions);
    this.cache.set(key, { at: now, tables });
    return tables;
  }

  private async read(schema: string, partitionLimit: number): Promise<TableInfo[]> {
    const { trino, catalog } = this.deps;
    const listing = await rowsOf(
      trino,
      `SELECT t.table_name, t.table_type, c.column_name, c.data_type, c.is_nullable
       FROM information_schema.tables t
       JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
       WHERE t.table_schema = ${quoteLiteral(schema)}
       ORDER BY t.table_name, c.ordinal_position`,
      schema,
      100_000,
    );
    const byName = new Map<string, TableInfo>();
    for (const [table = '', type, column = '', dataType = '', nullable] of listing.rows as string[][]) {
      let info = byName.get(table);
      if (!info) {
        info = { catalog, schema, name: table, kind: type === 'VIEW' ? 'view' : 'table', columns: [], partitionFields: [] };
        byName.set(table, info);
      }
      info.columns.push({ name: column, type: dataType, nullable: nullable === 'YES' });
    }
    const tables = [...byName.values()];
    const queue = tables.filter((t) => t.kind === 'table');
    const workers = Array.from({ length: Math.min(this.deps.parallelism ?? 3, queue.length) }, async () => {
      for (let table = queue.shift(); table; table = queue.shift()) await this.describe(table, schema, partitionLimit);
    });
    await Promise.all(workers);
    return tables;
  }

  private async describe(table: TableInfo, schema: string, partitionLimit: number): Promise<void> {
    const { trino } = this.deps;
    const meta = (suffix: string) => quoteIdent(`${table.name}$${suffix}`);
    try {
      const [snapshots, schemas, partitions] = await Promise.all([
        rowsOf(trino, `SELECT CAST(snapshot_id AS varchar), to_iso8601(committed_at), operation FROM ${meta('snapshots')} ORDER BY committed_at DESC LIMIT 1`, schema),
        rowsOf(
          trino,
          `SELECT latest_schema_id, to_iso8601(min(timestamp)) FROM ${meta('metadata_log_entries')} WHERE latest_schema_id IS NOT NULL GROUP BY 1 ORDER BY 2`,
          schema,
        ),
        rowsOf(trino, `SELECT * FROM ${meta('partitions')}`, schema, 100_000),
      ]);
      const latest = snapshots.rows[0] as [string, string, string] | undefined;
      table.snapshot = latest ? { id: latest[0], committedAt: latest[1], operation: latest[2] } : null;
      table.schemaVersions = (schemas.rows as Array<[number, string]>).map(([schemaId, since]) => ({ schemaId: num(schemaId), since }));
      table.snapshotSchemaId = table.schemaVersions.at(-1)?.schemaId ?? null;

      const index = (name: string) => partitions.columns.findIndex((c) => c.name === name);
      const partitionColumn = index('partition');
      table.partitionFields = rowTypeFields(partitions.columns[partitionColumn]?.type ?? '');
      const list: PartitionInfo[] = partitions.rows.map((row) => {
        const values = partitionColumn >= 0 ? (row[partitionColumn] as unknown[]) : [];
        return {
          values: Object.fromEntries(table.partitionFields.map((f, i) => [f.name, values[i] ?? null])),
          records: num(row[index('record_count')]),
          files: num(row[index('file_count')]),
          bytes: num(row[index('total_size')]),
        };
      });
      // Most recent first when the first partition field is time-based (day, hour, ...), which sorts as text.
      list.sort((a, b) => JSON.stringify(Object.values(b.values)).localeCompare(JSON.stringify(Object.values(a.values))));
      const partitioned = table.partitionFields.length > 0;
      table.partitions = {
        count: partitioned ? list.length : 0,
        records: list.reduce((s, p) => s + p.records, 0),
        files: list.reduce((s, p) => s + p.files, 0),
        bytes: list.reduce((s, p) => s + p.bytes, 0),
        latest: partitioned ? list.slice(0, partitionLimit) : [],
      };
    } catch (err) {
      table.error = (err as Error).message;
    }
  }
}
