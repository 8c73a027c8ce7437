import { ResultStore, decodeCursor, encodeCursor, type StoredResult } from './result-store';

const result = (id: string, bytes: number, key?: string, createdAt = 0): StoredResult => ({
  id,
  ...(key ? { key } : {}),
  queryId: `q-${id}`,
  columns: [],
  rows: [[1]],
  truncated: false,
  bytes,
  createdAt,
  stats: { elapsedMs: 1, rows: 1, scannedBytes: 0 },
});

describe('ResultStore', () => {
  let now = 0;
  const store = () => new ResultStore({ maxBytes: 100, maxAgeMs: 60_000, cursorTtlMs: 10_000, now: () => now });
  beforeEach(() => (now = 0));

  it('reuses a result by key within the age the caller accepts', () => {
    const s = store();
    s.put(result('a', 10, 'k'));
    now = 5_000;
    expect(s.reuse('k', 10_000)?.id).toBe('a');
    expect(s.reuse('k', 4_000)).toBeUndefined();
    expect(s.reuse('other', 10_000)).toBeUndefined();
  });

  it('never reuses beyond its own maximum age', () => {
    const s = store();
    s.put(result('a', 10, 'k'));
    now = 61_000;
    expect(s.reuse('k', 3_600_000)).toBeUndefined();
  });

  it('evicts the least recently used results to fit, and refuses one larger than the store', () => {
    const s = store();
    s.put(result('a', 40));
    s.put(result('b', 40));
    expect(s.forCursor('a')).toBeDefined();
    s.put(result('c', 40));
    expect(s.forCursor('b')).toBeUndefined();
    expect(s.forCursor('a')).toBeDefined();
    expect(s.bytes).toBe(80);
    expect(s.put(result('huge', 101))).toBe(false);
  });

  it('ends a cursor after its lifetime, which reuse extends', () => {
    const s = store();
    s.put(result('a', 10, 'k'));
    now = 9_000;
    expect(s.reuse('k', 60_000)).toBeDefined();
    now = 18_000;
    expect(s.forCursor('a')).toBeDefined();
    now = 20_000;
    expect(s.forCursor('a')).toBeUndefined();
  });

  it('replaces the result of a key with the fresh one', () => {
    const s = store();
    s.put(result('a', 10, 'k'));
    s.put(result('b', 10, 'k'));
    expect(s.reuse('k', 60_000)?.id).toBe('b');
    expect(s.size).toBe(1);
  });

  it('round-trips cursors and rejects forged ones', () => {
    const id = ResultStore.newId();
    expect(decodeCursor(encodeCursor(id, 1000))).toEqual({ resultId: id, offset: 1000 });
    expect(decodeCursor('not a cursor!')).toBeUndefined();
    expect(decodeCursor(Buffer.from('x.1').toString('base64url'))).toBeUndefined();
  });
});
