/**
 * The floor of any exactly-once processor on kafkajs: consumes like the no-op consumer and copies
 * every record (key and value) to `OUT_TOPIC`, same partition, in one transaction per batch with its
 * offsets (a transactional producer per input partition, as the processor), in produce requests of
 * up to 900 KiB (the broker takes record batches up to 1 MiB by default), uncompressed as the
 * processor produces by default. No decoding, validation or state. Counts committed records.
 * Env: as baseline-consumer.ts, plus OUT_TOPIC.
 */
import type { Producer } from 'kafkajs';
import { runBaselineConsumer, type BaselineSetup } from './baseline-consumer';

const out = process.env['OUT_TOPIC'] as string;
const REQUEST_BYTES = 900 * 1024;
const producers = new Map<number, Promise<Producer>>();

function producerFor(partition: number, { kafka, groupId }: BaselineSetup): Promise<Producer> {
  let p = producers.get(partition);
  if (p === undefined) {
    const producer = kafka.producer({ transactionalId: `${groupId}-${partition}`, idempotent: true, maxInFlightRequests: 1, retry: { initialRetryTime: 10, retries: 25 } });
    p = producer.connect().then(() => producer);
    producers.set(partition, p);
  }
  return p;
}

runBaselineConsumer('bench-passthrough', async (batch, setup) => {
  const last = batch.messages[batch.messages.length - 1];
  if (last === undefined) return 0;
  const producer = await producerFor(batch.partition, setup);
  const tx = await producer.transaction();
  try {
    let messages: Array<{ key: Buffer | null; value: Buffer | null; partition: number }> = [];
    let bytes = 0;
    for (const m of batch.messages) {
      const size = (m.key?.length ?? 0) + (m.value?.length ?? 0) + 64;
      if (bytes + size > REQUEST_BYTES && messages.length > 0) {
        await tx.send({ topic: out, acks: -1, messages });
        messages = [];
        bytes = 0;
      }
      messages.push({ key: m.key, value: m.value, partition: batch.partition });
      bytes += size;
    }
    if (messages.length > 0) await tx.send({ topic: out, acks: -1, messages });
    await tx.sendOffsets({ consumerGroupId: setup.groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }] }] });
    await tx.commit();
  } catch (err) {
    await tx.abort().catch(() => undefined);
    throw err;
  }
  return batch.messages.length;
});
