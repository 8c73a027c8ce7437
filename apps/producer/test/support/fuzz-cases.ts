/**
 * Generated requests for the collector's fuzz suite: valid envelopes and Segment calls, the same
 * with mutations (wrong types, deep nesting, long strings, prototype keys, duplicate keys, bad
 * timestamps), hostile bodies, encodings, auth headers, framing, methods and paths. A case is plain
 * data (so fast-check can print and replay it); `renderCase` turns it into bytes at send time, when
 * event ids and timestamps are filled in.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { SEGMENT_CALL_TYPES } from '@pipeline/schemas';
import {
  byteDamage,
  damageBytes,
  deepJsonText,
  gzipBomb,
  hostileHeaderValue,
  hostileJson,
  hostileMethod,
  hostileNumberText,
  hostilePath,
  hostileString,
  json,
  renderJson,
  type ByteDamage,
  type JsonNode,
  type RawRequest,
} from '@pipeline/testing';

export interface Limits {
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxBatchEvents: number;
}

const ID = json.raw('@@ID@@');
const NOW = json.raw('@@NOW@@');

export type IngestRoute = '/v1/events' | '/v1/batch' | '/v1/import' | `/v1/${(typeof SEGMENT_CALL_TYPES)[number]}`;
const SEGMENT_ROUTES = ['/v1/batch', '/v1/import', ...SEGMENT_CALL_TYPES.map((t) => `/v1/${t}`)] as IngestRoute[];
export const INGEST_ROUTES: IngestRoute[] = ['/v1/events', ...SEGMENT_ROUTES];
const OTHER_PATHS = ['/healthz', '/readyz', '/metrics', '/openapi.json', '/', '/v1', '/v1/events/1', '/v2/events'];

/** An event in a batch: `good` ones must be accepted whatever else is in the batch. */
export interface EventSpec {
  good: boolean;
  node: JsonNode;
}

export type Payload =
  | { kind: 'events'; events: EventSpec[] }
  | { kind: 'segment-batch'; calls: EventSpec[]; extra: Array<[string, JsonNode]> }
  | { kind: 'segment-call'; call: EventSpec }
  | { kind: 'json'; node: JsonNode }
  | { kind: 'deep'; text: string }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'oversized'; factor: number }
  /** Whitespace that gunzips to `size` bytes around a good batch (a bomb within the limit, or over it). */
  | { kind: 'bomb'; size: number; events: EventSpec[] }
  | { kind: 'none' };

export type AuthChoice =
  | 'bearer'
  | 'bearer-lowercase'
  | 'x-write-key'
  | 'basic'
  | 'basic-no-colon'
  | 'body-write-key'
  | 'none'
  | 'bearer-wrong'
  | 'bearer-empty'
  | 'scheme-only'
  | 'x-write-key-wrong'
  | 'unknown-scheme'
  | { basicGarbage: string }
  | { long: number };

const GOOD_AUTH = new Set<AuthChoice>(['bearer', 'bearer-lowercase', 'x-write-key', 'basic', 'basic-no-colon']);

export type Framing = 'normal' | 'chunked' | 'truncated' | 'short-length' | 'bad-chunked' | 'no-length';

export interface CollectorCase {
  method: string;
  path: string;
  payload: Payload;
  contentType: string | null;
  encoding: string | null;
  /** Damage to the gzip stream (when gzipped) or to the body. */
  damage: ByteDamage | null;
  auth: AuthChoice;
  headers: Array<[string, string]>;
  framing: Framing;
}

const GZIP_ENCODINGS = new Set<string>(['gzip', 'x-gzip', 'GZIP', ' gzip ']);
const CLEAN_ENCODINGS = new Set<string | null>([null, 'identity', ...GZIP_ENCODINGS]);
const CLEAN_CONTENT_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'Application/JSON']);

// ---------------------------------------------------------------- events

const identities = fc.constantFrom<Array<[string, JsonNode]>>(
  [['user_id', json.string('fuzz-user')]],
  [['anonymous_id', json.string('fuzz-anon')]],
  [
    ['user_id', json.string('fuzz-user')],
    ['anonymous_id', json.string('fuzz-anon')],
  ],
  [
    ['user_id', json.string('fuzz-user')],
    ['anonymous_id', json.literal('null')],
  ],
);
const url = fc.constantFrom('/', '/pricing', '/caf\u00e9', '/\u{1f600}', '/a?b=c&d=e');
const context = fc.option(
  fc.constantFrom<JsonNode>(
    json.from({ user_agent: 'Mozilla/5.0', locale: 'fr-FR', library: { name: 'fuzz', version: '1.0' } }),
    json.from({ app_version: '2.3.4', timezone: 'Europe/Paris', campaign: { source: 'x', n: [1, 2, 3] } }),
    json.from({}),
  ),
  { nil: undefined },
);

/** A valid `/v1/events` envelope: page_view with a url, either identity, optional context. */
export const goodEvent: fc.Arbitrary<JsonNode> = fc.tuple(identities, url, context, fc.boolean()).map(([ids, path, ctx, withReceived]) =>
  json.object([
    ['event_id', ID],
    ['event_type', json.string('page_view')],
    ['occurred_at', NOW],
    ...(withReceived ? ([['received_at', json.string('1999-01-01T00:00:00Z')]] as Array<[string, JsonNode]>) : []),
    ...ids,
    ['properties', json.object([['url', json.string(path)]])],
    ...(ctx ? ([['context', ctx]] as Array<[string, JsonNode]>) : []),
  ]),
);

const BAD_TIMESTAMPS = [
  '2026-13-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-01-01 00:00:00Z',
  '2026-01-01T00:00:00',
  '2026-01-01T24:00:00Z',
  '2026-01-01T00:00:00+24:00',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:60Z',
  '1970-01-01T00:00:00Z',
  `2026-01-01T00:00:00.${'9'.repeat(40)}Z`,
  '3026-01-01T00:00:00Z',
  '+275760-09-13T00:00:00Z',
  'now',
  '',
];

const ENVELOPE_FIELDS = ['event_id', 'event_type', 'occurred_at', 'received_at', 'user_id', 'anonymous_id', 'properties', 'context'];

/** A value that is wrong somewhere: hostile JSON, a deep nest, a long string, a bad timestamp, a big number. */
const badValue: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 4, arbitrary: hostileJson(3) },
  { weight: 1, arbitrary: deepJsonText(2_000).map(json.raw) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_TIMESTAMPS).map(json.string) },
  { weight: 1, arbitrary: hostileNumberText().map(json.number) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'page_view', 'Page_View', 'x'.repeat(65), 'pv.v2', 'a-b').map(json.string) },
);

type Mutation =
  | { op: 'set'; field: string; value: JsonNode }
  | { op: 'delete'; field: string }
  | { op: 'duplicate'; field: string; value: JsonNode }
  | { op: 'nested'; under: 'properties' | 'context'; key: string; value: JsonNode }
  | { op: 'replace'; value: JsonNode };

const field = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ENVELOPE_FIELDS) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'extra', 'eventId') });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), field, value: badValue }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), field }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('duplicate' as const), field, value: badValue }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('nested' as const),
      under: fc.constantFrom('properties' as const, 'context' as const),
      key: fc.oneof(hostileString(), fc.constantFrom('__proto__', 'constructor', 'user_agent', 'library', 'url')),
      value: badValue,
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('replace' as const), value: badValue }) },
);

function mutate(event: JsonNode, mutations: Mutation[]): JsonNode {
  let node = event;
  for (const m of mutations) {
    if (m.op === 'replace') {
      node = m.value;
      continue;
    }
    if (node.t !== 'object') continue;
    const entries = [...node.entries];
    if (m.op === 'set') {
      const i = entries.findIndex(([k]) => k === m.field);
      if (i >= 0) entries[i] = [m.field, m.value];
      else entries.push([m.field, m.value]);
    } else if (m.op === 'delete') {
      const i = entries.findIndex(([k]) => k === m.field);
      if (i >= 0) entries.splice(i, 1);
    } else if (m.op === 'duplicate') {
      entries.push([m.field, m.value]);
    } else {
      const i = entries.findIndex(([k]) => k === m.under);
      const inner = i >= 0 ? entries[i]?.[1] : undefined;
      const nested = json.object([...(inner?.t === 'object' ? inner.entries : []), [m.key, m.value]]);
      if (i >= 0) entries[i] = [m.under, nested];
      else entries.push([m.under, nested]);
    }
    node = json.object(entries);
  }
  return node;
}

function eventSpecs(good: fc.Arbitrary<JsonNode>, maxLength: number): fc.Arbitrary<EventSpec[]> {
  const spec: fc.Arbitrary<EventSpec> = fc.oneof(
    { weight: 2, arbitrary: good.map((node) => ({ good: true, node })) },
    { weight: 3, arbitrary: fc.tuple(good, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([node, ms]) => ({ good: false, node: mutate(node, ms) })) },
  );
  return fc.array(spec, { maxLength });
}

// ---------------------------------------------------------------- Segment

function segmentCall(type: (typeof SEGMENT_CALL_TYPES)[number]): fc.Arbitrary<JsonNode> {
  return fc.tuple(identities, fc.boolean()).map(([ids, withContext]) => {
    const who = ids.map(([k, v]): [string, JsonNode] => [k === 'user_id' ? 'userId' : 'anonymousId', v]);
    const base: Array<[string, JsonNode]> = [['type', json.string(type)], ['messageId', ID], ['timestamp', NOW], ...who];
    if (withContext) base.push(['context', json.from({ userAgent: 'Mozilla/5.0', library: { name: 'analytics-node', version: '3.1.0' }, app: { version: '9.9' } })]);
    switch (type) {
      case 'track':
        return json.object([...base, ['event', json.string('Page View')], ['properties', json.from({ url: '/segment' })]]);
      case 'identify':
        return json.object([...base, ['traits', json.from({ plan: 'pro', email: 'a@example.com' })]]);
      case 'page':
      case 'screen':
        return json.object([...base, ['name', json.string('Home')], ['properties', json.from({ path: '/' })]]);
      case 'group':
        return json.object([...base, ['groupId', json.string('acme')], ['traits', json.from({ seats: 3 })]]);
      case 'alias':
        return json.object([...base, ['previousId', json.string('old-id')]]);
    }
  });
}

const anySegmentCall = fc.constantFrom(...SEGMENT_CALL_TYPES).chain(segmentCall);
const SEGMENT_FIELDS = ['type', 'messageId', 'timestamp', 'originalTimestamp', 'sentAt', 'userId', 'anonymousId', 'event', 'properties', 'traits', 'context', 'groupId', 'previousId', 'name', 'integrations', '__proto__'];
const segmentMutation: fc.Arbitrary<Mutation> = fc.oneof(
  mutation,
  fc.record({ op: fc.constant('set' as const), field: fc.constantFrom(...SEGMENT_FIELDS), value: badValue }),
  fc.record({ op: fc.constant('delete' as const), field: fc.constantFrom(...SEGMENT_FIELDS) }),
  fc.record({ op: fc.constant('nested' as const), under: fc.constant('context' as const), key: fc.constantFrom('traits', 'userAgent', '__proto__', 'app'), value: badValue }),
);

function segmentSpec(good: fc.Arbitrary<JsonNode>): fc.Arbitrary<EventSpec> {
  return fc.oneof(
    { weight: 2, arbitrary: good.map((node) => ({ good: true, node })) },
    { weight: 3, arbitrary: fc.tuple(good, fc.array(segmentMutation, { minLength: 1, maxLength: 3 })).map(([node, ms]) => ({ good: false, node: mutate(node, ms) })) },
  );
}

// ---------------------------------------------------------------- requests

function structuredPayload(path: string, limits: Limits): fc.Arbitrary<Payload> {
  return path === '/v1/events'
      ? eventSpecs(goodEvent, Math.min(limits.maxBatchEvents + 3, 30)).map((events): Payload => ({ kind: 'events', events }))
      : path === '/v1/batch' || path === '/v1/import'
        ? fc
            .tuple(fc.array(segmentSpec(anySegmentCall), { maxLength: 12 }), fc.array(fc.tuple(fc.constantFrom('sentAt', 'context', 'integrations', 'batch', '__proto__'), badValue), { maxLength: 2 }))
            .map(([calls, extra]): Payload => ({ kind: 'segment-batch', calls, extra }))
        : SEGMENT_ROUTES.includes(path as IngestRoute)
          ? segmentSpec(segmentCall(path.slice(4) as (typeof SEGMENT_CALL_TYPES)[number])).map((call): Payload => ({ kind: 'segment-call', call }))
          : hostileJson().map((node): Payload => ({ kind: 'json', node }));
}

function payloadFor(path: string, limits: Limits): fc.Arbitrary<Payload> {
  return fc.oneof(
    { weight: 12, arbitrary: structuredPayload(path, limits) },
    { weight: 2, arbitrary: hostileJson().map((node): Payload => ({ kind: 'json', node })) },
    { weight: 1, arbitrary: deepJsonText(200_000).map((text): Payload => ({ kind: 'deep', text })) },
    { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }).map((bytes): Payload => ({ kind: 'bytes', bytes })) },
    { weight: 1, arbitrary: fc.double({ min: 1.01, max: 4, noNaN: true }).map((factor): Payload => ({ kind: 'oversized', factor })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(limits.maxDecompressedBytes - 4096, limits.maxDecompressedBytes * 4, 50 * 1024 * 1024), eventSpecs(goodEvent, 3))
        .map(([size, events]): Payload => ({ kind: 'bomb', size, events })),
    },
    { weight: 1, arbitrary: fc.constant<Payload>({ kind: 'none' }) },
  );
}

const auth: fc.Arbitrary<AuthChoice> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom<AuthChoice>('bearer', 'x-write-key', 'basic') },
  { weight: 2, arbitrary: fc.constantFrom<AuthChoice>('bearer-lowercase', 'basic-no-colon', 'body-write-key') },
  { weight: 3, arbitrary: fc.constantFrom<AuthChoice>('none', 'bearer-wrong', 'bearer-empty', 'scheme-only', 'x-write-key-wrong', 'unknown-scheme') },
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('!!!', '====', 'a', '\u00ff\u00fe')).map((basicGarbage): AuthChoice => ({ basicGarbage })) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 8_000, 20_000).map((long): AuthChoice => ({ long })) },
);

const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'Application/JSON') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      null,
      '',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json; charset=latin1',
      'text/html',
      '*/*',
      'application/json, text/plain',
      'application/vnd.api+json',
    ),
  },
  { weight: 1, arbitrary: hostileHeaderValue() },
);

const encoding: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(null) },
  { weight: 4, arbitrary: fc.constant('gzip') },
  { weight: 1, arbitrary: fc.constantFrom('identity', 'x-gzip', 'GZIP', ' gzip ') },
  { weight: 2, arbitrary: fc.constantFrom('deflate', 'br', 'gzip, gzip', 'gzip;q=1', 'compress', '*', '') },
  { weight: 1, arbitrary: hostileHeaderValue() },
);

const extraHeaderName = fc.oneof(
  fc.constantFrom('Accept', 'Origin', 'X-Forwarded-For', 'Cookie', 'Expect', 'Transfer-Encoding', 'Content-Length', 'Range', 'If-None-Match', 'X-Request-Id', 'Access-Control-Request-Method'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
);

/** A well-formed ingest call whose events (some good, some mutated) are the only thing hostile. */
function wellFramedCase(limits: Limits): fc.Arbitrary<CollectorCase> {
  return fc.constantFrom(...INGEST_ROUTES).chain((path) =>
    fc.record({
      method: fc.constant('POST'),
      path: fc.constant(path),
      payload: structuredPayload(path, limits),
      contentType: fc.constantFrom(...CLEAN_CONTENT_TYPES, ...(path === '/v1/events' ? [] : ['text/plain'])),
      encoding: fc.constantFrom(null, 'gzip'),
      damage: fc.constant(null),
      auth: fc.constantFrom<AuthChoice>('bearer', 'x-write-key', 'basic', 'basic-no-colon', 'bearer-lowercase'),
      headers: fc.constant<Array<[string, string]>>([]),
      framing: fc.constantFrom<Framing>('normal', 'normal', 'normal', 'chunked'),
    }),
  );
}

/** A request hostile at any layer: method, path, headers, auth, encoding, framing, bytes, body. */
function hostileCase(limits: Limits): fc.Arbitrary<CollectorCase> {
  const method = fc.oneof({ weight: 8, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: hostileMethod() });
  const path = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...INGEST_ROUTES) }, { weight: 1, arbitrary: hostilePath([...INGEST_ROUTES, ...OTHER_PATHS]) });
  return fc.tuple(method, path).chain(([m, p]) =>
    fc.record({
      method: fc.constant(m),
      path: fc.constant(p),
      payload: payloadFor(p, limits),
      contentType,
      encoding,
      damage: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: byteDamage() }),
      auth,
      headers: fc.oneof({ weight: 5, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: fc.array(fc.tuple(extraHeaderName, hostileHeaderValue()), { maxLength: 3 }) }),
      framing: fc.oneof({ weight: 20, arbitrary: fc.constant<Framing>('normal') }, { weight: 2, arbitrary: fc.constant<Framing>('chunked') }, { weight: 1, arbitrary: fc.constantFrom<Framing>('truncated', 'short-length', 'bad-chunked', 'no-length') }),
    }),
  );
}

/** One collector request: half well-formed calls with mutated events, half hostile at every layer. */
export function collectorCase(limits: Limits): fc.Arbitrary<CollectorCase> {
  return fc.oneof(wellFramedCase(limits), hostileCase(limits));
}

// ---------------------------------------------------------------- rendering

/** What a case became on the wire, and what its answer must show. */
export interface RenderedCase {
  request: RawRequest;
  /** The server may close without answering (a cut body, a body larger than the limit racing the reset). */
  answerOptional: boolean;
  /**
   * Set when the request is valid at every layer up to the events: each good event must then be
   * accepted (unless the collector is shedding load: 429/503), at its index with its id.
   */
  expect?: { events: number; good: Array<{ index: number; id: string }>; api: 'events' | 'segment' };
}

export interface RenderContext {
  writeKey: string;
  limits: Limits;
  nextId: () => string;
}

function fill(node: JsonNode, ctx: RenderContext, ids?: string[]): string {
  return renderJson(node)
    .replaceAll('@@ID@@', () => {
      const id = ctx.nextId();
      ids?.push(id);
      return JSON.stringify(id);
    })
    .replaceAll('@@NOW@@', () => JSON.stringify(new Date().toISOString()));
}

function renderEvents(specs: EventSpec[], ctx: RenderContext): { text: string; good: Array<{ index: number; id: string }> } {
  const good: Array<{ index: number; id: string }> = [];
  const parts = specs.map((spec, index) => {
    const ids: string[] = [];
    const text = fill(spec.node, ctx, ids);
    if (spec.good && ids[0] !== undefined) good.push({ index, id: ids[0] });
    return text;
  });
  return { text: `[${parts.join(',')}]`, good };
}

function authHeaders(choice: AuthChoice, key: string): Array<[string, string]> {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  if (typeof choice === 'object') {
    if ('long' in choice) return [['Authorization', `Bearer ${'k'.repeat(choice.long)}`]];
    return [['Authorization', `Basic ${/^[A-Za-z0-9+/=]*$/.test(choice.basicGarbage) ? choice.basicGarbage : b64(choice.basicGarbage)}`]];
  }
  switch (choice) {
    case 'bearer':
      return [['Authorization', `Bearer ${key}`]];
    case 'bearer-lowercase':
      return [['authorization', `bearer   ${key}`]];
    case 'x-write-key':
      return [['X-Write-Key', key]];
    case 'basic':
      return [['Authorization', `Basic ${b64(`${key}:`)}`]];
    case 'basic-no-colon':
      return [['Authorization', `Basic ${b64(key)}`]];
    case 'body-write-key':
    case 'none':
      return [];
    case 'bearer-wrong':
      return [['Authorization', 'Bearer not-the-key']];
    case 'bearer-empty':
      return [['Authorization', 'Bearer ']];
    case 'scheme-only':
      return [['Authorization', 'Bearer']];
    case 'x-write-key-wrong':
      return [
        ['X-Write-Key', `${key}x`],
        ['Authorization', `Bearer ${key}`],
      ];
    case 'unknown-scheme':
      return [['Authorization', `Token ${key}`]];
  }
}

function chunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 1000) {
    const piece = body.subarray(i, i + 1000);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Turns a case into request bytes, with fresh event ids and timestamps. */
export function renderCase(c: CollectorCase, ctx: RenderContext): RenderedCase {
  const { limits } = ctx;
  let text: string | undefined;
  let body: Buffer | undefined;
  let good: Array<{ index: number; id: string }> = [];
  let events = 0;
  let api: 'events' | 'segment' = 'events';
  let withinLimits = true;
  const bodyWriteKey = c.auth === 'body-write-key';
  const p = c.payload;
  switch (p.kind) {
    case 'events': {
      ({ text, good } = renderEvents(p.events, ctx));
      events = p.events.length;
      break;
    }
    case 'segment-batch': {
      const rendered = renderEvents(p.calls, ctx);
      const extra = p.extra.map(([k, v]) => `${JSON.stringify(k)}:${fill(v, ctx)}`);
      if (bodyWriteKey) extra.push(`"writeKey":${JSON.stringify(ctx.writeKey)}`);
      text = `{"batch":${rendered.text}${extra.map((e) => `,${e}`).join('')}}`;
      // A second `batch` key replaces the calls, and a batch-level `context` is merged into every
      // call's: the outcome of the good calls is unknown then.
      const unknown = p.extra.some(([k]) => k === 'batch' || k === 'context');
      good = unknown ? [] : rendered.good;
      events = p.extra.some(([k]) => k === 'batch') ? -1 : p.calls.length;
      api = 'segment';
      break;
    }
    case 'segment-call': {
      const ids: string[] = [];
      text = fill(p.call.node, ctx, ids);
      if (bodyWriteKey && p.call.node.t === 'object') text = `${text.slice(0, -1)}${p.call.node.entries.length > 0 ? ',' : ''}"writeKey":${JSON.stringify(ctx.writeKey)}}`;
      good = p.call.good && ids[0] !== undefined ? [{ index: 0, id: ids[0] }] : [];
      events = 1;
      api = 'segment';
      break;
    }
    case 'json':
      text = fill(p.node, ctx);
      break;
    case 'deep':
      text = p.text;
      break;
    case 'bytes':
      body = Buffer.from(p.bytes);
      break;
    case 'oversized':
      body = Buffer.alloc(Math.ceil(limits.maxBodyBytes * p.factor), 0x20);
      body[0] = 0x5b;
      body[body.length - 1] = 0x5d;
      withinLimits = false;
      break;
    case 'bomb': {
      const rendered = renderEvents(p.events, ctx);
      // Two gzip members: '[' + whitespace (memoised), then the events; gunzip joins them.
      const padding = gzipBomb(p.size);
      const gz = Buffer.concat([gzipSync(Buffer.from('[')), padding, gzipSync(Buffer.from(`${rendered.text.slice(1)}`))]);
      body = gz;
      if (p.size + rendered.text.length + 1 > limits.maxDecompressedBytes || gz.length > limits.maxBodyBytes) withinLimits = false;
      else if (c.path === '/v1/events' && c.encoding !== null && GZIP_ENCODINGS.has(c.encoding)) {
        good = rendered.good;
        events = p.events.length;
      } else events = -1;
      break;
    }
    case 'none':
      break;
  }

  const gzipped = c.encoding !== null && GZIP_ENCODINGS.has(c.encoding) && p.kind !== 'bomb';
  if (body === undefined && text !== undefined) body = Buffer.from(text, 'utf8');
  const plainLength = p.kind === 'bomb' && c.encoding !== null && GZIP_ENCODINGS.has(c.encoding) ? p.size : (body?.length ?? 0);
  if (body !== undefined && gzipped) body = gzipSync(body);
  if (body !== undefined && c.damage) body = damageBytes(body, c.damage);
  if (body !== undefined && (body.length > limits.maxBodyBytes || plainLength > limits.maxDecompressedBytes)) withinLimits = false;

  const headers: Array<[string, string]> = [...authHeaders(c.auth, ctx.writeKey)];
  if (c.contentType !== null) headers.push(['Content-Type', c.contentType]);
  if (c.encoding !== null) headers.push(['Content-Encoding', c.encoding]);
  headers.push(...c.headers);

  const request: RawRequest = { method: c.method, path: c.path, headers };
  // Past the wire limit the collector answers 413 without reading the rest; the reset can overtake the answer.
  let answerOptional = body !== undefined && body.length > limits.maxBodyBytes;
  if (body !== undefined) {
    switch (c.framing) {
      case 'normal':
        request.body = body;
        break;
      case 'chunked':
        headers.push(['Transfer-Encoding', 'chunked']);
        request.body = chunk(body);
        request.contentLength = 'none';
        break;
      case 'truncated':
        request.body = body;
        request.sendBytes = Math.floor(body.length / 2);
        answerOptional = true;
        break;
      case 'short-length':
        request.body = body;
        request.contentLength = Math.floor(body.length / 2);
        break;
      case 'bad-chunked':
        headers.push(['Transfer-Encoding', 'chunked']);
        request.body = Buffer.concat([Buffer.from('zz\r\n'), body]);
        request.contentLength = 'none';
        answerOptional = true;
        break;
      case 'no-length':
        request.body = body;
        request.contentLength = 'none';
        break;
    }
  }

  const route = INGEST_ROUTES.includes(c.path as IngestRoute) ? (c.path as IngestRoute) : undefined;
  const authOk = GOOD_AUTH.has(c.auth) || (bodyWriteKey && api === 'segment' && (p.kind === 'segment-batch' || (p.kind === 'segment-call' && p.call.node.t === 'object')));
  const typeOk = c.contentType !== null && (CLEAN_CONTENT_TYPES.has(c.contentType) || (api === 'segment' && c.contentType === 'text/plain'));
  const clean =
    c.method === 'POST' &&
    route !== undefined &&
    authOk &&
    typeOk &&
    CLEAN_ENCODINGS.has(c.encoding) &&
    c.damage === null &&
    c.headers.length === 0 &&
    (c.framing === 'normal' || c.framing === 'chunked') &&
    withinLimits &&
    events >= 0 &&
    events <= limits.maxBatchEvents &&
    (p.kind === 'events' || p.kind === 'segment-batch' || p.kind === 'segment-call' || p.kind === 'bomb');
  return { request, answerOptional, ...(clean ? { expect: { events, good, api } } : {}) };
}
