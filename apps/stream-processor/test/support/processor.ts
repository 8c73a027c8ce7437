import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Partitioners, type Admin, type IHeaders, type Kafka, type Producer } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createKafka } from '@pipeline/kafka';
import { encodeFramedValue, encodeUnframedValue } from '@pipeline/schemas';
import { deleteSubjects as deleteRegistrySubjects, stackSettings, uniqueName, waitFor } from '@pipeline/testing';
import { loadAggregatesConfig } from '../../src/aggregates/aggregates-config';
import { buildProcessorApp } from '../../src/app';
import { readConfig } from '../../src/config';

export const settings = stackSettings();
// kafkajs logs retriable coordinator errors at ERROR while groups and transactions start; assertions report real failures.
export const quietLog = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });
export const REPO_ROOT = resolve(__dirname, '../../../..');

/** Aggregates for tests: the three defaults with a 2-minute session gap and short watermark settings. */
export const TEST_AGGREGATES = {
  timeField: 'occurred_at',
  watermark: { maxOutOfOrderness: '5s', allowedLateness: '10s', idleTimeout: '20s', maxFuture: '5m' },
  aggregates: [
    { name: 'events_per_type_per_minute', window: { type: 'tumbling', size: '1m' }, groupBy: ['event_type'], measures: [{ kind: 'count' }] },
    { name: 'active_users_5m', window: { type: 'hopping', size: '5m', slide: '1m' }, measures: [{ kind: 'distinct', field: 'user_key', name: 'active_users' }] },
    { name: 'user_sessions', window: { type: 'session', gap: '2m' }, groupBy: ['user_key'], measures: [{ kind: 'count', name: 'events' }, { kind: 'duration' }] },
  ],
};
export const SESSION_GAP_MS = 120_000;

export interface TestEnv extends Record<string, string> {
  APPLICATION_ID: string;
  RAW_TOPIC: string;
  CLEAN_TOPIC: string;
  DLQ_TOPIC: string;
  LATE_TOPIC: string;
  AGGREGATE_TOPIC_PREFIX: string;
  SCHEMA_SUBJECT_PREFIX: string;
}

/** Settings of one test: topics, group, subjects and transactional ids all under a unique prefix. */
export function isolatedEnv(prefix: string, overrides: Record<string, string> = {}): TestEnv {
  const id = uniqueName(prefix);
  const dir = mkdtempSync(join(tmpdir(), `${id}-`));
  const aggregatesFile = join(dir, 'aggregates.json');
  writeFileSync(aggregatesFile, JSON.stringify(TEST_AGGREGATES));
  return {
    KAFKA_BROKERS: settings.KAFKA_BROKERS.join(','),
    SCHEMA_REGISTRY_URL: settings.SCHEMA_REGISTRY_URL,
    APPLICATION_ID: id,
    RAW_TOPIC: `${id}.raw`,
    CLEAN_TOPIC: `${id}.clean`,
    DLQ_TOPIC: `${id}.dlq`,
    LATE_TOPIC: `${id}.late`,
    AGGREGATE_TOPIC_PREFIX: `${id}.agg.`,
    SCHEMA_SUBJECT_PREFIX: `${id}.`,
    AGGREGATES_FILE: aggregatesFile,
    TOPIC_PARTITIONS: '3',
    CONSUMER_SESSION_TIMEOUT_MS: '6000',
    SNAPSHOT_INTERVAL_MS: '2000',
    PROGRESS_INTERVAL_MS: '200',
    LOG_LEVEL: 'warn',
    HTTP_HOST: '127.0.0.1',
    ...overrides,
  };
}

export function testKafka(clientId: string): Kafka {
  return createKafka(settings, { clientId, log: quietLog });
}

/** Creates the input topic (so tests can produce before the processor starts). */
export async function createRawTopic(admin: Admin, env: TestEnv, partitions = 3): Promise<void> {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: env.RAW_TOPIC, numPartitions: partitions, replicationFactor: -1 }] });
}

/** Deletes every topic of the test (its prefix) and its consumer groups. */
export async function deleteTestTopics(admin: Admin, env: TestEnv): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(env.APPLICATION_ID));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(env.APPLICATION_ID));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
}

export interface InProcessProcessor {
  url: string;
  stop(): Promise<void>;
  metrics(): Promise<string>;
}

/** Runs the processor in this process (real Kafka and registry), listening on a free port. */
export async function startInProcess(env: TestEnv): Promise<InProcessProcessor> {
  const config = { ...readConfig(env), HTTP_PORT: 0 };
  const kafka = createKafka(config, { clientId: `${env.APPLICATION_ID}-processor`, log: quietLog });
  const { http, lifecycle } = buildProcessorApp({ config, aggregates: loadAggregatesConfig(config.AGGREGATES_FILE), log: quietLog, registry: new Registry(), kafka });
  await lifecycle.start();
  const address = http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => lifecycle.stop(),
    metrics: async () => (await http.inject('/metrics')).body,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ChildProcessor {
  process: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs the built processor (dist/apps/stream-processor/main.cjs) as a child process. */
export async function startChild(env: TestEnv, instance: string): Promise<ChildProcessor> {
  const port = await freePort();
  const main = join(REPO_ROOT, 'dist/apps/stream-processor/main.cjs');
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env['PATH'] ?? '', ...env, HTTP_PORT: String(port), INSTANCE_ID: instance },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 60_000, what: `${instance} ready`, intervalMs: 250 });
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n--- ${instance} output ---\n${output.slice(-4_000)}`);
  }
  return { process: child, url, output: () => output, exited };
}

export async function registerSchema(subject: string, schema: unknown): Promise<number> {
  const res = await fetch(`${settings.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
  });
  if (!res.ok) throw new Error(`registering ${subject}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

export function deleteSubjects(prefix: string): Promise<void> {
  return deleteRegistrySubjects(settings.SCHEMA_REGISTRY_URL, prefix);
}

export interface TestEvent {
  event_id: string;
  event_type: string;
  occurred_at: string;
  received_at: string;
  user_id: string | null;
  anonymous_id: string | null;
  properties: Record<string, unknown>;
  context: Record<string, unknown>;
}

export function makeEvent(opts: { id: string; type?: string; atMs: number; user: string; anonymous?: boolean; properties?: Record<string, unknown>; ua?: string }): TestEvent {
  return {
    event_id: opts.id,
    event_type: opts.type ?? 'page_view',
    occurred_at: new Date(opts.atMs).toISOString(),
    received_at: new Date(opts.atMs + 500).toISOString(),
    user_id: opts.anonymous ? null : opts.user,
    anonymous_id: opts.anonymous ? opts.user : null,
    properties: opts.properties ?? { url: '/home' },
    context: { user_agent: opts.ua ?? 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0 Safari/537.36' },
  };
}

export async function connectedProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/** Produces events the way the collector does: framed with `schemaId` (unframed when null), keyed by user. */
export async function produceEvents(producer: Producer, topic: string, events: TestEvent[], schemaIds: Record<string, number | null>, partition?: number): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    await producer.send({
      topic,
      acks: -1,
      messages: events.slice(i, i + 500).map((e) => {
        const id = schemaIds[e.event_type];
        return {
          key: e.user_id ?? e.anonymous_id,
          value: id === null || id === undefined ? encodeUnframedValue(e) : encodeFramedValue(id, e),
          ...(partition === undefined ? {} : { partition }),
        };
      }),
    });
  }
}

export interface ReadRecord {
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
  offset: number;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}

/** A read_committed reader of some topics that keeps everything it sees; `stop()` when done. */
export async function startReader(kafka: Kafka, topics: string[]): Promise<{ records: ReadRecord[]; stop(): Promise<void> }> {
  const consumer = kafka.consumer({ groupId: uniqueName('it_reader'), readUncommitted: false, maxWaitTimeInMs: 200 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) =>
      void records.push({ topic, key: message.key?.toString() ?? null, value: message.value ?? Buffer.alloc(0), headers: headersOf(message.headers), partition, offset: Number(message.offset) }),
  });
  return { records, stop: () => consumer.disconnect() };
}

/** Sum of a Prometheus metric's samples whose labels include `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
