/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '@pipeline/testing';
import { generateReport, readResults } from '../../src/generate';
import type { Chart, ReportData } from '../../src/report-data';

/**
 * The generated page in a real browser (Debian's Chromium through playwright-core), opened from a
 * file:// URL with every other request refused: each chart of report.json must be drawn by uPlot
 * with exactly the data of its definition, and every table row must show its value and verdict.
 */

const ROOT = join(__dirname, '..', '..', '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
const ARTIFACTS = join(ROOT, 'test-results', 'report');

let context: BrowserContext;
let page: Page;
let profile: string;
let work: string;
const outside: string[] = [];
const consoleErrors: string[] = [];

interface ChartState {
  id: string;
  state: string;
  summary: { points: number; first: number | null; last: number | null; series: Record<string, { count: number; sum: number }> };
  legend: string[];
  /** Pixels of the plot canvas in each series' stroke colour, by series. */
  colourPixels: number[];
}

/** What the page should report for a chart: computed here from report.json the way the page reads uPlot's data. */
function expectedSummary(chart: Chart): ChartState['summary'] {
  const series: Record<string, { count: number; sum: number }> = {};
  for (const s of chart.series) {
    const present = s.values.filter((v): v is number => v !== null);
    series[s.label] = { count: present.length, sum: Math.round(present.reduce((a, b) => a + b, 0) * 1000) / 1000 };
  }
  return { points: chart.x.length, first: chart.x[0] ?? null, last: chart.x.at(-1) ?? null, series };
}

const charts = (): Promise<ChartState[]> =>
  page.$$eval('.chart', (els) =>
    els.map((el) => {
      const colors = JSON.parse((el as HTMLElement).dataset['colors'] ?? '[]') as string[];
      const canvas = el.querySelector('canvas');
      const colourPixels = colors.map(() => 0);
      if (canvas) {
        const pixels = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height).data;
        const rgb = colors.map((c) => [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)] as const);
        for (let i = 0; i < pixels.length; i += 4) {
          if ((pixels[i + 3] as number) < 200) continue;
          rgb.forEach(([r, g, b], k) => {
            if (Math.abs((pixels[i] as number) - r) < 12 && Math.abs((pixels[i + 1] as number) - g) < 12 && Math.abs((pixels[i + 2] as number) - b) < 12) colourPixels[k] = (colourPixels[k] as number) + 1;
          });
        }
      }
      return {
        id: (el as HTMLElement).dataset['chartId'] ?? '',
        state: (el as HTMLElement).dataset['state'] ?? '',
        summary: JSON.parse((el as HTMLElement).dataset['summary'] ?? '{}') as ChartState['summary'],
        legend: [...el.querySelectorAll('.u-legend .u-series th')].map((th) => th.textContent?.trim() ?? '').filter(Boolean),
        colourPixels,
      };
    }),
  );

async function open(html: string): Promise<void> {
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('main[aria-busy="false"]', { timeout: 30_000 });
}

/** Every chart of the data is on the page, drawn, and holds exactly the data of its definition. */
async function expectChartsMatch(data: ReportData): Promise<void> {
  const shown = new Map((await charts()).map((c) => [c.id, c]));
  const defined = data.sections.flatMap((s) => s.charts);
  expect([...shown.keys()].sort()).toEqual(defined.map((c) => c.id).sort());
  for (const chart of defined) {
    const state = shown.get(chart.id) as ChartState;
    expect({ id: chart.id, state: state.state }).toEqual({ id: chart.id, state: chart.x.length > 0 ? 'ready' : 'empty' });
    expect({ id: chart.id, summary: state.summary }).toEqual({ id: chart.id, summary: expectedSummary(chart) });
    if (chart.x.length === 0) continue;
    expect(state.legend).toEqual(expect.arrayContaining(chart.series.map((s) => s.label)));
    // Drawn, not just allocated: the canvas holds the strokes of series that have data.
    const withData = chart.series.map((s, i) => (s.values.some((v) => v !== null && v !== 0) ? i : -1)).filter((i) => i >= 0);
    if (withData.length > 0) expect({ id: chart.id, drawn: Math.max(...withData.map((i) => state.colourPixels[i] as number)) > 20 }).toEqual({ id: chart.id, drawn: true });
  }
}

beforeAll(async () => {
  ensureChromium();
  work = mkdtempSync(join(tmpdir(), 'report-it-'));
  profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: ensureChromium(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
}, 360_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('report page in Chromium', () => {
  it('draws every chart of bench/results with its data, the ratio table with verdicts, offline', async () => {
    const out = join(work, 'bench');
    const { data, html, json } = generateReport(RESULTS, out);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(data);
    const files = readResults(RESULTS).map((f) => f.file);
    if (files.includes('e2e.json')) expect(data.sections.find((s) => s.id === 'e2e')?.charts.map((c) => c.id)).toEqual(['e2e-throughput', 'e2e-cores', 'e2e-freshness-histogram', 'e2e-burst-lag', 'e2e-rss', 'e2e-freshness-over-time']);

    await open(html);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'report.png')).size).toBeGreaterThan(10_000);

    await expectChartsMatch(data);

    const rows = await page.$$eval('#ratios tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows).toHaveLength(data.ratios.length);
    data.ratios.forEach((r, i) => {
      const [bench, key, , , target, verdict] = rows[i] as string[];
      expect({ bench, key, target, verdict }).toEqual({
        bench: r.bench,
        key: r.key,
        target: r.target ? `${r.target.op} ${r.target.value}` : '—',
        verdict: r.pass === null ? '—' : r.pass ? 'pass' : 'fail',
      });
    });
    expect(data.ratios.map((r) => r.bench)).toEqual(expect.arrayContaining(files.map((f) => (JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as { name: string }).name)));

    const faults = await page.textContent('#faults');
    if (files.includes('faults.json')) expect(faults).not.toContain('no fault run recorded');
    else expect(faults).toContain('no fault run recorded');

    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('draws the fault timelines of a faults.json next to the other results', async () => {
    const results = join(work, 'with-faults');
    mkdirSync(results, { recursive: true });
    for (const f of readResults(RESULTS)) copyFileSync(join(RESULTS, f.file), join(results, f.file));
    const t = Array.from({ length: 60 }, (_, i) => i);
    writeFileSync(
      join(results, 'faults.json'),
      JSON.stringify({
        name: 'faults',
        date: new Date().toISOString(),
        machine: { load_average_at_start: [1, 1, 1] },
        metrics: { lost: 0, broker_restart_recovery_s: 14 },
        ratios: { recovery_vs_outage: 1.4 },
        targets: { lost: { max: 0 }, recovery_vs_outage: { max: 3 } },
        timelines: [
          { name: 'broker restart', t, series: { acked_per_sec: t.map((x) => (x >= 20 && x < 30 ? 0 : 1000)), lag: t.map((x) => (x >= 20 && x < 40 ? (x - 20) * 500 : 0)) }, marks: [{ t: 20, label: 'broker down' }, { t: 30, label: 'broker up' }] },
          { name: 'compactor SIGKILL', t, series: { lag: t.map((x) => (x >= 10 && x < 25 ? 3000 : 100)) }, marks: [{ t: 10, label: 'kill' }] },
        ],
      }),
    );
    const { data, html } = generateReport(results, join(work, 'with-faults-out'));
    const faults = data.sections.find((s) => s.id === 'faults');
    expect(faults?.empty).toBeNull();
    expect(faults?.charts.map((c) => c.title)).toEqual(['broker restart', 'compactor SIGKILL']);
    expect(data.ratios.filter((r) => r.bench === 'faults').map((r) => [r.key, r.pass])).toEqual([
      ['recovery_vs_outage', true],
      ['lost', true],
    ]);

    await open(html);
    await expectChartsMatch(data);
    expect(await page.textContent('#faults')).not.toContain('no fault run recorded');
    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
