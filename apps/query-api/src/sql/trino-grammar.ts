import { CharStreams, CommonTokenStream, PredictionMode, type ANTLRErrorListener, type Token as AntlrToken } from 'antlr4ng';
import { TrinoSqlLexer } from 'dt-sql-parser/dist/lib/trino/TrinoSqlLexer';
import { TrinoSqlParser, type ProgramContext } from 'dt-sql-parser/dist/lib/trino/TrinoSqlParser';

/**
 * Trino's SQL grammar (SqlBase.g4, as generated for ANTLR 4 by dt-sql-parser), so statements are
 * classified by the same rules Trino parses them with, not by a generic SQL dialect.
 */

export interface GrammarError {
  message: string;
  /** 1-based, like Trino's own positions. */
  line: number;
  column: number;
}

export interface ParsedProgram {
  program: ProgramContext;
  /** Every token the lexer produced, hidden channel (whitespace, comments) included. */
  tokens: AntlrToken[];
  errors: GrammarError[];
}

function collector(errors: GrammarError[]): ANTLRErrorListener {
  return {
    syntaxError: (_recognizer, _symbol, line, column, msg) => void errors.push({ message: msg, line, column: column + 1 }),
    reportAmbiguity: () => undefined,
    reportAttemptingFullContext: () => undefined,
    reportContextSensitivity: () => undefined,
  };
}

function parseWith(sql: string, mode: 'sll' | 'll'): ParsedProgram {
  const errors: GrammarError[] = [];
  const lexer = new TrinoSqlLexer(CharStreams.fromString(sql));
  lexer.removeErrorListeners();
  lexer.addErrorListener(collector(errors));
  const stream = new CommonTokenStream(lexer);
  const parser = new TrinoSqlParser(stream);
  parser.removeErrorListeners();
  parser.addErrorListener(collector(errors));
  // SLL prediction is an order of magnitude faster and right for nearly every statement; a
  // statement it rejects is parsed again with full LL before it counts as a syntax error.
  parser.interpreter.predictionMode = mode === 'sll' ? PredictionMode.SLL : PredictionMode.LL;
  const program = parser.program();
  stream.fill();
  return { program, tokens: stream.getTokens(), errors };
}

/** Parses `sql` as a Trino program (zero or more statements). Never throws on bad input: errors are returned. */
export function parseTrinoProgram(sql: string): ParsedProgram {
  const fast = parseWith(sql, 'sll');
  return fast.errors.length === 0 ? fast : parseWith(sql, 'll');
}

export { TrinoSqlLexer, TrinoSqlParser };
