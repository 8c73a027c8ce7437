import fc from 'fast-check';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { Murmur2Partitioner, murmur2 } from './partitioner';

function metadata(count: number, leaderless: number[] = []): PartitionMetadata[] {
  return Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: leaderless.includes(partitionId) ? -1 : 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));
}

describe('Murmur2Partitioner', () => {
  it("puts every keyed record on the partition kafkajs' DefaultPartitioner picks", () => {
    const reference = Partitioners.DefaultPartitioner();
    const fast = Murmur2Partitioner();
    const key = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 70 }).map((a) => Buffer.from(a)));
    fc.assert(
      fc.property(key, fc.integer({ min: 1, max: 64 }), (k, partitions) => {
        const args = { topic: 't', partitionMetadata: metadata(partitions), message: { key: k, value: 'v' } };
        expect(fast(args)).toBe(reference(args));
      }),
      { numRuns: 5_000 },
    );
  });

  it('matches the Java client murmur2 on known keys', () => {
    // Values of org.apache.kafka.common.utils.Utils.murmur2 (UTF-8 bytes).
    expect(murmur2('21')).toBe(-973932308);
    expect(murmur2('foobar')).toBe(-790332482);
    expect(murmur2('a-little-bit-long-string')).toBe(-985981536);
    expect(murmur2('a-little-bit-longer-string')).toBe(-1486304829);
    expect(murmur2('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(murmur2('abc'));
  });

  it('keeps an explicit partition and spreads keyless records over partitions with a leader', () => {
    const fast = Murmur2Partitioner();
    expect(fast({ topic: 't', partitionMetadata: metadata(4), message: { key: 'k', value: 'v', partition: 3 } })).toBe(3);
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) seen.add(fast({ topic: 't', partitionMetadata: metadata(4, [1]), message: { value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 2, 3]);
  });
});
