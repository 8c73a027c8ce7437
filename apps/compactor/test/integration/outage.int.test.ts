import { createCleanup } from '@pipeline/testing';
import {
  createTopics,
  dropScenario,
  killCompactors,
  objectSchema,
  registerSchema,
  sampleMax,
  scenario,
  stackService,
  startCompactor,
  startLoad,
  waitForRows,
} from '../support/harness';

const cleanup = createCleanup();
afterAll(async () => {
  killCompactors();
  await cleanup.run();
});

const OUTAGE_MS = 30_000;
const MEMORY_CAP = 2 * 1024 * 1024;

/**
 * Each dependency of the write path is stopped for 30 s under a steady load. The compactor retries
 * with backoff, consumption waits at the memory cap (lag grows instead), and when the service
 * returns everything produced is in the lake exactly once, without a restart.
 */
describe.each(['object-store', 'trino'] as const)('%s down for 30 s under load', (service) => {
  const s = scenario(`cmp_outage_${service.replace('-', '_')}`);
  beforeAll(async () => {
    await createTopics(s, 2);
    cleanup.add(() => dropScenario(s));
  });

  it('loses nothing, keeps memory bounded and recovers by itself', async () => {
    const v1 = await registerSchema(s, 'page_view', objectSchema({ url: { type: 'string' }, note: { type: 'string' } }));
    const compactor = await startCompactor(s, { BUFFER_MEMORY_CAP_BYTES: String(MEMORY_CAP) });
    cleanup.add(() => compactor.stop());
    const load = startLoad(s, v1, { perTick: 100, tickMs: 100, properties: (n) => ({ url: `/p/${n % 10}`, note: 'x'.repeat(200) }) });
    cleanup.add(() => load.stop());
    await waitForRows(s, 500);

    const memory = sampleMax(() => compactor.metric('pipeline_compactor_buffered_bytes'));
    const paused = sampleMax(() => compactor.metric('pipeline_compactor_consumption_paused'));
    const lag = sampleMax(() => compactor.metric('pipeline_compactor_consumer_lag_messages'));
    await stackService('down', service);
    try {
      const downAt = Date.now();
      const retriesBefore = await compactor.metric('pipeline_compactor_retries_total');
      if (service === 'trino') {
        // Ingestion of known columns does not need Trino (fast appends go to the store and the catalog)...
        const written = await compactor.metric('pipeline_compactor_rows_written_total');
        await new Promise((r) => setTimeout(r, 3_000));
        expect(await compactor.metric('pipeline_compactor_rows_written_total')).toBeGreaterThan(written);
        // ...but a new schema version needs ALTER TABLE ADD COLUMN, so the events table waits for Trino.
        const v2 = await registerSchema(s, 'page_view', objectSchema({ url: { type: 'string' }, note: { type: 'string' }, title: { type: 'string' } }));
        load.switchTo(v2, (n) => ({ url: `/p/${n % 10}`, note: 'x'.repeat(200), title: `t${n}` }));
      }
      await new Promise((r) => setTimeout(r, OUTAGE_MS - (Date.now() - downAt)));
      expect(await compactor.metric('pipeline_compactor_retries_total')).toBeGreaterThan(retriesBefore);
    } finally {
      await stackService('up', service);
    }

    const produced = await load.stop();
    expect(await waitForRows(s, produced, 120_000)).toEqual({ rows: produced, distinct: produced });
    // Bounded: at most one record past the cap (checked before each record is buffered).
    expect(await memory.stop()).toBeLessThanOrEqual(MEMORY_CAP + 64 * 1024);
    expect(await paused.stop()).toBe(1);
    expect(await lag.stop()).toBeGreaterThan(1000);
    expect(compactor.proc.exitCode).toBeNull();
    expect(await compactor.stop()).toEqual({ code: 0, signal: null });
  }, 240_000);
});

