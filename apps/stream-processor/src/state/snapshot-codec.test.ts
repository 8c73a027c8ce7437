import { createSnapshotReader, encodeSnapshot } from './snapshot-codec';

function replay(writes: { key: string; value: string | null }[][]) {
  const reader = createSnapshotReader();
  for (const batch of writes) for (const w of batch) reader.add(w.key, w.value);
  return reader.result();
}

describe('snapshot codec', () => {
  it('cuts a snapshot into chunks and reads back the latest one, deleting chunks a smaller snapshot no longer uses', () => {
    const big = encodeSnapshot({ id: 's1', next: 10, json: 'x'.repeat(25), chunkChars: 10, previousChunks: 0 });
    expect(big.writes.map((w) => w.key)).toEqual(['w:0', 'w:1', 'w:2', 'w']);
    const small = encodeSnapshot({ id: 's2', next: 20, json: '{"a":1}', chunkChars: 10, previousChunks: big.manifest.chunks });
    expect(small.writes.map((w) => [w.key, w.value === null])).toEqual([['w:0', false], ['w:1', true], ['w:2', true], ['w', false]]);
    expect(replay([big.writes])).toEqual({ manifest: { id: 's1', next: 10, chunks: 3, bytes: 25 }, json: 'x'.repeat(25) });
    expect(replay([big.writes, small.writes])?.json).toBe('{"a":1}');
    expect(replay([])).toBeUndefined();
  });

  it('refuses a manifest whose chunks belong to another snapshot', () => {
    const a = encodeSnapshot({ id: 'a', next: 1, json: 'aaaa', chunkChars: 2, previousChunks: 0 });
    const b = encodeSnapshot({ id: 'b', next: 2, json: 'bbbb', chunkChars: 2, previousChunks: 0 });
    expect(() => replay([a.writes, b.writes.filter((w) => w.key !== 'w:1')])).toThrow(/chunk 1 of 2/);
  });
});
