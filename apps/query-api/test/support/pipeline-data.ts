import type { SeedDlqRecord, SeedEvent } from './lake';

/**
 * Forty minutes of a small app's traffic, ending a minute before `now`, and what the dashboard's
 * saved queries must report for it, computed here independently of their SQL.
 */

export const MINUTE = 60_000;
export const SESSION_GAP_MS = 30 * MINUTE;

export interface PipelineData {
  /** `now` rounded down to the minute: every event is at least a minute older. */
  base: Date;
  events: SeedEvent[];
  dlq: SeedDlqRecord[];
}

export function pipelineData(now: Date): PipelineData {
  const base = new Date(Math.floor(now.getTime() / MINUTE) * MINUTE);
  const events: SeedEvent[] = [];
  let n = 0;
  const add = (eventType: string, at: number, who: { userId?: string; anonymousId?: string }, extra: Partial<SeedEvent> = {}) => {
    const occurredAt = new Date(at);
    events.push({ eventId: `evt-${n++}`, eventType, occurredAt, receivedAt: new Date(at + 2_000), ...who, ...extra });
  };
  for (let k = 1; k <= 40; k++) {
    const minute = base.getTime() - k * MINUTE;
    const visitor = k % 7 === 0 ? { anonymousId: `anon-${k % 3}` } : { userId: `user-${k % 5}` };
    add('page_view', minute + 5_000, visitor, { pagePath: '/home' });
    add('page_view', minute + 25_000, { userId: `user-${(k + 2) % 5}` }, { pagePath: '/search' });
    if (k % 2 === 0) add('click', minute + 15_000, { userId: `user-${(k + 1) % 5}` });
    if (k % 10 === 0) add('purchase', minute + 40_000, { userId: 'user-1' }, { amount: 9.99 });
  }
  // A returning user: two visits 40 minutes apart, so two sessions.
  add('app_open', base.getTime() - 55 * MINUTE + 1_000, { userId: 'returning' });
  add('app_open', base.getTime() - 50 * MINUTE + 1_000, { userId: 'returning' });
  add('app_open', base.getTime() - 5 * MINUTE + 1_000, { userId: 'returning' });

  const dlq: SeedDlqRecord[] = [];
  for (let k = 4; k <= 40; k += 4) dlq.push({ failedAt: new Date(base.getTime() - k * MINUTE + 30_000), errorCode: 'invalid_input' });
  return { base, events, dlq };
}

const minuteOf = (d: Date) => Math.floor(d.getTime() / MINUTE) * MINUTE;
const inRange = (d: Date, from: Date, to: Date) => d >= from && d < to;
const visitor = (e: SeedEvent) => e.userId ?? e.anonymousId ?? '';

/** Events per (minute, type) in [from, to): key `${minuteMs}|${type}`. */
export function expectedEventsPerMinute(data: PipelineData, from: Date, to: Date): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of data.events) {
    if (!inRange(e.occurredAt, from, to)) continue;
    const key = `${minuteOf(e.occurredAt)}|${e.eventType}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Distinct visitors per minute in [from, to). */
export function expectedActiveUsers(data: PipelineData, from: Date, to: Date): Map<number, number> {
  const sets = new Map<number, Set<string>>();
  for (const e of data.events) {
    if (!inRange(e.occurredAt, from, to)) continue;
    const key = minuteOf(e.occurredAt);
    if (!sets.has(key)) sets.set(key, new Set());
    sets.get(key)?.add(visitor(e));
  }
  return new Map([...sets].map(([k, s]) => [k, s.size]));
}

/** Session starts per minute in [from, to): an event with no earlier event of its visitor within the gap. */
export function expectedSessions(data: PipelineData, from: Date, to: Date): Map<number, number> {
  const byVisitor = new Map<string, Date[]>();
  for (const e of data.events) {
    if (e.occurredAt >= to || e.occurredAt.getTime() < from.getTime() - SESSION_GAP_MS) continue;
    const list = byVisitor.get(visitor(e)) ?? [];
    list.push(e.occurredAt);
    byVisitor.set(visitor(e), list);
  }
  const starts = new Map<number, number>();
  for (const times of byVisitor.values()) {
    times.sort((a, b) => a.getTime() - b.getTime());
    times.forEach((t, i) => {
      const previous = times[i - 1];
      const isStart = !previous || t.getTime() - previous.getTime() > SESSION_GAP_MS;
      if (isStart && t >= from) starts.set(minuteOf(t), (starts.get(minuteOf(t)) ?? 0) + 1);
    });
  }
  return starts;
}

/** Per minute of processing time: DLQ records, clean events received, and the DLQ percentage. */
export function expectedDlqRate(data: PipelineData, from: Date, to: Date): Map<number, { failed: number; accepted: number; percent: number | null }> {
  const rows = new Map<number, { failed: number; accepted: number; percent: number | null }>();
  const row = (k: number) => {
    const existing = rows.get(k);
    if (existing) return existing;
    const created = { failed: 0, accepted: 0, percent: null as number | null };
    rows.set(k, created);
    return created;
  };
  for (const r of data.dlq) if (inRange(r.failedAt, from, to)) row(minuteOf(r.failedAt)).failed++;
  for (const e of data.events) if (inRange(e.receivedAt, from, to)) row(minuteOf(e.receivedAt)).accepted++;
  for (const r of rows.values()) r.percent = r.failed + r.accepted === 0 ? null : (100 * r.failed) / (r.failed + r.accepted);
  return rows;
}

/** Receive time of the newest event. */
export function newestReceivedAt(data: PipelineData): Date {
  return new Date(Math.max(...data.events.map((e) => e.receivedAt.getTime())));
}

/** Trino's text for a timestamp with time zone at millisecond precision: `2026-01-31 12:00:00.000 UTC`. */
export function trinoTimestamp(ms: number, fraction = 3): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23).padEnd(fraction, '0')} UTC`;
}
