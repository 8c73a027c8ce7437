import { BufferSet, recordMemoryBytes, type BufferedRecord, type TakenBuffer } from './buffers';

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

  it('flushes the biggest table early past half the memory cap, and is full at the cap, counting in-flight records', () => {
    const b = make({ maxBytes: 100_000, maxRows: 1_000, memoryCapBytes: 2_000 });
    const small = rec(0, 1, 100);
    const big = rec(1, 1, 450);
    b.add('small', 'events', 'g', small);
    b.add('big', 'events', 'g', big);
    expect(b.memoryBytes).toBe(recordMemoryBytes(small) + recordMemoryBytes(big));
    expect(b.dueTables()).toEqual([{ table: 'big', reason: 'memory' }]);
    const taken = b.take('big');
    expect(taken?.memory).toBe(recordMemoryBytes(big));
    expect(b.memoryBytes).toBe(recordMemoryBytes(small) + recordMemoryBytes(big));
    b.add('small', 'events', 'g', rec(0, 2, 900));
    expect(b.full).toBe(true);
    if (taken) b.release(taken);
    expect(b.full).toBe(false);
  });

  it('counts a record by its value, its decoded copy and its headers, not by its value alone', () => {
    const raw = rec(0, 1, 600);
    const decoded: BufferedRecord = { ...rec(0, 2, 600), record: { event_id: 'e' }, schemaId: 1 };
    const withHeaders: BufferedRecord = { ...rec(0, 3, 600), headers: { 'error-code': Buffer.from('invalid_input'), trace: ['a', 'bc'] } };
    expect(recordMemoryBytes(raw)).toBeGreaterThan(600);
    expect(recordMemoryBytes(decoded) - recordMemoryBytes(raw)).toBe(600);
    // Each header value: its name, its bytes and an object around them.
    expect(recordMemoryBytes(withHeaders) - recordMemoryBytes(raw)).toBeGreaterThan('error-code'.length + 13 + 2 * 'trace'.length + 3);
    const b = make({ maxRows: 100 });
    b.add('e', 'events', 'g', decoded);
    b.add('e', 'events', 'g', rec(1, 1, 600));
    b.dropPartition('t', 1);
    expect(b.memoryBytes).toBe(recordMemoryBytes(decoded));
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
