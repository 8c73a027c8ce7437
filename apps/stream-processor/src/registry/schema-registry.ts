import { PipelineError } from '@pipeline/runtime';
import type { JsonSchema, SchemaRef } from '@pipeline/schemas';

/** A registry schema with its numeric id. */
export interface RegistrySchema extends SchemaRef {
  id: number;
  schema: JsonSchema;
}

/**
 * The registry lookups of the processor. Schemas by id are immutable and cached for good; the latest
 * version of a subject is cached for `latestTtlMs`. Lookups that the registry answers "not found"
 * resolve to null (and are remembered for `missTtlMs`); an unreachable registry rejects with a
 * retriable PipelineError (`dependency_unavailable`).
 */
export interface SchemaRegistry {
  byId(id: number): Promise<RegistrySchema | null>;
  /** Latest version of the subject of `eventType` (`<subjectPrefix><eventType>`). */
  latest(eventType: string): Promise<RegistrySchema | null>;
  /** Cached answers only (no I/O): undefined when not cached. */
  cachedById(id: number): RegistrySchema | null | undefined;
  cachedLatest(eventType: string): RegistrySchema | null | undefined;
  /** Any answer at all from the registry (readiness probe). */
  ping(signal?: AbortSignal): Promise<void>;
}

export interface SchemaRegistryOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  subjectPrefix: string;
  latestTtlMs: number;
  missTtlMs?: number;
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

interface Cached {
  value: RegistrySchema | null;
  until: number;
}

export function createSchemaRegistry(opts: SchemaRegistryOptions): SchemaRegistry {
  const base = opts.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (opts.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const missTtlMs = opts.missTtlMs ?? 10_000;
  const now = opts.now ?? Date.now;
  const doFetch = opts.fetch ?? fetch;
  const ids = new Map<number, Cached>();
  const latest = new Map<string, Cached>();
  const inflight = new Map<string, Promise<RegistrySchema | null>>();

  async function get(path: string, signal?: AbortSignal): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, { headers, signal: signal ?? AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new PipelineError('dependency_unavailable', `schema registry unreachable: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    if (res.status >= 500 || res.status === 429) throw new PipelineError('dependency_unavailable', `schema registry answered ${res.status}`);
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  }

  function parseSchema(id: number, body: unknown, what: string): RegistrySchema {
    const b = body as { schema?: unknown; schemaType?: unknown } | undefined;
    if (typeof b?.schema !== 'string') throw new PipelineError('internal', `schema registry answer for ${what} lacks a schema`);
    if (b.schemaType !== undefined && b.schemaType !== 'JSON') throw new PipelineError('schema_incompatible', `${what} is a ${String(b.schemaType)} schema, not JSON`);
    let schema: JsonSchema;
    try {
      schema = JSON.parse(b.schema) as JsonSchema;
    } catch (err) {
      throw new PipelineError('schema_incompatible', `${what} is not valid JSON`, { cause: err });
    }
    return { id, schema };
  }

  function once(key: string, load: () => Promise<RegistrySchema | null>): Promise<RegistrySchema | null> {
    const running = inflight.get(key);
    if (running) return running;
    const p = load().finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  function fresh(cache: Map<string | number, Cached>, key: string | number): RegistrySchema | null | undefined {
    const hit = cache.get(key);
    if (hit === undefined || hit.until < now()) return undefined;
    return hit.value;
  }

  return {
    cachedById: (id) => fresh(ids as Map<string | number, Cached>, id),
    cachedLatest: (eventType) => fresh(latest as Map<string | number, Cached>, eventType),
    byId(id) {
      const hit = fresh(ids as Map<string | number, Cached>, id);
      if (hit !== undefined) return Promise.resolve(hit);
      return once(`id:${id}`, async () => {
        const { status, body } = await get(`/schemas/ids/${id}`);
        let value: RegistrySchema | null = null;
        if (status === 200) value = parseSchema(id, body, `schema ${id}`);
        else if (status !== 404) throw new PipelineError('dependency_unavailable', `schema registry answered ${status} for schema ${id}`);
        ids.set(id, { value, until: value === null ? now() + missTtlMs : Infinity });
        return value;
      });
    },
    latest(eventType) {
      const hit = fresh(latest as Map<string | number, Cached>, eventType);
      if (hit !== undefined) return Promise.resolve(hit);
      const subject = opts.subjectPrefix + eventType;
      return once(`latest:${eventType}`, async () => {
        const { status, body } = await get(`/subjects/${encodeURIComponent(subject)}/versions/latest`);
        let value: RegistrySchema | null = null;
        if (status === 200) {
          const id = (body as { id?: unknown }).id;
          if (typeof id !== 'number') throw new PipelineError('internal', `schema registry answer for ${subject} lacks an id`);
          value = parseSchema(id, body, `subject ${subject}`);
          ids.set(id, { value, until: Infinity });
        } else if (status !== 404) {
          throw new PipelineError('dependency_unavailable', `schema registry answered ${status} for ${subject}`);
        }
        latest.set(eventType, { value, until: now() + (value === null ? Math.min(missTtlMs, opts.latestTtlMs) : opts.latestTtlMs) });
        return value;
      });
    },
    async ping(signal) {
      await get('/subjects', signal);
    },
  };
}
