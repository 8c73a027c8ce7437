import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { LOCAL_STACK, baseFragment, envInt, envList, kafkaFragment, loadConfig, registryFragment } from '@pipeline/config';
import { KAFKA_COMPRESSIONS } from '@pipeline/kafka';
import { EVENTS_DLQ_TOPIC, EVENTS_RAW_TOPIC } from '@pipeline/schemas';

const MIB = 1024 * 1024;
const DAY_MS = 24 * 3_600_000;

/** sha256 of `local-dev-write-key`: the write key of the local stack (like the stack's other dev credentials). */
export const LOCAL_DEV_WRITE_KEY = 'local-dev-write-key';
const LOCAL_DEV_WRITE_KEY_SHA256 = 'f917256cde4c3ef9c4ac9b30c8fb1b17d1f7bb0f17d5619c9df0faab85ad3682';

const writeKeyEntry = z.object({
  source: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, 'source must be 1..64 of a-z 0-9 _ . - (it becomes a metric label)'),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex digits'),
  rate_per_sec: z.number().positive().optional(),
  burst: z.number().int().positive().optional(),
});
export type WriteKeyEntry = z.infer<typeof writeKeyEntry>;

const writeKeyList = z
  .array(writeKeyEntry)
  .min(1)
  .refine((keys) => new Set(keys.map((k) => k.source)).size === keys.length, 'sources must be unique')
  .refine((keys) => new Set(keys.map((k) => k.sha256)).size === keys.length, 'key hashes must be unique');

/** Kept as text in the schema (so docs show the default as written) and checked as a list of keys. */
const writeKeys = z
  .string()
  .default(JSON.stringify([{ source: 'local-dev', sha256: LOCAL_DEV_WRITE_KEY_SHA256 }]))
  .superRefine((text, ctx) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON array' });
      return;
    }
    const result = writeKeyList.safeParse(parsed);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message });
  });

const stateDir = join(process.env['XDG_STATE_HOME'] ?? join(homedir(), '.local', 'state'), 'event-pipeline');

export const configSchema = z
  .object({
    ...baseFragment(LOCAL_STACK.apps.producer),
    ...kafkaFragment,
    ...registryFragment,
    WRITE_KEYS: writeKeys.describe(
      'JSON array of write keys, stored hashed: [{"source":"web","sha256":"<hex sha256 of the key>","rate_per_sec":2000,"burst":10000}]. rate_per_sec and burst default to RATE_LIMIT_*. The default is the local stack key "local-dev-write-key".',
    ),
    RATE_LIMIT_EVENTS_PER_SEC: envInt(2_000, 1).describe('Default sustained events per second per write key; beyond it the client gets 429 with Retry-After.'),
    RATE_LIMIT_BURST_EVENTS: envInt(20_000, 1).describe('Default token-bucket size per write key (events that may arrive at once).'),
    CORS_ORIGINS: envList('*').describe('Comma-separated origins allowed by CORS for browser SDKs; "*" allows any.'),
    EVENTS_TOPIC: z.string().min(1).default(EVENTS_RAW_TOPIC).describe('Topic the collector writes accepted events to.'),
    DLQ_TOPIC: z.string().min(1).default(EVENTS_DLQ_TOPIC).describe('Dead-letter topic (the collector puts events of unknown types there when UNKNOWN_EVENT_TYPES=dlq).'),
    TOPIC_PARTITIONS: envInt(6, 1, 10_000).describe('Partitions of the topics the app creates when they are missing.'),
    EVENTS_RETENTION_MS: envInt(7 * DAY_MS, 60_000).describe('retention.ms of the events topic when the collector creates it.'),
    DLQ_RETENTION_MS: envInt(14 * DAY_MS, 60_000).describe('retention.ms of the DLQ topic when the app creates it.'),
    UNKNOWN_EVENT_TYPES: z.enum(['reject', 'dlq']).default('reject').describe('Events whose type has no registered schema: reject them (unknown_event_type) or accept them into the DLQ topic.'),
    SCHEMA_SUBJECT_PREFIX: z.string().default('').describe('Registry subject of an event type is <prefix><event_type>.'),
    SCHEMA_REFRESH_MS: envInt(10_000, 100).describe('How often cached schemas are re-read from the registry, so a new version applies without a restart.'),
    SCHEMA_MISS_TTL_MS: envInt(5_000, 100).describe('How long an event type without a schema is remembered before the registry is asked again.'),
    MAX_BODY_BYTES: envInt(1 * MIB, 1024).describe('Largest request body on the wire (compressed size for gzip), in bytes; larger gets 413.'),
    MAX_DECOMPRESSED_BYTES: envInt(4 * MIB, 1024).describe('Largest body after gunzip, in bytes; larger gets 413.'),
    MAX_BATCH_EVENTS: envInt(500, 1, 100_000).describe('Most events in one request; more gets 413 batch_too_large.'),
    MAX_STRING_LENGTH: envInt(8_192, 1).describe('Longest string inside properties/context, in UTF-16 code units.'),
    MAX_DEPTH: envInt(8, 1, 64).describe('Deepest nesting of properties/context (the object itself is level 1).'),
    MAX_FUTURE_SKEW_MS: envInt(3_600_000, 0).describe('How far occurred_at may lie after the server time.'),
    MAX_EVENT_AGE_MS: envInt(7 * DAY_MS, 0).describe('How far occurred_at may lie before the server time.'),
    KAFKA_SENDER: z
      .enum(['worker', 'inline'])
      .default('worker')
      .describe('Where the kafkajs producer runs: on a worker thread (beside HTTP and validation) or on the main thread.'),
    KAFKA_COMPRESSION: z
      .enum(KAFKA_COMPRESSIONS)
      .default('zstd')
      .describe('Compression of produced record batches. zstd compresses about as well as gzip for a fifth of its CPU; every consumer made with @pipeline/kafka reads all three.'),
    KAFKA_SEND_TIMEOUT_MS: envInt(5_000, 100).describe('A Kafka batch not acknowledged within this is moved to the spool (the client is then answered from the spool).'),
    KAFKA_MAX_BATCH_BYTES: envInt(1 * MIB, 1024).describe('Largest micro-batch sent to Kafka in one produce call, in bytes of record values.'),
    KAFKA_LINGER_MS: envInt(10, 0, 1_000).describe("How long accepted events may wait to share a produce request with later ones (Kafka's linger.ms); each request costs the collector and the broker about the same CPU whatever its size. Adds at most this much to a request's response time; 0 sends at once."),
    KAFKA_MAX_IN_FLIGHT_BATCHES: envInt(2, 1, 16).describe('Micro-batches in flight at once (kafkajs serialises idempotent produce requests per broker).'),
    MEMORY_QUEUE_BYTES: envInt(32 * MIB, 0).describe('Bytes of events waiting for Kafka in memory; beyond it new events go to the spool.'),
    MAX_INFLIGHT_REQUEST_BYTES: envInt(64 * MIB, 1024).describe('Bytes of request bodies being handled at once; beyond it requests get 503 (memory guard).'),
    SPOOL_DIR: z
      .string()
      .min(1)
      .optional()
      .describe('Directory of the durable local spool, one per collector process (default: $XDG_STATE_HOME/event-pipeline/producer-spool-<HTTP_PORT>).'),
    SPOOL_MAX_BYTES: envInt(1024 * MIB, 1024).describe('Spool capacity in bytes; when full, requests get 503 with Retry-After.'),
    SPOOL_SEGMENT_BYTES: envInt(16 * MIB, 1024).describe('Spool segment file size; drained segments are deleted.'),
    RETRY_AFTER_SECONDS: envInt(5, 1, 3_600).describe('Retry-After sent with 503 when the spool is full or a dependency is down.'),
  })
  .refine((c) => c.MAX_DECOMPRESSED_BYTES >= c.MAX_BODY_BYTES, { path: ['MAX_DECOMPRESSED_BYTES'], message: 'must be at least MAX_BODY_BYTES' });

export type ProducerConfig = Omit<z.infer<typeof configSchema>, 'SPOOL_DIR' | 'WRITE_KEYS'> & { SPOOL_DIR: string; WRITE_KEYS: WriteKeyEntry[] };

/** The only place the collector reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ProducerConfig {
  const config = loadConfig(configSchema, env);
  // Two collectors on one machine listen on different ports, so the default never makes them share a spool.
  return {
    ...config,
    WRITE_KEYS: writeKeyList.parse(JSON.parse(config.WRITE_KEYS)),
    SPOOL_DIR: config.SPOOL_DIR ?? join(stateDir, `producer-spool-${config.HTTP_PORT}`),
  };
}
