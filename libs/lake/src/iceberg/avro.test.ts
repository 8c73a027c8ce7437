import { readAvroContainer, writeAvroContainer } from './avro';
import { MANIFEST_FILE_SCHEMA, manifestEntrySchema } from './manifest-schemas';

describe('Avro container files', () => {
  it.each(['deflate', 'null'] as const)('round-trips manifest-list records with BigInt longs and header metadata (%s)', (codec) => {
    const record = {
      manifest_path: 's3://lake/t/metadata/m0.avro',
      manifest_length: 1234n,
      partition_spec_id: 0,
      content: 0,
      sequence_number: 7n,
      min_sequence_number: 7n,
      added_snapshot_id: 3982219180747027829n,
      added_files_count: 2,
      existing_files_count: 0,
      deleted_files_count: 0,
      added_rows_count: 9007199254740993n,
      existing_rows_count: 0n,
      deleted_rows_count: 0n,
      partitions: [{ contains_null: false, contains_nan: null, lower_bound: Buffer.from([1, 0, 0, 0]), upper_bound: null }],
      key_metadata: null,
    };
    const bytes = writeAvroContainer(MANIFEST_FILE_SCHEMA, [record, { ...record, partitions: null }], { 'snapshot-id': '1', 'format-version': '2' }, codec);
    expect(bytes.subarray(0, 4)).toEqual(Buffer.from('Obj\x01', 'latin1'));
    const back = readAvroContainer(bytes);
    expect(back.meta['format-version']).toBe('2');
    expect(back.meta['avro.codec']).toBe(codec);
    // The schema goes to the header verbatim: readers map Iceberg fields by these ids.
    expect(JSON.stringify(back.schema)).toContain('"field-id":503');
    expect(back.records).toEqual([record, { ...record, partitions: null }]);
  });

  it('writes manifest entries whose partition tuple follows the spec', () => {
    const schema = manifestEntrySchema([
      { name: 'occurred_at_day', fieldId: 1000, avro: { type: 'int', logicalType: 'date' } },
      { name: 'event_type', fieldId: 1001, avro: 'string' },
    ]);
    const entry = {
      status: 1,
      snapshot_id: null,
      sequence_number: null,
      file_sequence_number: null,
      data_file: {
        content: 0,
        file_path: 's3://lake/t/data/a.parquet',
        file_format: 'PARQUET',
        partition: { occurred_at_day: 20419, event_type: 'click' },
        record_count: 2n,
        file_size_in_bytes: 1016n,
        column_sizes: null,
        value_counts: [{ key: 1, value: 2n }],
        null_value_counts: [{ key: 1, value: 0n }],
        nan_value_counts: null,
        lower_bounds: [{ key: 1, value: Buffer.from('a') }],
        upper_bounds: [{ key: 1, value: Buffer.from('b') }],
        key_metadata: null,
        split_offsets: null,
        equality_ids: null,
        sort_order_id: null,
      },
    };
    const back = readAvroContainer(writeAvroContainer(schema, [entry], {}));
    expect(back.records).toEqual([entry]);
  });

  it('rejects what is not an Avro file', () => {
    expect(() => readAvroContainer(Buffer.from('PAR1'))).toThrow('not an Avro container file');
  });
});
