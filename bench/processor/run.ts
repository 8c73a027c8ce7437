/**
 * npm run bench:processor -- [--events 500000] [--partitions 4] [--rounds 2] [--keep]
 *
 * One run, one input topic, three consumers of it, each in its own process:
 *   noop            a kafkajs consumer that only counts (the ceiling for any kafkajs consumer here)
 *   at_least_once   the built stream processor (dist/apps/stream-processor/main.cjs), produce then commit
 *   exactly_once    the same build with Kafka transactions (the default)
 * Throughput is measured from the first to the last processed record (so start-up and group joins do
 * not count); events per CPU-second of the consumer process gives the per-core figure. With --rounds
 * N the modes alternate N times and the best of each is kept (the machine is shared and noisy).
 * Writes bench/results/processor.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CompressionTypes, Kafka, Partitioners, logLevel } from 'kafkajs';
import { LOCAL_URLS } from '@pipeline/config';
import { BENCH_SCHEMAS, benchEvents } from './events';

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
const MAX_BYTES_PER_PARTITION = String(1024 * 1024);
const CONCURRENCY = '4';
/** V8 options for every consumer process (NODE_OPTIONS); a larger young generation halves GC time for this allocation-heavy work. */
const NODE_OPTIONS = process.env['BENCH_NODE_OPTIONS'] ?? '--max-semi-space-size=32';

type Mode = 'noop' | 'at_least_once' | 'exactly_once';
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
async function measure(mode: Mode, round: number, child: ChildProcess, sample: () => Promise<Sample | undefined>): Promise<Measurement> {
  let exitCode: number | null = null;
  child.on('exit', (code) => (exitCode = code));
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
  child.kill('SIGTERM');
  const f = first as Sample;
  const l = last as Sample;
  const events = l.count - f.count;
  const seconds = (l.t - f.t) / 1000;
  const cpuSeconds = l.cpu - f.cpu;
  const m: Measurement = { mode, round, events, seconds: round2(seconds), eventsPerSec: Math.round(events / seconds), cpuSeconds: round2(cpuSeconds), eventsPerCpuSec: Math.round(events / cpuSeconds) };
  console.error(`  ${mode.padEnd(14)} round ${round}: ${m.eventsPerSec} events/s, ${m.eventsPerCpuSec} events per CPU-second (${events} events in ${m.seconds} s, ${m.cpuSeconds} CPU-s)`);
  await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
  return m;
}

async function runNoop(prefix: string, topic: string, round: number): Promise<Measurement> {
  const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), '--tsconfig', join(ROOT, 'bench/processor/tsconfig.json'), join(ROOT, 'bench/processor/noop-consumer.ts')], {
    env: { PATH: process.env['PATH'] ?? '', NODE_OPTIONS, KAFKA_BROKERS: BROKERS, TOPIC: topic, GROUP_ID: `${prefix}-noop-${round}`, MAX_BYTES_PER_PARTITION, PARTITIONS_CONSUMED_CONCURRENTLY: CONCURRENCY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
  return measure('noop', round, child, async () => latest);
}

async function runProcessor(mode: 'at_least_once' | 'exactly_once', prefix: string, topic: string, round: number): Promise<Measurement> {
  const port = await freePort();
  const app = `${prefix}-${mode === 'exactly_once' ? 'tx' : 'alo'}-${round}`;
  const nodeArgs = (process.env['BENCH_PROCESSOR_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/apps/stream-processor/main.cjs')], {
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
      PARTITIONS_CONSUMED_CONCURRENTLY: CONCURRENCY,
    },
    stdio: ['ignore', process.env['BENCH_VERBOSE'] ? 'inherit' : 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/metrics`;
  return measure(mode, round, child, async () => {
    const text = await (await fetch(url)).text();
    return { t: Date.now(), count: metric(text, 'pipeline_processor_events_total'), cpu: metric(text, 'process_cpu_seconds_total') };
  });
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist/apps/stream-processor/main.cjs'))) throw new Error('build first: npx nx build stream-processor');
  const prefix = `bench_sp_${Date.now().toString(36)}`;
  const topic = `${prefix}.raw`;
  const kafka = new Kafka({ clientId: 'bench-processor', brokers: BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const results: Measurement[] = [];
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
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: -1 }] });
    // Two hours of event time, as the collector writes it (gzip, the collector's default).
    const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const startMs = Date.now() - 2 * 3_600_000;
    const stepMs = (2 * 3_600_000) / EVENTS;
    let bytes = 0;
    for (let i = 0; i < EVENTS; i += 20_000) {
      const records = benchEvents({ runId: prefix, first: i, count: Math.min(20_000, EVENTS - i), startMs, stepMs, users: 100_000, schemaIds });
      bytes += records.reduce((sum, r) => sum + r.value.length, 0);
      const sends = [];
      for (let j = 0; j < records.length; j += 2_000) sends.push(producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: records.slice(j, j + 2_000) }));
      await Promise.all(sends);
    }
    await producer.disconnect();
    console.error(`input ready: ${EVENTS} events, ${Math.round(bytes / EVENTS)} bytes per value`);

    const modes = (process.env['BENCH_MODES'] ?? 'noop,at_least_once,exactly_once').split(',') as Mode[];
    for (let round = 1; round <= ROUNDS; round++) {
      if (modes.includes('noop')) results.push(await runNoop(prefix, topic, round));
      if (modes.includes('at_least_once')) results.push(await runProcessor('at_least_once', prefix, topic, round));
      if (modes.includes('exactly_once')) results.push(await runProcessor('exactly_once', prefix, topic, round));
    }
    const best = (mode: Mode) => results.filter((r) => r.mode === mode).sort((a, b) => b.eventsPerSec - a.eventsPerSec)[0] as Measurement;
    const noop = best('noop');
    const alo = best('at_least_once');
    const tx = best('exactly_once');
    const output = {
      name: 'processor',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), os: `${osType()} ${release()}`, node: process.version, kafka: '4.1.1 (local, one broker)' },
      node_options: NODE_OPTIONS,
      input: { events: EVENTS, partitions: PARTITIONS, bytes_per_value: Math.round(bytes / EVENTS), compression: 'gzip', aggregates: 'the three defaults (apps/stream-processor/aggregates.json)', users: 100_000, event_time_span_hours: 2 },
      metrics: {
        noop_events_per_s: noop.eventsPerSec,
        at_least_once_events_per_s: alo.eventsPerSec,
        tx_events_per_s: tx.eventsPerSec,
        noop_events_per_s_per_core: noop.eventsPerCpuSec,
        at_least_once_events_per_s_per_core: alo.eventsPerCpuSec,
        tx_events_per_s_per_core: tx.eventsPerCpuSec,
      },
      ratios: {
        tx_vs_noop: round2(tx.eventsPerSec / noop.eventsPerSec),
        tx_vs_at_least_once: round2(tx.eventsPerSec / alo.eventsPerSec),
        tx_cost_vs_at_least_once: round2(1 - tx.eventsPerSec / alo.eventsPerSec),
      },
      targets: { tx_vs_noop_min: 0.4, tx_events_per_s_per_core_min: 25_000, tx_cost_vs_at_least_once_max: 0.4 },
      runs: results,
      notes: 'events/s from the first to the last processed record of each consumer process; per core = events per CPU-second of that process. Best of the rounds per mode; all runs listed.',
    };
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench/results/processor.json'), `${JSON.stringify(output, null, 2)}\n`);
    console.log(JSON.stringify({ metrics: output.metrics, ratios: output.ratios }, null, 2));
  } finally {
    if (!args.keep) {
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      const subjects = ((await (await fetch(`${REGISTRY}/subjects`)).json()) as string[]).filter((s) => s.startsWith(prefix));
      for (const s of subjects) {
        await fetch(`${REGISTRY}/subjects/${encodeURIComponent(s)}`, { method: 'DELETE' });
        await fetch(`${REGISTRY}/subjects/${encodeURIComponent(s)}?permanent=true`, { method: 'DELETE' });
      }
    }
    await admin.disconnect();
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
