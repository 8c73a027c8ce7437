import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildQueryApiApp, type QueryApiApp } from './app';
import { hashToken } from './auth/tokens';
import { readConfig } from './config';

const dir = mkdtempSync(join(tmpdir(), 'query-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function trinoAnswering(status: number, body: unknown): typeof fetch {
  return (async () => new Response(JSON.stringify(body), { status })) as typeof fetch;
}

const refused = (async () => {
  throw Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
}) as typeof fetch;

const TOKENS = { sql: 'qapi_unit_sql', saved: 'qapi_unit_saved', admin: 'qapi_unit_admin', slow: 'qapi_unit_slow' };

function build(fetchImpl: typeof fetch, env: Record<string, string> = {}): QueryApiApp & { registry: Registry } {
  const config = { ...readConfig({ AUDIT_LOG: join(dir, 'audit.ndjson'), HTTP_BODY_LIMIT_BYTES: '2048', ...env }), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
  const registry = new Registry();
  const tokens = [
    { name: 'sql-user', sha256: hashToken(TOKENS.sql), scopes: ['sql' as const] },
    { name: 'dashboard', sha256: hashToken(TOKENS.saved), scopes: ['saved' as const] },
    { name: 'ops', sha256: hashToken(TOKENS.admin), scopes: ['admin' as const] },
    { name: 'limited', sha256: hashToken(TOKENS.slow), scopes: ['sql' as const], ratePerMinute: 2 },
  ];
  return { ...buildQueryApiApp({ config, log: pino({ level: 'silent' }), registry, fetch: fetchImpl, tokens }), registry };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('query-api app', () => {
  it.each([
    ['ready', trinoAnswering(200, { starting: false }), 200],
    ['still starting', trinoAnswering(200, { starting: true }), 503],
    ['failing', trinoAnswering(500, {}), 503],
  ])('with Trino %s answers /readyz %#', async (_label, fetchImpl, status) => {
    const { http, lifecycle } = build(fetchImpl);
    await lifecycle.start();
    expect((await http.inject('/readyz')).statusCode).toBe(status);
    await lifecycle.stop();
  });

  describe('HTTP surface (Trino unreachable)', () => {
    let app: QueryApiApp & { registry: Registry };
    beforeAll(async () => {
      app = build(refused);
      await app.audit.start?.();
    });
    afterAll(() => app.audit.stop?.());

    it('answers 401 without a token and with a wrong one, with a Bearer challenge', async () => {
      const missing = await app.http.inject({ method: 'POST', url: '/v1/query', payload: { sql: 'SELECT 1' } });
      expect(missing.statusCode).toBe(401);
      expect(missing.headers['www-authenticate']).toBe('Bearer realm="query-api"');
      expect(missing.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
      const wrong = await app.http.inject({ method: 'POST', url: '/v1/query', headers: bearer('qapi_nope'), payload: { sql: 'SELECT 1' } });
      expect([wrong.statusCode, wrong.json().error.code]).toEqual([401, 'invalid_token']);
    });

    it('answers 403 when the token lacks the scope', async () => {
      const res = await app.http.inject({ method: 'POST', url: '/v1/query', headers: bearer(TOKENS.saved), payload: { sql: 'SELECT 1' } });
      expect([res.statusCode, res.json().error.code]).toEqual([403, 'insufficient_scope']);
      expect(res.headers['www-authenticate']).toContain('scope="sql"');
      const tables = await app.http.inject({ url: '/v1/tables', headers: bearer(TOKENS.saved) });
      expect(tables.statusCode).toBe(403);
      const audit = await app.http.inject({ url: '/v1/audit', headers: bearer(TOKENS.sql) });
      expect(audit.statusCode).toBe(403);
    });

    it('checks the token before reading an oversized body, and answers 413 to a caller with one', async () => {
      const payload = JSON.stringify({ sql: `SELECT '${'x'.repeat(5_000)}'` });
      const anonymous = await app.http.inject({ method: 'POST', url: '/v1/query', headers: { 'content-type': 'application/json' }, payload });
      expect(anonymous.statusCode).toBe(401);
      const res = await app.http.inject({ method: 'POST', url: '/v1/query', headers: { ...bearer(TOKENS.sql), 'content-type': 'application/json' }, payload });
      expect([res.statusCode, res.json().error.code]).toEqual([413, 'body_too_large']);
    });

    // Regression (fuzzing): Fastify answered these as {"error":"Bad Request","code":"FST_ERR_BAD_URL",...}.
    it('answers a malformed URL escape with 400 invalid_request in the API error shape', async () => {
      const res = await app.http.inject({ method: 'POST', url: '/v1/queries/%zz/run', headers: bearer(TOKENS.saved), payload: {} });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'invalid_request', message: 'the request URL is malformed' } });
    });

    it('answers 400 to unknown body fields and wrong types instead of ignoring them', async () => {
      const extra = await app.http.inject({ method: 'POST', url: '/v1/query', headers: bearer(TOKENS.sql), payload: { sql: 'SELECT 1', maxrows: 5 } });
      expect([extra.statusCode, extra.json().error.code]).toEqual([400, 'invalid_request']);
      const wrongType = await app.http.inject({ method: 'POST', url: '/v1/query', headers: bearer(TOKENS.sql), payload: { sql: 'SELECT 1', maxRows: 'all' } });
      expect(wrongType.statusCode).toBe(400);
    });

    it('refuses a write with the guard reason and position, without calling Trino', async () => {
      const res = await app.http.inject({ method: 'POST', url: '/v1/query', headers: bearer(TOKENS.sql), payload: { sql: 'SELECT 1;\nDROP TABLE events' } });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: { code: 'sql_rejected', message: 'only one statement is allowed', position: { line: 1, column: 9 }, reason: 'multiple_statements' } });
      expect(app.audit.recent(1)[0]).toMatchObject({ token: 'sql-user', status: 'sql_rejected', sqlHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    });

    it('answers 503 when Trino is down, without a stack trace', async () => {
      const res = await app.http.inject({ method: 'POST', url: '/v1/query', headers: bearer(TOKENS.sql), payload: { sql: 'SELECT 1' } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: { code: 'trino_unavailable', message: 'Trino is unavailable; try again later' } });
    });

    it('answers 400 with every problem to invalid saved-query parameters, and 404 to an unknown query', async () => {
      const bad = await app.http.inject({ method: 'POST', url: '/v1/queries/events_per_minute/run', headers: bearer(TOKENS.saved), payload: { parameters: { from: 'now', bucket: 'week' } } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toMatchObject({ code: 'invalid_parameters', parameters: { from: expect.any(String), to: 'is required', bucket: expect.any(String) } });
      const unknown = await app.http.inject({ method: 'POST', url: '/v1/queries/nope/run', headers: bearer(TOKENS.saved), payload: {} });
      expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, 'not_found']);
    });

    it('lists saved queries with typed parameters to a saved-scope token', async () => {
      const res = await app.http.inject({ url: '/v1/queries', headers: bearer(TOKENS.saved) });
      expect(res.statusCode).toBe(200);
      const sessions = (res.json() as { queries: Array<{ name: string; parameters: Array<{ name: string; type: string }> }> }).queries.find((q) => q.name === 'sessions');
      expect(sessions?.parameters.map((p) => [p.name, p.type])).toEqual([
        ['from', 'timestamp'],
        ['to', 'timestamp'],
        ['bucket', 'string'],
        ['gap_minutes', 'integer'],
      ]);
    });

    it('rate-limits each token and says when to come back', async () => {
      const ask = () => app.http.inject({ url: '/v1/results/x', headers: bearer(TOKENS.slow) });
      expect((await ask()).statusCode).toBe(404);
      expect((await ask()).statusCode).toBe(404);
      const limited = await ask();
      expect([limited.statusCode, limited.json().error.code]).toEqual([429, 'rate_limited']);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('answers 410 for an expired or unknown result and 404 for a forged cursor', async () => {
      const expired = await app.http.inject({ url: `/v1/results/${Buffer.from('AAAAAAAAAAAAAAAAAAAAAA.0').toString('base64url')}`, headers: bearer(TOKENS.sql) });
      expect([expired.statusCode, expired.json().error.code]).toEqual([410, 'cursor_expired']);
      const forged = await app.http.inject({ url: '/v1/results/nonsense', headers: bearer(TOKENS.sql) });
      expect(forged.statusCode).toBe(404);
    });

    it('answers JSON 404 for unknown routes', async () => {
      const res = await app.http.inject('/v2/nothing');
      expect([res.statusCode, res.json().error.code]).toEqual([404, 'not_found']);
    });

    it('serves an OpenAPI 3.1 document describing every API route, with its scope', async () => {
      const res = await app.http.inject('/openapi.json');
      expect(res.statusCode).toBe(200);
      const doc = res.json() as { openapi: string; paths: Record<string, Record<string, { 'x-required-scope'?: string; responses: Record<string, unknown> }>> };
      expect(doc.openapi).toBe('3.1.0');
      const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
      expect(operations.sort()).toEqual(
        [
          'DELETE /v1/cache',
          'GET /',
          'GET /openapi.json',
          'GET /v1/audit',
          'GET /v1/queries',
          'GET /v1/queries/{name}',
          'GET /v1/results/{cursor}',
          'GET /v1/tables',
          'POST /v1/queries/{name}/run',
          'POST /v1/query',
        ].sort(),
      );
      expect(doc.paths['/v1/query']?.['post']?.['x-required-scope']).toBe('sql');
      expect(Object.keys(doc.paths['/v1/query']?.['post']?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '403', '413', '429', '503', '504']));
      // Every route Fastify serves under /v1 is in the document.
      const served = app.http.printRoutes({ commonPrefix: false });
      for (const op of operations.filter((o) => o.includes('/v1/'))) expect(served).toContain(String(op.split(' ')[1]).replace(/\{(\w+)\}/g, ':$1').split('/').pop());
    });

    it('serves the dashboard and its charting library from this server, with a strict CSP', async () => {
      const page = await app.http.inject('/');
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.body).not.toMatch(/https?:\/\//);
      const uplot = await app.http.inject('/dashboard/vendor/uPlot.iife.min.js');
      expect(uplot.statusCode).toBe(200);
      expect(uplot.body).toContain('uPlot');
      const again = await app.http.inject({ url: '/dashboard/dashboard.js', headers: { 'if-none-match': (await app.http.inject('/dashboard/dashboard.js')).headers['etag'] as string } });
      expect(again.statusCode).toBe(304);
    });

    it('exposes pipeline_query_api_* metrics for auth failures, guard refusals and queries', async () => {
      const metrics = await app.registry.metrics();
      expect(metrics).toMatch(/pipeline_query_api_auth_failures_total\{reason="unauthorized"\} [1-9]/);
      expect(metrics).toMatch(/pipeline_query_api_guard_rejections_total\{reason="multiple_statements"\} 1/);
      expect(metrics).toMatch(/pipeline_query_api_queries_total\{kind="adhoc",status="trino_unavailable",cache="miss"\} [1-9]/);
      expect(metrics).toMatch(/pipeline_query_api_limited_requests_total\{limit="rate"\} 1/);
    });
  });

  it('refuses to build with a bad token list', () => {
    expect(() => buildQueryApiApp({ config: readConfig({ QUERY_API_TOKENS: '[{"name":"x"}]' }), log: pino({ level: 'silent' }), registry: new Registry(), fetch: refused })).toThrow(
      /QUERY_API_TOKENS: 0\.sha256/,
    );
  });
});
