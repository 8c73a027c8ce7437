import { ENVELOPE_FIELDS, WIRE_HEADER_BYTES, WIRE_MAGIC_BYTE, encodeFramedValue, type CleanEvent, type EventEnvelope } from '@pipeline/schemas';

const CLOSE_BRACE = 0x7d;
const SUFFIX_PREFIX = ',"enrichment":';

/**
 * True when the decoded input already is the validated envelope byte for byte in meaning: the same
 * eight keys and the same values (the collector writes exactly that). Then the clean value can reuse
 * the input's JSON text instead of serialising properties and context again.
 */
function isCanonical(raw: Record<string, unknown>, event: EventEnvelope): boolean {
  let keys = 0;
  for (const _ in raw) keys++;
  return (
    keys === ENVELOPE_FIELDS.length &&
    raw['occurred_at'] === event.occurred_at &&
    raw['received_at'] === event.received_at &&
    raw['user_id'] === event.user_id &&
    raw['anonymous_id'] === event.anonymous_id &&
    raw['properties'] === event.properties &&
    raw['context'] === event.context
  );
}

/**
 * The `events.clean` value: `encodeFramedValue(schemaId, clean)`. When the input JSON is canonical it
 * is spliced (framing header with `schemaId`, the input object without its closing brace, then
 * `,"enrichment":<json>}`), which decodes to the same CleanEvent at a fraction of the cost.
 */
export function encodeCleanValue(opts: { input: Buffer; framed: boolean; raw: Record<string, unknown>; event: EventEnvelope; schemaId: number; enrichmentJson: string; clean: () => CleanEvent }): Buffer {
  const { input, framed } = opts;
  const start = framed ? WIRE_HEADER_BYTES : 0;
  if (input[input.length - 1] !== CLOSE_BRACE || !isCanonical(opts.raw, opts.event)) return encodeFramedValue(opts.schemaId, opts.clean());
  const suffix = SUFFIX_PREFIX + opts.enrichmentJson + '}';
  const bodyLength = input.length - 1 - start;
  const out = Buffer.allocUnsafe(WIRE_HEADER_BYTES + bodyLength + Buffer.byteLength(suffix, 'utf8'));
  out[0] = WIRE_MAGIC_BYTE;
  out.writeInt32BE(opts.schemaId, 1);
  input.copy(out, WIRE_HEADER_BYTES, start, input.length - 1);
  out.write(suffix, WIRE_HEADER_BYTES + bodyLength, 'utf8');
  return out;
}
