import { aggregateRecordKey, encodeUnframedValue } from '@pipeline/schemas';
import { createPartialMerger, type PartialMerger, type PartialSum, type WindowingConfig, type WindowState } from '@pipeline/windowing';
import { Outbox } from './outbox';
import { toAggregateRecord, type InputRecord, type MergeInput } from './records';

export const MERGE_POSITION_KEY = 'pos';
const ENTRY_PREFIX = 'k:';
const SOURCE_PREFIX = 's:';
const META_KEY = 'meta';

/** One window being merged, as the changelog holds it: the sum of the partials received so far. */
interface StoredEntry {
  aggregate: string;
  startMs: number;
  endMs: number;
  state: WindowState;
  /** Record time when the final result went out; null while waiting for sources. */
  emittedAt: number | null;
}

/**
 * An entry in memory. The sum is decoded when a second partial or the result needs it, and kept
 * decoded from then on; `state` is the encoded form while it has not been.
 */
interface Entry {
  aggregate: string;
  startMs: number;
  endMs: number;
  state: WindowState | null;
  sum: PartialSum | null;
  emittedAt: number | null;
}

interface SourceClock {
  /** Watermark of the input partition (null before its first event). */
  wm: number | null;
  /** Record time of its last progress message. */
  ts: number;
}

interface Meta {
  /** Record time of the first message this partition saw: the start of the idle clock for silent sources. */
  startedAt: number | null;
  sources: number;
  /** Per aggregate, the latest window end already forgotten; partials up to it are too late to merge. */
  horizons: Record<string, number>;
}

export interface MergeStats {
  final: Record<string, number>;
  updated: Record<string, number>;
  expired: Record<string, number>;
}

export interface MergeTaskOptions {
  partition: number;
  windowing: WindowingConfig;
  /** `agg.<name>` topic of an aggregate. */
  aggregateTopic: (name: string) => string;
  changelog: string;
  /** A source that sent no progress for this long (record time) no longer holds windows back. */
  idleTimeoutMs: number;
  /** How long an emitted window is kept to fold in a late partial (record time). */
  retentionMs: number;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/**
 * The merge stage of one repartition partition. Input partitions send partial results of windows
 * they closed (keyed by aggregate, window and group, so all partials of a window meet here) and
 * their watermarks. A window is final once every input partition's watermark has passed its end
 * plus the allowed lateness (or the partition is idle): its merged result then goes to
 * `agg.<name>` once. A partial that comes later (an idle partition woke up) updates the result
 * under the same key; one that comes after the window was forgotten is counted and dropped.
 * State changes are written to the changelog per key in the same transaction.
 */
export class MergeTask {
  readonly partition: number;
  private readonly opts: MergeTaskOptions;
  private readonly merger: PartialMerger;
  private readonly lateness: Map<string, number>;
  private entries = new Map<string, Entry>();
  private sources = new Map<number, SourceClock>();
  private meta: Meta = { startedAt: null, sources: 0, horizons: {} };
  private clock = -Infinity;
  position = 0;
  committed = 0;

  constructor(opts: MergeTaskOptions) {
    this.opts = opts;
    this.partition = opts.partition;
    this.merger = createPartialMerger(opts.windowing);
    this.lateness = new Map(opts.windowing.aggregates.map((a) => [a.name, a.allowedLateness ?? opts.windowing.watermark.allowedLateness]));
  }

  restore(records: Iterable<{ key: string; value: Buffer | null }>): { position: number | undefined } {
    this.entries = new Map();
    this.sources = new Map();
    this.meta = { startedAt: null, sources: 0, horizons: {} };
    let position: number | undefined;
    for (const { key, value } of records) {
      const json = value === null ? null : (JSON.parse(value.toString('utf8')) as unknown);
      if (key === MERGE_POSITION_KEY) position = json === null ? undefined : (json as { next: number }).next;
      else if (key === META_KEY) this.meta = (json as Meta | null) ?? { startedAt: null, sources: 0, horizons: {} };
      else if (key.startsWith(ENTRY_PREFIX)) {
        const k = key.slice(ENTRY_PREFIX.length);
        if (json === null) this.entries.delete(k);
        else this.entries.set(k, { ...(json as StoredEntry), sum: null });
      } else if (key.startsWith(SOURCE_PREFIX)) {
        const s = Number(key.slice(SOURCE_PREFIX.length));
        if (json === null) this.sources.delete(s);
        else this.sources.set(s, json as SourceClock);
      }
    }
    for (const s of this.sources.values()) if (s.ts > this.clock) this.clock = s.ts;
    if (this.meta.startedAt !== null && this.meta.startedAt > this.clock) this.clock = this.meta.startedAt;
    return { position };
  }

  process(records: readonly InputRecord[], nextOffset: number): { outbox: Outbox; stats: MergeStats } {
    const outbox = new Outbox();
    const stats: MergeStats = { final: {}, updated: {}, expired: {} };
    const dirtyEntries = new Set<string>();
    const dirtySources = new Set<number>();
    let metaDirty = false;

    for (const record of records) {
      if (record.offset < this.position || record.value === null) continue;
      if (record.timestampMs > this.clock) this.clock = record.timestampMs;
      if (this.meta.startedAt === null) {
        this.meta.startedAt = record.timestampMs;
        metaDirty = true;
      }
      const message = JSON.parse(record.value.toString('utf8')) as MergeInput;
      if (message.t === 'w') {
        this.sources.set(message.src, { wm: message.wm, ts: record.timestampMs });
        dirtySources.add(message.src);
        if (message.n > this.meta.sources) {
          this.meta.sources = message.n;
          metaDirty = true;
        }
        continue;
      }
      const key = record.key?.toString('utf8') ?? '';
      const existing = this.entries.get(key);
      if (existing === undefined) {
        if (message.e <= (this.meta.horizons[message.a] ?? -Infinity)) {
          bump(stats.expired, message.a);
          continue;
        }
        this.entries.set(key, { aggregate: message.a, startMs: message.s, endMs: message.e, state: message.st, sum: null, emittedAt: null });
      } else {
        this.sumOf(existing).add(message.st);
        if (existing.emittedAt !== null) {
          this.emitEntry(outbox, existing);
          bump(stats.updated, message.a);
        }
      }
      dirtyEntries.add(key);
    }

    for (const [key, entry] of this.entries) {
      if (entry.emittedAt === null) {
        if (this.isComplete(entry)) {
          this.emitEntry(outbox, entry);
          entry.emittedAt = this.clock;
          dirtyEntries.add(key);
          bump(stats.final, entry.aggregate);
        }
      } else if (this.clock - entry.emittedAt > this.opts.retentionMs) {
        this.entries.delete(key);
        dirtyEntries.add(key);
        if (entry.endMs > (this.meta.horizons[entry.aggregate] ?? -Infinity)) {
          this.meta.horizons[entry.aggregate] = entry.endMs;
          metaDirty = true;
        }
      }
    }

    const changelog = this.opts.changelog;
    for (const key of dirtyEntries) {
      const entry = this.entries.get(key);
      outbox.add(changelog, { key: ENTRY_PREFIX + key, value: entry === undefined ? null : JSON.stringify(this.stored(entry)), partition: this.partition });
    }
    for (const s of dirtySources) outbox.add(changelog, { key: SOURCE_PREFIX + s, value: JSON.stringify(this.sources.get(s)), partition: this.partition });
    if (metaDirty) outbox.add(changelog, { key: META_KEY, value: JSON.stringify(this.meta), partition: this.partition });
    outbox.add(changelog, { key: MERGE_POSITION_KEY, value: JSON.stringify({ next: nextOffset }), partition: this.partition });
    this.position = nextOffset;
    return { outbox, stats };
  }

  private isComplete(entry: Entry): boolean {
    const due = entry.endMs + (this.lateness.get(entry.aggregate) ?? 0);
    const startedAt = this.meta.startedAt ?? this.clock;
    for (let s = 0; s < this.meta.sources; s++) {
      const source = this.sources.get(s);
      const lastHeard = source?.ts ?? startedAt;
      if (this.clock - lastHeard > this.opts.idleTimeoutMs) continue;
      if (source === undefined || source.wm === null || source.wm < due) return false;
    }
    return this.meta.sources > 0;
  }

  private sumOf(entry: Entry): PartialSum {
    if (entry.sum === null) {
      entry.sum = this.merger.open(entry.aggregate, entry.state as WindowState);
      entry.state = null;
    }
    return entry.sum;
  }

  private stored(entry: Entry): StoredEntry {
    const state = entry.sum === null ? (entry.state as WindowState) : entry.sum.state();
    return { aggregate: entry.aggregate, startMs: entry.startMs, endMs: entry.endMs, state, emittedAt: entry.emittedAt };
  }

  private emitEntry(outbox: Outbox, entry: Entry): void {
    const window = { startMs: entry.startMs, endMs: entry.endMs };
    // A window with a single partial (a session, or a group seen by one input partition) is not decoded to stay.
    const result = entry.sum === null ? this.merger.result(entry.aggregate, window, entry.state as WindowState) : entry.sum.result(window);
    const record = toAggregateRecord(result);
    const recordKey = aggregateRecordKey(record);
    outbox.add(this.opts.aggregateTopic(entry.aggregate), { key: recordKey, value: encodeUnframedValue(record) });
  }

  stateStats(): { entries: number; pending: number } {
    let pending = 0;
    for (const e of this.entries.values()) if (e.emittedAt === null) pending++;
    return { entries: this.entries.size, pending };
  }
}
