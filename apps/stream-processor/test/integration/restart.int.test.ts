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
  startInProcess,
  startReader,
  testKafka,
  type TestEvent,
} from '../support/processor';

const MINUTE = 60_000;
const cleanup = createCleanup();
// One snapshot (at the first batch) for the whole test: the restart must replay the input after it.
const env = isolatedEnv('it_sp_restart', { SNAPSHOT_INTERVAL_MS: '600000' });
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let schemaId: number;

beforeAll(async () => {
  kafka = testKafka('sp-it-restart');
  admin = kafka.admin();
  await admin.connect();
  cleanup.add(() => admin.disconnect());
  cleanup.add(() => deleteTestTopics(admin, env));
  cleanup.add(() => deleteSubjects(env.SCHEMA_SUBJECT_PREFIX));
  schemaId = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}page_view`, { type: 'object', properties: { url: { type: 'string' } } });
  await createRawTopic(admin, env);
  producer = await connectedProducer(kafka);
  cleanup.add(() => producer.disconnect());
});
afterAll(() => cleanup.run());

describe('restart', () => {
  it('a new instance restores dedup ids and window state (replaying the input after the snapshot) and carries on exactly once', async () => {
    const base = Math.floor((Date.now() - 40 * MINUTE) / MINUTE) * MINUTE;
    const event = (i: number) => makeEvent({ id: `r-${i}`, atMs: base + i * 3_000, user: `user-${i % 11}` });
    const first = Array.from({ length: 100 }, (_, i) => event(i));
    const second = Array.from({ length: 100 }, (_, i) => event(100 + i));
    const a = await startInProcess(env);
    const reader = await startReader(kafka, [env.CLEAN_TOPIC, ...['events_per_type_per_minute', 'active_users_5m', 'user_sessions'].map((n) => env.AGGREGATE_TOPIC_PREFIX + n)]);
    cleanup.add(() => reader.stop());
    const cleanIds = () => reader.records.filter((r) => r.topic === env.CLEAN_TOPIC).map((r) => decodeValue<CleanEvent>(r.value).record.event_id);
    // Three produce calls, so the first instance commits several batches after its one snapshot.
    for (let i = 0; i < first.length; i += 34) {
      await produceEvents(producer, env.RAW_TOPIC, first.slice(i, i + 34), { page_view: schemaId });
      const expectedSoFar = Math.min(first.length, i + 34);
      await waitFor(() => cleanIds().length >= expectedSoFar, { timeoutMs: 30_000, what: `${expectedSoFar} clean events from the first instance` });
    }
    await a.stop();

    // While nobody runs: new events, retries of old ones, then one far-ahead event per partition to close the windows.
    const closers: TestEvent[] = [0, 1, 2].map((p) => makeEvent({ id: `closer-${p}`, atMs: base + 30 * MINUTE, user: `closer-${p}` }));
    await produceEvents(producer, env.RAW_TOPIC, [...second, ...first.slice(0, 40)], { page_view: schemaId });
    for (const [p, e] of closers.entries()) await produceEvents(producer, env.RAW_TOPIC, [e], { page_view: schemaId }, p);

    const b = await startInProcess(env);
    cleanup.add(() => b.stop());
    const all = [...first, ...second];
    const cutoff = base + 20 * MINUTE;
    const expected = expectedAggregates(all, cutoff);
    const aggregates = () => latestAggregates(reader.records.filter((r) => r.topic.startsWith(env.AGGREGATE_TOPIC_PREFIX)), cutoff);
    await waitFor(() => cleanIds().length >= all.length + closers.length && aggregates().size >= expected.size, { timeoutMs: 60_000, what: 'the second instance to finish' });
    await new Promise((r) => setTimeout(r, 1_500));

    const ids = cleanIds();
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set([...all, ...closers].map((e) => e.event_id)));
    expect(Object.fromEntries(aggregates())).toEqual(Object.fromEntries(expected));
    const metrics = await b.metrics();
    expect(metricValue(metrics, 'pipeline_processor_events_total', { outcome: 'duplicate' })).toBe(40);
    expect(metricValue(metrics, 'pipeline_processor_rebuilt_records_total')).toBeGreaterThan(0);
    expect(metricValue(metrics, 'pipeline_processor_restores_total', { topic: env.RAW_TOPIC })).toBe(3);
  });
});
