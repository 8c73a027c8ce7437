import type { FaultPoint } from '../config';

/** Crash points for tests: `hit(point)` SIGKILLs the process when the configured point is reached on the configured flush. */
export interface Faults {
  hit(point: FaultPoint, flush: number): void;
}

export function createFaults(opts: { point?: FaultPoint | undefined; atFlush: number; kill?: () => void }): Faults {
  const kill = opts.kill ?? (() => process.kill(process.pid, 'SIGKILL'));
  return {
    hit(point, flush) {
      if (opts.point === point && flush === opts.atFlush) kill();
    },
  };
}
