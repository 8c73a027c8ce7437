export { createS3Client, readObject, uploadObject, type S3Settings } from './object-store';
export {
  PARQUET_FIELD_ID_KEY,
  buildArrowTable,
  buildArrowTableFromColumns,
  encodeParquet,
  type IcebergField,
  type IcebergPrimitive,
  type ParquetOptions,
} from './parquet';
export { ParquetEncoder, type ParquetEncoderOptions } from './parquet-encoder';
export { createTrino, queryAll, quoteIdent, quoteLiteral, type QueryResult, type TrinoSettings } from './trino';
export { loadTableMetadata, parseCurrentSchema, parseS3Location } from './iceberg-metadata';
export { readAvroContainer, writeAvroContainer } from './iceberg/avro';
export { createJdbcCatalog, type CatalogSettings, type JdbcCatalog } from './iceberg/catalog';
export { appendFiles, loadTable, type AppendOptions, type AppendResult, type DataFile } from './iceberg/fast-append';
export { parseJsonBig, stringifyJsonBig } from './iceberg/json';
export { computeColumnStats, type ColumnStats } from './iceberg/stats';
export {
  currentFields,
  currentSnapshot,
  defaultSpec,
  readTableMetadata,
  snapshotAncestry,
  type LoadedTable,
  type SnapshotJson,
  type TableMetadataJson,
} from './iceberg/table-metadata';
export { applyTransform, partitionPathValue, serializeBound, type PartitionSpecField } from './iceberg/values';
