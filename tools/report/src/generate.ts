/**
 * npm run report [-- --results DIR] [--out DIR]
 *
 * Reads every bench result (bench/results/*.json) and writes bench/results/report.json (the data)
 * and bench/results/report.html (a self-contained page that draws it, also offline).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildReport, type ReportData, type ResultFile } from './report-data';
import { loadAssets, renderHtml } from './render';

export const REPORT_FILES = ['report.json', 'report.html'];

/** The result files of `dir`: every *.json except the report's own, sorted by name. */
export function readResults(dir: string): ResultFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !REPORT_FILES.includes(f))
    .sort()
    .map((file) => ({ file, json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown }));
}

function writeAtomically(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Builds the report from `resultsDir` into `outDir`; returns the data and the two paths. */
export function generateReport(resultsDir: string, outDir: string, now = new Date()): { data: ReportData; json: string; html: string } {
  const data = buildReport(readResults(resultsDir), now);
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, 'report.json');
  const html = join(outDir, 'report.html');
  writeAtomically(json, JSON.stringify(data, null, 2) + '\n');
  writeAtomically(html, renderHtml(data, loadAssets()));
  return { data, json, html };
}

if (require.main === module) {
  const root = resolve(__dirname, '..', '..', '..');
  const { values } = parseArgs({ options: { results: { type: 'string' }, out: { type: 'string' } } });
  const resultsDir = resolve(values.results ?? join(root, 'bench', 'results'));
  const { data, json, html } = generateReport(resultsDir, resolve(values.out ?? resultsDir));
  const charts = data.sections.reduce((n, s) => n + s.charts.length, 0);
  const failing = data.ratios.filter((r) => r.pass === false).map((r) => `${r.bench}.${r.key}`);
  console.log(`report: ${data.sources.length} result files, ${data.ratios.length} table rows, ${charts} charts`);
  for (const s of data.sections) if (s.empty) console.log(`report: ${s.title}: ${s.empty}`);
  console.log(`report: targets missed: ${failing.length === 0 ? 'none' : failing.join(', ')}`);
  console.log(`report: wrote ${json}\nreport: wrote ${html}`);
}
