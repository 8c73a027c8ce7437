export {
  DEFAULT_AGGREGATES,
  DEFAULT_DISTINCT_EXACT_LIMIT,
  DEFAULT_DISTINCT_PRECISION,
  DEFAULT_WATERMARK,
  DEFAULT_WINDOWING_CONFIG,
  MAX_WINDOWS_PER_EVENT,
  parseAggregateConfig,
} from './config';
export type {
  AggregateSpec,
  ConfigProblem,
  MeasureSpec,
  ParseConfigResult,
  WatermarkSpec,
  WindowingConfig,
  WindowSpec,
} from './config';
export { parseDuration } from './duration';
export type { DurationInput } from './duration';
export { createWindowEngine } from './engine';
export type { EngineOptions, WindowEngine } from './engine';
export { createPartialMerger } from './partials';
export type { PartialMerger, PartialSum } from './partials';
export { hyperLogLogStandardError } from './hyperloglog';
export { WindowingError } from './types';
export type {
  AggregateSnapshot,
  EngineOutput,
  EngineSnapshot,
  EngineStats,
  GroupValue,
  LateEvent,
  PartitionId,
  RejectedEvent,
  RejectReason,
  WindowBounds,
  WindowingErrorCode,
  WindowResult,
  WindowSnapshotJson,
  WindowState,
} from './types';
export { assignWindows } from './windows';
