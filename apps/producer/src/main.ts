import { isMainThread } from 'node:worker_threads';
import { createKafka } from '@pipeline/kafka';
import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildProducerApp } from './app';
import { readConfig } from './config';
import { runKafkaWorker } from './delivery/worker-sender';

function main(): void {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger({ name: 'producer', level: config.LOG_LEVEL });
  const registry = createMetricsRegistry('producer');
  const kafka = createKafka(config, { clientId: 'producer', log });
  // This same bundle runs the Kafka worker thread (KAFKA_SENDER=worker).
  const { lifecycle } = buildProducerApp({ config, log, registry, kafka, workerScript: __filename });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

if (isMainThread) main();
else runKafkaWorker();
