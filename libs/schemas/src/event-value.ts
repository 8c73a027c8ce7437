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
  return frameJson(schemaId, JSON.stringify(record));
}

function frameJson(schemaId: number, json: string): Buffer {
  const length = Buffer.byteLength(json, 'utf8');
  const buf = Buffer.allocUnsafe(WIRE_HEADER_BYTES + length);
  buf[0] = WIRE_MAGIC_BYTE;
  buf.writeInt32BE(schemaId, 1);
  buf.write(json, WIRE_HEADER_BYTES, 'utf8');
  return buf;
}

/**
 * Frames `records[i]` with `schemaIds[i]` as {@link encodeFramedValue} does, all into one buffer (one
 * allocation for a request's events instead of one each); returns one view per record, in order.
 */
export function encodeFramedValues(schemaIds: readonly number[], records: readonly object[]): Buffer[] {
  const count = records.length;
  const jsons = new Array<string>(count);
  let size = 0;
  let longest = 0;
  for (let i = 0; i < count; i++) {
    const json = JSON.stringify(records[i]);
    jsons[i] = json;
    size += WIRE_HEADER_BYTES + json.length;
    if (json.length > longest) longest = json.length;
  }
  // Sized for ASCII JSON (one byte per UTF-16 unit), plus room for the multi-byte characters of about one
  // value; a value that might not fit anymore is measured and, when it does not, framed on its own.
  const buf = Buffer.allocUnsafe(size + 2 * longest);
  const out = new Array<Buffer>(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const json = jsons[i] as string;
    const schemaId = schemaIds[i] as number;
    const room = buf.length - at - WIRE_HEADER_BYTES;
    if (room < 3 * json.length && Buffer.byteLength(json, 'utf8') > room) {
      out[i] = frameJson(schemaId, json);
      continue;
    }
    buf[at] = WIRE_MAGIC_BYTE;
    buf.writeInt32BE(schemaId, at + 1);
    const written = buf.write(json, at + WIRE_HEADER_BYTES, 'utf8');
    out[i] = buf.subarray(at, at + WIRE_HEADER_BYTES + written);
    at += WIRE_HEADER_BYTES + written;
  }
  return out;
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
