import { LATE_HEADERS, type CleanEvent } from '@pipeline/schemas';
import { icebergType, toRow } from './columns';
import { EVENT_BASE_COLUMNS, KAFKA_COLUMNS, LATE_COLUMNS } from './definitions';
import { lateValues } from './late-rows';

const fields = LATE_COLUMNS.map((c, i) => ({ id: i + 1, name: c.name, type: icebergType(c.kind), required: false }));
const kinds = new Map(LATE_COLUMNS.map((c) => [c.name, c.kind]));
const coords = { topic: 'events.late', partition: 2, offset: 7n };

const event = (over: Partial<CleanEvent> = {}): CleanEvent => ({
  event_id: 'late-1',
  event_type: 'page_view',
  occurred_at: '2026-11-27T08:00:00.000Z',
  received_at: '2026-11-27T10:00:00.000Z',
  user_id: 'u1',
  anonymous_id: null,
  properties: { url: '/x', n: 3 },
  context: { locale: 'en-US' },
  enrichment: { processed_at: '2026-11-27T10:00:00.500Z', ua_browser: 'Chrome', ua_browser_version: '128.0', ua_os: 'Linux', ua_device_type: 'desktop' },
  ...over,
});

const lateHeaders = {
  event_type: Buffer.from('page_view'),
  [LATE_HEADERS.aggregate]: Buffer.from('events_per_type_per_minute'),
  [LATE_HEADERS.reason]: Buffer.from('late'),
  [LATE_HEADERS.windowStart]: Buffer.from('2026-11-27T08:00:00.000Z'),
  [LATE_HEADERS.windowEnd]: Buffer.from('2026-11-27T08:01:00.000Z'),
  [LATE_HEADERS.watermark]: Buffer.from('2026-11-27T09:59:30.000Z'),
};

describe('late rows', () => {
  it('has the events table base columns, every property in one JSON column, the late headers and the Kafka coordinates', () => {
    const base = EVENT_BASE_COLUMNS.filter((c) => !KAFKA_COLUMNS.includes(c) && c.name !== 'properties_extra').map((c) => c.name);
    expect(LATE_COLUMNS.map((c) => c.name)).toEqual([
      ...base.slice(0, base.indexOf('schema_id')),
      'properties',
      'schema_id',
      'late_aggregate',
      'late_reason',
      'late_window_start',
      'late_window_end',
      'late_watermark',
      '_kafka_topic',
      '_kafka_partition',
      '_kafka_offset',
    ]);
  });

  it('maps a late event with its headers', () => {
    const row = toRow(fields, kinds, lateValues(event(), 9, lateHeaders, coords)) as unknown[];
    const get = (name: string) => row[fields.findIndex((f) => f.name === name)];
    expect(Object.fromEntries(fields.map((f) => [f.name, get(f.name)]))).toEqual({
      event_id: 'late-1',
      event_type: 'page_view',
      occurred_at: Date.parse('2026-11-27T08:00:00.000Z'),
      received_at: Date.parse('2026-11-27T10:00:00.000Z'),
      processed_at: Date.parse('2026-11-27T10:00:00.500Z'),
      user_id: 'u1',
      anonymous_id: null,
      ua_browser: 'Chrome',
      ua_browser_version: '128.0',
      ua_os: 'Linux',
      ua_device_type: 'desktop',
      context: '{"locale":"en-US"}',
      properties: '{"url":"/x","n":3}',
      schema_id: 9,
      late_aggregate: 'events_per_type_per_minute',
      late_reason: 'late',
      late_window_start: Date.parse('2026-11-27T08:00:00.000Z'),
      late_window_end: Date.parse('2026-11-27T08:01:00.000Z'),
      late_watermark: Date.parse('2026-11-27T09:59:30.000Z'),
      _kafka_topic: 'events.late',
      _kafka_partition: 2,
      _kafka_offset: 7n,
    });
  });

  it('leaves the watermark and windows null when the processor had none (empty headers)', () => {
    const values = lateValues(event(), 9, { ...lateHeaders, [LATE_HEADERS.watermark]: '', [LATE_HEADERS.windowStart]: '', [LATE_HEADERS.windowEnd]: Buffer.alloc(0) }, coords);
    expect([values['late_watermark'], values['late_window_start'], values['late_window_end']]).toEqual([null, null, null]);
  });

  it('lands an event rejected for its time (no window headers) and one without any late headers', () => {
    const futureTime = lateValues(event(), 9, { [LATE_HEADERS.aggregate]: '*', [LATE_HEADERS.reason]: 'future_time' }, coords);
    expect(futureTime).toMatchObject({ late_aggregate: '*', late_reason: 'future_time', late_window_start: null, late_window_end: null, late_watermark: null });
    const bare = lateValues(event(), 9, undefined, coords);
    expect(bare).toMatchObject({ late_aggregate: null, late_reason: null, late_watermark: null });
    expect(Array.isArray(toRow(fields, kinds, bare))).toBe(true);
  });

  it('reads a header time that is not a timestamp as null', () => {
    expect(lateValues(event(), 9, { [LATE_HEADERS.watermark]: 'soon' }, coords)['late_watermark']).toBeNull();
  });

  it('keeps an unframed event (no schema id) and no properties as nulls', () => {
    const values = lateValues(event({ properties: {}, context: {} }), undefined, lateHeaders, coords);
    expect([values['schema_id'], values['properties'], values['context']]).toEqual([null, null, null]);
  });

  it('names an event time that does not fit (the record goes to the DLQ)', () => {
    expect(toRow(fields, kinds, lateValues(event({ occurred_at: 'yesterday' }), 9, lateHeaders, coords))).toBe('occurred_at: expected an RFC 3339 timestamp');
  });
});
