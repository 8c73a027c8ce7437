import { createDedupBudget, createDedupStore, type DedupChange } from './dedup-store';

describe('dedup store', () => {
  it('remembers ids per committed batch as one changelog segment, and forgets them after the TTL with a tombstone', () => {
    const store = createDedupStore({ ttlMs: 1_000, budget: createDedupBudget(100) });
    store.add('a', 10, 5_000);
    store.add('b', 12, 5_100);
    expect(store.commitBatch()).toEqual([{ key: 'd:10', value: { b: 10, t: 5_100, i: ['a', 'b'], o: [0, 2] } }]);
    expect([store.has('a'), store.acceptedAt('b')]).toEqual([true, 12]);
    store.add('c', 13, 6_000);
    expect(store.commitBatch().map((c) => c.key)).toEqual(['d:13']);
    expect(store.has('a')).toBe(true);
    store.add('d', 14, 6_101);
    expect(store.commitBatch()).toEqual([{ key: 'd:10', value: null }, expect.objectContaining({ key: 'd:14' })]);
    expect([store.has('a'), store.has('b'), store.has('c'), store.size]).toEqual([false, false, true, 2]);
  });

  it('forgets the oldest segments early beyond maxEntries and counts them', () => {
    const store = createDedupStore({ ttlMs: 1_000_000, budget: createDedupBudget(3) });
    for (let i = 0; i < 5; i++) {
      store.add(`id${i}`, i, 1_000);
      store.commitBatch();
    }
    expect([store.size, store.evicted, store.has('id0'), store.has('id1'), store.has('id4')]).toEqual([3, 2, false, false, true]);
  });

  it('shares one budget between the stores of a process, and a released store gives its share back', () => {
    const budget = createDedupBudget(6);
    const quiet = createDedupStore({ ttlMs: 1_000_000, budget });
    const busy = createDedupStore({ ttlMs: 1_000_000, budget });
    quiet.add('q0', 0, 1_000);
    quiet.add('q1', 1, 1_000);
    quiet.commitBatch();
    for (let i = 0; i < 6; i++) {
      busy.add(`b${i}`, i, 1_000);
      busy.commitBatch();
    }
    // The busy store made room from its own oldest ids; the quiet one kept everything.
    expect([budget.used, quiet.size, busy.size, busy.evicted, quiet.evicted]).toEqual([6, 2, 4, 2, 0]);
    expect([busy.has('b1'), busy.has('b2'), quiet.has('q0')]).toEqual([false, true, true]);
    quiet.release();
    expect([budget.used, quiet.size, quiet.has('q0')]).toEqual([4, 0, false]);
    for (let i = 6; i < 8; i++) {
      busy.add(`b${i}`, i, 1_000);
      busy.commitBatch();
    }
    expect([budget.used, busy.size, busy.evicted]).toEqual([6, 6, 2]);
    // Restored segments count too, once per id.
    const restored = createDedupStore({ ttlMs: 1_000_000, budget });
    restored.restore('d:0', { b: 0, t: 1_000, i: ['r0', 'r1', 'r0'], o: [0, 1, 2] });
    expect(budget.used).toBe(8);
    restored.restore('d:0', null);
    expect(budget.used).toBe(6);
  });

  it('keeps an id accepted again after it expired when the old segment goes', () => {
    const store = createDedupStore({ ttlMs: 100, budget: createDedupBudget(100) });
    store.add('x', 1, 1_000);
    store.commitBatch();
    store.add('y', 2, 1_050);
    store.commitBatch();
    const restored = createDedupStore({ ttlMs: 100, budget: createDedupBudget(100) });
    // Replayed from a changelog: same state.
    restored.restore('d:1', { b: 1, t: 1_000, i: ['x'], o: [0] });
    restored.restore('d:2', { b: 2, t: 1_050, i: ['y'], o: [0] });
    restored.add('z', 3, 1_200);
    const changes: DedupChange[] = restored.commitBatch();
    expect(changes.map((c) => [c.key, c.value === null])).toEqual([['d:1', true], ['d:2', true], ['d:3', false]]);
    restored.add('x', 4, 1_250);
    restored.commitBatch();
    restored.restore('d:1', null);
    expect(restored.acceptedAt('x')).toBe(4);
  });
});
