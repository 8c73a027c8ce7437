import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { Murmur2Partitioner, compressionType } from '@pipeline/kafka';
import { sleep, type Component, type Logger, type Readiness } from '@pipeline/runtime';
import type { AggregatesConfig } from '../aggregates/aggregates-config';
import type { ProcessorConfig } from '../config';
import type { ProcessorMetrics } from '../metrics';
import type { ParsedUserAgent } from '../steps/user-agent';
import type { RecordValidator } from '../steps/validate';
import { MergeTask, type MergeStats } from '../tasks/merge-task';
import type { Outbox } from '../tasks/outbox';
import type { InputRecord } from '../tasks/records';
import { SourceTask, type BatchStats } from '../tasks/source-task';
import { createDedupBudget } from '../state/dedup-store';
import { readChangelogPartition } from './changelog-reader';
import type { ProcessorTopics } from './topics';

/** Largest group of records sent in one produce request (below the broker's default message.max.bytes per partition batch). */
const MAX_REQUEST_BYTES = 900 * 1024;
/**
 * Most records in one produce request; for clean records of about 600 B it binds before
 * MAX_REQUEST_BYTES (256 of them are about 150 KB). Grouping a request's records by partition is
 * linear with the kafkajs patch (decision 0006); bench:processor measured 4,096 no faster than 256.
 */
const MAX_REQUEST_RECORDS = 256;
const RESTORE_TIMEOUT_MS = 120_000;
/**
 * Producer retries start short: right after a commit the coordinator is still writing the
 * transaction markers and answers the next transaction's first request CONCURRENT_TRANSACTIONS for
 * a few milliseconds (the Java client backs off 20 ms there). kafkajs' default 300 ms first
 * backoff would idle every partition after every commit.
 */
const PRODUCER_RETRY = { initialRetryTime: 10, maxRetryTime: 2_000, retries: 25 };

interface TaskHandle {
  kind: 'source' | 'merge';
  topic: string;
  partition: number;
  task: SourceTask | MergeTask;
  /** The partition's transactional producer (exactly once); undefined at least once. */
  producer: Producer | undefined;
  /** Rebalance generation in which the state was last known to match the committed offset. */
  generation: number;
  busy: Promise<void> | undefined;
}

export interface RunnerDeps {
  kafka: Kafka;
  admin: Admin;
  config: ProcessorConfig;
  aggregates: AggregatesConfig;
  topics: ProcessorTopics;
  partitions: () => { sourcePartitions: number; repartitionPartitions: number };
  validator: RecordValidator;
  userAgents: { parse(ua: unknown): ParsedUserAgent };
  metrics: ProcessorMetrics;
  readiness: Readiness;
  log: Logger;
  now?: () => number;
}

function toInput(message: KafkaMessage): InputRecord {
  return { offset: Number(message.offset), key: message.key, value: message.value, timestampMs: Number(message.timestamp), headers: message.headers ?? {} };
}

/**
 * The consume-transform-produce loop. One consumer in the group reads the input topic (and the
 * merge stage's repartition topic); each assigned partition is a task with its own state and, for
 * exactly once, its own transactional producer (`<applicationId>-<topic>-<partition>`), so a new
 * owner fences a zombie of the old one. Per batch: process, then one transaction with the outputs,
 * the changelog writes and the input offset (sendOffsets), then commit. On a newly owned partition
 * the producer is initialised first (fencing and aborting the previous owner's open transaction),
 * then the changelog is read back and the input after the last window snapshot is replayed, all
 * before the first record is processed.
 */
export function createProcessorRunner(deps: RunnerDeps): Component & { assignedPartitions(): number } {
  const { kafka, admin, config, topics, metrics, log } = deps;
  const now = deps.now ?? Date.now;
  const groupId = config.APPLICATION_ID;
  const exactlyOnce = config.PROCESSING_GUARANTEE === 'exactly_once';
  const compression = compressionType(config.KAFKA_COMPRESSION);
  const tasks = new Map<string, TaskHandle>();
  let generation = 0;
  let assignment = new Map<string, number[]>();
  let consumer: Consumer | undefined;
  let sharedProducer: Producer | undefined;
  let assignedCount = 0;
  const failures = new Map<string, number>();
  const dedupBudget = createDedupBudget(config.DEDUP_MAX_ENTRIES);
  deps.readiness.register('consumer');

  function transactionalProducer(topic: string, partition: number): Producer {
    return kafka.producer({
      transactionalId: `${groupId}-${topic}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: config.TRANSACTION_TIMEOUT_MS,
      createPartitioner: Murmur2Partitioner,
      allowAutoTopicCreation: false,
      retry: PRODUCER_RETRY,
    });
  }

  async function closeHandle(handle: TaskHandle): Promise<void> {
    tasks.delete(`${handle.topic}:${handle.partition}`);
    await handle.busy?.catch(() => undefined);
    if (handle.task instanceof SourceTask) handle.task.close();
    await handle.producer?.disconnect().catch(() => undefined);
    metrics.lag.remove({ topic: handle.topic, partition: String(handle.partition) });
    if (handle.kind === 'source') {
      metrics.watermarkDelay.remove({ partition: String(handle.partition) });
      for (const store of ['dedup', 'windows']) metrics.stateEntries.remove({ store, partition: String(handle.partition) });
      metrics.stateBytes.remove({ store: 'windows', partition: String(handle.partition) });
    } else {
      metrics.stateEntries.remove({ store: 'merge', partition: String(handle.partition) });
    }
  }

  async function committedOffset(topic: string, partition: number): Promise<number | undefined> {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const offset = entry?.partitions.find((p) => p.partition === partition)?.offset;
    return offset === undefined || offset === '-1' ? undefined : Number(offset);
  }

  function newTask(kind: 'source' | 'merge', partition: number): SourceTask | MergeTask {
    const { sourcePartitions, repartitionPartitions } = deps.partitions();
    if (kind === 'merge') {
      return new MergeTask({
        partition,
        windowing: deps.aggregates.windowing,
        aggregateTopic: topics.aggregate,
        changelog: topics.mergeChangelog as string,
        idleTimeoutMs: deps.aggregates.windowing.watermark.idleTimeout,
        retentionMs: config.MERGE_RETENTION_MS,
      });
    }
    return new SourceTask({
      partition,
      aggregates: deps.aggregates,
      validator: deps.validator,
      userAgents: deps.userAgents,
      topics: { raw: topics.raw, clean: topics.clean, dlq: topics.dlq, late: topics.late, aggregate: topics.aggregate, changelog: topics.sourceChangelog, repartition: topics.repartition },
      dedupTtlMs: config.DEDUP_TTL_MS,
      dedupBudget,
      snapshotIntervalMs: config.SNAPSHOT_INTERVAL_MS,
      progressIntervalMs: config.PROGRESS_INTERVAL_MS,
      sourcePartitions,
      repartitionPartitions,
      now,
    });
  }

  /** Fences the previous owner, reads the changelog back and positions the task; returns the offset to read from. */
  async function restore(topic: string, partition: number, fetched: number): Promise<{ handle: TaskHandle; from: number }> {
    const started = now();
    const kind = topic === topics.raw ? 'source' : 'merge';
    let producer: Producer | undefined;
    if (exactlyOnce) {
      producer = transactionalProducer(topic, partition);
      await producer.connect();
      // Initialising the transactional id bumps its epoch: the previous owner's producer is fenced and its open transaction aborted.
      const fence = await producer.transaction();
      await fence.abort();
    }
    try {
      const committed = await committedOffset(topic, partition);
      const changelog = kind === 'source' ? topics.sourceChangelog : (topics.mergeChangelog as string);
      const records = await readChangelogPartition({ kafka, admin, topic: changelog, partition, groupPrefix: groupId, timeoutMs: RESTORE_TIMEOUT_MS });
      const task = newTask(kind, partition);
      const start = committed ?? fetched;
      let from = start;
      if (task instanceof SourceTask) {
        const restored = task.restore(records);
        if (exactlyOnce && restored.position !== undefined && committed !== undefined && restored.position !== committed) {
          log.warn({ topic, partition, changelog: restored.position, committed }, 'changelog position differs from the committed offset');
        }
        if (restored.snapshotNext !== undefined && restored.snapshotNext < start) {
          from = restored.snapshotNext;
          task.rebuildUntil = start;
        }
      } else {
        task.restore(records);
      }
      task.position = from;
      task.committed = start;
      const handle: TaskHandle = { kind, topic, partition, task, producer, generation, busy: undefined };
      tasks.set(`${topic}:${partition}`, handle);
      metrics.restores.inc({ topic });
      metrics.restoreSeconds.observe((now() - started) / 1000);
      log.info({ topic, partition, committed: start, replayFrom: from, changelogRecords: records.length, ms: now() - started }, 'partition state restored');
      return { handle, from };
    } catch (err) {
      await producer?.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /** The task of a partition, ready for a batch fetched at `fetched`; undefined when the consumer was moved (seek) instead. */
  async function taskFor(topic: string, partition: number, fetched: number, payload: EachBatchPayload): Promise<TaskHandle | undefined> {
    let handle = tasks.get(`${topic}:${partition}`);
    if (handle !== undefined && handle.generation !== generation) {
      // A rebalance happened: the state is still good only if nobody committed past it meanwhile.
      const committed = await committedOffset(topic, partition);
      const task = handle.task;
      const inRebuild = task instanceof SourceTask && task.rebuildUntil !== undefined;
      if (committed === task.committed && task.position === task.committed && !inRebuild) handle.generation = generation;
      else {
        await closeHandle(handle);
        handle = undefined;
      }
    }
    if (handle === undefined) {
      const heartbeat = setInterval(() => void payload.heartbeat().catch(() => undefined), 2_000);
      try {
        const restored = await restore(topic, partition, fetched);
        handle = restored.handle;
        if (restored.from !== fetched) {
          consumer?.seek({ topic, partition, offset: String(restored.from) });
          return undefined;
        }
      } finally {
        clearInterval(heartbeat);
      }
    }
    // Within a generation the fetch position only skips control and aborted records.
    if (fetched > handle.task.position) handle.task.position = fetched;
    return handle;
  }

  async function commit(handle: TaskHandle, outbox: Outbox, nextOffset: number): Promise<void> {
    const chunks = outbox.chunks(MAX_REQUEST_BYTES, MAX_REQUEST_RECORDS);
    const offsets = [{ topic: handle.topic, partitions: [{ partition: handle.partition, offset: String(nextOffset) }] }];
    if (handle.producer !== undefined) {
      const tx = await handle.producer.transaction();
      try {
        for (const topicMessages of chunks) await tx.sendBatch({ topicMessages, acks: -1, compression });
        await tx.sendOffsets({ consumerGroupId: groupId, topics: offsets });
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
    } else {
      const producer = sharedProducer as Producer;
      for (const topicMessages of chunks) await producer.sendBatch({ topicMessages, acks: -1, compression });
      await (consumer as Consumer).commitOffsets([{ topic: handle.topic, partition: handle.partition, offset: String(nextOffset) }]);
    }
  }

  function recordSourceStats(handle: TaskHandle, stats: BatchStats): void {
    const task = handle.task as SourceTask;
    if (stats.clean > 0) metrics.events.inc({ outcome: 'clean' }, stats.clean);
    if (stats.duplicate > 0) metrics.events.inc({ outcome: 'duplicate' }, stats.duplicate);
    for (const [code, n] of Object.entries(stats.dlq)) {
      metrics.events.inc({ outcome: 'dlq' }, n);
      metrics.dlq.inc({ code }, n);
    }
    for (const [reason, n] of Object.entries(stats.late)) metrics.late.inc({ reason }, n);
    for (const [aggregate, n] of Object.entries(stats.final)) metrics.aggregates.inc({ aggregate, outcome: 'final' }, n);
    for (const [aggregate, n] of Object.entries(stats.partial)) metrics.aggregates.inc({ aggregate, outcome: 'partial' }, n);
    const partition = String(handle.partition);
    const state = task.stateStats();
    metrics.stateEntries.set({ store: 'dedup', partition }, state.dedupEntries);
    metrics.stateEntries.set({ store: 'windows', partition }, state.openWindows);
    if (stats.snapshotBytes !== undefined) metrics.stateBytes.set({ store: 'windows', partition }, stats.snapshotBytes);
    if (Number.isFinite(state.watermarkMs)) metrics.watermarkDelay.set({ partition }, (now() - state.watermarkMs) / 1000);
  }

  function recordMergeStats(handle: TaskHandle, stats: MergeStats): void {
    for (const [outcome, counts] of [['final', stats.final], ['updated', stats.updated], ['expired', stats.expired]] as const) {
      for (const [aggregate, n] of Object.entries(counts)) metrics.aggregates.inc({ aggregate, outcome }, n);
    }
    if (Object.keys(stats.expired).length > 0) log.warn({ partition: handle.partition, expired: stats.expired }, 'partial results arrived after their window was forgotten (MERGE_RETENTION_MS)');
    metrics.stateEntries.set({ store: 'merge', partition: String(handle.partition) }, (handle.task as MergeTask).stateStats().entries);
  }

  async function handleBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { topic, partition } = batch;
    if (!payload.isRunning() || payload.isStale()) return;
    const fetched = Number((batch as unknown as { fetchedOffset: string }).fetchedOffset);
    const handle = await taskFor(topic, partition, fetched, payload);
    if (handle === undefined) return;
    const task = handle.task;
    const batchNext = Number(batch.lastOffset()) + 1;
    let records = batch.messages.map(toInput);

    if (task instanceof SourceTask && task.rebuildUntil !== undefined) {
      const until = task.rebuildUntil;
      const replay = records.filter((r) => r.offset < until);
      task.rebuild(replay);
      metrics.rebuilt.inc(replay.length);
      records = records.filter((r) => r.offset >= until);
      if (batchNext <= until) {
        task.position = batchNext;
        if (batchNext === until) task.rebuildUntil = undefined;
        payload.resolveOffset(batch.lastOffset());
        return;
      }
      task.position = until;
      task.rebuildUntil = undefined;
    }

    // A fetch of compressed records can hold tens of thousands: commit them in bounded transactions.
    for (let i = 0; i < records.length || i === 0; i += config.MAX_BATCH_RECORDS) {
      if (!payload.isRunning() || payload.isStale()) return;
      const slice = records.slice(i, i + config.MAX_BATCH_RECORDS);
      const lastSlice = i + config.MAX_BATCH_RECORDS >= records.length;
      const nextOffset = lastSlice ? batchNext : (slice[slice.length - 1] as InputRecord).offset + 1;
      if (!(await processSlice(handle, slice, nextOffset, Number(batch.highWatermark)))) return;
      payload.resolveOffset(String(nextOffset - 1));
      await payload.heartbeat();
    }
  }

  /** Processes and commits one slice of a batch; false when it failed (the task is then dropped and restored on the next batch). */
  async function processSlice(handle: TaskHandle, records: InputRecord[], nextOffset: number, highWatermark: number): Promise<boolean> {
    const { topic, partition, task } = handle;
    const started = now();
    const key = `${topic}:${partition}`;
    let outboxSummary: Record<string, { records: number; bytes: number }> | undefined;
    let done: () => void = () => undefined;
    handle.busy = new Promise<void>((resolve) => (done = resolve));
    try {
      if (task instanceof SourceTask) {
        const result = await task.process(records, nextOffset);
        outboxSummary = result.outbox.summary();
        const commitStarted = now();
        await commit(handle, result.outbox, nextOffset);
        metrics.commitSeconds.observe((now() - commitStarted) / 1000);
        recordSourceStats(handle, result.stats);
      } else {
        const result = task.process(records, nextOffset);
        outboxSummary = result.outbox.summary();
        const commitStarted = now();
        await commit(handle, result.outbox, nextOffset);
        metrics.commitSeconds.observe((now() - commitStarted) / 1000);
        recordMergeStats(handle, result.stats);
      }
      task.committed = nextOffset;
      failures.delete(key);
      metrics.transactions.inc({ outcome: 'committed' });
      metrics.lag.set({ topic, partition: String(partition) }, Math.max(0, highWatermark - nextOffset));
      metrics.batchSeconds.observe((now() - started) / 1000);
      return true;
    } catch (err) {
      metrics.transactions.inc({ outcome: 'failed' });
      const attempt = (failures.get(key) ?? 0) + 1;
      failures.set(key, attempt);
      log.error({ err, topic, partition, attempt, records: records.length, outputs: outboxSummary }, 'batch failed; the partition is restored from its committed state and retried');
      done();
      // The uncommitted state is gone with the failed transaction; the next batch restores it from the changelog.
      await closeHandle(handle);
      await sleep(Math.min(30_000, 250 * 2 ** Math.min(attempt, 7))).catch(() => undefined);
      return false;
    } finally {
      done();
      handle.busy = undefined;
    }
  }

  return {
    name: 'processor',
    assignedPartitions: () => assignedCount,
    async start() {
      if (!exactlyOnce) {
        sharedProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Murmur2Partitioner, allowAutoTopicCreation: false, retry: PRODUCER_RETRY });
        await sharedProducer.connect();
      }
      consumer = kafka.consumer({
        groupId,
        sessionTimeout: config.CONSUMER_SESSION_TIMEOUT_MS,
        rebalanceTimeout: Math.max(60_000, 2 * config.CONSUMER_SESSION_TIMEOUT_MS),
        heartbeatInterval: Math.max(1_000, Math.floor(config.CONSUMER_SESSION_TIMEOUT_MS / 10)),
        maxBytesPerPartition: config.MAX_BYTES_PER_PARTITION,
        maxBytes: Math.max(10 * 1024 * 1024, 4 * config.MAX_BYTES_PER_PARTITION),
        minBytes: config.FETCH_MIN_BYTES,
        maxWaitTimeInMs: config.FETCH_MAX_WAIT_MS,
        readUncommitted: false,
        allowAutoTopicCreation: false,
      });
      const c = consumer;
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        generation++;
        assignment = new Map(Object.entries(payload.memberAssignment));
        assignedCount = [...assignment.values()].reduce((n, parts) => n + parts.length, 0);
        for (const topic of [topics.raw, topics.repartition]) if (topic !== undefined) metrics.assigned.set({ topic }, assignment.get(topic)?.length ?? 0);
        deps.readiness.set('consumer', true, `${assignedCount} partitions assigned`);
        for (const handle of [...tasks.values()]) {
          if (!(assignment.get(handle.topic) ?? []).includes(handle.partition)) void closeHandle(handle);
        }
        log.info({ generation, assignment: payload.memberAssignment }, 'joined the consumer group');
      });
      c.on(c.events.CRASH, ({ payload }) => {
        deps.readiness.set('consumer', false, `consumer crashed: ${payload.error.message}`);
        log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
      });
      await c.connect();
      await c.subscribe({ topics: topics.repartition === undefined ? [topics.raw] : [topics.raw, topics.repartition], fromBeginning: true });
      // Not awaited: run() resolves only after the first group join, and the ops server should answer meanwhile
      // (/readyz stays false until GROUP_JOIN).
      c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: config.PARTITIONS_CONSUMED_CONCURRENTLY,
        eachBatch: handleBatch,
      }).catch((err: unknown) => {
        deps.readiness.set('consumer', false, `consumer failed: ${(err as Error).message}`);
        log.error({ err }, 'consumer failed to run');
      });
    },
    async stop() {
      deps.readiness.set('consumer', false, 'stopping');
      // Waits for the batches in flight: their transactions commit (or abort) before the producers close.
      await consumer?.disconnect();
      await Promise.all([...tasks.values()].map((h) => closeHandle(h)));
      await sharedProducer?.disconnect();
    },
  };
}
