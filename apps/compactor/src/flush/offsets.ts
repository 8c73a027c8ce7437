import type { OffsetMap } from '../tables/table-manager';

/** The offsets a flush holds for one Kafka partition. */
export interface OffsetRange {
  topic: string;
  partition: number;
  min: bigint;
  max: bigint;
}

export type FenceResult =
  | { kind: 'ok'; merged: OffsetMap }
  /** The table already holds exactly these offsets (an earlier attempt landed). */
  | { kind: 'already' }
  /** The table holds some of these offsets but not exactly them: another writer committed them. */
  | { kind: 'fenced'; tableNext: Map<string, bigint> };

export const rangeKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/**
 * Checks a flush against the table's committed next offsets and merges them. A flush may commit only
 * if, for every Kafka partition, the table's next offset is at most the flush's first offset (gaps
 * are fine: transaction markers, DLQ-only flushes). This is the exactly-once guard against a retry
 * after an ambiguous commit and against a previous owner of the partition committing late.
 */
export function checkOffsets(committed: OffsetMap, ranges: ReadonlyMap<string, OffsetRange>): FenceResult {
  let already = 0;
  const tableNext = new Map<string, bigint>();
  let fenced = false;
  for (const [key, r] of ranges) {
    const value = committed[r.topic]?.[String(r.partition)];
    const next = value === undefined ? -1n : BigInt(value);
    tableNext.set(key, next);
    if (next > r.min) {
      if (next === r.max + 1n) already++;
      else fenced = true;
    }
  }
  if (fenced || (already > 0 && already < ranges.size)) return { kind: 'fenced', tableNext };
  if (already > 0) return { kind: 'already' };
  const merged: OffsetMap = {};
  for (const [topic, parts] of Object.entries(committed)) merged[topic] = { ...parts };
  for (const r of ranges.values()) (merged[r.topic] ??= {})[String(r.partition)] = String(r.max + 1n);
  return { kind: 'ok', merged };
}
