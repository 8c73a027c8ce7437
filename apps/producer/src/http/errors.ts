/**
 * Request-level errors: the request as a whole is refused, with a stable code (clients and
 * dashboards key on it), the JSON path it is about, and a message for people. Per-event problems
 * use the envelope's own codes (`@pipeline/schemas` PROBLEM_CODES) instead.
 */
export const REQUEST_ERROR_CODES = [
  'malformed_json',
  'empty_body',
  'invalid_utf8',
  'invalid_gzip',
  'unsupported_media_type',
  'unsupported_content_encoding',
  'body_too_large',
  'batch_too_large',
  'not_an_array',
  'not_an_object',
  'missing_field',
  'all_events_rejected',
  'unauthorized',
  'rate_limited',
  'overloaded',
  'spool_full',
  'registry_unavailable',
  'schema_unavailable',
  'shutting_down',
  'not_found',
  'bad_request',
  'request_timeout',
  'uri_too_long',
  'expectation_failed',
  'headers_too_large',
  'internal',
] as const;
export type RequestErrorCode = (typeof REQUEST_ERROR_CODES)[number];

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: RequestErrorCode,
    message: string,
    readonly path = '$',
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  toBody(): { error: { code: RequestErrorCode; message: string; path: string } } {
    return { error: { code: this.code, message: this.message, path: this.path } };
  }
}

/** Maps Fastify's own errors (raised before a handler runs) to ours; `undefined` for anything else. */
export function fromFastifyError(err: { code?: string; statusCode?: number; message: string }): HttpError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'body_too_large', 'request body is larger than the limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'send Content-Type: application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'empty_body', 'request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, 'bad_request', 'Content-Length does not match the body');
    default:
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) return new HttpError(err.statusCode, 'bad_request', err.message);
      return undefined;
  }
}
