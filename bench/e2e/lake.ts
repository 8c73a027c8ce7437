/**
 * What the lake says about a run, through Trino's Iceberg metadata tables (Trino 476).
 *
 * Each row's commit time: `"events$snapshots"` gives every commit's `committed_at`, and the
 * compactor writes into the same atomic commit, as snapshot summary `pipeline.kafka-offsets`, the
 * next Kafka offset per partition the table holds after it. Rows carry `_kafka_partition` and
 * `_kafka_offset`, so a row became visible with the first snapshot whose offset for its partition
 * is past the row's. (`"events$entries"`, which maps data files to the snapshot that added them,
 * fails in Trino 476 on the compactor's manifests: they leave the optional `sort_order_id` null.)
 * Rows are grouped by data file (the hidden `"$path"` column), so the lookup runs once per file,
 * and per 100 ms of `received_at`: freshness = commit time - received_at, within 0.1 s.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Trino } from 'trino-client';
import { queryAll as queryOnce, quoteLiteral, type QueryResult } from '@pipeline/lake';
import { histogramOf, type Histogram } from '../../tools/report/src/stats';

/** Freshness buckets are this many milliseconds wide. */
export const FRESHNESS_BUCKET_MS = 100;

/** A table as <catalog>.<schema>.<table>, and the Kafka topic the compactor fills it from. */
export interface LakeTable {
  trino: Trino;
  catalog: string;
  schema: string;
  table: string;
  topic: string;
}

/**
 * Trino, or what it reads (the catalog database, the object store), restarting or unreachable: the
 * stack is shared and someone may be restarting a service. Trino reports a lost catalog connection
 * as an internal error.
 */
function unavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string; cause?: { errorName?: string; errorType?: string } };
  return (
    e.code === 'dependency_unavailable' ||
    e.cause?.errorName === 'SERVER_STARTING_UP' ||
    e.cause?.errorType === 'INTERNAL_ERROR' ||
    e.cause?.errorType === 'EXTERNAL' ||
    /still initializing|ECONNREFUSED|fetch failed|socket hang up|PSQLException|Connection refused/i.test(e.message ?? '')
  );
}

/** queryAll that waits (up to `patienceMs`) for a Trino that is starting or unreachable. */
async function queryAll(trino: Trino, sql: string, patienceMs = 300_000): Promise<QueryResult> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      return await queryOnce(trino, sql);
    } catch (err) {
      if (!unavailable(err) || Date.now() > deadline) throw err;
      await sleep(2_000);
    }
  }
}

const name = (t: LakeTable, suffix = '') => `${t.catalog}.${t.schema}."${t.table}${suffix}"`;
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));

export async function namespaceExists(t: LakeTable): Promise<boolean> {
  const r = await queryAll(t.trino, `SHOW SCHEMAS FROM ${t.catalog} LIKE ${quoteLiteral(t.schema)}`, 60_000);
  return r.rows.length > 0;
}

/** Rows whose distinct event_ids one Trino query counts: about 0.3 GB of its 1.5 GB per-node memory. */
const DISTINCT_ROWS_PER_QUERY = 4_000_000;

/**
 * Rows and distinct event_ids in the table. A large table's ids are counted in slices by a hash of
 * the id (a slice holds every copy of its ids, so the slices' distinct counts add up exactly): one
 * count(DISTINCT) over tens of millions of ids exceeds Trino's per-node query memory.
 */
export async function lakeCounts(t: LakeTable, rowsPerQuery = DISTINCT_ROWS_PER_QUERY): Promise<{ rows: number; distinct: number }> {
  const rows = num((await queryAll(t.trino, `SELECT count(*) FROM ${name(t)}`)).rows[0]?.[0]);
  let slices = 1;
  while (slices * rowsPerQuery < rows) slices *= 2;
  let distinct = 0;
  for (let slice = 0; slice < slices; slice++) {
    const where = slices === 1 ? '' : ` WHERE bitwise_and(from_big_endian_64(xxhash64(to_utf8(event_id))), ${slices - 1}) = ${slice}`;
    distinct += num((await queryAll(t.trino, `SELECT count(DISTINCT event_id) FROM ${name(t)}${where}`)).rows[0]?.[0]);
  }
  return { rows, distinct };
}

export interface Commit {
  /** committed_at, ms since the epoch. */
  atMs: number;
  /** Rows the commit added (snapshot summary added-records). */
  rows: number;
}

/** When each row's Kafka offset became visible: the table's commits with the offsets they reached. */
export class CommitIndex {
  /** Per Kafka partition: commit times and next offsets, in commit order (offsets never go back). */
  private readonly byPartition = new Map<number, { atMs: number[]; next: number[] }>();

  constructor(readonly commits: Commit[]) {}

  static async load(t: LakeTable): Promise<CommitIndex> {
    const r = await queryAll(
      t.trino,
      `SELECT to_unixtime(committed_at) * 1000, element_at(summary, 'pipeline.kafka-offsets'), element_at(summary, 'added-records')
       FROM ${name(t, '$snapshots')} ORDER BY committed_at`,
    );
    const index = new CommitIndex(r.rows.map(([at, , added]) => ({ atMs: num(at), rows: added === null ? 0 : num(added) })));
    for (const [at, offsets] of r.rows) {
      if (typeof offsets !== 'string') continue;
      const perTopic = (JSON.parse(offsets) as Record<string, Record<string, string>>)[t.topic] ?? {};
      for (const [partition, next] of Object.entries(perTopic)) index.add(Number(partition), num(at), Number(next));
    }
    return index;
  }

  private add(partition: number, atMs: number, next: number): void {
    const p = this.byPartition.get(partition) ?? { atMs: [], next: [] };
    if (p.next.length > 0 && next <= (p.next[p.next.length - 1] as number)) return;
    p.atMs.push(atMs);
    p.next.push(next);
    this.byPartition.set(partition, p);
  }

  /** Commit time (ms) of the first commit whose next offset for `partition` is past `offset`; undefined if none. */
  commitOf(partition: number, offset: number): number | undefined {
    const p = this.byPartition.get(partition);
    if (!p) return undefined;
    let lo = 0;
    let hi = p.next.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((p.next[mid] as number) > offset) hi = mid;
      else lo = mid + 1;
    }
    return p.atMs[lo];
  }
}

export interface FreshnessCells {
  /** Rows whose commit was found. */
  rows: number;
  /** Rows of files whose Kafka offsets no commit covers, or whose partitions point at different commits. */
  unmatchedRows: number;
  /** Per second of received_at (epoch seconds): freshness histogram and maximum (ms). */
  bySecond: Map<number, { histogram: Array<[number, number]>; maxMs: number; count: number }>;
}

/** Freshness of every row, as {@link FRESHNESS_BUCKET_MS} buckets per second of received_at. */
export async function freshnessCells(t: LakeTable, index: CommitIndex): Promise<FreshnessCells> {
  const file = `to_hex(xxhash64(to_utf8("$path")))`;
  const files = await queryAll(t.trino, `SELECT ${file}, _kafka_partition, min(_kafka_offset), max(_kafka_offset) FROM ${name(t)} GROUP BY 1, 2`);
  const commitOfFile = new Map<string, number | null>();
  for (const [f, partition, first, last] of files.rows) {
    const key = String(f);
    const a = index.commitOf(num(partition), num(first));
    const b = index.commitOf(num(partition), num(last));
    const known = commitOfFile.get(key);
    const consistent = a !== undefined && a === b && (known === undefined || known === a);
    commitOfFile.set(key, consistent ? a : null);
  }
  const groups = await queryAll(
    t.trino,
    `SELECT ${file}, CAST(floor(to_unixtime(received_at) * 10) AS bigint), count(*), min(to_unixtime(received_at)) * 1000 FROM ${name(t)} GROUP BY 1, 2`,
  );
  const cells: FreshnessCells = { rows: 0, unmatchedRows: 0, bySecond: new Map() };
  for (const [f, tenth, count, firstReceived] of groups.rows) {
    const n = num(count);
    const commit = commitOfFile.get(String(f));
    if (commit === undefined || commit === null) {
      cells.unmatchedRows += n;
      continue;
    }
    const sec = Math.floor(num(tenth) / 10);
    // The group's received_at lies in [tenth * 100, tenth * 100 + 100) ms: take the middle.
    const ms = Math.max(0, commit - (num(tenth) * 100 + 50));
    const cell = cells.bySecond.get(sec) ?? { histogram: [], maxMs: 0, count: 0 };
    cell.histogram.push([Math.floor(ms / FRESHNESS_BUCKET_MS), n]);
    cell.maxMs = Math.max(cell.maxMs, commit - num(firstReceived));
    cell.count += n;
    cells.rows += n;
    cells.bySecond.set(sec, cell);
  }
  return cells;
}

/** The freshness histogram and maximum of rows received in [fromMs, toMs). */
export function freshnessBetween(cells: FreshnessCells, fromMs: number, toMs: number): { histogram: Histogram; maxMs: number; count: number } {
  const pairs: Array<[number, number]> = [];
  let maxMs = 0;
  let count = 0;
  for (const [sec, cell] of cells.bySecond) {
    if (sec * 1000 < fromMs || sec * 1000 >= toMs) continue;
    pairs.push(...cell.histogram);
    maxMs = Math.max(maxMs, cell.maxMs);
    count += cell.count;
  }
  return { histogram: histogramOf(FRESHNESS_BUCKET_MS, pairs), maxMs, count };
}

/** received_at and commit time (ms since the epoch) of the given event_ids that are in the table. */
export async function rowTimes(t: LakeTable, index: CommitIndex, ids: readonly string[]): Promise<Map<string, { receivedMs: number; committedMs: number | undefined }>> {
  const out = new Map<string, { receivedMs: number; committedMs: number | undefined }>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const r = await queryAll(
      t.trino,
      `SELECT event_id, to_unixtime(received_at) * 1000, _kafka_partition, _kafka_offset FROM ${name(t)} WHERE event_id IN (${chunk.map(quoteLiteral).join(', ')})`,
    );
    for (const [id, received, partition, offset] of r.rows) out.set(String(id), { receivedMs: num(received), committedMs: index.commitOf(num(partition), num(offset)) });
  }
  return out;
}

/** How many of `ids` are in the table (distinct). */
export async function presentCount(t: LakeTable, ids: readonly string[]): Promise<number> {
  let present = 0;
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const r = await queryAll(t.trino, `SELECT count(DISTINCT event_id) FROM ${name(t)} WHERE event_id IN (${chunk.map(quoteLiteral).join(', ')})`);
    present += num(r.rows[0]?.[0]);
  }
  return present;
}
