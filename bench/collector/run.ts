/**
 * npm run bench:collector
 *
 * One run, one broker (the local stack's), five measurements, written to bench/results/collector.json:
 *  1. kafka-producer-perf-test, best of two runs: the collector's record values, acks=all, idempotence on,
 *     the collector's compression (the broker's ceiling for the same records).
 *  2. A bare kafkajs produce loop: idempotent, acks=all, the collector's compression and value sizes.
 *  3. The collector's sustained acknowledged events/s: the load generator, batches of 50, closed loop
 *     with its default requests in flight (64).
 *  4. p50/p99 at half that rate, against the p99 of bare kafkajs sends of the same batches at the same rate.
 *  5. RSS of the collector through a 10x push-notification burst (30 s).
 *  6. A broker restart in the middle of a load run: acknowledged events missing from Kafka afterwards.
 *  7. CPU per event at a paced rate (PACED_RATE, the rate the whole pipeline sustains on this
 *     machine): the collector's and the broker's CPU time per acknowledged event, with the default
 *     KAFKA_LINGER_MS and with linger off (a second collector).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import { LOCAL_URLS } from '@pipeline/config';
import { compressionType } from '@pipeline/kafka';
import { decodeValue, encodeFramedValue, type EventEnvelope } from '@pipeline/schemas';
import { cpuSecondsByTree, deleteSubjects, freePort, metricValue, sampleRss, stackPids, startBuiltApp, type NodeProcess } from '@pipeline/testing';
import { readConfig as readProducerConfig } from '../../apps/producer/src/config';
import { hashWriteKey } from '../../apps/producer/src/http/auth';
import { createEventMix } from '../../apps/producer/src/loadgen/event-mix';
import { registerLoadgenSchemas } from '../../apps/producer/src/loadgen/register-schemas';
import { DEFAULT_CONCURRENCY, runLoad, summarizeLatency, type LoadOptions, type LoadResult } from '../../apps/producer/src/loadgen/runner';
import { collectIds, createTopic, deleteTopics, producerPerfTest, quietKafka, stack } from '../lib/kafka';
import { cleanupOnInterrupt, runBench, writeResult } from '../lib/results';

const BROKERS = process.env['KAFKA_BROKERS'] ?? LOCAL_URLS.kafkaBrokers;
const REGISTRY = process.env['SCHEMA_REGISTRY_URL'] ?? LOCAL_URLS.registry;
const WRITE_KEY = 'bench-write-key';
const PARTITIONS = 6;
const BATCH = 50;
/** Events/s of the paced CPU phase: about what the whole pipeline sustains on a 2-core machine (bench:e2e). */
const PACED_RATE = 10_000;
/** The collector's KAFKA_COMPRESSION (its default unless set here); the perf-test and the bare kafkajs loops use it too. */
const COMPRESSION = readProducerConfig(process.env).KAFKA_COMPRESSION;
/** The collector's KAFKA_LINGER_MS (its default unless set here). */
const LINGER_MS = readProducerConfig(process.env).KAFKA_LINGER_MS;
const quick = process.argv.includes('--quick');
/** Skips phase 6, which stops the shared broker: for a machine where others use the stack at the same time. */
const skipBrokerRestart = process.argv.includes('--no-broker-restart');
const seconds = (full: number) => (quick ? Math.max(3, Math.round(full / 4)) : full);

function log(message: string): void {
  process.stderr.write(`[bench:collector ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** Values like the collector writes: loadgen events framed with a schema id (about 400 B). */
function sampleValues(count: number): Array<{ key: string; value: Buffer }> {
  const mix = createEventMix({ runId: 'bare', seed: 3 });
  const now = Date.now();
  return Array.from({ length: count }, () => {
    const e = mix.next(now);
    const envelope = { ...e, received_at: new Date(now).toISOString(), user_id: e.user_id ?? null, anonymous_id: e.anonymous_id ?? null } as EventEnvelope;
    return { key: e.user_id ?? e.anonymous_id ?? e.event_id, value: encodeFramedValue(1, envelope) };
  });
}

async function bareLoop(kafka: Kafka, topic: string, records: number): Promise<{ recordsPerSec: number; avgValueBytes: number }> {
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const values = sampleValues(5_000);
  const avgValueBytes = Math.round(values.reduce((s, v) => s + v.value.length, 0) / values.length);
  const perSend = 500;
  const started = performance.now();
  for (let sent = 0; sent < records; sent += perSend) {
    const messages: Message[] = [];
    for (let i = 0; i < perSend; i++) messages.push(values[(sent + i) % values.length] as Message);
    await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1, compression: compressionType(COMPRESSION) });
  }
  const elapsed = (performance.now() - started) / 1000;
  await producer.disconnect();
  return { recordsPerSec: Math.round(records / elapsed), avgValueBytes };
}

/** Open-loop bare sends of `batch`-record batches at `eventsPerSec`; latency of each send. */
async function bareSendLatency(kafka: Kafka, topic: string, eventsPerSec: number, durationSec: number): Promise<ReturnType<typeof summarizeLatency>> {
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const values = sampleValues(5_000);
  const latencies: number[] = [];
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let issued = 0;
  let n = 0;
  while (performance.now() - started < durationSec * 1000) {
    const due = ((performance.now() - started) / 1000) * eventsPerSec;
    while (issued + BATCH <= due) {
      const messages = Array.from({ length: BATCH }, () => values[n++ % values.length] as Message);
      issued += BATCH;
      const t0 = performance.now();
      const p: Promise<void> = producer
        .send({ topic, messages, acks: -1, compression: compressionType(COMPRESSION) })
        .then(() => void latencies.push(performance.now() - t0))
        .finally(() => pending.delete(p));
      pending.add(p);
    }
    await sleep(2);
  }
  await Promise.all(pending);
  await producer.disconnect();
  return summarizeLatency(latencies);
}

async function load(url: string, opts: Partial<LoadOptions> & Pick<LoadOptions, 'ratePerSec' | 'durationSec'>, label: string): Promise<LoadResult> {
  log(`${label}: ${opts.ratePerSec > 0 ? `${opts.ratePerSec} events/s` : 'as fast as acknowledged'} for ${opts.durationSec} s`);
  const result = await runLoad({ url, writeKey: WRITE_KEY, batch: BATCH, concurrency: DEFAULT_CONCURRENCY, runId: `bench-${label}-${Date.now().toString(36)}`, graceSec: 120, ...opts });
  log(`${label}: acked ${result.ackedEvents} (${result.ackedPerSec}/s), p50 ${result.latency.p50Ms} ms, p99 ${result.latency.p99Ms} ms, failed ${result.failedEvents}`);
  return result;
}

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** The built collector on `port`, writing to `topics`; `env` overrides its settings. */
function startCollector(port: number, spoolDir: string, topics: { events: string; dlq: string }, prefix: string, env: Record<string, string> = {}): Promise<NodeProcess> {
  return startBuiltApp('producer', {
    port,
    readyTimeoutMs: 30_000,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: BROKERS,
      KAFKA_COMPRESSION: COMPRESSION,
      SCHEMA_REGISTRY_URL: REGISTRY,
      EVENTS_TOPIC: topics.events,
      DLQ_TOPIC: topics.dlq,
      TOPIC_PARTITIONS: String(PARTITIONS),
      SCHEMA_SUBJECT_PREFIX: prefix,
      SPOOL_DIR: spoolDir,
      WRITE_KEYS: JSON.stringify([{ source: 'bench', sha256: hashWriteKey(WRITE_KEY), rate_per_sec: 10_000_000, burst: 10_000_000 }]),
      ...env,
    },
  });
}

/** CPU time of the collector (all its threads) and of the broker per acknowledged event, in microseconds, at PACED_RATE. */
async function pacedCpu(url: string, collectorPid: number, label: string): Promise<{ collectorUs: number; brokerUs: number; requestRecords: number; p99Ms: number }> {
  const kafkaPid = stackPids().kafka;
  if (kafkaPid === undefined) throw new Error('no broker pid: is the local stack up?');
  const roots = { collector: collectorPid, kafka: kafkaPid };
  const before = cpuSecondsByTree(roots);
  const metricsBefore = await metricsOf(url);
  const result = await load(url, { ratePerSec: PACED_RATE, durationSec: seconds(20) }, label);
  if (result.ackedEvents < PACED_RATE * seconds(20) * 0.9) throw new Error(`${label}: only ${result.ackedEvents} events acknowledged (${result.failedEvents} failed)`);
  const after = cpuSecondsByTree(roots);
  const metricsAfter = await metricsOf(url);
  const us = (name: 'collector' | 'kafka') => Math.round((((after[name] ?? 0) - (before[name] ?? 0)) * 1e6) / Math.max(result.ackedEvents, 1) * 10) / 10;
  const delta = (name: string) => metricValue(metricsAfter, name) - metricValue(metricsBefore, name);
  const requestRecords = Math.round(delta('pipeline_producer_produce_batch_records_sum') / Math.max(delta('pipeline_producer_produce_batch_records_count'), 1));
  log(`${label}: collector ${us('collector')} us/event, broker ${us('kafka')} us/event, ${requestRecords} records per produce request`);
  return { collectorUs: us('collector'), brokerUs: us('kafka'), requestRecords, p99Ms: result.latency.p99Ms };
}

async function main(): Promise<void> {
  const run = `bench_${Date.now().toString(36)}`;
  const topics = { perf: `${run}_perf`, bare: `${run}_bare`, events: `${run}_raw`, dlq: `${run}_dlq` };
  const kafka = quietKafka([BROKERS], 'bench-collector');
  const spoolDir = mkdtempSync(join(tmpdir(), `${run}-spool-`));
  const payloadDir = mkdtempSync(join(tmpdir(), `${run}-payload-`));
  let collector: NodeProcess | undefined;
  const notes: string[] = [];
  const cleanup = cleanupOnInterrupt(async () => {
    await collector?.stop('SIGTERM');
    // The restart run stops the broker: an interrupted run must not leave it down.
    await stack('up', 'kafka').catch((err: unknown) => log(`could not make sure the broker is up: ${String(err)}`));
    await deleteTopics(kafka, Object.values(topics)).catch(() => undefined);
    await deleteSubjects(REGISTRY, `${run}.`).catch(() => undefined);
    rmSync(spoolDir, { recursive: true, force: true });
    rmSync(payloadDir, { recursive: true, force: true });
  });
  try {
    await createTopic(kafka, topics.perf, PARTITIONS);
    await createTopic(kafka, topics.bare, PARTITIONS);
    const prefix = `${run}.`;
    await registerLoadgenSchemas(REGISTRY, prefix);

    // Like for like: the same values as the bare loop and the collector (framed envelope JSON; the frame's
    // bytes are valid UTF-8, so the tool's UTF-8 payload file carries them unchanged) and the same codec.
    const payload = sampleValues(5_000).map((v) => v.value);
    const payloadFile = join(payloadDir, 'values.txt');
    writeFileSync(payloadFile, Buffer.concat(payload.flatMap((v, i) => (i === 0 ? [v] : [Buffer.from('\n'), v]))));
    const perfRecordBytes = Math.round(payload.reduce((s, v) => s + v.length, 0) / payload.length);
    log(`kafka-producer-perf-test (collector values, ~${perfRecordBytes} B, acks=all, idempotence on, ${COMPRESSION})`);
    // Best of two: the first run also warms a broker that has just been (re)started, as the last phase of
    // the previous run leaves it.
    const perfRuns = [];
    for (let i = 0; i < 2; i++) {
      const r = await producerPerfTest({ brokers: BROKERS, topic: topics.perf, records: quick ? 200_000 : 1_000_000, payloadFile, props: { 'compression.type': COMPRESSION } });
      log(`perf-test run ${i + 1}: ${r.recordsPerSec} records/s, p99 ${r.p99LatencyMs} ms`);
      perfRuns.push(r);
    }
    const perf = perfRuns.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));

    log('bare kafkajs produce loop');
    const bare = await bareLoop(kafka, topics.bare, quick ? 50_000 : 300_000);
    log(`bare kafkajs: ${bare.recordsPerSec} records/s (values ~${bare.avgValueBytes} B)`);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    collector = await startCollector(port, spoolDir, topics, prefix);
    const pid = collector.pid;

    await load(url, { ratePerSec: 0, durationSec: 3 }, 'warm-up');
    const sustained = await load(url, { ratePerSec: 0, durationSec: seconds(20) }, 'sustained');
    const maxRate = sustained.ackedPerSec;
    const half = Math.max(BATCH, Math.round(maxRate / 2));

    const halfLoad = await load(url, { ratePerSec: half, durationSec: seconds(15) }, 'half-load');
    log(`bare kafkajs sends of ${BATCH} at ${half} events/s`);
    const bareHalf = await bareSendLatency(kafka, topics.bare, half, seconds(15));
    log(`bare send: p50 ${bareHalf.p50Ms} ms, p99 ${bareHalf.p99Ms} ms`);

    const base = Math.max(BATCH, Math.round(maxRate / 10));
    const sampler = sampleRss(pid, 100);
    const burst = await load(url, { ratePerSec: base, durationSec: seconds(45), burst: { atSec: seconds(5), seconds: seconds(30), factor: 10 } }, 'burst');
    const rss = sampler.stop();
    const afterBurst = await metricsOf(url);
    log(`burst: max RSS ${rss.maxMb} MB over ${rss.samples} samples`);

    const paced = await pacedCpu(url, pid, `paced-linger-${LINGER_MS}ms`);
    const noLingerPort = await freePort();
    const noLingerSpool = mkdtempSync(join(tmpdir(), `${run}-spool0-`));
    let noLinger: Awaited<ReturnType<typeof pacedCpu>>;
    const second = await startCollector(noLingerPort, noLingerSpool, topics, prefix, { KAFKA_LINGER_MS: '0' });
    try {
      const noLingerUrl = `http://127.0.0.1:${noLingerPort}`;
      await load(noLingerUrl, { ratePerSec: 0, durationSec: 3 }, 'warm-up-linger-0');
      noLinger = await pacedCpu(noLingerUrl, second.pid, 'paced-linger-0');
    } finally {
      await second.stop('SIGTERM');
      rmSync(noLingerSpool, { recursive: true, force: true });
    }

    let restart: { acked: number; spooled: number; lost: number } | null = null;
    if (skipBrokerRestart) {
      notes.push('--no-broker-restart: the broker restart phase was skipped, lost_acked_events was not measured');
    } else {
      const beforeRestart = await metricsOf(url);
      const restartRate = Math.max(BATCH, Math.round(maxRate / 4));
      const restartLoad = load(url, { ratePerSec: restartRate, durationSec: seconds(30), trackIds: true }, 'broker-restart');
      await sleep(seconds(5) * 1000);
      log('stopping the broker (stack tool)');
      await stack('down', 'kafka');
      await sleep(3_000);
      log('starting the broker (stack tool)');
      await stack('up', 'kafka');
      const restartRun = await restartLoad;
      const spooled = metricValue(await metricsOf(url), 'pipeline_producer_spool_appended_records_total') - metricValue(beforeRestart, 'pipeline_producer_spool_appended_records_total');
      for (let i = 0; i < 240 && metricValue(await metricsOf(url), 'pipeline_producer_spool_depth_records') > 0; i++) await sleep(500);
      const acked = new Set(restartRun.ackedIds);
      const seen = await collectIds(kafka, topics.events, acked, (v) => decodeValue(v).record.event_id, 120_000);
      let lost = 0;
      for (const id of acked) if (!seen.has(id)) lost++;
      log(`broker restart: ${acked.size} acknowledged, ${lost} missing from Kafka, ${spooled} went through the spool`);
      if (spooled === 0) notes.push('the broker restart run spooled nothing: the outage was not observed by the collector');
      restart = { acked: acked.size, spooled, lost };
    }

    const metrics = {
      perf_test_records_per_sec: perf.recordsPerSec,
      perf_test_runs_records_per_sec: perfRuns.map((r) => r.recordsPerSec),
      perf_test_p99_ms: perf.p99LatencyMs,
      perf_test_record_bytes: perfRecordBytes,
      perf_test_compression: COMPRESSION,
      kafka_compression: COMPRESSION,
      bare_kafkajs_records_per_sec: bare.recordsPerSec,
      bare_kafkajs_value_bytes: bare.avgValueBytes,
      collector_events_per_sec: maxRate,
      collector_batch_events: BATCH,
      collector_p99_at_max_ms: sustained.latency.p99Ms,
      half_load_events_per_sec: half,
      collector_p50_half_load_ms: halfLoad.latency.p50Ms,
      collector_p99_half_load_ms: halfLoad.latency.p99Ms,
      bare_send_p50_half_load_ms: bareHalf.p50Ms,
      bare_send_p99_half_load_ms: bareHalf.p99Ms,
      linger_ms: LINGER_MS,
      paced_events_per_sec: PACED_RATE,
      paced_collector_cpu_us_per_event: paced.collectorUs,
      paced_broker_cpu_us_per_event: paced.brokerUs,
      paced_records_per_produce_request: paced.requestRecords,
      paced_p99_ms: paced.p99Ms,
      paced_collector_cpu_us_per_event_no_linger: noLinger.collectorUs,
      paced_broker_cpu_us_per_event_no_linger: noLinger.brokerUs,
      paced_records_per_produce_request_no_linger: noLinger.requestRecords,
      paced_p99_ms_no_linger: noLinger.p99Ms,
      burst_base_events_per_sec: base,
      burst_peak_events_per_sec: base * 10,
      burst_acked_events: burst.ackedEvents,
      burst_failed_events: burst.failedEvents,
      burst_p99_ms: burst.latency.p99Ms,
      burst_spooled_events: metricValue(afterBurst, 'pipeline_producer_spool_appended_records_total'),
      rss_burst_mb: rss.maxMb,
      restart_acked_events: restart?.acked ?? null,
      restart_spooled_events: restart?.spooled ?? null,
      lost_acked_events: restart?.lost ?? null,
    };
    const ratios = {
      vs_perf_test: round(maxRate / perf.recordsPerSec),
      vs_bare_kafkajs: round(maxRate / bare.recordsPerSec),
      p99_vs_bare_send: round(halfLoad.latency.p99Ms / Math.max(bareHalf.p99Ms, 0.001)),
      paced_cpu_vs_no_linger: round((paced.collectorUs + paced.brokerUs) / Math.max(noLinger.collectorUs + noLinger.brokerUs, 0.001)),
    };
    const targets = {
      vs_perf_test: { min: 0.3, ok: ratios.vs_perf_test >= 0.3 },
      p99_vs_bare_send: { max: 3, ok: ratios.p99_vs_bare_send <= 3 },
      rss_burst_mb: { max: 300, ok: rss.maxMb <= 300 },
      lost_acked_events: { max: 0, ok: restart === null ? null : restart.lost === 0 },
    };
    if (quick) notes.push('--quick run: shortened phases, not for comparison');
    const path = writeResult({ name: 'collector', metrics, ratios, targets, notes });
    log(`wrote ${path}`);
    process.stdout.write(JSON.stringify({ metrics, ratios, targets }, null, 2) + '\n');
  } finally {
    await cleanup();
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

runBench(main);
