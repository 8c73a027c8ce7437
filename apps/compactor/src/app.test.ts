import pino from 'pino';
import { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import type { Client } from 'minio';
import { buildCompactorApp } from './app';
import { readConfig } from './config';

const kafka = {
  admin: () => ({
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeCluster: async () => ({ brokers: [{ nodeId: 1, host: '127.0.0.1', port: 1 }], controller: 1, clusterId: 'c' }),
  }),
} as unknown as Kafka;

describe('compactor app', () => {
  it.each([
    ['present', true, 200],
    ['missing', false, 503],
  ])('with the lake bucket %s answers /readyz %#', async (_label, exists, status) => {
    const s3 = { bucketExists: async () => exists } as unknown as Client;
    const config = { ...readConfig({}), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
    const { http, lifecycle } = buildCompactorApp({ config, log: pino({ level: 'silent' }), registry: new Registry(), kafka, s3 });
    await lifecycle.start();
    const res = await http.inject('/readyz');
    expect(res.statusCode).toBe(status);
    if (!exists) expect(res.json().checks['object-store'].detail).toBe(`bucket ${config.S3_BUCKET} does not exist`);
    await lifecycle.stop();
  });
});
