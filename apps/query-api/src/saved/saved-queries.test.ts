import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardSql } from '../sql/guard';
import { defaultSavedQueriesDir, loadSavedQueries, renderSavedQuery, type SavedQuery } from './saved-queries';

const opts = { maxSqlLength: 64 * 1024 };

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'saved-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const query = (sql: string, parameters: SavedQuery['parameters']): SavedQuery => ({ name: 'q', description: 'd', sql, parameters, source: 'q.yaml' });

describe('saved queries', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const load = (files: Record<string, string>) => {
    const dir = dirWith(files);
    dirs.push(dir);
    return () => loadSavedQueries(dir, opts);
  };

  it('loads the shipped dashboard queries, each with a dashboard panel', () => {
    const queries = loadSavedQueries(defaultSavedQueriesDir(), opts);
    expect([...queries.keys()].sort()).toEqual(['active_users', 'dlq_rate', 'events_per_minute', 'freshness', 'sessions']);
    for (const q of queries.values()) expect(q.dashboard?.title).toEqual(expect.any(String));
  });

  it('renders typed literals: UTC timestamps, quoted strings, typed numbers', () => {
    const q = query('SELECT * FROM events WHERE occurred_at >= :from AND event_type = :type AND n > 1 -:n AND d = :day AND b = :flag', {
      from: { type: 'timestamp', required: true },
      type: { type: 'string', required: true, maxLength: 200 },
      n: { type: 'integer', required: false, default: 5 },
      day: { type: 'date', required: true },
      flag: { type: 'boolean', required: true },
    });
    const { sql } = renderSavedQuery(q, { from: '2026-01-31T13:00:00+01:00', type: "x' OR '1'='1", n: -5, day: '2026-01-31', flag: false });
    expect(sql).toBe(
      "SELECT * FROM events WHERE occurred_at >= TIMESTAMP '2026-01-31 12:00:00.000 UTC' AND event_type = 'x'' OR ''1''=''1' AND n > 1 -BIGINT '-5' AND d = DATE '2026-01-31' AND b = FALSE",
    );
    // The rendered statement is still one read-only statement: no value can change its shape.
    expect(guardSql(sql, { maxLength: 10_000 })).toMatchObject({ ok: true, kind: 'select' });
  });

  it('does not touch placeholders inside literals or comments', () => {
    const q = query("SELECT ':a' AS s, :a AS v -- :a", { a: { type: 'integer', required: true } });
    expect(renderSavedQuery(q, { a: 1 }).sql).toBe("SELECT ':a' AS s, BIGINT '1' AS v -- :a");
  });

  it('names every invalid, missing and unknown parameter', () => {
    const q = query('SELECT :from, :bucket, :n', {
      from: { type: 'timestamp', required: true },
      bucket: { type: 'string', required: false, enum: ['minute', 'hour'], maxLength: 200 },
      n: { type: 'integer', required: false, minimum: 1, maximum: 10 },
    });
    let error: unknown;
    try {
      renderSavedQuery(q, { from: 'yesterday', bucket: 'week', n: 11, extra: 1 });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({
      status: 400,
      code: 'invalid_parameters',
      extra: { details: { parameters: { from: expect.stringContaining('RFC 3339'), bucket: 'must be one of minute, hour', n: 'must be at most 10', extra: 'is not a parameter of this query' } } },
    });
    expect(() => renderSavedQuery(q, {})).toThrow('from is required');
    expect(() => renderSavedQuery(q, { from: '2026-01-01T00:00:00Z', bucket: 'minute\u0000' })).toThrow('control');
  });

  it.each([
    ['an undeclared placeholder', 'name: a\ndescription: d\nsql: SELECT :x\n', ':x is used but not declared'],
    ['an unused parameter', 'name: a\ndescription: d\nsql: SELECT 1\nparameters:\n  x: { type: integer }\n', 'declared but not used'],
    ['a default of the wrong type', "name: a\ndescription: d\nsql: SELECT :x\nparameters:\n  x: { type: integer, default: 'one' }\n", 'parameters.x.default'],
    ['a default out of range', 'name: a\ndescription: d\nsql: SELECT :x\nparameters:\n  x: { type: integer, maximum: 3, default: 5 }\n', 'default of x must be at most 3'],
    ['a write', 'name: a\ndescription: d\nsql: DELETE FROM events\n', 'refused by the SQL guard'],
    ['two statements', 'name: a\ndescription: d\nsql: SELECT 1; DROP TABLE events\n', 'refused by the SQL guard'],
    ['an unknown field', 'name: a\ndescription: d\nsql: SELECT 1\nowner: me\n', 'Unrecognized key'],
    ['a bad name', 'name: Bad-Name\ndescription: d\nsql: SELECT 1\n', 'name:'],
  ])('refuses a definition with %s', (_label, text, message) => {
    expect(load({ 'a.yaml': text })).toThrow(message);
  });

  it('refuses a name defined twice, naming both files', () => {
    const text = 'name: a\ndescription: d\nsql: SELECT 1\n';
    expect(load({ 'one.yaml': text, 'two.yml': text })).toThrow('two.yml: query a is already defined in one.yaml');
  });

  it('reads several queries from one file as YAML documents', () => {
    const queries = load({ 'many.yaml': 'name: a\ndescription: d\nsql: SELECT 1\n---\nname: b\ndescription: d\nsql: SHOW TABLES\n' })();
    expect([...queries.keys()]).toEqual(['a', 'b']);
  });
});
