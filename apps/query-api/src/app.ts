import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { Lifecycle, PipelineError, Readiness, createHttpApp, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import { createAuditLog, type AuditLog } from './audit/audit-log';
import { TokenLimits } from './auth/limits';
import { TokenStore, loadTokenDefinitions, requireScope, type TokenDefinition } from './auth/tokens';
import { Catalog } from './catalog/catalog';
import { registerCatalogRoutes } from './catalog/routes';
import type { QueryApiConfig } from './config';
import { registerDashboardRoutes } from './dashboard/routes';
import { registerAdminRoutes } from './http/admin-routes';
import { ApiError, toApiError } from './http/api-error';
import { buildOpenApi } from './http/openapi';
import { RouteTable } from './http/routes';
import { createQueryApiMetrics } from './metrics';
import { QueryService } from './query/query-service';
import { ResultStore } from './query/result-store';
import { registerQueryRoutes } from './query/routes';
import { defaultSavedQueriesDir, loadSavedQueries, type SavedQuery } from './saved/saved-queries';
import { registerSavedQueryRoutes } from './saved/routes';
import { createTrinoClient } from './trino/client';

/** Version of the HTTP API, in the OpenAPI document. */
export const API_VERSION = '1.0.0';

export interface QueryApiDeps {
  config: QueryApiConfig;
  log: Logger;
  registry: Registry;
  /** fetch, injectable for tests. */
  fetch: typeof fetch;
  /** Token definitions; read from QUERY_API_TOKENS_FILE and QUERY_API_TOKENS when not given. */
  tokens?: TokenDefinition[];
  /** Saved queries; read from SAVED_QUERIES_DIR (or the shipped ones) when not given. */
  savedQueries?: Map<string, SavedQuery>;
}

export interface QueryApiApp {
  http: FastifyInstance;
  lifecycle: Lifecycle;
  readiness: Readiness;
  audit: AuditLog;
  store: ResultStore;
}

/**
 * Builds the query API: routes, auth, Trino client, result store, audit log, and a lifecycle that
 * starts the audit log, the Trino probe and the HTTP server in that order. Reads the token and
 * saved-query files (a bad file throws here, before anything listens); connects to nothing.
 */
export function buildQueryApiApp(deps: QueryApiDeps): QueryApiApp {
  const { config, log, registry } = deps;
  const metrics = createQueryApiMetrics(registry);
  const tokens = new TokenStore(deps.tokens ?? loadTokenDefinitions({ file: config.QUERY_API_TOKENS_FILE, inline: config.QUERY_API_TOKENS }), {
    ratePerMinute: config.TOKEN_RATE_PER_MINUTE,
    maxConcurrent: config.TOKEN_MAX_CONCURRENT,
  });
  const savedQueries = deps.savedQueries ?? loadSavedQueries(config.SAVED_QUERIES_DIR ?? defaultSavedQueriesDir(), { maxSqlLength: config.QUERY_MAX_SQL_LENGTH });
  const trino = createTrinoClient(
    { url: config.TRINO_URL, user: config.TRINO_QUERY_USER, password: config.TRINO_PASSWORD, catalog: config.TRINO_QUERY_CATALOG, source: 'query-api' },
    deps.fetch,
  );
  const store = new ResultStore({
    maxBytes: config.RESULT_CACHE_MAX_BYTES,
    maxAgeMs: config.RESULT_CACHE_MAX_AGE_SECONDS * 1000,
    cursorTtlMs: config.RESULT_CURSOR_TTL_SECONDS * 1000,
  });
  const limits = new TokenLimits();
  const audit = createAuditLog({ target: config.AUDIT_LOG, log: log.child({ component: 'audit' }), onError: () => metrics.auditErrors.inc() });
  const service = new QueryService({ trino, catalog: config.TRINO_QUERY_CATALOG, store, limits, audit, metrics, maxResultBytes: config.QUERY_MAX_RESULT_BYTES });
  const catalog = new Catalog({ trino, catalog: config.TRINO_QUERY_CATALOG, cacheMs: config.CATALOG_CACHE_SECONDS * 1000 });

  const readiness = new Readiness();
  const http = createHttpApp(
    { readiness, registry, log, errorBody: ({ code, message }) => new ApiError(code === 'bad_request' ? 'invalid_request' : code, message).body() },
    // Unknown body fields are errors, not silently dropped (Fastify's default removes them).
    { bodyLimit: config.HTTP_BODY_LIMIT_BYTES, ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } } },
  );

  http.decorateRequest('principal', null);
  http.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.access;
    if (!access || access === 'public') return;
    try {
      const principal = tokens.authenticate(request.headers.authorization);
      if (access !== 'any-token') requireScope(principal, access);
      request.principal = principal;
    } catch (err) {
      metrics.authFailures.inc({ reason: err instanceof ApiError ? err.code : 'internal' });
      throw err;
    }
    try {
      limits.takeRequest(request.principal);
    } catch (err) {
      metrics.limited.inc({ limit: 'rate' });
      throw err;
    }
  });

  http.setErrorHandler(async (err, request, reply) => {
    const apiError = toApiError(err);
    if (apiError.code === 'too_many_concurrent_queries') metrics.limited.inc({ limit: 'concurrency' });
    // Client and dependency errors are counted, not logged one by one; a 500 is a bug worth a line.
    if (apiError.code === 'internal') log.error({ err, route: request.routeOptions.url }, 'request failed');
    for (const [name, value] of Object.entries(apiError.extra.headers ?? {})) reply.header(name, value);
    if (reply.sent || reply.raw.headersSent) return;
    return reply.code(apiError.status).type('application/json; charset=utf-8').send(apiError.body());
  });
  http.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send(new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`).body()),
  );

  const routes = new RouteTable();
  registerQueryRoutes(http, routes, { config, service, store, audit, metrics });
  registerSavedQueryRoutes(http, routes, { config, service, queries: savedQueries });
  registerCatalogRoutes(http, routes, { config, catalog });
  registerAdminRoutes(http, routes, { audit, store });
  registerDashboardRoutes(http, routes);
  let openApi: Record<string, unknown> | undefined;
  routes.add(
    http,
    {
      method: 'GET',
      url: '/openapi.json',
      access: 'public',
      tag: 'meta',
      summary: 'This OpenAPI document',
      responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    },
    async () => (openApi ??= buildOpenApi(routes.specs, { version: API_VERSION })),
  );

  if (tokens.size === 0) log.warn('no API tokens configured (QUERY_API_TOKENS_FILE, QUERY_API_TOKENS): every API call will be refused');

  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add(audit)
    .add(
      dependencyProbe({
        name: 'trino',
        readiness,
        log,
        check: async (signal) => {
          const res = await deps.fetch(new URL('/v1/info', config.TRINO_URL), { signal });
          const info = (await res.json()) as { starting?: boolean };
          if (!res.ok || info.starting !== false) throw new PipelineError('dependency_unavailable', `Trino answered ${res.status}, starting=${String(info.starting)}`);
        },
      }),
    )
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness, audit, store };
}
