/**
 * Avro object container files (the format of Iceberg manifests and manifest lists), read and
 * written with avsc for the record encoding and longs as BigInt (snapshot ids exceed 2^53).
 */
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { PipelineError } from '@pipeline/runtime';

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

const bigLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (n: unknown) => BigInt(n as number),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** An avsc type for `schema` whose longs are BigInt. */
export function avroType(schema: object): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: bigLong } as unknown as Record<string, avro.Type>, wrapUnions: false });
}

const metaType = avro.Type.forSchema({ type: 'map', values: 'bytes' });
const longType = avro.Type.forSchema('long');

function encodeLong(n: number): Buffer {
  return longType.toBuffer(n);
}

/**
 * Writes an Avro container file. `schema` is written verbatim to the header (keeping Iceberg's
 * `field-id` attributes); `meta` adds key/value pairs (Iceberg puts the table schema and spec there).
 */
export function writeAvroContainer(schema: object, records: readonly unknown[], meta: Record<string, string>, codec: 'deflate' | 'null' = 'deflate'): Buffer {
  const type = avroType(schema);
  const header: Record<string, Buffer> = { 'avro.schema': Buffer.from(JSON.stringify(schema)), 'avro.codec': Buffer.from(codec) };
  for (const [k, v] of Object.entries(meta)) header[k] = Buffer.from(v);
  const sync = randomBytes(16);
  const parts: Buffer[] = [MAGIC, metaType.toBuffer(header), sync];
  if (records.length > 0) {
    const body = Buffer.concat(records.map((r) => type.toBuffer(r)));
    const data = codec === 'deflate' ? deflateRawSync(body) : body;
    parts.push(encodeLong(records.length), encodeLong(data.length), data, sync);
  }
  return Buffer.concat(parts);
}

/** Reads every record of an Avro container file, with its header metadata (as strings). */
export function readAvroContainer(buf: Buffer): { schema: object; meta: Record<string, string>; records: Array<Record<string, unknown>> } {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new PipelineError('invalid_input', 'not an Avro container file');
  const tap = { buf, pos: 4 };
  const header = metaType.decode(buf, tap.pos);
  if (header.offset < 0) throw new PipelineError('invalid_input', 'truncated Avro header');
  tap.pos = header.offset;
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(header.value as Record<string, Buffer>)) meta[k] = v.toString('utf8');
  const schema = JSON.parse(meta['avro.schema'] ?? 'null') as object;
  const codec = meta['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') throw new PipelineError('invalid_input', `unsupported Avro codec ${codec}`);
  const type = avroType(schema);
  tap.pos += 16;
  const records: Array<Record<string, unknown>> = [];
  while (tap.pos < buf.length) {
    const count = longType.decode(buf, tap.pos);
    const size = longType.decode(buf, count.offset);
    const start = size.offset;
    const raw = buf.subarray(start, start + (size.value as number));
    const body = codec === 'deflate' ? inflateRawSync(raw) : raw;
    let pos = 0;
    for (let i = 0; i < (count.value as number); i++) {
      const res = type.decode(body, pos);
      records.push(res.value as Record<string, unknown>);
      pos = res.offset;
    }
    tap.pos = start + (size.value as number) + 16;
  }
  return { schema, meta, records };
}
