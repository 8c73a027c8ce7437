import pino from 'pino';
import { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import { loadAggregatesConfig } from './aggregates/aggregates-config';
import { buildProcessorApp } from './app';
import { readConfig } from './config';

/** Just enough of kafkajs for the app to start: topic admin, and a consumer that joins at once. */
function fakeKafka(up: boolean) {
  const topics = new Map<string, number>();
  const admin = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeCluster: async () => {
      if (!up) throw new Error('broker down');
      return { brokers: [{ nodeId: 1, host: '127.0.0.1', port: 1 }], controller: 1, clusterId: 'c' };
    },
    listTopics: async () => [...topics.keys()],
    createTopics: async ({ topics: specs }: { topics: { topic: string; numPartitions: number }[] }) => {
      for (const s of specs) topics.set(s.topic, s.numPartitions);
      return true;
    },
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => ({
      topics: names.map((name) => ({ name, partitions: Array.from({ length: topics.get(name) ?? 0 }, (_, partition) => ({ partitionId: partition, leader: 1 })) })),
    }),
  };
  const listeners = new Map<string, (e: { payload: unknown }) => void>();
  const subscribed: string[][] = [];
  const consumer = {
    events: { GROUP_JOIN: 'join', CRASH: 'crash' },
    on: (event: string, fn: (e: { payload: unknown }) => void) => void listeners.set(event, fn),
    connect: async () => undefined,
    subscribe: async ({ topics: t }: { topics: string[] }) => void subscribed.push(t),
    run: async () => listeners.get('join')?.({ payload: { memberAssignment: { 'events.raw': [0, 1] } } }),
    disconnect: async () => undefined,
  };
  return { kafka: { admin: () => admin, consumer: () => consumer } as unknown as Kafka, topics, subscribed };
}

const registryFetch = (async () => new Response('[]')) as unknown as typeof fetch;

describe('stream-processor app', () => {
  it('creates its topics (changelog co-partitioned with the input), subscribes to input and repartition topics, and is ready once joined', async () => {
    const fake = fakeKafka(true);
    const config = { ...readConfig({ TOPIC_PARTITIONS: '3' }), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
    const { http, lifecycle, readiness } = buildProcessorApp({ config, aggregates: loadAggregatesConfig(undefined), log: pino({ level: 'silent' }), registry: new Registry(), kafka: fake.kafka, fetch: registryFetch });
    await lifecycle.start();
    expect((await http.inject('/readyz')).statusCode).toBe(200);
    expect(Object.fromEntries(fake.topics)).toEqual({
      'events.raw': 3,
      'events.clean': 3,
      'events.late': 3,
      'events.dlq': 3,
      'agg.events_per_type_per_minute': 3,
      'agg.active_users_5m': 3,
      'agg.user_sessions': 3,
      'stream-processor-source-changelog': 3,
      'stream-processor-merge-repartition': 3,
      'stream-processor-merge-changelog': 3,
    });
    expect(fake.subscribed).toEqual([['events.raw', 'stream-processor-merge-repartition']]);
    const metrics = (await http.inject('/metrics')).body;
    expect(metrics).toContain('pipeline_processor_assigned_partitions{topic="events.raw"} 2');
    await lifecycle.stop();
    expect(readiness.ready).toBe(false);
  });

  it('answers /readyz 503 while Kafka is unreachable, and /healthz 200', async () => {
    const config = { ...readConfig({}), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
    const { http, lifecycle } = buildProcessorApp({ config, aggregates: loadAggregatesConfig(undefined), log: pino({ level: 'silent' }), registry: new Registry(), kafka: fakeKafka(false).kafka, fetch: registryFetch });
    await lifecycle.start();
    expect((await http.inject('/readyz')).statusCode).toBe(503);
    expect((await http.inject('/healthz')).statusCode).toBe(200);
    await lifecycle.stop();
  });
});
