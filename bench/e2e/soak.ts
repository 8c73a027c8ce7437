/**
 * npm run bench:soak -- --minutes 30 [--warmup M] [--rate N]
 *
 * The whole pipeline at a steady rate for a warm-up and then N measured minutes (default 30),
 * sampling every 10 s the RSS of each app, the consumer lag of the stream processor and the
 * compactor, and the end-to-end backlog; freshness per 10 s of received_at comes from the lake at
 * the end (commit time of each row's file minus received_at). A least-squares line through each
 * series over the measured minutes says whether memory or lag trends upward: flagged when the line
 * rises by more than 10 % of the series' mean (the mean taken as at least 50 MB for memory and one
 * second of events for lag, so near-zero series do not flag on noise). Writes bench/results/soak.json.
 *
 * The warm-up (default: computed by {@link stateWarmup}) is how long the stream processor's state
 * takes to reach its working size at the rate; memory that grows while state fills is not a leak.
 *
 * The default rate is half the sustained rate of bench/results/e2e.json (2000/s without one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PIPELINE_APPS, type PipelineApp } from '@pipeline/testing';
import { round, trend, type Trend } from '../../tools/report/src/stats';
import { machineInfo } from '../lib/machine';
import { RESULTS_DIR, runBench, writeResult } from '../lib/results';
import { CommitIndex, freshnessCells } from './lake';
import { log as logAs, memoryCapsMb } from './monitor';
import { BenchSession } from './session';
import { stateWarmup } from './warmup';

const TAG = 'bench:soak';
const log = (message: string) => logAs(TAG, message);
const SAMPLE_SEC = 10;
const MAX_RELATIVE_GROWTH = 0.1;
const RSS_FLOOR_MB = 50;
const FRESHNESS_TARGET_S = 10;

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    warmup: { type: 'string' },
    rate: { type: 'string' },
    partitions: { type: 'string', default: '4' },
  },
});

function defaultRate(): { rate: number; from: string } {
  const path = join(RESULTS_DIR, 'e2e.json');
  if (existsSync(path)) {
    const e2e = JSON.parse(readFileSync(path, 'utf8')) as { metrics?: { pipeline_events_per_sec?: number } };
    const sustained = e2e.metrics?.pipeline_events_per_sec;
    if (typeof sustained === 'number' && sustained > 0) return { rate: Math.max(100, Math.round(sustained / 2 / 50) * 50), from: 'half of metrics.pipeline_events_per_sec in bench/results/e2e.json' };
  }
  return { rate: 2000, from: 'default (no bench/results/e2e.json)' };
}

function summarize(t: Trend, digits = 2) {
  return {
    slope_per_hour: round(t.slopePerHour, digits),
    mean: round(t.mean, digits),
    growth_over_run: round(t.growth, digits),
    relative_growth: round(t.relativeGrowth, 3),
    r2: round(t.r2, 3),
    upward: t.upward,
  };
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  const machine = machineInfo();
  const minutes = Number(args.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new Error('--minutes must be a positive number');
  const chosen = args.rate !== undefined ? { rate: Number(args.rate), from: '--rate' } : defaultRate();
  const rate = chosen.rate;
  const warmup = args.warmup !== undefined ? { seconds: Math.round(Number(args.warmup) * 60), why: '--warmup' } : stateWarmup(rate);
  if (!Number.isFinite(warmup.seconds) || warmup.seconds < 0) throw new Error('--warmup must be a number of minutes, 0 or more');
  const seconds = warmup.seconds + Math.round(minutes * 60);
  const caps = memoryCapsMb();
  const notes: string[] = [];
  // Freshness joins rows to the snapshot that added their file: keep every snapshot of the run.
  const retention = `${Math.max(60, Math.ceil(seconds / 60) + 30)}m`;
  if (seconds / 60 + 30 > 60) notes.push(`UPKEEP_SNAPSHOT_RETENTION=${retention} (default 1h) so snapshots of the whole run stay readable for the freshness join`);

  log(`steady ${rate} events/s (${chosen.from}): ${round(warmup.seconds / 60, 1)} min warm-up (${warmup.why}), then ${minutes} min measured, sampling every ${SAMPLE_SEC} s`);
  const session = await BenchSession.start({
    tag: TAG,
    name: 'bench_soak',
    partitions: Number(args.partitions),
    sampleEveryMs: SAMPLE_SEC * 1000,
    appEnv: { compactor: { UPKEEP_SNAPSHOT_RETENTION: retention } },
  });
  const { monitor } = session;
  try {
    log(`pipeline ${session.pipeline.names.id} up; logs in ${session.pipeline.logDir}`);
    const result = await session.load('steady', rate, seconds);
    const loadEnd = monitor.now();
    log(`load done: acked ${result.ackedEvents} (${result.ackedPerSec}/s), failed ${result.failedEvents}, p99 ${result.latency.p99Ms} ms`);
    await session.drain(300, 90);
    monitor.stop();

    const samples = monitor.between(0, loadEnd);
    // Trends are fitted over the measured minutes only: during the warm-up state fills by design.
    const skip = Math.min(warmup.seconds, loadEnd);
    const fitted = samples.filter((s) => s.t >= skip);
    const ts = fitted.map((s) => s.t);
    const rssTrends = Object.fromEntries(
      PIPELINE_APPS.map((app) => {
        const points = fitted.filter((s) => s.rssMb[app] !== undefined);
        return [app, trend(points.map((s) => s.t), points.map((s) => s.rssMb[app] as number), { maxRelativeGrowth: MAX_RELATIVE_GROWTH, floor: RSS_FLOOR_MB })];
      }),
    ) as Record<PipelineApp, Trend>;
    const lagOf = (s: (typeof samples)[number]) => (Number.isFinite(s.processorLag) ? s.processorLag : 0) + (Number.isFinite(s.compactorLag) ? s.compactorLag : 0);
    const lagTrend = trend(ts, fitted.map(lagOf), { maxRelativeGrowth: MAX_RELATIVE_GROWTH, floor: rate });
    const backlogTrend = trend(ts, fitted.map((s) => s.acked - s.visible), { maxRelativeGrowth: MAX_RELATIVE_GROWTH, floor: rate });

    log('reading the lake: counts and per-row freshness');
    const accounting = await session.accounting();
    const cells = await freshnessCells(session.lake, await CommitIndex.load(session.lake));
    const overall = session.freshness(cells, 0, loadEnd);
    const overTime = session.freshnessOverTime(cells, 0, loadEnd, SAMPLE_SEC);
    const freshPoints = overTime.t.map((t, i) => [t, overTime.p95[i]] as const).filter((p): p is readonly [number, number] => p[1] !== null && p[0] >= skip);
    const freshnessTrend = trend(freshPoints.map((p) => p[0]), freshPoints.map((p) => p[1]), { maxRelativeGrowth: MAX_RELATIVE_GROWTH, floor: 1 });
    const rss = session.rss(samples);
    const upward = [...PIPELINE_APPS.filter((a) => rssTrends[a].upward).map((a) => `rss:${a}`), ...(lagTrend.upward ? ['lag'] : []), ...(backlogTrend.upward ? ['backlog'] : []), ...(freshnessTrend.upward ? ['freshness_p95'] : [])];
    const unready = monitor.unreadiness(samples);
    if (unready.seconds > 0) notes.push(`apps were not ready for ${unready.seconds} s of the run (${unready.apps.join(', ')}): a dependency on the shared stack was down (another user's test); lag and freshness trends include it`);
    const maxRssGrowth = Math.max(...PIPELINE_APPS.map((a) => rssTrends[a].relativeGrowth));

    const metrics = {
      minutes,
      warmup_minutes: round(warmup.seconds / 60, 1),
      warmup_from: warmup.why,
      rate_events_per_sec: rate,
      rate_from: chosen.from,
      acked_events: accounting.acked,
      acked_per_sec: result.ackedPerSec,
      failed_events: result.failedEvents,
      lake_rows: accounting.rows,
      lost: accounting.lost,
      duplicates: accounting.duplicates,
      freshness_p50_s: overall.p50,
      freshness_p95_s: overall.p95,
      freshness_max_s: overall.max,
      max_rss_mb: round(rss.max, 1),
      max_rss_mb_by_app: Object.fromEntries(PIPELINE_APPS.map((a) => [a, round(rss.maxByApp[a], 1)])),
      rss_cap_mb_by_app: caps,
      trend_rule: `upward when the least-squares line rises by more than ${MAX_RELATIVE_GROWTH * 100} % of max(mean, floor) over the fitted samples (from ${round(skip, 0)} s); floors: RSS ${RSS_FLOOR_MB} MB, lag and backlog ${rate} events (1 s at the rate), freshness 1 s`,
      rss_trend_mb: Object.fromEntries(PIPELINE_APPS.map((a) => [a, summarize(rssTrends[a])])),
      lag_trend_messages: summarize(lagTrend, 0),
      backlog_trend_events: summarize(backlogTrend, 0),
      freshness_p95_trend_s: summarize(freshnessTrend, 3),
      upward_trends: upward,
      apps_not_ready_s: unready.seconds,
      apps_not_ready: unready.apps,
      run_seconds: Math.round((Date.now() - runStarted) / 1000),
    };
    const ratios = { max_rss_growth_vs_mean: round(maxRssGrowth, 3), lag_growth_vs_mean: round(lagTrend.relativeGrowth, 3) };
    const targets = {
      max_rss_growth_vs_mean: { max: MAX_RELATIVE_GROWTH, ok: maxRssGrowth <= MAX_RELATIVE_GROWTH },
      lag_growth_vs_mean: { max: MAX_RELATIVE_GROWTH, ok: lagTrend.relativeGrowth <= MAX_RELATIVE_GROWTH },
      freshness_p95_s: { max: FRESHNESS_TARGET_S, ok: overall.p95 <= FRESHNESS_TARGET_S },
      lost: { max: 0, ok: accounting.lost === 0 },
      duplicates: { max: 0, ok: accounting.duplicates === 0 },
    };
    if (minutes < 10) notes.push(`a ${minutes}-minute run: too short for a leak verdict, it shows the harness works`);
    notes.push(`Trends are fitted from ${round(skip, 0)} s, after the warm-up (${warmup.why}): the stream processor's dedup set and windows grow by design until then. Samples of the warm-up are in series and in the report.`);
    notes.push('The machine is shared; machine.load_average_at_start/at_end say how busy it was.');
    const series = {
      sample_s: SAMPLE_SEC,
      fit_from_s: round(skip, 1),
      t: samples.map((s) => s.t),
      rss: { ...rss.byApp, caps },
      lag: { processor: samples.map((s) => s.processorLag), compactor: samples.map((s) => s.compactorLag), backlog: samples.map((s) => s.acked - s.visible) },
      freshness: { t: overTime.t, p50: overTime.p50, p95: overTime.p95, max: overTime.max, events: overTime.events },
      fits: {
        rss: Object.fromEntries(PIPELINE_APPS.map((a) => [a, { slope_per_s: rssTrends[a].slope, intercept: rssTrends[a].intercept }])),
        lag: { slope_per_s: lagTrend.slope, intercept: lagTrend.intercept },
        freshness_p95: { slope_per_s: freshnessTrend.slope, intercept: freshnessTrend.intercept },
      },
    };
    const path = writeResult({ name: 'soak', machine: { ...machine, load_average_at_end: loadavg().map((l) => round(l, 2)) }, metrics, ratios, targets, notes, series });
    log(`wrote ${path} in ${metrics.run_seconds} s; upward trends: ${upward.length === 0 ? 'none' : upward.join(', ')}`);
    process.stdout.write(JSON.stringify({ ratios, targets, upward_trends: upward }, null, 2) + '\n');
  } finally {
    monitor.stop();
    await session.close().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
  }
}

runBench(main);
