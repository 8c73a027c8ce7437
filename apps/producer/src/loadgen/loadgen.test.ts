import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEnvelopeValidator, createPropertiesValidator, createSchemaPropertiesCheck } from '@pipeline/schemas';
import { LOADGEN_SCHEMAS, createEventMix } from './event-mix';
import { eventsDue, rateAt, runLoad, summarizeLatency, type LoadAck } from './runner';

describe('event mix', () => {
  const validator = createPropertiesValidator();
  const envelope = createEnvelopeValidator({
    checkProperties: createSchemaPropertiesCheck({
      validator,
      lookup: (type) => (LOADGEN_SCHEMAS[type] ? { id: type, schema: LOADGEN_SCHEMAS[type] as Record<string, unknown> } : undefined),
    }),
  });

  it.each([false, true])('makes only events the collector accepts (burst=%s), with unique ids', (burst) => {
    const mix = createEventMix({ runId: 'run1', seed: 7 });
    const now = Date.now();
    const events = Array.from({ length: 2_000 }, () => mix.next(now, burst));
    const verdict = envelope.validateBatch(events.slice(0, 500), now);
    expect(verdict).toMatchObject({ status: 'checked', rejected: 0 });
    for (let i = 500; i < events.length; i += 500) expect(envelope.validateBatch(events.slice(i, i + 500), now)).toMatchObject({ rejected: 0 });
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  });

  it('is mostly views in steady state and mostly push opens in a burst', () => {
    const mix = createEventMix({ runId: 'r', seed: 1 });
    const share = (burst: boolean, type: string) => Array.from({ length: 5_000 }, () => mix.next(0, burst)).filter((e) => e.event_type === type).length / 5_000;
    expect(share(false, 'page_view')).toBeGreaterThan(0.3);
    expect(share(false, 'push_open')).toBeLessThan(0.1);
    expect(share(true, 'push_open')).toBeGreaterThan(0.5);
  });
});

describe('load schedule', () => {
  const burst = { atSec: 10, seconds: 30, factor: 10 };
  it('runs 10x the base rate during the burst window only', () => {
    expect([rateAt(9.9, 100, burst), rateAt(10, 100, burst), rateAt(39.9, 100, burst), rateAt(40, 100, burst)]).toEqual([100, 1000, 1000, 100]);
  });
  it('integrates the rate into events due', () => {
    expect(eventsDue(5, 100)).toBe(500);
    expect(eventsDue(10, 100, burst)).toBe(1_000);
    expect(eventsDue(20, 100, burst)).toBe(1_000 + 10_000);
    expect(eventsDue(50, 100, burst)).toBe(1_000 + 30_000 + 1_000);
  });
  it('summarizes latency percentiles', () => {
    expect(summarizeLatency(Array.from({ length: 100 }, (_, i) => 100 - i))).toEqual({ count: 100, p50Ms: 51, p90Ms: 91, p99Ms: 100, maxMs: 100 });
    expect(summarizeLatency([])).toEqual({ count: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
  });
});

describe('acknowledgements', () => {
  let server: Server;
  let url: string;
  let requests = 0;

  // A loopback stand-in for the collector: the first request is answered 503, every later one
  // accepts all events but the second of each batch.
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (requests++ === 0) {
          res.writeHead(503, { 'retry-after': '1' }).end('{}');
          return;
        }
        const events = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Array<{ event_id: string }>;
        const results = events.map((e, index) => (index === 1 ? { index, event_id: e.event_id, status: 'rejected' } : { index, event_id: e.event_id, status: 'accepted' }));
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: events.length - 1, rejected: 1, results }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reports each 2xx answer with the accepted event_ids, its wall-clock time and its latency across retries', async () => {
    const acks: LoadAck[] = [];
    const before = Date.now();
    const result = await runLoad({ url, writeKey: 'k', ratePerSec: 40, durationSec: 1.5, batch: 4, concurrency: 1, runId: 'ack', trackIds: true, graceSec: 5, onAck: (a) => acks.push(a) });
    expect(result.failedEvents).toBe(0);
    expect(acks.length).toBe(result.sentEvents / 4);
    expect(acks.flatMap((a) => a.eventIds)).toEqual(result.ackedIds);
    expect(acks.flatMap((a) => a.eventIds)).toHaveLength(result.ackedEvents);
    for (const a of acks) {
      expect(a.eventIds).toHaveLength(3);
      expect(a.ackedAtMs).toBeGreaterThanOrEqual(before);
      expect(a.ackedAtMs).toBeLessThanOrEqual(Date.now());
    }
    // The first batch was answered 503 with Retry-After: 1 first, so its latency covers that wait.
    expect(acks[0]?.eventIds[0]).toBe('ack-0');
    expect(acks[0]?.latencyMs).toBeGreaterThanOrEqual(1_000);
    expect(acks.length).toBeGreaterThan(1);
    expect(Math.max(...acks.slice(1).map((a) => a.latencyMs))).toBeLessThan(1_000);
  });
});
