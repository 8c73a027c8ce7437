import { createEnvelopeValidator, createPropertiesValidator, encodeFramedValue, encodeUnframedValue, type JsonSchema } from '@pipeline/schemas';
import type { RegistrySchema, SchemaRegistry } from '../registry/schema-registry';
import { createRecordValidator } from '../steps/validate';
import type { InputRecord } from './records';

/** An in-memory registry: schemas by id and the latest id per event type (no prefix). */
export function fakeRegistry(): SchemaRegistry & { put(id: number, schema: JsonSchema, latestFor?: string): void } {
  const ids = new Map<number, RegistrySchema>();
  const latest = new Map<string, number>();
  return {
    put(id, schema, latestFor) {
      ids.set(id, { id, schema });
      if (latestFor !== undefined) latest.set(latestFor, id);
    },
    byId: async (id) => ids.get(id) ?? null,
    latest: async (type) => ids.get(latest.get(type) ?? -1) ?? null,
    cachedById: (id) => ids.get(id) ?? null,
    cachedLatest: (type) => ids.get(latest.get(type) ?? -1) ?? null,
    ping: async () => undefined,
  };
}

export function testValidator(registry: SchemaRegistry) {
  return createRecordValidator({ registry, properties: createPropertiesValidator(), envelope: createEnvelopeValidator() });
}

export const BASE_MS = Date.parse('2026-03-01T10:00:00.000Z');

export interface EventSpec {
  id: string;
  type?: string;
  at: number;
  user?: string;
  anon?: string;
  properties?: Record<string, unknown>;
  ua?: string;
}

export function envelope(spec: EventSpec): Record<string, unknown> {
  return {
    event_id: spec.id,
    event_type: spec.type ?? 'page_view',
    occurred_at: new Date(spec.at).toISOString(),
    received_at: new Date(spec.at + 1_000).toISOString(),
    user_id: spec.user ?? (spec.anon === undefined ? 'u1' : null),
    anonymous_id: spec.anon ?? null,
    properties: spec.properties ?? { url: '/' },
    context: spec.ua === undefined ? {} : { user_agent: spec.ua },
  };
}

/** Input records at consecutive offsets from `first`, framed with `schemaId` (unframed when null). */
export function records(first: number, specs: EventSpec[], schemaId: number | null = 1): InputRecord[] {
  return specs.map((spec, i) => {
    const event = envelope(spec);
    return {
      offset: first + i,
      key: Buffer.from(String(event['user_id'] ?? event['anonymous_id'])),
      value: schemaId === null ? encodeUnframedValue(event) : encodeFramedValue(schemaId, event),
      timestampMs: spec.at + 1_000,
      headers: {},
    };
  });
}
