import { PipelineError } from '@pipeline/runtime';

export interface RegisteredSchema {
  subject: string;
  id: number;
  version: number;
  schemaType: string;
  schema: string;
}

/** The two registry calls the collector makes (Confluent-compatible API). */
export interface RegistryClient {
  /** The latest version of `subject`, `undefined` when the subject does not exist. Rejects when the registry cannot answer. */
  latest(subject: string): Promise<RegisteredSchema | undefined>;
  subjects(): Promise<string[]>;
}

export interface RegistryClientOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  timeoutMs?: number;
}

/** A fetch-based client of a Confluent-compatible registry (Apicurio's /apis/ccompat/v7 included). */
export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const base = opts.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (opts.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`;
  const timeoutMs = opts.timeoutMs ?? 3_000;

  async function get(path: string): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new PipelineError('dependency_unavailable', `schema registry unreachable: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    if (res.status >= 500) throw new PipelineError('dependency_unavailable', `schema registry answered ${res.status}`);
    return { status: res.status, body };
  }

  return {
    async latest(subject) {
      const { status, body } = await get(`/subjects/${encodeURIComponent(subject)}/versions/latest`);
      if (status === 404) return undefined;
      if (status !== 200 || typeof body !== 'object' || body === null) throw new PipelineError('dependency_unavailable', `schema registry answered ${status} for ${subject}`);
      const b = body as Partial<RegisteredSchema>;
      if (typeof b.id !== 'number' || typeof b.schema !== 'string') throw new PipelineError('internal', `schema registry answer for ${subject} lacks id or schema`);
      return { subject, id: b.id, version: typeof b.version === 'number' ? b.version : 0, schemaType: b.schemaType ?? 'AVRO', schema: b.schema };
    },
    async subjects() {
      const { status, body } = await get('/subjects');
      if (status !== 200 || !Array.isArray(body)) throw new PipelineError('dependency_unavailable', `schema registry answered ${status} for /subjects`);
      return body.filter((s): s is string => typeof s === 'string');
    },
  };
}
