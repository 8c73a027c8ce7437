import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { PipelineError } from '@pipeline/runtime';

export interface ChangelogRecord {
  key: string;
  value: Buffer | null;
}

/**
 * Reads one changelog partition from its start to its current end (read_committed), in log order.
 * kafkajs has no manual assignment, so a throwaway consumer group (deleted afterwards) subscribes
 * and pauses the other partitions. The end is the high watermark taken at the start; call this
 * after fencing the partition's previous writer, so no open transaction holds the read back.
 * Batch-end events track the position, since kafkajs never hands control-record-only batches to
 * eachBatch. Rejects with a retriable `timeout` PipelineError after `timeoutMs`.
 */
export async function readChangelogPartition(opts: {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  partition: number;
  groupPrefix: string;
  timeoutMs: number;
}): Promise<ChangelogRecord[]> {
  const { kafka, admin, topic, partition } = opts;
  const offsets = await admin.fetchTopicOffsets(topic);
  const bounds = offsets.find((o) => o.partition === partition);
  if (bounds === undefined) throw new PipelineError('config_invalid', `changelog topic ${topic} has no partition ${partition}`);
  const high = Number(bounds.high);
  const low = Number(bounds.low);
  if (high <= low) return [];

  const groupId = `${opts.groupPrefix}-restore-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxBytesPerPartition: 8 * 1024 * 1024, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  const records: ChangelogRecord[] = [];
  let position = low;
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new PipelineError('timeout', `reading ${topic}[${partition}] did not reach offset ${high} within ${opts.timeoutMs} ms (at ${position})`)),
        opts.timeoutMs,
      );
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.topic !== topic || payload.partition !== partition) return;
        position = Math.max(position, Number(payload.lastOffset) + 1);
        if (position >= high) resolve();
      });
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error));
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, pause }) => {
            if (batch.partition !== partition) {
              pause();
              return;
            }
            for (const message of batch.messages) {
              if (Number(message.offset) >= high) break;
              records.push({ key: message.key?.toString('utf8') ?? '', value: message.value });
            }
          },
        })
        .catch(reject);
    });
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
  return records;
}
