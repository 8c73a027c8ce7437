import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Pipeline, waitFor } from '@pipeline/testing';
import { activeUsers, chartSeries, dlqRate, eventsPerMinute, sessionsStarted, summaryOf, withoutZeros, type PanelData, type SentEvent } from '../../src/dashboard-expected';
import { trinoTimestampMs } from '../../src/lake-values';
import { sendAccepted, type CollectorAnswer } from '../support/collector';
import { openDashboard, type DashboardPage } from '../support/dashboard-page';
import { sql } from '../support/query-api';

/**
 * The query API's dashboard in Chromium after a real pipeline run: events sent through the
 * collector (event times spread over the last half hour, plus dead letters) and landed by the
 * processor and the compactor, read with the development token the README's dashboard link
 * carries. Every panel must chart what was sent. The seeded test in apps/query-api covers the
 * edge cases of the saved queries on hand-made tables.
 */

const MINUTE = 60_000;
const ARTIFACTS = join(__dirname, '..', '..', '..', '..', 'test-results', 'pipeline-e2e');

const SCHEMAS: Record<string, object> = {
  page_view: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
  click: { type: 'object', properties: { element: { type: 'string' } }, required: ['element'] },
  purchase: { type: 'object', properties: { order_id: { type: 'string' }, price: { type: 'number' } }, required: ['order_id', 'price'] },
  app_open: { type: 'object', properties: { cold_start: { type: 'boolean' } } },
};

interface Outgoing {
  event: Record<string, unknown>;
  sent: SentEvent;
}

function traffic(now: number): { clean: Outgoing[]; deadLetters: Array<Record<string, unknown>> } {
  const clean: Outgoing[] = [];
  const add = (eventType: string, occurredAtMs: number, visitor: string, properties: Record<string, unknown>) => {
    const who = visitor.startsWith('anon-') ? { anonymous_id: visitor } : { user_id: visitor };
    const event = { event_id: `dash-${clean.length}`, event_type: eventType, occurred_at: new Date(occurredAtMs).toISOString(), ...who, properties };
    clean.push({ event, sent: { eventType, occurredAtMs, visitor } });
  };
  for (let k = 1; k <= 30; k++) {
    const minute = now - k * MINUTE;
    add('page_view', minute + 3_000, k % 7 === 0 ? `anon-${k % 3}` : `user-${k % 5}`, { url: '/home' });
    add('page_view', minute + 21_000, `user-${(k + 2) % 5}`, { url: '/search' });
    if (k % 3 !== 0) add('page_view', minute + 44_000, `user-${(k * 3) % 8}`, { url: `/p/${k}` });
    if (k % 2 === 0) add('click', minute + 15_000, `user-${(k + 1) % 5}`, { element: 'buy' });
    if (k % 6 === 0) add('purchase', minute + 50_000, 'user-1', { order_id: `o-${k}`, price: 9.99 });
  }
  // A returning visitor: two visits more than the 30-minute session gap apart.
  for (const minutesAgo of [52, 50, 12]) add('app_open', now - minutesAgo * MINUTE, 'returning', { cold_start: minutesAgo === 52 });
  // Dead letters: event types without a schema, which this collector keeps in the DLQ.
  const deadLetters = [0, 1, 2, 3, 4].map((k) => ({ event_id: `dash-dlq-${k}`, event_type: 'unregistered_thing', occurred_at: new Date(now - k * MINUTE).toISOString(), user_id: `user-${k}`, properties: { k } }));
  return { clean, deadLetters };
}

let p: Pipeline;
let dashboard: DashboardPage | undefined;

beforeAll(async () => {
  // The development token, as the README's dashboard link under `npm start`: default limits, so the
  // five panels loading at once are more queries than it may run together (4).
  p = await Pipeline.start({
    name: 'e2e_dash',
    localDevCredentials: true,
    appEnv: {
      producer: { UNKNOWN_EVENT_TYPES: 'dlq' },
      // The five panels query Trino at once; on a busy two-core machine a cold Trino can take longer than the default 30 s.
      'query-api': { QUERY_DEFAULT_TIMEOUT_MS: '120000' },
    },
  });
  for (const [type, schema] of Object.entries(SCHEMAS)) await p.registerSchema(type, schema);
}, 180_000);

afterAll(async () => {
  await dashboard?.close();
  await p?.destroy();
});

/**
 * Sends a batch so that the whole request falls inside one minute: the dashboard's DLQ rate counts
 * clean events by the minute the collector received them (received_at), which lies between the
 * client's send and answer times.
 */
async function sendWithinOneMinute(events: readonly unknown[]): Promise<CollectorAnswer> {
  const untilNextMinute = MINUTE - (Date.now() % MINUTE);
  if (untilNextMinute < 3_000) await new Promise((resolve) => setTimeout(resolve, untilNextMinute + 100));
  const answer = await sendAccepted(p, events);
  if (Math.floor(answer.sentAtMs / MINUTE) !== Math.floor(answer.answeredAtMs / MINUTE)) throw new Error(`a request took ${answer.answeredAtMs - answer.sentAtMs} ms across a minute boundary`);
  return answer;
}

describe('dashboard after a pipeline run', () => {
  it('charts what went through the pipeline on every panel', async () => {
    const { clean, deadLetters } = traffic(Date.now());
    const acceptedAt: number[] = [];
    const sentAt = new Map<string, number>();
    const answers: CollectorAnswer[] = [];
    const batches = [clean.slice(0, 40), clean.slice(40, 80), clean.slice(80)];
    for (const [i, batch] of batches.entries()) {
      const dead = deadLetters.filter((_, k) => k % batches.length === i);
      const answer = await sendWithinOneMinute([...batch.map((o) => o.event), ...dead]);
      answers.push(answer);
      acceptedAt.push(...batch.map(() => answer.sentAtMs));
      for (const d of dead) sentAt.set(String(d['event_id']), answer.sentAtMs);
    }
    const first = answers[0] as CollectorAnswer;
    const last = answers[answers.length - 1] as CollectorAnswer;

    await waitFor(
      async () => {
        const counts = await sql(p, 'SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM events_dlq) AS dlq');
        const row = counts.rows[0] ?? {};
        return row['events'] === clean.length && row['dlq'] === deadLetters.length;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: `${clean.length} events and ${deadLetters.length} dead letters in the lake` },
    );

    // When a record was dead-lettered is its DLQ record's Kafka time: normally inside the request,
    // later if the collector had to spool it. The lake's failed_at is taken as it is, after checking it.
    const failedAt = (await sql(p, 'SELECT event_id, failed_at FROM events_dlq')).rows.map((r) => {
      const ms = trinoTimestampMs(r['failed_at']);
      expect(ms).toBeGreaterThanOrEqual(sentAt.get(r['event_id'] as string) as number);
      return ms;
    });

    const catalog = (await (await fetch(`${p.url('query-api')}/v1/queries`, { headers: { authorization: `Bearer ${p.queryToken}` } })).json()) as { queries: Array<{ name: string; dashboard?: unknown }> };
    const panelNames = catalog.queries.filter((q) => q.dashboard).map((q) => q.name);
    expect(panelNames.sort()).toEqual(['active_users', 'dlq_rate', 'events_per_minute', 'freshness', 'sessions']);

    dashboard = await openDashboard(p.url('query-api'));
    const loadedAt = Date.now();
    await dashboard.page.goto(`${p.url('query-api')}/?range=1h&refresh=0#token=${p.queryToken}`);
    await dashboard.settled(panelNames.length);
    const settledAt = Date.now();
    expect(dashboard.page.url()).not.toContain('token=');
    mkdirSync(ARTIFACTS, { recursive: true });
    await dashboard.page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(statSync(join(ARTIFACTS, 'dashboard.png')).size).toBeGreaterThan(10_000);

    const { from, to } = await dashboard.window();
    expect(to - from).toBe(60 * MINUTE);
    const sent = clean.map((o) => o.sent);
    const expected: Record<string, PanelData> = {
      events_per_minute: eventsPerMinute(sent, from, to),
      active_users: activeUsers(sent, from, to),
      sessions: sessionsStarted(sent, from, to),
      dlq_rate: dlqRate(acceptedAt, failedAt, from, to),
    };
    // Everything sent is inside the window, so the charts hold all of it.
    expect(summaryOf(expected['events_per_minute'] as PanelData).series).toEqual({ page_view: 80, click: 15, purchase: 5, app_open: 3 });
    expect(summaryOf(expected['sessions'] as PanelData).series['sessions']).toBe(13);

    const panels = Object.fromEntries((await dashboard.panels()).map((panel) => [panel.query, panel]));
    const charts = Object.fromEntries((await dashboard.charts()).map((chart) => [chart.query, chart]));
    const round = (series: Record<string, Record<number, number>>) =>
      Object.fromEntries(Object.entries(series).map(([name, values]) => [name, Object.fromEntries(Object.entries(values).map(([x, v]) => [x, Math.round(v * 1e9) / 1e9]))]));
    for (const [query, data] of Object.entries(expected)) {
      expect([query, panels[query]?.state]).toEqual([query, 'ready']);
      const summary = panels[query]?.summary as { rows: number; series: Record<string, number> };
      const wanted = summaryOf(data);
      expect([query, summary.rows]).toEqual([query, wanted.rows]);
      for (const [name, total] of Object.entries(wanted.series)) expect([query, name, summary.series[name]]).toEqual([query, name, expect.closeTo(total, 9)]);
      const chart = charts[query];
      expect([query, chart?.names.slice().sort()]).toEqual([query, Object.keys(data.series).sort()]);
      expect([query, round(chartSeries(chart?.names ?? [], chart?.data ?? []))]).toEqual([query, round(withoutZeros(data.series))]);
      expect(panels[query]?.legend).toEqual(expect.arrayContaining(Object.keys(data.series)));
    }

    const freshness = panels['freshness'];
    expect(freshness?.state).toBe('ready');
    const stat = freshness?.summary as { freshness_seconds: number; newest_received_at: string; last_commit_at: string };
    const newest = trinoTimestampMs(stat.newest_received_at);
    expect(newest).toBeGreaterThanOrEqual(last.sentAtMs);
    expect(newest).toBeLessThanOrEqual(last.answeredAtMs);
    expect(stat.freshness_seconds).toBeGreaterThanOrEqual((loadedAt - last.answeredAtMs) / 1000 - 0.05);
    expect(stat.freshness_seconds).toBeLessThanOrEqual((settledAt - last.sentAtMs) / 1000 + 0.05);
    const lastCommit = trinoTimestampMs(stat.last_commit_at);
    expect(lastCommit).toBeGreaterThan(first.sentAtMs);
    expect(lastCommit).toBeLessThanOrEqual(settledAt);
    expect(freshness?.text).toMatch(/\d+(\.\d)? (s|min)/);

    expect(dashboard.outside).toEqual([]);
    // A panel refused for running too many queries at once waits and asks again; Chromium logs each refusal.
    expect(dashboard.consoleErrors.filter((m) => !m.includes('the server responded with a status of 429'))).toEqual([]);
  });
});
