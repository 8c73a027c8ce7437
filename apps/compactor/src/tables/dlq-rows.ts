import { isUtf8 } from 'node:buffer';
import { DLQ_HEADERS, WIRE_HEADER_BYTES, WIRE_MAGIC_BYTE, isPlainObject } from '@pipeline/schemas';
import { headerText, type RecordHeaders } from './headers';

/** `error_code` of a DLQ record without a usable `x-dlq-error-code` header. */
export const UNKNOWN_ERROR_CODE = 'unknown';

const INT32_MAX = 2_147_483_647;
const INT64_MAX = 9_223_372_036_854_775_807n;
/** Latest instant a JavaScript Date holds (ms). */
const MAX_DATE_MS = 8.64e15;

/** What the value of a DLQ record holds, as the table stores it. */
export interface DlqPayload {
  /** The JSON text of a framed value, the whole value when it is text, base64 otherwise; null when empty. */
  payload: string | null;
  /** `utf8` or `base64` (how to read `payload`); null when there is no payload. */
  encoding: 'utf8' | 'base64' | null;
  /** Registry id of a wire-format framed value. */
  schemaId: number | null;
  /** `event_id` and `event_type` of a value that is a JSON object holding them. */
  eventId: string | null;
  eventType: string | null;
}

/** Text here means valid UTF-8 without control characters other than tab, line feed and carriage return. */
function isText(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return isUtf8(bytes);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function field(json: unknown, name: string): string | null {
  if (!isPlainObject(json)) return null;
  const v = json[name];
  if (typeof v === 'string') return v;
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
}

/**
 * Reads a DLQ record's value without ever failing: a wire-format framed value (magic byte 0, schema
 * id, then non-empty text) gives its text and schema id; other text is kept as is; anything else
 * (invalid UTF-8, binary, framing followed by binary) is kept whole as base64. `event_id` and
 * `event_type` come from the text when it is a JSON object.
 */
export function decodeDlqPayload(value: Buffer): DlqPayload {
  if (value.length === 0) return { payload: null, encoding: null, schemaId: null, eventId: null, eventType: null };
  let text: string | undefined;
  let schemaId: number | null = null;
  if (value.length > WIRE_HEADER_BYTES && value[0] === WIRE_MAGIC_BYTE && isText(value.subarray(WIRE_HEADER_BYTES))) {
    text = value.toString('utf8', WIRE_HEADER_BYTES);
    schemaId = value.readInt32BE(1);
  } else if (isText(value)) {
    text = value.toString('utf8');
  }
  if (text === undefined) return { payload: value.toString('base64'), encoding: 'base64', schemaId: null, eventId: null, eventType: null };
  const json = parseJson(text);
  return { payload: text, encoding: 'utf8', schemaId, eventId: field(json, 'event_id'), eventType: field(json, 'event_type') };
}

/** What the DLQ headers of a record say; every field is null when its header is missing or malformed. */
export interface DlqHeaderFields {
  /** {@link UNKNOWN_ERROR_CODE} when the header is missing or empty. */
  errorCode: string;
  reason: string | null;
  attempt: number | null;
  originalTopic: string | null;
  originalPartition: number | null;
  originalOffset: bigint | null;
}

function int32(text: string | null): number | null {
  if (text === null || !/^\d{1,10}$/.test(text)) return null;
  const n = Number(text);
  return n <= INT32_MAX ? n : null;
}

function int64(text: string | null): bigint | null {
  if (text === null || !/^\d{1,19}$/.test(text)) return null;
  const n = BigInt(text);
  return n <= INT64_MAX ? n : null;
}

/**
 * Reads the {@link DLQ_HEADERS} one by one, leniently: a record whose headers are missing or
 * malformed is still landed, with `error_code` {@link UNKNOWN_ERROR_CODE} and nulls.
 */
export function readDlqHeaders(headers: RecordHeaders | undefined): DlqHeaderFields {
  return {
    errorCode: headerText(headers, DLQ_HEADERS.errorCode) ?? UNKNOWN_ERROR_CODE,
    reason: headerText(headers, DLQ_HEADERS.reason),
    attempt: int32(headerText(headers, DLQ_HEADERS.attempt)),
    originalTopic: headerText(headers, DLQ_HEADERS.originalTopic),
    originalPartition: int32(headerText(headers, DLQ_HEADERS.originalPartition)),
    originalOffset: int64(headerText(headers, DLQ_HEADERS.originalOffset)),
  };
}

/** A DLQ record as the mapping needs it. */
export interface DlqSource {
  topic: string;
  partition: number;
  offset: bigint;
  value: Buffer;
  timestampMs?: number | undefined;
  headers?: RecordHeaders | undefined;
}

/**
 * Every column value of a DLQ record, keyed by column name (see DLQ_COLUMNS). Total: any value and
 * any headers give a row, so the DLQ table never sends a record back to the DLQ.
 */
export function dlqValues(rec: DlqSource): Record<string, unknown> {
  const h = readDlqHeaders(rec.headers);
  const p = decodeDlqPayload(rec.value);
  const ts = rec.timestampMs;
  return {
    failed_at: ts !== undefined && ts >= 0 && ts <= MAX_DATE_MS ? new Date(ts).toISOString() : null,
    error_code: h.errorCode,
    reason: h.reason,
    attempt: h.attempt,
    original_topic: h.originalTopic,
    original_partition: h.originalPartition,
    original_offset: h.originalOffset,
    event_id: p.eventId,
    event_type: p.eventType,
    payload: p.payload,
    payload_encoding: p.encoding,
    schema_id: p.schemaId,
    _kafka_topic: rec.topic,
    _kafka_partition: rec.partition,
    _kafka_offset: rec.offset,
  };
}
