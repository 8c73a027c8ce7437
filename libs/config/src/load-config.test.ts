import { z } from 'zod';
import { baseFragment, kafkaFragment, s3Fragment } from './fragments';
import { ConfigError, envBoolean, loadConfig } from './load-config';

const schema = z.object({ ...baseFragment(8100), ...kafkaFragment, ...s3Fragment, FLAG: envBoolean(true).describe('a flag') });

describe('loadConfig', () => {
  it('applies defaults that point at the local stack', () => {
    const config = loadConfig(schema, {});
    expect(config.HTTP_PORT).toBe(8100);
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:19092']);
    expect(config.S3_ENDPOINT).toBe('http://127.0.0.1:19000');
    expect(config.FLAG).toBe(true);
  });

  it('reads "false" as false, unlike z.coerce.boolean', () => {
    expect(loadConfig(schema, { FLAG: 'false' }).FLAG).toBe(false);
    expect(loadConfig(schema, { FLAG: '0' }).FLAG).toBe(false);
  });

  it('reports every problem with its env name and never the secret value', () => {
    let error: unknown;
    try {
      loadConfig(schema, { HTTP_PORT: '70000', S3_ENDPOINT: 'not a url', FLAG: 'maybe', S3_SECRET_KEY: '' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.map((p) => p.path).sort();
    expect(problems).toEqual(['FLAG', 'HTTP_PORT', 'S3_ENDPOINT', 'S3_SECRET_KEY']);
    expect((error as Error).message).not.toContain('not a url');
  });

  it('describes every field, so docs and Helm values can be generated', () => {
    for (const [key, field] of Object.entries(schema.shape)) {
      expect([key, field.description]).toEqual([key, expect.any(String)]);
    }
  });
});
