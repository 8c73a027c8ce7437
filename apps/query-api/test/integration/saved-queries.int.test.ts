import { startApi, type RunningApi } from '../support/api';
import { createDlqTable, createEventsTable, createTestSchema, insertEvents } from '../support/lake';
import {
  MINUTE,
  expectedActiveUsers,
  expectedDlqRate,
  expectedEventsPerMinute,
  expectedSessions,
  newestReceivedAt,
  pipelineData,
  trinoTimestamp,
  type PipelineData,
} from '../support/pipeline-data';

/** The dashboard's saved queries against tables shaped like the compactor's, seeded through Trino. */

let api: RunningApi;
let cleanup: () => Promise<void>;
let data: PipelineData;
let from: Date;
let to: Date;

beforeAll(async () => {
  const test = await createTestSchema('qapi_saved');
  cleanup = test.cleanup;
  data = pipelineData(new Date());
  await createEventsTable(test.schema);
  await insertEvents(test.schema, data.events);
  await createDlqTable(test.schema, data.dlq);
  api = await startApi({ TRINO_SCHEMA: test.schema });
  from = new Date(data.base.getTime() - 60 * MINUTE);
  to = data.base;
});

afterAll(async () => {
  await api?.stop();
  await cleanup?.();
});

async function run(name: string, parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const res = await api.post(`/v1/queries/${name}/run`, { parameters, ...extra }, { token: api.tokens.saved });
  const body = (await res.json()) as { rows: unknown[][]; columns: Array<{ name: string; type: string }>; cache: { status: string }; error?: unknown };
  expect([res.status, body.error]).toEqual([200, undefined]);
  return body;
}

const range = () => ({ from: from.toISOString(), to: to.toISOString() });
const minuteKey = (ms: number) => trinoTimestamp(ms, 6);

describe('saved queries over the lake', () => {
  it('events_per_minute counts events per minute and type', async () => {
    const result = await run('events_per_minute', range());
    expect(result.columns.map((c) => [c.name, c.type])).toEqual([
      ['bucket_start', 'timestamp(6) with time zone'],
      ['event_type', 'varchar'],
      ['events', 'bigint'],
    ]);
    const expected = [...expectedEventsPerMinute(data, from, to)]
      .map(([key, count]) => {
        const [minute, type] = key.split('|');
        return [minuteKey(Number(minute)), type, count];
      })
      .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
    expect(result.rows).toEqual(expected);
  });

  it('events_per_minute buckets by hour when asked', async () => {
    const result = await run('events_per_minute', { ...range(), bucket: 'hour' });
    const total = result.rows.reduce((sum, row) => sum + Number(row[2]), 0);
    expect(total).toBe(data.events.length);
    expect(new Set(result.rows.map((r) => r[0])).size).toBeLessThanOrEqual(2);
  });

  it('active_users counts distinct users and anonymous visitors per minute', async () => {
    const result = await run('active_users', range());
    expect(result.rows).toEqual([...expectedActiveUsers(data, from, to)].sort(([a], [b]) => a - b).map(([minute, users]) => [minuteKey(minute), users]));
  });

  it('sessions counts a returning user twice and a steady user once', async () => {
    const result = await run('sessions', range());
    const expected = [...expectedSessions(data, from, to)].sort(([a], [b]) => a - b).map(([minute, n]) => [minuteKey(minute), n]);
    expect(result.rows).toEqual(expected);
    // user-0..4, anon-0..2 and "returning" (twice).
    expect(result.rows.reduce((s, r) => s + Number(r[1]), 0)).toBe(10);
    // A range that starts mid-visit does not count that visit as a new session.
    const late = await run('sessions', { from: new Date(to.getTime() - 20 * MINUTE).toISOString(), to: to.toISOString() });
    expect(late.rows).toEqual([[minuteKey(data.base.getTime() - 5 * MINUTE), 1]]);
  });

  it('freshness reports now minus the newest receive time, and the last commit', async () => {
    const before = Date.now();
    const result = await run('freshness', {});
    const [newest, seconds, lastCommit] = result.rows[0] as [string, number, string];
    expect(newest).toBe(trinoTimestamp(newestReceivedAt(data).getTime(), 6));
    const expectedSeconds = (before - newestReceivedAt(data).getTime()) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(expectedSeconds - 1);
    expect(seconds).toBeLessThan(expectedSeconds + 60);
    expect(Date.parse(lastCommit.replace(' UTC', 'Z').replace(' ', 'T'))).toBeGreaterThan(before - 10 * MINUTE);
  });

  it('dlq_rate divides dead-lettered records by all records per minute', async () => {
    const result = await run('dlq_rate', range());
    const expected = [...expectedDlqRate(data, from, to)].sort(([a], [b]) => a - b);
    expect(result.rows.map((r) => [r[0], r[1], r[2]])).toEqual(expected.map(([minute, r]) => [minuteKey(minute), r.failed, r.accepted]));
    result.rows.forEach((row, i) => {
      const percent = expected[i]?.[1].percent;
      if (percent === null || percent === undefined) expect(row[3]).toBeNull();
      else expect(row[3]).toBeCloseTo(percent, 6);
    });
  });

  it('serves the second identical run from the cache', async () => {
    const first = await run('sessions', range(), { cache: { bypass: true } });
    const second = await run('sessions', range(), { cache: { maxAgeSeconds: 60 } });
    expect([first.cache.status, second.cache.status]).toEqual(['bypass', 'hit']);
    expect(second.rows).toEqual(first.rows);
  });
});
