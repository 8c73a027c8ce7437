import { ApiError } from '../http/api-error';
import type { Principal } from './tokens';

/**
 * Per-token request rate (a token bucket holding one minute of requests) and concurrent Trino
 * queries. Both live in this process: with N replicas behind a load balancer a token may get up
 * to N times its limits.
 */
export class TokenLimits {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly running = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Takes one request from the token's bucket; throws a 429 ApiError with Retry-After when it is empty. */
  takeRequest(principal: Principal): void {
    const capacity = principal.ratePerMinute;
    const perMs = capacity / 60_000;
    const now = this.now();
    const bucket = this.buckets.get(principal.name) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.buckets.set(principal.name, bucket);
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000));
      throw new ApiError('rate_limited', `rate limit of ${capacity} requests per minute reached`, { headers: { 'Retry-After': String(retryAfter) } });
    }
    bucket.tokens -= 1;
  }

  /** Reserves one concurrent query; call the returned function exactly once when it ends. Throws 429 when all are in use. */
  acquireQuery(principal: Principal): () => void {
    const count = this.running.get(principal.name) ?? 0;
    if (count >= principal.maxConcurrent) {
      throw new ApiError('too_many_concurrent_queries', `this token already runs ${count} queries (limit ${principal.maxConcurrent})`, { headers: { 'Retry-After': '1' } });
    }
    this.running.set(principal.name, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(principal.name) ?? 1) - 1;
      if (left <= 0) this.running.delete(principal.name);
      else this.running.set(principal.name, left);
    };
  }

  /** Queries running now, over all tokens. */
  get runningQueries(): number {
    let total = 0;
    for (const n of this.running.values()) total += n;
    return total;
  }
}
