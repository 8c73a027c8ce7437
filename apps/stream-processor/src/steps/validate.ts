import {
  InvalidSchemaError,
  decodeValue,
  isPlainObject,
  parseRfc3339,
  type EnvelopeValidator,
  type EventEnvelope,
  type Problem,
  type PropertiesValidator,
} from '@pipeline/schemas';
import type { RegistrySchema, SchemaRegistry } from '../registry/schema-registry';

/** Error codes of records the processor dead-letters itself (beside the envelope problem codes). */
export const PROCESSOR_DLQ_CODES = ['empty_value', 'undecodable', 'unknown_schema', 'invalid_schema', 'unknown_event_type', 'schema_violation'] as const;
export type ProcessorDlqCode = (typeof PROCESSOR_DLQ_CODES)[number];

/** A raw record after framing was read: framed (schemaId) or plain JSON, or why it could not be read. */
export type Decoded = { ok: true; schemaId: number | undefined; record: unknown } | { ok: false; code: 'empty_value' | 'undecodable'; reason: string };

export type Verdict =
  | { kind: 'ok'; event: EventEnvelope; schemaId: number }
  | { kind: 'dlq'; code: string; reason: string; eventType: string | null };

export function decodeRaw(value: Buffer | null): Decoded {
  if (value === null || value.length === 0) return { ok: false, code: 'empty_value', reason: 'the record has no value' };
  try {
    const { schemaId, record } = decodeValue<unknown>(value);
    return { ok: true, schemaId, record };
  } catch (err) {
    return { ok: false, code: 'undecodable', reason: (err as Error).message };
  }
}

/** The server receive time of a record: its valid `received_at`, else the Kafka record timestamp. */
export function receivedAtMs(record: unknown, recordTimestampMs: number): number {
  if (isPlainObject(record)) {
    const received = record['received_at'];
    if (typeof received === 'string') {
      const ms = parseRfc3339(received);
      if (ms !== undefined) return ms;
    }
  }
  return recordTimestampMs;
}

function eventTypeOf(record: unknown): string | null {
  if (!isPlainObject(record)) return null;
  const type = record['event_type'];
  return typeof type === 'string' ? type : null;
}

function describe(problems: readonly Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('; ');
}

export interface RecordValidator {
  /** Fetches every schema the records need (by id, and the latest version of each event type) so `check` runs without I/O. */
  prepare(records: readonly Decoded[]): Promise<void>;
  /** True when `check` can judge `decoded` from the caches alone (`prepare` would fetch nothing); no I/O. */
  isPrepared(decoded: Decoded): boolean;
  /**
   * Validates a decoded record: envelope rules (times judged against the receive time), then
   * properties against the framed schema. A record that breaks its framed schema but passes the
   * subject's latest version (a schema fix, then a replay) is accepted under the latest id; an
   * unframed record (collector DLQ) is checked against the latest version.
   */
  check(decoded: Decoded & { ok: true }, receivedMs: number): Verdict;
}

export function createRecordValidator(deps: { registry: SchemaRegistry; properties: PropertiesValidator; envelope: EnvelopeValidator }): RecordValidator {
  const { registry, properties, envelope } = deps;

  function validateAgainst(schema: RegistrySchema, event: EventEnvelope): Problem[] | InvalidSchemaError {
    try {
      return properties.validate(schema, event.properties);
    } catch (err) {
      if (err instanceof InvalidSchemaError) return err;
      throw err;
    }
  }

  return {
    async prepare(records) {
      const ids = new Set<number>();
      const types = new Set<string>();
      for (const d of records) {
        if (!d.ok) continue;
        if (d.schemaId !== undefined && registry.cachedById(d.schemaId) === undefined) ids.add(d.schemaId);
        const type = eventTypeOf(d.record);
        if (type !== null && registry.cachedLatest(type) === undefined) types.add(type);
      }
      await Promise.all([...[...ids].map((id) => registry.byId(id)), ...[...types].map((t) => registry.latest(t))]);
    },
    isPrepared(d) {
      if (!d.ok) return true;
      if (d.schemaId !== undefined && registry.cachedById(d.schemaId) === undefined) return false;
      const type = eventTypeOf(d.record);
      return type === null || registry.cachedLatest(type) !== undefined;
    },
    check(decoded, receivedMs) {
      const eventType = eventTypeOf(decoded.record);
      const result = envelope.validateEvent(decoded.record, receivedMs);
      if (!result.ok) {
        const first = result.problems[0];
        return { kind: 'dlq', code: first?.code ?? 'not_an_object', reason: describe(result.problems), eventType };
      }
      const event = result.event;
      const latest = registry.cachedLatest(event.event_type) ?? null;
      let schema: RegistrySchema | null;
      if (decoded.schemaId === undefined) {
        schema = latest;
        if (schema === null) return { kind: 'dlq', code: 'unknown_event_type', reason: `no schema is registered for event type ${JSON.stringify(event.event_type)}`, eventType };
      } else {
        schema = registry.cachedById(decoded.schemaId) ?? null;
        if (schema === null) return { kind: 'dlq', code: 'unknown_schema', reason: `schema id ${decoded.schemaId} is not in the registry`, eventType };
      }
      const outcome = validateAgainst(schema, event);
      if (Array.isArray(outcome) && outcome.length === 0) return { kind: 'ok', event, schemaId: schema.id };
      if (latest !== null && latest.id !== schema.id) {
        const retry = validateAgainst(latest, event);
        if (Array.isArray(retry) && retry.length === 0) return { kind: 'ok', event, schemaId: latest.id };
      }
      if (outcome instanceof InvalidSchemaError) return { kind: 'dlq', code: 'invalid_schema', reason: outcome.message, eventType };
      return { kind: 'dlq', code: 'schema_violation', reason: describe(outcome as Problem[]), eventType };
    },
  };
}
