import type { FastifyInstance } from 'fastify';
import { Partitioners, type Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { Lifecycle, Readiness, createHttpApp, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import type { ProducerConfig } from './config';

export interface ProducerDeps {
  config: ProducerConfig;
  log: Logger;
  registry: Registry;
  kafka: Kafka;
}

/** Builds the collector: its HTTP app and the ordered lifecycle (Kafka producer, probe, HTTP). Connects nothing itself. */
export function buildProducerApp(deps: ProducerDeps): { http: FastifyInstance; lifecycle: Lifecycle; readiness: Readiness } {
  const { config, log, registry, kafka } = deps;
  const readiness = new Readiness();
  const http = createHttpApp({ readiness, registry, log });

  // The idempotent producer must retry without limit, or kafkajs cannot keep its ordering guarantee.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 10_000 },
  });
  const admin = kafka.admin();
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add({ name: 'kafka-producer', start: () => producer.connect(), stop: () => producer.disconnect() })
    .add({ name: 'kafka-admin', start: () => admin.connect(), stop: () => admin.disconnect() })
    .add(dependencyProbe({ name: 'kafka', readiness, log, check: async () => void (await admin.describeCluster()) }))
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness };
}
