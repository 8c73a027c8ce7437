import { PipelineError } from '@pipeline/runtime';

export interface SchemaById {
  /** The JSON Schema registered under `id` (ids are immutable, so answers are cached for good). */
  get(id: number): Promise<unknown>;
}

/**
 * Reads schemas by id from a Confluent-compatible registry (`GET /schemas/ids/{id}`), caching up
 * to `maxEntries`. Unreachable or 5xx: `dependency_unavailable` (retriable); unknown id:
 * `invalid_input`; a non-JSON schema type: `schema_incompatible`.
 */
export function createSchemaById(opts: { url: string; username?: string | undefined; password?: string | undefined; maxEntries: number; timeoutMs?: number }): SchemaById {
  const base = opts.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (opts.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  const cache = new Map<number, unknown>();
  return {
    async get(id) {
      if (cache.has(id)) return cache.get(id);
      let res: Response;
      try {
        res = await fetch(`${base}/schemas/ids/${id}`, { headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000) });
      } catch (err) {
        throw new PipelineError('dependency_unavailable', `schema registry unreachable: ${(err as Error).message}`, { cause: err });
      }
      if (res.status === 404) throw new PipelineError('invalid_input', `schema id ${id} is not in the registry`);
      if (!res.ok) throw new PipelineError('dependency_unavailable', `schema registry answered ${res.status} for schema id ${id}`);
      const body = (await res.json()) as { schema?: string; schemaType?: string };
      if (body.schemaType !== undefined && body.schemaType !== 'JSON') {
        throw new PipelineError('schema_incompatible', `schema id ${id} is ${body.schemaType}, the lake maps JSON Schema only`);
      }
      let schema: unknown;
      try {
        schema = JSON.parse(body.schema ?? 'null');
      } catch (err) {
        throw new PipelineError('schema_incompatible', `schema id ${id} is not valid JSON`, { cause: err });
      }
      if (cache.size >= opts.maxEntries) cache.delete(cache.keys().next().value as number);
      cache.set(id, schema);
      return schema;
    },
  };
}
