import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { NodeProcess, freePort } from '@pipeline/testing';
import { buildQueryApiApp, type QueryApiApp } from '../../src/app';
import { generateToken, hashToken, type Scope } from '../../src/auth/tokens';
import { readConfig, type QueryApiConfig } from '../../src/config';

export interface RunningApi {
  base: string;
  app: QueryApiApp;
  config: QueryApiConfig;
  registry: Registry;
  auditPath: string;
  tokens: Record<'sql' | 'saved' | 'admin', string>;
  /** POST JSON with a bearer token; returns the fetch Response. */
  post(path: string, body: unknown, opts?: { token?: string | null; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
  get(path: string, opts?: { token?: string | null }): Promise<Response>;
  stop(): Promise<void>;
}

/**
 * Starts the query API in this process on a free port, against the real Trino, with fresh tokens
 * for each scope and a private audit log.
 */
export async function startApi(env: Record<string, string> = {}): Promise<RunningApi> {
  const dir = mkdtempSync(join(tmpdir(), 'query-api-it-'));
  const auditPath = join(dir, 'audit.ndjson');
  const tokens = { sql: generateToken(), saved: generateToken(), admin: generateToken() };
  const scopes: Record<keyof typeof tokens, Scope> = { sql: 'sql', saved: 'saved', admin: 'admin' };
  const definitions = Object.entries(tokens).map(([name, token]) => ({ name: `it-${name}`, sha256: hashToken(token), scopes: [scopes[name as keyof typeof tokens]] }));
  const config = { ...readConfig({ ...process.env, AUDIT_LOG: auditPath, TOKEN_RATE_PER_MINUTE: '100000', TOKEN_MAX_CONCURRENT: '8', ...env }), HTTP_HOST: '127.0.0.1', HTTP_PORT: 0 };
  const registry = new Registry();
  const app = buildQueryApiApp({ config, log: pino({ level: 'error' }), registry, fetch, tokens: definitions });
  await app.lifecycle.start();
  const address = app.http.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const base = `http://127.0.0.1:${address.port}`;
  const auth = (token: string | null | undefined, fallback: string): Record<string, string> => (token === null ? {} : { authorization: `Bearer ${token ?? fallback}` });
  return {
    base,
    app,
    config,
    registry,
    auditPath,
    tokens,
    post: (path, body, opts = {}) =>
      fetch(base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth(opts.token, tokens.admin), ...opts.headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
        ...(opts.signal ? { signal: opts.signal } : {}),
      }),
    get: (path, opts = {}) => fetch(base + path, { headers: auth(opts.token, tokens.admin) }),
    stop: () => app.lifecycle.stop(),
  };
}

export interface SpawnedApi {
  base: string;
  process: NodeProcess;
  tokens: Record<'sql' | 'saved' | 'admin', string>;
  auditPath: string;
  stop(): Promise<void>;
}

/**
 * The built bundle (dist/apps/query-api/main.cjs) as its own process against the real Trino, with
 * fresh tokens for each scope and a private audit log, once it answers /readyz.
 */
export async function spawnApi(env: Record<string, string> = {}): Promise<SpawnedApi> {
  const dir = mkdtempSync(join(tmpdir(), 'query-api-it-'));
  const auditPath = join(dir, 'audit.ndjson');
  const tokens = { sql: generateToken(), saved: generateToken(), admin: generateToken() };
  const definitions = (Object.keys(tokens) as Array<keyof typeof tokens>).map((scope) => ({ name: `it-${scope}`, sha256: hashToken(tokens[scope]), scopes: [scope] }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = await NodeProcess.start({
    name: 'query-api',
    script: join(__dirname, '..', '..', '..', '..', 'dist', 'apps', 'query-api', 'main.cjs'),
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      AUDIT_LOG: auditPath,
      QUERY_API_TOKENS: JSON.stringify(definitions),
      TOKEN_RATE_PER_MINUTE: '1000000',
      ...env,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
    },
    ready: async () => (await fetch(`${base}/readyz`)).ok,
  });
  return { base, process: child, tokens, auditPath, stop: async () => void (await child.stop('SIGTERM', 30_000)) };
}
