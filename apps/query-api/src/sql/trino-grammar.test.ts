import { parseTrinoProgram, sharedPredictionCacheStates } from './trino-grammar';

/** Statements of many shapes: nesting, CASE and predicates vary, so each adds prediction states. */
const varied = (i: number) =>
  `SELECT ${'('.repeat(i % 12)}${i}${')'.repeat(i % 12)}, ${'CASE WHEN a THEN '.repeat(i % 5)}1${' END'.repeat(i % 5)} FROM t${i} WHERE x IN (${i}, ${i + 1}) OR y LIKE 'a%'`;

describe('parseTrinoProgram', () => {
  it('returns syntax errors with 1-based positions instead of throwing', () => {
    expect(parseTrinoProgram('SELECT * FROM\nWHERE').errors[0]).toMatchObject({ line: 2, column: 1 });
  });

  // Regression (fuzzing): each statement of a new shape added DFA states to a cache shared by every
  // parse and never trimmed, so a stream of varied SQL grew the query API's heap without end.
  it('keeps the shared prediction cache within its bound', () => {
    const cap = 150;
    let peak = 0;
    for (let i = 1; i <= 60; i++) {
      parseTrinoProgram(varied(i), cap);
      peak = Math.max(peak, sharedPredictionCacheStates());
    }
    expect(peak).toBeLessThanOrEqual(cap);
    expect(parseTrinoProgram(varied(61), cap).errors).toEqual([]);
  });

  it('needs more than that bound for those statements when unbounded (so the bound is what holds it)', () => {
    for (let i = 1; i <= 60; i++) parseTrinoProgram(varied(i), Number.MAX_SAFE_INTEGER);
    expect(sharedPredictionCacheStates()).toBeGreaterThan(150);
  });
});
