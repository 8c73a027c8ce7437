import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ApiError } from '../http/api-error';
import { guardSql } from '../sql/guard';
import { LexError, isForbiddenCodePoint, tokenize } from '../sql/lexer';

/**
 * Saved queries: named, parameterised statements defined in reviewed YAML files. A caller picks a
 * query and passes typed values; the values are validated and rendered as typed SQL literals, never
 * spliced as text, so a saved query is the safe interface for internal services.
 */

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_STRING = 1_000;

const parameterSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('string'),
      description: z.string().optional(),
      required: z.boolean().default(false),
      default: z.string().optional(),
      enum: z.array(z.string()).min(1).optional(),
      pattern: z.string().optional(),
      maxLength: z.number().int().min(1).max(MAX_STRING).default(200),
    })
    .strict(),
  z
    .object({
      type: z.literal('integer'),
      description: z.string().optional(),
      required: z.boolean().default(false),
      default: z.number().int().optional(),
      minimum: z.number().int().optional(),
      maximum: z.number().int().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('number'),
      description: z.string().optional(),
      required: z.boolean().default(false),
      default: z.number().optional(),
      minimum: z.number().optional(),
      maximum: z.number().optional(),
    })
    .strict(),
  z.object({ type: z.literal('boolean'), description: z.string().optional(), required: z.boolean().default(false), default: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('timestamp'), description: z.string().optional(), required: z.boolean().default(false), default: z.string().optional() }).strict(),
  z.object({ type: z.literal('date'), description: z.string().optional(), required: z.boolean().default(false), default: z.string().optional() }).strict(),
]);

export type ParameterDefinition = z.infer<typeof parameterSchema>;

const dashboardSchema = z
  .object({
    title: z.string().min(1),
    chart: z.enum(['line', 'bar', 'stat']),
    /** Column with the bucket start (time axis) of line and bar charts. */
    x: z.string().optional(),
    /** Column(s) plotted, or shown by a stat. */
    y: z.array(z.string()).min(1),
    /** Column whose values split the rows into one series each (one line per event type). */
    series: z.string().optional(),
    unit: z.string().optional(),
    /** How buckets without rows are drawn: as zero (counts) or as a gap (ratios). */
    missing: z.enum(['zero', 'gap']).default('zero'),
    order: z.number().int().default(100),
  })
  .strict();

const definitionSchema = z
  .object({
    name: z.string().regex(NAME, 'lower case letters, digits and _, starting with a letter'),
    description: z.string().min(1),
    sql: z.string().min(1),
    parameters: z.record(z.string().regex(NAME), parameterSchema).default({}),
    cacheMaxAgeSeconds: z.number().int().min(0).optional(),
    maxRows: z.number().int().min(1).optional(),
    timeoutMs: z.number().int().min(100).optional(),
    dashboard: dashboardSchema.optional(),
  })
  .strict();

export type SavedQueryDefinition = z.infer<typeof definitionSchema>;
export type DashboardPanel = z.infer<typeof dashboardSchema>;

export interface SavedQuery extends SavedQueryDefinition {
  /** The file it came from, for error messages. */
  source: string;
}

export type ParameterValue = string | number | boolean;

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Checks one value against its definition; returns the problem, or undefined when it fits. */
function checkValue(def: ParameterDefinition, value: unknown): string | undefined {
  switch (def.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (value.length > def.maxLength) return `must be at most ${def.maxLength} characters`;
      if (hasControlCharacter(value)) return 'must not contain control or invisible characters';
      if (def.enum && !def.enum.includes(value)) return `must be one of ${def.enum.join(', ')}`;
      if (def.pattern && !new RegExp(`^(?:${def.pattern})$`).test(value)) return `must match ${def.pattern}`;
      return undefined;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return 'must be an integer';
      if (def.minimum !== undefined && value < def.minimum) return `must be at least ${def.minimum}`;
      if (def.maximum !== undefined && value > def.maximum) return `must be at most ${def.maximum}`;
      return undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
      if (def.minimum !== undefined && value < def.minimum) return `must be at least ${def.minimum}`;
      if (def.maximum !== undefined && value > def.maximum) return `must be at most ${def.maximum}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'timestamp':
      return typeof value === 'string' && TIMESTAMP.test(value) && !Number.isNaN(Date.parse(value.replace(' ', 'T')))
        ? undefined
        : 'must be an RFC 3339 timestamp with a zone, e.g. 2026-01-31T12:00:00Z';
    case 'date':
      return typeof value === 'string' && DATE.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ? undefined : 'must be a date, e.g. 2026-01-31';
  }
}

/** Controls (tab and line breaks included: a parameter is one line) and invisible characters. */
function hasControlCharacter(text: string): boolean {
  for (const c of text) {
    const code = c.codePointAt(0) ?? 0;
    if (code < 0x20 || isForbiddenCodePoint(code)) return true;
  }
  return false;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** The SQL literal of a validated value, typed so Trino never has to guess. */
function literal(def: ParameterDefinition, value: ParameterValue): string {
  switch (def.type) {
    case 'string':
      return quote(value as string);
    case 'integer':
      return `BIGINT '${value as number}'`;
    case 'number':
      return `DOUBLE '${value as number}'`;
    case 'boolean':
      return value ? 'TRUE' : 'FALSE';
    case 'timestamp': {
      // Millisecond precision in UTC: the same instant whatever zone the caller wrote it in.
      const iso = new Date((value as string).replace(' ', 'T')).toISOString();
      return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC'`;
    }
    case 'date':
      return `DATE '${value as string}'`;
  }
}

/** A value of each type that satisfies `def`, to check a definition renders to an allowed statement. */
function sampleValue(def: ParameterDefinition): ParameterValue {
  if (def.default !== undefined) return def.default;
  switch (def.type) {
    case 'string':
      return def.enum?.[0] ?? 'sample';
    case 'integer':
    case 'number':
      return def.minimum ?? def.maximum ?? 1;
    case 'boolean':
      return true;
    case 'timestamp':
      return '2026-01-01T00:00:00Z';
    case 'date':
      return '2026-01-01';
  }
}

/** Placeholders (`:name`) of a statement, in order, with their offsets; literals and comments are skipped. */
function placeholders(sql: string): Array<{ name: string; start: number; end: number }> {
  return tokenize(sql, { placeholders: true })
    .filter((t) => t.kind === 'placeholder')
    .map((t) => ({ name: t.text.slice(1), start: t.start, end: t.end }));
}

/**
 * Validates `input` against the query's parameters (unknown names, missing required values, types,
 * ranges) and renders the statement. Throws an `invalid_parameters` ApiError naming every problem.
 */
export function renderSavedQuery(query: SavedQuery, input: Record<string, unknown>): { sql: string; values: Record<string, ParameterValue> } {
  const problems: Record<string, string> = {};
  const values: Record<string, ParameterValue> = {};
  for (const name of Object.keys(input)) {
    if (!Object.hasOwn(query.parameters, name)) problems[name] = 'is not a parameter of this query';
  }
  for (const [name, def] of Object.entries(query.parameters)) {
    const given = Object.hasOwn(input, name) ? input[name] : undefined;
    if (given === undefined || given === null) {
      if (def.default !== undefined) values[name] = def.default;
      else if (def.required) problems[name] = 'is required';
      continue;
    }
    const problem = checkValue(def, given);
    if (problem) problems[name] = problem;
    else values[name] = given as ParameterValue;
  }
  if (Object.keys(problems).length > 0) {
    throw new ApiError('invalid_parameters', `invalid parameters: ${Object.entries(problems).map(([k, v]) => `${k} ${v}`).join('; ')}`, { details: { parameters: problems } });
  }
  let sql = '';
  let at = 0;
  for (const p of placeholders(query.sql)) {
    const value = values[p.name];
    const definition = query.parameters[p.name];
    if (value === undefined || !definition) {
      throw new ApiError('invalid_parameters', `parameter ${p.name} has no value`, { details: { parameters: { [p.name]: 'is required' } } });
    }
    sql += query.sql.slice(at, p.start) + literal(definition, value);
    at = p.end;
  }
  return { sql: (sql + query.sql.slice(at)).trim(), values };
}

/** Checks one definition beyond its shape: placeholders match parameters, defaults fit, and it renders to an allowed statement. */
function checkDefinition(query: SavedQuery, maxSqlLength: number): string[] {
  const problems: string[] = [];
  let used: string[];
  try {
    used = placeholders(query.sql).map((p) => p.name);
  } catch (err) {
    return [err instanceof LexError ? err.message : String(err)];
  }
  for (const name of new Set(used)) if (!query.parameters[name]) problems.push(`:${name} is used but not declared under parameters`);
  for (const [name, def] of Object.entries(query.parameters)) {
    if (!used.includes(name)) problems.push(`parameter ${name} is declared but not used`);
    if (def.default !== undefined) {
      const problem = checkValue(def, def.default);
      if (problem) problems.push(`default of ${name} ${problem}`);
    }
  }
  if (problems.length > 0) return problems;
  const sample = Object.fromEntries(Object.entries(query.parameters).map(([name, def]) => [name, sampleValue(def)]));
  let rendered: string;
  try {
    rendered = renderSavedQuery(query, sample).sql;
  } catch (err) {
    return [`cannot render with sample values (give the parameters defaults): ${(err as Error).message}`];
  }
  const guarded = guardSql(rendered, { maxLength: maxSqlLength });
  if (!guarded.ok) problems.push(`the statement is refused by the SQL guard: ${guarded.message}`);
  return problems;
}

/**
 * Loads every `*.yaml` / `*.yml` file of `dir` (one or more YAML documents each, one query per
 * document). Throws one error listing every problem of every file: a bad definition stops startup.
 */
export function loadSavedQueries(dir: string, opts: { maxSqlLength: number }): Map<string, SavedQuery> {
  const queries = new Map<string, SavedQuery>();
  const problems: string[] = [];
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  for (const file of files) {
    const source = join(dir, file);
    const docs = parseAllDocuments(readFileSync(source, 'utf8'));
    for (const doc of Array.isArray(docs) ? docs : [docs]) {
      if (doc.errors.length > 0) {
        problems.push(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
        continue;
      }
      const parsed = definitionSchema.safeParse(doc.toJS());
      if (!parsed.success) {
        problems.push(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
        continue;
      }
      const query: SavedQuery = { ...parsed.data, sql: parsed.data.sql.trim(), source: file };
      if (queries.has(query.name)) {
        problems.push(`${file}: query ${query.name} is already defined in ${queries.get(query.name)?.source}`);
        continue;
      }
      const definitionProblems = checkDefinition(query, opts.maxSqlLength);
      if (definitionProblems.length > 0) problems.push(...definitionProblems.map((p) => `${file} (${query.name}): ${p}`));
      else queries.set(query.name, query);
    }
  }
  if (problems.length > 0) throw new Error(`invalid saved queries in ${dir}:\n  ${problems.join('\n  ')}`);
  return queries;
}

/** The queries shipped with the app: `apps/query-api/queries` in the sources, `queries/` beside the bundle in the build. */
export function defaultSavedQueriesDir(): string {
  const candidates = [join(__dirname, 'queries'), join(__dirname, '..', '..', 'queries')];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`saved queries not found in ${candidates.join(' or ')}; set SAVED_QUERIES_DIR`);
  return found;
}

/** What `GET /v1/queries` shows of a query: everything but the file it came from. */
export function describeSavedQuery(query: SavedQuery) {
  return {
    name: query.name,
    description: query.description,
    sql: query.sql,
    parameters: Object.entries(query.parameters).map(([name, def]) => ({ name, ...def })),
    ...(query.cacheMaxAgeSeconds !== undefined ? { cacheMaxAgeSeconds: query.cacheMaxAgeSeconds } : {}),
    ...(query.maxRows !== undefined ? { maxRows: query.maxRows } : {}),
    ...(query.dashboard ? { dashboard: query.dashboard } : {}),
  };
}
