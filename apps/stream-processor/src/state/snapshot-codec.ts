/**
 * Window state in the changelog: a snapshot too large for one Kafka record is cut into chunks
 * (`w:<i>`), followed by a manifest (`w`) naming the snapshot id, the input offset it covers up to
 * and the chunk count. All are written in one transaction; chunks left over from a larger previous
 * snapshot are deleted. A reader trusts only chunks whose id matches the manifest.
 */

export const SNAPSHOT_MANIFEST_KEY = 'w';
const CHUNK_PREFIX = 'w:';

export interface SnapshotManifest {
  /** Snapshot id (unique per write). */
  id: string;
  /** The snapshot holds the effect of every input record before this offset. */
  next: number;
  chunks: number;
  bytes: number;
}

interface Chunk {
  id: string;
  data: string;
}

export interface ChangelogWrite {
  key: string;
  value: string | null;
}

export function isSnapshotKey(key: string): boolean {
  return key === SNAPSHOT_MANIFEST_KEY || key.startsWith(CHUNK_PREFIX);
}

/** The writes for one snapshot: chunks, deletions of stale chunks, then the manifest. */
export function encodeSnapshot(opts: { id: string; next: number; json: string; chunkChars: number; previousChunks: number }): { writes: ChangelogWrite[]; manifest: SnapshotManifest } {
  const { id, next, json, chunkChars } = opts;
  const chunks = Math.max(1, Math.ceil(json.length / chunkChars));
  const writes: ChangelogWrite[] = [];
  for (let i = 0; i < chunks; i++) {
    const chunk: Chunk = { id, data: json.slice(i * chunkChars, (i + 1) * chunkChars) };
    writes.push({ key: `${CHUNK_PREFIX}${i}`, value: JSON.stringify(chunk) });
  }
  for (let i = chunks; i < opts.previousChunks; i++) writes.push({ key: `${CHUNK_PREFIX}${i}`, value: null });
  const manifest: SnapshotManifest = { id, next, chunks, bytes: json.length };
  writes.push({ key: SNAPSHOT_MANIFEST_KEY, value: JSON.stringify(manifest) });
  return { writes, manifest };
}

/** Collects snapshot records read back (later records win) and reassembles the latest complete snapshot. */
export function createSnapshotReader(): { add(key: string, value: string | null): void; result(): { manifest: SnapshotManifest; json: string } | undefined } {
  let manifest: SnapshotManifest | undefined;
  const chunks = new Map<number, Chunk>();
  return {
    add(key, value) {
      if (key === SNAPSHOT_MANIFEST_KEY) {
        manifest = value === null ? undefined : (JSON.parse(value) as SnapshotManifest);
        return;
      }
      const index = Number(key.slice(CHUNK_PREFIX.length));
      if (value === null) chunks.delete(index);
      else chunks.set(index, JSON.parse(value) as Chunk);
    },
    result() {
      if (manifest === undefined) return undefined;
      const parts: string[] = [];
      for (let i = 0; i < manifest.chunks; i++) {
        const chunk = chunks.get(i);
        if (chunk === undefined || chunk.id !== manifest.id) throw new Error(`snapshot ${manifest.id}: chunk ${i} of ${manifest.chunks} is missing or from another snapshot`);
        parts.push(chunk.data);
      }
      return { manifest, json: parts.join('') };
    },
  };
}
