import { createWriteKeyStore, hashWriteKey, writeKeyFromHeaders } from './auth';
import { TokenBucket } from './rate-limit';

describe('writeKeyFromHeaders', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  it.each([
    [{ authorization: 'Bearer k1' }, 'k1'],
    [{ authorization: 'bearer   k1 ' }, 'k1'],
    [{ 'x-write-key': 'k2', authorization: 'Bearer other' }, 'k2'],
    [{ authorization: basic('k3:') }, 'k3'],
    [{ authorization: basic('k4') }, 'k4'],
    [{ authorization: basic(':secret') }, undefined],
    [{ authorization: 'Digest abc' }, undefined],
    [{ authorization: 'Bearer' }, undefined],
    [{}, undefined],
  ])('%j -> %s', (headers, expected) => {
    expect(writeKeyFromHeaders(headers)).toBe(expected);
  });
});

describe('createWriteKeyStore', () => {
  it('finds a source by the sha256 of its key and nothing else', () => {
    const store = createWriteKeyStore([{ source: 'web', sha256: hashWriteKey('secret-key') }], { ratePerSec: 10, burst: 10 });
    expect(store.lookup('secret-key')?.name).toBe('web');
    expect(store.lookup(hashWriteKey('secret-key'))).toBeUndefined();
    expect(store.lookup('Secret-key')).toBeUndefined();
  });
});

describe('TokenBucket', () => {
  it('lets a burst through, then refills at the rate and says how long to wait', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 20, () => now);
    expect(bucket.take(20)).toBe(0);
    expect(bucket.hasTokens()).toBe(false);
    expect(bucket.take(5)).toBe(1);
    expect(bucket.retryAfterSeconds()).toBe(1);
    now += 500;
    expect(bucket.take(5)).toBe(0);
    expect(bucket.take(20)).toBe(2);
    now += 60_000;
    expect(bucket.take(20)).toBe(0);
  });

  it('admits a batch larger than the bucket when full, leaving a debt to pay back', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 20, () => now);
    expect(bucket.take(50)).toBe(0);
    expect(bucket.retryAfterSeconds()).toBe(4);
    now += 3_100;
    expect(bucket.hasTokens()).toBe(true);
  });
});
