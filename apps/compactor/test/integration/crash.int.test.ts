import { randomBytes } from 'node:crypto';
import { createCleanup } from '@pipeline/testing';
import {
  cleanEvent,
  createTopics,
  dropScenario,
  lakeCounts,
  objectSchema,
  orphans,
  produceEvents,
  registerSchema,
  scenario,
  startCompactor,
  transactionalProducer,
  waitForRows,
  type Scenario,
  killCompactors,
} from '../support/harness';

const cleanup = createCleanup();
afterAll(async () => {
  killCompactors();
  await cleanup.run();
});

interface CrashCase {
  point: 'after-upload' | 'after-commit' | 'during-multipart';
  partitions: number;
  before: number;
  during: number;
  /** Bytes of random text per event (big files for the multipart case). */
  payload: number;
  env: Record<string, string>;
  /** What the crash must leave behind before the cleanup, so the test can fail. */
  leftover: 'files' | 'uploads' | 'none';
}

const CASES: CrashCase[] = [
  { point: 'after-upload', partitions: 2, before: 3000, during: 500, payload: 0, env: { FLUSH_MAX_ROWS: '400', COMPACTOR_FAULT_AT_FLUSH: '1' }, leftover: 'files' },
  { point: 'after-commit', partitions: 2, before: 3000, during: 500, payload: 0, env: { FLUSH_MAX_ROWS: '400', COMPACTOR_FAULT_AT_FLUSH: '1' }, leftover: 'none' },
  {
    point: 'during-multipart',
    partitions: 1,
    before: 6000,
    during: 500,
    payload: 3000,
    env: { FLUSH_MAX_ROWS: '6000', FLUSH_MAX_AGE_MS: '15000', S3_PART_SIZE: String(5 * 1024 * 1024), COMPACTOR_FAULT_AT_FLUSH: '1' },
    leftover: 'uploads',
  },
];

async function produce(s: Scenario, schemaId: number, from: number, count: number, payload: number): Promise<void> {
  const producer = await transactionalProducer(s.id);
  try {
    const events = Array.from({ length: count }, (_, i) => ({
      event: cleanEvent(s.id, from + i, 'page_view', { url: `/p/${i % 10}`, ...(payload > 0 ? { blob: randomBytes(payload / 2).toString('hex') } : {}) }),
      schemaId,
    }));
    await produceEvents(producer, s.eventsTopic, events, payload > 0 ? 200 : 1000);
  } finally {
    await producer.disconnect();
  }
}

describe.each(CASES)('SIGKILL $point', (c) => {
  const s = scenario(`cmp_crash_${c.point.replace(/-/g, '_')}`);
  beforeAll(async () => {
    await createTopics(s, c.partitions);
    cleanup.add(() => dropScenario(s));
  });

  it('ends with every event in the lake once and no orphaned files', async () => {
    const schemaId = await registerSchema(s, 'page_view', objectSchema({ url: { type: 'string' }, blob: { type: 'string' } }));
    await produce(s, schemaId, 0, c.before, c.payload);

    const crashing = await startCompactor(s, { COMPACTOR_FAULT: c.point, ...c.env }, 'crash');
    expect(await crashing.exited).toEqual({ code: null, signal: 'SIGKILL' });

    // More events arrive while the compactor is down.
    await produce(s, schemaId, c.before, c.during, c.payload);
    const expected = c.before + c.during;

    const before = await lakeCounts(s);
    expect(before.rows).toBeLessThan(expected);
    const left = await orphans(s);
    if (c.leftover === 'files') expect(left.files.length).toBeGreaterThan(0);
    if (c.leftover === 'uploads') expect(left.uploads.length).toBeGreaterThan(0);

    const restarted = await startCompactor(s, { ...c.env, UPKEEP_ORPHAN_RETENTION: '0s' }, 'restart');
    expect(await waitForRows(s, expected, 90_000)).toEqual({ rows: expected, distinct: expected });
    if (c.point === 'after-commit') expect(await restarted.metric('pipeline_compactor_records_skipped_total', { reason: 'committed' })).toBeGreaterThan(0);

    const res = await fetch(`${restarted.url}/upkeep/remove_orphan_files`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await orphans(s)).toEqual({ files: [], uploads: [] });
    // Still exactly once after the cleanup (no committed file was touched).
    expect(await lakeCounts(s)).toEqual({ rows: expected, distinct: expected });
    expect(await restarted.stop()).toEqual({ code: 0, signal: null });
  });
});
