import type { Message } from 'kafkajs';
import { parseAggregateConfig, createWindowEngine, type WindowingConfig, type WindowResult } from '@pipeline/windowing';
import type { AggregateRecord } from '@pipeline/schemas';
import { MergeTask } from './merge-task';
import type { InputRecord, PartialMessage, ProgressMessage } from './records';
import { toAggregateRecord } from './records';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function windowing(): WindowingConfig {
  const parsed = parseAggregateConfig({
    timeField: 't',
    watermark: { maxOutOfOrderness: 0, allowedLateness: 0 },
    aggregates: [{ name: 'users', window: { type: 'tumbling', size: '1m' }, measures: [{ kind: 'count' }, { kind: 'distinct', field: 'u', name: 'users' }] }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}

/** The partial a source partition would send for these events in the window starting at `start`. */
function partial(src: number, start: number, users: string[]): WindowResult {
  const engine = createWindowEngine<{ t: number; u: string }>(windowing(), undefined, { resultState: true });
  for (const u of users) engine.process({ t: start + 1, u }, src, start);
  const [result] = engine.flush().results;
  return result as WindowResult;
}

function make(opts: { idleTimeoutMs?: number; retentionMs?: number } = {}) {
  return new MergeTask({ partition: 0, windowing: windowing(), aggregateTopic: (n) => `agg.${n}`, changelog: 'cl', idleTimeoutMs: opts.idleTimeoutMs ?? 10 * MINUTE, retentionMs: opts.retentionMs ?? 30 * MINUTE });
}

let offset = 0;
function partialRecord(src: number, start: number, users: string[], ts = T0): InputRecord {
  const r = partial(src, start, users);
  const message: PartialMessage = { t: 'p', a: 'users', s: r.windowStartMs, e: r.windowEndMs, st: r.state as PartialMessage['st'], src };
  const key = `users|${new Date(start).toISOString()}|{}`;
  return { offset: offset++, key: Buffer.from(key), value: Buffer.from(JSON.stringify(message)), timestampMs: ts, headers: {} };
}
function progress(src: number, wm: number | null, ts: number, n = 2): InputRecord {
  const message: ProgressMessage = { t: 'w', src, n, wm };
  return { offset: offset++, key: Buffer.from(`w|${src}`), value: Buffer.from(JSON.stringify(message)), timestampMs: ts, headers: {} };
}
const results = (messages: readonly Message[]) => messages.map((m) => JSON.parse(String(m.value)) as AggregateRecord);

describe('MergeTask', () => {
  it('emits a window once, merged, only when every source watermark has passed it', () => {
    const task = make();
    let out = task.process([partialRecord(0, T0, ['a', 'b']), progress(0, T0 + MINUTE, T0), progress(1, T0 + 30_000, T0)], offset);
    expect(out.outbox.messages('agg.users')).toEqual([]);
    out = task.process([partialRecord(1, T0, ['b', 'c']), progress(1, T0 + 2 * MINUTE, T0 + 1)], offset);
    const [record] = results(out.outbox.messages('agg.users'));
    expect(record).toEqual(toAggregateRecord({ aggregate: 'users', windowStartMs: T0, windowEndMs: T0 + MINUTE, group: {}, eventCount: 4, measures: { count: 4, users: 3 }, estimated: [] }));
    expect(String(out.outbox.messages('agg.users')[0]?.key)).toBe(`users|${new Date(T0).toISOString()}|{}`);
    expect(out.stats.final).toEqual({ users: 1 });
    out = task.process([progress(0, T0 + 3 * MINUTE, T0 + 2), progress(1, T0 + 3 * MINUTE, T0 + 2)], offset);
    expect(out.outbox.messages('agg.users')).toEqual([]);
  });

  it('stops waiting for a silent source after the idle timeout, and updates the window when its partial comes later', () => {
    const task = make({ idleTimeoutMs: MINUTE });
    let out = task.process([partialRecord(0, T0, ['a']), progress(0, T0 + MINUTE, T0)], offset);
    expect(out.outbox.messages('agg.users')).toEqual([]);
    out = task.process([progress(0, T0 + 5 * MINUTE, T0 + 2 * MINUTE)], offset);
    expect(results(out.outbox.messages('agg.users')).map((r) => r.measures)).toEqual([{ count: 1, users: 1 }]);
    out = task.process([partialRecord(1, T0, ['b']), progress(1, T0 + 5 * MINUTE, T0 + 2 * MINUTE + 1)], offset);
    expect(results(out.outbox.messages('agg.users')).map((r) => r.measures)).toEqual([{ count: 2, users: 2 }]);
    expect(out.stats.updated).toEqual({ users: 1 });
  });

  it('forgets emitted windows after the retention and drops partials that come after that', () => {
    const task = make({ retentionMs: MINUTE });
    task.process([partialRecord(0, T0, ['a']), progress(0, T0 + MINUTE, T0), progress(1, T0 + MINUTE, T0)], offset);
    const later = task.process([progress(0, T0 + 9 * MINUTE, T0 + 5 * MINUTE), progress(1, T0 + 9 * MINUTE, T0 + 5 * MINUTE)], offset);
    expect(later.outbox.messages('cl').filter((m) => String(m.key).startsWith('k:') && m.value === null)).toHaveLength(1);
    expect(task.stateStats().entries).toBe(0);
    const out = task.process([partialRecord(1, T0, ['b'])], offset);
    expect([out.outbox.messages('agg.users'), out.stats.expired]).toEqual([[], { users: 1 }]);
  });

  it('resumes from its changelog with the same pending windows and source clocks', () => {
    const original = make();
    const log: Message[] = [];
    log.push(...original.process([partialRecord(0, T0, ['a']), progress(0, T0 + MINUTE, T0)], offset).outbox.messages('cl'));
    const restored = make();
    expect(restored.restore(log.map((m) => ({ key: String(m.key), value: m.value === null ? null : Buffer.from(m.value as string) })))).toEqual({ position: offset });
    const next = [partialRecord(1, T0, ['b']), progress(1, T0 + MINUTE, T0 + 1)];
    const expected = original.process(next, offset);
    const actual = restored.process(next, offset);
    expect(results(actual.outbox.messages('agg.users'))).toEqual(results(expected.outbox.messages('agg.users')));
    expect(results(actual.outbox.messages('agg.users')).map((r) => r.event_count)).toEqual([2]);
  });
});
