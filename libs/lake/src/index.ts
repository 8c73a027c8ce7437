export { createS3Client, type S3Settings } from './object-store';
export { PARQUET_FIELD_ID_KEY, buildArrowTable, encodeParquet, type IcebergField, type IcebergPrimitive, type ParquetOptions } from './parquet';
export { createTrino, queryAll, quoteIdent, quoteLiteral, type QueryResult, type TrinoSettings } from './trino';
export { loadTableMetadata, parseCurrentSchema, parseS3Location } from './iceberg-metadata';
