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

/**
 * DFA states ANTLR may keep in its prediction cache (shared by every parse) before the cache is
 * dropped. Each statement of a new shape adds DFA states (about 10 KB each), and nothing ever removed
 * them, so a stream of varied or hostile SQL grew the heap without end (30 MB per 8 000 fuzzed
 * statements, 1-2 MB per deeply nested one). The saved queries and everyday ad-hoc SQL need about
 * 500 states; a dropped cache only makes the next statements slower while it fills again.
 */
export const MAX_PREDICTION_STATES = 2_000;

/** DFA states in the parser's prediction cache now. */
export function predictionCacheStates(parser: TrinoSqlParser): number {
  let states = 0;
  for (const dfa of parser.interpreter.decisionToDFA) states += dfa.states.length;
  return states;
}

function parseWith(sql: string, mode: 'sll' | 'll', maxStates: number): ParsedProgram {
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
  try {
    const program = parser.program();
    stream.fill();
    return { program, tokens: stream.getTokens(), errors };
  } finally {
    if (predictionCacheStates(parser) > maxStates) parser.interpreter.clearDFA();
  }
}

/**
 * Parses `sql` as a Trino program (zero or more statements). Syntax errors are returned, not thrown;
 * a RangeError escapes when the statement nests deeper than the stack allows. Afterwards the shared
 * prediction cache holds at most `maxStates` DFA states.
 */
export function parseTrinoProgram(sql: string, maxStates = MAX_PREDICTION_STATES): ParsedProgram {
  const fast = parseWith(sql, 'sll', maxStates);
  return fast.errors.length === 0 ? fast : parseWith(sql, 'll', maxStates);
}

/** DFA states in the shared prediction cache now (every parser shares one). */
export function sharedPredictionCacheStates(): number {
  return predictionCacheStates(new TrinoSqlParser(new CommonTokenStream(new TrinoSqlLexer(CharStreams.fromString('')))));
}

export { TrinoSqlLexer, TrinoSqlParser };
