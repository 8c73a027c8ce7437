import { aggregateRecordKey, formatTimestamp, type AggregateRecord } from '@pipeline/schemas';
import { SESSION_GAP_MS, type ReadRecord, type TestEvent } from './processor';

const MINUTE = 60_000;

/**
 * A batch recomputation of the test aggregates (see TEST_AGGREGATES) over the accepted events, by
 * plain counting: windows ending at or before `cutoffMs`, keyed like agg.<name> records.
 */
export function expectedAggregates(events: readonly TestEvent[], cutoffMs: number): Map<string, AggregateRecord> {
  const out = new Map<string, AggregateRecord>();
  const add = (record: AggregateRecord) => {
    if (Date.parse(record.window_end) <= cutoffMs) out.set(aggregateRecordKey(record), record);
  };
  const perType = new Map<string, { start: number; type: string; n: number }>();
  const active = new Map<number, { users: Set<string>; n: number }>();
  const byUser = new Map<string, number[]>();
  for (const e of events) {
    const t = Date.parse(e.occurred_at);
    const minute = Math.floor(t / MINUTE) * MINUTE;
    const typeKey = `${minute}|${e.event_type}`;
    const bucket = perType.get(typeKey) ?? { start: minute, type: e.event_type, n: 0 };
    bucket.n++;
    perType.set(typeKey, bucket);
    const user = (e.user_id ?? e.anonymous_id) as string;
    for (let start = minute - 4 * MINUTE; start <= minute; start += MINUTE) {
      const w = active.get(start) ?? { users: new Set<string>(), n: 0 };
      w.users.add(user);
      w.n++;
      active.set(start, w);
    }
    byUser.set(user, [...(byUser.get(user) ?? []), t]);
  }
  for (const b of perType.values()) {
    add({ aggregate: 'events_per_type_per_minute', window_start: formatTimestamp(b.start), window_end: formatTimestamp(b.start + MINUTE), group: { event_type: b.type }, event_count: b.n, measures: { count: b.n }, estimated: [] });
  }
  for (const [start, w] of active) {
    add({ aggregate: 'active_users_5m', window_start: formatTimestamp(start), window_end: formatTimestamp(start + 5 * MINUTE), group: {}, event_count: w.n, measures: { active_users: w.users.size }, estimated: [] });
  }
  for (const [user, times] of byUser) {
    times.sort((a, b) => a - b);
    let first = times[0] as number;
    let last = first;
    let n = 0;
    const close = () =>
      add({ aggregate: 'user_sessions', window_start: formatTimestamp(first), window_end: formatTimestamp(last + SESSION_GAP_MS), group: { user_key: user }, event_count: n, measures: { events: n, duration_ms: last - first }, estimated: [] });
    for (const t of times) {
      if (n > 0 && t - last >= SESSION_GAP_MS) {
        close();
        first = t;
        n = 0;
      }
      last = t;
      n++;
    }
    close();
  }
  return out;
}

/** The latest record per key of agg.* records (what a compacted topic or an upsert keeps), windows ending at or before `cutoffMs`. */
export function latestAggregates(records: readonly ReadRecord[], cutoffMs: number): Map<string, AggregateRecord> {
  const sorted = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const out = new Map<string, AggregateRecord>();
  for (const r of sorted) {
    const record = JSON.parse(r.value.toString('utf8')) as AggregateRecord;
    if (r.key !== aggregateRecordKey(record)) throw new Error(`agg record key ${r.key} does not match its value`);
    if (Date.parse(record.window_end) <= cutoffMs) out.set(r.key, record);
  }
  return out;
}
