import { randomUUID } from 'node:crypto';
import {
  EVENT_TYPE_HEADER,
  LATE_HEADERS,
  aggregateRecordKey,
  buildDlqHeaders,
  DLQ_HEADERS,
  encodeUnframedValue,
  formatTimestamp,
  isPlainObject,
  partitionKey,
  type CleanEvent,
  type EventEnvelope,
} from '@pipeline/schemas';
import { createWindowEngine, type EngineOutput, type EngineSnapshot, type WindowEngine, type WindowResult } from '@pipeline/windowing';
import type { AggregatesConfig } from '../aggregates/aggregates-config';
import { createDedupStore, DEDUP_KEY_PREFIX, type DedupBudget, type DedupSegmentJson, type DedupStore } from '../state/dedup-store';
import { createSnapshotReader, encodeSnapshot, isSnapshotKey } from '../state/snapshot-codec';
import { encodeCleanValue } from '../steps/clean-value';
import type { ParsedUserAgent } from '../steps/user-agent';
import { decodeRaw, receivedAtMs, type RecordValidator } from '../steps/validate';
import { Outbox } from './outbox';
import { DLQ_SOURCE_HEADER, headerText, toAggregateRecord, type InputRecord, type PartialMessage, type ProgressMessage } from './records';

/** Changelog key of the input position (the offset after the last committed batch). */
export const POSITION_KEY = 'pos';
/** Characters per snapshot chunk: at most ~1 MB on the wire even for escaped non-ASCII text. */
export const SNAPSHOT_CHUNK_CHARS = 256 * 1024;

export interface SourceTopics {
  raw: string;
  clean: string;
  dlq: string;
  late: string;
  /** `agg.<name>` topic of an aggregate. */
  aggregate: (name: string) => string;
  changelog: string;
  /** Input of the merge stage; undefined when every aggregate is partition-local. */
  repartition: string | undefined;
}

export interface SourceTaskOptions {
  partition: number;
  aggregates: AggregatesConfig;
  validator: RecordValidator;
  userAgents: { parse(ua: unknown): ParsedUserAgent };
  topics: SourceTopics;
  dedupTtlMs: number;
  /** Shared by every source task of the process (DEDUP_MAX_ENTRIES). */
  dedupBudget: DedupBudget;
  snapshotIntervalMs: number;
  progressIntervalMs: number;
  /** Partitions of the input topic and of the repartition topic (for watermark broadcasts). */
  sourcePartitions: number;
  repartitionPartitions: number;
  /** Processing clock (processed_at, snapshot and progress timers). */
  now: () => number;
}

export interface BatchStats {
  clean: number;
  duplicate: number;
  dlq: Record<string, number>;
  late: Record<string, number>;
  /** Aggregate results by `<aggregate>` -> count, final (partition-local) or partial (to the merge stage). */
  final: Record<string, number>;
  partial: Record<string, number>;
  snapshotBytes: number | undefined;
}

/** A record accepted into the windows: the clean event plus user_key (the partition key). */
interface AggregationView extends CleanEvent {
  user_key: string | null;
}

const uaFragments = new WeakMap<ParsedUserAgent, string>();

/** The user-agent part of the enrichment JSON, without braces; cached per parsed agent (the parser caches those). */
function uaJson(ua: ParsedUserAgent): string {
  let json = uaFragments.get(ua);
  if (json === undefined) {
    json = JSON.stringify({ ua_browser: ua.ua_browser, ua_browser_version: ua.ua_browser_version, ua_os: ua.ua_os, ua_device_type: ua.ua_device_type }).slice(1);
    uaFragments.set(ua, json);
  }
  return json;
}

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

/**
 * The state and steps of one input partition: validate, dedupe, enrich, window. Pure apart from
 * the registry lookups inside `validator.prepare`; the runner owns Kafka, transactions and offsets.
 * Its state (dedup ids, window engine) is restored from the changelog and, for the window engine,
 * rebuilt by replaying the input after the last snapshot.
 */
export class SourceTask {
  readonly partition: number;
  private readonly opts: SourceTaskOptions;
  private dedup: DedupStore;
  private engine: WindowEngine<AggregationView>;
  private snapshotChunks = 0;
  private snapshotNeeded = true;
  private lastSnapshotAt = -Infinity;
  private lastProgressAt = -Infinity;
  private lastProgressWatermark = -Infinity;
  /** Watermarks at which some merged window becomes due: `offsetMs + k * slideMs`, per merged aggregate. */
  private readonly mergeDue: ReadonlyArray<{ slideMs: number; offsetMs: number }>;
  /** Next input offset whose effect is not in the state yet. */
  position = 0;
  /** Offset committed with the last transaction (what a restarted owner resumes from). */
  committed = 0;
  /** While set, records below it are replayed into the window state without output. */
  rebuildUntil: number | undefined;

  constructor(opts: SourceTaskOptions) {
    this.opts = opts;
    this.partition = opts.partition;
    this.dedup = createDedupStore({ ttlMs: opts.dedupTtlMs, budget: opts.dedupBudget });
    this.engine = this.newEngine(undefined);
    const { windowing, local } = opts.aggregates;
    this.mergeDue = windowing.aggregates
      .filter((a) => !local.has(a.name) && a.window.type !== 'session')
      .map((a) => {
        const window = a.window as { size: number; slide?: number };
        // A window starting at k * slide is due once every source's watermark reaches its end plus the lateness.
        return { slideMs: window.slide ?? window.size, offsetMs: window.size + (a.allowedLateness ?? windowing.watermark.allowedLateness) };
      });
  }

  /**
   * True when the merge stage must hear of a watermark move from `from` to `to` at once: it is the
   * first, or it reaches the due time of a merged window. (Merged aggregates are tumbling or
   * hopping: sessions are always partition-local.) Other moves wait for the next heartbeat.
   */
  private completesMergedWindow(from: number, to: number): boolean {
    if (!Number.isFinite(to) || to <= from) return false;
    if (!Number.isFinite(from)) return true;
    return this.mergeDue.some(({ slideMs, offsetMs }) => Math.floor((to - offsetMs) / slideMs) > Math.floor((from - offsetMs) / slideMs));
  }

  private newEngine(snapshot: EngineSnapshot | undefined): WindowEngine<AggregationView> {
    // Only results that go to the merge stage need their mergeable state.
    const { windowing, local } = this.opts.aggregates;
    const merged = new Set(windowing.aggregates.filter((a) => !local.has(a.name)).map((a) => a.name));
    return createWindowEngine<AggregationView>(windowing, snapshot, { resultState: merged });
  }

  /**
   * Loads the changelog records of this partition (in log order). Returns the offset the window
   * snapshot covers (replay from there) and the recorded position; both undefined for a new partition.
   */
  restore(records: Iterable<{ key: string; value: Buffer | null }>): { snapshotNext: number | undefined; position: number | undefined } {
    this.dedup.release();
    this.dedup = createDedupStore({ ttlMs: this.opts.dedupTtlMs, budget: this.opts.dedupBudget });
    const snapshots = createSnapshotReader();
    let position: number | undefined;
    for (const { key, value } of records) {
      if (key === POSITION_KEY) position = value === null ? undefined : (JSON.parse(value.toString('utf8')) as { next: number }).next;
      else if (key.startsWith(DEDUP_KEY_PREFIX)) this.dedup.restore(key, value === null ? null : (JSON.parse(value.toString('utf8')) as DedupSegmentJson));
      else if (isSnapshotKey(key)) snapshots.add(key, value === null ? null : value.toString('utf8'));
    }
    const snapshot = snapshots.result();
    this.engine = this.newEngine(snapshot === undefined ? undefined : (JSON.parse(snapshot.json) as EngineSnapshot));
    this.snapshotChunks = snapshot?.manifest.chunks ?? 0;
    this.snapshotNeeded = snapshot === undefined;
    this.lastSnapshotAt = this.opts.now();
    return { snapshotNext: snapshot?.manifest.next, position };
  }

  /**
   * Replays records already committed (offset < rebuildUntil) into the window state, without output.
   * A record counts only if the dedup state says this very offset accepted its event_id, so the
   * rebuilt windows match what was committed, whatever the registry says today.
   */
  rebuild(records: readonly InputRecord[]): void {
    for (const record of records) {
      if (record.offset < this.position) continue;
      const decoded = decodeRaw(record.value);
      if (decoded.ok && isPlainObject(decoded.record)) {
        const raw = decoded.record as unknown as EventEnvelope;
        if (typeof raw.event_id === 'string' && this.dedup.acceptedAt(raw.event_id) === record.offset) {
          const received = receivedAtMs(raw, record.timestampMs);
          const view = this.view({ ...raw, user_id: raw.user_id ?? null, anonymous_id: raw.anonymous_id ?? null, received_at: formatTimestamp(received) });
          this.engine.process(view, this.partition, received);
        }
      }
      this.position = record.offset + 1;
    }
  }

  private view(event: EventEnvelope): AggregationView {
    const ua = this.opts.userAgents.parse(isPlainObject(event.context) ? event.context['user_agent'] : undefined);
    return {
      ...event,
      enrichment: { processed_at: formatTimestamp(this.opts.now()), ...ua },
      user_key: event.user_id ?? event.anonymous_id ?? null,
    };
  }

  /**
   * Processes a batch into its outputs: clean, DLQ and late records, aggregate results or partials,
   * watermark progress, and the changelog writes that make the state durable with the offsets.
   * `nextOffset` is where the input resumes after this batch (it may skip trailing control records).
   */
  async process(records: readonly InputRecord[], nextOffset: number): Promise<{ outbox: Outbox; stats: BatchStats }> {
    const { topics } = this.opts;
    const outbox = new Outbox();
    const stats: BatchStats = { clean: 0, duplicate: 0, dlq: {}, late: {}, final: {}, partial: {}, snapshotBytes: undefined };
    const processedAt = formatTimestamp(this.opts.now());
    const enrichmentPrefix = `{"processed_at":"${processedAt}",`;

    for (const record of records) {
      if (record.offset < this.position) continue;
      // Decoded one at a time, so a record's objects die young (a whole decoded batch would outlive
      // several young-generation collections and be copied by each).
      const d = decodeRaw(record.value);
      // Only a schema id or event type not cached yet (or a latest version past its TTL) waits for the registry.
      if (!this.opts.validator.isPrepared(d)) await this.opts.validator.prepare([d]);
      if (!d.ok) {
        this.deadLetter(outbox, stats, record, d.code, d.reason, null);
        continue;
      }
      const received = receivedAtMs(d.record, record.timestampMs);
      const verdict = this.opts.validator.check(d, received);
      if (verdict.kind === 'dlq') {
        this.deadLetter(outbox, stats, record, verdict.code, verdict.reason, verdict.eventType);
        continue;
      }
      const event = verdict.event;
      if (this.dedup.has(event.event_id)) {
        stats.duplicate++;
        continue;
      }
      this.dedup.add(event.event_id, record.offset, record.timestampMs);
      const ua = this.opts.userAgents.parse(event.context.user_agent);
      // The validator hands out a fresh envelope: extend it in place rather than copying it twice per event.
      const view = event as AggregationView;
      view.enrichment = { processed_at: processedAt, ua_browser: ua.ua_browser, ua_browser_version: ua.ua_browser_version, ua_os: ua.ua_os, ua_device_type: ua.ua_device_type };
      const value = encodeCleanValue({
        input: record.value as Buffer,
        framed: d.schemaId !== undefined,
        raw: d.record as Record<string, unknown>,
        event,
        schemaId: verdict.schemaId,
        enrichmentJson: enrichmentPrefix + uaJson(ua),
        clean: () => view,
      });
      // user_key is for the windows only, not part of the clean record: added after encoding.
      view.user_key = event.user_id ?? event.anonymous_id;
      const key = record.key ?? partitionKey(event);
      outbox.add(topics.clean, { key, value, headers: { [EVENT_TYPE_HEADER]: event.event_type } });
      stats.clean++;
      this.emit(outbox, stats, this.engine.process(view, this.partition, received), key, value, event.event_type);
    }
    this.position = nextOffset;

    for (const change of this.dedup.commitBatch()) {
      outbox.add(topics.changelog, { key: change.key, value: change.value === null ? null : JSON.stringify(change.value), partition: this.partition });
    }
    const now = this.opts.now();
    if (this.snapshotNeeded || now - this.lastSnapshotAt >= this.opts.snapshotIntervalMs) {
      const json = JSON.stringify(this.engine.snapshot());
      const { writes, manifest } = encodeSnapshot({ id: randomUUID(), next: nextOffset, json, chunkChars: SNAPSHOT_CHUNK_CHARS, previousChunks: this.snapshotChunks });
      for (const w of writes) outbox.add(topics.changelog, { key: w.key, value: w.value, partition: this.partition });
      this.snapshotChunks = manifest.chunks;
      this.snapshotNeeded = false;
      this.lastSnapshotAt = now;
      stats.snapshotBytes = manifest.bytes;
    }
    outbox.add(topics.changelog, { key: POSITION_KEY, value: JSON.stringify({ next: nextOffset }), partition: this.partition });
    const watermark = this.engine.stats().watermarkMs;
    // A watermark that makes a merged window due is sent at once (the merge stage waits for it); any
    // other is a heartbeat, at most once per interval. Each progress message adds every repartition
    // partition to the transaction, and wakes a merge transaction on each.
    if (topics.repartition !== undefined && (this.completesMergedWindow(this.lastProgressWatermark, watermark) || now - this.lastProgressAt >= this.opts.progressIntervalMs)) {
      this.lastProgressAt = now;
      this.lastProgressWatermark = watermark;
      const progress: ProgressMessage = { t: 'w', src: this.partition, n: this.opts.sourcePartitions, wm: Number.isFinite(watermark) ? watermark : null };
      const value = JSON.stringify(progress);
      for (let p = 0; p < this.opts.repartitionPartitions; p++) outbox.add(topics.repartition, { key: `w|${this.partition}`, value, partition: p });
    }
    return { outbox, stats };
  }

  private deadLetter(outbox: Outbox, stats: BatchStats, record: InputRecord, code: string, reason: string, eventType: string | null): void {
    const previous = Number(headerText(record.headers, DLQ_HEADERS.attempt) ?? '0');
    const headers: Record<string, string> = {
      ...buildDlqHeaders({
        originalTopic: this.opts.topics.raw,
        originalPartition: this.partition,
        originalOffset: String(record.offset),
        errorCode: code,
        attempt: (Number.isInteger(previous) && previous > 0 ? previous : 0) + 1,
        reason,
      }),
      [DLQ_SOURCE_HEADER]: 'stream-processor',
    };
    if (eventType !== null) headers[EVENT_TYPE_HEADER] = eventType;
    outbox.add(this.opts.topics.dlq, { key: record.key, value: record.value ?? Buffer.alloc(0), headers });
    bump(stats.dlq, code);
  }

  private emit(outbox: Outbox, stats: BatchStats, output: EngineOutput<AggregationView>, key: string | Buffer, value: Buffer, eventType: string): void {
    for (const late of output.late) {
      const first = late.windows[0];
      const last = late.windows[late.windows.length - 1];
      outbox.add(this.opts.topics.late, {
        key,
        value,
        headers: {
          [EVENT_TYPE_HEADER]: eventType,
          [LATE_HEADERS.aggregate]: late.aggregate,
          [LATE_HEADERS.reason]: 'late',
          [LATE_HEADERS.windowStart]: first === undefined ? '' : formatTimestamp(first.startMs),
          [LATE_HEADERS.windowEnd]: last === undefined ? '' : formatTimestamp(last.endMs),
          [LATE_HEADERS.watermark]: Number.isFinite(late.watermarkMs) ? formatTimestamp(late.watermarkMs) : '',
        },
      });
      bump(stats.late, 'late');
    }
    for (const rejected of output.rejected) {
      outbox.add(this.opts.topics.late, {
        key,
        value,
        headers: { [EVENT_TYPE_HEADER]: eventType, [LATE_HEADERS.aggregate]: '*', [LATE_HEADERS.reason]: rejected.reason },
      });
      bump(stats.late, rejected.reason);
    }
    for (const result of output.results) this.emitResult(outbox, stats, result);
  }

  private emitResult(outbox: Outbox, stats: BatchStats, result: WindowResult): void {
    const record = toAggregateRecord(result);
    const recordKey = aggregateRecordKey(record);
    const repartition = this.opts.topics.repartition;
    if (this.opts.aggregates.local.has(result.aggregate) || repartition === undefined) {
      outbox.add(this.opts.topics.aggregate(result.aggregate), { key: recordKey, value: encodeUnframedValue(record) });
      bump(stats.final, result.aggregate);
      return;
    }
    if (result.state === undefined) throw new Error('window engine returned a result without state');
    const partial: PartialMessage = { t: 'p', a: result.aggregate, s: result.windowStartMs, e: result.windowEndMs, st: result.state, src: this.partition };
    outbox.add(repartition, { key: recordKey, value: JSON.stringify(partial) });
    bump(stats.partial, result.aggregate);
  }

  /** Drops the state of a partition this process no longer owns, returning its share of the dedup budget. */
  close(): void {
    this.dedup.release();
  }

  /** Sizes for the state metrics. */
  stateStats(): { dedupEntries: number; openWindows: number; watermarkMs: number; dedupEvicted: number } {
    const engine = this.engine.stats();
    return { dedupEntries: this.dedup.size, openWindows: engine.openWindows, watermarkMs: engine.watermarkMs, dedupEvicted: this.dedup.evicted };
  }
}
