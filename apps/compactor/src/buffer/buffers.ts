import type { RecordHeaders } from '../tables/headers';

/** A Kafka record held until its table flushes. */
export interface BufferedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  /** The value as read, kept for the DLQ. */
  value: Buffer;
  key: Buffer | null;
  /** Decoded record (CleanEvent or AggregateRecord); undefined when it could not be decoded. */
  record?: Record<string, unknown>;
  schemaId?: number;
  /** Why the record could not be decoded (it goes to the DLQ). */
  decodeError?: string;
  /** Buffer group (table partition) the record was counted in. */
  group?: string;
  /** Kafka record timestamp (ms); kept for the DLQ and late tables. */
  timestampMs?: number;
  /** Kafka record headers; kept for the DLQ and late tables, whose columns come from them. */
  headers?: RecordHeaders;
}

/**
 * Heap a buffered record takes besides its bytes: the record object, its bigint offset, the key's
 * and value's Buffer objects and its group label (361 bytes measured on Node 20), rounded up.
 */
const RECORD_OVERHEAD_BYTES = 384;
/** Per header value: its Buffer object and its slot. */
const HEADER_OVERHEAD_BYTES = 64;

/**
 * Estimated memory of a buffered record: its value, the decoded copy of it (JSON.parse makes about
 * as many bytes of heap as the text it reads), its headers, and the objects around them. The memory
 * cap counts this, so it bounds what the buffers hold rather than only the values' bytes.
 */
export function recordMemoryBytes(rec: BufferedRecord): number {
  let n = RECORD_OVERHEAD_BYTES + rec.value.length + (rec.key?.length ?? 0);
  if (rec.record !== undefined) n += rec.value.length;
  if (rec.headers) {
    for (const [name, value] of Object.entries(rec.headers)) {
      for (const v of Array.isArray(value) ? value : [value]) n += HEADER_OVERHEAD_BYTES + name.length + (v?.length ?? 0);
    }
  }
  return n;
}

/** What a table holds: cleaned events, aggregate windows, dead-lettered records, or late events. */
export type TableKind = 'events' | 'aggregate' | 'dlq' | 'late';

export interface BufferLimits {
  maxRows: number;
  maxBytes: number;
  maxAgeMs: number;
}

export type FlushReason = 'rows' | 'bytes' | 'age' | 'memory' | 'shutdown';

/** What a flush takes from a table buffer. */
export interface TakenBuffer {
  table: string;
  kind: TableKind;
  records: BufferedRecord[];
  /** Bytes of the records' values. */
  bytes: number;
  /** Their estimated memory (`recordMemoryBytes`). */
  memory: number;
  /** When the oldest record was buffered (ms). */
  since: number;
}

class TableBuffer {
  records: BufferedRecord[] = [];
  bytes = 0;
  memory = 0;
  since = 0;
  private readonly groups = new Map<string, { rows: number; bytes: number }>();
  private maxGroupRows = 0;
  private maxGroupBytes = 0;

  constructor(
    readonly table: string,
    readonly kind: TableKind,
  ) {}

  add(rec: BufferedRecord, group: string, now: number): void {
    if (this.records.length === 0) this.since = now;
    this.records.push(rec);
    this.bytes += rec.value.length;
    this.memory += recordMemoryBytes(rec);
    let g = this.groups.get(group);
    if (!g) {
      g = { rows: 0, bytes: 0 };
      this.groups.set(group, g);
    }
    g.rows++;
    g.bytes += rec.value.length;
    if (g.rows > this.maxGroupRows) this.maxGroupRows = g.rows;
    if (g.bytes > this.maxGroupBytes) this.maxGroupBytes = g.bytes;
  }

  due(now: number, limits: BufferLimits): FlushReason | undefined {
    if (this.records.length === 0) return undefined;
    if (this.maxGroupRows >= limits.maxRows) return 'rows';
    if (this.maxGroupBytes >= limits.maxBytes) return 'bytes';
    if (now - this.since >= limits.maxAgeMs) return 'age';
    return undefined;
  }

  take(): TakenBuffer {
    const taken = { table: this.table, kind: this.kind, records: this.records, bytes: this.bytes, memory: this.memory, since: this.since };
    this.records = [];
    this.bytes = 0;
    this.memory = 0;
    this.groups.clear();
    this.maxGroupRows = 0;
    this.maxGroupBytes = 0;
    return taken;
  }

  /** Drops the records of one Kafka partition (revoked, or to be re-read). */
  drop(topic: string, partition: number): void {
    this.records = this.records.filter((r) => !(r.topic === topic && r.partition === partition));
    this.bytes = this.records.reduce((n, r) => n + r.value.length, 0);
    this.memory = this.records.reduce((n, r) => n + recordMemoryBytes(r), 0);
    if (this.records.length === 0) this.take();
  }
}

/**
 * The compactor's buffers: one per table, grouped by table partition and Kafka partition for the
 * row and byte thresholds. Tracks the estimated memory of buffered records plus records being
 * flushed, for the memory cap.
 */
export class BufferSet {
  private readonly tables = new Map<string, TableBuffer>();
  private inFlight = 0;

  constructor(
    private readonly limits: BufferLimits & { memoryCapBytes: number },
    private readonly now: () => number = Date.now,
  ) {}

  add(table: string, kind: TableKind, group: string, rec: BufferedRecord): void {
    let buf = this.tables.get(table);
    if (!buf) {
      buf = new TableBuffer(table, kind);
      this.tables.set(table, buf);
    }
    rec.group = group;
    buf.add(rec, `${group}|${rec.topic}|${rec.partition}`, this.now());
  }

  /** Puts the records of a failed flush back (before anything newer of the same table). */
  restore(taken: TakenBuffer): void {
    const buf = this.tables.get(taken.table);
    const newer = buf ? buf.take().records : [];
    for (const rec of [...taken.records, ...newer]) this.add(taken.table, taken.kind, rec.group ?? 'restored', rec);
  }

  get bufferedMemory(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.memory;
    return n;
  }

  get bufferedRows(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.records.length;
    return n;
  }

  /** Estimated memory of buffered plus in-flight records. */
  get memoryBytes(): number {
    return this.bufferedMemory + this.inFlight;
  }

  /** At the cap, consumption waits. */
  get full(): boolean {
    return this.memoryBytes >= this.limits.memoryCapBytes;
  }

  /** Tables to flush now, with the reason; past half the memory cap, the biggest table flushes early. */
  dueTables(): Array<{ table: string; reason: FlushReason }> {
    const now = this.now();
    const due: Array<{ table: string; reason: FlushReason }> = [];
    for (const t of this.tables.values()) {
      const reason = t.due(now, this.limits);
      if (reason) due.push({ table: t.table, reason });
    }
    if (due.length === 0 && this.memoryBytes >= this.limits.memoryCapBytes / 2) {
      const biggest = [...this.tables.values()].filter((t) => t.records.length > 0).sort((a, b) => b.memory - a.memory)[0];
      if (biggest) due.push({ table: biggest.table, reason: 'memory' });
    }
    return due;
  }

  /** Every table with records (for the final flush). */
  nonEmpty(): string[] {
    return [...this.tables.values()].filter((t) => t.records.length > 0).map((t) => t.table);
  }

  /** Takes a table's records for a flush; they count against memory until `release`. */
  take(table: string): TakenBuffer | undefined {
    const buf = this.tables.get(table);
    if (!buf || buf.records.length === 0) return undefined;
    const taken = buf.take();
    this.inFlight += taken.memory;
    return taken;
  }

  release(taken: TakenBuffer): void {
    this.inFlight -= taken.memory;
  }

  /** Drops buffered records of a Kafka partition from every table. */
  dropPartition(topic: string, partition: number): void {
    for (const t of this.tables.values()) t.drop(topic, partition);
  }
}
