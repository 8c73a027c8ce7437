import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Component } from './lifecycle';
import type { Logger } from './logger';
import { registerOpsRoutes } from './ops-routes';
import type { Readiness } from './readiness';

/** The HTTP surface of a worker app that has no API of its own: health, readiness and metrics. */
export function createOpsServer(deps: { readiness: Readiness; registry: Registry; log: Logger }): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.log.child({ component: 'http' }) as FastifyBaseLogger, disableRequestLogging: true });
  registerOpsRoutes(app as unknown as FastifyInstance, deps);
  return app as unknown as FastifyInstance;
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
