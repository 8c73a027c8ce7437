import { PipelineError, isRetriable } from './errors';

export interface RetryOptions {
  /** Attempts in all, including the first (default 5). */
  attempts?: number;
  /** First backoff in ms (default 100), doubled each time up to `maxDelayMs` (default 10 000). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Stops waiting and rethrows when aborted. */
  signal?: AbortSignal;
  /** Decides whether an error is worth another attempt (default {@link isRetriable}). */
  retryOn?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Random source for jitter, injectable for tests. */
  random?: () => number;
}

/** Runs `fn` until it succeeds, a non-retriable error occurs, attempts run out or `signal` aborts; full jitter backoff. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const initial = opts.initialDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 10_000;
  const retryOn = opts.retryOn ?? isRetriable;
  const random = opts.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new PipelineError('aborted', 'retry aborted', { cause: opts.signal.reason });
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryOn(err)) throw err;
      const ceiling = Math.min(max, initial * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, opts.signal);
    }
  }
}

/** Resolves after `ms`, or rejects with an `aborted` PipelineError when `signal` fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new PipelineError('aborted', 'sleep aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new PipelineError('aborted', 'sleep aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
