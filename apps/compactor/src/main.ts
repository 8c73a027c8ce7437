import { createKafka } from '@pipeline/kafka';
import { createJdbcCatalog, createS3Client, createTrino } from '@pipeline/lake';
import { createLogger, createMetricsRegistry, runService } from '@pipeline/runtime';
import { buildCompactorApp } from './app';
import { readConfig } from './config';
import { createSchemaById } from './schema/registry';

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
  const s3 = createS3Client(config, { partSize: config.S3_PART_SIZE });
  const trino = createTrino(config);
  const catalog = createJdbcCatalog(config);
  const schemas = createSchemaById({ url: config.SCHEMA_REGISTRY_URL, username: config.SCHEMA_REGISTRY_USERNAME, password: config.SCHEMA_REGISTRY_PASSWORD, maxEntries: config.SCHEMA_CACHE_SIZE });
  const { lifecycle } = buildCompactorApp({ config, log, registry, kafka, s3, trino, catalog, schemas });
  void runService(lifecycle, { log, deadlineMs: config.SHUTDOWN_DEADLINE_MS, exit: (code) => process.exit(code) });
}

main();
