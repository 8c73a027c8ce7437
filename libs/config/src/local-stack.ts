import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Endpoints and development credentials of the local stack (`npm run stack -- up`).
 * The stack tool starts services on these addresses and every app's config defaults to them,
 * so one place decides both. Production deployments override them through the environment.
 */
export const LOCAL_STACK = {
  host: '127.0.0.1',
  kafka: { port: 19092, controllerPort: 19093 },
  registry: { port: 18081, managementPort: 18091, ccompatPath: '/apis/ccompat/v7' },
  objectStore: { port: 19000, accessKey: 'pipeline', secretKey: 'pipeline-dev-secret', region: 'us-east-1', bucket: 'lake' },
  postgres: { port: 15432, user: 'pipeline', password: 'pipeline-dev-password', catalogDatabase: 'iceberg_catalog', registryDatabase: 'registry' },
  trino: { port: 18080, catalog: 'lake', readOnlyCatalog: 'lake_readonly', user: 'pipeline' },
  apps: { producer: 8100, streamProcessor: 8101, compactor: 8102, queryApi: 8103 },
} as const;

/** Convenience URLs derived from {@link LOCAL_STACK}. */
export const LOCAL_URLS = {
  kafkaBrokers: `${LOCAL_STACK.host}:${LOCAL_STACK.kafka.port}`,
  registry: `http://${LOCAL_STACK.host}:${LOCAL_STACK.registry.port}${LOCAL_STACK.registry.ccompatPath}`,
  objectStore: `http://${LOCAL_STACK.host}:${LOCAL_STACK.objectStore.port}`,
  trino: `http://${LOCAL_STACK.host}:${LOCAL_STACK.trino.port}`,
  postgres: `postgresql://${LOCAL_STACK.postgres.user}:${LOCAL_STACK.postgres.password}@${LOCAL_STACK.host}:${LOCAL_STACK.postgres.port}`,
} as const;

/**
 * Where the local stack keeps its data, logs and pid files (`<dir>/run/<service>.pid`):
 * PIPELINE_STATE_DIR, else `$XDG_STATE_HOME/event-pipeline`, else `~/.local/state/event-pipeline`.
 * The stack tool writes there and the test harness reads the pid files.
 */
export function localStackStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['PIPELINE_STATE_DIR'] ?? join(env['XDG_STATE_HOME'] ?? join(homedir(), '.local', 'state'), 'event-pipeline');
}
