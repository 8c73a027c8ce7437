import { ConfigError } from '@pipeline/config';
import { LOCAL_DEV_WRITE_KEY, configSchema, readConfig } from './config';
import { hashWriteKey } from './http/auth';

describe('collector config', () => {
  it('defaults to the local stack and its dev write key', () => {
    const config = readConfig({});
    expect(config.EVENTS_TOPIC).toBe('events.raw');
    expect(config.DLQ_TOPIC).toBe('events.dlq');
    expect(config.WRITE_KEYS).toEqual([{ source: 'local-dev', sha256: hashWriteKey(LOCAL_DEV_WRITE_KEY) }]);
  });

  it('gives each port its own default spool directory', () => {
    expect(readConfig({ HTTP_PORT: '8100' }).SPOOL_DIR).toMatch(/producer-spool-8100$/);
    expect(readConfig({ HTTP_PORT: '8200' }).SPOOL_DIR).toMatch(/producer-spool-8200$/);
    expect(readConfig({ SPOOL_DIR: '/data/spool' }).SPOOL_DIR).toBe('/data/spool');
  });

  it('parses write keys with their own rate limits', () => {
    const keys = [{ source: 'web', sha256: hashWriteKey('k'), rate_per_sec: 5, burst: 50 }];
    expect(readConfig({ WRITE_KEYS: JSON.stringify(keys) }).WRITE_KEYS).toEqual(keys);
  });

  it.each([
    ['not json', 'WRITE_KEYS'],
    ['[]', 'WRITE_KEYS'],
    [JSON.stringify([{ source: 'Web Site', sha256: 'abc' }]), 'WRITE_KEYS.0.source'],
  ])('refuses WRITE_KEYS=%s naming %s, without echoing the value', (value, path) => {
    let error: unknown;
    try {
      readConfig({ WRITE_KEYS: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.path)).toContain(path);
    expect((error as Error).message).not.toContain('Web Site');
  });

  it('refuses a decompressed limit below the wire limit', () => {
    expect(() => readConfig({ MAX_BODY_BYTES: '5000', MAX_DECOMPRESSED_BYTES: '4000' })).toThrow(/MAX_DECOMPRESSED_BYTES/);
  });

  it('describes every field', () => {
    for (const [key, field] of Object.entries(configSchema.shape)) expect([key, field.description]).toEqual([key, expect.any(String)]);
  });
});
