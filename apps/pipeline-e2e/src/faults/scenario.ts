/**
 * Faults under load (issue #8 item 3), shared by `test/integration/faults.int.test.ts` and
 * `bench/faults/run.ts`: the four built apps isolated on the local stack, a steady load through the
 * collector with every acknowledged event_id recorded, one fault at a time with /readyz and
 * /metrics sampled every ~500 ms, and the lake checked afterwards: every acknowledged event_id is
 * in the events table exactly once.
 *
 * Each fault has its own load run (event_ids `<run id>-<fault id>-<n>`), so its events can be
 * counted on their own. Services of the shared stack are stopped and started only through the
 * stack tool, and always started again, whatever happens to the run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTrino, queryAll, quoteLiteral } from '@pipeline/lake';
import { registerLoadgenSchemas, runLoad, type LoadResult } from '@pipeline/producer/loadgen';
import { Pipeline, stackService, stackSettings, waitFor, type StackService } from '@pipeline/testing';
import { faultSpec, type FaultDurations, type FaultId, type FaultSpec } from './faults';
import { Sampler } from './sampler';
import {
  findRecovery,
  judge,
  lagThreshold,
  notReadySummary,
  readinessChanges,
  timelineChart,
  within,
  type ExpectationResult,
  type Sample,
  type TimelineChart,
} from './samples';

export interface FaultRunOptions {
  /** Prefix of the run's unique names. */
  name: string;
  /** Events per second offered to the collector during every phase. */
  ratePerSec: number;
  durations: FaultDurations;
  partitions?: number;
  /** Load before each fault is injected, so acknowledged events exist when it strikes. */
  warmupMs?: number;
  /** Fault-free load that sets the lag counted as about zero. */
  baselineMs?: number;
  recoveryTimeoutMs?: number;
  /**
   * After each fault, wait until the events table holds the phase's events and record when (a Trino
   * query a second; slow on a busy machine). Without it, {@link FaultScenario.accounting} checks every
   * phase at the end.
   */
  lakePerPhase?: boolean;
  /** How long the lake may take to hold acknowledged events once the load stopped. */
  lakeTimeoutMs?: number;
  sampleEveryMs?: number;
  /** Progress lines (every few seconds while a fault lasts). */
  log?: (line: string) => void;
}

export interface LoadCounts {
  acked: number;
  sent: number;
  failed: number;
  rejected: number;
  retries: number;
  statuses: Record<string, number>;
}

export interface FaultResult {
  id: FaultId | 'baseline';
  name: string;
  /** ISO times: injected, removed (killed app restarting / service started again), recovered. */
  start: string;
  end: string;
  ready_at: string | null;
  recovered_at: string | null;
  lake_complete_at: string | null;
  /** Seconds from start to end. */
  fault_s: number;
  /** Seconds from the end until every app was ready and the fault's states had cleared. */
  ready_after_s: number | null;
  /** Seconds from the end until, in addition, lag was back under the threshold with both consumers moving. */
  recovery_s: number | null;
  /** Seconds from the end until the lake held every event of the phase (its load stops at recovery); null when not measured or never. */
  lake_complete_after_s: number | null;
  lag_threshold: number;
  expectations: ExpectationResult[];
  load: LoadCounts;
  /** The phase's rows and distinct event_ids in the events table once it held them all (or the wait gave up); null when not measured. */
  lake: { rows: number; distinct: number } | null;
  /** Events acknowledged before the fault struck (they must all be in the lake). */
  acked_before_fault: number;
  /** Readiness (and query answers) as they changed, seconds since the fault started. */
  readiness: Array<{ t: number; not_ready: string; query?: string }>;
  /** Maxima over the fault's samples. */
  peaks: { processor_lag: number; compactor_lag: number; compactor_buffered_rows: number; spool_depth: number; compactor_retries: number };
  chart: TimelineChart;
}

export interface LakeAccounting {
  acked: number;
  sent: number;
  rows: number;
  distinct: number;
  /** Acknowledged event_ids missing from the table. */
  lost: number;
  /** Rows beyond one per event_id. */
  duplicates: number;
  /** event_ids in the table that were sent but never acknowledged (allowed: the answer never reached the client). */
  unacknowledged_in_lake: number;
  /** event_ids in the table that no phase sent (there must be none). */
  unknown: number;
  /** Events acknowledged before a fault struck that are missing (included in `lost`). */
  lost_acked_before_fault: number;
  lost_sample: string[];
  duplicate_sample: string[];
  by_phase: Record<string, { acked: number; rows: number; distinct: number; lost: number; duplicates: number }>;
}

/** One phase of load: a load-generator run with its own event_id prefix and its acknowledged ids. */
class LoadPhase {
  readonly acked = new Set<string>();
  private readonly abort = new AbortController();
  readonly done: Promise<LoadResult>;

  constructor(
    readonly runId: string,
    opts: { url: string; writeKey: string; ratePerSec: number },
  ) {
    this.done = runLoad({
      url: opts.url,
      writeKey: opts.writeKey,
      ratePerSec: opts.ratePerSec,
      durationSec: 24 * 3600,
      batch: 20,
      concurrency: 32,
      runId,
      graceSec: 300,
      signal: this.abort.signal,
      onAck: (ack) => {
        for (const id of ack.eventIds) this.acked.add(id);
      },
    });
  }

  /** Stops offering events and waits for the requests in flight (retried until answered). */
  async stop(): Promise<LoadCounts> {
    this.abort.abort();
    const r = await this.done;
    return { acked: this.acked.size, sent: r.sentEvents, failed: r.failedEvents, rejected: r.rejectedEvents, retries: r.retries, statuses: r.statuses };
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
const secondsBetween = (from: number, to: number | undefined) => (to === undefined ? null : Math.round((to - from) / 100) / 10);
const max = (samples: readonly Sample[], pick: (s: Sample) => number) => Math.max(0, ...samples.map(pick).filter((v) => !Number.isNaN(v)));

export class FaultScenario {
  private readonly down = new Set<StackService>();
  private readonly trino = createTrino(stackSettings());
  private readonly table: string;
  private threshold: number;
  private busy = false;
  readonly results: FaultResult[] = [];

  private constructor(
    readonly pipeline: Pipeline,
    readonly sampler: Sampler,
    private readonly phases: Array<{ runId: string; acked: Set<string>; ackedBeforeFault: string[]; sent: number }>,
    private readonly opts: FaultRunOptions,
  ) {
    this.table = `lake.${pipeline.names.namespace}.events`;
    this.threshold = opts.ratePerSec;
  }

  /**
   * Starts the four apps (the compactor with a 1 MiB buffer cap and lag measured every second, so
   * an outage shows as lag within seconds), registers the load generator's schemas and starts sampling.
   */
  static async start(opts: FaultRunOptions): Promise<FaultScenario> {
    const pipeline = await Pipeline.start({
      name: opts.name,
      partitions: opts.partitions ?? 3,
      appEnv: { compactor: { LAG_INTERVAL_MS: '1000', BUFFER_MEMORY_CAP_BYTES: String(1024 * 1024) } },
    });
    try {
      await registerLoadgenSchemas(stackSettings().SCHEMA_REGISTRY_URL, pipeline.names.subjectPrefix);
    } catch (err) {
      await pipeline.destroy().catch(() => undefined);
      throw err;
    }
    const phases: FaultScenario['phases'] = [];
    const sampler = new Sampler(pipeline, () => phases.reduce((n, p) => n + p.acked.size, 0), opts.sampleEveryMs ?? 500);
    const scenario = new FaultScenario(pipeline, sampler, phases, opts);
    sampler.start();
    return scenario;
  }

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private startPhase(id: string): LoadPhase {
    return new LoadPhase(`${this.pipeline.names.id}-${id}`, { url: this.pipeline.url('producer'), writeKey: this.pipeline.writeKey, ratePerSec: this.opts.ratePerSec });
  }

  /**
   * Rows and distinct event_ids of one phase in the events table. Its events were received after
   * `since`, so the files' received_at bounds in the manifests leave the older files unread.
   */
  private async lakeCounts(runId: string, since: number): Promise<{ rows: number; distinct: number }> {
    const r = await queryAll(
      this.trino,
      `SELECT count(*), count(DISTINCT event_id) FROM ${this.table} WHERE received_at >= from_iso8601_timestamp(${quoteLiteral(new Date(since).toISOString())}) AND starts_with(event_id, ${quoteLiteral(`${runId}-`)})`,
    );
    return { rows: Number(r.rows[0]?.[0]), distinct: Number(r.rows[0]?.[1]) };
  }

  /** Waits until the lake holds every acknowledged event of the phase (or the wait times out); returns when it did. */
  private async waitForLake(runId: string, since: number, acked: number): Promise<{ at: number | undefined; counts: { rows: number; distinct: number } }> {
    let counts = { rows: 0, distinct: 0 };
    let failure = '';
    const deadline = Date.now() + (this.opts.lakeTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      try {
        counts = await this.lakeCounts(runId, since);
        failure = '';
      } catch (err) {
        const message = (err as Error).message.split('\n')[0] ?? '';
        if (message !== failure) this.log(`counting the phase's rows failed (retrying): ${message}`);
        failure = message;
      }
      if (counts.distinct >= acked) return { at: Date.now(), counts };
      await sleep(1_000);
    }
    return { at: undefined, counts };
  }

  private status(s: Sample | undefined, since: number): string {
    if (!s) return '';
    const m = s.metrics;
    const num = (v: number) => (Number.isNaN(v) ? '-' : String(Math.round(v)));
    const query = s.query === undefined ? '' : ` query ${s.query.status === 0 ? 'no answer' : `${s.query.status}${s.query.code ? ` ${s.query.code}` : ''}`}`;
    return (
      `t=${((s.at - since) / 1000).toFixed(0).padStart(3)}s acked ${s.acked} lag proc ${num(m.processorLag)} comp ${num(m.compactorLag)} buf ${num(m.compactorBuffered)} ` +
      `spool ${num(m.spoolDepth)} kafka ${num(m.kafkaConnected)} retries ${num(m.compactorRetries)}${query}` +
      (notReadySummary(s) ? ` | NOT READY ${notReadySummary(s)}` : '')
    );
  }

  /** Calls `fn` until it resolves, printing a status line every 5 s. */
  private async watch<T>(what: string, since: number, fn: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => this.log(`${what}: ${this.status(this.sampler.last(), since)}`), 5_000);
    try {
      return await fn();
    } finally {
      clearInterval(timer);
    }
  }

  private async restore(service: StackService): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await stackService('up', service);
        this.down.delete(service);
        return;
      } catch (err) {
        if (attempt >= 3) throw err;
        this.log(`starting ${service} again failed (attempt ${attempt}), retrying: ${(err as Error).message.split('\n')[0]}`);
        await sleep(2_000);
      }
    }
  }

  /** Starts every service this run stopped and has not started again (for afterAll / finally / signals). */
  async restoreServices(): Promise<void> {
    for (const service of [...this.down]) await this.restore(service);
  }

  /** Fault-free load for `baselineMs`: sets the lag threshold and checks the pipeline end to end before any fault. */
  async baseline(): Promise<FaultResult> {
    return this.run('baseline', undefined);
  }

  /** Injects one fault under load, waits for recovery and for the lake to hold the phase's events. */
  async inject(id: FaultId): Promise<FaultResult> {
    return this.run(id, faultSpec(id, this.opts.durations, this.threshold));
  }

  private async run(id: FaultId | 'baseline', spec: FaultSpec | undefined): Promise<FaultResult> {
    // A caller that gave up on a phase (a test timeout) must not start the next one beside it.
    if (this.busy) throw new Error(`${id}: the previous phase is still running`);
    this.busy = true;
    const name = spec?.name ?? 'baseline (no fault)';
    const phaseStart = Date.now();
    const phase = this.startPhase(id);
    const record = { runId: phase.runId, acked: phase.acked, ackedBeforeFault: [] as string[], sent: 0 };
    this.phases.push(record);
    let load: LoadCounts | undefined;
    try {
      this.sampler.probeQueries = spec?.queryProbe ?? false;
      const warmupMs = spec ? (this.opts.warmupMs ?? 3_000) : (this.opts.baselineMs ?? 10_000);
      const warmStart = Date.now();
      await waitFor(() => Date.now() - warmStart >= warmupMs && phase.acked.size > 0, { timeoutMs: warmupMs + 60_000, intervalMs: 100, what: `acknowledged events before ${name}` });
      record.ackedBeforeFault = [...phase.acked];
      const start = Date.now();
      let end = start;
      if (spec) this.log(`${name}: injecting (${record.ackedBeforeFault.length} events of this phase acknowledged so far)`);
      if (spec && 'app' in spec.target) {
        const app = spec.target.app;
        await this.pipeline.kill(app, 'SIGKILL');
        end = Date.now();
        await this.watch(`${name}: restarting ${app}`, start, () => this.pipeline.startApp(app));
      } else if (spec && 'service' in spec.target) {
        const { service, downMs } = spec.target;
        this.down.add(service);
        try {
          await stackService('down', service);
          this.log(`${name}: ${service} stopped after ${((Date.now() - start) / 1000).toFixed(1)} s, starting it again in ${Math.round(downMs / 1000)} s`);
          await this.watch(`${name}: ${service} down`, start, () => sleep(downMs));
        } finally {
          await this.watch(`${name}: starting ${service}`, start, () => this.restore(service));
        }
        end = Date.now();
        this.log(`${name}: ${service} is back after ${((end - start) / 1000).toFixed(1)} s`);
      }
      const recoveryTimeoutMs = this.opts.recoveryTimeoutMs ?? 180_000;
      const rule = { states: spec?.expectations ?? [], lagThreshold: this.threshold, also: spec?.recovered };
      const recovery = spec
        ? await this.watch(`${name}: recovering`, start, async () => {
            const deadline = Date.now() + recoveryTimeoutMs;
            for (;;) {
              const r = findRecovery(this.sampler.samples, end, rule);
              if (r.recoveredAt !== undefined || Date.now() > deadline) return r;
              await sleep(250);
            }
          })
        : {};
      // The baseline keeps its load on a little longer, so it too has events acknowledged after the mark.
      if (!spec) await sleep(2_000);
      const recoveredAt = spec ? recovery.recoveredAt : Date.now();
      this.sampler.probeQueries = false;
      load = await phase.stop();
      record.sent = load.sent;
      if (!spec) this.threshold = lagThreshold(within(this.sampler.samples, start - (this.opts.baselineMs ?? 10_000) + 2_000, start), this.opts.ratePerSec);
      const acked = load.acked;
      const lake = this.opts.lakePerPhase === false ? undefined : await this.watch(`${name}: waiting for the lake`, start, () => this.waitForLake(phase.runId, phaseStart - 5_000, acked));
      const window = within(this.sampler.samples, start, recoveredAt ?? Date.now());
      const shown = within(this.sampler.samples, start - 2_000, (lake?.at ?? Date.now()) + 1_000);
      const result: FaultResult = {
        id,
        name,
        start: iso(start) as string,
        end: iso(end) as string,
        ready_at: iso(spec ? recovery.readyAt : end),
        recovered_at: iso(recoveredAt),
        lake_complete_at: iso(lake?.at),
        fault_s: Math.round((end - start) / 100) / 10,
        ready_after_s: spec ? secondsBetween(end, recovery.readyAt) : 0,
        recovery_s: spec ? secondsBetween(end, recoveredAt) : 0,
        lake_complete_after_s: secondsBetween(end, lake?.at),
        lag_threshold: Math.round(this.threshold),
        expectations: judge(spec?.expectations ?? [], window),
        load,
        lake: lake?.counts ?? null,
        acked_before_fault: record.ackedBeforeFault.length,
        readiness: readinessChanges(shown, start),
        peaks: {
          processor_lag: max(window, (s) => s.metrics.processorLag),
          compactor_lag: max(window, (s) => s.metrics.compactorLag),
          compactor_buffered_rows: max(window, (s) => s.metrics.compactorBuffered),
          spool_depth: max(window, (s) => s.metrics.spoolDepth),
          compactor_retries: max(window, (s) => s.metrics.compactorRetries),
        },
        chart: timelineChart(name, shown, { start, end, recovered: recoveredAt }, spec ? spec.expectations.map((e) => e.what).join('; ') : 'no fault'),
      };
      this.results.push(result);
      // For a look after a failed run: the logs of the apps are in the same directory.
      writeFileSync(join(this.pipeline.logDir, 'fault-results.json'), JSON.stringify(this.results.map(({ chart: _chart, ...r }) => r), null, 1));
      this.log(
        `${name}: ${spec ? `ready ${result.ready_after_s ?? 'never'} s, recovered ${result.recovery_s ?? 'never'} s after the end; ` : ''}acked ${load.acked}` +
          (lake ? `; lake complete ${result.lake_complete_after_s ?? 'never'} s after the end, ${lake.counts.distinct} distinct / ${lake.counts.rows} rows` : '') +
          (spec ? `; ${result.expectations.map((e) => `${e.seen ? 'seen' : 'NOT SEEN'}${e.cleared ? '' : ' (NOT CLEARED)'}: ${e.what}`).join('; ')}` : `; lag threshold ${result.lag_threshold}`),
      );
      return result;
    } finally {
      this.sampler.probeQueries = false;
      if (load === undefined) record.sent = (await phase.stop().catch(() => undefined))?.sent ?? 0;
      this.busy = false;
    }
  }

  /**
   * Every acknowledged event_id against the events table: lost, duplicated and unexpected ids, per
   * phase and in total. Waits first (up to `lakeTimeoutMs`) until the table holds as many distinct
   * event_ids as were acknowledged.
   */
  async accounting(): Promise<LakeAccounting> {
    const acked = this.phases.reduce((n, p) => n + p.acked.size, 0);
    const since = Date.now();
    await this.watch('waiting for the lake to hold every acknowledged event', since, async () => {
      const deadline = Date.now() + (this.opts.lakeTimeoutMs ?? 120_000);
      let failure = '';
      while (Date.now() < deadline) {
        try {
          const r = await queryAll(this.trino, `SELECT count(DISTINCT event_id) FROM ${this.table}`);
          if (Number(r.rows[0]?.[0]) >= acked) return;
        } catch (err) {
          const message = (err as Error).message.split('\n')[0] ?? '';
          if (message !== failure) this.log(`counting the table's rows failed (retrying): ${message}`);
          failure = message;
        }
        await sleep(2_000);
      }
    });
    const r = await queryAll(this.trino, `SELECT event_id, count(*) FROM ${this.table} GROUP BY event_id`);
    const counts = new Map<string, number>();
    for (const [id, n] of r.rows) counts.set(String(id), Number(n));
    const phaseOf = (id: string) => id.slice(0, id.lastIndexOf('-'));
    const phases = new Map(this.phases.map((p) => [p.runId, p]));
    const out: LakeAccounting = {
      acked: 0,
      sent: 0,
      rows: 0,
      distinct: counts.size,
      lost: 0,
      duplicates: 0,
      unacknowledged_in_lake: 0,
      unknown: 0,
      lost_acked_before_fault: 0,
      lost_sample: [],
      duplicate_sample: [],
      by_phase: {},
    };
    for (const p of this.phases) {
      out.acked += p.acked.size;
      out.sent += p.sent;
      out.by_phase[p.runId.slice(this.pipeline.names.id.length + 1)] = { acked: p.acked.size, rows: 0, distinct: 0, lost: 0, duplicates: 0 };
      for (const id of p.acked) {
        if (counts.has(id)) continue;
        out.lost++;
        if (out.lost_sample.length < 10) out.lost_sample.push(id);
      }
      for (const id of p.ackedBeforeFault) if (!counts.has(id)) out.lost_acked_before_fault++;
    }
    for (const [id, n] of counts) {
      out.rows += n;
      const phase = phases.get(phaseOf(id));
      if (phase === undefined) {
        out.unknown++;
        continue;
      }
      const entry = out.by_phase[phase.runId.slice(this.pipeline.names.id.length + 1)] as LakeAccounting['by_phase'][string];
      entry.rows += n;
      entry.distinct++;
      if (n > 1) {
        out.duplicates += n - 1;
        entry.duplicates += n - 1;
        if (out.duplicate_sample.length < 10) out.duplicate_sample.push(id);
      }
      if (!phase.acked.has(id)) out.unacknowledged_in_lake++;
    }
    for (const p of this.phases) {
      const entry = out.by_phase[p.runId.slice(this.pipeline.names.id.length + 1)] as LakeAccounting['by_phase'][string];
      entry.lost = [...p.acked].filter((id) => !counts.has(id)).length;
    }
    return out;
  }

  /** Stops sampling, starts any service still stopped, and drops everything the run created. */
  async close(): Promise<void> {
    this.sampler.stop();
    try {
      await this.restoreServices();
    } finally {
      await this.pipeline.destroy();
    }
  }
}
