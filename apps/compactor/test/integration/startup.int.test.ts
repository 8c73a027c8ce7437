import { join, resolve } from 'node:path';
import { freePort, NodeProcess, waitFor } from '@pipeline/testing';
import { compactorEnv, createTopics, dropScenario, scenario, type Scenario } from '../support/harness';

const MAIN = join(resolve(__dirname, '../../../..'), 'dist/apps/compactor/main.cjs');

/** A compactor started before its topics exist (a fresh cluster, `npm start`) waits for them. */
describe('compactor startup', () => {
  let s: Scenario;
  let proc: NodeProcess | undefined;

  beforeAll(() => {
    s = scenario('startup');
  });

  afterAll(async () => {
    await proc?.stop('SIGKILL');
    await dropScenario(s);
  });

  it('stays up and not ready until its topics exist, then consumes and stops cleanly', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    proc = await NodeProcess.start({
      name: 'compactor',
      script: MAIN,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...compactorEnv(s), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port) },
      ready: async () => (await fetch(`${url}/healthz`)).ok,
    });
    const waiting = await waitFor(
      async () => {
        const res = await fetch(`${url}/readyz`);
        const body = (await res.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
        return res.status === 503 && body.checks['topics']?.detail?.includes(s.eventsTopic) ? body : undefined;
      },
      { timeoutMs: 30_000, what: 'readiness to name the missing topics' },
    );
    expect(waiting.checks['topics']).toEqual({ ok: false, detail: expect.stringContaining(s.dlqTopic) });
    expect(proc.running).toBe(true);

    await createTopics(s, 2);
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 45_000, what: 'the compactor to be ready once the topics exist' });
    expect(proc.output()).toContain('waiting for topics to be created');

    const exit = await proc.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
