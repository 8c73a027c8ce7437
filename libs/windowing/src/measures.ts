import type { MeasureSpec } from './config';
import { compileFieldPath, type FieldGetter } from './field-path';
import {
  addToHyperLogLog,
  createHyperLogLog,
  estimateHyperLogLog,
  hyperLogLogFromJson,
  hyperLogLogToJson,
  mergeHyperLogLog,
  type HyperLogLog,
  type HyperLogLogJson,
} from './hyperloglog';

export type GroupValue = string | number | boolean | null;

/** Running state of one window (or session) for one group key. */
export interface Accumulator {
  readonly group: readonly GroupValue[];
  count: number;
  minTs: number;
  maxTs: number;
  readonly states: MeasureState[];
}

type DistinctState = { exact: Set<string>; sketch: null } | { exact: null; sketch: HyperLogLog };
type MeasureState = number | null | DistinctState;

export interface AccumulatorJson {
  group: GroupValue[];
  count: number;
  minTs: number;
  maxTs: number;
  states: MeasureStateJson[];
}

type MeasureStateJson = number | null | { values: string[] } | { sketch: HyperLogLogJson };

export interface MeasureValues {
  readonly measures: Record<string, number | null>;
  readonly estimated: string[];
}

export interface CompiledMeasure {
  readonly spec: MeasureSpec;
  /** Reads the measure's field; always undefined for count and duration. */
  readonly get: FieldGetter;
}

const noField: FieldGetter = () => undefined;

/** Compiles measure specs once so per-event work is a getter call and a switch. */
export function compileMeasures(specs: readonly MeasureSpec[]): CompiledMeasure[] {
  return specs.map((spec) => ({ spec, get: 'field' in spec ? compileFieldPath(spec.field) : noField }));
}

function initialState(spec: MeasureSpec): MeasureState {
  switch (spec.kind) {
    case 'count':
    case 'sum':
      return 0;
    case 'min':
    case 'max':
    case 'duration':
      return null;
    case 'distinct':
      return { exact: new Set(), sketch: null };
  }
}

/** Starts an accumulator holding the single event at `timeMs`. */
export function createAccumulator(measures: readonly CompiledMeasure[], group: readonly GroupValue[], event: unknown, timeMs: number): Accumulator {
  const acc: Accumulator = { group, count: 0, minTs: timeMs, maxTs: timeMs, states: measures.map((m) => initialState(m.spec)) };
  addToAccumulator(measures, acc, event, timeMs);
  return acc;
}

function distinctKey(value: unknown): string | undefined {
  // 1 and "1" count as the same value: both arrive as user-supplied ids in practice.
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return Number.isFinite(value) ? String(value) : undefined;
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return undefined;
  }
}

function toSketch(values: Iterable<string>, precision: number): HyperLogLog {
  const sketch = createHyperLogLog(precision);
  for (const v of values) addToHyperLogLog(sketch, v);
  return sketch;
}

/** Adds one event at `timeMs`. */
export function addToAccumulator(measures: readonly CompiledMeasure[], acc: Accumulator, event: unknown, timeMs: number): void {
  acc.count++;
  if (timeMs < acc.minTs) acc.minTs = timeMs;
  if (timeMs > acc.maxTs) acc.maxTs = timeMs;
  for (let i = 0; i < measures.length; i++) {
    const measure = measures[i];
    const state = acc.states[i];
    if (measure === undefined || state === undefined) continue;
    const { spec, get } = measure;
    switch (spec.kind) {
      case 'count':
        acc.states[i] = (state as number) + 1;
        break;
      case 'sum': {
        const v = get(event);
        if (typeof v === 'number' && Number.isFinite(v)) acc.states[i] = (state as number) + v;
        break;
      }
      case 'min': {
        const v = get(event);
        if (typeof v === 'number' && Number.isFinite(v) && (state === null || v < (state as number))) acc.states[i] = v;
        break;
      }
      case 'max': {
        const v = get(event);
        if (typeof v === 'number' && Number.isFinite(v) && (state === null || v > (state as number))) acc.states[i] = v;
        break;
      }
      case 'distinct': {
        const key = distinctKey(get(event));
        if (key === undefined) break;
        const d = state as DistinctState;
        if (d.sketch !== null) {
          addToHyperLogLog(d.sketch, key);
        } else {
          d.exact.add(key);
          if (d.exact.size > spec.exactLimit) acc.states[i] = { exact: null, sketch: toSketch(d.exact, spec.precision) };
        }
        break;
      }
      case 'duration':
        break;
    }
  }
}

/** Merges `from` into `into` (used when an event bridges sessions); `from` must not be used afterwards. */
export function mergeAccumulators(measures: readonly CompiledMeasure[], into: Accumulator, from: Accumulator): void {
  into.count += from.count;
  if (from.minTs < into.minTs) into.minTs = from.minTs;
  if (from.maxTs > into.maxTs) into.maxTs = from.maxTs;
  for (let i = 0; i < measures.length; i++) {
    const spec = measures[i]?.spec;
    const a = into.states[i];
    const b = from.states[i];
    if (spec === undefined || a === undefined || b === undefined) continue;
    switch (spec.kind) {
      case 'count':
      case 'sum':
        into.states[i] = (a as number) + (b as number);
        break;
      case 'min':
        if (b !== null && (a === null || (b as number) < (a as number))) into.states[i] = b;
        break;
      case 'max':
        if (b !== null && (a === null || (b as number) > (a as number))) into.states[i] = b;
        break;
      case 'distinct': {
        const x = a as DistinctState;
        const y = b as DistinctState;
        if (x.sketch === null && y.sketch === null) {
          for (const v of y.exact) x.exact.add(v);
          if (x.exact.size > spec.exactLimit) into.states[i] = { exact: null, sketch: toSketch(x.exact, spec.precision) };
        } else {
          const sketch = x.sketch !== null ? x.sketch : toSketch(x.exact, spec.precision);
          if (y.sketch !== null) mergeHyperLogLog(sketch, y.sketch);
          else for (const v of y.exact) addToHyperLogLog(sketch, v);
          into.states[i] = { exact: null, sketch };
        }
        break;
      }
      case 'duration':
        break;
    }
  }
}

/** Final measure values keyed by measure name; `estimated` lists distinct measures answered by the sketch. */
export function accumulatorValues(measures: readonly CompiledMeasure[], acc: Accumulator): MeasureValues {
  const values: Record<string, number | null> = {};
  const estimated: string[] = [];
  for (let i = 0; i < measures.length; i++) {
    const spec = measures[i]?.spec;
    const state = acc.states[i];
    if (spec === undefined || state === undefined) continue;
    switch (spec.kind) {
      case 'duration':
        values[spec.name] = acc.maxTs - acc.minTs;
        break;
      case 'distinct': {
        const d = state as DistinctState;
        if (d.sketch !== null) {
          values[spec.name] = Math.round(estimateHyperLogLog(d.sketch));
          estimated.push(spec.name);
        } else {
          values[spec.name] = d.exact.size;
        }
        break;
      }
      default:
        values[spec.name] = state as number | null;
    }
  }
  return { measures: values, estimated };
}

/** Plain-JSON form of an accumulator (sets as arrays, sketches as base64). */
export function accumulatorToJson(acc: Accumulator): AccumulatorJson {
  return {
    group: [...acc.group],
    count: acc.count,
    minTs: acc.minTs,
    maxTs: acc.maxTs,
    states: acc.states.map((state): MeasureStateJson => {
      if (state === null || typeof state === 'number') return state;
      return state.sketch !== null ? { sketch: hyperLogLogToJson(state.sketch) } : { values: [...state.exact] };
    }),
  };
}

/** Snapshot input before validation: measure states are checked against the measures on load. */
export type AccumulatorJsonInput = Omit<AccumulatorJson, 'states'> & { states: readonly unknown[] };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadState(spec: MeasureSpec, state: unknown): MeasureState | undefined {
  switch (spec.kind) {
    case 'count':
    case 'sum':
      return typeof state === 'number' ? state : undefined;
    case 'min':
    case 'max':
      return state === null || typeof state === 'number' ? state : undefined;
    case 'duration':
      return state === null ? null : undefined;
    case 'distinct': {
      if (!isRecord(state)) return undefined;
      const { values, sketch } = state;
      if (Array.isArray(values) && values.every((v) => typeof v === 'string')) return { exact: new Set(values), sketch: null };
      if (isRecord(sketch) && sketch['precision'] === spec.precision && typeof sketch['registers'] === 'string') {
        return { exact: null, sketch: hyperLogLogFromJson({ precision: spec.precision, registers: sketch['registers'] }) };
      }
      return undefined;
    }
  }
}

/** Rebuilds an accumulator from `accumulatorToJson` output; throws Error when it does not fit the measures. */
export function accumulatorFromJson(measures: readonly CompiledMeasure[], json: AccumulatorJsonInput): Accumulator {
  if (json.states.length !== measures.length) {
    throw new Error(`expected ${measures.length} measure states, got ${json.states.length}`);
  }
  if (!(json.minTs <= json.maxTs) || json.count < 1) throw new Error('bad count or time range');
  const states = measures.map(({ spec }, i): MeasureState => {
    const state = loadState(spec, json.states[i]);
    if (state === undefined) {
      throw new Error(`measure "${spec.name}" (${spec.kind}): unexpected state ${String(JSON.stringify(json.states[i])).slice(0, 80)}`);
    }
    return state;
  });
  return { group: [...json.group], count: json.count, minTs: json.minTs, maxTs: json.maxTs, states };
}
