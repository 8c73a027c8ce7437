import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Every metric of the collector, registered on the app's registry. Labels come from bounded sets only. */
export function createProducerMetrics(registry: Registry) {
  const registers = [registry];
  let spoolSource: (() => SpoolStats) | undefined;
  return {
    /** Where the spool gauges read depth and age at scrape time. */
    setSpoolSource(source: () => SpoolStats): void {
      spoolSource = source;
    },
    httpRequests: new Counter({
      name: 'pipeline_producer_http_requests_total',
      help: 'HTTP requests by route (the route pattern, "unmatched" for 404s) and status code.',
      labelNames: ['route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'pipeline_producer_http_request_duration_seconds',
      help: 'Time from request start to response, by route.',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    requestsRejected: new Counter({
      name: 'pipeline_producer_requests_rejected_total',
      help: 'Requests rejected as a whole, by error code (malformed_json, body_too_large, unauthorized, rate_limited, spool_full, ...).',
      labelNames: ['code'] as const,
      registers,
    }),
    eventsAccepted: new Counter({
      name: 'pipeline_producer_events_accepted_total',
      help: 'Events acknowledged to clients, by destination topic kind (events, dlq) and where they were durable first (kafka, spool).',
      labelNames: ['topic', 'via'] as const,
      registers,
    }),
    eventsRejected: new Counter({
      name: 'pipeline_producer_events_rejected_total',
      help: 'Events rejected inside a batch, by reason (the first problem code of the event).',
      labelNames: ['reason'] as const,
      registers,
    }),
    produceLatency: new Histogram({
      name: 'pipeline_producer_produce_latency_seconds',
      help: 'Time from handing a micro-batch to Kafka until acks=all, by outcome (ok, failed).',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    produceBatchRecords: new Histogram({
      name: 'pipeline_producer_produce_batch_records',
      help: 'Records per micro-batch sent to Kafka.',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
    memoryQueueBytes: new Gauge({ name: 'pipeline_producer_memory_queue_bytes', help: 'Bytes of events waiting in memory for Kafka.', registers }),
    spoolDepthRecords: new Gauge({
      name: 'pipeline_producer_spool_depth_records',
      help: 'Events in the local spool not yet in Kafka.',
      registers,
      collect() {
        this.set(spoolSource?.().records ?? 0);
      },
    }),
    spoolDepthBytes: new Gauge({
      name: 'pipeline_producer_spool_depth_bytes',
      help: 'Bytes in the local spool not yet in Kafka.',
      registers,
      collect() {
        this.set(spoolSource?.().bytes ?? 0);
      },
    }),
    spoolAge: new Gauge({
      name: 'pipeline_producer_spool_oldest_age_seconds',
      help: 'Age of the oldest event in the spool (0 when empty).',
      registers,
      collect() {
        const oldest = spoolSource?.().oldestSpooledAt;
        this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    }),
    spoolWrites: new Counter({ name: 'pipeline_producer_spool_appended_records_total', help: 'Events appended (and fsynced) to the spool.', registers }),
    spoolDrained: new Counter({ name: 'pipeline_producer_spool_drained_records_total', help: 'Events moved from the spool to Kafka.', registers }),
    kafkaConnected: new Gauge({ name: 'pipeline_producer_kafka_connected', help: '1 while the Kafka producer is connected and sends succeed, else 0.', registers }),
    schemaFetches: new Counter({
      name: 'pipeline_producer_schema_fetches_total',
      help: 'Registry lookups by outcome (found, missing, error).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    rateLimited: new Counter({
      name: 'pipeline_producer_rate_limited_requests_total',
      help: 'Requests answered 429, by source (a configured write key name).',
      labelNames: ['source'] as const,
      registers,
    }),
  };
}

export interface SpoolStats {
  records: number;
  bytes: number;
  oldestSpooledAt: number | undefined;
}

export type ProducerMetrics = ReturnType<typeof createProducerMetrics>;
