import { decodeValue, encodeFramedValue, encodeUnframedValue, type CleanEvent, type EventEnvelope } from '@pipeline/schemas';
import { encodeCleanValue } from './clean-value';

const event: EventEnvelope = {
  event_id: 'e1',
  event_type: 'page_view',
  occurred_at: '2026-03-01T10:00:00.000Z',
  received_at: '2026-03-01T10:00:01.000Z',
  user_id: 'u1',
  anonymous_id: null,
  properties: { url: '/é', n: 1.5 },
  context: { user_agent: 'x' },
};
const enrichment = { processed_at: '2026-03-01T10:00:02.000Z', ua_browser: 'Chrome', ua_browser_version: '128', ua_os: null, ua_device_type: 'desktop' };

function encode(input: Buffer, framed: boolean, raw: Record<string, unknown>, validated: EventEnvelope, schemaId = 9) {
  return encodeCleanValue({ input, framed, raw, event: validated, schemaId, enrichmentJson: JSON.stringify(enrichment), clean: () => ({ ...validated, enrichment }) });
}

describe('encodeCleanValue', () => {
  it.each([
    ['framed', encodeFramedValue(4, event), true],
    ['unframed', encodeUnframedValue(event), false],
  ])('splices a canonical %s input into the same CleanEvent encodeFramedValue gives, under the new schema id', (_label, input, framed) => {
    const raw = decodeValue<Record<string, unknown>>(input).record;
    // The validator shares properties and context with its input.
    const validated = { ...event, properties: raw['properties'], context: raw['context'] } as EventEnvelope;
    const value = encode(input, framed, raw, validated);
    expect(decodeValue<CleanEvent>(value)).toEqual({ schemaId: 9, record: { ...event, enrichment } });
    expect(value.length).toBe(encodeFramedValue(9, { ...event, enrichment }).length);
  });

  it('serialises the validated event when the input differs from it (normalised time, missing key)', () => {
    const input = Buffer.from(JSON.stringify({ ...event, occurred_at: '2026-03-01T11:00:00+01:00', anonymous_id: undefined }));
    const raw = decodeValue<Record<string, unknown>>(input).record;
    const validated = { ...event, properties: raw['properties'], context: raw['context'] } as EventEnvelope;
    const value = encode(input, false, raw, validated);
    expect(value).toEqual(encodeFramedValue(9, { ...validated, enrichment }));
  });
});
