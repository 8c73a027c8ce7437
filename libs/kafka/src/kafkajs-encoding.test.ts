import fc from 'fast-check';

/**
 * patches/kafkajs+2.2.4.patch rewrites kafkajs' produce-path encoding (one buffer per record, sliced
 * CRC32C, linear grouping by partition). kafkajs' original code stays in the patched modules as the
 * oracle: every input must give the same bytes both ways.
 */
type RecordEncoder = { buffer: Buffer; size(): number };
type RecordArgs = { offsetDelta?: number; timestampDelta?: number; key?: Buffer | string | null; value?: Buffer | string | null; headers?: Record<string, string | Buffer | Array<string | Buffer>> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as ((args: RecordArgs) => RecordEncoder) & { generic: (args: RecordArgs) => RecordEncoder };
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as ((buffer: Buffer) => number) & { bytewise: (buffer: Buffer) => number };
const batchCrc = require('kafkajs/src/protocol/recordBatch/crc32C') as ((buffer: Buffer) => number) & { native: boolean; javascript: (buffer: Buffer) => number };
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: Array<{ partition: number; value: string }>;
  partitioner: (args: { message: { partition: number } }) => number;
}) => Record<string, Array<{ partition: number; value: string }>>;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (args: object) => Promise<{ buffer: Buffer }> };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer | Buffer[]>; offset: string; timestamp: string }> }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

const bytesOrText = fc.oneof(fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)), fc.string({ unit: 'binary', maxLength: 200 }));
const header = fc.oneof(bytesOrText, fc.array(bytesOrText, { minLength: 1, maxLength: 3 }));
const recordArgs: fc.Arbitrary<RecordArgs> = fc.record(
  {
    offsetDelta: fc.integer({ min: 0, max: 2_000_000 }),
    timestampDelta: fc.oneof(fc.integer({ min: -2_000_000, max: 2_000_000 }), fc.integer(), fc.maxSafeInteger()),
    key: fc.option(bytesOrText),
    value: fc.option(fc.oneof(bytesOrText, fc.uint8Array({ minLength: 16_000, maxLength: 70_000 }).map((a) => Buffer.from(a)))),
    headers: fc.dictionary(fc.string({ maxLength: 20 }), header, { maxKeys: 4 }),
  },
  { requiredKeys: [] },
);

describe('kafkajs produce encoding (patched)', () => {
  it('encodes every record exactly as kafkajs generic encoder does', () => {
    fc.assert(
      fc.property(recordArgs, (args) => {
        const fast = Record(args);
        const generic = Record.generic({ offsetDelta: 0, timestampDelta: 0, headers: {}, ...args });
        expect(fast.size()).toBe(generic.size());
        expect(fast.buffer.equals(generic.buffer)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('falls back to the generic path for a timestamp delta beyond 32 bits', () => {
    const args = { timestampDelta: 2 ** 40, offsetDelta: 3, key: 'k', value: Buffer.from('v') };
    expect(Record(args).buffer).toEqual(Record.generic({ headers: {}, ...args }).buffer);
  });

  it('refuses a null header value, as kafkajs does', () => {
    expect(() => Record({ value: 'v', headers: { h: null as unknown as string } })).toThrow(TypeError);
  });

  it('checksums batches natively where @node-rs/crc32 has a binary, and sliced JavaScript gives the same values as byte by byte', () => {
    if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) expect(batchCrc.native).toBe(true);
    for (const crc of [crc32C, batchCrc]) expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5_000 }), (bytes) => {
        const buffer = Buffer.from(bytes);
        const expected = crc32C.bytewise(buffer);
        expect([crc32C(buffer), batchCrc(buffer), batchCrc.javascript(buffer)]).toEqual([expected, expected, expected]);
      }),
      { numRuns: 300 },
    );
  });

  it('groups messages by partition keeping their order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 300 }), (partitions) => {
        const messages = partitions.map((partition, i) => ({ partition, value: `m${i}` }));
        const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }) => message.partition });
        const expected: Record<string, typeof messages> = {};
        for (const m of messages) (expected[m.partition] ??= []).push(m);
        expect(grouped).toEqual(expected);
      }),
    );
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ partition: 0, value: 'x' }], partitioner: () => 0 })).toEqual({});
  });

  it('writes record batches kafkajs decodes back, records and headers intact', async () => {
    const inputs = Array.from({ length: 300 }, (_, i): { key: string | null; value: Buffer; headers: Record<string, string | string[]> } => ({
      key: i % 7 === 0 ? null : `user-${i % 13}`,
      value: Buffer.from(JSON.stringify({ event_id: `e-${i}`, n: i })),
      headers: i % 2 === 0 ? { reason: 'schema_mismatch', attempts: ['1', '2'] } : {},
    }));
    const batch = await RecordBatch({ records: inputs.map((r, offsetDelta) => Record({ ...r, offsetDelta, timestampDelta: offsetDelta * 3 })), firstTimestamp: 1_000, lastOffsetDelta: inputs.length - 1 });
    const { records } = await decodeRecordBatch(new Decoder(batch.buffer));
    expect(records.map((r) => [r.key?.toString() ?? null, r.value?.toString(), Number(r.offset), Number(r.timestamp)])).toEqual(
      inputs.map((r, i) => [r.key, r.value.toString(), i, 1_000 + i * 3]),
    );
    expect(records[0]?.headers).toEqual({ reason: Buffer.from('schema_mismatch'), attempts: [Buffer.from('1'), Buffer.from('2')] });
  });
});
