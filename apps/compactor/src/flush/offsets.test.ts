import { checkOffsets, rangeKey, type OffsetRange } from './offsets';

const ranges = (...rs: Array<[string, number, bigint, bigint]>) => new Map<string, OffsetRange>(rs.map(([topic, partition, min, max]) => [rangeKey(topic, partition), { topic, partition, min, max }]));

describe('exactly-once offset check', () => {
  it('merges into an empty table', () => {
    expect(checkOffsets({}, ranges(['t', 0, 0n, 9n]))).toEqual({ kind: 'ok', merged: { t: { '0': '10' } } });
  });

  it('keeps other partitions and topics, and allows gaps (transaction markers, DLQ-only flushes)', () => {
    const result = checkOffsets({ t: { '0': '10', '1': '5' }, u: { '0': '3' } }, ranges(['t', 0, 12n, 20n]));
    expect(result).toEqual({ kind: 'ok', merged: { t: { '0': '21', '1': '5' }, u: { '0': '3' } } });
  });

  it('says "already" when an earlier attempt of this very flush landed', () => {
    expect(checkOffsets({ t: { '0': '21', '1': '8' } }, ranges(['t', 0, 12n, 20n], ['t', 1, 5n, 7n]))).toEqual({ kind: 'already' });
  });

  it.each([
    ['another writer committed past our start', { t: { '0': '15' } }, ranges(['t', 0, 12n, 20n])],
    ['another writer committed beyond our end', { t: { '0': '30' } }, ranges(['t', 0, 12n, 20n])],
    ['only one of two partitions landed', { t: { '0': '21', '1': '5' } }, ranges(['t', 0, 12n, 20n], ['t', 1, 5n, 7n])],
  ])('fences when %s', (_label, committed, rs) => {
    const result = checkOffsets(committed, rs);
    expect(result.kind).toBe('fenced');
  });

  it('does not alias the committed map', () => {
    const committed = { t: { '0': '1' } };
    checkOffsets(committed, ranges(['t', 0, 1n, 2n]));
    expect(committed).toEqual({ t: { '0': '1' } });
  });
});
