/**
 * The floor of any exactly-once processor on kafkajs: consumes like the no-op consumer and copies
 * every record (key and value) to `OUT_TOPIC`, same partition, in one transaction per batch with its
 * offsets (a transactional producer per input partition, as the processor), in produce requests of
 * up to 900 KiB (the broker takes record batches up to 1 MiB by default), uncompressed as the
 * processor produces by default. No decoding, validation
 * or state. Prints `{"count":N,"cpu":seconds}` lines on stdout every 50 ms, counting committed
 * records; exits on SIGTERM.
 * Env: as noop-consumer.ts, plus OUT_TOPIC.
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { registerCompressionCodecs } from '@pipeline/kafka';

registerCompressionCodecs();

const env = process.env;
const groupId = env['GROUP_ID'] ?? 'bench-passthrough';
const out = env['OUT_TOPIC'] as string;
const kafka = new Kafka({ clientId: 'bench-passthrough', brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','), logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({
  groupId,
  maxBytesPerPartition: Number(env['MAX_BYTES_PER_PARTITION'] ?? 2 * 1024 * 1024),
  maxBytes: 10 * 1024 * 1024,
  minBytes: Number(env['FETCH_MIN_BYTES'] ?? 1),
  maxWaitTimeInMs: Number(env['FETCH_MAX_WAIT_MS'] ?? 5_000),
});
const REQUEST_BYTES = 900 * 1024;
const producers = new Map<number, Promise<Producer>>();
let count = 0;

function producerFor(partition: number): Promise<Producer> {
  let p = producers.get(partition);
  if (p === undefined) {
    const producer = kafka.producer({ transactionalId: `${groupId}-${partition}`, idempotent: true, maxInFlightRequests: 1, retry: { initialRetryTime: 10, retries: 25 } });
    p = producer.connect().then(() => producer);
    producers.set(partition, p);
  }
  return p;
}

async function main(): Promise<void> {
  await consumer.connect();
  await consumer.subscribe({ topics: [env['TOPIC'] as string], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: Number(env['PARTITIONS_CONSUMED_CONCURRENTLY'] ?? 4),
    eachBatch: async ({ batch }) => {
      const last = batch.messages[batch.messages.length - 1];
      if (last === undefined) return;
      const producer = await producerFor(batch.partition);
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
        await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(BigInt(last.offset) + 1n) }] }] });
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        throw err;
      }
      count += batch.messages.length;
    },
  });
  setInterval(() => {
    const usage = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ count, cpu: (usage.user + usage.system) / 1e6 })}\n`);
  }, 50);
}

process.once('SIGTERM', () => void consumer.disconnect().finally(() => process.exit(0)));
main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
