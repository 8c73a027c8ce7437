import type { Admin, Kafka, Producer } from 'kafkajs';
import { DLQ_HEADERS, LATE_HEADERS, decodeValue, encodeFramedValue, parseDlqHeaders, type CleanEvent } from '@pipeline/schemas';
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
  type InProcessProcessor,
  type TestEvent,
} from '../support/processor';

const MINUTE = 60_000;
const cleanup = createCleanup();
const env = isolatedEnv('it_sp_pipe');
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let processor: InProcessProcessor;
const ids: Record<string, number> = {};

beforeAll(async () => {
  kafka = testKafka('sp-it-pipeline');
  admin = kafka.admin();
  await admin.connect();
  cleanup.add(() => admin.disconnect());
  cleanup.add(() => deleteTestTopics(admin, env));
  cleanup.add(() => deleteSubjects(env.SCHEMA_SUBJECT_PREFIX));
  ids['page_view'] = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}page_view`, { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] });
  ids['click'] = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}click`, { type: 'object', properties: { element: { type: 'string' } }, required: ['element'] });
  await createRawTopic(admin, env);
  producer = await connectedProducer(kafka);
  cleanup.add(() => producer.disconnect());
  processor = await startInProcess(env);
  cleanup.add(() => processor.stop());
});
afterAll(() => cleanup.run());

describe('stream processor (real Kafka and registry)', () => {
  it('cleans, enriches, dedupes, dead-letters, routes late events and computes the declared aggregates exactly once', async () => {
    const base = Math.floor((Date.now() - 50 * MINUTE) / MINUTE) * MINUTE;
    const events: TestEvent[] = [];
    for (let i = 0; i < 240; i++) {
      const type = i % 3 === 0 ? 'click' : 'page_view';
      events.push(makeEvent({ id: `ev-${i}`, type, atMs: base + i * 2_000, user: `user-${i % 17}`, anonymous: i % 5 === 0, properties: type === 'click' ? { element: 'buy' } : { url: `/p/${i}` } }));
    }
    await produceEvents(producer, env.RAW_TOPIC, events, ids);
    // Client retries: the same event_ids again.
    await produceEvents(producer, env.RAW_TOPIC, events.slice(0, 30), ids);
    await producer.send({
      topic: env.RAW_TOPIC,
      messages: [
        { key: 'k1', value: Buffer.from('garbage') },
        { key: 'k2', value: encodeFramedValue(999_999_999, makeEvent({ id: 'unknown-schema', atMs: base, user: 'x' })) },
        { key: 'k3', value: encodeFramedValue(ids['click'] as number, makeEvent({ id: 'violation', type: 'click', atMs: base, user: 'x', properties: {} })) },
        { key: 'k4', value: Buffer.from(JSON.stringify(makeEvent({ id: 'no-schema', type: 'mystery', atMs: base, user: 'x' }))) },
        { key: 'k5', value: encodeFramedValue(ids['page_view'] as number, makeEvent({ id: 'bad id', atMs: base, user: 'x' })) },
      ],
    });
    // One event per partition far ahead moves every watermark past the windows above.
    const closers = [0, 1, 2].map((p) => makeEvent({ id: `closer-${p}`, atMs: base + 25 * MINUTE, user: `closer-${p}` }));
    for (const [p, e] of closers.entries()) await produceEvents(producer, env.RAW_TOPIC, [e], ids, p);
    const late = makeEvent({ id: 'late-1', atMs: base + MINUTE, user: 'late-user' });
    await produceEvents(producer, env.RAW_TOPIC, [late], ids, 0);

    const reader = await startReader(kafka, [env.CLEAN_TOPIC, env.DLQ_TOPIC, env.LATE_TOPIC, ...['events_per_type_per_minute', 'active_users_5m', 'user_sessions'].map((n) => env.AGGREGATE_TOPIC_PREFIX + n)]);
    cleanup.add(() => reader.stop());
    const of = (topic: string) => reader.records.filter((r) => r.topic === topic);
    const cutoff = base + 15 * MINUTE;
    const expected = expectedAggregates(events, cutoff);
    await waitFor(
      () => of(env.CLEAN_TOPIC).length >= events.length + 4 && of(env.DLQ_TOPIC).length >= 5 && of(env.LATE_TOPIC).length >= 3 && latestAggregates(reader.records.filter((r) => r.topic.startsWith(env.AGGREGATE_TOPIC_PREFIX)), cutoff).size >= expected.size,
      { timeoutMs: 90_000, what: 'clean, DLQ, late and aggregate records' },
    );
    // Anything duplicated or extra would arrive by now.
    await new Promise((r) => setTimeout(r, 1_500));

    const clean = of(env.CLEAN_TOPIC).map((r) => ({ r, ...decodeValue<CleanEvent>(r.value) }));
    const cleanIds = clean.map((c) => c.record.event_id);
    expect(cleanIds.length).toBe(new Set(cleanIds).size);
    expect(new Set(cleanIds)).toEqual(new Set([...events, ...closers, late].map((e) => e.event_id)));
    const sample = clean.find((c) => c.record.event_id === 'ev-3');
    expect(sample?.schemaId).toBe(ids['click']);
    expect(sample?.r.key).toBe('user-3');
    expect(sample?.r.headers['event_type']).toBe('click');
    expect(sample?.record.enrichment).toMatchObject({ ua_browser: 'Chrome', ua_os: 'Windows', ua_device_type: 'desktop' });
    expect(sample?.record.received_at).toBe(events[3]?.received_at);

    const dlq = of(env.DLQ_TOPIC).map((r) => ({ r, info: parseDlqHeaders(r.headers) }));
    expect(dlq.map((d) => d.info?.errorCode).sort()).toEqual(['invalid_event_id', 'schema_violation', 'undecodable', 'unknown_event_type', 'unknown_schema']);
    const garbage = dlq.find((d) => d.info?.errorCode === 'undecodable');
    expect([garbage?.r.value.toString(), garbage?.r.key, garbage?.info?.originalTopic, garbage?.r.headers[DLQ_HEADERS.attempt]]).toEqual(['garbage', 'k1', env.RAW_TOPIC, '1']);

    const lateRecords = of(env.LATE_TOPIC);
    expect(lateRecords.map((r) => r.headers[LATE_HEADERS.aggregate]).sort()).toEqual(['active_users_5m', 'events_per_type_per_minute', 'user_sessions']);
    expect(lateRecords.every((r) => decodeValue<CleanEvent>(r.value).record.event_id === 'late-1' && r.headers[LATE_HEADERS.reason] === 'late')).toBe(true);

    const actual = latestAggregates(reader.records.filter((r) => r.topic.startsWith(env.AGGREGATE_TOPIC_PREFIX)), cutoff);
    expect(Object.fromEntries(actual)).toEqual(Object.fromEntries(expected));
    // Merged windows go out once: no key appears twice.
    const aggKeys = reader.records.filter((r) => r.topic.startsWith(env.AGGREGATE_TOPIC_PREFIX)).map((r) => r.key);
    expect(aggKeys.length).toBe(new Set(aggKeys).size);

    const metrics = await processor.metrics();
    expect(metricValue(metrics, 'pipeline_processor_events_total', { outcome: 'clean' })).toBe(events.length + 4);
    expect(metricValue(metrics, 'pipeline_processor_events_total', { outcome: 'duplicate' })).toBe(30);
    expect(metricValue(metrics, 'pipeline_processor_events_total', { outcome: 'dlq' })).toBe(5);
    expect(metrics).toMatch(new RegExp(`pipeline_processor_consumer_lag_messages\\{topic="${env.RAW_TOPIC.replace(/\./g, '\\.')}",partition="\\d"[^}]*\\} 0`));
    expect(metricValue(metrics, 'pipeline_processor_watermark_delay_seconds', { partition: '0' })).toBeGreaterThan(20 * 60);
    expect(metricValue(metrics, 'pipeline_processor_state_entries', { store: 'dedup' })).toBe(events.length + 4);
    expect(metricValue(metrics, 'pipeline_processor_transactions_total', { outcome: 'committed' })).toBeGreaterThan(0);
    expect(metricValue(metrics, 'pipeline_processor_transactions_total', { outcome: 'failed' })).toBe(0);
  });
});
