/**
 * Generated requests for the query API's fuzz suite: grammar-ish SQL (keywords, identifiers,
 * literals, comments, unicode, deep nesting, writes hidden behind comments and quotes), hostile JSON
 * bodies for /v1/query and saved-query runs, hostile tokens, headers, methods, paths and framing.
 * SQL that passes the guard reaches the shared Trino, so generated statements read the ten-row test
 * table at most and every run option keeps its time limit short.
 */
import fc from 'fast-check';
import { hostileHeaderValue, hostileJson, hostileMethod, hostilePath, hostileString, json, percentEncode, renderJson, type JsonNode, type RawRequest } from '@pipeline/testing';

export const SAVED_QUERIES = ['active_users', 'dlq_rate', 'events_per_minute', 'freshness', 'sessions'];
const KNOWN_PATHS = ['/v1/query', '/v1/queries', ...SAVED_QUERIES.map((n) => `/v1/queries/${n}`), ...SAVED_QUERIES.map((n) => `/v1/queries/${n}/run`), '/v1/tables', '/v1/results/abc', '/v1/audit', '/v1/cache', '/healthz', '/readyz', '/metrics', '/openapi.json', '/'];

// ---------------------------------------------------------------- SQL

const SEPARATORS = [' ', ' ', ' ', '\n', '\t', '  ', '\r\n', '\u00a0', '\u2028', '\u200b', '\u3000', '\ufeff', '\u0000', '\u202e'];
const KEYWORDS = [
  'SELECT', 'select', 'SeLeCt', 'FROM', 'WHERE', 'GROUP BY', 'ORDER BY', 'LIMIT 1', 'UNION ALL', 'WITH', 'AS', 'JOIN', 'ON', 'INSERT INTO', 'DELETE FROM', 'DROP TABLE',
  'CREATE TABLE', 'ALTER TABLE', 'CALL', 'SET SESSION', 'GRANT', 'EXPLAIN', 'EXPLAIN ANALYZE', 'SHOW TABLES', 'SHOW SCHEMAS', 'SHOW CATALOGS', 'DESCRIBE', 'VALUES', 'TABLE',
  'EXECUTE', 'PREPARE', 'USE', 'COMMIT', 'ROLLBACK', 'START TRANSACTION', 'RESET SESSION', 'UPDATE', 'MERGE INTO', 'TRUNCATE TABLE', 'COMMENT ON', 'REVOKE', ';', '(', ')',
  ',', '*', '=', '<>', '||', '->', 'CASE', 'WHEN', 'THEN', 'END', 'NOT', 'AND', 'OR', 'IS NULL', 'LIKE', 'IN', 'EXISTS', 'CAST', 'AT TIME ZONE', 'FETCH FIRST 1 ROWS ONLY', 'OFFSET 1', '.', ':', '?', '$1', '@', '`',
];
const COMMENTS = ['-- c\n', '/* c */', '/* /* nested */ */', '/* unterminated', '--', '/**/', '-- ; DROP TABLE events\n', '/*; DELETE FROM events; */', '--\u2028DROP TABLE events', '/* \u0000 */'];
const LITERALS = [
  "'x'", "''''", "'it''s'", "U&'\\0041'", "U&'\\+01F600'", "X'00ff'", '1', '-1', '0.5', '1e308', '9223372036854775808', 'NULL', 'TRUE', "DATE '2026-01-01'",
  "TIMESTAMP '2026-01-01 00:00:00 UTC'", "INTERVAL '1' DAY", "'unterminated", "'\\'", "'; DROP TABLE events; --'", "'\u00e9\u{1f600}'", "JSON '{}'", "'\ud800'",
];

/** Identifiers the test schema resolves, plus ones it does not and hostile quoted names. */
function identifiers(schema: string): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.constantFrom(
        'events', 'event_type', 'user_id', 'occurred_at', 'anonymous_id', 'prop_amount', `${schema}.events`, `lake.${schema}.events`, '"events$snapshots"', '"events$files"', 'x', 'a', 'nope',
      ),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'system.runtime.queries', 'system.runtime.nodes', 'tpch.tiny.nation', 'information_schema.tables', 'lake.information_schema.schemata', 'system.metadata.catalogs', 'events_dlq',
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(`"${'a'.repeat(300)}"`, 'a'.repeat(1_000), '"é"', '"\ud800"', '"""x"""', '"a""b"', '"\u202e"', '"; DROP TABLE events; --"', '`events`', '[events]') },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z_][a-z0-9_]{0,12}$/) },
  );
}

/** A random expression, nested by `depth`: arithmetic, comparisons, functions, CASE, casts, lambdas, subqueries. */
function expression(ident: fc.Arbitrary<string>, maxDepth: number): fc.Arbitrary<string> {
  const { expr } = fc.letrec<{ expr: string; leaf: string; compound: string }>((tie) => ({
    expr: fc.oneof({ depthSize: 'small', maxDepth, withCrossShrink: true }, tie('leaf'), tie('compound')),
    leaf: fc.oneof(ident, fc.constantFrom(...LITERALS), fc.integer({ min: -5, max: 100 }).map(String)),
    compound: fc.oneof(
      fc.tuple(tie('expr'), fc.constantFrom('+', '-', '*', '/', '%', '||', '=', '<>', '<', 'AND', 'OR', 'LIKE', 'IS DISTINCT FROM'), tie('expr')).map(([a, op, b]) => `${a} ${op} ${b}`),
      tie('expr').map((e) => `(${e})`),
      fc.tuple(fc.constantFrom('abs', 'length', 'lower', 'coalesce', 'count', 'max', 'json_extract', 'regexp_like', 'date_trunc', 'sum', 'typeof', 'to_utf8', 'sleep', 'system.query'), fc.array(tie('expr'), { maxLength: 3 })).map(([f, args]) => `${f}(${args.join(', ')})`),
      fc.tuple(tie('expr'), tie('expr'), tie('expr')).map(([c, t, e]) => `CASE WHEN ${c} THEN ${t} ELSE ${e} END`),
      fc.tuple(tie('expr'), fc.constantFrom('varchar', 'bigint', 'double', 'json', 'timestamp(3) with time zone', 'array(int)', 'row(a int)')).map(([e, t]) => `CAST(${e} AS ${t})`),
      tie('expr').map((e) => `transform(ARRAY[1, 2], x -> ${e})`),
      tie('expr').map((e) => `(SELECT ${e})`),
      tie('expr').map((e) => `NOT ${e}`),
      tie('expr').map((e) => `${e} IN (1, 2, 3)`),
    ),
  }));
  return expr;
}

/** Deep nests the guard must refuse or parse quickly: parentheses, CASE, lambdas, subqueries, unbalanced input. */
const deepNest: fc.Arbitrary<string> = fc.tuple(fc.constantFrom('parens', 'case', 'lambda', 'unbalanced', 'subquery', 'function', 'array'), fc.integer({ min: 2, max: 3_000 })).map(([shape, n]) => {
  switch (shape) {
    case 'parens':
      return `SELECT ${'('.repeat(n)}1${')'.repeat(n)}`;
    case 'case':
      return `SELECT ${'CASE WHEN 1=1 THEN '.repeat(n)}1${' END'.repeat(n)}`;
    case 'lambda':
      return `SELECT ${'x -> '.repeat(n)}1`;
    case 'unbalanced':
      return `SELECT ${'(1,'.repeat(n)}`;
    case 'subquery':
      return `SELECT * FROM ${'(SELECT * FROM '.repeat(n)}events${')'.repeat(n)}`;
    case 'function':
      return `SELECT ${'abs('.repeat(n)}1${')'.repeat(n)}`;
    default:
      return `SELECT ${'ARRAY['.repeat(n)}1${']'.repeat(n)}`;
  }
});

function writeStatements(schema: string): string[] {
  const t = `lake.${schema}.events`;
  return [
    `INSERT INTO ${t} (event_id) VALUES ('fuzz-evil')`,
    `DELETE FROM ${t}`,
    `UPDATE ${t} SET user_id = 'fuzz-evil'`,
    `DROP TABLE ${t}`,
    `CREATE TABLE lake.${schema}.fuzz_evil (id bigint)`,
    `CREATE TABLE lake.${schema}.fuzz_evil AS SELECT * FROM ${t}`,
    `ALTER TABLE ${t} ADD COLUMN fuzz_evil bigint`,
    `ALTER TABLE ${t} EXECUTE optimize`,
    `ALTER TABLE ${t} EXECUTE expire_snapshots(retention_threshold => '0s')`,
    `CALL lake.system.unregister_table('${schema}', 'events')`,
    `CREATE SCHEMA lake.${schema}_fuzz_evil`,
    `TRUNCATE TABLE ${t}`,
    `MERGE INTO ${t} t USING (SELECT 1 x) s ON false WHEN NOT MATCHED THEN INSERT (event_id) VALUES ('fuzz-evil')`,
    `COMMENT ON TABLE ${t} IS 'fuzz-evil'`,
    `GRANT SELECT ON ${t} TO ROLE public`,
    "SET SESSION query_max_execution_time = '1h'",
    `EXPLAIN ANALYZE INSERT INTO ${t} (event_id) VALUES ('fuzz-evil')`,
    `WITH x AS (SELECT 1) INSERT INTO ${t} (event_id) SELECT 'fuzz-evil' FROM x`,
    "SELECT * FROM TABLE(system.query(query => 'DROP TABLE events'))",
    `CREATE VIEW lake.${schema}.fuzz_evil AS SELECT 1 x`,
    `ALTER TABLE ${t} RENAME TO lake.${schema}.fuzz_evil`,
  ];
}

/** Statements: token soup, near-valid SELECTs, writes disguised every way we know, deep nests, oversized text. */
export function sqlText(schema: string): fc.Arbitrary<string> {
  const ident = identifiers(schema);
  const expr = expression(ident, 4);
  const sep = fc.constantFrom(...SEPARATORS);
  const token = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYWORDS) }, { weight: 3, arbitrary: ident }, { weight: 2, arbitrary: fc.constantFrom(...LITERALS) }, { weight: 1, arbitrary: fc.constantFrom(...COMMENTS) }, { weight: 1, arbitrary: hostileString() });
  const soup = fc.array(fc.tuple(token, sep), { minLength: 1, maxLength: 25 }).map((parts) => parts.map(([t, s]) => t + s).join(''));
  const select = fc
    .tuple(fc.array(expr, { minLength: 1, maxLength: 3 }), fc.option(ident, { nil: undefined }), fc.option(expr, { nil: undefined }), fc.constantFrom('', ' LIMIT 5', ' ORDER BY 1', ' GROUP BY 1', ';', ' ;  -- end', ' OFFSET 2'))
    .map(([cols, from, where, tail]) => `SELECT ${cols.join(', ')}${from ? ` FROM ${from}` : ''}${where ? ` WHERE ${where}` : ''}${tail}`);
  const readOnly = fc.constantFrom(
    'SELECT 1',
    'SHOW TABLES',
    'SHOW SCHEMAS',
    'SHOW CATALOGS',
    'DESCRIBE events',
    'SHOW COLUMNS FROM events',
    'SHOW CREATE TABLE events',
    'EXPLAIN SELECT * FROM events',
    'EXPLAIN ANALYZE SELECT count(*) FROM events',
    'SELECT count(*) FROM events',
    'SELECT * FROM events LIMIT 3',
    'SELECT event_type, count(*) FROM events GROUP BY 1',
    'WITH t AS (SELECT 1 AS x) SELECT x FROM t',
    'SELECT * FROM TABLE(sequence(start => 1, stop => 5))',
    'SELECT * FROM "events$snapshots"',
    'SHOW SESSION',
    'SHOW FUNCTIONS LIKE \'abs\'',
    'SHOW STATS FOR events',
  );
  const write = fc.constantFrom(...writeStatements(schema));
  const disguisedWrite = fc
    .tuple(write, fc.constantFrom('plain', 'after-select', 'in-comment-end', 'lower', 'explain', 'parens', 'unicode-space', 'string-break', 'nul'))
    .map(([w, how]) => {
      switch (how) {
        case 'after-select':
          return `SELECT 1; ${w}`;
        case 'in-comment-end':
          return `SELECT 1 /* */ ; ${w} --`;
        case 'lower':
          return w.toLowerCase();
        case 'explain':
          return `EXPLAIN ${w}`;
        case 'parens':
          return `(${w})`;
        case 'unicode-space':
          return w.replace(/ /g, '\u00a0');
        case 'string-break':
          return `SELECT 'a'';${w};--'`;
        case 'nul':
          return `SELECT 1\u0000; ${w}`;
        default:
          return w;
      }
    });
  const long = fc.constantFrom(`SELECT '${'x'.repeat(4_900)}'`, `SELECT 1 ${'-- padding\n'.repeat(600)}`, `SELECT ${Array.from({ length: 700 }, (_, i) => `c${i}`).join(',')} FROM events`, 'SELECT '.repeat(1_000));
  return fc.oneof(
    { weight: 4, arbitrary: soup },
    { weight: 4, arbitrary: select },
    { weight: 2, arbitrary: readOnly },
    { weight: 3, arbitrary: disguisedWrite },
    { weight: 2, arbitrary: deepNest },
    { weight: 1, arbitrary: long },
    { weight: 1, arbitrary: hostileString() },
  );
}

// ---------------------------------------------------------------- bodies

/** Run options: short valid limits mostly, wrong types and out-of-range values sometimes. */
const runOptions: fc.Arbitrary<Array<[string, JsonNode]>> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          timeoutMs: fc.integer({ min: 100, max: 2_000 }).map(json.number),
          maxRows: fc.integer({ min: 1, max: 50 }).map(json.number),
          maxScanBytes: fc.integer({ min: 1, max: 50_000_000 }).map(json.number),
          pageSize: fc.integer({ min: 1, max: 10 }).map(json.number),
          format: fc.constantFrom('json', 'ndjson', 'csv').map(json.string),
          cache: fc.record({ maxAgeSeconds: fc.integer({ min: 0, max: 3_600 }), bypass: fc.boolean() }, { requiredKeys: [] }).map(json.from),
        },
        { requiredKeys: ['timeoutMs'] },
      )
      .map((r) => Object.entries(r)),
  },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.tuple(fc.constantFrom('timeoutMs', 'maxRows', 'maxScanBytes', 'pageSize', 'format', 'cache', 'schema', 'extra', '__proto__', 'constructor'), hostileJson(2)),
      { maxLength: 3 },
    ),
  },
);

/** A body for POST /v1/query: the statement with options, or any hostile JSON. */
export function queryBody(schema: string): fc.Arbitrary<JsonNode> {
  const sql = fc.oneof({ weight: 10, arbitrary: sqlText(schema).map(json.string) }, { weight: 1, arbitrary: hostileJson(2) });
  const schemaField = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant(schema) },
    { weight: 1, arbitrary: fc.constantFrom('events', 'nope', 'a'.repeat(129), 'x; DROP', '') },
  );
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(sql, schemaField, runOptions).map(([s, sch, opts]) => json.object([['sql', s], ...(sch === undefined ? [] : ([['schema', json.string(sch)]] as Array<[string, JsonNode]>)), ...opts])) },
    { weight: 1, arbitrary: hostileJson() },
  );
}

const TIMESTAMPS = [
  '2026-01-31T00:00:00Z',
  '2026-01-31T12:00:00.123+02:00',
  '2026-01-31 12:00:00Z',
  '9999-12-31T23:59:59-14:00',
  '0000-01-01T00:00:00Z',
  '1970-01-01T00:00:00Z',
  '2026-02-30T00:00:00Z',
  '2026-01-31T25:00:00Z',
  '2026-01-31T00:00:00+99:99',
  "2026-01-31T00:00:00Z' OR 1=1 --",
  '2026-01-31',
  'now',
  '',
];

/** A value for a saved-query parameter: plausible, injected, or of the wrong type. */
const parameterValue: fc.Arbitrary<JsonNode> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TIMESTAMPS).map(json.string) },
  { weight: 2, arbitrary: fc.constantFrom('minute', 'hour', 'day', 'week', "minute'); DROP TABLE events; --", 'MINUTE', 'minute\u0000', 'minute\u202e').map(json.string) },
  { weight: 2, arbitrary: fc.oneof(fc.integer({ min: -10, max: 2_000 }), fc.constantFrom(1e308, -0, 0.5, 2 ** 53 + 2)).map(json.from) },
  { weight: 1, arbitrary: fc.constantFrom('1e999', '-1e999', '123456789012345678901234567890').map(json.number) },
  { weight: 2, arbitrary: hostileJson(2) },
);

/** A body for POST /v1/queries/:name/run: parameters (known names, unknown and prototype keys) and options. */
export const runBody: fc.Arbitrary<JsonNode> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        fc.array(fc.tuple(fc.constantFrom('from', 'to', 'bucket', 'gap_minutes', 'lookback_hours', 'extra', '__proto__', 'constructor', 'toString'), parameterValue), { maxLength: 5 }),
        runOptions,
        fc.boolean(),
      )
      .map(([params, opts, asArray]) => json.object([['parameters', asArray ? json.array(params.map(([, v]) => v)) : json.object(params)], ...opts])),
  },
  { weight: 1, arbitrary: hostileJson() },
);

// ---------------------------------------------------------------- requests

export type TokenChoice = 'sql' | 'saved' | 'admin' | 'none' | 'wrong' | 'basic' | 'empty' | 'lowercase' | 'long' | 'latin1' | 'two';

export interface ApiCase {
  method: string;
  path: string;
  body: { kind: 'json'; node: JsonNode } | { kind: 'bytes'; bytes: number[] } | { kind: 'oversized'; factor: number } | { kind: 'none' };
  token: TokenChoice;
  contentType: string | null;
  headers: Array<[string, string]>;
  framing: 'normal' | 'truncated' | 'no-length' | 'chunked';
}

/** A token: mostly one whose scope fits the route (`fitting`), sometimes another scope, sometimes a broken one. */
function token(...fitting: TokenChoice[]): fc.Arbitrary<TokenChoice> {
  return fc.oneof(
    { weight: 14, arbitrary: fc.constantFrom<TokenChoice>(...fitting) },
    { weight: 1, arbitrary: fc.constantFrom<TokenChoice>('sql', 'admin', 'saved') },
    { weight: 1, arbitrary: fc.constantFrom<TokenChoice>('none', 'wrong', 'basic', 'empty', 'lowercase', 'long', 'latin1', 'two') },
  );
}

const contentType: fc.Arbitrary<string | null> = fc.oneof(
  { weight: 24, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constantFrom(null, 'text/plain', 'application/json; charset=utf-8', 'application/x-www-form-urlencoded', 'application/jsonx', 'multipart/form-data', '') },
  { weight: 1, arbitrary: hostileHeaderValue() },
);

const extraHeaders: fc.Arbitrary<Array<[string, string]>> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<Array<[string, string]>>([]) },
  {
    weight: 1,
    arbitrary: fc.array(
      fc.tuple(
        fc.constantFrom('Accept', 'Cache-Control', 'Content-Encoding', 'Expect', 'Origin', 'X-Forwarded-For', 'Range', 'Transfer-Encoding'),
        fc.oneof(
          fc.constantFrom('application/x-ndjson', 'text/csv', 'text/csv;q=0', '*/*;q=abc', 'image/png', 'no-cache', 'max-age=-5', 'max-age=1e400', 'max-age=99999999999', 'gzip', '100-continue'),
          hostileHeaderValue(),
        ),
      ),
      { maxLength: 3 },
    ),
  },
);

/** One query-API request: mostly POST /v1/query and saved-query runs with a valid token, the rest hostile at every layer. */
export function apiCase(schema: string): fc.Arbitrary<ApiCase> {
  const query = fc.record({
    method: fc.constant('POST'),
    path: fc.oneof({ weight: 12, arbitrary: fc.constant('/v1/query') }, { weight: 2, arbitrary: fc.constantFrom('/v1/query?format=ndjson', '/v1/query?format=csv') }, { weight: 1, arbitrary: fc.constant('/v1/query?format=xml') }),
    body: queryBody(schema).map((node) => ({ kind: 'json' as const, node })),
    token: token('sql', 'admin'),
  });
  const run = fc.record({
    method: fc.constant('POST'),
    path: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...SAVED_QUERIES) }, { weight: 1, arbitrary: fc.oneof(hostileString().map(percentEncode), fc.constantFrom('Active_Users', 'nope', 'a'.repeat(70))) }).map((name) => `/v1/queries/${name}/run`),
    body: runBody.map((node) => ({ kind: 'json' as const, node })),
    token: token('saved', 'admin'),
  });
  const reads = fc.record({
    method: fc.constantFrom('GET', 'GET', 'DELETE'),
    path: fc.oneof(
      fc.constantFrom('/v1/queries', ...SAVED_QUERIES.map((n) => `/v1/queries/${n}`), '/v1/tables', `/v1/tables?schema=${schema}`, '/v1/tables?schema=nope', '/v1/tables?partitions=-1', '/v1/tables?schema=a%00', '/v1/audit', '/v1/audit?limit=5000', '/v1/cache'),
      fc.oneof(hostileString(), fc.base64String({ maxLength: 60 }), fc.constantFrom('eyJyIjoiYSIsIm8iOjF9', 'a'.repeat(300))).map((c) => `/v1/results/${percentEncode(c)}`),
    ),
    body: fc.constant({ kind: 'none' as const }),
    token: token('sql', 'saved', 'admin'),
  });
  const anything = fc.record({
    method: hostileMethod(),
    path: hostilePath(KNOWN_PATHS),
    body: fc.oneof(
      hostileJson().map((node) => ({ kind: 'json' as const, node })),
      fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
      fc.double({ min: 1.01, max: 3, noNaN: true }).map((factor) => ({ kind: 'oversized' as const, factor })),
      fc.constant({ kind: 'none' as const }),
    ),
    token: token('sql', 'saved', 'admin'),
  });
  const target = fc.oneof({ weight: 10, arbitrary: query }, { weight: 4, arbitrary: run }, { weight: 2, arbitrary: reads }, { weight: 2, arbitrary: anything });
  return fc.tuple(target, contentType, extraHeaders, fc.oneof({ weight: 20, arbitrary: fc.constant('normal' as const) }, { weight: 1, arbitrary: fc.constantFrom('truncated' as const, 'no-length' as const, 'chunked' as const) })).map(
    ([t, type, headers, framing]): ApiCase => ({ ...t, contentType: t.body.kind === 'none' ? null : type, headers, framing }),
  );
}

export interface RenderedApiCase {
  request: RawRequest;
  answerOptional: boolean;
}

function authHeaders(choice: TokenChoice, tokens: Record<'sql' | 'saved' | 'admin', string>): Array<[string, string]> {
  switch (choice) {
    case 'sql':
    case 'saved':
    case 'admin':
      return [['Authorization', `Bearer ${tokens[choice]}`]];
    case 'none':
      return [];
    case 'wrong':
      return [['Authorization', 'Bearer qapi_not_a_real_token']];
    case 'basic':
      return [['Authorization', `Basic ${Buffer.from(`${tokens.sql}:`).toString('base64')}`]];
    case 'empty':
      return [['Authorization', 'Bearer ']];
    case 'lowercase':
      return [['Authorization', `bearer ${tokens.sql}`]];
    case 'long':
      return [['Authorization', `Bearer ${'q'.repeat(600)}`]];
    case 'latin1':
      return [['Authorization', `Bearer ${tokens.sql}\u00e9`]];
    case 'two':
      return [
        ['Authorization', `Bearer ${tokens.sql}`],
        ['Authorization', `Bearer ${tokens.admin}`],
      ];
  }
}

/** Turns a case into request bytes. */
export function renderApiCase(c: ApiCase, tokens: Record<'sql' | 'saved' | 'admin', string>, bodyLimit: number): RenderedApiCase {
  let body: Buffer | undefined;
  if (c.body.kind === 'json') body = Buffer.from(renderJson(c.body.node), 'utf8');
  else if (c.body.kind === 'bytes') body = Buffer.from(c.body.bytes);
  else if (c.body.kind === 'oversized') body = Buffer.from(`{"sql":"SELECT '${'x'.repeat(Math.ceil(bodyLimit * c.body.factor))}'"}`);
  const headers: Array<[string, string]> = [...authHeaders(c.token, tokens)];
  if (c.contentType !== null) headers.push(['Content-Type', c.contentType]);
  headers.push(...c.headers);
  const request: RawRequest = { method: c.method, path: c.path, headers };
  let answerOptional = body !== undefined && body.length > bodyLimit;
  if (body !== undefined) {
    request.body = body;
    if (c.framing === 'truncated') {
      request.sendBytes = Math.floor(body.length / 2);
      answerOptional = true;
    } else if (c.framing === 'no-length') request.contentLength = 'none';
    else if (c.framing === 'chunked') {
      headers.push(['Transfer-Encoding', 'chunked']);
      request.body = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      request.contentLength = 'none';
    }
  }
  return { request, answerOptional };
}
