import type { Message } from 'kafkajs';
import { DLQ_HEADERS, LATE_HEADERS, decodeValue, parseDlqHeaders, type AggregateRecord, type CleanEvent } from '@pipeline/schemas';
import { parseAggregatesConfig, type AggregatesConfig } from '../aggregates/aggregates-config';
import { createDedupBudget } from '../state/dedup-store';
import { createUserAgentParser } from '../steps/user-agent';
import { BASE_MS, fakeRegistry, records, testValidator } from './fixtures.test-util';
import type { InputRecord, PartialMessage, ProgressMessage } from './records';
import { SourceTask, type SourceTaskOptions } from './source-task';

const MINUTE = 60_000;
const TOPICS = {
  raw: 'raw',
  clean: 'clean',
  dlq: 'dlq',
  late: 'late',
  aggregate: (name: string) => `agg.${name}`,
  changelog: 'changelog',
  repartition: 'repartition',
};

function aggregates(): AggregatesConfig {
  const parsed = parseAggregatesConfig({
    timeField: 'occurred_at',
    watermark: { maxOutOfOrderness: 0, allowedLateness: 0, maxFuture: '5m' },
    aggregates: [
      { name: 'per_type', window: { type: 'tumbling', size: '1m' }, groupBy: ['event_type'], measures: [{ kind: 'count' }] },
      { name: 'sessions', window: { type: 'session', gap: '2m' }, groupBy: ['user_key'], measures: [{ kind: 'count', name: 'events' }, { kind: 'duration' }] },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

const PAGE_VIEW = { type: 'object', properties: { url: { type: 'string', maxLength: 5 } }, required: ['url'] };

function setup(overrides: Partial<SourceTaskOptions> = {}) {
  const registry = fakeRegistry();
  registry.put(1, PAGE_VIEW, 'page_view');
  let clock = BASE_MS + 3_600_000;
  const options: SourceTaskOptions = {
    partition: 0,
    aggregates: aggregates(),
    validator: testValidator(registry),
    userAgents: createUserAgentParser(100),
    topics: TOPICS,
    dedupTtlMs: 3_600_000,
    dedupBudget: createDedupBudget(10_000),
    snapshotIntervalMs: 3_600_000,
    progressIntervalMs: 0,
    sourcePartitions: 2,
    repartitionPartitions: 3,
    now: () => clock,
    ...overrides,
  };
  return { registry, options, task: new SourceTask(options), tick: (ms: number) => (clock += ms) };
}

const values = (messages: readonly Message[]) => messages.map((m) => decodeValue<CleanEvent>(m.value as Buffer).record);
const ids = (messages: readonly Message[]) => values(messages).map((e) => e.event_id);

describe('SourceTask', () => {
  it('writes clean events framed with their schema id, keyed by user, enriched, with the event_type header', async () => {
    const { task } = setup();
    const ua = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
    const { outbox, stats } = await task.process(records(0, [{ id: 'a', at: BASE_MS, ua }, { id: 'b', at: BASE_MS, anon: 'anon-1' }]), 2);
    const clean = outbox.messages('clean');
    expect(stats.clean).toBe(2);
    expect(clean.map((m) => String(m.key))).toEqual(['u1', 'anon-1']);
    expect(clean.map((m) => (m.headers as Record<string, string>)['event_type'])).toEqual(['page_view', 'page_view']);
    expect(decodeValue(clean[0]?.value as Buffer).schemaId).toBe(1);
    const [first] = values(clean);
    expect(first).toMatchObject({ event_id: 'a', received_at: new Date(BASE_MS + 1_000).toISOString() });
    expect(first?.enrichment).toEqual({ processed_at: new Date(BASE_MS + 3_600_000).toISOString(), ua_browser: 'Mobile Safari', ua_browser_version: '17.5', ua_os: 'iOS', ua_device_type: 'mobile' });
  });

  it('drops duplicate event_ids within a batch and across batches', async () => {
    const { task } = setup();
    const first = await task.process(records(0, [{ id: 'a', at: BASE_MS }, { id: 'a', at: BASE_MS }, { id: 'b', at: BASE_MS }]), 3);
    const second = await task.process(records(3, [{ id: 'b', at: BASE_MS }, { id: 'c', at: BASE_MS }]), 5);
    expect([ids(first.outbox.messages('clean')), first.stats.duplicate]).toEqual([['a', 'b'], 1]);
    expect([ids(second.outbox.messages('clean')), second.stats.duplicate]).toEqual([['c'], 1]);
  });

  it('dead-letters bad records with the original bytes and the DLQ headers, counting replay attempts', async () => {
    const { task } = setup();
    const bad: InputRecord[] = [
      { offset: 0, key: Buffer.from('k'), value: Buffer.from('not json'), timestampMs: BASE_MS, headers: {} },
      ...records(1, [{ id: 'x', at: BASE_MS }], 999),
      ...records(2, [{ id: 'y', at: BASE_MS, properties: { url: 'far too long' } }]),
      ...records(3, [{ id: 'z', at: BASE_MS, type: 'unknown_type' }], null),
      { ...records(4, [{ id: 'bad id!', at: BASE_MS }])[0] as InputRecord, headers: { [DLQ_HEADERS.attempt]: Buffer.from('2') } },
    ];
    const { outbox, stats } = await task.process(bad, 5);
    const dlq = outbox.messages('dlq');
    expect(stats.clean).toBe(0);
    const infos = dlq.map((m) => parseDlqHeaders(m.headers as Record<string, string>));
    expect(infos.map((i) => i?.errorCode)).toEqual(['undecodable', 'unknown_schema', 'schema_violation', 'unknown_event_type', 'invalid_event_id']);
    expect(infos.map((i) => i?.attempt)).toEqual([1, 1, 1, 1, 3]);
    expect(infos[2]).toMatchObject({ originalTopic: 'raw', originalPartition: 0, originalOffset: '2' });
    expect(infos[2]?.reason).toContain('$.properties.url');
    dlq.forEach((m, i) => expect(m.value).toEqual(bad[i]?.value));
    expect(stats.dlq).toEqual({ undecodable: 1, unknown_schema: 1, schema_violation: 1, unknown_event_type: 1, invalid_event_id: 1 });
  });

  it('accepts a record that breaks its framed schema but passes the latest version (schema fix, then replay)', async () => {
    const { task, registry } = setup();
    registry.put(2, { type: 'object', properties: { url: { type: 'string', maxLength: 100 } } }, 'page_view');
    const { outbox } = await task.process(records(0, [{ id: 'long', at: BASE_MS, properties: { url: 'far too long' } }], 1), 1);
    expect(outbox.messages('dlq')).toHaveLength(0);
    expect(decodeValue(outbox.messages('clean')[0]?.value as Buffer).schemaId).toBe(2);
  });

  it('emits partition-local results to agg.<name>, partials and watermarks to the merge stage, and late events to events.late', async () => {
    const { task } = setup();
    const batch = records(0, [
      { id: 'e1', at: BASE_MS, user: 'u1' },
      { id: 'e2', at: BASE_MS + 30_000, user: 'u1' },
      { id: 'e3', at: BASE_MS + MINUTE + 1, user: 'u2' },
      { id: 'e4', at: BASE_MS + 5 * MINUTE, user: 'u2' },
      // Behind the watermark now (BASE + 5m): its minute and its session are final.
      { id: 'late', at: BASE_MS + 10, user: 'u3' },
    ]);
    const { outbox, stats } = await task.process(batch, 5);
    const sessions = outbox.messages('agg.sessions').map((m) => JSON.parse(String(m.value)) as AggregateRecord);
    expect(sessions.map((s) => [s.group, s.measures, s.window_start])).toEqual([
      [{ user_key: 'u1' }, { events: 2, duration_ms: 30_000 }, new Date(BASE_MS).toISOString()],
      [{ user_key: 'u2' }, { events: 1, duration_ms: 0 }, new Date(BASE_MS + MINUTE + 1).toISOString()],
    ]);
    expect(String(outbox.messages('agg.sessions')[0]?.key)).toBe(`sessions|${new Date(BASE_MS).toISOString()}|{"user_key":"u1"}`);
    const partials = outbox.messages('repartition').map((m) => JSON.parse(String(m.value)) as PartialMessage | ProgressMessage);
    const partialCounts = partials.filter((p): p is PartialMessage => p.t === 'p').map((p) => [p.a, p.s - BASE_MS, p.st.count, p.src]);
    expect(partialCounts).toEqual([
      ['per_type', 0, 2, 0],
      ['per_type', MINUTE, 1, 0],
    ]);
    const progress = outbox.messages('repartition').filter((m) => m.partition !== undefined);
    expect(progress.map((m) => m.partition)).toEqual([0, 1, 2]);
    expect(JSON.parse(String(progress[0]?.value))).toEqual({ t: 'w', src: 0, n: 2, wm: BASE_MS + 5 * MINUTE });
    const late = outbox.messages('late');
    expect(late.map((m) => (m.headers as Record<string, string>)[LATE_HEADERS.aggregate])).toEqual(['per_type', 'sessions']);
    expect(late[0]?.headers).toMatchObject({ [LATE_HEADERS.reason]: 'late', [LATE_HEADERS.windowStart]: new Date(BASE_MS).toISOString(), [LATE_HEADERS.windowEnd]: new Date(BASE_MS + MINUTE).toISOString() });
    expect(ids(late)).toEqual(['late', 'late']);
    expect(ids(outbox.messages('clean'))).toContain('late');
    expect(stats.late).toEqual({ late: 2 });
  });

  it('after a restore from its changelog, remembers ids and rebuilds windows so the next batch gives the same output', async () => {
    const original = setup({ snapshotIntervalMs: 3_600_000 });
    const changelog: Message[] = [];
    const batchA = records(0, [{ id: 'a1', at: BASE_MS, user: 'u1' }, { id: 'a2', at: BASE_MS + 20_000, user: 'u2' }]);
    const batchB = records(2, [{ id: 'b1', at: BASE_MS + 40_000, user: 'u1' }, { id: 'a1', at: BASE_MS, user: 'u1' }, { id: 'b2', at: BASE_MS + 50_000, user: 'u3' }]);
    const batchC = records(5, [{ id: 'b2', at: BASE_MS, user: 'u3' }, { id: 'c1', at: BASE_MS + 3 * MINUTE, user: 'u1' }]);
    for (const batch of [batchA, batchB]) {
      const { outbox } = await original.task.process(batch, (batch.at(-1)?.offset as number) + 1);
      changelog.push(...outbox.messages('changelog'));
    }
    // The first batch wrote the only snapshot, so the restore replays batch B from the input.
    const restoredSetup = setup({ snapshotIntervalMs: 3_600_000 });
    const restored = restoredSetup.task;
    const positions = restored.restore(changelog.map((m) => ({ key: String(m.key), value: m.value === null ? null : Buffer.from(m.value as string) })));
    expect(positions).toEqual({ snapshotNext: 2, position: 5 });
    restored.position = 2;
    restored.rebuild(batchB);
    const expected = await original.task.process(batchC, 7);
    const actual = await restored.process(batchC, 7);
    expect(ids(actual.outbox.messages('clean'))).toEqual(['c1']);
    expect(actual.stats.duplicate).toBe(1);
    for (const topic of ['agg.sessions', 'repartition', 'late', 'clean']) {
      expect(actual.outbox.messages(topic).map((m) => [String(m.key), m.partition])).toEqual(expected.outbox.messages(topic).map((m) => [String(m.key), m.partition]));
    }
    expect(actual.outbox.messages('agg.sessions').map((m) => String(m.value))).toEqual(expected.outbox.messages('agg.sessions').map((m) => String(m.value)));
    expect(actual.outbox.messages('agg.sessions')).toHaveLength(3);
  });

  it('rebuild counts only the records the dedup state says were accepted at that offset', async () => {
    const { task } = setup();
    const changelog: Message[] = [];
    const first = records(0, [{ id: 'x', at: BASE_MS }]);
    const second = records(1, [{ id: 'a', at: BASE_MS + 1 }, { id: 'a', at: BASE_MS + 2 }, { id: 'bad', at: BASE_MS + 3, properties: { url: 'far too long' } }]);
    for (const [batch, next] of [[first, 1], [second, 4]] as const) changelog.push(...(await task.process(batch, next)).outbox.messages('changelog'));
    const restored = setup().task;
    expect(restored.restore(changelog.map((m) => ({ key: String(m.key), value: m.value === null ? null : Buffer.from(m.value as string) })))).toEqual({ snapshotNext: 1, position: 4 });
    restored.position = 1;
    restored.rebuild(second);
    const closing = records(4, [{ id: 'next', at: BASE_MS + 2 * MINUTE }]);
    const partial = (await restored.process(closing, 5)).outbox.messages('repartition').map((m) => JSON.parse(String(m.value)) as PartialMessage | ProgressMessage);
    expect(partial.filter((p): p is PartialMessage => p.t === 'p').map((p) => p.st.count)).toEqual([2]);
  });

  it('sends the merge stage a watermark that makes a merged window due at once, any other only as a heartbeat per interval', async () => {
    // per_type is merged: tumbling 1 minute, no lateness, so a window is due at every whole minute.
    const { task, tick } = setup({ progressIntervalMs: 60_000 });
    const progress = async (first: number, at: number) => {
      const sent = (await task.process(records(first, [{ id: `e${first}`, at }]), first + 1)).outbox.messages('repartition').filter((m) => m.partition !== undefined);
      return sent.map((m) => (JSON.parse(String(m.value)) as ProgressMessage).wm);
    };
    expect(await progress(0, BASE_MS + 1_000)).toEqual([BASE_MS + 1_000, BASE_MS + 1_000, BASE_MS + 1_000]);
    // Moved, but the next due time (BASE + 1m) is not reached: no message.
    expect(await progress(1, BASE_MS + 30_000)).toEqual([]);
    expect(await progress(2, BASE_MS + MINUTE - 1)).toEqual([]);
    // Reaches BASE + 1m, when the window [BASE, BASE + 1m) is due: sent at once.
    expect(await progress(3, BASE_MS + MINUTE)).toEqual([BASE_MS + MINUTE, BASE_MS + MINUTE, BASE_MS + MINUTE]);
    // Past two due times in one batch.
    expect(await progress(4, BASE_MS + 3 * MINUTE + 5)).toHaveLength(3);
    expect(await progress(5, BASE_MS + 3 * MINUTE + 10)).toEqual([]);
    expect(await progress(6, BASE_MS)).toEqual([]);
    // The heartbeat: after the interval, whatever the watermark did.
    tick(60_000);
    expect(await progress(7, BASE_MS)).toEqual([BASE_MS + 3 * MINUTE + 10, BASE_MS + 3 * MINUTE + 10, BASE_MS + 3 * MINUTE + 10]);
  });

  it('reckons the due times of a hopping window with its slide and lateness', async () => {
    const parsed = parseAggregatesConfig({
      timeField: 'occurred_at',
      watermark: { maxOutOfOrderness: 0, allowedLateness: '10s', maxFuture: '5m' },
      aggregates: [{ name: 'active', window: { type: 'hopping', size: '5m', slide: '1m' }, groupBy: [], measures: [{ kind: 'distinct', field: 'user_key' }] }],
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const { task } = setup({ aggregates: parsed.config, progressIntervalMs: 3_600_000 });
    const sent = async (first: number, at: number) => (await task.process(records(first, [{ id: `e${first}`, at }]), first + 1)).outbox.messages('repartition').filter((m) => m.partition !== undefined).length;
    expect(await sent(0, BASE_MS)).toBe(3);
    // Windows start every minute and are due 5m 10s later: at BASE + 10s, BASE + 1m 10s, ...
    expect(await sent(1, BASE_MS + 9_999)).toBe(0);
    expect(await sent(2, BASE_MS + 10_000)).toBe(3);
    expect(await sent(3, BASE_MS + MINUTE + 9_999)).toBe(0);
    expect(await sent(4, BASE_MS + MINUTE + 10_000)).toBe(3);
  });
});
