/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startApi, type RunningApi } from '../support/api';
import { CHROMIUM_ARGS, ensureChromium } from '@pipeline/testing';
import { createDlqTable, createEventsTable, createTestSchema, insertEvents } from '../support/lake';
import { expectedActiveUsers, expectedDlqRate, expectedEventsPerMinute, expectedSessions, newestReceivedAt, pipelineData, type PipelineData } from '../support/pipeline-data';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core), over the saved
 * queries and real Trino. The tables are seeded through Trino in the compactor's layout, so every
 * value is the test's own (a visitor returning after the session gap, anonymous visitors, receive
 * times apart from event times), along with the login, the time-range picker and auto-refresh.
 * apps/pipeline-e2e/test/integration/dashboard.int.test.ts checks the same panels after a real
 * pipeline run (collector, processor, compactor).
 */

const ARTIFACTS = join(__dirname, '..', '..', '..', '..', 'test-results', 'query-api');

let api: RunningApi;
let cleanup: () => Promise<void>;
let data: PipelineData;
let context: BrowserContext;
let page: Page;
let profile: string;
const outside: string[] = [];
const consoleErrors: string[] = [];

interface PanelState {
  query: string;
  state: string;
  summary: Record<string, unknown>;
  canvases: number;
  legend: string[];
  text: string;
}

const panels = (): Promise<PanelState[]> =>
  page.$$eval('.panel', (els) =>
    els.map((el) => ({
      query: (el as HTMLElement).dataset['query'] ?? '',
      state: (el as HTMLElement).dataset['state'] ?? '',
      summary: JSON.parse((el as HTMLElement).dataset['summary'] ?? '{}') as Record<string, unknown>,
      canvases: el.querySelectorAll('canvas').length,
      legend: [...el.querySelectorAll('.u-legend .u-series th')].map((th) => th.textContent?.trim() ?? '').filter(Boolean),
      text: (el as HTMLElement).innerText,
    })),
  );

const settled = () =>
  page.waitForFunction(() => {
    const all = [...document.querySelectorAll<HTMLElement>('.panel')];
    return all.length === 5 && all.every((p) => p.dataset['state'] !== 'loading') && document.querySelector('main')?.getAttribute('aria-busy') === 'false';
  }, undefined, { timeout: 60_000 });

const windowOf = async (): Promise<{ from: Date; to: Date }> => {
  const win = JSON.parse((await page.getAttribute('body', 'data-window')) ?? '{}') as { from: string; to: string };
  return { from: new Date(win.from), to: new Date(win.to) };
};

beforeAll(async () => {
  ensureChromium();
  const test = await createTestSchema('qapi_dashboard');
  cleanup = test.cleanup;
  data = pipelineData(new Date());
  await createEventsTable(test.schema);
  await insertEvents(test.schema, data.events);
  await createDlqTable(test.schema, data.dlq);
  api = await startApi({ TRINO_SCHEMA: test.schema });
  profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: ensureChromium(),
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 1000 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (request) => {
    if (!request.url().startsWith(api.base) && !request.url().startsWith('data:')) outside.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
}, 360_000);

afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await api?.stop();
  await cleanup?.();
});

describe('dashboard in Chromium', () => {
  it('asks for a token before showing anything', async () => {
    await page.goto(`${api.base}/`);
    await page.waitForSelector('#login:not([hidden])');
    expect(await page.isVisible('#panels')).toBe(false);
  });

  it('charts the pipeline: events per minute by type, active users, sessions, freshness and DLQ rate', async () => {
    await page.goto(`${api.base}/?range=1h&refresh=0#token=${api.tokens.saved}`);
    await settled();
    expect(page.url()).not.toContain('token=');
    const { from, to } = await windowOf();
    const byQuery = Object.fromEntries((await panels()).map((p) => [p.query, p]));
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'dashboard.png')).size).toBeGreaterThan(10_000);

    const perType: Record<string, number> = {};
    for (const [key, n] of expectedEventsPerMinute(data, from, to)) {
      const type = key.split('|')[1] ?? '';
      perType[type] = (perType[type] ?? 0) + n;
    }
    expect(byQuery['events_per_minute']).toMatchObject({ state: 'ready', canvases: expect.any(Number), summary: { series: perType } });
    expect(byQuery['events_per_minute']?.canvases).toBeGreaterThan(0);
    expect(byQuery['events_per_minute']?.legend).toEqual(expect.arrayContaining(Object.keys(perType)));

    const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(byQuery['active_users']).toMatchObject({ state: 'ready', summary: { series: { active_users: sum(expectedActiveUsers(data, from, to)) } } });
    expect(byQuery['sessions']).toMatchObject({ state: 'ready', summary: { series: { sessions: sum(expectedSessions(data, from, to)) } } });

    const freshness = byQuery['freshness'] as PanelState;
    expect(freshness.state).toBe('ready');
    const seconds = freshness.summary['freshness_seconds'] as number;
    expect(seconds).toBeGreaterThan((Date.now() - newestReceivedAt(data).getTime()) / 1000 - 120);
    expect(seconds).toBeLessThan((Date.now() - newestReceivedAt(data).getTime()) / 1000 + 1);
    expect(freshness.text).toMatch(/\d+(\.\d)? (s|min)/);

    const dlq = [...expectedDlqRate(data, from, to).values()].reduce((s, r) => s + (r.percent ?? 0), 0);
    expect(byQuery['dlq_rate']?.state).toBe('ready');
    expect((byQuery['dlq_rate']?.summary['series'] as Record<string, number>)['dlq_percent']).toBeCloseTo(dlq, 6);

    expect(outside).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  it('follows the time-range picker', async () => {
    const before = Number(await page.getAttribute('body', 'data-refreshed'));
    await page.selectOption('#range', '15m');
    await page.waitForFunction((n) => Number(document.body.dataset['refreshed']) > n, before, { timeout: 60_000 });
    await settled();
    const { from, to } = await windowOf();
    expect(to.getTime() - from.getTime()).toBe(15 * 60_000);
    const events = (await panels()).find((p) => p.query === 'events_per_minute') as PanelState;
    const expected = [...expectedEventsPerMinute(data, from, to).values()].reduce((a, b) => a + b, 0);
    const shown = Object.values(events.summary['series'] as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(shown).toBe(expected);
    expect(shown).toBeLessThan(data.events.length);
    expect(page.url()).toContain('range=15m');
  });

  it('refreshes by itself at the chosen interval', async () => {
    const before = Number(await page.getAttribute('body', 'data-refreshed'));
    await page.selectOption('#refresh', '10');
    await page.waitForFunction((n) => Number(document.body.dataset['refreshed']) > n, before, { timeout: 25_000 });
    await page.selectOption('#refresh', '0');
  });
});
