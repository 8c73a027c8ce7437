import pino from 'pino';
import { Registry } from 'prom-client';
import type { Kafka } from 'kafkajs';
import type { Client } from 'minio';
import type { Trino } from 'trino-client';
import type { JdbcCatalog } from '@pipeline/lake';
import { buildCompactorApp } from './app';
import { readConfig } from './config';

const kafka = {
  admin: () => ({
    connect: async () => undefined,
    disconnect: async () => undefined,
    describeCluster: async () => ({ brokers: [{ nodeId: 1, host: '127.0.0.1', port: 1 }], controller: 1, clusterId: 'c' }),
  }),
  producer: () => ({}),
} as unknown as Kafka;

const catalog = (up: boolean): JdbcCatalog => ({
  metadataLocation: async () => undefined,
  swapMetadataLocation: async () => false,
  listTables: async () => [],
  ping: async () => {
    if (!up) throw new Error('catalog database: connection refused');
  },
  close: async () => undefined,
});

function build(opts: { bucket: boolean; catalog: boolean }) {
  const s3 = { bucketExists: async () => opts.bucket } as unknown as Client;
  return buildCompactorApp({
    config: { ...readConfig({}), HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' }, log: pino({ level: 'silent' }), registry: new Registry(), kafka, s3, trino: {} as Trino, catalog: catalog(opts.catalog), schemas: { get: async () => ({}) } });
}

describe('compactor app', () => {
  it('routes upkeep triggers by task name and serves the compactor metrics', async () => {
    const { http } = build({ bucket: true, catalog: true });
    expect((await http.inject({ method: 'POST', url: '/upkeep/vacuum' })).statusCode).toBe(404);
    const res = await http.inject({ method: 'POST', url: '/upkeep/expire_snapshots' });
    // The catalog lists no lake tables, so the task runs over none and succeeds.
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ task: 'expire_snapshots', tables: [] });
    const metrics = (await http.inject('/metrics')).body;
    for (const name of ['pipeline_compactor_rows_written_total', 'pipeline_compactor_files_per_commit', 'pipeline_compactor_commit_duration_seconds', 'pipeline_compactor_consumer_lag_messages', 'pipeline_compactor_upkeep_runs_total']) {
      expect(metrics).toContain(name);
    }
    expect(metrics).toContain('pipeline_compactor_upkeep_runs_total{task="expire_snapshots",outcome="ok"} 1');
  });
});
