import { createKafka } from '@pipeline/kafka';
import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildProcessorApp } from './app';
import { readConfig } from './config';

function main(): void {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger({ name: 'stream-processor', level: config.LOG_LEVEL });
  const registry = createMetricsRegistry('stream-processor');
  const kafka = createKafka(config, { clientId: 'stream-processor', log });
  const { lifecycle } = buildProcessorApp({ config, log, registry, kafka });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
