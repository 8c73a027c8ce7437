import { createHash } from 'node:crypto';
import { PipelineError } from '@pipeline/runtime';
import type { AuditLog } from '../audit/audit-log';
import type { Principal } from '../auth/tokens';
import type { TokenLimits } from '../auth/limits';
import { ApiError, toApiError } from '../http/api-error';
import type { QueryApiMetrics } from '../metrics';
import type { TrinoClient, TrinoColumn } from '../trino/client';
import { ResultStore, type QueryStats, type ResultColumn, type StoredResult } from './result-store';

export type CacheUse = 'hit' | 'miss' | 'bypass';

export interface QueryRequest {
  /** The statement sent to Trino (guarded ad-hoc SQL or a rendered saved query). */
  sql: string;
  kind: 'adhoc' | 'saved';
  savedQuery?: string;
  principal: Principal;
  schema: string;
  maxRows: number;
  timeoutMs: number;
  maxScanBytes: number;
  /** Reuse a stored result up to this age; `bypass` runs the query anyway (and stores the fresh result). */
  cache: { bypass: boolean; maxAgeSeconds: number };
  /** Aborted when the client goes away: the query is cancelled in Trino. */
  signal: AbortSignal;
}

export type ResultEvent =
  | { type: 'start'; queryId: string; columns: ResultColumn[]; cache: CacheUse; ageSeconds: number }
  | { type: 'rows'; rows: unknown[][] }
  | { type: 'end'; truncated: boolean; stats: QueryStats };

export interface QueryLimits {
  maxResultBytes: number;
}

/** Hex SHA-256 of a statement, as written to the audit log. */
export function sqlHash(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

const REPLAY_CHUNK = 1_000;

/** Filled by a materialising run: the complete result and whether the store kept it. */
interface Capture {
  result?: StoredResult;
  stored?: boolean;
}

/**
 * Runs statements on Trino within the request's limits and the token's concurrency, reuses stored
 * results, and writes one audit record and one set of metrics per query, whatever its outcome.
 */
export class QueryService {
  constructor(
    private readonly deps: {
      trino: TrinoClient;
      catalog: string;
      store: ResultStore;
      limits: TokenLimits;
      audit: AuditLog;
      metrics: QueryApiMetrics;
      maxResultBytes: number;
      now?: () => number;
    },
  ) {}

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }

  /** The cache key: identical statement, schema, Trino user and row limit. */
  cacheKey(req: Pick<QueryRequest, 'sql' | 'schema' | 'maxRows'>): string {
    return sqlHash(JSON.stringify([this.deps.trino.user, this.deps.catalog, req.schema, req.maxRows, req.sql]));
  }

  /**
   * Runs the query to completion and keeps the result for its cursor (JSON answers). `stored` is
   * false when the store had no room for it. Rejects with an {@link ApiError}; a result over the
   * memory limit is `result_too_large`.
   */
  async runToResult(req: QueryRequest): Promise<{ result: StoredResult; cache: CacheUse; ageSeconds: number; stored: boolean }> {
    const capture: Capture = {};
    let cache: CacheUse = 'miss';
    let ageSeconds = 0;
    for await (const event of this.run(req, capture)) {
      if (event.type === 'start') ({ cache, ageSeconds } = event);
    }
    if (!capture.result) throw new ApiError('internal', 'query ended without a result');
    return { result: capture.result, cache, ageSeconds, stored: capture.stored ?? false };
  }

  /** Streams the query's events (NDJSON and CSV answers). Errors are {@link ApiError}s. */
  stream(req: QueryRequest): AsyncGenerator<ResultEvent> {
    return this.run(req);
  }

  private async *run(req: QueryRequest, capture?: Capture): AsyncGenerator<ResultEvent> {
    const started = this.now();
    const key = this.cacheKey(req);
    let cache: CacheUse = req.cache.bypass ? 'bypass' : 'miss';
    let status = 'ok';
    let rowsOut = 0;
    let scannedBytes = 0;
    let queryId: string | undefined;
    let truncated = false;
    const { metrics } = this.deps;
    try {
      if (!req.cache.bypass && req.cache.maxAgeSeconds > 0) {
        const hit = this.deps.store.reuse(key, req.cache.maxAgeSeconds * 1000);
        if (hit) {
          cache = 'hit';
          queryId = hit.queryId;
          truncated = hit.truncated;
          if (capture) Object.assign(capture, { result: hit, stored: true });
          yield { type: 'start', queryId: hit.queryId, columns: hit.columns, cache, ageSeconds: Math.floor((this.now() - hit.createdAt) / 1000) };
          for (let i = 0; i < hit.rows.length; i += REPLAY_CHUNK) {
            const chunk = hit.rows.slice(i, i + REPLAY_CHUNK);
            rowsOut += chunk.length;
            yield { type: 'rows', rows: chunk };
          }
          yield { type: 'end', truncated: hit.truncated, stats: { ...hit.stats, elapsedMs: this.now() - started } };
          return;
        }
      }

      const release = this.deps.limits.acquireQuery(req.principal);
      metrics.running.inc();
      try {
        const produced = yield* this.fromTrino(req, capture, key, started, (id) => (queryId = id));
        rowsOut = produced.rows;
        scannedBytes = produced.scannedBytes;
        truncated = produced.truncated;
      } finally {
        release();
        metrics.running.dec();
      }
    } catch (err) {
      const apiError = toApiError(err);
      status = apiError.code;
      throw apiError;
    } finally {
      const durationMs = this.now() - started;
      metrics.queries.inc({ kind: req.kind, status, cache });
      metrics.duration.observe({ kind: req.kind, cache }, durationMs / 1000);
      metrics.rows.inc({ kind: req.kind }, rowsOut);
      metrics.scannedBytes.inc({ kind: req.kind }, scannedBytes);
      metrics.storeBytes.set(this.deps.store.bytes);
      metrics.storeEntries.set(this.deps.store.size);
      this.deps.audit.write({
        time: new Date(started).toISOString(),
        token: req.principal.name,
        kind: req.kind,
        ...(req.savedQuery ? { query: req.savedQuery } : {}),
        sqlHash: sqlHash(req.sql),
        status,
        durationMs,
        rows: rowsOut,
        scannedBytes,
        cache,
        ...(queryId ? { trinoQueryId: queryId } : {}),
        ...(truncated ? { truncated } : {}),
      });
    }
  }

  private async *fromTrino(
    req: QueryRequest,
    capture: Capture | undefined,
    key: string,
    started: number,
    onQueryId: (id: string) => void,
  ): AsyncGenerator<ResultEvent, { rows: number; scannedBytes: number; truncated: boolean }> {
    const timeout = AbortSignal.timeout(req.timeoutMs);
    const signal = AbortSignal.any([req.signal, timeout]);
    const { metrics } = this.deps;
    const keep: unknown[][] = [];
    let keepBytes = 0;
    let keeping = true;
    let columns: ResultColumn[] | undefined;
    let rows = 0;
    let scannedBytes = 0;
    let truncated = false;
    let statement;
    try {
      statement = await this.deps.trino.submit(req.sql, {
        schema: req.schema,
        signal,
        session: {
          // Trino enforces these too, so a query outlives neither limit even if this process dies.
          query_max_execution_time: `${Math.ceil(req.timeoutMs / 1000) + 5}s`,
          query_max_scan_physical_bytes: `${req.maxScanBytes}B`,
        },
      });
      onQueryId(statement.id);
      for await (const page of statement) {
        scannedBytes = Math.max(scannedBytes, page.stats?.physicalInputBytes ?? 0);
        if (scannedBytes > req.maxScanBytes) {
          metrics.cancellations.inc({ reason: 'scan_limit' });
          throw new ApiError('scan_limit_exceeded', `the query read ${scannedBytes} bytes, over its limit of ${req.maxScanBytes}; it was cancelled`);
        }
        if (!columns && page.columns) {
          columns = page.columns.map(toResultColumn);
          yield { type: 'start', queryId: statement.id, columns, cache: req.cache.bypass ? 'bypass' : 'miss', ageSeconds: 0 };
        }
        if (!page.data || page.data.length === 0) continue;
        let data = page.data;
        if (rows + data.length > req.maxRows) {
          data = data.slice(0, req.maxRows - rows);
          truncated = true;
        }
        rows += data.length;
        if (keeping) {
          keepBytes += page.bytes;
          if (keepBytes > this.deps.maxResultBytes) {
            if (capture) {
              metrics.cancellations.inc({ reason: 'result_size' });
              throw new ApiError('result_too_large', `the result is larger than ${this.deps.maxResultBytes} bytes; ask for format=ndjson or csv to stream it, or lower maxRows`);
            }
            keeping = false;
            keep.length = 0;
          } else {
            for (const row of data) keep.push(row);
          }
        }
        yield { type: 'rows', rows: data };
        if (truncated) {
          metrics.cancellations.inc({ reason: 'row_limit' });
          break;
        }
      }
      scannedBytes = Math.max(scannedBytes, statement.stats?.physicalInputBytes ?? 0);
      // A short query can finish between two checks: the limit still decides the answer, so a
      // caller sees the same outcome however fast Trino was.
      if (scannedBytes > req.maxScanBytes) {
        throw new ApiError('scan_limit_exceeded', `the query read ${scannedBytes} bytes, over its limit of ${req.maxScanBytes}`);
      }
      columns ??= [];
      if (rows === 0 && columns.length === 0) {
        // A statement without a result set (never for the guarded kinds, but be total).
        yield { type: 'start', queryId: statement.id, columns, cache: req.cache.bypass ? 'bypass' : 'miss', ageSeconds: 0 };
      }
      const stats: QueryStats = { elapsedMs: this.now() - started, rows, scannedBytes };
      if (keeping) {
        const stored: StoredResult = {
          id: ResultStore.newId(),
          key,
          queryId: statement.id,
          columns,
          rows: keep,
          truncated,
          bytes: Math.max(keepBytes, 1),
          createdAt: this.now(),
          stats,
        };
        const kept = this.deps.store.put(stored);
        if (capture) Object.assign(capture, { result: stored, stored: kept });
      }
      yield { type: 'end', truncated, stats };
      return { rows, scannedBytes, truncated };
    } catch (err) {
      // The signal also ends a request to Trino in flight: fetch then rejects with the signal's
      // reason (a DOMException), not with the client's PipelineError.
      const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
      const aborted = (err instanceof PipelineError && err.code === 'aborted') || (signal.aborted && (name === 'TimeoutError' || name === 'AbortError'));
      if (aborted) {
        if (timeout.aborted) {
          metrics.cancellations.inc({ reason: 'timeout' });
          throw new ApiError('timeout', `the query ran longer than its time limit of ${req.timeoutMs} ms and was cancelled`, { cause: err });
        }
        metrics.cancellations.inc({ reason: 'client_closed' });
        if (!(err instanceof PipelineError)) throw new PipelineError('aborted', 'query cancelled', { cause: err });
      }
      throw err;
    } finally {
      // Whatever ended the iteration (error, limit, client gone), the query must not keep running.
      await statement?.cancel();
    }
  }
}

function toResultColumn(column: TrinoColumn): ResultColumn {
  return { name: column.name, type: column.type, rawType: column.typeSignature?.rawType ?? column.type.replace(/\(.*$/, '') };
}
