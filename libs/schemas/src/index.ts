export * from './problems';
export { isPlainObject, type JsonObject, type JsonValue } from './json';
export * from './timestamp';
export * from './topics';
export {
  DEFAULT_ENVELOPE_LIMITS,
  ENVELOPE_FIELDS,
  EVENT_ID_MAX_LENGTH,
  EVENT_ID_PATTERN,
  EVENT_TYPE_PATTERN,
  IDENTITY_MAX_LENGTH,
  createEnvelopeValidator,
  partitionKey,
  resolveEnvelopeLimits,
  validateEventBatch,
  type BatchValidation,
  type EnvelopeField,
  type EnvelopeLimits,
  type EnvelopeValidator,
  type EnvelopeValidatorOptions,
  type EventContext,
  type EventEnvelope,
  type EventInput,
  type EventResult,
  type PropertiesCheck,
} from './envelope';
export * from './properties-validator';
export * from './schema-compat';
export * from './segment';
export * from './event-value';
