import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The processor's metrics, registered on the app's registry. Labels come from bounded sets only. */
export function createProcessorMetrics(registry: Registry) {
  const registers = [registry];
  return {
    events: new Counter({
      name: 'pipeline_processor_events_total',
      help: 'Input records by outcome: clean (to events.clean), duplicate (event_id seen within the TTL, dropped), dlq (to events.dlq).',
      labelNames: ['outcome'],
      registers,
    }),
    dlq: new Counter({ name: 'pipeline_processor_dlq_records_total', help: 'Records dead-lettered, by error code (a closed list).', labelNames: ['code'], registers }),
    late: new Counter({
      name: 'pipeline_processor_late_records_total',
      help: 'Records written to events.late, by reason: late (an aggregate had closed its windows), future_time, invalid_time.',
      labelNames: ['reason'],
      registers,
    }),
    aggregates: new Counter({
      name: 'pipeline_processor_aggregate_results_total',
      help: 'Aggregate results: final (to agg.<name>), partial (to the merge stage), updated (a late partial changed an emitted window), expired (a partial after the window was forgotten).',
      labelNames: ['aggregate', 'outcome'],
      registers,
    }),
    lag: new Gauge({
      name: 'pipeline_processor_consumer_lag_messages',
      help: 'Records between the processed position and the high watermark, per assigned partition (updated per batch).',
      labelNames: ['topic', 'partition'],
      registers,
    }),
    watermarkDelay: new Gauge({
      name: 'pipeline_processor_watermark_delay_seconds',
      help: 'Wall clock minus the event-time watermark of each input partition.',
      labelNames: ['partition'],
      registers,
    }),
    stateEntries: new Gauge({
      name: 'pipeline_processor_state_entries',
      help: 'Entries of the state stores per partition: dedup (event_ids), windows (open window/group accumulators), merge (windows being merged).',
      labelNames: ['store', 'partition'],
      registers,
    }),
    stateBytes: new Gauge({
      name: 'pipeline_processor_state_bytes',
      help: 'Size of the last window-state snapshot written to the changelog, per partition.',
      labelNames: ['store', 'partition'],
      registers,
    }),
    dedupEvicted: new Counter({
      name: 'pipeline_processor_dedup_evicted_total',
      help: 'event_ids forgotten before their TTL because DEDUP_MAX_ENTRIES was reached.',
      registers,
    }),
    transactions: new Counter({
      name: 'pipeline_processor_transactions_total',
      help: 'Batches committed (a Kafka transaction, or produce-then-commit at least once) or failed.',
      labelNames: ['outcome'],
      registers,
    }),
    commitSeconds: new Histogram({
      name: 'pipeline_processor_commit_duration_seconds',
      help: 'Time to produce a batch\'s outputs and commit it with its offsets.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    }),
    batchSeconds: new Histogram({
      name: 'pipeline_processor_batch_duration_seconds',
      help: 'Time to process one batch end to end, commit included.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    restores: new Counter({
      name: 'pipeline_processor_restores_total',
      help: 'Partition state restores from the changelog (on assignment, after a rebalance or a failed commit).',
      labelNames: ['topic'],
      registers,
    }),
    restoreSeconds: new Histogram({
      name: 'pipeline_processor_restore_duration_seconds',
      help: 'Time to fence, read the changelog and set up one partition.',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    rebuilt: new Counter({
      name: 'pipeline_processor_rebuilt_records_total',
      help: 'Input records replayed into window state after a restore (the input after the last snapshot).',
      registers,
    }),
    assigned: new Gauge({ name: 'pipeline_processor_assigned_partitions', help: 'Partitions assigned to this instance, per topic.', labelNames: ['topic'], registers }),
  };
}

export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;
