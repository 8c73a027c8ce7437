import { ENVELOPE_FIELDS, PROBLEM_CODES, SEGMENT_CALL_TYPES } from '@pipeline/schemas';
import { REQUEST_ERROR_CODES } from './errors';

const json = (schema: unknown) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function errorResponse(description: string, retryAfter = false) {
  return {
    description,
    ...(retryAfter ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 1 } } } } : {}),
    content: json(ref('Error')),
  };
}

const commonErrors = {
  '400': { description: 'The request as a whole is invalid (malformed JSON, invalid UTF-8, bad gzip, not an array, or every event rejected).', content: json({ oneOf: [ref('Error'), ref('BatchRejected')] }) },
  '401': errorResponse('Missing or unknown write key.'),
  '413': errorResponse('Body over the byte limit (before or after gunzip), or more events than the batch limit.'),
  '415': errorResponse('Content-Type is not application/json (Segment routes also take text/plain), or Content-Encoding is not gzip.'),
  '429': errorResponse('Rate limit of this write key exceeded.', true),
  '503': errorResponse('Spool full, schema registry unreachable for a new event type, memory guard, or shutting down. Nothing of the request was stored.', true),
};

const security = [{ bearer: [] }, { writeKeyHeader: [] }, { basic: [] }];

function segmentOperation(summary: string, body: unknown) {
  return {
    summary,
    tags: ['segment'],
    security,
    requestBody: { required: true, content: { ...json(body), 'text/plain': { schema: body } } },
    responses: { '200': { description: 'At least one event is durable; per-event outcomes in `results`.', content: json(ref('SegmentAccepted')) }, ...commonErrors },
  };
}

/** The OpenAPI 3.1 description of the collector's HTTP API, served at `/openapi.json`. */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'Event collector',
    version: '1.0.0',
    description:
      'Ingests JSON events into Kafka. A 2xx answer means every accepted event is durable: acknowledged by Kafka (acks=all) or fsynced to the local spool. ' +
      'Bodies may be gzip-compressed (Content-Encoding: gzip). Write keys go in Authorization: Bearer, X-Write-Key, or Basic auth (key as user name, empty password).',
  },
  paths: {
    '/v1/events': {
      post: {
        summary: 'Send a batch of events',
        tags: ['events'],
        security,
        requestBody: { required: true, content: json({ type: 'array', items: ref('EventInput') }) },
        responses: { '202': { description: 'At least one event is durable; per-event outcomes in `results`.', content: json(ref('BatchAccepted')) }, ...commonErrors },
      },
    },
    '/v1/batch': { post: segmentOperation('Segment batch (analytics-node, analytics.js, RudderStack, Jitsu)', ref('SegmentBatch')) },
    '/v1/import': { post: segmentOperation('Segment batch (alias of /v1/batch)', ref('SegmentBatch')) },
    ...Object.fromEntries(SEGMENT_CALL_TYPES.map((type) => [`/v1/${type}`, { post: segmentOperation(`Segment ${type} call`, ref('SegmentCall')) }])),
    '/healthz': { get: { summary: 'Liveness; calls nothing', tags: ['operations'], responses: { '200': { description: 'The process is up.' } } } },
    '/readyz': { get: { summary: 'Readiness: started, spool has room, not shutting down', tags: ['operations'], responses: { '200': { description: 'Ready.' }, '503': { description: 'Not ready.' } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', tags: ['operations'], responses: { '200': { description: 'Prometheus text format.' } } } },
    '/openapi.json': { get: { summary: 'This document', tags: ['operations'], responses: { '200': { description: 'OpenAPI 3.1 document.' } } } },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'The write key as a bearer token.' },
      writeKeyHeader: { type: 'apiKey', in: 'header', name: 'X-Write-Key' },
      basic: { type: 'http', scheme: 'basic', description: 'Write key as the user name, empty password (as Segment SDKs send it).' },
    },
    schemas: {
      EventInput: {
        type: 'object',
        required: ['event_id', 'event_type', 'occurred_at'],
        description: 'One event. One of user_id and anonymous_id is required. Unknown top-level keys are rejected. See libs/schemas/README.md for every limit.',
        additionalProperties: false,
        properties: {
          event_id: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:+/=@-]+$', description: 'Client-made idempotency key.' },
          event_type: { type: 'string', pattern: '^[a-z][a-z0-9_.]{0,63}$', description: 'Selects the JSON Schema of `properties` in the registry.' },
          occurred_at: { type: 'string', format: 'date-time', description: 'RFC 3339 with offset; within the configured past/future window.' },
          received_at: { type: 'string', description: 'Ignored: the server sets it.' },
          user_id: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
          anonymous_id: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
          properties: { type: ['object', 'null'], description: 'Checked against the event type schema.' },
          context: { type: ['object', 'null'], description: 'user_agent, ip, app_version, locale, timezone, library, and any other key.' },
        },
      },
      Problem: {
        type: 'object',
        required: ['code', 'path', 'message'],
        properties: {
          code: { type: 'string', enum: [...PROBLEM_CODES], description: 'Stable reason code.' },
          path: { type: 'string', description: 'JSONPath-like location in the request body, e.g. $[3].properties.price.' },
          message: { type: 'string' },
        },
      },
      EventStatus: {
        type: 'object',
        required: ['index', 'event_id', 'status'],
        properties: {
          index: { type: 'integer', description: 'Position in the batch.' },
          event_id: { type: ['string', 'null'] },
          status: { type: 'string', enum: ['accepted', 'rejected'] },
          errors: { type: 'array', items: ref('Problem'), description: 'Present when rejected.' },
          warning: { ...ref('Problem'), description: 'Present when accepted into the dead-letter topic (unknown event type with UNKNOWN_EVENT_TYPES=dlq).' },
        },
      },
      BatchAccepted: {
        type: 'object',
        required: ['accepted', 'rejected', 'results'],
        properties: { accepted: { type: 'integer' }, rejected: { type: 'integer' }, results: { type: 'array', items: ref('EventStatus') } },
      },
      BatchRejected: {
        type: 'object',
        required: ['error', 'accepted', 'rejected', 'results'],
        properties: { error: ref('ErrorDetail'), accepted: { type: 'integer', const: 0 }, rejected: { type: 'integer' }, results: { type: 'array', items: ref('EventStatus') } },
      },
      SegmentAccepted: {
        type: 'object',
        required: ['success', 'accepted', 'rejected', 'results'],
        properties: { success: { const: true }, accepted: { type: 'integer' }, rejected: { type: 'integer' }, results: { type: 'array', items: ref('EventStatus') } },
      },
      SegmentCall: {
        type: 'object',
        description: 'A Segment spec call (track, identify, page, screen, group, alias); mapped onto the envelope fields: ' + ENVELOPE_FIELDS.join(', '),
        required: ['messageId'],
        properties: {
          type: { type: 'string', enum: [...SEGMENT_CALL_TYPES] },
          messageId: { type: 'string' },
          event: { type: 'string' },
          userId: { type: ['string', 'number', 'null'] },
          anonymousId: { type: ['string', 'number', 'null'] },
          timestamp: { type: 'string' },
          properties: { type: 'object' },
          traits: { type: 'object' },
          context: { type: 'object' },
          writeKey: { type: 'string', description: 'analytics.js sends the write key here instead of a header.' },
        },
      },
      SegmentBatch: {
        type: 'object',
        required: ['batch'],
        properties: { batch: { type: 'array', items: ref('SegmentCall') }, sentAt: { type: 'string' }, context: { type: 'object' }, writeKey: { type: 'string' } },
      },
      ErrorDetail: {
        type: 'object',
        required: ['code', 'message', 'path'],
        properties: { code: { type: 'string', enum: [...REQUEST_ERROR_CODES] }, message: { type: 'string' }, path: { type: 'string' } },
      },
      Error: { type: 'object', required: ['error'], properties: { error: ref('ErrorDetail') } },
    },
  },
} as const;
