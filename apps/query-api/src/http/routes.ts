import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Scope } from '../auth/tokens';

export type JsonSchema = Record<string, unknown>;

/** Who may call a route: a token with this scope (admin holds all), any valid token, or anyone. */
export type RouteAccess = Scope | 'any-token' | 'public';

export interface RouteSpec {
  method: Extract<HTTPMethods, 'GET' | 'POST' | 'DELETE'>;
  /** Fastify path, `:param` style. */
  url: string;
  access: RouteAccess;
  summary: string;
  description?: string;
  tag: string;
  params?: JsonSchema;
  querystring?: JsonSchema;
  body?: JsonSchema;
  /** OpenAPI responses by status. */
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  /** Left out of the OpenAPI document (static files). */
  hidden?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}

/**
 * Registers routes on Fastify with their JSON schemas (validated by Fastify) and keeps the same
 * specs for the OpenAPI document, so the document cannot drift from what the server accepts.
 */
export class RouteTable {
  readonly specs: RouteSpec[] = [];

  add(app: FastifyInstance, spec: RouteSpec, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>): void {
    this.specs.push(spec);
    app.route({
      method: spec.method,
      url: spec.url,
      config: { access: spec.access },
      schema: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.querystring ? { querystring: spec.querystring } : {}),
        ...(spec.body ? { body: spec.body } : {}),
      },
      handler,
    });
  }
}
