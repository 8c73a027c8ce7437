import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import type { Client as S3Client } from 'minio';
import type { Registry } from 'prom-client';
import { Lifecycle, PipelineError, Readiness, createOpsServer, dependencyProbe, httpComponent, type Logger } from '@pipeline/runtime';
import type { CompactorConfig } from './config';

export interface CompactorDeps {
  config: CompactorConfig;
  log: Logger;
  registry: Registry;
  kafka: Kafka;
  s3: S3Client;
}

/** Builds the compactor's lifecycle: Kafka admin and object-store probes, and the ops HTTP server. */
export function buildCompactorApp(deps: CompactorDeps): { http: FastifyInstance; lifecycle: Lifecycle; readiness: Readiness } {
  const { config, log, registry, kafka, s3 } = deps;
  const readiness = new Readiness();
  const http = createOpsServer({ readiness, registry, log });
  const admin = kafka.admin();
  const lifecycle = new Lifecycle(log)
    .onShutdown(() => readiness.beginShutdown())
    .add({ name: 'kafka-admin', start: () => admin.connect(), stop: () => admin.disconnect() })
    .add(dependencyProbe({ name: 'kafka', readiness, log, check: async () => void (await admin.describeCluster()) }))
    .add(
      dependencyProbe({
        name: 'object-store',
        readiness,
        log,
        check: async () => {
          if (!(await s3.bucketExists(config.S3_BUCKET))) {
            throw new PipelineError('dependency_unavailable', `bucket ${config.S3_BUCKET} does not exist`);
          }
        },
      }),
    )
    .add(httpComponent(http, { host: config.HTTP_HOST, port: config.HTTP_PORT }));
  return { http, lifecycle, readiness };
}
