import { GUARD_ATTACKS } from '../../src/sql/guard-corpus';
import { createTrinoClient } from '../../src/trino/client';
import { startApi, type RunningApi } from '../support/api';
import { adminSql, createEventsTable, createTestSchema, insertEvents, settings } from '../support/lake';
import { pipelineData } from '../support/pipeline-data';

/**
 * Attempts to get past the SQL guard (all must be refused by the API), then writes, DDL and table
 * procedures sent straight to Trino as the API's user in the API's catalog, to show the second line
 * of defence (the read-only user and the read-only catalog) holds on its own.
 */

let api: RunningApi;
let schema: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const test = await createTestSchema('qapi_security');
  schema = test.schema;
  cleanup = test.cleanup;
  await createEventsTable(schema);
  await insertEvents(schema, pipelineData(new Date()).events.slice(0, 10));
  api = await startApi({ TRINO_SCHEMA: schema, HTTP_BODY_LIMIT_BYTES: '65536', QUERY_MAX_SQL_LENGTH: '5000' });
});

afterAll(async () => {
  await api?.stop();
  await cleanup?.();
});

describe('the SQL guard, through the API', () => {
  it(`refuses every one of ${GUARD_ATTACKS.length} bypass attempts with 400 sql_rejected`, async () => {
    const bypasses: string[] = [];
    for (const attack of GUARD_ATTACKS) {
      const res = await api.post('/v1/query', { sql: attack.sql }, { token: api.tokens.sql });
      const body = (await res.json()) as { error?: { code: string } };
      // An empty statement fails the body schema (400 invalid_request) before the guard: refused too.
      const refused = res.status === 400 && (body.error?.code === 'sql_rejected' || (attack.sql === '' && body.error?.code === 'invalid_request'));
      if (!refused) bypasses.push(`${JSON.stringify(attack.sql)} -> ${res.status} ${JSON.stringify(body).slice(0, 120)}`);
    }
    expect(bypasses).toEqual([]);
    // Nothing was written: the table still holds its 10 rows.
    expect((await adminSql(`SELECT count(*) FROM lake.${schema}.events`)).rows).toEqual([[10]]);
  });
});

/**
 * Statements sent straight to Trino's HTTP API as the user and in the catalog the API runs its
 * queries as and in (TRINO_QUERY_USER, TRINO_QUERY_CATALOG), with the test schema as the default
 * schema: what a statement that got past the guard would meet.
 */
async function runAs(user: string, catalog: string, sql: string): Promise<unknown[][]> {
  const client = createTrinoClient({ url: api.config.TRINO_URL, user, catalog, source: 'qapi-security-test' });
  const rows: unknown[][] = [];
  for await (const page of await client.submit(sql, { schema })) rows.push(...(page.data ?? []));
  return rows;
}
const asQueryUser = (sql: string) => runAs(api.config.TRINO_QUERY_USER, api.config.TRINO_QUERY_CATALOG, sql);
const fill = (sql: string) => sql.replace(/\{schema\}/g, schema).replace(/\{catalog\}/g, api.config.TRINO_QUERY_CATALOG).replace(/\{lake\}/g, settings.TRINO_CATALOG);
const accessDenied = (message = /^Access Denied: /) => ({ info: { errorName: 'PERMISSION_DENIED', message: expect.stringMatching(message) } });

/** Table procedures (ALTER TABLE ... EXECUTE): Trino's file-based access control does not check them, the read-only catalog does. */
const TABLE_PROCEDURES = [
  'ALTER TABLE events EXECUTE optimize',
  "ALTER TABLE events EXECUTE optimize(file_size_threshold => '1GB')",
  "ALTER TABLE events EXECUTE optimize WHERE event_type = 'page_view'",
  "ALTER TABLE events EXECUTE expire_snapshots(retention_threshold => '1h')",
  "ALTER TABLE events EXECUTE remove_orphan_files(retention_threshold => '1h')",
  'ALTER TABLE events EXECUTE optimize_manifests',
  'ALTER TABLE events EXECUTE drop_extended_stats',
  'ALTER TABLE {catalog}.{schema}.events EXECUTE optimize',
];

const WRITES = [
  "INSERT INTO events (event_id) VALUES ('evil')",
  'DELETE FROM events',
  "UPDATE events SET user_id = 'evil'",
  "MERGE INTO events t USING (VALUES 'x') s(id) ON t.event_id = s.id WHEN MATCHED THEN DELETE",
  'TRUNCATE TABLE events',
  'DROP TABLE events',
  'CREATE TABLE evil (id bigint)',
  'CREATE TABLE evil AS SELECT * FROM events',
  'CREATE OR REPLACE TABLE events (id bigint)',
  'CREATE VIEW evil AS SELECT 1 AS x',
  'ALTER TABLE events ADD COLUMN evil bigint',
  'ALTER TABLE events DROP COLUMN user_id',
  'ALTER TABLE events RENAME TO evil',
  'ALTER TABLE events SET PROPERTIES format_version = 2',
  "COMMENT ON TABLE events IS 'evil'",
  'ANALYZE events',
  'CREATE SCHEMA {schema}_evil',
  'DROP SCHEMA {schema} CASCADE',
  "INSERT INTO {catalog}.{schema}.events (event_id) VALUES ('evil')",
  "CALL system.unregister_table('{schema}', 'events')",
  "CALL system.register_table('{schema}', 'evil', 's3://lake/warehouse/evil')",
  "CALL system.rollback_to_snapshot('{schema}', 'events', 1)",
  "SELECT * FROM TABLE(system.table_changes('{schema}', 'events', 0))",
];

describe("the query API's Trino user and catalog, without the guard", () => {
  let snapshotsBefore: unknown[][];
  beforeAll(async () => {
    snapshotsBefore = (await adminSql(`SELECT snapshot_id FROM lake.${schema}."events$snapshots" ORDER BY committed_at`)).rows;
  });

  it('runs as the read-only user in the read-only catalog', () => {
    expect([api.config.TRINO_QUERY_USER, api.config.TRINO_QUERY_CATALOG]).toEqual(['pipeline_readonly', 'lake_readonly']);
  });

  // Regression: the file rules let the read-only user run optimize, expire_snapshots and remove_orphan_files on `lake`.
  it.each(TABLE_PROCEDURES.map((sql, i) => [i, sql]))('refuses table procedure #%i %s', async (_i, sql) => {
    await expect(asQueryUser(fill(sql))).rejects.toMatchObject(accessDenied(/^Access Denied: Cannot execute table procedure /));
  });

  it.each(WRITES.map((sql, i) => [i, sql]))('refuses write #%i %s', async (_i, sql) => {
    await expect(asQueryUser(fill(sql))).rejects.toMatchObject(accessDenied());
  });

  it('refuses every other catalog, the writable one first', async () => {
    for (const sql of [
      'SELECT count(*) FROM {lake}.{schema}.events',
      'ALTER TABLE {lake}.{schema}.events EXECUTE optimize',
      "ALTER TABLE {lake}.{schema}.events EXECUTE expire_snapshots(retention_threshold => '1h')",
      "CALL {lake}.system.unregister_table('{schema}', 'events')",
    ]) {
      await expect(asQueryUser(fill(sql))).rejects.toMatchObject(accessDenied(new RegExp(`Cannot access catalog ${settings.TRINO_CATALOG}$`)));
    }
    await expect(asQueryUser('SELECT count(*) FROM tpch.tiny.nation')).rejects.toMatchObject(accessDenied(/Cannot access catalog tpch$/));
    await expect(asQueryUser('SELECT count(*) FROM system.runtime.queries')).rejects.toMatchObject(accessDenied(/Cannot access catalog system$/));
    expect(await asQueryUser('SHOW CATALOGS')).toEqual([[api.config.TRINO_QUERY_CATALOG]]);
  });

  it('refuses table procedures and writes in the read-only catalog to the full-access pipeline user too', async () => {
    const asPipeline = (sql: string) => runAs(settings.TRINO_USER, api.config.TRINO_QUERY_CATALOG, fill(sql));
    for (const sql of TABLE_PROCEDURES) await expect(asPipeline(sql)).rejects.toMatchObject(accessDenied(/^Access Denied: Cannot execute table procedure /));
    for (const sql of ["INSERT INTO events (event_id) VALUES ('evil')", 'DELETE FROM events', 'DROP TABLE events', 'CREATE TABLE evil (id bigint)', "CALL system.unregister_table('{schema}', 'events')"]) {
      await expect(asPipeline(sql)).rejects.toMatchObject(accessDenied());
    }
  });

  it('denies session properties other than the API limits', async () => {
    await expect(asQueryUser("SET SESSION join_distribution_type = 'BROADCAST'")).rejects.toMatchObject(accessDenied());
    const client = createTrinoClient({ url: api.config.TRINO_URL, user: api.config.TRINO_QUERY_USER, catalog: api.config.TRINO_QUERY_CATALOG, source: 'qapi-security-test' });
    const run = async (session: Record<string, string>) => {
      for await (const _page of await client.submit('SELECT 1', { session })) void _page;
    };
    await expect(run({ join_distribution_type: 'BROADCAST' })).rejects.toMatchObject({ info: { errorName: 'PERMISSION_DENIED' } });
    await expect(run({ query_max_execution_time: '10s', query_max_scan_physical_bytes: '1000B' })).resolves.toBeUndefined();
  });

  it('still reads the tables, their metadata tables and the information schema', async () => {
    expect(await asQueryUser('SELECT count(*) FROM events')).toEqual([[10]]);
    expect(await asQueryUser(fill('SELECT count(*) FROM {catalog}.{schema}.events'))).toEqual([[10]]);
    for (const table of ['snapshots', 'files', 'partitions', 'metadata_log_entries', 'history', 'manifests']) {
      const [[count]] = (await asQueryUser(`SELECT count(*) FROM "events$${table}"`)) as [[number]];
      expect([table, Number(count) > 0]).toEqual([table, true]);
    }
    expect(await asQueryUser('SHOW TABLES')).toEqual([['events']]);
    expect((await asQueryUser('DESCRIBE events')).slice(0, 2)).toEqual([
      ['event_id', 'varchar', '', ''],
      ['event_type', 'varchar', '', ''],
    ]);
    expect(await asQueryUser(fill("SELECT count(*) FROM information_schema.columns WHERE table_schema = '{schema}' AND table_name = 'events'"))).toEqual([[19]]);
    expect(((await asQueryUser('EXPLAIN SELECT count(*) FROM events'))[0]?.[0] as string).length).toBeGreaterThan(0);
  });

  it('left the table as it was: no rows and no snapshots added or removed', async () => {
    expect((await adminSql(`SELECT count(*) FROM lake.${schema}.events`)).rows).toEqual([[10]]);
    expect((await adminSql(`SELECT snapshot_id FROM lake.${schema}."events$snapshots" ORDER BY committed_at`)).rows).toEqual(snapshotsBefore);
  });
});

describe('authentication and request size', () => {
  it('answers 401 to missing, malformed and wrong tokens, before reading the body', async () => {
    const big = JSON.stringify({ sql: `SELECT '${'x'.repeat(200_000)}'` });
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer' }, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer qapi_not_a_real_token' }];
    for (const headers of attempts) {
      const res = await fetch(`${api.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: big });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="query-api"/);
    }
  });

  it('answers 403 to a token without the scope, and 413 to an oversized body', async () => {
    const scope = await api.post('/v1/query', { sql: 'SELECT 1' }, { token: api.tokens.saved });
    expect(scope.status).toBe(403);
    const big = await api.post('/v1/query', JSON.stringify({ sql: `SELECT '${'x'.repeat(100_000)}'` }), { token: api.tokens.sql });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: { code: 'body_too_large', message: 'request body too large' } });
  });

  it('refuses a statement over the length limit even within the body limit', async () => {
    const res = await api.post('/v1/query', { sql: `SELECT 1 ${'-- padding\n'.repeat(1_000)}` }, { token: api.tokens.sql });
    expect(res.status).toBe(400);
  });
});
