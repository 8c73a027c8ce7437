import { gzipSync } from 'node:zlib';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka } from '@pipeline/kafka';
import { DLQ_HEADERS, decodeValue } from '@pipeline/schemas';
import { createCleanup, waitFor } from '@pipeline/testing';
import {
  deleteSubjects,
  eventIds,
  isolatedEnv,
  makeEvent,
  metricValue,
  postEvents,
  quietLog,
  readTopic,
  registerSchema,
  scrape,
  settings,
  startInProcess,
  type InProcessCollector,
} from '../support/collector';

const cleanup = createCleanup();
const env = isolatedEnv('it_ingest', { MAX_BODY_BYTES: '20000', MAX_DECOMPRESSED_BYTES: '40000', MAX_BATCH_EVENTS: '20' });
const prefix = env['SCHEMA_SUBJECT_PREFIX'] as string;
const rawTopic = env['EVENTS_TOPIC'] as string;
const dlqTopic = env['DLQ_TOPIC'] as string;
let kafka: Kafka;
let admin: Admin;
let collector: InProcessCollector;
let pageViewId: number;

const pageViewV1 = { type: 'object', properties: { url: { type: 'string', maxLength: 2000 } }, required: ['url'], additionalProperties: false };

beforeAll(async () => {
  kafka = createKafka(settings, { clientId: 'producer-it-ingest', log: quietLog });
  admin = kafka.admin();
  await admin.connect();
  cleanup.add(() => admin.disconnect());
  cleanup.add(() => admin.deleteTopics({ topics: [rawTopic, dlqTopic] }).catch(() => undefined));
  cleanup.add(() => deleteSubjects(prefix));
  pageViewId = await registerSchema(`${prefix}page_view`, pageViewV1);
  collector = await startInProcess(env);
  cleanup.add(() => collector.stop());
});
afterAll(() => cleanup.run());

describe('collector -> Kafka (real broker and registry)', () => {
  it('creates its topics, answers 202 after the write, and the records carry the wire format and the user key', async () => {
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([rawTopic, dlqTopic]));
    const events = [makeEvent({ user_id: 'alice' }), makeEvent({ user_id: null, anonymous_id: 'anon-7' })];
    const res = await postEvents(collector.url, gzipSync(JSON.stringify(events)), { 'content-encoding': 'gzip' });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ accepted: 2, rejected: 0 });
    const ids = new Set(events.map((e) => e['event_id'] as string));
    const records = (await readTopic(kafka, rawTopic, (r) => eventIds(r).filter((id) => ids.has(id)).length === 2)).filter((r) => ids.has(decodeValue(r.value).record.event_id));
    const byId = new Map(records.map((r) => [decodeValue(r.value).record.event_id, r]));
    const alice = byId.get(events[0]?.['event_id'] as string);
    expect(alice?.key).toBe('alice');
    expect(alice?.value[0]).toBe(0);
    expect(alice?.value.readInt32BE(1)).toBe(pageViewId);
    const decoded = decodeValue(alice?.value as Buffer).record;
    expect(decoded).toMatchObject({ event_type: 'page_view', user_id: 'alice', anonymous_id: null, properties: { url: '/' }, context: {} });
    expect(Date.parse(decoded.received_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(byId.get(events[1]?.['event_id'] as string)?.key).toBe('anon-7');
  });

  it('refuses every class of bad input with a 4xx, a stable code and a counter, and writes only the good events', async () => {
    const before = await scrape(collector.url);
    const good = makeEvent();
    const dup = makeEvent();
    const deep = { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } };
    const mixed = [
      good,
      makeEvent({ event_id: undefined }),
      makeEvent({ user_id: 123 }),
      makeEvent({ properties: { url: 'x'.repeat(2001) } }),
      makeEvent({ context: { locale: 'x'.repeat(9000) } }),
      makeEvent({ context: deep }),
      makeEvent({ occurred_at: new Date(Date.now() + 2 * 3_600_000).toISOString() }),
      makeEvent({ occurred_at: new Date(Date.now() - 30 * 86_400_000).toISOString() }),
      dup,
      { ...dup },
      makeEvent({ event_type: 'not_registered' }),
    ];
    const res = await postEvents(collector.url, mixed);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { accepted: number; results: Array<{ status: string; errors?: Array<{ code: string; path: string }> }> };
    expect(body.accepted).toBe(2);
    expect(body.results.map((r) => (r.errors ? `${r.errors[0]?.code} ${r.errors[0]?.path}` : r.status))).toEqual([
      'accepted',
      'missing_field $[1].event_id',
      'wrong_type $[2].user_id',
      'schema_violation $[3].properties.url',
      'string_too_long $[4].context.locale',
      'too_deep $[5].context.a.b.c.d.e.f.g.h',
      'timestamp_in_future $[6].occurred_at',
      'timestamp_too_old $[7].occurred_at',
      'accepted',
      'duplicate_event_id $[9].event_id',
      'unknown_event_type $[10].event_type',
    ]);

    const requestLevel: Array<[string, string | Buffer, Record<string, string>, number, string]> = [
      ['malformed JSON', '[{"event_id":', {}, 400, 'malformed_json'],
      ['wrong content type', 'event=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
      ['body over the limit', JSON.stringify([makeEvent({ properties: { url: 'x'.repeat(25_000) } })]), {}, 413, 'body_too_large'],
      ['too many events', JSON.stringify(Array.from({ length: 21 }, () => makeEvent())), {}, 413, 'batch_too_large'],
      ['invalid UTF-8', Buffer.from([0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d]), {}, 400, 'invalid_utf8'],
      ['unknown write key', '[]', { authorization: 'Bearer wrong' }, 401, 'unauthorized'],
    ];
    for (const [what, payload, headers, status, code] of requestLevel) {
      const answer = await fetch(`${collector.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer integration-write-key`, ...headers },
        body: payload,
      });
      expect([what, answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([what, status, code]);
    }
    // Still healthy after all of it.
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);

    const after = await scrape(collector.url);
    for (const code of ['malformed_json', 'unsupported_media_type', 'body_too_large', 'batch_too_large', 'invalid_utf8', 'unauthorized']) {
      expect([code, metricValue(after, 'pipeline_producer_requests_rejected_total', { code }) - metricValue(before, 'pipeline_producer_requests_rejected_total', { code })]).toEqual([code, 1]);
    }
    for (const reason of ['missing_field', 'wrong_type', 'schema_violation', 'string_too_long', 'too_deep', 'timestamp_in_future', 'timestamp_too_old', 'duplicate_event_id', 'unknown_event_type']) {
      expect(metricValue(after, 'pipeline_producer_events_rejected_total', { reason }) - metricValue(before, 'pipeline_producer_events_rejected_total', { reason })).toBe(1);
    }

    const wanted = new Set([good['event_id'], dup['event_id']]);
    const seen = await readTopic(kafka, rawTopic, (r) => eventIds(r).filter((id) => wanted.has(id)).length >= 2);
    // Give a stray rejected record time to show up, then check exactly the two good ones (and the duplicate once) arrived.
    await new Promise((r) => setTimeout(r, 500));
    const fromThisTest = eventIds(seen).filter((id) => mixed.some((e) => e['event_id'] === id));
    expect(fromThisTest.sort()).toEqual([good['event_id'], dup['event_id']].sort());
  });

  it('applies a newly registered schema version without a restart', async () => {
    const withRef = () => makeEvent({ properties: { url: '/', ref: 'newsletter' } });
    const first = await postEvents(collector.url, [withRef()]);
    expect(first.status).toBe(400);
    expect(JSON.stringify(await first.json())).toContain('schema_violation');
    const v2 = await registerSchema(`${prefix}page_view`, { ...pageViewV1, properties: { ...pageViewV1.properties, ref: { type: 'string' } } });
    expect(v2).not.toBe(pageViewId);
    const event = await waitFor(
      async () => {
        const e = withRef();
        return (await postEvents(collector.url, [e])).status === 202 ? e : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the collector to accept the v2 event' },
    );
    const records = await readTopic(kafka, rawTopic, (r) => eventIds(r).includes(event['event_id'] as string));
    const record = records.find((r) => decodeValue(r.value).record.event_id === event['event_id']);
    expect(record?.value.readInt32BE(1)).toBe(v2);
  });

  it('with UNKNOWN_EVENT_TYPES=dlq, accepts unknown types into the DLQ topic with the DLQ headers', async () => {
    const dlqCollector = await startInProcess({ ...isolatedEnv('it_ingest_dlq'), EVENTS_TOPIC: rawTopic, DLQ_TOPIC: dlqTopic, SCHEMA_SUBJECT_PREFIX: prefix, UNKNOWN_EVENT_TYPES: 'dlq' });
    try {
      const unknown = makeEvent({ event_type: 'mystery_event', properties: { anything: [1, 2] } });
      const res = await postEvents(dlqCollector.url, [unknown, makeEvent()]);
      expect(res.status).toBe(202);
      const body = (await res.json()) as { accepted: number; results: Array<{ warning?: { code: string; path: string } }> };
      expect(body.accepted).toBe(2);
      expect(body.results[0]?.warning).toMatchObject({ code: 'unknown_event_type', path: '$[0].event_type' });
      const records = await readTopic(kafka, dlqTopic, (r) => eventIds(r).includes(unknown['event_id'] as string));
      const record = records.find((r) => decodeValue(r.value).record.event_id === unknown['event_id']);
      expect(record?.value[0]).toBe(0x7b);
      expect(record?.headers).toMatchObject({ [DLQ_HEADERS.errorCode]: 'unknown_event_type', [DLQ_HEADERS.originalTopic]: rawTopic, [DLQ_HEADERS.attempt]: '1', 'x-dlq-source': 'collector' });
      expect(metricValue(await scrape(dlqCollector.url), 'pipeline_producer_events_accepted_total', { topic: 'dlq' })).toBe(1);
    } finally {
      await dlqCollector.stop();
    }
  });
});
