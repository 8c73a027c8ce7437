import { randomBytes } from 'node:crypto';

export interface ResultColumn {
  name: string;
  /** Trino's type, e.g. `timestamp(6) with time zone`, `decimal(10,2)`, `array(varchar)`. */
  type: string;
  /** The type without parameters, e.g. `timestamp with time zone`, `decimal`, `array`. */
  rawType: string;
}

export interface QueryStats {
  elapsedMs: number;
  rows: number;
  scannedBytes: number;
}

/** A complete result held in memory: the unit of result reuse and of cursor pagination. */
export interface StoredResult {
  id: string;
  /** Cache key, when the result may be reused by an identical query. */
  key?: string;
  queryId: string;
  columns: ResultColumn[];
  rows: unknown[][];
  truncated: boolean;
  /** Approximate size in memory (the size of Trino's JSON pages). */
  bytes: number;
  /** When Trino produced it (ms since epoch). */
  createdAt: number;
  stats: QueryStats;
}

interface Slot {
  result: StoredResult;
  /** Cursors into the result work until then. */
  cursorUntil: number;
}

/**
 * Results in memory, least recently used evicted first within `maxBytes`. An entry serves two
 * purposes: reuse by an identical query within the age that query accepts (up to `maxAgeMs`), and
 * the pages behind a cursor (for `cursorTtlMs` after the answer that handed the cursor out).
 */
export class ResultStore {
  private readonly slots = new Map<string, Slot>();
  private readonly byKey = new Map<string, string>();
  private totalBytes = 0;

  constructor(
    private readonly opts: { maxBytes: number; maxAgeMs: number; cursorTtlMs: number; now?: () => number },
  ) {}

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.slots.size;
  }

  /** A new result id: 128 random bits, so a cursor cannot be guessed. */
  static newId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** Keeps `result` (cursor valid from now); false when it is larger than the whole store. */
  put(result: StoredResult): boolean {
    this.sweep();
    if (result.bytes > this.opts.maxBytes) return false;
    this.remove(result.id);
    while (this.totalBytes + result.bytes > this.opts.maxBytes && this.slots.size > 0) {
      this.remove(this.slots.keys().next().value as string);
    }
    this.slots.set(result.id, { result, cursorUntil: this.now() + this.opts.cursorTtlMs });
    this.totalBytes += result.bytes;
    if (result.key) {
      const previous = this.byKey.get(result.key);
      if (previous && previous !== result.id) this.remove(previous);
      this.byKey.set(result.key, result.id);
    }
    return true;
  }

  /** A stored result for `key` no older than `maxAgeMs`; extends its cursor lifetime, since it is about to be served. */
  reuse(key: string, maxAgeMs: number): StoredResult | undefined {
    const id = this.byKey.get(key);
    const slot = id ? this.slots.get(id) : undefined;
    if (!slot) return undefined;
    const age = this.now() - slot.result.createdAt;
    if (age > Math.min(maxAgeMs, this.opts.maxAgeMs)) return undefined;
    this.touch(slot);
    slot.cursorUntil = Math.max(slot.cursorUntil, this.now() + this.opts.cursorTtlMs);
    return slot.result;
  }

  /** The result behind a cursor, while its cursor lifetime lasts. */
  forCursor(id: string): StoredResult | undefined {
    const slot = this.slots.get(id);
    if (!slot || slot.cursorUntil < this.now()) return undefined;
    this.touch(slot);
    return slot.result;
  }

  /** Drops every stored result; returns how many there were. */
  clear(): number {
    const n = this.slots.size;
    this.slots.clear();
    this.byKey.clear();
    this.totalBytes = 0;
    return n;
  }

  private touch(slot: Slot): void {
    this.slots.delete(slot.result.id);
    this.slots.set(slot.result.id, slot);
  }

  private remove(id: string): void {
    const slot = this.slots.get(id);
    if (!slot) return;
    this.slots.delete(id);
    this.totalBytes -= slot.result.bytes;
    if (slot.result.key && this.byKey.get(slot.result.key) === id) this.byKey.delete(slot.result.key);
  }

  /** Drops results neither reusable nor behind a live cursor. */
  private sweep(): void {
    const now = this.now();
    for (const [id, slot] of this.slots) {
      if (slot.cursorUntil < now && now - slot.result.createdAt > this.opts.maxAgeMs) this.remove(id);
    }
  }
}

/** An opaque cursor: the result id and the offset of the next row. */
export function encodeCursor(resultId: string, offset: number): string {
  return Buffer.from(`${resultId}.${offset}`, 'utf8').toString('base64url');
}

/** Reads a cursor; undefined when it is not one this API made. */
export function decodeCursor(cursor: string): { resultId: string; offset: number } | undefined {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined;
  const match = /^([A-Za-z0-9_-]{22})\.(\d{1,12})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const [, resultId, offset] = match ?? [];
  return resultId && offset ? { resultId, offset: Number(offset) } : undefined;
}
