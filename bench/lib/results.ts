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

/** Runs a bench script's main and exits with its code (0 when it returns nothing), or 1 after printing what it threw. */
export function runBench(main: () => Promise<number | void>): void {
  main().then(
    (code) => process.exit(code ?? 0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
