import type { AccumulatorJson, GroupValue } from './measures';

/**
 * Mergeable state of one window result: counts, first/last event time and per-measure states
 * (exact sets as arrays, sketches as base64). Plain JSON.
 */
export type WindowState = AccumulatorJson;
import type { PartitionClockJson, PartitionId } from './watermark';

export type { GroupValue } from './measures';
export type { PartitionId } from './watermark';

/** Window bounds, [startMs, endMs) in epoch ms. */
export interface WindowBounds {
  readonly startMs: number;
  readonly endMs: number;
}

/** One final result per (aggregate, window, group); emitted once, never updated. */
export interface WindowResult {
  readonly aggregate: string;
  /** Inclusive start, epoch ms. For sessions: the first event's time. */
  readonly windowStartMs: number;
  /** Exclusive end, epoch ms. For sessions: the last event's time + gap. */
  readonly windowEndMs: number;
  /** Group-by values keyed by their dot path; missing values are null. */
  readonly group: Readonly<Record<string, GroupValue>>;
  readonly eventCount: number;
  /** Measure values keyed by measure name; min/max are null when no event carried a number. */
  readonly measures: Readonly<Record<string, number | null>>;
  /** Names of distinct measures whose value is a HyperLogLog estimate rather than exact. */
  readonly estimated: readonly string[];
  /** The window's mergeable state; only for the aggregates the engine's `resultState` option names (or all with `true`). */
  readonly state?: WindowState;
}

/** An event (partly) behind the watermark for one aggregate: these windows were already final. */
export interface LateEvent<E> {
  readonly aggregate: string;
  readonly partition: PartitionId;
  readonly eventTimeMs: number;
  readonly watermarkMs: number;
  /** Windows the event would have counted in. For sessions: [t, t + gap). */
  readonly windows: readonly WindowBounds[];
  readonly event: E;
}

export type RejectReason = 'invalid_time' | 'future_time';

/** An event not processed at all: no usable event time, or one too far ahead of the processing clock. */
export interface RejectedEvent<E> {
  readonly reason: RejectReason;
  readonly partition: PartitionId;
  /** Parsed event time (epoch ms), null when missing or unparseable. */
  readonly eventTimeMs: number | null;
  readonly nowMs: number;
  readonly event: E;
}

/** What one call produced. Arrays are fresh per call and owned by the caller. */
export interface EngineOutput<E> {
  /** Windows that became final during this call, ordered by end, start, aggregate (config order), group. */
  readonly results: WindowResult[];
  readonly late: LateEvent<E>[];
  readonly rejected: RejectedEvent<E>[];
  /** Events whose time was clamped to nowMs + maxFuture (futurePolicy "clamp"). */
  clamped: number;
}

export interface EngineStats {
  /** Current watermark (epoch ms); -Infinity before the first event, Infinity after flush(). */
  readonly watermarkMs: number;
  /** Open (window, group) accumulators over all aggregates. */
  readonly openWindows: number;
  readonly partitions: number;
}

export interface WindowSnapshotJson {
  startMs: number;
  acc: AccumulatorJson;
}

export interface AggregateSnapshot {
  name: string;
  /** Canonical JSON of the aggregate's window, group-by and measures; restore refuses a mismatch. */
  fingerprint: string;
  windows: WindowSnapshotJson[];
}

/** Plain JSON engine state; survives JSON.stringify/JSON.parse unchanged. */
export interface EngineSnapshot {
  version: 1;
  /** null before the first event (watermark -Infinity). */
  watermarkMs: number | null;
  /** true after flush() (watermark +Infinity). */
  flushed: boolean;
  partitions: PartitionClockJson[];
  aggregates: AggregateSnapshot[];
}

export type WindowingErrorCode = 'invalid_config' | 'invalid_snapshot' | 'incompatible_snapshot';

/** Thrown by createWindowEngine for a bad config or snapshot; `problems` lists every issue found. */
export class WindowingError extends Error {
  override readonly name = 'WindowingError';
  constructor(
    readonly code: WindowingErrorCode,
    readonly problems: readonly { readonly path: string; readonly message: string }[],
  ) {
    super(`${code}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  }
}
