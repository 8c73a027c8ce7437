import type { Admin } from 'kafkajs';
import { ensureTopics, type TopicSpec } from '@pipeline/kafka';
import { PipelineError } from '@pipeline/runtime';
import { changelogTopic } from '@pipeline/schemas';
import type { AggregatesConfig } from '../aggregates/aggregates-config';
import type { ProcessorConfig } from '../config';

export interface ProcessorTopics {
  raw: string;
  clean: string;
  dlq: string;
  late: string;
  aggregate: (name: string) => string;
  aggregateTopics: string[];
  /** Compacted state of the input partitions (dedup ids, window snapshots, positions). */
  sourceChangelog: string;
  /** Partial results and watermarks on their way to the merge stage; undefined when nothing needs merging. */
  repartition: string | undefined;
  mergeChangelog: string | undefined;
}

/** Kafka Streams-style name of an internal topic: `<applicationId>-<name>-repartition`. */
export function repartitionTopic(applicationId: string, name: string): string {
  return `${applicationId}-${name}-repartition`;
}

export function processorTopics(config: ProcessorConfig, aggregates: AggregatesConfig): ProcessorTopics {
  const aggregate = (name: string) => `${config.AGGREGATE_TOPIC_PREFIX}${name}`;
  return {
    raw: config.RAW_TOPIC,
    clean: config.CLEAN_TOPIC,
    dlq: config.DLQ_TOPIC,
    late: config.LATE_TOPIC,
    aggregate,
    aggregateTopics: aggregates.windowing.aggregates.map((a) => aggregate(a.name)),
    sourceChangelog: changelogTopic(config.APPLICATION_ID, 'source'),
    repartition: aggregates.needsMerge ? repartitionTopic(config.APPLICATION_ID, 'merge') : undefined,
    mergeChangelog: aggregates.needsMerge ? changelogTopic(config.APPLICATION_ID, 'merge') : undefined,
  };
}

const COMPACTED = { 'cleanup.policy': 'compact', 'max.message.bytes': String(4 * 1024 * 1024), 'segment.ms': String(3_600_000), 'min.cleanable.dirty.ratio': '0.2' };

async function partitionCount(admin: Admin, topic: string): Promise<number> {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const count = topics[0]?.partitions.length ?? 0;
  if (count === 0) throw new PipelineError('dependency_unavailable', `topic ${topic} has no partitions yet`);
  return count;
}

/**
 * Creates the topics the processor reads and writes when they are missing (the input too, so a
 * fresh stack starts in any order) and returns the partition counts the tasks need. Changelogs
 * are compacted and co-partitioned with their input; a changelog with fewer partitions than its
 * input is a configuration error (state would have nowhere to go).
 */
export async function ensureProcessorTopics(admin: Admin, config: ProcessorConfig, topics: ProcessorTopics): Promise<{ sourcePartitions: number; repartitionPartitions: number }> {
  const retention = { 'retention.ms': String(config.TOPIC_RETENTION_MS) };
  await ensureTopics(admin, [{ topic: topics.raw, numPartitions: config.TOPIC_PARTITIONS, config: retention }]);
  const sourcePartitions = await partitionCount(admin, topics.raw);
  const specs: TopicSpec[] = [
    { topic: topics.clean, numPartitions: config.TOPIC_PARTITIONS, config: retention },
    { topic: topics.late, numPartitions: config.TOPIC_PARTITIONS, config: retention },
    { topic: topics.dlq, numPartitions: config.TOPIC_PARTITIONS, config: { 'retention.ms': String(config.DLQ_RETENTION_MS) } },
    ...topics.aggregateTopics.map((topic) => ({ topic, numPartitions: config.TOPIC_PARTITIONS, config: { ...retention, 'cleanup.policy': 'compact,delete' } })),
    { topic: topics.sourceChangelog, numPartitions: sourcePartitions, config: COMPACTED },
  ];
  if (topics.repartition !== undefined) specs.push({ topic: topics.repartition, numPartitions: config.TOPIC_PARTITIONS, config: retention });
  await ensureTopics(admin, specs);
  const changelogPartitions = await partitionCount(admin, topics.sourceChangelog);
  if (changelogPartitions < sourcePartitions) {
    throw new PipelineError('config_invalid', `${topics.sourceChangelog} has ${changelogPartitions} partitions but ${topics.raw} has ${sourcePartitions}; add partitions to the changelog`);
  }
  let repartitionPartitions = 0;
  if (topics.repartition !== undefined && topics.mergeChangelog !== undefined) {
    repartitionPartitions = await partitionCount(admin, topics.repartition);
    await ensureTopics(admin, [{ topic: topics.mergeChangelog, numPartitions: repartitionPartitions, config: COMPACTED }]);
    const mergeChangelogPartitions = await partitionCount(admin, topics.mergeChangelog);
    if (mergeChangelogPartitions < repartitionPartitions) {
      throw new PipelineError('config_invalid', `${topics.mergeChangelog} has ${mergeChangelogPartitions} partitions but ${topics.repartition} has ${repartitionPartitions}`);
    }
  }
  return { sourcePartitions, repartitionPartitions };
}
