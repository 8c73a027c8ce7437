import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The compactor's metrics, registered on the app's registry (names pipeline_compactor_<thing>_<unit>). */
export function createCompactorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    recordsConsumed: new Counter({ name: 'pipeline_compactor_records_consumed_total', help: 'Kafka records read, by topic kind.', labelNames: ['kind'], registers }),
    recordsSkipped: new Counter({ name: 'pipeline_compactor_records_skipped_total', help: 'Records skipped because the table already holds them (committed) or they were buffered already (redelivered).', labelNames: ['reason'], registers }),
    rowsWritten: new Counter({ name: 'pipeline_compactor_rows_written_total', help: 'Rows committed into lake tables.', labelNames: ['table_kind'], registers }),
    bytesWritten: new Counter({ name: 'pipeline_compactor_bytes_written_total', help: 'Parquet bytes committed into lake tables.', labelNames: ['table_kind'], registers }),
    filesPerCommit: new Histogram({ name: 'pipeline_compactor_files_per_commit', help: 'Data files added by one table commit.', labelNames: ['table_kind'], buckets: [0, 1, 2, 4, 8, 16, 32, 64, 128], registers }),
    commitDuration: new Histogram({
      name: 'pipeline_compactor_commit_duration_seconds',
      help: 'Time of one flush from encode to table commit (encode, upload, catalog swap), including retries.',
      labelNames: ['table_kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    commitConflicts: new Counter({ name: 'pipeline_compactor_commit_conflicts_total', help: 'Lost compare-and-set attempts on the catalog (another writer committed first).', registers }),
    commitsFenced: new Counter({ name: 'pipeline_compactor_commits_fenced_total', help: 'Flushes dropped because the table already held some of their offsets (another owner committed them); the partition is re-read from the table high-water mark.', registers }),
    flushes: new Counter({ name: 'pipeline_compactor_flushes_total', help: 'Table flushes, by what triggered them.', labelNames: ['reason'], registers }),
    retries: new Counter({ name: 'pipeline_compactor_retries_total', help: 'Retries of an unavailable dependency.', labelNames: ['operation'], registers }),
    dlqRecords: new Counter({ name: 'pipeline_compactor_dlq_records_total', help: 'Records sent to the DLQ topic, by error code.', labelNames: ['code'], registers }),
    offsetCommitFailures: new Counter({ name: 'pipeline_compactor_offset_commit_failures_total', help: 'Kafka offset commits that failed after a table commit (harmless: restarts skip by the table high-water mark).', registers }),
    bufferedBytes: new Gauge({ name: 'pipeline_compactor_buffered_bytes', help: 'Estimated memory of the records buffered or being flushed (values, decoded copies, headers); capped by BUFFER_MEMORY_CAP_BYTES.', registers }),
    bufferedRows: new Gauge({ name: 'pipeline_compactor_buffered_rows', help: 'Records buffered or being flushed.', registers }),
    parquetWorkersStarted: new Counter({
      name: 'pipeline_compactor_parquet_workers_started_total',
      help: 'Parquet encoder worker threads started: the first, and one per worker retired (PARQUET_WORKER_RETIRE_BYTES) or lost.',
      registers,
    }),
    consumptionPaused: new Gauge({ name: 'pipeline_compactor_consumption_paused', help: '1 while consumption waits for memory (the buffer cap is reached).', registers }),
    lag: new Gauge({ name: 'pipeline_compactor_consumer_lag_messages', help: 'Messages between the last fetched offset and the partition end, per topic kind and partition.', labelNames: ['kind', 'partition'], registers }),
    freshness: new Histogram({
      name: 'pipeline_compactor_freshness_seconds',
      help: 'From an event\'s received_at (collector) to its table commit.',
      buckets: [0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 300],
      registers,
    }),
    upkeepRuns: new Counter({ name: 'pipeline_compactor_upkeep_runs_total', help: 'Table upkeep runs, by task and outcome.', labelNames: ['task', 'outcome'], registers }),
    upkeepDuration: new Histogram({ name: 'pipeline_compactor_upkeep_duration_seconds', help: 'Duration of one upkeep task over all tables.', labelNames: ['task'], buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 1800], registers }),
    upkeepLastSuccess: new Gauge({ name: 'pipeline_compactor_upkeep_last_success_timestamp_seconds', help: 'When each upkeep task last succeeded.', labelNames: ['task'], registers }),
  };
}

export type CompactorMetrics = ReturnType<typeof createCompactorMetrics>;
