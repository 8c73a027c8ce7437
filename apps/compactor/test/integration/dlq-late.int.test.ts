import { DLQ_HEADERS, EVENT_TYPE_HEADER, LATE_HEADERS, buildDlqHeaders, encodeFramedValue, encodeUnframedValue } from '@pipeline/schemas';
import { createCleanup, waitFor } from '@pipeline/testing';
import {
  cleanEvent,
  createTopics,
  dropScenario,
  kafka,
  killCompactors,
  scenario,
  sql,
  startCompactor,
  transactionalProducer,
  type CompactorProcess,
} from '../support/harness';

const cleanup = createCleanup();
const s = scenario('cmp_dlq_late');
afterAll(async () => {
  killCompactors();
  await cleanup.run();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Math.floor(Date.now() / 1000) * 1000;
const iso6 = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

const dlqTable = `lake.${s.namespace}.events_dlq`;
const lateTable = `lake.${s.namespace}.events_late`;

const DLQ_SELECT = `SELECT to_iso8601(failed_at), error_code, reason, attempt, original_topic, original_partition, CAST(original_offset AS varchar), event_id, event_type, payload, payload_encoding, schema_id
  FROM ${dlqTable}`;
const lateSelect = (where = 'true') => `SELECT event_id, event_type, to_iso8601(occurred_at), user_id, json_extract_scalar(properties, '$.url'), json_extract_scalar(context, '$.locale'), ua_browser, schema_id,
  late_aggregate, late_reason, to_iso8601(late_window_start), to_iso8601(late_window_end), to_iso8601(late_watermark), _kafka_topic
  FROM ${lateTable} WHERE ${where} ORDER BY event_id, late_aggregate`;

async function count(table: string): Promise<{ rows: number; distinct: number }> {
  const res = await sql(`SELECT count(*), count(DISTINCT (_kafka_topic, _kafka_partition, _kafka_offset)) FROM ${table}`);
  const [rows, distinct] = res.rows[0] as [number, number];
  return { rows, distinct };
}

async function waitForCount(table: string, n: number, what: string): Promise<{ rows: number; distinct: number }> {
  return waitFor(async () => {
    const c = await count(table);
    return c.rows >= n ? c : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500, what });
}

/** Records on a topic nobody deletes from or writes to transactionally (every offset is a record). */
async function topicRecords(topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Whether `group` committed the end of every non-empty partition of a non-transactional topic. */
async function caughtUp(group: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return ends.every((e) => e.high === '0' || committed?.partitions.find((p) => p.partition === e.partition)?.offset === e.high);
  } finally {
    await admin.disconnect();
  }
}

describe('compactor: the DLQ and late topics land in events_dlq and events_late', () => {
  let compactor: CompactorProcess;
  const eventId = (n: string) => `${s.id}-${n}`;
  const processorHeaders = buildDlqHeaders({
    originalTopic: 'events.raw',
    originalPartition: 4,
    originalOffset: '9007199254740993',
    errorCode: 'schema_validation_failed',
    attempt: 1,
    reason: 'properties.url: expected string',
  });
  const collectorHeaders = buildDlqHeaders({ originalTopic: 'events.raw', originalPartition: 0, originalOffset: '17', errorCode: 'unknown_event_type', attempt: 2, reason: 'no schema for trial_started' });
  const framed = { event_id: eventId('d1'), event_type: 'page_view', occurred_at: new Date(NOW).toISOString(), properties: { url: 5 } };
  const unframed = { event_id: eventId('d2'), event_type: 'trial_started', occurred_at: new Date(NOW).toISOString(), properties: {} };
  const malformed = { event_id: eventId('d5'), event_type: 'click' };
  const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x80]);

  beforeAll(async () => {
    await createTopics(s, 2);
    cleanup.add(() => dropScenario(s));
  });

  it('lands every DLQ and late record once, with its headers as columns, and never dead-letters a DLQ record again', async () => {
    const plain = kafka.producer();
    await plain.connect();
    cleanup.add(() => plain.disconnect());
    await plain.send({
      topic: s.dlqTopic,
      messages: [
        { key: 'u1', value: encodeFramedValue(123, framed), timestamp: String(NOW - HOUR), headers: { ...processorHeaders, 'x-dlq-source': 'stream-processor', [EVENT_TYPE_HEADER]: 'page_view' } },
        { key: 'u2', value: encodeUnframedValue(unframed), timestamp: String(NOW - 2 * DAY), headers: { ...collectorHeaders, 'x-dlq-source': 'collector' } },
        { key: 'u3', value: garbage, timestamp: String(NOW - HOUR + 1), headers: { ...processorHeaders, [DLQ_HEADERS.errorCode]: 'invalid_input', [DLQ_HEADERS.reason]: 'not a pipeline value' } },
        { key: null, value: Buffer.from('no headers at all'), timestamp: String(NOW - HOUR + 2) },
        {
          key: 'u5',
          value: encodeFramedValue(7, malformed),
          timestamp: String(NOW - HOUR + 3),
          headers: { [DLQ_HEADERS.errorCode]: 'processing_error', [DLQ_HEADERS.originalPartition]: 'x', [DLQ_HEADERS.originalOffset]: '99999999999999999999', [DLQ_HEADERS.attempt]: 'abc' },
        },
      ],
    });
    // The compactor dead-letters this itself (not a pipeline value); its DLQ record lands too.
    await plain.send({ topic: s.eventsTopic, messages: [{ key: 'u6', value: Buffer.from('not json at all') }] });

    const occurred = NOW - 3 * HOUR;
    const windowStart = Math.floor(occurred / 60_000) * 60_000;
    const late = (n: string, at: number) => ({ ...cleanEvent(s.id, 0, 'page_view', { url: `/${n}` }, NOW), event_id: eventId(n), occurred_at: new Date(at).toISOString() });
    const lateHeaders = (aggregate: string, watermark: number | undefined) => ({
      [EVENT_TYPE_HEADER]: 'page_view',
      [LATE_HEADERS.aggregate]: aggregate,
      [LATE_HEADERS.reason]: 'late',
      [LATE_HEADERS.windowStart]: watermark === undefined ? '' : new Date(windowStart).toISOString(),
      [LATE_HEADERS.windowEnd]: watermark === undefined ? '' : new Date(windowStart + 60_000).toISOString(),
      [LATE_HEADERS.watermark]: watermark === undefined ? '' : new Date(watermark).toISOString(),
    });
    const producer = await transactionalProducer(s.id);
    cleanup.add(() => producer.disconnect());
    const tx = await producer.transaction();
    await tx.send({
      topic: s.lateTopic,
      messages: [
        { key: 'u1', value: encodeFramedValue(31, late('l1', occurred)), headers: lateHeaders('events_per_type_per_minute', NOW - 60_000) },
        { key: 'u1', value: encodeFramedValue(31, late('l1', occurred)), headers: lateHeaders('active_users_5m', NOW - 120_000) },
        { key: 'u2', value: encodeFramedValue(31, late('l2', NOW + 2 * DAY)), headers: { [EVENT_TYPE_HEADER]: 'page_view', [LATE_HEADERS.aggregate]: '*', [LATE_HEADERS.reason]: 'future_time' } },
        { key: 'u3', value: encodeUnframedValue(late('l3', occurred)), headers: lateHeaders('user_sessions', undefined) },
        // Not a pipeline value: the compactor dead-letters it, and the DLQ table lands that.
        { key: 'u4', value: Buffer.from('{broken'), headers: lateHeaders('user_sessions', undefined) },
      ],
    });
    await tx.commit();

    compactor = await startCompactor(s);
    cleanup.add(() => compactor.stop());
    expect(await waitForCount(lateTable, 4, '4 rows in events_late')).toEqual({ rows: 4, distinct: 4 });
    expect(await waitForCount(dlqTable, 7, '7 rows in events_dlq')).toEqual({ rows: 7, distinct: 7 });

    const fromProducers = await sql(`${DLQ_SELECT} WHERE original_topic IS NULL OR original_topic NOT LIKE '${s.id}%' ORDER BY _kafka_offset`);
    expect(fromProducers.rows).toEqual([
      [iso6(NOW - HOUR), 'schema_validation_failed', 'properties.url: expected string', 1, 'events.raw', 4, '9007199254740993', eventId('d1'), 'page_view', JSON.stringify(framed), 'utf8', 123],
      [iso6(NOW - 2 * DAY), 'unknown_event_type', 'no schema for trial_started', 2, 'events.raw', 0, '17', eventId('d2'), 'trial_started', JSON.stringify(unframed), 'utf8', null],
      [iso6(NOW - HOUR + 1), 'invalid_input', 'not a pipeline value', 1, 'events.raw', 4, '9007199254740993', null, null, garbage.toString('base64'), 'base64', null],
      [iso6(NOW - HOUR + 2), 'unknown', null, null, null, null, null, null, null, 'no headers at all', 'utf8', null],
      [iso6(NOW - HOUR + 3), 'processing_error', null, null, null, null, null, eventId('d5'), 'click', JSON.stringify(malformed), 'utf8', 7],
    ]);
    // What the compactor dead-lettered itself, with the standard headers, landed once.
    const fromCompactor = await sql(
      `SELECT original_topic, error_code, attempt, payload, event_id, failed_at > TIMESTAMP '${new Date(NOW - 60_000).toISOString().replace('T', ' ').replace('Z', '')} UTC' FROM ${dlqTable} WHERE original_topic LIKE '${s.id}%' ORDER BY original_topic`,
    );
    expect(fromCompactor.rows).toEqual([
      [s.eventsTopic, 'invalid_input', 1, 'not json at all', null, true],
      [s.lateTopic, 'invalid_input', 1, '{broken', null, true],
    ]);
    const partitions = await sql(`SELECT CAST(partition.failed_at_day AS varchar), record_count FROM lake.${s.namespace}."events_dlq$partitions" ORDER BY 1`);
    expect(partitions.rows.map((r) => r[0])).toEqual([...new Set([NOW - 2 * DAY, NOW - HOUR, Date.now()].map((ms) => new Date(ms).toISOString().slice(0, 10)))].sort());

    const lateRows = await sql(lateSelect());
    const at = iso6(occurred);
    const window = [iso6(windowStart), iso6(windowStart + 60_000)];
    expect(lateRows.rows).toEqual([
      [eventId('l1'), 'page_view', at, 'user-0', '/l1', 'en-US', 'Chrome', 31, 'active_users_5m', 'late', ...window, iso6(NOW - 120_000), s.lateTopic],
      [eventId('l1'), 'page_view', at, 'user-0', '/l1', 'en-US', 'Chrome', 31, 'events_per_type_per_minute', 'late', ...window, iso6(NOW - 60_000), s.lateTopic],
      [eventId('l2'), 'page_view', iso6(NOW + 2 * DAY), 'user-0', '/l2', 'en-US', 'Chrome', 31, '*', 'future_time', null, null, null, s.lateTopic],
      [eventId('l3'), 'page_view', at, 'user-0', '/l3', 'en-US', 'Chrome', null, 'user_sessions', 'late', null, null, null, s.lateTopic],
    ]);
    const types = await sql(`SELECT typeof(failed_at), typeof(attempt), typeof(original_partition), typeof(original_offset) FROM ${dlqTable} LIMIT 1`);
    expect(types.rows).toEqual([['timestamp(6) with time zone', 'integer', 'integer', 'bigint']]);

    // The DLQ table commits its own high-water marks, like every table.
    const marks = await sql(`SELECT element_at(summary, 'pipeline.kafka-offsets') FROM lake.${s.namespace}."events_dlq$snapshots" ORDER BY committed_at DESC LIMIT 1`);
    expect(JSON.parse(String(marks.rows[0]?.[0]))[s.dlqTopic]).toEqual({ '0': String(await topicRecords(s.dlqTopic)) });
    expect(await compactor.metric('pipeline_compactor_rows_written_total', { table_kind: 'dlq' })).toBe(7);
    expect(await compactor.metric('pipeline_compactor_rows_written_total', { table_kind: 'late' })).toBe(4);
    // Only the two records above were dead-lettered by the compactor: nothing of the DLQ topic went back to it.
    expect(await compactor.metric('pipeline_compactor_dlq_records_total')).toBe(2);
    expect(await topicRecords(s.dlqTopic)).toBe(7);
    const loops = await sql(`SELECT count(*) FROM ${dlqTable} WHERE original_topic = '${s.dlqTopic}'`);
    expect(loops.rows).toEqual([[0]]);
    expect(await compactor.stop()).toEqual({ code: 0, signal: null });
  });

  it('adds what arrived while it was down and duplicates nothing after a restart, even with the Kafka offsets lost', async () => {
    const before = { dlq: (await sql(`${DLQ_SELECT} ORDER BY _kafka_offset`)).rows, late: (await sql(lateSelect())).rows };
    const plain = kafka.producer();
    await plain.connect();
    cleanup.add(() => plain.disconnect());
    await plain.send({ topic: s.dlqTopic, messages: [{ key: 'u7', value: encodeFramedValue(1, { event_id: eventId('d7'), event_type: 'page_view' }), headers: processorHeaders }] });
    await plain.send({
      topic: s.lateTopic,
      messages: [{ key: 'u8', value: encodeFramedValue(31, { ...cleanEvent(s.id, 8, 'page_view', {}, NOW), event_id: eventId('l8') }), headers: { [LATE_HEADERS.aggregate]: 'user_sessions', [LATE_HEADERS.reason]: 'late' } }],
    });

    // Same group: it goes on from the committed offsets.
    let restarted = await startCompactor(s, {}, 'restart');
    cleanup.add(() => restarted.stop());
    expect(await waitForCount(lateTable, 5, '5 rows in events_late')).toEqual({ rows: 5, distinct: 5 });
    expect(await waitForCount(dlqTable, 8, '8 rows in events_dlq')).toEqual({ rows: 8, distinct: 8 });
    expect(await restarted.stop()).toEqual({ code: 0, signal: null });

    // A new group reads every topic from the start (as after a crash between the table commit and
    // the offset commit): the tables' high-water marks skip what they hold.
    const fresh = `${s.group}-fresh`;
    restarted = await startCompactor(s, { GROUP_ID: fresh }, 'fresh-group');
    await waitFor(async () => (await restarted.metric('pipeline_compactor_records_skipped_total', { reason: 'committed' })) >= 8 + 5, {
      timeoutMs: 60_000,
      what: 'the DLQ and late records skipped by the high-water marks',
    });
    // A record the compactor dead-lettered without a table commit (the events record: its flush held
    // nothing else, so no high-water mark covers it) is dead-lettered again when re-read, before its
    // offset is committed; whatever the DLQ topic then holds lands exactly once.
    await waitFor(() => caughtUp(fresh, s.eventsTopic), { timeoutMs: 60_000, what: 'the events topic re-read by the new group' });
    const dlqRecords = await waitFor(
      async () => {
        const records = await topicRecords(s.dlqTopic);
        const c = await count(dlqTable);
        return c.rows === records ? { records, ...c } : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'events_dlq holding every record of the DLQ topic' },
    );
    expect(dlqRecords.distinct).toBe(dlqRecords.rows);
    expect(await count(lateTable)).toEqual({ rows: 5, distinct: 5 });
    expect((await sql(`${DLQ_SELECT} WHERE _kafka_offset < 7 ORDER BY _kafka_offset`)).rows).toEqual(before.dlq);
    expect((await sql(lateSelect(`event_id <> '${eventId('l8')}'`))).rows).toEqual(before.late);
    expect(await restarted.metric('pipeline_compactor_rows_written_total', { table_kind: 'late' })).toBe(0);
    expect(await restarted.stop()).toEqual({ code: 0, signal: null });
  });
});
