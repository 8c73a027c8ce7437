import { PipelineError } from '@pipeline/runtime';
import { TrinoQueryError } from '../trino/client';

/** The closed list of error codes in API answers, with their HTTP status. */
export const API_ERRORS = {
  unauthorized: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  not_found: 404,
  not_acceptable: 406,
  request_timeout: 408,
  cursor_expired: 410,
  body_too_large: 413,
  uri_too_long: 414,
  unsupported_media_type: 415,
  expectation_failed: 417,
  headers_too_large: 431,
  invalid_request: 400,
  invalid_parameters: 400,
  sql_rejected: 400,
  syntax_error: 400,
  query_error: 400,
  scan_limit_exceeded: 422,
  result_too_large: 422,
  resource_limit_exceeded: 422,
  rate_limited: 429,
  too_many_concurrent_queries: 429,
  client_closed: 499,
  internal: 500,
  trino_error: 502,
  trino_unavailable: 503,
  timeout: 504,
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ErrorPosition {
  line: number;
  column: number;
}

/** An error answered to the client: a code from {@link API_ERRORS}, a message meant for it, never a stack trace. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly extra: { position?: ErrorPosition; details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'ApiError';
    this.status = API_ERRORS[code];
  }

  /** The JSON body of the answer. */
  body(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.extra.position ? { position: this.extra.position } : {}),
        ...(this.extra.details ?? {}),
      },
    };
  }
}

const TRINO_TIMEOUTS = new Set(['EXCEEDED_TIME_LIMIT', 'EXCEEDED_CPU_LIMIT']);
const TRINO_UNAVAILABLE = new Set(['SERVER_STARTING_UP', 'SERVER_SHUTTING_DOWN', 'NO_NODES_AVAILABLE', 'REMOTE_TASK_ERROR', 'TOO_MANY_REQUESTS_FAILED', 'PAGE_TRANSPORT_TIMEOUT']);

/** Maps any error thrown while serving a request to the answer the client gets. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof TrinoQueryError) return fromTrino(err);
  if (err instanceof PipelineError) {
    switch (err.code) {
      case 'dependency_unavailable':
        return new ApiError('trino_unavailable', 'Trino is unavailable; try again later', { cause: err });
      case 'timeout':
        return new ApiError('timeout', err.message, { cause: err });
      case 'aborted':
        return new ApiError('client_closed', 'the client closed the connection', { cause: err });
      default:
        break;
    }
  }
  const fastify = err as { code?: string; statusCode?: number; validation?: unknown; message?: string };
  if (fastify?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError('body_too_large', 'request body too large');
  if (fastify?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError('unsupported_media_type', 'send the body as application/json');
  if (fastify?.validation) return new ApiError('invalid_request', fastify.message ?? 'invalid request');
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return new ApiError('invalid_request', fastify.message ?? 'invalid request');
  }
  return new ApiError('internal', 'internal error', { cause: err });
}

function fromTrino(err: TrinoQueryError): ApiError {
  const { info } = err;
  const message = info.message;
  const position = info.errorLocation ? { line: info.errorLocation.lineNumber, column: info.errorLocation.columnNumber } : undefined;
  const details = { trino: { errorName: info.errorName, errorType: info.errorType, queryId: err.queryId } };
  const extra = { ...(position ? { position } : {}), details, cause: err };
  if (info.errorName === 'PERMISSION_DENIED') return new ApiError('access_denied', message, extra);
  if (info.errorName === 'EXCEEDED_SCAN_LIMIT') return new ApiError('scan_limit_exceeded', message, extra);
  if (TRINO_TIMEOUTS.has(info.errorName)) return new ApiError('timeout', message, extra);
  if (TRINO_UNAVAILABLE.has(info.errorName)) return new ApiError('trino_unavailable', message, extra);
  if (info.errorName === 'SYNTAX_ERROR') return new ApiError('syntax_error', message, extra);
  if (info.errorType === 'USER_ERROR') return new ApiError('query_error', message, extra);
  if (info.errorType === 'INSUFFICIENT_RESOURCES') return new ApiError('resource_limit_exceeded', message, extra);
  return new ApiError('trino_error', message, extra);
}
