/**
 * One benchmark session on the whole pipeline, shared by the end-to-end run and the soak: the four
 * built apps isolated on the local stack (the Pipeline harness), the load generator wired to the
 * acknowledgement ledger and the monitor, and the lake-side accounting at the end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createTrino } from '@pipeline/lake';
import { PIPELINE_APPS, Pipeline, stackSettings, type PipelineApp } from '@pipeline/testing';
import { registerLoadgenSchemas } from '../../apps/producer/src/loadgen/register-schemas';
import { runLoad, type BurstOptions, type LoadResult } from '../../apps/producer/src/loadgen/runner';
import { histogramQuantile, round } from '../../tools/report/src/stats';
import { cleanupOnInterrupt } from '../lib/results';
import { CommitIndex, freshnessBetween, lakeCounts, namespaceExists, presentCount, rowTimes, type FreshnessCells, type LakeTable } from './lake';
import { AckLedger } from './ledger';
import { Monitor, log, type Sample } from './monitor';

export const BATCH = 50;
export const CONCURRENCY = 64;

export interface Phase {
  name: string;
  /** Seconds since the monitor's start. */
  start: number;
  end: number;
  rate: number;
}

export class BenchSession {
  readonly ledger = new AckLedger(1_000);
  readonly monitor: Monitor;
  readonly phases: Phase[] = [];
  readonly lake: LakeTable;
  /** `close`, run at most once, also when the bench is interrupted. */
  private readonly closeOnce: () => Promise<void>;

  private constructor(
    readonly pipeline: Pipeline,
    readonly tag: string,
    sampleEveryMs: number,
  ) {
    this.monitor = new Monitor(pipeline, this.ledger, { tag, intervalMs: sampleEveryMs, printEveryMs: 5_000 });
    this.lake = { trino: createTrino(stackSettings()), catalog: 'lake', schema: pipeline.names.namespace, table: 'events', topic: pipeline.names.cleanTopic };
    this.closeOnce = cleanupOnInterrupt(() => this.dropRun());
  }

  /**
   * Starts the apps in order (logs at warn), registers the load generator's schemas and starts
   * sampling. An app whose start fails is started again (at most `attempts` times): on a busy
   * shared broker an app may trip over a topic created a moment before.
   */
  static async start(opts: { tag: string; name: string; partitions: number; sampleEveryMs: number; appEnv?: Partial<Record<PipelineApp, Record<string, string>>>; attempts?: number }): Promise<BenchSession> {
    const attempts = opts.attempts ?? 3;
    const pipeline = await Pipeline.start({
      name: opts.name,
      partitions: opts.partitions,
      apps: [],
      env: { LOG_LEVEL: 'warn' },
      appEnv: { ...opts.appEnv, compactor: { LAG_INTERVAL_MS: '1000', ...opts.appEnv?.compactor } },
    });
    const session = new BenchSession(pipeline, opts.tag, opts.sampleEveryMs);
    try {
      for (const app of PIPELINE_APPS) {
        for (let attempt = 1; ; attempt++) {
          try {
            await pipeline.startApp(app);
            break;
          } catch (err) {
            if (attempt >= attempts) throw err;
            log(opts.tag, `${app} did not start (attempt ${attempt} of ${attempts}), starting it again: ${String((err as Error).message).split('\n')[0]}`);
          }
        }
      }
      await registerLoadgenSchemas(stackSettings().SCHEMA_REGISTRY_URL, pipeline.names.subjectPrefix);
    } catch (err) {
      await session.close();
      throw err;
    }
    session.monitor.start();
    return session;
  }

  /** Runs the load generator at `rate` events/s for `seconds` as a named phase. */
  async load(name: string, rate: number, seconds: number, extra: { burst?: BurstOptions; signal?: AbortSignal } = {}): Promise<LoadResult> {
    // Every load run gets its own event_ids: a repeated phase must not resend ids the processor already deduplicated.
    const runId = `${this.pipeline.names.id}-${this.phases.length}${name.replace(/[^a-z0-9]/gi, '')}`;
    const start = this.monitor.now();
    this.monitor.setPhase(name, rate);
    try {
      const result = await runLoad({
        url: this.pipeline.url('producer'),
        writeKey: this.pipeline.writeKey,
        ratePerSec: rate,
        durationSec: seconds,
        batch: BATCH,
        concurrency: CONCURRENCY,
        runId,
        graceSec: 60,
        onAck: this.ledger.onAck,
        onProgress: this.monitor.onProgress,
        ...extra,
      });
      this.ledger.finish(runId, result.sentEvents);
      if (result.failedEvents > 0 || result.rejectedEvents > 0) log(this.tag, `${name}: ${result.failedEvents} events failed, ${result.rejectedEvents} rejected (statuses ${JSON.stringify(result.statuses)})`);
      return result;
    } finally {
      this.phases.push({ name, start: round(start, 1), end: round(this.monitor.now(), 1), rate });
      this.monitor.setPhase('idle', 0);
    }
  }

  /**
   * Waits until the compactor committed every acknowledged event, or nothing moved for `stallSec`,
   * or `maxSec` passed; returns the seconds waited.
   */
  async drain(maxSec: number, stallSec = 30): Promise<number> {
    const started = Date.now();
    let lastVisible = -1;
    let lastChange = Date.now();
    for (;;) {
      const s = this.monitor.last();
      if (s && s.visible >= this.ledger.acked && s.t * 1000 + this.monitor.startedMs > started) break;
      if (s && s.visible !== lastVisible) {
        lastVisible = s.visible;
        lastChange = Date.now();
      }
      if (Date.now() - lastChange > stallSec * 1000 || Date.now() - started > maxSec * 1000) {
        log(this.tag, `drain stopped waiting: ${this.ledger.acked - (s?.visible ?? 0)} acknowledged events not committed after ${Math.round((Date.now() - started) / 1000)} s`);
        break;
      }
      await sleep(500);
    }
    return (Date.now() - started) / 1000;
  }

  /** Lost and duplicated events: every acknowledged event_id against the distinct event_ids in the table. */
  async accounting(): Promise<{ acked: number; sent: number; rows: number; distinct: number; unacknowledged: number; unacknowledgedInLake: number; lost: number; duplicates: number }> {
    const counts = await lakeCounts(this.lake);
    const unacked = this.ledger.unacknowledged();
    // Sent but unacknowledged events may still have landed (answered after the client gave up): they are in `distinct` but not in `acked`.
    const unackedInLake = unacked.length === 0 ? 0 : await presentCount(this.lake, unacked);
    return {
      acked: this.ledger.acked,
      sent: this.ledger.sent,
      rows: counts.rows,
      distinct: counts.distinct,
      unacknowledged: unacked.length,
      unacknowledgedInLake: unackedInLake,
      lost: this.ledger.acked - (counts.distinct - unackedInLake),
      duplicates: counts.rows - counts.distinct,
    };
  }

  /** Acknowledgement time against received_at and commit time for the sampled marker events. */
  async markers(index: CommitIndex): Promise<{ count: number; found: number; ackAfterReceivedMs: number[]; freshnessFromAckMs: number[]; samples: Array<[number, number, number | null]> }> {
    const times = await rowTimes(
      this.lake,
      index,
      this.ledger.markers.map((m) => m.eventId),
    );
    const ackAfterReceivedMs: number[] = [];
    const freshnessFromAckMs: number[] = [];
    const samples: Array<[number, number, number | null]> = [];
    for (const m of this.ledger.markers) {
      const row = times.get(m.eventId);
      if (!row) continue;
      ackAfterReceivedMs.push(m.ackedAtMs - row.receivedMs);
      if (row.committedMs !== undefined) freshnessFromAckMs.push(row.committedMs - m.ackedAtMs);
      samples.push([round((m.ackedAtMs - this.monitor.startedMs) / 1000, 1), round(m.ackedAtMs - row.receivedMs, 1), row.committedMs === undefined ? null : round(row.committedMs - m.ackedAtMs, 0)]);
    }
    return { count: this.ledger.markers.length, found: times.size, ackAfterReceivedMs, freshnessFromAckMs, samples };
  }

  /** Events per second that became visible, from the table's commits, in `bucketSec` buckets since the monitor's start. */
  visibleSeries(index: CommitIndex, bucketSec: number, untilSec: number): number[] {
    const perBucket = new Array<number>(Math.ceil(untilSec / bucketSec)).fill(0);
    for (const c of index.commits) {
      const i = Math.floor((c.atMs - this.monitor.startedMs) / 1000 / bucketSec);
      if (i >= 0 && i < perBucket.length) perBucket[i] = (perBucket[i] as number) + c.rows / bucketSec;
    }
    return perBucket.map((v) => Math.round(v));
  }

  /** Freshness percentiles (seconds) and count of the rows received between two monitor times. */
  freshness(cells: FreshnessCells, fromSec: number, toSec: number): { p50: number; p95: number; max: number; count: number; histogram: Array<[number, number]> } {
    const f = freshnessBetween(cells, this.monitor.startedMs + fromSec * 1000, this.monitor.startedMs + toSec * 1000);
    return {
      p50: round(histogramQuantile(f.histogram, 0.5) / 1000, 2),
      p95: round(histogramQuantile(f.histogram, 0.95) / 1000, 2),
      max: round(f.maxMs / 1000, 2),
      count: f.count,
      histogram: f.histogram.buckets,
    };
  }

  /** Freshness p50/p95/max (seconds) per `bucketSec` of received_at, from `fromSec` to `toSec`. */
  freshnessOverTime(cells: FreshnessCells, fromSec: number, toSec: number, bucketSec: number): { t: number[]; p50: Array<number | null>; p95: Array<number | null>; max: Array<number | null>; events: number[] } {
    const out = { t: [] as number[], p50: [] as Array<number | null>, p95: [] as Array<number | null>, max: [] as Array<number | null>, events: [] as number[] };
    for (let t = Math.floor(fromSec / bucketSec) * bucketSec; t < toSec; t += bucketSec) {
      const f = this.freshness(cells, t, t + bucketSec);
      out.t.push(t);
      out.events.push(f.count);
      out.p50.push(f.count === 0 ? null : f.p50);
      out.p95.push(f.count === 0 ? null : f.p95);
      out.max.push(f.count === 0 ? null : f.max);
    }
    return out;
  }

  /** Per-app RSS series and maxima (MB) over the samples. */
  rss(samples: readonly Sample[] = this.monitor.samples): { t: number[]; byApp: Record<PipelineApp, Array<number | null>>; maxByApp: Record<PipelineApp, number>; max: number } {
    const byApp = Object.fromEntries(PIPELINE_APPS.map((a) => [a, samples.map((s) => s.rssMb[a] ?? null)])) as Record<PipelineApp, Array<number | null>>;
    const maxByApp = Object.fromEntries(PIPELINE_APPS.map((a) => [a, Math.max(0, ...byApp[a].filter((v): v is number => v !== null))])) as Record<PipelineApp, number>;
    return { t: samples.map((s) => s.t), byApp, maxByApp, max: Math.max(...Object.values(maxByApp)) };
  }

  /** Stops the apps and removes what the run created on the stack (once; Ctrl-C runs it too). */
  close(): Promise<void> {
    return this.closeOnce();
  }

  /** `close`: again while Trino still lists the namespace (a busy or restarting Trino drops tables half way). */
  private async dropRun(): Promise<void> {
    this.monitor.stop();
    for (let attempt = 1; ; attempt++) {
      await this.pipeline.destroy().catch((err: unknown) => log(this.tag, `cleanup: ${String(err)}`));
      if (!(await namespaceExists(this.lake).catch(() => true))) return;
      if (attempt >= 3) {
        log(this.tag, `cleanup: lake.${this.lake.schema} is still there after ${attempt} attempts; drop it by hand`);
        return;
      }
      await sleep(10_000);
    }
  }
}
