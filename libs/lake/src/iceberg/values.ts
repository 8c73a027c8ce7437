/**
 * Iceberg value handling the writer needs: partition transforms, partition paths, and the
 * binary single-value serialisation of bounds (https://iceberg.apache.org/spec/#binary-single-value-serialization).
 */
import { PipelineError } from '@pipeline/runtime';
import type { IcebergField, IcebergPrimitive } from '../parquet';
import type { PartitionFieldType } from './manifest-schemas';

export interface PartitionSpecField {
  name: string;
  transform: string;
  'source-id': number;
  'field-id': number;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Epoch milliseconds of a timestamp value as the lake passes it (ISO string, Date, or ms number). */
export function toEpochMs(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

/** Days since 1970-01-01 of a date value (ISO date string, Date, or a day number). */
export function toEpochDay(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  const ms = toEpochMs(value);
  return ms === null ? null : Math.floor(ms / DAY_MS);
}

/** The result type of a transform applied to a source column, as an Avro type for the manifest. */
export function partitionFieldType(field: PartitionSpecField, source: IcebergField): PartitionFieldType {
  const base = { name: field.name, fieldId: field['field-id'] };
  switch (field.transform) {
    case 'identity':
      switch (source.type) {
        case 'string':
          return { ...base, avro: 'string' };
        case 'int':
          return { ...base, avro: 'int' };
        case 'date':
          return { ...base, avro: { type: 'int', logicalType: 'date' } };
        case 'long':
        case 'timestamptz':
          return { ...base, avro: 'long' };
        case 'boolean':
          return { ...base, avro: 'boolean' };
        case 'double':
          return { ...base, avro: 'double' };
      }
      break;
    case 'day':
      return { ...base, avro: { type: 'int', logicalType: 'date' } };
    case 'month':
    case 'year':
    case 'hour':
      return { ...base, avro: 'int' };
  }
  throw new PipelineError('schema_incompatible', `partition transform ${field.transform} on ${source.type} is not supported by the writer`);
}

/** Applies a partition transform to a row value; null stays null. */
export function applyTransform(transform: string, type: IcebergPrimitive, value: unknown): number | string | boolean | bigint | null {
  if (value === null || value === undefined) return null;
  if (transform === 'identity') {
    switch (type) {
      case 'string':
        return String(value);
      case 'int':
      case 'double':
        return Number(value);
      case 'long':
        return BigInt(value as number);
      case 'boolean':
        return Boolean(value);
      case 'date':
        return toEpochDay(value);
      case 'timestamptz': {
        const ms = toEpochMs(value);
        return ms === null ? null : BigInt(ms) * 1000n;
      }
    }
  }
  const ms = type === 'date' ? (toEpochDay(value) ?? NaN) * DAY_MS : toEpochMs(value);
  if (ms === null || Number.isNaN(ms)) return null;
  const d = new Date(ms);
  switch (transform) {
    case 'day':
      return Math.floor(ms / DAY_MS);
    case 'hour':
      return Math.floor(ms / HOUR_MS);
    case 'month':
      return (d.getUTCFullYear() - 1970) * 12 + d.getUTCMonth();
    case 'year':
      return d.getUTCFullYear() - 1970;
  }
  throw new PipelineError('schema_incompatible', `partition transform ${transform} is not supported by the writer`);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** The Hive-style path segment of one partition value, as Iceberg writers name directories. */
export function partitionPathValue(transform: string, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (transform === 'day') return new Date(Number(value) * DAY_MS).toISOString().slice(0, 10);
  if (transform === 'hour') {
    const d = new Date(Number(value) * HOUR_MS);
    return `${d.toISOString().slice(0, 10)}-${pad(d.getUTCHours())}`;
  }
  if (transform === 'month') {
    const m = Number(value);
    return `${1970 + Math.floor(m / 12)}-${pad((m % 12) + 1)}`;
  }
  if (transform === 'year') return String(1970 + Number(value));
  return encodeURIComponent(String(value));
}

/** Binary single-value serialisation of `value` (already in Iceberg's representation) for bounds. */
export function serializeBound(type: IcebergPrimitive | 'partition-int' | 'partition-long', value: unknown): Buffer {
  switch (type) {
    case 'boolean':
      return Buffer.from([value ? 1 : 0]);
    case 'int':
    case 'date':
    case 'partition-int': {
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(value));
      return b;
    }
    case 'long':
    case 'timestamptz':
    case 'partition-long': {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value as number));
      return b;
    }
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(Number(value));
      return b;
    }
    case 'string':
      return Buffer.from(String(value), 'utf8');
  }
}
