/**
 * Binary min-heap of unique keys with an index map, so a key's priority can be changed in O(log n).
 * Session windows use it to find the group whose oldest open session ends first without scanning
 * every group on each watermark step.
 */
export interface IndexedMinHeap<K> {
  readonly size: number;
  /** Inserts `key` or changes its priority. */
  set(key: K, priority: number): void;
  delete(key: K): void;
  /** Priority of `key`; undefined when it is not in the heap. */
  priorityOf(key: K): number | undefined;
  peekKey(): K | undefined;
  /** Priority of the top key; Infinity when empty. */
  peekPriority(): number;
}

interface HeapNode<K> {
  readonly key: K;
  priority: number;
}

/** Creates an empty heap; never throws. */
export function createIndexedMinHeap<K>(): IndexedMinHeap<K> {
  const nodes: HeapNode<K>[] = [];
  const positions = new Map<K, number>();

  function nodeAt(i: number): HeapNode<K> {
    const node = nodes[i];
    if (node === undefined) throw new RangeError(`heap index ${i} out of range ${nodes.length}`);
    return node;
  }

  function place(node: HeapNode<K>, i: number): void {
    nodes[i] = node;
    positions.set(node.key, i);
  }

  function up(i: number): void {
    const node = nodeAt(i);
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = nodeAt(parentIndex);
      if (parent.priority <= node.priority) break;
      place(parent, i);
      i = parentIndex;
    }
    place(node, i);
  }

  function down(i: number): void {
    const node = nodeAt(i);
    const n = nodes.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const childIndex = right < n && nodeAt(right).priority < nodeAt(left).priority ? right : left;
      const child = nodeAt(childIndex);
      if (child.priority >= node.priority) break;
      place(child, i);
      i = childIndex;
    }
    place(node, i);
  }

  return {
    get size() {
      return nodes.length;
    },
    set(key, priority) {
      const at = positions.get(key);
      if (at === undefined) {
        place({ key, priority }, nodes.length);
        up(nodes.length - 1);
        return;
      }
      const node = nodeAt(at);
      const old = node.priority;
      node.priority = priority;
      if (priority < old) up(at);
      else if (priority > old) down(at);
    },
    delete(key) {
      const at = positions.get(key);
      if (at === undefined) return;
      positions.delete(key);
      const last = nodes.pop();
      if (last === undefined || at === nodes.length) return;
      place(last, at);
      up(at);
      down(positions.get(last.key) ?? at);
    },
    priorityOf(key) {
      const at = positions.get(key);
      return at === undefined ? undefined : nodeAt(at).priority;
    },
    peekKey: () => nodes[0]?.key,
    peekPriority: () => nodes[0]?.priority ?? Infinity,
  };
}
