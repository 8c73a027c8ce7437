import { Readable } from 'node:stream';
import type { Client as S3Client } from 'minio';
import { readAvroContainer } from './avro';
import type { JdbcCatalog } from './catalog';
import { appendFiles, type DataFile } from './fast-append';
import { parseJsonBig, stringifyJsonBig } from './json';
import type { TableMetadataJson } from './table-metadata';

function fakeS3() {
  const objects = new Map<string, Buffer>();
  const s3 = {
    putObject: async (bucket: string, key: string, body: Buffer) => void objects.set(`${bucket}/${key}`, Buffer.from(body)),
    getObject: async (bucket: string, key: string) => {
      const body = objects.get(`${bucket}/${key}`);
      if (!body) throw Object.assign(new Error('NoSuchKey'), { code: 'NoSuchKey' });
      return Readable.from([body]);
    },
    removeObject: async (bucket: string, key: string) => void objects.delete(`${bucket}/${key}`),
  } as unknown as S3Client;
  return { s3, objects };
}

function fakeCatalog(initial: string, hooks: { beforeSwap?: (attempt: number) => 'lose' | 'throw-after-write' | undefined } = {}) {
  let location = initial;
  let swaps = 0;
  const catalog: JdbcCatalog = {
    metadataLocation: async () => location,
    swapMetadataLocation: async (_ns, _t, expected, next) => {
      swaps++;
      const hook = hooks.beforeSwap?.(swaps);
      if (hook === 'lose') return false;
      if (location !== expected) return false;
      location = next;
      if (hook === 'throw-after-write') throw new Error('connection lost');
      return true;
    },
    listTables: async () => [],
    ping: async () => undefined,
    close: async () => undefined,
  };
  return { catalog, get location() { return location; }, get swaps() { return swaps; } };
}

const LOCATION = 's3://lake/warehouse/ns/t-1';
const FIRST = `${LOCATION}/metadata/00000-a.metadata.json`;

function initialMetadata(): TableMetadataJson {
  return {
    'format-version': 2,
    'table-uuid': 'u',
    location: LOCATION,
    'last-sequence-number': 0,
    'last-updated-ms': 1,
    'last-column-id': 2,
    'current-schema-id': 0,
    schemas: [{ 'schema-id': 0, fields: [{ id: 1, name: 'ts', type: 'timestamptz', required: false }, { id: 2, name: 'kind', type: 'string', required: false }] }],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [{ name: 'ts_day', transform: 'day', 'source-id': 1, 'field-id': 1000 }, { name: 'kind', transform: 'identity', 'source-id': 2, 'field-id': 1001 }] }],
    properties: { 'write.format.default': 'PARQUET' },
    'current-snapshot-id': -1,
    snapshots: [],
  };
}

const file = (name: string, day: number, kind: string, rows: number): DataFile => ({
  path: `${LOCATION}/data/ts_day=x/kind=${kind}/${name}.parquet`,
  sizeBytes: 100 * rows,
  recordCount: rows,
  partition: { ts_day: day, kind },
});

async function setup(hooks?: Parameters<typeof fakeCatalog>[1]) {
  const { s3, objects } = fakeS3();
  objects.set(`lake/warehouse/ns/t-1/metadata/00000-a.metadata.json`, Buffer.from(stringifyJsonBig(initialMetadata())));
  const cat = fakeCatalog(FIRST, hooks);
  const read = (loc: string) => parseJsonBig((objects.get(loc.replace('s3://', '')) as Buffer).toString()) as TableMetadataJson;
  return { s3, objects, cat, read };
}

describe('appendFiles', () => {
  it('adds a snapshot whose manifest list carries the parent manifests, with totals, summary and properties', async () => {
    const { s3, cat, read, objects } = await setup();
    const first = await appendFiles({ catalog: cat.catalog, s3, namespace: 'ns', table: 't', files: [file('a', 20000, 'click', 2), file('b', 20001, 'view', 3)], summary: () => ({ 'x.offsets': '1' }), properties: () => ({ 'x.offsets': '1' }) });
    const second = await appendFiles({ catalog: cat.catalog, s3, namespace: 'ns', table: 't', files: [file('c', 20000, 'click', 5)] });
    expect(cat.location).toBe(second.metadataLocation);
    expect(second.metadataLocation).toMatch(/\/metadata\/00002-[0-9a-f-]+\.metadata\.json$/);
    const meta = read(second.metadataLocation);
    expect(meta['current-snapshot-id']).toBe(second.snapshotId);
    expect(meta['last-sequence-number']).toBe(2);
    expect(meta.properties).toEqual({ 'write.format.default': 'PARQUET', 'x.offsets': '1' });
    expect(meta['metadata-log']?.map((m) => m['metadata-file'])).toEqual([FIRST, first.metadataLocation]);
    const snap = meta.snapshots?.[1];
    expect(snap?.['parent-snapshot-id']).toBe(first.snapshotId);
    expect(snap?.summary).toMatchObject({ operation: 'append', 'added-records': '5', 'total-records': '10', 'total-data-files': '3', 'changed-partition-count': '1' });
    expect(meta.snapshots?.[0]?.summary['x.offsets']).toBe('1');
    const list = readAvroContainer(objects.get(String(snap?.['manifest-list']).replace('s3://', '')) as Buffer);
    expect(list.records.map((r) => [r['added_snapshot_id'], r['sequence_number'], r['added_rows_count']])).toEqual([
      [second.snapshotId, 2n, 5n],
      [first.snapshotId, 1n, 5n],
    ]);
    // Partition summaries of the first manifest: days 20000..20001, kinds click..view.
    const parts = list.records[1]?.['partitions'] as Array<{ lower_bound: Buffer; upper_bound: Buffer }>;
    expect(parts[0]?.lower_bound.readInt32LE()).toBe(20000);
    expect(parts[0]?.upper_bound.readInt32LE()).toBe(20001);
    expect(parts[1]?.upper_bound.toString()).toBe('view');
  });

  it('retries a lost compare-and-set on the new table state and cleans up its own files', async () => {
    const { s3, cat, objects } = await setup({ beforeSwap: (n) => (n === 1 ? 'lose' : undefined) });
    const result = await appendFiles({ catalog: cat.catalog, s3, namespace: 'ns', table: 't', files: [file('a', 1, 'k', 1)] });
    expect(result.attempts).toBe(2);
    const metadataFiles = [...objects.keys()].filter((k) => k.endsWith('.metadata.json'));
    expect(metadataFiles).toHaveLength(2);
    expect([...objects.keys()].filter((k) => k.includes('/snap-'))).toHaveLength(1);
  });

  it('treats a swap whose answer was lost as done when the catalog shows it', async () => {
    const { s3, cat } = await setup({ beforeSwap: () => 'throw-after-write' });
    const result = await appendFiles({ catalog: cat.catalog, s3, namespace: 'ns', table: 't', files: [file('a', 1, 'k', 1)] });
    expect(cat.location).toBe(result.metadataLocation);
  });

  it('aborts when the summary callback refuses (fencing), before any swap', async () => {
    const { s3, cat } = await setup();
    await expect(
      appendFiles({ catalog: cat.catalog, s3, namespace: 'ns', table: 't', files: [file('a', 1, 'k', 1)], summary: () => { throw new Error('fenced'); } }),
    ).rejects.toThrow('fenced');
    expect(cat.swaps).toBe(0);
  });

  it('gives up with a retriable conflict after too many lost swaps', async () => {
    const { s3, cat } = await setup({ beforeSwap: () => 'lose' });
    await expect(appendFiles({ catalog: cat.catalog, s3, namespace: 'ns', table: 't', files: [file('a', 1, 'k', 1)], maxConflictRetries: 2 })).rejects.toMatchObject({ code: 'conflict', retriable: true });
  });
});
