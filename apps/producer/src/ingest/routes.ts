import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PipelineError, type Logger } from '@pipeline/runtime';
import {
  DLQ_HEADERS,
  SEGMENT_CALL_TYPES,
  appendPath,
  buildDlqHeaders,
  createEnvelopeValidator,
  createSegmentValidator,
  encodeFramedValues,
  encodeUnframedValue,
  isPlainObject,
  partitionKey,
  problem,
  type BatchValidation,
  type EnvelopeLimits,
  type EventEnvelope,
  type EventResult,
  type Problem,
  type PropertiesCheck,
  type PropertiesValidator,
  type SegmentCallType,
} from '@pipeline/schemas';
import type { Delivery } from '../delivery/delivery';
import { decodeJsonBody } from '../http/body';
import { writeKeyFromHeaders, type Source, type WriteKeyStore } from '../http/auth';
import { HttpError } from '../http/errors';
import type { ProducerMetrics } from '../metrics';
import type { SchemaCache } from '../schemas/schema-cache';
import { SpoolFullError } from '../spool/spool';
import type { OutRecord } from '../spool/frame';

const EMPTY_VALUE = Buffer.alloc(0);

export interface IngestSettings {
  eventsTopic: string;
  dlqTopic: string;
  unknownEventTypes: 'reject' | 'dlq';
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  maxInflightRequestBytes: number;
  retryAfterSeconds: number;
  limits: Partial<EnvelopeLimits>;
}

export interface IngestDeps {
  settings: IngestSettings;
  keys: WriteKeyStore;
  cache: SchemaCache;
  validator: PropertiesValidator;
  delivery: Delivery;
  metrics: ProducerMetrics;
  log: Logger;
  now?: () => number;
}

/** One event's outcome in a response. */
export type EventStatus =
  | { index: number; event_id: string; status: 'accepted'; warning?: Problem }
  | { index: number; event_id: string | null; status: 'rejected'; errors: Problem[] };

type Kind = { api: 'events' } | { api: 'segment-batch' } | { api: 'segment-call'; type: SegmentCallType };

declare module 'fastify' {
  interface FastifyRequest {
    source?: Source;
    inflightBytes?: number;
  }
}

/** Routes `POST /v1/events` and the Segment-compatible `/v1/batch`, `/v1/track`, ... onto validation and delivery. */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestDeps): void {
  const { settings, keys, cache, validator, delivery, metrics } = deps;
  const now = deps.now ?? Date.now;
  let inflightBytes = 0;

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'buffer', bodyLimit: settings.maxBodyBytes }, (request, body, done) => {
    decodeJsonBody(body as Buffer, request.headers['content-encoding'], settings.maxDecompressedBytes).then(
      (value) => done(null, value),
      (err: Error) => done(err, undefined),
    );
  });

  // Types the cache has not seen in this validation pass; fetched, then the batch is validated again.
  let missing: Set<string> | undefined;
  const rejectUnknown = settings.unknownEventTypes === 'reject';
  const checkProperties: PropertiesCheck = (eventType, properties, eventPath) => {
    const entry = cache.peek(eventType);
    if (entry === undefined) {
      (missing ??= new Set()).add(eventType);
      return [problem('unknown_event_type', appendPath(eventPath, 'event_type'), 'schema not loaded yet')];
    }
    if (entry.kind === 'schema') return validator.validate(entry.ref, properties, appendPath(eventPath, 'properties'));
    if (entry.kind === 'broken') {
      throw new HttpError(503, 'schema_unavailable', `the registered schema of ${eventType} cannot be used`, appendPath(eventPath, 'event_type'), settings.retryAfterSeconds);
    }
    return rejectUnknown ? [problem('unknown_event_type', appendPath(eventPath, 'event_type'), `no schema is registered for event type ${JSON.stringify(eventType)}`)] : [];
  };
  const envelope = createEnvelopeValidator({ limits: settings.limits, checkProperties });
  const segment = createSegmentValidator({ limits: settings.limits, checkProperties });

  async function validate<T>(run: () => T): Promise<T> {
    missing = undefined;
    const first = run();
    if (missing === undefined) return first;
    const types: Set<string> = missing;
    missing = undefined;
    try {
      await cache.fetch(types);
    } catch {
      throw new HttpError(503, 'registry_unavailable', 'the schema registry cannot be reached to check these event types', '$', settings.retryAfterSeconds);
    }
    const second = run();
    if (missing !== undefined) {
      missing = undefined;
      throw new HttpError(503, 'registry_unavailable', 'event type schemas could not be loaded', '$', settings.retryAfterSeconds);
    }
    return second;
  }

  /** Before the body is read: memory guard, write key from headers, and an empty rate-limit bucket. */
  async function admit(request: FastifyRequest, reply: FastifyReply, segmentApi: boolean): Promise<void> {
    const declared = Number(request.headers['content-length']);
    const bytes = Number.isFinite(declared) && declared > 0 ? Math.min(declared, settings.maxBodyBytes) : settings.maxBodyBytes;
    if (inflightBytes + bytes > settings.maxInflightRequestBytes) {
      throw new HttpError(503, 'overloaded', 'too many request bytes in progress; retry shortly', '$', 1);
    }
    inflightBytes += bytes;
    request.inflightBytes = bytes;
    reply.raw.once('close', () => {
      inflightBytes -= request.inflightBytes ?? 0;
      request.inflightBytes = 0;
    });
    const key = writeKeyFromHeaders(request.headers);
    if (key === undefined) {
      if (segmentApi) return; // analytics.js sends the write key in the body
      throw new HttpError(401, 'unauthorized', 'send a write key in Authorization: Bearer, X-Write-Key or Basic auth');
    }
    const source = keys.lookup(key);
    if (source === undefined) throw new HttpError(401, 'unauthorized', 'unknown write key');
    request.source = source;
    checkTokens(source);
  }

  function checkTokens(source: Source): void {
    const wait = source.limiter.retryAfterSeconds();
    if (wait > 0) {
      metrics.rateLimited.inc({ source: source.name });
      throw new HttpError(429, 'rate_limited', `rate limit of ${source.limiter.ratePerSec} events/s exceeded for this write key`, '$', wait);
    }
  }

  function sourceOf(request: FastifyRequest, body: unknown): Source {
    if (request.source) return request.source;
    const key = isPlainObject(body) && typeof body['writeKey'] === 'string' ? body['writeKey'] : undefined;
    if (key === undefined) throw new HttpError(401, 'unauthorized', 'send a write key in Basic auth, Authorization: Bearer, X-Write-Key or the body writeKey');
    const source = keys.lookup(key);
    if (source === undefined) throw new HttpError(401, 'unauthorized', 'unknown write key');
    checkTokens(source);
    return source;
  }

  async function ingest(kind: Kind, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const body = request.body;
    const contentType = (request.headers['content-type'] ?? '').toLowerCase();
    if (kind.api === 'events' && !contentType.startsWith('application/json')) {
      throw new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
    }
    const source = sourceOf(request, body);
    const count = kind.api === 'events' ? (Array.isArray(body) ? body.length : 1) : kind.api === 'segment-batch' ? segmentBatchLength(body) : 1;
    const wait = source.limiter.take(count);
    if (wait > 0) {
      metrics.rateLimited.inc({ source: source.name });
      throw new HttpError(429, 'rate_limited', `rate limit of ${source.limiter.ratePerSec} events/s exceeded for this write key`, '$', wait);
    }

    const received = now();
    const verdict: BatchValidation = await validate(() => {
      if (kind.api === 'events') return envelope.validateBatch(body, received);
      if (kind.api === 'segment-batch') return segment.validateBatch(body, received);
      const one: EventResult = segment.validateCall(body, received, kind.type);
      return { status: 'checked', results: [one], accepted: one.ok ? 1 : 0, rejected: one.ok ? 0 : 1 } as const;
    });
    if (verdict.status === 'rejected') {
      const first = verdict.problems[0] as Problem;
      const code = first.code === 'batch_too_large' ? 'batch_too_large' : first.code === 'not_an_array' ? 'not_an_array' : first.code === 'missing_field' ? 'missing_field' : 'not_an_object';
      throw new HttpError(code === 'batch_too_large' ? 413 : 400, code, first.message, first.path);
    }

    const records: OutRecord[] = [];
    const results: EventStatus[] = new Array<EventStatus>(verdict.results.length);
    // Events-topic values are framed together below, into one buffer for the whole request.
    const framed: OutRecord[] = [];
    const schemaIds: number[] = [];
    const envelopes: EventEnvelope[] = [];
    let bytes = 0;
    let dlq = 0;
    for (let i = 0; i < verdict.results.length; i++) {
      const r = verdict.results[i] as EventResult;
      if (!r.ok) {
        results[i] = { index: r.index, event_id: r.event_id, status: 'rejected', errors: r.problems };
        metrics.eventsRejected.inc({ reason: (r.problems[0] as Problem).code });
        continue;
      }
      const entry = cache.peek(r.event.event_type);
      const key = partitionKey(r.event);
      let record: OutRecord;
      if (entry?.kind === 'schema') {
        record = { topic: settings.eventsTopic, key, value: EMPTY_VALUE };
        framed.push(record);
        schemaIds.push(entry.ref.id);
        envelopes.push(r.event);
        results[i] = { index: r.index, event_id: r.event.event_id, status: 'accepted' };
      } else {
        const reason = `no schema is registered for event type ${JSON.stringify(r.event.event_type)}`;
        record = {
          topic: settings.dlqTopic,
          key,
          value: encodeUnframedValue(r.event),
          headers: { ...dlqHeaders(settings.eventsTopic, reason), 'x-dlq-source': 'collector' },
        };
        const path = kind.api === 'segment-batch' ? `$.batch[${r.index}]` : kind.api === 'events' ? `$[${r.index}]` : '$';
        results[i] = { index: r.index, event_id: r.event.event_id, status: 'accepted', warning: problem('unknown_event_type', appendPath(path, 'event_type'), `${reason}; stored in the dead-letter topic`) };
        dlq++;
        bytes += record.value.length;
      }
      bytes += key.length + 64;
      records.push(record);
    }
    if (framed.length > 0) {
      const values = encodeFramedValues(schemaIds, envelopes);
      for (let i = 0; i < framed.length; i++) {
        const value = values[i] as Buffer;
        (framed[i] as OutRecord).value = value;
        bytes += value.length;
      }
    }
    if (records.length === 0) {
      metrics.requestsRejected.inc({ code: 'all_events_rejected' });
      return reply.code(400).send({
        error: { code: 'all_events_rejected', message: 'no event in the request was valid; see results', path: '$' },
        accepted: 0,
        rejected: verdict.results.length,
        results,
      });
    }

    // The parsed body and the verdict are not needed while Kafka acknowledges: dropping them now lets
    // them die young instead of being copied by every scavenge until the answer goes out.
    const total = verdict.results.length;
    request.body = undefined;
    let via: 'kafka' | 'spool';
    try {
      via = await delivery.submit(records, bytes);
    } catch (err) {
      if (err instanceof SpoolFullError) throw new HttpError(503, 'spool_full', 'the collector cannot store more events right now; retry later', '$', settings.retryAfterSeconds);
      if (err instanceof PipelineError && err.code === 'aborted') throw new HttpError(503, 'shutting_down', 'the collector is shutting down; retry', '$', 1);
      throw err;
    }
    if (records.length - dlq > 0) metrics.eventsAccepted.inc({ topic: 'events', via }, records.length - dlq);
    if (dlq > 0) metrics.eventsAccepted.inc({ topic: 'dlq', via }, dlq);
    const accepted = records.length;
    const answer = { accepted, rejected: total - accepted, results };
    if (kind.api === 'events') return reply.code(202).send(answer);
    return reply.code(200).send({ success: true, ...answer });
  }

  app.post('/v1/events', { onRequest: (req, rep) => admit(req, rep, false) }, (req, rep) => ingest({ api: 'events' }, req, rep));
  app.post('/v1/batch', { onRequest: (req, rep) => admit(req, rep, true) }, (req, rep) => ingest({ api: 'segment-batch' }, req, rep));
  // Segment's own alias of /v1/batch.
  app.post('/v1/import', { onRequest: (req, rep) => admit(req, rep, true) }, (req, rep) => ingest({ api: 'segment-batch' }, req, rep));
  for (const type of SEGMENT_CALL_TYPES) {
    app.post(`/v1/${type}`, { onRequest: (req, rep) => admit(req, rep, true) }, (req, rep) => ingest({ api: 'segment-call', type }, req, rep));
  }
}

function segmentBatchLength(body: unknown): number {
  if (!isPlainObject(body)) return 1;
  const batch = body['batch'];
  return Array.isArray(batch) ? batch.length : 1;
}

/**
 * DLQ headers of a record the collector dead-letters itself. It never reached the events topic, so it has
 * no source partition or offset: those two headers are absent and `x-dlq-source: collector` says why.
 */
function dlqHeaders(eventsTopic: string, reason: string): Record<string, string> {
  const all = buildDlqHeaders({ originalTopic: eventsTopic, originalPartition: 0, originalOffset: '0', errorCode: 'unknown_event_type', attempt: 1, reason });
  delete all[DLQ_HEADERS.originalPartition];
  delete all[DLQ_HEADERS.originalOffset];
  return all;
}
