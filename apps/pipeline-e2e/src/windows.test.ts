import fc from 'fast-check';
import { createWindowEngine, parseAggregateConfig, type AggregateSpec, type WindowingConfig, type WindowResult } from '@pipeline/windowing';
import { expectedWindows, roundMeasure, sortRows, type WindowRow, type WindowedEvent } from './windows';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function parse(raw: unknown): WindowingConfig {
  const parsed = parseAggregateConfig(raw);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return parsed.config;
}

const CONFIG = parse({
  timeField: 'occurred_at',
  aggregates: [
    { name: 'per_type', window: { type: 'tumbling', size: '1m' }, groupBy: ['event_type'], measures: [{ kind: 'count' }, { kind: 'sum', field: 'properties.price', name: 'revenue' }] },
    { name: 'active', window: { type: 'hopping', size: '3m', slide: '1m' }, measures: [{ kind: 'distinct', field: 'user_key', name: 'users' }] },
    { name: 'sessions', window: { type: 'session', gap: '2m' }, groupBy: ['user_key'], measures: [{ kind: 'count', name: 'events' }, { kind: 'duration' }] },
  ],
});
const spec = (name: string) => CONFIG.aggregates.find((a) => a.name === name) as AggregateSpec;

const event = (id: string, atMs: number, user: string, type = 'view', properties: Record<string, unknown> = {}): WindowedEvent => ({
  event_id: id,
  event_type: type,
  occurred_at: new Date(atMs).toISOString(),
  ...(user.startsWith('anon') ? { anonymous_id: user } : { user_id: user }),
  properties,
});

const iso = (ms: number) => new Date(ms).toISOString();

describe('expectedWindows', () => {
  it('counts tumbling windows per group, an event at a window end going to the next window', () => {
    const rows = expectedWindows(spec('per_type'), [
      event('a', T0, 'u1', 'view'),
      event('b', T0 + MINUTE - 1, 'u2', 'buy', { price: 2.5 }),
      event('c', T0 + MINUTE, 'u1', 'buy', { price: 1.25 }),
      event('d', T0 + MINUTE + 5, 'u3', 'buy', { price: 'free' }),
    ]);
    expect(rows).toEqual([
      { window_start: iso(T0), window_end: iso(T0 + MINUTE), group: 'buy', event_count: 1, measures: { count: 1, revenue: 2.5 } },
      { window_start: iso(T0), window_end: iso(T0 + MINUTE), group: 'view', event_count: 1, measures: { count: 1, revenue: 0 } },
      { window_start: iso(T0 + MINUTE), window_end: iso(T0 + 2 * MINUTE), group: 'buy', event_count: 2, measures: { count: 2, revenue: 1.25 } },
    ]);
  });

  it('puts an event into every hopping window that holds it and counts users once per window', () => {
    const rows = expectedWindows(spec('active'), [event('a', T0 + 10, 'u1'), event('b', T0 + 20, 'u1'), event('c', T0 + MINUTE + 1, 'anon-1')]);
    expect(rows.map((r) => [r.window_start, r.event_count, r.measures['users']])).toEqual([
      [iso(T0 - 2 * MINUTE), 2, 1],
      [iso(T0 - MINUTE), 3, 2],
      [iso(T0), 3, 2],
      [iso(T0 + MINUTE), 1, 1],
    ]);
    expect(rows.every((r) => Date.parse(r.window_end) - Date.parse(r.window_start) === 3 * MINUTE && r.group === null)).toBe(true);
  });

  it('splits sessions at a gap of exactly the session gap, not below it', () => {
    const gap = 2 * MINUTE;
    const rows = expectedWindows(spec('sessions'), [event('a', T0, 'u1'), event('b', T0 + gap - 1, 'u1'), event('c', T0 + 2 * gap - 1, 'u1'), event('d', T0, 'anon-9')]);
    expect(rows).toEqual([
      { window_start: iso(T0), window_end: iso(T0 + gap), group: 'anon-9', event_count: 1, measures: { events: 1, duration_ms: 0 } },
      { window_start: iso(T0), window_end: iso(T0 + 2 * gap - 1), group: 'u1', event_count: 2, measures: { events: 2, duration_ms: gap - 1 } },
      { window_start: iso(T0 + 2 * gap - 1), window_end: iso(T0 + 3 * gap - 1), group: 'u1', event_count: 1, measures: { events: 1, duration_ms: 0 } },
    ]);
  });

  it('leaves out windows that end after the cutoff', () => {
    const rows = expectedWindows(spec('per_type'), [event('a', T0, 'u1'), event('b', T0 + MINUTE, 'u1')], T0 + MINUTE);
    expect(rows.map((r) => r.window_start)).toEqual([iso(T0)]);
  });

  it('rejects aggregates grouped by more than one field', () => {
    const two = { ...spec('per_type'), groupBy: ['event_type', 'user_key'] };
    expect(() => expectedWindows(two, [])).toThrow(/at most one group-by field/);
  });

  it('equals the windowing engine over in-order events', () => {
    const toRow = (r: WindowResult): WindowRow => {
      const values = Object.values(r.group);
      return {
        window_start: iso(r.windowStartMs),
        window_end: iso(r.windowEndMs),
        group: values.length === 0 ? null : (values[0] as string | null),
        event_count: r.eventCount,
        measures: Object.fromEntries(Object.entries(r.measures).map(([k, v]) => [k, roundMeasure(v as number)])),
      };
    };
    const arbitraryEvents = fc.array(
      fc.record({
        offsetMs: fc.integer({ min: 0, max: 30 * MINUTE }),
        user: fc.constantFrom('u1', 'u2', 'u3', 'anon-1', 'anon-2'),
        type: fc.constantFrom('view', 'buy'),
        price: fc.option(fc.integer({ min: 1, max: 10_000 }).map((cents) => cents / 100), { nil: undefined }),
      }),
      { maxLength: 120 },
    );
    fc.assert(
      fc.property(arbitraryEvents, (drawn) => {
        const events = drawn
          .map((d, i) => event(`e${i}`, T0 + d.offsetMs, d.user, d.type, d.price === undefined ? {} : { price: d.price }))
          .sort((a, b) => Date.parse(a.occurred_at) - Date.parse(b.occurred_at));
        const engine = createWindowEngine<Record<string, unknown>>(CONFIG);
        const results: WindowResult[] = [];
        for (const e of events) {
          const view = { ...e, user_key: e.user_id ?? e.anonymous_id };
          const out = engine.process(view, 0, Date.parse(e.occurred_at));
          expect(out.late).toEqual([]);
          results.push(...out.results);
        }
        results.push(...engine.flush().results);
        for (const a of CONFIG.aggregates) {
          expect(expectedWindows(a, events)).toEqual(sortRows(results.filter((r) => r.aggregate === a.name).map(toRow)));
        }
      }),
      { numRuns: 60 },
    );
  });
});
