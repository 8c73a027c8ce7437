import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { waitFor } from '@pipeline/testing';
import { startApi, type RunningApi } from '../support/api';
import { adminSql, createEventsTable, createTestSchema, insertEvents, trinoQueryState } from '../support/lake';
import { pipelineData } from '../support/pipeline-data';

/** POST /v1/query against the real Trino, as the read-only user. */

let api: RunningApi;
let schema: string;
let cleanup: () => Promise<void>;

// Burns CPU in Trino without reading any table, until cancelled (10^12 rows).
const SLOW = (marker: string) =>
  `SELECT count(*) AS n /* ${marker} */ FROM UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y) CROSS JOIN UNNEST(sequence(1, 10000)) AS c(z) WHERE x + y + z > 0`;
const marker = () => `it_${randomBytes(6).toString('hex')}`;

interface Page {
  queryId: string;
  columns: Array<{ name: string; type: string; rawType: string }>;
  rows: unknown[][];
  nextCursor: string | null;
  totalRows: number;
  truncated: boolean;
  stats: { rows: number; scannedBytes: number; elapsedMs: number };
  cache: { status: string; ageSeconds: number };
  error?: { code: string; message: string; position?: { line: number; column: number } };
}

async function query(body: Record<string, unknown>, opts: Parameters<RunningApi['post']>[2] = {}): Promise<{ status: number; body: Page; headers: Headers }> {
  const res = await api.post('/v1/query', body, opts);
  return { status: res.status, body: (await res.json()) as Page, headers: res.headers };
}

beforeAll(async () => {
  const test = await createTestSchema('qapi_query');
  schema = test.schema;
  cleanup = test.cleanup;
  await createEventsTable(schema);
  await insertEvents(schema, pipelineData(new Date()).events.slice(0, 20));
  api = await startApi({ TRINO_SCHEMA: schema });
});

afterAll(async () => {
  await api?.stop();
  await cleanup?.();
});

describe('POST /v1/query', () => {
  it('runs as the read-only Trino user and answers typed columns, with BIGINT exact', async () => {
    const res = await api.post('/v1/query', {
      sql: "SELECT current_user AS who, 9007199254740993 AS big, CAST(1.5 AS decimal(10,2)) AS d, TIMESTAMP '2026-01-31 12:00:00.123456 UTC' AS ts, ARRAY['a'] AS arr",
    });
    expect(res.status).toBe(200);
    // Checked on the raw text: JSON.parse in this test would round the BIGINT itself.
    const text = await res.text();
    expect(text).toContain('"rows":[["pipeline_readonly",9007199254740993,"1.50","2026-01-31 12:00:00.123456 UTC",["a"]]]');
    const body = JSON.parse(text) as Page;
    expect(body.columns).toEqual([
      { name: 'who', type: 'varchar', rawType: 'varchar' },
      { name: 'big', type: 'bigint', rawType: 'bigint' },
      { name: 'd', type: 'decimal(10, 2)', rawType: 'decimal' },
      { name: 'ts', type: 'timestamp(6) with time zone', rawType: 'timestamp with time zone' },
      { name: 'arr', type: 'array(varchar(1))', rawType: 'array' },
    ]);
    expect(body.queryId).toMatch(/^\d{8}_\d{6}_\d{5}_\w+$/);
  });

  it('reads the lake through unqualified names in the default schema, and SHOW / DESCRIBE / EXPLAIN', async () => {
    expect((await query({ sql: 'SELECT count(*) FROM events' })).body.rows).toEqual([[20]]);
    expect((await query({ sql: 'SHOW TABLES' })).body.rows).toEqual([['events']]);
    expect((await query({ sql: 'DESCRIBE events' })).body.rows.map((r) => r[0])).toContain('occurred_at');
    expect((await query({ sql: 'EXPLAIN SELECT count(*) FROM events' })).status).toBe(200);
  });

  it('pages a JSON result with a cursor', async () => {
    const first = await query({ sql: 'SELECT event_id FROM events ORDER BY event_id', pageSize: 8 });
    expect([first.body.rows.length, first.body.totalRows]).toEqual([8, 20]);
    const seen = [...first.body.rows];
    let cursor = first.body.nextCursor;
    while (cursor) {
      const res = await api.get(`/v1/results/${cursor}?pageSize=8`, { token: api.tokens.sql });
      const page = (await res.json()) as Page;
      expect(page.columns).toEqual(first.body.columns);
      seen.push(...page.rows);
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((r) => r[0])).size).toBe(20);
  });

  it('streams NDJSON: a header with typed columns, one array per row, an end line', async () => {
    const res = await api.post('/v1/query?format=ndjson', { sql: 'SELECT x, CAST(x AS varchar) AS s FROM UNNEST(sequence(1, 2500)) AS t(x)' });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as unknown);
    expect(lines[0]).toMatchObject({ columns: [{ name: 'x', type: 'bigint' }, { name: 's', type: 'varchar' }] });
    expect(lines.slice(1, -1)).toHaveLength(2500);
    expect(lines[2500]).toEqual([2500, '2500']);
    expect(lines.at(-1)).toMatchObject({ end: { truncated: false, stats: { rows: 2500 } } });
  });

  it('streams CSV with a header row and the column types in X-Query-Columns', async () => {
    const res = await api.post('/v1/query', { sql: "SELECT 1 AS n, 'a,\"b\"' AS s, NULL AS z" }, { headers: { accept: 'text/csv' } });
    expect(res.headers.get('content-type')).toContain('text/csv');
    expect(JSON.parse(res.headers.get('x-query-columns') ?? '[]')).toEqual([
      { name: 'n', type: 'integer', rawType: 'integer' },
      { name: 's', type: 'varchar(5)', rawType: 'varchar' },
      { name: 'z', type: 'unknown', rawType: 'unknown' },
    ]);
    expect(await res.text()).toBe('n,s,z\r\n1,"a,""b""",\r\n');
  });

  it('cuts the result at maxRows and says so', async () => {
    const { body } = await query({ sql: 'SELECT * FROM TABLE(sequence(start => 1, stop => 10000000))', maxRows: 5 });
    expect([body.rows.length, body.truncated]).toEqual([5, true]);
  });

  it("answers Trino's syntax and semantic errors with 400, its message and its position", async () => {
    const syntax = await query({ sql: "SELECT X'ZZ'" });
    expect(syntax.status).toBe(400);
    expect(syntax.body.error).toMatchObject({ code: 'syntax_error', message: expect.stringContaining('Binary literal can only contain hexadecimal digits'), position: { line: 1, column: 8 } });
    const semantic = await query({ sql: 'SELECT nope\nFROM events' });
    expect(semantic.status).toBe(400);
    expect(semantic.body.error).toMatchObject({ code: 'query_error', message: expect.stringContaining("Column 'nope' cannot be resolved"), position: { line: 1, column: 8 } });
    const missing = await query({ sql: 'SELECT * FROM no_such_table' });
    expect([missing.status, missing.body.error?.code]).toEqual([400, 'query_error']);
    expect(JSON.stringify(missing.body)).not.toMatch(/io\.trino|\.java/);
  });

  it('answers 403 when Trino itself denies access to the read-only user', async () => {
    const res = await query({ sql: 'SELECT count(*) FROM tpch.tiny.nation' });
    expect([res.status, res.body.error?.code]).toEqual([403, 'access_denied']);
  });

  it('reuses a result within the age asked, and runs again when bypassed', async () => {
    const sql = `SELECT count(*) AS n, '${marker()}' AS m FROM events`;
    const first = await query({ sql, cache: { maxAgeSeconds: 600 } });
    const second = await query({ sql, cache: { maxAgeSeconds: 600 } });
    expect([first.body.cache.status, second.body.cache.status]).toEqual(['miss', 'hit']);
    expect(second.headers.get('x-cache')).toBe('hit');
    expect(second.body.queryId).toBe(first.body.queryId);
    const bypassed = await query({ sql }, { headers: { 'cache-control': 'no-cache' } });
    expect(bypassed.body.cache.status).toBe('bypass');
    expect(bypassed.body.queryId).not.toBe(first.body.queryId);
    const noReuse = await query({ sql, cache: { maxAgeSeconds: 0 } });
    expect(noReuse.body.cache.status).toBe('miss');
  });

  it('cancels the query in Trino when the time limit passes, and answers 504', async () => {
    const m = marker();
    const started = Date.now();
    const res = await query({ sql: SLOW(m), timeoutMs: 1_500 });
    expect([res.status, res.body.error?.code]).toEqual([504, 'timeout']);
    expect(Date.now() - started).toBeLessThan(10_000);
    const state = await waitFor(async () => {
      const s = await trinoQueryState(m);
      return s && s.state !== 'RUNNING' && s.state !== 'QUEUED' ? s : undefined;
    }, { timeoutMs: 20_000, what: 'the query to stop in Trino' });
    expect(state).toEqual({ state: 'FAILED', errorCode: 'USER_CANCELED' });
  });

  it('cancels the query in Trino when the client disconnects', async () => {
    const m = marker();
    const controller = new AbortController();
    const pending = api.post('/v1/query', { sql: SLOW(m), timeoutMs: 60_000 }, { signal: controller.signal }).catch((err: unknown) => err);
    await waitFor(async () => (await trinoQueryState(m))?.state === 'RUNNING', { timeoutMs: 20_000, what: 'the query to run' });
    controller.abort();
    await pending;
    const state = await waitFor(async () => {
      const s = await trinoQueryState(m);
      return s && s.state !== 'RUNNING' ? s : undefined;
    }, { timeoutMs: 20_000, what: 'the query to be cancelled' });
    expect(state).toEqual({ state: 'FAILED', errorCode: 'USER_CANCELED' });
  });

  it('cancels a query that reads more than maxScanBytes and answers 422', async () => {
    const m = marker();
    // Reads a column (count(*) alone needs no column data), then spins long enough to be caught.
    const res = await query({
      sql: `SELECT max(length(e.event_id) + a.x + b.y) /* ${m} */ FROM events AS e CROSS JOIN UNNEST(sequence(1, 10000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 10000)) AS b(y)`,
      maxScanBytes: 16,
      timeoutMs: 20_000,
    });
    expect([res.status, res.body.error?.code]).toEqual([422, 'scan_limit_exceeded']);
    await waitFor(async () => (await trinoQueryState(m))?.state === 'FAILED', { timeoutMs: 20_000, what: 'the query to stop' });
  });

  it('writes one audit record per query: token, SQL hash, duration, rows, bytes, status', async () => {
    const sql = `SELECT event_id FROM events WHERE event_type = 'page_view' /* ${marker()} */`;
    await query({ sql }, { token: api.tokens.sql });
    await query({ sql: 'DELETE FROM events' }, { token: api.tokens.sql });
    await waitFor(() => readFileSync(api.auditPath, 'utf8').includes('sql_rejected'), { what: 'the audit file' });
    const records = readFileSync(api.auditPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r['token'] === 'it-sql');
    expect(records).toEqual([
      expect.objectContaining({ kind: 'adhoc', status: 'ok', rows: expect.any(Number), scannedBytes: expect.any(Number), durationMs: expect.any(Number), cache: 'miss', trinoQueryId: expect.any(String), sqlHash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      expect.objectContaining({ status: 'sql_rejected', rows: 0 }),
    ]);
    expect(records[0]?.['scannedBytes']).toBeGreaterThan(0);
    expect(JSON.stringify(records)).not.toContain('page_view');
  });

  it('answers 503 when Trino is down', async () => {
    const down = await startApi({ TRINO_SCHEMA: schema, TRINO_URL: 'http://127.0.0.1:9' });
    try {
      const res = await down.post('/v1/query', { sql: 'SELECT 1' });
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: { code: 'trino_unavailable', message: 'Trino is unavailable; try again later' } });
    } finally {
      await down.stop();
    }
  });

  it('keeps the pipeline user able to write (the read-only rules only bind the API user)', async () => {
    await adminSql(`INSERT INTO lake.${schema}.events (event_id, event_type, occurred_at, received_at) VALUES ('extra', 'x', current_timestamp, current_timestamp)`);
    const { body } = await query({ sql: "SELECT count(*) FROM events WHERE event_id = 'extra'", cache: { bypass: true } });
    expect(body.rows).toEqual([[1]]);
  });
});
