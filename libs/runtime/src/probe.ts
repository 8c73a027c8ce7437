import type { Component } from './lifecycle';
import type { Logger } from './logger';
import type { Readiness } from './readiness';

export interface ProbeOptions {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check: (signal: AbortSignal) => Promise<void>;
  readiness: Readiness;
  log: Logger;
  intervalMs?: number;
  timeoutMs?: number;
}

/**
 * A component that checks a dependency at start and then every `intervalMs`, feeding readiness.
 * State changes are logged once each; steady state logs nothing.
 */
export function dependencyProbe(opts: ProbeOptions): Component {
  const interval = opts.intervalMs ?? 5_000;
  const timeout = opts.timeoutMs ?? 3_000;
  let timer: NodeJS.Timeout | undefined;
  let last: boolean | undefined;
  let running: Promise<void> | undefined;
  opts.readiness.register(opts.name);

  const runOnce = async () => {
    let ok = true;
    let detail: string | undefined;
    const signal = AbortSignal.timeout(timeout);
    try {
      // Race the signal too: not every client honours it.
      await Promise.race([
        opts.check(signal),
        new Promise<never>((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error(`no answer within ${timeout} ms`)), { once: true }),
        ),
      ]);
    } catch (err) {
      ok = false;
      detail = err instanceof Error ? err.message : String(err);
    }
    opts.readiness.set(opts.name, ok, detail);
    if (ok !== last) {
      if (ok) opts.log.info({ dependency: opts.name }, 'dependency reachable');
      else opts.log.warn({ dependency: opts.name, detail }, 'dependency unreachable');
      last = ok;
    }
  };

  return {
    name: `probe:${opts.name}`,
    start: async () => {
      await runOnce();
      const tick = () => {
        running = runOnce().finally(() => {
          running = undefined;
          timer = setTimeout(tick, interval);
          timer.unref();
        });
      };
      timer = setTimeout(tick, interval);
      timer.unref();
    },
    stop: async () => {
      clearTimeout(timer);
      timer = undefined;
      await running;
      clearTimeout(timer);
    },
  };
}
