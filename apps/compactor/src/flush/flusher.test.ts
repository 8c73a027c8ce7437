import { Readable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Client as S3Client } from 'minio';
import { PipelineError } from '@pipeline/runtime';
import { readAvroContainer, stringifyJsonBig, parseJsonBig, type JdbcCatalog, type TableMetadataJson } from '@pipeline/lake';
import { encodeFramedValue } from '@pipeline/schemas';
import type { BufferedRecord, TakenBuffer } from '../buffer/buffers';
import { createCompactorMetrics } from '../metrics';
import { EVENT_BASE_COLUMNS, EVENT_PARTITIONING } from '../tables/definitions';
import { TableManager } from '../tables/table-manager';
import type { Rejected } from './dlq';
import { createFlusher } from './flusher';

const LOCATION = 's3://lake/warehouse/ev/events-1';

/** An in-memory table as Trino would have created it (field ids by position, partitioned by day and type). */
function world(offsets?: Record<string, Record<string, string>>) {
  const objects = new Map<string, Buffer>();
  const s3 = {
    putObject: async (b: string, k: string, body: Buffer | Readable) => {
      if (body instanceof Readable) {
        const chunks: Buffer[] = [];
        for await (const c of body) chunks.push(c as Buffer);
        body = Buffer.concat(chunks);
      }
      objects.set(`${b}/${k}`, Buffer.from(body));
    },
    getObject: async (b: string, k: string) => Readable.from([objects.get(`${b}/${k}`) as Buffer]),
    removeObject: async (b: string, k: string) => void objects.delete(`${b}/${k}`),
  } as unknown as S3Client;
  // The table as Trino made it, with prop_url already added.
  const fields = [...EVENT_BASE_COLUMNS, { name: 'prop_url', kind: 'string' as const }].map((c, i) => ({
    id: i + 1,
    name: c.name,
    required: false,
    type: { string: 'string', json: 'string', long: 'long', int: 'int', double: 'double', boolean: 'boolean', timestamptz: 'timestamptz' }[c.kind],
  }));
  const metadata: TableMetadataJson = {
    'format-version': 2,
    'table-uuid': 'u',
    location: LOCATION,
    'last-sequence-number': 0,
    'last-updated-ms': 1,
    'last-column-id': fields.length,
    'current-schema-id': 0,
    schemas: [{ 'schema-id': 0, fields }],
    'default-spec-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: [{ name: 'occurred_at_day', transform: 'day', 'source-id': 3, 'field-id': 1000 }, { name: 'event_type', transform: 'identity', 'source-id': 2, 'field-id': 1001 }] }],
    properties: offsets ? { 'pipeline.kafka-offsets': JSON.stringify(offsets) } : {},
    'current-snapshot-id': -1,
    snapshots: [],
  };
  let location = `${LOCATION}/metadata/00000-a.metadata.json`;
  objects.set(location.replace('s3://', ''), Buffer.from(stringifyJsonBig(metadata)));
  const catalog: JdbcCatalog = {
    metadataLocation: async () => location,
    swapMetadataLocation: async (_n, _t, expected, next) => (location === expected ? ((location = next), true) : false),
    listTables: async () => ['events'],
    ping: async () => undefined,
    close: async () => undefined,
  };
  const ddl: string[] = [];
  const tables = new TableManager({ catalog, s3, trino: { run: async (sql) => (ddl.push(sql), { columns: [], rows: [] }) }, catalogName: 'lake', namespace: 'ev' });
  const current = () => parseJsonBig((objects.get(location.replace('s3://', '')) as Buffer).toString()) as TableMetadataJson;
  return { s3, catalog, tables, objects, current, ddl };
}

const SCHEMAS: Record<number, unknown> = { 1: { type: 'object', properties: { url: { type: 'string' } } } };

function event(n: number, schemaId = 1): BufferedRecord {
  const record = { event_id: `e${n}`, event_type: 'page_view', occurred_at: '2026-11-27T10:00:00.000Z', received_at: '2026-11-27T10:00:00.000Z', user_id: 'u', anonymous_id: null, properties: { url: '/x' }, context: {}, enrichment: { processed_at: '2026-11-27T10:00:00.000Z', ua_browser: null, ua_browser_version: null, ua_os: null, ua_device_type: null } };
  return { topic: 't', partition: 0, offset: BigInt(n), value: encodeFramedValue(schemaId, record), key: null, record, schemaId };
}

function flusherFor(w: ReturnType<typeof world>) {
  const dlq: Rejected[] = [];
  const committed: Array<{ topic: string; partition: number; offset: string }> = [];
  const fenced: Array<[string, number, bigint]> = [];
  const flusher = createFlusher({
    log: pino({ level: 'silent' }),
    metrics: createCompactorMetrics(new Registry()),
    s3: w.s3,
    catalog: w.catalog,
    namespace: 'ev',
    tables: w.tables,
    schemas: {
      get: async (id) => {
        if (!(id in SCHEMAS)) throw new PipelineError('invalid_input', `schema id ${id} is not in the registry`);
        return SCHEMAS[id];
      },
    },
    dlq: { send: async (r) => void dlq.push(...r) },
    faults: { hit: () => undefined },
    definition: (name) => ({ name, columns: EVENT_BASE_COLUMNS, partitioning: EVENT_PARTITIONING }),
    commitKafkaOffsets: async (o) => void committed.push(...o),
    onFenced: (t, p, n) => void fenced.push([t, p, n]),
    rowGroupRows: 1024,
    partSize: 5 * 1024 * 1024,
    retryMaxDelayMs: 10,
    signal: new AbortController().signal,
  });
  return { flusher, dlq, committed, fenced };
}

const taken = (records: BufferedRecord[]): TakenBuffer => ({ table: 'events', kind: 'events', records, bytes: 0, since: 0 });

describe('flusher', () => {
  it('commits one file per table partition and Kafka partition, records the high-water mark, then commits Kafka offsets', async () => {
    const w = world();
    const f = flusherFor(w);
    expect(await f.flusher.flush(taken([event(5), event(6), event(7)]))).toBe('committed');
    expect(w.ddl).toEqual([]);
    const meta = w.current();
    expect(meta.properties?.['pipeline.kafka-offsets']).toBe('{"t":{"0":"8"}}');
    expect(meta.snapshots?.[0]?.summary['pipeline.kafka-offsets']).toBe('{"t":{"0":"8"}}');
    const dataKeys = [...w.objects.keys()].filter((k) => k.endsWith('.parquet'));
    expect(dataKeys).toEqual(['lake/warehouse/ev/events-1/data/occurred_at_day=2026-11-27/event_type=page_view/t-0-5-7.parquet']);
    const list = readAvroContainer(w.objects.get(String(meta.snapshots?.[0]?.['manifest-list']).replace('s3://', '')) as Buffer);
    expect(list.records[0]?.['added_rows_count']).toBe(3n);
    expect(f.committed).toEqual([{ topic: 't', partition: 0, offset: '8' }]);
  });

  it('sends records of an unknown schema id to the DLQ and still commits the rest', async () => {
    const w = world();
    const f = flusherFor(w);
    expect(await f.flusher.flush(taken([event(1), event(2, 99)]))).toBe('committed');
    expect(f.dlq.map((r) => [r.rec.offset, r.code, r.reason])).toEqual([[2n, 'invalid_input', 'schema id 99 is not in the registry']]);
    expect(f.committed).toEqual([{ topic: 't', partition: 0, offset: '3' }]);
  });

  it('does not commit again what the table already holds (a commit whose answer was lost)', async () => {
    const w = world({ t: { '0': '8' } });
    const f = flusherFor(w);
    expect(await f.flusher.flush(taken([event(5), event(6), event(7)]))).toBe('already-committed');
    expect(w.current().snapshots).toEqual([]);
    expect(f.committed).toEqual([{ topic: 't', partition: 0, offset: '8' }]);
  });

  it('drops a flush another writer partly committed, deletes its files and re-reads from the table high-water mark', async () => {
    const w = world({ t: { '0': '6' } });
    const f = flusherFor(w);
    expect(await f.flusher.flush(taken([event(5), event(6), event(7)]))).toBe('fenced');
    expect(w.current().snapshots).toEqual([]);
    expect([...w.objects.keys()].filter((k) => k.endsWith('.parquet'))).toEqual([]);
    expect(f.fenced).toEqual([['t', 0, 6n]]);
    expect(f.committed).toEqual([]);
  });
});
