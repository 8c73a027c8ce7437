import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildQueryApiApp } from './app';
import { readConfig } from './config';

function main(): void {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger({ name: 'query-api', level: config.LOG_LEVEL });
  const registry = createMetricsRegistry('query-api');
  const { lifecycle } = buildQueryApiApp({ config, log, registry, fetch });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
