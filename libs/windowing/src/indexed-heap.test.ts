import fc from 'fast-check';
import { createIndexedMinHeap } from './indexed-heap';

describe('createIndexedMinHeap', () => {
  it('always exposes the minimum priority under random set/delete', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.nat(20), priority: fc.integer({ min: -1000, max: 1000 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.nat(20) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const heap = createIndexedMinHeap<number>();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            heap.set(o.key, o.priority);
            model.set(o.key, o.priority);
          } else {
            heap.delete(o.key);
            model.delete(o.key);
          }
          expect(heap.size).toBe(model.size);
          const min = Math.min(...model.values());
          expect(heap.peekPriority()).toBe(min);
          const top = heap.peekKey();
          if (model.size > 0) expect(top === undefined ? undefined : model.get(top)).toBe(min);
          for (let key = 0; key <= 20; key++) expect(heap.priorityOf(key)).toBe(model.get(key));
        }
        // Draining by deleting the top yields the priorities in order.
        const drained: number[] = [];
        for (let key = heap.peekKey(); key !== undefined; key = heap.peekKey()) {
          drained.push(heap.peekPriority());
          heap.delete(key);
        }
        expect(drained).toEqual([...model.values()].sort((a, b) => a - b));
      }),
    );
  });
});
