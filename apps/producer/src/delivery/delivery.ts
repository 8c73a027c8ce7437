/**
 * Makes accepted events durable before the client is answered, and decides where:
 *
 * - direct: events wait in a bounded in-memory queue, go to Kafka in micro-batches shared by all
 *   concurrent requests (a batch may linger a few ms for more), and the request resolves when Kafka
 *   acknowledges (acks=all).
 * - spooling: when Kafka fails, is slower than the send timeout, or the memory queue is full,
 *   events are appended to the local spool (fsync) and the request resolves from there. While the
 *   spool holds anything, new events also go to it, so they reach Kafka in arrival order; a drainer
 *   moves them to Kafka, and once the spool is empty delivery returns to direct.
 *
 * Only a full spool refuses events ({@link SpoolFullError}, answered 503). Memory holds at most
 * the queue limit plus one drain chunk.
 */
import { PipelineError, sleep, type Logger } from '@pipeline/runtime';
import type { ProducerMetrics } from '../metrics';
import type { OutRecord } from '../spool/frame';
import type { Spool } from '../spool/spool';
import type { RecordSender } from './kafka-sender';

export type Durability = 'kafka' | 'spool';

export interface DeliveryOptions {
  sender: RecordSender;
  log: Logger;
  metrics: ProducerMetrics;
  memoryQueueBytes: number;
  maxBatchBytes: number;
  maxInFlightBatches: number;
  /**
   * How long a micro-batch may wait for more events before it is sent, while it is smaller than
   * `maxBatchBytes` (Kafka's linger.ms). Each produce request costs about the same CPU in the
   * collector and the broker whatever its size, so a few milliseconds here buy fewer, fuller ones.
   */
  lingerMs: number;
  /** Records per drain chunk (default 5000). */
  drainChunkRecords?: number;
  /** Backoff between attempts while Kafka is away (default 500 ms, doubling to 5 s). */
  retryDelayMs?: number;
}

interface Entry {
  records: readonly OutRecord[];
  bytes: number;
  /** When it was queued (performance.now()), for the linger. */
  at: number;
  resolve: (d: Durability) => void;
  reject: (err: unknown) => void;
}

export class Delivery {
  private mode: 'direct' | 'spooling' = 'direct';
  private queue: Entry[] = [];
  private queuedBytes = 0;
  /** Bytes of the entries in `queue` (not sent yet). */
  private waitingBytes = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private draining: Promise<void> | undefined;
  private stopping = false;
  private readonly abort = new AbortController();
  private spoolRef: Spool | undefined;

  constructor(private readonly opts: DeliveryOptions) {}

  private get spoolFile(): Spool {
    if (this.spoolRef === undefined) throw new PipelineError('internal', 'delivery used before start');
    return this.spoolRef;
  }

  get currentMode(): 'direct' | 'spooling' {
    return this.mode;
  }

  /**
   * Starts delivery: drains what a previous run left in the spool; otherwise waits up to `connectWaitMs`
   * for Kafka and, when it is not reachable by then, starts in spooling mode (Kafka is retried in the background).
   */
  async start(spool: Spool, connectWaitMs: number): Promise<void> {
    this.spoolRef = spool;
    if (spool.depthRecords > 0) {
      this.enterSpooling();
      return;
    }
    const connected = this.opts.sender.connect().then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), connectWaitMs)));
    const ok = await Promise.race([connected, waited]);
    clearTimeout(timer);
    if (!ok) {
      this.opts.log.warn('Kafka not reachable at start; accepting events into the spool');
      this.enterSpooling();
    }
  }

  /**
   * Resolves once `records` are durable (in Kafka or in the spool), saying where.
   * Rejects with SpoolFullError when they could only be spooled and the spool is full.
   */
  submit(records: readonly OutRecord[], bytes: number): Promise<Durability> {
    if (this.stopping) return Promise.reject(new PipelineError('aborted', 'collector is shutting down'));
    if (this.mode === 'direct' && (!this.opts.sender.healthy || this.queuedBytes + bytes > this.opts.memoryQueueBytes)) {
      this.enterSpooling();
    }
    if (this.mode === 'spooling') return this.spool(records);
    return new Promise<Durability>((resolve, reject) => {
      this.queue.push({ records, bytes, at: performance.now(), resolve, reject });
      this.queuedBytes += bytes;
      this.waitingBytes += bytes;
      this.opts.metrics.memoryQueueBytes.set(this.queuedBytes);
      this.pump();
    });
  }

  /**
   * Stops taking events, sends what is queued, then drains the spool while Kafka answers, for at most
   * `drainMs`. Whatever is still spooled stays on disk for the next start.
   */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true;
    // What lingers goes now.
    this.pump();
    await this.waitIdle();
    if (this.mode === 'spooling' && this.opts.sender.healthy) {
      const deadline = setTimeout(() => this.abort.abort(), drainMs);
      await this.draining;
      clearTimeout(deadline);
    }
    this.abort.abort();
    await this.draining;
  }

  private spool(records: readonly OutRecord[]): Promise<Durability> {
    return this.spoolFile.append(records).then(() => {
      this.opts.metrics.spoolWrites.inc(records.length);
      return 'spool' as const;
    });
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlightBatches && this.queue.length > 0) {
      if (this.lingers()) return;
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
      const batch: Entry[] = [];
      let bytes = 0;
      while (this.queue.length > 0 && (batch.length === 0 || bytes + (this.queue[0] as Entry).bytes <= this.opts.maxBatchBytes)) {
        const entry = this.queue.shift() as Entry;
        batch.push(entry);
        bytes += entry.bytes;
      }
      this.waitingBytes -= bytes;
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        this.queuedBytes -= bytes;
        this.opts.metrics.memoryQueueBytes.set(this.queuedBytes);
        if (this.inFlight === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
        this.pump();
      });
    }
  }

  /** True (with a timer set to pump again) while the waiting events may linger for more. */
  private lingers(): boolean {
    const { lingerMs, maxBatchBytes } = this.opts;
    if (lingerMs <= 0 || this.stopping || this.mode !== 'direct' || this.waitingBytes >= maxBatchBytes) return false;
    const wait = (this.queue[0] as Entry).at + lingerMs - performance.now();
    if (wait <= 0) return false;
    if (this.lingerTimer === undefined) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.pump();
      }, Math.ceil(wait));
    }
    return true;
  }

  private async sendBatch(batch: Entry[]): Promise<void> {
    if (this.mode === 'direct') {
      const records = batch.length === 1 ? (batch[0] as Entry).records : concatRecords(batch);
      try {
        await this.opts.sender.send(records);
        for (const e of batch) e.resolve('kafka');
        return;
      } catch {
        this.enterSpooling();
      }
    }
    // Kafka failed or delivery turned to spooling while these waited: they are not acknowledged yet.
    await Promise.all(batch.map((e) => this.spool(e.records).then(e.resolve, e.reject)));
  }

  private enterSpooling(): void {
    if (this.mode === 'spooling' && this.draining) return;
    this.mode = 'spooling';
    // Events lingering for a produce request go to the spool now, ahead of the events that follow.
    this.pump();
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private waitIdle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Moves spooled events to Kafka in order until the spool is empty, then returns to direct delivery. */
  private async drain(): Promise<void> {
    const { sender, log, metrics } = this.opts;
    const spool = this.spoolFile;
    const signal = this.abort.signal;
    const baseDelay = this.opts.retryDelayMs ?? 500;
    let delay = baseDelay;
    // Events sent directly before the switch go first, so one user's events stay in order.
    await this.waitIdle();
    while (!signal.aborted) {
      try {
        if (!sender.healthy) await sender.connect();
        const chunk = await spool.read(this.opts.drainChunkRecords ?? 5_000, this.opts.maxBatchBytes);
        if (chunk === undefined || chunk.records.length === 0) {
          if (spool.isDrained) {
            if (this.stopping) return;
            this.mode = 'direct';
            log.info('spool drained; delivering to Kafka directly');
            return;
          }
          await spool.waitForData(signal);
          continue;
        }
        await sender.send(chunk.records);
        await spool.commit(chunk);
        metrics.spoolDrained.inc(chunk.records.length);
        delay = baseDelay;
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof PipelineError && err.code === 'internal') log.error({ err }, 'spool drain failed');
        await sleep(delay, signal).catch(() => undefined);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }
}

function concatRecords(batch: readonly Entry[]): OutRecord[] {
  let count = 0;
  for (const e of batch) count += e.records.length;
  const records = new Array<OutRecord>(count);
  let at = 0;
  for (const e of batch) for (const r of e.records) records[at++] = r;
  return records;
}
