/**
 * What the baseline consumers share: a kafkajs consumer of `TOPIC` with the processor's fetch
 * settings (from the environment the bench gives them), the zstd codec registered, `{"count":N,
 * "cpu":seconds}` lines on stdout every 50 ms, and a clean exit on SIGTERM.
 * Env: KAFKA_BROKERS, TOPIC, GROUP_ID, MAX_BYTES_PER_PARTITION, FETCH_MIN_BYTES, FETCH_MAX_WAIT_MS,
 * PARTITIONS_CONSUMED_CONCURRENTLY.
 */
import { Kafka, logLevel, type Batch } from 'kafkajs';
import { registerCompressionCodecs } from '@pipeline/kafka';

export interface BaselineSetup {
  kafka: Kafka;
  groupId: string;
}

/** Runs the consumer; `handle` processes a batch and resolves with the records it counts. */
export function runBaselineConsumer(clientId: string, handle: (batch: Batch, setup: BaselineSetup) => Promise<number>): void {
  // Reads zstd batches as the processor does (kafkajs ships only gzip).
  registerCompressionCodecs();
  const env = process.env;
  const groupId = env['GROUP_ID'] ?? clientId;
  const kafka = new Kafka({ clientId, brokers: (env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: Number(env['MAX_BYTES_PER_PARTITION'] ?? 2 * 1024 * 1024),
    maxBytes: 10 * 1024 * 1024,
    minBytes: Number(env['FETCH_MIN_BYTES'] ?? 1),
    maxWaitTimeInMs: Number(env['FETCH_MAX_WAIT_MS'] ?? 5_000),
  });
  let count = 0;

  async function main(): Promise<void> {
    await consumer.connect();
    await consumer.subscribe({ topics: [env['TOPIC'] as string], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Number(env['PARTITIONS_CONSUMED_CONCURRENTLY'] ?? 4),
      eachBatch: async ({ batch }) => {
        // Not `count += await …`: that reads count before the await and loses the other partitions' adds.
        const handled = await handle(batch, { kafka, groupId });
        count += handled;
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
}
