/**
 * Hostile-input fuzzing of the built collector (dist/apps/producer/main.cjs) on the real stack.
 * Thousands of generated requests (see ../support/fuzz-cases.ts), ten at a time; after every ten
 * the same process must still answer /healthz, and every eight runs its RSS is read after a forced
 * GC. Every answer must be < 500 (except a 503 with Retry-After), every 4xx JSON with a code from
 * REQUEST_ERROR_CODES and no stack trace, the good events of a well-formed batch accepted whatever
 * their neighbours hold, and Kafka must end up with exactly what was acknowledged.
 * FUZZ_SEED / FUZZ_RUNS / FUZZ_TIME_LIMIT_S / FUZZ_SHRINK replay or extend the campaign.
 */
import fc from 'fast-check';
import type { Kafka } from 'kafkajs';
import { createKafka } from '@pipeline/kafka';
import { decodeValue } from '@pipeline/schemas';
import { RssSampler, gcOnSignalNodeOptions, createCleanup, fuzzParameters, fuzzSettings, looksLikeStackTrace, rawHttp, uniqueName, type RawOutcome } from '@pipeline/testing';
import { REQUEST_ERROR_CODES } from '../../src/http/errors';
import { WRITE_KEY, deleteSubjects, isolatedEnv, quietLog, readTopic, registerSchema, settings, spawnCollector, type SpawnedCollector } from '../support/collector';
import { collectorCase, renderCase, type CollectorCase, type Limits, type RenderedCase } from '../support/fuzz-cases';

const LIMITS: Limits = { maxBodyBytes: 65_536, maxDecompressedBytes: 262_144, maxBatchEvents: 25 };
const REQUESTS_PER_RUN = 10;
/** The first runs warm up the JIT, schema cache, sockets and heap; RSS counts from there. */
const WARM_UP_FRACTION = 0.3;
/** Every this many runs the collector is made to collect garbage, then its RSS is read. */
const GC_SAMPLE_EVERY = 8;
/**
 * Allowed RSS growth: median of the last 10 samples minus the median of the first 10 after the
 * warm-up, each read just after a forced full GC (without it RSS follows how long V8 put off
 * collecting: +60 MB in some 25 000-request runs with a flat heap). What is left is allocator
 * arenas (the Kafka worker thread and zlib keep their own): 3-18 MB per 4 200 requests. Keeping one body
 * of up to 64 KiB (256 KiB gunzipped) per request would add hundreds of MB.
 */
const RSS_GROWTH_LIMIT_MB = 32;
const SHED_CODES = new Set(['overloaded', 'spool_full', 'registry_unavailable', 'schema_unavailable', 'shutting_down']);
const ERROR_CODES = new Set<string>(REQUEST_ERROR_CODES);

const fuzz = fuzzSettings('collector', { seed: 20_260_127, numRuns: 420, timeLimitS: 150 });
const cleanup = createCleanup();
const env = isolatedEnv('it_fuzz', {
  MAX_BODY_BYTES: String(LIMITS.maxBodyBytes),
  MAX_DECOMPRESSED_BYTES: String(LIMITS.maxDecompressedBytes),
  MAX_BATCH_EVENTS: String(LIMITS.maxBatchEvents),
  // Fuzzed event types that match the pattern are looked up once, not every 200 ms.
  SCHEMA_MISS_TTL_MS: '600000',
  // SIGUSR2 makes the collector collect garbage before an RSS reading.
  NODE_OPTIONS: gcOnSignalNodeOptions(),
});
const prefix = env['SCHEMA_SUBJECT_PREFIX'] as string;
const rawTopic = env['EVENTS_TOPIC'] as string;
let kafka: Kafka;
let collector: SpawnedCollector;

beforeAll(async () => {
  kafka = createKafka(settings, { clientId: 'producer-it-fuzz', log: quietLog });
  cleanup.add(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [rawTopic, env['DLQ_TOPIC'] as string] }).catch(() => undefined);
    await admin.disconnect();
  });
  cleanup.add(() => deleteSubjects(prefix));
  await registerSchema(`${prefix}page_view`, { type: 'object', properties: { url: { type: 'string', maxLength: 2000 } }, required: ['url'], additionalProperties: false });
  for (const type of ['identify', 'page', 'screen', 'group', 'alias']) {
    await registerSchema(`${prefix}${type}`, { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: {} });
  }
  collector = await spawnCollector(env);
  cleanup.add(async () => {
    if (collector.child.exitCode === null && collector.child.signalCode === null) {
      collector.child.kill('SIGTERM');
      await collector.exit;
    }
  });
}, 60_000);
afterAll(() => cleanup.run());

interface Tally {
  requests: number;
  byStatus: Map<string, number>;
  goodSent: number;
  /** Good events the collector acknowledged, by id. */
  goodAccepted: Set<string>;
  /** Every event id any answer reported accepted. */
  accepted: Set<string>;
  shed: number;
}

function describeCase(c: CollectorCase, rendered: RenderedCase, outcome: RawOutcome): string {
  const p = c.payload;
  const shape = p.kind === 'events' ? `events x${p.events.length}` : p.kind === 'segment-batch' ? `segment batch x${p.calls.length}` : p.kind;
  const answer =
    outcome.kind === 'response'
      ? `${outcome.response.status} ${JSON.stringify(outcome.response.headers)} ${outcome.response.body.toString('utf8').slice(0, 400)}`
      : `${outcome.kind} after ${outcome.elapsedMs} ms (${outcome.received} bytes)`;
  return `${c.method} ${c.path.slice(0, 80)} [${shape}; auth ${JSON.stringify(c.auth)}; type ${JSON.stringify(c.contentType)}; encoding ${JSON.stringify(c.encoding)}; damage ${JSON.stringify(c.damage)}; framing ${c.framing}; headers ${JSON.stringify(c.headers).slice(0, 120)}; body ${rendered.request.body?.length ?? 0} bytes] -> ${answer}`;
}

/** Checks one answer against the invariants; returns a problem description or undefined. */
function verdict(c: CollectorCase, rendered: RenderedCase, outcome: RawOutcome, tally: Tally): string | undefined {
  if (outcome.kind === 'timeout') return 'no answer (hang)';
  if (outcome.kind === 'closed') return rendered.answerOptional ? undefined : 'connection closed without an answer';
  const { status, headers, body } = outcome.response;
  const key = `${status}`;
  tally.byStatus.set(key, (tally.byStatus.get(key) ?? 0) + 1);
  const text = body.toString('utf8');
  if (looksLikeStackTrace(text)) return 'the answer carries a stack trace or source path';
  let parsed: { error?: { code?: unknown }; accepted?: number; results?: Array<{ index: number; event_id: string | null; status: string }> } | undefined;
  if (status >= 400 && c.method !== 'HEAD') {
    if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) return `error answer is ${headers['content-type'] ?? 'untyped'}, not JSON`;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      return 'error answer is not valid JSON';
    }
    const code = parsed?.error?.code;
    if (typeof code !== 'string' || !ERROR_CODES.has(code)) return `error code ${JSON.stringify(code)} is not one of REQUEST_ERROR_CODES`;
    if (status === 503 && !(SHED_CODES.has(code) && /^\d+$/.test(headers['retry-after'] ?? ''))) return '503 without a load-shedding code and Retry-After';
    if (status === 429 && !/^\d+$/.test(headers['retry-after'] ?? '')) return '429 without Retry-After';
  }
  if (status >= 500 && status !== 503) return `server error ${status}`;
  if (status >= 200 && status < 300 && c.method !== 'HEAD' && /^application\/json\b/i.test(headers['content-type'] ?? '')) {
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      return '2xx answer is not valid JSON';
    }
  }
  for (const r of parsed?.results ?? []) if (r.status === 'accepted' && typeof r.event_id === 'string') tally.accepted.add(r.event_id);

  const expected = rendered.expect;
  if (!expected) return undefined;
  tally.goodSent += expected.good.length;
  if (status === 429 || status === 503) {
    tally.shed++;
    return undefined;
  }
  if (expected.events >= 0 && parsed?.results?.length !== expected.events) return `expected ${expected.events} results, got ${parsed?.results?.length}`;
  if (expected.good.length === 0) {
    return status < 300 || (status === 400 && parsed?.error?.code === 'all_events_rejected') ? undefined : 'a well-formed batch got neither per-event results nor all_events_rejected';
  }
  const ok = expected.api === 'events' ? 202 : 200;
  if (status !== ok) return `a well-formed batch with ${expected.good.length} good event(s) was answered ${status}, not ${ok}`;
  for (const { index, id } of expected.good) {
    const result = parsed?.results?.[index];
    if (result?.status !== 'accepted' || result.event_id !== id) return `good event #${index} (${id}) was not accepted: ${JSON.stringify(result)}`;
    tally.goodAccepted.add(id);
  }
  return undefined;
}

async function assertAlive(): Promise<void> {
  if (collector.child.exitCode !== null || collector.child.signalCode !== null) {
    throw new Error(`the collector exited (${collector.child.exitCode ?? collector.child.signalCode}):\n${collector.output().slice(-4000)}`);
  }
  const res = await fetch(`${collector.url}/healthz`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
}

describe('collector under hostile input (built bundle, real Kafka and registry)', () => {
  it(
    'never answers 5xx (but 503 + Retry-After), always a stable JSON error code, keeps good events, stays up with flat memory',
    async () => {
      const pid = collector.child.pid as number;
      const sampler = new RssSampler(pid);
      const tally: Tally = { requests: 0, byStatus: new Map(), goodSent: 0, goodAccepted: new Set(), accepted: new Set(), shed: 0 };
      const runId = uniqueName('fz');
      let counter = 0;
      const ctx = { writeKey: WRITE_KEY, limits: LIMITS, nextId: () => `${runId}-${counter++}` };
      const warmUpRuns = Math.max(3, Math.floor(fuzz.numRuns * WARM_UP_FRACTION));
      let runs = 0;
      const started = Date.now();

      await fc.assert(
        fc.asyncProperty(fc.array(collectorCase(LIMITS), { minLength: REQUESTS_PER_RUN, maxLength: REQUESTS_PER_RUN }), async (cases) => {
          const answers = await Promise.all(
            cases.map(async (c) => {
              const rendered = renderCase(c, ctx);
              return { c, rendered, outcome: await rawHttp(collector.url, rendered.request, 20_000) };
            }),
          );
          tally.requests += answers.length;
          for (const { c, rendered, outcome } of answers) {
            const problem = verdict(c, rendered, outcome, tally);
            if (problem) throw new Error(`${problem}\n  ${describeCase(c, rendered, outcome)}\n--- collector output (tail) ---\n${collector.output().slice(-3000)}`);
          }
          await assertAlive();
          if (collector.child.pid !== pid) throw new Error('the collector pid changed');
          runs++;
          if (runs === warmUpRuns) sampler.startMeasuring();
          if (runs % GC_SAMPLE_EVERY === 0) await sampler.sampleAfterGc();
        }),
        fuzzParameters(fuzz),
      );

      const rss = sampler.growth();
      const seconds = Math.round((Date.now() - started) / 1000);
      process.stderr.write(
        `fuzz collector: ${tally.requests} requests in ${seconds} s${runs < fuzz.numRuns ? ` (time limit: ${runs} of ${fuzz.numRuns} runs)` : ''}; statuses ${JSON.stringify(Object.fromEntries([...tally.byStatus].sort()))}; ` +
          `good events ${tally.goodAccepted.size}/${tally.goodSent} accepted (${tally.shed} well-formed requests shed); ` +
          `RSS after warm-up ${rss.afterWarmUpMb.toFixed(1)} MB, end ${rss.endMb.toFixed(1)} MB, growth ${rss.growthMb.toFixed(1)} MB, peak ${rss.peakMb.toFixed(1)} MB over ${rss.samples} samples after a forced GC\n`,
      );
      expect(rss.growthMb).toBeLessThan(RSS_GROWTH_LIMIT_MB);
      expect(tally.goodAccepted.size).toBeGreaterThan(runs);

      // Kafka holds every acknowledged good event, and nothing the collector did not acknowledge.
      const records = await readTopic(
        kafka,
        rawTopic,
        (r) => r.length >= tally.goodAccepted.size && r.filter((x) => tally.goodAccepted.has(decodeValue(x.value).record.event_id)).length >= tally.goodAccepted.size,
        90_000,
      );
      const written = records.map((r) => decodeValue(r.value).record.event_id);
      const writtenSet = new Set(written);
      expect([...tally.goodAccepted].filter((id) => !writtenSet.has(id))).toEqual([]);
      expect(written.filter((id) => !tally.accepted.has(id))).toEqual([]);
    },
    300_000,
  );
});
