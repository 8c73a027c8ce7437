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
}

export const RESULTS_DIR = join(__dirname, '..', 'results');

/** Writes `bench/results/<name>.json` (through a temp file, so a crashed run leaves the old one). */
export function writeResult(result: Omit<BenchResult, 'date' | 'machine'> & { machine?: Record<string, unknown> }): string {
  const full: BenchResult = { name: result.name, date: new Date().toISOString(), machine: result.machine ?? machineInfo(), metrics: result.metrics, ratios: result.ratios, ...(result.targets ? { targets: result.targets } : {}), ...(result.notes ? { notes: result.notes } : {}) };
  const path = join(RESULTS_DIR, `${result.name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(full, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
  return path;
}
