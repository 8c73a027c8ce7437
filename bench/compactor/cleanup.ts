import { dropScenario, killCompactors, type Scenario } from '../../apps/compactor/test/support/harness';
import { cleanupOnInterrupt } from '../lib/results';

/**
 * Stops the compactors this bench started and drops the scenario's topics and lake tables: once,
 * from the caller's `finally` or when the bench is interrupted first.
 */
export function scenarioCleanup(s: Scenario): () => Promise<void> {
  return cleanupOnInterrupt(async () => {
    killCompactors();
    await dropScenario(s);
  });
}
