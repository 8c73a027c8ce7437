import { z } from 'zod';
import { envBoolean, envInt, envList } from './load-config';
import { LOCAL_STACK, LOCAL_URLS } from './local-stack';

/** Env fields every app has: where it listens and how it logs. */
export function baseFragment(defaultPort: number) {
  return {
    HTTP_HOST: z.string().default('0.0.0.0').describe('Address the HTTP server binds to.'),
    HTTP_PORT: envInt(defaultPort, 1, 65535).describe('Port of the HTTP server (API, /healthz, /readyz, /metrics).'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level.'),
    SHUTDOWN_DEADLINE_MS: envInt(25_000, 1_000, 600_000).describe('Hard deadline for a clean shutdown; keep it below the pod grace period.'),
  };
}

export const kafkaFragment = {
  KAFKA_BROKERS: envList(LOCAL_URLS.kafkaBrokers).describe('Comma-separated Kafka bootstrap brokers (host:port).'),
  KAFKA_CLIENT_ID: z.string().min(1).optional().describe('Kafka client id; defaults to the app name.'),
  KAFKA_SSL: envBoolean(false).describe('Use TLS to reach the brokers.'),
  KAFKA_SASL_MECHANISM: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']).optional().describe('SASL mechanism, when the brokers require authentication.'),
  KAFKA_SASL_USERNAME: z.string().optional().describe('SASL user name.'),
  KAFKA_SASL_PASSWORD: z.string().optional().describe('SASL password (secret).'),
};

export const registryFragment = {
  SCHEMA_REGISTRY_URL: z.url().default(LOCAL_URLS.registry).describe('Confluent-compatible schema registry URL (Apicurio: .../apis/ccompat/v7).'),
  SCHEMA_REGISTRY_USERNAME: z.string().optional().describe('Registry basic-auth user.'),
  SCHEMA_REGISTRY_PASSWORD: z.string().optional().describe('Registry basic-auth password (secret).'),
};

export const s3Fragment = {
  S3_ENDPOINT: z.url().default(LOCAL_URLS.objectStore).describe('S3 endpoint URL (MinIO, AIStor, Ceph RGW, SeaweedFS, Versity or AWS).'),
  S3_REGION: z.string().default(LOCAL_STACK.objectStore.region).describe('S3 region.'),
  S3_ACCESS_KEY: z.string().min(1).default(LOCAL_STACK.objectStore.accessKey).describe('S3 access key.'),
  S3_SECRET_KEY: z.string().min(1).default(LOCAL_STACK.objectStore.secretKey).describe('S3 secret key (secret).'),
  S3_BUCKET: z.string().min(3).default(LOCAL_STACK.objectStore.bucket).describe('Bucket that holds the lake.'),
  S3_PATH_STYLE: envBoolean(true).describe('Path-style addressing (needed by most self-hosted stores).'),
};

export const trinoFragment = {
  TRINO_URL: z.url().default(LOCAL_URLS.trino).describe('Trino coordinator URL.'),
  TRINO_USER: z.string().min(1).default(LOCAL_STACK.trino.user).describe('Trino user the app runs queries as.'),
  TRINO_PASSWORD: z.string().optional().describe('Trino password, when the coordinator requires one (secret).'),
  TRINO_CATALOG: z.string().min(1).default(LOCAL_STACK.trino.catalog).describe('Iceberg catalog name in Trino.'),
};
