import { parseAggregateConfig, DEFAULT_WINDOWING_CONFIG, type WindowingConfig } from './config';
import { createWindowEngine, type WindowEngine } from './engine';
import { hyperLogLogStandardError } from './hyperloglog';
import { WindowingError, type EngineOutput, type WindowResult } from './types';

type Ev = Record<string, unknown>;
const NOW = 10_000_000;

function configOf(input: Record<string, unknown>): WindowingConfig {
  const result = parseAggregateConfig({
    timeField: 't',
    ...input,
    watermark: { maxOutOfOrderness: 0, allowedLateness: 0, idleTimeout: '1m', maxFuture: '1d', ...(input['watermark'] as object) },
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

function engineOf(aggregates: unknown[], watermark: Record<string, unknown> = {}): WindowEngine<Ev> {
  return createWindowEngine<Ev>(configOf({ aggregates, watermark }));
}

/** Feeds events (partition 0 unless `p` is set, processing time NOW unless `now` is set); collects all output. */
function feed(engine: WindowEngine<Ev>, events: (Ev & { p?: number; now?: number })[]) {
  const all: EngineOutput<Ev> = { results: [], late: [], rejected: [], clamped: 0 };
  for (const { p, now, ...event } of events) {
    const out = engine.process(event, p ?? 0, now ?? NOW);
    all.results.push(...out.results);
    all.late.push(...out.late);
    all.rejected.push(...out.rejected);
    all.clamped += out.clamped;
  }
  return all;
}

const windowsOf = (results: readonly WindowResult[]) => results.map((r) => [r.windowStartMs, r.windowEndMs, r.eventCount]);

const tumbling = (size: number, extra: Record<string, unknown> = {}) => ({
  name: 'agg',
  window: { type: 'tumbling', size },
  measures: [{ kind: 'count' }],
  ...extra,
});
const session = (gap: number, extra: Record<string, unknown> = {}) => ({
  name: 'sessions',
  window: { type: 'session', gap },
  groupBy: ['u'],
  measures: [{ kind: 'count' }, { kind: 'duration' }],
  ...extra,
});

describe('tumbling windows', () => {
  it('an event exactly at a window end belongs to the next window and closes the previous one', () => {
    const engine = engineOf([tumbling(60_000)]);
    expect(feed(engine, [{ t: 0 }, { t: 59_999 }]).results).toEqual([]);
    expect(windowsOf(feed(engine, [{ t: 60_000 }]).results)).toEqual([[0, 60_000, 2]]);
    expect(windowsOf(engine.flush().results)).toEqual([[60_000, 120_000, 1]]);
  });

  // Window [0, 60s) with maxOutOfOrderness 5s and allowedLateness 10s is final once the watermark
  // (max event time - 5s) reaches 70s, i.e. an event at 75s.
  it.each([
    [74_999, false],
    [75_000, true],
  ])('with lateness: event at %d ms emits [0, 60s): %s', (t, emitted) => {
    const engine = engineOf([tumbling(60_000)], { maxOutOfOrderness: '5s', allowedLateness: '10s' });
    const out = feed(engine, [{ t: 1_000 }, { t }]);
    expect(out.results.map((r) => r.windowStartMs)).toEqual(emitted ? [0] : []);
  });

  it('accepts events for a window still within allowed lateness, and sends later ones to the late output', () => {
    const engine = engineOf([tumbling(60_000)], { allowedLateness: '30s' });
    const first = feed(engine, [{ t: 0 }, { t: 60_000 }, { t: 10, id: 'within lateness' }]);
    expect(first.late).toEqual([]);
    const second = feed(engine, [{ t: 90_000 }, { t: 20, id: 'too late' }]);
    expect(windowsOf(second.results)).toEqual([[0, 60_000, 2]]);
    expect(second.late).toEqual([
      { aggregate: 'agg', partition: 0, eventTimeMs: 20, watermarkMs: 90_000, windows: [{ startMs: 0, endMs: 60_000 }], event: { t: 20, id: 'too late' } },
    ]);
  });

  it('per-aggregate allowedLateness overrides the default', () => {
    const engine = engineOf([tumbling(100, { name: 'strict' }), tumbling(100, { name: 'lenient', allowedLateness: 1_000 })]);
    const out = feed(engine, [{ t: 0 }, { t: 150 }, { t: 50 }]);
    expect(out.late.map((l) => l.aggregate)).toEqual(['strict']);
    expect(engine.flush().results.filter((r) => r.aggregate === 'lenient').map((r) => r.eventCount)).toEqual([2, 1]);
  });
});

describe('hopping windows', () => {
  it('counts an event in every window containing it', () => {
    const engine = engineOf([{ name: 'h', window: { type: 'hopping', size: 30, slide: 10 }, measures: [{ kind: 'count' }] }]);
    feed(engine, [{ t: 25 }]);
    expect(windowsOf(engine.flush().results)).toEqual([
      [0, 30, 1],
      [10, 40, 1],
      [20, 50, 1],
    ]);
  });

  it('an event in some closed and some open windows is counted in the open ones and reported late for the rest', () => {
    const engine = engineOf([{ name: 'h', window: { type: 'hopping', size: 30, slide: 10 }, measures: [{ kind: 'count' }] }]);
    const out = feed(engine, [{ t: 5 }, { t: 30 }, { t: 25 }]);
    expect(windowsOf(out.results)).toEqual([
      [-20, 10, 1],
      [-10, 20, 1],
      [0, 30, 1],
    ]);
    expect(out.late.map((l) => l.windows)).toEqual([[{ startMs: 0, endMs: 30 }]]);
    expect(windowsOf(engine.flush().results)).toEqual([
      [10, 40, 2],
      [20, 50, 2],
      [30, 60, 1],
    ]);
  });
});

describe('session windows', () => {
  it('events less than gap apart share a session; exactly gap apart starts a new one', () => {
    const engine = engineOf([session(10)], { allowedLateness: 1_000 });
    feed(engine, [{ t: 0, u: 'a' }, { t: 5, u: 'a' }, { t: 14, u: 'a' }, { t: 24, u: 'a' }, { t: 3, u: 'b' }]);
    const results = engine.flush().results;
    expect(results.map((r) => [r.group['u'], r.windowStartMs, r.windowEndMs, r.measures['count'], r.measures['duration_ms']])).toEqual([
      ['b', 3, 13, 1, 0],
      ['a', 0, 24, 3, 14],
      ['a', 24, 34, 1, 0],
    ]);
  });

  it('a late but allowed event bridges two open sessions into one', () => {
    const engine = engineOf([session(15)], { allowedLateness: 100 });
    const out = feed(engine, [{ t: 0, u: 'a' }, { t: 20, u: 'a' }, { t: 50, u: 'b' }, { t: 10, u: 'a' }]);
    expect(out.results).toEqual([]);
    expect(out.late).toEqual([]);
    const a = engine.flush().results.filter((r) => r.group['u'] === 'a');
    expect(a.map((r) => [r.windowStartMs, r.windowEndMs, r.eventCount, r.measures['duration_ms']])).toEqual([[0, 35, 3, 20]]);
  });

  it('without lateness the same event arrives after both sessions closed and goes to the late output', () => {
    const engine = engineOf([session(15)]);
    const out = feed(engine, [{ t: 0, u: 'a' }, { t: 20, u: 'a' }, { t: 50, u: 'b' }, { t: 10, u: 'a' }]);
    expect(out.results.map((r) => [r.windowStartMs, r.windowEndMs])).toEqual([
      [0, 15],
      [20, 35],
    ]);
    expect(out.late.map((l) => [l.eventTimeMs, l.windows])).toEqual([[10, [{ startMs: 10, endMs: 25 }]]]);
  });

  it.each([
    [40, 'accepted'],
    [39, 'late'],
  ])('with watermark 50 and lateness 10 an event at %d is %s', (t, expected) => {
    const engine = engineOf([session(5)], { allowedLateness: 10 });
    const out = feed(engine, [{ t: 50, u: 'x' }, { t, u: 'y' }]);
    expect(out.late.length === 0 ? 'accepted' : 'late').toBe(expected);
  });

  it('sessions are per group key and close independently', () => {
    const engine = engineOf([session(10)]);
    const out = feed(engine, [{ t: 0, u: 'a' }, { t: 8, u: 'b' }, { t: 12, u: 'b' }, { t: 19, u: 'b' }]);
    expect(out.results.map((r) => [r.group['u'], r.windowStartMs, r.windowEndMs])).toEqual([['a', 0, 10]]);
    expect(engine.stats().openWindows).toBe(1);
  });

  it('a session that grew after it was scheduled closes at its real end, not at the first one', () => {
    const engine = engineOf([session(10)], { allowedLateness: 5 });
    const out = feed(engine, [{ t: 0, u: 'a' }, { t: 9, u: 'a' }, { t: 18, u: 'a' }, { t: 20, u: 'b' }, { t: 32, u: 'b' }]);
    // Watermark 32, threshold 27: a's session [0, 28) is not due although its first end (10) is.
    expect(out.results).toEqual([]);
    const closed = feed(engine, [{ t: 33, u: 'b' }]).results;
    expect(closed.map((r) => [r.group['u'], r.windowStartMs, r.windowEndMs, r.eventCount])).toEqual([['a', 0, 28, 3]]);
  });

  it('a late event that opens an earlier session for a user closes it at its own end', () => {
    const engine = engineOf([session(10)], { allowedLateness: 45 });
    const out = feed(engine, [{ t: 40, u: 'a' }, { t: 48, u: 'a' }, { t: 5, u: 'a' }, { t: 60, u: 'b' }]);
    // Watermark 60, threshold 15: the session [5, 15) of a is due, its later one [40, 58) is not.
    expect(out.late).toEqual([]);
    expect(out.results.map((r) => [r.group['u'], r.windowStartMs, r.windowEndMs])).toEqual([['a', 5, 15]]);
    expect(engine.stats().openWindows).toBe(2);
  });
});

describe('watermark across partitions', () => {
  it('a stalled partition holds windows open until it has been idle for idleTimeout', () => {
    const engine = engineOf([tumbling(1_000)], { idleTimeout: '10s' });
    feed(engine, [{ t: 500, p: 1, now: 0 }]);
    const busy = feed(engine, [{ t: 2_000, p: 0, now: 5_000 }, { t: 3_000, p: 0, now: 9_000 }]);
    expect(busy.results).toEqual([]);
    expect(engine.advance(9_999).results).toEqual([]);
    expect(windowsOf(engine.advance(10_000).results)).toEqual([
      [0, 1_000, 1],
      [2_000, 3_000, 1],
    ]);
    expect(engine.stats().watermarkMs).toBe(3_000);
  });

  it('an idle partition that wakes up behind the watermark delivers late events, it does not reopen windows', () => {
    const engine = engineOf([tumbling(1_000)], { idleTimeout: '10s' });
    feed(engine, [{ t: 500, p: 1, now: 0 }, { t: 5_000, p: 0, now: 20_000 }]);
    const out = feed(engine, [{ t: 600, p: 1, now: 20_001 }]);
    expect(out.late.map((l) => l.windows)).toEqual([[{ startMs: 0, endMs: 1_000 }]]);
    expect(engine.stats().watermarkMs).toBe(5_000);
  });
});

describe('event time validation', () => {
  it.each<[string, 'reject' | 'clamp', number, string, number]>([
    ['reject: exactly maxFuture ahead is accepted', 'reject', 1_100, 'accepted', 1_100],
    ['reject: one ms beyond maxFuture is rejected', 'reject', 1_101, 'rejected', NaN],
    ['clamp: far future is processed at now + maxFuture', 'clamp', 9_999_999_999, 'clamped', 1_100],
  ])('%s', (_name, futurePolicy, t, outcome, processedAt) => {
    const engine = engineOf([tumbling(10)], { maxFuture: 100, futurePolicy });
    const out = feed(engine, [{ t, now: 1_000 }]);
    if (outcome === 'rejected') {
      expect(out.rejected).toEqual([{ reason: 'future_time', partition: 0, eventTimeMs: t, nowMs: 1_000, event: { t } }]);
      expect(engine.stats().watermarkMs).toBe(-Infinity);
      expect(engine.flush().results).toEqual([]);
    } else {
      expect(out.rejected).toEqual([]);
      expect(out.clamped).toBe(outcome === 'clamped' ? 1 : 0);
      expect(engine.stats().watermarkMs).toBe(processedAt);
      expect(windowsOf(engine.flush().results)).toEqual([[processedAt, processedAt + 10, 1]]);
    }
  });

  it('a rejected far-future event cannot close the windows of everyone else', () => {
    const engine = engineOf([tumbling(60_000)], { maxFuture: '5m' });
    const out = feed(engine, [{ t: 1_000, now: 2_000 }, { t: 1_000 + 365 * 86_400_000, now: 2_000 }, { t: 2_000, now: 3_000 }]);
    expect(out.results).toEqual([]);
    expect(out.rejected.map((r) => r.reason)).toEqual(['future_time']);
    expect(windowsOf(engine.flush().results)).toEqual([[0, 60_000, 2]]);
  });

  it.each([[{}], [{ t: 'yesterday-ish' }], [{ t: Number.NaN }], [{ t: null }], [{ t: { ms: 1 } }]])('rejects %j as invalid_time', (event) => {
    const engine = engineOf([tumbling(10)]);
    const out = engine.process(event, 'p', 1_000);
    expect(out.rejected).toEqual([{ reason: 'invalid_time', partition: 'p', eventTimeMs: null, nowMs: 1_000, event }]);
  });

  it('reads ISO-8601 strings and a nested time field', () => {
    const engine = createWindowEngine(configOf({ timeField: 'meta.at', aggregates: [tumbling(60_000)] }));
    engine.process({ meta: { at: '1970-01-01T00:01:30.000Z' } }, 0, NOW);
    expect(windowsOf(engine.flush().results)).toEqual([[60_000, 120_000, 1]]);
  });

  it('throws RangeError for a non-finite processing clock', () => {
    const engine = engineOf([tumbling(10)]);
    expect(() => engine.process({ t: 1 }, 0, Number.NaN)).toThrow(RangeError);
    expect(() => engine.advance(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('measures and output shape', () => {
  it('groups by several dot paths, missing values group as null, and every measure is computed', () => {
    const engine = engineOf([
      {
        name: 'plans',
        window: { type: 'tumbling', size: 100 },
        groupBy: ['event_type', 'properties.plan'],
        measures: [
          { kind: 'count' },
          { kind: 'sum', field: 'properties.amount' },
          { kind: 'min', field: 'properties.amount' },
          { kind: 'max', field: 'properties.amount' },
          { kind: 'distinct', field: 'user_key', name: 'users' },
          { kind: 'duration' },
        ],
      },
    ]);
    feed(engine, [
      { t: 10, event_type: 'buy', properties: { plan: 'pro', amount: 5 }, user_key: 'u1' },
      { t: 30, event_type: 'buy', properties: { plan: 'pro', amount: 7 }, user_key: 'u2' },
      { t: 20, event_type: 'buy', properties: { plan: 'pro', amount: 'x' }, user_key: 'u1' },
      { t: 40, event_type: 'buy', properties: {}, user_key: 'u3' },
      { t: 50, event_type: 'view' },
    ]);
    expect(engine.flush().results).toEqual([
      {
        aggregate: 'plans',
        windowStartMs: 0,
        windowEndMs: 100,
        group: { event_type: 'buy', 'properties.plan': 'pro' },
        eventCount: 3,
        measures: { count: 3, sum_properties_amount: 12, min_properties_amount: 5, max_properties_amount: 7, users: 2, duration_ms: 20 },
        estimated: [],
      },
      {
        aggregate: 'plans',
        windowStartMs: 0,
        windowEndMs: 100,
        group: { event_type: 'buy', 'properties.plan': null },
        eventCount: 1,
        measures: { count: 1, sum_properties_amount: 0, min_properties_amount: null, max_properties_amount: null, users: 1, duration_ms: 0 },
        estimated: [],
      },
      {
        aggregate: 'plans',
        windowStartMs: 0,
        windowEndMs: 100,
        group: { event_type: 'view', 'properties.plan': null },
        eventCount: 1,
        measures: { count: 1, sum_properties_amount: 0, min_properties_amount: null, max_properties_amount: null, users: 0, duration_ms: 0 },
        estimated: [],
      },
    ]);
  });

  it('orders the results of one call by window end, start, aggregate (config order) and group', () => {
    const engine = engineOf([
      tumbling(10, { name: 'b_second', groupBy: ['k'] }),
      tumbling(20, { name: 'z_twenty' }),
      { name: 'a_first', window: { type: 'hopping', size: 20, slide: 10 }, measures: [{ kind: 'count' }] },
    ], { allowedLateness: 1_000 });
    feed(engine, [{ t: 5, k: 'z' }, { t: 6, k: 'y' }, { t: 15, k: 'x' }]);
    const out = engine.flush().results.map((r) => `${r.aggregate}:${r.windowStartMs}-${r.windowEndMs}:${String(r.group['k'] ?? '')}`);
    expect(out).toEqual([
      'a_first:-10-10:',
      'b_second:0-10:y',
      'b_second:0-10:z',
      'z_twenty:0-20:',
      'a_first:0-20:',
      'b_second:10-20:x',
      'a_first:10-30:',
    ]);
  });

  it('switches distinct counting to the sketch beyond exactLimit and stays within the documented error', () => {
    const engine = engineOf([
      { name: 'users', window: { type: 'tumbling', size: 1_000 }, measures: [{ kind: 'distinct', field: 'u', exactLimit: 1_000 }] },
    ]);
    const n = 30_000;
    for (let i = 0; i < n; i++) engine.process({ t: i % 1_000, u: `user-${i}` }, 0, NOW);
    const [result] = engine.flush().results;
    expect(result?.estimated).toEqual(['distinct_u']);
    expect(Math.abs((result?.measures['distinct_u'] ?? 0) - n) / n).toBeLessThan(3 * hyperLogLogStandardError(14));
  });
});

describe('flush, snapshot and restore', () => {
  it('flush emits every open window; afterwards every event is late', () => {
    const engine = engineOf([tumbling(10), session(10, { name: 's' })], { allowedLateness: 1_000 });
    feed(engine, [{ t: 1, u: 'a' }, { t: 100, u: 'a' }]);
    expect(engine.flush().results).toHaveLength(4);
    expect(engine.stats()).toEqual({ watermarkMs: Infinity, openWindows: 0, partitions: 1 });
    expect(feed(engine, [{ t: 200, u: 'a' }]).late.map((l) => l.aggregate)).toEqual(['agg', 's']);
  });

  it('a restored engine continues exactly like the original, sketches and sessions included', () => {
    const config = configOf({
      aggregates: [
        { name: 'users', window: { type: 'hopping', size: 200, slide: 50 }, measures: [{ kind: 'distinct', field: 'u', exactLimit: 50 }] },
        session(30),
      ],
      watermark: { maxOutOfOrderness: 20, allowedLateness: 40 },
    });
    const events = Array.from({ length: 2_000 }, (_, i) => ({ t: i + ((i * 37) % 50), u: `u${(i * 7) % 300}` }));
    const run = (engine: WindowEngine<Ev>, slice: Ev[]) => slice.map((e, i) => engine.process(e, i % 3, NOW + i));

    const original = createWindowEngine<Ev>(config);
    const expected = [...run(original, events), original.flush()];

    const first = createWindowEngine<Ev>(config);
    const before = run(first, events.slice(0, 1_000));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    const resumed = createWindowEngine<Ev>(config, snapshot);
    expect(resumed.snapshot()).toEqual(snapshot);
    const after = events.slice(1_000).map((e, i) => resumed.process(e, (i + 1_000) % 3, NOW + 1_000 + i));
    expect([...before, ...after, resumed.flush()]).toEqual(expected);
    expect(expected.flatMap((o) => o.results).some((r) => r.estimated.length > 0)).toBe(true);
  });

  it('restoring into a config whose aggregate changed fails; added and removed aggregates are fine', () => {
    const engine = engineOf([tumbling(10), session(10, { name: 'gone' })]);
    feed(engine, [{ t: 1, u: 'a' }]);
    const snapshot = engine.snapshot();

    const changed = configOf({ aggregates: [tumbling(20)] });
    expect(() => createWindowEngine(changed, snapshot)).toThrow(expect.objectContaining({ code: 'incompatible_snapshot' }));

    const added = createWindowEngine(configOf({ aggregates: [tumbling(10), tumbling(10, { name: 'new_one' })] }), snapshot);
    expect(added.flush().results.map((r) => [r.aggregate, r.eventCount])).toEqual([['agg', 1]]);
  });

  it.each<[string, (s: Record<string, unknown>) => unknown]>([
    ['not an object', () => 'nope'],
    ['wrong version', (s) => ({ ...s, version: 2 })],
    ['measure state of the wrong kind', (s) => JSON.parse(JSON.stringify(s).replace('"states":[1]', '"states":["one"]'))],
  ])('rejects a corrupt snapshot (%s) with invalid_snapshot', (_name, corrupt) => {
    const engine = engineOf([tumbling(10)]);
    feed(engine, [{ t: 1 }]);
    const bad = corrupt(engine.snapshot() as unknown as Record<string, unknown>);
    let error: unknown;
    try {
      createWindowEngine(configOf({ aggregates: [tumbling(10)] }), bad as never);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WindowingError);
    expect((error as WindowingError).code).toBe('invalid_snapshot');
  });

  it('refuses an invalid config with every problem listed', () => {
    const bad = { ...DEFAULT_WINDOWING_CONFIG, aggregates: [{ name: 'x', window: { type: 'tumbling', size: -1 }, groupBy: [], measures: [] }] };
    expect(() => createWindowEngine(bad as unknown as WindowingConfig)).toThrow(
      expect.objectContaining({ code: 'invalid_config', problems: [expect.objectContaining({ path: 'aggregates.0.window.size' }), expect.objectContaining({ path: 'aggregates.0.measures' })] }),
    );
  });
});

describe('default aggregates', () => {
  it('produce per-type counts, active users and sessions from a small stream', () => {
    const engine = createWindowEngine<Ev>(DEFAULT_WINDOWING_CONFIG);
    const minute = 60_000;
    const base = Date.UTC(2024, 0, 1);
    const at = (ms: number) => new Date(base + ms).toISOString();
    const events: Ev[] = [
      { timestamp: at(0), event_type: 'page_view', user_key: 'alice' },
      { timestamp: at(10_000), event_type: 'click', user_key: 'alice' },
      { timestamp: at(20_000), event_type: 'page_view', user_key: 'bob' },
      { timestamp: at(2 * minute), event_type: 'page_view', user_key: 'alice' },
    ];
    const out = events.map((e, i) => engine.process(e, i % 2, base + 3 * minute)).flatMap((o) => o.results);
    const all = [...out, ...engine.flush().results];

    const perType = all.filter((r) => r.aggregate === 'events_per_type_per_minute');
    expect(perType.map((r) => [r.windowStartMs - base, r.group['event_type'], r.measures['count']])).toEqual([
      [0, 'click', 1],
      [0, 'page_view', 2],
      [2 * minute, 'page_view', 1],
    ]);
    const active = all.filter((r) => r.aggregate === 'active_users_5m');
    expect(active).toHaveLength(7);
    expect(active.find((r) => r.windowStartMs === base)?.measures).toEqual({ active_users: 2 });
    expect(active.find((r) => r.windowStartMs === base + minute)?.measures).toEqual({ active_users: 1 });
    const sessions = all.filter((r) => r.aggregate === 'user_sessions');
    expect(sessions.map((r) => [r.group['user_key'], r.measures])).toEqual([
      ['bob', { events: 1, duration_ms: 0 }],
      ['alice', { events: 3, duration_ms: 2 * minute }],
    ]);
  });
});
