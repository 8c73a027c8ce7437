import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashToken, parseTokenDefinitions } from './auth/tokens';
import { configSchema, readConfig, DEVELOPMENT_TOKENS_FILE } from './config';

describe('query-api config', () => {
  it('runs queries as the read-only Trino user by default, never the pipeline user', () => {
    const config = readConfig({});
    expect(config.TRINO_QUERY_USER).toBe('pipeline_readonly');
    expect('TRINO_USER' in config).toBe(false);
  });

  it("runs queries in the read-only catalog, whatever a deployment sets as the pipeline's TRINO_CATALOG", () => {
    expect(readConfig({}).TRINO_QUERY_CATALOG).toBe('lake_readonly');
    const config = readConfig({ TRINO_CATALOG: 'lake' });
    expect(config.TRINO_QUERY_CATALOG).toBe('lake_readonly');
    expect('TRINO_CATALOG' in config).toBe(false);
    expect(readConfig({ TRINO_QUERY_CATALOG: 'other_readonly' }).TRINO_QUERY_CATALOG).toBe('other_readonly');
  });

  it('describes every field, so docs and Helm values can be generated', () => {
    for (const [key, field] of Object.entries(configSchema.shape)) expect([key, field.description]).toEqual([key, expect.any(String)]);
  });

  it('uses the development token file only under NODE_ENV=development and without tokens configured', () => {
    const cwd = process.cwd();
    process.chdir(`${__dirname}/../../..`);
    try {
      expect(readConfig({ NODE_ENV: 'development' }).QUERY_API_TOKENS_FILE).toBe(DEVELOPMENT_TOKENS_FILE);
      expect(readConfig({ NODE_ENV: 'production' }).QUERY_API_TOKENS_FILE).toBeUndefined();
      expect(readConfig({ NODE_ENV: 'development', QUERY_API_TOKENS: '[]' }).QUERY_API_TOKENS_FILE).toBeUndefined();
    } finally {
      process.chdir(cwd);
    }
  });

  it('holds the hash of the documented development token, without the admin scope', () => {
    const path = join(__dirname, '..', '..', '..', DEVELOPMENT_TOKENS_FILE);
    expect(parseTokenDefinitions(readFileSync(path, 'utf8'), path)).toEqual([{ name: 'local-development', sha256: hashToken('qapi_local_development_only'), scopes: ['sql', 'saved'] }]);
  });

  it('refuses limits out of range, naming the variable', () => {
    expect(() => readConfig({ QUERY_DEFAULT_MAX_ROWS: '0', RESULT_CACHE_MAX_AGE_SECONDS: '9999999' })).toThrow(/QUERY_DEFAULT_MAX_ROWS[\s\S]*RESULT_CACHE_MAX_AGE_SECONDS/);
  });
});
