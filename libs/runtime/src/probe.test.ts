import pino from 'pino';
import { dependencyProbe } from './probe';
import { Readiness } from './readiness';

const log = pino({ level: 'silent' });

describe('dependencyProbe', () => {
  it('reflects the dependency in readiness at start and on later checks', async () => {
    const readiness = new Readiness();
    let up = false;
    const probe = dependencyProbe({
      name: 'db',
      readiness,
      log,
      intervalMs: 10,
      check: async () => {
        if (!up) throw new Error('connection refused');
      },
    });
    expect(readiness.report().checks['db']).toEqual({ ok: false, detail: 'starting' });
    await probe.start?.();
    expect(readiness.report().checks['db']).toEqual({ ok: false, detail: 'connection refused' });
    up = true;
    const deadline = Date.now() + 2_000;
    while (!readiness.ready && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(readiness.ready).toBe(true);
    await probe.stop?.();
  });

  it('treats a check that outlives its timeout as down', async () => {
    const readiness = new Readiness();
    const probe = dependencyProbe({
      name: 'slow',
      readiness,
      log,
      timeoutMs: 20,
      check: (signal) =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('timed out')))),
    });
    await probe.start?.();
    expect(readiness.report().checks['slow']?.ok).toBe(false);
    await probe.stop?.();
  });
});

describe('dependencyProbe with a client that ignores the abort signal', () => {
  it('still reports the dependency down after the timeout', async () => {
    const readiness = new Readiness();
    const probe = dependencyProbe({ name: 'deaf', readiness, log, timeoutMs: 20, check: () => new Promise(() => undefined) });
    await probe.start?.();
    expect(readiness.report().checks['deaf']).toEqual({ ok: false, detail: 'no answer within 20 ms' });
    await probe.stop?.();
  });
});
