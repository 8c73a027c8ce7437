import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit/audit-log';
import type { Principal } from '../auth/tokens';
import type { QueryApiConfig } from '../config';
import { ApiError } from '../http/api-error';
import { errorResponses, principalOf, resultResponses } from '../http/schemas';
import type { JsonSchema, RouteTable } from '../http/routes';
import type { QueryApiMetrics } from '../metrics';
import { guardSql } from '../sql/guard';
import { sqlHash, type QueryRequest, type QueryService } from './query-service';
import { answerQuery, cacheOptions, chooseFormat, clientGone, FORMAT_TYPES, pageBody, type CacheRequest } from './respond';
import { decodeCursor, type ResultStore } from './result-store';
import { stringifyJsonExact } from '../trino/json';

/** Request fields shared by ad-hoc and saved queries: limits, format and cache use. */
export function runOptionsSchema(config: QueryApiConfig): Record<string, JsonSchema> {
  return {
    maxRows: { type: 'integer', minimum: 1, maximum: config.QUERY_MAX_ROWS, description: `Rows to return at most; the query is cancelled past them (default ${config.QUERY_DEFAULT_MAX_ROWS}).` },
    timeoutMs: { type: 'integer', minimum: 100, maximum: config.QUERY_MAX_TIMEOUT_MS, description: `Time limit; the query is cancelled in Trino and answered 504 past it (default ${config.QUERY_DEFAULT_TIMEOUT_MS}).` },
    maxScanBytes: { type: 'integer', minimum: 1, maximum: config.QUERY_MAX_SCAN_BYTES, description: 'Bytes the query may read from storage; past them it is cancelled and answered 422.' },
    pageSize: { type: 'integer', minimum: 1, maximum: 100_000, description: `Rows per JSON page (default ${config.QUERY_PAGE_SIZE}).` },
    format: { type: 'string', enum: ['json', 'ndjson', 'csv'], description: 'Answer format; overrides the Accept header.' },
    cache: {
      type: 'object',
      additionalProperties: false,
      description: 'Result reuse: an identical query answered within maxAgeSeconds is served from memory; bypass runs it anyway.',
      properties: {
        maxAgeSeconds: { type: 'integer', minimum: 0, maximum: config.RESULT_CACHE_MAX_AGE_SECONDS },
        bypass: { type: 'boolean' },
      },
    },
  };
}

export interface RunOptions {
  maxRows?: number;
  timeoutMs?: number;
  maxScanBytes?: number;
  pageSize?: number;
  format?: 'json' | 'ndjson' | 'csv';
  cache?: CacheRequest;
}

/** Resolves a request's run options against the configured defaults (and the saved query's own). */
export function resolveRunOptions(
  config: QueryApiConfig,
  body: RunOptions,
  request: FastifyRequest,
  defaults: { maxRows?: number | undefined; timeoutMs?: number | undefined; cacheMaxAgeSeconds?: number | undefined } = {},
) {
  const headers = request.headers;
  return {
    format: chooseFormat(body.format ?? (request.query as { format?: string } | undefined)?.format, headers.accept),
    pageSize: body.pageSize ?? config.QUERY_PAGE_SIZE,
    maxRows: Math.min(body.maxRows ?? defaults.maxRows ?? config.QUERY_DEFAULT_MAX_ROWS, config.QUERY_MAX_ROWS),
    timeoutMs: Math.min(body.timeoutMs ?? defaults.timeoutMs ?? config.QUERY_DEFAULT_TIMEOUT_MS, config.QUERY_MAX_TIMEOUT_MS),
    maxScanBytes: body.maxScanBytes ?? config.QUERY_MAX_SCAN_BYTES,
    cache: cacheOptions(body.cache, headers['cache-control'], {
      maxAgeSeconds: defaults.cacheMaxAgeSeconds ?? config.RESULT_CACHE_DEFAULT_MAX_AGE_SECONDS,
      capSeconds: config.RESULT_CACHE_MAX_AGE_SECONDS,
    }),
  };
}

export function registerQueryRoutes(
  app: FastifyInstance,
  routes: RouteTable,
  deps: { config: QueryApiConfig; service: QueryService; store: ResultStore; audit: AuditLog; metrics: QueryApiMetrics },
): void {
  const { config, service, store, audit, metrics } = deps;

  routes.add(
    app,
    {
      method: 'POST',
      url: '/v1/query',
      access: 'sql',
      tag: 'queries',
      summary: 'Run one read-only SQL statement',
      description:
        'One SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement, checked by a parser-based guard and run as a read-only Trino user. ' +
        'JSON answers are paged (follow nextCursor with GET /v1/results/{cursor}); NDJSON and CSV stream every row. ' +
        'The query is cancelled in Trino when the client disconnects or a limit is reached.',
      querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'ndjson', 'csv'] } } },
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['sql'],
        properties: {
          sql: { type: 'string', minLength: 1, maxLength: config.QUERY_MAX_SQL_LENGTH, description: 'The statement; a trailing semicolon is allowed.' },
          schema: { type: 'string', pattern: '^[A-Za-z0-9_]{1,128}$', description: `Schema for unqualified table names (default ${config.TRINO_SCHEMA}).` },
          ...runOptionsSchema(config),
        },
      },
      responses: { ...resultResponses, ...errorResponses },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body as RunOptions & { sql: string; schema?: string };
      const options = resolveRunOptions(config, body, request);
      const guarded = guardSql(body.sql, { maxLength: config.QUERY_MAX_SQL_LENGTH });
      if (!guarded.ok) {
        metrics.guardRejections.inc({ reason: guarded.reason });
        metrics.queries.inc({ kind: 'adhoc', status: 'sql_rejected', cache: 'bypass' });
        audit.write(rejectedRecord(principal, body.sql));
        throw new ApiError('sql_rejected', guarded.message, { ...(guarded.position ? { position: guarded.position } : {}), details: { reason: guarded.reason } });
      }
      const query: QueryRequest = {
        sql: guarded.sql,
        kind: 'adhoc',
        principal,
        schema: body.schema ?? config.TRINO_SCHEMA,
        maxRows: options.maxRows,
        timeoutMs: options.timeoutMs,
        maxScanBytes: options.maxScanBytes,
        cache: options.cache,
        signal: clientGone(reply),
      };
      return answerQuery(service, query, options, reply);
    },
  );

  routes.add(
    app,
    {
      method: 'GET',
      url: '/v1/results/:cursor',
      access: 'any-token',
      tag: 'queries',
      summary: 'Next page of a JSON result',
      description: `Pages stay available for ${config.RESULT_CURSOR_TTL_SECONDS} s after the answer that handed out the cursor; later the cursor answers 410.`,
      params: { type: 'object', required: ['cursor'], properties: { cursor: { type: 'string', maxLength: 200 } } },
      querystring: { type: 'object', properties: { pageSize: { type: 'integer', minimum: 1, maximum: 100_000 } } },
      responses: { ...resultResponses, ...errorResponses },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { cursor } = request.params as { cursor: string };
      const pageSize = (request.query as { pageSize?: number }).pageSize ?? config.QUERY_PAGE_SIZE;
      const decoded = decodeCursor(cursor);
      if (!decoded) throw new ApiError('not_found', 'not a cursor of this API');
      const result = store.forCursor(decoded.resultId);
      if (!result) throw new ApiError('cursor_expired', 'the result behind this cursor has expired; run the query again');
      if (decoded.offset > result.rows.length) throw new ApiError('not_found', 'not a cursor of this API');
      return reply.type(FORMAT_TYPES.json).send(stringifyJsonExact(pageBody(result, decoded.offset, pageSize, { status: 'hit', ageSeconds: 0 })));
    },
  );
}

function rejectedRecord(principal: Principal, sql: string) {
  return {
    time: new Date().toISOString(),
    token: principal.name,
    kind: 'adhoc' as const,
    sqlHash: sqlHash(sql),
    status: 'sql_rejected',
    durationMs: 0,
    rows: 0,
    scannedBytes: 0,
    cache: 'bypass' as const,
  };
}
