import { z } from 'zod';
import { LOCAL_STACK } from '@pipeline/config';
import { configSchema as compactor } from '@pipeline/compactor/config';
import { configSchema as producer } from '@pipeline/producer/config';
import { configSchema as queryApi } from '@pipeline/query-api/config';
import { configSchema as processor } from '@pipeline/stream-processor/config';
import { EVENTS_CLEAN_TOPIC, EVENTS_RAW_TOPIC } from '@pipeline/schemas';

export type AppName = 'producer' | 'stream-processor' | 'compactor' | 'query-api';

export interface AppSpec {
  name: AppName;
  /** Key under `apps:` in the Helm values (a valid Go template identifier). */
  valuesKey: string;
  schema: z.ZodObject;
  /** The port the local stack gives the app; compose publishes it on the host too. */
  localPort: number;
  /** How the chart scales it: CPU (HPA) for request-driven apps, consumer lag (KEDA) for consumers. */
  scaling: 'cpu' | 'lag';
  /** For lag scaling: the topic whose lag drives replicas, and the consumer group reading it. */
  lagTopic?: string;
  consumerGroup?: string;
}

export const APPS: AppSpec[] = [
  { name: 'producer', valuesKey: 'producer', schema: producer, localPort: LOCAL_STACK.apps.producer, scaling: 'cpu' },
  {
    name: 'stream-processor',
    valuesKey: 'streamProcessor',
    schema: processor,
    localPort: LOCAL_STACK.apps.streamProcessor,
    scaling: 'lag',
    lagTopic: EVENTS_RAW_TOPIC,
    consumerGroup: 'stream-processor',
  },
  {
    name: 'compactor',
    valuesKey: 'compactor',
    schema: compactor,
    localPort: LOCAL_STACK.apps.compactor,
    scaling: 'lag',
    lagTopic: EVENTS_CLEAN_TOPIC,
    consumerGroup: 'compactor',
  },
  { name: 'query-api', valuesKey: 'queryApi', schema: queryApi, localPort: LOCAL_STACK.apps.queryApi, scaling: 'cpu' },
];

/** The port every app listens on inside its container (the image sets HTTP_PORT). */
export const CONTAINER_PORT = 8080;

/** Where the spool lives in a container (producer); the image creates it, owned by the app user. */
export const SPOOL_MOUNT = '/var/lib/pipeline/spool';

export interface EnvField {
  name: string;
  description: string;
  /** The default as an environment string (lists joined by commas, JSON as JSON), when the schema has one. */
  defaultValue?: string;
  /** Values the schema accepts, when it is an enum (booleans included: true/false/1/0/yes/no). */
  enumValues?: string[];
  secret: boolean;
  /** The default points at the local stack (127.0.0.1): a container must set it. */
  pointsAtLocalStack: boolean;
}

function envString(value: unknown): string {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** Every env variable of an app's config schema, in schema order, with its description and default. */
export function envFields(schema: z.ZodObject): EnvField[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const parsed = field.safeParse(undefined);
    const defaultValue = parsed.success && parsed.data !== undefined ? envString(parsed.data) : undefined;
    let enumValues: string[] | undefined;
    try {
      const json = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as { enum?: unknown[] };
      if (Array.isArray(json.enum) && json.enum.every((v) => typeof v === 'string')) enumValues = json.enum as string[];
    } catch {
      enumValues = undefined;
    }
    const description = field.description ?? '';
    return {
      name,
      description,
      ...(defaultValue !== undefined ? { defaultValue } : {}),
      ...(enumValues ? { enumValues } : {}),
      secret: /\(secret\b/i.test(description) || /PASSWORD|SECRET/.test(name),
      pointsAtLocalStack: defaultValue !== undefined && defaultValue.includes(LOCAL_STACK.host),
    };
  });
}

/**
 * Env variables that deployments fill from shared endpoint settings rather than from each app's
 * own block: in Helm from the top-level `kafka`, `schemaRegistry`, `s3`, `trino` and `icebergCatalog` values, in
 * compose from `pipeline.env` and `.env`. `secret` ones come from Secrets / `.env` only.
 */
export const SHARED_ENV: Record<string, { group: 'kafka' | 'schemaRegistry' | 's3' | 'trino' | 'icebergCatalog'; secret?: true }> = {
  KAFKA_BROKERS: { group: 'kafka' },
  KAFKA_SSL: { group: 'kafka' },
  KAFKA_SASL_MECHANISM: { group: 'kafka' },
  KAFKA_SASL_USERNAME: { group: 'kafka', secret: true },
  KAFKA_SASL_PASSWORD: { group: 'kafka', secret: true },
  SCHEMA_REGISTRY_URL: { group: 'schemaRegistry' },
  SCHEMA_REGISTRY_USERNAME: { group: 'schemaRegistry', secret: true },
  SCHEMA_REGISTRY_PASSWORD: { group: 'schemaRegistry', secret: true },
  S3_ENDPOINT: { group: 's3' },
  S3_REGION: { group: 's3' },
  S3_BUCKET: { group: 's3' },
  S3_PATH_STYLE: { group: 's3' },
  S3_ACCESS_KEY: { group: 's3', secret: true },
  S3_SECRET_KEY: { group: 's3', secret: true },
  TRINO_URL: { group: 'trino' },
  TRINO_USER: { group: 'trino' },
  TRINO_CATALOG: { group: 'trino' },
  TRINO_PASSWORD: { group: 'trino', secret: true },
  CATALOG_JDBC_URL: { group: 'icebergCatalog', secret: true },
};

/** Set by the deployment itself (image, chart, compose), never by a user's per-app block. */
export const MANAGED_ENV: Record<string, string> = {
  HTTP_HOST: 'the image listens on 0.0.0.0',
  HTTP_PORT: `the image listens on ${CONTAINER_PORT}; Services and compose map it`,
  SPOOL_DIR: `a volume mounted at ${SPOOL_MOUNT}`,
};

/** Env names a deployment may set that no config schema declares (read by Node itself). */
export const RUNTIME_ENV = new Set(['NODE_ENV', 'NODE_OPTIONS', 'TZ']);

export type EnvSource = 'shared' | 'managed' | 'secret' | 'config';

/** How a deployment supplies one env variable of an app. */
export function envSource(field: EnvField): EnvSource {
  if (SHARED_ENV[field.name]) return 'shared';
  if (MANAGED_ENV[field.name]) return 'managed';
  if (field.secret) return 'secret';
  return 'config';
}

/** The shared groups an app reads (from which fragments its schema has). */
export function sharedGroups(fields: EnvField[]): string[] {
  const groups = new Set<string>();
  for (const f of fields) {
    const shared = SHARED_ENV[f.name];
    if (shared) groups.add(shared.group);
  }
  return ['kafka', 'schemaRegistry', 's3', 'trino', 'icebergCatalog'].filter((g) => groups.has(g));
}
