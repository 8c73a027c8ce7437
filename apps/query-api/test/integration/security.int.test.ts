import { createTrino, queryAll } from '@pipeline/lake';
import { GUARD_ATTACKS } from '../../src/sql/guard-corpus';
import { createTrinoClient } from '../../src/trino/client';
import { startApi, type RunningApi } from '../support/api';
import { adminSql, createEventsTable, createTestSchema, insertEvents, settings } from '../support/lake';
import { pipelineData } from '../support/pipeline-data';

/**
 * Attempts to get past the SQL guard (all must be refused by the API), then the same writes sent
 * straight to Trino as the read-only user, to show the second line of defence holds on its own.
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

describe('the read-only Trino user, without the guard', () => {
  const readonly = createTrino({ ...settings, TRINO_USER: 'pipeline_readonly' });
  const asReadonly = (sql: string) => queryAll(readonly, sql);
  const writes = [
    "INSERT INTO lake.{schema}.events (event_id) VALUES ('evil')",
    "DELETE FROM lake.{schema}.events",
    "UPDATE lake.{schema}.events SET user_id = 'evil'",
    "DROP TABLE lake.{schema}.events",
    "CREATE TABLE lake.{schema}.evil (id bigint)",
    "CREATE TABLE lake.{schema}.evil AS SELECT * FROM lake.{schema}.events",
    "ALTER TABLE lake.{schema}.events ADD COLUMN evil bigint",
    "ALTER TABLE lake.{schema}.events RENAME TO evil",
    "CREATE SCHEMA lake.{schema}_evil",
    "CALL lake.system.unregister_table('{schema}', 'events')",
    "SELECT * FROM TABLE(lake.system.table_changes('{schema}', 'events', 0))",
    "SELECT count(*) FROM tpch.tiny.nation",
    "SELECT count(*) FROM system.runtime.queries",
  ];

  it.each(writes.map((sql, i) => [i, sql]))('denies #%i %s', async (_i, sql) => {
    await expect(asReadonly(sql.replace(/\{schema\}/g, schema))).rejects.toThrow(/Access Denied/);
  });

  it('denies session properties other than the API limits', async () => {
    await expect(asReadonly("SET SESSION join_distribution_type = 'BROADCAST'")).rejects.toThrow(/Access Denied/);
    const client = createTrinoClient({ url: settings.TRINO_URL, user: 'pipeline_readonly', catalog: 'lake', source: 'test' });
    const run = async (session: Record<string, string>) => {
      for await (const _page of await client.submit('SELECT 1', { session })) void _page;
    };
    await expect(run({ join_distribution_type: 'BROADCAST' })).rejects.toMatchObject({ info: { errorName: 'PERMISSION_DENIED' } });
    await expect(run({ query_max_execution_time: '10s', query_max_scan_physical_bytes: '1000B' })).resolves.toBeUndefined();
  });

  it('still reads the lake and its metadata tables', async () => {
    expect((await asReadonly(`SELECT count(*) FROM lake.${schema}.events`)).rows).toEqual([[10]]);
    expect((await asReadonly(`SELECT count(*) FROM lake.${schema}."events$snapshots"`)).rows[0]?.[0]).toBeGreaterThan(0);
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
