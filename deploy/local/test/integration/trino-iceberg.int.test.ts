import {
  buildArrowTable,
  createS3Client,
  createTrino,
  encodeParquet,
  loadTableMetadata,
  parseCurrentSchema,
  queryAll,
  type IcebergField,
} from '@pipeline/lake';
import { createCleanup, stackSettings, uniqueName } from '@pipeline/testing';

const settings = stackSettings();
const s3 = createS3Client(settings);
const trino = createTrino(settings);
const cleanup = createCleanup();
const schema = uniqueName('smoke');
const sql = (statement: string) => queryAll(trino, statement);

beforeAll(async () => {
  await sql(`CREATE SCHEMA lake.${schema}`);
  cleanup.add(() => sql(`DROP SCHEMA lake.${schema}`));
});
afterAll(() => cleanup.run());

describe('Trino 476 with the Iceberg JDBC catalog on the object store', () => {
  it('creates an Iceberg table, inserts and selects', async () => {
    await sql(`CREATE TABLE lake.${schema}.plain (id bigint, name varchar) WITH (format = 'PARQUET')`);
    cleanup.add(() => sql(`DROP TABLE lake.${schema}.plain`));
    await sql(`INSERT INTO lake.${schema}.plain VALUES (1, 'a'), (2, 'b')`);
    const result = await sql(`SELECT id, name FROM lake.${schema}.plain ORDER BY id`);
    expect(result.columns).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'name', type: 'varchar' },
    ]);
    expect(result.rows).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('reads back a Parquet file written by the project, committed with add_files, by Iceberg field id', async () => {
    const table = 'from_parquet';
    await sql(
      `CREATE TABLE lake.${schema}.${table} (event_id varchar, n bigint, amount double, ok boolean, ts timestamp(6) with time zone, day date)`,
    );
    cleanup.add(() => sql(`DROP TABLE lake.${schema}.${table}`));

    const columns = parseCurrentSchema(await loadTableMetadata(trino, s3, schema, table));
    expect(columns.map((c) => [c.name, c.type])).toEqual([
      ['event_id', 'string'],
      ['n', 'long'],
      ['amount', 'double'],
      ['ok', 'boolean'],
      ['ts', 'timestamptz'],
      ['day', 'date'],
    ]);

    // The file's own column names differ from the table's: only correct field ids make the values land.
    const fileColumns: IcebergField[] = columns.map((c) => ({ ...c, name: `file_${c.name}` }));
    const rows = [
      { file_event_id: 'e-1', file_n: 42, file_amount: 19.99, file_ok: true, file_ts: '2026-11-27T10:15:30.123Z', file_day: '2026-11-27' },
      { file_event_id: 'e-2', file_n: 9007199254740993n, file_amount: null, file_ok: false, file_ts: null, file_day: null },
    ];
    const bytes = encodeParquet(buildArrowTable(fileColumns, rows));
    const key = `staging/${schema}/${table}/part-00000.parquet`;
    await s3.putObject(settings.S3_BUCKET, key, Buffer.from(bytes), bytes.length);
    cleanup.add(() => s3.removeObject(settings.S3_BUCKET, key));

    await sql(
      `ALTER TABLE lake.${schema}.${table} EXECUTE add_files(location => 's3://${settings.S3_BUCKET}/staging/${schema}/${table}/', format => 'PARQUET')`,
    );

    const result = await sql(
      `SELECT event_id, CAST(n AS varchar), amount, ok, to_iso8601(ts), CAST(day AS varchar), typeof(n), typeof(ts), typeof(day) FROM lake.${schema}.${table} ORDER BY event_id`,
    );
    expect(result.rows).toEqual([
      ['e-1', '42', 19.99, true, '2026-11-27T10:15:30.123000Z', '2026-11-27', 'bigint', 'timestamp(6) with time zone', 'date'],
      // Beyond 2^53: compared as text, since JSON numbers would round it.
      ['e-2', '9007199254740993', null, false, null, null, 'bigint', 'timestamp(6) with time zone', 'date'],
    ]);

    const files = await sql(`SELECT record_count, file_format FROM lake.${schema}."${table}$files"`);
    expect(files.rows).toEqual([[2, 'PARQUET']]);
  });
});
