export { ERROR_CODES, PipelineError, isRetriable, type ErrorCode } from './errors';
export { Lifecycle, type Component } from './lifecycle';
export { createLogger, REDACT_PATHS, type Logger } from './logger';
export { createMetricsRegistry } from './metrics';
export { registerOpsRoutes } from './ops-routes';
export { createOpsServer, httpComponent } from './ops-server';
export { Readiness } from './readiness';
export { retry, sleep, type RetryOptions } from './retry';
