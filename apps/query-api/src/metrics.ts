import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The query API's metrics, all `pipeline_query_api_*`, labels from bounded sets only. */
export function createQueryApiMetrics(registry: Registry) {
  const registers = [registry];
  return {
    queries: new Counter({
      name: 'pipeline_query_api_queries_total',
      help: 'Queries answered, by kind (adhoc, saved), outcome (ok or the API error code) and cache use (hit, miss, bypass).',
      labelNames: ['kind', 'status', 'cache'] as const,
      registers,
    }),
    duration: new Histogram({
      name: 'pipeline_query_api_query_duration_seconds',
      help: 'Time from receiving a query to its last row, by kind and cache use.',
      labelNames: ['kind', 'cache'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    rows: new Counter({ name: 'pipeline_query_api_result_rows_total', help: 'Rows returned to clients.', labelNames: ['kind'] as const, registers }),
    scannedBytes: new Counter({
      name: 'pipeline_query_api_scanned_bytes_total',
      help: 'Bytes Trino read from storage for the API (physical input), cache hits excluded.',
      labelNames: ['kind'] as const,
      registers,
    }),
    guardRejections: new Counter({
      name: 'pipeline_query_api_guard_rejections_total',
      help: 'Ad-hoc statements refused by the SQL guard, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    authFailures: new Counter({
      name: 'pipeline_query_api_auth_failures_total',
      help: 'Requests refused for authentication or authorization, by reason (unauthorized, invalid_token, insufficient_scope).',
      labelNames: ['reason'] as const,
      registers,
    }),
    limited: new Counter({
      name: 'pipeline_query_api_limited_requests_total',
      help: 'Requests refused by a per-token limit (rate, concurrency).',
      labelNames: ['limit'] as const,
      registers,
    }),
    cancellations: new Counter({
      name: 'pipeline_query_api_trino_cancellations_total',
      help: 'Queries the API cancelled in Trino, by reason (client_closed, timeout, row_limit, scan_limit, result_size).',
      labelNames: ['reason'] as const,
      registers,
    }),
    running: new Gauge({ name: 'pipeline_query_api_running_queries', help: 'Queries running on Trino for the API now.', registers }),
    storeBytes: new Gauge({ name: 'pipeline_query_api_result_store_bytes', help: 'Memory held by stored results (cache and cursors).', registers }),
    storeEntries: new Gauge({ name: 'pipeline_query_api_result_store_results', help: 'Results held for reuse and cursors.', registers }),
    auditErrors: new Counter({ name: 'pipeline_query_api_audit_write_errors_total', help: 'Audit records that could not be written.', registers }),
  };
}

export type QueryApiMetrics = ReturnType<typeof createQueryApiMetrics>;
