/**
 * Samples a running pipeline on a timer: acknowledged events (from the load generator's ledger),
 * events committed to the lake (the compactor's counter), consumer lag of the stream processor and
 * the compactor (their /metrics), the compactor's buffered rows, the RSS of every app, the CPU time
 * of every app, stack service and the bench process itself (the load generator runs in it); and
 * prints a progress line every few seconds.
 */
import { chartResources, cpuSecondsByTree, machineBusySeconds, metricValue, PIPELINE_APPS, stackPids, type Pipeline, type PipelineApp } from '@pipeline/testing';
import type { LoadProgress } from '../../apps/producer/src/loadgen/runner';
import type { AckLedger } from './ledger';

export interface Sample {
  /** Seconds since the monitor's start. */
  t: number;
  phase: string;
  /** Target rate of the load running now (events/s; 0 when idle). */
  rate: number;
  /** Events/s the load generator sent over its last second. */
  offeredPerSec: number;
  acked: number;
  /** Rows the compactor committed into the events table so far. */
  visible: number;
  processorLag: number;
  compactorLag: number;
  compactorBufferedRows: number;
  rssMb: Partial<Record<PipelineApp, number>>;
  /** CPU seconds used so far by each app, stack service and `bench` (this process), and `machine` (every process). */
  cpuSec: Record<string, number>;
  /** Apps whose /readyz did not answer 200 (a dependency down: the shared stack may be restarted by others). */
  notReady: PipelineApp[];
}

/** Each app's memory limit (MB) from the Helm chart's values.yaml, the documented cap of a pod. */
export function memoryCapsMb(): Record<PipelineApp, number> {
  return Object.fromEntries(PIPELINE_APPS.map((app) => [app, chartResources(app).memoryLimitMb])) as Record<PipelineApp, number>;
}

export function log(tag: string, message: string): void {
  process.stderr.write(`[${tag} ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const k = (n: number) => (Math.abs(n) >= 10_000 ? `${(n / 1000).toFixed(0)}k` : Math.abs(n) >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);

export class Monitor {
  readonly samples: Sample[] = [];
  readonly startedMs = Date.now();
  private phase = 'idle';
  private rate = 0;
  private offeredPerSec = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private lastPrintMs = 0;

  constructor(
    private readonly pipeline: Pipeline,
    private readonly ledger: AckLedger,
    private readonly opts: { tag: string; intervalMs: number; printEveryMs: number },
  ) {}

  start(): this {
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Seconds since the monitor started. */
  now(): number {
    return (Date.now() - this.startedMs) / 1000;
  }

  setPhase(phase: string, rate: number): void {
    this.phase = phase;
    this.rate = rate;
    if (rate === 0) this.offeredPerSec = 0;
  }

  /** The `onProgress` hook for runLoad. */
  readonly onProgress = (p: LoadProgress): void => {
    this.offeredPerSec = p.offeredPerSec;
  };

  last(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Samples whose time is in [from, to] seconds. */
  between(from: number, to: number): Sample[] {
    return this.samples.filter((s) => s.t >= from && s.t <= to);
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const [processor, compactor, ready] = await Promise.all([this.scrape('stream-processor'), this.scrape('compactor'), Promise.all(PIPELINE_APPS.map((app) => this.ready(app)))]);
      const sample: Sample = {
        t: Math.round(this.now() * 10) / 10,
        phase: this.phase,
        rate: this.rate,
        offeredPerSec: Math.round(this.offeredPerSec),
        acked: this.ledger.acked,
        visible: compactor === undefined ? (this.last()?.visible ?? 0) : metricValue(compactor, 'pipeline_compactor_rows_written_total', { table_kind: 'events' }),
        processorLag: processor === undefined ? Number.NaN : metricValue(processor, 'pipeline_processor_consumer_lag_messages'),
        compactorLag: compactor === undefined ? Number.NaN : metricValue(compactor, 'pipeline_compactor_consumer_lag_messages', { kind: 'events' }),
        compactorBufferedRows: compactor === undefined ? Number.NaN : metricValue(compactor, 'pipeline_compactor_buffered_rows'),
        rssMb: Object.fromEntries(Object.entries(this.pipeline.rss()).map(([app, mb]) => [app, Math.round(mb * 10) / 10])),
        notReady: PIPELINE_APPS.filter((_, i) => !ready[i]),
        cpuSec: { ...cpuSecondsByTree({ ...stackPids(), ...this.pipeline.pids(), bench: process.pid }), machine: machineBusySeconds() },
      };
      this.samples.push(sample);
      if (Date.now() - this.lastPrintMs >= this.opts.printEveryMs) {
        this.lastPrintMs = Date.now();
        this.print(sample);
      }
    } finally {
      this.busy = false;
    }
  }

  private async scrape(app: PipelineApp): Promise<string | undefined> {
    try {
      return await this.pipeline.metrics(app);
    } catch {
      return undefined;
    }
  }

  private async ready(app: PipelineApp): Promise<boolean> {
    try {
      return (await fetch(`${this.pipeline.url(app)}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok;
    } catch {
      return false;
    }
  }

  /**
   * Cores each process tree used between two times (seconds since start), from the samples nearest
   * inside them, and `other`: the machine's busy cores not in any of them. Undefined without two samples.
   */
  coresBetween(from: number, to: number): Record<string, number> | undefined {
    const inside = this.between(from, to);
    const first = inside[0];
    const last = inside[inside.length - 1];
    if (first === undefined || last === undefined || last.t <= first.t) return undefined;
    const dt = last.t - first.t;
    const out: Record<string, number> = {};
    let named = 0;
    for (const [name, sec] of Object.entries(last.cpuSec)) {
      const before = first.cpuSec[name];
      if (before === undefined) continue;
      const cores = Math.max(0, sec - before) / dt;
      out[name] = Math.round(cores * 1000) / 1000;
      if (name !== 'machine') named += cores;
    }
    if (out['machine'] !== undefined) out['other'] = Math.round(Math.max(0, (out['machine'] as number) - named) * 1000) / 1000;
    return out;
  }

  /** Seconds during which at least one app was not ready, and which apps. */
  unreadiness(samples: readonly Sample[] = this.samples): { seconds: number; apps: PipelineApp[] } {
    let seconds = 0;
    const apps = new Set<PipelineApp>();
    for (let i = 1; i < samples.length; i++) {
      const s = samples[i] as Sample;
      if (s.notReady.length === 0) continue;
      seconds += s.t - (samples[i - 1] as Sample).t;
      for (const a of s.notReady) apps.add(a);
    }
    return { seconds: Math.round(seconds), apps: [...apps] };
  }

  private print(s: Sample): void {
    const back = this.samples.filter((x) => x.t >= s.t - Math.max(5, (1.5 * this.opts.intervalMs) / 1000));
    const first = back[0] as Sample;
    const dt = s.t - first.t || 1;
    const rss = (['producer', 'stream-processor', 'compactor', 'query-api'] as const).map((a) => `${a.split('-').map((w) => w[0]).join('')} ${Math.round(s.rssMb[a] ?? 0)}`).join(' ');
    log(
      this.opts.tag,
      `${s.phase.padEnd(14)} t=${s.t.toFixed(0).padStart(4)}s target ${k(s.rate).padStart(5)}/s offered ${k(s.offeredPerSec).padStart(5)}/s acked ${k((s.acked - first.acked) / dt).padStart(5)}/s ` +
        `lake ${k((s.visible - first.visible) / dt).padStart(5)}/s backlog ${k(s.acked - s.visible).padStart(5)} lag proc ${k(s.processorLag)} comp ${k(s.compactorLag)} buf ${k(s.compactorBufferedRows)} | RSS MB ${rss}` +
        (s.notReady.length > 0 ? ` | NOT READY: ${s.notReady.join(', ')}` : ''),
    );
  }
}
