import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { retry, sleep, type Logger } from '@pipeline/runtime';
import { decodeValue, isPlainObject } from '@pipeline/schemas';
import type { BufferSet, BufferedRecord, TableKind } from '../buffer/buffers';
import type { CompactorMetrics } from '../metrics';

/** Where a topic's records go. */
export interface Route {
  table: string;
  kind: TableKind;
}

export interface LakeConsumerDeps {
  kafka: Kafka;
  log: Logger;
  metrics: CompactorMetrics;
  buffers: BufferSet;
  groupId: string;
  fromBeginning: boolean;
  /** Topics consumed by name (events, DLQ, late). */
  topics: string[];
  /** Every existing topic `<prefix><name>` is consumed too (aggregates). */
  aggTopicPrefix: string;
  /** Table of a topic; undefined for a topic the compactor does not take. */
  route: (topic: string) => Route | undefined;
  /** Next offset the table holds for a Kafka partition (-1n when none); read once per assignment. */
  committedNext: (route: Route, topic: string, partition: number) => Promise<bigint>;
  retryMaxDelayMs: number;
  sessionTimeoutMs: number;
  /** Told whether every topic consumed by name exists (not ready while one is missing). */
  onTopicsPresent?: (present: boolean, detail?: string) => void;
  /** Told when the consumer joined its group (ready) and when it crashed (not ready until it joins again). */
  onGroupMember?: (joined: boolean, detail: string) => void;
  /** Nudged after each batch so due tables flush without waiting for the timer. */
  onBuffered: () => void;
}

const DAY_MS = 86_400_000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The buffer group of a record: its table partition (day and type for events, day of the event for
 * late events, day of the Kafka timestamp for DLQ records, day of the window for aggregates).
 */
function groupOf(kind: TableKind, rec: BufferedRecord): string {
  if (kind === 'dlq') return String(Math.floor((rec.timestampMs ?? NaN) / DAY_MS));
  const record = rec.record;
  if (!record) return 'undecodable';
  const day = (field: string) => Math.floor(Date.parse(String(record[field])) / DAY_MS);
  if (kind === 'events') return `${day('occurred_at')}|${String(record['event_type'])}`;
  if (kind === 'late') return String(day('occurred_at'));
  return String(day('window_start'));
}

/** Decodes a pipeline value (framed or plain JSON object) into `rec`, or says why it cannot. */
function decodeInto(rec: BufferedRecord, value: Buffer | null): void {
  if (!value || value.length === 0) {
    rec.decodeError = 'empty value';
    return;
  }
  try {
    const decoded = decodeValue<unknown>(value);
    if (!isPlainObject(decoded.record)) {
      rec.decodeError = 'undecodable value: not a JSON object';
      return;
    }
    rec.record = decoded.record;
    if (decoded.schemaId !== undefined) rec.schemaId = decoded.schemaId;
  } catch (err) {
    rec.decodeError = `undecodable value: ${(err as Error).message}`;
  }
}

/**
 * Consumes the events, DLQ and late topics and every aggregate topic (read_committed, no auto
 * commit) into the buffers. Skips what the table already holds (offset below its high-water mark)
 * and what is already buffered (redelivery after a rebalance). Waits while the memory cap is
 * reached. Offsets are committed by the flusher, after the table commit.
 */
export class LakeConsumer {
  private consumer: Consumer | undefined;
  /** Next offset to buffer per `topic|partition` (max of the table high-water mark and what is buffered). */
  private readonly positions = new Map<string, bigint>();
  private assigned = new Set<string>();
  private running = false;
  private stopped = false;
  private inBatch = false;

  constructor(private readonly deps: LakeConsumerDeps) {}

  get isAssigned(): boolean {
    return this.assigned.size > 0;
  }

  async start(): Promise<void> {
    const { kafka, groupId } = this.deps;
    this.stopped = false;
    await this.awaitTopics();
    if (this.stopped) return;
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: false,
      sessionTimeout: this.deps.sessionTimeoutMs,
      heartbeatInterval: Math.max(1_000, Math.floor(this.deps.sessionTimeoutMs / 5)),
      maxBytesPerPartition: 4 * 1024 * 1024,
      maxWaitTimeInMs: 250,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: this.deps.retryMaxDelayMs },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.onAssignment(e.payload.memberAssignment);
      this.deps.onGroupMember?.(true, `${this.assigned.size} partitions assigned`);
    });
    consumer.on(consumer.events.CRASH, (e) => this.deps.onGroupMember?.(false, `consumer crashed: ${e.payload.error.message}`));
    await consumer.connect();
    await consumer.subscribe({
      topics: [...this.deps.topics, new RegExp(`^${escapeRegExp(this.deps.aggTopicPrefix)}[a-z][a-z0-9_-]*$`)],
      fromBeginning: this.deps.fromBeginning,
    });
    this.running = true;
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        this.inBatch = true;
        try {
          await this.onBatch(payload);
        } finally {
          this.inBatch = false;
        }
      },
    });
  }

  /**
   * Waits until every topic consumed by name exists: the stream processor creates them, and a
   * compactor started first (a fresh cluster, `npm start`) waits for it instead of exiting.
   */
  private async awaitTopics(): Promise<void> {
    const admin = this.deps.kafka.admin();
    let delayMs = 500;
    let reported = '';
    try {
      while (!this.stopped) {
        const missing = await admin
          .connect()
          .then(() => admin.listTopics())
          .then((existing) => this.deps.topics.filter((t) => !existing.includes(t)))
          .catch((err: unknown) => {
            this.deps.log.warn({ err }, 'cannot list Kafka topics yet; retrying');
            return this.deps.topics;
          });
        this.deps.onTopicsPresent?.(missing.length === 0, missing.length === 0 ? undefined : `missing topics: ${missing.join(', ')}`);
        if (missing.length === 0) return;
        const names = missing.join(', ');
        if (names !== reported) this.deps.log.warn({ topics: missing }, `waiting for topics to be created: ${names}`);
        reported = names;
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, this.deps.retryMaxDelayMs);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /** Ends a start still waiting for its topics (shutdown before the consumer ran). */
  cancelStart(): void {
    this.stopped = true;
  }

  /** Stops buffering (the batch in progress returns early) and pauses fetching; the group stays joined so offsets can still be committed. */
  async quiesce(): Promise<void> {
    this.stopped = true;
    this.running = false;
    const topics = new Set([...this.assigned].map((k) => k.slice(0, k.lastIndexOf('|'))));
    if (this.consumer && topics.size > 0) this.consumer.pause([...topics].map((topic) => ({ topic })));
    while (this.inBatch) await sleep(20);
  }

  /** Leaves the group and disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    await this.consumer?.stop();
    await this.consumer?.disconnect();
  }

  /** Commits next offsets after a table commit. */
  async commitOffsets(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    if (!this.consumer || offsets.length === 0) return;
    await this.consumer.commitOffsets(offsets);
  }

  /** Assigned partitions with the next offset the consumer will buffer (undefined before its first batch). */
  assignment(): Array<{ topic: string; partition: number; next: bigint | undefined }> {
    return [...this.assigned].map((key) => {
      const i = key.lastIndexOf('|');
      return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)), next: this.positions.get(key) };
    });
  }

  /** After a fenced flush: forget what was buffered for the partition and read again from the table's high-water mark. */
  resetPartition(topic: string, partition: number, next: bigint): void {
    this.deps.buffers.dropPartition(topic, partition);
    this.positions.delete(`${topic}|${partition}`);
    if (this.consumer && next >= 0n) this.consumer.seek({ topic, partition, offset: String(next) });
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const next = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) next.add(`${topic}|${p}`);
    for (const key of this.assigned) {
      if (next.has(key)) continue;
      // Revoked: its new owner reads it from the committed offsets; our uncommitted records must go.
      const [topic, p] = key.split('|') as [string, string];
      this.deps.buffers.dropPartition(topic, Number(p));
      this.positions.delete(key);
    }
    this.assigned = next;
  }

  private async positionOf(route: Route, topic: string, partition: number, payload: EachBatchPayload): Promise<bigint> {
    const key = `${topic}|${partition}`;
    const known = this.positions.get(key);
    if (known !== undefined) return known;
    const next = await retry(
      async () => {
        await payload.heartbeat();
        return this.deps.committedNext(route, topic, partition);
      },
      { attempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: this.deps.retryMaxDelayMs, retryOn: () => this.running && payload.isRunning() && !payload.isStale() },
    );
    this.positions.set(key, next);
    return next;
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const route = this.deps.route(batch.topic);
    const kindLabel = route?.kind ?? 'other';
    if (!route) {
      for (const m of batch.messages) resolveOffset(m.offset);
      return;
    }
    let position = await this.positionOf(route, batch.topic, batch.partition, payload);
    let paused = false;
    for (const m of batch.messages) {
      // Memory cap: wait for flushes to make room instead of growing (lag grows instead).
      while (this.deps.buffers.full) {
        if (!paused) {
          paused = true;
          this.deps.metrics.consumptionPaused.set(1);
        }
        if (!this.running || !isRunning() || isStale()) return;
        await sleep(100);
        await heartbeat();
      }
      if (!this.running || !isRunning() || isStale()) return;
      const offset = BigInt(m.offset);
      if (offset < position) {
        this.deps.metrics.recordsSkipped.inc({ reason: 'committed' });
        resolveOffset(m.offset);
        continue;
      }
      const rec: BufferedRecord = { topic: batch.topic, partition: batch.partition, offset, value: m.value ?? Buffer.alloc(0), key: m.key ?? null };
      if (route.kind === 'dlq' || route.kind === 'late') {
        rec.timestampMs = Number(m.timestamp);
        if (m.headers) rec.headers = m.headers;
      }
      // DLQ values are whatever failed elsewhere: the DLQ rows read them leniently instead.
      if (route.kind !== 'dlq') decodeInto(rec, m.value);
      this.deps.buffers.add(route.table, route.kind, groupOf(route.kind, rec), rec);
      position = offset + 1n;
      this.positions.set(`${batch.topic}|${batch.partition}`, position);
      resolveOffset(m.offset);
    }
    if (paused) this.deps.metrics.consumptionPaused.set(0);
    this.deps.metrics.recordsConsumed.inc({ kind: kindLabel }, batch.messages.length);
    this.deps.onBuffered();
  }
}
