/**
 * npm run bench:e2e [-- --quick] [--start-rate 2000] [--factor 1.5] [--step-seconds 30] [--burst-share 0.2]
 *
 * The whole pipeline on one machine (collector -> Kafka -> stream processor -> compactor -> Iceberg
 * in Trino, plus the idle query API), every service sharing its cores. One run, written to
 * bench/results/e2e.json (see bench/e2e/README.md):
 *  1. Reference: kafka-producer-perf-test with the collector's record values, acks=all, idempotence
 *     and the collector's compression.
 *  2. Sustained throughput: load steps of rising rate; a step is sustained when the collector
 *     acknowledged what was offered, the lake took what was acknowledged and the backlog between
 *     them did not grow. The best sustained step's rate of visible events / perf-test records/s.
 *  3. Freshness at that rate: per event, the time of the Iceberg commit that made it visible
 *     (bench/e2e/lake.ts) minus received_at; marker events check received_at against the 2xx.
 *  4. Burst: a steady rate, 10x for 60 s, steady again: lag from /metrics, drain time, freshness
 *     recovery, acknowledged events lost, duplicates, RSS of every app against its Helm memory limit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Kafka } from 'kafkajs';
import { encodeFramedValue, type EventEnvelope } from '@pipeline/schemas';
import { PIPELINE_APPS, stackSettings } from '@pipeline/testing';
import { readConfig as readProducerConfig } from '../../apps/producer/src/config';
import { createEventMix } from '../../apps/producer/src/loadgen/event-mix';
import { judgeStep, percentile, round, timeToRecover, timeToSettle, type StepVerdict } from '../../tools/report/src/stats';
import { createTopic, deleteTopics, producerPerfTest, quietKafka, type PerfTestResult } from '../lib/kafka';
import { machineInfo } from '../lib/machine';
import { cleanupOnInterrupt, runBench, writeResult } from '../lib/results';
import { CommitIndex, freshnessCells } from './lake';
import { log as logAs, memoryCapsMb } from './monitor';
import { BenchSession } from './session';

const TAG = 'bench:e2e';
const log = (message: string) => logAs(TAG, message);

const FRESHNESS_TARGET_S = 10;
const PIPELINE_VS_PERF_TEST_TARGET = 0.15;
const BURST_FACTOR = 10;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'start-rate': { type: 'string', default: '2000' },
    factor: { type: 'string', default: '1.5' },
    'step-seconds': { type: 'string' },
    'max-steps': { type: 'string', default: '7' },
    'burst-share': { type: 'string', default: '0.2' },
    partitions: { type: 'string', default: '4' },
    'perf-records': { type: 'string' },
  },
});
const quick = args.quick === true;
const START_RATE = Number(args['start-rate']);
const FACTOR = Number(args.factor);
const STEP_SEC = Number(args['step-seconds'] ?? (quick ? 15 : 30));
/** Seconds at the start of a step left out of its verdict (the previous step's tail settles). */
const SETTLE_SEC = Math.round(STEP_SEC / 4);
const MAX_STEPS = Number(args['max-steps']);
const BURST_SHARE = Number(args['burst-share']);
const PARTITIONS = Number(args.partitions);
const PERF_RECORDS = Number(args['perf-records'] ?? (quick ? 100_000 : 500_000));
const PERF_ROUNDS = quick ? 1 : 2;
const BURST = quick ? { before: 10, seconds: 20, afterMax: 60, hold: 10 } : { before: 30, seconds: 60, afterMax: 150, hold: 20 };
/** The ramp stops starting new steps after this many seconds, to keep a run near 10 minutes. */
const RAMP_BUDGET_SEC = quick ? 90 : 270;

interface Step extends StepVerdict {
  rate: number;
  start: number;
  end: number;
  /** Some app was not ready during the step (a dependency was down): the step is run again. */
  disturbed: boolean;
  /** Cores each process tree used after the step's first quarter (Monitor.coresBetween). */
  cores: Record<string, number> | undefined;
}

/** `name 0.42` pairs, busiest first. */
function formatCores(cores: Record<string, number>): string {
  return Object.entries(cores)
    .filter(([name]) => name !== 'machine')
    .sort((a, b) => b[1] - a[1])
    .map(([name, c]) => `${name} ${c.toFixed(2)}`)
    .join(', ') + ` (machine ${(cores['machine'] ?? 0).toFixed(2)})`;
}

/** CPU microseconds per event of each process tree at `eventsPerSec`. */
function perEventMicros(cores: Record<string, number>, eventsPerSec: number): Record<string, number> {
  return Object.fromEntries(Object.entries(cores).map(([name, c]) => [name, eventsPerSec > 0 ? Math.round((c * 1e6) / eventsPerSec) : 0]));
}

/** Steps repeated because a dependency went down during them, at most. */
const MAX_DISTURBED = 2;

/** Values exactly as the collector produces them (envelope JSON behind the 5-byte schema-id frame). */
function collectorValues(count: number): Buffer[] {
  const mix = createEventMix({ runId: 'perf-test-payload', seed: 11 });
  const now = Date.now();
  return Array.from({ length: count }, () => {
    const e = mix.next(now);
    const envelope = { ...e, received_at: new Date(now).toISOString(), user_id: e.user_id ?? null, anonymous_id: e.anonymous_id ?? null } as EventEnvelope;
    return encodeFramedValue(1, envelope);
  });
}

/**
 * The broker's ceiling for the collector's records: kafka-producer-perf-test on a fresh topic with
 * the same partitions, best of `rounds` runs (a busy shared machine slows single runs).
 */
async function perfTestReference(kafka: Kafka, brokers: string, compression: string, rounds: number): Promise<{ recordsPerSec: number; p99Ms: number; recordBytes: number; runs: number[] }> {
  const values = collectorValues(5_000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-e2e-payload-'));
  try {
    // The tool reads a UTF-8 file, one payload per line: the values as they are (the frame's bytes,
    // magic 0 and schema id 1, are all below 0x80, and JSON text has no raw newline).
    const file = join(dir, 'payload.txt');
    writeFileSync(file, Buffer.concat(values.flatMap((v, i) => (i === 0 ? [v] : [Buffer.from('\n'), v]))));
    const runs: PerfTestResult[] = [];
    for (let i = 0; i < rounds; i++) {
      const topic = `bench_e2e_perf_${Date.now().toString(36)}_${i}`;
      await createTopic(kafka, topic, PARTITIONS);
      const dropTopic = cleanupOnInterrupt(() => deleteTopics(kafka, [topic]));
      try {
        runs.push(await producerPerfTest({ brokers, topic, records: PERF_RECORDS, payloadFile: file, props: { 'compression.type': compression } }));
      } finally {
        await dropTopic();
      }
      log(`perf-test run ${i + 1}: ${(runs[i] as PerfTestResult).recordsPerSec} records/s, p99 ${(runs[i] as PerfTestResult).p99LatencyMs} ms`);
    }
    const best = runs.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
    return {
      recordsPerSec: best.recordsPerSec,
      p99Ms: best.p99LatencyMs,
      recordBytes: Math.round(values.reduce((s, v) => s + v.length, 0) / values.length),
      runs: runs.map((r) => r.recordsPerSec),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const runStarted = Date.now();
  const machine = machineInfo();
  const settings = stackSettings();
  const caps = memoryCapsMb();
  const compression = readProducerConfig(process.env).KAFKA_COMPRESSION;
  const notes: string[] = [];
  if (quick) notes.push('--quick run: shortened phases, not for comparison');

  const kafka = quietKafka(settings.KAFKA_BROKERS, 'bench-e2e');
  log(`kafka-producer-perf-test: ${PERF_ROUNDS} x ${PERF_RECORDS} collector values, acks=all, idempotence on, compression ${compression}, ${PARTITIONS} partitions`);
  const perf = await perfTestReference(kafka, settings.KAFKA_BROKERS.join(','), compression, PERF_ROUNDS);
  log(`perf-test: best ${perf.recordsPerSec} records/s of ${perf.recordBytes} B, p99 ${perf.p99Ms} ms`);

  log('starting the pipeline (4 built apps, isolated topics, groups, subjects and namespace)');
  const session = await BenchSession.start({ tag: TAG, name: 'bench_e2e', partitions: PARTITIONS, sampleEveryMs: 1_000 });
  const { monitor } = session;
  try {
    log(`pipeline ${session.pipeline.names.id} up; logs in ${session.pipeline.logDir}`);

    await session.load('warm-up', 500, quick ? 5 : 10);
    await session.drain(120);

    // Ramp: up by FACTOR while sustained; after the first failure, one step between the best
    // sustained rate and the failed one (after draining what the failed step left behind).
    const steps: Step[] = [];
    let rate = START_RATE;
    let best: Step | undefined;
    let failed: Step | undefined;
    let refined = false;
    let disturbedSteps = 0;
    while (steps.length - disturbedSteps < MAX_STEPS && monitor.now() < RAMP_BUDGET_SEC) {
      const start = monitor.now();
      await session.load(`ramp-${rate}`, rate, STEP_SEC);
      const end = monitor.now();
      const window = monitor.between(start + SETTLE_SEC, end);
      const verdict = judgeStep(
        window.map((s) => ({ t: s.t, acked: s.acked, visible: s.visible })),
        rate,
      );
      const notReady = [...new Set(monitor.between(start, end).flatMap((s) => s.notReady))];
      const cores = monitor.coresBetween(start + SETTLE_SEC, end);
      const step: Step = { rate, start: round(start, 1), end: round(end, 1), ...verdict, disturbed: notReady.length > 0, cores };
      steps.push(step);
      log(`step ${rate}/s: ${verdict.reason} (acked ${Math.round(verdict.ackedRate)}/s, lake ${Math.round(verdict.visibleRate)}/s, backlog ${Math.round(verdict.backlogSlope)}/s per s)`);
      if (cores !== undefined) log(`step ${rate}/s cores: ${formatCores(cores)}`);
      if (step.disturbed && !verdict.sustained && disturbedSteps < MAX_DISTURBED) {
        disturbedSteps++;
        log(`step ${rate}/s: ${notReady.join(', ')} not ready during the step (a dependency went down); draining and running it again`);
        await session.drain(300, 90);
        continue;
      }
      if (verdict.sustained) {
        best = step;
        if (failed === undefined) {
          rate = Math.round((rate * FACTOR) / 50) * 50;
          continue;
        }
      } else {
        if (failed === undefined || rate < failed.rate) failed = step;
        if (best === undefined) {
          if (rate <= 250) break;
          await session.drain(120);
          rate = Math.max(250, Math.round(rate / FACTOR / 50) * 50);
          continue;
        }
      }
      // Between the best sustained and the lowest failed rate: one more step, then stop.
      if (refined || best === undefined || failed === undefined) break;
      rate = Math.round(Math.sqrt(best.rate * failed.rate) / 50) * 50;
      if (rate <= best.rate || rate >= failed.rate) break;
      refined = true;
      await session.drain(120);
    }
    // The burst starts from a drained pipeline: its thresholds come from the steady seconds before it.
    await session.drain(300, 120);
    const sustainedStep = best ?? steps.reduce((a, b) => (b.visibleRate > a.visibleRate && (!b.disturbed || a.disturbed) ? b : a));
    if (!best) notes.push(`no ramp step was sustained; the figures use the step with the highest lake rate (${sustainedStep.rate}/s offered)`);

    // Burst: BURST.before s steady, BURST_FACTOR x for BURST.seconds, then steady until the backlog
    // (acknowledged - committed) is back to its level before the burst, plus BURST.hold seconds.
    // The backlog decides, not the apps' lag gauges: the processor's is set per batch and keeps its
    // last value while the processor is stalled, and the compactor's does not count what it buffers.
    const base = Math.max(100, Math.round((sustainedStep.visibleRate * BURST_SHARE) / 50) * 50);
    const burstPhase = { start: 0, burstStart: 0, burstEnd: 0 };
    const abort = new AbortController();
    const finite = (n: number) => (Number.isFinite(n) ? n : 0);
    // What the apps' /metrics say they hold back from the lake: consumer lag of both, plus the compactor's buffered rows.
    const lagOf = (s: { processorLag: number; compactorLag: number; compactorBufferedRows: number }) => finite(s.processorLag) + finite(s.compactorLag) + finite(s.compactorBufferedRows);
    const backlogOf = (s: { acked: number; visible: number }) => s.acked - s.visible;
    const thresholds = { lag: 0, backlog: Number.POSITIVE_INFINITY };
    let drainedAt: number | null = null;
    const watch = setInterval(() => {
      const now = monitor.now();
      if (burstPhase.burstEnd === 0 || now < burstPhase.burstEnd) return;
      const recent = monitor.between(burstPhase.burstEnd, now).slice(-3);
      if (drainedAt === null && recent.length === 3 && recent.every((s) => backlogOf(s) <= thresholds.backlog)) {
        drainedAt = (recent[0] as { t: number }).t;
        log(`burst: backlog back under ${Math.round(thresholds.backlog)} after ${round(drainedAt - burstPhase.burstEnd, 1)} s`);
      }
      if (drainedAt !== null && now >= drainedAt + BURST.hold) abort.abort();
    }, 500);
    log(`burst: ${base}/s for ${BURST.before} s, ${base * BURST_FACTOR}/s for ${BURST.seconds} s, then ${base}/s until drained (at most ${BURST.afterMax} s)`);
    burstPhase.start = monitor.now();
    burstPhase.burstStart = burstPhase.start + BURST.before;
    burstPhase.burstEnd = burstPhase.burstStart + BURST.seconds;
    const thresholdTimer = setTimeout(
      () => {
        const pre = monitor.between(burstPhase.start + 3, burstPhase.burstStart);
        // Between one and ten seconds of the base rate: a pipeline still catching up before the burst must not set the bar.
        const bar = (values: number[]) => Math.min(Math.max(1.5 * (percentile(values, 0.95) || 0), base), 10 * base);
        thresholds.lag = bar(pre.map(lagOf));
        thresholds.backlog = bar(pre.map(backlogOf));
      },
      (BURST.before - 0.5) * 1000,
    );
    const burstLoad = await session
      .load('burst', base, BURST.before + BURST.seconds + BURST.afterMax, { burst: { atSec: BURST.before, seconds: BURST.seconds, factor: BURST_FACTOR }, signal: abort.signal })
      .finally(() => {
        clearInterval(watch);
        clearTimeout(thresholdTimer);
      });
    const burstLoadEnd = monitor.now();
    log(`burst load done: acked ${burstLoad.ackedEvents}, failed ${burstLoad.failedEvents}, p99 ${burstLoad.latency.p99Ms} ms`);
    await session.drain(300, 90);
    await new Promise((r) => setTimeout(r, 3_000));
    monitor.stop();
    const endSec = monitor.now();

    log('reading the lake: counts, commits ($snapshots) and per-row freshness');
    const accounting = await session.accounting();
    log(`acknowledged ${accounting.acked}, lake rows ${accounting.rows}, distinct ${accounting.distinct}, lost ${accounting.lost}, duplicates ${accounting.duplicates}`);
    const index = await CommitIndex.load(session.lake);
    const cells = await freshnessCells(session.lake, index);
    const markers = await session.markers(index);
    const visiblePerSec = session.visibleSeries(index, 1, Math.ceil(endSec));

    // Throughput the lake took during the sustained step, from the commits themselves.
    const stepFrom = monitor.startedMs + (sustainedStep.start + SETTLE_SEC) * 1000;
    const stepTo = monitor.startedMs + sustainedStep.end * 1000;
    const committedInStep = index.commits.filter((c) => c.atMs >= stepFrom && c.atMs < stepTo).reduce((s, c) => s + c.rows, 0);
    // A step may still drain what an earlier, failed step left behind: never credit more than it acknowledged.
    const pipelineRate = Math.round(Math.min(committedInStep / ((stepTo - stepFrom) / 1000), sustainedStep.ackedRate));
    const overloaded = steps.filter((s) => !s.sustained && !s.disturbed);
    const saturated = overloaded.length === 0 ? null : Math.round(Math.max(...overloaded.map((s) => s.visibleRate)));
    const fresh = session.freshness(cells, sustainedStep.start, sustainedStep.end);
    const burstFresh = session.freshness(cells, burstPhase.burstStart, burstPhase.burstEnd);
    const overTime = session.freshnessOverTime(cells, 0, burstLoadEnd, 5);
    const recovered = timeToRecover(overTime.t, overTime.p95.map((v) => v ?? 0), burstPhase.burstEnd, FRESHNESS_TARGET_S);
    const recoveredAfter = recovered === null ? null : round(recovered, 1);

    const samples = monitor.samples;
    const ts = samples.map((s) => s.t);
    const lag = samples.map(lagOf);
    const backlog = samples.map((s) => s.acked - s.visible);
    const inBurst = samples.filter((s) => s.t >= burstPhase.burstStart && s.t <= burstLoadEnd);
    const lagDrain = timeToSettle(ts, lag, burstPhase.burstEnd, thresholds.lag);
    const backlogDrain = drainedAt !== null ? drainedAt - burstPhase.burstEnd : timeToSettle(ts, backlog, burstPhase.burstEnd, thresholds.backlog);
    const rss = session.rss();
    const rssVsCap = Math.max(...PIPELINE_APPS.map((a) => rss.maxByApp[a] / caps[a]));
    const unready = monitor.unreadiness();
    if (unready.seconds > 0) notes.push(`apps were not ready for ${unready.seconds} s of the run (${unready.apps.join(', ')}): a dependency on the shared stack was down (another user's test); steps disturbed so were run again at most ${MAX_DISTURBED} times`);
    if (cells.unmatchedRows > 0 || accounting.rows !== cells.rows) notes.push(`${cells.unmatchedRows} rows could not be matched to the commit that made them visible; freshness covers ${cells.rows} of ${accounting.rows} rows`);
    if (markers.found < markers.count) notes.push(`${markers.count - markers.found} of ${markers.count} marker events were not found in the lake`);

    const metrics = {
      perf_test_records_per_sec: perf.recordsPerSec,
      perf_test_p99_ms: perf.p99Ms,
      perf_test_record_bytes: perf.recordBytes,
      perf_test_records: PERF_RECORDS,
      perf_test_runs_records_per_sec: perf.runs,
      perf_test_compression: compression,
      partitions: PARTITIONS,
      pipeline_events_per_sec: pipelineRate,
      sustained_step_offered_per_sec: sustainedStep.rate,
      sustained_step_acked_per_sec: Math.round(sustainedStep.ackedRate),
      saturated_lake_events_per_sec: saturated,
      ramp: steps.map((s) => ({ rate: s.rate, start_s: s.start, end_s: s.end, acked_per_sec: Math.round(s.ackedRate), lake_per_sec: Math.round(s.visibleRate), backlog_slope: Math.round(s.backlogSlope), sustained: s.sustained, disturbed: s.disturbed, verdict: s.reason, cores: s.cores ?? null })),
      sustained_cores_by_process: sustainedStep.cores ?? null,
      sustained_cpu_us_per_event_by_process: sustainedStep.cores === undefined ? null : perEventMicros(sustainedStep.cores, pipelineRate),
      freshness_p50_s: fresh.p50,
      freshness_p95_s: fresh.p95,
      freshness_max_s: fresh.max,
      freshness_events: fresh.count,
      freshness_unmatched_rows: cells.unmatchedRows,
      marker_events: markers.count,
      marker_events_found: markers.found,
      ack_after_received_p50_ms: round(percentile(markers.ackAfterReceivedMs, 0.5), 1),
      ack_after_received_p95_ms: round(percentile(markers.ackAfterReceivedMs, 0.95), 1),
      ack_after_received_max_ms: round(percentile(markers.ackAfterReceivedMs, 1), 1),
      marker_freshness_from_ack_p95_s: round(percentile(markers.freshnessFromAckMs, 0.95) / 1000, 2),
      burst_base_events_per_sec: base,
      burst_peak_events_per_sec: base * BURST_FACTOR,
      burst_seconds: BURST.seconds,
      burst_acked_events: burstLoad.ackedEvents,
      burst_failed_events: burstLoad.failedEvents,
      burst_p99_ack_ms: burstLoad.latency.p99Ms,
      burst_max_processor_lag: Math.max(0, ...inBurst.map((s) => s.processorLag).filter(Number.isFinite)),
      burst_max_compactor_lag: Math.max(0, ...inBurst.map((s) => s.compactorLag).filter(Number.isFinite)),
      burst_max_compactor_buffered_rows: Math.max(0, ...inBurst.map((s) => s.compactorBufferedRows).filter(Number.isFinite)),
      burst_max_backlog: Math.max(0, ...inBurst.map((s) => s.acked - s.visible)),
      lag_drain_threshold: Math.round(thresholds.lag),
      lag_drain_s: lagDrain === null ? null : round(lagDrain, 1),
      backlog_drain_threshold: Math.round(thresholds.backlog),
      backlog_drain_s: backlogDrain === null ? null : round(backlogDrain, 1),
      burst_freshness_p95_s: burstFresh.p95,
      burst_freshness_max_s: burstFresh.max,
      freshness_recovered_s: recoveredAfter,
      burst_apps_not_ready_s: monitor.unreadiness(inBurst).seconds,
      acked_events: accounting.acked,
      sent_events: accounting.sent,
      lake_rows: accounting.rows,
      lake_distinct_event_ids: accounting.distinct,
      unacknowledged_events: accounting.unacknowledged,
      unacknowledged_in_lake: accounting.unacknowledgedInLake,
      lost: accounting.lost,
      duplicates: accounting.duplicates,
      max_rss_mb: round(rss.max, 1),
      max_rss_mb_by_app: Object.fromEntries(PIPELINE_APPS.map((a) => [a, round(rss.maxByApp[a], 1)])),
      rss_cap_mb_by_app: caps,
      apps_not_ready_s: unready.seconds,
      apps_not_ready: unready.apps,
      run_seconds: Math.round((Date.now() - runStarted) / 1000),
    };
    const ratios = {
      pipeline_vs_perf_test: round(pipelineRate / perf.recordsPerSec, 3),
      max_rss_vs_cap: round(rssVsCap, 3),
    };
    const targets = {
      pipeline_vs_perf_test: { min: PIPELINE_VS_PERF_TEST_TARGET, ok: ratios.pipeline_vs_perf_test >= PIPELINE_VS_PERF_TEST_TARGET },
      freshness_p95_s: { max: FRESHNESS_TARGET_S, ok: fresh.p95 <= FRESHNESS_TARGET_S },
      lost: { max: 0, ok: accounting.lost === 0 },
      duplicates: { max: 0, ok: accounting.duplicates === 0 },
      max_rss_vs_cap: { max: 1, ok: rssVsCap <= 1 },
    };
    notes.push(
      'Sustained: the best ramp step in which the collector acknowledged >= 95 % of the offered rate, the lake took >= 90 % of the acknowledged rate, and the backlog (acknowledged - committed) grew by <= 5 % of the rate per second; pipeline_events_per_sec is the rate of rows committed during that step (Iceberg snapshots), after its first quarter, at most the acknowledged rate of the step.',
      'Freshness: for every row, committed_at of the first snapshot ("events$snapshots") whose pipeline.kafka-offsets summary (written by the compactor in the same atomic commit as the files) passes the row\'s _kafka_partition/_kafka_offset, minus received_at (set by the collector before it produces); rows grouped by data file ("$path") and 100 ms of received_at, so within 0.1 s; percentiles are 100 ms bucket upper edges. ("events$entries" would map files to snapshots directly but fails in Trino 476 on the compactor\'s manifests, whose optional sort_order_id is null.) ack_after_received_* is the collector\'s 2xx time minus received_at for one acknowledged event per second.',
      `Burst lag: the stream processor's and the compactor's consumer lag (/metrics, sampled every second; the compactor measures every 1 s in this run). lag_drain_s: seconds after the burst until processor lag + compactor lag + compactor buffered rows (all /metrics) stay under 1.5 x their p95 in the steady seconds before the burst (at least 1 s and at most 10 s of the base rate) for 3 samples; backlog_drain_s: the same for acknowledged minus committed events, which also ends the burst phase (+20 s). The processor's lag gauge is set per batch, so it keeps its last value (often 0) while the processor is stalled: lag_drain_s can read lower than backlog_drain_s. Caps: resources.limits.memory of each app in deploy/helm/event-pipeline/values.yaml.`,
      'The machine is shared (2 cores for Kafka, Trino, PostgreSQL, the registry, the object store, the four apps, the load generator and whatever else runs); machine.load_average_at_start/at_end say how busy it was.',
    );

    const bucket5 = (values: number[], t: number[]) => {
      const out = { t: [] as number[], v: [] as number[] };
      for (let b = 0; b < Math.ceil(endSec / 5); b++) {
        const idx = t.map((x, i) => (x >= b * 5 && x < b * 5 + 5 ? i : -1)).filter((i) => i >= 0);
        out.t.push(b * 5);
        out.v.push(idx.length === 0 ? 0 : Math.round(idx.reduce((s, i) => s + (values[i] as number), 0) / idx.length));
      }
      return out;
    };
    const ackedPerSec = samples.map((s, i) => (i === 0 ? 0 : (s.acked - (samples[i - 1] as typeof s).acked) / (s.t - (samples[i - 1] as typeof s).t || 1)));
    const offered5 = bucket5(samples.map((s) => s.offeredPerSec), ts);
    const acked5 = bucket5(ackedPerSec, ts);
    const visible5 = bucket5(visiblePerSec, visiblePerSec.map((_, i) => i));
    const series = {
      phases: session.phases,
      burst_window: { start: round(burstPhase.start, 1), burst_start: round(burstPhase.burstStart, 1), burst_end: round(burstPhase.burstEnd, 1), end: round(burstLoadEnd, 1) },
      throughput: { bucket_s: 5, t: offered5.t, offered: offered5.v, acked: acked5.v, lake: visible5.v },
      lag: { t: ts, processor: samples.map((s) => s.processorLag), compactor: samples.map((s) => s.compactorLag), compactor_buffered_rows: samples.map((s) => s.compactorBufferedRows), backlog },
      rss: { t: rss.t, ...rss.byApp, caps },
      freshness_histogram: { bucket_ms: 100, sustained: fresh.histogram, burst: burstFresh.histogram },
      freshness_over_time: { bucket_s: 5, ...overTime },
      markers: { columns: ['t_s', 'ack_after_received_ms', 'freshness_from_ack_ms'], rows: markers.samples },
    };
    const path = writeResult({ name: 'e2e', machine: { ...machine, load_average_at_end: loadavg().map((l) => round(l, 2)) }, metrics, ratios, targets, notes, series });
    log(`wrote ${path} in ${metrics.run_seconds} s`);
    process.stdout.write(JSON.stringify({ ratios, targets, freshness_p95_s: fresh.p95, lost: accounting.lost, duplicates: accounting.duplicates, max_rss_mb: metrics.max_rss_mb }, null, 2) + '\n');
  } finally {
    monitor.stop();
    await session.close().catch((err: unknown) => log(`cleanup failed: ${String(err)}`));
  }
}

runBench(main);
