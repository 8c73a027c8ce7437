import { Analytics } from '@segment/analytics-node';
import type { Kafka } from 'kafkajs';
import { createKafka } from '@pipeline/kafka';
import { decodeValue, type EventEnvelope } from '@pipeline/schemas';
import { createCleanup } from '@pipeline/testing';
import { WRITE_KEY, deleteSubjects, isolatedEnv, quietLog, readTopic, registerSchema, settings, startInProcess, type InProcessCollector } from '../support/collector';

const cleanup = createCleanup();
const env = isolatedEnv('it_segment');
const prefix = env['SCHEMA_SUBJECT_PREFIX'] as string;
let kafka: Kafka;
let collector: InProcessCollector;

beforeAll(async () => {
  kafka = createKafka(settings, { clientId: 'producer-it-segment', log: quietLog });
  cleanup.add(() => deleteSubjects(prefix));
  for (const type of ['order_completed', 'identify', 'page', 'screen', 'group', 'alias']) await registerSchema(`${prefix}${type}`, { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: {} });
  collector = await startInProcess(env);
  cleanup.add(() => collector.stop());
  cleanup.add(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [env['EVENTS_TOPIC'] as string, env['DLQ_TOPIC'] as string] }).catch(() => undefined);
    await admin.disconnect();
  });
});
afterAll(() => cleanup.run());

describe('Segment compatibility (the real @segment/analytics-node client, unchanged)', () => {
  it('delivers track, identify, page, screen, group and alias calls, mapped onto the envelope', async () => {
    const analytics = new Analytics({ writeKey: WRITE_KEY, host: collector.url, path: '/v1/batch', flushAt: 10, flushInterval: 200, maxRetries: 2 });
    const failures: unknown[] = [];
    analytics.on('error', (err) => failures.push(err));
    analytics.track({ userId: 'seg-user', event: 'Order Completed', properties: { total: 42.5, currency: 'EUR' } });
    analytics.identify({ userId: 'seg-user', traits: { plan: 'pro', email: 'a@example.com' } });
    analytics.page({ anonymousId: 'seg-anon', name: 'Pricing', properties: { url: 'https://example.com/pricing' } });
    analytics.screen({ userId: 'seg-user', name: 'Home' });
    analytics.group({ userId: 'seg-user', groupId: 'acme', traits: { seats: 12 } });
    analytics.alias({ userId: 'seg-user', previousId: 'seg-anon' });
    await analytics.closeAndFlush({ timeout: 15_000 });
    expect(failures).toEqual([]);

    const records = await readTopic(kafka, env['EVENTS_TOPIC'] as string, (r) => r.length >= 6);
    const events = records.map((r) => decodeValue(r.value).record);
    const byType = new Map<string, EventEnvelope>(events.map((e) => [e.event_type, e]));
    expect([...byType.keys()].sort()).toEqual(['alias', 'group', 'identify', 'order_completed', 'page', 'screen']);
    expect(byType.get('order_completed')).toMatchObject({ user_id: 'seg-user', properties: { total: 42.5, currency: 'EUR' }, context: { library: { name: '@segment/analytics-node' } } });
    expect(byType.get('identify')?.properties).toMatchObject({ plan: 'pro' });
    expect(byType.get('page')).toMatchObject({ anonymous_id: 'seg-anon', properties: { name: 'Pricing', url: 'https://example.com/pricing' } });
    expect(byType.get('group')?.properties).toMatchObject({ group_id: 'acme', seats: 12 });
    expect(byType.get('alias')?.properties).toEqual({ previous_id: 'seg-anon' });
    // Keyed by user as every other event.
    expect(records.find((r) => decodeValue(r.value).record.event_type === 'page')?.key).toBe('seg-anon');
  });
});
