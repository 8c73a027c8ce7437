import type { Logger } from '@pipeline/runtime';
import type { BufferSet } from '../buffer/buffers';
import type { CompactorMetrics } from '../metrics';
import type { Flusher } from './flusher';

/**
 * Runs flushes one at a time: every `tickMs` (or when nudged) it flushes the tables whose buffers
 * are due. `exclusive` runs work between flushes (orphan removal). `drain` flushes everything left.
 */
export class FlushLoop {
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private busy = false;
  private stopped = false;

  constructor(
    private readonly deps: { buffers: BufferSet; flusher: Flusher; metrics: CompactorMetrics; log: Logger; tickMs: number },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  nudge(): void {
    if (!this.busy && !this.stopped) void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule()), this.deps.tickMs);
    this.timer.unref();
  }

  private updateGauges(): void {
    this.deps.metrics.bufferedBytes.set(this.deps.buffers.memoryBytes);
    this.deps.metrics.bufferedRows.set(this.deps.buffers.bufferedRows);
  }

  /** Serialises `fn` with flushes. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (;;) {
        const due = this.deps.buffers.dueTables();
        this.updateGauges();
        if (due.length === 0 || this.stopped) break;
        for (const { table, reason } of due) {
          if (this.stopped) break;
          await this.exclusive(() => this.flushTable(table, reason));
        }
      }
    } catch (err) {
      // Only a shutdown abort gets here; the records were not committed and are re-read on restart.
      this.deps.log.warn({ err }, 'flush abandoned');
    } finally {
      this.busy = false;
      this.updateGauges();
    }
  }

  private async flushTable(table: string, reason: string): Promise<void> {
    const taken = this.deps.buffers.take(table);
    if (!taken) return;
    this.deps.metrics.flushes.inc({ reason });
    try {
      await this.deps.flusher.flush(taken);
    } catch (err) {
      if (this.stopped) throw err;
      // Not a dependency outage (those are retried inside): keep the records and try again later.
      this.deps.buffers.release(taken);
      this.deps.buffers.restore(taken);
      this.deps.log.error({ err, table }, 'flush failed; records kept for the next attempt');
      await new Promise((r) => setTimeout(r, 1_000));
      return;
    }
    this.deps.buffers.release(taken);
  }

  /** Stops the timer, waits for the flush in flight, then flushes every buffer once. */
  async drain(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.busy) await new Promise((r) => setTimeout(r, 20));
    for (const table of this.deps.buffers.nonEmpty()) {
      await this.exclusive(() => this.flushTable(table, 'shutdown'));
    }
    this.updateGauges();
  }
}
