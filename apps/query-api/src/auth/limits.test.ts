import { TokenLimits } from './limits';
import type { Principal } from './tokens';

const principal = (name: string, ratePerMinute: number, maxConcurrent = 2): Principal => ({ name, scopes: new Set(['sql']), ratePerMinute, maxConcurrent });

describe('TokenLimits', () => {
  it('allows a minute of requests at once, then refills at the rate and says when to retry', () => {
    let now = 0;
    const limits = new TokenLimits(() => now);
    const p = principal('a', 60);
    for (let i = 0; i < 60; i++) limits.takeRequest(p);
    expect(() => limits.takeRequest(p)).toThrow(expect.objectContaining({ status: 429, code: 'rate_limited', extra: { headers: { 'Retry-After': '1' } } }));
    now += 1_000;
    expect(() => limits.takeRequest(p)).not.toThrow();
    expect(() => limits.takeRequest(p)).toThrow(expect.objectContaining({ code: 'rate_limited' }));
  });

  it('keeps each token in its own bucket', () => {
    const limits = new TokenLimits(() => 0);
    limits.takeRequest(principal('a', 1));
    expect(() => limits.takeRequest(principal('a', 1))).toThrow();
    expect(() => limits.takeRequest(principal('b', 1))).not.toThrow();
  });

  it('limits concurrent queries per token; release is idempotent', () => {
    const limits = new TokenLimits();
    const p = principal('a', 100, 2);
    const first = limits.acquireQuery(p);
    limits.acquireQuery(p);
    expect(() => limits.acquireQuery(p)).toThrow(expect.objectContaining({ status: 429, code: 'too_many_concurrent_queries' }));
    expect(limits.runningQueries).toBe(2);
    first();
    first();
    expect(limits.runningQueries).toBe(1);
    expect(() => limits.acquireQuery(p)).not.toThrow();
  });
});
