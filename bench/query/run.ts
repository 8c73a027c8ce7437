/**
 * Query API benchmark: the same SQL through the query API and straight to Trino's HTTP endpoint,
 * interleaved in one run so both see the same Trino, cache and machine load; then the cached-result
 * latency, and the SQL guard's bypass count over the security corpus.
 *
 *   npm run bench:query            (builds the query API, needs the local stack: npm run stack -- up)
 *   BENCH_ITERATIONS=400 npm run bench:query
 *
 * Writes bench/results/query.json.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTrino, queryAll } from '@pipeline/lake';
import { freePort, stackSettings, startBuiltApp, type NodeProcess } from '@pipeline/testing';
import { configSchema as queryApiConfig } from '../../apps/query-api/src/config';
import { GUARD_ATTACKS } from '../../apps/query-api/src/sql/guard-corpus';
import { cleanupOnInterrupt, runBench, writeResult } from '../lib/results';

const ITERATIONS = Number(process.env['BENCH_ITERATIONS'] ?? 200);
const WARMUP = 15;
const settings = stackSettings();
/** The user and catalog the query API runs its queries as and in, so the direct path is the same query. */
const { TRINO_QUERY_USER, TRINO_QUERY_CATALOG } = queryApiConfig.pick({ TRINO_QUERY_USER: true, TRINO_QUERY_CATALOG: true }).parse(process.env);
const admin = createTrino(settings);
const sql = (statement: string) => queryAll(admin, statement);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[index] ?? Number.NaN) * 100) / 100;
}

/** A bare client of Trino's statement protocol: POST, then follow nextUri to the end, reading every row. */
async function direct(statement: string, schema: string): Promise<number> {
  const headers = { 'X-Trino-User': TRINO_QUERY_USER, 'X-Trino-Catalog': TRINO_QUERY_CATALOG, 'X-Trino-Schema': schema, 'X-Trino-Source': 'bench-direct' };
  let res = await fetch(`${settings.TRINO_URL}/v1/statement`, { method: 'POST', headers, body: statement });
  let rows = 0;
  for (;;) {
    const body = (await res.json()) as { nextUri?: string; data?: unknown[][]; error?: { message: string } };
    if (body.error) throw new Error(`Trino: ${body.error.message}`);
    rows += body.data?.length ?? 0;
    if (!body.nextUri) return rows;
    res = await fetch(body.nextUri, { headers });
  }
}

async function main(): Promise<number> {
  const schema = `bench_query_${randomBytes(4).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'bench-query-'));
  const token = `qapi_${randomBytes(32).toString('base64url')}`;
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256').update(token).digest('hex');

  console.log(`== seeding lake.${schema}.events`);
  await sql(`CREATE SCHEMA lake.${schema}`);
  let service: NodeProcess | undefined;
  const cleanup = cleanupOnInterrupt(async () => {
    await service?.stop('SIGTERM');
    await sql(`DROP TABLE IF EXISTS lake.${schema}.events`).catch(() => undefined);
    await sql(`DROP SCHEMA IF EXISTS lake.${schema}`).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await sql(`CREATE TABLE lake.${schema}.events (event_id varchar, event_type varchar, occurred_at timestamp(6) with time zone, received_at timestamp(6) with time zone, user_id varchar)
               WITH (partitioning = ARRAY['day(occurred_at)', 'event_type'])`);
    const types = ['page_view', 'click', 'purchase', 'app_open'];
    const values: string[] = [];
    for (let i = 0; i < 4000; i++) {
      const at = `current_timestamp - INTERVAL '${i * 15}' SECOND`;
      values.push(`('e${i}', '${types[i % types.length]}', ${at}, ${at}, 'user-${i % 97}')`);
    }
    await sql(`INSERT INTO lake.${schema}.events VALUES ${values.join(', ')}`);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    console.log('== starting the query API (dist/apps/query-api/main.cjs)');
    service = await startBuiltApp('query-api', {
      port,
      readyTimeoutMs: 30_000,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        TRINO_SCHEMA: schema,
        AUDIT_LOG: join(dir, 'audit.ndjson'),
        QUERY_API_TOKENS: JSON.stringify([{ name: 'bench', sha256: hash, scopes: ['admin'], ratePerMinute: 1_000_000, maxConcurrent: 16 }]),
      },
    });
    const api = async (statement: string, cache: Record<string, unknown>): Promise<number> => {
      const res = await fetch(`${base}/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: statement, cache, pageSize: 100_000 }),
      });
      const body = (await res.json()) as { rows?: unknown[]; error?: { message: string } };
      if (!res.ok) throw new Error(`query API ${res.status}: ${body.error?.message}`);
      return body.rows?.length ?? 0;
    };

    // A dashboard-shaped statement over the lake: partition-pruned scan, group, order.
    const statement = `SELECT event_type, count(*) AS events, count(DISTINCT user_id) AS users FROM events WHERE occurred_at >= current_timestamp - INTERVAL '6' HOUR GROUP BY 1 ORDER BY 1`;
    const time = async (fn: () => Promise<number>): Promise<number> => {
      const started = performance.now();
      const rows = await fn();
      if (rows !== 4) throw new Error(`expected 4 rows, got ${rows}`);
      return performance.now() - started;
    };

    console.log(`== warm-up (${WARMUP} each)`);
    for (let i = 0; i < WARMUP; i++) {
      await time(() => direct(statement, schema));
      await time(() => api(statement, { bypass: true }));
    }

    console.log(`== ${ITERATIONS} iterations, query API (cache bypassed) and direct Trino interleaved`);
    const viaApi: number[] = [];
    const viaTrino: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      // Alternate who goes first, so neither always meets a warmer Trino.
      if (i % 2 === 0) {
        viaApi.push(await time(() => api(statement, { bypass: true })));
        viaTrino.push(await time(() => direct(statement, schema)));
      } else {
        viaTrino.push(await time(() => direct(statement, schema)));
        viaApi.push(await time(() => api(statement, { bypass: true })));
      }
    }

    console.log(`== ${ITERATIONS} cached answers`);
    await api(statement, { maxAgeSeconds: 3600 });
    const cached: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) cached.push(await time(() => api(statement, { maxAgeSeconds: 3600 })));

    console.log(`== ${GUARD_ATTACKS.length} guard bypass attempts`);
    const bypasses: string[] = [];
    for (const attack of GUARD_ATTACKS) {
      const res = await fetch(`${base}/v1/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: attack.sql }),
      });
      const body = (await res.json()) as { error?: { code: string } };
      const refused = res.status === 400 && (body.error?.code === 'sql_rejected' || body.error?.code === 'invalid_request');
      if (!refused) bypasses.push(attack.sql);
    }

    const metrics = {
      statement,
      iterations: ITERATIONS,
      query_api_p50_ms: percentile(viaApi, 50),
      query_api_p99_ms: percentile(viaApi, 99),
      direct_trino_p50_ms: percentile(viaTrino, 50),
      direct_trino_p99_ms: percentile(viaTrino, 99),
      cached_p50_ms: percentile(cached, 50),
      cached_p99_ms: percentile(cached, 99),
      guard_attacks: GUARD_ATTACKS.length,
      guard_bypasses: bypasses.length,
      ...(bypasses.length > 0 ? { guard_bypass_statements: bypasses } : {}),
    };
    const ratios = {
      p50_vs_direct_trino: Math.round((metrics.query_api_p50_ms / metrics.direct_trino_p50_ms) * 1000) / 1000,
      p99_vs_direct_trino: Math.round((metrics.query_api_p99_ms / metrics.direct_trino_p99_ms) * 1000) / 1000,
    };
    const targets = {
      p50_vs_direct_trino: { max: 1.1, ok: ratios.p50_vs_direct_trino <= 1.1 },
      cached_p50_ms: { max: 20, ok: metrics.cached_p50_ms <= 20 },
      guard_bypasses: { max: 0, ok: metrics.guard_bypasses === 0 },
    };
    const path = writeResult({
      name: 'query',
      metrics,
      ratios,
      targets,
      notes: [
        'Direct Trino: a bare fetch client of the statement protocol, same SQL, same read-only user, same schema; the query API runs it with the cache bypassed.',
        'Both paths are interleaved (alternating order) within one run against the same Trino.',
        'Cached: the same request answered from the result store (maxAgeSeconds 3600).',
        'Guard bypasses: statements of apps/query-api/src/sql/guard-corpus.ts that the API did not refuse with 400.',
      ],
    });
    console.log(JSON.stringify({ metrics, ratios, targets }, null, 2));
    console.log(`wrote ${path}`);
    return Object.values(targets).every((t) => t.ok) ? 0 : 1;
  } finally {
    await cleanup();
  }
}

runBench(main);
