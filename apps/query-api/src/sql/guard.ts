import type { ParseTree, ParserRuleContext, Token as AntlrToken } from 'antlr4ng';
import {
  ExplainAnalyzeContext,
  ExplainContext,
  ShowCatalogsContext,
  ShowColumnsContext,
  ShowCreateFunctionContext,
  ShowCreateMaterializedViewContext,
  ShowCreateSchemaContext,
  ShowCreateTableContext,
  ShowCreateViewContext,
  ShowFunctionsContext,
  ShowGrantsContext,
  ShowRoleGrantsContext,
  ShowRolesContext,
  ShowSchemasContext,
  ShowSessionContext,
  ShowStatsContext,
  ShowStatsForQueryContext,
  ShowTablesContext,
  StatementDefaultContext,
  TableFunctionCallContext,
  type StatementContext,
} from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser';
import { LexError, findForbiddenCharacter, lineColumn, significant, tokenize, type Token } from './lexer';
import { TrinoSqlLexer, parseTrinoProgram } from './trino-grammar';

/**
 * The first line of defence of `POST /v1/query`: one read-only statement or nothing. Two independent
 * readings of the text must agree before a statement passes: Trino's grammar (which statement is
 * it?) and a tokenizer written to Trino's lexical rules (where do literals and comments start and
 * end?). Any disagreement is refused, so a lexical quirk in one of them cannot hide a second
 * statement or a write. The read-only Trino user is the second line of defence.
 */

export type GuardRejection =
  | 'empty'
  | 'too_long'
  | 'forbidden_character'
  | 'lexical_error'
  | 'syntax_error'
  | 'multiple_statements'
  | 'statement_not_allowed'
  | 'table_function_not_allowed'
  | 'too_deep'
  | 'ambiguous';

export const GUARD_REJECTIONS: readonly GuardRejection[] = [
  'empty',
  'too_long',
  'forbidden_character',
  'lexical_error',
  'syntax_error',
  'multiple_statements',
  'statement_not_allowed',
  'table_function_not_allowed',
  'too_deep',
  'ambiguous',
];

/**
 * Deepest nesting the grammar is asked to parse: each bracket, CASE ... END and lambda body adds a
 * level. ANTLR's prediction work and stack use grow with nesting (a few hundred parentheses took
 * seconds of CPU on the event loop, a few thousand overflowed the stack), so deeper statements are
 * refused before parsing. Hand-written and generated analytics SQL stays far below it.
 */
export const MAX_NESTING_DEPTH = 32;

export type StatementKind = 'select' | 'show' | 'describe' | 'explain';

export type GuardResult =
  | { ok: true; kind: StatementKind; /** The statement as sent to Trino: no trailing semicolon or comment. */ sql: string }
  | { ok: false; reason: GuardRejection; message: string; position?: { line: number; column: number } };

export interface GuardOptions {
  /** Longest statement accepted, in characters. */
  maxLength: number;
}

/** Table functions of `system.builtin` that only read: the rest (connector pass-through `query`, ...) are refused. */
const ALLOWED_TABLE_FUNCTIONS = new Set(['sequence', 'exclude_columns', 'system.sequence', 'system.exclude_columns', 'system.builtin.sequence', 'system.builtin.exclude_columns']);

const SHOW_STATEMENTS = [
  ShowCatalogsContext,
  ShowSchemasContext,
  ShowTablesContext,
  ShowCreateTableContext,
  ShowCreateSchemaContext,
  ShowCreateViewContext,
  ShowCreateMaterializedViewContext,
  ShowCreateFunctionContext,
  ShowStatsContext,
  ShowStatsForQueryContext,
  ShowFunctionsContext,
  ShowSessionContext,
  ShowRolesContext,
  ShowRoleGrantsContext,
  ShowGrantsContext,
];

/** Leading keyword of each allowed statement kind, as the tokenizer sees it. */
const LEADING_KEYWORDS: Record<string, StatementKind> = { SELECT: 'select', WITH: 'select', '(': 'select', SHOW: 'show', DESCRIBE: 'describe', DESC: 'describe', EXPLAIN: 'explain' };

const reject = (reason: GuardRejection, message: string, position?: { line: number; column: number }): GuardResult =>
  position ? { ok: false, reason, message, position } : { ok: false, reason, message };

/** Checks that `sql` is exactly one SELECT, WITH, SHOW, DESCRIBE or EXPLAIN statement. Pure; never throws. */
export function guardSql(sql: string, opts: GuardOptions): GuardResult {
  if (sql.length > opts.maxLength) return reject('too_long', `statement is longer than ${opts.maxLength} characters`);
  const forbidden = findForbiddenCharacter(sql);
  if (forbidden) return reject('forbidden_character', `invisible or control character ${forbidden.codePoint} is not allowed`, lineColumn(sql, forbidden.offset));

  let tokens: Token[];
  try {
    tokens = tokenize(sql);
  } catch (err) {
    if (err instanceof LexError) return reject('lexical_error', err.message, lineColumn(sql, err.offset));
    throw err;
  }
  const meaningful = significant(tokens);

  // One statement: a semicolon may only end it.
  const semicolons = meaningful.filter((t) => t.kind === 'symbol' && t.text === ';');
  const firstSemicolon = semicolons[0];
  if (firstSemicolon && (semicolons.length > 1 || firstSemicolon !== meaningful.at(-1))) {
    return reject('multiple_statements', 'only one statement is allowed', lineColumn(sql, firstSemicolon.start));
  }
  const body = firstSemicolon ? meaningful.slice(0, -1) : meaningful;
  const first = body[0];
  const end = body.at(-1)?.end;
  if (!first || end === undefined) return reject('empty', 'no statement');
  const leading = LEADING_KEYWORDS[first.kind === 'word' ? first.text.toUpperCase() : first.text];
  if (!leading) {
    return reject('statement_not_allowed', `only SELECT, WITH, SHOW, DESCRIBE and EXPLAIN statements are allowed, not ${first.text.toUpperCase().slice(0, 30)}`, lineColumn(sql, first.start));
  }

  const deep = exceedsNesting(body, MAX_NESTING_DEPTH);
  if (deep) {
    return reject('too_deep', `statement is nested deeper than ${MAX_NESTING_DEPTH} levels (brackets, CASE and lambdas count)`, lineColumn(sql, deep.start));
  }

  let parsed: ReturnType<typeof parseTrinoProgram>;
  try {
    parsed = parseTrinoProgram(sql);
  } catch (err) {
    // The parser's recursion can still run out of stack on a shape the nesting count does not see.
    if (err instanceof RangeError) return reject('too_deep', 'statement is too deeply nested to parse');
    throw err;
  }
  const error = parsed.errors[0];
  if (error) {
    return reject('syntax_error', error.message, { line: error.line, column: error.column });
  }
  const statements = parsed.program.statements();
  const only = statements[0];
  if (!only || statements.length !== 1) return reject('multiple_statements', 'only one statement is allowed');
  if (!sameLexicalReading(sql, tokens, parsed.tokens)) {
    return reject('ambiguous', 'the statement reads differently to the guard and to the SQL grammar; simplify its comments, quotes or literals');
  }

  const statement = only.singleStatement().statement();
  const kind = classify(statement);
  if (!kind.ok) return reject('statement_not_allowed', kind.message, positionOf(statement));
  if (kind.kind !== leading && !(leading === 'describe' && kind.kind === 'show')) {
    return reject('ambiguous', 'the statement kind differs between the guard and the SQL grammar');
  }
  const tableFunction = findDisallowedTableFunction(statement);
  if (tableFunction) {
    return reject('table_function_not_allowed', `table function ${tableFunction.name} is not allowed`, positionOf(tableFunction.node));
  }
  return { ok: true, kind: leading, sql: sql.slice(0, end).trim() };
}

/**
 * The token at which `tokens` (significant ones) first nest deeper than `max`, or undefined. Opening
 * brackets, CASE and the `->` of a lambda open a level; a closing bracket closes everything opened
 * since its bracket, END the innermost CASE.
 */
export function exceedsNesting(tokens: readonly Token[], max: number): Token | undefined {
  const open: Array<'(' | '[' | 'case' | 'lambda'> = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1];
    let opened = false;
    if (token.kind === 'symbol') {
      if (token.text === '(' || token.text === '[') {
        open.push(token.text);
        opened = true;
      } else if (token.text === ')' || token.text === ']') {
        const at = open.lastIndexOf(token.text === ')' ? '(' : '[');
        if (at >= 0) open.length = at;
      } else if (token.text === '-' && next?.text === '>' && next.start === token.end) {
        open.push('lambda');
        opened = true;
      }
    } else if (token.kind === 'word') {
      const word = token.text.toUpperCase();
      if (word === 'CASE') {
        open.push('case');
        opened = true;
      } else if (word === 'END') {
        while (open.at(-1) === 'lambda') open.pop();
        if (open.at(-1) === 'case') open.pop();
      }
    }
    if (opened && open.length > max) return token;
  }
  return undefined;
}

function classify(statement: StatementContext): { ok: true; kind: StatementKind } | { ok: false; message: string } {
  if (statement instanceof StatementDefaultContext) return { ok: true, kind: 'select' };
  if (statement instanceof ShowColumnsContext) return { ok: true, kind: statement.KW_SHOW() ? 'show' : 'describe' };
  if (SHOW_STATEMENTS.some((type) => statement instanceof type)) return { ok: true, kind: 'show' };
  if (statement instanceof ExplainAnalyzeContext) {
    // EXPLAIN ANALYZE runs its statement: only a query may follow it.
    if (statement.statement() instanceof StatementDefaultContext) return { ok: true, kind: 'explain' };
    return { ok: false, message: 'EXPLAIN ANALYZE runs its statement; only a query may follow it' };
  }
  if (statement instanceof ExplainContext) {
    const inner = classify(statement.statement());
    return inner.ok ? { ok: true, kind: 'explain' } : inner;
  }
  return { ok: false, message: `${statementName(statement)} statements are not allowed; only SELECT, WITH, SHOW, DESCRIBE and EXPLAIN` };
}

/** A readable name for a refused statement, from the grammar's alternative (InsertIntoContext -> INSERT INTO). */
function statementName(statement: StatementContext): string {
  const words: string[] = [];
  for (let i = 0; i < statement.getChildCount() && words.length < 3; i++) {
    const child = statement.getChild(i);
    const text = child?.getText() ?? '';
    if (/^[A-Za-z]+$/.test(text)) words.push(text.toUpperCase());
    else break;
  }
  return words.join(' ') || 'such';
}

function findDisallowedTableFunction(node: ParseTree): { name: string; node: ParserRuleContext } | undefined {
  if (node instanceof TableFunctionCallContext) {
    const name = node.functionName().getText().toLowerCase().replace(/"/g, '');
    if (!ALLOWED_TABLE_FUNCTIONS.has(name)) return { name, node };
  }
  for (let i = 0; i < node.getChildCount(); i++) {
    const child = node.getChild(i);
    const found = child ? findDisallowedTableFunction(child) : undefined;
    if (found) return found;
  }
  return undefined;
}

function positionOf(node: ParserRuleContext): { line: number; column: number } | undefined {
  const start = node.start;
  return start ? { line: start.line, column: start.column + 1 } : undefined;
}

const LITERAL_TYPES = new Map<number, 'string' | 'quoted' | 'comment'>([
  [TrinoSqlLexer.STRING, 'string'],
  [TrinoSqlLexer.UNICODE_STRING, 'string'],
  [TrinoSqlLexer.BINARY_LITERAL, 'string'],
  [TrinoSqlLexer.QUOTED_IDENTIFIER, 'quoted'],
  [TrinoSqlLexer.BACKQUOTED_IDENTIFIER, 'quoted'],
  [TrinoSqlLexer.LINE_COMMENT, 'comment'],
  [TrinoSqlLexer.BRACKETED_COMMENT, 'comment'],
]);

/**
 * True when both lexers put string literals, quoted identifiers and comments at the same places.
 * ANTLR counts code points where JavaScript counts UTF-16 units; offsets are compared in code points.
 */
export function sameLexicalReading(sql: string, ours: Token[], theirs: AntlrToken[]): boolean {
  const toCodePoint = codePointIndex(sql);
  const mine = ours
    .filter((t) => t.kind === 'string' || t.kind === 'quoted' || t.kind === 'comment')
    .map((t) => `${t.kind}:${toCodePoint(t.start)}:${toCodePoint(t.end)}`);
  const grammar: string[] = [];
  for (const token of theirs) {
    const kind = LITERAL_TYPES.get(token.type);
    if (!kind) continue;
    let stop = token.stop + 1;
    // Trino's line comment swallows its line break; ours stops before it.
    if (kind === 'comment') {
      const text = token.text ?? '';
      stop -= text.length - text.replace(/[\r\n]+$/, '').length;
    }
    grammar.push(`${kind}:${token.start}:${stop}`);
  }
  return mine.length === grammar.length && mine.every((span, i) => span === grammar[i]);
}

function codePointIndex(text: string): (utf16Offset: number) => number {
  if (!/[\uD800-\uDFFF]/.test(text)) return (offset) => offset;
  const map = new Array<number>(text.length + 1);
  let cp = 0;
  for (let i = 0; i <= text.length; i++) {
    map[i] = cp;
    const code = text.charCodeAt(i);
    if (!(code >= 0xd800 && code <= 0xdbff && i + 1 < text.length)) cp++;
  }
  return (offset) => map[offset] ?? cp;
}
