/** The closed list of error codes that cross component boundaries. */
export const ERROR_CODES = [
  'config_invalid',
  'dependency_unavailable',
  'timeout',
  'aborted',
  'invalid_input',
  'schema_incompatible',
  'conflict',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const RETRIABLE_CODES: ReadonlySet<ErrorCode> = new Set(['dependency_unavailable', 'timeout', 'conflict']);

/** Base error of the pipeline: a code from {@link ERROR_CODES}, whether a retry may help, and the cause. */
export class PipelineError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PipelineError';
    this.code = code;
    this.retriable = opts.retriable ?? RETRIABLE_CODES.has(code);
  }
}

const TRANSIENT_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Whether retrying may succeed. Total: walks `cause` chains, trusts PipelineError and kafkajs'
 * `retriable` flag, treats transient socket errors as retriable and everything unknown as not.
 */
export function isRetriable(err: unknown, depth = 0): boolean {
  if (depth > 10 || err === null || typeof err !== 'object') return false;
  const e = err as { retriable?: unknown; code?: unknown; cause?: unknown; name?: unknown };
  if (err instanceof PipelineError) return err.retriable;
  if (typeof e.retriable === 'boolean' && e.retriable) return true;
  if (typeof e.code === 'string' && TRANSIENT_SOCKET_CODES.has(e.code)) return true;
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return false;
  return e.cause !== undefined ? isRetriable(e.cause, depth + 1) : typeof e.retriable === 'boolean' ? e.retriable : false;
}
