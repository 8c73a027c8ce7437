import { nx } from './nx';
import { up } from './stack';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Sums jest's "Tests:" lines, including those Nx replays from its cache. */
export function countJestResults(output: string): Counts {
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  for (const line of plain.split('\n')) {
    const match = /^\s*Tests:\s+(.*)\s+(\d+) total/.exec(line);
    if (!match?.[1]) continue;
    for (const part of match[1].split(',')) {
      const m = /(\d+) (passed|failed|skipped|todo)/.exec(part.trim());
      if (!m?.[1]) continue;
      const n = Number(m[1]);
      if (m[2] === 'passed') counts.passed += n;
      else if (m[2] === 'failed') counts.failed += n;
      else counts.skipped += n;
    }
  }
  return counts;
}

/** `npm test`: static checks and unit tests, then the real stack, then integration tests against it. */
export async function runTests(args: string[]): Promise<number> {
  const started = Date.now();
  const extra = args.filter((a) => a.startsWith('--'));
  console.log('== lint, unit tests and builds');
  const unit = await nx(['run-many', '-t', 'lint', 'test', 'build', '--outputStyle=static', ...extra]);
  console.log('== local stack');
  await up();
  console.log('== integration tests (real Kafka, registry, object store, PostgreSQL, Trino)');
  const integration = await nx(['run-many', '-t', 'integration', '--parallel=1', '--outputStyle=static', ...extra]);
  const counts = countJestResults(unit.output + integration.output);
  const minutes = ((Date.now() - started) / 60_000).toFixed(1);
  console.log(`\nnpm test finished in ${minutes} min`);
  const failed = unit.code !== 0 || integration.code !== 0 ? Math.max(counts.failed, 1) : counts.failed;
  console.log(`${counts.passed} passed, ${failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
  return unit.code !== 0 ? unit.code : integration.code;
}
