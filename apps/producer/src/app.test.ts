import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildProducerApp } from './app';
import { readConfig } from './config';
import type { RecordSender } from './delivery/kafka-sender';
import { decodeValue } from '@pipeline/schemas';
import { waitFor } from '@pipeline/testing';
import { hashWriteKey } from './http/auth';
import { OPENAPI_DOCUMENT } from './http/openapi';
import type { OutRecord } from './spool/frame';
import type { RegistryClient } from './schemas/registry-client';

class MemorySender implements RecordSender {
  records: OutRecord[] = [];
  up = true;
  get healthy() {
    return this.up;
  }
  async connect() {
    if (!this.up) throw new Error('down');
  }
  async send(records: readonly OutRecord[]) {
    if (!this.up) throw new Error('down');
    this.records.push(...records);
  }
  async close() {
    this.up = false;
  }
}

const pageView = { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] };
const registryClient: RegistryClient = {
  async subjects() {
    return ['page_view'];
  },
  async latest(subject) {
    if (subject === 'page_view') return { subject, id: 7, version: 1, schemaType: 'JSON', schema: JSON.stringify(pageView) };
    if (subject === 'track' || subject === 'order_completed' || subject === 'identify') return { subject, id: 8, version: 1, schemaType: 'JSON', schema: '{"type":"object"}' };
    return undefined;
  },
};

const KEY = 'test-write-key';
const LIMITED_KEY = 'limited-key';
let dir: string;
let http: FastifyInstance;
let sender: MemorySender;
let stop: () => Promise<void>;
let registry: Registry;

function event(over: Record<string, unknown> = {}) {
  return { event_id: `e-${Math.random().toString(36).slice(2)}`, event_type: 'page_view', occurred_at: new Date().toISOString(), user_id: 'u1', properties: { url: '/' }, ...over };
}

async function post(body: unknown, headers: Record<string, string> = {}, url = '/v1/events') {
  const payload = Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : JSON.stringify(body);
  return http.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'producer-app-test-'));
  const parsed = readConfig({
    SPOOL_DIR: dir,
    MAX_BODY_BYTES: '20000',
    MAX_DECOMPRESSED_BYTES: '40000',
    MAX_BATCH_EVENTS: '10',
    WRITE_KEYS: JSON.stringify([
      { source: 'web', sha256: hashWriteKey(KEY) },
      { source: 'limited', sha256: hashWriteKey(LIMITED_KEY), rate_per_sec: 1, burst: 3 },
    ]),
  });
  const config = { ...parsed, HTTP_PORT: 0, HTTP_HOST: '127.0.0.1' };
  sender = new MemorySender();
  registry = new Registry();
  const app = buildProducerApp({ config, log: pino({ level: 'silent' }), registry, kafka: {} as Kafka, sender, registryClient });
  http = app.http;
  await app.lifecycle.start();
  stop = () => app.lifecycle.stop();
});
afterAll(async () => {
  await stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/events', () => {
  it('answers 202 once the events are delivered, framed with the schema id and keyed by user', async () => {
    sender.records = [];
    const e = event({ received_at: '2000-01-01T00:00:00.000Z' });
    const res = await post([e]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1, rejected: 0, results: [{ index: 0, event_id: e.event_id, status: 'accepted' }] });
    const record = sender.records[0] as OutRecord;
    expect(record.key).toBe('u1');
    const decoded = decodeValue(record.value);
    expect(decoded.schemaId).toBe(7);
    expect(decoded.record.event_id).toBe(e.event_id);
    expect(decoded.record.received_at).not.toBe('2000-01-01T00:00:00.000Z');
  });

  it('takes gzip bodies', async () => {
    const res = await post(gzipSync(JSON.stringify([event()])), { 'content-encoding': 'gzip' });
    expect(res.statusCode).toBe(202);
  });

  it('keeps the good events of a mixed batch and reports each bad one with code and path', async () => {
    sender.records = [];
    const good = event();
    const dup = event();
    const res = await post([good, event({ properties: {} }), event({ occurred_at: 'yesterday' }), dup, { ...dup }]);
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body.accepted).toBe(2);
    expect(body.results.map((r: { status: string; errors?: Array<{ code: string; path: string }> }) => r.errors?.[0] ?? r.status)).toEqual([
      'accepted',
      expect.objectContaining({ code: 'schema_violation', path: '$[1].properties.url' }),
      expect.objectContaining({ code: 'invalid_timestamp', path: '$[2].occurred_at' }),
      'accepted',
      expect.objectContaining({ code: 'duplicate_event_id', path: '$[4].event_id' }),
    ]);
    expect(sender.records).toHaveLength(2);
  });

  it.each([
    ['malformed JSON', '[{"event_id": ', {}, 400, 'malformed_json'],
    ['an empty body', '', {}, 400, 'empty_body'],
    ['invalid UTF-8', Buffer.from([0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d]), {}, 400, 'invalid_utf8'],
    ['a wrong content type', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'unsupported_media_type'],
    ['text/plain on /v1/events', '[]', { 'content-type': 'text/plain' }, 415, 'unsupported_media_type'],
    ['an unknown content encoding', '[]', { 'content-encoding': 'br' }, 415, 'unsupported_content_encoding'],
    ['broken gzip', Buffer.from([0x1f, 0x8b, 1, 2, 3]), { 'content-encoding': 'gzip' }, 400, 'invalid_gzip'],
    ['a body over the limit', JSON.stringify([event({ properties: { url: 'x'.repeat(30_000) } })]), {}, 413, 'body_too_large'],
    ['a gzip body over the limit once decompressed', gzipSync(JSON.stringify([event({ properties: { url: 'x'.repeat(50_000) } })])), { 'content-encoding': 'gzip' }, 413, 'body_too_large'],
    ['too many events', JSON.stringify(Array.from({ length: 11 }, () => event())), {}, 413, 'batch_too_large'],
    ['not an array', '{"event_id":"x"}', {}, 400, 'not_an_array'],
    ['no write key', '[]', { authorization: '' }, 401, 'unauthorized'],
    ['an unknown write key', '[]', { authorization: 'Bearer nope' }, 401, 'unauthorized'],
  ])('refuses %s with a stable code', async (_name, body, headers, status, code) => {
    const res = await post(body, headers as Record<string, string>);
    expect({ status: res.statusCode, error: res.json().error }).toEqual({ status, error: { code, message: expect.any(String), path: '$' } });
  });

  it.each([
    ['a missing field', { event_id: undefined }, 'missing_field', '$[0].event_id'],
    ['a wrong-typed field', { user_id: 42 }, 'wrong_type', '$[0].user_id'],
    ['a too-long string', { context: { locale: 'x'.repeat(9000) } }, 'string_too_long', '$[0].context.locale'],
    ['too-deep nesting', { context: { a: { b: { c: { d: { e: { f: { g: { h: {} } } } } } } } } }, 'too_deep', '$[0].context.a.b.c.d.e.f.g.h'],
    ['a timestamp too far in the future', { occurred_at: new Date(Date.now() + 86_400_000).toISOString() }, 'timestamp_in_future', '$[0].occurred_at'],
    ['a timestamp too far in the past', { occurred_at: '2001-01-01T00:00:00Z' }, 'timestamp_too_old', '$[0].occurred_at'],
    ['an unknown event type', { event_type: 'never_registered' }, 'unknown_event_type', '$[0].event_type'],
  ])('rejects an event with %s (400 when nothing is left), with code and path', async (_name, over, code, path) => {
    const res = await post([event(over)]);
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error.code).toBe('all_events_rejected');
    expect(body.results[0].errors).toContainEqual({ code, path, message: expect.any(String) });
  });

  it('accepts X-Write-Key and Basic auth as well as Bearer', async () => {
    expect((await post([event()], { authorization: '', 'x-write-key': KEY })).statusCode).toBe(202);
    expect((await post([event()], { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` })).statusCode).toBe(202);
  });

  it('answers 429 with Retry-After past the write key rate limit', async () => {
    const limited = { authorization: `Bearer ${LIMITED_KEY}` };
    expect((await post([event(), event(), event()], limited)).statusCode).toBe(202);
    const res = await post([event()], limited);
    expect(res.statusCode).toBe(429);
    expect(res.json().error.code).toBe('rate_limited');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('answers 404 as JSON for unknown routes and counts requests by route and status', async () => {
    const res = await http.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('not_found');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/pipeline_producer_http_requests_total\{route="\/v1\/events",status="202"/);
    expect(metrics).toMatch(/pipeline_producer_requests_rejected_total\{code="malformed_json"/);
    expect(metrics).toMatch(/pipeline_producer_events_rejected_total\{reason="schema_violation"/);
    expect(metrics).toMatch(/pipeline_producer_events_accepted_total\{topic="events",via="kafka"/);
    expect(metrics).toMatch(/pipeline_producer_spool_depth_records/);
  });
});

describe('Segment-compatible API', () => {
  const basic = { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}` };

  it('maps a /v1/batch onto the envelope and answers like Segment', async () => {
    sender.records = [];
    const res = await post(
      {
        batch: [
          { type: 'track', event: 'Order Completed', messageId: 'm-1', userId: 'u9', properties: { total: 3 }, timestamp: new Date().toISOString() },
          { type: 'page', messageId: 'm-2', anonymousId: 'a1', name: 'Home', properties: { url: '/' }, timestamp: new Date().toISOString() },
          { type: 'track', event: 'Bad', userId: 'u9', timestamp: new Date().toISOString() },
        ],
        sentAt: new Date().toISOString(),
      },
      basic,
      '/v1/batch',
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ success: true, accepted: 1, rejected: 2 });
    expect(body.results[1].errors[0]).toMatchObject({ code: 'unknown_event_type', path: '$.batch[1].type' });
    expect(body.results[2].errors[0]).toMatchObject({ code: 'missing_field', path: '$.batch[2].messageId' });
    expect(decodeValue((sender.records[0] as OutRecord).value).record).toMatchObject({ event_id: 'm-1', event_type: 'order_completed', user_id: 'u9' });
  });

  it('takes the write key from the body and text/plain, as analytics.js sends it', async () => {
    const res = await post({ type: 'identify', messageId: 'm-3', userId: 'u1', traits: { plan: 'pro' }, timestamp: new Date().toISOString(), writeKey: KEY }, { authorization: '', 'content-type': 'text/plain' }, '/v1/identify');
    expect(res.statusCode).toBe(200);
    const bad = await post({ type: 'identify', messageId: 'm-4', userId: 'u1', writeKey: 'wrong' }, { authorization: '' }, '/v1/identify');
    expect(bad.statusCode).toBe(401);
  });
});

describe('HTTP surface', () => {
  it('answers CORS preflights for browser SDKs', async () => {
    const res = await http.inject({
      method: 'OPTIONS',
      url: '/v1/events',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
  });

  // Regression (fuzzing): @fastify/cors answered these with a plain-text 400 "Invalid Preflight Request".
  it('answers an OPTIONS request that is not a preflight with 204 and the CORS headers', async () => {
    const res = await http.inject({ method: 'OPTIONS', url: '/v1/events' });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });

  // Regression (fuzzing): Fastify answered these as {"error":"Bad Request","code":"FST_ERR_BAD_URL",...}.
  it('answers a malformed URL escape with 400 bad_request in the collector error shape, and counts it', async () => {
    const res = await post([event()], {}, '/v1/events%zz');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'bad_request', message: 'the request URL is malformed', path: '$' } });
    expect(await registry.metrics()).toMatch(/pipeline_producer_requests_rejected_total\{code="bad_request"\} [1-9]/);
  });

  it('serves an OpenAPI document that describes every route the app has', async () => {
    const res = await http.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toBe('3.1.0');
    const documented = new Set(Object.keys(OPENAPI_DOCUMENT.paths));
    const routes = http
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .map((line) => /([/][^\s(]*) \(/.exec(line)?.[1])
      .filter((p): p is string => p !== undefined && p !== '*' && !p.endsWith('*'));
    expect(routes.length).toBeGreaterThan(5);
    for (const route of routes) expect([route, documented.has(route)]).toEqual([route, true]);
  });
});

describe('when Kafka is away', () => {
  it('answers from the spool, then 503 spool_full with Retry-After once the spool is full, and turns unready', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'producer-app-full-'));
    const config = {
      ...readConfig({ SPOOL_DIR: spoolDir, SPOOL_MAX_BYTES: '4000', MAX_BODY_BYTES: '2000', WRITE_KEYS: JSON.stringify([{ source: 'web', sha256: hashWriteKey(KEY) }]) }),
      HTTP_PORT: 0,
      HTTP_HOST: '127.0.0.1',
    };
    const down = new MemorySender();
    down.up = false;
    const app = buildProducerApp({ config, log: pino({ level: 'silent' }), registry: new Registry(), kafka: {} as Kafka, sender: down, registryClient });
    await app.lifecycle.start();
    try {
      const inject = (events: unknown[]) =>
        app.http.inject({ method: 'POST', url: '/v1/events', payload: JSON.stringify(events), headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` } });
      expect((await inject([event()])).statusCode).toBe(202);
      let full;
      for (let i = 0; i < 50; i++) {
        full = await inject([event(), event(), event(), event(), event()]);
        if (full.statusCode !== 202) break;
      }
      expect(full?.statusCode).toBe(503);
      expect(full?.json().error.code).toBe('spool_full');
      expect(full?.headers['retry-after']).toBe('5');
      await waitFor(async () => (await app.http.inject('/readyz')).statusCode === 503, { timeoutMs: 5_000, what: 'readiness to turn false' });
      expect(down.records).toEqual([]);
    } finally {
      await app.lifecycle.stop();
      rmSync(spoolDir, { recursive: true, force: true });
    }
  });
});
