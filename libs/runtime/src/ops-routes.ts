import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness';

/**
 * Adds `/healthz` (cheap, calls nothing), `/readyz` (connected and not shutting down) and
 * `/metrics` (Prometheus text) to a Fastify app.
 */
export function registerOpsRoutes(app: FastifyInstance, deps: { readiness: Readiness; registry: Registry }): void {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    const report = deps.readiness.report();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    const body = await deps.registry.metrics();
    return reply.header('content-type', deps.registry.contentType).send(body);
  });
}
