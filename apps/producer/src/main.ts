import { createKafka } from '@pipeline/kafka';
import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildProducerApp } from './app';
import { readConfig } from './config';

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
  const { lifecycle } = buildProducerApp({ config, log, registry, kafka });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
