import { join } from 'node:path';
import type fc from 'fast-check';
import { rssMb } from './processes';

/** fast-check settings of one fuzz suite. */
export interface FuzzSettings {
  seed: number;
  numRuns: number;
  /** Runs stop (passing) after this long, so a slow shared stack cannot stretch a CI job; FUZZ_TIME_LIMIT_S. */
  timeLimitMs: number;
  /** Shrink a failing case (slow against a live server); off unless FUZZ_SHRINK=1. */
  shrink: boolean;
}

/**
 * The seed and run count of a fuzz suite: fixed defaults so CI replays the same cases, overridden by
 * `FUZZ_SEED` and `FUZZ_RUNS` for a longer campaign (`FUZZ_TIME_LIMIT_S` then too), `FUZZ_SHRINK=1`
 * to shrink a failure. Prints the values on stderr so a failing run can be replayed. Throws on a
 * value that is not an integer.
 */
export function fuzzSettings(suite: string, defaults: { seed: number; numRuns: number; timeLimitS: number }, env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const read = (name: string, fallback: number, min: number): number => {
    const raw = env[name]?.trim();
    if (!raw) return fallback;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
    return value;
  };
  const settings = {
    seed: read('FUZZ_SEED', defaults.seed, -(2 ** 31)),
    numRuns: read('FUZZ_RUNS', defaults.numRuns, 1),
    timeLimitMs: read('FUZZ_TIME_LIMIT_S', defaults.timeLimitS, 1) * 1000,
    shrink: env['FUZZ_SHRINK'] === '1',
  };
  process.stderr.write(
    `fuzz ${suite}: FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.numRuns} FUZZ_TIME_LIMIT_S=${settings.timeLimitMs / 1000}${settings.shrink ? ' FUZZ_SHRINK=1' : ''}\n`,
  );
  return settings;
}

/**
 * fast-check parameters for `settings`: no shrinking unless asked, a time limit after which the runs
 * done count as the campaign, and a failure reported as the property's own error with the seed and
 * path to replay it, without the (large) generated value.
 */
export function fuzzParameters<T>(settings: FuzzSettings): fc.Parameters<T> {
  return {
    seed: settings.seed,
    numRuns: settings.numRuns,
    endOnFailure: !settings.shrink,
    interruptAfterTimeLimit: settings.timeLimitMs,
    reporter: (details) => {
      if (!details.failed) return;
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      throw new Error(`failed at run ${details.numRuns} (replay: FUZZ_SEED=${details.seed}, path ${details.counterexamplePath ?? '?'}): ${cause}`);
    },
  };
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface RssGrowth {
  /** Median RSS (MB) of the first samples after the warm-up. */
  afterWarmUpMb: number;
  /** Median RSS (MB) of the last samples. */
  endMb: number;
  growthMb: number;
  /** Highest RSS (MB) of any sample. */
  peakMb: number;
  samples: number;
}

/**
 * NODE_OPTIONS that make a spawned Node.js process run a full garbage collection on SIGUSR2 (see
 * gc-on-signal.cjs), for {@link RssSampler.sampleAfterGc}. Appends to `existing`.
 */
export function gcOnSignalNodeOptions(existing = process.env['NODE_OPTIONS']): string {
  return [existing, '--expose-gc', `--require ${join(__dirname, 'gc-on-signal.cjs')}`].filter(Boolean).join(' ');
}

/**
 * Samples a process's resident set size (Linux `/proc/<pid>/status`) to tell a leak from GC noise.
 * V8 collects lazily and keeps the pages of its largest heap, so RSS read at random follows how long
 * collection was put off; {@link sampleAfterGc} (for a process started with
 * {@link gcOnSignalNodeOptions}) collects first. Growth is the median of the last `window` samples
 * minus the median of the first `window` samples taken after {@link startMeasuring}.
 */
export class RssSampler {
  private readonly measured: number[] = [];
  private measuring = false;
  private peak = 0;
  private count = 0;

  constructor(
    readonly pid: number,
    private readonly window = 10,
  ) {}

  /** Ends the warm-up: later samples count. */
  startMeasuring(): void {
    this.measuring = true;
  }

  /** Takes one sample (MB); throws when the process is gone. */
  sample(): number {
    const mb = rssMb(this.pid);
    if (mb === undefined) throw new Error(`process ${this.pid} is gone (no /proc/${this.pid}/status)`);
    this.peak = Math.max(this.peak, mb);
    this.count++;
    if (this.measuring) this.measured.push(mb);
    return mb;
  }

  /** Sends `signal` (the process collects garbage on it), waits `settleMs`, then samples. */
  async sampleAfterGc(signal: NodeJS.Signals = 'SIGUSR2', settleMs = 200): Promise<number> {
    process.kill(this.pid, signal);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return this.sample();
  }

  /** Growth over the measured samples (windows shrink to half of them when there are few); throws with fewer than two. */
  growth(): RssGrowth {
    const window = Math.min(this.window, Math.floor(this.measured.length / 2));
    if (window < 1) throw new Error(`${this.measured.length} RSS samples after the warm-up, need at least 2`);
    const afterWarmUpMb = median(this.measured.slice(0, window));
    const endMb = median(this.measured.slice(-window));
    return { afterWarmUpMb, endMb, growthMb: endMb - afterWarmUpMb, peakMb: this.peak, samples: this.count };
  }
}

/** Lines that look like a JavaScript stack frame or a source path: an error answer must never carry them. */
const STACK_TRACE = /(?:^|\\n|\n)\s*at\s+\S.*(?:\(|\s)(?:\/|node:|file:)[^\s)]*:\d+:\d+|node_modules\/|\.(?:ts|cjs|mjs|js):\d+:\d+/;

/** True when `text` contains something that looks like a stack frame or a source file position. */
export function looksLikeStackTrace(text: string): boolean {
  return STACK_TRACE.test(text);
}
