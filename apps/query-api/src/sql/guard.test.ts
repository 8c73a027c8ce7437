import type { Token as AntlrToken } from 'antlr4ng';
import fc from 'fast-check';
import { GUARD_ALLOWED, GUARD_ATTACKS } from './guard-corpus';
import { MAX_NESTING_DEPTH, exceedsNesting, guardSql, sameLexicalReading } from './guard';
import { significant, tokenize } from './lexer';
import { TrinoSqlLexer, parseTrinoProgram } from './trino-grammar';

const opts = { maxLength: 10_000 };

describe('guardSql', () => {
  it.each(GUARD_ATTACKS.map((a) => [a.category, JSON.stringify(a.sql), a.sql] as const))('refuses (%s) %s', (_category, _label, sql) => {
    const result = guardSql(sql, opts);
    expect(result.ok).toBe(false);
  });

  it.each(GUARD_ALLOWED.map((sql) => [sql]))('allows %s', (sql) => {
    const result = guardSql(sql, opts);
    expect(result).toMatchObject({ ok: true });
  });

  it('sends the statement without its trailing semicolon and comment', () => {
    expect(guardSql('  SELECT 1 ; -- done\n', opts)).toEqual({ ok: true, kind: 'select', sql: 'SELECT 1' });
    expect(guardSql('SELECT 1 -- note', opts)).toEqual({ ok: true, kind: 'select', sql: 'SELECT 1' });
  });

  it.each([
    ['SELECT 1', 'select'],
    ['WITH a AS (SELECT 1) SELECT * FROM a', 'select'],
    ['SHOW TABLES', 'show'],
    ['DESCRIBE events', 'describe'],
    ['EXPLAIN SELECT 1', 'explain'],
  ])('classifies %s as %s', (sql, kind) => {
    expect(guardSql(sql, opts)).toMatchObject({ ok: true, kind });
  });

  it('names the reason and the position of a refusal', () => {
    expect(guardSql('SELECT 1;\nDROP TABLE events', opts)).toMatchObject({ ok: false, reason: 'multiple_statements', position: { line: 1, column: 9 } });
    expect(guardSql('DROP TABLE events', opts)).toMatchObject({ ok: false, reason: 'statement_not_allowed', position: { line: 1, column: 1 } });
    expect(guardSql('SELECT 1\u200B', opts)).toMatchObject({ ok: false, reason: 'forbidden_character', message: expect.stringContaining('U+200B') });
    expect(guardSql('SELECT * FROM\nWHERE', opts)).toMatchObject({ ok: false, reason: 'syntax_error', position: { line: 2, column: 1 } });
    expect(guardSql("SELECT * FROM TABLE(system.query(query => 'x'))", opts)).toMatchObject({ ok: false, reason: 'table_function_not_allowed' });
    expect(guardSql('EXPLAIN ANALYZE DELETE FROM events', opts)).toMatchObject({ ok: false, reason: 'statement_not_allowed' });
  });

  it('refuses statements over the length limit before parsing them', () => {
    expect(guardSql(`SELECT ${'1 + '.repeat(100)}1`, { maxLength: 50 })).toMatchObject({ ok: false, reason: 'too_long' });
  });

  // Regression (fuzzing): a few hundred nested parentheses kept the parser (and the event loop) busy
  // for many seconds, a few thousand overflowed its stack and the RangeError was answered 500.
  it.each([
    ['parentheses', (n: number) => `SELECT ${'('.repeat(n)}1${')'.repeat(n)}`],
    ['unclosed parentheses', (n: number) => `SELECT ${'(1,'.repeat(n)}`],
    ['CASE', (n: number) => `SELECT ${'CASE WHEN 1=1 THEN '.repeat(n)}1${' END'.repeat(n)}`],
    ['lambdas', (n: number) => `SELECT ${'x -> '.repeat(n)}1`],
    ['arrays', (n: number) => `SELECT ${'ARRAY['.repeat(n)}1${']'.repeat(n)}`],
    ['subqueries', (n: number) => `SELECT * FROM ${'(SELECT * FROM '.repeat(n)}events${')'.repeat(n)}`],
  ])('refuses %s nested thousands deep as too_deep, before parsing', (_shape, make) => {
    const started = Date.now();
    expect(guardSql(make(2_500), { maxLength: 100_000 })).toMatchObject({ ok: false, reason: 'too_deep', position: { line: 1 } });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it(`allows ${MAX_NESTING_DEPTH} levels of nesting and refuses one more`, () => {
    const nest = (n: number) => `SELECT ${'('.repeat(n)}1${')'.repeat(n)}`;
    expect(guardSql(nest(MAX_NESTING_DEPTH), opts)).toMatchObject({ ok: true });
    expect(guardSql(nest(MAX_NESTING_DEPTH + 1), opts)).toMatchObject({ ok: false, reason: 'too_deep', position: { line: 1, column: 8 + MAX_NESTING_DEPTH } });
  });

  it('counts nesting by brackets, CASE and lambda bodies, not by siblings', () => {
    const depthOver = (sql: string, max: number) => exceedsNesting(significant(tokenize(sql)), max)?.start;
    expect(depthOver(`SELECT ${Array.from({ length: 50 }, () => '((1))').join(', ')}`, 2)).toBeUndefined();
    expect(depthOver('SELECT transform(a, x -> 1), transform(b, y -> transform(c, z -> 2))', 4)).toBeUndefined();
    expect(depthOver('SELECT transform(b, y -> transform(c, z -> 2))', 3)).toBe(40);
    expect(depthOver('SELECT (CASE WHEN a THEN (1) END), CASE WHEN b THEN 2 END', 3)).toBeUndefined();
    expect(depthOver('SELECT (CASE WHEN a THEN (1) END)', 2)).toBe(25);
    expect(depthOver("SELECT '((((((' AS text, \"((\" FROM t -- ((((", 1)).toBeUndefined();
  });

  it('never lets a statement with a second statement after any comment or literal through', () => {
    // Property: whatever read-only prefix and filler (comments, literals, whitespace) precede it,
    // a DROP after a top-level semicolon is refused, and the guard never throws.
    const filler = fc.constantFrom(' ', '\n', '/* x */', "'str;'", '"id;"', '-- c\n', "U&'x'", '\r\n');
    fc.assert(
      fc.property(fc.array(filler, { maxLength: 6 }), fc.constantFrom('SELECT 1', 'SHOW TABLES', 'EXPLAIN SELECT 1'), (parts, head) => {
        const sql = `${head} ${parts.join('')}; DROP TABLE events`;
        const result = guardSql(sql, opts);
        return !result.ok;
      }),
      { numRuns: 300 },
    );
  });

  it('does not throw on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80, unit: 'binary' }), (sql) => {
        const result = guardSql(sql, opts);
        return typeof result.ok === 'boolean';
      }),
      { numRuns: 300 },
    );
  });
});

describe('sameLexicalReading', () => {
  // Fake grammar tokens: only type, channel and span matter to the comparison.
  const token = (type: number, start: number, stop: number, text: string) => ({ type, start, stop, text, channel: 1 }) as unknown as AntlrToken;

  it('agrees with the grammar on real statements, astral characters included', () => {
    for (const sql of ["SELECT '\u{1F600}' AS e -- \u{1F600}\n, \"\u{1F600}\" /* x */", "SELECT U&'x', X'ff' -- end"]) {
      expect(sameLexicalReading(sql, tokenize(sql), parseTrinoProgram(sql).tokens)).toBe(true);
    }
  });

  it('refuses when the grammar puts a comment or literal elsewhere (e.g. a nesting comment rule)', () => {
    const sql = 'SELECT 1 /* a /* b */ ; DROP TABLE t /* */';
    const ours = tokenize(sql);
    // A lexer that nested block comments would read one comment from offset 9 to the end.
    expect(sameLexicalReading(sql, ours, [token(TrinoSqlLexer.BRACKETED_COMMENT, 9, sql.length - 1, sql.slice(9))])).toBe(false);
    expect(sameLexicalReading(sql, ours, parseTrinoProgram(sql).tokens)).toBe(true);
  });
});
