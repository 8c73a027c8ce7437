import type { IHeaders } from 'kafkajs';
import { formatTimestamp, type AggregateRecord } from '@pipeline/schemas';
import type { WindowResult, WindowState } from '@pipeline/windowing';

/** One input record as the tasks see it (offsets as numbers: far below 2^53 in practice). */
export interface InputRecord {
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestampMs: number;
  headers: IHeaders;
}

/** Header set by the replay tool: where the replayed record sat in the DLQ (`topic/partition/offset`). */
export const REPLAYED_FROM_HEADER = 'x-replayed-from';
/** Names the app that dead-lettered a record (the collector sets `collector`). */
export const DLQ_SOURCE_HEADER = 'x-dlq-source';

/** Partial window result of one input partition, sent to the merge stage. */
export interface PartialMessage {
  t: 'p';
  /** Aggregate, window start and end (epoch ms). */
  a: string;
  s: number;
  e: number;
  st: WindowState;
  src: number;
}

/** Watermark of one input partition, sent to every merge partition. */
export interface ProgressMessage {
  t: 'w';
  src: number;
  /** Number of input partitions. */
  n: number;
  /** null before the partition saw an event. */
  wm: number | null;
}

export type MergeInput = PartialMessage | ProgressMessage;

export function toAggregateRecord(result: WindowResult): AggregateRecord {
  return {
    aggregate: result.aggregate,
    window_start: formatTimestamp(result.windowStartMs),
    window_end: formatTimestamp(result.windowEndMs),
    group: { ...result.group },
    event_count: result.eventCount,
    measures: { ...result.measures },
    estimated: [...result.estimated],
  };
}

export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}
