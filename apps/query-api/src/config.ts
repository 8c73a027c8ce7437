import { existsSync } from 'node:fs';
import { z } from 'zod';
import { LOCAL_STACK, baseFragment, envInt, envList, loadConfig, trinoFragment } from '@pipeline/config';

// TRINO_USER and TRINO_CATALOG are the pipeline's full-access user and writable catalog, shared by
// every app of a deployment: the query API uses neither (see TRINO_QUERY_USER, TRINO_QUERY_CATALOG).
const { TRINO_USER: _pipelineUser, TRINO_CATALOG: _pipelineCatalog, ...trino } = trinoFragment;

const MIB = 1024 * 1024;

export const configSchema = z.object({
  ...baseFragment(LOCAL_STACK.apps.queryApi),
  ...trino,
  TRINO_QUERY_USER: z
    .string()
    .min(1)
    .default('pipeline_readonly')
    .describe("Trino user every query runs as: a read-only user under Trino's file-based access control (deploy/trino/access-control/rules.json), the second line of defence behind the SQL guard."),
  TRINO_QUERY_CATALOG: z
    .string()
    .min(1)
    .default(LOCAL_STACK.trino.readOnlyCatalog)
    .describe(
      'Trino catalog every query runs in (unqualified names resolve there): the read-only Iceberg catalog over the lake tables (deploy/trino/catalog/lake_readonly.properties, iceberg.security=read_only), which refuses writes and table procedures to any user.',
    ),
  TRINO_SCHEMA: z.string().min(1).default('events').describe('Default schema for unqualified table names in ad-hoc and saved queries.'),

  QUERY_API_TOKENS_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('YAML or JSON file of API tokens: name, sha256 of the token, scopes (sql, saved, admin), optional ratePerMinute and maxConcurrent. Tokens themselves are never stored.'),
  QUERY_API_TOKENS: z
    .string()
    .optional()
    .describe('The same token list inline, as JSON (secret); used in addition to QUERY_API_TOKENS_FILE.'),
  TOKEN_RATE_PER_MINUTE: envInt(120, 1, 1_000_000).describe('Default request rate per token (token bucket, refilled per minute; burst = one minute of rate).'),
  TOKEN_MAX_CONCURRENT: envInt(4, 1, 1_000).describe('Default number of queries one token may run on Trino at once; more are answered 429.'),

  SAVED_QUERIES_DIR: z.string().min(1).optional().describe('Directory of saved query definitions (*.yaml); defaults to the queries shipped with the app.'),

  HTTP_BODY_LIMIT_BYTES: envInt(256 * 1024, 1024, 16 * MIB).describe('Largest request body accepted; larger ones are answered 413.'),
  QUERY_MAX_SQL_LENGTH: envInt(64 * 1024, 100, 1024 * 1024).describe('Longest SQL statement accepted, in characters.'),
  QUERY_DEFAULT_MAX_ROWS: envInt(10_000, 1, 10_000_000).describe('Rows a query returns when the request does not say.'),
  QUERY_MAX_ROWS: envInt(1_000_000, 1, 100_000_000).describe('Most rows a request may ask for (streamed formats); more are cut and the query cancelled.'),
  QUERY_DEFAULT_TIMEOUT_MS: envInt(30_000, 100, 3_600_000).describe('Time limit of a query when the request does not say; the query is cancelled in Trino and answered 504.'),
  QUERY_MAX_TIMEOUT_MS: envInt(300_000, 100, 3_600_000).describe('Longest time limit a request may ask for.'),
  QUERY_MAX_SCAN_BYTES: envInt(10 * 1024 * MIB, 1, Number.MAX_SAFE_INTEGER).describe('Most bytes a query may read from storage (Trino physical input); also the default. Larger scans are cancelled and answered 422.'),
  QUERY_PAGE_SIZE: envInt(1_000, 1, 100_000).describe('Rows per page of a JSON answer; further pages come with the cursor.'),
  QUERY_MAX_RESULT_BYTES: envInt(64 * MIB, 1024, 1024 * MIB).describe('Largest JSON (paged) result kept in memory; larger ones are answered 422 and should be streamed as NDJSON or CSV.'),

  RESULT_CACHE_DEFAULT_MAX_AGE_SECONDS: envInt(60, 0, 7 * 24 * 3600).describe('Age up to which an identical query is answered from the result cache when the request does not say (0 disables reuse by default).'),
  RESULT_CACHE_MAX_AGE_SECONDS: envInt(7 * 24 * 3600, 0, 7 * 24 * 3600).describe('Oldest result a request may ask to reuse (Athena allows 7 days).'),
  RESULT_CACHE_MAX_BYTES: envInt(256 * MIB, 0, 64 * 1024 * MIB).describe('Memory for stored results (cache and cursors), least recently used evicted first.'),
  RESULT_CURSOR_TTL_SECONDS: envInt(600, 10, 24 * 3600).describe('How long the cursor of a paged result stays valid.'),

  CATALOG_SCHEMAS: envList('events').describe('Schemas listed by GET /v1/tables when the request names none (comma-separated).'),
  CATALOG_CACHE_SECONDS: envInt(30, 0, 3600).describe('How long GET /v1/tables reuses the table metadata it read from Trino.'),

  AUDIT_LOG: z
    .string()
    .min(1)
    .default('tmp/query-api/audit.ndjson')
    .describe('Where the audit log goes: a file path (one JSON line per query: token, SQL hash, duration, rows, bytes, status), or "stdout".'),
});

export type QueryApiConfig = z.infer<typeof configSchema>;

/** The public token of the local stack (sql and saved scopes), for `npm start` and the dashboard. */
export const DEVELOPMENT_TOKENS_FILE = 'apps/query-api/config/tokens.development.yaml';

/**
 * The only place the query API reads the environment. Under NODE_ENV=development (npm start) with
 * no token file set, the development token file is used, if it is there (run from the repository).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): QueryApiConfig {
  const config = loadConfig(configSchema, env);
  if (env['NODE_ENV'] === 'development' && !config.QUERY_API_TOKENS_FILE && !config.QUERY_API_TOKENS && existsSync(DEVELOPMENT_TOKENS_FILE)) {
    return { ...config, QUERY_API_TOKENS_FILE: DEVELOPMENT_TOKENS_FILE };
  }
  return config;
}
