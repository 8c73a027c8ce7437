import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { BufferSet } from '../buffer/buffers';
import { createCompactorMetrics } from '../metrics';
import { LakeConsumer } from './lake-consumer';

const EVENTS = { GROUP_JOIN: 'consumer.group_join', CRASH: 'consumer.crash' };

/** A kafkajs client whose consumer joins (or crashes) when the test says so; run() resolves once started. */
function fakeKafka() {
  const consumer = new EventEmitter();
  const api = {
    events: EVENTS,
    on: (event: string, fn: (e: unknown) => void) => consumer.on(event, fn),
    connect: async () => undefined,
    subscribe: async () => undefined,
    run: async () => undefined,
    stop: async () => undefined,
    disconnect: async () => undefined,
  };
  const kafka = {
    admin: () => ({ connect: async () => undefined, disconnect: async () => undefined, listTopics: async () => ['clean', 'dlq', 'late'] }),
    consumer: () => api,
  } as unknown as Kafka;
  return { kafka, emit: (event: string, payload: unknown) => consumer.emit(event, { payload }) };
}

describe('LakeConsumer group membership', () => {
  it('reports joined on each group join and not joined when the consumer crashes', async () => {
    const { kafka, emit } = fakeKafka();
    const states: Array<[boolean, string]> = [];
    const consumer = new LakeConsumer({
      kafka,
      log: pino({ level: 'silent' }),
      metrics: createCompactorMetrics(new Registry()),
      buffers: new BufferSet({ maxRows: 10, maxBytes: 1_000, maxAgeMs: 1_000, memoryCapBytes: 10_000 }),
      groupId: 'g',
      fromBeginning: true,
      topics: ['clean', 'dlq', 'late'],
      aggTopicPrefix: 'agg.',
      route: () => undefined,
      committedNext: async () => -1n,
      retryMaxDelayMs: 10,
      sessionTimeoutMs: 10_000,
      onBuffered: () => undefined,
      onGroupMember: (joined, detail) => states.push([joined, detail]),
    });
    await consumer.start();
    expect(states).toEqual([]);
    emit(EVENTS.GROUP_JOIN, { memberAssignment: { clean: [0, 1], dlq: [0] } });
    emit(EVENTS.CRASH, { error: new Error('The coordinator is not aware of this member'), restart: true });
    emit(EVENTS.GROUP_JOIN, { memberAssignment: {} });
    expect(states).toEqual([
      [true, '3 partitions assigned'],
      [false, 'consumer crashed: The coordinator is not aware of this member'],
      [true, '0 partitions assigned'],
    ]);
    expect(consumer.isAssigned).toBe(false);
  });
});
