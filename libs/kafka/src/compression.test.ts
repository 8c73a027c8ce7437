import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { KAFKA_COMPRESSIONS, compressionType, registerCompressionCodecs } from './compression';

// kafkajs' own record-batch encoder and decoder: the codecs must work inside them, as producer and consumer use them.
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: object) => Promise<{ buffer: Buffer }> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer; value: Buffer }> }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

const records = Array.from({ length: 200 }, (_, i) => ({
  key: Buffer.from(`user-${i % 17}`),
  value: Buffer.from(JSON.stringify({ event_id: `e-${i}`, event_type: 'page_view', properties: { url: `/product/${i % 9}` }, context: { locale: 'en-US' } })),
}));

async function roundTrip(type: CompressionTypes): Promise<{ batch: Buffer; decoded: Array<{ key: Buffer; value: Buffer }> }> {
  const batch = await RecordBatch({ compression: type, records: records.map((r, offsetDelta) => Record({ ...r, offsetDelta })), lastOffsetDelta: records.length - 1 });
  const { records: decoded } = await decodeRecordBatch(new Decoder(batch.buffer));
  return { batch: batch.buffer, decoded };
}

describe('compression codecs', () => {
  beforeAll(() => registerCompressionCodecs());

  it.each(KAFKA_COMPRESSIONS)('%s: record batches round-trip through kafkajs', async (name) => {
    const { decoded } = await roundTrip(compressionType(name));
    expect(decoded.map((r) => [r.key.toString(), r.value.toString()])).toEqual(records.map((r) => [r.key.toString(), r.value.toString()]));
  });

  it('writes standard zstd frames, which the broker and the Java client read', async () => {
    const raw = Buffer.concat(records.map((r) => r.value));
    const codec = CompressionCodecs[CompressionTypes.ZSTD]();
    const zstd = await codec.compress({ buffer: raw });
    expect(zstd.readUInt32LE(0)).toBe(0xfd2fb528);
    expect(zstd.length).toBeLessThan(raw.length / 3);
    expect((await codec.decompress(zstd)).equals(raw)).toBe(true);
  });

  it('makes every compressed batch smaller than the uncompressed one', async () => {
    const none = (await roundTrip(CompressionTypes.None)).batch.length;
    for (const name of KAFKA_COMPRESSIONS.filter((n) => n !== 'none')) expect((await roundTrip(compressionType(name))).batch.length).toBeLessThan(none / 3);
  });
});
