import fc from 'fast-check';
import {
  DEFAULT_ENVELOPE_LIMITS,
  createEnvelopeValidator,
  partitionKey,
  resolveEnvelopeLimits,
  validateEventBatch,
  type BatchValidation,
  type EnvelopeLimits,
  type EnvelopeValidatorOptions,
  type EventResult,
} from './envelope';
import type { JsonValue } from './json';
import { PROBLEM_CODES, type ProblemCode } from './problems';
import { createPropertiesValidator, createSchemaPropertiesCheck } from './properties-validator';

const NOW = Date.parse('2024-05-01T12:00:00.000Z');
const HOUR = 3_600_000;

function good(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: 'evt-0001',
    event_type: 'order_completed',
    occurred_at: '2024-05-01T11:59:00.000Z',
    user_id: 'user_42',
    properties: { id: 'o-1', total: 27.5, currency: 'USD' },
    context: { user_agent: 'Mozilla/5.0', ip: '203.0.113.7', library: { name: 'analytics.js', version: '1.70.0' } },
    ...overrides,
  };
}

/** A valid event with only what a tight-limit row needs. */
function slim(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { event_id: 'evt-0001', event_type: 'order_completed', occurred_at: '2024-05-01T11:59:00Z', user_id: 'u', ...overrides };
}

function without(event: Record<string, unknown>, ...keys: string[]): Record<string, unknown> {
  const copy = { ...event };
  for (const key of keys) delete copy[key];
  return copy;
}

function checked(validation: BatchValidation): EventResult[] {
  if (validation.status !== 'checked') throw new Error(`batch rejected: ${JSON.stringify(validation.problems)}`);
  return validation.results;
}

function nested(depth: number): Record<string, JsonValue> {
  let value: Record<string, JsonValue> = { leaf: 1 };
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

const orderSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: { id: { type: 'string' }, total: { type: 'number' }, currency: { type: 'string' } },
  required: ['id'],
};

const withSchemas: EnvelopeValidatorOptions = {
  checkProperties: createSchemaPropertiesCheck({
    validator: createPropertiesValidator(),
    lookup: (eventType) => (eventType === 'order_completed' ? { id: 1, schema: orderSchema } : undefined),
  }),
};

interface EventCase {
  name: string;
  /** The event under test, placed at index 1 after a valid one. */
  event: unknown;
  expected: { code: ProblemCode; path: string }[];
  limits?: Partial<EnvelopeLimits>;
  options?: EnvelopeValidatorOptions;
}

const longString = (n: number): string => 'x'.repeat(n);

const eventCases: EventCase[] = [
  { name: 'a string instead of an event', event: 'evt', expected: [{ code: 'not_an_object', path: '$[1]' }] },
  { name: 'null instead of an event', event: null, expected: [{ code: 'not_an_object', path: '$[1]' }] },
  { name: 'an array instead of an event', event: [good()], expected: [{ code: 'not_an_object', path: '$[1]' }] },
  { name: 'no event_id', event: without(good(), 'event_id'), expected: [{ code: 'missing_field', path: '$[1].event_id' }] },
  { name: 'null event_id', event: good({ event_id: null }), expected: [{ code: 'missing_field', path: '$[1].event_id' }] },
  { name: 'no event_type', event: without(good(), 'event_type'), expected: [{ code: 'missing_field', path: '$[1].event_type' }] },
  { name: 'no occurred_at', event: without(good(), 'occurred_at'), expected: [{ code: 'missing_field', path: '$[1].occurred_at' }] },
  { name: 'neither user_id nor anonymous_id', event: without(good(), 'user_id'), expected: [{ code: 'missing_field', path: '$[1].user_id' }] },
  { name: 'both ids null', event: good({ user_id: null, anonymous_id: null }), expected: [{ code: 'missing_field', path: '$[1].user_id' }] },
  { name: 'a camelCase field', event: good({ userId: 'u' }), expected: [{ code: 'unknown_field', path: '$[1].userId' }] },
  { name: 'an unknown field with a space', event: good({ 'my key': 1 }), expected: [{ code: 'unknown_field', path: '$[1]["my key"]' }] },
  { name: 'numeric event_id', event: good({ event_id: 42 }), expected: [{ code: 'wrong_type', path: '$[1].event_id' }] },
  { name: 'boolean event_type', event: good({ event_type: true }), expected: [{ code: 'wrong_type', path: '$[1].event_type' }] },
  { name: 'epoch-millis occurred_at', event: good({ occurred_at: NOW }), expected: [{ code: 'wrong_type', path: '$[1].occurred_at' }] },
  { name: 'numeric user_id', event: good({ user_id: 42 }), expected: [{ code: 'wrong_type', path: '$[1].user_id' }] },
  { name: 'object anonymous_id', event: good({ anonymous_id: {} }), expected: [{ code: 'wrong_type', path: '$[1].anonymous_id' }] },
  { name: 'array properties', event: good({ properties: [1, 2] }), expected: [{ code: 'wrong_type', path: '$[1].properties' }] },
  { name: 'string context', event: good({ context: 'Mozilla/5.0' }), expected: [{ code: 'wrong_type', path: '$[1].context' }] },
  { name: 'numeric context.user_agent', event: good({ context: { user_agent: 5 } }), expected: [{ code: 'wrong_type', path: '$[1].context.user_agent' }] },
  { name: 'string context.library', event: good({ context: { library: 'analytics.js' } }), expected: [{ code: 'wrong_type', path: '$[1].context.library' }] },
  {
    name: 'numeric context.library.version',
    event: good({ context: { library: { name: 'sdk', version: 1 } } }),
    expected: [{ code: 'wrong_type', path: '$[1].context.library.version' }],
  },
  { name: 'a Date inside properties', event: good({ properties: { at: new Date(NOW) } }), expected: [{ code: 'wrong_type', path: '$[1].properties.at' }] },
  { name: 'NaN inside properties', event: good({ properties: { price: Number.NaN } }), expected: [{ code: 'wrong_type', path: '$[1].properties.price' }] },
  { name: 'undefined inside an array', event: good({ properties: { list: [1, undefined] } }), expected: [{ code: 'wrong_type', path: '$[1].properties.list[1]' }] },
  { name: 'a bigint inside context', event: good({ context: { page: { n: 1n } } }), expected: [{ code: 'wrong_type', path: '$[1].context.page.n' }] },
  { name: 'empty user_id', event: good({ user_id: '' }), expected: [{ code: 'empty_string', path: '$[1].user_id' }] },
  { name: 'empty anonymous_id', event: good({ anonymous_id: '' }), expected: [{ code: 'empty_string', path: '$[1].anonymous_id' }] },
  { name: 'event_id of 129 characters', event: good({ event_id: longString(129) }), expected: [{ code: 'string_too_long', path: '$[1].event_id' }] },
  { name: 'user_id of 257 characters', event: good({ user_id: longString(257) }), expected: [{ code: 'string_too_long', path: '$[1].user_id' }] },
  {
    name: 'a long property string',
    event: slim({ properties: { note: longString(11) } }),
    limits: { maxStringLength: 10 },
    expected: [{ code: 'string_too_long', path: '$[1].properties.note' }],
  },
  {
    name: 'a long context string',
    event: good({ context: { page: { title: longString(11) } } }),
    limits: { maxStringLength: 10 },
    expected: [{ code: 'string_too_long', path: '$[1].context.page.title' }],
  },
  { name: 'an empty property key', event: good({ properties: { '': 1 } }), expected: [{ code: 'invalid_key', path: '$[1].properties[""]' }] },
  {
    name: 'a long property key',
    event: slim({ properties: { abcdef: 1 } }),
    limits: { maxKeyLength: 5 },
    expected: [{ code: 'invalid_key', path: '$[1].properties.abcdef' }],
  },
  {
    name: 'a __proto__ key from JSON.parse',
    event: good({ properties: JSON.parse('{"__proto__": {"admin": true}}') as unknown }),
    expected: [{ code: 'invalid_key', path: '$[1].properties.__proto__' }],
  },
  { name: 'properties nested too deep', event: good({ properties: { a: { b: { c: 1 } } } }), limits: { maxDepth: 2 }, expected: [{ code: 'too_deep', path: '$[1].properties.a.b' }] },
  { name: 'arrays count as levels', event: good({ properties: { list: [[1]] } }), limits: { maxDepth: 2 }, expected: [{ code: 'too_deep', path: '$[1].properties.list[0]' }] },
  { name: 'context nested too deep', event: good({ context: nested(8) }), expected: [{ code: 'too_deep', path: '$[1].context.n.n.n.n.n.n.n.n' }] },
  { name: 'too many property keys', event: slim({ properties: { a: 1, b: 2, c: 3 } }), limits: { maxKeys: 2 }, expected: [{ code: 'too_many_keys', path: '$[1].properties' }] },
  {
    name: 'too many keys in a nested object',
    event: slim({ properties: { o: { a: 1, b: 2, c: 3 } } }),
    limits: { maxKeys: 2 },
    expected: [{ code: 'too_many_keys', path: '$[1].properties.o' }],
  },
  { name: 'a long array', event: good({ properties: { list: [1, 2, 3] } }), limits: { maxArrayLength: 2 }, expected: [{ code: 'array_too_long', path: '$[1].properties.list' }] },
  { name: 'empty event_id', event: good({ event_id: '' }), expected: [{ code: 'invalid_event_id', path: '$[1].event_id' }] },
  { name: 'event_id with a space', event: good({ event_id: 'evt 1' }), expected: [{ code: 'invalid_event_id', path: '$[1].event_id' }] },
  { name: 'event_id with non-ASCII', event: good({ event_id: 'évt-1' }), expected: [{ code: 'invalid_event_id', path: '$[1].event_id' }] },
  { name: 'event_type in Title Case', event: good({ event_type: 'Order Completed' }), expected: [{ code: 'invalid_event_type', path: '$[1].event_type' }] },
  { name: 'event_type starting with a digit', event: good({ event_type: '1st_visit' }), expected: [{ code: 'invalid_event_type', path: '$[1].event_type' }] },
  { name: 'event_type of 65 characters', event: good({ event_type: `a${longString(64)}` }), expected: [{ code: 'invalid_event_type', path: '$[1].event_type' }] },
  { name: 'empty event_type', event: good({ event_type: '' }), expected: [{ code: 'invalid_event_type', path: '$[1].event_type' }] },
  { name: 'timestamp without offset', event: good({ occurred_at: '2024-05-01T11:00:00' }), expected: [{ code: 'invalid_timestamp', path: '$[1].occurred_at' }] },
  { name: 'timestamp with a space', event: good({ occurred_at: '2024-05-01 11:00:00Z' }), expected: [{ code: 'invalid_timestamp', path: '$[1].occurred_at' }] },
  { name: 'February 30th', event: good({ occurred_at: '2024-02-30T11:00:00Z' }), expected: [{ code: 'invalid_timestamp', path: '$[1].occurred_at' }] },
  { name: 'free text timestamp', event: good({ occurred_at: 'yesterday' }), expected: [{ code: 'invalid_timestamp', path: '$[1].occurred_at' }] },
  {
    name: 'one ms past the future skew',
    event: good({ occurred_at: new Date(NOW + HOUR + 1).toISOString() }),
    expected: [{ code: 'timestamp_in_future', path: '$[1].occurred_at' }],
  },
  {
    name: 'future skew limit from options',
    event: good({ occurred_at: new Date(NOW + 1001).toISOString() }),
    limits: { maxFutureSkewMs: 1000 },
    expected: [{ code: 'timestamp_in_future', path: '$[1].occurred_at' }],
  },
  {
    name: 'one ms past the maximum age',
    event: good({ occurred_at: new Date(NOW - 7 * 24 * HOUR - 1).toISOString() }),
    expected: [{ code: 'timestamp_too_old', path: '$[1].occurred_at' }],
  },
  { name: 'the same event_id as the event before', event: good({ event_id: 'evt-0000' }), expected: [{ code: 'duplicate_event_id', path: '$[1].event_id' }] },
  {
    name: 'properties against the type schema',
    event: good({ properties: { id: 'o-1', total: 'a lot' } }),
    options: withSchemas,
    expected: [{ code: 'schema_violation', path: '$[1].properties.total' }],
  },
  {
    name: 'a property required by the type schema',
    event: good({ properties: { total: 1 } }),
    options: withSchemas,
    expected: [{ code: 'schema_violation', path: '$[1].properties.id' }],
  },
  {
    name: 'an event type without a schema',
    event: good({ event_type: 'order_refunded' }),
    options: withSchemas,
    expected: [{ code: 'unknown_event_type', path: '$[1].event_type' }],
  },
  {
    name: 'several problems at once',
    event: { event_id: 5, event_type: 'Bad', occurred_at: 'soon', extra: true },
    expected: [
      { code: 'unknown_field', path: '$[1].extra' },
      { code: 'wrong_type', path: '$[1].event_id' },
      { code: 'invalid_event_type', path: '$[1].event_type' },
      { code: 'invalid_timestamp', path: '$[1].occurred_at' },
      { code: 'missing_field', path: '$[1].user_id' },
    ],
  },
];

interface BatchCase {
  name: string;
  input: unknown;
  limits?: Partial<EnvelopeLimits>;
  expected: { code: ProblemCode; path: string }[];
}

const batchCases: BatchCase[] = [
  { name: 'an object instead of an array', input: good(), expected: [{ code: 'not_an_array', path: '$' }] },
  { name: 'null', input: null, expected: [{ code: 'not_an_array', path: '$' }] },
  {
    name: 'more events than maxBatchEvents',
    input: [good({ event_id: 'a' }), good({ event_id: 'b' }), good({ event_id: 'c' })],
    limits: { maxBatchEvents: 2 },
    expected: [{ code: 'batch_too_large', path: '$' }],
  },
];

describe('envelope validation: one row per code and path', () => {
  it.each(eventCases)('rejects $name', ({ event, expected, limits, options }) => {
    const validator = createEnvelopeValidator({ ...options, limits: { ...options?.limits, ...limits } });
    // The lead event is small enough for every row's limits and has the same id as the duplicate row.
    const lead = { event_id: 'evt-0000', event_type: 'order_completed', occurred_at: '2024-05-01T11:00:00Z', user_id: 'u', properties: { id: 'o-0' } };
    const [first, second] = checked(validator.validateBatch([lead, event], NOW));
    expect(first?.ok).toBe(true);
    expect(second?.ok).toBe(false);
    if (second === undefined || second.ok) return;
    expect(second.index).toBe(1);
    expect(second.problems.map(({ code, path }) => ({ code, path }))).toEqual(expected);
    for (const p of second.problems) expect(p.message.length).toBeGreaterThan(0);
  });

  it.each(batchCases)('rejects the whole batch for $name', ({ input, limits, expected }) => {
    const validation = createEnvelopeValidator({ limits }).validateBatch(input, NOW);
    expect(validation.status).toBe('rejected');
    if (validation.status !== 'rejected') return;
    expect(validation.problems.map(({ code, path }) => ({ code, path }))).toEqual(expected);
  });

  it('has a row for every problem code', () => {
    const covered = new Set([...eventCases, ...batchCases].flatMap((c) => c.expected.map((e) => e.code)));
    expect([...covered].sort()).toEqual([...PROBLEM_CODES].sort());
  });
});

describe('envelope normalisation', () => {
  const validator = createEnvelopeValidator();

  function accept(event: unknown) {
    const result = validator.validateEvent(event, NOW);
    if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.problems)}`);
    return result.event;
  }

  it('converts occurred_at to UTC with millisecond precision', () => {
    expect(accept(good({ occurred_at: '2024-05-01T13:30:00.123456+02:00' })).occurred_at).toBe('2024-05-01T11:30:00.123Z');
    expect(accept(good({ occurred_at: '2024-05-01t06:30:00-04:00' })).occurred_at).toBe('2024-05-01T10:30:00.000Z');
    expect(accept(good({ occurred_at: '2024-05-01T11:30:00.1z' })).occurred_at).toBe('2024-05-01T11:30:00.100Z');
  });

  it('sets received_at from the server clock and ignores the client value', () => {
    const event = accept(good({ received_at: '1999-01-01T00:00:00Z' }));
    expect(event.received_at).toBe('2024-05-01T12:00:00.000Z');
    expect(accept(good({ received_at: 12345 })).received_at).toBe('2024-05-01T12:00:00.000Z');
  });

  it('fills absent optional fields so every key is present', () => {
    const event = accept({ event_id: 'e1', event_type: 'app_opened', occurred_at: '2024-05-01T11:00:00Z', anonymous_id: 'anon-1', user_id: null, properties: null });
    expect(event).toEqual({
      event_id: 'e1',
      event_type: 'app_opened',
      occurred_at: '2024-05-01T11:00:00.000Z',
      received_at: '2024-05-01T12:00:00.000Z',
      user_id: null,
      anonymous_id: 'anon-1',
      properties: {},
      context: {},
    });
  });

  it('shares properties and context with the input instead of copying them', () => {
    const input = good();
    const event = accept(input);
    expect(event.properties).toBe(input['properties']);
    expect(event.context).toBe(input['context']);
  });

  it('accepts occurred_at exactly at the skew and age limits', () => {
    expect(accept(good({ occurred_at: new Date(NOW + HOUR).toISOString() })).occurred_at).toBe('2024-05-01T13:00:00.000Z');
    expect(accept(good({ occurred_at: new Date(NOW - 7 * 24 * HOUR).toISOString() })).occurred_at).toBe('2024-04-24T12:00:00.000Z');
  });

  it('drops unknown fields when configured to strip them', () => {
    const result = createEnvelopeValidator({ unknownFields: 'strip' }).validateEvent(good({ userId: 'u', writeKey: 'k' }), NOW);
    expect(result.ok).toBe(true);
    if (result.ok) expect(Object.keys(result.event).sort()).toEqual(['anonymous_id', 'context', 'event_id', 'event_type', 'occurred_at', 'properties', 'received_at', 'user_id']);
  });

  it('roots single-event paths at $', () => {
    const result = validator.validateEvent(good({ event_type: 'Bad' }), new Date(NOW));
    expect(result.ok ? [] : result.problems.map((p) => p.path)).toEqual(['$.event_type']);
  });
});

describe('batches', () => {
  it('keeps good events beside bad ones, in order', () => {
    const results = checked(
      validateEventBatch([good({ event_id: 'a' }), good({ event_id: 'b', event_type: 'Bad' }), 7, good({ event_id: 'c' })], { now: NOW }),
    );
    expect(results.map((r) => [r.index, r.ok])).toEqual([
      [0, true],
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(results[1]?.ok === false && results[1].event_id).toBe('b');
    expect(results[2]?.ok === false && results[2].event_id).toBeNull();
  });

  it('counts accepted and rejected events', () => {
    const validation = validateEventBatch([good({ event_id: 'a' }), good({ event_id: 'a' }), good({ event_id: 'b' })], { now: NOW });
    expect(validation).toMatchObject({ status: 'checked', accepted: 2, rejected: 1 });
  });

  it('accepts the first of duplicate event ids and rejects every later one', () => {
    const results = checked(validateEventBatch([good({ event_id: 'x' }), good({ event_id: 'x' }), good({ event_id: 'x' })], { now: NOW }));
    expect(results.map((r) => r.ok)).toEqual([true, false, false]);
    expect(results.flatMap((r) => (r.ok ? [] : r.problems.map((p) => `${p.code} ${p.path}`)))).toEqual([
      'duplicate_event_id $[1].event_id',
      'duplicate_event_id $[2].event_id',
    ]);
  });

  it('lets a later event claim an id whose first event was rejected', () => {
    const results = checked(validateEventBatch([good({ event_id: 'x', event_type: 'Bad' }), good({ event_id: 'x' })], { now: NOW }));
    expect(results.map((r) => r.ok)).toEqual([false, true]);
  });

  it('does not remember ids across batches (dedup across batches is the processor job)', () => {
    const validator = createEnvelopeValidator();
    expect(checked(validator.validateBatch([good()], NOW))[0]?.ok).toBe(true);
    expect(checked(validator.validateBatch([good()], NOW))[0]?.ok).toBe(true);
  });

  it('stops reporting after maxProblemsPerEvent problems', () => {
    const properties = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, longString(20)]));
    const result = createEnvelopeValidator({ limits: { maxStringLength: 10, maxProblemsPerEvent: 5 } }).validateEvent(good({ properties }), NOW);
    expect(result.ok ? 0 : result.problems.length).toBe(5);
  });

  it('accepts an empty batch', () => {
    expect(validateEventBatch([], { now: NOW })).toEqual({ status: 'checked', results: [], accepted: 0, rejected: 0 });
  });
});

describe('limits', () => {
  it('defaults to DEFAULT_ENVELOPE_LIMITS', () => {
    expect(createEnvelopeValidator().limits).toEqual(DEFAULT_ENVELOPE_LIMITS);
  });

  it.each([
    [{ maxDepth: 0 }],
    [{ maxKeys: -1 }],
    [{ maxAgeMs: Number.NaN }],
    [{ maxStringLength: 1.5 }],
    [{ maxProblemsPerEvent: 0 }],
  ])('refuses %j', (overrides) => {
    expect(() => resolveEnvelopeLimits(overrides)).toThrow(RangeError);
  });
});

describe('partitionKey', () => {
  it('prefers user_id, then anonymous_id', () => {
    expect(partitionKey({ user_id: 'u', anonymous_id: 'a', event_id: 'e' })).toBe('u');
    expect(partitionKey({ user_id: null, anonymous_id: 'a', event_id: 'e' })).toBe('a');
  });
});

// ---------------------------------------------------------------------------
// Property-based tests
// ---------------------------------------------------------------------------

const LIMITS = DEFAULT_ENVELOPE_LIMITS;

/** Renders an instant with a given UTC offset (minutes) and fraction digits, as a client in that zone would. */
function formatWithOffset(ms: number, offsetMinutes: number, fractionDigits: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const fraction = fractionDigits === 0 ? '' : `.${local.slice(20, 23).padEnd(fractionDigits, '7').slice(0, fractionDigits)}`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = offsetMinutes === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local.slice(0, 19)}${fraction}${offset}`;
}

/** JSON values with keys the envelope accepts (non-empty, not __proto__). */
function sanitize(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sanitize);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [key, inner] of Object.entries(value)) if (inner !== undefined) out[`k${key}`] = sanitize(inner);
    return out;
  }
  return value;
}

const eventIdArb = fc.stringMatching(/^[A-Za-z0-9._:+/=@-]{1,128}$/);
const eventTypeArb = fc.stringMatching(/^[a-z][a-z0-9_.]{0,63}$/);
const identityArb = fc.string({ minLength: 1, maxLength: 256 });
const propertiesArb = fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue({ maxDepth: 3 })).map((d) => sanitize(d) as Record<string, JsonValue>);
const occurredArb = fc.record({
  ms: fc.integer({ min: NOW - LIMITS.maxAgeMs, max: NOW + LIMITS.maxFutureSkewMs }),
  offset: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
  digits: fc.integer({ min: 0, max: 9 }),
});

const validEventArb = fc
  .record({
    event_id: eventIdArb,
    event_type: eventTypeArb,
    occurred: occurredArb,
    ids: fc.oneof(
      identityArb.map((user_id) => ({ user_id })),
      identityArb.map((anonymous_id) => ({ anonymous_id })),
      fc.record({ user_id: identityArb, anonymous_id: identityArb }),
    ),
    properties: fc.option(propertiesArb, { nil: undefined }),
    context: fc.option(fc.record({ user_agent: fc.string({ maxLength: 200 }), locale: fc.constantFrom('en-US', 'fr-FR'), extra: propertiesArb }), { nil: undefined }),
  })
  .map(({ occurred, ids, properties, context, ...rest }) => {
    const event: Record<string, unknown> = { ...rest, ...ids, occurred_at: formatWithOffset(occurred.ms, occurred.offset, occurred.digits) };
    if (properties !== undefined) event['properties'] = properties;
    if (context !== undefined) event['context'] = context;
    return event;
  });

/** What a text with `digits` fraction digits says about `ms` after truncation to milliseconds. */
function truncatedTo(ms: number, digits: number): number {
  const unit = 10 ** Math.max(0, 3 - digits);
  return ms - (ms % unit);
}

const validEventWithTimeArb = fc
  .tuple(validEventArb, occurredArb)
  .map(([event, occurred]) => ({
    event: { ...event, occurred_at: formatWithOffset(occurred.ms, occurred.offset, occurred.digits) } as Record<string, unknown>,
    expectedOccurredAt: new Date(truncatedTo(occurred.ms, occurred.digits)).toISOString(),
  }))
  // Truncating to the second can push an instant at the age limit just past it.
  .filter(({ expectedOccurredAt }) => Date.parse(expectedOccurredAt) >= NOW - LIMITS.maxAgeMs);

/** Unique ids so duplicates do not interfere. */
const validBatchArb = fc.uniqueArray(validEventArb, { minLength: 1, maxLength: 20, selector: (e) => e['event_id'] });

const REQUIRED = ['event_id', 'event_type', 'occurred_at', 'identity'] as const;
type Mutation = 'delete' | 'null' | 'number' | 'object' | 'bad_string';
const BAD_STRINGS: Record<(typeof REQUIRED)[number], string> = {
  event_id: 'has space',
  event_type: 'Has Upper',
  occurred_at: '2024-13-01T00:00:00Z',
  identity: '',
};

function mutate(event: Record<string, unknown>, field: (typeof REQUIRED)[number], mutation: Mutation): void {
  const keys = field === 'identity' ? ['user_id', 'anonymous_id'] : [field];
  for (const key of keys) {
    if (field === 'identity' && !(key in event) && mutation !== 'delete') continue;
    if (mutation === 'delete') delete event[key];
    else if (mutation === 'null') event[key] = null;
    else if (mutation === 'number') event[key] = 42;
    else if (mutation === 'object') event[key] = { value: 'x' };
    else event[key] = BAD_STRINGS[field];
  }
}

describe('envelope properties', () => {
  const validator = createEnvelopeValidator();

  it('accepts every valid event and normalises it faithfully', () => {
    fc.assert(
      fc.property(fc.uniqueArray(validEventWithTimeArb, { minLength: 1, maxLength: 20, selector: (e) => e.event['event_id'] }), (cases) => {
        const results = checked(validator.validateBatch(cases.map((c) => c.event), NOW));
        expect(results).toHaveLength(cases.length);
        results.forEach((result, i) => {
          const { event: input, expectedOccurredAt } = cases[i] as (typeof cases)[number];
          if (!result.ok) throw new Error(`rejected ${JSON.stringify(input)}: ${JSON.stringify(result.problems)}`);
          expect(result.index).toBe(i);
          expect(result.event.event_id).toBe(input['event_id']);
          expect(result.event.event_type).toBe(input['event_type']);
          expect(result.event.occurred_at).toBe(expectedOccurredAt);
          expect(result.event.received_at).toBe('2024-05-01T12:00:00.000Z');
          expect(result.event.user_id).toBe(input['user_id'] ?? null);
          expect(result.event.anonymous_id).toBe(input['anonymous_id'] ?? null);
          expect(result.event.properties).toEqual(input['properties'] ?? {});
        });
      }),
      { numRuns: 200 },
    );
  });

  it('rejects any mutation of a required field with a path pointing at it, and keeps the rest', () => {
    fc.assert(
      fc.property(
        validBatchArb,
        fc.nat(),
        fc.constantFrom(...REQUIRED),
        fc.constantFrom<Mutation>('delete', 'null', 'number', 'object', 'bad_string'),
        (batch, pick, field, mutation) => {
          const target = pick % batch.length;
          const events = batch.map((e) => ({ ...e }));
          mutate(events[target] as Record<string, unknown>, field, mutation);
          const results = checked(validator.validateBatch(events, NOW));
          const expectedPath = `$[${target}].${field === 'identity' ? (mutation === 'null' || mutation === 'delete' ? 'user_id' : '') : field}`;
          results.forEach((result, i) => {
            if (i !== target) {
              expect(result.ok).toBe(true);
              return;
            }
            expect(result.ok).toBe(false);
            if (result.ok) return;
            const paths = result.problems.map((p) => p.path);
            if (field === 'identity' && mutation !== 'null' && mutation !== 'delete') {
              expect(paths.some((p) => p === `$[${target}].user_id` || p === `$[${target}].anonymous_id`)).toBe(true);
            } else {
              expect(paths).toContain(expectedPath);
            }
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws and answers every item, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.anything({ maxDepth: 4 }), { maxLength: 10 }), fc.anything()), (input) => {
        const validation = validator.validateBatch(input, NOW);
        if (Array.isArray(input)) {
          expect(validation.status).toBe('checked');
          if (validation.status === 'checked') {
            expect(validation.results).toHaveLength(input.length);
            expect(validation.accepted + validation.rejected).toBe(input.length);
          }
        } else {
          expect(validation.status).toBe('rejected');
        }
      }),
      { numRuns: 300 },
    );
  });
});
