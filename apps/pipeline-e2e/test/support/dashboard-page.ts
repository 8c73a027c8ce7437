/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '@pipeline/testing';

export interface PanelState {
  query: string;
  state: string;
  summary: Record<string, unknown>;
  legend: string[];
  text: string;
}

/** What one uPlot chart on the page holds: its panel, series names and `[xs, ...ys]`. */
export interface ChartState {
  query: string;
  names: string[];
  data: Array<Array<number | null>>;
}

export interface DashboardPage {
  page: Page;
  /** Requests to anything but the query API (the page's CSP allows none). */
  outside: string[];
  consoleErrors: string[];
  panels(): Promise<PanelState[]>;
  charts(): Promise<ChartState[]>;
  /** Waits until every panel finished loading. */
  settled(panelCount: number): Promise<void>;
  /** The time window the panels were asked for. */
  window(): Promise<{ from: number; to: number }>;
  close(): Promise<void>;
}

declare global {
  interface Window {
    __charts?: Array<{ root: HTMLElement; data: Array<Array<number | null>>; series: Array<{ label?: string }> }>;
  }
}

/**
 * Opens Chromium (Debian's, through playwright-core) on the query API's origin. Every uPlot chart
 * the page makes is recorded as it is built, so a test can read the values the charts draw.
 */
export async function openDashboard(base: string): Promise<DashboardPage> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 1000 } });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript(() => {
    const charts: NonNullable<Window['__charts']> = [];
    window.__charts = charts;
    let wrapped: unknown;
    Object.defineProperty(window, 'uPlot', {
      configurable: true,
      get: () => wrapped,
      set: (real: new (...args: unknown[]) => NonNullable<Window['__charts']>[number]) => {
        const record = function (...args: unknown[]) {
          const chart = new real(...args);
          charts.push(chart);
          return chart;
        };
        Object.assign(record, real);
        record.prototype = real.prototype;
        wrapped = record;
      },
    });
  });
  const outside: string[] = [];
  const consoleErrors: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:')) outside.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));

  return {
    page,
    outside,
    consoleErrors,
    panels: () =>
      page.$$eval('.panel', (els) =>
        els.map((el) => ({
          query: (el as HTMLElement).dataset['query'] ?? '',
          state: (el as HTMLElement).dataset['state'] ?? '',
          summary: JSON.parse((el as HTMLElement).dataset['summary'] ?? '{}') as Record<string, unknown>,
          legend: [...el.querySelectorAll('.u-legend .u-series th')].map((th) => th.textContent?.trim() ?? '').filter(Boolean),
          text: (el as HTMLElement).innerText,
        })),
      ),
    charts: () =>
      page.evaluate(() =>
        (window.__charts ?? [])
          .filter((chart) => chart.root.isConnected)
          .map((chart) => ({
            query: (chart.root.closest('.panel') as HTMLElement | null)?.dataset['query'] ?? '',
            names: chart.series.slice(1).map((s) => String(s.label ?? '')),
            data: chart.data.map((column) => [...column]),
          })),
      ),
    settled: async (panelCount) => {
      await page.waitForFunction(
        (n) => {
          const all = [...document.querySelectorAll<HTMLElement>('.panel')];
          return all.length === n && all.every((p) => p.dataset['state'] !== 'loading') && document.querySelector('main')?.getAttribute('aria-busy') === 'false';
        },
        panelCount,
        { timeout: 60_000 },
      );
    },
    window: async () => {
      const win = JSON.parse((await page.getAttribute('body', 'data-window')) ?? '{}') as { from: string; to: string };
      return { from: Date.parse(win.from), to: Date.parse(win.to) };
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
