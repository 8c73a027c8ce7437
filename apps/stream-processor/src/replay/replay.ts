import { createHash } from 'node:crypto';
import { Partitioners, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import { DLQ_HEADERS, EVENT_TYPE_HEADER, decodeValue, isPlainObject } from '@pipeline/schemas';
import { headerText, REPLAYED_FROM_HEADER } from '../tasks/records';

export interface ReplayFilter {
  /** Only DLQ records dead-lettered at or after this time (epoch ms, the DLQ record's timestamp). */
  sinceMs: number;
  /** Only records before this time; default: everything in the DLQ when the run starts. */
  untilMs?: number | undefined;
  /** Only these event types (from the `event_type` header, else the value); empty = all. */
  types: string[];
  /** Only these error codes (`x-dlq-error-code`); empty = all. */
  codes: string[];
}

export interface ReplayOptions {
  kafka: Kafka;
  admin: Admin;
  dlqTopic: string;
  rawTopic: string;
  /** Prefix of the checkpoint group and the transactional id: `<applicationId>-replay-<filter hash>`. */
  applicationId: string;
  filter: ReplayFilter;
  dryRun?: boolean;
  /** Ignore the checkpoint of an earlier run with the same filter (the processor's dedup still drops events already accepted). */
  ignoreCheckpoint?: boolean;
  onProgress?: (progress: ReplayProgress) => void;
  progressIntervalMs?: number;
  timeoutMs?: number;
}

export interface ReplayProgress {
  scanned: number;
  matched: number;
  replayed: number;
  /** Records between the start and end offsets of this run (an upper bound of `scanned`). */
  total: number;
  elapsedMs: number;
}

export interface ReplayResult extends ReplayProgress {
  checkpointGroup: string;
  dryRun: boolean;
}

/** Checkpoint group of a filter: runs with the same filter continue where the last one stopped. */
export function checkpointGroup(applicationId: string, filter: Pick<ReplayFilter, 'types' | 'codes'>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ types: [...filter.types].sort(), codes: [...filter.codes].sort() }))
    .digest('hex')
    .slice(0, 12);
  return `${applicationId}-replay-${digest}`;
}

function eventTypeOf(message: KafkaMessage): string | undefined {
  const header = headerText(message.headers, EVENT_TYPE_HEADER);
  if (header !== undefined) return header;
  if (message.value === null) return undefined;
  try {
    const { record } = decodeValue<unknown>(message.value);
    return isPlainObject(record) && typeof record['event_type'] === 'string' ? record['event_type'] : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a DLQ record passes the filter. */
export function matchesFilter(message: KafkaMessage, filter: ReplayFilter): boolean {
  const ts = Number(message.timestamp);
  if (ts < filter.sinceMs || (filter.untilMs !== undefined && ts >= filter.untilMs)) return false;
  if (filter.codes.length > 0 && !filter.codes.includes(headerText(message.headers, DLQ_HEADERS.errorCode) ?? '')) return false;
  if (filter.types.length > 0 && !filter.types.includes(eventTypeOf(message) ?? '')) return false;
  return true;
}

/**
 * Re-injects DLQ records into the input topic, after a schema fix. The original value bytes and
 * key go back unchanged, with `x-replayed-from: <dlq>/<partition>/<offset>` and the DLQ attempt
 * count (a record that fails again is dead-lettered with attempt + 1). Idempotent twice over: the
 * produce and the checkpoint (the DLQ offsets of a group named after the filter) commit in one
 * transaction, so a rerun continues where the last stopped; and the processor drops event_ids it
 * already accepted. Reads the DLQ up to its end when the run starts.
 */
export async function replayDlq(opts: ReplayOptions): Promise<ReplayResult> {
  const { kafka, admin, dlqTopic, rawTopic, filter } = opts;
  const group = checkpointGroup(opts.applicationId, filter);
  const started = Date.now();
  const ends = new Map((await admin.fetchTopicOffsets(dlqTopic)).map((o) => [o.partition, Number(o.high)]));
  // -1: no record at or after the time in that partition.
  const fromTime = new Map((await admin.fetchTopicOffsetsByTimestamp(dlqTopic, filter.sinceMs)).map((o) => [o.partition, o.offset === '-1' ? Infinity : Number(o.offset)]));
  const committed = new Map<number, number>();
  if (!opts.ignoreCheckpoint) {
    const [entry] = await admin.fetchOffsets({ groupId: group, topics: [dlqTopic] });
    for (const p of entry?.partitions ?? []) if (p.offset !== '-1') committed.set(p.partition, Number(p.offset));
  }
  const starts = new Map<number, number>();
  let total = 0;
  for (const [partition, end] of ends) {
    const start = Math.min(end, Math.max(fromTime.get(partition) ?? end, committed.get(partition) ?? 0));
    starts.set(partition, start);
    total += end - start;
  }
  const progress: ReplayProgress = { scanned: 0, matched: 0, replayed: 0, total, elapsedMs: 0 };
  const pending = new Set([...starts].filter(([p, start]) => start < (ends.get(p) ?? 0)).map(([p]) => p));
  if (pending.size === 0) return { ...progress, checkpointGroup: group, dryRun: opts.dryRun === true };

  // The checkpoint group starts where this run starts; consumers of it only ever run here, one at a time.
  await admin.setOffsets({ groupId: group, topic: dlqTopic, partitions: [...starts].map(([partition, offset]) => ({ partition, offset: String(offset) })) });
  const producer = kafka.producer({ transactionalId: group, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: group, readUncommitted: false, allowAutoTopicCreation: false, maxWaitTimeInMs: 500 });
  const report = () => opts.onProgress?.({ ...progress, elapsedMs: Date.now() - started });
  const ticker = setInterval(report, opts.progressIntervalMs ?? 1_000);
  let timer: NodeJS.Timeout | undefined;
  try {
    await producer.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [dlqTopic] });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`replay did not finish within ${opts.timeoutMs ?? 600_000} ms`)), opts.timeoutMs ?? 600_000);
      const advance = (partition: number, next: number) => {
        if (next >= (ends.get(partition) ?? 0)) pending.delete(partition);
        if (pending.size === 0) resolve();
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic === dlqTopic) advance(payload.partition, Number(payload.lastOffset) + 1);
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            const end = ends.get(batch.partition) ?? 0;
            const inRange = batch.messages.filter((m) => Number(m.offset) < end);
            if (inRange.length === 0) return;
            const matched = inRange.filter((m) => matchesFilter(m, filter));
            const last = inRange[inRange.length - 1] as KafkaMessage;
            const next = String(Number(last.offset) + 1);
            if (!opts.dryRun) {
              const tx = await producer.transaction();
              try {
                if (matched.length > 0) {
                  await tx.send({
                    topic: rawTopic,
                    acks: -1,
                    messages: matched.map((m) => ({
                      key: m.key,
                      value: m.value,
                      headers: {
                        [REPLAYED_FROM_HEADER]: `${dlqTopic}/${batch.partition}/${m.offset}`,
                        [DLQ_HEADERS.attempt]: headerText(m.headers, DLQ_HEADERS.attempt) ?? '1',
                      },
                    })),
                  });
                }
                await tx.sendOffsets({ consumerGroupId: group, topics: [{ topic: dlqTopic, partitions: [{ partition: batch.partition, offset: next }] }] });
                await tx.commit();
              } catch (err) {
                await tx.abort().catch(() => undefined);
                throw err;
              }
              progress.replayed += matched.length;
            }
            progress.scanned += inRange.length;
            progress.matched += matched.length;
            resolveOffset(last.offset);
            advance(batch.partition, Number(next));
          },
        })
        .catch(reject);
    });
  } finally {
    clearInterval(ticker);
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
  }
  report();
  return { ...progress, elapsedMs: Date.now() - started, checkpointGroup: group, dryRun: opts.dryRun === true };
}
