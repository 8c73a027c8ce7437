import { createTrino, queryAll, quoteLiteral, type QueryResult } from '@pipeline/lake';
import { createCleanup, stackSettings, uniqueName } from '@pipeline/testing';

/**
 * Tables shaped like the compactor's (see apps/compactor), created through Trino as the pipeline
 * user in a schema of their own, so tests never touch lake.events. The tests seed them with
 * INSERTs to control every value; apps/pipeline-e2e reads what a real pipeline run wrote.
 */

export const settings = stackSettings();
const admin = createTrino(settings);

/** Runs one statement as the pipeline (full-access) user. */
export function adminSql(statement: string): Promise<QueryResult> {
  return queryAll(admin, statement);
}

export interface SeedEvent {
  eventId: string;
  eventType: string;
  occurredAt: Date;
  receivedAt: Date;
  userId?: string;
  anonymousId?: string;
  pagePath?: string;
  amount?: number;
}

export interface SeedDlqRecord {
  failedAt: Date;
  errorCode: string;
}

const ts = (d: Date) => `TIMESTAMP '${d.toISOString().replace('T', ' ').replace('Z', '')} UTC'`;
const text = (v: string | undefined) => (v === undefined ? 'NULL' : quoteLiteral(v));

/** A fresh schema with cleanup: drops its tables and itself. */
export async function createTestSchema(prefix: string): Promise<{ schema: string; cleanup: () => Promise<void> }> {
  const schema = uniqueName(prefix);
  const cleanup = createCleanup();
  await adminSql(`CREATE SCHEMA lake.${schema}`);
  cleanup.add(() => adminSql(`DROP SCHEMA lake.${schema}`));
  const tables: string[] = [];
  return {
    schema,
    cleanup: async () => {
      const listing = await adminSql(`SELECT table_name FROM lake.information_schema.tables WHERE table_schema = '${schema}'`);
      for (const [table] of listing.rows as string[][]) if (table) tables.push(table);
      for (const table of tables) await adminSql(`DROP TABLE IF EXISTS lake.${schema}."${table}"`);
      await cleanup.run();
    },
  };
}

/**
 * `events` as the compactor lays it out (apps/compactor/src/tables/definitions.ts): envelope,
 * enrichment, JSON text columns, `prop_*` property columns and the Kafka coordinates, partitioned
 * by day(occurred_at) and event_type.
 */
export async function createEventsTable(schema: string): Promise<void> {
  await adminSql(`CREATE TABLE lake.${schema}.events (
    event_id varchar,
    event_type varchar,
    occurred_at timestamp(6) with time zone,
    received_at timestamp(6) with time zone,
    processed_at timestamp(6) with time zone,
    user_id varchar,
    anonymous_id varchar,
    ua_browser varchar,
    ua_browser_version varchar,
    ua_os varchar,
    ua_device_type varchar,
    context varchar,
    properties_extra varchar,
    schema_id integer,
    _kafka_topic varchar,
    _kafka_partition integer,
    _kafka_offset bigint,
    prop_page_path varchar,
    prop_amount double
  ) WITH (format = 'PARQUET', partitioning = ARRAY['day(occurred_at)', 'event_type'])`);
}

export async function insertEvents(schema: string, events: SeedEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const values = events.slice(i, i + 500).map(
      (e, j) =>
        `(${text(e.eventId)}, ${text(e.eventType)}, ${ts(e.occurredAt)}, ${ts(e.receivedAt)}, ${ts(new Date(e.receivedAt.getTime() + 500))}, ` +
        `${text(e.userId)}, ${text(e.anonymousId)}, 'Chrome', '131.0', 'Linux', 'desktop', '{"app_version":"1.0.0"}', NULL, 1, ` +
        `'events.clean', 0, ${i + j}, ${text(e.pagePath)}, ${e.amount ?? 'NULL'})`,
    );
    await adminSql(`INSERT INTO lake.${schema}.events VALUES ${values.join(', ')}`);
  }
}

/**
 * `events_dlq` as the compactor lays it out (DLQ_COLUMNS in apps/compactor/src/tables/definitions.ts):
 * what was dead-lettered, with the DLQ headers as columns, partitioned by day(failed_at).
 */
export async function createDlqTable(schema: string, records: SeedDlqRecord[]): Promise<void> {
  await adminSql(`CREATE TABLE lake.${schema}.events_dlq (
    failed_at timestamp(6) with time zone,
    error_code varchar,
    reason varchar,
    attempt integer,
    original_topic varchar,
    original_partition integer,
    original_offset bigint,
    event_id varchar,
    event_type varchar,
    payload varchar,
    payload_encoding varchar,
    schema_id integer,
    _kafka_topic varchar,
    _kafka_partition integer,
    _kafka_offset bigint
  ) WITH (format = 'PARQUET', partitioning = ARRAY['day(failed_at)'])`);
  if (records.length === 0) return;
  const values = records.map(
    (r, i) => `(${ts(r.failedAt)}, ${text(r.errorCode)}, 'schema validation failed', 1, 'events.raw', 0, ${i}, 'dlq-${i}', '{"event_id":"dlq-${i}"}', 'utf8', 'events.dlq', 0, ${i})`,
  );
  await adminSql(
    `INSERT INTO lake.${schema}.events_dlq (failed_at, error_code, reason, attempt, original_topic, original_partition, original_offset, event_id, payload, payload_encoding, _kafka_topic, _kafka_partition, _kafka_offset) VALUES ${values.join(', ')}`,
  );
}

/** State and error of a query Trino ran, found by a marker in its text (needs the pipeline user). */
export async function trinoQueryState(marker: string): Promise<{ state: string; errorCode: string | null } | undefined> {
  const result = await adminSql(
    `SELECT state, error_code FROM system.runtime.queries WHERE query LIKE ${quoteLiteral(`%${marker}%`)} AND query NOT LIKE '%system.runtime.queries%' ORDER BY created DESC LIMIT 1`,
  );
  const row = result.rows[0] as [string, string | null] | undefined;
  return row ? { state: row[0], errorCode: row[1] } : undefined;
}
