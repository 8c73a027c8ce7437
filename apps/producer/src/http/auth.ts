import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { TokenBucket } from './rate-limit';

/** A configured source: the write key's name (a metric label) and its own rate limit. */
export interface Source {
  name: string;
  limiter: TokenBucket;
}

export interface WriteKeyConfig {
  source: string;
  sha256: string;
  rate_per_sec?: number | undefined;
  burst?: number | undefined;
}

/** Lower-case hex sha256 of a write key, the form keys are stored in (WRITE_KEYS). */
export function hashWriteKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Looks presented write keys up by their sha256. Write keys are random tokens, not passwords, so a
 * fast hash is enough; the map lookup is on the digest, never on the key.
 */
export function createWriteKeyStore(keys: readonly WriteKeyConfig[], defaults: { ratePerSec: number; burst: number }, now: () => number = Date.now) {
  const byHash = new Map<string, Source>();
  for (const k of keys) {
    byHash.set(k.sha256, { name: k.source, limiter: new TokenBucket(k.rate_per_sec ?? defaults.ratePerSec, k.burst ?? defaults.burst, now) });
  }
  return {
    lookup(key: string): Source | undefined {
      return byHash.get(hashWriteKey(key));
    },
    sources(): Source[] {
      return [...byHash.values()];
    },
  };
}
export type WriteKeyStore = ReturnType<typeof createWriteKeyStore>;

/**
 * The write key a request carries: `Authorization: Bearer <key>`, `X-Write-Key: <key>`, or
 * `Authorization: Basic base64(<key>:)` the way Segment, RudderStack and Jitsu SDKs send it.
 */
export function writeKeyFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-write-key'];
  if (typeof header === 'string' && header.length > 0) return header;
  const auth = headers.authorization;
  if (typeof auth !== 'string') return undefined;
  const space = auth.indexOf(' ');
  if (space < 0) return undefined;
  const scheme = auth.slice(0, space).toLowerCase();
  const value = auth.slice(space + 1).trim();
  if (scheme === 'bearer') return value || undefined;
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    return user || undefined;
  }
  return undefined;
}
