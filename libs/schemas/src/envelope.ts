/**
 * The event envelope and its validator. This runs in the collector's hot path for
 * every event, so the checks are hand-written: no schema interpretation, no path
 * strings built unless something is wrong, one pass over each nested value.
 */
import { describeType, isPlainObject, type JsonObject, type JsonValue } from './json';
import { appendPath, formatPath, problem, type PathSegment, type Problem, type ProblemCode } from './problems';
import { formatTimestamp, isCanonicalTimestamp, parseRfc3339 } from './timestamp';

/** Well-known context fields (snake_case); any other JSON key is kept as sent. */
export interface EventContext {
  /** Raw `User-Agent` of the client; the processor parses it. */
  user_agent?: string;
  /** Client IP; the collector may overwrite it with the socket or forwarded address. */
  ip?: string;
  app_version?: string;
  /** BCP 47 tag, e.g. `en-US`. */
  locale?: string;
  /** IANA zone, e.g. `Europe/Paris`. */
  timezone?: string;
  /** The SDK that sent the event. */
  library?: { name?: string; version?: string; [key: string]: JsonValue | undefined };
  [key: string]: JsonValue | undefined;
}

/** An accepted, normalised event: what the collector produces to `events.raw`. Every key is always present. */
export interface EventEnvelope {
  /** Client-made idempotency key, 1..128 chars of `[A-Za-z0-9._:+/=@-]`. */
  event_id: string;
  /** `^[a-z][a-z0-9_.]{0,63}$`; selects the properties schema. */
  event_type: string;
  /** Event time, normalised to UTC with millisecond precision, e.g. `2024-05-01T12:00:00.000Z`. */
  occurred_at: string;
  /** Server receive time (same format), set by the collector; a client value is ignored. */
  received_at: string;
  /** Known user; at least one of `user_id` and `anonymous_id` is non-null. */
  user_id: string | null;
  anonymous_id: string | null;
  /** Event-type-specific payload, checked against the type's JSON Schema. `{}` when absent. */
  properties: JsonObject;
  /** Where the event came from. `{}` when absent. */
  context: EventContext;
}

/** What a client sends for one event (before validation). */
export interface EventInput {
  event_id: string;
  event_type: string;
  /** RFC 3339 with offset (`Z` or `+hh:mm`). */
  occurred_at: string;
  /** Accepted but ignored: the collector sets its own receive time. */
  received_at?: string;
  user_id?: string | null;
  anonymous_id?: string | null;
  properties?: JsonObject | null;
  context?: EventContext | null;
}

/** Top-level envelope keys, in contract order. */
export const ENVELOPE_FIELDS = [
  'event_id',
  'event_type',
  'occurred_at',
  'received_at',
  'user_id',
  'anonymous_id',
  'properties',
  'context',
] as const;
export type EnvelopeField = (typeof ENVELOPE_FIELDS)[number];

/** Fixed by the contract (not configurable): these values become Kafka keys, columns and partitions. */
export const EVENT_ID_MAX_LENGTH = 128;
export const EVENT_ID_PATTERN = /^[A-Za-z0-9._:+/=@-]+$/;
export const EVENT_TYPE_PATTERN = /^[a-z][a-z0-9_.]{0,63}$/;
export const IDENTITY_MAX_LENGTH = 256;

/** Tunable limits; see {@link DEFAULT_ENVELOPE_LIMITS}. */
export interface EnvelopeLimits {
  /** Events in one batch; a larger batch is rejected whole with `batch_too_large`. */
  maxBatchEvents: number;
  /** Longest string value inside `properties` / `context`, in UTF-16 code units. */
  maxStringLength: number;
  /** Longest object key inside `properties` / `context`. */
  maxKeyLength: number;
  /** Nesting levels of `properties` / `context`: the object itself is level 1, each nested object or array adds one. */
  maxDepth: number;
  /** Keys in any one object inside `properties` / `context` (including them). */
  maxKeys: number;
  /** Elements in any one array inside `properties` / `context`. */
  maxArrayLength: number;
  /** How far `occurred_at` may lie after `now`, in ms (client clocks run fast). */
  maxFutureSkewMs: number;
  /** How far `occurred_at` may lie before `now`, in ms (offline clients replay late). */
  maxAgeMs: number;
  /** Problems reported per event; the walk stops after this many, bounding work on hostile input. */
  maxProblemsPerEvent: number;
}

const HOUR_MS = 3_600_000;

export const DEFAULT_ENVELOPE_LIMITS: Readonly<EnvelopeLimits> = Object.freeze({
  maxBatchEvents: 500,
  maxStringLength: 8192,
  maxKeyLength: 128,
  maxDepth: 8,
  maxKeys: 256,
  maxArrayLength: 1000,
  maxFutureSkewMs: 1 * HOUR_MS,
  maxAgeMs: 7 * 24 * HOUR_MS,
  maxProblemsPerEvent: 20,
});

/** Merges `overrides` onto the defaults; throws RangeError on a limit that is not a non-negative integer (a config error). */
export function resolveEnvelopeLimits(overrides: Partial<EnvelopeLimits> = {}): Readonly<EnvelopeLimits> {
  const limits: EnvelopeLimits = { ...DEFAULT_ENVELOPE_LIMITS };
  for (const key of Object.keys(DEFAULT_ENVELOPE_LIMITS) as (keyof EnvelopeLimits)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`envelope limit ${key} must be a non-negative integer, got ${String(value)}`);
    limits[key] = value;
  }
  if (limits.maxDepth < 1 || limits.maxProblemsPerEvent < 1) throw new RangeError('envelope limits maxDepth and maxProblemsPerEvent must be at least 1');
  return Object.freeze(limits);
}

/**
 * Checks one event's `properties` against its event type's schema (see `createSchemaPropertiesCheck`).
 * `eventPath` is where the event sits (e.g. `$[3]`); returned problem paths must start with it.
 */
export type PropertiesCheck = (eventType: string, properties: JsonObject, eventPath: string) => readonly Problem[];

export interface EnvelopeValidatorOptions {
  limits?: Partial<EnvelopeLimits>;
  /** Top-level keys outside {@link ENVELOPE_FIELDS}: `reject` (default, `unknown_field`) or `strip` (dropped silently). */
  unknownFields?: 'reject' | 'strip';
  /** Runs after the envelope checks pass, for events not already rejected. */
  checkProperties?: PropertiesCheck;
}

/** The verdict on one event. `index` is its position in the batch. */
export type EventResult =
  | { ok: true; index: number; event: EventEnvelope }
  | { ok: false; index: number; /** The event's id when it was a valid one, so clients can correlate. */ event_id: string | null; problems: Problem[] };

/**
 * The verdict on a batch: `checked` (every event judged on its own, good ones kept) or
 * `rejected` as a whole (not an array, too many events).
 */
export type BatchValidation =
  | { status: 'checked'; results: EventResult[]; accepted: number; rejected: number }
  | { status: 'rejected'; problems: Problem[] };

export interface EnvelopeValidator {
  readonly limits: Readonly<EnvelopeLimits>;
  /** Validates a parsed JSON array of events; `now` is the server receive time (epoch ms or Date). Never throws. */
  validateBatch(input: unknown, now: number | Date): BatchValidation;
  /** Validates one event (paths rooted at `$`); no duplicate detection. Never throws. */
  validateEvent(input: unknown, now: number | Date): EventResult;
}

/** Per-batch state shared by the events of one batch. */
export interface BatchState {
  readonly limits: Readonly<EnvelopeLimits>;
  readonly unknownFields: 'reject' | 'strip';
  readonly checkProperties: PropertiesCheck | undefined;
  readonly receivedAt: string;
  readonly minOccurredMs: number;
  readonly maxOccurredMs: number;
  /** Event ids claimed by accepted events of this batch. */
  readonly seen: Set<string>;
}

const ENVELOPE_FIELD_SET: ReadonlySet<string> = new Set(ENVELOPE_FIELDS);
const TYPED_CONTEXT_STRINGS = ['user_agent', 'ip', 'app_version', 'locale', 'timezone'] as const;

function toEpochMs(now: number | Date): number {
  return typeof now === 'number' ? now : now.getTime();
}

/** @internal Starts the state for one batch. */
export function createBatchState(
  limits: Readonly<EnvelopeLimits>,
  now: number | Date,
  options: Pick<EnvelopeValidatorOptions, 'unknownFields' | 'checkProperties'>,
): BatchState {
  const nowMs = toEpochMs(now);
  if (!Number.isFinite(nowMs)) throw new RangeError('now must be a finite epoch millisecond value');
  return {
    limits,
    unknownFields: options.unknownFields ?? 'reject',
    checkProperties: options.checkProperties,
    receivedAt: formatTimestamp(nowMs),
    minOccurredMs: nowMs - limits.maxAgeMs,
    maxOccurredMs: nowMs + limits.maxFutureSkewMs,
    seen: new Set(),
  };
}

/** Walks properties/context values; collects problems into `problems` up to the cap. */
class ValueWalker {
  readonly segments: PathSegment[] = [];
  constructor(
    private readonly limits: Readonly<EnvelopeLimits>,
    private readonly problems: Problem[],
    private readonly root: string,
  ) {}

  get full(): boolean {
    return this.problems.length >= this.limits.maxProblemsPerEvent;
  }

  private report(code: ProblemCode, message: string): void {
    if (!this.full) this.problems.push(problem(code, formatPath(this.segments, this.root), message));
  }

  walkObject(obj: Record<string, unknown>, depth: number): void {
    const { limits } = this;
    if (depth > limits.maxDepth) return this.report('too_deep', `nested deeper than ${limits.maxDepth} levels`);
    const keys = Object.keys(obj);
    if (keys.length > limits.maxKeys) return this.report('too_many_keys', `object has ${keys.length} keys, more than ${limits.maxKeys}`);
    for (const key of keys) {
      this.segments.push(key);
      if (key.length === 0 || key.length > limits.maxKeyLength || key === '__proto__') {
        this.report('invalid_key', key === '__proto__' ? 'key "__proto__" is not allowed' : `key must be 1..${limits.maxKeyLength} characters`);
      } else {
        const value = obj[key];
        if (value !== undefined) this.walkValue(value, depth);
      }
      this.segments.pop();
      if (this.full) return;
    }
  }

  private walkArray(arr: readonly unknown[], depth: number): void {
    const { limits } = this;
    if (depth > limits.maxDepth) return this.report('too_deep', `nested deeper than ${limits.maxDepth} levels`);
    if (arr.length > limits.maxArrayLength) return this.report('array_too_long', `array has ${arr.length} elements, more than ${limits.maxArrayLength}`);
    for (let i = 0; i < arr.length; i++) {
      this.segments.push(i);
      this.walkValue(arr[i], depth);
      this.segments.pop();
      if (this.full) return;
    }
  }

  /** `depth` is the level of the container holding `value`. */
  private walkValue(value: unknown, depth: number): void {
    switch (typeof value) {
      case 'string':
        if (value.length > this.limits.maxStringLength) this.report('string_too_long', `string has ${value.length} characters, more than ${this.limits.maxStringLength}`);
        return;
      case 'boolean':
        return;
      case 'number':
        if (!Number.isFinite(value)) this.report('wrong_type', `expected a JSON value, got ${describeType(value)}`);
        return;
      case 'object':
        if (value === null) return;
        if (Array.isArray(value)) return this.walkArray(value, depth + 1);
        if (isPlainObject(value)) return this.walkObject(value, depth + 1);
        return this.report('wrong_type', `expected a JSON value, got ${describeType(value)}`);
      default:
        return this.report('wrong_type', `expected a JSON value, got ${describeType(value)}`);
    }
  }
}

function checkIdentity(value: unknown, path: string, field: string, problems: Problem[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') {
    problems.push(problem('wrong_type', path, `${field} must be a string, got ${describeType(value)}`));
  } else if (value.length === 0) {
    problems.push(problem('empty_string', path, `${field} must not be empty; omit it or send null instead`));
  } else if (value.length > IDENTITY_MAX_LENGTH) {
    problems.push(problem('string_too_long', path, `${field} has ${value.length} characters, more than ${IDENTITY_MAX_LENGTH}`));
  } else {
    return value;
  }
  return null;
}

function checkContext(context: Record<string, unknown>, path: string, limits: Readonly<EnvelopeLimits>, problems: Problem[]): void {
  for (const key of TYPED_CONTEXT_STRINGS) {
    const value = context[key];
    if (value !== undefined && typeof value !== 'string') {
      problems.push(problem('wrong_type', appendPath(path, key), `context.${key} must be a string, got ${describeType(value)}`));
    }
  }
  const library = context['library'];
  if (library !== undefined) {
    if (!isPlainObject(library)) {
      problems.push(problem('wrong_type', appendPath(path, 'library'), `context.library must be an object, got ${describeType(library)}`));
    } else {
      for (const key of ['name', 'version'] as const) {
        const value = library[key];
        if (value !== undefined && typeof value !== 'string') {
          problems.push(problem('wrong_type', appendPath(appendPath(path, 'library'), key), `context.library.${key} must be a string, got ${describeType(value)}`));
        }
      }
    }
  }
  if (problems.length < limits.maxProblemsPerEvent) new ValueWalker(limits, problems, path).walkObject(context, 1);
}

/** @internal Checks one event at `root` (e.g. `$[3]`) within a batch. */
export function checkEvent(input: unknown, index: number, root: string, state: BatchState): EventResult {
  const { limits } = state;
  if (!isPlainObject(input)) {
    return { ok: false, index, event_id: null, problems: [problem('not_an_object', root, `event must be a JSON object, got ${describeType(input)}`)] };
  }
  const problems: Problem[] = [];

  if (state.unknownFields === 'reject') {
    for (const key in input) {
      if (!ENVELOPE_FIELD_SET.has(key) && Object.prototype.hasOwnProperty.call(input, key)) {
        problems.push(problem('unknown_field', appendPath(root, key), `unknown field; the envelope has ${ENVELOPE_FIELDS.join(', ')}`));
      }
    }
  }

  // event_id
  let eventId: string | null = null;
  const rawId = input['event_id'];
  const idPath = root + '.event_id';
  if (rawId === undefined || rawId === null) {
    problems.push(problem('missing_field', idPath, 'event_id is required'));
  } else if (typeof rawId !== 'string') {
    problems.push(problem('wrong_type', idPath, `event_id must be a string, got ${describeType(rawId)}`));
  } else if (rawId.length > EVENT_ID_MAX_LENGTH) {
    problems.push(problem('string_too_long', idPath, `event_id has ${rawId.length} characters, more than ${EVENT_ID_MAX_LENGTH}`));
  } else if (rawId.length === 0 || !EVENT_ID_PATTERN.test(rawId)) {
    problems.push(problem('invalid_event_id', idPath, 'event_id must be 1..128 characters of A-Z a-z 0-9 . _ : + / = @ -'));
  } else {
    eventId = rawId;
  }

  // event_type
  let eventType: string | null = null;
  const rawType = input['event_type'];
  const typePath = root + '.event_type';
  if (rawType === undefined || rawType === null) {
    problems.push(problem('missing_field', typePath, 'event_type is required'));
  } else if (typeof rawType !== 'string') {
    problems.push(problem('wrong_type', typePath, `event_type must be a string, got ${describeType(rawType)}`));
  } else if (!EVENT_TYPE_PATTERN.test(rawType)) {
    problems.push(problem('invalid_event_type', typePath, 'event_type must match ^[a-z][a-z0-9_.]{0,63}$ (lower case, starts with a letter, at most 64 characters)'));
  } else {
    eventType = rawType;
  }

  // occurred_at
  let occurredAt: string | null = null;
  const rawOccurred = input['occurred_at'];
  const occurredPath = root + '.occurred_at';
  if (rawOccurred === undefined || rawOccurred === null) {
    problems.push(problem('missing_field', occurredPath, 'occurred_at is required'));
  } else if (typeof rawOccurred !== 'string') {
    problems.push(problem('wrong_type', occurredPath, `occurred_at must be an RFC 3339 string, got ${describeType(rawOccurred)}`));
  } else {
    const ms = parseRfc3339(rawOccurred);
    if (ms === undefined) {
      problems.push(problem('invalid_timestamp', occurredPath, 'occurred_at must be an RFC 3339 date-time with offset, e.g. 2024-05-01T12:00:00.000Z'));
    } else if (ms > state.maxOccurredMs) {
      problems.push(problem('timestamp_in_future', occurredPath, `occurred_at is more than ${limits.maxFutureSkewMs} ms after the server time ${state.receivedAt}`));
    } else if (ms < state.minOccurredMs) {
      problems.push(problem('timestamp_too_old', occurredPath, `occurred_at is more than ${limits.maxAgeMs} ms before the server time ${state.receivedAt}`));
    } else {
      // Most SDKs already send Date#toISOString() output; skip re-formatting it.
      occurredAt = isCanonicalTimestamp(rawOccurred) ? rawOccurred : formatTimestamp(ms);
    }
  }

  // received_at: deliberately not read; the server's clock is the only receive time.

  // identity
  const userIdPath = root + '.user_id';
  const rawUser = input['user_id'];
  const rawAnon = input['anonymous_id'];
  const userId = checkIdentity(rawUser, userIdPath, 'user_id', problems);
  const anonymousId = checkIdentity(rawAnon, root + '.anonymous_id', 'anonymous_id', problems);
  if ((rawUser === undefined || rawUser === null) && (rawAnon === undefined || rawAnon === null)) {
    problems.push(problem('missing_field', userIdPath, 'one of user_id or anonymous_id is required'));
  }

  // properties
  let properties: JsonObject = {};
  const rawProps = input['properties'];
  const propsPath = root + '.properties';
  if (rawProps !== undefined && rawProps !== null) {
    if (!isPlainObject(rawProps)) {
      problems.push(problem('wrong_type', propsPath, `properties must be an object, got ${describeType(rawProps)}`));
    } else if (problems.length < limits.maxProblemsPerEvent) {
      new ValueWalker(limits, problems, propsPath).walkObject(rawProps, 1);
      properties = rawProps as JsonObject;
    }
  }

  // context
  let context: EventContext = {};
  const rawContext = input['context'];
  const contextPath = root + '.context';
  if (rawContext !== undefined && rawContext !== null) {
    if (!isPlainObject(rawContext)) {
      problems.push(problem('wrong_type', contextPath, `context must be an object, got ${describeType(rawContext)}`));
    } else if (problems.length < limits.maxProblemsPerEvent) {
      checkContext(rawContext, contextPath, limits, problems);
      context = rawContext as EventContext;
    }
  }

  if (eventId !== null && state.seen.has(eventId)) {
    problems.push(problem('duplicate_event_id', idPath, 'an earlier event in this batch has the same event_id'));
  }

  if (problems.length === 0 && state.checkProperties !== undefined && eventType !== null) {
    for (const p of state.checkProperties(eventType, properties, root)) problems.push(p);
  }

  if (problems.length > 0 || eventId === null || eventType === null || occurredAt === null) {
    return { ok: false, index, event_id: eventId, problems: problems.length > limits.maxProblemsPerEvent ? problems.slice(0, limits.maxProblemsPerEvent) : problems };
  }
  state.seen.add(eventId);
  return {
    ok: true,
    index,
    event: {
      event_id: eventId,
      event_type: eventType,
      occurred_at: occurredAt,
      received_at: state.receivedAt,
      user_id: userId,
      anonymous_id: anonymousId,
      properties,
      context,
    },
  };
}

/** @internal Batch-level checks shared by envelope and Segment batches; `undefined` when the batch may be checked item by item. */
export function checkBatchShape(input: unknown, limits: Readonly<EnvelopeLimits>, root = '$'): Problem[] | undefined {
  if (!Array.isArray(input)) return [problem('not_an_array', root, `expected an array of events, got ${describeType(input)}`)];
  if (input.length > limits.maxBatchEvents) {
    return [problem('batch_too_large', root, `batch has ${input.length} events, more than ${limits.maxBatchEvents}`)];
  }
  return undefined;
}

/**
 * Creates an envelope validator with resolved limits (throws RangeError on bad limits).
 * Accepted events share their `properties` / `context` objects with the input (no copy).
 */
export function createEnvelopeValidator(options: EnvelopeValidatorOptions = {}): EnvelopeValidator {
  const limits = resolveEnvelopeLimits(options.limits);
  return {
    limits,
    validateBatch(input, now) {
      const batchProblems = checkBatchShape(input, limits);
      if (batchProblems !== undefined) return { status: 'rejected', problems: batchProblems };
      const items = input as unknown[];
      const state = createBatchState(limits, now, options);
      const results: EventResult[] = new Array<EventResult>(items.length);
      let accepted = 0;
      for (let i = 0; i < items.length; i++) {
        const result = checkEvent(items[i], i, `$[${i}]`, state);
        if (result.ok) accepted++;
        results[i] = result;
      }
      return { status: 'checked', results, accepted, rejected: items.length - accepted };
    },
    validateEvent(input, now) {
      return checkEvent(input, 0, '$', createBatchState(limits, now, options));
    },
  };
}

/** Validates a batch in one call (builds a validator each time; keep one from {@link createEnvelopeValidator} in hot paths). */
export function validateEventBatch(input: unknown, options: EnvelopeValidatorOptions & { now: number | Date }): BatchValidation {
  return createEnvelopeValidator(options).validateBatch(input, options.now);
}

/** Kafka record key of an event: `user_id`, else `anonymous_id` (so one user's events stay in one partition, in order). */
export function partitionKey(event: Pick<EventEnvelope, 'user_id' | 'anonymous_id' | 'event_id'>): string {
  // A validated event always has one of the two; event_id keeps the function total for hand-built ones.
  return event.user_id ?? event.anonymous_id ?? event.event_id;
}
