import type { FastifyInstance } from 'fastify';
import type { QueryApiConfig } from '../config';
import type { RouteTable } from '../http/routes';
import { columnSchema, errorResponses } from '../http/schemas';
import type { Catalog } from './catalog';

const tableSchema = {
  type: 'object',
  properties: {
    catalog: { type: 'string' },
    schema: { type: 'string' },
    name: { type: 'string' },
    kind: { type: 'string', enum: ['table', 'view'] },
    columns: { type: 'array', items: { ...columnSchema, properties: { name: { type: 'string' }, type: { type: 'string' }, nullable: { type: 'boolean' } } } },
    partitionFields: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } } },
    partitions: {
      type: 'object',
      properties: {
        count: { type: 'integer' },
        records: { type: 'integer' },
        files: { type: 'integer' },
        bytes: { type: 'integer' },
        latest: { type: 'array', items: { type: 'object', properties: { values: { type: 'object' }, records: { type: 'integer' }, files: { type: 'integer' }, bytes: { type: 'integer' } } } },
      },
    },
    snapshot: { type: ['object', 'null'], properties: { id: { type: 'string' }, committedAt: { type: 'string' }, operation: { type: 'string' } } },
    schemaVersions: { type: 'array', items: { type: 'object', properties: { schemaId: { type: 'integer' }, since: { type: 'string' } } } },
    snapshotSchemaId: { type: ['integer', 'null'] },
    error: { type: 'string' },
  },
};

export function registerCatalogRoutes(app: FastifyInstance, routes: RouteTable, deps: { config: QueryApiConfig; catalog: Catalog }): void {
  routes.add(
    app,
    {
      method: 'GET',
      url: '/v1/tables',
      access: 'sql',
      tag: 'catalog',
      summary: 'Tables with columns, partitions, latest snapshot and schema versions',
      querystring: {
        type: 'object',
        properties: {
          schema: { type: 'string', pattern: '^[A-Za-z0-9_]{1,128}$', description: `One schema (default: ${deps.config.CATALOG_SCHEMAS.join(', ')})` },
          partitions: { type: 'integer', minimum: 0, maximum: 1000, default: 20, description: 'Most recent partitions listed per table' },
        },
      },
      responses: {
        '200': { description: 'The tables', content: { 'application/json': { schema: { type: 'object', properties: { tables: { type: 'array', items: tableSchema } } } } } },
        ...errorResponses,
      },
    },
    async (request) => {
      const { schema, partitions } = request.query as { schema?: string; partitions: number };
      const schemas = schema ? [schema] : deps.config.CATALOG_SCHEMAS;
      const tables = (await Promise.all(schemas.map((s) => deps.catalog.tables(s, { partitions })))).flat();
      return { tables };
    },
  );
}
