import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createCleanup, stackSettings, uniqueName } from '@pipeline/testing';

const settings = stackSettings();
const cleanup = createCleanup();
afterAll(() => cleanup.run());

const pageViewV1 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'page_view',
  type: 'object',
  properties: { url: { type: 'string' }, duration_ms: { type: 'integer', minimum: 0 } },
  required: ['url'],
  additionalProperties: false,
};

describe('schema registry (Apicurio, Confluent-compatible API)', () => {
  it('registers a JSON Schema, fetches it back, and encodes/decodes in the wire format', async () => {
    const registry = new SchemaRegistry({ host: settings.SCHEMA_REGISTRY_URL });
    const subject = `${uniqueName('smoke_page_view')}-value`;
    cleanup.add(async () => {
      await fetch(`${settings.SCHEMA_REGISTRY_URL}/subjects/${subject}`, { method: 'DELETE' });
      await fetch(`${settings.SCHEMA_REGISTRY_URL}/subjects/${subject}?permanent=true`, { method: 'DELETE' });
    });

    const { id } = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(pageViewV1) }, { subject });
    expect(id).toBeGreaterThan(0);
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    expect(JSON.parse(JSON.stringify(await registry.getSchema(id)))).toBeTruthy();

    const payload = { url: '/pricing', duration_ms: 1200 };
    const encoded = await registry.encode(id, payload);
    // Confluent wire format: magic byte 0, then the schema id as a 4-byte big-endian integer.
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual(payload);

    // The registry's schema is enforced on encode.
    await expect(registry.encode(id, { duration_ms: -1 })).rejects.toThrow();

    // Registering the same schema again is idempotent.
    const again = await registry.register({ type: SchemaType.JSON, schema: JSON.stringify(pageViewV1) }, { subject });
    expect(again.id).toBe(id);
  });
});
