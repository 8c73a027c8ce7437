import { randomBytes } from 'node:crypto';
import {
  cleanEvent,
  createTopics,
  lakeCounts,
  objectSchema,
  produceEvents,
  registerSchema,
  scenario,
  startCompactor,
  transactionalProducer,
  type Scenario,
} from '../../apps/compactor/test/support/harness';
import { waitFor } from '@pipeline/testing';
import { scenarioCleanup } from './cleanup';

export interface CrashRun {
  point: string;
  produced: number;
  rows: number;
  distinct: number;
  lost: number;
  duplicates: number;
}

const POINTS = [
  { point: 'after-upload', payload: 0, before: 20_000, env: { FLUSH_MAX_ROWS: '500', COMPACTOR_FAULT_AT_FLUSH: '1' } },
  { point: 'after-commit', payload: 0, before: 20_000, env: { FLUSH_MAX_ROWS: '500', COMPACTOR_FAULT_AT_FLUSH: '1' } },
  { point: 'during-multipart', payload: 3000, before: 6_000, env: { FLUSH_MAX_ROWS: '6000', FLUSH_MAX_AGE_MS: '15000', S3_PART_SIZE: String(5 * 1024 * 1024), COMPACTOR_FAULT_AT_FLUSH: '1' } },
] as const;

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

/** The integration suite's crash scenarios at bench size: SIGKILL at a point, more events while down, restart, count. */
export async function crashRuns(log: (m: string) => void): Promise<CrashRun[]> {
  const out: CrashRun[] = [];
  for (const c of POINTS) {
    const s = scenario(`bench_crash_${c.point.replace(/-/g, '_')}`);
    await createTopics(s, c.payload > 0 ? 1 : 3);
    const cleanup = scenarioCleanup(s);
    try {
      const schemaId = await registerSchema(s, 'page_view', objectSchema({ url: { type: 'string' }, blob: { type: 'string' } }));
      await produce(s, schemaId, 0, c.before, c.payload);
      const crashing = await startCompactor(s, { COMPACTOR_FAULT: c.point, LOG_LEVEL: 'warn', ...c.env }, 'bench-crash');
      const exit = await Promise.race([crashing.exited, new Promise<{ signal: string }>((r) => setTimeout(() => r({ signal: 'none within 120 s' }), 120_000))]);
      if (exit.signal !== 'SIGKILL') await crashing.stop();
      if (exit.signal !== 'SIGKILL') throw new Error(`${c.point}: expected a SIGKILL, got ${JSON.stringify(exit)}`);
      const during = 1_000;
      await produce(s, schemaId, c.before, during, c.payload);
      const produced = c.before + during;
      const restarted = await startCompactor(s, { LOG_LEVEL: 'warn', ...c.env }, 'bench-restart');
      await waitFor(async () => (await restarted.metric('pipeline_compactor_records_consumed_total')) > 0 && (await lakeCounts(s)).rows >= produced, { timeoutMs: 120_000, intervalMs: 500, what: 'all events' }).catch(() => undefined);
      // Let any further (duplicate) commit land before counting.
      await new Promise((r) => setTimeout(r, 3_000));
      const { rows, distinct } = await lakeCounts(s);
      await restarted.stop();
      const run = { point: c.point, produced, rows, distinct, lost: produced - distinct, duplicates: rows - distinct };
      log(`crash ${c.point}: ${JSON.stringify(run)}`);
      out.push(run);
    } finally {
      await cleanup();
    }
  }
  return out;
}
