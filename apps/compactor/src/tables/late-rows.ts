import { LATE_HEADERS, type CleanEvent } from '@pipeline/schemas';
import { eventBaseValues } from './definitions';
import { headerText, type RecordHeaders } from './headers';

/** A header time, or null when it is missing, empty (no watermark yet) or not a timestamp. */
function headerTime(headers: RecordHeaders | undefined, name: string): string | null {
  const text = headerText(headers, name);
  return text !== null && !Number.isNaN(Date.parse(text)) ? text : null;
}

/**
 * Every column value of an `events.late` record, keyed by column name (see LATE_COLUMNS): the
 * envelope and enrichment as in the events table, all properties as one JSON value, what the
 * {@link LATE_HEADERS} say, and the Kafka coordinates. Missing headers give nulls.
 */
export function lateValues(
  e: CleanEvent,
  schemaId: number | undefined,
  headers: RecordHeaders | undefined,
  coords: { topic: string; partition: number; offset: bigint },
): Record<string, unknown> {
  const named = eventBaseValues(e, schemaId ?? null);
  const properties = e.properties;
  named['properties'] = properties && typeof properties === 'object' && Object.keys(properties).length > 0 ? properties : null;
  named['late_aggregate'] = headerText(headers, LATE_HEADERS.aggregate);
  named['late_reason'] = headerText(headers, LATE_HEADERS.reason);
  named['late_window_start'] = headerTime(headers, LATE_HEADERS.windowStart);
  named['late_window_end'] = headerTime(headers, LATE_HEADERS.windowEnd);
  named['late_watermark'] = headerTime(headers, LATE_HEADERS.watermark);
  named['_kafka_topic'] = coords.topic;
  named['_kafka_partition'] = coords.partition;
  named['_kafka_offset'] = coords.offset;
  return named;
}
