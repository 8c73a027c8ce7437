import type { Logger } from './logger';

export interface Component {
  name: string;
  start?: () => Promise<void>;
  stop?: () => Promise<void>;
}

/**
 * Starts components in order and stops them in reverse. `stop()` is idempotent and also
 * stops whatever had started when a later `start()` failed.
 */
export class Lifecycle {
  private readonly components: Component[] = [];
  private readonly started: Component[] = [];
  private stopping: Promise<void> | undefined;
  private readonly shutdownListeners: Array<() => void> = [];

  constructor(private readonly log: Logger) {}

  add(component: Component): this {
    this.components.push(component);
    return this;
  }

  /** Called first thing on stop, before any component stops (readiness goes false here). */
  onShutdown(listener: () => void): this {
    this.shutdownListeners.push(listener);
    return this;
  }

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  async start(): Promise<void> {
    for (const component of this.components) {
      if (this.stopping) return;
      await component.start?.();
      this.started.push(component);
    }
  }

  /** Stops started components in reverse order; fails with the first error after trying them all, within `deadlineMs`. */
  stop(deadlineMs = 25_000): Promise<void> {
    this.stopping ??= this.stopAll(deadlineMs);
    return this.stopping;
  }

  private async stopAll(deadlineMs: number): Promise<void> {
    for (const listener of this.shutdownListeners) listener();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`shutdown did not finish within ${deadlineMs} ms`)), deadlineMs);
      timer.unref();
    });
    const work = (async () => {
      let firstError: unknown;
      for (const component of [...this.started].reverse()) {
        try {
          await component.stop?.();
        } catch (err) {
          this.log.error({ err, component: component.name }, 'component failed to stop');
          firstError ??= err;
        }
      }
      if (firstError) throw firstError;
    })();
    try {
      await Promise.race([work, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Handles SIGTERM and SIGINT once: stops everything, then calls `exit(code)` (the composition root decides how to exit). */
  handleSignals(exit: (code: number) => void, deadlineMs = 25_000): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) return;
      this.log.info({ signal }, 'shutting down');
      this.stop(deadlineMs).then(
        () => exit(0),
        (err: unknown) => {
          this.log.error({ err }, 'unclean shutdown');
          exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}
