/**
 * What the dashboard's panels must chart for what a test sent, computed from the sent events and
 * the times the collector acknowledged them, independently of the saved queries' SQL
 * (apps/query-api/queries). A panel is the number of result rows and, per series, a value per
 * minute bucket (epoch seconds, the charts' x values); buckets without a value are left out.
 */

export const MINUTE_MS = 60_000;

export interface SentEvent {
  eventType: string;
  occurredAtMs: number;
  /** user_id, else anonymous_id. */
  visitor: string;
}

export interface PanelData {
  rows: number;
  series: Record<string, Record<number, number>>;
}

const bucketOf = (ms: number) => Math.floor(ms / MINUTE_MS) * 60;
const inRange = (ms: number, from: number, to: number) => ms >= from && ms < to;

function bump(series: Record<string, Record<number, number>>, name: string, bucket: number, by = 1): void {
  const values = (series[name] ??= {});
  values[bucket] = (values[bucket] ?? 0) + by;
}

/** The data-summary a panel shows: its row count and, per series, the sum over the buckets. */
export function summaryOf(data: PanelData): { rows: number; series: Record<string, number> } {
  const series: Record<string, number> = {};
  for (const [name, values] of Object.entries(data.series)) series[name] = Object.values(values).reduce((a, b) => a + b, 0);
  return { rows: data.rows, series };
}

/** `events_per_minute`: one row per (minute, event type) by event time; a series per type. */
export function eventsPerMinute(events: readonly SentEvent[], from: number, to: number): PanelData {
  const rows = new Set<string>();
  const series: PanelData['series'] = {};
  for (const e of events) {
    if (!inRange(e.occurredAtMs, from, to)) continue;
    rows.add(`${bucketOf(e.occurredAtMs)}|${e.eventType}`);
    bump(series, e.eventType, bucketOf(e.occurredAtMs));
  }
  return { rows: rows.size, series };
}

/** `active_users`: distinct visitors per minute. */
export function activeUsers(events: readonly SentEvent[], from: number, to: number): PanelData {
  const perMinute = new Map<number, Set<string>>();
  for (const e of events) {
    if (!inRange(e.occurredAtMs, from, to)) continue;
    const set = perMinute.get(bucketOf(e.occurredAtMs)) ?? new Set<string>();
    set.add(e.visitor);
    perMinute.set(bucketOf(e.occurredAtMs), set);
  }
  const values: Record<number, number> = {};
  for (const [bucket, set] of perMinute) values[bucket] = set.size;
  return { rows: perMinute.size, series: { active_users: values } };
}

/**
 * `sessions`: session starts per minute; an event starts a session when its visitor has no earlier
 * event within `gapMs` (events up to one gap before the window count as earlier events).
 */
export function sessionsStarted(events: readonly SentEvent[], from: number, to: number, gapMs = 30 * MINUTE_MS): PanelData {
  const byVisitor = new Map<string, number[]>();
  for (const e of events) {
    if (e.occurredAtMs >= to || e.occurredAtMs < from - gapMs) continue;
    const list = byVisitor.get(e.visitor) ?? [];
    list.push(e.occurredAtMs);
    byVisitor.set(e.visitor, list);
  }
  const series: PanelData['series'] = {};
  for (const times of byVisitor.values()) {
    times.sort((a, b) => a - b);
    times.forEach((t, i) => {
      const previous = times[i - 1];
      if (t >= from && (previous === undefined || t - previous > gapMs)) bump(series, 'sessions', bucketOf(t));
    });
  }
  return { rows: Object.keys(series['sessions'] ?? {}).length, series };
}

/**
 * `dlq_rate`: per minute of processing time, DLQ records (by when they were dead-lettered) over
 * those plus clean events (by receive time), in percent; a row per minute with either.
 */
export function dlqRate(acceptedAtMs: readonly number[], failedAtMs: readonly number[], from: number, to: number): PanelData {
  const minutes = new Map<number, { failed: number; accepted: number }>();
  const at = (ms: number) => {
    const entry = minutes.get(bucketOf(ms)) ?? { failed: 0, accepted: 0 };
    minutes.set(bucketOf(ms), entry);
    return entry;
  };
  for (const ms of failedAtMs) if (inRange(ms, from, to)) at(ms).failed++;
  for (const ms of acceptedAtMs) if (inRange(ms, from, to)) at(ms).accepted++;
  const values: Record<number, number> = {};
  for (const [bucket, m] of minutes) values[bucket] = (100 * m.failed) / (m.failed + m.accepted);
  return { rows: minutes.size, series: { dlq_percent: values } };
}

/**
 * A chart's data (uPlot's `[xs, ...ys]` with the series names) in the same form, buckets holding
 * 0 or nothing left out (the charts fill empty buckets with 0, or leave a gap).
 */
export function chartSeries(names: readonly string[], data: ReadonlyArray<ReadonlyArray<number | null>>): Record<string, Record<number, number>> {
  const [xs = [], ...ys] = data;
  const series: Record<string, Record<number, number>> = {};
  names.forEach((name, i) => {
    const values: Record<number, number> = {};
    (ys[i] ?? []).forEach((v, j) => {
      if (v !== null && v !== 0) values[xs[j] as number] = v;
    });
    series[name] = values;
  });
  return series;
}

/** Expected series in the same form as {@link chartSeries}: zero values left out. */
export function withoutZeros(series: PanelData['series']): PanelData['series'] {
  return Object.fromEntries(Object.entries(series).map(([name, values]) => [name, Object.fromEntries(Object.entries(values).filter(([, v]) => v !== 0))]));
}
