/**
 * Event type -> JSON Schema of its `properties`, from the registry. The hot path only reads the
 * cache (`peek`, synchronous); a type the cache has never seen is fetched once on demand, a type
 * without a subject is remembered for `missTtlMs`, and known types are re-read every `refreshMs`
 * so a newly registered version applies without a restart.
 */
import { PipelineError, type Logger } from '@pipeline/runtime';
import { EVENT_TYPE_PATTERN, type JsonSchema, type PropertiesValidator, type SchemaRef } from '@pipeline/schemas';
import type { ProducerMetrics } from '../metrics';
import type { RegisteredSchema, RegistryClient } from './registry-client';

export type SchemaEntry =
  | { kind: 'schema'; ref: SchemaRef & { id: number }; version: number }
  /** No subject for this type (until `until`). */
  | { kind: 'none'; until: number }
  /** The registered schema cannot be used (not JSON Schema, does not compile): a server-side fault. */
  | { kind: 'broken'; id: number; reason: string };

export interface SchemaCacheOptions {
  client: RegistryClient;
  validator: PropertiesValidator;
  subjectPrefix: string;
  refreshMs: number;
  missTtlMs: number;
  log: Logger;
  metrics: ProducerMetrics;
  /** Most event types remembered; beyond it the oldest unknown types are forgotten first. Default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

export class SchemaCache {
  private readonly entries = new Map<string, SchemaEntry>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private registryUp: boolean | undefined;
  private readonly now: () => number;

  constructor(private readonly opts: SchemaCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  subjectOf(eventType: string): string {
    return this.opts.subjectPrefix + eventType;
  }

  /** The cached entry of `eventType`; `undefined` when it must be fetched first (never seen, or its miss expired). */
  peek(eventType: string): SchemaEntry | undefined {
    const entry = this.entries.get(eventType);
    if (entry?.kind === 'none' && entry.until <= this.now()) return undefined;
    return entry;
  }

  /** Fetches the given types from the registry. Rejects (dependency_unavailable) when the registry cannot answer. */
  async fetch(eventTypes: Iterable<string>): Promise<void> {
    const work: Promise<void>[] = [];
    for (const type of eventTypes) {
      let pending = this.inFlight.get(type);
      if (pending === undefined) {
        pending = this.load(type).finally(() => this.inFlight.delete(type));
        this.inFlight.set(type, pending);
      }
      work.push(pending);
    }
    const results = await Promise.allSettled(work);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Warms the cache with every subject under the prefix, then refreshes periodically. Never fails: a registry that is down only logs. */
  async start(): Promise<void> {
    try {
      const subjects = await this.opts.client.subjects();
      const types = subjects
        .filter((s) => s.startsWith(this.opts.subjectPrefix))
        .map((s) => s.slice(this.opts.subjectPrefix.length))
        .filter((t) => EVENT_TYPE_PATTERN.test(t));
      await this.fetch(types.slice(0, this.opts.maxEntries ?? 10_000));
      this.setRegistryUp(true);
    } catch (err) {
      this.setRegistryUp(false, err);
    }
    const tick = () => {
      this.refreshing = this.refresh().finally(() => {
        this.refreshing = undefined;
        if (this.timer !== undefined) this.schedule(tick);
      });
    };
    this.schedule(tick);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.refreshing;
  }

  private schedule(tick: () => void): void {
    this.timer = setTimeout(tick, this.opts.refreshMs);
    this.timer.unref();
  }

  /** Re-reads every type that has a schema (or a broken one), so new versions apply. */
  private async refresh(): Promise<void> {
    const types = [...this.entries].filter(([, e]) => e.kind !== 'none').map(([t]) => t);
    try {
      for (let i = 0; i < types.length; i += 8) await this.fetch(types.slice(i, i + 8));
      this.setRegistryUp(true);
    } catch (err) {
      this.setRegistryUp(false, err);
    }
  }

  private async load(eventType: string): Promise<void> {
    let found: RegisteredSchema | undefined;
    try {
      found = await this.opts.client.latest(this.subjectOf(eventType));
    } catch (err) {
      this.opts.metrics.schemaFetches.inc({ outcome: 'error' });
      throw err instanceof PipelineError ? err : new PipelineError('dependency_unavailable', 'schema registry lookup failed', { cause: err });
    }
    if (found === undefined) {
      this.opts.metrics.schemaFetches.inc({ outcome: 'missing' });
      this.set(eventType, { kind: 'none', until: this.now() + this.opts.missTtlMs });
      return;
    }
    this.opts.metrics.schemaFetches.inc({ outcome: 'found' });
    const current = this.entries.get(eventType);
    if (current?.kind === 'schema' && current.ref.id === found.id) return;
    if (current?.kind === 'broken' && current.id === found.id) return;
    this.set(eventType, this.compile(found));
  }

  private compile(found: RegisteredSchema): SchemaEntry {
    if (found.schemaType !== 'JSON') return this.broken(found, `schema type ${found.schemaType} is not JSON`);
    let schema: JsonSchema;
    try {
      schema = JSON.parse(found.schema) as JsonSchema;
    } catch {
      return this.broken(found, 'schema text is not JSON');
    }
    const ref = { id: found.id, schema };
    try {
      this.opts.validator.compile(ref);
    } catch (err) {
      return this.broken(found, (err as Error).message);
    }
    return { kind: 'schema', ref, version: found.version };
  }

  private broken(found: RegisteredSchema, reason: string): SchemaEntry {
    this.opts.log.error({ subject: found.subject, schemaId: found.id, reason }, 'registered schema cannot be used; events of this type get 503');
    return { kind: 'broken', id: found.id, reason };
  }

  private set(eventType: string, entry: SchemaEntry): void {
    this.entries.delete(eventType);
    this.entries.set(eventType, entry);
    const max = this.opts.maxEntries ?? 10_000;
    if (this.entries.size <= max) return;
    for (const [type, e] of this.entries) {
      if (this.entries.size <= max) break;
      if (e.kind === 'none') this.entries.delete(type);
    }
    // Only schemas left and still too many: drop the least recently set.
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value as string);
  }

  private setRegistryUp(up: boolean, err?: unknown): void {
    if (up === this.registryUp) return;
    this.registryUp = up;
    if (up) this.opts.log.info('schema registry reachable');
    else this.opts.log.warn({ err }, 'schema registry unreachable; cached schemas stay in use');
  }
}
