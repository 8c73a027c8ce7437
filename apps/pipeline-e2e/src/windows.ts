import type { AggregateSpec, MeasureSpec } from '@pipeline/windowing';

/** An event as the windows see it: the envelope plus `user_key` (`user_id`, else `anonymous_id`). */
export interface WindowedEvent {
  event_id: string;
  event_type: string;
  /** RFC 3339, the aggregates' time field. */
  occurred_at: string;
  user_id?: string | null | undefined;
  anonymous_id?: string | null | undefined;
  properties?: Record<string, unknown> | undefined;
}

/**
 * One window of an aggregate in a form every source can be brought to (the processor's table, a
 * SQL recomputation, this module): ISO bounds, the group-by value, the event count and the measures.
 */
export interface WindowRow {
  window_start: string;
  window_end: string;
  /** The value of the aggregate's single group-by field; null when it has none. */
  group: string | null;
  event_count: number;
  measures: Record<string, number>;
}

/** Measures are doubles in the lake and sums of floats depend on the order of addition: compared at 1e-6. */
export function roundMeasure(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Rows in a stable order (start, end, group), for comparisons with readable diffs. */
export function sortRows(rows: readonly WindowRow[]): WindowRow[] {
  return [...rows].sort(
    (a, b) => a.window_start.localeCompare(b.window_start) || a.window_end.localeCompare(b.window_end) || String(a.group).localeCompare(String(b.group)),
  );
}

/** The one group-by field of an aggregate (undefined when ungrouped); several fields are not supported here. */
export function groupField(spec: AggregateSpec): string | undefined {
  if (spec.groupBy.length > 1) throw new Error(`aggregate ${spec.name}: at most one group-by field is supported, got ${spec.groupBy.join(', ')}`);
  return spec.groupBy[0];
}

function view(e: WindowedEvent): Record<string, unknown> {
  return { ...e, user_key: e.user_id ?? e.anonymous_id ?? null, properties: e.properties ?? {} };
}

function read(record: Record<string, unknown>, path: string): unknown {
  let value: unknown = record;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function groupValue(v: unknown): string | null {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return null;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

interface Bucket {
  startMs: number;
  endMs: number;
  group: string | null;
  times: number[];
  records: Record<string, unknown>[];
}

function measureValue(m: MeasureSpec, bucket: Bucket, sessionGapMs: number | undefined): number {
  switch (m.kind) {
    case 'count':
      return bucket.records.length;
    case 'sum':
    case 'min':
    case 'max': {
      const numbers = bucket.records.map((r) => read(r, m.field)).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (m.kind === 'sum') return numbers.reduce((a, b) => a + b, 0);
      if (numbers.length === 0) return NaN;
      return m.kind === 'min' ? Math.min(...numbers) : Math.max(...numbers);
    }
    case 'distinct':
      return new Set(bucket.records.map((r) => read(r, m.field)).filter((v) => v !== undefined && v !== null).map(String)).size;
    case 'duration': {
      const first = Math.min(...bucket.times);
      const last = Math.max(...bucket.times);
      return sessionGapMs === undefined ? last - first : bucket.endMs - bucket.startMs - sessionGapMs;
    }
  }
}

/**
 * A batch computation of one declared aggregate (libs/windowing semantics) over events that were
 * all counted: tumbling and hopping windows aligned to the epoch, sessions split where two of a
 * group's events are `gap` or more apart. Windows ending after `cutoffMs` are left out.
 */
export function expectedWindows(spec: AggregateSpec, events: readonly WindowedEvent[], cutoffMs = Infinity): WindowRow[] {
  const field = groupField(spec);
  const buckets = new Map<string, Bucket>();
  const add = (startMs: number, endMs: number, group: string | null, t: number, record: Record<string, unknown>) => {
    const key = `${startMs}|${group}`;
    let bucket = buckets.get(key);
    if (!bucket) buckets.set(key, (bucket = { startMs, endMs, group, times: [], records: [] }));
    bucket.times.push(t);
    bucket.records.push(record);
  };
  const window = spec.window;
  if (window.type === 'session') {
    const byGroup = new Map<string | null, Array<{ t: number; record: Record<string, unknown> }>>();
    for (const e of events) {
      const record = view(e);
      const group = field === undefined ? null : groupValue(read(record, field));
      const list = byGroup.get(group) ?? [];
      list.push({ t: Date.parse(e.occurred_at), record });
      byGroup.set(group, list);
    }
    for (const [group, list] of byGroup) {
      list.sort((a, b) => a.t - b.t);
      let session: Array<{ t: number; record: Record<string, unknown> }> = [];
      const close = () => {
        const first = (session[0] as { t: number }).t;
        const last = (session[session.length - 1] as { t: number }).t;
        for (const s of session) add(first, last + window.gap, group, s.t, s.record);
      };
      for (const item of list) {
        const previous = session[session.length - 1];
        if (previous !== undefined && item.t - previous.t >= window.gap) {
          close();
          session = [];
        }
        session.push(item);
      }
      if (session.length > 0) close();
    }
  } else {
    const size = window.size;
    const slide = window.type === 'hopping' ? window.slide : window.size;
    for (const e of events) {
      const record = view(e);
      const t = Date.parse(e.occurred_at);
      const group = field === undefined ? null : groupValue(read(record, field));
      for (let start = Math.floor(t / slide) * slide; start > t - size; start -= slide) add(start, start + size, group, t, record);
    }
  }
  const gap = window.type === 'session' ? window.gap : undefined;
  const rows: WindowRow[] = [];
  for (const bucket of buckets.values()) {
    if (bucket.endMs > cutoffMs) continue;
    const measures: Record<string, number> = {};
    for (const m of spec.measures) measures[m.name] = roundMeasure(measureValue(m, bucket, gap));
    rows.push({ window_start: new Date(bucket.startMs).toISOString(), window_end: new Date(bucket.endMs).toISOString(), group: bucket.group, event_count: bucket.records.length, measures });
  }
  return sortRows(rows);
}
