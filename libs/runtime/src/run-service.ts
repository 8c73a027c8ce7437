import type { Lifecycle } from './lifecycle';
import type { Logger } from './logger';

/**
 * Starts `lifecycle`, stops it on SIGTERM/SIGINT within `deadlineMs`, and reports the outcome to `exit`
 * (the composition root passes process.exit). A start failure stops what had started and exits 1.
 */
export async function runService(lifecycle: Lifecycle, opts: { log: Logger; deadlineMs: number; exit: (code: number) => void }): Promise<void> {
  lifecycle.handleSignals(opts.exit, opts.deadlineMs);
  try {
    await lifecycle.start();
    opts.log.info('started');
  } catch (err) {
    opts.log.error({ err }, 'failed to start');
    await lifecycle.stop(opts.deadlineMs).catch(() => undefined);
    opts.exit(1);
  }
}
