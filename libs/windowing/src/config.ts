import { z } from 'zod';
import { parseDuration } from './duration';
import { MAX_PRECISION, MIN_PRECISION } from './hyperloglog';

// Parsed config keeps the input key names with every duration resolved to milliseconds, so a parsed
// config is itself valid input (createWindowEngine re-validates what it is given).

export type WindowSpec =
  | { readonly type: 'tumbling'; readonly size: number }
  | { readonly type: 'hopping'; readonly size: number; readonly slide: number }
  | { readonly type: 'session'; readonly gap: number };

export type MeasureSpec =
  | { readonly kind: 'count'; readonly name: string }
  | { readonly kind: 'sum' | 'min' | 'max'; readonly name: string; readonly field: string }
  | {
      readonly kind: 'distinct';
      readonly name: string;
      readonly field: string;
      readonly exactLimit: number;
      readonly precision: number;
    }
  | { readonly kind: 'duration'; readonly name: string };

export interface AggregateSpec {
  readonly name: string;
  readonly window: WindowSpec;
  readonly groupBy: readonly string[];
  readonly measures: readonly MeasureSpec[];
  /** Overrides `watermark.allowedLateness` for this aggregate (ms). */
  readonly allowedLateness?: number | undefined;
}

export interface WatermarkSpec {
  readonly maxOutOfOrderness: number;
  readonly allowedLateness: number;
  readonly idleTimeout: number;
  readonly maxFuture: number;
  readonly futurePolicy: 'reject' | 'clamp';
}

export interface WindowingConfig {
  readonly timeField: string;
  readonly watermark: WatermarkSpec;
  readonly aggregates: readonly AggregateSpec[];
}

export interface ConfigProblem {
  /** Dot path into the config, e.g. `aggregates.1.window.slide`; `(root)` for the whole document. */
  readonly path: string;
  readonly message: string;
}

export type ParseConfigResult =
  | { readonly ok: true; readonly config: WindowingConfig }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

/** Most windows one event may fall into (hopping size / slide); bounds per-event work. */
export const MAX_WINDOWS_PER_EVENT = 1000;
export const DEFAULT_DISTINCT_EXACT_LIMIT = 10_000;
export const DEFAULT_DISTINCT_PRECISION = 14;

const DURATION_HINT = 'expected milliseconds (a non-negative integer) or a duration such as "500ms", "5s", "30m", "1h30m"';

function duration(description: string, { positive }: { positive: boolean }) {
  return z
    .union([z.number(), z.string()])
    .transform((value, ctx) => {
      const ms = parseDuration(value);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: DURATION_HINT });
        return z.NEVER;
      }
      if (positive && ms === 0) {
        ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
        return z.NEVER;
      }
      return ms;
    })
    .describe(description);
}

const fieldPath = z
  .string()
  .regex(/^[^.\s]+(\.[^.\s]+)*$/, 'expected a dot path such as "event_type" or "properties.plan"');

const identifier = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'expected lower_snake_case starting with a letter (it becomes a column name)');

const windowSchema = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({
        type: z.literal('tumbling'),
        size: duration('Window length; windows are aligned to the epoch.', { positive: true }),
      }),
      z.strictObject({
        type: z.literal('hopping'),
        size: duration('Window length.', { positive: true }),
        slide: duration('Distance between window starts; windows start at multiples of it.', { positive: true }),
      }),
      z.strictObject({
        type: z.literal('session'),
        gap: duration('Inactivity that ends a session: events less than `gap` apart share a session.', {
          positive: true,
        }),
      }),
    ],
    { error: 'expected {type:"tumbling", size} | {type:"hopping", size, slide} | {type:"session", gap}' },
  )
  .superRefine((window, ctx) => {
    if (window.type !== 'hopping') return;
    if (window.slide > window.size) {
      ctx.addIssue({ code: 'custom', path: ['slide'], message: 'slide must not exceed size (events would fall between windows)' });
    } else if (Math.ceil(window.size / window.slide) > MAX_WINDOWS_PER_EVENT) {
      ctx.addIssue({ code: 'custom', path: ['slide'], message: `size / slide must be at most ${MAX_WINDOWS_PER_EVENT}` });
    }
  });

const optionalName = identifier.optional().describe('Output name; defaults to kind (and field), e.g. "count", "sum_amount".');

const measureSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('count'), name: optionalName }),
    z.strictObject({
      kind: z.enum(['sum', 'min', 'max']),
      field: fieldPath.describe('Numeric field; values that are not finite numbers are ignored.'),
      name: optionalName,
    }),
    z.strictObject({
      kind: z.literal('distinct'),
      field: fieldPath.describe('Field whose distinct values are counted; null and missing values are ignored.'),
      name: optionalName,
      exactLimit: z
        .number()
        .int()
        .min(0)
        .default(DEFAULT_DISTINCT_EXACT_LIMIT)
        .describe('Distinct values kept exactly before switching to a HyperLogLog sketch.'),
      precision: z
        .number()
        .int()
        .min(MIN_PRECISION)
        .max(MAX_PRECISION)
        .default(DEFAULT_DISTINCT_PRECISION)
        .describe('HyperLogLog precision p: 2^p registers, standard error 1.04 / sqrt(2^p).'),
    }),
    z.strictObject({ kind: z.literal('duration'), name: optionalName }),
  ],
  { error: 'expected a measure with kind count | sum | min | max | distinct | duration' },
);

function defaultMeasureName(measure: z.output<typeof measureSchema>): string {
  if (measure.name !== undefined) return measure.name;
  switch (measure.kind) {
    case 'count':
      return 'count';
    case 'duration':
      return 'duration_ms';
    default:
      return `${measure.kind}_${measure.field.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`;
  }
}

const aggregateSchema = z
  .strictObject({
    name: identifier.describe('Aggregate name, unique in the config; copied into every output record.'),
    window: windowSchema,
    groupBy: z.array(fieldPath).default([]).describe('Dot paths whose values form the group key; missing values group as null.'),
    measures: z.array(measureSchema).min(1, 'at least one measure is required'),
    allowedLateness: duration('Overrides watermark.allowedLateness for this aggregate.', { positive: false }).optional(),
  })
  .transform((aggregate, ctx) => {
    const measures = aggregate.measures.map((measure) => ({ ...measure, name: defaultMeasureName(measure) }));
    const seen = new Set<string>();
    measures.forEach((measure, i) => {
      if (seen.has(measure.name)) {
        ctx.addIssue({ code: 'custom', path: ['measures', i, 'name'], message: `duplicate measure name "${measure.name}"` });
      }
      seen.add(measure.name);
    });
    const groupSeen = new Set<string>();
    aggregate.groupBy.forEach((path, i) => {
      if (groupSeen.has(path)) ctx.addIssue({ code: 'custom', path: ['groupBy', i], message: `duplicate group-by field "${path}"` });
      groupSeen.add(path);
    });
    const spec: AggregateSpec = { ...aggregate, measures };
    return spec;
  });

const watermarkSchema = z.strictObject({
  maxOutOfOrderness: duration('Watermark lags the highest event time seen per partition by this much.', {
    positive: false,
  }).default(10_000),
  allowedLateness: duration('Windows stay open this long after the watermark passes their end.', {
    positive: false,
  }).default(60_000),
  idleTimeout: duration('A partition without events for this long (processing time) stops holding the watermark.', {
    positive: true,
  }).default(60_000),
  maxFuture: duration('Event times further than this ahead of the processing clock are rejected or clamped.', {
    positive: false,
  }).default(300_000),
  futurePolicy: z
    .enum(['reject', 'clamp'])
    .default('reject')
    .describe('reject: send too-far-future events to `rejected`; clamp: process them at now + maxFuture.'),
});

const DEFAULT_AGGREGATE_INPUT: z.input<typeof aggregateSchema>[] = [
  {
    name: 'events_per_type_per_minute',
    window: { type: 'tumbling', size: '1m' },
    groupBy: ['event_type'],
    measures: [{ kind: 'count' }],
  },
  {
    name: 'active_users_5m',
    window: { type: 'hopping', size: '5m', slide: '1m' },
    measures: [{ kind: 'distinct', field: 'user_key', name: 'active_users' }],
  },
  {
    name: 'user_sessions',
    window: { type: 'session', gap: '30m' },
    groupBy: ['user_key'],
    measures: [{ kind: 'count', name: 'events' }, { kind: 'duration' }],
  },
];

const windowingConfigSchema = z
  .strictObject({
    timeField: fieldPath.default('timestamp').describe('Dot path to the event time: epoch ms number or ISO-8601 string.'),
    watermark: watermarkSchema.prefault({}),
    aggregates: z
      .array(aggregateSchema)
      .min(1, 'at least one aggregate is required')
      .prefault(() => structuredClone(DEFAULT_AGGREGATE_INPUT))
      .describe('Declared aggregates; defaults to DEFAULT_AGGREGATES.'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.aggregates.forEach((aggregate, i) => {
      if (seen.has(aggregate.name)) {
        ctx.addIssue({ code: 'custom', path: ['aggregates', i, 'name'], message: `duplicate aggregate name "${aggregate.name}"` });
      }
      seen.add(aggregate.name);
    });
  });

function formatPath(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/**
 * Validates a windowing config (a parsed JSON value or JSON text); never throws: returns the typed
 * config with durations in ms and defaults applied, or every problem found as { path, message }.
 */
export function parseAggregateConfig(json: unknown): ParseConfigResult {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (err) {
      return { ok: false, problems: [{ path: '(root)', message: `invalid JSON: ${(err as Error).message}` }] };
    }
  }
  const parsed = windowingConfigSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })) };
  }
  const config: WindowingConfig = parsed.data;
  return { ok: true, config };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function parseBuiltIn(input: unknown): WindowingConfig {
  const result = parseAggregateConfig(input);
  if (!result.ok) throw new Error(`built-in windowing config is invalid: ${JSON.stringify(result.problems)}`);
  return deepFreeze(result.config);
}

/** The default config: watermark defaults (10s out-of-orderness, 1m lateness, 1m idle, 5m future, reject) and DEFAULT_AGGREGATES. */
export const DEFAULT_WINDOWING_CONFIG: WindowingConfig = parseBuiltIn({});

/**
 * events_per_type_per_minute (tumbling 1m by event_type: count), active_users_5m (hopping 5m/1m:
 * distinct user_key as active_users) and user_sessions (session gap 30m by user_key: events, duration_ms).
 */
export const DEFAULT_AGGREGATES: readonly AggregateSpec[] = DEFAULT_WINDOWING_CONFIG.aggregates;

/** Watermark defaults, in ms. */
export const DEFAULT_WATERMARK: WatermarkSpec = DEFAULT_WINDOWING_CONFIG.watermark;
