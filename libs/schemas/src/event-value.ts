/**
 * Kafka value formats shared by every app.
 *
 * `events.raw`, `events.clean` and `events.late`: the Confluent wire-format framing (magic byte 0,
 * then the registry id of the event type's properties schema as a big-endian int32) followed by
 * the record as UTF-8 JSON. A record with no schema (an unknown event type sent to the DLQ) is
 * plain JSON, whose first byte is `{`.
 */
import type { EventEnvelope } from './envelope';
import type { JsonObject } from './json';

export const WIRE_MAGIC_BYTE = 0;
export const WIRE_HEADER_BYTES = 5;

/** What the stream processor adds to an accepted event (`events.clean`). */
export interface Enrichment {
  /** When the processor handled the event (UTC, ms precision). */
  processed_at: string;
  /** Parsed from `context.user_agent`; null when absent or unknown. */
  ua_browser: string | null;
  ua_browser_version: string | null;
  ua_os: string | null;
  ua_device_type: string | null;
}

/** A cleaned event: the envelope plus its enrichment. */
export interface CleanEvent extends EventEnvelope {
  enrichment: Enrichment;
}

/** A window result of a declared aggregate (`agg.<name>`), plain JSON without framing. */
export interface AggregateRecord {
  aggregate: string;
  window_start: string;
  window_end: string;
  group: JsonObject;
  event_count: number;
  measures: Record<string, number | null>;
  /** Measures computed from a sketch rather than exactly. */
  estimated: string[];
}

/** Frames a record with the schema id its properties were validated against. */
export function encodeFramedValue(schemaId: number, record: object): Buffer {
  const json = JSON.stringify(record);
  const length = Buffer.byteLength(json, 'utf8');
  const buf = Buffer.allocUnsafe(WIRE_HEADER_BYTES + length);
  buf[0] = WIRE_MAGIC_BYTE;
  buf.writeInt32BE(schemaId, 1);
  buf.write(json, WIRE_HEADER_BYTES, 'utf8');
  return buf;
}

/** Plain JSON value, for records without a schema. */
export function encodeUnframedValue(record: object): Buffer {
  return Buffer.from(JSON.stringify(record), 'utf8');
}

/**
 * Reads a value back: framed (`schemaId` set) or plain JSON (`schemaId` undefined).
 * Throws a SyntaxError/Error on anything else; callers route such records to the DLQ.
 */
export function decodeValue<T = EventEnvelope>(value: Buffer): { schemaId: number | undefined; record: T } {
  if (value.length >= WIRE_HEADER_BYTES && value[0] === WIRE_MAGIC_BYTE) {
    return { schemaId: value.readInt32BE(1), record: JSON.parse(value.toString('utf8', WIRE_HEADER_BYTES)) as T };
  }
  if (value[0] === 0x7b) return { schemaId: undefined, record: JSON.parse(value.toString('utf8')) as T };
  throw new Error('not a pipeline value: neither wire-format framed nor a JSON object');
}

/** Header on `events.clean` and `events.late` records: the event's `event_type` (lets consumers route without decoding). */
export const EVENT_TYPE_HEADER = 'event_type';

/**
 * Headers of an `events.late` record (UTF-8; times as RFC 3339 UTC). One record per aggregate the
 * event was not counted in; the value is the same framed CleanEvent as on `events.clean`.
 */
export const LATE_HEADERS = {
  /** The aggregate that did not count the event. */
  aggregate: 'x-late-aggregate',
  /** `late` (its windows were already final) or `future_time` (event time too far ahead of the receive time). */
  reason: 'x-late-reason',
  /** Start of the first and end of the last window the event missed. */
  windowStart: 'x-late-window-start',
  windowEnd: 'x-late-window-end',
  /** The aggregate's watermark when the event arrived. */
  watermark: 'x-late-watermark',
} as const;

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}

/**
 * Kafka key of an `agg.<name>` record: `<aggregate>|<window_start>|<group as canonical JSON>`. One key per
 * (aggregate, window, group), so a compacted topic or an upsert keeps the latest record of each window.
 */
export function aggregateRecordKey(record: Pick<AggregateRecord, 'aggregate' | 'window_start' | 'group'>): string {
  return `${record.aggregate}|${record.window_start}|${canonical(record.group)}`;
}
