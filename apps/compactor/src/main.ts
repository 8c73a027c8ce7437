import { createKafka } from '@pipeline/kafka';
import { createS3Client } from '@pipeline/lake';
import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildCompactorApp } from './app';
import { readConfig } from './config';

function main(): void {
  let config;
  try {
    config = readConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  const log = createLogger({ name: 'compactor', level: config.LOG_LEVEL });
  const registry = createMetricsRegistry('compactor');
  const kafka = createKafka(config, { clientId: 'compactor', log });
  const s3 = createS3Client(config);
  const { lifecycle } = buildCompactorApp({ config, log, registry, kafka, s3 });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
