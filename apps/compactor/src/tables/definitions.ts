import type { AggregateRecord, CleanEvent } from '@pipeline/schemas';
import { columnName, type ColumnSpec } from './columns';

/** Kafka coordinates kept on every row: exactly-once restarts and audits rely on them. */
export const KAFKA_COLUMNS: ColumnSpec[] = [
  { name: '_kafka_topic', kind: 'string' },
  { name: '_kafka_partition', kind: 'int' },
  { name: '_kafka_offset', kind: 'long' },
];

/** Envelope and enrichment columns of the events table, in table order; properties follow as `prop_*`. */
export const EVENT_BASE_COLUMNS: ColumnSpec[] = [
  { name: 'event_id', kind: 'string' },
  { name: 'event_type', kind: 'string' },
  { name: 'occurred_at', kind: 'timestamptz' },
  { name: 'received_at', kind: 'timestamptz' },
  { name: 'processed_at', kind: 'timestamptz' },
  { name: 'user_id', kind: 'string' },
  { name: 'anonymous_id', kind: 'string' },
  { name: 'ua_browser', kind: 'string' },
  { name: 'ua_browser_version', kind: 'string' },
  { name: 'ua_os', kind: 'string' },
  { name: 'ua_device_type', kind: 'string' },
  { name: 'context', kind: 'json' },
  { name: 'properties_extra', kind: 'json' },
  { name: 'schema_id', kind: 'int' },
  ...KAFKA_COLUMNS,
];

/** Partitioning of the events table (Trino syntax). */
export const EVENT_PARTITIONING = ['day(occurred_at)', 'event_type'];

/** Columns of every aggregate table; group fields follow as `g_*`, measures as `m_*`. */
export const AGG_BASE_COLUMNS: ColumnSpec[] = [
  { name: 'aggregate', kind: 'string' },
  { name: 'window_start', kind: 'timestamptz' },
  { name: 'window_end', kind: 'timestamptz' },
  { name: 'event_count', kind: 'long' },
  { name: 'group_json', kind: 'json' },
  { name: 'estimated', kind: 'json' },
  ...KAFKA_COLUMNS,
];

export const AGG_PARTITIONING = ['day(window_start)'];

/**
 * Columns of the dead-letter table, in table order. The names are a contract: saved queries and
 * the dashboard read them. `failed_at` is the DLQ record's Kafka timestamp; `payload` is its value
 * as text (`payload_encoding` says `utf8`, or `base64` for a value that is not text).
 */
export const DLQ_COLUMNS: ColumnSpec[] = [
  { name: 'failed_at', kind: 'timestamptz' },
  { name: 'error_code', kind: 'string' },
  { name: 'reason', kind: 'string' },
  { name: 'attempt', kind: 'int' },
  { name: 'original_topic', kind: 'string' },
  { name: 'original_partition', kind: 'int' },
  { name: 'original_offset', kind: 'long' },
  { name: 'event_id', kind: 'string' },
  { name: 'event_type', kind: 'string' },
  { name: 'payload', kind: 'string' },
  { name: 'payload_encoding', kind: 'string' },
  { name: 'schema_id', kind: 'int' },
  ...KAFKA_COLUMNS,
];

export const DLQ_PARTITIONING = ['day(failed_at)'];

/**
 * Columns of the late-events table: the events table's envelope and enrichment columns with every
 * property in one JSON text column (`properties`), then what the late headers say.
 */
export const LATE_COLUMNS: ColumnSpec[] = [
  ...EVENT_BASE_COLUMNS.filter((c) => !KAFKA_COLUMNS.includes(c)).map((c): ColumnSpec => (c.name === 'properties_extra' ? { name: 'properties', kind: 'json' } : c)),
  { name: 'late_aggregate', kind: 'string' },
  { name: 'late_reason', kind: 'string' },
  { name: 'late_window_start', kind: 'timestamptz' },
  { name: 'late_window_end', kind: 'timestamptz' },
  { name: 'late_watermark', kind: 'timestamptz' },
  ...KAFKA_COLUMNS,
];

export const LATE_PARTITIONING = ['day(occurred_at)'];

export const GROUP_COLUMN_PREFIX = 'g_';
export const MEASURE_COLUMN_PREFIX = 'm_';

/** Base column values of a cleaned event (properties are mapped separately, by schema); `schemaId` null for an unframed value. */
export function eventBaseValues(e: CleanEvent, schemaId: number | null): Record<string, unknown> {
  const enrichment: Partial<CleanEvent['enrichment']> = e.enrichment ?? {};
  return {
    event_id: e.event_id,
    event_type: e.event_type,
    occurred_at: e.occurred_at,
    received_at: e.received_at,
    processed_at: enrichment.processed_at ?? null,
    user_id: e.user_id ?? null,
    anonymous_id: e.anonymous_id ?? null,
    ua_browser: enrichment.ua_browser ?? null,
    ua_browser_version: enrichment.ua_browser_version ?? null,
    ua_os: enrichment.ua_os ?? null,
    ua_device_type: enrichment.ua_device_type ?? null,
    context: e.context && Object.keys(e.context).length > 0 ? e.context : null,
    schema_id: schemaId,
  };
}

/**
 * Every column value of a cleaned event, keyed by column name: envelope, enrichment, the schema's
 * property columns, what the schema does not declare (`properties_extra`) and the Kafka coordinates.
 */
export function eventValues(
  e: CleanEvent,
  schemaId: number,
  columns: ReadonlyArray<{ property: string; column: string }>,
  coords: { topic: string; partition: number; offset: bigint | number },
): Record<string, unknown> {
  const named = eventBaseValues(e, schemaId);
  const props = e.properties ?? {};
  let mapped = 0;
  for (const c of columns) {
    const v = props[c.property];
    if (v !== undefined) {
      named[c.column] = v;
      mapped++;
    }
  }
  let extra: Record<string, unknown> | null = null;
  if (mapped < Object.keys(props).length) {
    const declared = new Set(columns.map((c) => c.property));
    for (const [k, v] of Object.entries(props)) if (!declared.has(k)) (extra ??= {})[k] = v;
  }
  named['properties_extra'] = extra;
  named['_kafka_topic'] = coords.topic;
  named['_kafka_partition'] = coords.partition;
  named['_kafka_offset'] = coords.offset;
  return named;
}

/** Column specs an aggregate record needs beyond the base ones (`g_<field>` as text, `m_<measure>` as double). */
export function aggregateExtraColumns(r: AggregateRecord): ColumnSpec[] {
  return [
    ...Object.keys(r.group ?? {}).map((k) => ({ name: columnName(GROUP_COLUMN_PREFIX, k), kind: 'string' as const })),
    ...Object.keys(r.measures ?? {}).map((k) => ({ name: columnName(MEASURE_COLUMN_PREFIX, k), kind: 'double' as const })),
  ];
}

/** Every column value of an aggregate record, keyed by column name. */
export function aggregateValues(r: AggregateRecord): Record<string, unknown> {
  const values: Record<string, unknown> = {
    aggregate: r.aggregate,
    window_start: r.window_start,
    window_end: r.window_end,
    event_count: r.event_count,
    group_json: r.group ?? null,
    estimated: r.estimated && r.estimated.length > 0 ? r.estimated : null,
  };
  for (const [k, v] of Object.entries(r.group ?? {})) values[columnName(GROUP_COLUMN_PREFIX, k)] = v;
  for (const [k, v] of Object.entries(r.measures ?? {})) values[columnName(MEASURE_COLUMN_PREFIX, k)] = v;
  return values;
}
