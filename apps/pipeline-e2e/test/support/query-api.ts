import type { Pipeline } from '@pipeline/testing';
import { rowObjects, type ResultColumn } from '../../src/lake-values';

export interface QueryAnswer {
  columns: Array<ResultColumn & { rawType: string }>;
  rows: Array<Record<string, unknown>>;
}

interface Page {
  columns: Array<ResultColumn & { rawType: string }>;
  rows: unknown[][];
  nextCursor: string | null;
  truncated: boolean;
}

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/**
 * Runs one statement through the query API (`POST /v1/query`, never from its result cache) as the
 * run's token, following the cursor through every page.
 */
export async function sql(p: Pipeline, statement: string): Promise<QueryAnswer> {
  const headers = { authorization: `Bearer ${p.queryToken}`, 'content-type': 'application/json' };
  const base = p.url('query-api');
  let page = await json<Page>(
    await fetch(`${base}/v1/query`, { method: 'POST', headers, body: JSON.stringify({ sql: statement, maxRows: 100_000, pageSize: 10_000, cache: { bypass: true } }) }),
    statement,
  );
  if (page.truncated) throw new Error(`more than 100000 rows: ${statement}`);
  const columns = page.columns;
  const rows = [...page.rows];
  while (page.nextCursor) {
    page = await json<Page>(await fetch(`${base}/v1/results/${page.nextCursor}?pageSize=10000`, { headers }), `next page of ${statement}`);
    rows.push(...page.rows);
  }
  return { columns, rows: rowObjects(columns, rows) };
}

/** Tables of the run's lake namespace, as the query API lists them. */
export async function tables(p: Pipeline): Promise<string[]> {
  return (await sql(p, 'SHOW TABLES')).rows.map((r) => String(r['Table']));
}
