import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { machineInfo } from './machine';

export interface BenchResult {
  name: string;
  date: string;
  machine: Record<string, unknown>;
  metrics: Record<string, unknown>;
  ratios: Record<string, number>;
  targets?: Record<string, unknown>;
  notes?: string[];
  /** Time series and distributions behind the figures, for bench/results/report.html. */
  series?: Record<string, unknown>;
  /** Fault runs: one entry per fault (what happened when, what readiness and metrics showed). */
  timeline?: Array<Record<string, unknown>>;
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Writes `bench/results/<name>.json` (through a temp file, so a crashed run leaves the old one). */
export function writeResult(result: Omit<BenchResult, 'date' | 'machine'> & { machine?: Record<string, unknown> }): string {
  const full: BenchResult = { name: result.name, date: new Date().toISOString(), machine: result.machine ?? machineInfo(), metrics: result.metrics, ratios: result.ratios, ...(result.targets ? { targets: result.targets } : {}), ...(result.notes ? { notes: result.notes } : {}), ...(result.series ? { series: result.series } : {}), ...(result.timeline ? { timeline: result.timeline } : {}) };
  const path = join(RESULTS_DIR, `${result.name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, compactNumberArrays(JSON.stringify(full, null, 2)) + '\n');
  renameSync(`${path}.tmp`, path);
  return path;
}

/** Puts arrays of numbers (and nulls), and arrays of such arrays, on one line, so long series stay readable. */
export function compactNumberArrays(json: string): string {
  const num = String.raw`(?:-?\d[\d.eE+-]*|null)`;
  const flat = new RegExp(String.raw`\[\n(?:[ ]*${num},\n)*[ ]*${num}\n[ ]*\]`, 'g');
  const row = String.raw`\[${num}(?:,${num})*\]`;
  const nested = new RegExp(String.raw`\[\n(?:[ ]*${row},\n)*[ ]*${row}\n[ ]*\]`, 'g');
  return json.replace(flat, (m) => m.replace(/\s+/g, '')).replace(nested, (m) => m.replace(/\s+/g, ''));
}

/** Cleanups registered with `cleanupOnInterrupt` that have not run yet, oldest first. */
const pendingCleanups: Array<() => Promise<void>> = [];

/**
 * Makes `fn` (what a bench drops from the shared stack: topics, groups, subjects, tables, the apps it
 * started) run once: when the bench calls the returned function (from its `finally`), or, if Ctrl-C
 * or SIGTERM comes first, from `runBench` before the process exits. Without it an interrupted run
 * would leave its topics and tables behind on the stack.
 */
export function cleanupOnInterrupt(fn: () => Promise<unknown> | unknown): () => Promise<void> {
  let running: Promise<void> | undefined;
  const once = (): Promise<void> => {
    running ??= (async () => {
      const i = pendingCleanups.indexOf(once);
      if (i >= 0) pendingCleanups.splice(i, 1);
      await fn();
    })();
    return running;
  };
  pendingCleanups.push(once);
  return once;
}

/** Runs the pending cleanups, newest first, each even if another failed. */
async function runPendingCleanups(): Promise<void> {
  for (const cleanup of [...pendingCleanups].reverse()) {
    await cleanup().catch((err: unknown) => console.error(`cleanup failed: ${(err as Error).message}`));
  }
}

/**
 * Runs a bench script's main and exits with its code (0 when it returns nothing), or 1 after printing
 * what it threw. SIGINT or SIGTERM runs the pending `cleanupOnInterrupt` cleanups and exits 130; a
 * second signal exits at once.
 */
export function runBench(main: () => Promise<number | void>): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\n${signal}: dropping what this run created on the stack (again to exit at once)`);
    void runPendingCleanups().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
