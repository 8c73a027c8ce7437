/**
 * The load generator as other projects drive the collector with it (end-to-end suites, benches):
 * `@pipeline/producer/loadgen`, the one module of this app besides its config that may be imported.
 */
export { createEventMix, LOADGEN_SCHEMAS, type MixedEvent } from './event-mix';
export { registerLoadgenSchemas } from './register-schemas';
export { DEFAULT_CONCURRENCY, runLoad, summarizeLatency, type BurstOptions, type LoadAck, type LoadOptions, type LoadProgress, type LoadResult } from './runner';
