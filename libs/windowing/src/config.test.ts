import { DEFAULT_AGGREGATES, DEFAULT_WATERMARK, DEFAULT_WINDOWING_CONFIG, parseAggregateConfig, type WindowingConfig } from './config';

function problemsOf(input: unknown): { path: string; message: string }[] {
  const result = parseAggregateConfig(input);
  if (result.ok) throw new Error('expected problems, got a valid config');
  return [...result.problems];
}

function configOf(input: unknown): WindowingConfig {
  const result = parseAggregateConfig(input);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

const count = [{ kind: 'count' }];

describe('parseAggregateConfig', () => {
  it('defaults to the three built-in aggregates and watermark settings', () => {
    expect(configOf({})).toEqual(DEFAULT_WINDOWING_CONFIG);
    expect(DEFAULT_WATERMARK).toEqual({ maxOutOfOrderness: 10_000, allowedLateness: 60_000, idleTimeout: 60_000, maxFuture: 300_000, futurePolicy: 'reject' });
    expect(DEFAULT_AGGREGATES).toEqual([
      { name: 'events_per_type_per_minute', window: { type: 'tumbling', size: 60_000 }, groupBy: ['event_type'], measures: [{ kind: 'count', name: 'count' }] },
      {
        name: 'active_users_5m',
        window: { type: 'hopping', size: 300_000, slide: 60_000 },
        groupBy: [],
        measures: [{ kind: 'distinct', field: 'user_key', name: 'active_users', exactLimit: 10_000, precision: 14 }],
      },
      {
        name: 'user_sessions',
        window: { type: 'session', gap: 1_800_000 },
        groupBy: ['user_key'],
        measures: [{ kind: 'count', name: 'events' }, { kind: 'duration', name: 'duration_ms' }],
      },
    ]);
    expect(Object.isFrozen(DEFAULT_AGGREGATES[0]?.window)).toBe(true);
  });

  it('parses duration strings, names measures by default, and accepts JSON text', () => {
    const config = configOf(
      JSON.stringify({
        timeField: 'ts',
        watermark: { maxOutOfOrderness: '5s', allowedLateness: 0, futurePolicy: 'clamp' },
        aggregates: [
          {
            name: 'revenue',
            window: { type: 'hopping', size: '1h', slide: '15m' },
            groupBy: ['properties.plan'],
            allowedLateness: '2m',
            measures: [{ kind: 'sum', field: 'properties.amount' }, { kind: 'max', field: 'amount' }, { kind: 'distinct', field: 'user_key', exactLimit: 5 }],
          },
        ],
      }),
    );
    expect(config.timeField).toBe('ts');
    expect(config.watermark).toEqual({ ...DEFAULT_WATERMARK, maxOutOfOrderness: 5_000, allowedLateness: 0, futurePolicy: 'clamp' });
    const [aggregate] = config.aggregates;
    expect(aggregate?.window).toEqual({ type: 'hopping', size: 3_600_000, slide: 900_000 });
    expect(aggregate?.allowedLateness).toBe(120_000);
    expect(aggregate?.measures.map((m) => m.name)).toEqual(['sum_properties_amount', 'max_amount', 'distinct_user_key']);
  });

  it('accepts its own output (createWindowEngine re-validates parsed configs)', () => {
    expect(configOf(DEFAULT_WINDOWING_CONFIG)).toEqual(DEFAULT_WINDOWING_CONFIG);
  });

  it.each<[string, unknown, { path: string; message: RegExp }[]]>([
    ['invalid JSON text', '{"aggregates": [', [{ path: '(root)', message: /invalid JSON/ }]],
    ['bad duration string', { watermark: { maxFuture: '5 minutes' } }, [{ path: 'watermark.maxFuture', message: /duration such as/ }]],
    ['negative duration', { watermark: { allowedLateness: -1 } }, [{ path: 'watermark.allowedLateness', message: /non-negative/ }]],
    ['zero idle timeout', { watermark: { idleTimeout: 0 } }, [{ path: 'watermark.idleTimeout', message: /greater than zero/ }]],
    ['unknown key (typo)', { watermark: { maxOutOfOrder: '5s' } }, [{ path: 'watermark', message: /Unrecognized key/ }]],
    ['bad future policy', { watermark: { futurePolicy: 'drop' } }, [{ path: 'watermark.futurePolicy', message: /.+/ }]],
    ['no aggregates', { aggregates: [] }, [{ path: 'aggregates', message: /at least one aggregate/ }]],
    [
      'unknown window type',
      { aggregates: [{ name: 'a', window: { type: 'sliding', size: 1 }, measures: count }] },
      [{ path: 'aggregates.0.window.type', message: /tumbling.*hopping.*session/ }],
    ],
    [
      'zero tumbling size',
      { aggregates: [{ name: 'a', window: { type: 'tumbling', size: 0 }, measures: count }] },
      [{ path: 'aggregates.0.window.size', message: /greater than zero/ }],
    ],
    [
      'hopping slide larger than size',
      { aggregates: [{ name: 'a', window: { type: 'hopping', size: '1m', slide: '2m' }, measures: count }] },
      [{ path: 'aggregates.0.window.slide', message: /must not exceed size/ }],
    ],
    [
      'hopping with too many windows per event',
      { aggregates: [{ name: 'a', window: { type: 'hopping', size: '1h', slide: '1s' }, measures: count }] },
      [{ path: 'aggregates.0.window.slide', message: /at most 1000/ }],
    ],
    [
      'session without gap',
      { aggregates: [{ name: 'a', window: { type: 'session' }, measures: count }] },
      [{ path: 'aggregates.0.window.gap', message: /.+/ }],
    ],
    [
      'measure without field',
      { aggregates: [{ name: 'a', window: { type: 'tumbling', size: 1 }, measures: [{ kind: 'sum' }] }] },
      [{ path: 'aggregates.0.measures.0.field', message: /.+/ }],
    ],
    [
      'unknown measure kind',
      { aggregates: [{ name: 'a', window: { type: 'tumbling', size: 1 }, measures: [{ kind: 'avg', field: 'x' }] }] },
      [{ path: 'aggregates.0.measures.0.kind', message: /count \| sum/ }],
    ],
    [
      'bad field path and group-by path',
      { aggregates: [{ name: 'a', window: { type: 'tumbling', size: 1 }, groupBy: ['a..b'], measures: [{ kind: 'min', field: '.x' }] }] },
      [
        { path: 'aggregates.0.groupBy.0', message: /dot path/ },
        { path: 'aggregates.0.measures.0.field', message: /dot path/ },
      ],
    ],
    [
      'duplicate measure names',
      { aggregates: [{ name: 'a', window: { type: 'tumbling', size: 1 }, measures: [{ kind: 'count' }, { kind: 'sum', field: 'x', name: 'count' }] }] },
      [{ path: 'aggregates.0.measures.1.name', message: /duplicate measure name "count"/ }],
    ],
    [
      'duplicate aggregate names and a bad name',
      {
        aggregates: [
          { name: 'a', window: { type: 'tumbling', size: 1 }, measures: count },
          { name: 'a', window: { type: 'tumbling', size: 2 }, measures: count },
          { name: 'Bad-Name', window: { type: 'tumbling', size: 2 }, measures: count },
        ],
      },
      [
        { path: 'aggregates.2.name', message: /lower_snake_case/ },
        { path: 'aggregates.1.name', message: /duplicate aggregate name "a"/ },
      ],
    ],
    [
      'distinct precision out of range',
      { aggregates: [{ name: 'a', window: { type: 'tumbling', size: 1 }, measures: [{ kind: 'distinct', field: 'u', precision: 20 }] }] },
      [{ path: 'aggregates.0.measures.0.precision', message: /.+/ }],
    ],
  ])('reports %s with its path', (_name, input, expected) => {
    const problems = problemsOf(input);
    expect(problems).toEqual(expected.map((e) => ({ path: e.path, message: expect.stringMatching(e.message) })));
  });

  it('reports every problem at once, not just the first', () => {
    const problems = problemsOf({
      watermark: { maxFuture: 'soon', idleTimeout: 0 },
      aggregates: [{ name: 'x', window: { type: 'tumbling', size: 'big' }, measures: [] }],
    });
    expect(problems.map((p) => p.path).sort()).toEqual(
      ['aggregates.0.measures', 'aggregates.0.window.size', 'watermark.idleTimeout', 'watermark.maxFuture'],
    );
  });
});
