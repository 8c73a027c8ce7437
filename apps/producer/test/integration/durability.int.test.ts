/**
 * "Acknowledged means durable": every event answered 2xx must reach Kafka, through a crash of the
 * collector (SIGKILL, spool on disk), a clean shutdown under load (SIGTERM), and a broker that stops
 * in the middle of a load run and comes back.
 */
import { readdirSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { createKafka } from '@pipeline/kafka';
import { createCleanup, uniqueName, waitFor } from '@pipeline/testing';
import { LOADGEN_SCHEMAS } from '../../src/loadgen/event-mix';
import { registerLoadgenSchemas } from '../../src/loadgen/register-schemas';
import { runLoad } from '../../src/loadgen/runner';
import {
  WRITE_KEY,
  deleteSubjects,
  eventIds,
  freePort,
  isolatedEnv,
  makeEvent,
  metricValue,
  postEvents,
  quietLog,
  readTopic,
  registerSchema,
  scrape,
  settings,
  spawnCollector,
  stack,
} from '../support/collector';

const cleanup = createCleanup();
let kafka: Kafka;

beforeAll(() => {
  kafka = createKafka(settings, { clientId: 'producer-it-durability', log: quietLog });
});
afterAll(() => cleanup.run());

function forget(env: Record<string, string>): void {
  cleanup.add(() => deleteSubjects(env['SCHEMA_SUBJECT_PREFIX'] as string));
  cleanup.add(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [env['EVENTS_TOPIC'] as string, env['DLQ_TOPIC'] as string] }).catch(() => undefined);
    await admin.disconnect();
  });
}

/** Every acknowledged id that is not in the topic (reads until all are there or `timeoutMs`). */
async function missingFromKafka(topic: string, acked: readonly string[], timeoutMs = 60_000): Promise<{ missing: string[] }> {
  const want = new Set(acked);
  const found = new Set<string>();
  let scanned = 0;
  const records = await readTopic(
    kafka,
    topic,
    (r) => {
      for (const id of eventIds(r.slice(scanned))) if (want.has(id)) found.add(id);
      scanned = r.length;
      return found.size === want.size;
    },
    timeoutMs,
    true,
  );
  const distinct = new Set(eventIds(records));
  return { missing: acked.filter((id) => !distinct.has(id)) };
}

describe('durable acknowledgement', () => {
  it('keeps spooled events through a SIGKILL and drains them to Kafka on restart', async () => {
    const env = isolatedEnv('it_spool');
    forget(env);
    await registerSchema(`${env['SCHEMA_SUBJECT_PREFIX']}page_view`, { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { url: { type: 'string' } } });
    // Nothing listens on this port: Kafka is "down" for the first life of the collector.
    const deadBroker = `127.0.0.1:${await freePort()}`;
    const first = await spawnCollector({ ...env, KAFKA_BROKERS: deadBroker });
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = Array.from({ length: 20 }, () => makeEvent({ user_id: `u-${i}` }));
      const res = await postEvents(first.url, batch);
      expect(res.status).toBe(202);
      sent.push(...batch.map((e) => e['event_id'] as string));
    }
    const metrics = await scrape(first.url);
    expect(metricValue(metrics, 'pipeline_producer_events_accepted_total', { via: 'spool' })).toBe(100);
    expect(metricValue(metrics, 'pipeline_producer_spool_depth_records')).toBe(100);
    first.child.kill('SIGKILL');
    expect((await first.exit)[1]).toBe('SIGKILL');
    expect(readdirSync(env['SPOOL_DIR'] as string).some((f) => f.startsWith('segment-'))).toBe(true);

    const second = await spawnCollector(env);
    cleanup.add(() => second.child.kill('SIGKILL'));
    await waitFor(async () => metricValue(await scrape(second.url), 'pipeline_producer_spool_depth_records') === 0, { timeoutMs: 30_000, what: 'the spool to drain' });
    const { missing } = await missingFromKafka(env['EVENTS_TOPIC'] as string, sent, 30_000);
    expect(missing).toEqual([]);
    second.child.kill('SIGTERM');
    expect(await second.exit).toEqual([0, null]);
  });

  it('on SIGTERM under load, answers what it took, flushes the producer, and exits 0 with every acknowledged event in Kafka', async () => {
    const env = isolatedEnv('it_sigterm');
    forget(env);
    await registerLoadgenSchemas(settings.SCHEMA_REGISTRY_URL, env['SCHEMA_SUBJECT_PREFIX'] as string);
    const collector = await spawnCollector(env);
    const load = runLoad({ url: collector.url, writeKey: WRITE_KEY, ratePerSec: 600, durationSec: 6, batch: 20, concurrency: 16, runId: uniqueName('sigterm'), trackIds: true, graceSec: 1 });
    await new Promise((r) => setTimeout(r, 3_000));
    collector.child.kill('SIGTERM');
    const [code, signal] = await collector.exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const result = await load;
    expect(result.ackedEvents).toBeGreaterThan(500);
    expect(result.ackedIds).toHaveLength(result.ackedEvents);
    const { missing } = await missingFromKafka(env['EVENTS_TOPIC'] as string, result.ackedIds ?? [], 30_000);
    expect(missing).toEqual([]);
    expect(collector.output()).toContain('"msg":"shutting down"');
  });

  it('loses no acknowledged event when the broker stops in the middle of a load run and starts again', async () => {
    const env = isolatedEnv('it_broker_restart', { KAFKA_SEND_TIMEOUT_MS: '3000' });
    forget(env);
    cleanup.add(() => stack('up'));
    await registerLoadgenSchemas(settings.SCHEMA_REGISTRY_URL, env['SCHEMA_SUBJECT_PREFIX'] as string);
    expect(Object.keys(LOADGEN_SCHEMAS).length).toBeGreaterThan(3);
    const collector = await spawnCollector(env);
    cleanup.add(() => collector.child.kill('SIGKILL'));
    const load = runLoad({ url: collector.url, writeKey: WRITE_KEY, ratePerSec: 600, durationSec: 24, batch: 20, concurrency: 32, runId: uniqueName('restart'), trackIds: true, graceSec: 60 });
    await new Promise((r) => setTimeout(r, 3_000));
    await stack('down');
    await new Promise((r) => setTimeout(r, 3_000));
    await stack('up');
    const result = await load;
    expect(result.failedEvents).toBe(0);
    expect(result.ackedEvents).toBeGreaterThan(5_000);
    const metrics = await scrape(collector.url);
    // The outage really happened: events were acknowledged from the spool.
    expect(metricValue(metrics, 'pipeline_producer_events_accepted_total', { via: 'spool' })).toBeGreaterThan(0);
    await waitFor(async () => metricValue(await scrape(collector.url), 'pipeline_producer_spool_depth_records') === 0, { timeoutMs: 60_000, what: 'the spool to drain' });
    const acked = new Set(result.ackedIds);
    const { missing } = await missingFromKafka(env['EVENTS_TOPIC'] as string, [...acked], 60_000);
    expect({ lost: missing.length, sample: missing.slice(0, 5) }).toEqual({ lost: 0, sample: [] });
    collector.child.kill('SIGTERM');
    expect((await collector.exit)[0]).toBe(0);
  }, 180_000);
});
