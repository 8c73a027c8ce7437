import type { CleanEvent } from '@pipeline/schemas';
import { icebergType, toRow, type ColumnKind } from './columns';
import { EVENT_BASE_COLUMNS, eventValues } from './definitions';
import { createEventRowMapper } from './event-rows';

const properties = [
  { property: 'url', column: 'prop_url', kind: 'string' as ColumnKind },
  { property: 'n', column: 'prop_n', kind: 'long' as ColumnKind },
  { property: 'tags', column: 'prop_tags', kind: 'json' as ColumnKind },
];
const columns = [...EVENT_BASE_COLUMNS, ...properties.map((p) => ({ name: p.column, kind: p.kind }))];
// Table order differs from definition order on purpose (columns added later sit at the end, ids are what matter).
const fields = [...columns].reverse().map((c, i) => ({ id: i + 1, name: c.name, type: icebergType(c.kind), required: false }));
const kinds = new Map(columns.map((c) => [c.name, c.kind]));

const event = (over: Partial<CleanEvent> = {}): CleanEvent => ({
  event_id: 'e1',
  event_type: 'page_view',
  occurred_at: '2026-11-27T10:00:00.000Z',
  received_at: '2026-11-27T10:00:01.000Z',
  user_id: 'u1',
  anonymous_id: null,
  properties: { url: '/x', n: 3, tags: ['a'], undeclared: true },
  context: { locale: 'en-US' },
  enrichment: { processed_at: '2026-11-27T10:00:02.000Z', ua_browser: 'Chrome', ua_browser_version: null, ua_os: null, ua_device_type: null },
  ...over,
});

describe('event row mapper', () => {
  const map = createEventRowMapper(fields, properties);
  const coords = { topic: 't', partition: 2, offset: 41n };

  it.each([
    ['a full event', event()],
    ['no context, no extra properties', event({ context: {}, properties: { url: '/y' } })],
    ['null properties', event({ properties: { url: null, n: null } as unknown as CleanEvent['properties'] })],
  ])('lays out %s exactly like eventValues + toRow', (_label, e) => {
    expect(map(e, 7, coords)).toEqual(toRow(fields, kinds, eventValues(e, 7, properties, coords)));
  });

  it('writes the values where the fields are', () => {
    const row = map(event(), 7, coords) as unknown[];
    const get = (name: string) => row[fields.findIndex((f) => f.name === name)];
    expect([get('event_id'), get('occurred_at'), get('prop_n'), get('prop_tags'), get('properties_extra'), get('context'), get('_kafka_offset')]).toEqual([
      'e1',
      Date.parse('2026-11-27T10:00:00.000Z'),
      3,
      '["a"]',
      '{"undeclared":true}',
      '{"locale":"en-US"}',
      41n,
    ]);
  });

  it('names the value that does not fit', () => {
    expect(map(event({ properties: { n: 'three' } }), 7, coords)).toBe('prop_n: expected an integer, got string');
    expect(map(event({ occurred_at: 'soon' }), 7, coords)).toBe('occurred_at: expected an RFC 3339 timestamp');
  });
});
