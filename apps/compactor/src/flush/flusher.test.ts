import { Readable } from 'node:stream';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { Client as S3Client } from 'minio';
import { PipelineError } from '@pipeline/runtime';
import { encodeParquet, readAvroContainer, stringifyJsonBig, parseJsonBig, type JdbcCatalog, type TableMetadataJson } from '@pipeline/lake';
import { LATE_HEADERS, buildDlqHeaders, encodeFramedValue } from '@pipeline/schemas';
import type { BufferedRecord, TableKind, TakenBuffer } from '../buffer/buffers';
import { createCompactorMetrics } from '../metrics';
import type { ColumnSpec } from '../tables/columns';
import { DLQ_COLUMNS, DLQ_PARTITIONING, EVENT_BASE_COLUMNS, EVENT_PARTITIONING, LATE_COLUMNS, LATE_PARTITIONING } from '../tables/definitions';
import { TableManager } from '../tables/table-manager';
import type { Rejected } from './dlq';
import { createFlusher } from './flusher';

const LOCATION = 's3://lake/warehouse/ev/events-1';

interface Layout {
  columns: ColumnSpec[];
  partitionSpec: Array<{ name: string; transform: string; 'source-id': number; 'field-id': number }>;
}

// The events table as Trino made it, with prop_url already added.
const EVENTS_LAYOUT: Layout = {
  columns: [...EVENT_BASE_COLUMNS, { name: 'prop_url', kind: 'string' }],
  partitionSpec: [{ name: 'occurred_at_day', transform: 'day', 'source-id': 3, 'field-id': 1000 }, { name: 'event_type', transform: 'identity', 'source-id': 2, 'field-id': 1001 }],
};
const DLQ_LAYOUT: Layout = { columns: DLQ_COLUMNS, partitionSpec: [{ name: 'failed_at_day', transform: 'day', 'source-id': 1, 'field-id': 1000 }] };
const LATE_LAYOUT: Layout = { columns: LATE_COLUMNS, partitionSpec: [{ name: 'occurred_at_day', transform: 'day', 'source-id': 3, 'field-id': 1000 }] };

/** An in-memory table as Trino would have created it (field ids by position). */
function world(offsets?: Record<string, Record<string, string>>, layout: Layout = EVENTS_LAYOUT) {
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
  const fields = layout.columns.map((c, i) => ({
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
    'partition-specs': [{ 'spec-id': 0, fields: layout.partitionSpec }],
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
    definition: (name, kind) =>
      kind === 'dlq' ? { name, columns: DLQ_COLUMNS, partitioning: DLQ_PARTITIONING } : kind === 'late' ? { name, columns: LATE_COLUMNS, partitioning: LATE_PARTITIONING } : { name, columns: EVENT_BASE_COLUMNS, partitioning: EVENT_PARTITIONING },
    commitKafkaOffsets: async (o) => void committed.push(...o),
    onFenced: (t, p, n) => void fenced.push([t, p, n]),
    encoder: { encode: async (table, opts) => encodeParquet(table, opts) },
    rowGroupRows: 1024,
    partSize: 5 * 1024 * 1024,
    retryMaxDelayMs: 10,
    signal: new AbortController().signal,
  });
  return { flusher, dlq, committed, fenced };
}

const taken = (records: BufferedRecord[], kind: TableKind = 'events'): TakenBuffer => ({ table: 'events', kind, records, bytes: 0, memory: 0, since: 0 });

const FAILED_AT = Date.parse('2026-11-28T12:00:00.000Z');

function dlqRecord(n: number, value: Buffer, headers?: BufferedRecord['headers']): BufferedRecord {
  return { topic: 'dlq', partition: 0, offset: BigInt(n), value, key: null, timestampMs: FAILED_AT, ...(headers ? { headers } : {}) };
}

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

  it('lands every DLQ record, garbage and missing headers included, and never sends one back to the DLQ', async () => {
    const w = world(undefined, DLQ_LAYOUT);
    const f = flusherFor(w);
    const headers = buildDlqHeaders({ originalTopic: 'events.raw', originalPartition: 1, originalOffset: '10', errorCode: 'invalid_input', attempt: 1, reason: 'bad' });
    const records = [dlqRecord(3, encodeFramedValue(1, { event_id: 'e1' }), headers), dlqRecord(4, Buffer.from([0xff, 0x00, 0xfe])), dlqRecord(5, Buffer.alloc(0), { 'x-dlq-error-code': '' })];
    expect(await f.flusher.flush(taken(records, 'dlq'))).toBe('committed');
    expect(f.dlq).toEqual([]);
    expect([...w.objects.keys()].filter((k) => k.endsWith('.parquet'))).toEqual(['lake/warehouse/ev/events-1/data/failed_at_day=2026-11-28/dlq-0-3-5.parquet']);
    expect(w.current().properties?.['pipeline.kafka-offsets']).toBe('{"dlq":{"0":"6"}}');
    expect(f.committed).toEqual([{ topic: 'dlq', partition: 0, offset: '6' }]);
  });

  it('fails a DLQ flush on a table of another layout instead of dead-lettering its records', async () => {
    const w = world(undefined, { ...DLQ_LAYOUT, columns: DLQ_COLUMNS.map((c) => (c.name === 'attempt' ? { name: 'attempt', kind: 'string' } : c)) });
    const f = flusherFor(w);
    await expect(f.flusher.flush(taken([dlqRecord(1, Buffer.from('x'))], 'dlq'))).rejects.toMatchObject({ code: 'schema_incompatible' });
    expect(f.dlq).toEqual([]);
    expect(f.committed).toEqual([]);
  });

  it('lands late events and sends an undecodable one to the DLQ', async () => {
    const w = world(undefined, LATE_LAYOUT);
    const f = flusherFor(w);
    const late = { ...event(8), topic: 'late', headers: { [LATE_HEADERS.aggregate]: 'per_type', [LATE_HEADERS.reason]: 'late', [LATE_HEADERS.watermark]: '' } };
    const broken: BufferedRecord = { topic: 'late', partition: 0, offset: 9n, value: Buffer.from('nope'), key: null, decodeError: 'undecodable value: not a pipeline value' };
    expect(await f.flusher.flush(taken([late, broken], 'late'))).toBe('committed');
    expect(f.dlq.map((r) => [r.rec.offset, r.code])).toEqual([[9n, 'invalid_input']]);
    expect([...w.objects.keys()].filter((k) => k.endsWith('.parquet'))).toEqual(['lake/warehouse/ev/events-1/data/occurred_at_day=2026-11-27/late-0-8-8.parquet']);
    expect(f.committed).toEqual([{ topic: 'late', partition: 0, offset: '10' }]);
  });
});
