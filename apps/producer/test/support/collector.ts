/**
 * Helpers of the collector's integration tests: a collector in this process or as the built bundle,
 * topic readers, schema registration and broker control through the stack tool. Everything talks to
 * the real local stack.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createKafka } from '@pipeline/kafka';
import { decodeValue } from '@pipeline/schemas';
import { deleteSubjects as deleteRegistrySubjects, stackService, stackSettings, uniqueName, waitFor, type StackService } from '@pipeline/testing';
import { buildProducerApp } from '../../src/app';
import { readConfig } from '../../src/config';
import { hashWriteKey } from '../../src/http/auth';

export const ROOT = join(__dirname, '..', '..', '..', '..');
export const WRITE_KEY = 'integration-write-key';
export const settings = stackSettings();
// kafkajs logs retriable broker errors at ERROR level while the broker restarts; assertions report real failures.
export const quietLog = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Env of a collector isolated from everyone else: its own topics, schema subjects and spool directory. */
export function isolatedEnv(name: string, extra: Record<string, string> = {}): Record<string, string> {
  const id = uniqueName(name);
  return {
    EVENTS_TOPIC: `${id}_raw`,
    DLQ_TOPIC: `${id}_dlq`,
    SCHEMA_SUBJECT_PREFIX: `${id}.`,
    SPOOL_DIR: mkdtempSync(join(tmpdir(), `${id}-spool-`)),
    TOPIC_PARTITIONS: '3',
    WRITE_KEYS: JSON.stringify([{ source: 'it', sha256: hashWriteKey(WRITE_KEY), rate_per_sec: 1_000_000, burst: 1_000_000 }]),
    SCHEMA_REFRESH_MS: '500',
    SCHEMA_MISS_TTL_MS: '200',
    ...extra,
  };
}

export interface InProcessCollector {
  url: string;
  registry: Registry;
  app: ReturnType<typeof buildProducerApp>;
  stop: () => Promise<void>;
}

/** The collector built from its real parts in this process, listening on a free port. */
export async function startInProcess(env: Record<string, string>): Promise<InProcessCollector> {
  const port = await freePort();
  const config = readConfig({ ...process.env, ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'silent' });
  const registry = new Registry();
  const kafka = createKafka(config, { clientId: 'producer-it', log: quietLog });
  const app = buildProducerApp({ config, log: quietLog, registry, kafka });
  await app.lifecycle.start();
  return { url: `http://127.0.0.1:${port}`, registry, app, stop: () => app.lifecycle.stop() };
}

export interface SpawnedCollector {
  url: string;
  child: ChildProcess;
  output: () => string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

/** The built bundle (dist/apps/producer/main.cjs) as its own process, once it answers /healthz. */
export async function spawnCollector(env: Record<string, string>): Promise<SpawnedCollector> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'producer', 'main.cjs')], {
    env: { ...process.env, ...env, HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/readyz`)).ok, { timeoutMs: 30_000, what: `the collector to be ready:\n${output}` });
  return { url, child, output: () => output, exit };
}

/** A metric's value from /metrics text (sum over label sets matching `labels`). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** Registers a JSON Schema under `subject`; returns its id. */
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

export interface ReadRecord {
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  partition: number;
}

/**
 * Reads a topic from the beginning until `until(records)` holds, then returns what it read. On timeout it
 * throws, unless `returnOnTimeout` (then the caller reports what is missing).
 */
export async function readTopic(kafka: Kafka, topic: string, until: (records: ReadRecord[]) => boolean, timeoutMs = 60_000, returnOnTimeout = false): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('it_reader'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  const records: ReadRecord[] = [];
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
          records.push({ key: m.key?.toString() ?? null, value: m.value ?? Buffer.alloc(0), headers, partition: batch.partition });
        }
      },
    });
    try {
      await waitFor(() => until(records), { timeoutMs, intervalMs: 200, what: `records on ${topic}` });
    } catch (err) {
      if (!returnOnTimeout) throw err;
    }
    return records;
  } finally {
    await consumer.disconnect();
  }
}

/** event_ids of framed or plain values. */
export function eventIds(records: ReadRecord[]): string[] {
  return records.map((r) => decodeValue(r.value).record.event_id);
}

/** Stops or starts a shared service (the broker by default) through the stack tool, so its pid files stay right. */
export async function stack(action: 'up' | 'down', service: StackService = 'kafka'): Promise<void> {
  await stackService(action, service);
}

export async function postEvents(url: string, events: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${WRITE_KEY}`, ...headers },
    body: typeof events === 'string' || Buffer.isBuffer(events) ? (events as string) : JSON.stringify(events),
  });
}

export function makeEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_id: uniqueName('ev'), event_type: 'page_view', occurred_at: new Date().toISOString(), user_id: 'user-1', properties: { url: '/' }, ...over };
}
