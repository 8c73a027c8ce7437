import { hostname } from 'node:os';
import { createKafka } from '@pipeline/kafka';
import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { checkProgressInterval, loadAggregatesConfig } from './aggregates/aggregates-config';
import { buildProcessorApp } from './app';
import { readConfig } from './config';

function main(): void {
  let config;
  let aggregates;
  try {
    config = readConfig();
    aggregates = loadAggregatesConfig(config.AGGREGATES_FILE);
    checkProgressInterval(config.PROGRESS_INTERVAL_MS, aggregates);
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const instance = config.INSTANCE_ID ?? `${hostname()}-${process.pid}`;
  const log = createLogger({ name: 'stream-processor', level: config.LOG_LEVEL }).child({ instance });
  const registry = createMetricsRegistry('stream-processor');
  const kafka = createKafka(config, { clientId: `stream-processor-${instance}`, log });
  const { lifecycle } = buildProcessorApp({ config, aggregates, log, registry, kafka });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
