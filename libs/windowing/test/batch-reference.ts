// Deliberately naive batch recomputation used as the oracle for the streaming engine: sort, bucket,
// count. It shares no code with src/ beyond the config types.
import type { WindowingConfig, WindowResult } from '../src/index';

type Row = Record<string, unknown>;

function get(event: unknown, path: string): unknown {
  let cur = event;
  for (const key of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || !(key in cur)) return undefined;
    cur = (cur as Row)[key];
  }
  return cur;
}

function groupValue(v: unknown): string | number | boolean | null {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;
}

function measure(kind: string, field: string | undefined, events: { t: number; e: unknown }[]): number | null {
  const numbers = events.map((x) => get(x.e, field ?? '')).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  switch (kind) {
    case 'count':
      return events.length;
    case 'sum':
      return numbers.reduce((a, b) => a + b, 0);
    case 'min':
      return numbers.length === 0 ? null : Math.min(...numbers);
    case 'max':
      return numbers.length === 0 ? null : Math.max(...numbers);
    case 'distinct':
      return new Set(events.map((x) => get(x.e, field ?? '')).filter((v) => typeof v === 'string' || typeof v === 'number').map(String)).size;
    case 'duration':
      return Math.max(...events.map((x) => x.t)) - Math.min(...events.map((x) => x.t));
    default:
      throw new Error(`unknown measure ${kind}`);
  }
}

/** Every window result for `events` (all assumed on time, with numeric event times), sorted by sortResults. */
export function batchAggregate(config: WindowingConfig, events: readonly unknown[]): WindowResult[] {
  const out: WindowResult[] = [];
  for (const agg of config.aggregates) {
    const buckets = new Map<string, { start: number; end: number; group: unknown[]; events: { t: number; e: unknown }[] }>();
    const timed = events.map((e) => ({ t: get(e, config.timeField) as number, e }));
    const keyOf = (e: unknown) => agg.groupBy.map((p) => groupValue(get(e, p)));
    if (agg.window.type === 'session') {
      const gap = agg.window.gap;
      const byGroup = new Map<string, { t: number; e: unknown }[]>();
      for (const x of timed) {
        const k = JSON.stringify(keyOf(x.e));
        byGroup.set(k, [...(byGroup.get(k) ?? []), x]);
      }
      for (const [k, list] of byGroup) {
        list.sort((a, b) => a.t - b.t);
        let current: { t: number; e: unknown }[] = [];
        const closeSession = () => {
          const first = current[0]?.t ?? NaN;
          const last = current.at(-1)?.t ?? NaN;
          buckets.set(`${first}|${k}`, { start: first, end: last + gap, group: JSON.parse(k), events: current });
        };
        for (const x of list) {
          const previous = current.at(-1);
          if (previous !== undefined && x.t - previous.t >= gap) {
            closeSession();
            current = [];
          }
          current.push(x);
        }
        if (current.length > 0) closeSession();
      }
    } else {
      const size = agg.window.size;
      const slide = agg.window.type === 'hopping' ? agg.window.slide : size;
      for (const x of timed) {
        // Scan every candidate start instead of computing it, to stay independent of the engine's math.
        for (let start = Math.floor((x.t - size) / slide) * slide; start <= x.t; start += slide) {
          if (start <= x.t && x.t < start + size) {
            const group = keyOf(x.e);
            const id = `${start}|${JSON.stringify(group)}`;
            const bucket = buckets.get(id) ?? { start, end: start + size, group, events: [] };
            bucket.events.push(x);
            buckets.set(id, bucket);
          }
        }
      }
    }
    for (const b of buckets.values()) {
      const group: Record<string, unknown> = {};
      agg.groupBy.forEach((p, i) => (group[p] = b.group[i]));
      const measures: Record<string, number | null> = {};
      for (const m of agg.measures) measures[m.name] = measure(m.kind, 'field' in m ? m.field : undefined, b.events);
      out.push({
        aggregate: agg.name,
        windowStartMs: b.start,
        windowEndMs: b.end,
        group: group as WindowResult['group'],
        eventCount: b.events.length,
        measures,
        estimated: [],
      });
    }
  }
  return sortResults(out);
}

/** Order-independent comparison helper: by aggregate, start, end, group. */
export function sortResults(results: readonly WindowResult[]): WindowResult[] {
  const key = (r: WindowResult) => `${r.aggregate}|${String(r.windowStartMs).padStart(16, '0')}|${r.windowEndMs}|${JSON.stringify(r.group)}`;
  return [...results].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
