import pg from 'pg';
import { PipelineError } from '@pipeline/runtime';

export interface CatalogSettings {
  /** PostgreSQL connection string of the JDBC catalog database. */
  CATALOG_JDBC_URL: string;
  /** Password, when not in the URL. */
  CATALOG_JDBC_PASSWORD?: string | undefined;
  /** `iceberg.jdbc-catalog.catalog-name` of the Trino catalog (the `catalog_name` column). */
  CATALOG_NAME: string;
}

/** The JDBC catalog's `iceberg_tables` as the writer uses it: read a table's metadata location, swap it atomically. */
export interface JdbcCatalog {
  /** Current metadata location, or undefined when the table does not exist. Rejects `dependency_unavailable` when PostgreSQL cannot answer. */
  metadataLocation(namespace: string, table: string): Promise<string | undefined>;
  /** Compare-and-set of the metadata location; false when another writer got there first. */
  swapMetadataLocation(namespace: string, table: string, expected: string, next: string): Promise<boolean>;
  /** Table names of a namespace. */
  listTables(namespace: string): Promise<string[]>;
  /** Answers when PostgreSQL does (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

function unavailable(err: unknown): PipelineError {
  if (err instanceof PipelineError) return err;
  return new PipelineError('dependency_unavailable', `catalog database: ${(err as Error).message}`, { cause: err });
}

/** A JDBC catalog client over a small pg pool (connection errors are retriable `dependency_unavailable`). */
export function createJdbcCatalog(settings: CatalogSettings, opts: { maxConnections?: number } = {}): JdbcCatalog {
  // pg lets the URL's (absent) password override a separate `password` option, so it goes into the URL.
  const url = new URL(settings.CATALOG_JDBC_URL);
  if (settings.CATALOG_JDBC_PASSWORD !== undefined) url.password = encodeURIComponent(settings.CATALOG_JDBC_PASSWORD);
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: opts.maxConnections ?? 4,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const catalog = settings.CATALOG_NAME;
  return {
    async metadataLocation(namespace, table) {
      try {
        const res = await pool.query<{ metadata_location: string | null }>(
          'SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3',
          [catalog, namespace, table],
        );
        return res.rows[0]?.metadata_location ?? undefined;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async swapMetadataLocation(namespace, table, expected, next) {
      try {
        const res = await pool.query(
          `UPDATE iceberg_tables SET metadata_location = $5, previous_metadata_location = $4
           WHERE catalog_name = $1 AND table_namespace = $2 AND table_name = $3 AND metadata_location = $4`,
          [catalog, namespace, table, expected, next],
        );
        return res.rowCount === 1;
      } catch (err) {
        throw unavailable(err);
      }
    },
    async listTables(namespace) {
      try {
        const res = await pool.query<{ table_name: string }>(
          "SELECT table_name FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 AND (iceberg_type IS NULL OR iceberg_type = 'TABLE') ORDER BY table_name",
          [catalog, namespace],
        );
        return res.rows.map((r) => r.table_name);
      } catch (err) {
        throw unavailable(err);
      }
    },
    async ping() {
      try {
        await pool.query('SELECT 1');
      } catch (err) {
        throw unavailable(err);
      }
    },
    close: () => pool.end(),
  };
}
