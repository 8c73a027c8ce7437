import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import type { Component } from './lifecycle';
import type { Logger } from './logger';
import { registerOpsRoutes } from './ops-routes';
import type { Readiness } from './readiness';

/**
 * A Fastify app with `/healthz`, `/readyz` and `/metrics` already routed. Its logger is a child at
 * `warn`, so requests are not logged one by one; failed requests (5xx) still are.
 */
export function createHttpApp(
  deps: { readiness: Readiness; registry: Registry; log: Logger },
  options: Omit<FastifyServerOptions, 'logger' | 'loggerInstance'> = {},
): FastifyInstance {
  const loggerInstance = deps.log.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger;
  const app = Fastify({ ...options, loggerInstance }) as unknown as FastifyInstance;
  registerOpsRoutes(app, deps);
  return app;
}

/** The HTTP surface of a worker app that has no API of its own: health, readiness and metrics. */
export function createOpsServer(deps: { readiness: Readiness; registry: Registry; log: Logger }): FastifyInstance {
  return createHttpApp(deps);
}

/** A lifecycle component that listens on `host:port` and closes (draining requests) on stop. */
export function httpComponent(app: FastifyInstance, opts: { host: string; port: number }): Component {
  return {
    name: 'http',
    start: async () => {
      await app.listen({ host: opts.host, port: opts.port });
    },
    stop: async () => {
      await app.close();
    },
  };
}
