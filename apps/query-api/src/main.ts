import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildQueryApiApp, type QueryApiApp } from './app';
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
  let app: QueryApiApp;
  try {
    // Reads the token file and the saved queries: a bad one stops the service before it listens.
    app = buildQueryApiApp({ config, log, registry, fetch });
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  void runService(app.lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
