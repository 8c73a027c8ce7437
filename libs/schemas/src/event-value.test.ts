import fc from 'fast-check';
import { aggregateRecordKey, decodeValue, encodeFramedValue, encodeFramedValues, encodeUnframedValue, WIRE_HEADER_BYTES } from './event-value';

const event = {
  event_id: 'e1',
  event_type: 'page_view',
  occurred_at: '2026-11-27T10:00:00.000Z',
  received_at: '2026-11-27T10:00:01.000Z',
  user_id: 'u1',
  anonymous_id: null,
  properties: { url: '/é' },
  context: {},
};

describe('event values', () => {
  it('frames with magic byte 0 and the schema id, and decodes back', () => {
    const buf = encodeFramedValue(4242, event);
    expect(buf[0]).toBe(0);
    expect(buf.readInt32BE(1)).toBe(4242);
    expect(buf.length).toBe(WIRE_HEADER_BYTES + Buffer.byteLength(JSON.stringify(event)));
    expect(decodeValue(buf)).toEqual({ schemaId: 4242, record: event });
  });

  it('frames many records into one buffer exactly as one by one, whatever their characters', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }));
    const record = fc.record({ event_id: text, properties: fc.dictionary(text, fc.oneof(text, fc.integer())) });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -1, max: 2 ** 31 - 1 }), record), { maxLength: 60 }), (items) => {
        const ids = items.map(([id]) => id);
        const records = items.map(([, r]) => r);
        const many = encodeFramedValues(ids, records);
        expect(many).toHaveLength(items.length);
        many.forEach((value, i) => expect(value.equals(encodeFramedValue(ids[i] as number, records[i] as object))).toBe(true));
      }),
      { numRuns: 500 },
    );
  });

  it('frames a batch whose multi-byte characters outgrow the shared buffer', () => {
    const records = [{ v: 'a'.repeat(50) }, { v: '€'.repeat(50) }, { v: '😀'.repeat(40) }, { v: '€'.repeat(60) }];
    const many = encodeFramedValues([1, 2, 3, 4], records);
    many.forEach((value, i) => expect(decodeValue(value)).toEqual({ schemaId: i + 1, record: records[i] }));
  });

  it('decodes plain JSON without a schema id', () => {
    expect(decodeValue(encodeUnframedValue(event))).toEqual({ schemaId: undefined, record: event });
  });

  it.each([
    ['garbage', Buffer.from('not json')],
    ['an empty value', Buffer.alloc(0)],
    ['a framed value with broken JSON', Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), Buffer.from('{')])],
  ])('throws on %s', (_label, value) => {
    expect(() => decodeValue(value)).toThrow();
  });
});

describe('aggregateRecordKey', () => {
  it('is the same for the same window and group whatever the key order of group, and differs otherwise', () => {
    const base = { aggregate: 'a', window_start: '2026-01-01T00:00:00.000Z' };
    expect(aggregateRecordKey({ ...base, group: { x: 1, y: 'b' } })).toBe(aggregateRecordKey({ ...base, group: { y: 'b', x: 1 } }));
    expect(aggregateRecordKey({ ...base, group: { x: 1, y: 'b' } })).toBe('a|2026-01-01T00:00:00.000Z|{"x":1,"y":"b"}');
    expect(aggregateRecordKey({ ...base, group: { x: '1' } })).not.toBe(aggregateRecordKey({ ...base, group: { x: 1 } }));
    expect(aggregateRecordKey({ ...base, group: {} })).not.toBe(aggregateRecordKey({ ...base, window_start: '2026-01-01T00:01:00.000Z', group: {} }));
  });
});
