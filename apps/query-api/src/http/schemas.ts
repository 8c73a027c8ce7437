import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/tokens';
import { ApiError } from './api-error';
import type { JsonSchema } from './routes';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The caller of a route that requires a token (set by the auth hook). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError('internal', 'route has no authenticated caller');
  return request.principal;
}

export const columnSchema: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    type: { type: 'string', description: "Trino's type, e.g. timestamp(6) with time zone" },
    rawType: { type: 'string', description: 'The type without parameters, e.g. timestamp with time zone' },
  },
};

export const errorSchema: JsonSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'One of a closed list: unauthorized, invalid_token, insufficient_scope, sql_rejected, syntax_error, query_error, access_denied, invalid_request, invalid_parameters, not_found, cursor_expired, body_too_large, scan_limit_exceeded, result_too_large, rate_limited, too_many_concurrent_queries, trino_unavailable, trino_error, timeout, not_acceptable, unsupported_media_type, headers_too_large, uri_too_long, expectation_failed, request_timeout, resource_limit_exceeded, client_closed, internal' },
        message: { type: 'string' },
        position: { type: 'object', description: 'Where in the statement (1-based), for SQL errors', properties: { line: { type: 'integer' }, column: { type: 'integer' } } },
        reason: { type: 'string', description: 'Why the SQL guard refused the statement' },
        parameters: { type: 'object', description: 'Problem of each invalid parameter', additionalProperties: { type: 'string' } },
        trino: { type: 'object', properties: { errorName: { type: 'string' }, errorType: { type: 'string' }, queryId: { type: 'string' } } },
      },
    },
  },
};

export const resultPageSchema: JsonSchema = {
  type: 'object',
  properties: {
    queryId: { type: 'string', description: 'Trino query id (of the original run, for a reused result)' },
    columns: { type: 'array', items: columnSchema },
    rows: { type: 'array', items: { type: 'array', items: {} }, description: "Values as Trino encodes them in JSON; BIGINTs are exact numbers" },
    offset: { type: 'integer' },
    rowCount: { type: 'integer' },
    totalRows: { type: 'integer' },
    nextCursor: { type: ['string', 'null'], description: 'GET /v1/results/{cursor} for the next page; null on the last page' },
    truncated: { type: 'boolean', description: 'True when maxRows cut the result' },
    stats: { type: 'object', properties: { elapsedMs: { type: 'integer' }, rows: { type: 'integer' }, scannedBytes: { type: 'integer' } } },
    cache: { type: 'object', properties: { status: { type: 'string', enum: ['hit', 'miss', 'bypass'] }, ageSeconds: { type: 'integer' } } },
  },
};

const errorContent = { 'application/json': { schema: errorSchema } };

export const errorResponses: Record<string, { description: string; content: Record<string, { schema: JsonSchema }> }> = {
  '400': { description: 'Invalid request, SQL refused by the guard, or a Trino syntax or semantic error (with its position)', content: errorContent },
  '401': { description: 'Missing or invalid token', content: errorContent },
  '403': { description: 'The token lacks the scope, or Trino denied access', content: errorContent },
  '413': { description: 'Request body too large', content: errorContent },
  '422': { description: 'Scanned-bytes or result-size limit exceeded', content: errorContent },
  '429': { description: 'Rate or concurrency limit of the token reached (see Retry-After)', content: errorContent },
  '503': { description: 'Trino is unavailable', content: errorContent },
  '504': { description: 'The query exceeded its time limit and was cancelled', content: errorContent },
};

export const resultResponses: Record<string, { description: string; content: Record<string, { schema: JsonSchema }> }> = {
  '200': {
    description: 'The result. JSON: one page and a cursor. NDJSON: a header line {queryId, columns, cache}, one JSON array per row, then {end: {truncated, stats}} or {error}. CSV: a header row, then the rows; column types in the X-Query-Columns header.',
    content: {
      'application/json': { schema: resultPageSchema },
      'application/x-ndjson': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
    },
  },
};
