/**
 * Topic names and Kafka-level contracts shared by every app. Names are constants
 * here so a typo is a compile error, not a silently empty topic.
 */

/** Valid envelopes as produced by the collector (Confluent wire format values, key = partition key). */
export const EVENTS_RAW_TOPIC = 'events.raw';
/** Validated, enriched, deduplicated events; input of the compactor. */
export const EVENTS_CLEAN_TOPIC = 'events.clean';
/** Records the processor could not handle, with the {@link DLQ_HEADERS}. */
export const EVENTS_DLQ_TOPIC = 'events.dlq';
/** Events that arrived after their window closed (behind the watermark); kept, not aggregated. */
export const EVENTS_LATE_TOPIC = 'events.late';

/** All fixed topics, for provisioning and lookups. */
export const TOPICS = {
  raw: EVENTS_RAW_TOPIC,
  clean: EVENTS_CLEAN_TOPIC,
  dlq: EVENTS_DLQ_TOPIC,
  late: EVENTS_LATE_TOPIC,
} as const;

export const AGGREGATE_TOPIC_PREFIX = 'agg.';
/** Subscribe pattern for every aggregate topic (kafkajs accepts a RegExp topic). */
export const AGGREGATE_TOPIC_PATTERN = /^agg\.[a-z][a-z0-9_-]*$/;

/** Aggregate names: lower case, start with a letter; also used as the lake table name. */
const AGGREGATE_NAME = /^[a-z][a-z0-9_-]{0,99}$/;
/** Kafka's own rule for topic names (max 249 characters). */
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const CHANGELOG_PART = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** Topic of the named aggregate, `agg.<name>`; throws RangeError on a name outside `^[a-z][a-z0-9_-]{0,99}$` (a config error). */
export function aggregateTopic(name: string): string {
  if (!AGGREGATE_NAME.test(name)) {
    throw new RangeError(`invalid aggregate name ${JSON.stringify(name)}: expected ${AGGREGATE_NAME.source}`);
  }
  return AGGREGATE_TOPIC_PREFIX + name;
}

/** The aggregate name of an `agg.<name>` topic, or `undefined` for any other topic. */
export function parseAggregateTopic(topic: string): string | undefined {
  if (!AGGREGATE_TOPIC_PATTERN.test(topic)) return undefined;
  const name = topic.slice(AGGREGATE_TOPIC_PREFIX.length);
  return AGGREGATE_NAME.test(name) ? name : undefined;
}

export const CHANGELOG_TOPIC_SUFFIX = '-changelog';

/**
 * Compacted changelog topic of one processor state store: `<applicationId>-<store>-changelog`,
 * the Kafka Streams convention, so one ACL prefix (`<applicationId>-`) covers all internal topics.
 * Throws RangeError when a part has characters Kafka rejects or the name exceeds 249 characters.
 */
export function changelogTopic(applicationId: string, store: string): string {
  for (const [label, part] of [
    ['applicationId', applicationId],
    ['store', store],
  ] as const) {
    if (!CHANGELOG_PART.test(part)) {
      throw new RangeError(`invalid changelog ${label} ${JSON.stringify(part)}: use [A-Za-z0-9._-], no leading, trailing or double dots`);
    }
  }
  const topic = `${applicationId}-${store}${CHANGELOG_TOPIC_SUFFIX}`;
  if (!KAFKA_TOPIC.test(topic)) throw new RangeError(`changelog topic name too long (${topic.length} > 249)`);
  return topic;
}

/** True when `topic` is a changelog topic of `applicationId` (as named by {@link changelogTopic}). */
export function isChangelogTopic(topic: string, applicationId: string): boolean {
  return topic.startsWith(`${applicationId}-`) && topic.endsWith(CHANGELOG_TOPIC_SUFFIX) && topic.length > applicationId.length + 1 + CHANGELOG_TOPIC_SUFFIX.length;
}

/**
 * Header names on every DLQ record. Fixed: tooling that replays or inspects the DLQ
 * depends on them. Values are UTF-8 strings; numbers are decimal.
 */
export const DLQ_HEADERS = {
  originalTopic: 'x-dlq-original-topic',
  originalPartition: 'x-dlq-original-partition',
  originalOffset: 'x-dlq-original-offset',
  errorCode: 'x-dlq-error-code',
  attempt: 'x-dlq-attempt',
  reason: 'x-dlq-reason',
} as const;

/** Longest `x-dlq-reason` kept; longer reasons are cut so one bad record cannot bloat the DLQ. */
export const DLQ_REASON_MAX_LENGTH = 1000;

/** What the DLQ headers say about a failed record. */
export interface DlqInfo {
  originalTopic: string;
  originalPartition: number;
  /** Kafka offsets are int64; kept as the decimal string kafkajs uses. */
  originalOffset: string;
  /** A stable code (a {@link ProblemCode} or a processor error code). */
  errorCode: string;
  /** 1 for the first failure; incremented by each replay. */
  attempt: number;
  /** Human-readable reason; cut to {@link DLQ_REASON_MAX_LENGTH} characters. */
  reason: string;
}

/** Builds the DLQ header map from the failure info; truncates the reason to {@link DLQ_REASON_MAX_LENGTH}. */
export function buildDlqHeaders(info: DlqInfo): Record<string, string> {
  return {
    [DLQ_HEADERS.originalTopic]: info.originalTopic,
    [DLQ_HEADERS.originalPartition]: String(info.originalPartition),
    [DLQ_HEADERS.originalOffset]: info.originalOffset,
    [DLQ_HEADERS.errorCode]: info.errorCode,
    [DLQ_HEADERS.attempt]: String(info.attempt),
    [DLQ_HEADERS.reason]: info.reason.length > DLQ_REASON_MAX_LENGTH ? info.reason.slice(0, DLQ_REASON_MAX_LENGTH) : info.reason,
  };
}

/** Header values as Kafka clients hand them out (kafkajs `IHeaders`). */
export type HeaderValue = Buffer | string | (Buffer | string)[] | undefined;

function headerText(value: HeaderValue): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

/** Reads DLQ headers back; returns `undefined` when any header is missing or a number is malformed. */
export function parseDlqHeaders(headers: Readonly<Record<string, HeaderValue>>): DlqInfo | undefined {
  const originalTopic = headerText(headers[DLQ_HEADERS.originalTopic]);
  const partition = headerText(headers[DLQ_HEADERS.originalPartition]);
  const originalOffset = headerText(headers[DLQ_HEADERS.originalOffset]);
  const errorCode = headerText(headers[DLQ_HEADERS.errorCode]);
  const attempt = headerText(headers[DLQ_HEADERS.attempt]);
  const reason = headerText(headers[DLQ_HEADERS.reason]);
  if (originalTopic === undefined || partition === undefined || originalOffset === undefined) return undefined;
  if (errorCode === undefined || attempt === undefined || reason === undefined) return undefined;
  if (!/^\d{1,10}$/.test(partition) || !/^\d{1,19}$/.test(originalOffset) || !/^\d{1,10}$/.test(attempt)) return undefined;
  return { originalTopic, originalPartition: Number(partition), originalOffset, errorCode, attempt: Number(attempt), reason };
}
