import { countJestResults } from './test-runner';

describe('countJestResults', () => {
  it('sums jest summaries across projects, colours stripped', () => {
    const output = [
      '\x1b[1mTests:       \x1b[22m\x1b[1m\x1b[32m25 passed\x1b[39m\x1b[22m, 25 total',
      'Tests:       1 failed, 2 skipped, 10 passed, 13 total',
      'some other line with Tests: inside',
      'Tests:       3 passed, 3 total',
    ].join('\n');
    expect(countJestResults(output)).toEqual({ passed: 38, failed: 1, skipped: 2 });
  });

  it('counts nothing when no jest summary is present', () => {
    expect(countJestResults('NX Successfully ran target lint')).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});
