import pino from 'pino';
import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics';
import { createOpsServer } from './ops-server';
import { Readiness } from './readiness';

describe('ops routes', () => {
  it('serves healthz, readyz that follows readiness, and metrics with app metrics', async () => {
    const registry = createMetricsRegistry('test-app');
    const counter = new Counter({ name: 'pipeline_test_things_total', help: 'things', registers: [registry] });
    counter.inc(3);
    const readiness = new Readiness().register('dep');
    const app = createOpsServer({ readiness, registry, log: pino({ level: 'silent' }) });

    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const notReady = await app.inject('/readyz');
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toMatchObject({ ready: false });

    readiness.set('dep', true);
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    readiness.beginShutdown();
    expect((await app.inject('/readyz')).statusCode).toBe(503);

    const metrics = await app.inject('/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('pipeline_test_things_total{app="test-app"} 3');
    expect(metrics.body).toContain('process_resident_memory_bytes');
    await app.close();
  });
});
