import type { RouteSpec } from './routes';

const SECURITY_SCOPES: Record<string, string> = {
  sql: 'ad-hoc SQL and the catalog',
  saved: 'list and run saved queries',
  admin: 'everything, audit records and the cache included',
};

/** The OpenAPI 3.1 document of the routes, built from the specs Fastify validates with. */
export function buildOpenApi(specs: RouteSpec[], info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    if (spec.hidden) continue;
    const path = spec.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', spec.params],
      ['query', spec.querystring],
    ] as const) {
      const properties = (schema?.['properties'] ?? {}) as Record<string, Record<string, unknown>>;
      const required = new Set((schema?.['required'] ?? []) as string[]);
      for (const [name, property] of Object.entries(properties)) {
        const { description, ...rest } = property;
        parameters.push({ name, in: where, required: where === 'path' || required.has(name), schema: rest, ...(description ? { description } : {}) });
      }
    }
    const operations = (paths[path] ??= {});
    operations[spec.method.toLowerCase()] = {
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      tags: [spec.tag],
      operationId: `${spec.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)/g, (_m, c: string) => c.toUpperCase())}`,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
      responses: spec.responses,
      security: spec.access === 'public' ? [] : [{ bearer: spec.access === 'any-token' ? [] : [spec.access] }],
      ...(spec.access !== 'public' ? { 'x-required-scope': spec.access === 'any-token' ? 'any' : spec.access } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Event pipeline query API',
      version: info.version,
      description:
        'Read-only SQL and saved queries over the lake (Trino), for internal callers. Bearer tokens carry scopes: ' +
        Object.entries(SECURITY_SCOPES)
          .map(([scope, what]) => `${scope} (${what})`)
          .join(', ') +
        '.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API token from the token file; scopes: sql, saved, admin' } } },
    security: [{ bearer: [] }],
    paths,
  };
}
