import type { FastifyInstance } from 'fastify';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Client as S3Client } from 'minio';
import type { Registry } from 'prom-client';
import type { Trino } from 'trino-client';
import { ParquetEncoder, type JdbcCatalog } from '@pipeline/lake';
import { Lifecycle, PipelineError, Readiness, createOpsServer, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import { BufferSet } from './buffer/buffers';
import type { CompactorConfig } from './config';
import { LakeConsumer, type Route } from './consumer/lake-consumer';
import { createDlqWriter } from './flush/dlq';
import { createFaults } from './flush/faults';
import { FlushLoop } from './flush/flush-loop';
import { createFlusher } from './flush/flusher';
import { createCompactorMetrics } from './metrics';
import type { SchemaById } from './schema/registry';
import { AGG_BASE_COLUMNS, AGG_PARTITIONING, DLQ_COLUMNS, DLQ_PARTITIONING, EVENT_BASE_COLUMNS, EVENT_PARTITIONING, LATE_COLUMNS, LATE_PARTITIONING } from './tables/definitions';
import { TableManager, tableOffsets, type TableDefinition } from './tables/table-manager';
import { createTrinoRunner } from './tables/trino-ddl';
import { UPKEEP_TASKS, createUpkeep, type UpkeepTask } from './upkeep/upkeep';

export interface CompactorDeps {
  config: CompactorConfig;
  log: Logger;
  registry: Registry;
  kafka: Kafka;
  s3: S3Client;
  trino: Trino;
  catalog: JdbcCatalog;
  schemas: SchemaById;
}

const AGG_NAME = /^[a-z][a-z0-9_-]{0,99}$/;

/** Columns and partitioning a table of each kind is created with. */
const TABLE_LAYOUTS: Record<Route['kind'], Omit<TableDefinition, 'name'>> = {
  events: { columns: EVENT_BASE_COLUMNS, partitioning: EVENT_PARTITIONING },
  aggregate: { columns: AGG_BASE_COLUMNS, partitioning: AGG_PARTITIONING },
  dlq: { columns: DLQ_COLUMNS, partitioning: DLQ_PARTITIONING },
  late: { columns: LATE_COLUMNS, partitioning: LATE_PARTITIONING },
};

/**
 * Builds the compactor: Kafka consumer (events, aggregates, DLQ, late) -> buffers -> flushes
 * (Parquet on the object store, fast append into Iceberg) -> Kafka offsets, table upkeep, and the
 * ops HTTP server. Nothing connects or listens until `lifecycle.start()`.
 */
export function buildCompactorApp(deps: CompactorDeps) {
  const { config, log, registry, kafka, s3, catalog } = deps;
  // Not ready until the consumer has joined its group: a restarted instance waits for the old member's session to expire.
  const readiness = new Readiness().register('topics').register('consumer');
  const http: FastifyInstance = createOpsServer({ readiness, registry, log });
  const metrics = createCompactorMetrics(registry);
  const abort = new AbortController();
  const admin = kafka.admin();
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: config.RETRY_MAX_DELAY_MS },
  });

  const trino = createTrinoRunner(deps.trino, { maxDelayMs: config.RETRY_MAX_DELAY_MS, signal: abort.signal, onRetry: () => metrics.retries.inc({ operation: 'trino' }) });
  const tables = new TableManager({ catalog, s3, trino, catalogName: config.TRINO_CATALOG, namespace: config.LAKE_SCHEMA });

  const route = (topic: string): Route | undefined => {
    if (topic === config.EVENTS_TOPIC) return { table: config.EVENTS_TABLE, kind: 'events' };
    if (topic === config.DLQ_TOPIC) return { table: config.DLQ_TABLE, kind: 'dlq' };
    if (topic === config.LATE_TOPIC) return { table: config.LATE_TABLE, kind: 'late' };
    if (!topic.startsWith(config.AGG_TOPIC_PREFIX)) return undefined;
    const name = topic.slice(config.AGG_TOPIC_PREFIX.length);
    return AGG_NAME.test(name) ? { table: `${config.AGG_TABLE_PREFIX}${name.replace(/-/g, '_')}`, kind: 'aggregate' } : undefined;
  };
  const definition = (table: string, kind: Route['kind']): TableDefinition => ({ name: table, ...TABLE_LAYOUTS[kind] });

  const buffers = new BufferSet({ maxRows: config.FLUSH_MAX_ROWS, maxBytes: config.FLUSH_MAX_BYTES, maxAgeMs: config.FLUSH_MAX_AGE_MS, memoryCapBytes: config.BUFFER_MEMORY_CAP_BYTES });
  const consumer = new LakeConsumer({
    kafka,
    log: log.child({ component: 'consumer' }),
    metrics,
    buffers,
    groupId: config.GROUP_ID,
    fromBeginning: config.FROM_BEGINNING,
    topics: [config.EVENTS_TOPIC, config.DLQ_TOPIC, config.LATE_TOPIC],
    aggTopicPrefix: config.AGG_TOPIC_PREFIX,
    route,
    committedNext: async (r, topic, partition) => {
      const loaded = await tables.load(r.table);
      const next = loaded ? tableOffsets(loaded)[topic]?.[String(partition)] : undefined;
      return next === undefined ? -1n : BigInt(next);
    },
    retryMaxDelayMs: config.RETRY_MAX_DELAY_MS,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    onBuffered: () => flushLoop.nudge(),
    onTopicsPresent: (present, detail) => readiness.set('topics', present, detail),
    onGroupMember: (joined, detail) => readiness.set('consumer', joined, detail),
  });
  const encoder = new ParquetEncoder({ retireAboveBytes: config.PARQUET_WORKER_RETIRE_BYTES, onWorkerStarted: () => metrics.parquetWorkersStarted.inc() });
  const flusher = createFlusher({
    log: log.child({ component: 'flush' }),
    metrics,
    s3,
    catalog,
    namespace: config.LAKE_SCHEMA,
    tables,
    schemas: deps.schemas,
    dlq: createDlqWriter(producer, config.DLQ_TOPIC),
    faults: createFaults({ point: config.COMPACTOR_FAULT, atFlush: config.COMPACTOR_FAULT_AT_FLUSH }),
    definition,
    commitKafkaOffsets: (offsets) => consumer.commitOffsets(offsets),
    onFenced: (topic, partition, next) => consumer.resetPartition(topic, partition, next),
    encoder,
    rowGroupRows: config.PARQUET_ROW_GROUP_ROWS,
    partSize: config.S3_PART_SIZE,
    retryMaxDelayMs: config.RETRY_MAX_DELAY_MS,
    signal: abort.signal,
  });
  const flushLoop: FlushLoop = new FlushLoop({ buffers, flusher, metrics, log: log.child({ component: 'flush-loop' }), tickMs: Math.min(250, Math.max(50, Math.floor(config.FLUSH_MAX_AGE_MS / 4))) });
  const upkeep = createUpkeep({
    settings: {
      catalogName: config.TRINO_CATALOG,
      namespace: config.LAKE_SCHEMA,
      eventsTable: config.EVENTS_TABLE,
      dlqTable: config.DLQ_TABLE,
      lateTable: config.LATE_TABLE,
      aggTablePrefix: config.AGG_TABLE_PREFIX,
      optimizeTarget: config.UPKEEP_OPTIMIZE_TARGET,
      snapshotRetention: config.UPKEEP_SNAPSHOT_RETENTION,
      orphanRetention: config.UPKEEP_ORPHAN_RETENTION,
      retentionDays: config.RETENTION_DAYS,
      enabled: config.UPKEEP_ENABLED,
      intervals: {
        optimize: config.UPKEEP_OPTIMIZE_INTERVAL_MS,
        expire_snapshots: config.UPKEEP_EXPIRE_INTERVAL_MS,
        remove_orphan_files: config.UPKEEP_ORPHANS_INTERVAL_MS,
        retention: config.UPKEEP_RETENTION_INTERVAL_MS,
      },
    },
    trino,
    catalog,
    tables,
    s3,
    log: log.child({ component: 'upkeep' }),
    metrics,
    exclusive: (fn) => flushLoop.exclusive(fn),
  });

  http.post<{ Params: { task: string } }>('/upkeep/:task', async (req, reply) => {
    const task = req.params.task as UpkeepTask;
    if (!UPKEEP_TASKS.includes(task)) return reply.code(404).send({ error: `unknown task; one of ${UPKEEP_TASKS.join(', ')}` });
    try {
      return await upkeep.run(task);
    } catch (err) {
      return reply.code(502).send({ error: (err as Error).message });
    }
  });

  // Lag is measured on a timer, not per batch: while consumption waits at the memory cap no batch runs, and that is when lag matters.
  let lagTimer: NodeJS.Timeout | undefined;
  const measureLag = async () => {
    const byTopic = new Map<string, Array<{ partition: number; next: bigint | undefined }>>();
    for (const a of consumer.assignment()) byTopic.set(a.topic, [...(byTopic.get(a.topic) ?? []), a]);
    for (const [topic, parts] of byTopic) {
      const kind = route(topic)?.kind ?? 'other';
      const ends = await admin.fetchTopicOffsets(topic);
      // The group's committed offsets matter only for partitions not consumed from yet (2 more requests per topic).
      const committed = parts.some((p) => p.next === undefined) ? await admin.fetchOffsets({ groupId: config.GROUP_ID, topics: [topic] }) : [];
      for (const p of parts) {
        const end = BigInt(ends.find((e) => e.partition === p.partition)?.high ?? '0');
        const groupOffset = committed[0]?.partitions.find((c) => c.partition === p.partition)?.offset;
        const from = p.next ?? (groupOffset !== undefined && groupOffset !== '-1' ? BigInt(groupOffset) : end);
        metrics.lag.set({ kind, partition: String(p.partition) }, Number(end > from ? end - from : 0n));
      }
    }
  };
  const lagMonitor = {
    name: 'lag-monitor',
    start: async () => {
      const tick = () => {
        lagTimer = setTimeout(() => void measureLag().catch(() => undefined).finally(() => lagTimer && tick()), config.LAG_INTERVAL_MS);
        lagTimer.unref();
      };
      tick();
    },
    stop: async () => {
      clearTimeout(lagTimer);
      lagTimer = undefined;
    },
  };

  // Deadline for the final flush: leave the rest of the shutdown time to disconnects.
  const drainDeadlineMs = Math.max(1_000, config.SHUTDOWN_DEADLINE_MS - 5_000);
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .onShutdown(() => consumer.cancelStart())
    .add({ name: 'kafka-admin', start: () => admin.connect(), stop: () => admin.disconnect() })
    .add(dependencyProbe({ name: 'kafka', readiness, log, check: async () => void (await admin.describeCluster()) }))
    .add(
      dependencyProbe({
        name: 'object-store',
        readiness,
        log,
        check: async () => {
          if (!(await s3.bucketExists(config.S3_BUCKET))) throw new PipelineError('dependency_unavailable', `bucket ${config.S3_BUCKET} does not exist`);
        },
      }),
    )
    .add(dependencyProbe({ name: 'catalog', readiness, log, check: () => catalog.ping() }))
    .add({ name: 'catalog-pool', stop: () => catalog.close() })
    .add({ name: 'dlq-producer', start: () => producer.connect(), stop: () => producer.disconnect() })
    // Stops after the final flush, which still commits offsets through the group.
    .add({ name: 'consumer-group', stop: () => consumer.stop() })
    // Stops after the final flush has encoded its files.
    .add({ name: 'parquet-encoder', stop: () => encoder.close() })
    .add({
      name: 'flush-loop',
      start: async () => flushLoop.start(),
      stop: async () => {
        const timer = setTimeout(() => abort.abort(), drainDeadlineMs);
        timer.unref();
        try {
          await flushLoop.drain();
        } finally {
          clearTimeout(timer);
          abort.abort();
        }
      },
    })
    .add({ name: 'upkeep', start: async () => upkeep.start(), stop: () => upkeep.stop() })
    // Listening before the consumer starts: /healthz answers while it waits for its topics.
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }))
    .add({ name: 'consumer', start: () => consumer.start(), stop: () => consumer.quiesce() })
    .add(lagMonitor);
  return { http, lifecycle, readiness, metrics, upkeep, buffers };
}
