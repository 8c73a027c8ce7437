import type { Trino } from 'trino-client';
import { queryAll, type QueryResult } from '@pipeline/lake';
import { PipelineError, isRetriable, retry } from '@pipeline/runtime';

/** Trino answers these while it starts or a worker is missing; they pass. */
const TRANSIENT_TRINO = /SERVER_STARTING_UP|still initializing|is starting|shutting down|SERVER_SHUTTING_DOWN|No nodes available|NO_NODES_AVAILABLE|Cannot check and eventually update|Failed to commit|CommitFailedException|TABLE_VERSION_MISMATCH|Connection refused|ECONNREFUSED|ECONNRESET|timeout/i;

export interface TrinoRunner {
  /** Runs `sql`, retrying while Trino is unreachable or starting (with backoff, until `signal` aborts); fails on a real SQL error. */
  run(sql: string, session?: Record<string, string>): Promise<QueryResult>;
}

export function createTrinoRunner(trino: Trino, opts: { maxDelayMs: number; signal: AbortSignal; onRetry?: () => void }): TrinoRunner {
  return {
    run: (sql, session) =>
      retry(() => queryAll(trino, sql, session ? { session } : {}), {
        attempts: Number.MAX_SAFE_INTEGER,
        initialDelayMs: 200,
        maxDelayMs: opts.maxDelayMs,
        signal: opts.signal,
        retryOn: (err) => isRetriable(err) || (err instanceof PipelineError && TRANSIENT_TRINO.test(err.message)),
        onRetry: () => opts.onRetry?.(),
      }),
  };
}
