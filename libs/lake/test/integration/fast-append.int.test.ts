import { randomBytes } from 'node:crypto';
import { LOCAL_STACK, LOCAL_URLS, loadConfig, s3Fragment, trinoFragment } from '@pipeline/config';
import { z } from 'zod';
import {
  appendFiles,
  applyTransform,
  buildArrowTableFromColumns,
  computeColumnStats,
  createJdbcCatalog,
  createS3Client,
  createTrino,
  currentFields,
  encodeParquet,
  loadTable,
  partitionPathValue,
  queryAll,
  readAvroContainer,
  readObject,
  uploadObject,
  type DataFile,
  type IcebergField,
} from '../../src';

// libs/lake is an adapter and may not use the testing lib: the few helpers it needs are here.
const settings = loadConfig(z.object({ ...s3Fragment, ...trinoFragment }), process.env);
const uniqueName = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
const cleanups: Array<() => Promise<unknown>> = [];
const cleanup = {
  add: (fn: () => Promise<unknown>) => void cleanups.push(fn),
  run: async () => {
    while (cleanups.length > 0) await cleanups.pop()?.().catch(() => undefined);
  },
};

const s3 = createS3Client(settings);
const trino = createTrino(settings);
const catalog = createJdbcCatalog({ CATALOG_JDBC_URL: `${LOCAL_URLS.postgres}/${LOCAL_STACK.postgres.catalogDatabase}`, CATALOG_NAME: 'lake' });
const schema = uniqueName('fastappend');
const sql = (statement: string) => queryAll(trino, statement);

beforeAll(async () => {
  await sql(`CREATE SCHEMA lake.${schema}`);
  cleanup.add(() => sql(`DROP SCHEMA lake.${schema}`));
});
afterAll(async () => {
  await cleanup.run();
  await catalog.close();
});

async function writeFile(table: string, fields: IcebergField[], rows: Array<Record<string, unknown>>, name: string): Promise<DataFile> {
  const loaded = await loadTable(catalog, s3, schema, table);
  if (!loaded) throw new Error('no table');
  const columns = fields.map((f) => rows.map((r) => r[f.name]));
  const bytes = encodeParquet(buildArrowTableFromColumns(fields, columns));
  const day = applyTransform('day', 'timestamptz', rows[0]?.['occurred_at']);
  const type = rows[0]?.['event_type'];
  const key = `${loaded.metadata.location.replace(`s3://${settings.S3_BUCKET}/`, '')}/data/occurred_at_day=${partitionPathValue('day', day)}/event_type=${String(type)}/${name}.parquet`;
  await uploadObject(s3, settings.S3_BUCKET, key, bytes);
  return {
    path: `s3://${settings.S3_BUCKET}/${key}`,
    sizeBytes: bytes.length,
    recordCount: rows.length,
    partition: { occurred_at_day: day, event_type: type },
    stats: computeColumnStats(fields, columns, rows.length),
  };
}

describe('fast append into a partitioned Iceberg table of the JDBC catalog', () => {
  it('commits files that Trino reads by field id, with partitions, stats, summary and conflict retries', async () => {
    const table = 'events';
    await sql(
      `CREATE TABLE lake.${schema}.${table} (event_id varchar, event_type varchar, occurred_at timestamp(6) with time zone, n bigint, amount double, ok boolean, _kafka_offset bigint)
       WITH (partitioning = ARRAY['day(occurred_at)', 'event_type'])`,
    );
    cleanup.add(() => sql(`DROP TABLE lake.${schema}.${table}`));
    const loaded = await loadTable(catalog, s3, schema, table);
    if (!loaded) throw new Error('table not in the catalog');
    const fields = currentFields(loaded.metadata);
    // The file's column names differ from the table's: only the ids can map them.
    const fileFields = fields.map((f) => ({ ...f, name: `f_${f.name}` }));
    const rowsA = [
      { f_event_id: 'a1', f_event_type: 'click', f_occurred_at: '2026-11-27T10:00:00.123Z', f_n: 9007199254740993n, f_amount: 1.5, f_ok: true, f__kafka_offset: 10 },
      { f_event_id: 'a2', f_event_type: 'click', f_occurred_at: '2026-11-27T23:59:59.999Z', f_n: null, f_amount: null, f_ok: false, f__kafka_offset: 11 },
    ];
    const rowsB = [{ f_event_id: 'b1', f_event_type: 'page_view', f_occurred_at: '2026-11-26T01:00:00.000Z', f_n: 3, f_amount: 2, f_ok: null, f__kafka_offset: 12 }];
    const fileRows = (rows: Array<Record<string, unknown>>) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.slice(2), v])));
    const fileA = await writeFile(table, fields, fileRows(rowsA), 'a');
    const fileB = await writeFile(table, fields, fileRows(rowsB), 'b');
    // Write with the renamed fields to prove mapping by id.
    const renamed = fileFields.map((f) => rowsA.map((r) => r[f.name as keyof (typeof rowsA)[0]]));
    const bytes = encodeParquet(buildArrowTableFromColumns(fileFields, renamed));
    const keyA = fileA.path.replace(`s3://${settings.S3_BUCKET}/`, '');
    await uploadObject(s3, settings.S3_BUCKET, keyA, bytes);
    fileA.sizeBytes = bytes.length;

    const first = await appendFiles({ catalog, s3, namespace: schema, table, files: [fileA], summary: () => ({ 'pipeline.kafka-offsets': '{"t":{"0":12}}' }) });
    expect(first.attempts).toBe(1);
    // A concurrent commit: Trino inserts between our read and our swap is simulated by racing two appends.
    const [second, third] = await Promise.all([
      appendFiles({ catalog, s3, namespace: schema, table, files: [fileB] }),
      sql(`INSERT INTO lake.${schema}.${table} (event_id, event_type, occurred_at) VALUES ('t1', 'click', TIMESTAMP '2026-11-27 12:00:00 UTC')`),
    ]);
    expect(second.sequenceNumber).toBeGreaterThan(first.sequenceNumber);
    expect(third.rows.length).toBeGreaterThanOrEqual(0);

    const rows = await sql(`SELECT event_id, event_type, CAST(n AS varchar), amount, ok, to_iso8601(occurred_at), _kafka_offset FROM lake.${schema}.${table} ORDER BY event_id`);
    expect(rows.rows).toEqual([
      ['a1', 'click', '9007199254740993', 1.5, true, '2026-11-27T10:00:00.123000Z', 10],
      ['a2', 'click', null, null, false, '2026-11-27T23:59:59.999000Z', 11],
      ['b1', 'page_view', '3', 2, null, '2026-11-26T01:00:00.000000Z', 12],
      ['t1', 'click', null, null, null, '2026-11-27T12:00:00.000000Z', null],
    ]);
    // Partition pruning uses our partition values and bounds.
    const pruned = await sql(`SELECT count(*) FROM lake.${schema}.${table} WHERE occurred_at >= TIMESTAMP '2026-11-27 00:00:00 UTC' AND event_type = 'click' AND _kafka_offset >= 11`);
    expect(pruned.rows).toEqual([[1]]);
    const files = await sql(`SELECT file_path, partition.occurred_at_day, partition.event_type, record_count FROM lake.${schema}."${table}$files" ORDER BY file_path`);
    expect(files.rows.filter((r) => String(r[0]).startsWith(fileA.path.slice(0, -10)) && String(r[0]).endsWith('/a.parquet'))).toEqual([[fileA.path, '2026-11-27', 'click', 2]]);
    const snaps = await sql(`SELECT operation, element_at(summary, 'pipeline.kafka-offsets'), element_at(summary, 'added-records') FROM lake.${schema}."${table}$snapshots" ORDER BY committed_at`);
    expect(snaps.rows).toContainEqual(['append', '{"t":{"0":12}}', '2']);
    // Manifest entries read back through Trino's $entries table (it rejects a null sort order id).
    const entries = await sql(`SELECT status, data_file.record_count, data_file.sort_order_id FROM lake.${schema}."${table}$entries" WHERE data_file.file_path = '${fileA.path}'`);
    expect(entries.rows).toEqual([[1, 2, 0]]);

    // The manifest carries the spec's field ids, so a second reader (any Iceberg library) can map it.
    const meta = (await loadTable(catalog, s3, schema, table))?.metadata;
    const snap = meta?.snapshots?.find((s) => BigInt(s['snapshot-id']) === first.snapshotId);
    if (!snap) throw new Error('snapshot missing');
    const list = readAvroContainer(await readObject(s3, settings.S3_BUCKET, snap['manifest-list'].replace(`s3://${settings.S3_BUCKET}/`, '')));
    expect(list.meta['format-version']).toBe('2');
    expect(list.records).toHaveLength(1);
  });
});
