import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { DLQ_HEADERS, buildDlqHeaders, decodeValue, encodeUnframedValue, parseDlqHeaders, type CleanEvent } from '@pipeline/schemas';
import { createCleanup, waitFor } from '@pipeline/testing';
import type { ReplayResult } from '../../src/replay/replay';
import {
  REPO_ROOT,
  connectedProducer,
  createRawTopic,
  deleteSubjects,
  deleteTestTopics,
  isolatedEnv,
  makeEvent,
  metricValue,
  produceEvents,
  registerSchema,
  startInProcess,
  startReader,
  testKafka,
  type InProcessProcessor,
  type TestEnv,
} from '../support/processor';

const cleanup = createCleanup();
// The processor caches a subject's latest schema version; keep that short so the fix is seen at once.
const env = isolatedEnv('it_sp_replay', { SCHEMA_LATEST_TTL_MS: '200' });
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let processor: InProcessProcessor;

beforeAll(async () => {
  kafka = testKafka('sp-it-replay');
  admin = kafka.admin();
  await admin.connect();
  cleanup.add(() => admin.disconnect());
  cleanup.add(() => deleteTestTopics(admin, env));
  cleanup.add(() => deleteSubjects(env.SCHEMA_SUBJECT_PREFIX));
  await createRawTopic(admin, env);
  producer = await connectedProducer(kafka);
  cleanup.add(() => producer.disconnect());
  processor = await startInProcess(env);
  cleanup.add(() => processor.stop());
});
afterAll(() => cleanup.run());

/** Runs the real CLI (`npm run replay-dlq` runs the same file through tsx). */
function runReplay(testEnv: TestEnv, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs'), '--tsconfig', join(REPO_ROOT, 'apps/stream-processor/tsconfig.json'), join(REPO_ROOT, 'apps/stream-processor/src/cli/replay-dlq.ts'), ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...testEnv },
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('replay-dlq', () => {
  it('re-injects dead-lettered events after a schema fix, shows progress, and replaying again duplicates nothing', async () => {
    const now = Date.now();
    const strict = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}signup`, { type: 'object', properties: { plan: { enum: ['free'] } }, required: ['plan'] });
    const signups = Array.from({ length: 20 }, (_, i) => makeEvent({ id: `signup-${i}`, type: 'signup', atMs: now - 60_000 + i, user: `u${i}`, properties: { plan: 'pro' } }));
    await produceEvents(producer, env.RAW_TOPIC, signups, { signup: strict });
    // What the collector dead-letters itself: an event type without a schema, unframed, no source offset.
    const trials = Array.from({ length: 10 }, (_, i) => makeEvent({ id: `trial-${i}`, type: 'trial_started', atMs: now - 60_000 + i, user: `t${i}` }));
    const collectorHeaders = buildDlqHeaders({ originalTopic: env.RAW_TOPIC, originalPartition: 0, originalOffset: '0', errorCode: 'unknown_event_type', attempt: 1, reason: 'no schema' });
    delete collectorHeaders[DLQ_HEADERS.originalPartition];
    delete collectorHeaders[DLQ_HEADERS.originalOffset];
    await producer.send({ topic: env.DLQ_TOPIC, messages: trials.map((e) => ({ key: e.user_id, value: encodeUnframedValue(e), headers: { ...collectorHeaders, 'x-dlq-source': 'collector', event_type: 'trial_started' } })) });
    // Noise that must stay in the DLQ: another type.
    await produceEvents(producer, env.RAW_TOPIC, [makeEvent({ id: 'other-1', type: 'unregistered', atMs: now - 1_000, user: 'o' })], { unregistered: 999_999_999 });

    const reader = await startReader(kafka, [env.CLEAN_TOPIC, env.DLQ_TOPIC]);
    cleanup.add(() => reader.stop());
    const of = (topic: string) => reader.records.filter((r) => r.topic === topic);
    await waitFor(() => of(env.DLQ_TOPIC).length >= 31, { timeoutMs: 30_000, what: 'the DLQ records' });
    const processorDlq = of(env.DLQ_TOPIC).filter((r) => r.headers['x-dlq-source'] === 'stream-processor').map((r) => parseDlqHeaders(r.headers)?.errorCode);
    expect(processorDlq.sort()).toEqual([...Array(20).fill('schema_violation'), 'unknown_schema']);
    expect(of(env.CLEAN_TOPIC)).toHaveLength(0);

    // The schema fix: a new signup version that allows the plan, and a schema for the unknown type.
    const fixed = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}signup`, { type: 'object', properties: { plan: { enum: ['free', 'pro'] } }, required: ['plan'] });
    const trial = await registerSchema(`${env.SCHEMA_SUBJECT_PREFIX}trial_started`, { type: 'object', properties: { url: { type: 'string' } } });
    const first = await runReplay(env, ['--since', '1h', '--type', 'signup', '--type', 'trial_started']);
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout) as ReplayResult;
    expect(summary).toMatchObject({ matched: 30, replayed: 30, dryRun: false });
    expect(first.stderr).toMatch(/scanned \d+\/\d+ \(\d+%\), matched \d+, replayed \d+/);

    await waitFor(() => of(env.CLEAN_TOPIC).length >= 30, { timeoutMs: 60_000, what: 'replayed events in events.clean' });
    const clean = of(env.CLEAN_TOPIC).map((r) => decodeValue<CleanEvent>(r.value));
    expect(new Set(clean.map((c) => c.record.event_id))).toEqual(new Set([...signups, ...trials].map((e) => e.event_id)));
    expect(new Set(clean.filter((c) => c.record.event_type === 'signup').map((c) => c.schemaId))).toEqual(new Set([fixed]));
    expect(new Set(clean.filter((c) => c.record.event_type === 'trial_started').map((c) => c.schemaId))).toEqual(new Set([trial]));

    // Again with the same filter: the checkpoint says there is nothing left.
    const second = await runReplay(env, ['--since', '1h', '--type', 'signup', '--type', 'trial_started']);
    expect(JSON.parse(second.stdout)).toMatchObject({ replayed: 0 });
    // Forcing it from the start replays everything, and the processor drops every event as a duplicate.
    const duplicatesBefore = metricValue(await processor.metrics(), 'pipeline_processor_events_total', { outcome: 'duplicate' });
    const forced = await runReplay(env, ['--since', '1h', '--type', 'signup', '--type', 'trial_started', '--ignore-checkpoint']);
    expect(JSON.parse(forced.stdout)).toMatchObject({ replayed: 30 });
    await waitFor(async () => metricValue(await processor.metrics(), 'pipeline_processor_events_total', { outcome: 'duplicate' }) >= duplicatesBefore + 30, { timeoutMs: 30_000, what: 'the forced replay to be deduplicated' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(of(env.CLEAN_TOPIC)).toHaveLength(30);
    expect(of(env.DLQ_TOPIC)).toHaveLength(31);
  });

  it('rejects a missing --since with usage and exit code 2', async () => {
    const result = await runReplay(env, ['--type', 'signup']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--since is required');
  });
});
