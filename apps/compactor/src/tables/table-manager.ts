import type { Client as S3Client } from 'minio';
import { currentFields, defaultSpec, loadTable, quoteIdent, type IcebergField, type JdbcCatalog, type LoadedTable, type PartitionSpecField } from '@pipeline/lake';
import { PipelineError } from '@pipeline/runtime';
import { columnConflict, trinoType, type ColumnSpec } from './columns';
import type { TrinoRunner } from './trino-ddl';

/** Table property and snapshot summary key holding the Kafka high-water marks: {"topic":{"partition":"next offset"}}. */
export const OFFSETS_KEY = 'pipeline.kafka-offsets';

export type OffsetMap = Record<string, Record<string, string>>;

/** What the compactor knows of a table: where it lives, its columns (with ids) and partition spec. */
export interface TableState {
  name: string;
  location: string;
  fields: IcebergField[];
  byName: Map<string, IcebergField>;
  spec: PartitionSpecField[];
}

export interface TableDefinition {
  name: string;
  columns: ColumnSpec[];
  partitioning: string[];
}

/** Parses the offsets property; an absent or unreadable value is an empty map. */
export function parseOffsets(text: string | undefined): OffsetMap {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as OffsetMap) : {};
  } catch {
    return {};
  }
}

/** The committed next offsets of a loaded table. */
export function tableOffsets(table: LoadedTable): OffsetMap {
  return parseOffsets(table.metadata.properties?.[OFFSETS_KEY]);
}

function toState(name: string, loaded: LoadedTable): TableState {
  const fields = currentFields(loaded.metadata);
  return { name, location: loaded.metadata.location, fields, byName: new Map(fields.map((f) => [f.name, f])), spec: defaultSpec(loaded.metadata).fields };
}

/**
 * Creates lake tables on first use and adds columns through Trino (DDL stays with the engine),
 * and reads their state through the JDBC catalog. Cached per table; `refresh` re-reads.
 */
export class TableManager {
  private readonly cache = new Map<string, TableState>();
  private schemaReady = false;

  constructor(
    private readonly deps: { catalog: JdbcCatalog; s3: S3Client; trino: TrinoRunner; catalogName: string; namespace: string },
  ) {}

  private qualified(name: string): string {
    return `${quoteIdent(this.deps.catalogName)}.${quoteIdent(this.deps.namespace)}.${quoteIdent(name)}`;
  }

  async load(name: string): Promise<LoadedTable | undefined> {
    return loadTable(this.deps.catalog, this.deps.s3, this.deps.namespace, name);
  }

  async refresh(name: string): Promise<TableState | undefined> {
    const loaded = await this.load(name);
    if (!loaded) {
      this.cache.delete(name);
      return undefined;
    }
    const state = toState(name, loaded);
    this.cache.set(name, state);
    return state;
  }

  /** The table, created (with `def`'s columns and partitioning) when missing. */
  async ensure(def: TableDefinition): Promise<TableState> {
    const cached = this.cache.get(def.name);
    if (cached) return cached;
    const existing = await this.refresh(def.name);
    if (existing) return existing;
    if (!this.schemaReady) {
      await this.deps.trino.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.deps.catalogName)}.${quoteIdent(this.deps.namespace)}`);
      this.schemaReady = true;
    }
    const columns = def.columns.map((c) => `${quoteIdent(c.name)} ${trinoType(c.kind)}`).join(', ');
    const partitioning = def.partitioning.map((p) => `'${p}'`).join(', ');
    await this.deps.trino.run(`CREATE TABLE IF NOT EXISTS ${this.qualified(def.name)} (${columns}) WITH (format = 'PARQUET', partitioning = ARRAY[${partitioning}])`);
    const created = await this.refresh(def.name);
    if (!created) throw new PipelineError('internal', `table ${def.name} missing right after CREATE TABLE`);
    return created;
  }

  /**
   * Adds the columns of `specs` the table lacks (ALTER TABLE ADD COLUMN: metadata only, no
   * rewrite). Returns the new state and, per spec that clashes with an existing column's type, the reason.
   */
  async ensureColumns(table: TableState, specs: readonly ColumnSpec[]): Promise<{ state: TableState; conflicts: Map<string, string> }> {
    const conflicts = new Map<string, string>();
    const missing: ColumnSpec[] = [];
    const seen = new Set<string>();
    for (const spec of specs) {
      if (seen.has(spec.name)) continue;
      seen.add(spec.name);
      const existing = table.byName.get(spec.name);
      if (!existing) missing.push(spec);
      else {
        const conflict = columnConflict(existing, spec.kind);
        if (conflict) conflicts.set(spec.name, conflict);
      }
    }
    if (missing.length === 0) return { state: table, conflicts };
    for (const spec of missing) {
      await this.deps.trino.run(`ALTER TABLE ${this.qualified(table.name)} ADD COLUMN IF NOT EXISTS ${quoteIdent(spec.name)} ${trinoType(spec.kind)}`);
    }
    const state = (await this.refresh(table.name)) ?? table;
    for (const spec of missing) {
      const added = state.byName.get(spec.name);
      if (!added) throw new PipelineError('internal', `column ${spec.name} missing after ADD COLUMN`);
      const conflict = columnConflict(added, spec.kind);
      if (conflict) conflicts.set(spec.name, conflict);
    }
    return { state, conflicts };
  }

  /** Tables of the namespace, as the catalog lists them. */
  cached(): TableState[] {
    return [...this.cache.values()];
  }

  qualifiedName(name: string): string {
    return this.qualified(name);
  }
}
