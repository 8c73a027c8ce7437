/**
 * Integration helpers: unique topics, schemas and lake namespaces per test; producing cleaned
 * events and aggregates the way the stream processor does (transactions, wire format); running the
 * built compactor as a child process; and reading the lake back through Trino and the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { ensureTopics } from '@pipeline/kafka';
import { createS3Client, createTrino, queryAll, type QueryResult } from '@pipeline/lake';
import { encodeFramedValue, encodeUnframedValue, type AggregateRecord, type CleanEvent } from '@pipeline/schemas';
import { deleteSubjects, stackSettings, uniqueName, waitFor } from '@pipeline/testing';

export const settings = stackSettings();
export const s3 = createS3Client(settings);
export const trino = createTrino(settings);
export const kafka = new Kafka({ clientId: 'compactor-it', brokers: settings.KAFKA_BROKERS, logLevel: logLevel.NOTHING });
export const sql = (statement: string): Promise<QueryResult> => queryAll(trino, statement);

const REPO = resolve(__dirname, '../../../..');
const MAIN = join(REPO, 'dist/apps/compactor/main.cjs');
export const LOG_DIR = join(REPO, 'tmp/compactor-it');

export interface Scenario {
  id: string;
  eventsTopic: string;
  aggPrefix: string;
  dlqTopic: string;
  lateTopic: string;
  group: string;
  namespace: string;
  subjectPrefix: string;
}

/** Fresh names for one test: topics, group, lake namespace (its tables keep their default names), registry subjects. */
export function scenario(prefix: string): Scenario {
  const id = uniqueName(prefix);
  return {
    id,
    eventsTopic: `${id}.clean`,
    aggPrefix: `${id}.agg.`,
    dlqTopic: `${id}.dlq`,
    lateTopic: `${id}.late`,
    group: `${id}-compactor`,
    namespace: id,
    subjectPrefix: `${id}-`,
  };
}

export async function createTopics(s: Scenario, partitions: number, aggNames: string[] = []): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [
      { topic: s.eventsTopic, numPartitions: partitions },
      { topic: s.dlqTopic, numPartitions: 1 },
      { topic: s.lateTopic, numPartitions: partitions },
      ...aggNames.map((n) => ({ topic: `${s.aggPrefix}${n}`, numPartitions: 1 })),
    ]);
  } finally {
    await admin.disconnect();
  }
}

/** Drops the scenario's tables, namespace, registry subjects and topics. */
export async function dropScenario(s: Scenario): Promise<void> {
  const tables = await sql(`SHOW TABLES FROM lake.${s.namespace}`).catch(() => ({ rows: [] as unknown[][] }));
  for (const [t] of tables.rows) await sql(`DROP TABLE IF EXISTS lake.${s.namespace}."${String(t)}"`).catch(() => undefined);
  await sql(`DROP SCHEMA IF EXISTS lake.${s.namespace}`).catch(() => undefined);
  await deleteSubjects(settings.SCHEMA_REGISTRY_URL, s.subjectPrefix).catch(() => undefined);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const mine = [...existing].filter((t) => t.startsWith(s.id));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** Registers a JSON Schema under `<prefix><eventType>`; returns its registry id. */
export async function registerSchema(s: Scenario, eventType: string, schema: object): Promise<number> {
  const res = await fetch(`${settings.SCHEMA_REGISTRY_URL}/subjects/${encodeURIComponent(s.subjectPrefix + eventType)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
  });
  if (!res.ok) throw new Error(`registering schema failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

export function objectSchema(properties: Record<string, unknown>): object {
  return { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties };
}

/** A cleaned event as the processor emits it. */
export function cleanEvent(runId: string, n: number, eventType: string, properties: Record<string, unknown>, now = Date.now()): CleanEvent {
  const iso = new Date(now).toISOString();
  return {
    event_id: `${runId}-${n}`,
    event_type: eventType,
    occurred_at: iso,
    received_at: iso,
    user_id: `user-${n % 97}`,
    anonymous_id: null,
    properties: properties as CleanEvent['properties'],
    context: { user_agent: 'Mozilla/5.0', locale: 'en-US', library: { name: 'it', version: '1' } },
    enrichment: { processed_at: iso, ua_browser: 'Chrome', ua_browser_version: '128.0', ua_os: 'Windows', ua_device_type: 'desktop' },
  };
}

export function aggregateRecord(name: string, n: number, now = Date.now()): AggregateRecord {
  const start = Math.floor(now / 60_000) * 60_000 - n * 60_000;
  return {
    aggregate: name,
    window_start: new Date(start).toISOString(),
    window_end: new Date(start + 60_000).toISOString(),
    group: { event_type: n % 2 === 0 ? 'click' : 'page_view' },
    event_count: n + 1,
    measures: { users: n, revenue: n * 1.5 },
    estimated: ['users'],
  };
}

/** A transactional producer, like the stream processor's (so read_committed matters). */
export async function transactionalProducer(id: string): Promise<Producer> {
  const producer = kafka.producer({ transactionalId: `${id}-tx-${Math.random().toString(36).slice(2)}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

/** Produces events in transactions of `perTransaction` records, keyed by user; returns the event ids. */
export async function produceEvents(
  producer: Producer,
  topic: string,
  events: Array<{ event: CleanEvent; schemaId?: number; raw?: Buffer }>,
  perTransaction = 500,
): Promise<void> {
  for (let i = 0; i < events.length; i += perTransaction) {
    const tx = await producer.transaction();
    try {
      await tx.send({
        topic,
        messages: events.slice(i, i + perTransaction).map(({ event, schemaId, raw }) => ({
          key: event.user_id ?? event.event_id,
          value: raw ?? (schemaId === undefined ? encodeUnframedValue(event) : encodeFramedValue(schemaId, event)),
        })),
      });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      throw err;
    }
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface CompactorProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** The compactor env of a scenario, with fast flushes and no scheduled upkeep. */
export function compactorEnv(s: Scenario, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EVENTS_TOPIC: s.eventsTopic,
    AGG_TOPIC_PREFIX: s.aggPrefix,
    DLQ_TOPIC: s.dlqTopic,
    LATE_TOPIC: s.lateTopic,
    GROUP_ID: s.group,
    LAKE_SCHEMA: s.namespace,
    FLUSH_MAX_AGE_MS: '500',
    UPKEEP_ENABLED: 'false',
    RETRY_MAX_DELAY_MS: '1000',
    LOG_LEVEL: 'info',
    SHUTDOWN_DEADLINE_MS: '15000',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    LAG_INTERVAL_MS: '1000',
    ...extra,
  };
}

const children = new Set<ChildProcess>();

/** Kills every compactor a test started and did not stop (call from afterAll). */
export function killCompactors(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
}

/** Starts the built compactor (dist/apps/compactor/main.cjs) and waits until /readyz answers 200. */
export async function startCompactor(s: Scenario, extra: Record<string, string> = {}, label = 'run'): Promise<CompactorProcess> {
  const port = await freePort();
  mkdirSync(LOG_DIR, { recursive: true });
  const logFile = createWriteStream(join(LOG_DIR, `${s.id}-${label}.log`), { flags: 'a' });
  const proc = spawn(process.execPath, [MAIN], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...compactorEnv(s, extra), HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  proc.stdout?.pipe(logFile);
  proc.stderr?.pipe(logFile);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  await waitFor(
    async () => {
      if (exitedEarly) throw new Error(`compactor exited during start; see ${join(LOG_DIR, `${s.id}-${label}.log`)}`);
      const res = await fetch(`${url}/readyz`).catch(() => undefined);
      return res?.status === 200;
    },
    { timeoutMs: 45_000, what: 'compactor ready' },
  ).catch((err: unknown) => {
    proc.kill('SIGKILL');
    throw err;
  });
  return {
    proc,
    port,
    url,
    exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
    async metric(name, labels = {}) {
      const text = await (await fetch(`${url}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const labelText = m[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
  };
}

/** Row count and duplicate event ids of the events table (0/0 when it does not exist yet). */
export async function lakeCounts(s: Scenario, table = 'events'): Promise<{ rows: number; distinct: number }> {
  const res = await sql(`SELECT count(*), count(DISTINCT event_id) FROM lake.${s.namespace}.${table}`);
  const [rows, distinct] = res.rows[0] as [number, number];
  return { rows, distinct };
}

/** Waits until the events table holds `n` rows. */
export async function waitForRows(s: Scenario, n: number, timeoutMs = 60_000, table = 'events'): Promise<{ rows: number; distinct: number }> {
  return waitFor(
    async () => {
      const c = await lakeCounts(s, table);
      return c.rows >= n ? c : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `${n} rows in ${s.namespace}.${table}` },
  );
}

/** Data files under the scenario's namespace that no snapshot references, and multipart uploads left open there. */
export async function orphans(s: Scenario, table = 'events'): Promise<{ files: string[]; uploads: string[] }> {
  const referenced = new Set((await sql(`SELECT file_path FROM lake.${s.namespace}."${table}$files"`)).rows.map((r) => String(r[0])));
  // Trino puts a schema's tables under <warehouse>/<schema>/ and the namespace is unique to the test.
  const prefix = `warehouse/${s.namespace}/`;
  const files: string[] = [];
  for await (const obj of s3.listObjectsV2(settings.S3_BUCKET, prefix, true)) {
    const name = (obj as { name?: string }).name;
    if (name && name.includes('/data/') && !referenced.has(`s3://${settings.S3_BUCKET}/${name}`)) files.push(name);
  }
  const uploads: string[] = [];
  const page = await s3.listIncompleteUploadsQuery(settings.S3_BUCKET, prefix, '', '', '');
  for (const u of page.uploads) uploads.push(u.key);
  return { files, uploads };
}

/** Records on the DLQ topic, read from the beginning with their headers. */
export async function readDlq(s: Scenario, expected: number, timeoutMs = 30_000): Promise<Array<{ headers: Record<string, string>; value: Buffer }>> {
  const consumer = kafka.consumer({ groupId: `${s.id}-dlq-reader-${Math.random().toString(36).slice(2)}` });
  const out: Array<{ headers: Record<string, string>; value: Buffer }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic: s.dlqTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(Array.isArray(v) ? v[0] : v);
      out.push({ headers, value: message.value ?? Buffer.alloc(0) });
    },
  });
  try {
    await waitFor(() => out.length >= expected, { timeoutMs, what: `${expected} DLQ records` });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** Stops or starts stack services through the stack tool (`npm run stack -- down|up <service>`), as an operator would. */
export async function stackService(action: 'down' | 'up', service: 'object-store' | 'trino' | 'postgres'): Promise<void> {
  await new Promise<void>((resolveRun, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'deploy/local/bin/run.mjs'), 'stack', action, service], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolveRun() : reject(new Error(`stack ${action} ${service} failed (${code}): ${out.slice(-2000)}`))));
  });
}

/** Produces transactional batches of `perTick` events every `tickMs` until stopped; counts what was committed. */
export function startLoad(s: Scenario, schemaId: number, opts: { perTick: number; tickMs: number; eventType?: string; properties?: (n: number) => Record<string, unknown> }) {
  let produced = 0;
  let stopped = false;
  let schema = schemaId;
  let properties = opts.properties ?? ((n: number) => ({ url: `/p/${n % 10}` }));
  const done = (async () => {
    const producer = await transactionalProducer(`${s.id}-load`);
    try {
      while (!stopped) {
        const started = Date.now();
        const batch = Array.from({ length: opts.perTick }, (_, i) => ({ event: cleanEvent(`${s.id}-load`, produced + i, opts.eventType ?? 'page_view', properties(produced + i)), schemaId: schema }));
        await produceEvents(producer, s.eventsTopic, batch, opts.perTick);
        produced += batch.length;
        await new Promise((r) => setTimeout(r, Math.max(0, opts.tickMs - (Date.now() - started))));
      }
    } finally {
      await producer.disconnect();
    }
  })();
  return {
    get produced() {
      return produced;
    },
    /** Switches what is produced from now on (e.g. a new schema version). */
    switchTo(nextSchemaId: number, nextProperties: (n: number) => Record<string, unknown>) {
      schema = nextSchemaId;
      properties = nextProperties;
    },
    async stop(): Promise<number> {
      stopped = true;
      await done;
      return produced;
    },
  };
}

/** Samples a metric every `everyMs` until stopped; returns the maximum seen. */
export function sampleMax(read: () => Promise<number>, everyMs = 250) {
  let max = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      max = Math.max(max, await read().catch(() => 0));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop(): Promise<number> {
      stopped = true;
      await done;
      return max;
    },
  };
}
