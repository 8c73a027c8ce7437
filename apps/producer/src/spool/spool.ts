/**
 * The durable local spool: append-only segment files of CRC-checked frames. An append resolves only
 * after write + fdatasync, so an acknowledged event survives a crash of the process (and of the
 * machine, as far as the disk honours fsync). Appends that arrive while a write is in progress are
 * written together (group commit), so many concurrent requests share one fsync.
 *
 * The reader drains in append order; `commit` advances a checkpoint file and deletes drained
 * segments. A crash between sending to Kafka and writing the checkpoint re-sends a chunk: the spool
 * is at-least-once, and the stream processor drops duplicates by event_id.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PipelineError, type Logger } from '@pipeline/runtime';
import { FRAME_HEADER_BYTES, decodeFrame, encodeFrame, type OutRecord, type SpooledRecord } from './frame';

export interface SpoolOptions {
  dir: string;
  /** Capacity: appends that would take the undrained bytes past this fail with {@link SpoolFullError}. */
  maxBytes: number;
  /** A new segment file is started once the active one reaches this size. */
  segmentBytes: number;
  log: Logger;
  now?: () => number;
}

/** Position of the next unread frame. */
export interface SpoolPosition {
  segment: number;
  offset: number;
}

export interface SpoolChunk {
  records: SpooledRecord[];
  bytes: number;
  next: SpoolPosition;
}

/** The spool cannot take more: the client should retry later (503). Nothing of the append was acknowledged. */
export class SpoolFullError extends PipelineError {
  constructor(message: string) {
    super('dependency_unavailable', message, { retriable: true });
    this.name = 'SpoolFullError';
  }
}

interface Segment {
  seq: number;
  path: string;
  /** Bytes known to be durable (fsynced) and valid. */
  size: number;
}

interface PendingAppend {
  frames: Buffer[];
  bytes: number;
  count: number;
  firstSpooledAt: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const SEGMENT_PATTERN = /^segment-(\d{16})\.log$/;
const CHECKPOINT = 'checkpoint.json';
const LOCK = 'LOCK';
const READ_CHUNK_BYTES = 1024 * 1024;
/** Directories this process holds, so a second Spool on one of them fails even though the LOCK names our pid. */
const heldDirs = new Set<string>();

function segmentName(seq: number): string {
  return `segment-${String(seq).padStart(16, '0')}.log`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Spool {
  private segments: Segment[] = [];
  private writer: FileHandle | undefined;
  private readonly readers = new Map<number, FileHandle>();
  private checkpoint: SpoolPosition = { segment: 0, offset: 0 };
  private reader: SpoolPosition = { segment: 0, offset: 0 };
  private queue: PendingAppend[] = [];
  private flushing = false;
  private reservedBytes = 0;
  private records = 0;
  private bytes = 0;
  private oldest: number | undefined;
  private closed = false;
  private appendWaiters: Array<() => void> = [];
  private readonly now: () => number;
  private readonly maxFrameBytes: number;

  private constructor(private readonly opts: SpoolOptions) {
    this.now = opts.now ?? Date.now;
    this.maxFrameBytes = Math.max(opts.segmentBytes, 64 * 1024 * 1024);
  }

  /** Opens (creating) the spool directory, takes its lock, recovers segments and truncates a torn tail. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(opts);
    await mkdir(opts.dir, { recursive: true });
    spool.lock();
    try {
      await spool.recover();
    } catch (err) {
      spool.unlock();
      throw err;
    }
    return spool;
  }

  /** Events appended and not yet committed as drained. */
  get depthRecords(): number {
    return this.records;
  }

  get depthBytes(): number {
    return this.bytes;
  }

  /** When the oldest undrained event was spooled (epoch ms), `undefined` when empty. */
  get oldestSpooledAt(): number | undefined {
    return this.records === 0 ? undefined : this.oldest;
  }

  /** Appends in progress (not yet durable). */
  get pendingAppends(): number {
    return this.queue.length + (this.flushing ? 1 : 0);
  }

  /** True when everything appended has been read and committed, and no append is in progress. */
  get isDrained(): boolean {
    return this.records === 0 && this.pendingAppends === 0;
  }

  /** Whether `bytes` more would fit now. */
  hasRoom(bytes: number): boolean {
    return this.bytes + this.reservedBytes + bytes <= this.opts.maxBytes;
  }

  /** Appends records in order; resolves once they are fsynced. Throws {@link SpoolFullError} when they do not fit. */
  append(records: readonly OutRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new PipelineError('aborted', 'spool is closed'));
    const spooledAt = this.now();
    const frames = records.map((r) => encodeFrame(r, spooledAt));
    let bytes = 0;
    for (const f of frames) bytes += f.length;
    if (!this.hasRoom(bytes)) {
      return Promise.reject(new SpoolFullError(`spool full: ${this.bytes + this.reservedBytes} of ${this.opts.maxBytes} bytes used`));
    }
    this.reservedBytes += bytes;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frames, bytes, count: frames.length, firstSpooledAt: spooledAt, resolve, reject });
      void this.flush();
    });
  }

  /** Resolves after the next group of appends becomes durable (or at once when the spool has unread data). */
  waitForData(signal?: AbortSignal): Promise<void> {
    if (this.hasUnread()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.appendWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Reads up to `maxRecords` / about `maxBytes` from the read position (which `commit` advances).
   * Returns `undefined` when nothing durable is unread.
   */
  async read(maxRecords: number, maxBytes: number): Promise<SpoolChunk | undefined> {
    for (;;) {
      const index = this.segments.findIndex((s) => s.seq === this.reader.segment);
      const segment = this.segments[index];
      if (segment === undefined) return undefined;
      const available = segment.size - this.reader.offset;
      if (available <= 0) {
        const next = this.segments[index + 1];
        if (next === undefined) return undefined;
        this.reader = { segment: next.seq, offset: 0 };
        continue;
      }
      const handle = await this.readerFor(segment);
      let buf = await readAt(handle, Math.min(available, Math.max(maxBytes, FRAME_HEADER_BYTES)), this.reader.offset);
      const records: SpooledRecord[] = [];
      let at = 0;
      while (records.length < maxRecords && at < buf.length && at < maxBytes) {
        const scan = decodeFrame(buf, at, this.maxFrameBytes);
        if (scan.kind === 'frame') {
          records.push(scan.record);
          at += scan.size;
          continue;
        }
        if (scan.kind === 'partial' && records.length > 0) break;
        if (scan.kind === 'partial' && scan.needed !== undefined && scan.needed <= available && buf.length < scan.needed) {
          // One frame larger than the read: read exactly it.
          buf = await readAt(handle, scan.needed, this.reader.offset);
          continue;
        }
        throw new PipelineError('internal', `spool segment ${segment.path} is damaged at ${this.reader.offset + at}: ${scan.kind === 'corrupt' ? scan.reason : 'short frame'}`);
      }
      const first = records[0];
      if (first !== undefined) this.oldest = first.spooledAt;
      return { records, bytes: at, next: { segment: segment.seq, offset: this.reader.offset + at } };
    }
  }

  /** Marks everything before `next` as delivered: persists the checkpoint and deletes drained segments. */
  async commit(chunk: SpoolChunk): Promise<void> {
    this.records -= chunk.records.length;
    this.bytes -= chunk.bytes;
    this.checkpoint = chunk.next;
    this.reader = chunk.next;
    const tmp = join(this.opts.dir, `${CHECKPOINT}.tmp`);
    await writeFile(tmp, JSON.stringify(this.checkpoint));
    await rename(tmp, join(this.opts.dir, CHECKPOINT));
    const active = this.segments.at(-1);
    while (this.segments.length > 1 && this.segments[0] !== undefined && this.segments[0].seq < this.checkpoint.segment && this.segments[0] !== active) {
      const done = this.segments.shift() as Segment;
      await this.readers.get(done.seq)?.close();
      this.readers.delete(done.seq);
      await rm(done.path, { force: true });
    }
  }

  /** Waits for appends in progress, then closes files and releases the lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
    for (const handle of this.readers.values()) await handle.close();
    this.readers.clear();
    await this.writer?.close();
    this.writer = undefined;
    for (const waiter of this.appendWaiters.splice(0)) waiter();
    this.unlock();
  }

  private hasUnread(): boolean {
    const last = this.segments.at(-1);
    if (last === undefined) return false;
    return this.reader.segment !== last.seq || this.reader.offset < last.size;
  }

  private lock(): void {
    if (heldDirs.has(this.opts.dir)) throw new PipelineError('config_invalid', `spool directory ${this.opts.dir} is already open in this process`);
    const path = join(this.opts.dir, LOCK);
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldDirs.add(this.opts.dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
      throw new PipelineError('config_invalid', `spool directory ${this.opts.dir} is in use by process ${holder}; give each collector its own SPOOL_DIR`);
    }
    // The holder died without releasing it (a crash or SIGKILL), or it is a previous life of this pid
    // (containers restart with the same pid): take over.
    const fd = openSync(path, 'w');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    heldDirs.add(this.opts.dir);
  }

  private unlock(): void {
    heldDirs.delete(this.opts.dir);
    try {
      const path = join(this.opts.dir, LOCK);
      if (Number(readFileSync(path, 'utf8').trim()) === process.pid) rmSync(path, { force: true });
    } catch {
      // Nothing to release.
    }
  }

  private async recover(): Promise<void> {
    const names = (await readdir(this.opts.dir)).filter((n) => SEGMENT_PATTERN.test(n)).sort();
    const segments: Segment[] = [];
    for (const name of names) {
      const seq = Number(SEGMENT_PATTERN.exec(name)?.[1]);
      const path = join(this.opts.dir, name);
      segments.push({ seq, path, size: (await stat(path)).size });
    }
    const checkpoint = await this.readCheckpoint();
    // Segments wholly before the checkpoint were drained; a crash may have left them behind.
    while (segments.length > 0 && (segments[0] as Segment).seq < checkpoint.segment) {
      await rm((segments.shift() as Segment).path, { force: true });
    }
    const first = segments[0];
    this.checkpoint = first === undefined ? { segment: 0, offset: 0 } : first.seq === checkpoint.segment ? checkpoint : { segment: first.seq, offset: 0 };
    this.reader = { ...this.checkpoint };

    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as Segment;
      const start = segment.seq === this.checkpoint.segment ? this.checkpoint.offset : 0;
      const valid = await this.scan(segment, start);
      if (valid < segment.size) {
        const last = i === segments.length - 1;
        this.opts.log.warn(
          { segment: segment.path, validBytes: valid, fileBytes: segment.size },
          last ? 'spool: truncating a torn tail (never acknowledged)' : 'spool: damaged segment; skipping its unreadable rest',
        );
        if (last) {
          const handle = await open(segment.path, 'r+');
          await handle.truncate(valid);
          await handle.sync();
          await handle.close();
        }
        segment.size = valid;
      }
    }
    this.segments = segments;
    if (this.records > 0) this.opts.log.info({ records: this.records, bytes: this.bytes }, 'spool: undrained events found; they drain when Kafka is reachable');
    const active = segments.at(-1);
    if (active === undefined) {
      const seq = this.checkpoint.segment + 1;
      await this.startSegment(seq);
      this.checkpoint = { segment: seq, offset: 0 };
      this.reader = { ...this.checkpoint };
    } else {
      this.writer = await open(active.path, 'r+');
    }
  }

  /** Counts valid frames from `start`; returns the end of the last valid frame. */
  private async scan(segment: Segment, start: number): Promise<number> {
    const handle = await open(segment.path, 'r');
    try {
      let offset = start;
      let buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
      while (offset < segment.size) {
        const length = Math.min(buf.length, segment.size - offset);
        const { bytesRead } = await handle.read(buf, 0, length, offset);
        let at = 0;
        for (;;) {
          const scan = decodeFrame(buf.subarray(0, bytesRead), at, this.maxFrameBytes);
          if (scan.kind === 'frame') {
            if (this.records === 0) this.oldest = scan.record.spooledAt;
            this.records++;
            this.bytes += scan.size;
            at += scan.size;
            continue;
          }
          if (scan.kind === 'corrupt') return offset + at;
          if (at === 0) {
            // Not even one frame in the buffer: a bigger frame, or a torn tail.
            if (scan.needed !== undefined && scan.needed > buf.length && offset + scan.needed <= segment.size) {
              buf = Buffer.allocUnsafe(scan.needed);
              break;
            }
            return offset;
          }
          break;
        }
        offset += at;
      }
      return offset;
    } finally {
      await handle.close();
    }
  }

  private async readCheckpoint(): Promise<SpoolPosition> {
    try {
      const parsed = JSON.parse(readFileSync(join(this.opts.dir, CHECKPOINT), 'utf8')) as Partial<SpoolPosition>;
      if (Number.isSafeInteger(parsed.segment) && Number.isSafeInteger(parsed.offset)) return { segment: parsed.segment as number, offset: parsed.offset as number };
    } catch {
      // Missing or unreadable: start from the first segment (at worst, re-sends; never loses).
    }
    return { segment: 0, offset: 0 };
  }

  private async startSegment(seq: number): Promise<void> {
    await this.writer?.close();
    const path = join(this.opts.dir, segmentName(seq));
    this.writer = await open(path, 'w+');
    this.segments.push({ seq, path, size: 0 });
    // The new file's directory entry must be durable too, or a power cut could lose the whole file.
    const dir = await open(this.opts.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  private async readerFor(segment: Segment): Promise<FileHandle> {
    let handle = this.readers.get(segment.seq);
    if (handle === undefined) {
      handle = await open(segment.path, 'r');
      this.readers.set(segment.seq, handle);
    }
    return handle;
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue;
        this.queue = [];
        let bytes = 0;
        let count = 0;
        for (const p of group) {
          bytes += p.bytes;
          count += p.count;
        }
        try {
          let active = this.segments.at(-1) as Segment;
          if (active.size >= this.opts.segmentBytes) {
            await this.startSegment(active.seq + 1);
            active = this.segments.at(-1) as Segment;
          }
          const writer = this.writer as FileHandle;
          const buffers = group.flatMap((p) => p.frames);
          let written = 0;
          while (written < bytes) {
            const { bytesWritten } = await writer.writev(sliceFrom(buffers, written), active.size + written);
            written += bytesWritten;
          }
          await writer.datasync();
          if (this.records === 0) this.oldest = (group[0] as PendingAppend).firstSpooledAt;
          active.size += bytes;
          this.records += count;
          this.bytes += bytes;
          this.reservedBytes -= bytes;
          for (const p of group) p.resolve();
          for (const waiter of this.appendWaiters.splice(0)) waiter();
        } catch (err) {
          this.reservedBytes -= bytes;
          for (const p of group) p.reject(new PipelineError('internal', 'spool write failed', { cause: err }));
          this.opts.log.error({ err }, 'spool: write failed; starting a new segment');
          // What reached the old file past its durable size is never read (it was not acknowledged).
          await this.startSegment((this.segments.at(-1) as Segment).seq + 1).catch(() => undefined);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

async function readAt(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buf, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}

/** The buffers after skipping the first `skip` bytes (for a short writev). */
function sliceFrom(buffers: Buffer[], skip: number): Buffer[] {
  if (skip === 0) return buffers;
  const out: Buffer[] = [];
  let remaining = skip;
  for (const b of buffers) {
    if (remaining >= b.length) {
      remaining -= b.length;
      continue;
    }
    out.push(remaining > 0 ? b.subarray(remaining) : b);
    remaining = 0;
  }
  return out;
}

