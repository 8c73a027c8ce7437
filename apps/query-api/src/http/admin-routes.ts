import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../audit/audit-log';
import type { ResultStore } from '../query/result-store';
import type { RouteTable } from './routes';
import { errorResponses } from './schemas';

export function registerAdminRoutes(app: FastifyInstance, routes: RouteTable, deps: { audit: AuditLog; store: ResultStore }): void {
  routes.add(
    app,
    {
      method: 'GET',
      url: '/v1/audit',
      access: 'admin',
      tag: 'admin',
      summary: 'Most recent audit records of this instance',
      querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } },
      responses: {
        '200': {
          description: 'Newest last: token, kind, saved query, SQL hash, status, duration, rows, scanned bytes, cache use',
          content: { 'application/json': { schema: { type: 'object', properties: { records: { type: 'array', items: { type: 'object' } } } } } },
        },
        ...errorResponses,
      },
    },
    async (request) => ({ records: deps.audit.recent((request.query as { limit: number }).limit) }),
  );

  routes.add(
    app,
    {
      method: 'DELETE',
      url: '/v1/cache',
      access: 'admin',
      tag: 'admin',
      summary: 'Drop every stored result of this instance (cache and cursors)',
      responses: { '200': { description: 'How many results were dropped', content: { 'application/json': { schema: { type: 'object', properties: { dropped: { type: 'integer' } } } } } }, ...errorResponses },
    },
    async () => ({ dropped: deps.store.clear() }),
  );
}
