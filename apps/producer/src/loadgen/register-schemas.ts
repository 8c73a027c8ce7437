import { LOADGEN_SCHEMAS } from './event-mix';

/** Registers the mix's schemas as `<prefix><event_type>` (idempotent: the registry returns the existing id). */
export async function registerLoadgenSchemas(registryUrl: string, prefix: string): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const [type, schema] of Object.entries(LOADGEN_SCHEMAS)) {
    const res = await fetch(`${registryUrl.replace(/\/+$/, '')}/subjects/${encodeURIComponent(prefix + type)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schemaType: 'JSON', schema: JSON.stringify(schema) }),
    });
    if (!res.ok) throw new Error(`registering ${prefix + type} failed: ${res.status} ${await res.text()}`);
    ids[type] = ((await res.json()) as { id: number }).id;
  }
  return ids;
}
