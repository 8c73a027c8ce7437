import { Partitioners, type Kafka } from 'kafkajs';
import pino from 'pino';
import { createKafka, ensureTopics } from '@pipeline/kafka';
import { createCleanup, stackSettings, uniqueName, waitFor } from '@pipeline/testing';

// kafkajs logs retriable coordinator errors at ERROR level while a group starts; assertions report real failures.
const log = pino({ level: 'fatal' });
const settings = stackSettings();
const cleanup = createCleanup();
let kafka: Kafka;

beforeAll(() => {
  kafka = createKafka(settings, { clientId: uniqueName('smoke'), log });
});
afterAll(() => cleanup.run());

async function readAll(topic: string, expected: number, readUncommitted: boolean): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value?.toString() ?? '') });
  try {
    await waitFor(() => seen.length >= expected, { timeoutMs: 30_000, what: `${expected} records on ${topic}` });
    // Give anything unexpected (an aborted record leaking through) a chance to arrive.
    await new Promise((r) => setTimeout(r, 1_000));
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

describe('Kafka (real broker)', () => {
  it('acknowledges idempotent produces with acks=all and keeps per-key order', async () => {
    const admin = kafka.admin();
    await admin.connect();
    cleanup.add(() => admin.disconnect());
    const topic = uniqueName('smoke_idem');
    await ensureTopics(admin, [{ topic, numPartitions: 3 }]);
    cleanup.add(() => admin.deleteTopics({ topics: [topic] }));

    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER } });
    await producer.connect();
    cleanup.add(() => producer.disconnect());
    const records = await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `user-${i % 5}`, value: `${i % 5}:${i}` })),
    });
    expect(records.every((r) => r.errorCode === 0)).toBe(true);

    const seen = await readAll(topic, 50, false);
    expect(seen).toHaveLength(50);
    for (let user = 0; user < 5; user++) {
      const sequence = seen.filter((v) => v.startsWith(`${user}:`)).map((v) => Number(v.split(':')[1]));
      expect(sequence).toEqual([...sequence].sort((a, b) => a - b));
    }
  });

  it('runs a transactional consume-transform-produce with sendOffsets; read_committed sees only committed output', async () => {
    const admin = kafka.admin();
    await admin.connect();
    cleanup.add(() => admin.disconnect());
    const input = uniqueName('smoke_in');
    const output = uniqueName('smoke_out');
    const groupId = uniqueName('smoke_tx_group');
    await ensureTopics(admin, [
      { topic: input, numPartitions: 2 },
      { topic: output, numPartitions: 2 },
    ]);
    cleanup.add(() => admin.deleteTopics({ topics: [input, output] }));

    const seed = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await seed.connect();
    await seed.send({ topic: input, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await seed.disconnect();

    const txProducer = kafka.producer({
      transactionalId: uniqueName('smoke_tx'),
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await txProducer.connect();
    cleanup.add(() => txProducer.disconnect());

    // One aborted transaction first: its record must never be visible to read_committed readers.
    const aborted = await txProducer.transaction();
    await aborted.send({ topic: output, messages: [{ key: 'x', value: 'ABORTED' }] });
    await aborted.abort();

    const consumer = kafka.consumer({ groupId, readUncommitted: false });
    await consumer.connect();
    cleanup.add(() => consumer.disconnect());
    await consumer.subscribe({ topic: input, fromBeginning: true });
    let processed = 0;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const tx = await txProducer.transaction();
        try {
          await tx.send({ topic: output, messages: batch.messages.map((m) => ({ key: m.key, value: (m.value?.toString() ?? '').toUpperCase() })) });
          const last = batch.messages.at(-1);
          if (last) {
            await tx.sendOffsets({
              consumerGroupId: groupId,
              topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }] }],
            });
          }
          await tx.commit();
          processed += batch.messages.length;
        } catch (err) {
          await tx.abort();
          throw err;
        }
      },
    });
    await waitFor(() => processed >= 10, { timeoutMs: 30_000, what: 'the transactional copy' });
    await consumer.stop();

    const committed = await readAll(output, 10, false);
    expect(committed.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `V${i}`).sort());

    const uncommitted = await readAll(output, 11, true);
    expect(uncommitted).toContain('ABORTED');

    // The group's offsets were committed inside the transactions.
    const offsets = await admin.fetchOffsets({ groupId, topics: [input] });
    const total = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(total).toBe(10);
  });
});

