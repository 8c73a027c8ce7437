import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { registerCompressionCodecs } from '@pipeline/kafka';
import { runCommand } from '@pipeline/testing';

export const ROOT = join(__dirname, '..', '..');
const KAFKA_LIBS = join(process.env['PIPELINE_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'event-pipeline'), 'kafka-4.1.1', 'libs');

/** A kafkajs client without logs; it reads every codec the collector may write (see registerCompressionCodecs). */
export function quietKafka(brokers: string[], clientId: string): Kafka {
  registerCompressionCodecs();
  return new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 } });
}

export async function createTopic(kafka: Kafka, topic: string, partitions: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: -1 }] });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

export interface PerfTestResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p99LatencyMs: number;
}

/**
 * Kafka's own kafka-producer-perf-test (org.apache.kafka.tools.ProducerPerformance) on Java 17.
 * Records are `recordSize` random letters, or, with `payloadFile`, lines of that UTF-8 file picked at random.
 */
export async function producerPerfTest(
  opts: { brokers: string; topic: string; records: number; props?: Record<string, string>; java?: string } & ({ recordSize: number } | { payloadFile: string }),
): Promise<PerfTestResult> {
  const props = { 'bootstrap.servers': opts.brokers, acks: 'all', 'enable.idempotence': 'true', ...opts.props };
  const payload = 'payloadFile' in opts ? ['--payload-file', opts.payloadFile] : ['--record-size', String(opts.recordSize)];
  const out = await runCommand(opts.java ?? 'java', [
    '-Xmx512m',
    '-cp',
    `${KAFKA_LIBS}/*`,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    opts.topic,
    '--num-records',
    String(opts.records),
    ...payload,
    '--throughput',
    '-1',
    '--producer-props',
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ]);
  // Final line: "N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, p50, p95, p99, p999"
  const line = out.trim().split('\n').reverse().find((l) => /records sent, .* records\/sec/.test(l) && /99th/.test(l));
  const m = line && /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency.* (\d+) ms 99th/.exec(line);
  if (!m) throw new Error(`cannot read ProducerPerformance output:\n${out}`);
  return { records: Number(m[1]), recordsPerSec: Number(m[2]), mbPerSec: Number(m[3]), avgLatencyMs: Number(m[4]), p99LatencyMs: Number(m[5]) };
}

/** Stops or starts a stack service through the stack tool (pid files stay right). */
export async function stack(action: 'up' | 'down', service: string): Promise<void> {
  await runCommand(join(ROOT, 'node_modules', '.bin', 'tsx'), ['--tsconfig', join(ROOT, 'deploy/local/tsconfig.json'), join(ROOT, 'deploy/local/src/cli.ts'), 'stack', action, service], { cwd: ROOT });
}

/** Reads `topic` from the start until every id in `want` was seen or `timeoutMs` passed; returns the ids seen. */
export async function collectIds(kafka: Kafka, topic: string, want: ReadonlySet<string>, idOf: (value: Buffer) => string, timeoutMs: number): Promise<Set<string>> {
  const seen = new Set<string>();
  let found = 0;
  const consumer = kafka.consumer({ groupId: `bench-reader-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.value) continue;
          const id = idOf(m.value);
          if (!seen.has(id)) {
            seen.add(id);
            if (want.has(id)) found++;
          }
        }
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (found < want.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

