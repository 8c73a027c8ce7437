import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pipeline, waitFor } from '@pipeline/testing';
import { parseAggregateConfig, type AggregateSpec, type WindowingConfig } from '@pipeline/windowing';
import { jsonColumn, trinoTimestampMs } from '../../src/lake-values';
import { latestWindowsSql, recomputeSql, toWindowRows } from '../../src/recompute-sql';
import { expectedWindows, type WindowRow } from '../../src/windows';
import { partitionOf, postEvents, sendAccepted, type CollectorAnswer } from '../support/collector';
import { sql } from '../support/query-api';

/**
 * The whole pipeline on the real stack, checked through the query API only: a known set of events
 * goes in through the collector, and every table of the lake must say exactly what was sent.
 */

const SECOND = 1_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const PARTITIONS = 3;

/** Short windows and lateness, so windows close within the test (the shipped file uses 1 min lateness and 30 min sessions). */
const AGGREGATES = {
  timeField: 'occurred_at',
  watermark: { maxOutOfOrderness: '5s', allowedLateness: '10s', idleTimeout: '20s', maxFuture: '5m' },
  aggregates: [
    {
      name: 'events_per_type_per_minute',
      window: { type: 'tumbling', size: '1m' },
      groupBy: ['event_type'],
      measures: [{ kind: 'count' }, { kind: 'sum', field: 'properties.price', name: 'revenue' }],
    },
    { name: 'active_users_5m', window: { type: 'hopping', size: '5m', slide: '1m' }, measures: [{ kind: 'distinct', field: 'user_key', name: 'active_users' }] },
    { name: 'user_sessions', window: { type: 'session', gap: '2m' }, groupBy: ['user_key'], measures: [{ kind: 'count', name: 'events' }, { kind: 'duration' }] },
  ],
};
const MAX_OUT_OF_ORDER_MS = 5 * SECOND;

function parsedAggregates(): WindowingConfig {
  const parsed = parseAggregateConfig(AGGREGATES);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}
const WINDOWING = parsedAggregates();

const SCHEMAS: Record<string, object> = {
  page_view: {
    type: 'object',
    properties: { url: { type: 'string' }, title: { type: 'string' }, duration_ms: { type: 'integer', minimum: 0 }, scroll_depth: { type: 'number' } },
    required: ['url'],
  },
  purchase: {
    type: 'object',
    properties: {
      order_id: { type: 'string' },
      price: { type: 'number' },
      quantity: { type: 'integer' },
      gift: { type: 'boolean' },
      shipping: { type: 'object', properties: { country: { type: 'string' }, express: { type: 'boolean' } } },
      items: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } } } },
    },
    required: ['order_id', 'price'],
  },
  signup: {
    type: 'object',
    properties: { plan: { type: 'string', enum: ['free', 'pro'] }, trial: { type: 'boolean' }, referrer: { type: 'object', properties: { source: { type: 'string' }, campaign: { type: 'string' } } } },
    required: ['plan'],
  },
  // `price` is a string here and a number in purchase: both are valid events, but the lake has one prop_price column.
  refund: { type: 'object', properties: { order_id: { type: 'string' }, price: { type: 'string' } }, required: ['order_id', 'price'] },
};

/** Column types of the events table the schemas above must produce (apps/compactor/README.md). */
const EVENT_COLUMN_TYPES: Record<string, string> = {
  event_id: 'varchar',
  event_type: 'varchar',
  occurred_at: 'timestamp(6) with time zone',
  received_at: 'timestamp(6) with time zone',
  processed_at: 'timestamp(6) with time zone',
  user_id: 'varchar',
  anonymous_id: 'varchar',
  ua_browser: 'varchar',
  ua_browser_version: 'varchar',
  ua_os: 'varchar',
  ua_device_type: 'varchar',
  context: 'varchar',
  properties_extra: 'varchar',
  schema_id: 'integer',
  _kafka_topic: 'varchar',
  _kafka_partition: 'integer',
  _kafka_offset: 'bigint',
  prop_url: 'varchar',
  prop_title: 'varchar',
  prop_duration_ms: 'bigint',
  prop_scroll_depth: 'double',
  prop_order_id: 'varchar',
  prop_price: 'double',
  prop_quantity: 'bigint',
  prop_gift: 'boolean',
  prop_shipping: 'varchar',
  prop_items: 'varchar',
  prop_plan: 'varchar',
  prop_trial: 'boolean',
  prop_referrer: 'varchar',
};
const JSON_PROPERTIES = new Set(['shipping', 'items', 'referrer']);

const AGENTS = [
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    parsed: { ua_browser: 'Chrome', ua_browser_version: '131.0.0.0', ua_os: 'Windows', ua_device_type: 'desktop' },
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
    parsed: { ua_browser: 'Mobile Safari', ua_browser_version: '17.5', ua_os: 'iOS', ua_device_type: 'mobile' },
  },
  { ua: undefined, parsed: { ua_browser: null, ua_browser_version: null, ua_os: null, ua_device_type: null } },
];

interface TestEvent {
  event_id: string;
  event_type: string;
  occurred_at: string;
  user_id?: string;
  anonymous_id?: string;
  properties: Record<string, unknown>;
  context?: Record<string, unknown>;
  /** Not sent: the event time in ms, and what the collector's answer said about when it arrived. */
  atMs: number;
}

/** The event as JSON for the collector (without the test's own fields). */
const wire = ({ atMs: _atMs, ...e }: TestEvent) => e;
const userKey = (e: { user_id?: string | null; anonymous_id?: string | null }) => (e.user_id ?? e.anonymous_id) as string;

/** mulberry32: the same events on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** occurred_at in one of the forms the envelope accepts; the lake holds it in UTC at millisecond precision. */
function timeText(ms: number, form: number): string {
  const iso = new Date(ms).toISOString();
  if (form === 1) return iso.replace('Z', '456Z'); // microseconds: truncated
  if (form === 2) {
    const shifted = new Date(ms + 2 * 3_600_000).toISOString();
    return `${shifted.slice(0, 23)}+02:00`;
  }
  return iso;
}

const USERS = ['u01', 'u02', 'u03', 'u04', 'u05', 'u06', 'u07', 'u08', 'u09', 'u10', 'anon-a', 'anon-b', 'anon-c'];

function properties(type: string, n: number, rnd: () => number): Record<string, unknown> {
  switch (type) {
    case 'purchase':
      return {
        order_id: `o-${n}`,
        price: n % 4 === 0 ? 20 : Math.round(rnd() * 10_000) / 100,
        quantity: 1 + (n % 3),
        gift: n % 2 === 0,
        shipping: { country: n % 2 === 0 ? 'DE' : 'FR', express: n % 3 === 0 },
        items: [{ sku: `sku-${n}`, qty: 1 }, { sku: 'sku-common', qty: 2 }],
      };
    case 'signup':
      return { plan: n % 2 === 0 ? 'free' : 'pro', trial: n % 3 !== 0, referrer: { source: 'newsletter', campaign: `c-${n % 4}` } };
    default: {
      const props: Record<string, unknown> = { url: `/p/${n % 17}`, title: `Page ${n % 17}`, duration_ms: Math.floor(rnd() * 60_000), scroll_depth: Math.round(rnd() * 100) / 100 };
      // Not in the schema (which allows more properties): lands in properties_extra.
      if (n % 10 === 0) props['experiment'] = { arm: 'b', since: 3 };
      return props;
    }
  }
}

function makeEvent(id: string, type: string, atMs: number, user: string, n: number, rnd: () => number): TestEvent {
  const agent = AGENTS[n % AGENTS.length] as (typeof AGENTS)[number];
  const context: Record<string, unknown> = { locale: n % 2 === 0 ? 'de-DE' : 'en-US', app_version: '3.1.0', library: { name: 'e2e', version: '1' }, screen: { width: 390, height: 844 } };
  if (agent.ua !== undefined) context['user_agent'] = agent.ua;
  return {
    event_id: id,
    event_type: type,
    occurred_at: timeText(atMs, n % 3),
    ...(user.startsWith('anon-') ? { anonymous_id: user } : { user_id: user }),
    properties: properties(type, n, rnd),
    ...(n % 11 === 5 ? {} : { context }),
    atMs,
  };
}

const cleanup: Array<() => Promise<unknown>> = [];
let p: Pipeline;
const schemaIds: Record<string, number> = {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-aggregates-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const aggregatesFile = join(dir, 'aggregates.json');
  writeFileSync(aggregatesFile, JSON.stringify(AGGREGATES));
  p = await Pipeline.start({
    name: 'e2e_correct',
    partitions: PARTITIONS,
    appEnv: {
      'stream-processor': { AGGREGATES_FILE: aggregatesFile },
      // Unknown types go to the DLQ instead of being refused; and a collector that takes events up to
      // 400 days old in front of a processor that takes 365 (see the DLQ test below).
      producer: { UNKNOWN_EVENT_TYPES: 'dlq', MAX_EVENT_AGE_MS: String(400 * DAY) },
    },
  });
  cleanup.push(() => p.destroy());
  for (const [type, schema] of Object.entries(SCHEMAS)) schemaIds[type] = await p.registerSchema(type, schema);
}, 180_000);

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

describe('pipeline end to end (collector -> processor -> compactor -> Trino -> query API)', () => {
  const rnd = random(7);
  const now = Date.now();
  const base = Math.floor((now - 40 * MINUTE) / MINUTE) * MINUTE;
  /** Windows of the main traffic end by then; the closers and refunds come later. */
  const cutoff = base + 25 * MINUTE;

  // 300 events over 20 minutes; each visitor is away in some 3-minute stretches, so sessions split.
  const main: TestEvent[] = [];
  for (let n = 0; n < 300; n++) {
    const atMs = base + n * 4 * SECOND + Math.floor(rnd() * 1_000);
    const block = Math.floor((atMs - base) / (3 * MINUTE));
    const present = USERS.filter((u, i) => (i + block) % 4 !== 0 || u === 'u01');
    const user = present[Math.floor(rnd() * present.length)] as string;
    const type = n % 10 < 6 ? 'page_view' : n % 10 < 9 ? 'purchase' : 'signup';
    main.push(makeEvent(`ev-${String(n).padStart(3, '0')}`, type, atMs, user, n, rnd));
  }
  // Out of order: every 25th event is sent after the two that follow it (at most ~9 s late, within
  // maxOutOfOrderness + allowedLateness, so every aggregate still counts it).
  const sendOrder = [...main];
  const outOfOrder: string[] = [];
  for (let i = 10; i + 2 < sendOrder.length; i += 25) {
    const [e] = sendOrder.splice(i, 1) as [TestEvent];
    sendOrder.splice(i + 2, 0, e);
    outOfOrder.push(e.event_id);
  }

  // Dead letters the collector accepts: an event type without a schema (the collector's DLQ), and
  // events older than the processor's 365-day limit (the processor's DLQ).
  const mystery = [0, 1].map((k) => ({ ...makeEvent(`dlq-mystery-${k}`, 'mystery_event', base + (5 + k) * MINUTE, 'u02', k, rnd), properties: { anything: [k, 'goes'] } }));
  const tooOld = [0, 1].map((k) => makeEvent(`dlq-old-${k}`, 'page_view', now - 370 * DAY + k * SECOND, k === 0 ? 'u05' : 'anon-c', k, rnd));
  // The collector refuses these, each for its own reason.
  const goodTime = new Date(base + 7 * MINUTE).toISOString();
  const refused = [
    { event: { event_id: 'bad-no-type', occurred_at: goodTime, user_id: 'u01', properties: {} }, code: 'missing_field', field: 'event_type' },
    { event: { event_id: 'bad-time', event_type: 'page_view', occurred_at: 'yesterday', user_id: 'u01', properties: { url: '/' } }, code: 'invalid_timestamp', field: 'occurred_at' },
    { event: { event_id: 'bad-price', event_type: 'purchase', occurred_at: goodTime, user_id: 'u02', properties: { order_id: 'o-x', price: 'ten' } }, code: 'schema_violation', field: 'properties.price' },
    { event: { event_id: 'bad-nobody', event_type: 'page_view', occurred_at: goodTime, properties: { url: '/' } }, code: 'missing_field', field: 'user_id' },
    { event: { event_id: 'bad-field', event_type: 'page_view', occurred_at: goodTime, user_id: 'u03', properties: { url: '/' }, colour: 'red' }, code: 'unknown_field', field: 'colour' },
    { event: { event_id: 'bad-future', event_type: 'page_view', occurred_at: new Date(now + 2 * 3_600_000).toISOString(), user_id: 'u03', properties: { url: '/' } }, code: 'timestamp_in_future', field: 'occurred_at' },
  ];

  // Retries of delivered events (across batches): the processor drops them by event_id. One retry
  // carries other properties: the first delivery wins.
  const retried = main.filter((_, i) => i % 15 === 7);
  const changedRetry = { ...(main[42] as TestEvent), properties: { url: '/changed', title: 'changed' } };

  // One event per raw partition far ahead: every partition's watermark passes the main windows.
  const closerUsers = [0, 1, 2].map((partition) => {
    for (let k = 0; ; k++) if (partitionOf(`closer-${k}`, PARTITIONS) === partition) return `closer-${k}`;
  });
  const closers = closerUsers.map((user, i) => makeEvent(`closer-${i}`, 'page_view', base + 30 * MINUTE + i * SECOND, user, i, rnd));
  const watermarkAfterClosers = (e: { user_id?: string; anonymous_id?: string }) => {
    const partition = partitionOf(userKey(e), PARTITIONS);
    return (closers.find((c) => partitionOf(userKey(c), PARTITIONS) === partition) as TestEvent).atMs - MAX_OUT_OF_ORDER_MS;
  };
  // Then events from well before that watermark: late for every aggregate.
  const late = [
    makeEvent('late-0', 'page_view', base + 3 * MINUTE + 7 * SECOND, 'u03', 3, rnd),
    makeEvent('late-1', 'purchase', base + 8 * MINUTE + 30 * SECOND, 'anon-b', 8, rnd),
    makeEvent('late-2', 'signup', base + 12 * MINUTE, 'u07', 9, rnd),
  ];
  // Valid for the collector and the processor, but `price` cannot go into the lake's double column.
  const refunds = [0, 1].map((k) => ({ ...makeEvent(`refund-${k}`, 'refund', base + 31 * MINUTE + k * SECOND, 'refunder', k, rnd), properties: { order_id: `o-${k}`, price: '12.50' } }));

  const answers = new Map<string, CollectorAnswer>();
  const remember = (events: readonly { event_id?: unknown }[], answer: CollectorAnswer) => {
    for (const e of events) if (typeof e.event_id === 'string' && !answers.has(e.event_id)) answers.set(e.event_id, answer);
  };

  it('answers each event of a batch with its own status', async () => {
    const batches: TestEvent[][] = [];
    for (let i = 0; i < sendOrder.length; i += 40) batches.push(sendOrder.slice(i, i + 40));
    for (const [b, batch] of batches.entries()) {
      if (b !== 3) {
        remember(batch, await sendAccepted(p, batch.map(wire)));
        continue;
      }
      // One batch mixes good events, refused ones, a copy of an id already in the batch, and dead letters.
      const sameIdTwice = { ...wire(batch[0] as TestEvent), properties: { url: '/second' } };
      const body = [...batch.map(wire), ...refused.map((r) => r.event), sameIdTwice, ...mystery.map(wire), ...tooOld.map(wire)];
      const answer = await postEvents(p, body);
      remember([...batch, ...mystery, ...tooOld], answer);
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ accepted: batch.length + mystery.length + tooOld.length, rejected: refused.length + 1 });
      const results = answer.body.results ?? [];
      expect(results).toHaveLength(body.length);
      for (let i = 0; i < batch.length; i++) expect(results[i]).toEqual({ index: i, event_id: (batch[i] as TestEvent).event_id, status: 'accepted' });
      refused.forEach((r, k) => {
        const index = batch.length + k;
        expect(results[index]).toMatchObject({ index, status: 'rejected', errors: [expect.objectContaining({ code: r.code, path: `$[${index}].${r.field}` })] });
      });
      const dupIndex = batch.length + refused.length;
      expect(results[dupIndex]).toMatchObject({ index: dupIndex, event_id: sameIdTwice.event_id, status: 'rejected', errors: [expect.objectContaining({ code: 'duplicate_event_id', path: `$[${dupIndex}].event_id` })] });
      mystery.forEach((m, k) => {
        const index = dupIndex + 1 + k;
        expect(results[index]).toEqual({ index, event_id: m.event_id, status: 'accepted', warning: expect.objectContaining({ code: 'unknown_event_type', path: `$[${index}].event_type` }) });
      });
      tooOld.forEach((o, k) => expect(results[dupIndex + 1 + mystery.length + k]).toEqual({ index: dupIndex + 1 + mystery.length + k, event_id: o.event_id, status: 'accepted' }));
    }

    // A batch with nothing valid writes nothing.
    const allBad = refused.slice(0, 3).map((r) => r.event);
    const rejected = await postEvents(p, allBad);
    expect(rejected.status).toBe(400);
    expect(rejected.body).toMatchObject({ error: { code: 'all_events_rejected' }, accepted: 0, rejected: 3 });
    expect(rejected.body.results?.map((r) => [r.status, r.errors?.[0]?.code])).toEqual(refused.slice(0, 3).map((r) => ['rejected', r.code]));

    await sendAccepted(p, [...retried.map(wire), wire(changedRetry)]);
    remember(closers, await sendAccepted(p, closers.map(wire)));
    remember(late, await sendAccepted(p, late.map(wire)));
  });

  /** What each table must hold. */
  const clean = () => [...main, ...closers, ...late];
  const counted = () => main; // closers open windows past the cutoff; late events miss theirs

  it('lands every accepted event in the events table exactly once, with its values and types', async () => {
    const expected = clean();
    await waitFor(async () => Number((await sql(p, 'SELECT count(*) AS n FROM events')).rows[0]?.['n']) >= expected.length, { timeoutMs: 120_000, intervalMs: 1_000, what: `${expected.length} events in the lake` });
    // Now the refunds: the events table has prop_price as double, so the lake refuses their string price.
    remember(refunds, await sendAccepted(p, refunds.map(wire)));

    const result = await sql(p, 'SELECT * FROM events ORDER BY event_id');
    const types = Object.fromEntries(result.columns.map((c) => [c.name, c.type]));
    expect(types).toEqual(EVENT_COLUMN_TYPES);

    const rows = result.rows;
    expect(rows.map((r) => r['event_id'])).toEqual(expected.map((e) => e.event_id).sort());
    const offsets = new Set(rows.map((r) => `${r['_kafka_partition']}|${r['_kafka_offset']}`));
    expect(offsets.size).toBe(rows.length);

    const byId = new Map(rows.map((r) => [r['event_id'] as string, r]));
    for (const e of expected) {
      const row = byId.get(e.event_id) as Record<string, unknown>;
      const agent = AGENTS.find((a) => a.ua === e.context?.['user_agent']) ?? (AGENTS[2] as (typeof AGENTS)[number]);
      const declared = Object.keys((SCHEMAS[e.event_type] as { properties: object }).properties);
      const extra = Object.fromEntries(Object.entries(e.properties).filter(([k]) => !declared.includes(k)));
      const props: Record<string, unknown> = {};
      for (const column of Object.keys(EVENT_COLUMN_TYPES).filter((c) => c.startsWith('prop_'))) {
        const name = column.slice('prop_'.length);
        const value = row[column];
        props[name] = JSON_PROPERTIES.has(name) ? jsonColumn(value) : value;
      }
      const actual = {
        event_id: row['event_id'],
        event_type: row['event_type'],
        occurred_at: trinoTimestampMs(row['occurred_at']),
        user_id: row['user_id'],
        anonymous_id: row['anonymous_id'],
        ua_browser: row['ua_browser'],
        ua_browser_version: row['ua_browser_version'],
        ua_os: row['ua_os'],
        ua_device_type: row['ua_device_type'],
        context: jsonColumn(row['context']),
        properties_extra: jsonColumn(row['properties_extra']),
        schema_id: row['schema_id'],
        _kafka_topic: row['_kafka_topic'],
        _kafka_partition: row['_kafka_partition'],
        props,
      };
      expect(actual).toEqual({
        event_id: e.event_id,
        event_type: e.event_type,
        occurred_at: e.atMs,
        user_id: e.user_id ?? null,
        anonymous_id: e.anonymous_id ?? null,
        ...agent.parsed,
        context: e.context ?? null,
        properties_extra: Object.keys(extra).length > 0 ? extra : null,
        schema_id: schemaIds[e.event_type],
        _kafka_topic: p.names.cleanTopic,
        _kafka_partition: partitionOf(userKey(e), PARTITIONS),
        props: Object.fromEntries(Object.keys(props).map((name) => [name, declared.includes(name) ? (e.properties[name] ?? null) : null])),
      });
      const answer = answers.get(e.event_id) as CollectorAnswer;
      const received = trinoTimestampMs(row['received_at']);
      expect([e.event_id, received >= answer.sentAtMs && received <= answer.answeredAtMs]).toEqual([e.event_id, true]);
      expect([e.event_id, trinoTimestampMs(row['processed_at']) >= received]).toEqual([e.event_id, true]);
      expect(Number.isSafeInteger(row['_kafka_offset'])).toBe(true);
    }

    // The retry with other properties did not replace the first delivery.
    expect(byId.get(changedRetry.event_id)?.['prop_url']).toBe(main[42]?.properties['url']);
    // Refused events are nowhere.
    const nowhere = [...refused.map((r) => r.event.event_id), ...mystery.map((m) => m.event_id), ...tooOld.map((o) => o.event_id)];
    expect(nowhere.filter((id) => byId.has(id))).toEqual([]);
  });

  it('lands the dead letters of the collector, the processor and the compactor in events_dlq with their codes', async () => {
    const expectedIds = [...mystery, ...tooOld, ...refunds].map((e) => e.event_id).sort();
    const dlq = await waitFor(
      async () => {
        const result = await sql(p, 'SELECT * FROM events_dlq ORDER BY event_id');
        return result.rows.length >= expectedIds.length ? result : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: `${expectedIds.length} rows in events_dlq` },
    );
    expect(Object.fromEntries(dlq.columns.map((c) => [c.name, c.type]))).toEqual({
      failed_at: 'timestamp(6) with time zone',
      error_code: 'varchar',
      reason: 'varchar',
      attempt: 'integer',
      original_topic: 'varchar',
      original_partition: 'integer',
      original_offset: 'bigint',
      event_id: 'varchar',
      event_type: 'varchar',
      payload: 'varchar',
      payload_encoding: 'varchar',
      schema_id: 'integer',
      _kafka_topic: 'varchar',
      _kafka_partition: 'integer',
      _kafka_offset: 'bigint',
    });
    expect(dlq.rows.map((r) => r['event_id'])).toEqual(expectedIds);
    const byId = new Map(dlq.rows.map((r) => [r['event_id'] as string, r]));
    const failedAt = (id: string) => trinoTimestampMs(byId.get(id)?.['failed_at']);

    for (const e of mystery) {
      const row = byId.get(e.event_id) as Record<string, unknown>;
      expect(row).toMatchObject({
        error_code: 'unknown_event_type',
        reason: 'no schema is registered for event type "mystery_event"',
        attempt: 1,
        original_topic: p.names.rawTopic,
        original_partition: null,
        original_offset: null,
        event_type: 'mystery_event',
        payload_encoding: 'utf8',
        schema_id: null,
        _kafka_topic: p.names.dlqTopic,
      });
      expect(jsonColumn(row['payload'])).toMatchObject({ event_id: e.event_id, event_type: 'mystery_event', occurred_at: new Date(e.atMs).toISOString(), user_id: 'u02', properties: e.properties });
      expect(failedAt(e.event_id)).toBeGreaterThanOrEqual((answers.get(e.event_id) as CollectorAnswer).sentAtMs);
    }

    for (const e of tooOld) {
      const row = byId.get(e.event_id) as Record<string, unknown>;
      expect(row).toMatchObject({
        error_code: 'timestamp_too_old',
        attempt: 1,
        original_topic: p.names.rawTopic,
        original_partition: partitionOf(userKey(e), PARTITIONS),
        event_type: 'page_view',
        payload_encoding: 'utf8',
        schema_id: schemaIds['page_view'],
        _kafka_topic: p.names.dlqTopic,
      });
      expect(row['reason']).toMatch(/^\$\.occurred_at: /);
      expect(Number.isSafeInteger(row['original_offset']) && (row['original_offset'] as number) >= 0).toBe(true);
      expect(jsonColumn(row['payload'])).toMatchObject({ event_id: e.event_id, occurred_at: new Date(e.atMs).toISOString(), properties: e.properties });
      expect(failedAt(e.event_id)).toBeGreaterThanOrEqual((answers.get(e.event_id) as CollectorAnswer).sentAtMs);
    }

    for (const e of refunds) {
      const row = byId.get(e.event_id) as Record<string, unknown>;
      expect(row).toMatchObject({
        error_code: 'schema_incompatible',
        attempt: 1,
        original_topic: p.names.cleanTopic,
        original_partition: partitionOf('refunder', PARTITIONS),
        event_type: 'refund',
        payload_encoding: 'utf8',
        schema_id: schemaIds['refund'],
        _kafka_topic: p.names.dlqTopic,
      });
      expect(row['reason']).toContain('property price: column prop_price is double in the table, the schema makes it string');
      // What the compactor could not land is the processor's clean event, enrichment included.
      expect(jsonColumn(row['payload'])).toMatchObject({ event_id: e.event_id, properties: { price: '12.50' }, enrichment: expect.objectContaining({ processed_at: expect.any(String) }) });
      expect(failedAt(e.event_id)).toBeGreaterThanOrEqual((answers.get(e.event_id) as CollectorAnswer).sentAtMs);
    }
    const ids = (await sql(p, `SELECT event_id FROM events WHERE event_type = 'refund'`)).rows;
    expect(ids).toEqual([]);
  });

  it('lands each late event in events_late once per aggregate it missed, with the window and the watermark', async () => {
    const result = await waitFor(
      async () => {
        const answer = await sql(p, 'SELECT * FROM events_late ORDER BY event_id, late_aggregate');
        return answer.rows.length >= late.length * WINDOWING.aggregates.length ? answer : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, what: 'late events in events_late' },
    );
    const timestamp = 'timestamp(6) with time zone';
    expect(Object.fromEntries(result.columns.map((c) => [c.name, c.type]))).toEqual({
      ...Object.fromEntries(Object.entries(EVENT_COLUMN_TYPES).filter(([name]) => !name.startsWith('prop_') && !name.startsWith('_kafka_') && name !== 'properties_extra')),
      properties: 'varchar',
      late_aggregate: 'varchar',
      late_reason: 'varchar',
      late_window_start: timestamp,
      late_window_end: timestamp,
      late_watermark: timestamp,
      _kafka_topic: 'varchar',
      _kafka_partition: 'integer',
      _kafka_offset: 'bigint',
    });
    const rows = result.rows;
    const expected = late.flatMap((e) => {
      const t = e.atMs;
      const minute = Math.floor(t / MINUTE) * MINUTE;
      const windows: Record<string, [number, number]> = {
        events_per_type_per_minute: [minute, minute + MINUTE],
        active_users_5m: [minute - 4 * MINUTE, minute + 5 * MINUTE],
        user_sessions: [t, t + 2 * MINUTE],
      };
      return Object.entries(windows)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([aggregate, [start, end]]) => ({
          event_id: e.event_id,
          event_type: e.event_type,
          occurred_at: t,
          user_id: e.user_id ?? null,
          anonymous_id: e.anonymous_id ?? null,
          context: e.context ?? null,
          properties: e.properties,
          schema_id: schemaIds[e.event_type],
          late_aggregate: aggregate,
          late_reason: 'late',
          late_window_start: start,
          late_window_end: end,
          late_watermark: watermarkAfterClosers(e),
          _kafka_topic: p.names.lateTopic,
        }));
    });
    expect(
      rows.map((r) => ({
        event_id: r['event_id'],
        event_type: r['event_type'],
        occurred_at: trinoTimestampMs(r['occurred_at']),
        user_id: r['user_id'],
        anonymous_id: r['anonymous_id'],
        context: jsonColumn(r['context']),
        properties: jsonColumn(r['properties']),
        schema_id: r['schema_id'],
        late_aggregate: r['late_aggregate'],
        late_reason: r['late_reason'],
        late_window_start: trinoTimestampMs(r['late_window_start']),
        late_window_end: trinoTimestampMs(r['late_window_end']),
        late_watermark: trinoTimestampMs(r['late_watermark']),
        _kafka_topic: r['_kafka_topic'],
      })),
    ).toEqual(expected);
  });

  const check = (spec: AggregateSpec) =>
    it(`agg_${spec.name} holds the latest result of every closed window, equal to a recomputation over the events table`, async () => {
      const table = `agg_${spec.name}`;
      const fromEvents = async () => toWindowRows(spec, (await sql(p, recomputeSql(spec))).rows, cutoff);
      const fromTable = async () => toWindowRows(spec, (await sql(p, latestWindowsSql(spec, table))).rows, cutoff);
      const sent: WindowRow[] = expectedWindows(spec, counted(), cutoff);
      expect(sent.length).toBeGreaterThan(10);
      let last: { table: WindowRow[]; events: WindowRow[] } | undefined;
      await waitFor(
        async () => {
          last = { table: await fromTable(), events: await fromEvents() };
          return JSON.stringify(last.table) === JSON.stringify(sent);
        },
        { timeoutMs: 90_000, intervalMs: 2_000, what: `${table} to hold every closed window` },
      ).catch(() => undefined);
      // The processor's windows, the lake's recomputation and the test's own computation agree.
      expect(last?.table).toEqual(sent);
      expect(last?.events).toEqual(sent);
    });
  for (const spec of WINDOWING.aggregates) check(spec);

  it('holds each out-of-order and each retried event once', async () => {
    const perType = await sql(p, `SELECT event_id, count(*) AS n FROM events WHERE event_id IN (${[...outOfOrder, ...retried.map((e) => e.event_id)].map((id) => `'${id}'`).join(', ')}) GROUP BY event_id`);
    expect(perType.rows.map((r) => [r['event_id'], r['n']]).sort()).toEqual([...outOfOrder, ...retried.map((e) => e.event_id)].sort().map((id) => [id, 1]));
    const duplicates = await sql(p, 'SELECT event_id FROM events GROUP BY event_id HAVING count(*) > 1');
    expect(duplicates.rows).toEqual([]);
  });
});
