import pino from 'pino';
import { Registry } from 'prom-client';
import { createPropertiesValidator } from '@pipeline/schemas';
import { waitFor } from '@pipeline/testing';
import { createProducerMetrics } from '../metrics';
import type { RegisteredSchema, RegistryClient } from './registry-client';
import { SchemaCache } from './schema-cache';

class FakeRegistry implements RegistryClient {
  subjectsByName = new Map<string, RegisteredSchema>();
  calls = 0;
  down = false;
  register(subject: string, id: number, schema: unknown, schemaType = 'JSON') {
    this.subjectsByName.set(subject, { subject, id, version: id, schemaType, schema: typeof schema === 'string' ? schema : JSON.stringify(schema) });
  }
  async latest(subject: string) {
    this.calls++;
    if (this.down) throw new Error('registry down');
    return this.subjectsByName.get(subject);
  }
  async subjects() {
    if (this.down) throw new Error('registry down');
    return [...this.subjectsByName.keys()];
  }
}

function make(registry: FakeRegistry, now: () => number = Date.now, refreshMs = 60_000) {
  return new SchemaCache({
    client: registry,
    validator: createPropertiesValidator(),
    subjectPrefix: 'p.',
    refreshMs,
    missTtlMs: 1_000,
    log: pino({ level: 'silent' }),
    metrics: createProducerMetrics(new Registry()),
    now,
  });
}

describe('SchemaCache', () => {
  it('warms with the subjects under its prefix and ignores the rest', async () => {
    const registry = new FakeRegistry();
    registry.register('p.page_view', 1, { type: 'object' });
    registry.register('other-value', 2, { type: 'object' });
    const cache = make(registry);
    await cache.start();
    expect(cache.peek('page_view')).toMatchObject({ kind: 'schema', ref: { id: 1 } });
    expect(cache.peek('other-value')).toBeUndefined();
    await cache.stop();
  });

  it('remembers a missing subject for the miss TTL only, then asks again', async () => {
    let now = 0;
    const registry = new FakeRegistry();
    const cache = make(registry, () => now);
    await cache.fetch(['click']);
    expect(cache.peek('click')).toEqual({ kind: 'none', until: 1_000 });
    registry.register('p.click', 3, { type: 'object' });
    expect(cache.peek('click')?.kind).toBe('none');
    now = 1_000;
    expect(cache.peek('click')).toBeUndefined();
    await cache.fetch(['click']);
    expect(cache.peek('click')).toMatchObject({ kind: 'schema', ref: { id: 3 } });
  });

  it('picks up a new version on refresh, without a restart', async () => {
    const registry = new FakeRegistry();
    registry.register('p.buy', 1, { type: 'object' });
    const cache = make(registry, Date.now, 10);
    await cache.start();
    registry.register('p.buy', 9, { type: 'object', required: ['sku'] });
    await waitFor(() => (cache.peek('buy') as { ref?: { id: number } } | undefined)?.ref?.id === 9, { timeoutMs: 2_000, intervalMs: 5, what: 'the new version' });
    await cache.stop();
  });

  it('marks schemas it cannot use as broken (not JSON Schema, or not compilable)', async () => {
    const registry = new FakeRegistry();
    registry.register('p.avro', 4, '{"type":"record"}', 'AVRO');
    registry.register('p.bad', 5, { type: 'object', properties: { a: { type: 'no-such-type' } } });
    const cache = make(registry);
    await cache.fetch(['avro', 'bad']);
    expect(cache.peek('avro')).toMatchObject({ kind: 'broken', id: 4 });
    expect(cache.peek('bad')).toMatchObject({ kind: 'broken', id: 5 });
  });

  it('rejects when the registry is down, and keeps serving what it had', async () => {
    const registry = new FakeRegistry();
    registry.register('p.page_view', 1, { type: 'object' });
    const cache = make(registry);
    await cache.fetch(['page_view']);
    registry.down = true;
    await expect(cache.fetch(['new_type'])).rejects.toMatchObject({ code: 'dependency_unavailable', cause: expect.objectContaining({ message: 'registry down' }) });
    expect(cache.peek('page_view')?.kind).toBe('schema');
  });

  it('asks the registry once for concurrent lookups of the same type', async () => {
    const registry = new FakeRegistry();
    registry.register('p.page_view', 1, { type: 'object' });
    const cache = make(registry);
    await Promise.all([cache.fetch(['page_view']), cache.fetch(['page_view']), cache.fetch(['page_view'])]);
    expect(registry.calls).toBe(1);
  });
});
