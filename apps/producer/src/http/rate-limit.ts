/**
 * A token bucket counted in events: `ratePerSec` tokens are added per second up to `burst`.
 * A batch takes as many tokens as it has events; a batch larger than the whole bucket is
 * allowed when the bucket is full (it would never fit otherwise) and leaves the bucket in debt.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
      this.last = t;
    }
  }

  /** Whether any event could pass now (checked before the body is read). */
  hasTokens(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Takes `count` tokens; returns 0 on success, else the whole seconds to wait before retrying. */
  take(count: number): number {
    this.refill();
    const needed = Math.min(count, this.burst);
    if (this.tokens >= needed) {
      this.tokens -= count;
      return 0;
    }
    return Math.max(1, Math.ceil((needed - this.tokens) / this.ratePerSec));
  }

  /** Seconds until at least one token is there. */
  retryAfterSeconds(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerSec));
  }
}
