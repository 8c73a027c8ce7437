import { BasicAuth, Trino } from 'trino-client';
import { PipelineError } from '@pipeline/runtime';

export interface TrinoSettings {
  TRINO_URL: string;
  TRINO_USER: string;
  TRINO_PASSWORD?: string | undefined;
  TRINO_CATALOG: string;
}

export interface QueryResult {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
}

/** A trino-client for the lake catalog. */
export function createTrino(settings: TrinoSettings, schema?: string): Trino {
  return Trino.create({
    server: settings.TRINO_URL,
    catalog: settings.TRINO_CATALOG,
    ...(schema ? { schema } : {}),
    auth: new BasicAuth(settings.TRINO_USER, settings.TRINO_PASSWORD),
  });
}

/**
 * Runs one statement to completion and collects every row. Trino errors become
 * `invalid_input` PipelineErrors carrying Trino's message; transport failures `dependency_unavailable`.
 */
export async function queryAll(trino: Trino, sql: string, opts: { session?: Record<string, string> } = {}): Promise<QueryResult> {
  const result: QueryResult = { columns: [], rows: [] };
  let iterator;
  try {
    iterator = await trino.query(opts.session ? { query: sql, session: opts.session } : sql);
  } catch (err) {
    throw new PipelineError('dependency_unavailable', `Trino unreachable: ${(err as Error).message}`, { cause: err });
  }
  for await (const page of iterator) {
    if (page.error) {
      throw new PipelineError('invalid_input', `Trino: ${page.error.message}`, { cause: page.error, retriable: false });
    }
    if (page.columns && result.columns.length === 0) result.columns = page.columns.map((c) => ({ name: c.name, type: c.type }));
    if (page.data) result.rows.push(...page.data);
  }
  return result;
}

/** Quotes an identifier for Trino SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for Trino SQL. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
