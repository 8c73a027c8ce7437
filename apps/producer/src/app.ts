import cors from '@fastify/cors';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { ensureTopics } from '@pipeline/kafka';
import { Lifecycle, Readiness, createHttpApp, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import { createPropertiesValidator } from '@pipeline/schemas';
import type { ProducerConfig } from './config';
import { Delivery } from './delivery/delivery';
import { KafkaSender, type RecordSender } from './delivery/kafka-sender';
import { WorkerSender } from './delivery/worker-sender';
import { createWriteKeyStore } from './http/auth';
import { HttpError, fromFastifyError } from './http/errors';
import { OPENAPI_DOCUMENT } from './http/openapi';
import { registerIngestRoutes } from './ingest/routes';
import { createProducerMetrics } from './metrics';
import { createRegistryClient, type RegistryClient } from './schemas/registry-client';
import { SchemaCache } from './schemas/schema-cache';
import { Spool } from './spool/spool';

export interface ProducerDeps {
  config: ProducerConfig;
  log: Logger;
  registry: Registry;
  kafka: Kafka;
  /** The bundle's own path, when it can run the Kafka worker thread (KAFKA_SENDER=worker); without it the producer runs inline. */
  workerScript?: string;
  /** Overrides for unit tests (no network); the real ones are built from `config` and `kafka`. */
  sender?: RecordSender;
  registryClient?: RegistryClient;
}

/** Builds the collector: its HTTP app and the ordered lifecycle. Connects and listens nothing by itself. */
export function buildProducerApp(deps: ProducerDeps): { http: FastifyInstance; lifecycle: Lifecycle; readiness: Readiness; delivery: Delivery } {
  const { config, log, registry, kafka } = deps;
  const metrics = createProducerMetrics(registry);
  const readiness = new Readiness();
  const http = createHttpApp(
    {
      readiness,
      registry,
      log,
      errorBody: ({ status, code, message }) => {
        metrics.requestsRejected.inc({ code });
        return new HttpError(status, code, message).toBody();
      },
    },
    { bodyLimit: config.MAX_BODY_BYTES, keepAliveTimeout: 65_000, requestTimeout: 60_000, return503OnClosing: true },
  );

  void http.register(cors, {
    origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
    methods: ['POST', 'GET', 'OPTIONS'],
    allowedHeaders: ['Content-Type', 'Content-Encoding', 'Authorization', 'X-Write-Key'],
    exposedHeaders: ['Retry-After'],
    maxAge: 86_400,
    // An OPTIONS request that is not a preflight gets the CORS headers and 204, not a plain-text 400.
    strictPreflight: false,
  });
  http.get('/openapi.json', { logLevel: 'warn' }, async () => OPENAPI_DOCUMENT);

  http.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });
  http.setNotFoundHandler(async (_request, reply) => {
    metrics.requestsRejected.inc({ code: 'not_found' });
    return reply.code(404).send(new HttpError(404, 'not_found', 'no such route; see /openapi.json').toBody());
  });
  http.setErrorHandler(async (err: FastifyError, request, reply) => {
    const known = err instanceof HttpError ? err : fromFastifyError(err);
    const answer = known ?? new HttpError(500, 'internal', 'internal error');
    if (known === undefined) log.error({ err, route: request.routeOptions.url }, 'request failed');
    metrics.requestsRejected.inc({ code: answer.code });
    if (answer.retryAfterSeconds !== undefined) void reply.header('retry-after', String(answer.retryAfterSeconds));
    return reply.code(answer.status).send(answer.toBody());
  });

  const ensureCollectorTopics = async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await ensureTopics(admin, [
        { topic: config.EVENTS_TOPIC, numPartitions: config.TOPIC_PARTITIONS, config: { 'retention.ms': String(config.EVENTS_RETENTION_MS) } },
        { topic: config.DLQ_TOPIC, numPartitions: config.TOPIC_PARTITIONS, config: { 'retention.ms': String(config.DLQ_RETENTION_MS) } },
      ]);
      if (created.length > 0) log.info({ topics: created }, 'created topics');
    } finally {
      await admin.disconnect();
    }
  };
  const senderOptions = { log, metrics, compression: config.KAFKA_COMPRESSION, sendTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS, onFirstConnect: ensureCollectorTopics };
  const sender =
    deps.sender ??
    (config.KAFKA_SENDER === 'worker' && deps.workerScript !== undefined
      ? new WorkerSender({
          ...senderOptions,
          script: deps.workerScript,
          data: { kafka: config, clientId: 'producer', compression: config.KAFKA_COMPRESSION, sendTimeoutMs: config.KAFKA_SEND_TIMEOUT_MS, logLevel: config.LOG_LEVEL },
        })
      : new KafkaSender({ ...senderOptions, kafka }));
  const delivery = new Delivery({
    sender,
    log,
    metrics,
    memoryQueueBytes: config.MEMORY_QUEUE_BYTES,
    maxBatchBytes: config.KAFKA_MAX_BATCH_BYTES,
    maxInFlightBatches: config.KAFKA_MAX_IN_FLIGHT_BATCHES,
    lingerMs: config.KAFKA_LINGER_MS,
  });
  const validator = createPropertiesValidator();
  const cache = new SchemaCache({
    client:
      deps.registryClient ??
      createRegistryClient({ url: config.SCHEMA_REGISTRY_URL, username: config.SCHEMA_REGISTRY_USERNAME, password: config.SCHEMA_REGISTRY_PASSWORD }),
    validator,
    subjectPrefix: config.SCHEMA_SUBJECT_PREFIX,
    refreshMs: config.SCHEMA_REFRESH_MS,
    missTtlMs: config.SCHEMA_MISS_TTL_MS,
    log,
    metrics,
  });
  const keys = createWriteKeyStore(config.WRITE_KEYS, { ratePerSec: config.RATE_LIMIT_EVENTS_PER_SEC, burst: config.RATE_LIMIT_BURST_EVENTS });
  registerIngestRoutes(http, {
    settings: {
      eventsTopic: config.EVENTS_TOPIC,
      dlqTopic: config.DLQ_TOPIC,
      unknownEventTypes: config.UNKNOWN_EVENT_TYPES,
      maxBodyBytes: config.MAX_BODY_BYTES,
      maxDecompressedBytes: config.MAX_DECOMPRESSED_BYTES,
      maxInflightRequestBytes: config.MAX_INFLIGHT_REQUEST_BYTES,
      retryAfterSeconds: config.RETRY_AFTER_SECONDS,
      limits: {
        maxBatchEvents: config.MAX_BATCH_EVENTS,
        maxStringLength: config.MAX_STRING_LENGTH,
        maxDepth: config.MAX_DEPTH,
        maxFutureSkewMs: config.MAX_FUTURE_SKEW_MS,
        maxAgeMs: config.MAX_EVENT_AGE_MS,
      },
    },
    keys,
    cache,
    validator,
    delivery,
    metrics,
    log,
  });

  let spool: Spool | undefined;
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add({
      name: 'spool',
      start: async () => {
        spool = await Spool.open({ dir: config.SPOOL_DIR, maxBytes: config.SPOOL_MAX_BYTES, segmentBytes: config.SPOOL_SEGMENT_BYTES, log: log.child({ component: 'spool' }) });
        const opened = spool;
        metrics.setSpoolSource(() => ({ records: opened.depthRecords, bytes: opened.depthBytes, oldestSpooledAt: opened.oldestSpooledAt }));
      },
      stop: async () => spool?.close(),
    })
    .add({ name: 'schemas', start: () => cache.start(), stop: () => cache.stop() })
    .add({
      name: 'delivery',
      start: () => delivery.start(spool as Spool, 5_000),
      stop: async () => {
        // Leave a margin of the shutdown deadline for the components after this one.
        await delivery.stop(Math.max(1_000, Math.floor(config.SHUTDOWN_DEADLINE_MS / 2)));
        await sender.close();
      },
    })
    .add(
      dependencyProbe({
        name: 'spool',
        readiness,
        log,
        intervalMs: 1_000,
        check: async () => {
          if (spool === undefined || !spool.hasRoom(config.MAX_BODY_BYTES)) throw new Error('spool full');
        },
      }),
    )
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness, delivery };
}
