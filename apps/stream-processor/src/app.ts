import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { Lifecycle, Readiness, createOpsServer, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import { createEnvelopeValidator, createPropertiesValidator } from '@pipeline/schemas';
import type { AggregatesConfig } from './aggregates/aggregates-config';
import type { ProcessorConfig } from './config';
import { createProcessorRunner } from './kafka/runner';
import { ensureProcessorTopics, processorTopics } from './kafka/topics';
import { createProcessorMetrics } from './metrics';
import { createSchemaRegistry } from './registry/schema-registry';
import { createUserAgentParser } from './steps/user-agent';
import { createRecordValidator } from './steps/validate';

export interface ProcessorDeps {
  config: ProcessorConfig;
  aggregates: AggregatesConfig;
  log: Logger;
  registry: Registry;
  kafka: Kafka;
  /** For the schema registry client (tests pass a fake). */
  fetch?: typeof fetch;
}

// The collector enforces its own (configurable) limits; the processor checks the contract's shape
// with limits wide enough to accept anything a collector may have accepted.
const PROCESSOR_ENVELOPE_LIMITS = {
  maxStringLength: 1024 * 1024,
  maxDepth: 64,
  maxKeys: 10_000,
  maxArrayLength: 100_000,
  maxFutureSkewMs: 24 * 3_600_000,
  maxAgeMs: 365 * 24 * 3_600_000,
};

/**
 * Builds the stream processor: topics, the consume-transform-produce runner, Kafka and registry
 * probes, and the ops HTTP server. Nothing connects until `lifecycle.start()`.
 */
export function buildProcessorApp(deps: ProcessorDeps): { http: FastifyInstance; lifecycle: Lifecycle; readiness: Readiness } {
  const { config, log, registry, kafka, aggregates } = deps;
  const readiness = new Readiness();
  const http = createOpsServer({ readiness, registry, log });
  const admin = kafka.admin();
  const metrics = createProcessorMetrics(registry);
  const topics = processorTopics(config, aggregates);
  const schemas = createSchemaRegistry({
    url: config.SCHEMA_REGISTRY_URL,
    username: config.SCHEMA_REGISTRY_USERNAME,
    password: config.SCHEMA_REGISTRY_PASSWORD,
    subjectPrefix: config.SCHEMA_SUBJECT_PREFIX,
    latestTtlMs: config.SCHEMA_LATEST_TTL_MS,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const validator = createRecordValidator({
    registry: schemas,
    properties: createPropertiesValidator(),
    envelope: createEnvelopeValidator({ limits: PROCESSOR_ENVELOPE_LIMITS }),
  });
  let partitions = { sourcePartitions: 0, repartitionPartitions: 0 };
  const runner = createProcessorRunner({
    kafka,
    admin,
    config,
    aggregates,
    topics,
    partitions: () => partitions,
    validator,
    userAgents: createUserAgentParser(config.UA_CACHE_SIZE),
    metrics,
    readiness,
    log: log.child({ component: 'runner' }),
  });
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add({ name: 'kafka-admin', start: () => admin.connect(), stop: () => admin.disconnect() })
    .add(dependencyProbe({ name: 'kafka', readiness, log, check: async () => void (await admin.describeCluster()) }))
    .add(dependencyProbe({ name: 'schema-registry', readiness, log, check: (signal) => schemas.ping(signal) }))
    .add({
      name: 'topics',
      start: async () => {
        partitions = await ensureProcessorTopics(admin, config, topics);
      },
    })
    .add(runner)
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness };
}
