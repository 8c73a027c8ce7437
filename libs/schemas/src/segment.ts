/**
 * Segment spec calls (what analytics.js, @segment/analytics-node and the mobile SDKs
 * send) mapped onto the envelope, so existing instrumentation can point at the
 * collector unchanged. Mapping is pure; validation then runs the same envelope
 * checks, and problem paths are rewritten to the Segment field the client sent
 * (`$.batch[2].messageId`, not `$.batch[2].event_id`).
 */
import {
  checkBatchShape,
  checkEvent,
  createBatchState,
  resolveEnvelopeLimits,
  EVENT_ID_MAX_LENGTH,
  EVENT_ID_PATTERN,
  type BatchState,
  type BatchValidation,
  type EnvelopeField,
  type EnvelopeLimits,
  type EnvelopeValidatorOptions,
  type EventResult,
} from './envelope';
import { describeType, isPlainObject } from './json';
import { appendPath, problem, type Problem } from './problems';
import { formatTimestamp, parseRfc3339 } from './timestamp';

export const SEGMENT_CALL_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type SegmentCallType = (typeof SEGMENT_CALL_TYPES)[number];

/**
 * `event_type` of the non-track calls, named after Segment's warehouse tables.
 * A track event whose name normalises to one of these shares its type (and schema).
 */
export const SEGMENT_EVENT_TYPES: Readonly<Record<Exclude<SegmentCallType, 'track'>, string>> = Object.freeze({
  identify: 'identify',
  page: 'page',
  screen: 'screen',
  group: 'group',
  alias: 'alias',
});

const COMBINING_MARKS = /\p{M}+/gu;
const APOSTROPHES = /['\u2019]/g;
const CAMEL_ACRONYM = /([A-Z]+)([A-Z][a-z])/g;
const CAMEL_BOUNDARY = /([a-z0-9])([A-Z])/g;
const NOT_ALLOWED = /[^a-z0-9.]+/g;
const EDGE_UNDERSCORES = /^_+|_+$/g;

/**
 * Normalises a Segment event name to an `event_type`: accents stripped, apostrophes dropped,
 * camelCase split, lower case, every other run of characters outside `[a-z0-9.]` -> `_`, edges trimmed.
 * `"Order Completed"` -> `order_completed`, `"productAddedToCart"` -> `product_added_to_cart`,
 * `"Café Visité"` -> `cafe_visite`. The result may still fail the event_type pattern (e.g. `"404 Seen"` -> `404_seen`),
 * which validation then reports as `invalid_event_type`.
 */
export function normalizeEventName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(COMBINING_MARKS, '')
    .replace(APOSTROPHES, '')
    .replace(CAMEL_ACRONYM, '$1_$2')
    .replace(CAMEL_BOUNDARY, '$1_$2')
    .toLowerCase()
    .replace(NOT_ALLOWED, '_')
    .replace(EDGE_UNDERSCORES, '');
}

/** Envelope input produced by the mapping; still unvalidated, so values are `unknown`. */
export type MappedEventInput = { [K in EnvelopeField]?: unknown };

/** Which Segment field each envelope field came from (relative to the call), for problem paths. */
export type SegmentFieldSources = Partial<Record<EnvelopeField, string>>;

export type SegmentMapResult =
  | { ok: true; input: MappedEventInput; sources: SegmentFieldSources }
  | { ok: false; problems: Problem[] };

export interface SegmentMapOptions {
  /** Call type when the body has none (Segment's `/v1/track`, `/v1/identify`, ... endpoints). A body `type` wins. */
  type?: SegmentCallType;
  /** Batch-level `sentAt`, used when the call has none. */
  sentAt?: unknown;
  /** Batch-level `context`, merged under the call's own context (the call's keys win). */
  batchContext?: unknown;
  /**
   * Correct client clock skew as Segment does: `occurred_at = now - (sentAt - timestamp)`.
   * Needs `now` and a valid `sentAt`; otherwise the timestamp is used as sent. Default off.
   */
  correctClockSkew?: boolean;
  /** Server receive time (epoch ms or Date), for `correctClockSkew`. */
  now?: number | Date;
}

/** Context keys renamed to the envelope's snake_case names; the rest are kept as sent. A Map, because a client key like `__proto__` must not hit an object's prototype. */
const CONTEXT_RENAMES: ReadonlyMap<string, string> = new Map([['userAgent', 'user_agent']]);

/** Own-property write that treats `__proto__` as data (the validator then rejects it as `invalid_key`). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function mapContext(context: unknown, batchContext: unknown): unknown {
  if (context !== undefined && context !== null && !isPlainObject(context)) return context; // validator reports wrong_type
  if (!isPlainObject(context) && !isPlainObject(batchContext)) return context;
  const out: Record<string, unknown> = {};
  for (const source of [batchContext, context]) {
    if (!isPlainObject(source)) continue;
    for (const key of Object.keys(source)) setOwn(out, CONTEXT_RENAMES.get(key) ?? key, source[key]);
  }
  const app = out['app'];
  if (isPlainObject(app) && typeof app['version'] === 'string' && out['app_version'] === undefined) out['app_version'] = app['version'];
  return out;
}

/** Segment SDKs sometimes send numeric ids; the envelope wants strings. */
function identity(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
}

function occurredAt(call: Record<string, unknown>, options: SegmentMapOptions): { value: unknown; source: string } {
  const source = call['timestamp'] !== undefined && call['timestamp'] !== null ? 'timestamp' : 'originalTimestamp';
  const value = call[source];
  if (options.correctClockSkew !== true || options.now === undefined || typeof value !== 'string') return { value, source };
  const sentAt = call['sentAt'] ?? options.sentAt;
  const eventMs = parseRfc3339(value);
  const sentMs = typeof sentAt === 'string' ? parseRfc3339(sentAt) : undefined;
  if (eventMs === undefined || sentMs === undefined) return { value, source };
  const nowMs = typeof options.now === 'number' ? options.now : options.now.getTime();
  return { value: formatTimestamp(nowMs - (sentMs - eventMs)), source };
}

/** Copies `properties` and adds page/screen `name` and `category` when the call has them and properties do not. */
function withNamedFields(properties: unknown, call: Record<string, unknown>): unknown {
  if (properties !== undefined && properties !== null && !isPlainObject(properties)) return properties;
  const out: Record<string, unknown> = isPlainObject(properties) ? { ...properties } : {};
  for (const key of ['name', 'category']) {
    if (call[key] !== undefined && call[key] !== null && out[key] === undefined) out[key] = call[key];
  }
  return out;
}

/** Maps one Segment call (track, identify, page, screen, group, alias) to envelope input; paths in problems are rooted at `root`. Never throws. */
export function mapSegmentCall(call: unknown, options: SegmentMapOptions = {}, root = '$'): SegmentMapResult {
  if (!isPlainObject(call)) return { ok: false, problems: [problem('not_an_object', root, `Segment call must be a JSON object, got ${describeType(call)}`)] };
  const rawType = call['type'] ?? options.type;
  const typePath = appendPath(root, 'type');
  if (rawType === undefined || rawType === null) return { ok: false, problems: [problem('missing_field', typePath, 'type is required (track, identify, page, screen, group or alias)')] };
  if (typeof rawType !== 'string') return { ok: false, problems: [problem('wrong_type', typePath, `type must be a string, got ${describeType(rawType)}`)] };
  const type = rawType.toLowerCase();
  if (!(SEGMENT_CALL_TYPES as readonly string[]).includes(type)) {
    return { ok: false, problems: [problem('invalid_event_type', typePath, `unknown Segment call type ${JSON.stringify(rawType)}; expected ${SEGMENT_CALL_TYPES.join(', ')}`)] };
  }
  const time = occurredAt(call, options);
  const input: MappedEventInput = {
    event_id: call['messageId'],
    occurred_at: time.value,
    user_id: identity(call['userId']),
    anonymous_id: identity(call['anonymousId']),
    context: mapContext(call['context'], options.batchContext),
  };
  const sources: SegmentFieldSources = {
    event_id: 'messageId',
    event_type: 'type',
    occurred_at: time.source,
    user_id: 'userId',
    anonymous_id: 'anonymousId',
    properties: 'properties',
    context: 'context',
  };
  switch (type as SegmentCallType) {
    case 'track': {
      const event = call['event'];
      input.event_type = typeof event === 'string' ? normalizeEventName(event) : event;
      input.properties = call['properties'];
      sources.event_type = 'event';
      break;
    }
    case 'identify': {
      // Older SDKs put traits in context.traits.
      const contextTraits = isPlainObject(call['context']) ? call['context']['traits'] : undefined;
      const fromContext = call['traits'] === undefined && contextTraits !== undefined;
      input.event_type = SEGMENT_EVENT_TYPES.identify;
      input.properties = fromContext ? contextTraits : call['traits'];
      sources.properties = fromContext ? 'context.traits' : 'traits';
      break;
    }
    case 'page':
    case 'screen':
      input.event_type = SEGMENT_EVENT_TYPES[type as 'page' | 'screen'];
      input.properties = withNamedFields(call['properties'], call);
      break;
    case 'group': {
      const traits = call['traits'];
      input.event_type = SEGMENT_EVENT_TYPES.group;
      if (traits !== undefined && traits !== null && !isPlainObject(traits)) input.properties = traits;
      else input.properties = { ...(isPlainObject(traits) ? traits : {}), group_id: identity(call['groupId']) };
      sources.properties = 'traits';
      break;
    }
    case 'alias':
      input.event_type = SEGMENT_EVENT_TYPES.alias;
      input.properties = { previous_id: identity(call['previousId']) };
      break;
  }
  return { ok: true, input, sources };
}

/** Envelope-to-Segment renames below `context` (inverse of the mapping). */
const CONTEXT_SOURCES: readonly (readonly [string, string])[] = [
  ['.user_agent', '.userAgent'],
  ['.app_version', '.app.version'],
];

function startsWithSegment(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  const next = path.charAt(prefix.length);
  return next === '' || next === '.' || next === '[';
}

/** Rewrites envelope paths under `root` to the Segment fields they came from. */
function rewritePaths(problems: readonly Problem[], root: string, sources: SegmentFieldSources): Problem[] {
  return problems.map((p) => {
    for (const [field, source] of Object.entries(sources)) {
      const prefix = `${root}.${field}`;
      if (!startsWithSegment(p.path, prefix)) continue;
      let rest = p.path.slice(prefix.length);
      if (field === 'context') {
        for (const [from, to] of CONTEXT_SOURCES) if (startsWithSegment(rest, from)) rest = to + rest.slice(from.length);
      }
      return { ...p, path: `${root}.${source}${rest}` };
    }
    return p;
  });
}

export interface SegmentValidatorOptions extends Omit<EnvelopeValidatorOptions, 'unknownFields'> {
  /** See {@link SegmentMapOptions.correctClockSkew}. Default off. */
  correctClockSkew?: boolean;
}

export interface SegmentValidator {
  readonly limits: Readonly<EnvelopeLimits>;
  /** Validates a Segment `/v1/batch` body (`{ batch: [...], sentAt?, context? }`); paths like `$.batch[2].properties.price`. Never throws. */
  validateBatch(body: unknown, now: number | Date): BatchValidation;
  /** Validates one call (e.g. the body of `/v1/track`, with `type` from the route); paths rooted at `$`. Never throws. */
  validateCall(call: unknown, now: number | Date, type?: SegmentCallType): EventResult;
}

/** Creates a validator for Segment payloads: maps each call to the envelope, then applies the envelope checks (same limits, same problem codes). */
export function createSegmentValidator(options: SegmentValidatorOptions = {}): SegmentValidator {
  const limits = resolveEnvelopeLimits(options.limits);
  // Mapped input has only envelope keys; Segment's own extra keys are dropped by the mapping, not rejected.
  const envelopeOptions = { unknownFields: 'strip' as const, checkProperties: options.checkProperties };

  function check(call: unknown, index: number, root: string, state: BatchState, mapOptions: SegmentMapOptions): EventResult {
    const mapped = mapSegmentCall(call, mapOptions, root);
    if (!mapped.ok) {
      const messageId = isPlainObject(call) ? call['messageId'] : undefined;
      const eventId = typeof messageId === 'string' && messageId.length <= EVENT_ID_MAX_LENGTH && EVENT_ID_PATTERN.test(messageId) ? messageId : null;
      return { ok: false, index, event_id: eventId, problems: mapped.problems };
    }
    const result = checkEvent(mapped.input, index, root, state);
    return result.ok ? result : { ...result, problems: rewritePaths(result.problems, root, mapped.sources) };
  }

  return {
    limits,
    validateBatch(body, now) {
      if (!isPlainObject(body)) return { status: 'rejected', problems: [problem('not_an_object', '$', `expected a Segment batch object, got ${describeType(body)}`)] };
      const batch = body['batch'];
      if (batch === undefined || batch === null) return { status: 'rejected', problems: [problem('missing_field', '$.batch', 'batch is required')] };
      const shapeProblems = checkBatchShape(batch, limits, '$.batch');
      if (shapeProblems !== undefined) return { status: 'rejected', problems: shapeProblems };
      const items = batch as unknown[];
      const state = createBatchState(limits, now, envelopeOptions);
      const mapOptions: SegmentMapOptions = { sentAt: body['sentAt'], batchContext: body['context'], correctClockSkew: options.correctClockSkew ?? false, now };
      const results: EventResult[] = new Array<EventResult>(items.length);
      let accepted = 0;
      for (let i = 0; i < items.length; i++) {
        const result = check(items[i], i, `$.batch[${i}]`, state, mapOptions);
        if (result.ok) accepted++;
        results[i] = result;
      }
      return { status: 'checked', results, accepted, rejected: items.length - accepted };
    },
    validateCall(call, now, type) {
      const state = createBatchState(limits, now, envelopeOptions);
      const mapOptions: SegmentMapOptions = { correctClockSkew: options.correctClockSkew ?? false, now, ...(type === undefined ? {} : { type }) };
      return check(call, 0, '$', state, mapOptions);
    },
  };
}
