/**
 * The event_ids accepted on one input partition, remembered for `ttlMs` of Kafka record time and at
 * most `maxEntries` at once. Ids are grouped in segments, one per committed batch, and each segment is
 * one changelog record (`d:<first offset>`), written in the batch's transaction and deleted (a
 * tombstone) when it expires. So the changelog costs one record per batch, not one per event, and a
 * restore reads back exactly the ids of the committed batches. Each id keeps the offset that accepted
 * it, which tells a restore which replayed records were accepted the first time.
 */

export interface DedupSegmentJson {
  /** Offset of the batch's first accepted record. */
  b: number;
  /** Highest record time in the segment (epoch ms); it expires at t + ttl. */
  t: number;
  /** Accepted ids and their offsets relative to `b`. */
  i: string[];
  o: number[];
}

/** A changelog write: a segment (value) or its deletion (null). */
export interface DedupChange {
  key: string;
  value: DedupSegmentJson | null;
}

interface Segment {
  readonly key: string;
  readonly first: number;
  maxTs: number;
  readonly ids: string[];
  readonly offsets: number[];
}

export const DEDUP_KEY_PREFIX = 'd:';

/**
 * The event_ids all dedup stores of a process may hold together (DEDUP_MAX_ENTRIES), so the memory
 * they take is bounded whatever the number of partitions assigned (each id costs about 110 bytes of
 * heap for a UUID). A store that adds ids past it forgets its own oldest segments first.
 */
export interface DedupBudget {
  readonly maxEntries: number;
  /** Ids held by every store of the budget. */
  used: number;
}

export function createDedupBudget(maxEntries: number): DedupBudget {
  return { maxEntries, used: 0 };
}

export interface DedupStore {
  /** True when `eventId` was accepted before (in a committed or the current batch). */
  has(eventId: string): boolean;
  /** Records an accepted id at `offset` with Kafka record time `timestampMs`. */
  add(eventId: string, offset: number, timestampMs: number): void;
  /** The offset that accepted `eventId`, if remembered. */
  acceptedAt(eventId: string): number | undefined;
  /** Ends the current batch: its segment and the expired ones, as changelog writes (oldest first). */
  commitBatch(): DedupChange[];
  /** Applies a changelog record read back during a restore (later records win). */
  restore(key: string, value: DedupSegmentJson | null): void;
  readonly size: number;
  /** Ids forgotten early because of the budget, since the store was created. */
  readonly evicted: number;
  /** Forgets everything and gives its share of the budget back (the partition was revoked or is restored anew). */
  release(): void;
}

export function createDedupStore(opts: { ttlMs: number; budget: DedupBudget }): DedupStore {
  const { budget } = opts;
  const ids = new Map<string, number>();
  const segments = new Map<string, Segment>();
  let current: Segment | undefined;
  let clock = -Infinity;
  let evicted = 0;

  function drop(segment: Segment): void {
    segment.ids.forEach((id, i) => {
      // An id may have expired and been accepted again later; only forget this segment's claim.
      if (ids.get(id) === segment.first + (segment.offsets[i] as number)) {
        ids.delete(id);
        budget.used--;
      }
    });
    segments.delete(segment.key);
  }

  function load(key: string, value: DedupSegmentJson): Segment {
    const segment: Segment = { key, first: value.b, maxTs: value.t, ids: value.i, offsets: value.o };
    segment.ids.forEach((id, i) => {
      const offset = segment.first + (segment.offsets[i] as number);
      const known = ids.get(id);
      if (known === undefined) budget.used++;
      if (known === undefined || offset > known) ids.set(id, offset);
    });
    return segment;
  }

  return {
    has: (eventId) => ids.has(eventId),
    acceptedAt: (eventId) => ids.get(eventId),
    add(eventId, offset, timestampMs) {
      if (timestampMs > clock) clock = timestampMs;
      if (current === undefined) current = { key: `${DEDUP_KEY_PREFIX}${offset}`, first: offset, maxTs: timestampMs, ids: [], offsets: [] };
      if (timestampMs > current.maxTs) current.maxTs = timestampMs;
      current.ids.push(eventId);
      current.offsets.push(offset - current.first);
      const before = ids.size;
      ids.set(eventId, offset);
      budget.used += ids.size - before;
    },
    commitBatch() {
      const changes: DedupChange[] = [];
      // Segments are in insertion (= offset) order, so the oldest expire first.
      for (const segment of segments.values()) {
        const expired = segment.maxTs + opts.ttlMs < clock;
        const overfull = budget.used > budget.maxEntries;
        if (!expired && !overfull) break;
        if (!expired) evicted += segment.ids.length;
        drop(segment);
        changes.push({ key: segment.key, value: null });
      }
      if (current !== undefined) {
        segments.set(current.key, current);
        changes.push({ key: current.key, value: { b: current.first, t: current.maxTs, i: current.ids, o: current.offsets } });
        current = undefined;
      }
      return changes;
    },
    restore(key, value) {
      const existing = segments.get(key);
      if (existing !== undefined) drop(existing);
      if (value === null) return;
      const segment = load(key, value);
      segments.set(key, segment);
      if (segment.maxTs > clock) clock = segment.maxTs;
    },
    get size() {
      return ids.size;
    },
    get evicted() {
      return evicted;
    },
    release() {
      budget.used -= ids.size;
      ids.clear();
      segments.clear();
      current = undefined;
    },
  };
}
