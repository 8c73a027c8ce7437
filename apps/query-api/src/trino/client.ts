import { PipelineError } from '@pipeline/runtime';
import { parseJsonExact } from './json';

/**
 * A client of Trino's HTTP statement protocol (POST /v1/statement, then follow `nextUri`), small
 * enough to own: it streams pages as they arrive, cancels with DELETE on `nextUri`, keeps BIGINT
 * exact and reports Trino's error position, which the generic trino-client does not expose.
 */

export interface TrinoConnection {
  url: string;
  user: string;
  password?: string | undefined;
  catalog: string;
  /** Reported to Trino as X-Trino-Source, visible in its UI and query log. */
  source: string;
}

export interface TrinoColumn {
  name: string;
  type: string;
  typeSignature?: { rawType: string; arguments?: unknown[] };
}

export interface TrinoStats {
  state: string;
  elapsedTimeMillis?: number;
  queuedTimeMillis?: number;
  processedRows?: number;
  processedBytes?: number;
  physicalInputBytes?: number;
}

export interface TrinoErrorInfo {
  message: string;
  errorCode: number;
  errorName: string;
  errorType: string;
  errorLocation?: { lineNumber: number; columnNumber: number };
}

export interface TrinoPage {
  columns?: TrinoColumn[];
  data?: unknown[][];
  stats?: TrinoStats;
  /** Size of the response body, an estimate of the rows' size. */
  bytes: number;
}

interface StatementResponse {
  id: string;
  nextUri?: string;
  columns?: TrinoColumn[];
  data?: unknown[][];
  stats?: TrinoStats;
  error?: TrinoErrorInfo;
}

/** Trino ran the statement and it failed: a syntax or semantic error, a limit, a denied permission. */
export class TrinoQueryError extends PipelineError {
  constructor(
    readonly info: TrinoErrorInfo,
    readonly queryId: string,
  ) {
    super(info.errorType === 'USER_ERROR' ? 'invalid_input' : 'internal', `Trino: ${info.message}`, { retriable: false });
    this.name = 'TrinoQueryError';
  }
}

export interface StatementOptions {
  schema?: string;
  /** System session properties, sent as X-Trino-Session. */
  session?: Record<string, string>;
  /** Aborting cancels the query in Trino and rejects with an `aborted` PipelineError. */
  signal?: AbortSignal;
}

/** A submitted statement: iterate its pages; stopping early or `cancel()` cancels it in Trino. */
export interface RunningStatement extends AsyncIterable<TrinoPage> {
  readonly id: string;
  /** Latest statistics Trino reported. */
  readonly stats: TrinoStats | undefined;
  /** Cancels the query in Trino; idempotent, never throws. */
  cancel(): Promise<void>;
}

export interface TrinoClient {
  /** Submits one statement. Rejects with `dependency_unavailable` when Trino cannot be reached. */
  submit(sql: string, opts?: StatementOptions): Promise<RunningStatement>;
  /** The connection settings, without the password. */
  readonly user: string;
}

const RETRY_STATUSES = new Set([502, 503, 504]);
const MAX_ATTEMPTS = 5;

export function createTrinoClient(connection: TrinoConnection, fetchImpl: typeof fetch = fetch): TrinoClient {
  const base = connection.url.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    'X-Trino-User': connection.user,
    'X-Trino-Catalog': connection.catalog,
    'X-Trino-Source': connection.source,
    // Without it Trino rounds timestamps to milliseconds and drops the precision from their types.
    'X-Trino-Client-Capabilities': 'PARAMETRIC_DATETIME',
  };
  if (connection.password !== undefined) {
    headers['Authorization'] = `Basic ${Buffer.from(`${connection.user}:${connection.password}`).toString('base64')}`;
  }

  // The protocol asks clients to retry 502/503/504 after a short pause.
  const request = async (url: string, init: RequestInit): Promise<{ status: number; text: string }> => {
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetchImpl(url, init);
      } catch (err) {
        if (init.signal?.aborted) throw new PipelineError('aborted', 'query aborted', { cause: init.signal.reason });
        throw new PipelineError('dependency_unavailable', `Trino unreachable: ${(err as Error).message}`, { cause: err });
      }
      const text = await res.text();
      if (RETRY_STATUSES.has(res.status) && attempt < MAX_ATTEMPTS) {
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
        continue;
      }
      return { status: res.status, text };
    }
  };

  return {
    user: connection.user,
    async submit(sql, opts = {}) {
      const requestHeaders: Record<string, string> = { ...headers, 'Content-Type': 'text/plain; charset=utf-8' };
      if (opts.schema) requestHeaders['X-Trino-Schema'] = opts.schema;
      const session = Object.entries(opts.session ?? {});
      if (session.length > 0) requestHeaders['X-Trino-Session'] = session.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join(',');
      if (opts.signal?.aborted) throw new PipelineError('aborted', 'query aborted before it was sent', { cause: opts.signal.reason });
      const { status, text } = await request(`${base}/v1/statement`, { method: 'POST', headers: requestHeaders, body: sql, ...(opts.signal ? { signal: opts.signal } : {}) });
      const first = parseResponse(status, text);
      return new TrinoStatement(first, text.length, { request, headers, ...(opts.signal ? { signal: opts.signal } : {}) });
    },
  };
}

function parseResponse(status: number, text: string): StatementResponse {
  if (status === 401 || status === 403) throw new PipelineError('dependency_unavailable', `Trino refused the API's credentials (HTTP ${status})`, { retriable: false });
  if (status !== 200) throw new PipelineError('dependency_unavailable', `Trino answered HTTP ${status}: ${text.slice(0, 200)}`);
  try {
    return parseJsonExact(text) as StatementResponse;
  } catch (err) {
    throw new PipelineError('dependency_unavailable', 'Trino sent a response that is not JSON', { cause: err });
  }
}

interface StatementDeps {
  request: (url: string, init: RequestInit) => Promise<{ status: number; text: string }>;
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** One running statement: iterate its pages; `cancel()` stops it in Trino. */
export class TrinoStatement implements RunningStatement {
  readonly id: string;
  private current: StatementResponse;
  private currentBytes: number;
  private finished = false;
  private cancelled: Promise<void> | undefined;

  constructor(
    first: StatementResponse,
    firstBytes: number,
    private readonly deps: StatementDeps,
  ) {
    this.id = first.id;
    this.current = first;
    this.currentBytes = firstBytes;
  }

  /** Latest statistics Trino reported. */
  get stats(): TrinoStats | undefined {
    return this.current.stats;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TrinoPage> {
    const onAbort = () => void this.cancel();
    this.deps.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const response = this.current;
        if (response.error) {
          this.finished = true;
          throw new TrinoQueryError(response.error, response.id);
        }
        if (response.columns || response.data) {
          yield {
            ...(response.columns ? { columns: response.columns } : {}),
            ...(response.data ? { data: response.data } : {}),
            ...(response.stats ? { stats: response.stats } : {}),
            bytes: this.currentBytes,
          };
        }
        if (!response.nextUri) {
          this.finished = true;
          return;
        }
        if (this.cancelled || this.deps.signal?.aborted) throw new PipelineError('aborted', 'query cancelled');
        const { status, text } = await this.deps.request(response.nextUri, {
          headers: this.deps.headers,
          ...(this.deps.signal ? { signal: this.deps.signal } : {}),
        });
        this.current = parseResponse(status, text);
        this.currentBytes = text.length;
      }
    } finally {
      this.deps.signal?.removeEventListener('abort', onAbort);
      // A consumer that stops early (row limit, client gone, error) must not leave the query running.
      if (!this.finished) await this.cancel();
    }
  }

  /** Cancels the query in Trino (DELETE on its nextUri); idempotent, never throws. */
  cancel(): Promise<void> {
    if (this.finished) return Promise.resolve();
    const nextUri = this.current.nextUri;
    this.finished = true;
    if (!nextUri) return Promise.resolve();
    this.cancelled ??= this.deps
      .request(nextUri, { method: 'DELETE', headers: this.deps.headers, signal: AbortSignal.timeout(5_000) })
      .then(
        () => undefined,
        () => undefined,
      );
    return this.cancelled;
  }
}
