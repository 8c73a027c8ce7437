import { BufferSet, type BufferedRecord, type TakenBuffer } from './buffers';

const rec = (partition: number, offset: number, bytes = 100): BufferedRecord => ({ topic: 't', partition, offset: BigInt(offset), value: Buffer.alloc(bytes), key: null });

describe('buffers', () => {
  let now = 0;
  const make = (over: Partial<ConstructorParameters<typeof BufferSet>[0]> = {}) => new BufferSet({ maxRows: 3, maxBytes: 1_000, maxAgeMs: 1_000, memoryCapBytes: 10_000, ...over }, () => now);
  beforeEach(() => (now = 0));

  it('flushes on rows per table partition, not per table', () => {
    const b = make();
    b.add('events', 'events', 'd1|click', rec(0, 1));
    b.add('events', 'events', 'd1|view', rec(0, 2));
    b.add('events', 'events', 'd1|view', rec(1, 3));
    expect(b.dueTables()).toEqual([]);
    b.add('events', 'events', 'd1|click', rec(0, 4));
    b.add('events', 'events', 'd1|click', rec(0, 5));
    expect(b.dueTables()).toEqual([{ table: 'events', reason: 'rows' }]);
  });

  it('flushes on bytes and on age (an idle topic still flushes)', () => {
    const b = make();
    b.add('a', 'aggregate', 'd1', rec(0, 1, 1_000));
    expect(b.dueTables()).toEqual([{ table: 'a', reason: 'bytes' }]);
    const c = make();
    c.add('e', 'events', 'g', rec(0, 1));
    now = 999;
    expect(c.dueTables()).toEqual([]);
    now = 1_000;
    expect(c.dueTables()).toEqual([{ table: 'e', reason: 'age' }]);
  });

  it('flushes the biggest table early past half the memory cap, and is full at the cap, counting in-flight bytes', () => {
    const b = make({ maxBytes: 100_000, maxRows: 1_000, memoryCapBytes: 1_000 });
    b.add('small', 'events', 'g', rec(0, 1, 100));
    b.add('big', 'events', 'g', rec(1, 1, 450));
    expect(b.dueTables()).toEqual([{ table: 'big', reason: 'memory' }]);
    const taken = b.take('big');
    expect(b.memoryBytes).toBe(550);
    b.add('small', 'events', 'g', rec(0, 2, 450));
    expect(b.full).toBe(true);
    if (taken) b.release(taken);
    expect(b.full).toBe(false);
  });

  it('puts a failed flush back in front of newer records, and drops a revoked partition', () => {
    const b = make({ maxRows: 100 });
    b.add('e', 'events', 'g', rec(0, 1));
    const taken = b.take('e') as TakenBuffer;
    b.add('e', 'events', 'g', rec(0, 2));
    b.release(taken);
    b.restore(taken);
    const again = b.take('e') as TakenBuffer;
    expect(again.records.map((r) => r.offset)).toEqual([1n, 2n]);
    b.restore(again);
    b.add('e', 'events', 'g', rec(1, 7));
    b.dropPartition('t', 0);
    expect(b.take('e')?.records.map((r) => [r.partition, r.offset])).toEqual([[1, 7n]]);
  });
});
