import type { IcebergField } from '@pipeline/lake';
import type { CleanEvent } from '@pipeline/schemas';
import { MISFIT, convertValue, misfitReason, type ColumnKind } from './columns';

/** A property column of the event's schema, as the mapper needs it. */
export interface MappedProperty {
  property: string;
  column: string;
  kind: ColumnKind;
}

/**
 * Maps cleaned events of one schema to rows aligned with the table's fields, writing each value at
 * a precomputed index (no intermediate object per event: this is the compactor's hot path). The
 * layout is the one {@link eventValues} describes. Returns the reason instead of a row when a value
 * does not fit its column.
 */
export function createEventRowMapper(fields: readonly IcebergField[], properties: readonly MappedProperty[]) {
  const index = new Map(fields.map((f, i) => [f.name, i]));
  const at = (name: string) => index.get(name) ?? -1;
  const i = {
    event_id: at('event_id'),
    event_type: at('event_type'),
    occurred_at: at('occurred_at'),
    received_at: at('received_at'),
    processed_at: at('processed_at'),
    user_id: at('user_id'),
    anonymous_id: at('anonymous_id'),
    ua_browser: at('ua_browser'),
    ua_browser_version: at('ua_browser_version'),
    ua_os: at('ua_os'),
    ua_device_type: at('ua_device_type'),
    context: at('context'),
    properties_extra: at('properties_extra'),
    schema_id: at('schema_id'),
    topic: at('_kafka_topic'),
    partition: at('_kafka_partition'),
    offset: at('_kafka_offset'),
  };
  const props = properties
    .map((p) => ({ ...p, i: at(p.column), type: fields[at(p.column)]?.type }))
    .filter((p): p is MappedProperty & { i: number; type: NonNullable<IcebergField['type']> } => p.i >= 0 && p.type !== undefined);
  const declared = new Set(properties.map((p) => p.property));
  const width = fields.length;

  const time = (row: unknown[], idx: number, value: unknown, name: string): string | undefined => {
    if (idx < 0 || value === null || value === undefined) return undefined;
    const ms = typeof value === 'string' ? Date.parse(value) : NaN;
    if (Number.isNaN(ms)) return `${name}: ${misfitReason('timestamptz', value)}`;
    row[idx] = ms;
    return undefined;
  };
  const text = (row: unknown[], idx: number, value: unknown) => {
    if (idx >= 0 && value !== null && value !== undefined) row[idx] = typeof value === 'string' ? value : String(value);
  };

  return (e: CleanEvent, schemaId: number, coords: { topic: string; partition: number; offset: bigint }): unknown[] | string => {
    const row = new Array<unknown>(width).fill(null);
    text(row, i.event_id, e.event_id);
    text(row, i.event_type, e.event_type);
    const bad = time(row, i.occurred_at, e.occurred_at, 'occurred_at') ?? time(row, i.received_at, e.received_at, 'received_at');
    if (bad) return bad;
    const en = e.enrichment;
    if (en) {
      const badProcessed = time(row, i.processed_at, en.processed_at, 'processed_at');
      if (badProcessed) return badProcessed;
      text(row, i.ua_browser, en.ua_browser);
      text(row, i.ua_browser_version, en.ua_browser_version);
      text(row, i.ua_os, en.ua_os);
      text(row, i.ua_device_type, en.ua_device_type);
    }
    text(row, i.user_id, e.user_id);
    text(row, i.anonymous_id, e.anonymous_id);
    if (i.context >= 0 && e.context) {
      for (const _ in e.context) {
        row[i.context] = JSON.stringify(e.context);
        break;
      }
    }
    if (i.schema_id >= 0) row[i.schema_id] = schemaId;
    const values = e.properties ?? {};
    let mapped = 0;
    for (const p of props) {
      const raw = values[p.property];
      if (raw === undefined) continue;
      mapped++;
      if (raw === null) continue;
      const v = convertValue(p.type, p.kind, raw);
      if (v === MISFIT) return `${p.column}: ${misfitReason(p.type, raw)}`;
      row[p.i] = v;
    }
    if (i.properties_extra >= 0) {
      let count = 0;
      for (const _ in values) count++;
      if (count > mapped) {
        const extra: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(values)) if (!declared.has(k)) extra[k] = v;
        if (Object.keys(extra).length > 0) row[i.properties_extra] = JSON.stringify(extra);
      }
    }
    if (i.topic >= 0) row[i.topic] = coords.topic;
    if (i.partition >= 0) row[i.partition] = coords.partition;
    if (i.offset >= 0) row[i.offset] = coords.offset;
    return row;
  };
}
