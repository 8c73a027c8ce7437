import { z } from 'zod';
import { LOCAL_STACK, baseFragment, envInt, kafkaFragment, loadConfig, registryFragment, s3Fragment, trinoFragment } from '@pipeline/config';
import { AGGREGATE_TOPIC_PREFIX, EVENTS_CLEAN_TOPIC, EVENTS_DLQ_TOPIC, EVENTS_LATE_TOPIC } from '@pipeline/schemas';

const MIB = 1024 * 1024;

/** Crash points a test may ask the compactor to SIGKILL itself at (never set in production). */
export const FAULT_POINTS = ['after-upload', 'after-commit', 'during-multipart'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

const identifier = z.string().regex(/^[a-z][a-z0-9_]{0,99}$/, 'lower-case letters, digits and _, starting with a letter');
/** Trino durations as the Iceberg procedures take them, e.g. 7d, 1h, 30m, 0s. */
const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration such as 7d, 1h, 30m or 0s');

export const configSchema = z
  .object({
    ...baseFragment(LOCAL_STACK.apps.compactor),
    ...kafkaFragment,
    ...registryFragment,
    ...s3Fragment,
    ...trinoFragment,
    CATALOG_JDBC_URL: z
      .string()
      .min(1)
      .default(`postgresql://${LOCAL_STACK.postgres.user}@${LOCAL_STACK.host}:${LOCAL_STACK.postgres.port}/${LOCAL_STACK.postgres.catalogDatabase}`)
      .describe('PostgreSQL URL of the Iceberg JDBC catalog database, the one Trino\'s catalog uses (without the password).'),
    CATALOG_JDBC_PASSWORD: z.string().default(LOCAL_STACK.postgres.password).describe('Password of the catalog database user (secret).'),
    CATALOG_NAME: z.string().min(1).default(LOCAL_STACK.trino.catalog).describe('iceberg.jdbc-catalog.catalog-name of the Trino catalog (catalog_name in iceberg_tables).'),
    LAKE_SCHEMA: identifier.default('events').describe('Trino schema (Iceberg namespace) of the lake tables.'),
    EVENTS_TABLE: identifier.default('events').describe('Table of cleaned events (partitioned by day(occurred_at) and event_type).'),
    AGG_TABLE_PREFIX: identifier.default('agg_').describe('Table of aggregate <name> is <prefix><name>.'),
    DLQ_TABLE: identifier.default('events_dlq').describe('Table of dead-lettered records (DLQ_TOPIC), partitioned by day(failed_at).'),
    LATE_TABLE: identifier.default('events_late').describe('Table of late events (LATE_TOPIC), partitioned by day(occurred_at).'),
    EVENTS_TOPIC: z.string().min(1).default(EVENTS_CLEAN_TOPIC).describe('Topic of cleaned events (framed CleanEvent values).'),
    AGG_TOPIC_PREFIX: z.string().min(1).default(AGGREGATE_TOPIC_PREFIX).describe('Aggregate topics are <prefix><name>; every existing topic with this prefix is consumed.'),
    DLQ_TOPIC: z.string().min(1).default(EVENTS_DLQ_TOPIC).describe('Dead-letter topic: landed into DLQ_TABLE, and where records the lake cannot take go, with the DLQ headers.'),
    LATE_TOPIC: z.string().min(1).default(EVENTS_LATE_TOPIC).describe('Topic of late events (cleaned events with the x-late-* headers), landed into LATE_TABLE.'),
    GROUP_ID: z.string().min(1).default('compactor').describe('Kafka consumer group of the compactor.'),
    FROM_BEGINNING: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true')
      .describe('A new consumer group starts at the earliest offset (true) or the latest (false).'),
    KAFKA_SESSION_TIMEOUT_MS: envInt(10_000, 6_000, 300_000).describe('Consumer group session timeout: how long a crashed instance holds its partitions before a rebalance hands them on.'),
    LAG_INTERVAL_MS: envInt(5_000, 100).describe('How often consumer lag (partition end minus the next offset to buffer) is measured for the metric.'),
    FLUSH_MAX_ROWS: envInt(250_000, 1).describe('Flush a table when one of its partitions buffers this many rows.'),
    FLUSH_MAX_BYTES: envInt(64 * MIB, 1024).describe('Flush a table when one of its partitions buffers this many bytes of record values.'),
    FLUSH_MAX_AGE_MS: envInt(2_000, 50).describe('Flush a table when its oldest buffered record waited this long (also flushes idle topics).'),
    BUFFER_MEMORY_CAP_BYTES: envInt(256 * MIB, MIB).describe('Estimated memory of buffered and in-flight records (each value, its decoded copy and headers): from half of it the biggest table flushes early; at the cap consumption waits.'),
    PARQUET_ROW_GROUP_ROWS: envInt(128 * 1024, 1024).describe('Rows per Parquet row group.'),
    PARQUET_WORKER_RETIRE_BYTES: envInt(64 * MIB, MIB).describe(
      'The Parquet encoder worker is replaced once its WebAssembly memory (which never shrinks) grows past this, so a large flush does not stay resident.',
    ),
    S3_PART_SIZE: envInt(16 * MIB, 5 * MIB).describe('Files larger than this are uploaded as multipart uploads with parts of this size (bytes).'),
    RETRY_MAX_DELAY_MS: envInt(5_000, 10).describe('Longest backoff between retries of an unavailable object store, catalog, Trino or registry.'),
    SCHEMA_CACHE_SIZE: envInt(1_000, 1).describe('Registry schemas kept in memory (by id; ids are immutable).'),
    UPKEEP_ENABLED: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true')
      .describe('Run table upkeep on its schedule (manual triggers work either way).'),
    UPKEEP_OPTIMIZE_INTERVAL_MS: envInt(900_000, 1_000).describe('How often small files of closed (past-day) partitions are merged and manifests rewritten (every commit adds a manifest).'),
    UPKEEP_OPTIMIZE_TARGET: z.string().default('128MB').describe('Files below this size are merged by optimize (Trino file_size_threshold).'),
    UPKEEP_EXPIRE_INTERVAL_MS: envInt(900_000, 1_000).describe('How often expire_snapshots runs (every commit adds a snapshot to metadata.json).'),
    UPKEEP_SNAPSHOT_RETENTION: duration.default('1h').describe('Snapshots older than this are expired (time travel reaches back this far; metadata.json, rewritten on every commit, grows with it).'),
    UPKEEP_ORPHANS_INTERVAL_MS: envInt(6 * 3_600_000, 1_000).describe('How often remove_orphan_files runs (it also aborts stale multipart uploads).'),
    UPKEEP_ORPHAN_RETENTION: duration.default('1d').describe('Unreferenced files younger than this are kept (they may belong to a commit in flight).'),
    UPKEEP_RETENTION_INTERVAL_MS: envInt(3_600_000, 1_000).describe('How often data older than RETENTION_DAYS is deleted.'),
    RETENTION_DAYS: envInt(0, 0).describe('Drop partitions whose day is older than this many days; 0 keeps data forever.'),
    COMPACTOR_FAULT: z.enum(FAULT_POINTS).optional().describe('Test-only: SIGKILL the process at this point of a flush.'),
    COMPACTOR_FAULT_AT_FLUSH: envInt(1, 1).describe('Test-only: which flush (1-based) COMPACTOR_FAULT fires on.'),
  })
  .superRefine((config, ctx) => {
    // One topic feeds one table, and one table is fed by one kind of record.
    const topics = { EVENTS_TOPIC: config.EVENTS_TOPIC, DLQ_TOPIC: config.DLQ_TOPIC, LATE_TOPIC: config.LATE_TOPIC };
    const tables = { EVENTS_TABLE: config.EVENTS_TABLE, DLQ_TABLE: config.DLQ_TABLE, LATE_TABLE: config.LATE_TABLE };
    for (const [group, prefix] of [
      [topics, config.AGG_TOPIC_PREFIX],
      [tables, config.AGG_TABLE_PREFIX],
    ] as const) {
      const seen = new Map<string, string>();
      for (const [key, value] of Object.entries(group)) {
        const other = seen.get(value);
        if (other) ctx.addIssue({ code: 'custom', path: [key], message: `must differ from ${other}` });
        else if (value.startsWith(prefix)) ctx.addIssue({ code: 'custom', path: [key], message: 'must not start with the aggregate prefix' });
        seen.set(value, key);
      }
    }
  });

export type CompactorConfig = z.infer<typeof configSchema>;

/** The only place the compactor reads the environment. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): CompactorConfig {
  return loadConfig(configSchema, env);
}
