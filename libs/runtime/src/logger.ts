import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs, whatever a caller passes. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.secretKey',
  '*.accessKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'headers["x-write-key"]',
  'req.headers.authorization',
  'req.headers["x-write-key"]',
  'token',
  '*.token',
];

/** The root logger of an app: JSON lines on stdout, secrets redacted by path. */
export function createLogger(opts: { name: string; level?: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { app: opts.name },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
