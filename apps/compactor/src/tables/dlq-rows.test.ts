import fc from 'fast-check';
import { DLQ_HEADERS, buildDlqHeaders, encodeFramedValue, encodeUnframedValue } from '@pipeline/schemas';
import { icebergType, toRow } from './columns';
import { DLQ_COLUMNS } from './definitions';
import { UNKNOWN_ERROR_CODE, decodeDlqPayload, dlqValues, readDlqHeaders, type DlqSource } from './dlq-rows';

const fields = DLQ_COLUMNS.map((c, i) => ({ id: i + 1, name: c.name, type: icebergType(c.kind), required: false }));
const kinds = new Map(DLQ_COLUMNS.map((c) => [c.name, c.kind]));
const FAILED_AT = Date.parse('2026-11-27T10:00:00.123Z');
const envelope = { event_id: 'e-1', event_type: 'page_view', occurred_at: '2026-11-27T09:59:00.000Z', properties: { url: '/x' } };
const headers = buildDlqHeaders({ originalTopic: 'events.raw', originalPartition: 3, originalOffset: '9007199254740993', errorCode: 'schema_validation_failed', attempt: 2, reason: 'properties.url: expected string' });

const source = (value: Buffer, over: Partial<DlqSource> = {}): DlqSource => ({ topic: 'events.dlq', partition: 1, offset: 42n, value, timestampMs: FAILED_AT, headers, ...over });

describe('DLQ rows', () => {
  it('lands a framed record with every DLQ header as columns', () => {
    const value = encodeFramedValue(17, envelope);
    expect(dlqValues(source(value))).toEqual({
      failed_at: '2026-11-27T10:00:00.123Z',
      error_code: 'schema_validation_failed',
      reason: 'properties.url: expected string',
      attempt: 2,
      original_topic: 'events.raw',
      original_partition: 3,
      original_offset: 9007199254740993n,
      event_id: 'e-1',
      event_type: 'page_view',
      payload: JSON.stringify(envelope),
      payload_encoding: 'utf8',
      schema_id: 17,
      _kafka_topic: 'events.dlq',
      _kafka_partition: 1,
      _kafka_offset: 42n,
    });
  });

  it.each([
    ['unframed JSON (an unknown event type from the collector)', encodeUnframedValue(envelope), { payload: JSON.stringify(envelope), encoding: 'utf8', schemaId: null, eventId: 'e-1', eventType: 'page_view' }],
    ['framed text that is not JSON', Buffer.concat([Buffer.from([0, 0, 0, 0, 5]), Buffer.from('{"event_id": "e-2", trunc')]), { payload: '{"event_id": "e-2", trunc', encoding: 'utf8', schemaId: 5, eventId: null, eventType: null }],
    ['plain text', Buffer.from('not json at all'), { payload: 'not json at all', encoding: 'utf8', schemaId: null, eventId: null, eventType: null }],
    ['JSON that is not an object', Buffer.from('[1,2]'), { payload: '[1,2]', encoding: 'utf8', schemaId: null, eventId: null, eventType: null }],
    ['a numeric event_id and a non-string event_type', encodeUnframedValue({ event_id: 12, event_type: { a: 1 } }), { payload: '{"event_id":12,"event_type":{"a":1}}', encoding: 'utf8', schemaId: null, eventId: '12', eventType: null }],
    ['multi-byte UTF-8', encodeFramedValue(1, { event_id: 'é-✓-😀', event_type: 'café' }), { payload: '{"event_id":"é-✓-😀","event_type":"café"}', encoding: 'utf8', schemaId: 1, eventId: 'é-✓-😀', eventType: 'café' }],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { payload: 'e//+fQ==', encoding: 'base64', schemaId: null, eventId: null, eventType: null }],
    ['the framing followed by invalid UTF-8', Buffer.from([0, 0, 0, 0, 1, 0xc3, 0x28]), { payload: 'AAAAAAHDKA==', encoding: 'base64', schemaId: null, eventId: null, eventType: null }],
    ['binary that happens to be valid UTF-8', Buffer.from([0x01, 0x02, 0x41, 0x00]), { payload: 'AQJBAA==', encoding: 'base64', schemaId: null, eventId: null, eventType: null }],
    ['a zero byte shorter than the framing', Buffer.from([0, 1]), { payload: 'AAE=', encoding: 'base64', schemaId: null, eventId: null, eventType: null }],
    ['an empty value', Buffer.alloc(0), { payload: null, encoding: null, schemaId: null, eventId: null, eventType: null }],
  ])('reads %s', (_label, value, expected) => {
    expect(decodeDlqPayload(value)).toEqual(expected);
  });

  it('keeps what base64 stores byte for byte', () => {
    const garbage = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7b]);
    const { payload, encoding } = decodeDlqPayload(garbage);
    expect(encoding).toBe('base64');
    expect(Buffer.from(payload as string, 'base64')).toEqual(garbage);
  });

  it('lands a record without DLQ headers with the unknown code and nulls', () => {
    const values = dlqValues(source(Buffer.from('x'), { headers: undefined }));
    expect(values).toMatchObject({ error_code: UNKNOWN_ERROR_CODE, reason: null, attempt: null, original_topic: null, original_partition: null, original_offset: null, failed_at: '2026-11-27T10:00:00.123Z' });
  });

  it.each([
    ['a partition that is not a number', { [DLQ_HEADERS.originalPartition]: 'three' }, { originalPartition: null }],
    ['a partition past int32', { [DLQ_HEADERS.originalPartition]: '2147483648' }, { originalPartition: null }],
    ['an offset past int64', { [DLQ_HEADERS.originalOffset]: '9223372036854775808' }, { originalOffset: null }],
    ['the largest offset', { [DLQ_HEADERS.originalOffset]: '9223372036854775807' }, { originalOffset: 9223372036854775807n }],
    ['a negative attempt', { [DLQ_HEADERS.attempt]: '-1' }, { attempt: null }],
    ['an empty error code', { [DLQ_HEADERS.errorCode]: '' }, { errorCode: UNKNOWN_ERROR_CODE }],
  ])('reads %s as null, keeping the other headers', (_label, override, expected) => {
    expect(readDlqHeaders({ ...headers, ...override })).toEqual({
      errorCode: 'schema_validation_failed',
      reason: 'properties.url: expected string',
      attempt: 2,
      originalTopic: 'events.raw',
      originalPartition: 3,
      originalOffset: 9007199254740993n,
      ...expected,
    });
  });

  it('reads header values given as buffers or lists (as kafkajs hands them out)', () => {
    expect(readDlqHeaders({ [DLQ_HEADERS.errorCode]: Buffer.from('invalid_input'), [DLQ_HEADERS.attempt]: [Buffer.from('4'), '5'] })).toMatchObject({ errorCode: 'invalid_input', attempt: 4 });
  });

  it.each([
    ['missing', undefined],
    ['negative', -1],
    ['not a number', NaN],
    ['past what a Date holds', 9e15],
  ])('leaves failed_at null when the Kafka timestamp is %s', (_label, timestampMs) => {
    expect(dlqValues(source(Buffer.from('x'), { timestampMs })).failed_at).toBeNull();
  });

  it('gives a row that fits the table for any value and headers: the DLQ table never rejects', () => {
    const headerValue = fc.option(fc.oneof(fc.string(), fc.uint8Array().map((b) => Buffer.from(b))), { nil: undefined });
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.record({ [DLQ_HEADERS.errorCode]: headerValue, [DLQ_HEADERS.attempt]: headerValue, [DLQ_HEADERS.originalPartition]: headerValue, [DLQ_HEADERS.originalOffset]: headerValue }),
        fc.option(fc.double(), { nil: undefined }),
        (bytes, h, timestampMs) => {
          const row = toRow(fields, kinds, dlqValues(source(Buffer.from(bytes), { headers: h, timestampMs })));
          expect(Array.isArray(row)).toBe(true);
        },
      ),
    );
  });
});
