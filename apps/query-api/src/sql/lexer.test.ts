import { LexError, findForbiddenCharacter, lineColumn, significant, tokenize } from './lexer';

const kinds = (sql: string, placeholders = false) => significant(tokenize(sql, { placeholders })).map((t) => `${t.kind}:${t.text}`);

describe('tokenize (Trino lexical rules)', () => {
  it.each([
    ["SELECT 'a''b' FROM t", ['word:SELECT', "string:'a''b'", 'word:FROM', 'word:t']],
    ['SELECT "x""y"', ['word:SELECT', 'quoted:"x""y"']],
    ["SELECT 'a\\' , 1", ['word:SELECT', "string:'a\\'", 'symbol:,', 'number:1']],
    ["SELECT U&'\\0041', X'ff'", ['word:SELECT', "string:U&'\\0041'", 'symbol:,', "string:X'ff'"]],
    ['SELECT 1e-5, 0x1F, 1_000, .5', ['word:SELECT', 'number:1e-5', 'symbol:,', 'number:0x1F', 'symbol:,', 'number:1_000', 'symbol:,', 'number:.5']],
  ])('%s', (sql, expected) => {
    expect(kinds(sql)).toEqual(expected);
  });

  it('ends a block comment at the first */ (Trino does not nest them)', () => {
    const tokens = tokenize('/* a /* b */ SELECT */');
    expect(tokens.map((t) => t.kind)).toEqual(['comment', 'space', 'word', 'space', 'symbol', 'symbol']);
  });

  it('ends a line comment at CR or LF', () => {
    expect(kinds('SELECT 1 -- x\r; DROP')).toEqual(['word:SELECT', 'number:1', 'symbol:;', 'word:DROP']);
  });

  it('reads :name placeholders only outside literals and comments, and only when asked', () => {
    expect(kinds("SELECT :a, ':b', \":c\" -- :d", true)).toEqual(['word:SELECT', 'placeholder::a', 'symbol:,', "string:':b'", 'symbol:,', 'quoted:":c"']);
    expect(kinds('SELECT :a')).toEqual(['word:SELECT', 'symbol::', 'word:a']);
  });

  it.each([
    ["SELECT 'open", 'unterminated string literal'],
    ['SELECT "open', 'unterminated quoted identifier'],
    ['SELECT /* open', 'unterminated block comment'],
    ['SELECT `x`', 'backquoted identifiers are not supported'],
    ['SELECT \u00e9', 'only allowed inside string literals'],
    ['SELECT\u00a01', 'U+00A0'],
  ])('refuses %j', (sql, message) => {
    expect(() => tokenize(sql)).toThrow(LexError);
    expect(() => tokenize(sql)).toThrow(message);
  });

  it('accepts any character inside literals and comments', () => {
    expect(() => tokenize("SELECT '\u00e9\u{1F600}' /* \u00fc */ -- \u4e2d")).not.toThrow();
  });
});

describe('findForbiddenCharacter', () => {
  it.each(['\u200b', '\u202e', '\u2066', '\ufeff', '\u0000', '\u000b', '\u00ad', '\u2060'])('finds %j anywhere', (c) => {
    expect(findForbiddenCharacter(`SELECT '${c}'`)).toMatchObject({ offset: 8 });
  });
  it('accepts tab, CR, LF and printable text', () => {
    expect(findForbiddenCharacter("SELECT\t1\r\n, 'é中😀'")).toBeUndefined();
  });
});

describe('lineColumn', () => {
  it('is 1-based', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
