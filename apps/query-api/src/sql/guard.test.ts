import type { Token as AntlrToken } from 'antlr4ng';
import fc from 'fast-check';
import { GUARD_ALLOWED, GUARD_ATTACKS } from './guard-corpus';
import { guardSql, sameLexicalReading } from './guard';
import { tokenize } from './lexer';
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
