/**
 * npm run bench:processor -- [--events 500000] [--partitions 4] [--rounds 2] [--keep]
 *
 * One run, one input topic, three consumers of it, each in its own process:
 *   noop            a kafkajs consumer that only counts (the ceiling for any kafkajs consumer here)
 *   at_least_once   the built stream processor (dist/apps/stream-processor/main.cjs), produce then commit
 *   exactly_once    the same build with Kafka transactions (the default)
 *   exactly_once_x2  two instances of that build in one consumer group (the partitions split between them)
 * Throughput is measured from the first to the last processed record (so start-up and group joins do
 * not count). Per core = events/s divided by the cores the consumer used over that same interval
 * (its process CPU time / wall time), i.e. events per CPU-second; for two instances, both processes'
 * events and CPU time. With --rounds N the modes alternate N times and the best of each is kept (the
 * machine is shared and noisy). BENCH_MODES=noop,exactly_once (any subset) runs only those modes and
 * prints them without writing the result file. Writes bench/results/processor.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, totalmem, type as osType, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, Partitioners, logLevel, type Admin } from 'kafkajs';
import { LOCAL_URLS } from '@pipeline/config';
import { compressionType } from '@pipeline/kafka';
import { deleteSubjects } from '@pipeline/testing';
import { readConfig as readCollectorConfig } from '@pipeline/producer/config';
import { readConfig as readProcessorConfig } from '@pipeline/stream-processor/config';
import { cleanupOnInterrupt, runBench } from '../lib/results';
import { AGENT_POOL_SIZE, BENCH_SCHEMAS, benchEvents, describeAgents } from './events';

const ROOT = resolve(__dirname, '../..');
const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '500000' },
    partitions: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(args.events);
const PARTITIONS = Number(args.partitions);
const ROUNDS = Number(args.rounds);
const BROKERS = process.env['KAFKA_BROKERS'] ?? LOCAL_URLS.kafkaBrokers;
const REGISTRY = process.env['SCHEMA_REGISTRY_URL'] ?? LOCAL_URLS.registry;
/** The processor's fetch defaults, given to the no-op consumer too. */
const PROCESSOR_DEFAULTS = readProcessorConfig({});
const MAX_BYTES_PER_PARTITION = String(PROCESSOR_DEFAULTS.MAX_BYTES_PER_PARTITION);
const FETCH_MIN_BYTES = String(PROCESSOR_DEFAULTS.FETCH_MIN_BYTES);
const FETCH_MAX_WAIT_MS = String(PROCESSOR_DEFAULTS.FETCH_MAX_WAIT_MS);
const CONCURRENCY = String(PROCESSOR_DEFAULTS.PARTITIONS_CONSUMED_CONCURRENTLY);
/** The input's batches are compressed as the collector compresses them by default. */
const COLLECTOR_COMPRESSION = readCollectorConfig({}).KAFKA_COMPRESSION;
/**
 * V8 options for every consumer process (NODE_OPTIONS). None by default: the processor is measured as
 * it ships (`npm start`, the image and the chart set none). `--max-semi-space-size=32` gains about 2 %.
 */
const NODE_OPTIONS = process.env['BENCH_NODE_OPTIONS'] ?? '';

type Mode = 'noop' | 'passthrough' | 'at_least_once' | 'exactly_once' | 'exactly_once_x2';
const ALL_MODES: readonly Mode[] = ['noop', 'passthrough', 'at_least_once', 'exactly_once', 'exactly_once_x2'];
interface Sample {
  t: number;
  count: number;
  cpu: number;
}
interface Measurement {
  mode: Mode;
  round: number;
  events: number;
  seconds: number;
  eventsPerSec: number;
  cpuSeconds: number;
  /** CPU seconds per wall second of the consumer process(es) over the measured interval. */
  coresUsed: number;
  /** eventsPerSec / coresUsed (= events per CPU-second): the per-core figure. */
  eventsPerCpuSec: number;
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

function metric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** Polls a running consumer until it has seen every event; returns the rate between the first and the last record. */
async function measure(mode: Mode, round: number, children: ChildProcess[], sample: () => Promise<Sample | undefined>): Promise<Measurement> {
  let exitCode: number | null = null;
  for (const child of children) child.on('exit', (code) => (exitCode ??= code));
  const deadline = Date.now() + 15 * 60_000;
  let first: Sample | undefined;
  let last: Sample | undefined;
  for (;;) {
    if (exitCode !== null) throw new Error(`${mode} exited with ${exitCode}`);
    if (Date.now() > deadline) throw new Error(`${mode} did not finish`);
    const s = await sample().catch(() => undefined);
    if (s !== undefined && s.count > 0) {
      first ??= s;
      last = s;
      if (s.count >= EVENTS) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const child of children) child.kill('SIGTERM');
  const f = first as Sample;
  const l = last as Sample;
  const events = l.count - f.count;
  const seconds = (l.t - f.t) / 1000;
  const cpuSeconds = l.cpu - f.cpu;
  const coresUsed = cpuSeconds / seconds;
  const eventsPerSec = events / seconds;
  const m: Measurement = {
    mode,
    round,
    events,
    seconds: round2(seconds),
    eventsPerSec: Math.round(eventsPerSec),
    cpuSeconds: round2(cpuSeconds),
    coresUsed: round2(coresUsed),
    eventsPerCpuSec: Math.round(eventsPerSec / coresUsed),
  };
  console.error(
    `  ${mode.padEnd(15)} round ${round}: ${m.eventsPerSec} events/s on ${m.coresUsed} cores = ${m.eventsPerCpuSec} events/s per core (${events} events in ${m.seconds} s, ${m.cpuSeconds} CPU-s)`,
  );
  await Promise.all(children.map((child) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)))));
  return m;
}

/** Consumer processes that are running, so an interrupted bench stops them. */
const running = new Set<ChildProcess>();

function tracked(child: ChildProcess): ChildProcess {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** A plain kafkajs consumer script (noop-consumer.ts, passthrough-consumer.ts) that prints its count and CPU seconds. */
async function runBaseline(mode: 'noop' | 'passthrough', prefix: string, topic: string, round: number): Promise<Measurement> {
  const child = tracked(spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), '--tsconfig', join(ROOT, 'bench/processor/tsconfig.json'), join(ROOT, `bench/processor/${mode}-consumer.ts`)], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_OPTIONS,
      KAFKA_BROKERS: BROKERS,
      TOPIC: topic,
      OUT_TOPIC: passthroughTopic(prefix),
      GROUP_ID: `${prefix}-${mode}-${round}`,
      MAX_BYTES_PER_PARTITION,
      FETCH_MIN_BYTES,
      FETCH_MAX_WAIT_MS,
      PARTITIONS_CONSUMED_CONCURRENTLY: CONCURRENCY,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  }));
  let latest: Sample | undefined;
  let buffer = '';
  child.stdout?.on('data', (d: Buffer) => {
    buffer += d.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const parsed = JSON.parse(line) as { count: number; cpu: number };
      latest = { t: Date.now(), count: parsed.count, cpu: parsed.cpu };
    }
  });
  return measure(mode, round, [child], async () => latest);
}

const passthroughTopic = (prefix: string) => `${prefix}.passthrough`;

async function runProcessor(mode: 'at_least_once' | 'exactly_once' | 'exactly_once_x2', prefix: string, topic: string, round: number): Promise<Measurement> {
  const app = `${prefix}-${mode === 'at_least_once' ? 'alo' : mode === 'exactly_once' ? 'tx' : 'tx2'}-${round}`;
  const nodeArgs = (process.env['BENCH_PROCESSOR_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const instances = mode === 'exactly_once_x2' ? 2 : 1;
  const children: ChildProcess[] = [];
  const urls: string[] = [];
  for (let i = 0; i < instances; i++) {
    const port = await freePort();
    urls.push(`http://127.0.0.1:${port}/metrics`);
    children.push(spawnProcessor(mode === 'at_least_once' ? 'at_least_once' : 'exactly_once', prefix, topic, app, port, nodeArgs));
  }
  return measure(mode, round, children, async () => {
    const texts = await Promise.all(urls.map(async (url) => (await fetch(url)).text()));
    const sum = (name: string) => texts.reduce((total, text) => total + metric(text, name), 0);
    // Two instances: measured once both have joined and processed records (not the first one alone before the rebalance).
    const started = texts.every((text) => metric(text, 'pipeline_processor_events_total') > 0);
    return { t: Date.now(), count: started ? sum('pipeline_processor_events_total') : 0, cpu: sum('process_cpu_seconds_total') };
  });
}

function spawnProcessor(mode: 'at_least_once' | 'exactly_once', prefix: string, topic: string, app: string, port: number, nodeArgs: string[]): ChildProcess {
  return tracked(spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/apps/stream-processor/main.cjs')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_OPTIONS,
      KAFKA_BROKERS: BROKERS,
      SCHEMA_REGISTRY_URL: REGISTRY,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      APPLICATION_ID: app,
      RAW_TOPIC: topic,
      CLEAN_TOPIC: `${app}.clean`,
      DLQ_TOPIC: `${app}.dlq`,
      LATE_TOPIC: `${app}.late`,
      AGGREGATE_TOPIC_PREFIX: `${app}.agg.`,
      SCHEMA_SUBJECT_PREFIX: `${prefix}.`,
      TOPIC_PARTITIONS: String(PARTITIONS),
      PROCESSING_GUARANTEE: mode,
      MAX_BYTES_PER_PARTITION,
      FETCH_MIN_BYTES,
      FETCH_MAX_WAIT_MS,
      PARTITIONS_CONSUMED_CONCURRENTLY: CONCURRENCY,
    },
    stdio: ['ignore', process.env['BENCH_VERBOSE'] ? 'inherit' : 'ignore', 'inherit'],
  }));
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/apps/stream-processor/main.cjs'))) throw new Error('build first: npx nx build stream-processor');
  const prefix = `bench_sp_${Date.now().toString(36)}`;
  const topic = `${prefix}.raw`;
  const kafka = new Kafka({ clientId: 'bench-processor', brokers: BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const results: Measurement[] = [];
  const dropRun = cleanupOnInterrupt(async () => {
    for (const child of running) child.kill('SIGKILL');
    if (!args.keep) await dropPrefixed(admin, prefix);
    await admin.disconnect();
  });
  try {
    console.error(`registering schemas, creating ${topic} (${PARTITIONS} partitions) and writing ${EVENTS} events`);
    const schemaIds: Record<string, number> = {};
    for (const [type, schema] of Object.entries(BENCH_SCHEMAS)) {
      const res = await fetch(`${REGISTRY}/subjects/${encodeURIComponent(`${prefix}.${type}`)}/versions`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
        body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
      });
      if (!res.ok) throw new Error(`registering ${type}: ${res.status} ${await res.text()}`);
      schemaIds[type] = ((await res.json()) as { id: number }).id;
    }
    await admin.createTopics({
      waitForLeaders: true,
      topics: [topic, passthroughTopic(prefix)].map((name) => ({ topic: name, numPartitions: PARTITIONS, replicationFactor: -1 })),
    });
    // Two hours of event time, as the collector writes it (zstd, the collector's default KAFKA_COMPRESSION).
    const compression = compressionType(COLLECTOR_COMPRESSION);
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const startMs = Date.now() - 2 * 3_600_000;
    const stepMs = (2 * 3_600_000) / EVENTS;
    let bytes = 0;
    const agents: string[] = [];
    for (let i = 0; i < EVENTS; i += 20_000) {
      const records = benchEvents({ runId: prefix, first: i, count: Math.min(20_000, EVENTS - i), startMs, stepMs, users: 100_000, schemaIds });
      bytes += records.reduce((sum, r) => sum + r.value.length, 0);
      for (const r of records) agents.push(r.agent);
      const messages = records.map(({ key, value }) => ({ key, value }));
      const sends = [];
      for (let j = 0; j < messages.length; j += 2_000) sends.push(producer.send({ topic, acks: -1, compression, messages: messages.slice(j, j + 2_000) }));
      await Promise.all(sends);
    }
    await producer.disconnect();
    const agentMix = describeAgents(agents);
    console.error(`input ready: ${EVENTS} events, ${Math.round(bytes / EVENTS)} bytes per value, ${agentMix.distinct} distinct user agents`);

    const modes = (process.env['BENCH_MODES'] ?? ALL_MODES.join(',')).split(',') as Mode[];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const mode of ALL_MODES.filter((m) => modes.includes(m))) {
        results.push(mode === 'noop' || mode === 'passthrough' ? await runBaseline(mode, prefix, topic, round) : await runProcessor(mode, prefix, topic, round));
      }
    }
    const best = (mode: Mode) => results.filter((r) => r.mode === mode).sort((a, b) => b.eventsPerSec - a.eventsPerSec)[0];
    const noop = best('noop');
    const passthrough = best('passthrough');
    const alo = best('at_least_once');
    const tx = best('exactly_once');
    const tx2 = best('exactly_once_x2');
    if (noop === undefined || passthrough === undefined || alo === undefined || tx === undefined || tx2 === undefined) {
      console.log(JSON.stringify(results, null, 2));
      console.error('not every mode ran: bench/results/processor.json left as it was');
      return;
    }
    const output = {
      name: 'processor',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), os: `${osType()} ${release()}`, node: process.version, kafka: '4.1.1 (local, one broker)' },
      node_options: NODE_OPTIONS,
      input: {
        events: EVENTS,
        partitions: PARTITIONS,
        bytes_per_value: Math.round(bytes / EVENTS),
        compression: COLLECTOR_COMPRESSION,
        aggregates: 'the three defaults (apps/stream-processor/aggregates.json)',
        users: 100_000,
        event_time_span_hours: 2,
        user_agents: { pool: AGENT_POOL_SIZE, popularity: 'Zipf s=1, one agent per user, 14% of events from a second device, 1% one-off agents', ...agentMix },
      },
      metrics: {
        noop_events_per_s: noop.eventsPerSec,
        passthrough_events_per_s: passthrough.eventsPerSec,
        at_least_once_events_per_s: alo.eventsPerSec,
        tx_events_per_s: tx.eventsPerSec,
        tx_2_instances_events_per_s: tx2.eventsPerSec,
        noop_events_per_s_per_core: noop.eventsPerCpuSec,
        passthrough_events_per_s_per_core: passthrough.eventsPerCpuSec,
        at_least_once_events_per_s_per_core: alo.eventsPerCpuSec,
        tx_events_per_s_per_core: tx.eventsPerCpuSec,
        tx_2_instances_events_per_s_per_core: tx2.eventsPerCpuSec,
        noop_cores_used: noop.coresUsed,
        passthrough_cores_used: passthrough.coresUsed,
        tx_cores_used: tx.coresUsed,
        tx_2_instances_cores_used: tx2.coresUsed,
      },
      ratios: {
        tx_vs_noop: round2(tx.eventsPerSec / noop.eventsPerSec),
        tx_vs_at_least_once: round2(tx.eventsPerSec / alo.eventsPerSec),
        tx_cost_vs_at_least_once: round2(1 - tx.eventsPerSec / alo.eventsPerSec),
        tx_2_instances_vs_noop: round2(tx2.eventsPerSec / noop.eventsPerSec),
        passthrough_vs_noop: round2(passthrough.eventsPerSec / noop.eventsPerSec),
        tx_vs_passthrough: round2(tx.eventsPerSec / passthrough.eventsPerSec),
      },
      targets: { tx_vs_noop_min: 0.4, tx_events_per_s_per_core_min: 25_000, tx_cost_vs_at_least_once_max: 0.4 },
      load_average_at_end: loadavg().map(round2),
      runs: results,
      notes:
        'events/s from the first to the last processed record; per core = events/s divided by the cores the consumer used over that interval (process CPU seconds / wall seconds, summed over both processes for 2 instances), i.e. events per CPU-second. Best of the rounds per mode; all runs listed. tx_vs_noop compares one process with one process; tx_2_instances_vs_noop lets the processor use both cores. passthrough_vs_noop is the ceiling of tx_vs_noop for any exactly-once processor on kafkajs: the passthrough consumer copies records in transactions and does nothing else.',
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/processor.json'), `${JSON.stringify(output, null, 2)}\n`);
    console.log(JSON.stringify({ metrics: output.metrics, ratios: output.ratios }, null, 2));
  } finally {
    await dropRun();
  }
}

/** Deletes the run's topics, consumer groups and registry subjects (all named `<prefix>...`). */
async function dropPrefixed(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  await deleteSubjects(REGISTRY, prefix);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

runBench(main);
