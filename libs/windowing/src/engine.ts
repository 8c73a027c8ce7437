import { z } from 'zod';
import { parseAggregateConfig, type AggregateSpec, type WindowingConfig } from './config';
import { compileFieldPath, type FieldGetter } from './field-path';
import { accumulatorToJson, accumulatorValues, compileMeasures, type CompiledMeasure, type GroupValue } from './measures';
import type {
  AggregateSnapshot,
  EngineOutput,
  EngineSnapshot,
  EngineStats,
  RejectedEvent,
  WindowResult,
} from './types';
import { WindowingError } from './types';
import { createFixedWindowStore, createSessionStore, type ClosedWindow, type WindowStore } from './window-store';
import { createWatermarkTracker, type PartitionId } from './watermark';

export interface WindowEngine<E = unknown> {
  /**
   * Feeds one event read from `partition` at processing time `nowMs` (epoch ms). Returns the windows
   * that became final, the event's late or rejected records, if any. Throws RangeError if nowMs is not finite.
   * The output is read-only: the calls that produce nothing (most of them) share one frozen empty output.
   */
  process(event: E, partition: PartitionId, nowMs: number): EngineOutput<E>;
  /** Lets processing time pass without events (idle partitions stop holding the watermark); throws RangeError if nowMs is not finite. */
  advance(nowMs: number): EngineOutput<E>;
  /** End of input: moves the watermark to +Infinity and emits every open window; later events are all late. */
  flush(): EngineOutput<E>;
  /** Plain JSON state; pass it to createWindowEngine to resume exactly where this engine is. */
  snapshot(): EngineSnapshot;
  stats(): EngineStats;
}

export interface EngineOptions {
  /**
   * Attach each result's mergeable state (`WindowResult.state`), for combining partial results with
   * createPartialMerger: `true` for every aggregate, or the names of the aggregates that need it.
   */
  readonly resultState?: boolean | ReadonlySet<string>;
}

interface CompiledAggregate {
  readonly spec: AggregateSpec;
  readonly index: number;
  readonly groupGetters: readonly FieldGetter[];
  readonly measures: readonly CompiledMeasure[];
  readonly store: WindowStore;
  readonly fingerprint: string;
  /** Results carry their mergeable state (EngineOptions.resultState). */
  readonly withState: boolean;
}

interface PendingResult {
  readonly aggregate: CompiledAggregate;
  readonly window: ClosedWindow;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function normaliseGroupValue(value: unknown): GroupValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return String(value);
    case 'object':
      return value === null ? null : JSON.stringify(value);
    default:
      return null;
  }
}

function readEventTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (value instanceof Date) {
    const ms = value.getTime();
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

const groupValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const snapshotSchema = z.object({
  version: z.literal(1),
  watermarkMs: z.number().nullable(),
  flushed: z.boolean(),
  partitions: z.array(
    z.object({ partition: z.union([z.string(), z.number()]), maxEventTimeMs: z.number(), lastEventAtMs: z.number() }),
  ),
  aggregates: z.array(
    z.object({
      name: z.string(),
      fingerprint: z.string(),
      windows: z.array(
        z.object({
          startMs: z.number(),
          acc: z.object({
            group: z.array(groupValueSchema),
            count: z.number().int().positive(),
            minTs: z.number(),
            maxTs: z.number(),
            states: z.array(z.unknown()),
          }),
        }),
      ),
    }),
  ),
});

function compileAggregate(spec: AggregateSpec, index: number, defaultLateness: number, resultState: EngineOptions['resultState']): CompiledAggregate {
  const measures = compileMeasures(spec.measures);
  const lateness = spec.allowedLateness ?? defaultLateness;
  const window = spec.window;
  const store =
    window.type === 'session'
      ? createSessionStore(measures, window.gap, lateness)
      : createFixedWindowStore(measures, window.size, window.type === 'hopping' ? window.slide : window.size, lateness);
  return {
    spec,
    index,
    groupGetters: spec.groupBy.map(compileFieldPath),
    measures,
    store,
    fingerprint: canonicalJson({ window: spec.window, groupBy: spec.groupBy, measures: spec.measures }),
    withState: resultState === true || (typeof resultState === 'object' && resultState.has(spec.name)),
  };
}

const NO_GROUP: readonly GroupValue[] = Object.freeze([]);
const NO_OUTPUT: EngineOutput<never> = Object.freeze({ results: Object.freeze([]) as never[], late: Object.freeze([]) as never[], rejected: Object.freeze([]) as never[], clamped: 0 });

/**
 * The in-memory key of a group (never persisted: restores recompute it). One string value, the
 * common case (a user or a type), is the value behind a quote; anything else is its JSON array,
 * which starts with a bracket, so the two forms never collide.
 */
function groupKey(values: readonly GroupValue[]): string {
  if (values.length === 0) return '';
  if (values.length === 1 && typeof values[0] === 'string') return '"' + values[0];
  return JSON.stringify(values);
}

function restoreState(aggregates: readonly CompiledAggregate[], input: unknown): { watermarkMs: number; partitions: EngineSnapshot['partitions'] } {
  const parsed = snapshotSchema.safeParse(input);
  if (!parsed.success) {
    throw new WindowingError(
      'invalid_snapshot',
      parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message })),
    );
  }
  const snapshot = parsed.data;
  const byName = new Map(aggregates.map((a) => [a.spec.name, a]));
  const mismatched = snapshot.aggregates.filter((s) => {
    const current = byName.get(s.name);
    return current !== undefined && current.fingerprint !== s.fingerprint;
  });
  if (mismatched.length > 0) {
    throw new WindowingError(
      'incompatible_snapshot',
      mismatched.map((s) => ({
        path: `aggregates.${s.name}`,
        message: 'window, groupBy or measures changed since the snapshot; state cannot be carried over',
      })),
    );
  }
  const problems: { path: string; message: string }[] = [];
  for (const saved of snapshot.aggregates) {
    const aggregate = byName.get(saved.name);
    if (aggregate === undefined) continue; // aggregate removed from the config: its state goes with it
    saved.windows.forEach((window, i) => {
      try {
        if (window.acc.group.length !== aggregate.spec.groupBy.length) throw new Error('group length differs from groupBy');
        aggregate.store.restore(window, groupKey(window.acc.group));
      } catch (err) {
        problems.push({ path: `aggregates.${saved.name}.windows.${i}`, message: (err as Error).message });
      }
    });
  }
  if (problems.length > 0) throw new WindowingError('invalid_snapshot', problems);
  const watermarkMs = snapshot.flushed ? Infinity : (snapshot.watermarkMs ?? -Infinity);
  return { watermarkMs, partitions: snapshot.partitions };
}

/**
 * Builds an event-time window engine for a config (validated again here) and optionally resumes from
 * a snapshot(). Throws WindowingError: invalid_config, invalid_snapshot, or incompatible_snapshot
 * when an aggregate's window, groupBy or measures changed; aggregates new to the config start empty.
 */
export function createWindowEngine<E = unknown>(config: WindowingConfig, initialState?: EngineSnapshot, options: EngineOptions = {}): WindowEngine<E> {
  const parsed = parseAggregateConfig(config);
  if (!parsed.ok) throw new WindowingError('invalid_config', parsed.problems);
  const { timeField, watermark: settings, aggregates: specs } = parsed.config;
  const aggregates = specs.map((spec, i) => compileAggregate(spec, i, settings.allowedLateness, options.resultState));
  const readTime = compileFieldPath(timeField);
  const restored = initialState === undefined ? undefined : restoreState(aggregates, initialState);
  const tracker = createWatermarkTracker(settings, restored);

  function emptyOutput(): EngineOutput<E> {
    return { results: [], late: [], rejected: [], clamped: 0 };
  }

  const sink: ClosedWindow[] = [];

  /** Moves the windows final at `watermarkMs` into `output` (created when there are any); returns it. */
  function closeWindows(watermarkMs: number, output: EngineOutput<E> | undefined): EngineOutput<E> | undefined {
    let closed: PendingResult[] | undefined;
    for (const aggregate of aggregates) {
      aggregate.store.close(watermarkMs, sink);
      if (sink.length === 0) continue;
      closed ??= [];
      for (const window of sink) closed.push({ aggregate, window });
      sink.length = 0;
    }
    if (closed === undefined) return output;
    const out = output ?? emptyOutput();
    closed.sort(
      (a, b) =>
        a.window.endMs - b.window.endMs ||
        a.window.startMs - b.window.startMs ||
        a.aggregate.index - b.aggregate.index ||
        (a.window.key < b.window.key ? -1 : a.window.key > b.window.key ? 1 : 0),
    );
    for (const { aggregate, window } of closed) out.results.push(toResult(aggregate, window));
    return out;
  }

  function toResult(aggregate: CompiledAggregate, window: ClosedWindow): WindowResult {
    const group: Record<string, GroupValue> = {};
    aggregate.spec.groupBy.forEach((path, i) => {
      group[path] = window.acc.group[i] ?? null;
    });
    const { measures, estimated } = accumulatorValues(aggregate.measures, window.acc);
    const result: WindowResult = {
      aggregate: aggregate.spec.name,
      windowStartMs: window.startMs,
      windowEndMs: window.endMs,
      group,
      eventCount: window.acc.count,
      measures,
      estimated,
    };
    return aggregate.withState ? { ...result, state: accumulatorToJson(window.acc) } : result;
  }

  function checkClock(nowMs: number): void {
    if (!Number.isFinite(nowMs)) throw new RangeError(`nowMs must be a finite epoch-ms number, got ${nowMs}`);
  }

  function reject(output: EngineOutput<E>, rejected: RejectedEvent<E>): EngineOutput<E> {
    output.rejected.push(rejected);
    return output;
  }

  return {
    process(event, partition, nowMs) {
      checkClock(nowMs);
      let timeMs = readEventTime(readTime(event));
      if (timeMs === undefined) return reject(emptyOutput(), { reason: 'invalid_time', partition, eventTimeMs: null, nowMs, event });
      let clamped = false;
      const limit = nowMs + settings.maxFuture;
      if (timeMs > limit) {
        if (settings.futurePolicy === 'reject') {
          return reject(emptyOutput(), { reason: 'future_time', partition, eventTimeMs: timeMs, nowMs, event });
        }
        timeMs = limit;
        clamped = true;
      }
      // Lateness is judged against the watermark before this event moves it.
      const before = tracker.current();
      let output: EngineOutput<E> | undefined;
      for (const aggregate of aggregates) {
        const getters = aggregate.groupGetters;
        const group = getters.length === 0 ? NO_GROUP : getters.map((get) => normaliseGroupValue(get(event)));
        const missed = aggregate.store.add(timeMs, groupKey(group), group, event, before);
        if (missed !== null) {
          (output ??= emptyOutput()).late.push({ aggregate: aggregate.spec.name, partition, eventTimeMs: timeMs, watermarkMs: before, windows: missed, event });
        }
      }
      const after = tracker.observe(partition, timeMs, nowMs);
      if (after !== before) output = closeWindows(after, output);
      if (clamped) (output ??= emptyOutput()).clamped++;
      return output ?? (NO_OUTPUT as EngineOutput<E>);
    },
    advance(nowMs) {
      checkClock(nowMs);
      const before = tracker.current();
      const after = tracker.advance(nowMs);
      return (after !== before ? closeWindows(after, undefined) : undefined) ?? emptyOutput();
    },
    flush() {
      tracker.finish();
      return closeWindows(Infinity, undefined) ?? emptyOutput();
    },
    snapshot() {
      const watermarkMs = tracker.current();
      const aggregatesJson: AggregateSnapshot[] = aggregates.map((a) => ({
        name: a.spec.name,
        fingerprint: a.fingerprint,
        windows: a.store.toJson(),
      }));
      return {
        version: 1,
        watermarkMs: Number.isFinite(watermarkMs) ? watermarkMs : null,
        flushed: watermarkMs === Infinity,
        partitions: tracker.partitions(),
        aggregates: aggregatesJson,
      };
    },
    stats() {
      return {
        watermarkMs: tracker.current(),
        openWindows: aggregates.reduce((sum, a) => sum + a.store.openCount(), 0),
        partitions: tracker.partitions().length,
      };
    },
  };
}
