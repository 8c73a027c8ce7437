import pino from 'pino';
import { Lifecycle } from './lifecycle';
import { Readiness } from './readiness';

const silent = pino({ level: 'silent' });

describe('Lifecycle', () => {
  it('starts in order, stops in reverse, and stop is idempotent', async () => {
    const events: string[] = [];
    const lc = new Lifecycle(silent);
    for (const name of ['a', 'b', 'c']) {
      lc.add({ name, start: async () => void events.push(`start ${name}`), stop: async () => void events.push(`stop ${name}`) });
    }
    await lc.start();
    await Promise.all([lc.stop(), lc.stop()]);
    await lc.stop();
    expect(events).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a']);
  });

  it('stops only what started when a start fails', async () => {
    const events: string[] = [];
    const lc = new Lifecycle(silent)
      .add({ name: 'a', start: async () => void events.push('start a'), stop: async () => void events.push('stop a') })
      .add({ name: 'b', start: async () => Promise.reject(new Error('b failed')), stop: async () => void events.push('stop b') });
    await expect(lc.start()).rejects.toThrow('b failed');
    await lc.stop();
    expect(events).toEqual(['start a', 'stop a']);
  });

  it('turns readiness off before any component stops and reports stop errors after trying all', async () => {
    const readiness = new Readiness().register('dep');
    readiness.set('dep', true);
    const seen: boolean[] = [];
    const lc = new Lifecycle(silent)
      .onShutdown(() => readiness.beginShutdown())
      .add({ name: 'a', stop: async () => void seen.push(readiness.ready) })
      .add({ name: 'b', stop: async () => Promise.reject(new Error('b stop failed')) });
    await lc.start();
    expect(readiness.ready).toBe(true);
    await expect(lc.stop()).rejects.toThrow('b stop failed');
    expect(seen).toEqual([false]);
  });

  it('fails a stop that outlives its deadline', async () => {
    const lc = new Lifecycle(silent).add({ name: 'slow', stop: () => new Promise((r) => setTimeout(r, 1_000)) });
    await lc.start();
    await expect(lc.stop(20)).rejects.toThrow('within 20 ms');
  });
});

describe('Readiness', () => {
  it('is ready only when every registered check is up', () => {
    const r = new Readiness().register('kafka').register('s3');
    expect(r.ready).toBe(false);
    r.set('kafka', true);
    expect(r.ready).toBe(false);
    r.set('s3', true);
    expect(r.ready).toBe(true);
    r.set('s3', false, 'connection refused');
    expect(r.report()).toMatchObject({ ready: false, checks: { s3: { ok: false, detail: 'connection refused' } } });
  });
});
