import type { Admin, Kafka, Producer } from 'kafkajs';
import { decodeValue, type CleanEvent } from '@pipeline/schemas';
import { createCleanup, waitFor } from '@pipeline/testing';
import { expectedAggregates, latestAggregates } from '../support/oracle';
import {
  connectedProducer,
  createRawTopic,
  deleteSubjects,
  deleteTestTopics,
  isolatedEnv,
  makeEvent,
  metricValue,
  produceEvents,
  registerSchema,
  startChild,
  startReader,
  testKafka,
  type ChildProcessor,
  type TestEvent,
} from '../support/processor';

const MINUTE = 60_000;
const PARTITIONS = 6;
const cleanup = createCleanup();
const env = isolatedEnv('it_sp_scale', { TOPIC_PARTITIONS: String(PARTITIONS), PARTITIONS_CONSUMED_CONCURRENTLY: '3' });
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let schemaId: number;

beforeAll(async () => {
  kafka = testKafka('sp-it-scale');
  admin = kafka.admin();
  await admin.connect();
  cleanup.add(() => admin.disconnect());
  cleanup.add(() => deleteTestTopics(admin, env));
  cleanup.add(() => deleteSubjects(env.SCHEMA_SUBJECT_PREFIX));
  schemaId = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}page_view`, { type: 'object', properties: { url: { type: 'string' } } });
  await createRawTopic(admin, env, PARTITIONS);
  producer = await connectedProducer(kafka);
  cleanup.add(() => producer.disconnect());
});
afterAll(() => cleanup.run());

function stopChild(child: ChildProcessor): () => Promise<void> {
  return async () => {
    if (child.process.exitCode === null && child.process.signalCode === null) {
      child.process.kill('SIGTERM');
      await child.exited;
    }
  };
}

describe('scale-out', () => {
  it('two instances in one group, one killed with SIGKILL mid-stream: no loss, no duplicate, aggregates equal a batch recomputation', async () => {
    const a = await startChild(env, 'a');
    cleanup.add(stopChild(a));
    const b = await startChild(env, 'b');
    cleanup.add(stopChild(b));
    const reader = await startReader(kafka, [env.CLEAN_TOPIC, ...['events_per_type_per_minute', 'active_users_5m', 'user_sessions'].map((n) => env.AGGREGATE_TOPIC_PREFIX + n)]);
    cleanup.add(() => reader.stop());
    const cleanCount = () => reader.records.filter((r) => r.topic === env.CLEAN_TOPIC).length;

    const base = Math.floor((Date.now() - 60 * MINUTE) / MINUTE) * MINUTE;
    const total = 12_000;
    // Event time advances 50 ms per event (10 minutes in all), across 300 users spread over the partitions.
    const events: TestEvent[] = Array.from({ length: total }, (_, i) => makeEvent({ id: `s-${i}`, atMs: base + i * 50, user: `user-${(i * 7) % 300}`, ...(i % 10 === 0 ? { type: 'page_view' } : {}) }));
    let killedAt = -1;
    for (let i = 0; i < total; i += 400) {
      await produceEvents(producer, env.RAW_TOPIC, events.slice(i, i + 400), { page_view: schemaId });
      if (killedAt < 0 && i >= total * 0.4) {
        // Mid-stream: both instances are busy; the victim dies without committing or leaving the group.
        await waitFor(() => cleanCount() > total * 0.2, { timeoutMs: 30_000, what: 'processing under way before the kill' });
        killedAt = cleanCount();
        a.process.kill('SIGKILL');
        await a.exited;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const closers = Array.from({ length: PARTITIONS }, (_, p) => makeEvent({ id: `closer-${p}`, atMs: base + 40 * MINUTE, user: `closer-${p}` }));
    for (const [p, e] of closers.entries()) await produceEvents(producer, env.RAW_TOPIC, [e], { page_view: schemaId }, p);

    const cutoff = base + 25 * MINUTE;
    const expected = expectedAggregates(events, cutoff);
    const aggregates = () => latestAggregates(reader.records.filter((r) => r.topic.startsWith(env.AGGREGATE_TOPIC_PREFIX)), cutoff);
    await waitFor(() => cleanCount() >= total + PARTITIONS && aggregates().size >= expected.size, {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the survivor to take over and finish',
    });
    await new Promise((r) => setTimeout(r, 2_000));

    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(total);
    const ids = reader.records.filter((r) => r.topic === env.CLEAN_TOPIC).map((r) => decodeValue<CleanEvent>(r.value).record.event_id);
    const unique = new Set(ids);
    expect(ids.length - unique.size).toBe(0);
    expect(unique).toEqual(new Set([...events, ...closers].map((e) => e.event_id)));
    expect(Object.fromEntries(aggregates())).toEqual(Object.fromEntries(expected));
    // The survivor took over the victim's partitions (restores beyond its own initial ones) and still owns all of them.
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metricValue(metrics, 'pipeline_processor_assigned_partitions', { topic: env.RAW_TOPIC })).toBe(PARTITIONS);
    expect(metricValue(metrics, 'pipeline_processor_restores_total', { topic: env.RAW_TOPIC })).toBeGreaterThan(PARTITIONS / 2);
  });
});
