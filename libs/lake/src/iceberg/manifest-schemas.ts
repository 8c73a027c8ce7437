/**
 * Avro schemas of Iceberg v2 manifests and manifest lists, with the spec's field ids
 * (https://iceberg.apache.org/spec/#manifests). Readers map columns by these ids.
 */

export interface PartitionFieldType {
  name: string;
  fieldId: number;
  /** Avro type of the partition value (without the null branch). */
  avro: 'int' | 'long' | 'string' | 'boolean' | 'double' | { type: 'int'; logicalType: 'date' };
}

function kvMap(fieldId: number, keyId: number, valueId: number, value: 'long' | 'bytes') {
  return {
    type: ['null', { type: 'array', logicalType: 'map', items: { type: 'record', name: `k${keyId}_v${valueId}`, fields: [{ name: 'key', type: 'int', 'field-id': keyId }, { name: 'value', type: value, 'field-id': valueId }] } }],
    default: null,
    'field-id': fieldId,
  };
}

/** The `manifest_entry` Avro schema for a table whose partition tuple has `partitionFields`. */
export function manifestEntrySchema(partitionFields: readonly PartitionFieldType[]): object {
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: ['null', 'long'], default: null, 'field-id': 1 },
      { name: 'sequence_number', type: ['null', 'long'], default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: ['null', 'long'], default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            {
              name: 'partition',
              'field-id': 102,
              type: { type: 'record', name: 'r102', fields: partitionFields.map((f) => ({ name: f.name, type: ['null', f.avro], default: null, 'field-id': f.fieldId })) },
            },
            { name: 'record_count', type: 'long', 'field-id': 103 },
            { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
            { name: 'column_sizes', ...kvMap(108, 117, 118, 'long') },
            { name: 'value_counts', ...kvMap(109, 119, 120, 'long') },
            { name: 'null_value_counts', ...kvMap(110, 121, 122, 'long') },
            { name: 'nan_value_counts', ...kvMap(137, 138, 139, 'long') },
            { name: 'lower_bounds', ...kvMap(125, 126, 127, 'bytes') },
            { name: 'upper_bounds', ...kvMap(128, 129, 130, 'bytes') },
            { name: 'key_metadata', type: ['null', 'bytes'], default: null, 'field-id': 131 },
            { name: 'split_offsets', type: ['null', { type: 'array', items: 'long', 'element-id': 133 }], default: null, 'field-id': 132 },
            { name: 'equality_ids', type: ['null', { type: 'array', items: 'int', 'element-id': 136 }], default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: ['null', 'int'], default: null, 'field-id': 140 },
          ],
        },
      },
    ],
  };
}

/** The `manifest_file` Avro schema of a v2 manifest list. */
export const MANIFEST_FILE_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: 'long', 'field-id': 515 },
    { name: 'min_sequence_number', type: 'long', 'field-id': 516 },
    { name: 'added_snapshot_id', type: 'long', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', 'field-id': 514 },
    {
      name: 'partitions',
      type: [
        'null',
        {
          type: 'array',
          'element-id': 508,
          items: {
            type: 'record',
            name: 'r508',
            fields: [
              { name: 'contains_null', type: 'boolean', 'field-id': 509 },
              { name: 'contains_nan', type: ['null', 'boolean'], default: null, 'field-id': 518 },
              { name: 'lower_bound', type: ['null', 'bytes'], default: null, 'field-id': 510 },
              { name: 'upper_bound', type: ['null', 'bytes'], default: null, 'field-id': 511 },
            ],
          },
        },
      ],
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: ['null', 'bytes'], default: null, 'field-id': 519 },
  ],
} as const;

/** One entry of a manifest list (field names as in the spec; longs as BigInt). */
export interface ManifestFile {
  manifest_path: string;
  manifest_length: bigint;
  partition_spec_id: number;
  content: number;
  sequence_number: bigint;
  min_sequence_number: bigint;
  added_snapshot_id: bigint;
  added_files_count: number;
  existing_files_count: number;
  deleted_files_count: number;
  added_rows_count: bigint;
  existing_rows_count: bigint;
  deleted_rows_count: bigint;
  partitions: Array<{ contains_null: boolean; contains_nan: boolean | null; lower_bound: Buffer | null; upper_bound: Buffer | null }> | null;
  key_metadata: Buffer | null;
}
