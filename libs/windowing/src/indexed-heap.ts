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
  /** Where the node sits in the array; kept on the node so a move is a field write, not a map update. */
  index: number;
}

/** Creates an empty heap; never throws. */
export function createIndexedMinHeap<K>(): IndexedMinHeap<K> {
  const nodes: HeapNode<K>[] = [];
  const byKey = new Map<K, HeapNode<K>>();

  function nodeAt(i: number): HeapNode<K> {
    const node = nodes[i];
    if (node === undefined) throw new RangeError(`heap index ${i} out of range ${nodes.length}`);
    return node;
  }

  function place(node: HeapNode<K>, i: number): void {
    nodes[i] = node;
    node.index = i;
  }

  function up(node: HeapNode<K>): void {
    let i = node.index;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = nodeAt(parentIndex);
      if (parent.priority <= node.priority) break;
      place(parent, i);
      i = parentIndex;
    }
    place(node, i);
  }

  function down(node: HeapNode<K>): void {
    let i = node.index;
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
      const node = byKey.get(key);
      if (node === undefined) {
        const added: HeapNode<K> = { key, priority, index: nodes.length };
        byKey.set(key, added);
        nodes.push(added);
        up(added);
        return;
      }
      const old = node.priority;
      node.priority = priority;
      if (priority < old) up(node);
      else if (priority > old) down(node);
    },
    delete(key) {
      const node = byKey.get(key);
      if (node === undefined) return;
      byKey.delete(key);
      const last = nodes.pop();
      if (last === undefined || last === node) return;
      place(last, node.index);
      up(last);
      down(last);
    },
    priorityOf: (key) => byKey.get(key)?.priority,
    peekKey: () => nodes[0]?.key,
    peekPriority: () => nodes[0]?.priority ?? Infinity,
  };
}
