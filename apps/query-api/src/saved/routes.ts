import type { FastifyInstance } from 'fastify';
import type { QueryApiConfig } from '../config';
import { ApiError } from '../http/api-error';
import type { RouteTable } from '../http/routes';
import { errorResponses, principalOf, resultResponses } from '../http/schemas';
import type { QueryService } from '../query/query-service';
import { answerQuery, clientGone } from '../query/respond';
import { resolveRunOptions, runOptionsSchema, type RunOptions } from '../query/routes';
import { describeSavedQuery, renderSavedQuery, type SavedQuery } from './saved-queries';

const parameterListSchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      type: { type: 'string', enum: ['string', 'integer', 'number', 'boolean', 'timestamp', 'date'] },
      description: { type: 'string' },
      required: { type: 'boolean' },
      default: {},
      enum: { type: 'array', items: { type: 'string' } },
      pattern: { type: 'string' },
      minimum: { type: 'number' },
      maximum: { type: 'number' },
      maxLength: { type: 'integer' },
    },
  },
};

const savedQuerySchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    sql: { type: 'string', description: 'The statement, with :name placeholders' },
    parameters: parameterListSchema,
    cacheMaxAgeSeconds: { type: 'integer' },
    maxRows: { type: 'integer' },
    dashboard: { type: 'object', description: 'How the dashboard charts it (title, chart, x, y, series, unit, order)' },
  },
};

export function registerSavedQueryRoutes(
  app: FastifyInstance,
  routes: RouteTable,
  deps: { config: QueryApiConfig; service: QueryService; queries: Map<string, SavedQuery> },
): void {
  const { config, service, queries } = deps;
  const find = (name: string): SavedQuery => {
    const query = queries.get(name);
    if (!query) throw new ApiError('not_found', `no saved query named ${name}`);
    return query;
  };
  const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' } } };

  routes.add(
    app,
    {
      method: 'GET',
      url: '/v1/queries',
      access: 'saved',
      tag: 'saved queries',
      summary: 'List the saved queries',
      responses: {
        '200': { description: 'Every saved query with its typed parameters', content: { 'application/json': { schema: { type: 'object', properties: { queries: { type: 'array', items: savedQuerySchema } } } } } },
        ...errorResponses,
      },
    },
    async () => ({ queries: [...queries.values()].map(describeSavedQuery) }),
  );

  routes.add(
    app,
    {
      method: 'GET',
      url: '/v1/queries/:name',
      access: 'saved',
      tag: 'saved queries',
      summary: 'One saved query',
      params: nameParam,
      responses: { '200': { description: 'The saved query', content: { 'application/json': { schema: savedQuerySchema } } }, ...errorResponses },
    },
    async (request) => describeSavedQuery(find((request.params as { name: string }).name)),
  );

  routes.add(
    app,
    {
      method: 'POST',
      url: '/v1/queries/:name/run',
      access: 'saved',
      tag: 'saved queries',
      summary: 'Run a saved query with typed parameters',
      description: 'Parameters are validated against their declared types and ranges and rendered as typed SQL literals. Same formats, limits and result reuse as POST /v1/query.',
      params: nameParam,
      querystring: { type: 'object', properties: { format: { type: 'string', enum: ['json', 'ndjson', 'csv'] } } },
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          parameters: { type: 'object', description: 'Values by parameter name', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } },
          ...runOptionsSchema(config),
        },
      },
      responses: { ...resultResponses, ...errorResponses },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const query = find((request.params as { name: string }).name);
      const body = (request.body ?? {}) as RunOptions & { parameters?: Record<string, unknown> };
      const { sql } = renderSavedQuery(query, body.parameters ?? {});
      const options = resolveRunOptions(config, body, request, { maxRows: query.maxRows, timeoutMs: query.timeoutMs, cacheMaxAgeSeconds: query.cacheMaxAgeSeconds });
      return answerQuery(
        service,
        {
          sql,
          kind: 'saved',
          savedQuery: query.name,
          principal,
          schema: config.TRINO_SCHEMA,
          maxRows: options.maxRows,
          timeoutMs: options.timeoutMs,
          maxScanBytes: options.maxScanBytes,
          cache: options.cache,
          signal: clientGone(reply),
        },
        options,
        reply,
      );
    },
  );
}
