import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { Lifecycle, Readiness, createOpsServer, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import type { ProcessorConfig } from './config';

export interface ProcessorDeps {
  config: ProcessorConfig;
  log: Logger;
  registry: Registry;
  kafka: Kafka;
}

/** Builds the stream processor's lifecycle: Kafka admin connection, its probe, and the ops HTTP server. */
export function buildProcessorApp(deps: ProcessorDeps): { http: FastifyInstance; lifecycle: Lifecycle; readiness: Readiness } {
  const { config, log, registry, kafka } = deps;
  const readiness = new Readiness();
  const http = createOpsServer({ readiness, registry, log });
  const admin = kafka.admin();
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add({ name: 'kafka-admin', start: () => admin.connect(), stop: () => admin.disconnect() })
    .add(dependencyProbe({ name: 'kafka', readiness, log, check: async () => void (await admin.describeCluster()) }))
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness };
}
