import { z } from 'zod';
import { LOCAL_STACK, baseFragment, envInt, kafkaFragment, loadConfig, registryFragment } from '@pipeline/config';
import { KAFKA_COMPRESSIONS } from '@pipeline/kafka';
import { AGGREGATE_TOPIC_PREFIX, EVENTS_CLEAN_TOPIC, EVENTS_DLQ_TOPIC, EVENTS_LATE_TOPIC, EVENTS_RAW_TOPIC } from '@pipeline/schemas';

const DAY_MS = 24 * 3_600_000;
const topicName = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be a Kafka topic name ([A-Za-z0-9._-], at most 249 characters)');

export const configSchema = z
  .object({
    ...baseFragment(LOCAL_STACK.apps.streamProcessor),
    ...kafkaFragment,
    ...registryFragment,
    APPLICATION_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be 1..100 of A-Z a-z 0-9 _ -')
      .default('stream-processor')
      .describe('Consumer group id; also the prefix of the internal topics (<id>-source-changelog, <id>-merge-repartition, <id>-merge-changelog) and of the transactional ids.'),
    INSTANCE_ID: z.string().min(1).optional().describe('Name of this instance in logs and the Kafka client id; default <hostname>-<pid>.'),
    RAW_TOPIC: topicName.default(EVENTS_RAW_TOPIC).describe('Input topic (collector output).'),
    CLEAN_TOPIC: topicName.default(EVENTS_CLEAN_TOPIC).describe('Output topic of validated, enriched, deduplicated events.'),
    DLQ_TOPIC: topicName.default(EVENTS_DLQ_TOPIC).describe('Output topic of records that failed, with the x-dlq-* headers.'),
    LATE_TOPIC: topicName.default(EVENTS_LATE_TOPIC).describe('Output topic of events an aggregate did not count (behind its watermark or too far in the future).'),
    AGGREGATE_TOPIC_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]{0,100}$/)
      .default(AGGREGATE_TOPIC_PREFIX)
      .describe('Aggregate results go to <prefix><aggregate name>.'),
    AGGREGATES_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('JSON file declaring the windowed aggregates (libs/windowing format); default: the built-in copy of apps/stream-processor/aggregates.json.'),
    SCHEMA_SUBJECT_PREFIX: z.string().default('').describe('Registry subject of an event type is <prefix><event_type> (as in the collector).'),
    SCHEMA_LATEST_TTL_MS: envInt(30_000, 0).describe('How long the latest schema version of a subject is cached (used for unframed values and after a schema fix).'),
    PROCESSING_GUARANTEE: z
      .enum(['exactly_once', 'at_least_once'])
      .default('exactly_once')
      .describe('exactly_once: outputs, state and offsets in one Kafka transaction per batch; at_least_once: produce, then commit offsets.'),
    DEDUP_TTL_MS: envInt(3_600_000, 1_000).describe('How long an event_id is remembered to drop duplicates (by Kafka record time).'),
    DEDUP_MAX_ENTRIES: envInt(1_000_000, 1_000).describe(
      'Most event_ids remembered by the process across all its input partitions (about 110 bytes of heap each); beyond it a partition forgets its oldest first, before their TTL.',
    ),
    SNAPSHOT_INTERVAL_MS: envInt(30_000, 100).describe('How often each partition writes its window state to the changelog; a restore replays at most this much input.'),
    PROGRESS_INTERVAL_MS: envInt(10_000, 10).describe(
      'How often each partition tells the merge stage its watermark when no merged window became due (a watermark that makes one due is sent at once); under half the aggregates\' idleTimeout.',
    ),
    MERGE_RETENTION_MS: envInt(3_600_000, 1_000).describe('How long the merge stage keeps an emitted window to fold in a late partial result (by record time).'),
    TOPIC_PARTITIONS: envInt(6, 1, 10_000).describe('Partitions of the output and repartition topics the processor creates when missing.'),
    TOPIC_RETENTION_MS: envInt(7 * DAY_MS, 60_000).describe('retention.ms of the output and repartition topics the processor creates.'),
    DLQ_RETENTION_MS: envInt(14 * DAY_MS, 60_000).describe('retention.ms of the DLQ topic when the processor creates it.'),
    PARTITIONS_CONSUMED_CONCURRENTLY: envInt(4, 1, 64).describe('Partitions processed at once (each has its own transactional producer).'),
    MAX_BYTES_PER_PARTITION: envInt(256 * 1024, 1024).describe('Largest fetch per partition (compressed bytes; about 15x that once decoded for zstd or gzip JSON).'),
    FETCH_MIN_BYTES: envInt(64 * 1024, 1, 50 * 1024 * 1024).describe(
      'A fetch waits for this many bytes (or FETCH_MAX_WAIT_MS): fewer, larger batches, so fewer transactions and state writes per event.',
    ),
    FETCH_MAX_WAIT_MS: envInt(200, 0, 10_000).describe('Longest a fetch waits for FETCH_MIN_BYTES; the most it adds to an event\'s latency at a low rate.'),
    MAX_BATCH_RECORDS: envInt(5_000, 1, 1_000_000).describe('Most input records per transaction; a larger fetch is processed in several transactions.'),
    CONSUMER_SESSION_TIMEOUT_MS: envInt(30_000, 6_000, 300_000).describe('Consumer group session timeout: how long a dead instance keeps its partitions.'),
    TRANSACTION_TIMEOUT_MS: envInt(60_000, 1_000, 900_000).describe('Broker aborts a transaction left open this long (a crashed instance).'),
    KAFKA_COMPRESSION: z.enum(KAFKA_COMPRESSIONS).default('none').describe('Compression of produced record batches.'),
    UA_CACHE_SIZE: envInt(10_000, 0).describe('Parsed user agents kept (LRU); parsing is the costliest enrichment.'),
  })
  .superRefine((config, ctx) => {
    if (config.DEDUP_TTL_MS < 2 * config.SNAPSHOT_INTERVAL_MS) {
      ctx.addIssue({ code: 'custom', path: ['DEDUP_TTL_MS'], message: 'must be at least twice SNAPSHOT_INTERVAL_MS (a restore reads the dedup state of the replayed input)' });
    }
  });

export type ProcessorConfig = z.infer<typeof configSchema>;

/** The only place the stream processor reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  return loadConfig(configSchema, env);
}
