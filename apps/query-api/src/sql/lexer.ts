/**
 * A tokenizer that follows Trino's own lexical rules (SqlBase.g4): strings with '' escapes and no
 * backslash escapes, "quoted identifiers" with "" escapes, `--` line comments, non-nesting block
 * comments, whitespace limited to space, tab, CR and LF. The guard compares its view of a statement
 * with the parser's, and saved queries use it to find `:name` placeholders outside literals.
 */

export type TokenKind = 'word' | 'number' | 'string' | 'quoted' | 'comment' | 'space' | 'symbol' | 'placeholder';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character (UTF-16 code units). */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

export class LexError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'LexError';
  }
}

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const SPACE = new Set([' ', '\t', '\r', '\n']);

/**
 * Characters refused anywhere, even inside literals and comments: C0/C1 controls (other than tab,
 * CR, LF), bidirectional overrides and isolates, zero-width and other invisible format characters,
 * variation selectors and fillers. They are how "Trojan Source" style statements show one thing to
 * a reviewer and another to a parser.
 */
const FORBIDDEN_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00, 0x08],
  [0x0b, 0x0c],
  [0x0e, 0x1f],
  [0x7f, 0x9f],
  [0xad, 0xad],
  [0x34f, 0x34f],
  [0x61c, 0x61c],
  [0x115f, 0x1160],
  [0x17b4, 0x17b5],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x206f],
  [0x3164, 0x3164],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
  [0xffa0, 0xffa0],
  [0xfff9, 0xfffb],
  [0xe0000, 0xe0fff],
];

/** True for a code point refused anywhere in a statement (see {@link FORBIDDEN_RANGES}). */
export function isForbiddenCodePoint(code: number): boolean {
  return FORBIDDEN_RANGES.some(([low, high]) => code >= low && code <= high);
}

/** Offset and code of the first forbidden character, if any. */
export function findForbiddenCharacter(sql: string): { offset: number; codePoint: string } | undefined {
  for (let i = 0; i < sql.length; i++) {
    const code = sql.codePointAt(i) ?? 0;
    if (isForbiddenCodePoint(code)) return { offset: i, codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}` };
    if (code > 0xffff) i++;
  }
  return undefined;
}

/**
 * Splits `sql` into tokens. Throws {@link LexError} on an unterminated literal or comment, a
 * backquoted identifier, or a non-ASCII character outside string literals, quoted identifiers and
 * comments (Trino accepts none there, and look-alike letters are a classic guard bypass).
 */
export function tokenize(sql: string, opts: { placeholders?: boolean } = {}): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, start: number, end: number) => tokens.push({ kind, text: sql.slice(start, end), start, end });

  const quoted = (start: number, open: number, quote: string, what: string): number => {
    let j = open + 1;
    for (;;) {
      if (j >= n) throw new LexError(`unterminated ${what}`, start);
      if (sql[j] === quote) {
        if (sql[j + 1] === quote) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
  };

  while (i < n) {
    const c = sql.charAt(i);
    const next = sql[i + 1];
    if (SPACE.has(c)) {
      let j = i + 1;
      while (j < n && SPACE.has(sql.charAt(j))) j++;
      push('space', i, j);
      i = j;
    } else if (c === '-' && next === '-') {
      let j = i + 2;
      while (j < n && sql[j] !== '\n' && sql[j] !== '\r') j++;
      push('comment', i, j);
      i = j;
    } else if (c === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new LexError('unterminated block comment', i);
      push('comment', i, close + 2);
      i = close + 2;
    } else if (c === "'") {
      const end = quoted(i, i, "'", 'string literal');
      push('string', i, end);
      i = end;
    } else if ((c === 'U' || c === 'u') && next === '&' && sql[i + 2] === "'") {
      const end = quoted(i, i + 2, "'", 'string literal');
      push('string', i, end);
      i = end;
    } else if ((c === 'X' || c === 'x') && next === "'") {
      // Binary literals have no '' escape in Trino's grammar: the first quote closes them.
      const close = sql.indexOf("'", i + 2);
      if (close < 0) throw new LexError('unterminated binary literal', i);
      push('string', i, close + 1);
      i = close + 1;
    } else if (c === '"') {
      const end = quoted(i, i, '"', 'quoted identifier');
      push('quoted', i, end);
      i = end;
    } else if (c === '`') {
      throw new LexError('backquoted identifiers are not supported; use "double quotes"', i);
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_PART.test(sql.charAt(j))) j++;
      push('word', i, j);
      i = j;
    } else if (DIGIT.test(c) || (c === '.' && next !== undefined && DIGIT.test(next))) {
      let j = i + 1;
      while (j < n) {
        const d = sql.charAt(j);
        if (WORD_PART.test(d) || d === '.') j++;
        else if ((d === '+' || d === '-') && /[eE]/.test(sql.charAt(j - 1)) && !/^0[xX]/.test(sql.slice(i, j))) j++;
        else break;
      }
      push('number', i, j);
      i = j;
    } else if (opts.placeholders && c === ':' && next !== undefined && WORD_START.test(next)) {
      let j = i + 2;
      while (j < n && WORD_PART.test(sql.charAt(j))) j++;
      push('placeholder', i, j);
      i = j;
    } else if (c.charCodeAt(0) > 0x7e || c.charCodeAt(0) < 0x20) {
      throw new LexError(`character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is only allowed inside string literals, quoted identifiers and comments`, i);
    } else {
      push('symbol', i, i + 1);
      i++;
    }
  }
  return tokens;
}

/** Tokens that carry meaning: no whitespace, no comments. */
export function significant(tokens: Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** 1-based line and column of `offset` in `text`, as Trino reports positions. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
