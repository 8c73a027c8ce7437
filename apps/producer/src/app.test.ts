import pino from 'pino';
import { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import { buildProducerApp } from './app';
import { readConfig } from './config';

function fakeKafka(up: boolean): Kafka {
  const client = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeCluster: async () => {
      if (!up) throw new Error('broker down');
      return { brokers: [{ nodeId: 1, host: '127.0.0.1', port: 1 }], controller: 1, clusterId: 'c' };
    },
  };
  return { producer: () => client, admin: () => client } as unknown as Kafka;
}

describe('producer app', () => {
  it.each([
    [true, 200],
    [false, 503],
  ])('with Kafka up=%s answers /readyz %i, and turns unready on shutdown', async (up, status) => {
    const config = { ...readConfig({}), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
    const { http, lifecycle, readiness } = buildProducerApp({ config, log: pino({ level: 'silent' }), registry: new Registry(), kafka: fakeKafka(up) });
    await lifecycle.start();
    expect((await http.inject('/healthz')).statusCode).toBe(200);
    expect((await http.inject('/readyz')).statusCode).toBe(status);
    await lifecycle.stop();
    expect(readiness.ready).toBe(false);
  });
});
